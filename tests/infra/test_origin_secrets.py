"""The CDN's origin secrets leak nowhere (issue 19): the origin header's value and the
Cloudflare origin certificate's private key.

The providers generate them (``random.RandomPassword``, ``tls.PrivateKey``); the mocks
here answer with recognisable canaries, and the whole synth path (program, written files,
printed counts, stack outputs) is searched for them. Where a resource input carries one,
that input must be a Pulumi secret (the engine then keeps it encrypted in the state), and
the carriers must be exactly the expected ones: never a ConfigMap, a policy, a label or
an output.
"""

from __future__ import annotations

import base64
import json

import pytest

from infra import synth
from tests.infra.test_secret_stacks import _paths_holding
from webplatform import testing

HEADER_CANARY = "canary-origin-header-5b1d0e7a9c"
KEY_CANARY = "canary-origin-key-2f8e4c6a1b"


class CanaryMocks(testing.RecordingMocks):
    def computed_outputs(self, args):
        found = super().computed_outputs(args)
        if args.typ == "random:index/randomPassword:RandomPassword":
            found["result"] = HEADER_CANARY
        if args.typ == "tls:index/privateKey:PrivateKey":
            found["privateKeyPem"] = f"-----BEGIN PRIVATE KEY-----\n{KEY_CANARY}\n-----END"
        return found


EXPECTED = {
    "prod": {
        HEADER_CANARY: [
            ("aws:cloudfront/distribution:Distribution", "origins[0].customHeaders[0].value"),
            # the recovery region's failover origin: the same header, so the origin group works
            ("aws:cloudfront/distribution:Distribution", "origins[1].customHeaders[0].value"),
            ("kubernetes:core/v1:Secret", "stringData.cdn"),
        ],
        KEY_CANARY: [],
    },
    "staging": {
        HEADER_CANARY: [
            (
                "cloudflare:index/ruleset:Ruleset",
                "rules[0].actionParameters.headers.x-origin-verify.value",
            ),
            ("kubernetes:core/v1:Secret", "stringData.cdn"),
        ],
        KEY_CANARY: [
            ("tls:index/certRequest:CertRequest", "privateKeyPem"),
            ("kubernetes:core/v1:Secret", "stringData.tls.key"),
        ],
    },
    # The recovery region requires prod's header, read from prod's output (a stack reference).
    "prod-dr": {
        HEADER_CANARY: [("kubernetes:core/v1:Secret", "stringData.cdn")],
        KEY_CANARY: [],
    },
}


@pytest.fixture(autouse=True)
def prods_header_is_the_canary(monkeypatch):
    """prod's output ``originHeader``, as prod-dr's stack reference reads it."""
    monkeypatch.setattr(
        synth,
        "referenced_stack_outputs",
        lambda flat, project: {f"organization/{project}/prod": {"originHeader": HEADER_CANARY}},
    )


@pytest.mark.parametrize("stack", sorted(EXPECTED))
def test_origin_secrets_leak_nowhere(stack, monkeypatch, tmp_path, capfd):
    monkeypatch.setattr(synth.testing, "RecordingMocks", CanaryMocks)
    assert synth.main(["--stack", stack, "--out", str(tmp_path)]) == 0
    printed = capfd.readouterr()
    for canary in (HEADER_CANARY, KEY_CANARY):
        encoded = base64.b64encode(canary.encode()).decode()
        for text in (
            (tmp_path / "resources.json").read_text(),
            (tmp_path / "kubernetes.yaml").read_text(),
            printed.out,
            printed.err,
        ):
            assert canary not in text and encoded not in text

    result = synth.synthesize(stack)
    rec = result.recording
    # One output may hold the header: prod's originHeader, a secret (prod-dr reads it).
    shared = {"originHeader"} if EXPECTED[stack] is EXPECTED["prod"] else set()
    assert shared <= rec.secret_outputs
    plain = {k: v for k, v in rec.stack_outputs.items() if k not in shared}
    assert HEADER_CANARY not in json.dumps(plain)
    assert KEY_CANARY not in json.dumps(rec.stack_outputs)
    if shared:
        assert rec.stack_outputs["originHeader"] == HEADER_CANARY
    for canary, expected in EXPECTED[stack].items():
        carriers = []
        for resource in rec.resources:
            for path in _paths_holding(resource.inputs, canary):
                carriers.append((resource.type, path))
                assert resource.is_secret(path), f"{resource.urn}: {path} is plain"
        assert sorted(carriers) == sorted(expected), canary
    for config_map in rec.by_type("kubernetes:core/v1:ConfigMap"):
        assert HEADER_CANARY not in json.dumps(config_map.inputs)


def test_the_canaries_reach_the_program():
    """Not vacuous: the mocks' values do flow into the stack (else nothing could leak)."""
    original = synth.testing.RecordingMocks
    synth.testing.RecordingMocks = CanaryMocks
    try:
        rec = synth.synthesize("staging").recording
    finally:
        synth.testing.RecordingMocks = original
    inputs = json.dumps([r.inputs for r in rec.resources])
    assert HEADER_CANARY in inputs and KEY_CANARY in inputs

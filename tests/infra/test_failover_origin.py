"""prod-dr as prod's CloudFront failover origin (issue 22): its route host's record and the
origin header it requires come from the stack file's ``cdn.failoverFor`` and from prod's
output, and bad settings are refused with their key path before anything is registered.

The request path itself (prod's distribution -> record -> load balancer -> Gateway -> route
-> pods) is walked in test_reachability.py; the header's secrecy in test_origin_secrets.py.
"""

from __future__ import annotations

import pytest

from infra import synth
from tests.conftest import load_stack_file


def _failover(document):
    return document["config"]["webplatform:cdn"]["failoverFor"]


def test_the_header_is_read_from_the_named_stack_in_the_same_project(monkeypatch):
    asked: list[str] = []

    def outputs(flat, project):
        found = {f"organization/{project}/prod": {"originHeader": "value-from-prod"}}
        asked.extend(found)
        return found

    monkeypatch.setattr(synth, "referenced_stack_outputs", outputs)
    rec = synth.synthesize("prod-dr").recording
    [secret] = [
        r for r in rec.by_type("kubernetes:core/v1:Secret") if r.name == "web-cdn-origin-key"
    ]
    assert secret.inputs["stringData"] == {"cdn": "value-from-prod"}
    assert secret.is_secret("stringData.cdn")
    assert asked == ["organization/webplatform/prod"]


def test_without_the_output_in_the_named_stack_the_deploy_stops_with_what_to_do(monkeypatch):
    monkeypatch.setattr(synth, "referenced_stack_outputs", lambda flat, project: {})
    with pytest.raises(Exception, match=r"has no output 'originHeader'.*pulumi up -s prod"):
        synth.synthesize("prod-dr")


def test_the_synth_answers_for_exactly_the_referenced_stack():
    flat = {"webplatform:cdn": '{"provider": "none", "failoverFor": {"stack": "prod"}}'}
    assert synth.referenced_stack_outputs(flat, "webplatform") == {
        "organization/webplatform/prod": {"originHeader": synth.PLACEHOLDER}
    }
    assert synth.referenced_stack_outputs({"webplatform:cdn": "[1]"}, "webplatform") == {}
    assert synth.referenced_stack_outputs({}, "webplatform") == {}


@pytest.mark.parametrize(
    ("edit", "path", "allowed"),
    [
        (lambda f: f.update(app="nope"), "cdn.failoverFor.app", "use one of ['web']"),
        (lambda f: f.update(app="Web"), "cdn.failoverFor.app", "DNS-1035 label"),
        (lambda f: f.update(stack="Prod!"), "cdn.failoverFor.stack", "pattern"),
        (lambda f: f.update(originZoneId="example.com"), "cdn.failoverFor.originZoneId", "Z"),
        (lambda f: f.pop("originZoneId"), "cdn.failoverFor.originZoneId", "required"),
        (
            lambda f: f.update(extra=1),
            "cdn.failoverFor.extra",
            "unknown key; allowed: stack, app, originZoneId",
        ),
    ],
)
def test_bad_failover_settings_name_the_file_and_key(
    edit, path, allowed, write_stack, tmp_path, capsys
):
    document = load_stack_file("prod-dr")
    edit(_failover(document))
    config_file = write_stack("prod-dr", document)
    code = synth.main(
        ["--stack", "prod-dr", "--config-file", str(config_file), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == synth.EXIT_INVALID, err
    assert config_file.name in err and path in err, err
    assert allowed.lower() in err.lower(), err
    assert "Traceback" not in err


def test_a_failover_app_without_a_route_is_refused(write_stack, tmp_path, capsys):
    document = load_stack_file("prod-dr")
    del document["config"]["webplatform:apps"]["web"]["route"]
    document["config"]["webplatform:cdn"].pop("trustedProxyHops", None)
    config_file = write_stack("prod-dr", document)
    code = synth.main(
        ["--stack", "prod-dr", "--config-file", str(config_file), "--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == synth.EXIT_INVALID
    assert "cdn.failoverFor.app" in err and "public route" in err, err

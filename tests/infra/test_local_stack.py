"""The `local` stack (tests/e2e runs it through the real engine): what it must say to the provider."""

import pytest

from infra import synth
from infra.config import KubernetesSpec
from infra.stack import SKIP_AWAIT, await_rules
from tests.conftest import STACKS


@pytest.fixture(scope="module")
def local():
    return synth.synthesize("local").recording


def test_only_the_ingress_skips_the_wait_on_local(local):
    # No ingress controller on the local control plane: without the annotation the
    # provider waits 10 minutes for an Ingress address and fails `pulumi up`.
    skipping = [
        r.type
        for r in local.resources
        if r.custom and (r.get("metadata.annotations") or {}).get(SKIP_AWAIT) == "true"
    ]
    assert skipping == ["kubernetes:networking.k8s.io/v1:Ingress"]


@pytest.mark.parametrize("stack", STACKS)
def test_real_clusters_keep_every_wait(stack):
    rec = synth.synthesize(stack).recording
    assert not [
        r.urn for r in rec.resources if (r.get("metadata.annotations") or {}).get(SKIP_AWAIT)
    ]


def test_no_rules_unless_the_stack_asks():
    assert await_rules(KubernetesSpec(version="1.35")) == []
    assert len(await_rules(KubernetesSpec(version="1.35", skipAwait=["Ingress"]))) == 1

"""The `local` stack (tests/e2e runs it through the real engine): what it must say to the provider."""

import pytest
import yaml

from infra.config import KubernetesSpec
from infra.stack import FORCE_APPLY, SKIP_AWAIT, kubernetes_rules
from tests.conftest import ROOT, STACKS, synthesized


@pytest.fixture(scope="module")
def local():
    return synthesized("local").recording


def test_only_the_gateway_objects_and_the_services_skip_the_wait_on_local(local):
    # No gateway controller on the local control plane: without the annotation the provider
    # waits 10 minutes for the Gateway to be programmed and the routes accepted, then fails.
    # Services never wait, in every stack (webplatform.workloads.service: the wait guards nothing).
    skipping = sorted(
        r.type
        for r in local.resources
        if r.custom and (r.get("metadata.annotations") or {}).get(SKIP_AWAIT) == "true"
    )
    assert skipping == [
        "kubernetes:core/v1:Service",
        "kubernetes:core/v1:Service",
        "kubernetes:gateway.networking.k8s.io/v1:Gateway",
        "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
        "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_real_clusters_keep_every_wait_but_the_services(stack):
    rec = synthesized(stack).recording
    skipping = [r for r in rec.resources if (r.get("metadata.annotations") or {}).get(SKIP_AWAIT)]
    assert skipping and {r.type for r in skipping} == {"kubernetes:core/v1:Service"}


@pytest.mark.parametrize("stack", [*STACKS, "local"])
def test_every_object_is_applied_with_force(stack):
    # Server-side apply: without force, a field someone changed with `kubectl patch` (say the
    # Service selector, the switch blue-green replaces) is a conflict that fails `pulumi up`,
    # instead of drift that `up` undoes. Mocks have no field managers; the real engine did.
    rec = synthesized(stack).recording
    objects = [r for r in rec.resources if r.custom and "metadata" in r.inputs]
    assert objects
    unforced = [
        r.urn for r in objects if (r.get("metadata.annotations") or {}).get(FORCE_APPLY) != "true"
    ]
    assert not unforced


def test_a_helm_release_gets_no_metadata():
    rule = kubernetes_rules(KubernetesSpec(version="1.35"))[0]

    class Args:
        type_ = "kubernetes:helm.sh/v3:Release"
        props = {"chart": "x"}
        opts = None

    assert rule(Args()) is None  # type: ignore[arg-type]


def test_local_rollout_waits_are_bounded(local):
    # Fake nodes ready pods in a second: a colour that never gets Ready must fail `up` in
    # 90 s (tests/e2e's fault test), not after the provider's 10 minutes.
    objects = [r for r in local.resources if r.custom and r.type.startswith("kubernetes:")]
    assert objects
    assert {
        (r.custom_timeouts.get("create"), r.custom_timeouts.get("update")) for r in objects
    } == {("90s", "90s")}


@pytest.mark.parametrize("stack", STACKS)
def test_real_clusters_keep_the_provider_timeouts(stack):
    rec = synthesized(stack).recording
    assert not [r.urn for r in rec.resources if r.custom_timeouts]


@pytest.mark.parametrize("stack", [*STACKS, "local"])
def test_settings_are_updated_in_place(stack):
    # Immutable (the provider's default), a changed ConfigMap is replaced under its fixed
    # name, delete-before-replace, and the engine replaces every Deployment reading it.
    rec = synthesized(stack).recording
    provider = rec.one("pulumi:providers:kubernetes")
    assert str(provider.inputs.get("enableConfigMapMutable")).lower() == "true"
    assert str(provider.inputs.get("enableSecretMutable")).lower() == "true"


def test_every_operation_refreshes_first():
    # Without it `pulumi up` diffs against the state file only: a `kubectl patch` stays in
    # place although `preview --refresh` shows it (seen with the real engine, tests/e2e).
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["options"]["refresh"] == "always"

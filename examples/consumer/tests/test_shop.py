"""The example team's own tests, written with the library's public test helpers."""

import pytest
import shop

from webplatform import testing

CONFIG = shop.ShopConfig(
    namespace="shop",
    kube_context="kind-shop",
    active_color="green",
    blue_image="ghcr.io/acme/shop-web:2.3.1",
    green_image="ghcr.io/acme/shop-web:2.4.0",
)


@pytest.fixture(scope="module")
def rec():
    return testing.run(lambda: shop.build(CONFIG), project="shop", stack="dev")


def test_the_live_service_sends_traffic_to_the_configured_colour(rec):
    services = {
        s.inputs["metadata"]["name"]: s.inputs["spec"]["selector"]["webplatform.io/color"]
        for s in rec.by_type("kubernetes:core/v1:Service")
    }
    assert services == {"shop-web": "green", "shop-web-preview": "blue"}
    assert rec.stack_outputs == {"service": "shop-web", "preview": "shop-web-preview"}


def test_each_colour_runs_its_own_image_under_its_own_autoscaler(rec):
    images = {
        d.inputs["metadata"]["name"]: d.inputs["spec"]["template"]["spec"]["containers"][0]["image"]
        for d in rec.by_type("kubernetes:apps/v1:Deployment")
    }
    assert images == {
        "shop-web-blue": "ghcr.io/acme/shop-web:2.3.1",
        "shop-web-green": "ghcr.io/acme/shop-web:2.4.0",
    }
    targets = {
        h.inputs["spec"]["scaleTargetRef"]["name"]: (
            h.inputs["spec"]["minReplicas"],
            h.inputs["spec"]["maxReplicas"],
        )
        for h in rec.by_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    }
    assert targets == {"shop-web-blue": (2, 6), "shop-web-green": (2, 6)}


def test_the_namespace_denies_by_default_and_the_app_has_an_allow_list(rec):
    policies = rec.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    deny = [p for p in policies if p.inputs["spec"]["podSelector"] == {}]
    assert len(deny) == 1 and set(deny[0].inputs["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert len(policies) == 2


def test_everything_uses_the_teams_provider_and_namespace(rec):
    provider = rec.one("pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-shop"
    for r in rec.resources:
        if r.custom and r.type.startswith("kubernetes:"):
            assert r.provider.startswith(provider.urn)
            if r.type != "kubernetes:core/v1:Namespace":
                assert r.inputs["metadata"]["namespace"] == "shop", r.urn


def test_the_library_is_the_pinned_release_installed_from_its_wheel():
    """What this project tests is what it pins: the release, installed, not a source tree."""
    import importlib.metadata
    import json
    import re
    from pathlib import Path

    import webplatform

    pin = re.search(
        r"^webplatform-components==(\S+)$",
        (Path(__file__).resolve().parent.parent / "requirements.txt").read_text(),
        re.M,
    )
    assert pin, "requirements.txt pins no release of webplatform-components"
    dist = importlib.metadata.distribution("webplatform-components")
    assert dist.version == pin[1]
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    assert not direct.get("dir_info", {}).get("editable"), "an editable install of the source"
    assert "site-packages" in Path(webplatform.__file__).parts

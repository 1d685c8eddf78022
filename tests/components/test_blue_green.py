import dataclasses

import pytest

from webplatform import BlueGreenRelease, ColorSpec, Resources, WebApp, WebAppArgs, testing

DEPLOY, SVC = "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service"
RES = Resources(cpu_request="250m", memory_request="256Mi", cpu_limit="500m", memory_limit="512Mi")
V1, V2 = "ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web:2.0.0"


def release(active="blue", blue=None, green=None):
    return BlueGreenRelease(
        active_color=active, blue=blue or ColorSpec(image=V1), green=green or ColorSpec(image=V2)
    )


def build(rel, replicas=3):
    args = WebAppArgs(namespace="prod", port=8080, replicas=replicas, resources=RES, release=rel)
    return testing.run(lambda: WebApp("web", args))


def deployment(rec, color):
    return next(d for d in rec.by_type(DEPLOY) if d.inputs["metadata"]["name"] == f"web-{color}")


def service(rec, name):
    return next(s for s in rec.by_type(SVC) if s.inputs["metadata"]["name"] == name)


def test_two_colours_each_with_its_own_image_and_colour_selector():
    rec = build(release())
    for color, image in (("blue", V1), ("green", V2)):
        spec = deployment(rec, color).inputs["spec"]
        assert spec["selector"]["matchLabels"]["webplatform.io/color"] == color
        assert spec["template"]["metadata"]["labels"]["webplatform.io/color"] == color
        (container,) = spec["template"]["spec"]["containers"]
        assert container["image"] == image
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert spec["replicas"] == 3


@pytest.mark.parametrize(("active", "idle"), [("blue", "green"), ("green", "blue")])
def test_active_service_selects_the_active_colour_and_preview_the_other(active, idle):
    rec = build(release(active))
    assert service(rec, "web").inputs["spec"]["selector"]["webplatform.io/color"] == active
    assert service(rec, "web-preview").inputs["spec"]["selector"]["webplatform.io/color"] == idle
    for svc in rec.by_type(SVC):
        selector = svc.inputs["spec"]["selector"]
        target = deployment(rec, selector["webplatform.io/color"])
        assert selector.items() <= target.inputs["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize(("active", "idle"), [("blue", "green"), ("green", "blue")])
def test_switch_waits_for_the_target_colour_and_scale_down_waits_for_the_switch(active, idle):
    rec = build(release(active))
    active_service = service(rec, "web")
    assert deployment(rec, active).urn in active_service.dependencies
    assert active_service.urn in deployment(rec, idle).dependencies
    # and never the other way round, which would let the switch race the rollout
    assert deployment(rec, idle).urn not in active_service.dependencies
    assert active_service.urn not in deployment(rec, active).dependencies


def test_flip_changes_only_service_selectors():
    before, after = build(release("blue")), build(release("green"))
    assert before.urns == after.urns
    for color in ("blue", "green"):
        assert deployment(before, color).inputs == deployment(after, color).inputs
    changed = {r.urn for r in before.resources if r.inputs != after.by_urn(r.urn).inputs}
    assert changed == {service(before, "web").urn, service(before, "web-preview").urn}


def test_idle_colour_can_be_scaled_down_and_the_active_one_cannot():
    rec = build(release("blue", green=ColorSpec(image=V2, replicas=0)))
    assert deployment(rec, "green").inputs["spec"]["replicas"] == 0
    assert deployment(rec, "blue").inputs["spec"]["replicas"] == 3
    with pytest.raises(ValueError, match="green is the active colour and receives traffic"):
        WebAppArgs(
            namespace="p",
            port=80,
            replicas=3,
            resources=RES,
            release=release("green", green=ColorSpec(image=V2, replicas=0)),
        )
    with pytest.raises(ValueError, match="at least the app's 3 replica"):
        WebAppArgs(
            namespace="p",
            port=80,
            replicas=3,
            resources=RES,
            release=release("blue", blue=ColorSpec(image=V1, replicas=2)),
        )


def test_both_colours_share_one_service_account_and_the_settings():
    args = WebAppArgs(
        namespace="p", port=80, replicas=2, resources=RES, release=release(), env={"A": "1"}
    )
    rec = testing.run(lambda: WebApp("web", args))
    (account,) = rec.by_type("kubernetes:core/v1:ServiceAccount")
    templates = [deployment(rec, c).inputs["spec"]["template"] for c in ("blue", "green")]
    assert {t["spec"]["serviceAccountName"] for t in templates} == {
        account.inputs["metadata"]["name"]
    }
    assert {t["metadata"]["annotations"]["checksum/config"] for t in templates} != {None}
    assert len({t["metadata"]["annotations"]["checksum/config"] for t in templates}) == 1


def test_outputs_name_active_and_preview_services():
    rec = build(release())
    app = rec.one("webplatform:app:WebApp")
    assert (app.outputs["service_name"], app.outputs["preview_service_name"]) == (
        "web",
        "web-preview",
    )


def test_image_and_colours_are_exclusive_and_colour_must_be_known():
    with pytest.raises(ValueError, match="one image per colour"):
        WebAppArgs(namespace="p", port=80, resources=RES, image=V1, release=release())
    with pytest.raises(ValueError, match="must be 'blue' or 'green'"):
        release("red")
    with pytest.raises(ValueError, match="name a tag or digest"):
        ColorSpec(image="ghcr.io/acme/web")
    with pytest.raises(ValueError, match="replicas=-1"):
        dataclasses.replace(ColorSpec(image=V1), replicas=-1)


def test_each_running_colour_gets_its_own_autoscaler_and_a_scaled_down_one_none():
    from webplatform import Autoscaling

    def hpas(rel):
        args = WebAppArgs(
            namespace="p",
            port=80,
            replicas=None,
            resources=RES,
            release=rel,
            autoscaling=Autoscaling(min_replicas=3, max_replicas=10),
        )
        rec = testing.run(lambda: WebApp("web", args))
        return {
            h.inputs["spec"]["scaleTargetRef"]["name"]: h.inputs["spec"]["minReplicas"]
            for h in rec.by_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
        }

    assert hpas(release("blue")) == {"web-blue": 3, "web-green": 3}
    assert hpas(release("blue", green=ColorSpec(image=V2, replicas=0))) == {"web-blue": 3}
    with pytest.raises(ValueError, match="may only be 0"):
        WebAppArgs(
            namespace="p",
            port=80,
            replicas=None,
            resources=RES,
            release=release("blue", green=ColorSpec(image=V2, replicas=2)),
            autoscaling=Autoscaling(min_replicas=3, max_replicas=10),
        )

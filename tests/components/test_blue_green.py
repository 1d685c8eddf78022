import pytest

from tests.model_errors import rejects
from webplatform import (
    BlueGreenArgs,
    BlueGreenRelease,
    ColorSpec,
    Quantities,
    Resources,
    WebApp,
    WebAppArgs,
    WebAppSpec,
    testing,
)

DEPLOY, SVC = "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Service"
RES = Resources(
    requests=Quantities(cpu="250m", memory="256Mi"), limits=Quantities(cpu="500m", memory="512Mi")
)
V1, V2 = "ghcr.io/acme/web:1.0.0", "ghcr.io/acme/web:2.0.0"


def release(active="blue", blue=None, green=None):
    return BlueGreenRelease(
        active_color=active, blue=blue or ColorSpec(image=V1), green=green or ColorSpec(image=V2)
    )


def build(rel, replicas=3):
    args = WebAppArgs(
        namespace="prod",
        port=8080,
        replicas=replicas,
        resources=RES,
        strategy="blueGreen",
        blue_green=rel,
    )
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
    # the preview address moves after the switch, beside (not after) the idle colour's wait
    preview = service(rec, "web-preview")
    assert active_service.urn in preview.dependencies
    assert deployment(rec, idle).urn not in preview.dependencies


def test_flip_changes_selectors_and_roles_and_nothing_that_restarts_pods():
    before, after = build(release("blue")), build(release("green"))
    assert before.urns == after.urns
    for color in ("blue", "green"):
        old, new = deployment(before, color).inputs, deployment(after, color).inputs
        assert old["spec"] == new["spec"], "a flip must not touch the pods"
        assert {k: v for k, v in old["metadata"].items() if k != "annotations"} == {
            k: v for k, v in new["metadata"].items() if k != "annotations"
        }
    changed = {r.urn for r in before.resources if r.inputs != after.by_urn(r.urn).inputs}
    assert changed == {
        service(before, "web").urn,
        service(before, "web-preview").urn,
        deployment(before, "blue").urn,
        deployment(before, "green").urn,
    }


@pytest.mark.parametrize(("active", "idle"), [("blue", "green"), ("green", "blue")])
def test_the_target_colour_is_always_updated_so_the_provider_waits_for_it(active, idle):
    """The readiness gate: the provider waits for a Deployment only when it updates it, so the
    colour about to take traffic must change on every flip, even with the same image."""
    before, after = build(release(idle)), build(release(active))
    role = "webplatform.io/role"
    target_before = deployment(before, active).inputs["metadata"]["annotations"][role]
    target_after = deployment(after, active).inputs["metadata"]["annotations"][role]
    assert (target_before, target_after) == ("preview", "active")
    assert deployment(after, idle).inputs["metadata"]["annotations"][role] == "preview"
    # ... and the selector moves only after that update (and its wait) succeeded
    assert deployment(after, active).urn in service(after, "web").dependencies
    # the role is on the Deployment, never on the pod template (that would restart pods)
    template = deployment(after, active).inputs["spec"]["template"]["metadata"]
    assert role not in template.get("annotations", {})


def test_services_are_not_waited_on_deployments_are():
    rec = build(release())
    for svc in rec.by_type(SVC):
        assert svc.inputs["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"
    for d in rec.by_type(DEPLOY):
        assert "pulumi.com/skipAwait" not in d.inputs["metadata"]["annotations"]


def test_idle_colour_can_be_scaled_down_and_the_active_one_cannot():
    rec = build(release("blue", green=ColorSpec(image=V2, replicas=0)))
    # At 0 the idle colour has no Deployment (not one at spec.replicas 0): see the next test.
    assert [d.inputs["metadata"]["name"] for d in rec.by_type(DEPLOY)] == ["web-blue"]
    assert deployment(rec, "blue").inputs["spec"]["replicas"] == 3
    # The preview address stays (selecting nothing until the colour comes back).
    assert service(rec, "web-preview").inputs["spec"]["selector"]["webplatform.io/color"] == "green"
    with pytest.raises(ValueError, match="green is the active colour and receives traffic"):
        WebAppArgs(
            namespace="p",
            port=80,
            replicas=3,
            resources=RES,
            strategy="blueGreen",
            blue_green=release("green", green=ColorSpec(image=V2, replicas=0)),
        )
    with pytest.raises(ValueError, match="at least the app's 3 replica"):
        WebAppArgs(
            namespace="p",
            port=80,
            replicas=3,
            resources=RES,
            strategy="blueGreen",
            blue_green=release("blue", blue=ColorSpec(image=V1, replicas=2)),
        )


def test_both_colours_share_one_service_account_and_the_settings():
    args = WebAppArgs(
        namespace="p",
        port=80,
        replicas=2,
        resources=RES,
        strategy="blueGreen",
        blue_green=release(),
        env={"A": "1"},
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


BG = {
    "port": 8080,
    "replicas": 3,
    "resources": {
        "requests": {"cpu": "250m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    },
    "strategy": "blueGreen",
    "blueGreen": {"activeColor": "blue", "blue": {"image": V1}, "green": {"image": V2}},
}


def with_(path, value, base=BG):
    import copy

    data = copy.deepcopy(base)
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (with_(["image"], V1), "image", "names its images per colour"),
        (with_(["blueGreen", "activeColor"], "red"), "blueGreen.activeColor", "'blue' or 'green'"),
        (
            with_(["blueGreen", "blue", "image"], "ghcr.io/acme/web"),
            "blueGreen.blue.image",
            "name a tag or digest",
        ),
        (
            with_(["blueGreen", "green", "image"], "ghcr.io/Acme/web:1"),
            "blueGreen.green.image",
            "must be lowercase",
        ),
        (
            with_(["blueGreen", "green", "replicas"], -1),
            "blueGreen.green.replicas",
            "greater than or equal to 0",
        ),
        (
            with_(["blueGreen", "blue", "replicas"], 2),
            "blueGreen.blue.replicas",
            "needs at least the app's 3",
        ),
        (with_(["blueGreen", "blue", "replicas"], 0), "blueGreen.blue.replicas", "active colour"),
        (with_(["blueGreen"], None), "blueGreen", "required by strategy blueGreen"),
        (with_(["strategy"], "rolling"), "blueGreen", "only with strategy blueGreen"),
        (with_(["blueGreen", "blue"], None), "blueGreen.blue", "valid dictionary"),
        (
            with_(
                ["autoscaling"], {"maxReplicas": 10}, with_(["blueGreen", "green", "replicas"], 2)
            ),
            "blueGreen.green.replicas",
            "may only be 0",
        ),
    ],
)
def test_bad_blue_green_settings_name_the_key(data, path, message):
    rejects(WebAppSpec, data, path, message)


def test_names_derived_from_a_blue_green_app_are_checked():
    spec = WebAppSpec.model_validate(BG, by_name=False)
    assert spec.object_names("web")["Service"] == ["web", "web-preview"]
    assert spec.object_names("web")["Deployment"] == ["web-blue", "web-green"]
    spec.check_names("a" * 55)
    with pytest.raises(
        ValueError, match=r"64 characters; at most 63.; shorten the app name to at most 55"
    ):
        spec.check_names("a" * 56)


def test_blue_green_args_check_capacity_and_name_length():
    workload = {
        "app": "web",
        "namespace": "ns",
        "image": V1,
        "port": 8080,
        "replicas": 3,
        "resources": BG["resources"],
    }
    release = {"activeColor": "green", "blue": {"image": V1}, "green": {"image": V2, "replicas": 1}}
    rejects(
        BlueGreenArgs,
        {"workload": workload, "release": release},
        "release.green.replicas",
        "active colour",
    )
    release["green"] = {"image": V2}
    rejects(
        BlueGreenArgs,
        {"workload": {**workload, "app": "a" * 56}, "release": release},
        "workload.app",
        "at most 55",
    )
    rejects(
        BlueGreenArgs,
        {"workload": {**workload, "metricsPort": 80}, "release": release},
        "servicePort",
        "metricsPort",
    )


def test_each_running_colour_gets_its_own_autoscaler_and_a_scaled_down_one_none():
    from webplatform import Autoscaling

    def hpas(rel):
        args = WebAppArgs(
            namespace="p",
            port=80,
            replicas=3,
            resources=RES,
            strategy="blueGreen",
            blue_green=rel,
            autoscaling=Autoscaling(max_replicas=10),
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
            replicas=3,
            resources=RES,
            strategy="blueGreen",
            blue_green=release("blue", green=ColorSpec(image=V2, replicas=2)),
            autoscaling=Autoscaling(max_replicas=10),
        )


def test_autoscaled_colours_start_at_the_floor_and_a_colour_at_zero_has_no_deployment():
    """A Deployment at 0 with an autoscaler could never come back in one ``up``: the ignored
    ``spec.replicas`` would be filled from the old inputs (0). Without one, it is created."""
    from webplatform import Autoscaling

    args = WebAppArgs(
        namespace="prod",
        port=8080,
        replicas=3,
        resources=RES,
        strategy="blueGreen",
        blue_green=release("blue", green=ColorSpec(image=V2, replicas=0)),
        autoscaling=Autoscaling(max_replicas=10),
    )
    rec = testing.run(lambda: WebApp("web", args))
    blue = deployment(rec, "blue")
    assert (blue.inputs["spec"]["replicas"], blue.ignore_changes) == (3, ("spec.replicas",))
    assert [d.inputs["metadata"]["name"] for d in rec.by_type(DEPLOY)] == ["web-blue"]
    back = testing.run(
        lambda: WebApp("web", args.model_copy(update={"blue_green": release("green")}))
    )
    green = deployment(back, "green")  # brought back: created with the floor, HPA after
    assert (green.inputs["spec"]["replicas"], green.ignore_changes) == (3, ("spec.replicas",))
    hpas = rec.by_type("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert [h.inputs["spec"]["scaleTargetRef"]["name"] for h in hpas] == ["web-blue"]

"""The blue-green release procedure as a user runs it, checked through the synth's --diff.

Each test edits a copy of a committed stack file the way docs/guides/releasing.md says a release
is done, synthesizes before and after, and asserts what the diff may contain.
"""

import kubernetes_validate
import pytest
import yaml

from infra import synth
from tests import crds
from tests.conftest import load_stack_file, synthesized

BG = "urn:pulumi:prod::webplatform::webplatform:app:WebApp$webplatform:bluegreen:BlueGreenService"


def synth_diff(tmp_path, capsys, write_stack, stack, mutate):
    assert synth.main(["--stack", stack, "--out", str(tmp_path / "before")]) == 0
    document = load_stack_file(stack)
    mutate(document["config"]["webplatform:apps"]["web"])
    path = write_stack(stack, document)
    capsys.readouterr()
    code = synth.main(
        [
            "--stack",
            stack,
            "--config-file",
            str(path),
            "--out",
            str(tmp_path / "after"),
            "--diff",
            str(tmp_path / "before"),
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("diff against"))
    return lines[start + 1 :]


def changed(lines):
    """{urn: [property changes]} from diff output; fails on added/removed resources."""
    assert not [ln for ln in lines if ln[:2] in ("+ ", "- ")], lines
    out, current = {}, None
    for line in lines:
        if line.startswith("~ "):
            current = line[2:]
            out[current] = []
        else:
            out[current].append(line.strip())
    return out


def test_prod_runs_both_colours_and_the_active_service_selects_the_configured_colour(tmp_path):
    manifests, _ = synth.write(synthesized("prod"), tmp_path)
    objects = list(yaml.safe_load_all(manifests.read_text()))
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    assert set(deployments) == {"web-blue", "web-green"}
    assert set(services) == {"web", "web-preview"}
    active = load_stack_file("prod")["config"]["webplatform:apps"]["web"]["blueGreen"][
        "activeColor"
    ]
    idle = {"blue": "green", "green": "blue"}[active]
    assert services["web"]["spec"]["selector"]["webplatform.io/color"] == active
    assert services["web-preview"]["spec"]["selector"]["webplatform.io/color"] == idle


def test_flipping_the_active_colour_changes_the_selectors_and_the_roles_only(
    tmp_path, capsys, write_stack
):
    def flip(app):
        bg = app["blueGreen"]
        bg["activeColor"] = {"blue": "green", "green": "blue"}[bg["activeColor"]]

    diff = changed(synth_diff(tmp_path, capsys, write_stack, "prod", flip))
    services = {
        f"{BG}$webplatform:service:Service$kubernetes:core/v1:Service::web-blue-green-{role}-service"
        for role in ("active", "preview")
    }
    deployments = {
        f"{BG}$webplatform:workload:Workload$kubernetes:apps/v1:Deployment::"
        f"web-blue-green-{color}-deployment"
        for color in ("blue", "green")
    }
    assert set(diff) - {"outputs"} == services | deployments
    for urn in services:
        assert len(diff[urn]) == 1 and diff[urn][0].startswith(
            "inputs.spec.selector.webplatform.io/color: "
        ), diff[urn]
    for urn in deployments:  # the readiness gate's trigger; nothing under spec (no restarts)
        assert len(diff[urn]) == 1 and diff[urn][0].startswith(
            "inputs.metadata.annotations.webplatform.io/role: "
        ), diff[urn]


def test_bumping_the_idle_image_changes_only_that_colours_deployment(tmp_path, capsys, write_stack):
    def bump(app):
        bg = app["blueGreen"]
        idle = {"blue": "green", "green": "blue"}[bg["activeColor"]]
        bg[idle]["image"] = "ghcr.io/example/web:1.5.0"

    active = load_stack_file("prod")["config"]["webplatform:apps"]["web"]["blueGreen"][
        "activeColor"
    ]
    idle = {"blue": "green", "green": "blue"}[active]
    diff = changed(synth_diff(tmp_path, capsys, write_stack, "prod", bump))
    urn = f"{BG}$webplatform:workload:Workload$kubernetes:apps/v1:Deployment::web-blue-green-{idle}-deployment"
    assert list(diff) == [urn]
    assert diff[urn] == [
        'inputs.spec.template.spec.containers[0].image: "ghcr.io/example/web:1.4.2" -> "ghcr.io/example/web:1.5.0"'
    ]


def test_rollback_is_the_same_switch_back(tmp_path, capsys, write_stack):
    def flip_twice(app):
        bg = app["blueGreen"]
        for _ in range(2):
            bg["activeColor"] = {"blue": "green", "green": "blue"}[bg["activeColor"]]

    assert synth_diff(tmp_path, capsys, write_stack, "prod", flip_twice) == []


@pytest.mark.parametrize("strategy", ["argoBlueGreen", "argoCanary"])
def test_argo_strategies_render_valid_objects(strategy, write_stack, tmp_path):
    document = load_stack_file("staging")
    app = document["config"]["webplatform:apps"]["web"]
    app.pop("blueGreen")
    app["image"] = "ghcr.io/example/web:1.4.2"
    app["strategy"] = strategy
    app["argo"] = {"analysis": {"prometheusAddress": "http://prometheus.monitoring.svc:9090"}}
    argo = document["config"]["webplatform:cluster"]["addons"]["argoRollouts"]
    argo["enabled"] = True  # the controller must be installed (validated)
    argo["pluginSha256"] = "ab" * 32  # and its plugin pinned by digest (validated)
    manifests, _ = synth.write(
        synth.synthesize("staging", write_stack("staging", document)), tmp_path
    )
    objects = list(yaml.safe_load_all(manifests.read_text()))
    kinds = {o["kind"] for o in objects}
    assert {"Rollout", "AnalysisTemplate"} <= kinds and "Deployment" not in kinds
    for obj in objects:
        if (obj["apiVersion"], obj["kind"]) in crds.UNSCHEMED:
            continue
        if crds.is_custom(obj):
            assert crds.errors(obj) == []
        else:
            kubernetes_validate.validate(obj, "1.33.0", strict=True)

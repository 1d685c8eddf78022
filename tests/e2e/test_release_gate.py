"""The readiness gate and the capacity floor, on the local control plane.

Its own stack, project directory and namespace (``web-gate``), so it neither
depends on nor disturbs the shared stack of ``test_local_stack.py``. The
project copy here has no ``refresh: always``: the gate must hold on a plain
``pulumi up`` (see :mod:`webplatform.delivery.blue_green`). The tests run in
file order: up, capacity, the gate, a later update, destroy.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import (
    NEVER_READY_IMAGE,
    Engine,
    Kube,
    engine_cluster,
    project_copy,
    pulumi_env,
    webplatform_program,
)

STACK = "local"
NS = "web-gate"
NEW_IMAGE = "ghcr.io/example/web:1.5.0"
#: The shortest wait the stack file accepts: how long a refused flip takes to fail here.
TIMEOUT_S = 30


@pytest.fixture(scope="module")
def gate(bindir: Path, kube: Kube, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    work = project_copy(tmp_path_factory.mktemp("gate"))
    project = yaml.safe_load((work / "Pulumi.yaml").read_text())
    project.pop("options", None)  # no refresh before each operation: the gate must not need it
    (work / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    stack_file = work / "Pulumi.local.yaml"
    document = yaml.safe_load(stack_file.read_text())
    document["config"]["webplatform:namespace"] = NS
    document["config"]["webplatform:kubernetes"]["awaitTimeoutSeconds"] = TIMEOUT_S
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    env = pulumi_env(bindir, kube.kubeconfig, tmp_path_factory.mktemp("gate-pulumi"))
    engine = Engine(bindir, env, work, "webplatform", webplatform_program)
    engine.cli("stack", "init", STACK)
    engine.cli("config", "set", "--stack", STACK, "--secret", "webDatabaseUrl", "postgres://gate")
    return engine


def deployment(kube: Kube, name: str) -> dict[str, Any]:
    return dict(kube.json("get", "deployment", name, "-n", NS))


def service(kube: Kube, name: str) -> dict[str, Any]:
    return dict(kube.json("get", "service", name, "-n", NS))


class SelectorWatch:
    """Every colour the active Service selected while a block ran (polled every 0.2 s), and
    whether the Service object changed at all (its resourceVersion)."""

    def __init__(self, kube: Kube, name: str) -> None:
        self.kube, self.name = kube, name
        self.seen: set[str] = set()
        self._stop = threading.Event()

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.seen.add(service(self.kube, self.name)["spec"]["selector"]["webplatform.io/color"])
            self._stop.wait(0.2)

    def __enter__(self) -> SelectorWatch:
        self.version = service(self.kube, self.name)["metadata"]["resourceVersion"]
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.seen.add(service(self.kube, self.name)["spec"]["selector"]["webplatform.io/color"])
        self.unchanged = (
            service(self.kube, self.name)["metadata"]["resourceVersion"] == self.version
        )


@pytest.fixture
def cordoned(kube: Kube) -> Iterator[None]:
    """No new pod can be scheduled while it is active (every fake node is cordoned)."""
    nodes = list(engine_cluster.NODES)
    kube("cordon", *nodes)
    try:
        yield
    finally:
        kube("uncordon", *nodes)


def ready_replicas(kube: Kube, name: str) -> int:
    return int(deployment(kube, name).get("status", {}).get("readyReplicas") or 0)


# ---------------------------------------------------------------- capacity
def test_after_up_every_deployment_has_its_autoscaler_floor_ready(gate: Engine, kube: Kube) -> None:
    result = gate.up(STACK)
    assert result.summary.result == "succeeded"
    # Read at once: `up` returned only after the floor was serving, not a sync later.
    hpas = kube.json("get", "horizontalpodautoscalers", "-n", NS)["items"]
    floors = {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["minReplicas"] for h in hpas}
    assert set(floors) == {"web-blue", "web-green"}
    for name, floor in floors.items():
        assert ready_replicas(kube, name) >= floor == 3, name
    assert service(kube, "web")["spec"]["selector"]["webplatform.io/color"] == "blue"


def test_later_updates_leave_replicas_to_the_autoscaler(gate: Engine, kube: Kube) -> None:
    # The HPA controller writes the count through the scale subresource (no metrics here, so
    # the real one never scales above the floor): this patch is its write, under its name.
    kube(
        "patch", "deployment", "web-green", "-n", NS, "--subresource=scale", "--type=merge",
        "-p", json.dumps({"spec": {"replicas": 5}}), "--field-manager=kube-controller-manager",
    )  # fmt: skip
    live = kube.json("get", "deployment", "web-green", "-n", NS, "--show-managed-fields")
    owners = {
        f["manager"]
        for f in live["metadata"]["managedFields"]
        if "f:replicas" in json.dumps(f.get("fieldsV1", {}))
    }
    assert owners == {"kube-controller-manager"}, owners
    # A later update of that very Deployment (new image on the idle colour), then no change.
    gate.set_path(STACK, "webplatform:apps.web.blueGreen.green.image", NEW_IMAGE)
    preview = gate.preview(STACK, diff=True)
    assert "replicas" not in "\n".join(
        line for line in preview.stdout.splitlines() if line.strip().startswith(("~", "-", "+"))
    ), preview.stdout
    gate.up(STACK)
    live = deployment(kube, "web-green")
    assert live["spec"]["replicas"] == 5, "pulumi up reset the autoscaler's count"
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == NEW_IMAGE
    gate.up(STACK)
    assert deployment(kube, "web-green")["spec"]["replicas"] == 5
    # The count the program itself owns (blue at its floor, never touched by the "HPA") stays.
    assert deployment(kube, "web-blue")["spec"]["replicas"] == 3


# ---------------------------------------------------------------- the gate
def test_flip_to_a_colour_whose_pods_are_gone_fails_before_the_selector_moves(
    gate: Engine, kube: Kube, cordoned: None
) -> None:
    from pulumi.automation import CommandError

    # Green is unready with an unchanged Deployment: its pods deleted, none schedulable.
    kube("delete", "pods", "-n", NS, "-l", "webplatform.io/color=green", "--wait=true")
    kube.wait_for("green unavailable", lambda: ready_replicas(kube, "web-green") == 0)
    gate.set_path(STACK, "webplatform:apps.web.blueGreen.activeColor", "green")
    with SelectorWatch(kube, "web") as watch, pytest.raises(CommandError):
        gate.up(STACK)
    assert watch.seen == {"blue"} and watch.unchanged, watch.seen
    # Re-running it without any change waits again (the failed Deployment keeps its
    # initialization error, which the engine retries); it does not just move the selector.
    with SelectorWatch(kube, "web") as watch, pytest.raises(CommandError):
        gate.up(STACK)
    assert watch.seen == {"blue"} and watch.unchanged, watch.seen


def test_flip_with_a_new_image_that_never_gets_ready_fails_before_the_selector_moves(
    gate: Engine, kube: Kube
) -> None:
    from pulumi.automation import CommandError

    kube.wait_for("green ready again", lambda: ready_replicas(kube, "web-green") >= 3)
    gate.set_path(STACK, "webplatform:apps.web.blueGreen.green.image", NEVER_READY_IMAGE)
    with SelectorWatch(kube, "web") as watch, pytest.raises(CommandError):
        gate.up(STACK)
    assert watch.seen == {"blue"} and watch.unchanged, watch.seen


def test_flip_to_a_ready_colour_goes_through_and_rolls_back(gate: Engine, kube: Kube) -> None:
    gate.set_path(STACK, "webplatform:apps.web.blueGreen.green.image", NEW_IMAGE)
    gate.up(STACK)  # activeColor is still green: the gate passes once green is ready
    assert service(kube, "web")["spec"]["selector"]["webplatform.io/color"] == "green"
    assert ready_replicas(kube, "web-green") >= 3
    gate.set_path(STACK, "webplatform:apps.web.blueGreen.activeColor", "blue")
    gate.up(STACK)
    assert service(kube, "web")["spec"]["selector"]["webplatform.io/color"] == "blue"


def test_destroy_leaves_nothing(gate: Engine, kube: Kube) -> None:
    gate.destroy(STACK)
    kube.wait_for(
        f"namespace {NS} gone",
        lambda: kube("get", "namespace", NS, check=False).returncode != 0,
    )

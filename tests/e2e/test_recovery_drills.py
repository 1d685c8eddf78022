"""Recovery drills on the loopback control plane (issue 22), on a stack of their own.

A copy of the ``local`` stack (``drill``: namespace ``web-drill``, its own ``file://``
backend), so the drills never depend on what test_local_stack.py left. In file order:

1. state that cannot be lost: the stack's export, imported into a fresh backend, previews
   with no change against the same cluster;
2. rollback (a): a bad release on the idle colour, flipped to, then failing readiness; rolled
   back by one config change and ``up``;
3. rollback (b): the idle colour at 0 replicas and the live colour broken; the documented
   rollback scales the idle colour back and flips in one ``up``, and traffic never moves
   before the target is ready;
4. a checkpoint sidecar cut off by a kill (``failed to load checkpoint: EOF`` on every
   command) is undone by ``dev.py repair-state``, with the checkpoint left as it was;
5. interrupted update (c): the engine killed mid-``up``; ``repair-state`` (a ``file://``
   backend), ``pulumi cancel`` where the backend holds a lock, ``refresh
   --clear-pending-creates``, ``up``: no orphan, nothing missing;
6. the Kubernetes entries of ``infra/rto.toml`` are at least the times measured here.

Each drill's time is written to ``build/e2e/drills.json`` (and printed); bench/README.md
quotes a run. Times are numbers, never pass/fail limits (only the RTO table's floor is).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import recovery
from tests.e2e.conftest import ROOT, Engine, Kube, project_copy, pulumi_env, webplatform_program

STACK = "drill"
NS = "web-drill"
GOOD = "ghcr.io/example/web:1.4.2"
BAD = "ghcr.io/example/web:1.5.0-broken"  # starts and passes readiness, then fails it
PREVIOUS = "ghcr.io/example/web:1.4.1"
APP = "webplatform:apps.web"
RESULTS = ROOT / "build" / "e2e" / "drills.json"
PART_OF = "app.kubernetes.io/part-of=webplatform"


def record(name: str, seconds: float) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    found = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    found[name] = round(seconds, 1)
    RESULTS.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n")
    print(f"drill {name}: {seconds:.1f} s")


def drill_stack_file() -> str:
    """Pulumi.local.yaml with the drill's own namespace and host (its identity only)."""
    document = yaml.safe_load((ROOT / "Pulumi.local.yaml").read_text())
    config = document["config"]
    config["webplatform:namespace"] = NS
    config["webplatform:apps"]["web"]["route"]["hosts"] = ["web.drill.example.com"]
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture(scope="module")
def drill(bindir: Path, kube: Kube, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    work = project_copy(tmp_path_factory.mktemp("drill"))
    (work / f"Pulumi.{STACK}.yaml").write_text(drill_stack_file())
    env = pulumi_env(bindir, kube.kubeconfig, tmp_path_factory.mktemp("drill-pulumi"))
    eng = Engine(bindir, env, work, "webplatform", webplatform_program)
    eng.cli("stack", "init", STACK)
    eng.cli("config", "set", "--stack", STACK, "--secret", "webDatabaseUrl", "postgres://drill")
    started = time.monotonic()
    eng.up(STACK)
    record("first up of the local stack", time.monotonic() - started)
    yield eng
    eng.cli("state", "unprotect", "--all", "--stack", STACK, "--yes", check=False)
    eng.destroy(STACK)


# --- helpers ------------------------------------------------------------------------------


def web_pods(kube: Kube, color: str) -> list[dict[str, Any]]:
    found = kube.json("get", "pods", "-n", NS, "-l", f"webplatform.io/color={color}")["items"]
    return [p for p in found if not p["metadata"].get("deletionTimestamp")]


def ready(pod: dict[str, Any]) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", [])
    )


def ready_count(kube: Kube, color: str) -> int:
    return sum(1 for p in web_pods(kube, color) if ready(p))


def selector(kube: Kube) -> str:
    return str(
        kube.json("get", "service", "web", "-n", NS)["spec"]["selector"]["webplatform.io/color"]
    )


def endpoints(kube: Kube, service: str = "web") -> set[str]:
    slices = kube.json(
        "get", "endpointslices", "-n", NS, "-l", f"kubernetes.io/service-name={service}"
    )["items"]
    return {
        ep["targetRef"]["name"]
        for s in slices
        for ep in s.get("endpoints") or []
        if ep.get("conditions", {}).get("ready") and ep.get("targetRef")
    }


def break_readiness(kube: Kube, color: str) -> None:
    """What a release that fails its readiness probe after start looks like to Kubernetes:
    every pod of the colour NotReady (kwok's probes are not run; its pod-ready stage only acts
    on Pending pods, so the condition stays as set)."""
    for pod in web_pods(kube, color):
        kube(
            "patch", "pod", pod["metadata"]["name"], "-n", NS, "--subresource=status",
            "--type=strategic", "-p",
            json.dumps({"status": {"conditions": [
                {"type": "Ready", "status": "False", "reason": "ReadinessProbeFailed"},
                {"type": "ContainersReady", "status": "False"},
            ]}}),
        )  # fmt: skip


# --- 1. state -----------------------------------------------------------------------------


def test_an_export_imported_into_a_fresh_backend_previews_no_change(
    drill: Engine, kube: Kube, tmp_path: Path
) -> None:
    exported = tmp_path / "drill.state.json"
    drill.cli("stack", "export", "--stack", STACK, "--file", str(exported))
    text = exported.read_text()
    assert "postgres://drill" not in text  # secrets stay ciphertext in an export
    state = json.loads(text)
    assert len(state["deployment"]["resources"]) >= 20
    assert not state["deployment"].get("pending_operations")

    # A fresh backend (a new bucket, a new file:// folder) with the same project files.
    fresh = pulumi_env(drill.bindir, kube.kubeconfig, tmp_path / "fresh")
    restored = Engine(drill.bindir, fresh, drill.workdir, "webplatform", webplatform_program)
    assert fresh["PULUMI_BACKEND_URL"] != drill.env["PULUMI_BACKEND_URL"]
    started = time.monotonic()
    restored.cli("stack", "init", STACK)
    restored.cli("stack", "import", "--stack", STACK, "--file", str(exported))
    preview = restored.preview(STACK, refresh=True, diff=True)
    record("state restore: stack init + import + preview --refresh", time.monotonic() - started)
    changes = {k: v for k, v in preview.change_summary.items() if k != "same" and v}
    assert changes == {}, preview.stdout
    assert preview.change_summary.get("same", 0) >= 20


# --- 2. rollback (a) ------------------------------------------------------------------------


def test_rollback_a_bad_release_flipped_to_is_undone_by_one_config_change(
    drill: Engine, kube: Kube
) -> None:
    drill.set_path(STACK, f"{APP}.blueGreen.green.image", BAD)
    drill.up(STACK)
    drill.set_path(STACK, f"{APP}.blueGreen.activeColor", "green")
    drill.up(STACK)
    assert selector(kube) == "green"
    break_readiness(kube, "green")  # the release fails in production
    kube.wait_for("web has no ready endpoint", lambda: endpoints(kube) == set())

    # The rollback is one change of the stack file: the active colour back, and the broken
    # colour's image back to the last good one. (Flipping alone moves traffic, but the idle
    # colour's Deployment is updated too, its role annotation, and the provider waits for it:
    # a broken idle colour fails that `up` after awaitTimeoutSeconds, traffic already moved.)
    started = time.monotonic()
    restored: list[float] = []
    stop = threading.Event()
    blue = {p["metadata"]["name"] for p in web_pods(kube, "blue")}

    def watch() -> None:
        while not stop.is_set() and not restored:
            if endpoints(kube) == blue:
                restored.append(time.monotonic() - started)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    drill.set_path(STACK, f"{APP}.blueGreen.activeColor", "blue")
    drill.set_path(STACK, f"{APP}.blueGreen.green.image", GOOD)
    try:
        drill.up(STACK)
        kube.wait_for("web's endpoints on blue", lambda: endpoints(kube) == blue)
    finally:
        stop.set()
        watcher.join(timeout=10)
    record(
        "rollback (a): whole up (flip back + bad colour's image back)", time.monotonic() - started
    )
    assert restored, "traffic never returned to blue"
    record("rollback (a): until web's endpoints were blue's again", restored[0])
    assert selector(kube) == "blue" and len(blue) == 3
    kube.wait_for("green ready on the good image", lambda: ready_count(kube, "green") == 3, 180)


# --- 3. rollback (b) ------------------------------------------------------------------------


def test_rollback_b_idle_colour_at_zero_scales_back_and_flips_in_one_up(
    drill: Engine, kube: Kube
) -> None:
    drill.set_path(STACK, f"{APP}.blueGreen.green.replicas", "0")
    drill.up(STACK)
    kube.wait_for("green at 0", lambda: web_pods(kube, "green") == [], timeout=120)
    # At 0 the colour has no Deployment (a Deployment at 0 could not come back in one `up`
    # under an autoscaler: the ignored spec.replicas keeps the old 0; found by this drill).
    missing = kube("get", "deployment", "web-green", "-n", NS, check=False)
    assert missing.returncode != 0 and "NotFound" in missing.stderr, missing.stdout
    break_readiness(kube, "blue")  # the live colour fails, and the idle one is cold
    kube.wait_for("web has no ready endpoint", lambda: endpoints(kube) == set())

    # Watch the Service and green's readiness while the rollback runs: the last look before
    # the selector moved shows how many green pods were ready when it moved (at least).
    seen: list[tuple[str, int]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append((selector(kube), ready_count(kube, "green")))

    events: list[tuple[str, str]] = []

    def on_event(event: Any) -> None:
        for kind in ("resource_pre_event", "res_outputs_event"):
            found = getattr(event, kind, None)
            # The refresh before the update (`refresh: always`) reports every resource too;
            # the order that gates traffic is the update's own.
            op = getattr(found, "metadata", None) and found.metadata.op
            if found is not None and getattr(op, "value", op) != "refresh":
                events.append((kind, found.metadata.urn))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    # The documented rollback: one `up` with both changes (the idle colour back to the app's
    # count, and active), so the engine orders them: green ready, then the switch.
    drill.cli("config", "rm", "--stack", STACK, "--path", f"{APP}.blueGreen.green.replicas")
    drill.set_path(STACK, f"{APP}.blueGreen.activeColor", "green")
    drill.set_path(STACK, f"{APP}.blueGreen.blue.image", PREVIOUS)  # the broken release out
    try:
        drill.up(STACK, on_event=on_event)
        green = {p["metadata"]["name"] for p in web_pods(kube, "green") if ready(p)}
        kube.wait_for(
            "web's endpoints on green",
            lambda: endpoints(kube) >= green and endpoints(kube) != set(),
        )
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        watcher.join(timeout=10)
    record("rollback (b): idle colour from 0, scaled back and flipped in one up", elapsed)
    assert selector(kube) == "green"

    flipped = next(i for i, (color, _) in enumerate(seen) if color == "green")
    assert flipped > 0, "the watch started after the switch"
    ready_before_switch = seen[flipped - 1][1]
    assert ready_before_switch >= 1, (
        f"traffic moved to green with no ready pod: {seen[: flipped + 1]}"
    )
    # The engine's order: green's Deployment finished (the provider waited for it to be
    # available) before the active Service was touched.
    deployment_done = next(
        i
        for i, (k, u) in enumerate(events)
        if k == "res_outputs_event" and u.endswith("web-blue-green-green-deployment")
    )
    service_start = next(
        i
        for i, (k, u) in enumerate(events)
        if k == "resource_pre_event" and u.endswith("web-blue-green-active-service")
    )
    assert deployment_done < service_start
    record("rollback (b): green pods ready when the switch happened", ready_before_switch)

    kube.wait_for("blue ready on the previous image", lambda: ready_count(kube, "blue") == 3, 180)


# --- 4. a cut-off checkpoint sidecar --------------------------------------------------------


def _backend(drill: Engine) -> Path:
    return Path(drill.env["PULUMI_BACKEND_URL"].removeprefix("file://"))


def repair_state(drill: Engine) -> list[Path]:
    """The runbook's first step on a ``file://`` backend (``dev.py repair-state``)."""
    return recovery.repair_file_backend(recovery.backend_root(drill.env["PULUMI_BACKEND_URL"]))


def test_a_checkpoint_sidecar_cut_off_by_a_kill_is_repaired_with_the_state_intact(
    drill: Engine,
) -> None:
    """What a kill between fileblob's sidecar create and its write leaves (seen in CI): the
    engine itself, not a model of it, refuses the stack until the sidecar is gone."""
    from pulumi.automation import CommandError

    sidecar = _backend(drill) / ".pulumi" / "stacks" / "webplatform" / f"{STACK}.json.attrs"
    assert sidecar.is_file()
    before = drill.export(STACK)
    sidecar.write_text("")
    with pytest.raises(CommandError, match="failed to load checkpoint: EOF"):
        drill.preview(STACK)
    assert repair_state(drill) == [sidecar]
    assert drill.export(STACK)["deployment"]["resources"] == before["deployment"]["resources"]
    preview = drill.preview(STACK)
    assert {k: v for k, v in preview.change_summary.items() if k != "same" and v} == {}


# --- 5. interrupted update ------------------------------------------------------------------


def _processes() -> Iterator[tuple[int, str, str]]:
    """(pid, parent pid, executable) of every process this user can read."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parent = (proc / "stat").read_text().rsplit(")", 1)[1].split()[1]
            exe = os.readlink(proc / "exe")
        except OSError:
            continue
        yield int(proc.name), parent, exe


def _children_running(bindir: Path) -> list[int]:
    """PIDs of `pulumi` processes this test process started (the Automation API's CLI)."""
    mine, cli = str(os.getpid()), str((bindir / "pulumi").resolve())
    return [pid for pid, parent, exe in _processes() if parent == mine and exe == cli]


def _children_of(pids: list[int]) -> list[int]:
    """PIDs whose parent is one of ``pids`` (the engine's plugins)."""
    parents = {str(pid) for pid in pids}
    return [pid for pid, parent, _ in _processes() if parent in parents]


def _stop(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def live_objects(kube: Kube) -> set[tuple[str, str]]:
    kinds = (
        "deployments,services,configmaps,secrets,serviceaccounts,horizontalpodautoscalers,"
        "poddisruptionbudgets,networkpolicies,gateways.gateway.networking.k8s.io,"
        "httproutes.gateway.networking.k8s.io"
    )
    items = kube.json("get", kinds, "-n", NS, "-l", PART_OF)["items"]
    return {(i["kind"], i["metadata"]["name"]) for i in items}


def state_objects(state: dict[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for r in state["deployment"]["resources"]:
        outputs = r.get("outputs") or {}
        meta = outputs.get("metadata") or {}
        if r["type"].startswith("kubernetes:") and meta.get("namespace") == NS:
            out.add((outputs.get("kind") or r["type"].rsplit(":", 1)[-1], meta.get("name")))
    return out


def test_interrupted_update_converges_with_no_orphan_and_nothing_missing(
    drill: Engine, kube: Kube
) -> None:
    from pulumi.automation import CommandError

    # An update that rolls pods (a new image, new settings: both colours), long enough to be
    # killed in the middle. (Not a colour back from 0 replicas: see rollback (b).)
    drill.set_path(STACK, f"{APP}.blueGreen.blue.image", "ghcr.io/example/web:1.6.0")
    drill.set_path(STACK, f"{APP}.env.LOG_LEVEL", "info")

    killed: list[int] = []
    orphans: list[int] = []

    def on_event(event: Any) -> None:
        pre = getattr(event, "resource_pre_event", None)
        if (
            pre is not None
            and pre.metadata.op in ("create", "update")
            and pre.metadata.type == "kubernetes:apps/v1:Deployment"
            and not killed
        ):
            time.sleep(0.5)  # the provider is now applying and awaiting it
            engines = _children_running(drill.bindir)
            orphans.extend(_children_of(engines))  # its plugins: a dead engine cannot stop them
            for pid in engines:
                os.kill(pid, signal.SIGKILL)  # the engine dies: no cleanup, no unlock
                killed.append(pid)

    try:
        with pytest.raises(CommandError):
            drill.up(STACK, on_event=on_event)
    finally:
        _stop(orphans)  # what the killed engine started, stopped by this test, by pid
    assert killed, "the engine was not killed mid-up"

    # The documented recovery (docs/guides/recovery.md, runbook "Stuck update").
    started = time.monotonic()
    backend = _backend(drill)
    locks = [f for f in (backend / ".pulumi" / "locks").rglob("*") if f.is_file()]
    print(
        f"locks left by the kill: {len(locks)}; repaired: {[p.name for p in repair_state(drill)]}"
    )
    pending = drill.export(STACK)["deployment"].get("pending_operations") or []
    print(
        f"pending operations left by the kill: {[(p['type'], p['resource']['urn'].rsplit('::', 1)[-1]) for p in pending]}"
    )
    drill.cli("cancel", "--stack", STACK, "--yes")  # the DIY backend: removes the stale lock
    assert not [f for f in (backend / ".pulumi" / "locks").rglob("*") if f.is_file()]
    drill.stack(STACK).refresh(clear_pending_creates=True, color="never")
    result = drill.up(STACK)
    record(
        "stuck update: cancel + refresh --clear-pending-creates + up", time.monotonic() - started
    )
    assert result.summary.result == "succeeded"

    state = drill.export(STACK)
    assert not state["deployment"].get("pending_operations")
    live, kept = live_objects(kube), state_objects(state)
    assert live - kept == set(), f"orphans in the cluster: {sorted(live - kept)}"
    assert {k for k in kept if k[0] in {k2 for k2, _ in live}} - live == set(), "in state, not live"
    assert ("HorizontalPodAutoscaler", "web-blue") in live
    preview = drill.preview(STACK)
    assert {k: v for k, v in preview.change_summary.items() if k != "same" and v} == {}
    kube.wait_for(
        "blue on the new image",
        lambda: (
            all(
                p["spec"]["containers"][0]["image"] == "ghcr.io/example/web:1.6.0"
                for p in web_pods(kube, "blue")
            )
            and ready_count(kube, "blue") == 3
        ),
        timeout=180,
    )


# --- 6. the RTO table's Kubernetes entries -------------------------------------------------


def test_the_rto_tables_kubernetes_times_are_at_least_the_measured_ones(drill: Engine) -> None:
    """Per type, the longest create/update the engine reported on this cluster (from its
    events' timestamps) is at most the table's figure for that type."""
    times = recovery.Times.load()
    durations: dict[str, float] = {}
    starts: dict[str, tuple[str, float]] = {}

    def on_event(event: Any) -> None:
        pre = getattr(event, "resource_pre_event", None)
        done = getattr(event, "res_outputs_event", None)
        now = time.monotonic()  # the events' own timestamps are whole seconds
        if pre is not None:
            starts[pre.metadata.urn] = (pre.metadata.type, now)
        elif done is not None and done.metadata.urn in starts:
            type_, at = starts.pop(done.metadata.urn)
            durations[type_] = max(durations.get(type_, 0.0), now - at)

    # Every object created from scratch: destroy, then up (the from-scratch `up` of the RTO).
    drill.cli("state", "unprotect", "--all", "--stack", STACK, "--yes", check=False)
    drill.destroy(STACK)
    started = time.monotonic()
    drill.up(STACK, on_event=on_event)
    record(
        "from-scratch up of the local stack (RTO graph, Kubernetes half)",
        time.monotonic() - started,
    )
    kubernetes = {t: s for t, s in durations.items() if t.startswith("kubernetes:")}
    assert "kubernetes:apps/v1:Deployment" in kubernetes
    for type_, seconds in sorted(kubernetes.items()):
        record(f"create {type_}", seconds)
        assert times.seconds(type_) >= seconds, f"{type_}: measured {seconds:.1f} s > table"

"""Outcome check of issue 19, "Prerequisites": every kind a stack applies is served where it runs.

Built into the Kubernetes version, or a CRD of a chart the same stack installs (and the
object waits for that chart), or EKS Auto Mode's own (infra.prerequisites.AUTO_MODE_KINDS),
or, on an existing cluster, a documented prerequisite that the local control plane installs
(tools/engine/cluster.py, PREREQUISITE_CRDS; the e2e harness installs nothing else).
"""

from __future__ import annotations

import pytest

from infra import prerequisites, synth
from tests.conftest import STACKS, load_stack_file, synthesized

ALL = (*STACKS, "local")


def pairs(result):
    found = []
    for r in sorted(result.recording.resources, key=lambda r: r.urn):
        if r.custom and r.type.startswith("kubernetes:") and "apiVersion" in r.inputs:
            found.append((r.urn, {k: r.inputs[k] for k in ("apiVersion", "kind", "metadata")}))
    return found


@pytest.fixture(scope="module")
def synths():
    return {stack: synthesized(stack) for stack in ALL}


def check(result, stack, **kwargs):
    config = load_stack_file(stack)["config"]
    mode = config.get("webplatform:cluster", {}).get("mode", "existing")
    version = config["webplatform:kubernetes"]["version"]
    return prerequisites.unserved(
        result.recording.resources, pairs(result), mode=mode, version=version, **kwargs
    )


@pytest.mark.parametrize("stack", ALL)
def test_every_kind_each_stack_applies_is_served_where_it_runs(synths, stack):
    assert check(synths[stack], stack) == []


def test_the_check_sees_a_stack_without_the_monitoring_chart(synths, monkeypatch):
    """Today's defect: without kube-prometheus-stack nothing serves the apps' monitors."""
    import infra.stack

    monkeypatch.setattr(infra.stack, "monitoring_stack", lambda *a, **k: None)
    result = synth.synthesize("staging")
    problems = check(result, "staging")
    assert problems and all("monitoring.coreos.com/v1" in p for p in problems), problems
    assert any("ServiceMonitor" in p for p in problems) and any(
        "PrometheusRule" in p for p in problems
    )


def test_the_check_sees_an_object_that_does_not_wait_for_its_chart(synths):
    result = synths["staging"]
    resources = list(result.recording.resources)
    namespace = next(
        r for r in resources if r.type == "kubernetes:core/v1:Namespace" and "web-staging" in r.urn
    )
    cut = [
        r if r is not namespace else type(r)(**{**r.__dict__, "dependencies": ()})
        for r in resources
    ]
    problems = prerequisites.unserved(cut, pairs(result), mode="eks", version="1.35")
    assert any("does not wait for the release" in p and "ServiceMonitor" in p for p in problems)


def test_the_local_prerequisites_are_needed_and_enough(synths):
    """Each listed CRD serves something the local stack applies; dropping one is caught."""
    crds = prerequisites._cluster_tool().PREREQUISITE_CRDS
    used = {obj["apiVersion"] + "/" + obj["kind"] for _, obj in pairs(synths["local"])}
    for name in crds:
        served = prerequisites.existing_cluster_kinds((name,))
        assert {f"{a}/{k}" for a, k in served} & used, f"{name} serves nothing the stack applies"
        rest = tuple(c for c in crds if c != name)
        problems = check(
            synths["local"], "local", existing_kinds=prerequisites.existing_cluster_kinds(rest)
        )
        assert problems, f"without {name} the check should fail"


def test_chart_kinds_name_only_kinds_with_a_vendored_or_documented_crd(synths):
    from tests import crds

    vendored = set(crds.schemas())
    for chart, kinds in prerequisites.CHART_KINDS.items():
        assert kinds, chart
    # Every kind our stacks render that a chart serves has its CRD schema here (or is listed
    # as unschemed), so the chart table cannot name a kind nobody checked.
    rendered = {
        (obj["apiVersion"], obj["kind"])
        for stack in ALL
        for obj in synths[stack].kubernetes_objects()
    }
    charted = set().union(*prerequisites.CHART_KINDS.values())
    assert rendered & charted <= vendored | crds.UNSCHEMED

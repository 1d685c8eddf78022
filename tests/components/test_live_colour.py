"""Defect 6 of issue 19: a drain must never take the live colour down.

One budget over both colours (the old shape) counted the idle colour's pods as
serving: with 3 + 3 pods and ``minAvailable: 2`` the eviction API allowed all
three live pods to go. Each colour now has its own budget, and every
workload's pods spread over nodes and zones.
"""

from tests.model_errors import rejects
from webplatform import (
    DisruptionPolicy,
    Namespace,
    NamespaceArgs,
    Quantities,
    Resources,
    WebApp,
    WebAppArgs,
    WebAppSpec,
    testing,
)
from webplatform.delivery.blue_green import COLOR_LABEL, BlueGreenRelease, ColorSpec

RES = Resources(
    requests=Quantities(cpu="100m", memory="128Mi"), limits=Quantities(cpu="200m", memory="256Mi")
)


def release(blue: int | None = None, green: int | None = None) -> BlueGreenRelease:
    return BlueGreenRelease(
        active_color="blue",
        blue=ColorSpec(image="ghcr.io/acme/web:1", replicas=blue),
        green=ColorSpec(image="ghcr.io/acme/web:2", replicas=green),
    )


def program(**overrides):
    def run():
        ns = Namespace("team", NamespaceArgs(name="team"))
        base = dict(
            namespace=ns.name,
            port=8080,
            replicas=3,
            resources=RES,
            strategy="blueGreen",
            blue_green=release(),
            disruption_budget=DisruptionPolicy(min_available=2),
        )
        WebApp("web", WebAppArgs(**{**base, **overrides}))

    return run


def budgets(rec):
    return {
        r.inputs["metadata"]["name"]: r.inputs["spec"]
        for r in rec.by_type("kubernetes:policy/v1:PodDisruptionBudget")
    }


def allowed_evictions(budget: dict, pods: list[dict]) -> int:
    """What the eviction API computes: healthy selected pods minus minAvailable."""
    selected = [p for p in pods if budget["selector"]["matchLabels"].items() <= p.items()]
    return max(0, len(selected) - budget["minAvailable"])


def test_each_colour_has_its_own_budget_so_the_live_pods_are_counted_alone():
    rec = testing.run(program())
    found = budgets(rec)
    assert set(found) == {"web-blue", "web-green"}
    for color in ("blue", "green"):
        assert found[f"web-{color}"]["selector"]["matchLabels"][COLOR_LABEL] == color
        assert found[f"web-{color}"]["minAvailable"] == 2
    # 3 blue (live) + 3 green pods, labelled as the Deployments label them.
    deployments = {
        r.inputs["metadata"]["name"]: r.inputs["spec"]["template"]["metadata"]["labels"]
        for r in rec.by_type("kubernetes:apps/v1:Deployment")
    }
    pods = [deployments["web-blue"]] * 3 + [deployments["web-green"]] * 3
    live = [p for p in pods if p[COLOR_LABEL] == "blue"]
    # However a drain orders its evictions, at most one live pod may go: 2 stay.
    covering = [
        b for b in found.values() if b["selector"]["matchLabels"].items() <= live[0].items()
    ]
    assert covering and min(allowed_evictions(b, pods) for b in covering) == 1


def test_a_colour_scaled_to_zero_gets_no_budget():
    rec = testing.run(program(blue_green=release(green=0)))
    assert set(budgets(rec)) == {"web-blue"}


def test_a_running_colour_smaller_than_the_budget_is_refused():
    # green runs 2 pods: minAvailable 2 would block every eviction of them (drains hang).
    rejects(
        WebAppSpec,
        {
            "port": 8080,
            "replicas": 3,
            "resources": {
                "requests": {"cpu": "100m", "memory": "128Mi"},
                "limits": {"cpu": "200m", "memory": "256Mi"},
            },
            "strategy": "blueGreen",
            "blueGreen": {
                "activeColor": "blue",
                "blue": {"image": "ghcr.io/acme/web:1"},
                "green": {"image": "ghcr.io/acme/web:2", "replicas": 2},
            },
            "disruptionBudget": {"minAvailable": 2},
        },
        "disruptionBudget.minAvailable",
        "blueGreen.green.replicas",
    )


def test_every_workload_spreads_its_own_pods_over_zones_and_nodes():
    rec = testing.run(program())
    for deployment in rec.by_type("kubernetes:apps/v1:Deployment"):
        spec = deployment.inputs["spec"]
        constraints = spec["template"]["spec"]["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in constraints} == {
            "topology.kubernetes.io/zone",
            "kubernetes.io/hostname",
        }
        for c in constraints:
            assert c["maxSkew"] == 1 and c["whenUnsatisfiable"] == "DoNotSchedule"
            # A cordoned node is no domain: else the evicted pods could not reschedule.
            assert c["nodeTaintsPolicy"] == "Honor"
            # Its own colour's pods only: the other colour does not skew this one.
            assert c["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]

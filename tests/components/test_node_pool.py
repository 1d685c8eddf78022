"""The Auto Mode NodePool: limits that bound the apps' capacity, current on-demand instances."""

from decimal import Decimal

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pydantic import ValidationError

from webplatform import testing
from webplatform.cluster.node_pool import NodePool, NodePoolArgs

POOL = "kubernetes:karpenter.sh/v1:NodePool"


def build(**overrides):
    def program():
        provider = k8s.Provider("k8s", context="test")
        pool = NodePool(
            "apps",
            NodePoolArgs(**{"cpu_limit": "16", "memory_limit": "64Gi", **overrides}),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        pulumi.export("name", pool.name)

    return testing.run(program, stack="test")


@pytest.fixture(scope="module")
def rec():
    return build()


def test_limits_bound_the_pool(rec):
    pool = rec.one(POOL)
    assert pool.inputs["metadata"]["name"] == "apps"
    assert pool.inputs["spec"]["limits"] == {"cpu": "16", "memory": "64Gi"}
    assert rec.stack_outputs["name"] == "apps"


def test_instances_are_current_on_demand_from_the_auto_mode_default_node_class(rec):
    template = rec.one(POOL).inputs["spec"]["template"]["spec"]
    assert template["nodeClassRef"] == {
        "group": "eks.amazonaws.com",
        "kind": "NodeClass",
        "name": "default",
    }
    requirements = {r["key"]: (r["operator"], r["values"]) for r in template["requirements"]}
    assert requirements == {
        "eks.amazonaws.com/instance-category": ("In", ["c", "m", "r"]),
        "eks.amazonaws.com/instance-generation": ("Gt", ["5"]),
        "kubernetes.io/arch": ("In", ["amd64"]),
        "karpenter.sh/capacity-type": ("In", ["on-demand"]),
    }
    assert template["expireAfter"] == "336h"


def test_consolidation_replaces_a_tenth_of_the_nodes_at_a_time(rec):
    disruption = rec.one(POOL).inputs["spec"]["disruption"]
    assert disruption["consolidationPolicy"] == "WhenEmptyOrUnderutilized"
    assert disruption["budgets"] == [{"nodes": "10%"}]


def test_the_pool_uses_the_given_provider_and_is_parented(rec):
    pool = rec.one(POOL)
    assert pool.parent == rec.one("webplatform:cluster:NodePool").urn
    assert pool.provider.startswith(rec.one("pulumi:providers:kubernetes").urn + "::")


def test_app_share_is_the_limits_minus_the_reserve():
    args = NodePoolArgs(cpu_limit="8", memory_limit="32Gi", reserved_cpu="1500m")
    assert args.app_share() == (Decimal("6.5"), Decimal(28 * 2**30))


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        ({"cpu_limit": "lots"}, ("cpu_limit",), "is not a CPU quantity"),
        ({"cpu_limit": 16}, ("cpu_limit",), "valid string"),
        ({"memory_limit": "64GB"}, ("memory_limit",), "is not a memory quantity"),
        ({"reserved_cpu": "16"}, ("reserved_cpu",), "leaves nothing of cpuLimit 16"),
        ({"reserved_memory": "64Gi"}, ("reserved_memory",), "leaves nothing of memoryLimit"),
        ({"instance_categories": ["x"]}, ("instance_categories", 0), "Input should be"),
        ({"min_instance_generation": 4}, ("min_instance_generation",), "greater than or equal"),
        ({"architectures": ["riscv"]}, ("architectures", 0), "'amd64' or 'arm64'"),
        ({"name": "Apps"}, ("name",), "DNS label"),
        ({"instanceTypes": ["m6i.large"]}, ("instanceTypes",), "Extra inputs"),
    ],
)
def test_bad_args(overrides, where, message):
    with pytest.raises(ValidationError) as raised:
        NodePoolArgs(**{"cpu_limit": "16", "memory_limit": "64Gi", **overrides})
    error = raised.value.errors()[0]
    ctx = (error.get("ctx") or {}).get("error")
    assert tuple(error["loc"]) + tuple(getattr(ctx, "loc", ())) == where
    assert message in (str(ctx) if ctx is not None else error["msg"])


# --- what the apps ask of the pool at their peak (WebAppSpec.peak, NodePoolArgs.check_fits) ---

_REQUESTS = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "1", "memory": "1Gi"},
}


def _app(**overrides):
    from webplatform import WebAppSpec

    return WebAppSpec.model_validate(
        {"image": "ghcr.io/acme/web:1.0.0", "port": 8080, "resources": _REQUESTS, **overrides}
    )


def test_a_rolling_app_peaks_at_its_maximum_plus_surge_plus_a_drain():
    # 10 at the autoscaler's maximum, surge 25% of 10 rounded up = 3, budget lets 1 go
    app = _app(
        replicas=3,
        autoscaling={"maxReplicas": 10},
        rollingUpdate={"maxSurge": "25%"},
        disruptionBudget={"maxUnavailable": 1},
    )
    peak = app.peak()
    assert peak.pods == 14
    assert peak.cpu == Decimal("3.5") and peak.memory == 14 * 512 * 2**20
    assert "maxReplicas 10 + surge 3 + 1 evicted at once" in peak.why


def test_a_blue_green_app_counts_both_colours_and_a_budget_per_running_colour():
    colours = {
        "activeColor": "blue",
        "blue": {"image": "ghcr.io/acme/web:1.0.0"},
        "green": {"image": "ghcr.io/acme/web:1.1.0", "replicas": 0},
    }
    app = _app(
        image=None,
        strategy="blueGreen",
        blueGreen=colours,
        replicas=4,
        disruptionBudget={"minAvailable": "50%"},
    )
    # blue 4 + green 0; green runs nothing, so only blue's budget evicts: 4 - ceil(50% of 4) = 2
    assert app.peak().pods == 6
    assert "blue 4 + green 0" in app.peak().why and "blue 2 evicted" in app.peak().why


def test_an_argo_app_counts_two_replica_sets():
    app = _app(
        replicas=2,
        strategy="argoCanary",
        argo={"analysis": {"prometheusAddress": "http://prometheus.monitoring:9090"}},
    )
    assert app.peak().pods == 4


def test_the_pool_refuses_apps_whose_peaks_exceed_its_share():
    pool = NodePoolArgs(cpu_limit="6", memory_limit="64Gi")  # 4 cores for the apps
    fits = {"web": _app(replicas=7).peak()}  # 7 + surge 1 = 8 x 250m = 2 cores
    pool.check_fits(fits)
    with pytest.raises(ValueError) as error:
        pool.check_fits({**fits, "api": _app(replicas=9).peak()})  # + 10 x 250m = 4.5 cores
    assert error.value.loc == ("cpu_limit",)
    assert "leaves 4 for the apps" in str(error.value) and "request 4.5 cores" in str(error.value)
    assert "api: 10 pods (replicas 9 + surge 1" in str(error.value)
    small = NodePoolArgs(cpu_limit="64", memory_limit="8Gi")  # 4Gi for the apps
    with pytest.raises(ValueError) as error:
        small.check_fits({"web": _app(replicas=9).peak()})  # 10 x 512Mi = 5Gi
    assert error.value.loc == ("memory_limit",) and "request 5Gi" in str(error.value)

import pytest

from webplatform import Autoscaler, AutoscalerArgs, Autoscaling, ScaleTarget, testing
from webplatform.guardrails.autoscaling import (
    FAST_SCALE_UP,
    SLOW_SCALE_DOWN,
    ScalingPolicy,
    ScalingRules,
)

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
REQUESTS = {"cpu": "250m", "memory": "256Mi"}


def hpa(target=None, **scaling):
    numbers = {"min_replicas": 3, "max_replicas": 10, **scaling}
    args = AutoscalerArgs(
        app="web",
        namespace="ns",
        target=target or ScaleTarget.deployment("web"),
        requests=REQUESTS,
        autoscaling=Autoscaling(**numbers),
    )
    return testing.run(lambda: Autoscaler("web", args)).one(HPA)


def test_reference_numbers_are_the_defaults():
    spec = hpa().inputs["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 10)
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        },
        {
            "type": "Resource",
            "resource": {
                "name": "memory",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        },
    ]
    assert spec["behavior"] == {
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 15},
                {"type": "Pods", "value": 4, "periodSeconds": 15},
            ],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}],
        },
    }


def test_target_is_a_reference_so_a_rollout_or_a_colour_can_be_scaled():
    spec = hpa(target=ScaleTarget.rollout("web-green")).inputs["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "web-green",
    }


def test_a_metric_can_be_left_out():
    spec = hpa(memory_utilization=None).inputs["spec"]
    assert [m["resource"]["name"] for m in spec["metrics"]] == ["cpu"]


def test_hpa_is_a_child_named_after_the_component():
    rec = testing.run(
        lambda: Autoscaler(
            "web",
            AutoscalerArgs(
                app="web",
                namespace="ns",
                target=ScaleTarget.deployment("web"),
                requests=REQUESTS,
                autoscaling=Autoscaling(min_replicas=1, max_replicas=2),
            ),
        )
    )
    component = rec.one("webplatform:autoscaling:Autoscaler")
    assert rec.one(HPA).parent == component.urn and rec.one(HPA).name == "web-hpa"
    assert component.outputs == {"hpa_name": "web"}


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        ({"min_replicas": 5, "max_replicas": 3}, "min_replicas=5 exceeds max_replicas=3"),
        ({"min_replicas": 0, "max_replicas": 3}, "min_replicas=0: must be a whole number"),
        ({"min_replicas": 1, "max_replicas": 3, "cpu_utilization": 0}, "cpu_utilization=0"),
        ({"min_replicas": 1, "max_replicas": 3, "memory_utilization": 101}, "from 1 to 100"),
        (
            {
                "min_replicas": 1,
                "max_replicas": 3,
                "cpu_utilization": None,
                "memory_utilization": None,
            },
            "needs a metric",
        ),
    ],
)
def test_bad_numbers_are_rejected(numbers, message):
    with pytest.raises(ValueError, match=message):
        Autoscaling(**numbers)


def test_each_metric_in_use_needs_a_request():
    with pytest.raises(ValueError, match="no memory request, but memory_utilization is set"):
        AutoscalerArgs(
            app="web",
            namespace="ns",
            target=ScaleTarget.deployment("web"),
            requests={"cpu": "250m"},
            autoscaling=Autoscaling(min_replicas=1, max_replicas=3),
        )
    with pytest.raises(ValueError, match=r"requests\['cpu'\]"):
        AutoscalerArgs(
            app="web",
            namespace="ns",
            target=ScaleTarget.deployment("web"),
            requests={"cpu": "lots", "memory": "1Gi"},
            autoscaling=Autoscaling(min_replicas=1, max_replicas=3),
        )


def test_behaviour_rules_are_validated():
    with pytest.raises(ValueError, match="period_seconds=0"):
        ScalingPolicy(type="Pods", value=1, period_seconds=0)
    with pytest.raises(ValueError, match="period_seconds=1801"):
        ScalingPolicy(type="Pods", value=1, period_seconds=1801)
    with pytest.raises(ValueError, match="stabilization_window_seconds=3601"):
        ScalingRules(stabilization_window_seconds=3601, policies=FAST_SCALE_UP.policies)
    with pytest.raises(ValueError, match="at least one is required"):
        ScalingRules(stabilization_window_seconds=0, policies=())
    disabled = ScalingRules(stabilization_window_seconds=0, policies=(), select_policy="Disabled")
    assert disabled.to_k8s().select_policy == "Disabled"
    assert SLOW_SCALE_DOWN.stabilization_window_seconds == 300

import pytest

from tests.model_errors import rejects
from webplatform import Autoscaler, AutoscalerArgs, Autoscaling, Requests, ScaleTarget, testing
from webplatform.guardrails.autoscaling import (
    FAST_SCALE_UP,
    SLOW_SCALE_DOWN,
    ScalingPolicy,
    ScalingRules,
)

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
REQUESTS = Requests(cpu="250m", memory="256Mi")


def hpa(target=None, min_replicas=3, **scaling):
    numbers = {"max_replicas": 10, **scaling}
    args = AutoscalerArgs(
        app="web",
        namespace="ns",
        target=target or ScaleTarget.deployment("web"),
        requests=REQUESTS,
        min_replicas=min_replicas,
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
                min_replicas=1,
                autoscaling=Autoscaling(max_replicas=2),
            ),
        )
    )
    component = rec.one("webplatform:autoscaling:Autoscaler")
    assert rec.one(HPA).parent == component.urn and rec.one(HPA).name == "web-hpa"
    assert component.outputs == {"hpa_name": "web"}


ARGS = {
    "app": "web",
    "namespace": "ns",
    "target": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
    "requests": {"cpu": "250m", "memory": "256Mi"},
    "minReplicas": 1,
    "autoscaling": {"maxReplicas": 3},
}


@pytest.mark.parametrize(
    ("numbers", "path", "message"),
    [
        ({"maxReplicas": 0}, "autoscaling.maxReplicas", "greater than or equal to 1"),
        ({"maxReplicas": "3"}, "autoscaling.maxReplicas", "valid integer"),
        ({"maxReplicas": 3.0}, "autoscaling.maxReplicas", "valid integer"),
        ({"maxReplicas": 1001}, "autoscaling.maxReplicas", "less than or equal to 1000"),
        (
            {"maxReplicas": 3, "cpuUtilization": 0},
            "autoscaling.cpuUtilization",
            "greater than or equal to 1",
        ),
        (
            {"maxReplicas": 3, "memoryUtilization": 101},
            "autoscaling.memoryUtilization",
            "less than or equal to 100",
        ),
        (
            {"maxReplicas": 3, "cpuUtilization": None, "memoryUtilization": None},
            "autoscaling.cpuUtilization",
            "needs a metric",
        ),
        ({"maxReplicas": 3, "minReplicas": 1}, "autoscaling.minReplicas", "Extra inputs"),
        (
            {"maxReplicas": 3, "scaleUp": {"stabilizationWindowSeconds": 3601, "policies": []}},
            "autoscaling.scaleUp.stabilizationWindowSeconds",
            "less than or equal to 3600",
        ),
        (
            {"maxReplicas": 3, "scaleUp": {"stabilizationWindowSeconds": 0}},
            "autoscaling.scaleUp.policies",
            "at least one is required",
        ),
        (
            {
                "maxReplicas": 3,
                "scaleDown": {
                    "stabilizationWindowSeconds": 0,
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 0}],
                },
            },
            "autoscaling.scaleDown.policies.0.periodSeconds",
            "greater than or equal to 1",
        ),
        (
            {
                "maxReplicas": 3,
                "scaleDown": {
                    "stabilizationWindowSeconds": 0,
                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 1801}],
                },
            },
            "autoscaling.scaleDown.policies.0.periodSeconds",
            "less than or equal to 1800",
        ),
        (
            {
                "maxReplicas": 3,
                "scaleDown": {
                    "stabilizationWindowSeconds": 0,
                    "policies": [{"type": "Pod", "value": 1, "periodSeconds": 1}],
                },
            },
            "autoscaling.scaleDown.policies.0.type",
            "'Pods' or 'Percent'",
        ),
        (
            {
                "maxReplicas": 3,
                "scaleDown": {
                    "stabilizationWindowSeconds": 0,
                    "policies": [{"type": "Pods", "value": 0, "periodSeconds": 1}],
                },
            },
            "autoscaling.scaleDown.policies.0.value",
            "greater than or equal to 1",
        ),
        (
            {
                "maxReplicas": 3,
                "scaleDown": {
                    "stabilizationWindowSeconds": 0,
                    "selectPolicy": "Most",
                    "policies": [],
                },
            },
            "autoscaling.scaleDown.selectPolicy",
            "'Max', 'Min' or 'Disabled'",
        ),
    ],
)
def test_bad_numbers_are_rejected(numbers, path, message):
    rejects(AutoscalerArgs, {**ARGS, "autoscaling": numbers}, path, message)


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"minReplicas": 5}, "autoscaling.maxReplicas", "below minReplicas"),
        ({"minReplicas": 0}, "minReplicas", "greater than or equal to 1"),
        ({"requests": {"cpu": "250m"}}, "requests.memory", "memoryUtilization is a percentage"),
        ({"requests": {"memory": "1Gi"}}, "requests.cpu", "cpuUtilization is a percentage"),
        ({"requests": {"cpu": "lots", "memory": "1Gi"}}, "requests.cpu", "not a CPU quantity"),
        (
            {"target": {"apiVersion": "", "kind": "Deployment", "name": "web"}},
            "target.apiVersion",
            "at least 1 character",
        ),
        ({"hpaName": "Web"}, "hpaName", "pattern"),
    ],
)
def test_bad_args_are_rejected(overrides, path, message):
    rejects(AutoscalerArgs, {**ARGS, **overrides}, path, message)


def test_a_metric_without_a_request_is_fine_when_not_in_use():
    args = AutoscalerArgs.model_validate(
        {
            **ARGS,
            "requests": {"cpu": "1"},
            "autoscaling": {"maxReplicas": 3, "memoryUtilization": None},
        },
        by_name=False,
    )
    assert args.autoscaling.metrics == {"cpu": 70}


def test_behaviour_rules_are_validated():
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        ScalingPolicy(type="Pods", value=1, period_seconds=0)
    with pytest.raises(ValueError, match="less than or equal to 1800"):
        ScalingPolicy(type="Pods", value=1, period_seconds=1801)
    with pytest.raises(ValueError, match="less than or equal to 3600"):
        ScalingRules(stabilization_window_seconds=3601, policies=FAST_SCALE_UP.policies)
    with pytest.raises(ValueError, match="at least one is required"):
        ScalingRules(stabilization_window_seconds=0, policies=())
    disabled = ScalingRules(stabilization_window_seconds=0, policies=(), select_policy="Disabled")
    assert disabled.to_k8s().select_policy == "Disabled"
    assert SLOW_SCALE_DOWN.stabilization_window_seconds == 300

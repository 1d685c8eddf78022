import pytest

from tests.model_errors import rejects
from webplatform import DisruptionBudget, DisruptionBudgetArgs, DisruptionPolicy, testing

PDB = "kubernetes:policy/v1:PodDisruptionBudget"
PODS = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}


def budget(**overrides):
    args = DisruptionBudgetArgs(**{"app": "web", "namespace": "ns", "selector": PODS, **overrides})
    return testing.run(lambda: DisruptionBudget("web", args)).one(PDB).inputs["spec"]


def test_reference_004_min_available_two_of_three():
    spec = budget(policy=DisruptionPolicy(min_available=2), replicas=3)
    assert spec["minAvailable"] == 2 and "maxUnavailable" not in spec
    assert spec["selector"] == {"matchLabels": PODS}
    assert spec["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_default_is_one_pod_at_a_time():
    spec = budget()
    assert spec["maxUnavailable"] == 1 and "minAvailable" not in spec


@pytest.mark.parametrize(
    ("policy", "replicas", "message"),
    [
        (DisruptionPolicy(min_available=3), 3, "block every voluntary eviction"),
        (DisruptionPolicy(min_available=2), 2, "block every voluntary eviction"),
        (DisruptionPolicy(min_available="100%"), 4, "block every voluntary eviction"),
        # 67 % of 3 rounds up to 3: all of them.
        (DisruptionPolicy(min_available="67%"), 3, "block every voluntary eviction"),
        (DisruptionPolicy(min_available=1), None, "needs replicas"),
    ],
)
def test_budgets_that_block_every_drain_are_rejected(policy, replicas, message):
    with pytest.raises(ValueError, match=message):
        DisruptionBudgetArgs(
            app="web", namespace="ns", selector=PODS, policy=policy, replicas=replicas
        )


def test_a_percentage_that_leaves_room_is_accepted():
    assert budget(policy=DisruptionPolicy(min_available="50%"), replicas=3)["minAvailable"] == "50%"


@pytest.mark.parametrize(
    ("policy", "path", "message"),
    [
        ({"minAvailable": 1, "maxUnavailable": 1}, "maxUnavailable", "not both"),
        ({"maxUnavailable": 0}, "maxUnavailable", "0 blocks every voluntary eviction"),
        ({"maxUnavailable": "0%"}, "maxUnavailable", "0 blocks every voluntary eviction"),
        ({"minAvailable": "150%"}, "minAvailable", "at most 100%"),
        ({"minAvailable": "50"}, "minAvailable", "percentage string"),
        ({"minAvailable": -1}, "minAvailable", "whole number of pods >= 0"),
        ({"minAvailable": 1.0}, "minAvailable", "whole number of pods >= 0"),
        ({"maxUnavailable": True}, "maxUnavailable", "whole number of pods >= 0"),
        ({"min_available": 1}, "min_available", "Extra inputs"),
    ],
)
def test_bad_policies_are_rejected(policy, path, message):
    rejects(DisruptionPolicy, policy, path, message)


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"selector": {}}, "selector", "at least 1 item"),
        ({"policy": {"minAvailable": 3}, "replicas": 3}, "policy.minAvailable", "would keep all 3"),
        ({"policy": {"minAvailable": 1}}, "policy.minAvailable", "needs replicas"),
        ({"replicas": 0}, "replicas", "greater than or equal to 1"),
        (
            {"unhealthyPodEvictionPolicy": "Never"},
            "unhealthyPodEvictionPolicy",
            "'AlwaysAllow' or 'IfHealthyBudget'",
        ),
        ({"budgetName": "Web"}, "budgetName", "pattern"),
    ],
)
def test_bad_budgets_are_rejected(overrides, path, message):
    rejects(
        DisruptionBudgetArgs,
        {"app": "web", "namespace": "ns", "selector": PODS, **overrides},
        path,
        message,
    )

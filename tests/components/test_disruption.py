import pytest

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
    ("kwargs", "message"),
    [
        ({"min_available": 1, "max_unavailable": 1}, "not both"),
        ({"max_unavailable": 0}, "0 blocks every voluntary eviction"),
        ({"max_unavailable": "0%"}, "0 blocks every voluntary eviction"),
        ({"min_available": "150%"}, "percentage"),
        ({"min_available": -1}, "must not be negative"),
    ],
)
def test_bad_policies_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DisruptionPolicy(**kwargs)


def test_an_empty_selector_is_rejected():
    with pytest.raises(ValueError, match="selector: must not be empty"):
        DisruptionBudgetArgs(app="web", namespace="ns", selector={})

import pytest

from tests.model_errors import rejects
from webplatform import Namespace, NamespaceArgs, testing

NS = "kubernetes:core/v1:Namespace"


def test_namespace_enforces_restricted_pod_security_in_all_three_modes():
    rec = testing.run(lambda: Namespace("team", NamespaceArgs(name="team-a")))
    labels = rec.one(NS).inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"
    assert rec.one(NS).inputs["metadata"]["name"] == "team-a"


def test_namespace_child_is_parented_and_named_from_the_instance():
    rec = testing.run(lambda: Namespace("team", NamespaceArgs(name="team-a")))
    component = rec.one("webplatform:namespace:Namespace")
    child = rec.one(NS)
    assert child.name == "team-namespace"
    assert child.parent == component.urn
    assert "webplatform:namespace:Namespace$kubernetes:core/v1:Namespace" in child.urn
    assert component.outputs == {"name": "team-a"}


def test_extra_labels_cannot_weaken_pod_security():
    with pytest.raises(ValueError, match="override the Pod Security labels"):
        NamespaceArgs(name="x", labels={"pod-security.kubernetes.io/enforce": "privileged"})


@pytest.mark.parametrize("name", ["Team", "team_a", "-team", "a" * 64, ""])
def test_namespace_name_must_be_a_dns_label(name):
    rejects(NamespaceArgs, {"name": name}, "name", "pattern" if len(name) < 64 else "at most 63")


def test_unknown_level_is_rejected_with_the_allowed_values():
    rejects(
        NamespaceArgs,
        {"name": "x", "enforce": "strict"},
        "enforce",
        "'privileged', 'baseline' or 'restricted'",
    )

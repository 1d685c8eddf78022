"""The review sandbox: what the trusted job makes, and that the review stack fits inside it.

The review stack (pull-request code) may write only namespaced kinds in its own
namespace (a RoleBinding of :data:`infra.review.REVIEW_ROLE` to the review group); the
trusted job from the default branch makes the namespace with restricted Pod Security, the
binding, a quota and the Gateway. These tests check both halves against each other, so
neither can drift: every object the review stack renders is writable by the role, and
every route attaches to a listener of the trusted Gateway. The local control plane proves
the refusals (tests/e2e/test_review_sandbox.py).
"""

from __future__ import annotations

import json
import shutil

import pytest

from infra import review, synth
from tests.conftest import ROOT

#: What RBAC must never give a review identity: the namespace itself (its Pod Security
#: labels), RBAC objects (escalation), execution in pods, and anything cluster-scoped.
FORBIDDEN = {
    "namespaces",
    "roles",
    "rolebindings",
    "clusterroles",
    "clusterrolebindings",
    "pods/exec",
    "pods/attach",
    "pods/portforward",
    "serviceaccounts/token",
    "nodes",
    "persistentvolumes",
    "customresourcedefinitions",
    "validatingadmissionpolicies",
    "gateways",
    "*",
}


@pytest.fixture(scope="module")
def objects():
    return {(o["kind"], o["metadata"]["name"]): o for o in review.sandbox(7)}


@pytest.fixture(scope="module")
def review_stack(tmp_path_factory):
    work = tmp_path_factory.mktemp("review")
    copy = work / "Pulumi.dev-pr-7.yaml"
    shutil.copy(ROOT / "Pulumi.dev.yaml", copy)
    return synth.synthesize("dev-pr-7", copy).kubernetes_objects()


def test_the_namespace_enforces_restricted_pod_security(objects):
    labels = objects["Namespace", "dev-pr-7"]["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert labels["webplatform.io/review"] == "true"


def test_the_review_group_is_bound_in_its_namespace_only(objects):
    binding = objects["RoleBinding", "webplatform-review"]
    assert binding["metadata"]["namespace"] == "dev-pr-7"
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "webplatform:review"}
    ]
    assert binding["roleRef"]["name"] == "webplatform-review"
    assert not [k for k in objects if k[0] == "ClusterRoleBinding"]


def test_the_role_grants_nothing_that_escapes_the_namespace(objects):
    rules = objects["ClusterRole", "webplatform-review"]["rules"]
    granted = {r for rule in rules for r in rule["resources"]}
    assert not granted & FORBIDDEN
    verbs = {v for rule in rules for v in rule["verbs"]}
    assert not verbs & {"*", "escalate", "bind", "impersonate", "deletecollection"}


def _plural(kind: str) -> str:
    lower = kind.lower()
    return lower[:-1] + "ies" if lower.endswith("y") else lower + "s"


def test_every_object_of_the_review_stack_is_writable_by_the_role(objects, review_stack):
    rules = objects["ClusterRole", "webplatform-review"]["rules"]
    writable = {
        (group, resource)
        for rule in rules
        if "create" in rule["verbs"] and "patch" in rule["verbs"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    needed = {(o["apiVersion"].rpartition("/")[0], _plural(o["kind"])) for o in review_stack}
    assert needed and needed <= writable, needed - writable


def test_every_route_attaches_to_a_listener_of_the_trusted_gateway(objects, review_stack):
    gateway = objects["Gateway", "dev-pr-7"]
    assert gateway["metadata"]["namespace"] == "envoy-gateway-system"
    listeners = {listener["name"]: listener for listener in gateway["spec"]["listeners"]}
    routes = [o for o in review_stack if o["kind"] == "HTTPRoute"]
    assert routes
    for route in routes:
        for parent in route["spec"]["parentRefs"]:
            assert (parent["namespace"], parent["name"]) == ("envoy-gateway-system", "dev-pr-7")
            listener = listeners[parent["sectionName"]]
            (selector,) = listener["allowedRoutes"]["namespaces"]["selector"]["matchExpressions"]
            assert "dev-pr-7" in selector["values"]
            assert listener["hostname"] in route["spec"]["hostnames"]
            assert listener["hostname"].endswith(".review.example.net")


def test_the_quota_bounds_the_sandbox_and_forbids_load_balancers(objects):
    hard = objects["ResourceQuota", "review"]["spec"]["hard"]
    assert hard["services.loadbalancers"] == "0" and hard["services.nodeports"] == "0"
    assert {"pods", "requests.cpu", "limits.memory"} <= set(hard)


def test_the_workflow_reads_the_sandbox_as_one_list(capsys):
    assert review.main(["sandbox", "12"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "List"
    assert ("Namespace", "dev-pr-12") in {
        (o["kind"], o["metadata"]["name"]) for o in document["items"]
    }

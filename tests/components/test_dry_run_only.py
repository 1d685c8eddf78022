"""The preview group's confinement, as registered (the local control plane proves it refuses:
tests/e2e/test_dry_run_only.py)."""

import pytest
from pydantic import ValidationError

from webplatform import testing
from webplatform.guardrails.dry_run_only import (
    WRITE_VERBS,
    DryRunOnly,
    DryRunOnlyArgs,
    dry_run_policy,
)

VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"


@pytest.fixture(scope="module")
def rec():
    return testing.run(lambda: DryRunOnly("preview", DryRunOnlyArgs()))


def test_every_write_of_the_group_must_be_a_dry_run(rec):
    spec = rec.one(VAP).inputs["spec"]
    assert spec == dry_run_policy("webplatform:preview")
    (rule,) = spec["matchConstraints"]["resourceRules"]
    assert set(rule["operations"]) == {"CREATE", "UPDATE", "DELETE", "CONNECT"}
    # Resources and subresources (exec, scale, status); the real API server rejects
    # ["*", "*/*"] ("if '*/*' is present, must not specify other resources"), mocks do not.
    assert rule["resources"] == ["*/*"]
    assert spec["failurePolicy"] == "Fail"
    (condition,) = spec["matchConditions"]
    assert condition["expression"] == (
        'request.userInfo.groups.exists(g, g == "webplatform:preview")'
    )
    (validation,) = spec["validations"]
    assert validation["expression"] == "has(request.dryRun) && request.dryRun == true"


def test_the_binding_denies_and_names_the_policy(rec):
    spec = rec.one(BINDING).inputs["spec"]
    assert spec == {
        "policyName": "webplatform-preview-dry-run-only",
        "validationActions": ["Deny"],
    }


def test_the_group_gets_reads_and_dry_run_writes_but_nothing_that_bypasses_admission(rec):
    (rule,) = rec.one(ROLE).inputs["rules"]
    assert set(rule["verbs"]) == {"get", "list", "watch", *WRITE_VERBS}
    assert not {"impersonate", "escalate", "bind", "approve", "*"} & set(rule["verbs"])
    binding = rec.one(ROLE_BINDING).inputs
    assert binding["subjects"] == [
        {"kind": "Group", "name": "webplatform:preview", "apiGroup": "rbac.authorization.k8s.io"}
    ]
    assert binding["roleRef"]["name"] == "webplatform-preview-dry-run-only"


def test_rbac_waits_for_the_policy_binding(rec):
    binding = rec.one(BINDING).urn
    assert binding in rec.one(ROLE).dependencies
    assert binding in rec.one(ROLE_BINDING).dependencies


@pytest.mark.parametrize("group", ["system:masters", "eks:admins", "Preview", ""])
def test_a_reserved_or_malformed_group_is_refused(group):
    with pytest.raises(ValidationError, match="Kubernetes group name"):
        DryRunOnlyArgs(group=group)


def test_the_scanner_exceptions_sit_on_the_role_alone_with_their_reason(rec):
    annotations = rec.one(ROLE).inputs["metadata"]["annotations"]
    assert {v.split("=")[0] for v in annotations.values()} == {"CKV_K8S_49", "CKV_K8S_155"}
    assert all("refused at admission" in v or "same policy" in v for v in annotations.values())
    for other in (VAP, BINDING, ROLE_BINDING):
        assert "annotations" not in rec.one(other).inputs["metadata"]

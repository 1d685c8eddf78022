"""Issue 20 in the stacks: who may do what on each cluster, key and secret, as synthesized.

Component behaviour is tested in tests/components; here the stack files' settings and
the program's wiring: one CI role per environment, the preview group's confinement on
every cluster the stacks build, a boundary and a break-glass role required in
production, secret policies naming the real consumer, 443 never into the cluster.
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from infra.config import StackConfigError
from tests.conftest import load_stack_file, synthesized
from tests.infra.test_bad_cluster_stacks import apps_config, parse_stack

EKS_STACKS = ("staging", "uat", "prod")
VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"


@pytest.fixture(scope="module")
def prod():
    return synthesized("prod")


def test_every_cluster_stack_has_its_own_ci_and_preview_roles():
    roles = {}
    for stack in EKS_STACKS:
        access = load_stack_file(stack)["config"]["webplatform:cluster"]["access"]
        roles[stack] = (access["ciRoleArn"], access["previewRoleArn"])
    ci = [r[0] for r in roles.values()]
    assert len(set(ci)) == len(ci), roles
    assert all(stack in arn for stack, (arn, _) in roles.items())


def test_a_ci_role_shared_with_another_stack_file_is_refused_at_parse():
    config = apps_config("staging")
    prod_ci = load_stack_file("prod")["config"]["webplatform:cluster"]["access"]["ciRoleArn"]
    config["webplatform:cluster"]["access"]["ciRoleArn"] = prod_ci
    with pytest.raises(StackConfigError) as raised:
        parse_stack("staging", config, secret_keys={"webplatform:webDatabaseUrl"})
    ((key, message),) = [p for p in raised.value.problems if "ciRoleArn" in p[0]]
    assert key == "webplatform:cluster.access.ciRoleArn"
    assert "also the CI role of Pulumi.prod.yaml" in message
    assert "Pulumi.staging.yaml" in str(raised.value)


@pytest.mark.parametrize(
    ("remove", "key", "message"),
    [
        (
            ("webplatform:cluster", "access", "permissionsBoundaryArn"),
            "webplatform:cluster.access.permissionsBoundaryArn",
            "required in production",
        ),
        (
            ("webplatform:secrets", "breakGlassRoleArn"),
            "webplatform:secrets.breakGlassRoleArn",
            "required in production",
        ),
    ],
)
def test_production_requires_a_boundary_and_a_break_glass_role(remove, key, message):
    config = apps_config("prod")
    *path, last = remove
    target = config
    for part in path:
        target = target[part]
    del target[last]
    with pytest.raises(StackConfigError) as raised:
        parse_stack("prod", config)
    assert any(k == key and message in m for k, m in raised.value.problems), raised.value.problems


@pytest.mark.parametrize(
    ("path", "value", "key", "allowed"),
    [
        (("access", "ciScope"), "admin", "webplatform:cluster.access.ciScope", "'namespaces' or"),
        (
            ("access", "previewGroup"),
            "system:masters",
            "webplatform:cluster.access.previewGroup",
            "reserved",
        ),
        (
            ("access", "previewRoleArn"),
            "webplatform-preview",
            "webplatform:cluster.access.previewRoleArn",
            "IAM role ARN",
        ),
    ],
)
def test_bad_access_keys_name_the_file_the_key_and_what_is_allowed(path, value, key, allowed):
    config = apps_config("prod")
    config["webplatform:cluster"][path[0]][path[1]] = value
    with pytest.raises(StackConfigError) as raised:
        parse_stack("prod", config)
    text = str(raised.value)
    assert "Pulumi.prod.yaml" in text and key in text and allowed in text, text


def test_the_preview_group_is_confined_on_every_cluster_the_stacks_build(prod):
    rec = prod.recording
    assert (
        rec.one(VAP)
        .inputs["spec"]["matchConditions"][0]["expression"]
        .endswith('"webplatform:preview")')
    )
    assert rec.one(BINDING).inputs["spec"]["validationActions"] == ["Deny"]
    entries = {
        e.inputs["principalArn"]: e.inputs for e in rec.by_type("aws:eks/accessEntry:AccessEntry")
    }
    preview = "arn:aws:iam::111122223333:role/webplatform-preview-prod"
    assert entries[preview]["kubernetesGroups"] == ["webplatform:preview"]
    associated = {
        a.inputs["principalArn"]
        for a in rec.by_type("aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    }
    assert preview not in associated


def test_prods_roles_carry_the_boundary(prod):
    roles = prod.recording.by_type("aws:iam/role:Role")
    assert roles and {r.inputs.get("permissionsBoundary") for r in roles} == {
        "arn:aws:iam::111122223333:policy/webplatform-boundary"
    }


def test_prods_secret_is_read_only_by_the_operator_role_and_break_glass(prod):
    rec = prod.recording
    (policy,) = rec.by_type("aws:secretsmanager/secretPolicy:SecretPolicy")
    document = json.loads(policy.inputs["policy"])
    deny = next(s for s in document["Statement"] if s["Sid"] == "DenyReadsByAnyoneElse")
    readers = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert "arn:aws:iam::111122223333:role/break-glass" in readers
    (role,) = [r for r in rec.by_type("aws:iam/role:Role") if "external-secrets" in r.name]
    assert len(readers) == 2 and any(role.name in r for r in readers)
    key = json.loads(rec.one("aws:kms/key:Key", "web-secrets-key").inputs["policy"])
    admin = next(s for s in key["Statement"] if s["Sid"] == "AdministerKey")
    assert admin["Principal"]["AWS"] == [
        "arn:aws:iam::111122223333:role/platform-admin",
        "arn:aws:iam::111122223333:role/webplatform-deploy-prod",
    ]


def test_prods_apps_reach_443_but_not_their_vpc_services_or_metadata(prod):
    policies = prod.recording.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    blocks = [
        peer["ipBlock"]
        for p in policies
        for rule in p.inputs["spec"].get("egress", [])
        if {"port": 443, "protocol": "TCP"} in rule.get("ports", [])
        for peer in rule["to"]
        if "ipBlock" in peer
    ]
    assert blocks
    for block in blocks:
        for address in ("169.254.169.254", "10.30.0.10", "172.20.0.1", "10.100.0.1"):
            ip = ipaddress.ip_address(address)
            assert ip not in ipaddress.ip_network(block["cidr"]) or any(
                ip in ipaddress.ip_network(e) for e in block.get("except", [])
            ), (address, block)

"""Pod Identity: a role only EKS Pod Identity can assume, bound to one service account."""

import json
import re

import pulumi
import pytest

from webplatform import testing
from webplatform.cluster.pod_identity import PodIdentity, PodIdentityArgs

STATEMENT = {
    "Effect": "Allow",
    "Action": ["secretsmanager:GetSecretValue"],
    "Resource": "arn:aws:secretsmanager:us-west-2:123456789012:secret:web-*",
}


def build(**overrides):
    values = {
        "cluster_name": "webplatform-test",
        "namespace": "web-staging",
        "service_account": "web",
        "policy_statements": [STATEMENT],
        **overrides,
    }

    def program():
        identity = PodIdentity("web-secrets", PodIdentityArgs(**values))
        pulumi.export("role", identity.role_arn)

    return testing.run(program, stack="test")


def test_trust_policy_admits_only_eks_pod_identity_with_session_tags():
    rec = build()
    trust = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    ]


def test_the_role_gets_exactly_the_statements_and_the_association_binds_it():
    rec = build()
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy == {"Version": "2012-10-17", "Statement": [STATEMENT]}
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    assert association == {
        "clusterName": "webplatform-test",
        "namespace": "web-staging",
        "serviceAccount": "web",
        "roleArn": "arn:aws:iam::123456789012:role/web-secrets-role",
        "tags": {},
    }
    assert rec.stack_outputs["role"] == association["roleArn"]
    component = rec.one("webplatform:pod_identity:PodIdentity")
    assert all(r.parent == component.urn for r in rec.children(component))
    assert len(rec.children(component)) == 3


def test_statement_resources_may_be_outputs():
    def program():
        arn = pulumi.Output.from_input("arn:aws:secretsmanager:us-west-2:1:secret:x")
        PodIdentity(
            "p",
            PodIdentityArgs(
                cluster_name="c",
                namespace="ns",
                service_account="sa",
                policy_statements=[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": arn}],
            ),
        )

    rec = testing.run(program, stack="test")
    policy = json.loads(rec.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == "arn:aws:secretsmanager:us-west-2:1:secret:x"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"policy_statements": []}, "policy_statements=[]: give at least one"),
        ({"policy_statements": [{**STATEMENT, "Effect": "allow"}]}, "Effect='allow'"),
        ({"policy_statements": [{**STATEMENT, "Action": "*"}]}, "account administrator"),
        ({"policy_statements": [{"Effect": "Allow", "Action": "s3:*"}]}, "needs Resource"),
        ({"policy_statements": [{**STATEMENT, "Principal": "*"}]}, "has no Principal"),
        ({"namespace": "Web"}, "namespace='Web': must be a DNS label"),
        ({"service_account": "Web_SA"}, "service_account='Web_SA'"),
    ],
)
def test_bad_args(overrides, message):
    values = {
        "cluster_name": "c",
        "namespace": "ns",
        "service_account": "sa",
        "policy_statements": [STATEMENT],
        **overrides,
    }
    with pytest.raises(ValueError, match=re.escape(message)):
        PodIdentityArgs(**values)

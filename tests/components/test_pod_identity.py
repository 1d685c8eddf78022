"""Pod Identity: a role only EKS Pod Identity can assume, bound to one service account."""

import json

import pulumi
import pytest
from pydantic import ValidationError

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


def test_trust_policy_admits_only_eks_pod_identity_for_this_cluster_namespace_and_account():
    rec = build()
    trust = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Sid": "EksPodIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    # The session tags EKS Pod Identity documents; the cluster ARN names the
                    # account and region (no aws:SourceAccount: Pod Identity does not
                    # document it, and an unset key would make the role unassumable).
                    "aws:RequestTag/eks-cluster-arn": (
                        "arn:aws:eks:us-west-2:123456789012:cluster/webplatform-test"
                    ),
                    "aws:RequestTag/kubernetes-namespace": "web-staging",
                    "aws:RequestTag/kubernetes-service-account": "web",
                }
            },
        }
    ]
    assert "aws:SourceAccount" not in json.dumps(trust)


def test_trust_follows_the_account_region_and_cluster_output():
    mocks = testing.RecordingMocks(account_id="210987654321", region="eu-west-1")

    def program():
        name = pulumi.Output.from_input("other-cluster")
        PodIdentity(
            "p",
            PodIdentityArgs(
                cluster_name=name,
                namespace="ns",
                service_account="sa",
                policy_statements=[STATEMENT],
            ),
        )

    rec = testing.run(program, stack="test", mocks=mocks)
    trust = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    tags = trust["Statement"][0]["Condition"]["StringEquals"]
    assert tags["aws:RequestTag/eks-cluster-arn"] == (
        "arn:aws:eks:eu-west-1:210987654321:cluster/other-cluster"
    )


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
    ("overrides", "where", "message"),
    [
        ({"policy_statements": []}, "policy_statements", "give at least one"),
        (
            {"policy_statements": [{**STATEMENT, "Effect": "allow"}]},
            "policy_statements",
            "[0].Effect",
        ),
        (
            {"policy_statements": [{**STATEMENT, "Action": "*"}]},
            "policy_statements",
            "administrator",
        ),
        (
            {"policy_statements": [{"Effect": "Allow", "Action": "s3:*"}]},
            "policy_statements",
            "needs Resource",
        ),
        (
            {"policy_statements": [{**STATEMENT, "Principal": "*"}]},
            "policy_statements",
            "no Principal",
        ),
        ({"policy_statements": ["s3:GetObject"]}, "policy_statements", "valid dictionary"),
        ({"namespace": "Web"}, "namespace", "must be a DNS label"),
        ({"namespace": 7}, "namespace", "valid string"),
        ({"service_account": "Web_SA"}, "service_account", "Kubernetes object name"),
        ({"cluster_name": None}, "cluster_name", "valid string"),
        ({"role": "x"}, "role", "Extra inputs"),
    ],
)
def test_bad_args(overrides, where, message):
    values = {
        "cluster_name": "c",
        "namespace": "ns",
        "service_account": "sa",
        "policy_statements": [STATEMENT],
        **overrides,
    }
    with pytest.raises(ValidationError) as exc_info:
        PodIdentityArgs(**values)
    error = exc_info.value.errors()[0]
    assert error["loc"][0] == where
    assert message in error["msg"]

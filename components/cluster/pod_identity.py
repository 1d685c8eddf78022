"""AWS permissions for one Kubernetes service account, through EKS Pod Identity.

Auto Mode nodes (:mod:`webplatform.cluster.eks`) require IMDSv2 with one hop, so
pods cannot borrow the node's role. A pod that needs AWS gets its own role:
this component creates it (trusted only by the EKS Pod Identity service,
``pods.eks.amazonaws.com``, with ``sts:AssumeRole`` and ``sts:TagSession``, for
one cluster, namespace and service account: :func:`trust_policy`),
gives it exactly the policy statements passed in, and associates it with one
service account in one namespace of one cluster. Pod Identity rather than IRSA:
no OIDC provider to manage and no role ARN annotation on the service account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import pulumi
from pydantic import AfterValidator, Field

from webplatform import _validation
from webplatform._model import Args, Input
from webplatform.cluster._checks import Wired

_SERVICE_ACCOUNT = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

if TYPE_CHECKING:  # imported where used: a stack without AWS never loads pulumi_aws
    pass


def trust_policy(
    partition: str,
    region: str,
    account_id: str,
    cluster_name: str,
    namespace: str,
    service_account: str,
) -> dict[str, Any]:
    """Only EKS Pod Identity may assume the role, only for this cluster, namespace and account.

    EKS Pod Identity documents session tags as the conditions of its trust policy (it tags
    every session: "Create IAM role with trust policy required by EKS Pod Identity"); it does
    not document ``aws:SourceAccount``/``aws:SourceArn``, so they are not used (a condition
    the service does not set would make the role unassumable). ``eks-cluster-arn`` names the
    account and region too, so the role is of no use to an association in any other account
    or cluster (the confused-deputy guard), nor to another service account.
    """
    cluster_arn = f"arn:{partition}:eks:{region}:{account_id}:cluster/{cluster_name}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EksPodIdentity",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-arn": cluster_arn,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": service_account,
                    }
                },
            }
        ],
    }


def _statements(statements: Any) -> Any:
    if isinstance(statements, pulumi.Output):
        return statements  # checked by the caller who built it
    if not statements:
        raise ValueError("give at least one IAM policy statement")
    for index, statement in enumerate(statements):
        where = f"[{index}]"
        if not isinstance(statement, Mapping):
            raise ValueError(f"{where}: must be a map (an IAM policy statement)")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValueError(f"{where}.Effect: must be 'Allow' or 'Deny'")
        if "Action" not in statement and "NotAction" not in statement:
            raise ValueError(f"{where}: needs Action (or NotAction)")
        if "Resource" not in statement and "NotResource" not in statement:
            raise ValueError(f"{where}: needs Resource (or NotResource)")
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else list(actions or [])
        if statement["Effect"] == "Allow" and "*" in actions:
            raise ValueError(
                f"{where}.Action: '*' would make the pod an account administrator; "
                "list the actions it needs"
            )
        if "Principal" in statement or "NotPrincipal" in statement:
            raise ValueError(f"{where}: an identity policy statement has no Principal")
    return tuple(statements)


def _namespace(value: str) -> str:
    _validation.dns_label("namespace", value)
    return value


def _service_account(value: str) -> str:
    if not _SERVICE_ACCOUNT.match(value):
        raise ValueError(
            "must be a Kubernetes object name (lowercase letters, digits, '-' and '.')"
        )
    return value


Statements = Annotated[Wired[Sequence[Mapping[str, Any]]], AfterValidator(_statements)]


class PodIdentityArgs(Args):
    cluster_name: Input[str]
    """The EKS cluster (``EksCluster.cluster_name``: an output, so the association waits for
    the cluster); required."""
    namespace: Annotated[str, AfterValidator(_namespace)]
    """Namespace of the service account; required."""
    service_account: Annotated[str, AfterValidator(_service_account)]
    """Name of the Kubernetes service account whose pods get the role; required."""
    policy_statements: Statements
    """IAM policy statements (``{"Effect", "Action", "Resource", ...}``) the pods may use, or an
    output of them; required. ``Resource`` may hold outputs (e.g. a secret's ARN)."""
    permissions_boundary_arn: str | None = None
    """IAM managed policy ARN set as the role's permissions boundary; default none (the
    cluster's ``access.permissionsBoundaryArn`` when made by ``EksCluster.pod_identity``)."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on the role and the association; default none."""


class PodIdentity(pulumi.ComponentResource):
    """An IAM role for one service account, and its EKS Pod Identity association."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    association_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: PodIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:pod_identity:PodIdentity", name, None, opts)
        import pulumi_aws as aws

        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        trust = pulumi.Output.all(
            aws.get_partition_output(opts=invoke).partition,
            aws.get_region_output(opts=invoke).region,
            aws.get_caller_identity_output(opts=invoke).account_id,
            args.cluster_name,
        ).apply(
            lambda v: json.dumps(
                trust_policy(v[0], v[1], v[2], v[3], args.namespace, args.service_account)
            )
        )
        role = aws.iam.Role(
            f"{name}-role",
            description=f"EKS Pod Identity: {args.namespace}/{args.service_account}",
            assume_role_policy=trust,
            permissions_boundary=args.permissions_boundary_arn,
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {"Version": "2012-10-17", "Statement": args.policy_statements}
            ),
            opts=child,
        )
        association = aws.eks.PodIdentityAssociation(
            f"{name}-association",
            cluster_name=args.cluster_name,
            namespace=args.namespace,
            service_account=args.service_account,
            role_arn=role.arn,
            tags=tags,
            opts=child,
        )
        self.role_arn = role.arn
        self.role_name = role.name
        self.association_id = association.association_id
        self.register_outputs(
            {
                "role_arn": self.role_arn,
                "role_name": self.role_name,
                "association_id": self.association_id,
            }
        )

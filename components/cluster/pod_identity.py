"""AWS permissions for one Kubernetes service account, through EKS Pod Identity.

Nodes require IMDSv2 with a hop limit of 1 (:mod:`webplatform.cluster.eks`), so
pods cannot borrow the node's role. A pod that needs AWS gets its own role:
this component creates it (trusted only by the EKS Pod Identity service,
``pods.eks.amazonaws.com``, with ``sts:AssumeRole`` and ``sts:TagSession``),
gives it exactly the policy statements passed in, and associates it with one
service account in one namespace of one cluster. Pod Identity rather than IRSA:
no OIDC provider to manage and no role ARN annotation on the service account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from webplatform import _validation

_SERVICE_ACCOUNT = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

#: The trust policy: only EKS Pod Identity may assume the role (and tag the session with the
#: cluster, namespace and service account, which policies can then condition on).
TRUST_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    ],
}


def _check_statements(statements: Sequence[Mapping[str, Any]]) -> None:
    if not statements:
        raise ValueError("policy_statements=[]: give at least one IAM policy statement")
    for index, statement in enumerate(statements):
        where = f"policy_statements[{index}]"
        if not isinstance(statement, Mapping):
            raise ValueError(f"{where}: must be a map (an IAM policy statement)")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValueError(
                f"{where}.Effect={statement.get('Effect')!r}: must be 'Allow' or 'Deny'"
            )
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


@dataclass(frozen=True, kw_only=True)
class PodIdentityArgs:
    cluster_name: pulumi.Input[str]
    """The EKS cluster (e.g. ``EksCluster.cluster_name``)."""
    namespace: str
    """Namespace of the service account."""
    service_account: str
    """Name of the Kubernetes service account whose pods get the role."""
    policy_statements: Sequence[Mapping[str, Any]]
    """IAM policy statements (``{"Effect", "Action", "Resource", ...}``) the pods may use;
    required. ``Resource`` may hold outputs (e.g. a secret's ARN)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the role and the association; default none."""

    def __post_init__(self) -> None:
        _validation.dns_label("namespace", self.namespace)
        if not isinstance(self.service_account, str) or not _SERVICE_ACCOUNT.match(
            self.service_account
        ):
            raise ValueError(
                f"service_account={self.service_account!r}: must be a Kubernetes object name "
                "(lowercase letters, digits, '-' and '.')"
            )
        _check_statements(self.policy_statements)


class PodIdentity(pulumi.ComponentResource):
    """An IAM role for one service account, and its EKS Pod Identity association."""

    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    association_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: PodIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:pod_identity:PodIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        role = aws.iam.Role(
            f"{name}-role",
            description=f"EKS Pod Identity: {args.namespace}/{args.service_account}",
            assume_role_policy=json.dumps(TRUST_POLICY),
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {"Version": "2012-10-17", "Statement": list(args.policy_statements)}
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

"""A Kubernetes identity that may preview but never change anything: dry-run writes only.

Why not simply read-only: ``pulumi preview`` with server-side apply sends every
object as a *dry-run* apply (``?dryRun=All``), and the API server authorizes a
dry-run exactly like the real write (RBAC has no dry-run verb). So the preview
group needs ``create``/``patch``/``update``/``delete`` in RBAC, and the line
between "preview" and "deploy" has to be drawn at admission, where the request's
``dryRun`` flag is visible.

:class:`DryRunOnly` draws it: a ``ValidatingAdmissionPolicy``
(``admissionregistration.k8s.io/v1``, GA since Kubernetes 1.30; evaluated in the
API server, no webhook to run or to fail open) matching every mutating request of
every resource, restricted by a match condition to users in the preview group,
that admits a request only when ``request.dryRun`` is true; and its binding with
``validationActions: [Deny]`` and ``failurePolicy: Fail``. A ``kubectl apply``
(without ``--dry-run=server``), a ``kubectl delete``, an ``exec`` or a
port-forward from that group is refused with a message that names the policy.

The group's RBAC (a ClusterRole and its binding to the group) is made here too:
read everything, and the write verbs that a dry-run needs, and *no*
``impersonate``, ``escalate``, ``bind`` or ``approve`` (those act without an
admission request this policy could see). Who is in the group is the cluster's
business: on EKS an access entry with ``kubernetesGroups: [<group>]`` and no
access policy (:class:`webplatform.cluster.eks.EksCluster`).

Limits, stated: admission sees writes, not reads. The preview group can read
Secrets, because a preview with ``--refresh`` reads the objects the stack owns;
who may preview a stack therefore may read its Secrets (docs/guides/threat-model.md).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, cast

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator

from webplatform import _validation
from webplatform._labels import PART_OF
from webplatform._model import Args

__all__ = ["DryRunOnly", "DryRunOnlyArgs", "GroupName", "dry_run_policy"]

#: Verbs the group is granted: reads, and the writes a server-side dry-run is authorized as.
READ_VERBS = ("get", "list", "watch")
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
#: The role is wide on purpose (a preview dry-runs whatever the stack applies; RBAC has no
#: dry-run verb), so the scanner's findings on it are accepted here, on this object only.
SCANNER_EXCEPTIONS = {
    "checkov.io/skip1": "CKV_K8S_49=wildcards: every write of the group is refused at admission "
    "unless it is a dry-run (the ValidatingAdmissionPolicy of the same name)",
    "checkov.io/skip2": "CKV_K8S_155=admission configurations: same policy; the group cannot "
    "change them for real, and the policy and its binding exist before this role",
}
_GROUP = re.compile(r"^[a-z0-9]([a-z0-9:._-]{0,61}[a-z0-9])?$")


def _group(value: str) -> str:
    if not _GROUP.match(value) or value.startswith("system:") or value.startswith("eks:"):
        raise ValueError(
            "must be a Kubernetes group name of lowercase letters, digits and ':._-' "
            "(at most 63), not starting with 'system:' or 'eks:' (reserved)"
        )
    return value


def _object_name(value: str) -> str:
    _validation.dns_label("name", value)
    return value


#: A Kubernetes group name a stack may give an identity (not ``system:``/``eks:``).
GroupName = Annotated[str, AfterValidator(_group)]


class DryRunOnlyArgs(Args):
    """The preview group and the names of the objects that confine it."""

    group: GroupName = "webplatform:preview"
    """Kubernetes group of the preview identity; default ``webplatform:preview`` (the EKS
    access entry of the preview role puts it there)."""
    name: Annotated[str, AfterValidator(_object_name)] = "webplatform-preview-dry-run-only"
    """Name of the policy, its binding, the ClusterRole and its binding; default
    ``webplatform-preview-dry-run-only``."""


def dry_run_policy(group: str) -> dict[str, Any]:
    """The ``ValidatingAdmissionPolicy`` spec: every write of ``group`` must be a dry-run.

    A plain dict so tests (and the local control plane) see exactly what is applied.
    """
    return {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "resourceRules": [
                {
                    "apiGroups": ["*"],
                    "apiVersions": ["*"],
                    "operations": ["CREATE", "UPDATE", "DELETE", "CONNECT"],
                    # Every resource and every subresource (exec, scale, status...). The API
                    # server refuses "*" next to "*/*" (seen on the local control plane).
                    "resources": ["*/*"],
                    "scope": "*",
                }
            ]
        },
        # Only requests from the group are evaluated: everyone else is not this policy's.
        "matchConditions": [
            {
                "name": "from-the-preview-group",
                "expression": f'request.userInfo.groups.exists(g, g == "{group}")',
            }
        ],
        "validations": [
            {
                "expression": "has(request.dryRun) && request.dryRun == true",
                "message": f"members of {group} may only dry-run (pulumi preview, "
                "kubectl --dry-run=server): this identity cannot change the cluster",
                "reason": "Forbidden",
            }
        ],
    }


class DryRunOnly(pulumi.ComponentResource):
    """RBAC for the preview group, and an admission policy that refuses its real writes."""

    group: str
    policy_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: DryRunOnlyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:dry_run_only:DryRunOnly", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {"app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": "pulumi"}
        meta = k8s.meta.v1.ObjectMetaArgs(name=args.name, labels=labels)
        reg = k8s.admissionregistration.v1
        # The policy and its binding exist before the group is given any write verb.
        policy = reg.ValidatingAdmissionPolicy(
            f"{name}-policy", metadata=meta, spec=cast(Any, dry_run_policy(args.group)), opts=child
        )
        binding = reg.ValidatingAdmissionPolicyBinding(
            f"{name}-binding",
            metadata=meta,
            spec=reg.ValidatingAdmissionPolicyBindingSpecArgs(
                policy_name=policy.metadata.name, validation_actions=["Deny"]
            ),
            opts=child,
        )
        role = k8s.rbac.v1.ClusterRole(
            f"{name}-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name, labels=labels, annotations=SCANNER_EXCEPTIONS
            ),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=["*"], resources=["*"], verbs=[*READ_VERBS, *WRITE_VERBS]
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[binding]),
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-role-binding",
            metadata=meta,
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=role.metadata.name
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="Group", name=args.group, api_group="rbac.authorization.k8s.io"
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[binding]),
        )
        self.group = args.group
        self.policy_name = policy.metadata.name
        self.register_outputs({"group": self.group, "policy_name": self.policy_name})

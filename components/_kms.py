"""KMS key-policy pieces shared by the components that create customer keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: KMS actions of a key administrator: manage the key, never use it on data. Not ``kms:Create*``
#: (AWS's default admin statement): it includes ``CreateGrant``, a way around ``kms:ViaService``.
KEY_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
)


def admin_statement(admin_arns: Sequence[str]) -> dict[str, Any]:
    """Key administration (:data:`KEY_ADMIN_ACTIONS`, never data operations) for named roles.

    Not the account root: a key policy that names ``:root`` delegates to IAM, so any
    principal an IAM policy allows ``kms:PutKeyPolicy`` could rewrite the policy and grant
    itself ``kms:Decrypt``. Named roles (the deployer, which must keep ``PutKeyPolicy`` to
    update the policy, and the stack file's admin roles) are the only ones. If every named
    role is deleted the key can be recovered only through AWS Support: keep them.
    """
    if not admin_arns:
        raise ValueError("a key needs at least one named administrator role")
    return {
        "Sid": "AdministerKey",
        "Effect": "Allow",
        "Principal": {"AWS": sorted(set(admin_arns))},
        "Action": list(KEY_ADMIN_ACTIONS),
        "Resource": "*",
    }


def service_only_key_policy(
    *,
    account_id: str,
    partition: str,
    region: str,
    service: str,
    sid: str,
    use_actions: tuple[str, ...],
    admin_arns: Sequence[str],
) -> dict[str, Any]:
    """A key that named roles administer and the account may use only through one AWS service.

    ``admin_arns`` get :data:`KEY_ADMIN_ACTIONS` (:func:`admin_statement`); the account gets
    ``use_actions`` only for requests that ``service`` makes in ``region`` on its behalf
    (``kms:ViaService``). No IAM policy in the account can grant direct use of the key or
    rewrite its policy; who can decrypt *through* the service is that service's business
    (for Secrets Manager: the secret's resource policy).
    """
    account = f"arn:{partition}:iam::{account_id}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [
            admin_statement(admin_arns),
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"AWS": account},
                "Action": list(use_actions),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": f"{service}.{region}.amazonaws.com",
                        "kms:CallerAccount": account_id,
                    }
                },
            },
        ],
    }

"""KMS key-policy pieces shared by the components that create customer keys."""

from __future__ import annotations

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


def service_only_key_policy(
    *,
    account_id: str,
    partition: str,
    region: str,
    service: str,
    sid: str,
    use_actions: tuple[str, ...],
) -> dict[str, Any]:
    """A key the account administers but may use only through one AWS service.

    The account root gets :data:`KEY_ADMIN_ACTIONS` (never data operations), and
    ``use_actions`` only for requests that ``service`` makes in ``region`` on the account's
    behalf (``kms:ViaService``). No IAM policy in the account can then grant itself direct
    use of the key, and the account keeps administration so the key never becomes
    unmanageable.
    """
    account = f"arn:{partition}:iam::{account_id}:root"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AdministerKey",
                "Effect": "Allow",
                "Principal": {"AWS": account},
                "Action": list(KEY_ADMIN_ACTIONS),
                "Resource": "*",
            },
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

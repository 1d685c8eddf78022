"""KMS key-policy pieces shared by the components that create customer keys."""

from __future__ import annotations

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

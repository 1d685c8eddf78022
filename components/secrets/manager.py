"""An app's secrets in AWS Secrets Manager, encrypted with its own customer-managed KMS key.

References 000 and 003 keep secrets in Kubernetes Secrets and AWS Secrets
Manager, "encrypted at rest and in transit, regular rotation". This component
is the AWS half: one KMS key (rotation on, a key policy that names who may use
it), one secret holding the app's settings as a JSON object (``{ENV_VAR:
value}``), optional rotation by a Lambda function on a schedule, and the
least-privilege IAM statements that read it. Who gets those statements (a Pod
Identity role) and how the value reaches pods (External Secrets Operator) are
the caller's: see :mod:`webplatform.secrets.external`.

The value, when Pulumi sets it, goes only to ``SecretVersion``'s write-only
argument ``secret_string_wo`` (pulumi-aws v7): the provider never reads it back,
so it is not in the resource's outputs. The Pulumi engine still records the
(encrypted) input in the state (pulumi-terraform-bridge#3201); a value that must
never touch the state is left to be set out of band (``values=None``).

``pulumi_aws`` is imported when an ``AppSecrets`` is built, not with this module: the
args (which the program's config validation uses) and a stack without AWS never load it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from webplatform import _validation

_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_SCHEDULE = re.compile(r"^(rate\(\d+ (hour|hours|day|days)\)|cron\(.+\))$")
_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[^:]+)?$")

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
#: What Secrets Manager does with the key on a caller's behalf (write, read, rotate).
KEY_USE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)
#: The only actions a reader of the secret gets: on its own secret and key, nothing else.
READ_SECRET_ACTIONS = ("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
DECRYPT_ACTIONS = ("kms:Decrypt",)


@dataclass(frozen=True, kw_only=True)
class SecretRotation:
    """Rotation of the secret by a Lambda function that you provide (AWS templates exist per engine)."""

    lambda_arn: pulumi.Input[str]
    """ARN of the rotation function; required. It needs ``kms:Decrypt``/``GenerateDataKey`` through
    Secrets Manager, which the key policy allows to principals of the account whose IAM says so."""
    schedule_expression: str
    """``rate(N days)`` / ``rate(N hours)`` or ``cron(...)``; required (no sensible default)."""

    def __post_init__(self) -> None:
        if not _SCHEDULE.match(self.schedule_expression):
            raise ValueError(
                f"schedule_expression={self.schedule_expression!r}: must be 'rate(N days)', "
                "'rate(N hours)' or 'cron(...)' (Secrets Manager rotation schedule)"
            )
        if isinstance(self.lambda_arn, str) and not _ARN.match(self.lambda_arn):
            raise ValueError(
                f"lambda_arn={self.lambda_arn!r}: must be a Lambda function ARN "
                "(arn:aws:lambda:<region>:<account>:function:<name>)"
            )


@dataclass(frozen=True, kw_only=True)
class AppSecretsArgs:
    app: str
    """The app's name (a DNS label); used in descriptions and tags."""
    secret_name: str
    """Name of the Secrets Manager secret, e.g. ``web-production/web``; required, because names
    are unique per account and region and only the caller knows what is free."""
    keys: Sequence[str]
    """Environment variable names the secret holds, as properties of its JSON object; at least one."""
    values: Mapping[str, pulumi.Input[str]] | None = None
    """Values by key, e.g. from ``Config.require_secret``. Default ``None``: the value is set out of
    band (``aws secretsmanager put-secret-value``) and never passes through Pulumi."""
    value_version: int = 1
    """Write-only values are not compared with what AWS holds: bump this (default 1) to write
    ``values`` again after changing them. Ignored when ``values`` is ``None``."""
    recovery_window_days: int = 30
    """Days a deleted secret can still be restored; default 30 (the longest). 0 deletes at once
    (allowed for throwaway stacks only; the program refuses it in production); else 7-30."""
    key_rotation_period_days: int = 365
    """Automatic rotation period of the KMS key material; default 365 (AWS's default), 90-2560."""
    key_deletion_window_days: int = 30
    """Waiting period before a scheduled key deletion; default 30 (the longest), 7-30."""
    rotation: SecretRotation | None = None
    """Rotate the secret's value with a Lambda function on a schedule; default none."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags on the key and the secret; default none."""

    def __post_init__(self) -> None:
        _validation.dns_label("app", self.app)
        if not _SECRET_NAME.match(self.secret_name):
            raise ValueError(
                f"secret_name={self.secret_name!r}: must be 1-512 characters of letters, digits "
                "and /_+=.@- (Secrets Manager secret names)"
            )
        if not self.keys:
            raise ValueError("keys: at least one key is required (an empty secret serves no one)")
        _validation.env_names("keys", self.keys)
        if self.values is not None and set(self.values) != set(self.keys):
            raise ValueError(
                f"values: keys {sorted(self.values)} must be exactly keys {sorted(self.keys)}"
            )
        if isinstance(self.value_version, bool) or self.value_version < 1:
            raise ValueError(f"value_version={self.value_version!r}: must be an integer >= 1")
        days = self.recovery_window_days
        if days != 0 and not 7 <= days <= 30:
            raise ValueError(
                f"recovery_window_days={days!r}: must be 0 (delete at once) or 7 to 30"
            )
        if not 90 <= self.key_rotation_period_days <= 2560:
            raise ValueError(
                f"key_rotation_period_days={self.key_rotation_period_days!r}: must be 90 to 2560"
            )
        if not 7 <= self.key_deletion_window_days <= 30:
            raise ValueError(
                f"key_deletion_window_days={self.key_deletion_window_days!r}: must be 7 to 30"
            )


def key_policy(account_id: str, partition: str, region: str) -> dict[str, Any]:
    """The key policy: who may administer the key, and who may use it, and how.

    The account (``:root``, i.e. whoever its IAM policies allow) may administer the
    key but not use it directly; it may use it only *through Secrets Manager in this
    region* (``kms:ViaService``). So the deployer that writes the secret, the reader
    role and the rotation function each need their own IAM grant, and even with
    one, none of them can decrypt anything but Secrets Manager data with this key.
    The account keeps administration so the key can never become unmanageable.
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
                "Sid": "UseKeyOnlyThroughSecretsManager",
                "Effect": "Allow",
                "Principal": {"AWS": account},
                "Action": list(KEY_USE_ACTIONS),
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                        "kms:CallerAccount": account_id,
                    }
                },
            },
        ],
    }


def read_statements(app: str, secret_arn: str, key_arn: str, region: str) -> list[dict[str, Any]]:
    """IAM statements that read exactly one secret and decrypt with exactly its key, via Secrets Manager.

    Statement ids name the app (``ReadWebSecret``), so several apps' statements can share
    one policy (ids must be unique within a policy).
    """
    sid = "".join(part.capitalize() for part in app.split("-"))
    return [
        {
            "Sid": f"Read{sid}Secret",
            "Effect": "Allow",
            "Action": list(READ_SECRET_ACTIONS),
            "Resource": secret_arn,
        },
        {
            "Sid": f"Decrypt{sid}Secret",
            "Effect": "Allow",
            "Action": list(DECRYPT_ACTIONS),
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
            },
        },
    ]


class AppSecrets(pulumi.ComponentResource):
    """KMS key + Secrets Manager secret (+ its value, + rotation) for one app."""

    secret_arn: pulumi.Output[str]
    secret_name: pulumi.Output[str]
    key_arn: pulumi.Output[str]
    region: pulumi.Output[str]
    """Region of the secret (the provider's), for whoever fetches it."""
    read_statements: pulumi.Output[list[dict[str, Any]]]
    """Least-privilege IAM statements to read this secret; hand them to a Pod Identity role."""

    def __init__(
        self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:secrets:AppSecrets", name, None, opts)
        import pulumi_aws as aws  # here, not at the top: see the module docstring

        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        self.region = aws.get_region_output(opts=invoke).region
        tags = {"app.kubernetes.io/name": args.app, "app.kubernetes.io/part-of": "webplatform"}
        tags.update(args.tags)

        policy = pulumi.Output.all(identity.account_id, identity.arn, self.region).apply(
            lambda v: json.dumps(key_policy(v[0], v[1].split(":")[1], v[2]))
        )
        key = aws.kms.Key(
            f"{name}-key",
            aws.kms.KeyArgs(
                description=f"Encrypts the Secrets Manager secret {args.secret_name} of app {args.app}",
                enable_key_rotation=True,
                rotation_period_in_days=args.key_rotation_period_days,
                deletion_window_in_days=args.key_deletion_window_days,
                policy=policy,
                tags=tags,
            ),
            opts=child,
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            aws.secretsmanager.SecretArgs(
                name=args.secret_name,
                description=f"Secret settings of app {args.app}: a JSON object of "
                f"{', '.join(sorted(args.keys))}",
                kms_key_id=key.arn,
                recovery_window_in_days=args.recovery_window_days,
                tags=tags,
            ),
            opts=child,
        )
        if args.values is not None:
            keys = sorted(args.values)
            document = pulumi.Output.all(*(args.values[k] for k in keys)).apply(
                lambda values: json.dumps(dict(zip(keys, values, strict=True)))
            )
            aws.secretsmanager.SecretVersion(
                f"{name}-value",
                aws.secretsmanager.SecretVersionArgs(
                    secret_id=secret.id,
                    # Write-only: sent to AWS, never read back into outputs.
                    secret_string_wo=pulumi.Output.secret(document),
                    secret_string_wo_version=args.value_version,
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, additional_secret_outputs=["secretString"]
                ),
            )
        if args.rotation is not None:
            aws.secretsmanager.SecretRotation(
                f"{name}-rotation",
                aws.secretsmanager.SecretRotationArgs(
                    secret_id=secret.id,
                    rotation_lambda_arn=args.rotation.lambda_arn,
                    rotation_rules=aws.secretsmanager.SecretRotationRotationRulesArgs(
                        schedule_expression=args.rotation.schedule_expression
                    ),
                ),
                opts=child,
            )
        self.secret_arn = secret.arn
        self.secret_name = secret.name
        self.key_arn = key.arn
        self.read_statements = pulumi.Output.all(secret.arn, key.arn, self.region).apply(
            lambda v: read_statements(args.app, v[0], v[1], v[2])
        )
        self.register_outputs(
            {
                "secret_arn": self.secret_arn,
                "secret_name": self.secret_name,
                "key_arn": self.key_arn,
                "region": self.region,
                "read_statements": self.read_statements,
            }
        )

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

import functools
import json
import re
from collections.abc import Sequence
from typing import Annotated, Any

import pulumi
from pydantic import AfterValidator, Field, model_validator

from webplatform import _validation
from webplatform._kms import KEY_ADMIN_ACTIONS, service_only_key_policy
from webplatform._model import Args, Input, Items, at
from webplatform.cluster._checks import RoleArn, Wired, at_least

__all__ = [
    "KEY_ADMIN_ACTIONS",
    "AppSecrets",
    "AppSecretsArgs",
    "SecretRotation",
    "SecretSettings",
    "key_policy",
    "read_statements",
    "secret_policy",
]

_SECRET_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")
_SCHEDULE = re.compile(r"^(rate\(\d+ (hour|hours|day|days)\)|cron\(.+\))$")
_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[^:]+)?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")

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


def _schedule(value: str) -> str:
    if not _SCHEDULE.match(value):
        raise ValueError(
            "must be 'rate(N days)', 'rate(N hours)' or 'cron(...)' (Secrets Manager rotation "
            "schedule)"
        )
    return value


def _lambda_arn(value: Any) -> Any:
    if isinstance(value, str) and not _ARN.match(value):
        raise ValueError(
            "must be a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)"
        )
    return value


def _recovery_window(days: int) -> int:
    if days != 0 and not 7 <= days <= 30:
        raise ValueError("must be 0 (delete at once) or 7 to 30 (Secrets Manager)")
    return days


def _secret_name(value: str) -> str:
    if not _SECRET_NAME.match(value):
        raise ValueError(
            "must be 1-512 characters of letters, digits and /_+=.@- (Secrets Manager names)"
        )
    return value


def _regions(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [v for v in values if not _REGION.match(v)]
    if bad:
        raise ValueError(f"{bad} are not AWS region names (e.g. us-east-2)")
    if len(set(values)) != len(values):
        raise ValueError("a region is listed twice")
    return values


def _env_names(values: tuple[str, ...]) -> tuple[str, ...]:
    _validation.env_names("keys", values)
    return values


def _dns_label(value: str) -> str:
    _validation.dns_label("app", value)
    return value


class SecretRotation(Args):
    """Rotation of the secret by a Lambda function that you provide (AWS templates exist per engine)."""

    lambda_arn: Annotated[Input[str], AfterValidator(_lambda_arn)]
    """ARN of the rotation function; required. It needs ``kms:Decrypt``/``GenerateDataKey`` through
    Secrets Manager, which the key policy allows to principals of the account whose IAM says so."""
    schedule_expression: Annotated[str, AfterValidator(_schedule)]
    """``rate(N days)`` / ``rate(N hours)`` or ``cron(...)``; required (no sensible default)."""
    role_arn: RoleArn
    """The rotation function's execution role; required: the secret's resource policy lets
    only named roles read it, and the function reads the current value to rotate it."""


class SecretSettings(Args):
    """How every app's secret is kept: the settings a stack sets once (``webplatform:secrets``)."""

    value_version: int = Field(default=1, ge=1)
    """Write-only values are not compared with what AWS holds: bump this (default 1) to write
    ``values`` again after changing them. Ignored when ``values`` is ``None``."""
    recovery_window_days: Annotated[int, AfterValidator(_recovery_window)] = 30
    """Days a deleted secret can still be restored; default 30 (the longest). 0 deletes at once
    (for throwaway stacks only; the program refuses it in production); else 7-30."""
    key_rotation_period_days: int = Field(default=365, ge=90, le=2560)
    """Automatic rotation period of the KMS key material; default 365 (AWS's default), 90-2560."""
    key_deletion_window_days: int = Field(default=30, ge=7, le=30)
    """Waiting period before a scheduled key deletion; default 30 (the longest), 7-30."""
    rotation: SecretRotation | None = None
    """Rotate the secret's value with a Lambda function on a schedule; default none."""
    break_glass_role_arn: RoleArn | None = None
    """A role that may read every app secret in an emergency, besides each secret's consumer;
    default none (required by the program in production). Its use shows in CloudTrail."""
    replica_regions: Annotated[Items[str], AfterValidator(_regions)] = ()
    """Regions where Secrets Manager keeps a read-only replica of every app's secret, each
    encrypted with a key of its own region (see :class:`AppSecrets`); default none. A recovery
    region needs the values before the disaster: a replica is promoted
    (``stop-replication-to-replica``) when the primary region is lost."""


class AppSecretsArgs(SecretSettings):
    """One app's secret: :class:`SecretSettings` plus what only the program knows."""

    app: Annotated[str, AfterValidator(_dns_label)]
    """The app's name (a DNS label); used in descriptions and tags."""
    secret_name: Annotated[str, AfterValidator(_secret_name)]
    """Name of the Secrets Manager secret, e.g. ``web-production/web``; required, because names
    are unique per account and region and only the caller knows what is free."""
    keys: Annotated[
        Items[str], AfterValidator(_env_names), at_least(1, "at least one key is required")
    ]
    """Environment variable names the secret holds, as properties of its JSON object; at least
    one (an empty secret serves no one)."""
    values: dict[str, Wired[str]] | None = Field(default=None, repr=False)
    """Values by key, e.g. from ``Config.require_secret``. Default ``None``: the value is set out of
    band (``aws secretsmanager put-secret-value``) and never passes through Pulumi."""
    key_admin_arns: Annotated[Items[RoleArn], at_least(1, "name the deployer and the admin roles")]
    """Roles that administer the key and the secret's resource policy (the deploying role,
    which must keep ``kms:PutKeyPolicy``, and the admins); required, at least one."""
    protect: bool = False
    """Protect the KMS key and the secret from deletion; default false. The stack sets it from
    the same setting that protects its cluster."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Extra tags on the key and the secret; default none."""

    @model_validator(mode="after")
    def _values_match_keys(self) -> AppSecretsArgs:
        if self.values is not None and set(self.values) != set(self.keys):
            raise at(
                "values",
                message=f"keys {sorted(self.values)} must be exactly keys {sorted(self.keys)}",
            )
        return self


def key_policy(
    account_id: str, partition: str, region: str, admin_arns: Sequence[str]
) -> dict[str, Any]:
    """The key policy: who may administer the key, and who may use it, and how.

    ``admin_arns`` (named roles from the stack file, never the account root) administer
    the key and cannot use it on data. The account may use it only *through Secrets
    Manager in this region* (``kms:ViaService``), so nobody can decrypt with it directly.
    Who can decrypt the secret: whoever Secrets Manager lets read it, which the secret's
    resource policy (:func:`secret_policy`) limits to its consumer role, the break-glass
    role and the rotation function's role.
    """
    return service_only_key_policy(
        account_id=account_id,
        partition=partition,
        region=region,
        service="secretsmanager",
        sid="UseKeyOnlyThroughSecretsManager",
        use_actions=KEY_USE_ACTIONS,
        admin_arns=admin_arns,
    )


def secret_policy(reader_arns: Sequence[str], admin_arns: Sequence[str]) -> dict[str, Any]:
    """The secret's resource policy: only ``reader_arns`` read it; only ``admin_arns`` change it.

    Denies, not only allows: in the same account an IAM policy with
    ``secretsmanager:GetSecretValue`` on ``*`` (and the key's Secrets Manager use) would
    otherwise read it. ``aws:PrincipalArn`` is the role's ARN for any session of it. The
    policy itself is guarded the same way, or anyone allowed ``PutResourcePolicy`` could
    lift the deny.
    """
    readers = sorted(set(reader_arns))
    admins = sorted(set(admin_arns))
    if not readers or not admins:
        raise ValueError("a secret policy needs at least one reader and one admin role")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOnlyByNamedRoles",
                "Effect": "Allow",
                "Principal": {"AWS": readers},
                "Action": list(READ_SECRET_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "DenyReadsByAnyoneElse",
                "Effect": "Deny",
                "Principal": "*",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": "*",
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": readers}},
            },
            {
                "Sid": "DenyPolicyChangesByAnyoneElse",
                "Effect": "Deny",
                "Principal": "*",
                "Action": [
                    "secretsmanager:PutResourcePolicy",
                    "secretsmanager:DeleteResourcePolicy",
                ],
                "Resource": "*",
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": admins}},
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
        self._name = name
        import pulumi_aws as aws  # here, not at the top: see the module docstring

        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        self.region = aws.get_region_output(opts=invoke).region
        tags = {"app.kubernetes.io/name": args.app, "app.kubernetes.io/part-of": "webplatform"}
        tags.update(args.tags)

        admins = tuple(args.key_admin_arns)
        policy = pulumi.Output.all(identity.account_id, identity.arn, self.region).apply(
            lambda v: json.dumps(key_policy(v[0], v[1].split(":")[1], v[2], admins))
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
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            aws.secretsmanager.SecretArgs(
                name=args.secret_name,
                description=f"Secret settings of app {args.app}: a JSON object of "
                f"{', '.join(sorted(args.keys))}",
                kms_key_id=key.arn,
                recovery_window_in_days=args.recovery_window_days,
                replicas=_replicas(name, args, identity, tags, self) or None,
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
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
        self._args = args
        self._secret = secret
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

    def limit_readers(self, consumer_role_arn: pulumi.Input[str]) -> pulumi.CustomResource:
        """The secret's resource policy (:func:`secret_policy`): reads only by the consumer,
        the break-glass role and the rotation role; policy changes only by the key admins.

        A method, not an argument: the consumer's role reads this secret's ARN, so it is
        made after the secret, and the policy after the role.
        """
        import pulumi_aws as aws

        args = self._args
        fixed = [
            arn
            for arn in (
                args.break_glass_role_arn,
                args.rotation.role_arn if args.rotation is not None else None,
            )
            if arn is not None
        ]
        document = pulumi.Output.from_input(consumer_role_arn).apply(
            lambda consumer: json.dumps(secret_policy([consumer, *fixed], args.key_admin_arns))
        )
        return aws.secretsmanager.SecretPolicy(
            f"{self._name}-policy",
            secret_arn=self._secret.arn,
            policy=document,
            block_public_policy=True,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _replicas(
    name: str,
    args: AppSecretsArgs,
    identity: Any,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> list[Any]:
    """One key per replica region, and the secret's replica there encrypted with it.

    Per-region keys rather than a multi-Region key: ``multi_region`` cannot be changed on an
    existing key (the provider replaces it, and prod's key is protected), and a multi-Region
    replica is administered from its primary's region, the one a disaster takes away. A key of
    the replica's own region has the same policy as the primary's, scoped to Secrets Manager
    *in that region*, and the same description: the recovery stack adopts both by
    ``pulumi import`` with no change (docs/guides/recovery.md, runbook "Region loss"). pulumi-aws v7's
    per-resource ``region`` places the key there with the caller's provider.
    """
    import pulumi_aws as aws

    out = []
    for region in args.replica_regions:
        policy = pulumi.Output.all(identity.account_id, identity.arn).apply(
            functools.partial(_replica_policy, region, tuple(args.key_admin_arns))
        )
        key = aws.kms.Key(
            f"{name}-key-{region}",
            aws.kms.KeyArgs(
                description=f"Encrypts the Secrets Manager secret {args.secret_name} of app {args.app}",
                enable_key_rotation=True,
                rotation_period_in_days=args.key_rotation_period_days,
                deletion_window_in_days=args.key_deletion_window_days,
                policy=policy,
                region=region,
                tags=tags,
            ),
            opts=pulumi.ResourceOptions(parent=parent, protect=args.protect),
        )
        out.append(aws.secretsmanager.SecretReplicaArgs(region=region, kms_key_id=key.arn))
    return out


def _replica_policy(region: str, admins: tuple[str, ...], identity: list[str]) -> str:
    """:func:`key_policy` for a key in ``region`` (``identity``: account id, caller ARN)."""
    return json.dumps(key_policy(identity[0], identity[1].split(":")[1], region, admins))

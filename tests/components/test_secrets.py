import json

import pulumi
import pytest
from pydantic import ValidationError

from webplatform import AppSecrets, AppSecretsArgs, SecretRotation, testing

KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
ACCOUNT = testing.MOCK_ACCOUNT_ID
LAMBDA = f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:rotate-postgres"
ROTATOR = f"arn:aws:iam::{ACCOUNT}:role/rotate-postgres"
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/webplatform-deploy-prod"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/break-glass"
CONSUMER = f"arn:aws:iam::{ACCOUNT}:role/external-secrets-role-1234567"
SECRET_POLICY = "aws:secretsmanager/secretPolicy:SecretPolicy"


def build(readers=False, **overrides):
    holder = {}
    args = {
        "app": "web",
        "secret_name": "web-prod/web",
        "keys": ["DATABASE_URL", "API_TOKEN"],
        "key_admin_arns": [DEPLOYER, ADMIN],
        **overrides,
    }

    def program():
        holder["secrets"] = AppSecrets("web-secrets", AppSecretsArgs(**args))
        if readers:
            holder["secrets"].limit_readers(CONSUMER)

    rec = testing.run(program, config={"aws:region": "us-west-2"})
    return rec, holder["secrets"]


def key_policy(rec):
    return json.loads(rec.one(KEY).inputs["policy"])


def test_key_rotates_and_waits_before_deletion():
    inputs = build()[0].one(KEY).inputs
    assert inputs["enableKeyRotation"] is True
    assert inputs["rotationPeriodInDays"] == 365
    assert inputs["deletionWindowInDays"] == 30


def test_key_policy_names_its_admins_and_allows_use_only_through_secrets_manager():
    statements = {s["Sid"]: s for s in key_policy(build()[0])["Statement"]}
    assert set(statements) == {"AdministerKey", "UseKeyOnlyThroughSecretsManager"}
    root = f"arn:aws:iam::{ACCOUNT}:root"
    assert all(s["Effect"] == "Allow" for s in statements.values())
    # Administration (kms:Put* included) by named roles only: not the root, whose IAM
    # policies could grant PutKeyPolicy to anyone and so Decrypt.
    assert statements["AdministerKey"]["Principal"] == {"AWS": sorted([ADMIN, DEPLOYER])}
    # Use: the account, only through Secrets Manager (never "*").
    assert statements["UseKeyOnlyThroughSecretsManager"]["Principal"] == {"AWS": root}
    admin, use = statements["AdministerKey"], statements["UseKeyOnlyThroughSecretsManager"]
    # No data access, and no grants (a grant would bypass the Secrets-Manager-only condition).
    assert not {"kms:Decrypt", "kms:Encrypt", "kms:*", "kms:Create*", "kms:CreateGrant"} & set(
        admin["Action"]
    )
    assert "kms:PutKeyPolicy" in admin["Action"] or "kms:Put*" in admin["Action"]
    assert "Condition" not in admin
    assert sorted(use["Action"]) == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey*",
        "kms:ReEncrypt*",
    ]
    assert use["Condition"] == {
        "StringEquals": {
            "kms:ViaService": "secretsmanager.us-west-2.amazonaws.com",
            "kms:CallerAccount": ACCOUNT,
        }
    }


def test_secret_is_encrypted_with_its_own_key_and_keeps_a_recovery_window():
    rec, _ = build(recovery_window_days=14)
    secret = rec.one(SECRET).inputs
    assert secret["kmsKeyId"] == f"arn:aws:kms:us-west-2:{ACCOUNT}:key/web-secrets-key-id"
    assert secret["name"] == "web-prod/web"
    assert secret["recoveryWindowInDays"] == 14
    assert build()[0].one(SECRET).inputs["recoveryWindowInDays"] == 30  # the default


def test_values_go_only_to_the_write_only_argument_as_a_secret():
    rec, _ = build(
        keys=["DATABASE_URL", "API_TOKEN"],
        values={"DATABASE_URL": pulumi.Output.secret("postgres://u:p@db/app"), "API_TOKEN": "t0k"},
        value_version=3,
    )
    version = rec.one(VERSION)
    assert json.loads(version.inputs["secretStringWo"]) == {
        "API_TOKEN": "t0k",
        "DATABASE_URL": "postgres://u:p@db/app",
    }
    assert version.is_secret("secretStringWo")
    assert version.inputs["secretStringWoVersion"] == 3
    assert "secretString" not in version.inputs and "secretBinary" not in version.inputs
    assert version.inputs["secretId"] == "web-secrets-secret-id"
    for r in rec.resources:
        if r is not version:
            assert "t0k" not in json.dumps(r.inputs), r.urn


def test_out_of_band_registers_no_value_at_all():
    rec, _ = build()
    assert rec.by_type(VERSION) == []


def test_rotation_only_when_a_function_is_configured():
    assert build()[0].by_type(ROTATION) == []
    rec, _ = build(
        rotation=SecretRotation(
            lambda_arn=LAMBDA, schedule_expression="rate(30 days)", role_arn=ROTATOR
        )
    )
    rotation = rec.one(ROTATION).inputs
    assert rotation["rotationLambdaArn"] == LAMBDA
    assert rotation["rotationRules"] == {"scheduleExpression": "rate(30 days)"}
    assert rotation["secretId"] == "web-secrets-secret-id"


def test_read_statements_grant_exactly_this_secret_and_this_key():
    rec, _ = build()
    statements = rec.one("webplatform:secrets:AppSecrets").outputs["read_statements"]
    secret_arn = f"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:web-prod/web-AbCdEf"
    key_arn = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/web-secrets-key-id"
    assert statements == [
        {
            "Sid": "ReadWebSecret",
            "Effect": "Allow",
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Resource": secret_arn,
        },
        {
            "Sid": "DecryptWebSecret",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": "secretsmanager.us-west-2.amazonaws.com"}
            },
        },
    ]


def test_every_child_is_parented_to_the_component():
    rec, _ = build(values={"DATABASE_URL": "x", "API_TOKEN": "y"})
    component = rec.one("webplatform:secrets:AppSecrets")
    assert {r.type for r in rec.children(component)} == {KEY, SECRET, VERSION}


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        (
            {"recovery_window_days": 3},
            "recovery_window_days",
            "must be 0 (delete at once) or 7 to 30",
        ),
        ({"recovery_window_days": 31}, "recovery_window_days", "or 7 to 30"),
        ({"recovery_window_days": "30"}, "recovery_window_days", "valid integer"),
        (
            {"key_rotation_period_days": 30},
            "key_rotation_period_days",
            "greater than or equal to 90",
        ),
        (
            {"key_rotation_period_days": 3000},
            "key_rotation_period_days",
            "less than or equal to 2560",
        ),
        ({"key_deletion_window_days": 3}, "key_deletion_window_days", "greater than or equal to 7"),
        ({"secret_name": "web secrets"}, "secret_name", "letters, digits and /_+=.@-"),
        ({"keys": []}, "keys", "at least one key"),
        ({"keys": ["1BAD"]}, "keys", "'1BAD' is not a valid environment variable name"),
        ({"values": {"DATABASE_URL": "x"}}, "values", "must be exactly keys"),
        ({"value_version": 0}, "value_version", "greater than or equal to 1"),
        ({"value_version": True}, "value_version", "valid integer"),
        ({"app": "Web"}, "app", "must be a DNS label"),
        ({"protect": "off"}, "protect", "valid boolean"),
        ({"rotation": {"lambda_arn": LAMBDA}}, "rotation", "Field required"),
        ({"key_admin_arns": []}, "key_admin_arns", "name the deployer and the admin roles"),
        ({"key_admin_arns": ["platform-admin"]}, "key_admin_arns", "must be an IAM role ARN"),
        ({"break_glass_role_arn": "arn:aws:iam::1:root"}, "break_glass_role_arn", "role ARN"),
    ],
)
def test_bad_args_name_field_and_rule(overrides, where, message):
    args = {
        "app": "web",
        "secret_name": "s",
        "keys": ["DATABASE_URL", "API_TOKEN"],
        "key_admin_arns": [ADMIN],
        **overrides,
    }
    with pytest.raises(ValidationError) as raised:
        AppSecretsArgs(**args)
    error = raised.value.errors()[0]
    ctx = (error.get("ctx") or {}).get("error")
    loc = tuple(error["loc"]) + tuple(getattr(ctx, "loc", ()))
    assert loc[0] == where
    assert message in (str(ctx) if ctx is not None else error["msg"])


def test_a_bad_value_is_never_echoed():
    with pytest.raises(ValidationError) as raised:
        AppSecretsArgs(
            app="web",
            secret_name="s",
            keys=["DATABASE_URL"],
            key_admin_arns=[ADMIN],
            values={"DATABASE_URL": "postgres://u:hunter2@db", "EXTRA": "hunter2"},
        )
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("lambda_arn", "schedule", "where", "message"),
    [
        (LAMBDA, "every month", "schedule_expression", "must be 'rate(N days)'"),
        (LAMBDA, "rate(30)", "schedule_expression", "must be 'rate(N days)'"),
        ("rotate-postgres", "rate(30 days)", "lambda_arn", "must be a Lambda function ARN"),
    ],
)
def test_bad_rotation(lambda_arn, schedule, where, message):
    with pytest.raises(ValidationError) as raised:
        SecretRotation(lambda_arn=lambda_arn, schedule_expression=schedule, role_arn=ROTATOR)
    error = raised.value.errors()[0]
    assert error["loc"][0] == where and message in error["msg"]


def test_protect_covers_the_key_and_the_secret():
    rec, _ = build()
    assert not any(r.protect for r in rec.resources)
    rec, _ = build(protect=True)
    assert sorted(r.type for r in rec.resources if r.protect) == [
        "aws:kms/key:Key",
        "aws:secretsmanager/secret:Secret",
    ]


def test_cron_schedules_are_accepted():
    rotation = SecretRotation(
        lambda_arn=LAMBDA, schedule_expression="cron(0 4 1 * ? *)", role_arn=ROTATOR
    )
    assert rotation.schedule_expression == "cron(0 4 1 * ? *)"


def _secret_policy(**overrides):
    rec, _ = build(readers=True, **overrides)
    policy = rec.one(SECRET_POLICY)
    assert policy.parent == rec.one("webplatform:secrets:AppSecrets").urn
    assert policy.inputs["blockPublicPolicy"] is True
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


def test_only_the_consumer_and_break_glass_roles_read_the_secret():
    statements = _secret_policy(break_glass_role_arn=BREAK_GLASS)
    readers = sorted([CONSUMER, BREAK_GLASS])
    assert statements["ReadOnlyByNamedRoles"]["Principal"] == {"AWS": readers}
    deny = statements["DenyReadsByAnyoneElse"]
    # A Deny: an IAM policy with GetSecretValue on * in the same account cannot override it.
    assert (deny["Effect"], deny["Principal"]) == ("Deny", "*")
    assert deny["Action"] == ["secretsmanager:GetSecretValue"]
    assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": readers}}
    guard = statements["DenyPolicyChangesByAnyoneElse"]
    assert guard["Effect"] == "Deny"
    assert "secretsmanager:PutResourcePolicy" in guard["Action"]
    assert guard["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": sorted([ADMIN, DEPLOYER])}}


def test_the_rotation_role_reads_the_secret_too():
    rotation = SecretRotation(
        lambda_arn=LAMBDA, schedule_expression="rate(30 days)", role_arn=ROTATOR
    )
    statements = _secret_policy(rotation=rotation)
    assert statements["ReadOnlyByNamedRoles"]["Principal"] == {"AWS": sorted([CONSUMER, ROTATOR])}


def test_no_secret_policy_until_the_consumer_is_known():
    rec, _ = build()
    assert rec.by_type(SECRET_POLICY) == []

import json

import pulumi
import pytest

from webplatform import AppSecrets, AppSecretsArgs, SecretRotation, testing

KEY = "aws:kms/key:Key"
SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
ACCOUNT = testing.MOCK_ACCOUNT_ID
LAMBDA = f"arn:aws:lambda:us-west-2:{ACCOUNT}:function:rotate-postgres"


def build(**overrides):
    holder = {}
    args = {
        "app": "web",
        "secret_name": "web-prod/web",
        "keys": ["DATABASE_URL", "API_TOKEN"],
        **overrides,
    }

    def program():
        holder["secrets"] = AppSecrets("web-secrets", AppSecretsArgs(**args))

    rec = testing.run(program, config={"aws:region": "us-west-2"})
    return rec, holder["secrets"]


def key_policy(rec):
    return json.loads(rec.one(KEY).inputs["policy"])


def test_key_rotates_and_waits_before_deletion():
    inputs = build()[0].one(KEY).inputs
    assert inputs["enableKeyRotation"] is True
    assert inputs["rotationPeriodInDays"] == 365
    assert inputs["deletionWindowInDays"] == 30


def test_key_policy_names_the_account_and_allows_use_only_through_secrets_manager():
    statements = {s["Sid"]: s for s in key_policy(build()[0])["Statement"]}
    assert set(statements) == {"AdministerKey", "UseKeyOnlyThroughSecretsManager"}
    root = f"arn:aws:iam::{ACCOUNT}:root"
    for statement in statements.values():
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"AWS": root}  # never "*"
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
    rec, _ = build(rotation=SecretRotation(lambda_arn=LAMBDA, schedule_expression="rate(30 days)"))
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
    ("overrides", "message"),
    [
        (
            {"recovery_window_days": 3},
            "recovery_window_days=3: must be 0 (delete at once) or 7 to 30",
        ),
        ({"recovery_window_days": 31}, "recovery_window_days=31"),
        ({"key_rotation_period_days": 30}, "key_rotation_period_days=30: must be 90 to 2560"),
        ({"key_deletion_window_days": 3}, "key_deletion_window_days=3: must be 7 to 30"),
        ({"secret_name": "web secrets"}, "secret_name='web secrets'"),
        ({"keys": []}, "keys: at least one key"),
        ({"keys": ["1BAD"]}, "'1BAD' is not a valid environment variable name"),
        ({"values": {"DATABASE_URL": "x"}}, "must be exactly keys"),
        ({"value_version": 0}, "value_version=0: must be an integer >= 1"),
        ({"app": "Web"}, "app='Web': must be a DNS label"),
    ],
)
def test_bad_args_name_field_value_and_rule(overrides, message):
    args = {"app": "web", "secret_name": "s", "keys": ["DATABASE_URL", "API_TOKEN"], **overrides}
    with pytest.raises(ValueError) as raised:
        AppSecretsArgs(**args)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("lambda_arn", "schedule", "message"),
    [
        (LAMBDA, "every month", "schedule_expression='every month': must be 'rate(N days)'"),
        (LAMBDA, "rate(30)", "schedule_expression='rate(30)'"),
        ("rotate-postgres", "rate(30 days)", "lambda_arn='rotate-postgres': must be a Lambda"),
    ],
)
def test_bad_rotation(lambda_arn, schedule, message):
    with pytest.raises(ValueError) as raised:
        SecretRotation(lambda_arn=lambda_arn, schedule_expression=schedule)
    assert message in str(raised.value)


def test_cron_schedules_are_accepted():
    rotation = SecretRotation(lambda_arn=LAMBDA, schedule_expression="cron(0 4 1 * ? *)")
    assert rotation.schedule_expression == "cron(0 4 1 * ? *)"

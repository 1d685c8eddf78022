"""Secrets per stack: dev's Kubernetes Secret, staging/prod's Secrets Manager + External Secrets,
the IAM that reads them, and proof that a secret value leaks nowhere."""

import base64
import json

import pulumi_kubernetes as k8s
import pytest

from infra import synth
from infra.config import StackSource
from infra.stack import main as program
from tests.conftest import ROOT, STACKS, load_stack_file, synthesized
from webplatform import testing

ACCOUNT = testing.MOCK_ACCOUNT_ID
DEPLOY = "kubernetes:apps/v1:Deployment"
EXTERNAL = "kubernetes:external-secrets.io/v1:ExternalSecret"
POLICY = "aws:iam/rolePolicy:RolePolicy"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KEY = "webplatform:webDatabaseUrl"
#: Recognisable, and made of characters that neither JSON nor YAML escape, so a leak is found
#: in any file as a plain substring.
CANARY = "canary-7f3a9c1e-postgres://leaky:s3cr3t-pw@db.internal:5432/app"
ALERTS_KEY = "webplatform:alertsSlackWebhookUrl"
ALERTS_CANARY = "canary-b41e-https://hooks.slack.com/services/T000/B000/leaky"


@pytest.fixture(scope="module")
def synths():
    return {stack: synthesized(stack) for stack in STACKS}


def aws_resources(recording):
    return [r for r in recording.resources if r.type.startswith("aws:")]


def test_dev_uses_a_kubernetes_secret_and_no_aws_at_all(synths):
    rec = synths["dev"].recording
    assert aws_resources(rec) == []
    assert rec.by_type(EXTERNAL) == []
    secret = rec.one("kubernetes:core/v1:Secret")
    assert secret.inputs["metadata"]["name"] == "web-secrets"
    assert secret.is_secret("stringData.DATABASE_URL")


def test_dev_never_imports_pulumi_aws(sdk_imports):
    # One fresh process, dev first (tests/conftest.py): then prod, which does load it.
    assert "pulumi_aws" not in sdk_imports["dev"], "dev loaded pulumi_aws"
    assert "pulumi_aws" in sdk_imports["prod"]  # control: the probe sees an SDK a stack loads


@pytest.mark.parametrize(
    ("stack", "namespace"), [("staging", "web-staging"), ("prod", "web-production")]
)
def test_external_stacks_store_the_secret_in_aws_and_let_the_operator_write_it(
    synths, stack, namespace
):
    rec = synths[stack].recording
    # The app's Secret is written in the cluster by ESO: Pulumi makes only the edge's own
    # (the CDN's origin key; staging's origin certificate, issue 19) and the alert
    # receiver's credential (monitoring, issue 19).
    edge = {"web-cdn-origin"} | ({"public-web-tls"} if stack == "staging" else set())
    assert {s.inputs["metadata"]["name"] for s in rec.by_type("kubernetes:core/v1:Secret")} == (
        edge | {"alertmanager-receiver"}
    )
    secret = rec.one("aws:secretsmanager/secret:Secret").inputs
    assert secret["name"] == f"{namespace}/web"
    assert secret["kmsKeyId"] == f"arn:aws:kms:us-west-2:{ACCOUNT}:key/web-secrets-key-id"
    assert rec.one("aws:kms/key:Key", "web-secrets-key").inputs["enableKeyRotation"] is True
    external = rec.one(EXTERNAL).inputs["spec"]
    assert external["target"]["name"] == "web-secrets"
    assert external["data"] == [
        {
            "secretKey": "DATABASE_URL",
            "remoteRef": {"key": f"{namespace}/web", "property": "DATABASE_URL"},
        }
    ]
    for deployment in rec.by_type(DEPLOY):  # unchanged consumption, waiting for the sync
        (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
        assert {"secretRef": {"name": "web-secrets"}} in container["envFrom"]
        assert rec.one(EXTERNAL).urn in deployment.dependencies


@pytest.mark.parametrize(("stack", "days"), [("staging", 7), ("prod", 30)])
def test_recovery_window_comes_from_the_stack_file(synths, stack, days):
    secret = synths[stack].recording.one("aws:secretsmanager/secret:Secret")
    assert secret.inputs["recoveryWindowInDays"] == days


def test_staging_writes_config_values_write_only_and_prod_sets_them_out_of_band(synths):
    version = synths["staging"].recording.one(VERSION)
    assert version.is_secret("secretStringWo")
    assert version.inputs["secretStringWoVersion"] == 1
    assert "secretString" not in version.inputs
    assert synths["prod"].recording.by_type(VERSION) == []


@pytest.mark.parametrize(
    ("stack", "cluster"), [("staging", "webplatform-staging"), ("prod", "webplatform-production")]
)
def test_only_the_operator_reads_and_only_its_stacks_secret(synths, stack, cluster):
    rec = synths[stack].recording
    (policy,) = [p for p in rec.by_type(POLICY) if "pod_identity:PodIdentity$" in p.urn]
    document = json.loads(policy.inputs["policy"])
    name = load_stack_file(stack)["config"]["webplatform:namespace"] + "/web"
    secret_arn = f"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:{name}-AbCdEf"
    key_arn = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/web-secrets-key-id"
    granted = {(tuple(s["Action"]), s["Resource"]) for s in document["Statement"]}
    assert granted == {
        (("secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"), secret_arn),
        (("kms:Decrypt",), key_arn),
    }
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "*" not in json.dumps(statement["Resource"])
    decrypt = next(s for s in document["Statement"] if s["Action"] == ["kms:Decrypt"])
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == (
        "secretsmanager.us-west-2.amazonaws.com"
    )
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").inputs
    role = rec.one("aws:iam/role:Role", "external-secrets-role")
    assert association == {
        "clusterName": cluster,
        "namespace": "external-secrets",
        "serviceAccount": "external-secrets",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/external-secrets-role",
        "tags": {},
    }
    assert policy.inputs["role"] == "external-secrets-role-id"
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [
        {
            "Sid": "EksPodIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/eks-cluster-arn": (
                        f"arn:aws:eks:us-west-2:{ACCOUNT}:cluster/{cluster}"
                    ),
                    "aws:RequestTag/kubernetes-namespace": "external-secrets",
                    "aws:RequestTag/kubernetes-service-account": "external-secrets",
                }
            },
        }
    ]
    release = rec.one("kubernetes:helm.sh/v3:Release", "external-secrets-release").inputs
    assert (
        release["values"]["scopedNamespace"]
        == load_stack_file(stack)["config"]["webplatform:namespace"]
    )
    assert release["version"] == "2.10.0"


def test_two_apps_get_two_secrets_and_one_policy_naming_both(write_stack):
    document = load_stack_file("staging")
    apps = document["config"]["webplatform:apps"]
    # No route: on the Cloudflare stack only cdn.app is public (issue 19: its Gateway serves
    # Cloudflare's origin certificate, which browsers going straight to api would refuse).
    apps["api"] = {
        **{key: value for key, value in apps["web"].items() if key != "route"},
        "secretEnv": {"API_TOKEN": "apiToken"},
    }
    rec = synth.synthesize("staging", write_stack("staging", document)).recording
    assert sorted(r.inputs["name"] for r in rec.by_type("aws:secretsmanager/secret:Secret")) == [
        "web-staging/api",
        "web-staging/web",
    ]
    (policy,) = [p for p in rec.by_type(POLICY) if "pod_identity:PodIdentity$" in p.urn]
    statements = json.loads(policy.inputs["policy"])["Statement"]
    assert sorted(s["Sid"] for s in statements) == [
        "DecryptApiSecret",
        "DecryptWebSecret",
        "ReadApiSecret",
        "ReadWebSecret",
    ]
    assert len({s["Resource"] for s in statements}) == 4  # two secrets, two keys, each named


# --- The leak test --------------------------------------------------------------------------


def _leak_config(stack, *, value_source=None):
    """The committed stack file as Pulumi would hand it over, with CANARY as the secret's value."""
    source = synth.read_stack_file(ROOT / f"Pulumi.{stack}.yaml", "webplatform")
    flat, secret_keys = dict(source.flat), set(source.secret_keys)
    if value_source is not None:
        secrets = json.loads(flat["webplatform:secrets"])
        secrets["valueSource"] = value_source
        flat["webplatform:secrets"] = json.dumps(secrets)
    flat[KEY] = CANARY
    if stack != "dev":  # the alert receiver's credential: a Pulumi secret too
        flat[ALERTS_KEY] = ALERTS_CANARY
        secret_keys.add(ALERTS_KEY)
    return flat, {*secret_keys, KEY}


def _paths_holding(value, needle, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths_holding(item, needle, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths_holding(item, needle, f"{path}[{index}]")
    elif isinstance(value, str) and needle in value:
        yield path


LEAK_CASES = [("dev", None), ("staging", None), ("prod", "config")]


@pytest.mark.parametrize(("stack", "value_source"), LEAK_CASES)
def test_a_secret_value_leaks_nowhere(stack, value_source, monkeypatch, tmp_path, capfd):
    flat, secret_keys = _leak_config(stack, value_source=value_source)
    monkeypatch.setattr(
        synth,
        "read_stack_file",
        lambda _path, _project, _shown=None: StackSource(
            file="Pulumi.test.yaml", flat=dict(flat), secret_keys=frozenset(secret_keys)
        ),
    )

    # The whole CLI path: program run, both files written, counts printed.
    assert synth.main(["--stack", stack, "--out", str(tmp_path)]) == 0
    printed = capfd.readouterr()
    encoded = base64.b64encode(CANARY.encode()).decode()
    for text in (
        (tmp_path / "resources.json").read_text(),
        (tmp_path / "kubernetes.yaml").read_text(),
        printed.out,
        printed.err,
    ):
        assert CANARY not in text and encoded not in text
        assert ALERTS_CANARY not in text
    written = json.loads((tmp_path / "resources.json").read_text())
    assert CANARY not in json.dumps(written["outputs"])

    rec = testing.run(program, stack=stack, config=flat, secret_keys=secret_keys)
    assert CANARY not in json.dumps(rec.stack_outputs)
    assert ALERTS_CANARY not in json.dumps(rec.stack_outputs)
    carriers = []
    alert_carriers = []
    for resource in rec.resources:
        for path in _paths_holding(resource.inputs, CANARY):
            carriers.append((resource.type, path))
            assert resource.is_secret(path), f"{resource.urn}: {path} carries the value in plain"
        for path in _paths_holding(resource.inputs, ALERTS_CANARY):
            alert_carriers.append((resource.type, path))
            assert resource.is_secret(path), f"{resource.urn}: {path} carries the value in plain"
        for path in _paths_holding(resource.outputs or {}, CANARY):
            assert path in resource.output_secret_paths, f"{resource.urn} output {path}"
    # The receiver's credential reaches only its Secret (never the Helm values or a ConfigMap).
    assert alert_carriers == (
        [] if stack == "dev" else [("kubernetes:core/v1:Secret", "stringData.credential")]
    )
    # The value did reach the program, and only where it belongs.
    expected = {
        "dev": [("kubernetes:core/v1:Secret", "stringData.DATABASE_URL")],
        "staging": [(VERSION, "secretStringWo")],
        "prod": [(VERSION, "secretStringWo")],
    }[stack]
    assert carriers == expected


def test_prod_as_committed_takes_no_value_from_pulumi(synths):
    rec = synths["prod"].recording
    # No app secret comes from Pulumi; the alert receiver's credential does, by design.
    assert synths["prod"].placeholders == ["webplatform:alertsSlackWebhookUrl"]
    for resource in rec.resources:
        if resource.type != "kubernetes:core/v1:Secret":
            assert synth.PLACEHOLDER not in json.dumps(resource.inputs), resource.urn
    flat, secret_keys = _leak_config("prod")
    with pytest.raises(Exception, match="valueSource is outOfBand"):
        testing.run(program, stack="prod", config=flat, secret_keys=secret_keys)


def test_the_leak_check_would_see_a_leak():
    """The same checks flag a value that is not marked secret: they are not vacuous."""
    flat, _ = _leak_config("dev")
    # A secretEnv value in plain text: the program refuses it before registering anything.
    with pytest.raises(Exception, match="stored in plain text"):
        testing.run(program, stack="dev", config=flat, secret_keys=set())

    def careless():
        k8s.core.v1.ConfigMap("oops", data={"DATABASE_URL": CANARY})

    rec = testing.run(careless)
    (path,) = _paths_holding(rec.one("kubernetes:core/v1:ConfigMap").inputs, CANARY)
    assert path == "data.DATABASE_URL"
    assert not rec.one("kubernetes:core/v1:ConfigMap").is_secret(path)


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_creation_order_identity_then_operator_then_objects_then_pods(synths, stack):
    """EKS injects Pod Identity credentials only into pods created after the association;
    the CRDs come with the chart; the Deployments need the Secret the operator writes."""
    rec = synths[stack].recording
    association = rec.one("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    release = rec.one("kubernetes:helm.sh/v3:Release", "external-secrets-release")
    store = rec.one("kubernetes:external-secrets.io/v1:SecretStore")
    external = rec.one(EXTERNAL)
    assert association.urn in release.dependencies
    assert release.urn in store.dependencies
    assert store.urn in external.dependencies
    for deployment in rec.by_type(DEPLOY):
        assert external.urn in deployment.dependencies

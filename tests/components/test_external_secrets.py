import pulumi
import pytest
from pydantic import ValidationError

from tests import crds
from webplatform import (
    ExternalSecretsOperator,
    ExternalSecretsOperatorArgs,
    ExternalSecretSync,
    ExternalSecretSyncArgs,
    testing,
)
from webplatform.secrets.external import SyncSettings

STORE = "kubernetes:external-secrets.io/v1:SecretStore"
EXTERNAL = "kubernetes:external-secrets.io/v1:ExternalSecret"
RELEASE = "kubernetes:helm.sh/v3:Release"


def sync(**overrides):
    args = {
        "app": "web",
        "namespace": "web-prod",
        "remote_secret_name": "web-prod/web",
        "keys": ["DATABASE_URL", "API_TOKEN"],
        "region": "us-west-2",
        **overrides,
    }
    return testing.run(lambda: ExternalSecretSync("web-secrets", ExternalSecretSyncArgs(**args)))


def manifest(resource):
    return {k: resource.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}


def test_the_store_reads_secrets_manager_with_the_controller_identity():
    store = sync().one(STORE)
    assert store.inputs["metadata"]["name"] == "web-aws-secrets-manager"
    assert store.inputs["metadata"]["namespace"] == "web-prod"
    # No `auth`: the controller's Pod Identity, never static keys in a Secret.
    assert store.inputs["spec"] == {
        "provider": {"aws": {"service": "SecretsManager", "region": "us-west-2"}}
    }


def test_the_external_secret_writes_the_secret_the_workload_already_reads():
    rec = sync()
    spec = rec.one(EXTERNAL).inputs["spec"]
    assert spec["target"]["name"] == "web-secrets"  # AppSettings' name: workloads unchanged
    assert spec["target"]["creationPolicy"] == "Owner"
    assert spec["secretStoreRef"] == {"kind": "SecretStore", "name": "web-aws-secrets-manager"}
    assert spec["data"] == [
        {"secretKey": k, "remoteRef": {"key": "web-prod/web", "property": k}}
        for k in ("API_TOKEN", "DATABASE_URL")
    ]
    assert spec["refreshInterval"] == "1h"
    outputs = rec.one("webplatform:external_secrets:ExternalSecretSync").outputs
    assert outputs["secret_name"] == "web-secrets"


def test_pulumi_waits_for_the_secret_and_the_external_secret_waits_for_the_store():
    rec = sync()
    external = rec.one(EXTERNAL)
    assert external.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
    assert rec.one(STORE).urn in external.dependencies


def test_rendered_objects_are_valid_against_the_crds():
    rec = sync(refresh_interval="15m")
    for resource in (rec.one(STORE), rec.one(EXTERNAL)):
        assert crds.errors(manifest(resource)) == [], resource.name


def test_strict_crd_validation_catches_a_misspelt_field():
    bad = manifest(sync().one(EXTERNAL))
    bad["spec"]["data"][0]["remoteRef"]["propery"] = bad["spec"]["data"][0]["remoteRef"].pop(
        "property"
    )
    assert any("propery" in p for p in crds.errors(bad))


def test_no_value_ever_passes_through_pulumi():
    rec = sync()
    for resource in rec.resources:
        assert resource.secret_paths == frozenset(), resource.urn
        assert "stringData" not in resource.inputs and "data" not in resource.inputs


def located(raised) -> tuple[tuple, str]:
    error = raised.value.errors()[0]
    ctx = (error.get("ctx") or {}).get("error")
    loc = tuple(error["loc"]) + tuple(getattr(ctx, "loc", ()))
    return loc, (str(ctx) if ctx is not None else error["msg"])


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        ({"keys": []}, "keys", "at least one key is required"),
        ({"keys": ["A-B"]}, "keys", "'A-B' is not a valid environment variable name"),
        ({"region": "Oregon"}, "region", "must be an AWS region"),
        ({"refresh_interval": "hourly"}, "refresh_interval", "must be a Go duration"),
        ({"refresh_interval": "often"}, "refresh_interval", "must be a Go duration"),
        ({"refresh_interval": ""}, "refresh_interval", "must be a Go duration"),
        ({"refresh_interval": "1 h"}, "refresh_interval", "must be a Go duration"),
        ({"refresh_interval": "-1h"}, "refresh_interval", "must be a Go duration"),
        ({"refresh_interval": "1d"}, "refresh_interval", "units h, m, s, ms"),
        ({"refresh_interval": 3600}, "refresh_interval", "valid string"),
        ({"app": "Web"}, "app", "must be a DNS label"),
    ],
)
def test_bad_sync_args(overrides, where, message):
    args = {
        "app": "web",
        "namespace": "ns",
        "remote_secret_name": "s",
        "keys": ["A"],
        "region": "us-west-2",
        **overrides,
    }
    with pytest.raises(ValidationError) as raised:
        ExternalSecretSyncArgs(**args)
    loc, text = located(raised)
    assert loc[0] == where and message in text


@pytest.mark.parametrize("interval", ["1h", "15m", "1h30m", "90s", "1.5h", "500ms", "0"])
def test_go_durations_are_accepted(interval):
    assert SyncSettings(refresh_interval=interval).refresh_interval == interval


def operator(**overrides):
    args = {"chart_version": "2.8.0", "watch_namespace": "web-prod", **overrides}
    return testing.run(
        lambda: ExternalSecretsOperator("external-secrets", ExternalSecretsOperatorArgs(**args))
    )


def test_operator_chart_is_pinned_and_scoped_to_the_app_namespace():
    rec = operator(values={"replicaCount": 2})
    release = rec.one(RELEASE).inputs
    assert (release["chart"], release["version"]) == ("external-secrets", "2.8.0")
    assert release["repositoryOpts"] == {"repo": "https://charts.external-secrets.io"}
    assert release["namespace"] == "external-secrets"
    assert release["values"] == {
        "replicaCount": 2,
        "installCRDs": True,
        "scopedNamespace": "web-prod",
        "scopedRBAC": True,
        "processClusterStore": False,
        "processClusterExternalSecret": False,
        "serviceAccount": {"create": True, "name": "external-secrets"},
        # The cert-controller's ClusterRole reads and updates Secrets cluster-wide: off,
        # with the webhook it serves.
        "webhook": {"create": False},
        "certController": {"create": False},
    }
    assert release["atomic"] is True


@pytest.mark.parametrize("key", ["webhook", "certController"])
def test_the_webhook_and_its_cert_controller_cannot_be_turned_back_on(key):
    with pytest.raises(ValidationError, match=f"'{key}'.*set by the component"):
        ExternalSecretsOperatorArgs(
            chart_version="2.8.0",
            watch_namespace="web-prod",
            values={key: {"create": True}},
        )


def test_operator_namespace_is_restricted():
    ns = operator().one("kubernetes:core/v1:Namespace")
    assert ns.inputs["metadata"]["name"] == "external-secrets"
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_operator_uses_the_provider_it_is_given():
    def program():
        provider = pulumi.ProviderResource("kubernetes", "k8s")
        ExternalSecretsOperator(
            "eso",
            ExternalSecretsOperatorArgs(chart_version="2.8.0", watch_namespace="ns"),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    rec = testing.run(program)
    assert rec.one(RELEASE).provider.startswith(rec.one("pulumi:providers:kubernetes").urn + "::")


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        ({"chart_version": "^2.8"}, "chart_version", "must be an exact version"),
        ({"chart_version": "2.8"}, "chart_version", "MAJOR.MINOR.PATCH"),
        ({"chart_version": 2.8}, "chart_version", "valid string"),
        ({"watch_namespace": "Web"}, "watch_namespace", "must be a DNS label"),
        ({"namespace": "a" * 64}, "namespace", "at most 63 characters"),
        ({"values": {"scopedRBAC": False}}, "values", "['scopedRBAC'] are set by the component"),
        ({"identity": "association"}, "identity", "instance of Resource"),
    ],
)
def test_bad_operator_args(overrides, where, message):
    args = {"chart_version": "2.10.0", "watch_namespace": "web-prod", **overrides}
    with pytest.raises(ValidationError) as raised:
        ExternalSecretsOperatorArgs(**args)
    loc, text = located(raised)
    assert loc[0] == where and message in text


def test_release_waits_for_the_identity_and_objects_wait_for_the_operator():
    def program():
        identity = pulumi.CustomResource("test:index:Association", "association")
        eso = ExternalSecretsOperator(
            "eso",
            ExternalSecretsOperatorArgs(
                chart_version="2.8.0", watch_namespace="ns", identity=identity
            ),
        )
        ExternalSecretSync(
            "web-secrets",
            ExternalSecretSyncArgs(
                app="web",
                namespace="ns",
                remote_secret_name="ns/web",
                keys=["A"],
                region="us-west-2",
                operator=eso,
            ),
        )

    rec = testing.run(program)
    association = rec.one("test:index:Association")
    release = rec.one(RELEASE)
    assert association.urn in release.dependencies
    assert release.urn in rec.one(STORE).dependencies

"""The config models as plain pydantic, and the error messages a stack author reads."""

import json

import pytest

from infra.config import StackConfigError, parse
from tests.conftest import load_stack_file


def flat(stack="dev", mutate=None):
    config = load_stack_file(stack)["config"]
    if mutate:
        mutate(config)
    flat_config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    if stack != "dev":  # the alert receiver's credential is a secret the file cannot hold
        flat_config[ALERTS] = "https://hooks.example/test"
    return flat_config


ALERTS = "webplatform:alertsSlackWebhookUrl"
SECRETS = {"webplatform:webDatabaseUrl", ALERTS}


def with_secret(raw):
    return {**raw, "webplatform:webDatabaseUrl": "postgres://x"}


def test_committed_stacks_parse_with_reference_001_numbers():
    dev = parse("dev", with_secret(flat("dev")), SECRETS)
    staging = parse("staging", with_secret(flat("staging")), SECRETS)
    # prod's secrets are set out of band, in AWS Secrets Manager: none in its config.
    prod = parse("prod", flat("prod"), {ALERTS})
    assert dev.environment == "dev" and dev.apps["web"].replicas == 1
    s, p = staging.apps["web"], prod.apps["web"]
    assert (s.replicas, s.resources.requests.cpu, s.resources.requests.memory) == (
        2,
        "200m",
        "256Mi",
    )
    assert (s.resources.limits.cpu, s.resources.limits.memory) == ("400m", "512Mi")
    assert (p.replicas, p.resources.requests.cpu, p.resources.requests.memory) == (
        3,
        "250m",
        "256Mi",
    )
    assert (p.resources.limits.cpu, p.resources.limits.memory) == ("500m", "512Mi")
    assert prod.environment == "production"


def test_models_are_frozen():
    config = parse("dev", with_secret(flat()), SECRETS)
    with pytest.raises(Exception, match="frozen"):
        config.apps["web"].replicas = 5  # type: ignore[misc]


def test_other_namespaces_belong_to_providers_and_are_ignored():
    raw = {**with_secret(flat()), "aws:region": "us-west-2", "kubernetes:context": "x"}
    assert parse("dev", raw, SECRETS).namespace == "web-dev"


def test_error_lists_every_problem_with_file_path_value_and_allowed():
    def mutate(c):
        c["webplatform:environment"] = "qa"
        c["webplatform:apps"]["web"]["replicas"] = 0

    with pytest.raises(StackConfigError) as info:
        parse("dev", with_secret(flat(mutate=mutate)), SECRETS)
    message = str(info.value)
    assert message.startswith("Pulumi.dev.yaml: invalid stack configuration (2 problem(s)):")
    assert (
        "webplatform:environment: Input should be 'dev', 'staging', 'uat' or 'production' (got 'qa')"
        in message
    )
    assert (
        "webplatform:apps.web.replicas: Input should be greater than or equal to 1 (got 0)"
        in message
    )


def test_unknown_nested_key_lists_the_allowed_keys():
    def mutate(c):
        c["webplatform:apps"]["web"]["replicaCount"] = 2

    with pytest.raises(StackConfigError) as info:
        parse("dev", with_secret(flat(mutate=mutate)), SECRETS)
    ((path, message),) = info.value.problems
    assert path == "webplatform:apps.web.replicaCount"
    assert message.startswith("unknown key; allowed: ")
    allowed = message.removeprefix("unknown key; allowed: ").split(", ")
    assert {"image", "port", "replicas", "resources", "strategy", "blueGreen", "secretEnv"} <= set(
        allowed
    )
    assert "replicaCount" not in allowed


def test_secret_referenced_but_stored_in_plain_text_is_rejected():
    with pytest.raises(
        StackConfigError, match=r"webplatform:webDatabaseUrl: is stored in plain text"
    ):
        parse("dev", with_secret(flat()), set())


def test_secret_referenced_but_missing_names_the_command_to_set_it():
    with pytest.raises(StackConfigError) as info:
        parse("dev", flat(), set())
    assert info.value.problems == [
        (
            "webplatform:apps.web.secretEnv.DATABASE_URL",
            "secret webplatform:webDatabaseUrl is not set; run: pulumi config set --secret webDatabaseUrl <value>",
        )
    ]


def test_config_error_is_a_run_error_so_pulumi_prints_it_without_a_traceback():
    import pulumi

    assert issubclass(StackConfigError, pulumi.RunError)


def test_cluster_mode_existing_by_default_and_eks_for_staging_and_prod():
    def drop_cluster(c):
        del c["webplatform:cluster"]

    assert parse("dev", with_secret(flat("dev", drop_cluster)), SECRETS).cluster.mode == "existing"
    staging = parse("staging", {**with_secret(flat("staging"))}, SECRETS).cluster
    prod = parse("prod", flat("prod"), {ALERTS}).cluster  # prod's secret lives in AWS only
    assert (staging.mode, staging.name, staging.protect) == ("eks", "webplatform-staging", False)
    assert (prod.mode, prod.name, prod.protect) == ("eks", "webplatform-production", True)
    assert prod.vpc is not None and prod.vpc.nat_gateways == "perAz"
    assert prod.vpc.availability_zones == 3
    assert prod.endpoint.allow_open_to_internet is False


def test_every_cluster_and_secrets_key_has_a_description():
    """Walks every model the cluster and secrets keys compose (the components' own)."""
    import typing

    from pydantic import BaseModel

    from infra import config

    seen: set[type] = set()

    def models_in(annotation):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield annotation
        for arg in typing.get_args(annotation):
            yield from models_in(arg)

    def walk(model):
        if model in seen:
            return
        seen.add(model)
        model.model_rebuild()
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name}"
            for inner in models_in(info.annotation):
                walk(inner)

    for model in (config.ClusterSpec, config.KubernetesSpec, config.SecretsSpec):
        walk(model)
    names = {m.__name__ for m in seen}
    assert {"VpcSettings", "NodePoolArgs", "ClusterAccessArgs", "ClusterAddonsArgs"} <= names
    assert {"ClusterIssuerArgs", "SecretRotation", "OperatorSettings"} <= names

import hashlib
import json
import warnings

import pulumi
import pytest

from tests.model_errors import rejects
from webplatform import AppSettings, AppSettingsArgs, testing
from webplatform._model import Args, Input, Items

CM, SECRET = "kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret"


def build(plain=None, secret=None):
    return testing.run(
        lambda: AppSettings(
            "web-settings",
            AppSettingsArgs(app="web", namespace="ns", plain=plain or {}, secret=secret or {}),
        )
    )


def test_plain_settings_go_to_the_config_map_and_secrets_to_the_secret():
    rec = build({"LOG_LEVEL": "info"}, {"DB_URL": pulumi.Output.secret("postgres://u:p@db/app")})
    assert rec.one(CM).inputs["data"] == {"LOG_LEVEL": "info"}
    secret = rec.one(SECRET)
    assert secret.inputs["stringData"] == {"DB_URL": "postgres://u:p@db/app"}
    assert "DB_URL" not in json.dumps(rec.one(CM).inputs)
    assert secret.inputs["metadata"]["name"] == "web-secrets"
    assert rec.one(CM).inputs["metadata"]["name"] == "web-config"


def test_secret_data_is_a_pulumi_secret_even_when_given_as_a_plain_string():
    # The caller forgot Output.secret: the component still registers it as a secret.
    secret = build(secret={"TOKEN": "plain-but-sensitive"}).one(SECRET)
    assert secret.is_secret("stringData")
    assert secret.is_secret("stringData.TOKEN")
    assert {"data", "stringData"} <= set(secret.additional_secret_outputs)


def test_no_secret_object_when_there_are_no_secret_settings():
    rec = build({"A": "1"})
    assert rec.by_type(SECRET) == []
    outputs = rec.one("webplatform:settings:AppSettings").outputs
    assert outputs["config_map_name"] == "web-config"
    assert outputs.get("secret_name") is None


def test_checksum_covers_plain_settings_only():
    def checksum(plain, secret):
        holder = {}

        def program():
            holder["c"] = AppSettings(
                "s", AppSettingsArgs(app="web", namespace="ns", plain=plain, secret=secret)
            ).checksum

        testing.run(program)
        return holder["c"]

    assert checksum({"A": "1"}, {"S": "x"}) == checksum({"A": "1"}, {"S": "y"})
    assert checksum({"A": "1"}, {}) != checksum({"A": "2"}, {})
    expected = hashlib.sha256(json.dumps({"A": "1", "B": "2"}).encode()).hexdigest()
    assert checksum({"B": "2", "A": "1"}, {}) == expected


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"plain": {"DB": "x"}, "secret": {"DB": "y"}}, "secret", "['DB'] are also plain settings"),
        ({"plain": {"1BAD": "x"}}, "plain.1BAD.[key]", "pattern"),
        ({"secret": {"BAD-NAME": "x"}}, "secret.BAD-NAME.[key]", "pattern"),
        ({"plain": {"PORT": 8080}}, "plain.PORT", "valid string"),
        ({"plain": {"ON": True}}, "plain.ON", "valid string"),
        ({"app": "Web"}, "app", "pattern"),
    ],
)
def test_bad_settings_are_rejected(overrides, path, message):
    rejects(AppSettingsArgs, {"app": "web", "namespace": "ns", **overrides}, path, message)


def test_a_secret_value_is_never_in_the_error():
    with pytest.raises(ValueError) as caught:
        AppSettingsArgs(app="web", namespace="ns", secret={"TOKEN": 12345})  # type: ignore[dict-item]
    assert "12345" not in str(caught.value)


def test_an_externally_written_secret_is_read_by_name_and_not_created():
    def program():
        settings = AppSettings(
            "web-settings",
            AppSettingsArgs(
                app="web",
                namespace="ns",
                plain={"A": "1"},
                external_secret_name=pulumi.Output.from_input("web-secrets"),
            ),
        )
        pulumi.export("secret_name", settings.secret_name)

    rec = testing.run(program)
    assert rec.by_type(SECRET) == []
    assert rec.stack_outputs["secret_name"] == "web-secrets"


def test_secret_values_and_an_external_secret_do_not_mix():
    rejects(
        AppSettingsArgs,
        {"app": "web", "namespace": "ns", "secret": {"S": "x"}, "externalSecretName": "s"},
        "externalSecretName",
        "not with secret",
    )


def test_an_input_inside_a_union_or_tuple_builds_without_a_warning():
    """``Input[str] | None`` and ``Items[Input[str]]`` are how Args spell optional and
    repeated inputs; pydantic warned at schema build (on every `pulumi up`'s stderr) while
    ``Input`` carried a ``Field()`` that only a top-level field can hold."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        class Probe(Args):
            name: Input[str] | None = None
            hosts: Items[Input[str]] = ()

        probe = Probe(name="a", hosts=["x", "y"])
    assert (probe.name, probe.hosts) == ("a", ("x", "y"))

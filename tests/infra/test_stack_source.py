"""The program reads the stack file as ``pulumi up`` hands it over: the file next to
Pulumi.yaml for types and secret leaves, the engine's config for values."""

import runpy

import pytest
import yaml

from infra.config import StackConfigError
from infra.config._source import combine, from_file, read
from tests.conftest import ROOT, load_stack_file
from webplatform import testing

CANARY = "api-key-canary-5d1e"


def _dev_with_secret_env_leaf(tmp_path):
    document = load_stack_file("dev")
    document["config"]["webplatform:apps"]["web"]["env"]["API_KEY"] = {"secure": "v1:AAAA"}
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _run(tmp_path, path, *, extra=None):
    source = from_file(path, "webplatform", CANARY)
    flat = {**source.flat, "webplatform:webDatabaseUrl": "postgres://x", **(extra or {})}
    secret = {*source.secret_keys, "webplatform:webDatabaseUrl"}
    return testing.run(
        lambda: runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__"),
        stack="dev",
        config=flat,
        secret_keys=secret,
        root_directory=str(tmp_path),
    )


def test_a_secret_env_leaf_goes_to_the_secret_not_the_config_map(tmp_path):
    recording = _run(tmp_path, _dev_with_secret_env_leaf(tmp_path))
    config_map = recording.one("kubernetes:core/v1:ConfigMap")
    secret = recording.one("kubernetes:core/v1:Secret")
    assert "API_KEY" not in config_map.inputs["data"]
    assert secret.inputs["stringData"]["API_KEY"] == CANARY
    assert secret.is_secret("stringData.API_KEY")
    # The checksum annotation is the plain settings' only: the same as without the secret.
    plain = _run(tmp_path / "plain", _write_plain(tmp_path))
    annotations = [
        r.get("spec.template.metadata.annotations")
        for rec in (recording, plain)
        for r in rec.by_type("kubernetes:apps/v1:Deployment")
    ]
    assert annotations[0] == annotations[1]
    for r in recording.resources:
        if r.type != "kubernetes:core/v1:Secret":
            assert CANARY not in repr(r.inputs), r.urn


def _write_plain(tmp_path):
    (tmp_path / "plain").mkdir()
    path = tmp_path / "plain" / "Pulumi.dev.yaml"
    path.write_text((ROOT / "Pulumi.dev.yaml").read_text())
    return path


def test_the_whole_key_is_secret_for_the_engine_but_one_leaf_for_the_program(tmp_path):
    path = _dev_with_secret_env_leaf(tmp_path)
    _tree, secure = read(path, "webplatform")
    assert secure == [("webplatform:apps", ("web", "env", "API_KEY"))]
    engine = from_file(path, "webplatform", CANARY)
    source = combine(path, "webplatform", engine.flat, frozenset({"webplatform:apps"}))
    assert source.notes == ()
    assert source.is_secret("webplatform:apps", ("web", "env", "API_KEY"))
    assert not source.is_secret("webplatform:apps", ("web", "env", "LOG_LEVEL"))
    assert source.tree["webplatform:apps"]["web"]["env"]["API_KEY"] == CANARY


def test_a_file_that_is_not_what_the_engine_read_is_not_trusted(tmp_path):
    """`pulumi up --config-file OTHER`: the file next to Pulumi.yaml differs; the engine's
    config is validated instead, each secret key secret as a whole, and a note says so."""
    path = _dev_with_secret_env_leaf(tmp_path)
    engine = dict(from_file(path, "webplatform", CANARY).flat)
    engine["webplatform:namespace"] = "web-other"
    source = combine(path, "webplatform", engine, frozenset({"webplatform:apps"}))
    assert source.tree is None and source.notes
    assert "WEBPLATFORM_CONFIG_FILE" in source.notes[0] or "differs" in source.notes[0]
    assert source.is_secret("webplatform:apps", ("web", "replicas"))


def test_config_file_env_names_the_file_to_read(tmp_path, monkeypatch):
    path = tmp_path / "elsewhere.yaml"
    document = load_stack_file("dev")
    document["config"]["webplatform:apps"]["web"]["replicas"] = "2"
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("WEBPLATFORM_CONFIG_FILE", str(path))
    recording = testing.Recording()
    with pytest.raises(StackConfigError) as caught:
        testing.run(
            lambda: runpy.run_path(str(ROOT / "infra" / "__main__.py"), run_name="__main__"),
            stack="dev",
            config=from_file(path, "webplatform", CANARY).flat,
            root_directory=str(ROOT),
            recording=recording,
        )
    assert str(caught.value).startswith(f"{path}: invalid stack configuration")
    assert "webplatform:apps.web.replicas: Input should be a valid integer" in str(caught.value)
    assert recording.resources == []


def test_yaml_is_resolved_as_yaml_v3_resolves_it(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text(
        "config:\n  a: yes\n  b: off\n  c: 0o17\n  d: 1_000\n  e: 017\n  f: ~\n  g: 1.5e3\n"
        "  h: '2024-01-31'\n  i: True\n  j: 0b101\n  k: 12:30\n"
    )
    tree, _ = read(path, "p")
    assert tree == {
        "p:a": "yes",
        "p:b": "off",
        "p:c": 15,
        "p:d": 1000,
        "p:e": 15,
        "p:f": None,
        "p:g": 1500.0,
        "p:h": "2024-01-31",
        "p:i": True,
        "p:j": 5,
        "p:k": "12:30",
    }


def test_secret_leaves_on_input_fields_become_secret_outputs():
    """Generic: a field typed ``Input[T]`` can carry a secret; the value becomes an Output
    marked secret in a copy of the (frozen) model, wherever it sits."""
    import pulumi

    from infra.config.keys import accepts_output
    from infra.config.secret_values import _replace
    from webplatform._model import Args, Input, Items

    class Leaf(Args):
        host: Input[str]
        port: int = 1

    class Root(Args):
        leaves: Items[Leaf]
        named: dict[str, Leaf]

    root = Root.model_validate(
        {"leaves": [{"host": "a"}], "named": {"x": {"host": "b"}}}, by_alias=True
    )
    changed = _replace(root, ("named", "x", "host"), pulumi.Output.secret)
    changed = _replace(changed, ("leaves", 0, "host"), pulumi.Output.secret)
    assert isinstance(changed.named["x"].host, pulumi.Output)
    assert isinstance(changed.leaves[0].host, pulumi.Output)
    assert root.named["x"].host == "b"  # the original is untouched
    assert accepts_output(Leaf.model_fields["host"].annotation)
    assert not accepts_output(Leaf.model_fields["port"].annotation)


def test_without_the_stack_file_the_engine_config_is_validated(tmp_path):
    """A stack whose file is not next to Pulumi.yaml (config from an ESC environment, say):
    the engine's values are validated, a note says so, and a secret key is secret whole."""
    flat = dict(from_file(ROOT / "Pulumi.dev.yaml", "webplatform", CANARY).flat)
    source = combine(tmp_path / "Pulumi.dev.yaml", "webplatform", flat, frozenset({"x:y"}))
    assert source.tree is None and "does not exist" in source.notes[0]
    assert source.values()["webplatform:apps"]["web"]["replicas"] == 1
    assert source.is_secret("x:y", ("any", "path"))

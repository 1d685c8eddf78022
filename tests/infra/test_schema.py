"""The stack-file JSON Schema: generated from the models, committed, current, and every
committed stack file passes it (and names it for the editor's YAML language server)."""

import json

import jsonschema
import pytest

from infra import schema
from infra.config._source import read
from tests.conftest import ROOT

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
MODELINE = "# yaml-language-server: $schema=schema/stack.schema.json"


@pytest.fixture(scope="module")
def validator():
    document = json.loads(schema.SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def test_committed_schema_is_current():
    assert schema.SCHEMA_FILE.read_text() == schema.render(), (
        "schema/stack.schema.json is stale: run python3 dev.py schema"
    )


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_each_stack_file_validates_and_names_the_schema(path, validator):
    assert path.read_text().splitlines()[0] == MODELINE
    tree, _secure = read(path, "webplatform")
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors({"config": tree})]
    assert errors == []


@pytest.mark.parametrize(
    ("edit", "where"),
    [
        (lambda c: c["webplatform:apps"]["web"].update(replicas="3"), "replicas"),
        (lambda c: c["webplatform:apps"]["web"].update(service_port=81), "web"),
        (lambda c: c.update({"webplatform:environment": "qa"}), "webplatform:environment"),
        (lambda c: c.update({"webplatform:typo": "plain"}), "config"),
        (lambda c: c["webplatform:cluster"].update(mode="gke"), "mode"),
    ],
)
def test_the_schema_refuses_what_the_program_refuses(edit, where, validator):
    tree, _ = read(ROOT / "Pulumi.dev.yaml", "webplatform")
    edit(tree)
    errors = list(validator.iter_errors({"config": tree}))
    assert errors and any(where in [str(p) for p in e.absolute_path] for e in errors), errors


def test_secure_values_are_allowed_wherever_a_string_is(validator):
    tree, _ = read(ROOT / "Pulumi.dev.yaml", "webplatform")
    tree["webplatform:apps"]["web"]["env"]["API_KEY"] = {"secure": "v1:AAAA"}
    tree["webplatform:webDatabaseUrl"] = {"secure": "v1:BBBB"}
    tree["aws:secretKey"] = {"secure": "v1:CCCC"}
    assert list(validator.iter_errors({"config": tree})) == []
    tree["webplatform:apps"]["web"]["replicas"] = {"secure": "v1:DDDD"}  # an integer: no
    assert list(validator.iter_errors({"config": tree}))

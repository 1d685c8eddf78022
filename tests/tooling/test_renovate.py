"""renovate.json: valid against Renovate's own JSON schema, and its regex managers find every pin.

The schema is the ``renovate-schema.json`` that the ``renovate`` npm package ships,
at a pinned version and checksum, fetched once with ``npm pack`` into
``~/.cache/webplatform`` (it is AGPL-3.0 data, so it is not copied into this
repository). Renovate's own ``renovate-config-validator`` needs Node 24 and the
whole package; the schema check runs anywhere Python does.

The regex managers are run here with Python's ``re`` on the stack files: each
chart version (and the Kubernetes minor) that a stack file pins must be found by
exactly one manager, with the value YAML reads at that key. A new add-on without
a manager, or a stack file reshaped so a regex no longer matches, fails here
rather than silently never being bumped.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT

RENOVATE_VERSION = "44.121.2"
SCHEMA_SHA256 = "989a29d9d8f1c421436b68de9472898283b55db6c5cf98fb243489e40e338a02"
CACHE = Path(os.environ.get("WEBPLATFORM_CACHE") or Path.home() / ".cache" / "webplatform")
CONFIG: dict[str, Any] = json.loads((ROOT / "renovate.json").read_text())
STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))

#: Add-on key in ``webplatform:cluster.addons`` -> the chart's Renovate depName.
ADDON_CHARTS = {
    "certManager": "cert-manager",
    "metricsServer": "metrics-server",
    "argoRollouts": "argo-rollouts",
    "envoyGateway": "docker.io/envoyproxy/gateway-helm",
}


def _schema() -> dict[str, Any]:
    cached = CACHE / f"renovate-{RENOVATE_VERSION}" / "renovate-schema.json"
    if not cached.exists():
        npm = shutil.which("npm")
        if npm is None:
            if os.environ.get("CI"):
                pytest.fail("npm is needed to fetch Renovate's JSON schema")
            pytest.skip("npm not installed: cannot fetch Renovate's JSON schema")
        work = cached.parent / "pack"
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "pack", f"renovate@{RENOVATE_VERSION}", "--silent"],
            cwd=work,
            check=True,
            capture_output=True,
            timeout=300,
        )
        with tarfile.open(work / f"renovate-{RENOVATE_VERSION}.tgz") as tgz:
            member = tgz.extractfile("package/renovate-schema.json")
            assert member is not None
            data = member.read()
        cached.write_bytes(data)
        shutil.rmtree(work)
    data = cached.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SCHEMA_SHA256, "unexpected renovate-schema.json"
    return json.loads(data)


def test_renovate_json_is_valid_against_renovates_schema():
    schema = _schema()
    assert str(RENOVATE_VERSION) in schema["title"]
    jsonschema.Draft7Validator(schema).validate(CONFIG)


def test_renovate_json_uses_only_options_renovate_knows():
    """The schema allows unknown keys; a misspelt option would be ignored. Not here."""
    schema = _schema()
    known = set(schema["properties"])
    assert set(CONFIG) - {"$schema"} <= known, set(CONFIG) - known
    managers = set(schema["definitions"]["customManagers"]["items"]["allOf"][0]["properties"])
    for manager in CONFIG["customManagers"]:
        assert set(manager) <= managers, set(manager) - managers
    # a package rule holds its match* conditions and any option a config may set
    rules = set(schema["definitions"]["packageRules"]["items"]["allOf"][0]["properties"]) | known
    for rule in CONFIG["packageRules"]:
        assert set(rule) <= rules, set(rule) - rules


def test_every_rule_and_manager_says_why():
    for item in [*CONFIG["customManagers"], *CONFIG["packageRules"][:4]]:
        assert item.get("description"), item


def _python_regex(pattern: str) -> re.Pattern[str]:
    """Renovate's regex syntax (JavaScript/RE2 named groups) in Python's spelling."""
    return re.compile(re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern))


def _file_pattern(pattern: str) -> re.Pattern[str]:
    assert pattern.startswith("/") and pattern.endswith("/"), pattern
    return re.compile(pattern[1:-1])


def _for_stack_files(manager: dict[str, Any]) -> bool:
    return any(_file_pattern(p).search("Pulumi.prod.yaml") for p in manager["managerFilePatterns"])


def _found(path: Path) -> set[tuple[str, str]]:
    """(depName, version) for every regex manager match in one file."""
    text = path.read_text()
    found = []
    for manager in CONFIG["customManagers"]:
        if not any(_file_pattern(p).search(path.name) for p in manager["managerFilePatterns"]):
            continue
        for pattern in manager["matchStrings"]:
            for match in _python_regex(pattern).finditer(text):
                found.append((manager["depNameTemplate"], match["currentValue"]))
    assert len(found) == len(set(found)), f"{path.name}: a pin matched twice: {found}"
    return set(found)


def _pinned(path: Path) -> set[tuple[str, str]]:
    """(depName, version) for every version a stack file pins, as YAML reads it."""
    config = yaml.safe_load(path.read_text()).get("config", {})
    pins = set()
    kubernetes = config.get("webplatform:kubernetes") or {}
    if "version" in kubernetes:
        pins.add(("amazon-eks", str(kubernetes["version"])))
    addons = (config.get("webplatform:cluster") or {}).get("addons") or {}
    for key, addon in addons.items():
        assert key in ADDON_CHARTS, f"{path.name}: add-on {key!r} has no Renovate manager"
        pins.add((ADDON_CHARTS[key], str(addon["version"])))
    operator = (config.get("webplatform:secrets") or {}).get("operator") or {}
    if "chartVersion" in operator:
        pins.add(("external-secrets", str(operator["chartVersion"])))
    return pins


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_the_regex_managers_find_every_version_a_stack_file_pins(path):
    pinned = _pinned(path)
    assert any(dep == "amazon-eks" for dep, _ in pinned), "every stack names its Kubernetes minor"
    assert _found(path) == pinned


def test_a_regex_manager_matches_both_yaml_forms_and_only_its_key():
    """Flow (``{version: 1.2.3}``) and block forms, quoted or not, the key after other keys."""
    (manager,) = [m for m in CONFIG["customManagers"] if m["depNameTemplate"] == "argo-rollouts"]
    (pattern,) = manager["matchStrings"]
    regex = _python_regex(pattern)
    cases = {
        "\n  argoRollouts: {enabled: false, version: 2.39.5}\n": "2.39.5",
        '\n  argoRollouts:\n    enabled: true\n    version: "2.40.1"\n  other: 1\n': "2.40.1",
        "\n  argoRollouts:\n    version: v2.41.0  # pinned\n": "v2.41.0",
    }
    for text, version in cases.items():
        (match,) = regex.finditer(text)
        assert match["currentValue"] == version, text
    assert not regex.search("\n  metricsServer: {version: 3.12.2}\n")


def test_every_chart_manager_has_a_pin_in_some_stack_file():
    """No dead managers: each finds a version somewhere. metrics-server is the exception while
    only EKS stacks exist (they run the managed add-on); a stack on another cluster pins it."""
    found = {dep for path in STACK_FILES for dep, _ in _found(path)}
    managed = {m["depNameTemplate"] for m in CONFIG["customManagers"] if _for_stack_files(m)}
    assert managed - found <= {"metrics-server"}, managed - found
    assert {"cert-manager", "docker.io/envoyproxy/gateway-helm", "external-secrets"} <= found


ENGINE = ROOT / "tools" / "engine" / "build.py"


def test_the_engine_managers_find_each_go_module_version_build_py_pins():
    """tools/engine (issue 13) pins its Go modules as constants in build.py."""
    managers = [m for m in CONFIG["customManagers"] if m["datasourceTemplate"] == "go"]
    assert {m["depNameTemplate"] for m in managers} == {
        "github.com/pulumi/pulumi/pkg/v3",
        "k8s.io/kubernetes",
        "go.etcd.io/etcd/server/v3",
        "sigs.k8s.io/kwok",
    }
    for manager in managers:
        (pattern,) = manager["managerFilePatterns"]
        assert _file_pattern(pattern).search("tools/engine/build.py")
    if not ENGINE.exists():
        pytest.skip("tools/engine is not merged here yet")
    constants = {
        node.targets[0].id: node.value.value
        for node in ast.parse(ENGINE.read_text()).body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    text = ENGINE.read_text()
    for manager in managers:
        (pattern,) = manager["matchStrings"]
        (match,) = _python_regex(pattern).finditer(text)
        name = re.search(r"\\n(\w+) =", pattern)
        assert name and constants[name[1]] == match["currentValue"], manager["depNameTemplate"]


def test_helm_managers_name_their_https_repository():
    for manager in CONFIG["customManagers"]:
        if manager["datasourceTemplate"] == "helm":
            assert manager["registryUrlTemplate"].startswith("https://"), manager
        if manager["datasourceTemplate"] == "docker":  # an OCI chart: the registry is in the name
            assert manager["depNameTemplate"].startswith("docker.io/"), manager


def test_the_charts_renovate_watches_are_the_ones_the_components_install():
    """The repository or OCI reference in renovate.json is the one the code installs from."""
    source = "".join(
        (ROOT / "components" / path).read_text()
        for path in ("cluster/addons.py", "secrets/external.py")
    )
    for manager in CONFIG["customManagers"]:
        if manager["datasourceTemplate"] == "helm":
            assert f'"{manager["registryUrlTemplate"]}"' in source, manager["depNameTemplate"]
        if manager["datasourceTemplate"] == "docker":
            assert f'"oci://{manager["depNameTemplate"]}"' in source, manager["depNameTemplate"]


def test_the_python_locks_and_the_pinned_uv_are_covered():
    assert CONFIG["lockFileMaintenance"]["enabled"] is True
    (pattern,) = CONFIG["pip_requirements"]["managerFilePatterns"]
    assert _file_pattern(pattern).search("requirements-uv.txt")
    assert not _file_pattern(pattern).search("requirements-scan.lock")  # dev.py scan-lock's
    assert not _file_pattern(pattern).search("requirements-docs.lock")  # dev.py docs-lock's
    # pep621 is on by default (no enabledManagers list) and finds both projects' uv.lock
    assert "enabledManagers" not in CONFIG
    for project in (ROOT, ROOT / "policy"):
        assert (project / "pyproject.toml").exists() and (project / "uv.lock").exists()


def test_nothing_is_automerged_because_every_merge_to_main_deploys_with_credentials():
    import json

    from tests.conftest import ROOT

    config = json.loads((ROOT / "renovate.json").read_text())
    rules = [config, *config.get("packageRules", []), config.get("lockFileMaintenance", {})]
    assert not [r.get("description", "top level") for r in rules if r.get("automerge")]
    assert "automerge" not in json.dumps(config).replace("Never automerged", "")

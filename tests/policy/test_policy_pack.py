"""The pack's entry file wires every check into the policy SDK, and the SDK stays out of .venv.

``policy/__main__.py`` needs ``pulumi_policy``, which lives only in the pack's
own virtualenv; here a recording stand-in with the SDK's names replaces it, so
the wiring (which policies, which kind, enforcement, configuration, how
violations are reported) is tested in the project's environment. The real SDK
runs the same file under ``pulumi preview --policy-pack policy`` in CI.
"""

from __future__ import annotations

import enum
import importlib.util
import re
import runpy
import sys
import tomllib
import types
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from tests.policy._load import POLICY_DIR, load_checks

checks = load_checks()
ROOT = POLICY_DIR.parent


class _Recorded:
    def __init__(self, name: str, description: str, **kwargs: Any) -> None:
        self.name, self.description, self.kwargs = name, description, kwargs


def _fake_sdk() -> tuple[types.ModuleType, list[dict[str, Any]]]:
    packs: list[dict[str, Any]] = []
    sdk = types.ModuleType("pulumi_policy")

    class EnforcementLevel(enum.Enum):
        ADVISORY = "advisory"
        MANDATORY = "mandatory"
        DISABLED = "disabled"

    class PolicyConfigSchema:
        def __init__(self, properties: dict[str, Any], required: list[str] | None = None):
            self.properties, self.required = properties, required

    class ResourceValidationPolicy(_Recorded):
        pass

    class StackValidationPolicy(_Recorded):
        pass

    def policy_pack(**kwargs: Any) -> None:
        packs.append(kwargs)

    sdk.__dict__.update(
        EnforcementLevel=EnforcementLevel,
        PolicyConfigSchema=PolicyConfigSchema,
        PolicyPack=policy_pack,
        ResourceValidationPolicy=ResourceValidationPolicy,
        StackValidationPolicy=StackValidationPolicy,
        ReportViolation=object,
        ResourceValidationArgs=object,
        StackValidationArgs=object,
    )
    return sdk, packs


class _Config:
    environment: str | None = "production"

    def __init__(self, namespace: str) -> None:
        assert namespace == "webplatform"

    def get(self, key: str) -> str | None:
        return self.environment if key == "environment" else None


@pytest.fixture
def pack(monkeypatch):
    """Run the entry file against the stand-in SDK; return its one PolicyPack call."""
    sdk, packs = _fake_sdk()
    monkeypatch.setitem(sys.modules, "pulumi_policy", sdk)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(pulumi, "Config", _Config)
    monkeypatch.setattr(pulumi, "get_stack", lambda: "staging")
    monkeypatch.setattr(_Config, "environment", "production")
    try:
        runpy.run_path(str(POLICY_DIR / "__main__.py"), run_name="__main__")
    finally:
        sys.modules.pop("checks", None)
    assert len(packs) == 1
    return packs[0]


def _policy(pack: dict[str, Any], name: str) -> _Recorded:
    return next(p for p in pack["policies"] if p.name == name)


def test_the_pack_registers_every_check_as_a_mandatory_policy(pack):
    assert pack["name"] == "webplatform-guardrails"
    assert pack["enforcement_level"].value == "mandatory"
    assert [(p.name, p.description) for p in pack["policies"]] == [
        (p.name, p.description) for p in checks.POLICIES
    ]
    for registered, policy in zip(pack["policies"], checks.POLICIES, strict=True):
        assert registered.kwargs["enforcement_level"].value == "mandatory"
        kind = type(registered).__name__
        assert kind == (
            "StackValidationPolicy" if policy.stack_check else "ResourceValidationPolicy"
        )
    schema = _policy(pack, "no-mutable-image-tags").kwargs["config_schema"]
    assert schema.properties["mutableTagEnvironments"]["default"] == ["dev"]


class _Args:
    def __init__(self, resource_type: str, props: dict[str, Any], urn: str, config: Any = None):
        self.resource_type, self.props, self.urn, self._config = resource_type, props, urn, config

    def get_config(self) -> Any:
        return self._config


LATEST = {
    "metadata": {"name": "web", "namespace": "web-production"},
    "spec": {"template": {"spec": {"containers": [{"name": "web", "image": "web:latest"}]}}},
}


def _validate(policy: _Recorded, args: Any) -> list[tuple[str, str | None]]:
    reported: list[tuple[str, str | None]] = []
    policy.kwargs["validate"](args, lambda message, urn=None: reported.append((message, urn)))
    return reported


def test_a_resource_policy_reports_what_its_check_finds(pack):
    policy = _policy(pack, "no-mutable-image-tags")
    args = _Args("kubernetes:apps/v1:Deployment", LATEST, "urn:web")
    assert _validate(policy, args) == [
        (
            "Deployment web container 'web': image 'web:latest' is mutable (:latest); "
            "use a version tag or a digest in production",
            None,
        )
    ]
    args = _Args("kubernetes:apps/v1:Deployment", LATEST, "urn:web", {"mutableTagEnvironments": []})
    assert len(_validate(policy, args)) == 1
    allowed = {"mutableTagEnvironments": ["production"]}
    assert _validate(policy, _Args("kubernetes:apps/v1:Deployment", LATEST, "u", allowed)) == []


def test_without_webplatform_environment_the_stack_name_decides(pack, monkeypatch):
    monkeypatch.setattr(_Config, "environment", None)
    policy = _policy(pack, "no-mutable-image-tags")
    (message,) = _validate(policy, _Args("kubernetes:apps/v1:Deployment", LATEST, "urn:web"))
    assert message[0].endswith("in staging")
    monkeypatch.setattr(pulumi, "get_stack", lambda: "dev")
    assert _validate(policy, _Args("kubernetes:apps/v1:Deployment", LATEST, "urn:web")) == []


def test_a_stack_policy_reports_against_the_workloads_urn(pack):
    policy = _policy(pack, "network-policy-per-namespace")
    stack = types.SimpleNamespace(
        resources=[_Args("kubernetes:apps/v1:Deployment", LATEST, "urn:web")],
        get_config=lambda: None,
    )
    assert _validate(policy, stack) == [
        (
            "namespace web-production runs Deployment web but the stack declares no NetworkPolicy in it",
            "urn:web",
        )
    ]


# --- the pack's environment stays apart -------------------------------------------------


def test_the_policy_sdk_is_not_in_the_project_environment():
    """pulumi-policy pins protobuf 5 while the programs run 6: one environment cannot hold both."""
    assert importlib.util.find_spec("pulumi_policy") is None
    for name in ("pyproject.toml", "uv.lock"):
        assert "pulumi-policy" not in (ROOT / name).read_text().lower(), name


def _lock(path: Path) -> dict[str, Any]:
    return {p["name"]: p for p in tomllib.loads(path.read_text())["package"]}


def test_the_pack_is_its_own_uv_project_with_the_sdk_and_the_library_hashed():
    project = tomllib.loads((POLICY_DIR / "pyproject.toml").read_text())
    pins = dict(
        re.findall(r"^([a-z0-9-]+)==(\S+)$", "\n".join(project["project"]["dependencies"]), re.M)
    )
    assert set(pins) >= {"pulumi-policy", "pulumi"}
    assert "webplatform-components" in project["project"]["dependencies"]
    assert project["tool"]["uv"]["sources"]["webplatform-components"] == {
        "path": "..",
        "editable": True,
    }
    locked = _lock(POLICY_DIR / "uv.lock")
    assert locked["protobuf"]["version"].startswith("5.")  # what pulumi-policy needs
    assert locked["pulumi"]["version"] == pins["pulumi"]
    assert locked["webplatform-components"]["source"] == {"editable": "../"}
    # The SDK the pack runs is the one the programs run; only protobuf differs.
    assert _lock(ROOT / "uv.lock")["pulumi"]["version"] == pins["pulumi"]
    for name, package in locked.items():
        if "registry" in package["source"]:
            files = [
                *package.get("wheels", []),
                *([package["sdist"]] if "sdist" in package else []),
            ]
            assert files and all(f["hash"].startswith("sha256:") for f in files), name


def test_only_the_entry_file_calls_policypack_and_checks_imports_no_sdk():
    callers = [
        path.name
        for path in sorted(Path(POLICY_DIR).glob("*.py"))
        if re.search(r"\bPolicyPack\(", path.read_text())
    ]
    assert callers == ["__main__.py"]
    # checks.py imports in this environment, which has no pulumi_policy (asserted above).
    assert not re.search(
        r"^\s*(from|import)\s+pulumi_policy", (POLICY_DIR / "checks.py").read_text(), re.M
    )


def test_the_pack_project_runs_python_with_uv_in_its_ignored_virtualenv():
    project = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "uv", "virtualenv": "venv"},
    }
    assert re.fullmatch(r"\d+\.\d+\.\d+", project["version"])
    assert "policy/venv/" in (ROOT / ".gitignore").read_text().splitlines()
    assert not (POLICY_DIR / "requirements.txt").exists()  # uv.lock is the one source of pins

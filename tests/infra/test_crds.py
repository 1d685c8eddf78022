"""Rendered custom resources (PrometheusRule, ServiceMonitor, SecretStore, ExternalSecret...)
against the CRD schemas in tests/schemas."""

import copy

import pytest
import yaml

from infra import synth
from tests import crds
from tests.conftest import STACKS, synthesized


@pytest.fixture(scope="module")
def custom_objects(tmp_path_factory):
    found = {}
    for stack in STACKS:
        manifests, _ = synth.write(synthesized(stack), tmp_path_factory.mktemp(stack))
        found[stack] = [
            o
            for o in yaml.safe_load_all(manifests.read_text())
            if crds.is_custom(o) and (o["apiVersion"], o["kind"]) not in crds.UNSCHEMED
        ]
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_every_custom_resource_is_valid_against_its_crd(custom_objects, stack):
    for obj in custom_objects[stack]:
        assert crds.errors(obj) == [], f"{stack}: {obj['kind']} {obj['metadata']['name']}"


def test_monitored_stacks_render_both_kinds_and_dev_none(custom_objects):
    for stack in ("staging", "prod"):
        assert sorted(o["kind"] for o in custom_objects[stack]) == [
            "BackendTrafficPolicy",
            "ClientTrafficPolicy",
            "ClusterIssuer",
            "EnvoyProxy",
            "ExternalSecret",
            "Gateway",
            "GatewayClass",
            "HTTPRoute",
            "HTTPRoute",
            "NodePool",
            "PrometheusRule",
            "SecretStore",
            "SecurityPolicy",
            "ServiceMonitor",
        ]
    assert sorted(o["kind"] for o in custom_objects["dev"]) == [
        "BackendTrafficPolicy",
        "Gateway",
        "HTTPRoute",
        "HTTPRoute",
    ]


def test_schema_set_covers_the_kinds_we_render():
    assert set(crds.schemas()) == {
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("argoproj.io/v1alpha1", "Rollout"),
        ("argoproj.io/v1alpha1", "AnalysisTemplate"),
        ("external-secrets.io/v1", "SecretStore"),
        ("external-secrets.io/v1", "ExternalSecret"),
        ("gateway.networking.k8s.io/v1", "Gateway"),
        ("gateway.networking.k8s.io/v1beta1", "Gateway"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute"),
        ("gateway.networking.k8s.io/v1beta1", "HTTPRoute"),
        ("gateway.envoyproxy.io/v1alpha1", "BackendTrafficPolicy"),
        ("gateway.envoyproxy.io/v1alpha1", "ClientTrafficPolicy"),
        ("gateway.envoyproxy.io/v1alpha1", "EnvoyProxy"),
        ("gateway.envoyproxy.io/v1alpha1", "SecurityPolicy"),
        ("karpenter.sh/v1", "NodePool"),
        ("gateway.networking.k8s.io/v1", "GatewayClass"),
        ("gateway.networking.k8s.io/v1beta1", "GatewayClass"),
        ("cert-manager.io/v1", "ClusterIssuer"),
    }


def _rule(custom_objects):
    return next(o for o in custom_objects["prod"] if o["kind"] == "PrometheusRule")


def test_strict_validation_catches_a_misspelt_field(custom_objects):
    bad = copy.deepcopy(_rule(custom_objects))
    rule = bad["spec"]["groups"][0]["rules"][0]
    rule["expresion"] = rule.pop("expr")
    problems = crds.errors(bad)
    assert any("expresion" in p for p in problems), problems
    assert any("'expr' is a required property" in p for p in problems), problems


def test_validation_catches_a_bad_duration_and_a_wrong_type(custom_objects):
    bad = copy.deepcopy(_rule(custom_objects))
    bad["spec"]["groups"][0]["rules"][0]["for"] = "ten minutes"
    bad["spec"]["groups"][0]["rules"][1]["labels"]["severity"] = 3
    problems = crds.errors(bad)
    assert any(p.startswith("spec.groups.0.rules.0.for:") for p in problems), problems
    assert any(p.startswith("spec.groups.0.rules.1.labels.severity:") for p in problems), problems


def test_an_unknown_kind_is_an_error_not_a_pass():
    obj = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert crds.is_custom(obj)
    assert crds.errors(obj) == [f"no CRD schema for ('example.com/v1', 'Widget') in {crds.SCHEMAS}"]


@pytest.mark.parametrize(
    ("api_version", "custom"),
    [
        ("v1", False),
        ("apps/v1", False),
        ("networking.k8s.io/v1", False),
        ("policy/v1", False),
        ("monitoring.coreos.com/v1", True),
        ("argoproj.io/v1alpha1", True),
        ("gateway.networking.k8s.io/v1", True),
        ("gateway.envoyproxy.io/v1alpha1", True),
    ],
)
def test_built_in_and_custom_groups_are_told_apart(api_version, custom):
    assert crds.is_custom({"apiVersion": api_version}) is custom


def test_a_node_pool_without_limits_units_is_caught(custom_objects):
    pool = next(o for o in custom_objects["prod"] if o["kind"] == "NodePool")
    broken = {**pool, "spec": {**pool["spec"], "limits": {"cpu": "16", "memory": ["64Gi"]}}}
    assert any(p.startswith("spec.limits.memory") for p in crds.errors(broken))
    broken = {**pool, "spec": {**pool["spec"], "disruption": {"consolidateAfer": "1m"}}}
    assert any("consolidateAfer" in p for p in crds.errors(broken))

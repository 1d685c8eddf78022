"""Each stack through the whole program, as `pulumi up` would run it (under mocks)."""

import json

import pytest
import yaml

from components import testing
from infra import synth
from infra.config import StackConfigError
from tests.conftest import STACKS, load_stack_file

DEPLOY = "kubernetes:apps/v1:Deployment"


@pytest.fixture(scope="module")
def synths():
    return {stack: synth.synthesize(stack) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_uses_the_stack_provider(synths, stack):
    rec = synths[stack].recording
    provider = rec.one("pulumi:providers:kubernetes")
    k8s_objects = [r for r in rec.resources if r.custom and r.type.startswith("kubernetes:")]
    assert k8s_objects
    for r in k8s_objects:
        assert r.provider.startswith(provider.urn + "::"), r.urn


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_but_roots_has_a_component_parent(synths, stack):
    rec = synths[stack].recording
    roots = {
        "pulumi:providers:kubernetes",
        "webplatform:namespace:Namespace",
        "webplatform:app:WebApp",
        "pulumi:providers:aws",
        "webplatform:cdn_cloudfront:CloudFrontCdn",
        "webplatform:cdn_cloudflare:CloudflareEdge",
    }
    for r in rec.resources:
        if r.type not in roots:
            assert r.parent.split("::")[2].split("$")[-1].startswith("webplatform:"), r.urn


@pytest.mark.parametrize(
    ("stack", "replicas", "requests", "limits"),
    [
        ("dev", 1, {"cpu": "100m", "memory": "128Mi"}, {"cpu": "200m", "memory": "256Mi"}),
        ("staging", 2, {"cpu": "200m", "memory": "256Mi"}, {"cpu": "400m", "memory": "512Mi"}),
        ("prod", 3, {"cpu": "250m", "memory": "256Mi"}, {"cpu": "500m", "memory": "512Mi"}),
    ],
)
def test_environment_numbers_come_from_the_stack_file(synths, stack, replicas, requests, limits):
    spec = synths[stack].recording.one(DEPLOY).inputs["spec"]
    assert spec["replicas"] == replicas
    (container,) = spec["template"]["spec"]["containers"]
    assert container["resources"] == {"requests": requests, "limits": limits}


def test_dev_renders_yaml_without_a_cluster_and_the_others_target_a_context(synths):
    dev = synths["dev"].recording.one("pulumi:providers:kubernetes").inputs
    assert dev["renderYamlToDirectory"] == "build/rendered/dev" and "context" not in dev
    for stack in ("staging", "prod"):
        inputs = synths[stack].recording.one("pulumi:providers:kubernetes").inputs
        assert inputs["context"] == f"webplatform-{'production' if stack == 'prod' else stack}"
        assert "renderYamlToDirectory" not in inputs


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_name_namespace_and_app_urls(synths, stack):
    outputs = synths[stack].recording.stack_outputs
    namespace = load_stack_file(stack)["config"]["webplatform:namespace"]
    assert outputs["namespace"] == namespace
    assert outputs["apps"]["web"]["url"] == f"http://web.{namespace}.svc.cluster.local"


def test_a_new_environment_is_one_stack_file(write_stack, tmp_path):
    document = load_stack_file("staging")
    config = document["config"]
    config["webplatform:environment"] = "uat"
    config["webplatform:namespace"] = "web-uat"
    config["webplatform:kubernetes"]["context"] = "webplatform-uat"
    config["webplatform:apps"]["web"]["replicas"] = 2
    path = write_stack("uat", document)
    result = synth.synthesize("uat", path)
    namespace = result.recording.one("kubernetes:core/v1:Namespace")
    assert namespace.inputs["metadata"]["name"] == "web-uat"
    assert all(
        r.urn.startswith("urn:pulumi:uat::webplatform::") for r in result.recording.resources
    )
    deployment = result.recording.one(DEPLOY)
    assert deployment.inputs["metadata"]["labels"]["webplatform.io/environment"] == "uat"
    assert (
        synth.main(["--stack", "uat", "--config-file", str(path), "--out", str(tmp_path / "o")])
        == 0
    )
    assert len(list(yaml.safe_load_all((tmp_path / "o" / "kubernetes.yaml").read_text()))) == 6


def test_invalid_config_registers_nothing():
    class Counting(testing.RecordingMocks):
        created = 0

        def new_resource(self, args):
            Counting.created += 1
            return super().new_resource(args)

    flat, secret = synth.read_stack_file(synth.ROOT / "Pulumi.prod.yaml", "webplatform")
    apps = json.loads(flat["webplatform:apps"])
    apps["web"]["replicas"] = 1
    flat["webplatform:apps"] = json.dumps(apps)
    from infra.stack import main

    with pytest.raises(StackConfigError, match=r"webplatform:apps\.web\.replicas"):
        testing.run(main, stack="prod", config=flat, secret_keys=secret, mocks=Counting())
    assert Counting.created == 0

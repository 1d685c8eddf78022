"""Each stack through the whole program, as `pulumi up` would run it (under mocks)."""

import json

import pytest
import yaml

from infra import synth
from infra.config import StackConfigError
from tests.conftest import STACKS, load_stack_file, synthesized
from webplatform import testing

DEPLOY = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"


@pytest.fixture(scope="module")
def synths():
    return {stack: synthesized(stack) for stack in STACKS}


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
        "webplatform:gateway:Gateway",
        "webplatform:vpc:Vpc",
        "webplatform:cluster:EksCluster",
        "webplatform:dry_run_only:DryRunOnly",
        "webplatform:cluster_addons:ClusterAddons",
        "webplatform:secrets:AppSecrets",
        "webplatform:external_secrets:ExternalSecretsOperator",
        "webplatform:external_secrets:ExternalSecretSync",
        "webplatform:pod_identity:PodIdentity",
        "webplatform:cluster:NodePool",
        "webplatform:cluster:NodeClass",
        "webplatform:cluster:MonitoringStack",
        "pulumi:providers:aws",
        "webplatform:cdn_cloudfront:CloudFrontCdn",
        "webplatform:cdn_cloudflare:CloudflareEdge",
        "webplatform:cdn_cloudflare:CloudflareOriginCertificate",
        "webplatform:origin:OriginGuard",
    }
    for r in rec.resources:
        if r.type not in roots:
            assert r.parent.split("::")[2].split("$")[-1].startswith("webplatform:"), r.urn


@pytest.mark.parametrize(
    ("stack", "replicas", "autoscaled", "requests", "limits"),
    [
        ("dev", 1, False, {"cpu": "100m", "memory": "128Mi"}, {"cpu": "200m", "memory": "256Mi"}),
        (
            "staging",
            2,
            True,
            {"cpu": "200m", "memory": "256Mi"},
            {"cpu": "400m", "memory": "512Mi"},
        ),
        ("prod", 3, True, {"cpu": "250m", "memory": "256Mi"}, {"cpu": "500m", "memory": "512Mi"}),
    ],
)
def test_environment_numbers_come_from_the_stack_file(
    synths, stack, replicas, autoscaled, requests, limits
):
    rec = synths[stack].recording
    deployments = rec.by_type(DEPLOY)
    assert deployments
    for deployment in deployments:  # one, or one per colour
        spec = deployment.inputs["spec"]
        # Created with the count; when autoscaled that is the HPA's floor, and the HPA's after.
        assert spec["replicas"] == replicas
        assert deployment.ignore_changes == (("spec.replicas",) if autoscaled else ())
        (container,) = spec["template"]["spec"]["containers"]
        assert container["resources"] == {"requests": requests, "limits": limits}
    hpas = rec.by_type(HPA)
    if autoscaled:  # one autoscaler per Deployment (per colour), all with the same floor
        assert len(hpas) == len(deployments)
        assert {h.inputs["spec"]["minReplicas"] for h in hpas} == {replicas}
    else:
        assert hpas == []


def test_dev_renders_yaml_without_a_cluster_and_the_others_use_their_eks_kubeconfig(synths):
    dev = synths["dev"].recording.one("pulumi:providers:kubernetes").inputs
    assert dev["renderYamlToDirectory"] == "build/rendered/dev" and "context" not in dev
    for stack in ("staging", "prod"):
        rec = synths[stack].recording
        provider = rec.one("pulumi:providers:kubernetes")
        assert "context" not in provider.inputs and "renderYamlToDirectory" not in provider.inputs
        kubeconfig = json.loads(provider.inputs["kubeconfig"])
        name = f"webplatform-{'production' if stack == 'prod' else stack}"
        assert kubeconfig["current-context"] == name
        assert rec.one("aws:eks/cluster:Cluster").inputs["name"] == name
        server = kubeconfig["clusters"][0]["cluster"]["server"]
        assert server.startswith("https://") and server.endswith(".us-west-2.eks.amazonaws.com")
        args = kubeconfig["users"][0]["user"]["exec"]["args"]
        assert args[:2] == ["eks", "get-token"]
        assert args[args.index("--cluster-name") + 1] == name
        assert args[args.index("--region") + 1] == "us-west-2"
        assert provider.is_secret("kubeconfig")


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
    config["webplatform:cluster"]["name"] = "webplatform-uat"
    # each environment its own CI role (a shared one is refused)
    config["webplatform:cluster"]["access"]["ciRoleArn"] = (
        "arn:aws:iam::111122223333:role/webplatform-deploy-uat"
    )
    config["webplatform:apps"]["web"]["replicas"] = 2
    path = write_stack("uat", document)
    result = synth.synthesize("uat", path)
    namespace = result.recording.one("kubernetes:core/v1:Namespace", "web-uat-namespace")
    assert namespace.inputs["metadata"]["name"] == "web-uat"
    assert all(
        r.urn.startswith("urn:pulumi:uat::webplatform::") for r in result.recording.resources
    )
    for deployment in result.recording.by_type(DEPLOY):
        assert deployment.inputs["metadata"]["labels"]["webplatform.io/environment"] == "uat"
    assert (
        synth.main(["--stack", "uat", "--config-file", str(path), "--out", str(tmp_path / "o")])
        == 0
    )
    objects = list(yaml.safe_load_all((tmp_path / "o" / "kubernetes.yaml").read_text()))
    in_uat = [o for o in objects if o["metadata"].get("namespace") == "web-uat"]
    staging = synthesized("staging").kubernetes_objects()
    assert in_uat
    assert len(in_uat) == len(
        [o for o in staging if o["metadata"].get("namespace") == "web-staging"]
    )
    assert result.recording.one("aws:eks/cluster:Cluster").inputs["name"] == "webplatform-uat"


def test_invalid_config_registers_nothing():
    class Counting(testing.RecordingMocks):
        created = 0

        def new_resource(self, args):
            Counting.created += 1
            return super().new_resource(args)

    source = synth.read_stack_file(synth.ROOT / "Pulumi.prod.yaml", "webplatform")
    flat, secret = dict(source.flat), set(source.secret_keys)
    apps = json.loads(flat["webplatform:apps"])
    apps["web"]["replicas"] = 1
    apps["web"].pop("disruptionBudget")  # else its own rule (minAvailable 2 of 1) speaks first
    flat["webplatform:apps"] = json.dumps(apps)
    from infra.stack import main

    with pytest.raises(StackConfigError, match=r"webplatform:apps\.web\.replicas"):
        testing.run(main, stack="prod", config=flat, secret_keys=secret, mocks=Counting())
    assert Counting.created == 0

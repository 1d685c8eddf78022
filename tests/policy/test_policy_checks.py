"""Each guardrail of the policy pack on each stack's synth, and on resources built to break it.

The bad resources are the synth's own Deployment with one thing broken, or
AWS resources written in the wire form pulumi-aws v7 sends (input names taken
from the SDK's ``*Args`` getters: ``vpcConfig.endpointPublicAccess``,
``encryptionConfig.provider.keyArn``, ``viewerCertificate.minimumProtocolVersion``...).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import STACKS, load_stack_file, synthesized
from tests.policy._load import load_checks
from webplatform import testing

checks = load_checks()
NAMES = [p.name for p in checks.POLICIES]
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STAGING = checks.Context(environment="staging")


@pytest.fixture(scope="module")
def stacks() -> dict[str, tuple[list[Any], Any]]:
    """Per stack: its synth's resources as policy resources, and its context.

    Their inputs as the engine hands them to a policy pack: secrets in plain text (CrossGuard
    sees secret values unencrypted), not the ``[secret]`` of ``resources.json``. The Python
    SDK marks a whole top-level property secret when one leaf is (CloudFront's ``origins``
    once it carries the secret origin header, issue 19): the rules must still judge the rest.
    """
    out = {}
    for stack in STACKS:
        recording = synthesized(stack).recording
        environment = load_stack_file(stack)["config"]["webplatform:environment"]
        resources = [
            checks.Resource(type=r.type, inputs=testing.whole_numbers(r.inputs), urn=r.urn)
            for r in recording.resources
        ]
        out[stack] = (resources, checks.Context(environment=environment))
    return out


@pytest.fixture
def deployment(stacks) -> Any:
    """A deep copy of a staging Deployment, to break one property at a time."""
    resources, _ = stacks["staging"]
    d = next(r for r in resources if r.type == DEPLOYMENT)  # blue-green: either colour
    return checks.Resource(type=d.type, inputs=copy.deepcopy(d.inputs), urn=d.urn)


def pod(resource: Any) -> dict[str, Any]:
    return resource.inputs["spec"]["template"]["spec"]


def container(resource: Any) -> dict[str, Any]:
    return pod(resource)["containers"][0]


def messages(name: str, resources: list[Any], context: Any = STAGING) -> list[str]:
    return [v.message for v in checks.by_name(name).run(resources, context)]


# --- our stacks pass ------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("stack", STACKS)
def test_every_policy_passes_on_every_stack(stacks, stack, name):
    resources, context = stacks[stack]
    violations = checks.by_name(name).run(resources, context)
    assert violations == [], [v.message for v in violations]


@pytest.mark.parametrize("stack", STACKS)
def test_the_pod_policies_judge_the_stacks_workloads(stacks, stack):
    """A pass on the stacks means something only if the checks found the pod specs."""
    resources, _ = stacks[stack]
    specs = [checks.pod_spec(r) for r in resources]
    judged = [r.type for r, s in zip(resources, specs, strict=True) if s is not None]
    assert DEPLOYMENT in judged
    assert checks.pod_spec(next(r for r in resources if r.type == DEPLOYMENT))["containers"]


# --- restricted pod security context ----------------------------------------------------


def _set(path: str, value: Any):
    def apply(resource: Any) -> None:
        *head, last = path.split(".")
        target: Any = pod(resource)
        for key in head:
            target = target[int(key)] if key.isdigit() else target.setdefault(key, {})
        target[last] = value

    return apply


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (_set("containers.0.securityContext.runAsNonRoot", False), "runAsNonRoot must be true"),
        (_set("containers.0.securityContext.runAsUser", 0), "runAsUser 0 is root"),
        (
            _set("containers.0.securityContext.allowPrivilegeEscalation", True),
            "allowPrivilegeEscalation must be false",
        ),
        (_set("containers.0.securityContext.privileged", True), "privileged must not be true"),
        (
            _set("containers.0.securityContext.capabilities", {}),
            "capabilities.drop must include ALL",
        ),
        (
            _set("containers.0.securityContext.capabilities.add", ["SYS_ADMIN"]),
            "capabilities.add ['SYS_ADMIN'] not allowed",
        ),
        (
            _set("containers.0.securityContext.seccompProfile.type", "Unconfined"),
            "seccompProfile.type must be RuntimeDefault or Localhost (got 'Unconfined')",
        ),
        (
            _set("containers.0.securityContext.readOnlyRootFilesystem", False),
            "readOnlyRootFilesystem must be true",
        ),
        (_set("hostNetwork", True), "hostNetwork is true"),
        (
            _set("volumes", [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}]),
            "volume 'docker' is a hostPath",
        ),
    ],
)
def test_restricted_security_context_fails_each_weakening(deployment, breakage, expected):
    breakage(deployment)
    found = messages("restricted-pod-security-context", [deployment])
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith("Deployment web")


def test_pod_level_settings_count_for_every_container(deployment):
    """runAsNonRoot and seccomp may be set once on the pod; a container may not undo them."""
    ctx = container(deployment)["securityContext"]
    del ctx["runAsNonRoot"], ctx["seccompProfile"]
    assert messages("restricted-pod-security-context", [deployment]) == []
    ctx["runAsNonRoot"] = False
    assert messages("restricted-pod-security-context", [deployment]) == [
        "Deployment web-blue container 'web': runAsNonRoot must be true (pod or container)"
    ]


def test_init_containers_are_judged_too(deployment):
    pod(deployment)["initContainers"] = [{"name": "migrate", "image": "ghcr.io/example/web:1.4.2"}]
    found = messages("restricted-pod-security-context", [deployment])
    assert found and all("init container 'migrate'" in m for m in found)
    assert messages("container-requests-and-limits", [deployment]) == [
        "Deployment web-blue init container 'migrate': resources requests.cpu, requests.memory, "
        "limits.cpu, limits.memory not set"
    ]


@pytest.mark.parametrize(
    ("type_", "inputs"),
    [
        ("kubernetes:core/v1:Pod", {"metadata": {"name": "p"}, "spec": {"containers": [{}]}}),
        (
            "kubernetes:batch/v1:CronJob",
            {
                "metadata": {"name": "c"},
                "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{}]}}}}},
            },
        ),
        (
            "kubernetes:argoproj.io/v1alpha1:Rollout",
            {"metadata": {"name": "r"}, "spec": {"template": {"spec": {"containers": [{}]}}}},
        ),
    ],
)
def test_other_workload_kinds_are_found(type_, inputs):
    resource = checks.Resource(type=type_, inputs=inputs)
    assert messages("restricted-pod-security-context", [resource])
    assert messages("container-requests-and-limits", [resource])


def test_patches_and_non_workloads_are_not_judged():
    patch = checks.Resource(
        type="kubernetes:apps/v1:DeploymentPatch",
        inputs={"spec": {"template": {"spec": {"containers": [{"name": "x"}]}}}},
    )
    config_map = checks.Resource(type="kubernetes:core/v1:ConfigMap", inputs={"data": {}})
    assert checks.evaluate([patch, config_map], STAGING) == []


# --- requests and limits ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("remove", "expected"),
    [
        (("limits", "cpu"), "limits.cpu"),
        (("requests", "memory"), "requests.memory"),
    ],
)
def test_requests_and_limits_fail_when_one_is_missing(deployment, remove, expected):
    del container(deployment)["resources"][remove[0]][remove[1]]
    assert messages("container-requests-and-limits", [deployment]) == [
        f"Deployment web-blue container 'web': resources {expected} not set"
    ]


def test_no_resources_at_all_names_all_four(deployment):
    del container(deployment)["resources"]
    (message,) = messages("container-requests-and-limits", [deployment])
    assert "requests.cpu, requests.memory, limits.cpu, limits.memory" in message


@pytest.mark.parametrize(
    ("requests", "limits", "expected"),
    [
        (
            {"cpu": "2", "memory": "256Mi"},
            {"cpu": "500m", "memory": "512Mi"},
            "requests.cpu exceeds limits.cpu",
        ),
        (
            {"cpu": "250m", "memory": "1Gi"},
            {"cpu": "500m", "memory": "512Mi"},
            "requests.memory exceeds limits.memory",
        ),
        (
            {"cpu": "250 m", "memory": "256Mi"},
            {"cpu": "500m", "memory": "512Mi"},
            "'250 m' is not a CPU quantity",
        ),
        (
            {"cpu": "250m", "memory": "256Mi"},
            {"cpu": "500m", "memory": "512MB"},
            "'512MB' is not a memory quantity",
        ),
        (
            {"cpu": "0m", "memory": "256Mi"},
            {"cpu": "500m", "memory": "512Mi"},
            "must be greater than zero",
        ),
    ],
)
def test_quantities_are_judged_by_the_librarys_own_parsers(deployment, requests, limits, expected):
    """The same rule as the ``Resources`` model, called rather than restated."""
    container(deployment)["resources"] = {"requests": requests, "limits": limits}
    (message,) = messages("container-requests-and-limits", [deployment])
    assert (
        message.startswith("Deployment web-blue container 'web': resources.")
        and expected in message
    )


def test_numeric_quantities_are_quantities_too(deployment):
    """The API server takes ``cpu: 1`` and ``memory: 536870912``: so does the policy."""
    container(deployment)["resources"] = {
        "requests": {"cpu": 0.5, "memory": 268435456},
        "limits": {"cpu": 1, "memory": "512Mi"},
    }
    assert messages("container-requests-and-limits", [deployment]) == []
    container(deployment)["resources"]["requests"]["cpu"] = 2
    (message,) = messages("container-requests-and-limits", [deployment])
    assert "requests.cpu exceeds limits.cpu" in message


def test_the_quantity_rule_is_the_librarys(monkeypatch, deployment):
    """A change to the library's parser changes the policy: there is one rule, not two."""
    calls: list[str] = []

    def parse(value: str) -> int:
        calls.append(value)
        return 1

    monkeypatch.setattr(checks, "parse_cpu", parse)
    assert messages("container-requests-and-limits", [deployment]) == []
    limits = container(deployment)["resources"]["limits"]
    assert calls == [container(deployment)["resources"]["requests"]["cpu"], limits["cpu"]]


# --- image tags -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "tag", "digest"),
    [
        ("ghcr.io/example/web:1.4.2", "1.4.2", None),
        ("ghcr.io/example/web", None, None),
        ("registry.local:5000/team/web", None, None),
        ("registry.local:5000/team/web:2", "2", None),
        ("web:latest", "latest", None),
        ("ghcr.io/example/web@sha256:abc", None, "sha256:abc"),
        ("ghcr.io/example/web:latest@sha256:abc", "latest", "sha256:abc"),
    ],
)
def test_image_tag_parses_registry_ports_tags_and_digests(image, tag, digest):
    assert checks.image_tag(image) == (tag, digest)


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_latest_fails_outside_dev(deployment, environment):
    image = "ghcr.io/example/web:latest"
    container(deployment)["image"] = image
    found = messages("no-mutable-image-tags", [deployment], checks.Context(environment=environment))
    assert found == [
        f"Deployment web-blue container 'web': image {image!r} is mutable (:latest); "
        f"use a version tag or a digest in {environment}"
    ]


@pytest.mark.parametrize(
    "image",
    ["ghcr.io/example/web", "registry.local:5000/team/web", "ghcr.io/example/web:1 2", ""],
)
@pytest.mark.parametrize("environment", ["dev", "staging", "production"])
def test_an_untagged_or_broken_reference_fails_everywhere(deployment, image, environment):
    """The library's image rule, called: our models refuse an untagged image in dev too."""
    container(deployment)["image"] = image
    context = checks.Context(environment=environment)
    (message,) = messages("no-mutable-image-tags", [deployment], context)
    problem = checks.image_problem(image)
    assert problem and message == f"Deployment web-blue container 'web': image {image!r}: {problem}"
    if image.startswith("ghcr.io/example/web") and ":" not in image:
        assert "name a tag or digest" in problem


def test_the_image_rule_is_the_librarys(monkeypatch, deployment):
    """Whatever the library's ``check_image`` refuses, the policy reports with its words."""

    def refuse(field: str, image: str) -> None:
        raise ValueError(f"{field}={image!r}: the library said no")

    monkeypatch.setattr(checks, "check_image", refuse)
    image = container(deployment)["image"]
    assert messages("no-mutable-image-tags", [deployment]) == [
        f"Deployment web-blue container 'web': image {image!r}: the library said no"
    ]


def test_digests_pass_and_dev_may_run_latest(deployment):
    container(deployment)["image"] = "ghcr.io/example/web:latest@sha256:" + "a" * 64
    assert messages("no-mutable-image-tags", [deployment]) == []
    container(deployment)["image"] = "ghcr.io/example/web:latest"
    assert messages("no-mutable-image-tags", [deployment], checks.Context(environment="dev")) == []
    strict_dev = checks.Context(environment="dev", mutable_tag_environments=())
    assert messages("no-mutable-image-tags", [deployment], strict_dev)


# --- NetworkPolicy in every app namespace -----------------------------------------------


def _network_policy(namespace: str) -> Any:
    return checks.Resource(
        type=checks.NETWORK_POLICY,
        inputs={"metadata": {"name": "default-deny", "namespace": namespace}, "spec": {}},
        urn=f"urn:pulumi:staging::webplatform::{checks.NETWORK_POLICY}::{namespace}-deny",
    )


def test_network_policy_in_the_workloads_namespace_passes(deployment):
    assert (
        messages("network-policy-per-namespace", [deployment, _network_policy("web-staging")]) == []
    )


def test_network_policy_in_another_namespace_does_not_count(deployment):
    violations = checks.by_name("network-policy-per-namespace").run(
        [deployment, _network_policy("other")], STAGING
    )
    assert [(v.urn, v.message) for v in violations] == [
        (
            deployment.urn,
            "namespace web-staging runs Deployment web-blue but the stack declares no NetworkPolicy in it",
        )
    ]


def test_every_app_namespace_needs_its_own(deployment):
    second = checks.Resource(
        type=deployment.type, inputs=copy.deepcopy(deployment.inputs), urn=deployment.urn + "-2"
    )
    second.inputs["metadata"]["namespace"] = "api"
    found = messages("network-policy-per-namespace", [deployment, second, _network_policy("api")])
    assert found == [
        "namespace web-staging runs Deployment web-blue but the stack declares no NetworkPolicy in it"
    ]


def test_a_stack_without_workloads_passes():
    assert messages("network-policy-per-namespace", [_network_policy("x")]) == []
    assert messages("network-policy-per-namespace", []) == []


# --- CloudFront -------------------------------------------------------------------------

GOOD_DISTRIBUTION: dict[str, Any] = {
    "enabled": True,
    "aliases": ["www.example.com"],
    "defaultCacheBehavior": {
        "targetOriginId": "origin",
        "viewerProtocolPolicy": "redirect-to-https",
        "allowedMethods": ["GET", "HEAD"],
        "cachedMethods": ["GET", "HEAD"],
    },
    "orderedCacheBehaviors": [
        {
            "pathPattern": "/assets/*",
            "targetOriginId": "origin",
            "viewerProtocolPolicy": "https-only",
        }
    ],
    "origins": [
        {
            "originId": "origin",
            "domainName": "origin.example.com",
            "customOriginConfig": {
                "httpPort": 80,
                "httpsPort": 443,
                "originProtocolPolicy": "https-only",
                "originSslProtocols": ["TLSv1.2"],
            },
        },
        {"originId": "bucket", "domainName": "b.s3.amazonaws.com", "originAccessControlId": "oac"},
    ],
    "viewerCertificate": {
        "acmCertificateArn": "arn:aws:acm:us-east-1:111122223333:certificate/abc",
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    },
    "priceClass": "PriceClass_100",
}


def distribution(**changes: Any) -> Any:
    inputs = copy.deepcopy(GOOD_DISTRIBUTION)
    for path, value in changes.items():
        *head, last = path.split("__")
        target: Any = inputs
        for key in head:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return checks.Resource(type=checks.CLOUDFRONT_DISTRIBUTION, inputs=inputs, urn="urn:cdn")


def test_a_tls12_https_only_distribution_passes():
    assert messages("cloudfront-https-tls12", [distribution()]) == []
    tls13 = distribution(viewerCertificate__minimumProtocolVersion="TLSv1.3_2025")
    assert messages("cloudfront-https-tls12", [tls13]) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"defaultCacheBehavior__viewerProtocolPolicy": "allow-all"},
            "defaultCacheBehavior.viewerProtocolPolicy is 'allow-all'",
        ),
        (
            {"orderedCacheBehaviors__0__viewerProtocolPolicy": "allow-all"},
            "orderedCacheBehaviors[0] (/assets/*).viewerProtocolPolicy is 'allow-all'",
        ),
        (
            {"viewerCertificate": {"cloudfrontDefaultCertificate": True}},
            "uses the default CloudFront certificate, which allows TLSv1",
        ),
        (
            {"viewerCertificate__minimumProtocolVersion": "TLSv1.1_2016"},
            "minimumProtocolVersion is 'TLSv1.1_2016'",
        ),
        (
            {"viewerCertificate__minimumProtocolVersion": None},
            "minimumProtocolVersion is None; use one of TLSv1.2_2021, TLSv1.2_2025, TLSv1.3_2025 "
            "(the AWS default is TLSv1)",
        ),
        (
            # TLS 1.2 but with CBC ciphers: the CloudFrontCdn model refuses it, so does the pack
            {"viewerCertificate__minimumProtocolVersion": "TLSv1.2_2019"},
            "minimumProtocolVersion is 'TLSv1.2_2019'",
        ),
        (
            {"origins__0__customOriginConfig__originProtocolPolicy": "match-viewer"},
            "origins[0] (origin).customOriginConfig.originProtocolPolicy is 'match-viewer'",
        ),
        (
            {"origins__0__customOriginConfig__originSslProtocols": ["TLSv1.1", "TLSv1.2"]},
            "originSslProtocols is ['TLSv1.1', 'TLSv1.2']; allow only TLSv1.2",
        ),
    ],
)
def test_distribution_fails_on_each_weakening(changes, expected):
    found = messages("cloudfront-https-tls12", [distribution(**changes)])
    assert len(found) == 1 and expected in found[0], found


def test_the_viewer_policies_allowed_are_the_cdn_models_own():
    import typing

    from webplatform.edge.cloudfront import CloudFrontCdnArgs

    field = CloudFrontCdnArgs.model_fields["minimum_protocol_version"]
    allowed = typing.get_args(field.annotation)
    assert allowed and allowed == checks.MINIMUM_PROTOCOL_VERSIONS
    for version in allowed:
        tls = distribution(viewerCertificate__minimumProtocolVersion=version)
        assert messages("cloudfront-https-tls12", [tls]) == []


# --- KMS-encrypted secrets --------------------------------------------------------------

KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"name": "web/db"}, "kmsKeyId is not set"),
        ({"name": "web/db", "kmsKeyId": "alias/aws/secretsmanager"}, "is the AWS-managed key"),
        (
            {"kmsKeyId": "arn:aws:kms:us-west-2:111122223333:alias/aws/secretsmanager"},
            "is the AWS-managed key",
        ),
        ({"name": "web/db", "kmsKeyId": KEY_ARN}, None),
    ],
)
def test_secrets_manager_secret_needs_a_customer_key(inputs, expected):
    secret = checks.Resource(type=checks.SECRETS_MANAGER_SECRET, inputs=inputs)
    found = messages("kms-encrypted-secrets", [secret])
    assert (found == []) if expected is None else (len(found) == 1 and expected in found[0])


@pytest.mark.parametrize("stack", STACKS)
def test_the_eks_rules_left_the_pack(stacks, stack):
    """An EKS cluster is judged by the EksCluster model at parse, not here (see checks.py)."""
    resources, context = stacks[stack]
    clusters = [r for r in resources if r.type == "aws:eks/cluster:Cluster"]
    open_cluster = checks.Resource(
        type="aws:eks/cluster:Cluster",
        inputs={"vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}},
    )
    assert checks.evaluate([*clusters, open_cluster], context) == []
    assert "eks-endpoint-not-public" not in NAMES


# --- the pack as a whole ----------------------------------------------------------------


def test_every_policy_has_a_unique_kebab_name_and_exactly_one_check():
    assert len(set(NAMES)) == len(NAMES) == 6
    for policy in checks.POLICIES:
        assert policy.name.replace("-", "").isalnum() and policy.name.islower()
        assert (policy.resource_check is None) != (policy.stack_check is None)


def test_evaluate_reports_every_policy_a_resource_breaks(deployment):
    del container(deployment)["securityContext"]
    container(deployment)["image"] = "ghcr.io/example/web:latest"
    del container(deployment)["resources"]
    found = {v.policy for v in checks.evaluate([deployment], STAGING)}
    assert found == {
        "restricted-pod-security-context",
        "container-requests-and-limits",
        "no-mutable-image-tags",
        "network-policy-per-namespace",
    }
    assert all(v.urn == deployment.urn for v in checks.evaluate([deployment], STAGING))

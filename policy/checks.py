"""The webplatform guardrails, as plain functions over resources in wire form.

Each check reads a resource's type token and its inputs exactly as the engine
sends them to a policy pack (camelCase keys, nested maps and lists) and as
``infra/synth.py`` writes them to ``resources.json``. Nothing here imports
``pulumi_policy``: the pack's entry file (``__main__.py``) wraps these
functions, and the project's own tests run them on every stack's synth, so a
guardrail is tested without the policy SDK (which pins an older protobuf than
the programs use) and without a Pulumi CLI.

Inputs may be ``dict``/``list`` (synth) or the SDK's read-only ``Mapping`` /
``Sequence`` proxies (``pulumi preview``), so the helpers test against the
abstract types. During a preview the proxy raises on a value that is not known
yet; that exception is left to propagate, and the SDK turns it into an
advisory "can't run during preview" note; ``pulumi up`` re-runs the policy
with the value known. A check never catches it.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Environments in which mutable image references (``:latest``, no tag) are tolerated by default.
DEFAULT_MUTABLE_TAG_ENVIRONMENTS: tuple[str, ...] = ("dev",)

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CLOUDFRONT_DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
SECRETS_MANAGER_SECRET = "aws:secretsmanager/secret:Secret"
EKS_CLUSTER = "aws:eks/cluster:Cluster"

#: Where each workload kind keeps its pod spec (by the last segment of the type token).
#: ``Rollout`` is Argo Rollouts' CRD (``kubernetes:argoproj.io/v1alpha1:Rollout``).
POD_SPEC_PATHS: Mapping[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "Rollout": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it: type token, inputs in wire form, URN."""

    type: str
    inputs: Mapping[str, Any]
    urn: str = ""

    @classmethod
    def from_synth(cls, row: Mapping[str, Any]) -> Resource:
        """A row of synth's ``resources.json``."""
        return cls(type=row["type"], inputs=row.get("inputs") or {}, urn=row.get("urn", ""))


@dataclass(frozen=True)
class Context:
    """What a check may know about the stack besides its resources."""

    environment: str
    """The stack's environment (``webplatform:environment``, else the stack name)."""
    mutable_tag_environments: tuple[str, ...] = DEFAULT_MUTABLE_TAG_ENVIRONMENTS
    """Environments where ``:latest`` / untagged images are allowed; default ``("dev",)``."""


@dataclass(frozen=True)
class Violation:
    policy: str
    message: str
    urn: str | None = None


ResourceCheck = Callable[[Resource, Context], list[str]]
StackCheck = Callable[[Sequence[Resource], Context], list[tuple[str | None, str]]]


@dataclass(frozen=True)
class Policy:
    """A named guardrail: exactly one of ``resource_check`` / ``stack_check`` is set."""

    name: str
    description: str
    resource_check: ResourceCheck | None = None
    stack_check: StackCheck | None = None
    config_schema: Mapping[str, Any] = field(default_factory=dict)
    """JSON schema of the policy's own configuration (``--policy-pack-config``)."""

    def run(self, resources: Sequence[Resource], context: Context) -> list[Violation]:
        if self.stack_check is not None:
            return [
                Violation(self.name, message, urn)
                for urn, message in self.stack_check(resources, context)
            ]
        assert self.resource_check is not None
        return [
            Violation(self.name, message, r.urn or None)
            for r in resources
            for message in self.resource_check(r, context)
        ]


# --- helpers over wire-form values ------------------------------------------------------


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _seq(value: Any) -> Sequence[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return value
    return ()


def _get(value: Any, *path: str) -> Any:
    for key in path:
        value = _map(value).get(key)
    return value


def _kind(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def pod_spec(resource: Resource) -> Mapping[str, Any] | None:
    """The pod spec of a Kubernetes workload, or None for anything else.

    ``*Patch`` resources are partial by design (server-side apply patches), so
    they are not judged: the object they patch is.
    """
    if not resource.type.startswith("kubernetes:") or resource.type.endswith("Patch"):
        return None
    path = POD_SPEC_PATHS.get(_kind(resource.type))
    if path is None:
        return None
    spec = _get(resource.inputs, *path)
    return spec if isinstance(spec, Mapping) else None


def _containers(spec: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(label, container) for every container, init container and ephemeral container."""
    out = []
    for key, label in (
        ("initContainers", "init container"),
        ("containers", "container"),
        ("ephemeralContainers", "ephemeral container"),
    ):
        for index, container in enumerate(_seq(spec.get(key))):
            c = _map(container)
            out.append((f"{label} {c.get('name') or index!r}", c))
    return out


def _workload(resource: Resource) -> str:
    name = _get(resource.inputs, "metadata", "name")
    return f"{_kind(resource.type)} {name or resource.urn.rsplit('::', 1)[-1] or '?'}"


def _namespace(resource: Resource) -> str:
    return str(_get(resource.inputs, "metadata", "namespace") or "")


# --- restricted pod security context ----------------------------------------------------

_SAFE_SECCOMP = ("RuntimeDefault", "Localhost")
_ALLOWED_ADDED_CAPABILITIES = ("NET_BIND_SERVICE",)


def restricted_security_context(resource: Resource, _: Context) -> list[str]:
    """Pod Security Standard ``restricted``, plus the read-only root filesystem we promise.

    The namespace's Pod Security Admission label enforces ``restricted`` in the
    cluster at admission time; this catches the same mistakes at preview time,
    before anything is applied, and also where a namespace is not labelled.
    """
    spec = pod_spec(resource)
    if spec is None:
        return []
    where = _workload(resource)
    problems: list[str] = []
    pod_ctx = _map(spec.get("securityContext"))
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag) is True:
            problems.append(f"{where}: {flag} is true; host namespaces are not allowed")
    for volume in _seq(spec.get("volumes")):
        if _map(volume).get("hostPath") is not None:
            problems.append(
                f"{where}: volume {_map(volume).get('name')!r} is a hostPath; use emptyDir, a ConfigMap/Secret or a PVC"
            )
    for label, container in _containers(spec):
        ctx = _map(container.get("securityContext"))
        run_as_non_root = ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot"))
        if run_as_non_root is not True:
            problems.append(f"{where} {label}: runAsNonRoot must be true (pod or container)")
        if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
            problems.append(f"{where} {label}: runAsUser 0 is root")
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where} {label}: allowPrivilegeEscalation must be false")
        if ctx.get("privileged") is True:
            problems.append(f"{where} {label}: privileged must not be true")
        capabilities = _map(ctx.get("capabilities"))
        if "ALL" not in _seq(capabilities.get("drop")):
            problems.append(f"{where} {label}: capabilities.drop must include ALL")
        added = [c for c in _seq(capabilities.get("add")) if c not in _ALLOWED_ADDED_CAPABILITIES]
        if added:
            problems.append(
                f"{where} {label}: capabilities.add {added} not allowed (only NET_BIND_SERVICE)"
            )
        seccomp = _get(ctx, "seccompProfile", "type") or _get(pod_ctx, "seccompProfile", "type")
        if seccomp not in _SAFE_SECCOMP:
            problems.append(
                f"{where} {label}: seccompProfile.type must be RuntimeDefault or Localhost (got {seccomp!r})"
            )
        if ctx.get("readOnlyRootFilesystem") is not True:
            problems.append(
                f"{where} {label}: readOnlyRootFilesystem must be true (mount an emptyDir for scratch space)"
            )
    return problems


# --- requests and limits ----------------------------------------------------------------


def requests_and_limits(resource: Resource, _: Context) -> list[str]:
    """CPU and memory requests and limits on every container, init containers included.

    Requests are what the scheduler and the HPA reason with; limits keep one
    pod from starving its neighbours.
    """
    spec = pod_spec(resource)
    if spec is None:
        return []
    problems = []
    for label, container in _containers(spec):
        if label.startswith("ephemeral"):
            continue  # ephemeral containers cannot declare resources
        resources = _map(container.get("resources"))
        missing = [
            f"{kind}.{unit}"
            for kind in ("requests", "limits")
            for unit in ("cpu", "memory")
            if _map(resources.get(kind)).get(unit) in (None, "")
        ]
        if missing:
            problems.append(
                f"{_workload(resource)} {label}: resources {', '.join(missing)} not set"
            )
    return problems


# --- image references -------------------------------------------------------------------


def image_tag(image: str) -> tuple[str | None, str | None]:
    """(tag, digest) of an image reference; either may be None.

    ``registry:5000/team/app`` has no tag: the ``:5000`` belongs to the registry.
    """
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    return (tag or None), (digest or None)


def pinned_images(resource: Resource, context: Context) -> list[str]:
    """No ``:latest`` or untagged image outside the environments that allow it (dev).

    A mutable reference means two pods of one Deployment can run different
    code, and a rollback does not roll back. A digest always passes.
    """
    if context.environment in context.mutable_tag_environments:
        return []
    spec = pod_spec(resource)
    if spec is None:
        return []
    problems = []
    for label, container in _containers(spec):
        image = container.get("image")
        if not isinstance(image, str):
            continue
        tag, digest = image_tag(image)
        if digest is None and tag in (None, "latest"):
            problems.append(
                f"{_workload(resource)} {label}: image {image!r} is mutable ({'untagged' if tag is None else ':latest'}); "
                f"use a version tag or a digest in {context.environment}"
            )
    return problems


# --- a NetworkPolicy in every app namespace ---------------------------------------------


def network_policy_per_namespace(
    resources: Sequence[Resource], _: Context
) -> list[tuple[str | None, str]]:
    """Every namespace that runs a workload of this stack also gets a NetworkPolicy from it.

    Without one, every pod accepts traffic from every pod in the cluster. A
    stack with no workloads passes. A workload without ``metadata.namespace``
    goes to the provider's namespace, reported as ``(provider default)``.
    """
    covered = {_namespace(r) for r in resources if r.type == NETWORK_POLICY}
    first_workload: dict[str, Resource] = {}
    for r in resources:
        if pod_spec(r) is not None:
            first_workload.setdefault(_namespace(r), r)
    problems: list[tuple[str | None, str]] = []
    for namespace, workload in sorted(first_workload.items()):
        if namespace not in covered:
            shown = namespace or "(provider default)"
            problems.append(
                (
                    workload.urn or None,
                    f"namespace {shown} runs {_workload(workload)} but the stack declares no NetworkPolicy in it",
                )
            )
    return problems


# --- CloudFront: HTTPS only, TLSv1.2+ ---------------------------------------------------

_HTTPS_VIEWER_POLICIES = ("https-only", "redirect-to-https")
_TLS_VERSION = re.compile(r"^TLSv1\.(\d+)(_\d{4})?$")


def _tls12_or_newer(version: Any) -> bool:
    match = _TLS_VERSION.match(version) if isinstance(version, str) else None
    return match is not None and int(match.group(1)) >= 2


def cloudfront_https(resource: Resource, _: Context) -> list[str]:
    """Viewers on HTTPS (or redirected to it) with TLSv1.2+, custom origins over HTTPS TLSv1.2.

    The default ``*.cloudfront.net`` certificate pins the security policy at
    TLSv1, so it fails: use an ACM certificate with ``TLSv1.2_2021``.
    """
    if resource.type != CLOUDFRONT_DISTRIBUTION:
        return []
    inputs = resource.inputs
    problems = []
    behaviors = [("defaultCacheBehavior", inputs.get("defaultCacheBehavior"))]
    behaviors += [
        (f"orderedCacheBehaviors[{i}] ({_map(b).get('pathPattern')})", b)
        for i, b in enumerate(_seq(inputs.get("orderedCacheBehaviors")))
    ]
    for where, behavior in behaviors:
        policy = _map(behavior).get("viewerProtocolPolicy")
        if policy not in _HTTPS_VIEWER_POLICIES:
            problems.append(
                f"{where}.viewerProtocolPolicy is {policy!r}; use redirect-to-https or https-only"
            )
    certificate = _map(inputs.get("viewerCertificate"))
    if certificate.get("cloudfrontDefaultCertificate") is True:
        problems.append(
            "viewerCertificate uses the default CloudFront certificate, which allows TLSv1; "
            "use an ACM certificate (sni-only) with minimumProtocolVersion TLSv1.2_2021"
        )
    elif not _tls12_or_newer(certificate.get("minimumProtocolVersion")):
        problems.append(
            f"viewerCertificate.minimumProtocolVersion is {certificate.get('minimumProtocolVersion')!r}; "
            "use TLSv1.2_2021 or newer (the AWS default is TLSv1)"
        )
    for i, origin in enumerate(_seq(inputs.get("origins"))):
        custom = _map(origin).get("customOriginConfig")
        if custom is None:
            continue  # S3 and VPC origins: CloudFront reaches them over HTTPS
        where = f"origins[{i}] ({_map(origin).get('originId')})"
        protocol = _map(custom).get("originProtocolPolicy")
        if protocol != "https-only":
            problems.append(
                f"{where}.customOriginConfig.originProtocolPolicy is {protocol!r}; use https-only"
            )
        ssl = list(_seq(_map(custom).get("originSslProtocols")))
        weak = [p for p in ssl if not _tls12_or_newer(p)]
        if weak or not ssl:
            problems.append(
                f"{where}.customOriginConfig.originSslProtocols is {ssl}; allow only TLSv1.2"
            )
    return problems


# --- KMS-encrypted secrets --------------------------------------------------------------

_AWS_MANAGED_SECRETS_KEY = re.compile(r"(^|[:/])alias/aws/secretsmanager$")


def kms_encrypted_secrets(resource: Resource, _: Context) -> list[str]:
    """Secrets Manager secrets under a customer KMS key; EKS envelope-encrypts Kubernetes Secrets.

    A customer key gives a key policy we control, an audit trail per decrypt,
    and cross-account use; the AWS-managed ``aws/secretsmanager`` key gives none.
    """
    inputs = resource.inputs
    if resource.type == SECRETS_MANAGER_SECRET:
        key = inputs.get("kmsKeyId")
        if not key:
            return [
                "kmsKeyId is not set, so the AWS-managed key encrypts it; pass a customer KMS key"
            ]
        if isinstance(key, str) and _AWS_MANAGED_SECRETS_KEY.search(key):
            return [f"kmsKeyId {key!r} is the AWS-managed key; pass a customer KMS key"]
        return []
    if resource.type == EKS_CLUSTER:
        config = inputs.get("encryptionConfig")
        # pulumi-aws v7 sends one object; older majors sent a one-element list.
        configs = [_map(c) for c in _seq(config)] if not isinstance(config, Mapping) else [config]
        for c in configs:
            if "secrets" in _seq(c.get("resources")) and _get(c, "provider", "keyArn"):
                return []
        return [
            "encryptionConfig must envelope-encrypt resources ['secrets'] with provider.keyArn "
            "(a customer KMS key); without it Kubernetes Secrets are only base64 in etcd"
        ]
    return []


# --- EKS API endpoint not open to the world ---------------------------------------------


def _world(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


def eks_endpoint_not_public(resource: Resource, _: Context) -> list[str]:
    """The EKS API endpoint is private, or public only to listed CIDRs.

    AWS defaults are ``endpointPublicAccess: true`` and
    ``publicAccessCidrs: ["0.0.0.0/0"]``, so leaving either unset is a violation.
    """
    if resource.type != EKS_CLUSTER:
        return []
    vpc = _map(resource.inputs.get("vpcConfig"))
    if vpc.get("endpointPublicAccess") is False:
        return []
    cidrs = list(_seq(vpc.get("publicAccessCidrs")))
    if not cidrs:
        return [
            "the public API endpoint is on and publicAccessCidrs is unset (AWS default 0.0.0.0/0); "
            "set vpcConfig.endpointPublicAccess false, or list the CIDRs allowed"
        ]
    world = [c for c in cidrs if _world(c)]
    if world:
        return [
            f"vpcConfig.publicAccessCidrs {world} opens the API endpoint to the world; "
            "list the CIDRs allowed or turn endpointPublicAccess off"
        ]
    return []


# --- the pack ---------------------------------------------------------------------------

POLICIES: tuple[Policy, ...] = (
    Policy(
        "restricted-pod-security-context",
        "Pods run as the restricted Pod Security Standard: non-root, no privilege escalation, "
        "all capabilities dropped, seccomp RuntimeDefault, read-only root filesystem, no host access.",
        resource_check=restricted_security_context,
    ),
    Policy(
        "container-requests-and-limits",
        "Every container sets CPU and memory requests and limits.",
        resource_check=requests_and_limits,
    ),
    Policy(
        "no-mutable-image-tags",
        "Outside dev, no container image is :latest or untagged (a version tag or digest is required).",
        resource_check=pinned_images,
        config_schema={
            "mutableTagEnvironments": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(DEFAULT_MUTABLE_TAG_ENVIRONMENTS),
                "description": "Environments in which :latest / untagged images are allowed.",
            }
        },
    ),
    Policy(
        "network-policy-per-namespace",
        "Every namespace that runs a workload of the stack has a NetworkPolicy from the stack.",
        stack_check=network_policy_per_namespace,
    ),
    Policy(
        "cloudfront-https-tls12",
        "CloudFront serves HTTPS only (redirect-to-https or https-only) with TLSv1.2+, "
        "and reaches custom origins over HTTPS with TLSv1.2.",
        resource_check=cloudfront_https,
    ),
    Policy(
        "kms-encrypted-secrets",
        "Secrets Manager secrets use a customer KMS key; EKS clusters envelope-encrypt "
        "Kubernetes Secrets with a KMS key.",
        resource_check=kms_encrypted_secrets,
    ),
    Policy(
        "eks-endpoint-not-public",
        "The EKS API endpoint is private, or public only to an allow-list of CIDRs (never 0.0.0.0/0).",
        resource_check=eks_endpoint_not_public,
    ),
)


def by_name(name: str) -> Policy:
    for policy in POLICIES:
        if policy.name == name:
            return policy
    raise KeyError(f"no policy {name!r}; policies: {', '.join(p.name for p in POLICIES)}")


def evaluate(resources: Iterable[Resource], context: Context) -> list[Violation]:
    """Every policy over every resource: what ``pulumi preview --policy-pack policy`` reports."""
    resources = list(resources)
    return [v for policy in POLICIES for v in policy.run(resources, context)]

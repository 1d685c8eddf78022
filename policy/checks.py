"""The webplatform guardrails, as plain functions over resources in wire form.

Each check reads a resource's type token and its inputs exactly as the engine
sends them to a policy pack (camelCase keys, nested maps and lists) and as
``infra/synth.py`` writes them to ``resources.json``. Nothing here imports
``pulumi_policy``: the pack's entry file (``__main__.py``) wraps these
functions, and the project's own tests run them on every stack's synth, so a
guardrail is tested without the policy SDK (which pins an older protobuf than
the programs use) and without a Pulumi CLI.

One rule, one place. The library's args models refuse bad settings when a stack
file or an importer's arguments are parsed, before anything is registered; this
pack keeps only what they cannot see: resources registered by code that does not
go through our components (a team's own Deployment or CloudFront distribution
next to a ``WebApp``, another program run with this pack, a transform that
rewrote a child's inputs). Where a rule is already code in the library, a
check calls that code (image references, resource quantities, the CloudFront
security policies) instead of restating it, so the two cannot disagree. Rules
over the EKS cluster left the pack: only the platform's ``EksCluster`` makes
one, its model refuses an open endpoint at parse (and honours the explicit
``allowOpenToInternet`` the old policy contradicted), and Secrets encryption
is not a setting there but always on.

Inputs may be ``dict``/``list`` (synth) or the SDK's read-only ``Mapping`` /
``Sequence`` proxies (``pulumi preview``), so the helpers test against the
abstract types. During a preview the proxy raises on a value that is not known
yet; that exception is left to propagate, and the SDK turns it into an
advisory "can't run during preview" note; ``pulumi up`` re-runs the policy
with the value known. A check never catches it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_args

from webplatform._quantity import parse_cpu, parse_memory
from webplatform.edge.cloudfront import MinimumProtocolVersion

try:  # the models' shared image type (issue 14); until it lands, the workload module's check
    from webplatform._types import check_image as _check_image_value

    def check_image(field: str, image: str) -> None:
        _check_image_value(image)

except ImportError:
    from webplatform.workloads.workload import check_image

#: The viewer security policies the CloudFront model allows (its ``minimum_protocol_version``).
MINIMUM_PROTOCOL_VERSIONS: tuple[str, ...] = get_args(MinimumProtocolVersion)
#: Environments in which ``:latest`` is tolerated by default (an untagged image never is).
DEFAULT_MUTABLE_TAG_ENVIRONMENTS: tuple[str, ...] = ("dev",)

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CLOUDFRONT_DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
SECRETS_MANAGER_SECRET = "aws:secretsmanager/secret:Secret"

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


def _quantity(value: Any) -> Any:
    """The API accepts a quantity as a number too (``cpu: 1``); the library parses text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def requests_and_limits(resource: Resource, _: Context) -> list[str]:
    """CPU and memory requests and limits on every container, init containers included.

    Requests are what the scheduler and the HPA reason with; limits keep one
    pod from starving its neighbours. Each quantity must parse, and no request
    may exceed its limit: the same parsers and the same rule as the library's
    ``Resources`` model (``webplatform._quantity``), so a foreign Deployment is
    held to what our own workloads are.
    """
    spec = pod_spec(resource)
    if spec is None:
        return []
    problems = []
    for label, container in _containers(spec):
        if label.startswith("ephemeral"):
            continue  # ephemeral containers cannot declare resources
        where = f"{_workload(resource)} {label}"
        resources = _map(container.get("resources"))
        missing = [
            f"{kind}.{unit}"
            for kind in ("requests", "limits")
            for unit in ("cpu", "memory")
            if _map(resources.get(kind)).get(unit) in (None, "")
        ]
        if missing:
            problems.append(f"{where}: resources {', '.join(missing)} not set")
            continue
        for unit, parse in (("cpu", parse_cpu), ("memory", parse_memory)):
            try:
                request = parse(_quantity(_map(resources.get("requests")).get(unit)))
                limit = parse(_quantity(_map(resources.get("limits")).get(unit)))
            except ValueError as error:
                problems.append(f"{where}: resources.{{requests,limits}}.{unit}: {error}")
                continue
            if request > limit:
                problems.append(
                    f"{where}: resources.requests.{unit} exceeds limits.{unit}; the API server "
                    "rejects a request above its limit: lower the request or raise the limit"
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


def image_problem(image: str) -> str | None:
    """What the library's own image rule (``webplatform.workloads.workload.check_image``)
    says of a reference: not a reference, or untagged (an implicit ``latest``); else None."""
    try:
        check_image("image", image)
    except ValueError as error:
        message = str(error)
        for prefix in (f"image={image!r}", "image"):  # the field the message names
            message = message.removeprefix(prefix)
        return message.lstrip(": ")
    return None


def pinned_images(resource: Resource, context: Context) -> list[str]:
    """Every image names a version, and none is ``:latest`` outside the environments that allow it.

    A mutable reference means two pods of one Deployment can run different
    code, and a rollback does not roll back. The first half is the library's
    image rule, called, in every environment (our models refuse an untagged
    image in dev too); ``:latest`` is the stack-level rule, tolerated only in
    ``mutableTagEnvironments`` (default dev). A digest always passes.
    """
    spec = pod_spec(resource)
    if spec is None:
        return []
    problems = []
    for label, container in _containers(spec):
        image = container.get("image")
        if not isinstance(image, str):
            continue
        where = f"{_workload(resource)} {label}: image {image!r}"
        problem = image_problem(image)
        tag, digest = image_tag(image)
        if problem is not None:
            problems.append(f"{where}: {problem}")
        elif (
            digest is None
            and tag == "latest"
            and context.environment not in context.mutable_tag_environments
        ):
            problems.append(
                f"{where} is mutable (:latest); use a version tag or a digest in {context.environment}"
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
#: What CloudFront may offer an origin: the protocols of the origin side, not the viewer policies.
_ORIGIN_PROTOCOLS = ("TLSv1.2",)


def cloudfront_https(resource: Resource, _: Context) -> list[str]:
    """Viewers on HTTPS (or redirected to it) with TLSv1.2+, custom origins over HTTPS TLSv1.2.

    The viewer security policies allowed are the ``CloudFrontCdn`` model's own
    (its ``minimum_protocol_version`` type). The default
    ``*.cloudfront.net`` certificate pins the security policy at TLSv1, so it
    fails: use an ACM certificate with ``TLSv1.2_2021``.
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
    elif certificate.get("minimumProtocolVersion") not in MINIMUM_PROTOCOL_VERSIONS:
        problems.append(
            f"viewerCertificate.minimumProtocolVersion is {certificate.get('minimumProtocolVersion')!r}; "
            f"use one of {', '.join(MINIMUM_PROTOCOL_VERSIONS)} (the AWS default is TLSv1)"
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
        weak = [p for p in ssl if p not in _ORIGIN_PROTOCOLS]
        if weak or not ssl:
            problems.append(
                f"{where}.customOriginConfig.originSslProtocols is {ssl}; allow only TLSv1.2"
            )
    return problems


# --- KMS-encrypted secrets --------------------------------------------------------------

_AWS_MANAGED_SECRETS_KEY = re.compile(r"(^|[:/])alias/aws/secretsmanager$")


def kms_encrypted_secrets(resource: Resource, _: Context) -> list[str]:
    """Secrets Manager secrets under a customer KMS key.

    A customer key gives a key policy we control, an audit trail per decrypt,
    and cross-account use; the AWS-managed ``aws/secretsmanager`` key gives none.
    ``AppSecrets`` always makes its own key; this judges the secrets a team
    creates itself. (The EKS half of this rule left the pack: ``EksCluster``
    always envelope-encrypts Secrets with its own key, and has no setting to stop.)
    """
    if resource.type != SECRETS_MANAGER_SECRET:
        return []
    key = resource.inputs.get("kmsKeyId")
    if not key:
        return ["kmsKeyId is not set, so the AWS-managed key encrypts it; pass a customer KMS key"]
    if isinstance(key, str) and _AWS_MANAGED_SECRETS_KEY.search(key):
        return [f"kmsKeyId {key!r} is the AWS-managed key; pass a customer KMS key"]
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
        "Every container sets CPU and memory requests and limits, as valid quantities, "
        "no request above its limit.",
        resource_check=requests_and_limits,
    ),
    Policy(
        "no-mutable-image-tags",
        "Every container image names a tag or digest (the library's image rule), and outside dev "
        "none is :latest.",
        resource_check=pinned_images,
        config_schema={
            "mutableTagEnvironments": {
                "type": "array",
                "items": {"type": "string"},
                "default": list(DEFAULT_MUTABLE_TAG_ENVIRONMENTS),
                "description": "Environments in which :latest images are allowed (untagged ones never are).",
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
        "Secrets Manager secrets use a customer KMS key, not the AWS-managed aws/secretsmanager key.",
        resource_check=kms_encrypted_secrets,
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

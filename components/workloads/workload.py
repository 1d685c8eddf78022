"""A Deployment with the restricted security context, probes and resources always set.

What the reference guides do by hand, made the default:

- probes: liveness ``/health`` (30 s delay, 10 s period) and readiness
  ``/ready`` (5 s / 5 s). Reference 004 points both at ``/health``; a separate
  readiness path lets an app report "alive but not ready" (warming caches,
  draining) without being restarted.
- requests and limits are required, and requests may not exceed limits;
- the ``restricted`` Pod Security Standard: non-root UID/GID 1001, read-only root
  filesystem (with an ``emptyDir`` on ``/tmp`` so apps that write temp files
  still start), no privilege escalation, every capability dropped, seccomp
  ``RuntimeDefault``, and no service account token mounted;
- RollingUpdate with ``maxSurge: 1`` and ``maxUnavailable: 0``. Reference 004
  uses ``maxUnavailable: 1``, which with one replica (dev) takes the app down
  on every rollout; surge-only keeps the old pod until the new one is ready.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from webplatform import _validation
from webplatform._labels import app_labels, selector_labels
from webplatform._quantity import parse_cpu, parse_memory

_IMAGE = re.compile(r"^[^\s:@]+(:[0-9]+)?(/[^\s:@]+)*(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$")


def check_image(field: str, image: str) -> None:
    """An image must name its version (a tag or a digest): an implicit ``latest`` is not a release."""
    if not isinstance(image, str) or not _IMAGE.match(image):
        raise ValueError(f"{field}={image!r}: not a container image reference")
    last = image.rsplit("/", 1)[-1]
    if ":" not in last and "@" not in last:
        raise ValueError(
            f"{field}={image!r}: name a tag or digest (e.g. '{image}:1.4.2'); "
            "an untagged image silently means 'latest'"
        )


@dataclass(frozen=True, kw_only=True)
class Resources:
    """CPU and memory requests and limits; all four are required."""

    cpu_request: str
    """CPU the scheduler reserves, e.g. ``"250m"``."""
    memory_request: str
    """Memory the scheduler reserves, e.g. ``"256Mi"``."""
    cpu_limit: str
    """CPU ceiling (throttled above it), e.g. ``"500m"``."""
    memory_limit: str
    """Memory ceiling (OOM-killed above it), e.g. ``"512Mi"``."""

    def __post_init__(self) -> None:
        for kind, parse in (("cpu", parse_cpu), ("memory", parse_memory)):
            request, limit = getattr(self, f"{kind}_request"), getattr(self, f"{kind}_limit")
            for name, value in ((f"{kind}_request", request), (f"{kind}_limit", limit)):
                try:
                    parse(value)
                except ValueError as exc:
                    raise ValueError(f"{name}: {exc}") from None
            if parse(request) > parse(limit):
                raise ValueError(
                    f"{kind}_request={request!r} exceeds {kind}_limit={limit!r}; "
                    "a request above its limit is rejected by the API server"
                )

    def to_k8s(self) -> k8s.core.v1.ResourceRequirementsArgs:
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": self.cpu_request, "memory": self.memory_request},
            limits={"cpu": self.cpu_limit, "memory": self.memory_limit},
        )


@dataclass(frozen=True, kw_only=True)
class HttpProbe:
    """An HTTP GET probe against the container's ``http`` port."""

    path: str
    initial_delay_seconds: int
    period_seconds: int
    timeout_seconds: int = 3
    """Default 3 s."""
    failure_threshold: int = 3
    """Consecutive failures before the probe counts as failed; default 3."""

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"path={self.path!r}: must start with '/'")
        for name in ("initial_delay_seconds", "period_seconds", "timeout_seconds"):
            value = getattr(self, name)
            if value < (0 if name == "initial_delay_seconds" else 1):
                raise ValueError(f"{name}={value!r}: must be a positive number of seconds")
        if self.failure_threshold < 1:
            raise ValueError(f"failure_threshold={self.failure_threshold!r}: must be at least 1")

    def to_k8s(self) -> k8s.core.v1.ProbeArgs:
        return k8s.core.v1.ProbeArgs(
            http_get=k8s.core.v1.HTTPGetActionArgs(path=self.path, port="http"),
            initial_delay_seconds=self.initial_delay_seconds,
            period_seconds=self.period_seconds,
            timeout_seconds=self.timeout_seconds,
            failure_threshold=self.failure_threshold,
        )


LIVENESS = HttpProbe(path="/health", initial_delay_seconds=30, period_seconds=10, timeout_seconds=5)
READINESS = HttpProbe(path="/ready", initial_delay_seconds=5, period_seconds=5, timeout_seconds=3)


@dataclass(frozen=True, kw_only=True)
class WorkloadArgs:
    app: str
    """The app's name: object names and labels derive from it (a DNS label)."""
    namespace: pulumi.Input[str]
    """Namespace to deploy into; pass a ``Namespace.name`` so the order is implied."""
    image: str
    """Container image with a tag or digest."""
    port: int
    """The container's HTTP port, named ``http``; probes and Services use the name."""
    resources: Resources
    """Requests and limits (required: an unbounded pod starves its neighbours)."""
    replicas: int | None = 1
    """Pod count; default 1. ``None`` leaves it to an autoscaler (no ``spec.replicas``)."""
    metrics_port: int | None = None
    """Optional Prometheus metrics port, named ``metrics``; default none."""
    liveness: HttpProbe = LIVENESS
    """Default ``/health``, 30 s initial delay, every 10 s."""
    readiness: HttpProbe = READINESS
    """Default ``/ready``, 5 s initial delay, every 5 s."""
    max_surge: int | str = 1
    """Extra pods during a rollout; default 1."""
    max_unavailable: int | str = 0
    """Pods that may be down during a rollout; default 0 (never below the desired count)."""
    config_map_name: pulumi.Input[str] | None = None
    """ConfigMap loaded with ``envFrom``; default none."""
    secret_name: pulumi.Input[str] | None = None
    """Secret loaded with ``envFrom``; default none."""
    config_checksum: pulumi.Input[str] | None = None
    """Hash of the plain settings, as a pod annotation, so a settings change rolls the pods."""
    service_account_name: pulumi.Input[str] | None = None
    """Existing ServiceAccount to run as; default ``-`` (a dedicated one is created)."""
    run_as_user: int = 1001
    """Non-root UID; default 1001 (reference 004)."""
    run_as_group: int = 1001
    """GID and fsGroup; default 1001."""
    tmp_size_limit: str = "64Mi"
    """Size limit of the writable ``/tmp`` emptyDir; default ``64Mi``."""
    extra_labels: dict[str, str] = field(default_factory=dict)
    """Labels added to the Deployment and its pods (not to the selector); default none."""
    extra_selector: dict[str, str] = field(default_factory=dict)
    """Labels added to the selector (e.g. a colour); frozen once released; default none."""
    deployment_name: str | None = None
    """The Deployment's name in the cluster; default the app's name."""
    termination_grace_period_seconds: int = 30
    """Time to drain on shutdown; default 30 s."""

    def __post_init__(self) -> None:
        _validation.dns_label("app", self.app)
        check_image("image", self.image)
        _validation.port("port", self.port)
        if self.metrics_port is not None:
            _validation.port("metrics_port", self.metrics_port)
            if self.metrics_port == self.port:
                raise ValueError(f"metrics_port={self.metrics_port}: must differ from port")
        if self.replicas is not None and (isinstance(self.replicas, bool) or self.replicas < 0):
            raise ValueError(f"replicas={self.replicas!r}: must be 0 or more, or None")
        if self.run_as_user <= 0 or self.run_as_group <= 0:
            raise ValueError(
                f"run_as_user={self.run_as_user}, run_as_group={self.run_as_group}: "
                "must be non-root (greater than 0)"
            )
        if self.max_surge in (0, "0%") and self.max_unavailable in (0, "0%"):
            raise ValueError(
                "max_surge and max_unavailable cannot both be 0: the rollout could not progress"
            )
        parse_memory(self.tmp_size_limit)
        if self.deployment_name is not None:
            _validation.dns_label("deployment_name", self.deployment_name)


class Workload(pulumi.ComponentResource):
    """A Deployment (and its own ServiceAccount) locked down to the ``restricted`` standard."""

    deployment_name: pulumi.Output[str]
    service_account_name: pulumi.Output[str]
    selector: dict[str, str]
    """The pod selector labels (plain: Services and policies need them at construction)."""
    deployment: k8s.apps.v1.Deployment
    """The Deployment itself, for ``depends_on`` (its readiness gates what depends on it)."""

    def __init__(
        self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:workload:Workload", name, None, opts)
        # depends_on given to the component also gates its children: a blue-green switch
        # relies on it to scale the old colour down only after the Service has moved.
        child = pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None)
        labels = app_labels(args.app, {**args.extra_labels, **args.extra_selector})
        self.selector = {**selector_labels(args.app), **args.extra_selector}

        self.service_account_name = service_account(name, args, child)

        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.deployment_name or args.app, namespace=args.namespace, labels=labels
            ),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                revision_history_limit=5,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self.selector),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_surge=args.max_surge, max_unavailable=args.max_unavailable
                    ),
                ),
                template=pod_template(args, labels, self.service_account_name),
            ),
            opts=child,
        )
        self.deployment_name = self.deployment.metadata.name
        self.register_outputs(
            {
                "deployment_name": self.deployment_name,
                "service_account_name": self.service_account_name,
            }
        )


def pod_template(
    args: WorkloadArgs, labels: dict[str, str], service_account_name: pulumi.Input[str]
) -> k8s.core.v1.PodTemplateSpecArgs:
    """The hardened pod of every workload kind (Deployment, blue-green colour, Argo Rollout)."""
    ports = [k8s.core.v1.ContainerPortArgs(name="http", container_port=args.port, protocol="TCP")]
    if args.metrics_port is not None:
        ports.append(
            k8s.core.v1.ContainerPortArgs(
                name="metrics", container_port=args.metrics_port, protocol="TCP"
            )
        )
    env_from = []
    if args.config_map_name is not None:
        env_from.append(
            k8s.core.v1.EnvFromSourceArgs(
                config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=args.config_map_name)
            )
        )
    if args.secret_name is not None:
        env_from.append(
            k8s.core.v1.EnvFromSourceArgs(
                secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=args.secret_name)
            )
        )
    annotations: dict[str, pulumi.Input[str]] = {
        "kubectl.kubernetes.io/default-container": args.app
    }
    if args.config_checksum is not None:
        annotations["checksum/config"] = args.config_checksum
    seccomp = k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels, annotations=annotations),
        spec=k8s.core.v1.PodSpecArgs(
            service_account_name=service_account_name,
            automount_service_account_token=False,
            termination_grace_period_seconds=args.termination_grace_period_seconds,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True,
                run_as_user=args.run_as_user,
                run_as_group=args.run_as_group,
                fs_group=args.run_as_group,
                seccomp_profile=seccomp,
            ),
            containers=[
                k8s.core.v1.ContainerArgs(
                    name=args.app,
                    image=args.image,
                    image_pull_policy="IfNotPresent",
                    ports=ports,
                    env_from=env_from or None,
                    resources=args.resources.to_k8s(),
                    liveness_probe=args.liveness.to_k8s(),
                    readiness_probe=args.readiness.to_k8s(),
                    security_context=k8s.core.v1.SecurityContextArgs(
                        allow_privilege_escalation=False,
                        privileged=False,
                        read_only_root_filesystem=True,
                        run_as_non_root=True,
                        run_as_user=args.run_as_user,
                        run_as_group=args.run_as_group,
                        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                        seccomp_profile=seccomp,
                    ),
                    volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],
                )
            ],
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="tmp",
                    empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=args.tmp_size_limit),
                )
            ],
        ),
    )


def service_account(
    name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """The workload's own ServiceAccount (no token mounted), unless it was given one."""
    if args.service_account_name is not None:
        return pulumi.Output.from_input(args.service_account_name)
    account = k8s.core.v1.ServiceAccount(
        f"{name}-service-account",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=args.app, namespace=args.namespace, labels=app_labels(args.app)
        ),
        automount_service_account_token=False,
        opts=opts,
    )
    return account.metadata.name

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

from typing import Annotated, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from webplatform._labels import app_labels, selector_labels
from webplatform._model import Args, Input, at
from webplatform._quantity import parse_cpu, parse_memory
from webplatform._types import (
    Cpu,
    DnsLabel,
    Image,
    IntOrPercent,
    Labels,
    Memory,
    Port,
    ServiceName,
    Wired,
    check_image,
    percent,
)

__all__ = [
    "LIVENESS",
    "READINESS",
    "HttpProbe",
    "Quantities",
    "ReplicasOwner",
    "Resources",
    "RollingUpdate",
    "Workload",
    "WorkloadArgs",
    "check_image",
    "pod_template",
    "service_account",
]


class Quantities(Args):
    """CPU and memory, as the Kubernetes quantities a person writes."""

    cpu: Cpu
    """Cores (``"0.5"``) or millicores (``"250m"``); required."""
    memory: Memory
    """Bytes with a unit (``"256Mi"``, ``"1Gi"``); required."""


class Resources(Args):
    """Requests and limits; all four numbers are required (an unbounded pod starves its neighbours)."""

    requests: Quantities
    """What the scheduler reserves per pod (and what HPA utilisation is a percentage of)."""
    limits: Quantities
    """The ceiling per pod: CPU is throttled above it, memory is OOM-killed."""

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        for kind, parse in (("cpu", parse_cpu), ("memory", parse_memory)):
            if parse(getattr(self.requests, kind)) > parse(getattr(self.limits, kind)):
                raise at(
                    "requests",
                    kind,
                    message=f"exceeds limits.{kind}; the API server rejects a request above "
                    "its limit: lower the request or raise the limit",
                )
        return self

    def to_k8s(self) -> k8s.core.v1.ResourceRequirementsArgs:
        return k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": self.requests.cpu, "memory": self.requests.memory},
            limits={"cpu": self.limits.cpu, "memory": self.limits.memory},
        )


class HttpProbe(Args):
    """An HTTP GET probe against the container's ``http`` port."""

    path: Annotated[str, Field(pattern=r"^/\S*$", max_length=1024)]
    """HTTP path, starting with '/'; required."""
    initial_delay_seconds: Annotated[int, Field(ge=0, le=600)]
    """Seconds after start before the first probe (0-600); required."""
    period_seconds: Annotated[int, Field(ge=1, le=300)]
    """Seconds between probes (1-300); required."""
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 3
    """Seconds a probe may take (1-60); default 3."""
    failure_threshold: Annotated[int, Field(ge=1, le=30)] = 3
    """Consecutive failures before the probe counts as failed (1-30); default 3."""

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


class RollingUpdate(Args):
    """How a Deployment replaces its pods; the API server's rules, checked at parse."""

    max_surge: IntOrPercent = 1
    """Extra pods during a rollout: a number >= 0 or ``"N%"``; default 1 (keep the old pod
    until the new one is ready)."""
    max_unavailable: IntOrPercent = 0
    """Pods that may be down during a rollout: a number >= 0 or ``"N%"`` up to 100 %;
    default 0 (never below the desired count; reference 004's 1 takes a one-pod app down)."""

    @model_validator(mode="after")
    def _can_progress(self) -> RollingUpdate:
        unavailable, is_percent = percent(self.max_unavailable)
        if is_percent and unavailable > 100:
            raise at("max_unavailable", message="a percentage must be at most 100%")
        if percent(self.max_surge)[0] == 0 and unavailable == 0:
            raise at(
                "max_surge",
                message="maxSurge and maxUnavailable cannot both be 0: the rollout could not "
                "progress (the API server refuses it); set maxSurge to 1",
            )
        return self


ReplicasOwner = Literal["workload", "autoscaler"]
"""Who owns a Deployment's ``spec.replicas`` after it is created.

``autoscaler``: the Deployment is *created* with ``replicas`` (the HPA's floor), so the
provider's rollout wait (all replicas ready) makes ``pulumi up`` succeed only once the floor
is serving; an absent ``spec.replicas`` would start one pod and leave the rest to the HPA's
next sync. After that the field is the HPA's: ``ignoreChanges: [spec.replicas]`` makes the
provider (server-side apply) leave it out of every later apply once another field manager
(the HPA controller, through the ``scale`` subresource) has written it, and re-send the live
value while it has not, so no ``pulumi up`` resets the HPA's choice. This is the hand-over
the Kubernetes docs describe ("Transferring ownership", server-side apply) without the
second manager: the HPA's own update is the transfer.
"""


class WorkloadArgs(Args):
    """One Deployment's pod and rollout; see the module docstring for the defaults' reasons."""

    app: ServiceName
    """The app's name: object names and labels derive from it (a DNS-1035 label)."""
    namespace: Input[str]
    """Namespace to deploy into; pass a ``Namespace.name`` so the order is implied."""
    image: Image
    """Container image with a tag or digest and a lowercase repository path."""
    port: Port
    """The container's HTTP port, named ``http``; probes and Services use the name."""
    resources: Resources
    """Requests and limits (required: an unbounded pod starves its neighbours)."""
    replicas: Annotated[int, Field(ge=0, le=1000)] | None = 1
    """Pod count; default 1. With ``replicas_owner: autoscaler``, the count the Deployment is
    created with (the autoscaler's floor). ``None``: no ``spec.replicas`` at all (the API
    server's default, 1)."""
    replicas_owner: ReplicasOwner = "workload"
    """Who sets ``spec.replicas`` after creation; default ``workload`` (every apply sets it).
    ``autoscaler``: an HPA owns the count; see :data:`ReplicasOwner`."""
    metrics_port: Port | None = None
    """Optional Prometheus metrics port, named ``metrics``; default none."""
    liveness: HttpProbe = LIVENESS
    """Default ``/health``, 30 s initial delay, every 10 s, 5 s timeout."""
    readiness: HttpProbe = READINESS
    """Default ``/ready``, 5 s initial delay, every 5 s, 3 s timeout."""
    rolling_update: RollingUpdate = RollingUpdate()
    """Default surge 1, unavailable 0."""
    config_map_name: Wired[str] | None = None
    """ConfigMap loaded with ``envFrom``; default none."""
    secret_name: Wired[str] | None = None
    """Secret loaded with ``envFrom``; default none."""
    config_checksum: Wired[str] | None = None
    """Hash of the plain settings, as a pod annotation, so a settings change rolls the pods."""
    service_account_name: Wired[str] | None = None
    """Existing ServiceAccount to run as; default ``-`` (a dedicated one is created)."""
    run_as_user: Annotated[int, Field(ge=1, le=2147483647)] = 1001
    """Non-root UID; default 1001 (reference 004)."""
    run_as_group: Annotated[int, Field(ge=1, le=2147483647)] = 1001
    """GID and fsGroup; default 1001."""
    tmp_size_limit: Memory = "64Mi"
    """Size limit of the writable ``/tmp`` emptyDir; default ``64Mi``."""
    extra_labels: Labels = {}
    """Labels added to the Deployment and its pods (not to the selector); default none."""
    annotations: Labels = {}
    """Annotations on the Deployment itself (not its pods: changing one restarts nothing);
    default none."""
    extra_selector: Labels = {}
    """Labels added to the selector (e.g. a colour); frozen once released; default none."""
    deployment_name: DnsLabel | None = None
    """The Deployment's name in the cluster; default the app's name."""
    termination_grace_period_seconds: Annotated[int, Field(ge=0, le=3600)] = 30
    """Time to drain on shutdown; default 30 s."""

    @model_validator(mode="after")
    def _ports_differ(self) -> WorkloadArgs:
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise at(
                "metrics_port",
                message="must differ from port: two container ports cannot share a number",
            )
        return self


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
                name=args.deployment_name or args.app,
                namespace=args.namespace,
                labels=labels,
                annotations=dict(args.annotations) or None,
            ),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=args.replicas,
                revision_history_limit=5,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=self.selector),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                        max_surge=args.rolling_update.max_surge,
                        max_unavailable=args.rolling_update.max_unavailable,
                    ),
                ),
                template=pod_template(args, labels, self.service_account_name),
            ),
            opts=pulumi.ResourceOptions.merge(child, replicas_options(args)),
        )
        self.deployment_name = self.deployment.metadata.name
        self.register_outputs(
            {
                "deployment_name": self.deployment_name,
                "service_account_name": self.service_account_name,
            }
        )


def replicas_options(args: WorkloadArgs) -> pulumi.ResourceOptions:
    """``ignoreChanges`` on ``spec.replicas`` when an autoscaler owns it (:data:`ReplicasOwner`)."""
    if args.replicas_owner == "autoscaler" and args.replicas is not None:
        return pulumi.ResourceOptions(ignore_changes=["spec.replicas"])
    return pulumi.ResourceOptions()


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

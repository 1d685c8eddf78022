"""One web app: settings, workload and Service wired together with secure defaults.

This is what a team imports. The resource name is the app's name in the
cluster (a DNS label); everything else has a default except what only the
team can know: image, port, replicas and resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from webplatform import _validation
from webplatform._labels import selector_labels
from webplatform.delivery.blue_green import (
    COLORS,
    BlueGreenArgs,
    BlueGreenRelease,
    BlueGreenService,
)
from webplatform.delivery.rollout import ArgoRelease, ArgoRollout, RolloutArgs
from webplatform.edge.ingress import Ingress, IngressArgs, IngressRoute
from webplatform.guardrails.autoscaling import Autoscaler, AutoscalerArgs, Autoscaling, ScaleTarget
from webplatform.guardrails.disruption import (
    DisruptionBudget,
    DisruptionBudgetArgs,
    DisruptionPolicy,
)
from webplatform.guardrails.monitoring import Alerting, Monitoring, MonitoringArgs
from webplatform.guardrails.network_policy import (
    AppNetworkPolicy,
    AppNetworkPolicyArgs,
    NetworkAccess,
)
from webplatform.workloads.service import Service, ServiceArgs
from webplatform.workloads.settings import AppSettings, AppSettingsArgs
from webplatform.workloads.workload import (
    LIVENESS,
    READINESS,
    HttpProbe,
    Resources,
    Workload,
    WorkloadArgs,
)


@dataclass(frozen=True, kw_only=True)
class WebAppArgs:
    namespace: pulumi.Input[str]
    """Namespace to deploy into (a ``Namespace.name``)."""
    port: int
    """The container's HTTP port."""
    resources: Resources
    """Requests and limits; required."""
    image: str | None = None
    """Container image with a tag or digest; required except for a blue-green release,
    where each colour names its own."""
    release: BlueGreenRelease | ArgoRelease | None = None
    """How new versions go live. Default ``-``: a rolling update of one Deployment.
    ``BlueGreenRelease``: two colours switched by ``pulumi up``. ``ArgoRelease``: an Argo
    Rollout (blue-green with analysis, or canary); needs the Argo Rollouts controller."""
    replicas: int | None = 1
    """Pod count; default 1. ``None`` when an autoscaler owns it."""
    service_port: int = 80
    """Port of the ClusterIP Service; default 80."""
    metrics_port: int | None = None
    """Prometheus metrics port on the pods and the Service; default none."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Plain settings (ConfigMap); default none."""
    secret_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret settings (Secret), e.g. ``Config.require_secret(...)``; default none."""
    external_secret_name: pulumi.Input[str] | None = None
    """A Secret written by someone else (External Secrets Operator) to read instead of
    ``secret_env``; default none. See ``AppSettingsArgs.external_secret_name``."""
    liveness: HttpProbe = LIVENESS
    """Default ``/health`` 30 s / 10 s."""
    readiness: HttpProbe = READINESS
    """Default ``/ready`` 5 s / 5 s."""
    max_surge: int | str = 1
    """Default 1."""
    max_unavailable: int | str = 0
    """Default 0."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels on every object (e.g. the environment); default none."""
    autoscaling: Autoscaling | None = None
    """An HPA with these numbers; default none. Needs ``replicas=None``: the HPA owns the count."""
    disruption_budget: DisruptionPolicy | None = None
    """A PodDisruptionBudget; default none. Checked against ``replicas`` or ``autoscaling.min_replicas``."""
    network_policy: NetworkAccess | None = None
    """The app's NetworkPolicy allow-list; default none. Pair it with a namespace ``DefaultDeny``."""
    ingress: IngressRoute | None = None
    """Publish the Service through an Ingress (TLS, HTTPS only, rate limit); default none."""
    monitoring: Alerting | None = None
    """A PrometheusRule and, with ``metrics_port``, a ServiceMonitor; default none."""

    def __post_init__(self) -> None:
        _validation.port("service_port", self.service_port)
        if isinstance(self.release, BlueGreenRelease):
            if self.image is not None:
                raise ValueError(
                    "image: a blue-green app names one image per colour (release.blue.image, "
                    "release.green.image), not a single image"
                )
            self.release.check_capacity(self.replicas)
        elif self.image is None:
            raise ValueError("image: required (a container image with a tag or digest)")
        self._check_guardrails()

    def _check_guardrails(self) -> None:
        """Cross-field rules of the guardrails, checked before anything is registered."""
        if self.autoscaling is not None and self.replicas is not None:
            raise ValueError(
                f"replicas={self.replicas!r}: must be None when autoscaling is set; the "
                "autoscaler owns the pod count (min_replicas..max_replicas), and a fixed "
                "spec.replicas would fight it on every update"
            )
        if self.disruption_budget is not None:
            if self.autoscaling is not None:
                self.disruption_budget.check_leaves_room(
                    self.autoscaling.min_replicas, "autoscaling.min_replicas"
                )
            else:
                self.disruption_budget.check_leaves_room(self.replicas, "replicas")
        if isinstance(self.release, BlueGreenRelease) and self.autoscaling is not None:
            for color in COLORS:
                replicas = self.release.color(color).replicas
                if replicas not in (None, 0):
                    raise ValueError(
                        f"release.{color}.replicas={replicas}: with autoscaling each colour "
                        "has its own autoscaler; a colour's replicas may only be 0 (scaled down)"
                    )


def _colour_image(release: BlueGreenRelease | ArgoRelease | None) -> str:
    assert isinstance(release, BlueGreenRelease)  # WebAppArgs guarantees it
    return release.color(release.active_color).image


class WebApp(pulumi.ComponentResource):
    """ConfigMap + Secret, and the workload as ``release`` says: a rolling Deployment and its
    Service, a blue-green pair, or an Argo Rollout."""

    service_name: pulumi.Output[str]
    """The Service that takes the app's traffic (its stable DNS name)."""
    preview_service_name: pulumi.Output[str] | None
    """Blue-green: the Service selecting the idle colour; Argo: preview/canary; else ``None``."""
    internal_url: pulumi.Output[str]
    """``http://<service>.<namespace>.svc.cluster.local[:port]``, for other workloads."""
    public_url: str | None
    """``https://<host>/`` when the app has an Ingress, else ``None``."""

    def __init__(
        self, name: str, args: WebAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validation.dns_label("name", name)
        super().__init__("webplatform:app:WebApp", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.labels)

        settings = AppSettings(
            f"{name}-settings",
            AppSettingsArgs(
                app=name,
                namespace=args.namespace,
                plain=args.env,
                secret=args.secret_env,
                external_secret_name=args.external_secret_name,
            ),
            opts=child,
        )
        template = WorkloadArgs(
            app=name,
            namespace=args.namespace,
            # A blue-green app's colours replace this placeholder with their own images.
            image=args.image or _colour_image(args.release),
            port=args.port,
            resources=args.resources,
            replicas=args.replicas,
            metrics_port=args.metrics_port,
            liveness=args.liveness,
            readiness=args.readiness,
            max_surge=args.max_surge,
            max_unavailable=args.max_unavailable,
            config_map_name=settings.config_map_name,
            secret_name=settings.secret_name,
            config_checksum=settings.checksum,
            extra_labels=labels,
        )
        if isinstance(args.release, BlueGreenRelease):
            pair = BlueGreenService(
                f"{name}-blue-green",
                BlueGreenArgs(
                    workload=template, release=args.release, service_port=args.service_port
                ),
                opts=child,
            )
            self.service_name = pair.active_service_name
            self.preview_service_name: pulumi.Output[str] | None = pair.preview_service_name
            # Each colour that runs gets its own autoscaler with the same bounds, so the idle
            # colour is as large as the active one when the switch comes (capacity at the flip).
            targets = {
                f"{name}-{color}": ScaleTarget.deployment(workload.deployment_name)
                for color, workload in pair.workloads.items()
                if args.release.color(color).replicas != 0
            }
            deployments = tuple(f"{name}-{color}" for color in COLORS)
        elif isinstance(args.release, ArgoRelease):
            rollout = ArgoRollout(
                f"{name}-rollout",
                RolloutArgs(
                    workload=template, release=args.release, service_port=args.service_port
                ),
                opts=child,
            )
            self.service_name = rollout.service_name
            self.preview_service_name = rollout.preview_service_name
            # The Rollout owns the pods: the autoscaler scales it, never a Deployment.
            targets = {name: ScaleTarget.rollout(rollout.rollout_name)}
            deployments = ()
        else:
            workload = Workload(f"{name}-workload", template, opts=child)
            service = Service(
                f"{name}-service",
                ServiceArgs(
                    app=name,
                    namespace=args.namespace,
                    selector=workload.selector,
                    port=args.service_port,
                    metrics_port=args.metrics_port,
                    extra_labels=labels,
                ),
                opts=child,
            )
            self.service_name = service.service_name
            self.preview_service_name = None
            targets = {name: ScaleTarget.deployment(workload.deployment_name)}
            deployments = (name,)
        self._guardrails(name, args, targets, deployments)
        suffix = "" if args.service_port == 80 else f":{args.service_port}"
        self.internal_url = pulumi.Output.format(
            "http://{0}.{1}.svc.cluster.local{2}", self.service_name, args.namespace, suffix
        )
        self.register_outputs(
            {
                "service_name": self.service_name,
                "preview_service_name": self.preview_service_name,
                "internal_url": self.internal_url,
                "public_url": self.public_url,
            }
        )

    def _guardrails(
        self,
        name: str,
        args: WebAppArgs,
        targets: dict[str, ScaleTarget],
        deployments: tuple[str, ...],
    ) -> None:
        """Autoscaler, disruption budget, network policy, ingress and monitoring, each when asked for.

        They select the app's pods by the app's selector labels only (no
        colour), so one budget and one policy cover every Deployment of the app.
        """
        child = pulumi.ResourceOptions(parent=self)
        pods = selector_labels(name)
        self.public_url = None
        hpa_names: tuple[str, ...] = ()
        if args.autoscaling is not None:
            for hpa_name, target in targets.items():
                Autoscaler(
                    f"{name}-autoscaler" if hpa_name == name else f"{hpa_name}-autoscaler",
                    AutoscalerArgs(
                        app=name,
                        namespace=args.namespace,
                        target=target,
                        requests={
                            "cpu": args.resources.cpu_request,
                            "memory": args.resources.memory_request,
                        },
                        autoscaling=args.autoscaling,
                        hpa_name=hpa_name,
                    ),
                    opts=child,
                )
            hpa_names = tuple(sorted(targets))  # stable across a colour switch
        if args.disruption_budget is not None:
            floor = args.autoscaling.min_replicas if args.autoscaling else args.replicas
            DisruptionBudget(
                f"{name}-disruption-budget",
                DisruptionBudgetArgs(
                    app=name,
                    namespace=args.namespace,
                    selector=pods,
                    policy=args.disruption_budget,
                    replicas=floor,
                ),
                opts=child,
            )
        if args.network_policy is not None:
            AppNetworkPolicy(
                f"{name}-network-policy",
                AppNetworkPolicyArgs(
                    app=name,
                    namespace=args.namespace,
                    pod_selector=pods,
                    port=args.port,
                    metrics_port=args.metrics_port,
                    access=args.network_policy,
                ),
                opts=child,
            )
        if args.ingress is not None:
            ingress = Ingress(
                f"{name}-ingress",
                IngressArgs(
                    app=name,
                    namespace=args.namespace,
                    service_name=self.service_name,
                    service_port=args.service_port,
                    route=args.ingress,
                ),
                opts=child,
            )
            self.public_url = ingress.url
        if args.monitoring is not None:
            Monitoring(
                f"{name}-monitoring",
                MonitoringArgs(
                    app=name,
                    namespace=args.namespace,
                    deployments=deployments,
                    hpa_names=hpa_names,
                    service_labels=pods,
                    metrics_port_name="metrics" if args.metrics_port is not None else None,
                    alerting=args.monitoring,
                ),
                opts=child,
            )

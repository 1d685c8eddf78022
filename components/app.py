"""One web app: settings, workload and Service wired together with secure defaults.

This is what a team imports. The resource name is the app's name in the
cluster (a DNS label); everything else has a default except what only the
team can know: image, port, replicas and resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components import _validation
from components.blue_green import BlueGreenArgs, BlueGreenRelease, BlueGreenService
from components.rollout import ArgoRelease, ArgoRollout, RolloutArgs
from components.service import Service, ServiceArgs
from components.settings import AppSettings, AppSettingsArgs
from components.workload import LIVENESS, READINESS, HttpProbe, Resources, Workload, WorkloadArgs


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
                app=name, namespace=args.namespace, plain=args.env, secret=args.secret_env
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
        suffix = "" if args.service_port == 80 else f":{args.service_port}"
        self.internal_url = pulumi.Output.format(
            "http://{0}.{1}.svc.cluster.local{2}", self.service_name, args.namespace, suffix
        )
        self.register_outputs(
            {
                "service_name": self.service_name,
                "preview_service_name": self.preview_service_name,
                "internal_url": self.internal_url,
            }
        )

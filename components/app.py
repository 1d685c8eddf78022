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
from components.service import Service, ServiceArgs
from components.settings import AppSettings, AppSettingsArgs
from components.workload import LIVENESS, READINESS, HttpProbe, Resources, Workload, WorkloadArgs


@dataclass(frozen=True, kw_only=True)
class WebAppArgs:
    namespace: pulumi.Input[str]
    """Namespace to deploy into (a ``Namespace.name``)."""
    image: str
    """Container image with a tag or digest."""
    port: int
    """The container's HTTP port."""
    resources: Resources
    """Requests and limits; required."""
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


class WebApp(pulumi.ComponentResource):
    """ConfigMap + Secret, a restricted Deployment with its ServiceAccount, and a Service."""

    service_name: pulumi.Output[str]
    deployment_name: pulumi.Output[str]
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
        workload = Workload(
            f"{name}-workload",
            WorkloadArgs(
                app=name,
                namespace=args.namespace,
                image=args.image,
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
            ),
            opts=child,
        )
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
        self.deployment_name = workload.deployment_name
        suffix = "" if args.service_port == 80 else f":{args.service_port}"
        self.internal_url = pulumi.Output.format(
            "http://{0}.{1}.svc.cluster.local{2}", service.service_name, args.namespace, suffix
        )
        self.register_outputs(
            {
                "service_name": self.service_name,
                "deployment_name": self.deployment_name,
                "internal_url": self.internal_url,
            }
        )

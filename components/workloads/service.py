"""A ClusterIP Service in front of an app's pods.

ClusterIP only: exposure to the internet goes through an Ingress (TLS, HSTS,
rate limits), never a ``LoadBalancer`` Service that bypasses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from webplatform import _validation
from webplatform._labels import app_labels


@dataclass(frozen=True, kw_only=True)
class ServiceArgs:
    app: str
    """The app's name, used for labels."""
    namespace: pulumi.Input[str]
    selector: Mapping[str, pulumi.Input[str]]
    """Labels of the pods to send traffic to (a Workload's ``selector``)."""
    service_name: str | None = None
    """The Service's name in the cluster (its DNS name); default the app's name."""
    port: int = 80
    """Port the Service listens on; default 80. Traffic goes to the pods' ``http`` port."""
    metrics_port: int | None = None
    """Also expose the pods' ``metrics`` port on this port; default none."""
    extra_labels: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validation.dns_label("app", self.app)
        _validation.dns_label("service_name", self.service_name or self.app)
        _validation.port("port", self.port)
        if self.metrics_port is not None:
            _validation.port("metrics_port", self.metrics_port)
        if not self.selector:
            raise ValueError("selector: must not be empty; an empty selector matches no pods")


class Service(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    service: k8s.core.v1.Service

    def __init__(
        self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:service:Service", name, None, opts)
        ports = [
            k8s.core.v1.ServicePortArgs(
                name="http", port=args.port, target_port="http", protocol="TCP"
            )
        ]
        if args.metrics_port is not None:
            ports.append(
                k8s.core.v1.ServicePortArgs(
                    name="metrics", port=args.metrics_port, target_port="metrics", protocol="TCP"
                )
            )
        self.service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.service_name or args.app,
                namespace=args.namespace,
                labels=app_labels(args.app, dict(args.extra_labels)),
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP", selector=dict(args.selector), ports=ports
            ),
            # depends_on given to the component gates the Service itself: a blue-green switch
            # must not move the selector before the target colour is ready.
            opts=pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None),
        )
        self.service_name = self.service.metadata.name
        self.register_outputs({"service_name": self.service_name})

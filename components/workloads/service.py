"""A ClusterIP Service in front of an app's pods.

ClusterIP only: exposure to the internet goes through the Gateway (an HTTPRoute) (TLS, HSTS,
rate limits), never a ``LoadBalancer`` Service that bypasses them.

The provider does not wait on it (``pulumi.com/skipAwait``). Its Service wait
(pulumi-kubernetes v4, ``pkg/await/service.go``) succeeds once the Service's Endpoints
list some pod and then no Endpoints event came for a fixed 10 s: for a ClusterIP Service
that is all it checks. It runs *after* the selector is applied, so it can never stop
traffic going to unready pods; it only delays ``pulumi up`` by at least 10 s per Service,
one Service after another along the dependency graph (23 s of a blue-green flip). What does
gate traffic is the readiness of the pods the Service selects, which the workload's own
Deployment wait checks before any Service that depends on it is touched
(:mod:`webplatform.delivery.blue_green`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from webplatform._labels import app_labels
from webplatform._model import Args, Input, at
from webplatform._types import Labels, Port, ServiceName, Wired

#: The provider's per-object switch to skip its readiness wait (see the module docstring).
SKIP_AWAIT = "pulumi.com/skipAwait"


class ServiceArgs(Args):
    """A ClusterIP Service: one ``http`` port and optionally a ``metrics`` port."""

    app: ServiceName
    """The app's name, used for labels (a DNS-1035 label)."""
    namespace: Input[str]
    """Namespace of the Service (a ``Namespace.name``)."""
    selector: Mapping[str, Wired[str]] = Field(min_length=1)
    """Labels of the pods to send traffic to (a Workload's ``selector``); required, not empty
    (an empty selector matches no pods)."""
    service_name: ServiceName | None = None
    """The Service's name in the cluster (its DNS name, a DNS-1035 label); default the app's."""
    port: Port = 80
    """Port the Service listens on; default 80. Traffic goes to the pods' ``http`` port."""
    metrics_port: Port | None = None
    """Also expose the pods' ``metrics`` port on this port; default none."""
    extra_labels: Labels = {}
    """Labels added to the Service's metadata; default none."""

    @model_validator(mode="after")
    def _ports_differ(self) -> ServiceArgs:
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise at(
                "metrics_port",
                message="must differ from the Service port: a Service cannot list one port "
                "twice (the API server rejects it)",
            )
        return self


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
                annotations={SKIP_AWAIT: "true"},
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

"""The shop team's stack: one blue-green web app with an autoscaler and network policy.

Everything environment-specific is read here, from the team's own config,
and passed to the components as plain arguments; the provider is the team's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from webplatform import (
    Autoscaling,
    BlueGreenRelease,
    ColorSpec,
    DefaultDeny,
    DefaultDenyArgs,
    Namespace,
    NamespaceArgs,
    NetworkAccess,
    Quantities,
    Resources,
    WebApp,
    WebAppArgs,
)


@dataclass(frozen=True)
class ShopConfig:
    namespace: str
    kube_context: str
    active_color: str
    blue_image: str
    green_image: str

    @classmethod
    def from_pulumi(cls) -> ShopConfig:
        config = pulumi.Config("shop")
        if config.require("activeColor") not in ("blue", "green"):
            raise pulumi.RunError("shop:activeColor must be 'blue' or 'green'")
        return cls(
            namespace=config.require("namespace"),
            kube_context=config.require("kubeContext"),
            active_color=config.require("activeColor"),
            blue_image=config.require("blueImage"),
            green_image=config.require("greenImage"),
        )


def build(config: ShopConfig) -> WebApp:
    provider = k8s.Provider("shop-k8s", context=config.kube_context)
    opts = pulumi.ResourceOptions(provider=provider)
    namespace = Namespace("shop", NamespaceArgs(name=config.namespace), opts=opts)
    DefaultDeny("shop", DefaultDenyArgs(namespace=namespace.name), opts=opts)
    app = WebApp(
        "shop-web",
        WebAppArgs(
            namespace=namespace.name,
            port=8080,
            replicas=2,  # the autoscalers' floor; they own the count from there
            resources=Resources(
                requests=Quantities(cpu="200m", memory="256Mi"),
                limits=Quantities(cpu="400m", memory="512Mi"),
            ),
            strategy="blueGreen",
            blue_green=BlueGreenRelease(
                active_color=config.active_color,  # type: ignore[arg-type]
                blue=ColorSpec(image=config.blue_image),
                green=ColorSpec(image=config.green_image),
            ),
            autoscaling=Autoscaling(max_replicas=6),
            network_policy=NetworkAccess(),
        ),
        opts=opts,
    )
    pulumi.export("service", app.service_name)
    pulumi.export("preview", app.preview_service_name)
    return app

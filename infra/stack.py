"""Composition: validated stack config in, components out.

The only place that reads ``pulumi.Config``; components get plain, validated
arguments and the Kubernetes provider through ``opts``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import Namespace, NamespaceArgs, WebApp, WebAppArgs
from infra.config import NAMESPACE, AppSpec, KubernetesSpec, StackConfig, from_pulumi

SecretLookup = Callable[[str], pulumi.Output[str]]


def kubernetes_provider(spec: KubernetesSpec) -> k8s.Provider:
    """The one provider every Kubernetes object of the stack is created with.

    ``renderYamlToDirectory`` makes ``pulumi up`` write manifests instead of
    applying them, so the dev stack works with no cluster at all. Note that
    in that mode Secret manifests are written to disk in plain text.
    """
    return k8s.Provider(
        "kubernetes",
        k8s.ProviderArgs(
            context=spec.context,
            render_yaml_to_directory=spec.render_yaml_to_directory,
            enable_server_side_apply=True,
        ),
    )


def _app_args(
    config: StackConfig, namespace: pulumi.Input[str], app: AppSpec, secret: SecretLookup
) -> WebAppArgs:
    extra: dict[str, Any] = {}
    if app.liveness is not None:
        extra["liveness"] = app.liveness.to_args()
    if app.readiness is not None:
        extra["readiness"] = app.readiness.to_args()
    return WebAppArgs(
        namespace=namespace,
        image=app.image,
        release=app.release(),
        port=app.port,
        replicas=app.replicas,
        resources=app.resources.to_args(),
        service_port=app.service_port,
        metrics_port=app.metrics_port,
        env=app.env,
        secret_env={env: secret(key) for env, key in app.secret_env.items()},
        max_surge=app.rolling_update.max_surge,
        max_unavailable=app.rolling_update.max_unavailable,
        labels={"webplatform.io/environment": config.environment},
        **extra,
    )


def build(config: StackConfig, secret: SecretLookup) -> dict[str, Any]:
    """Create the stack's resources; return the outputs to export."""
    provider = kubernetes_provider(config.kubernetes)
    opts = pulumi.ResourceOptions(provider=provider)
    namespace = Namespace(config.namespace, NamespaceArgs(name=config.namespace), opts=opts)
    apps = {
        name: WebApp(name, _app_args(config, namespace.name, spec, secret), opts=opts)
        for name, spec in config.apps.items()
    }
    return {
        "environment": config.environment,
        "namespace": namespace.name,
        "apps": {
            name: {"service": app.service_name, "url": app.internal_url}
            for name, app in apps.items()
        },
    }


def main() -> None:
    """The program: validate everything first, so a bad stack file registers nothing."""
    config = from_pulumi()
    settings = pulumi.Config(NAMESPACE)
    for key, value in build(config, settings.require_secret).items():
        pulumi.export(key, value)

"""Composition: validated stack config in, components out.

The only place that reads ``pulumi.Config``; components get plain, validated
arguments and the Kubernetes provider through ``opts``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import DefaultDeny, DefaultDenyArgs, Namespace, NamespaceArgs, WebApp, WebAppArgs
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
    extra.update(_guardrail_args(app))
    return WebAppArgs(
        namespace=namespace,
        image=app.image,
        release=app.release(),
        port=app.port,
        replicas=None if app.autoscaling is not None else app.replicas,
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


def _guardrail_args(app: AppSpec) -> dict[str, Any]:
    """WebAppArgs for the guardrails a stack file asked for; with an HPA, ``replicas`` is its floor."""
    found: dict[str, Any] = {}
    if app.autoscaling is not None:
        found["autoscaling"] = app.autoscaling.to_args(min_replicas=app.replicas)
    if app.disruption_budget is not None:
        found["disruption_budget"] = app.disruption_budget.to_args()
    if app.network_policy is not None:
        found["network_policy"] = app.network_policy.to_args()
    if app.ingress is not None:
        found["ingress"] = app.ingress.to_args()
    if app.monitoring is not None:
        found["monitoring"] = app.monitoring.to_args()
    return found


def build(config: StackConfig, secret: SecretLookup) -> dict[str, Any]:
    """Create the stack's resources; return the outputs to export."""
    provider = kubernetes_provider(config.kubernetes)
    opts = pulumi.ResourceOptions(provider=provider)
    namespace = Namespace(config.namespace, NamespaceArgs(name=config.namespace), opts=opts)
    if any(app.network_policy is not None for app in config.apps.values()):
        # Validated: then every app has its own allow-list on top of this.
        DefaultDeny(
            config.namespace,
            DefaultDenyArgs(namespace=namespace.name),
            opts=pulumi.ResourceOptions(provider=provider, parent=namespace),
        )
    apps = {
        name: WebApp(name, _app_args(config, namespace.name, spec, secret), opts=opts)
        for name, spec in config.apps.items()
    }
    return {
        "environment": config.environment,
        "namespace": namespace.name,
        "apps": {
            name: {
                "service": app.service_name,
                "url": app.internal_url,
                "public_url": app.public_url,
            }
            for name, app in apps.items()
        },
    }


def main() -> None:
    """The program: validate everything first, so a bad stack file registers nothing."""
    config = from_pulumi()
    settings = pulumi.Config(NAMESPACE)
    for key, value in build(config, settings.require_secret).items():
        pulumi.export(key, value)

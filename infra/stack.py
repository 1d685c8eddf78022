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
from infra.config import NAMESPACE, AppSpec, CdnSpec, KubernetesSpec, StackConfig, from_pulumi

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


def cdn(spec: CdnSpec, environment: str) -> dict[str, Any] | None:
    """The CDN the stack file chose, in front of ``cdn.originHost``; its outputs, or None.

    Each provider SDK is imported only when chosen: ``pulumi_cloudflare`` alone
    takes about a second to import, which a stack without Cloudflare must not pay.
    """
    if spec.provider == "cloudfront":
        return _cloudfront(spec, environment)
    if spec.provider == "cloudflare":
        return _cloudflare(spec)
    return None


def _cloudfront(spec: CdnSpec, environment: str) -> dict[str, Any]:
    import pulumi_aws as aws

    from components.cdn_cloudfront import CloudFrontCdn, CloudFrontCdnArgs

    assert spec.host and spec.origin_host and spec.content_security_policy  # validated
    # CloudFront's certificates and CLOUDFRONT-scope web ACLs live in us-east-1, and the
    # distribution is global: the whole CDN uses this provider, whatever aws:region says.
    us_east_1 = aws.Provider("aws-us-east-1", aws.ProviderArgs(region="us-east-1"))
    options = spec.cloudfront
    extra: dict[str, Any] = {}
    if options is not None:
        settings = {
            "hosted_zone_id": options.hosted_zone_id,
            "certificate_domain": options.certificate_domain,
            "price_class": options.price_class,
            "minimum_protocol_version": options.minimum_protocol_version,
            "waf_rate_limit": options.waf_rate_limit,
        }
        if options.access_logs is not None:
            settings["access_logs_bucket"] = options.access_logs.bucket
            settings["access_logs_prefix"] = options.access_logs.prefix
            settings["access_logs_include_cookies"] = options.access_logs.include_cookies
        # Unset keys keep the component's secure defaults: no second layer of defaults here.
        extra = {key: value for key, value in settings.items() if value is not None}
    distribution = CloudFrontCdn(
        "cdn",
        CloudFrontCdnArgs(
            host=spec.host,
            aliases=tuple(spec.aliases),
            origin_host=spec.origin_host,
            content_security_policy=spec.content_security_policy,
            us_east_1_provider=us_east_1,
            tags={"webplatform.io/environment": environment},
            **extra,
        ),
        opts=pulumi.ResourceOptions(providers=[us_east_1]),
    )
    outputs: dict[str, Any] = {
        "provider": "cloudfront",
        "host": spec.host,
        "domainName": distribution.domain_name,
    }
    if options is None or options.hosted_zone_id is None:
        outputs["validationRecords"] = distribution.validation_records
    return outputs


def _cloudflare(spec: CdnSpec) -> dict[str, Any]:
    from components.cdn_cloudflare import CloudflareEdge, CloudflareEdgeArgs

    assert spec.host and spec.origin_host and spec.content_security_policy  # validated
    assert spec.cloudflare is not None  # validated
    extra: dict[str, Any] = {}
    if spec.cloudflare.min_tls_version is not None:
        extra["min_tls_version"] = spec.cloudflare.min_tls_version
    # The default Cloudflare provider reads cloudflare:apiToken (a secret) or
    # CLOUDFLARE_API_TOKEN: credentials are provider configuration, not ours.
    edge = CloudflareEdge(
        "cdn",
        CloudflareEdgeArgs(
            zone_id=spec.cloudflare.zone_id,
            host=spec.host,
            aliases=tuple(spec.aliases),
            origin_host=spec.origin_host,
            content_security_policy=spec.content_security_policy,
            **extra,
        ),
    )
    return {"provider": "cloudflare", "host": spec.host, "domainName": edge.domain_name}


def build(config: StackConfig, secret: SecretLookup) -> dict[str, Any]:
    """Create the stack's resources; return the outputs to export."""
    provider = kubernetes_provider(config.kubernetes)
    opts = pulumi.ResourceOptions(provider=provider)
    namespace = Namespace(config.namespace, NamespaceArgs(name=config.namespace), opts=opts)
    apps = {
        name: WebApp(name, _app_args(config, namespace.name, spec, secret), opts=opts)
        for name, spec in config.apps.items()
    }
    edge = cdn(config.cdn, config.environment)
    return {
        **({"cdn": edge} if edge is not None else {}),
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

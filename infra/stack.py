"""Composition: validated stack config in, components out.

The only place that reads ``pulumi.Config``; components get plain, validated
arguments and the Kubernetes provider through ``opts``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from infra.config import (
    NAMESPACE,
    AppSpec,
    CloudflareEdgeSpec,
    CloudFrontCdnSpec,
    ClusterSpec,
    FailoverOrigin,
    KubernetesSpec,
    NoCdn,
    StackConfig,
    load,
    route_hosts,
    with_secrets,
)
from infra.config.review import review_number
from webplatform import (
    DefaultDeny,
    DefaultDenyArgs,
    Gateway,
    GatewayArgs,
    GatewayRef,
    Namespace,
    NamespaceArgs,
    WebApp,
    WebAppArgs,
)
from webplatform._model import Args
from webplatform.cluster.eks import KUBE_CLIENT_SETTINGS  # pulumi_aws loads lazily
from webplatform.edge.gateway import GivenCertificate
from webplatform.edge.origin import OriginGuard, OriginGuardArgs, OriginHeader
from webplatform.guardrails.dry_run_only import DryRunOnly, DryRunOnlyArgs
from webplatform.guardrails.network_policy import GATEWAY_NAMESPACE
from webplatform.secrets.external import (
    ExternalSecretsOperator,
    ExternalSecretSync,
    ExternalSecretSyncArgs,
)
from webplatform.secrets.manager import AppSecrets, AppSecretsArgs

if TYPE_CHECKING:  # the AWS components import pulumi_aws; only EKS stacks load them
    from webplatform.cluster.addons import ClusterAddons
    from webplatform.cluster.eks import EksCluster
    from webplatform.cluster.node_pool import NodePool

SecretLookup = Callable[[str], pulumi.Output[str]]


def kubernetes_provider(spec: KubernetesSpec, cluster: EksCluster | None = None) -> k8s.Provider:
    """The one provider every Kubernetes object of the stack is created with.

    With an EKS cluster (``cluster.mode: eks``) it comes from the cluster's
    kubeconfig and waits for its nodes, managed add-ons and the deployer's
    access entry. Otherwise it targets an existing cluster:
    ``renderYamlToDirectory`` makes ``pulumi up`` write manifests instead of
    applying them, so the dev stack works with no cluster at all. Note that
    in that mode Secret manifests are written to disk in plain text.

    ConfigMaps and Secrets are updated in place (``enable_*_mutable``; the EKS cluster's
    provider too). The provider's default treats them as immutable: a changed value, or
    `kubectl` drift undone, replaces the ConfigMap under its fixed name, delete-before-replace,
    and the engine then replaces every Deployment that reads its name, both colours at once
    (seen with the real engine, tests/e2e). The Deployments' checksum/config annotation
    already rolls pods when the settings change.

    The client's rate limit is raised for both providers (``KUBE_CLIENT_SETTINGS``, the EKS
    component's).
    """
    if cluster is not None:
        return cluster.kubernetes_provider("kubernetes")
    return k8s.Provider(
        "kubernetes",
        k8s.ProviderArgs(
            context=spec.context,
            render_yaml_to_directory=spec.render_yaml_to_directory,
            enable_server_side_apply=True,
            enable_config_map_mutable=True,
            enable_secret_mutable=True,
            kube_client_settings=KUBE_CLIENT_SETTINGS,
        ),
    )


def eks_cluster(spec: ClusterSpec, version: str, namespace: str) -> EksCluster:
    """VPC and EKS cluster of an ``eks`` stack (imported here: dev never loads pulumi_aws).

    The settings are the components' own models from the stack file; this adds only the
    wiring (names, subnets, the one ``protect`` setting).
    """
    from webplatform.cluster.eks import EksCluster, EksClusterArgs
    from webplatform.cluster.vpc import Vpc, VpcArgs

    assert spec.name and spec.vpc and spec.access  # validated (mode eks)
    vpc = Vpc(
        spec.name,
        VpcArgs(
            **dict(spec.vpc),
            cluster_names=(spec.name,),
            protect=spec.protect,
            permissions_boundary_arn=spec.access.permissions_boundary_arn,
        ),
    )
    optional = {
        key: getattr(spec, key)
        for key in ("endpoint", "log_retention_days")
        if getattr(spec, key) is not None  # unset: the component's default
    }
    return EksCluster(
        spec.name,
        EksClusterArgs(
            cluster_name=spec.name,
            version=version,
            private_subnet_ids=tuple(vpc.private_subnet_ids),
            access=spec.access,
            # access.ciScope namespaces: the CI role administers only the stack's namespace.
            ci_namespaces=(namespace,),
            protect=spec.protect,
            **optional,
        ),
    )


def dry_run_only(spec: ClusterSpec, provider: k8s.Provider) -> DryRunOnly:
    """The preview group's reads and dry-runs, and the admission policy refusing its writes.

    Made on every cluster the stack builds, before anything else on it, whether or not a
    preview role is named yet: the group's RBAC never exists without the policy.
    """
    assert spec.access is not None  # validated (mode eks)
    return DryRunOnly(
        "preview",
        DryRunOnlyArgs(group=spec.access.preview_group),
        opts=pulumi.ResourceOptions(provider=provider),
    )


def node_pool(spec: ClusterSpec, cluster: EksCluster, provider: k8s.Provider) -> NodePool:
    """The Auto Mode NodePool the apps (and the add-ons) run on, from a NodeClass that
    enforces NetworkPolicies (Auto Mode's ``default`` one does not: issue 19)."""
    from webplatform.cluster.node_class import NodeClass, NodeClassArgs
    from webplatform.cluster.node_pool import NodePool

    assert spec.node_pool is not None and spec.vpc is not None  # validated (mode eks)
    node_class = NodeClass(
        spec.node_pool.name,
        NodeClassArgs(
            role=cluster.node_role_name,
            subnet_ids=tuple(cluster.private_subnet_ids),
            security_group_ids=(cluster.cluster_security_group_id,),
            name=spec.node_pool.name,
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    return NodePool(
        spec.node_pool.name,
        spec.node_pool.model_copy(update={"node_class": spec.node_pool.name}),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[node_class]),
    )


def cluster_addons(
    spec: ClusterSpec, provider: k8s.Provider, after: list[pulumi.Resource]
) -> ClusterAddons:
    """Envoy Gateway + GatewayClass, cert-manager + ClusterIssuer, optionally Argo Rollouts."""
    from webplatform.cluster.addons import ClusterAddons

    assert spec.addons is not None  # validated (mode eks)
    return ClusterAddons(
        "cluster-addons",
        spec.addons,
        opts=pulumi.ResourceOptions(provider=provider, depends_on=after),
    )


def monitoring_stack(
    spec: ClusterSpec, provider: k8s.Provider, secret: SecretLookup, after: list[pulumi.Resource]
) -> pulumi.Resource | None:
    """kube-prometheus-stack and the alert receiver, when the stack file has
    ``cluster.monitoring``: what reads the apps' ServiceMonitors and PrometheusRules."""
    if spec.monitoring is None:
        return None
    from webplatform.cluster.monitoring_stack import MonitoringStack, MonitoringStackArgs

    settings = spec.monitoring
    stack = MonitoringStack(
        "monitoring",
        MonitoringStackArgs(**dict(settings), credential=secret(settings.receiver.credential)),
        opts=pulumi.ResourceOptions(provider=provider, depends_on=after),
    )
    return stack.release


def _app_args(
    config: StackConfig,
    namespace: pulumi.Input[str],
    app: AppSpec,
    secret: SecretLookup,
    external_secret_name: pulumi.Input[str] | None = None,
    gateway: GatewayRef | None = None,
    dns_cidrs: tuple[str, ...] = (),
) -> WebAppArgs:
    """The app's own settings as the stack file gave them, plus this stack's wiring.

    ``dns_cidrs``: the cluster DNS addresses where DNS is not pods (an EKS Auto Mode
    cluster this stack builds); the app's network policy allows DNS to exactly those,
    unless the stack file names its own.
    """
    settings = {**app.settings(), "env": plain_env(app)}  # secret env values go to secret_env
    if app.network_policy is not None:
        # 443 never reaches this cluster's own ranges, whatever the stack file lists.
        access = app.network_policy
        excluded = (*access.https_egress_except, *cluster_ranges(config.cluster))
        settings["network_policy"] = access.model_copy(
            update={"https_egress_except": tuple(dict.fromkeys(excluded))}
        )
    allowed = settings.get("network_policy")
    if allowed is not None and dns_cidrs and not allowed.dns_cidrs:
        settings["network_policy"] = allowed.model_copy(update={"dns_cidrs": dns_cidrs})
    return WebAppArgs(
        **settings,
        namespace=namespace,
        secret_env={} if external_secret_name is not None else secret_env(app, secret),
        external_secret_name=external_secret_name,
        labels={"webplatform.io/environment": config.environment},
        gateway=gateway,
    )


class EdgeWiring:
    """What the Gateway needs from the CDN before either exists: for Cloudflare, the origin's
    certificate and the load balancer's source ranges (Cloudflare's published ranges)."""

    def __init__(self, config: StackConfig) -> None:
        self.certificates: dict[str, GivenCertificate] = {}
        self.source_ranges: pulumi.Output[list[str]] | None = None
        spec = config.cdn
        if not isinstance(spec, CloudflareEdgeSpec):
            return
        from webplatform.edge.cloudflare import (
            CloudflareOriginCertificate,
            CloudflareOriginCertificateArgs,
            published_ranges,
        )

        hosts = route_hosts(config.apps, spec.app)
        origin = CloudflareOriginCertificate(
            "cdn-origin-certificate",
            CloudflareOriginCertificateArgs(
                hostnames=hosts, validity_days=spec.origin_certificate_days
            ),
        )
        self.certificates[spec.app] = GivenCertificate(
            certificate=origin.certificate, private_key=origin.private_key
        )
        self.source_ranges = published_ranges()


#: What EKS picks for Services when the cluster does not say (one of the two, by VPC range).
EKS_SERVICE_RANGES = ("10.100.0.0/16", "172.20.0.0/16")


def cluster_ranges(spec: ClusterSpec) -> tuple[str, ...]:
    """The VPC (pods and nodes take its addresses under EKS Auto Mode) and Service ranges of a
    cluster this stack builds; none for an existing cluster (the private ranges the
    NetworkPolicy component excludes by default cover the usual ones)."""
    if spec.mode != "eks" or spec.vpc is None:
        return ()
    return (spec.vpc.cidr, *EKS_SERVICE_RANGES)


def gateway_name(config: StackConfig) -> str:
    """The stack's Gateway's name.

    On a cluster this stack builds, the ClusterIssuer answers HTTP-01 challenges through the
    Gateway it names (certManager.issuer.gatewayName); elsewhere the Gateway is named after
    the apps' namespace, so stacks sharing a cluster do not collide.
    """
    addons = config.cluster.addons
    if config.cluster.mode == "eks" and addons is not None:
        return addons.cert_manager.issuer.gateway_name
    return config.namespace


def gateway(
    config: StackConfig,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    wiring: EdgeWiring | None = None,
) -> Gateway | None:
    """The stack's one Gateway, with listeners for every public app's hosts; None without any.

    On a cluster this stack builds (EKS, where the stack installs Envoy Gateway), the
    Gateway's proxies get their ``EnvoyProxy``: an internet-facing NLB, ``gateway.replicas``
    spread over zones, a disruption budget (webplatform.edge.proxy).

    A review stack's Gateway is made by the trusted review job from the default branch
    (``python -m infra.review sandbox``, which calls this function), not by the stack.
    """
    routes = {name: app.route for name, app in config.apps.items() if app.route is not None}
    if not routes:
        return None
    first = next(iter(routes.values()))  # validated: every route names the same issuer
    return Gateway(
        "gateway",
        GatewayArgs(
            gateway_name=gateway_name(config),
            routes_namespace=namespace,
            hosts={app_name: route.hosts for app_name, route in routes.items()},
            issuer=first.issuer,
            issuer_kind=first.issuer_kind,
            # Behind the stack's CDN the client is the address the CDN appended to
            # X-Forwarded-For, not the CDN's edge (the per-client rate limit needs the client).
            # Forging it needs the origin header (webplatform.edge.origin), which only the CDN has.
            trusted_proxy_hops=config.cdn.trusted_proxy_hops
            if isinstance(config.cdn, NoCdn)
            else 1,
            proxy=config.gateway if config.cluster.mode == "eks" else None,
            source_ranges=wiring.source_ranges
            if wiring is not None and config.cluster.mode == "eks"
            else None,
            certificates=wiring.certificates if wiring is not None else {},
        ),
        opts=opts,
    )


def cdn(
    config: StackConfig,
    edge_gateway: Gateway | None = None,
    app: WebApp | None = None,
    opts: pulumi.ResourceOptions | None = None,
) -> dict[str, Any] | None:
    """The CDN the stack file chose, in front of ``cdn.app``'s route; its outputs, or None.

    The origin's DNS record (CloudFront) or the proxied records (Cloudflare) point at the
    Gateway's load balancer, ``edge_gateway.address``; the route of ``app`` then requires
    the CDN's secret header (:class:`OriginGuard`).

    Each provider SDK is imported only when chosen: ``pulumi_cloudflare`` alone
    takes about a second to import, which a stack without Cloudflare must not pay.
    """
    spec = config.cdn
    address = edge_gateway.address if edge_gateway is not None else None
    if isinstance(spec, NoCdn):
        if spec.failover_for is None or app is None or app.route_name is None:
            return None
        return _failover_origin(config, spec.failover_for, app, address, opts)
    hosts = route_hosts(config.apps, spec.app)  # validated: the app has a route
    header = None
    if app is not None and app.route_name is not None:
        # The route answers only the CDN, which sends the guard's generated secret header.
        header = OriginGuard(
            f"{spec.app}-cdn-origin",
            OriginGuardArgs(app=spec.app, namespace=config.namespace, route_name=app.route_name),
            opts=opts,
        ).header
    if isinstance(spec, CloudFrontCdnSpec):
        return _cloudfront(spec, hosts, config.environment, address, header)
    return _cloudflare(spec, hosts, address, header)


#: The stack output holding the origin header's value (a secret), for the stack whose route
#: is this CDN's failover origin (:func:`_failover_origin`).
ORIGIN_HEADER_OUTPUT = "originHeader"


def _failover_origin(
    config: StackConfig,
    spec: FailoverOrigin,
    app: WebApp,
    address: pulumi.Output[str | None] | None,
    opts: pulumi.ResourceOptions | None,
) -> dict[str, Any]:
    """The recovery stack's side of another stack's CDN failover (Pulumi.prod-dr.yaml).

    The origin host's record points at this stack's load balancer, and the route requires
    the header the other stack's distribution sends to both of its origins: its output
    ``originHeader``, read through a stack reference (secret from end to end). Read when this
    stack is brought up, so a rotation in the other stack is followed by re-running ``up``.
    """
    import pulumi_aws as aws

    host = route_hosts(config.apps, spec.app)[0]  # validated: the app has a route
    assert app.route_name is not None  # cdn() calls this only then
    # A DIY backend (file://, s3://) names its one organization "organization".
    organization = pulumi.get_organization() or "organization"
    name = f"{organization}/{pulumi.get_project()}/{spec.stack}"
    reference = pulumi.StackReference(f"{spec.stack}-stack", stack_name=name)

    def required(value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise ValueError(
                f"stack {name} has no output {ORIGIN_HEADER_OUTPUT!r} (cdn.failoverFor.stack): "
                f"run `pulumi up -s {spec.stack}` with its CDN first, in this backend"
            )
        return value

    guard = OriginGuard(
        f"{spec.app}-cdn-origin",
        OriginGuardArgs(
            app=spec.app,
            namespace=config.namespace,
            route_name=app.route_name,
            value=pulumi.Output.secret(reference.get_output(ORIGIN_HEADER_OUTPUT).apply(required)),
        ),
        opts=opts,
    )
    outputs: dict[str, Any] = {"provider": "none", "failoverFor": spec.stack, "origin": host}
    target = _required(address, "the failover origin's record")
    if target is not None:
        record = aws.route53.Record(
            f"{spec.app}-failover-origin-record",
            aws.route53.RecordArgs(
                zone_id=spec.origin_zone_id, name=host, type="CNAME", records=[target], ttl=300
            ),
            # Under the app whose route host it names; after the guard, so the host never
            # reaches the route before the route requires the header.
            opts=pulumi.ResourceOptions(parent=app, depends_on=[guard]),
        )
        outputs["originRecord"] = record.fqdn
    return outputs


def _settings(spec: Args, model: type[Args]) -> dict[str, Any]:
    """The fields of ``spec`` that ``model`` declares: the stack spec is the settings model
    plus ``provider`` and ``app``, so this is a copy, not a mapping (no second default)."""
    return {name: getattr(spec, name) for name in model.model_fields}


def _cloudfront(
    spec: CloudFrontCdnSpec,
    hosts: tuple[str, ...],
    environment: str,
    address: pulumi.Output[str | None] | None = None,
    header: OriginHeader | None = None,
) -> dict[str, Any]:
    import pulumi_aws as aws

    from webplatform.edge.cloudfront import CloudFrontCdn, CloudFrontCdnArgs, CloudFrontSettings

    # CloudFront's certificates and CLOUDFRONT-scope web ACLs live in us-east-1, and the
    # distribution is global: the whole CDN uses this provider, whatever aws:region says.
    us_east_1 = aws.Provider("aws-us-east-1", aws.ProviderArgs(region="us-east-1"))
    distribution = CloudFrontCdn(
        "cdn",
        CloudFrontCdnArgs(
            **_settings(spec, CloudFrontSettings),
            # The route's primary host: CloudFront sends it as SNI and Host, and the route
            # matches it and its certificate covers it.
            origin_host=hosts[0],
            origin_address=_required(address, "the origin host's record"),
            origin_header=header,
            us_east_1_provider=us_east_1,
            tags={"webplatform.io/environment": environment},
        ),
        opts=pulumi.ResourceOptions(providers=[us_east_1]),
    )
    outputs: dict[str, Any] = {
        "provider": "cloudfront",
        "host": spec.host,
        "origin": hosts[0],
        "domainName": distribution.domain_name,
    }
    if header is not None and spec.failover_origin_host is not None:
        # For the failover origin's stack (its cdn.failoverFor); a secret, as the value is.
        outputs[ORIGIN_HEADER_OUTPUT] = header.value
    if spec.hosted_zone_id is None:
        outputs["validationRecords"] = distribution.validation_records
    return outputs


def _required(address: pulumi.Output[str | None] | None, what: str) -> pulumi.Output[str] | None:
    """The Gateway's address, failing the deploy (not silently skipping a record) when the
    controller published none."""
    if address is None:
        return None

    def check(value: str | None) -> str:
        if not value:
            raise ValueError(
                f"the Gateway has no address for {what}: is Envoy Gateway running, and did "
                "EKS Auto Mode provision its load balancer? (kubectl -n envoy-gateway-system "
                "describe gateway)"
            )
        return value

    return address.apply(check)


def _cloudflare(
    spec: CloudflareEdgeSpec,
    hosts: tuple[str, ...],
    address: pulumi.Output[str | None] | None = None,
    header: OriginHeader | None = None,
) -> dict[str, Any]:
    from webplatform.edge.cloudflare import CloudflareEdge, CloudflareEdgeArgs, CloudflareSettings

    # The default Cloudflare provider reads cloudflare:apiToken (a secret) or
    # CLOUDFLARE_API_TOKEN: credentials are provider configuration, not ours.
    edge = CloudflareEdge(
        "cdn",
        CloudflareEdgeArgs(
            **_settings(spec, CloudflareSettings),
            # The route's hosts: with SSL strict Cloudflare sends each as SNI and Host, and
            # the route's certificate covers exactly these.
            host=hosts[0],
            aliases=hosts[1:],
            origin_address=_required(address, "the proxied records")
            or "gateway.invalid",  # no Gateway: validated away (cdn.app has a route)
            origin_header=header,
        ),
    )
    return {"provider": "cloudflare", "host": hosts[0], "domainName": edge.domain_name}


SKIP_AWAIT = "pulumi.com/skipAwait"
FORCE_APPLY = "pulumi.com/patchForce"


def kubernetes_rules(spec: KubernetesSpec) -> list[pulumi.ResourceTransformation]:
    """How the provider applies and waits, for every Kubernetes object of the stack.

    - ``pulumi.com/patchForce`` on every object: the stack owns the fields it sets. With
      server-side apply, a field last written by someone else (``kubectl patch service web``,
      the switch this program replaces) is a conflict: without force, `pulumi preview
      --refresh` and `pulumi up` fail on it instead of putting the stack's value back.
      Mocks have no field managers; the real engine showed it (tests/e2e).
    - ``skipAwait`` kinds get the ``pulumi.com/skipAwait`` annotation (on a cluster where no
      controller programs Gateways the provider would wait 10 minutes for an address, then
      fail); none unless the stack file asks.
    - ``awaitTimeoutSeconds`` bounds every other wait (custom timeouts, not an annotation, so
      changing it is no diff); the provider's own unless the stack file asks.

    """
    skip = {
        f"kubernetes:{group}:{kind}" for kind in spec.skip_await for group in _AWAIT_GROUPS[kind]
    }
    timeout = spec.await_timeout_seconds

    def rule(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        # Objects only (they all have a metadata input); not Helm releases or the provider.
        if not args.type_.startswith("kubernetes:") or "metadata" not in args.props:
            return None
        extra = {FORCE_APPLY: "true"}
        if args.type_ in skip:
            extra[SKIP_AWAIT] = "true"
        props = {**args.props, "metadata": _annotated(args.props.get("metadata"), extra)}
        opts = args.opts
        if timeout is not None:
            seconds = f"{timeout}s"
            opts = pulumi.ResourceOptions.merge(
                opts,
                pulumi.ResourceOptions(
                    custom_timeouts=pulumi.CustomTimeouts(create=seconds, update=seconds)
                ),
            )
        return pulumi.ResourceTransformationResult(props, opts)

    return [rule]


def _annotated(metadata: Any, extra: dict[str, str]) -> Any:
    """``metadata`` (a dict or an ``ObjectMetaArgs``) plus ``extra`` annotations."""
    if metadata is None:
        return {"annotations": extra}
    if isinstance(metadata, dict):
        current = metadata.get("annotations")
    else:
        metadata = copy.copy(metadata)
        current = pulumi.get(metadata, "annotations")
    merged = pulumi.Output.from_input(current or {}).apply(lambda found: {**(found or {}), **extra})
    if isinstance(metadata, dict):
        return {**metadata, "annotations": merged}
    pulumi.set(metadata, "annotations", merged)
    return metadata


_AWAIT_GROUPS = {
    "Gateway": ("gateway.networking.k8s.io/v1",),
    "HTTPRoute": ("gateway.networking.k8s.io/v1",),
    "Service": ("core/v1",),
}


def build(config: StackConfig, secret: SecretLookup) -> dict[str, Any]:
    """Create the stack's resources; return the outputs to export."""
    # Stack-wide (every component, add-ons and external secrets included). SDK-side, so the
    # mocks apply it exactly as the engine does.
    for rule in kubernetes_rules(config.kubernetes):
        pulumi.runtime.register_stack_transformation(rule)
    cluster = None
    if config.cluster.mode == "eks":
        cluster = eks_cluster(config.cluster, config.kubernetes.version, config.namespace)
    provider = kubernetes_provider(config.kubernetes, cluster)
    if cluster is not None:
        dry_run_only(config.cluster, provider)
    after: list[pulumi.Resource] = []
    if cluster is not None:
        # Pods need nodes: the add-ons wait for the NodePool, the apps for the add-ons
        # (routes need the Gateway API CRDs and the issuer, Rollouts the Argo CRDs).
        pool = node_pool(config.cluster, cluster, provider)
        after.append(cluster_addons(config.cluster, provider, [pool]))
        # The apps' ServiceMonitors and PrometheusRules need the operator's CRDs.
        monitoring = monitoring_stack(config.cluster, provider, secret, [pool])
        if monitoring is not None:
            after.append(monitoring)
    opts = pulumi.ResourceOptions(provider=provider, depends_on=after)
    # A review stack (pull-request code) writes only inside its namespace, which a trusted
    # job from the default branch made with restricted Pod Security (review-namespace.yml):
    # it creates no Namespace, nothing cluster-scoped, nothing in another namespace.
    sandboxed = review_number(pulumi.get_stack()) is not None
    namespace_name: pulumi.Input[str] = config.namespace
    parent: pulumi.Resource | None = None
    if not sandboxed:
        namespace = Namespace(config.namespace, NamespaceArgs(name=config.namespace), opts=opts)
        namespace_name, parent = namespace.name, namespace
    if any(app.network_policy is not None for app in config.apps.values()):
        # Validated: then every app has its own allow-list on top of this.
        DefaultDeny(
            config.namespace,
            DefaultDenyArgs(namespace=namespace_name),
            opts=pulumi.ResourceOptions(provider=provider, parent=parent),
        )
    external: dict[str, pulumi.Output[str]] = {}
    if config.secrets.delivery == "external-secrets":
        assert cluster is not None  # validated: external-secrets needs cluster.mode eks
        external = external_secrets(config, cluster, namespace_name, provider, secret)
    edge_gateway: GatewayRef | None = None
    made: Gateway | None = None
    if sandboxed:
        if any(app.route is not None for app in config.apps.values()):
            edge_gateway = GatewayRef(name=gateway_name(config), namespace=GATEWAY_NAMESPACE)
    else:
        made = gateway(config, namespace_name, opts, EdgeWiring(config))
        if made is not None:
            edge_gateway = GatewayRef(name=made.gateway_name, namespace=made.namespace)
    dns = (f"{cluster.cluster_dns_ip}/32",) if cluster is not None else ()
    apps = {
        name: WebApp(
            name,
            _app_args(config, namespace_name, spec, secret, external.get(name), edge_gateway, dns),
            opts=opts,
        )
        for name, spec in config.apps.items()
    }
    if isinstance(config.cdn, NoCdn):
        fronted = apps.get(config.cdn.failover_for.app) if config.cdn.failover_for else None
    else:
        fronted = apps.get(config.cdn.app)
    edge = cdn(config, made, fronted, opts)
    # The origin header's value, a top-level secret output (a stack reference reads top-level
    # outputs only), for the failover origin's stack.
    header_output = edge.pop(ORIGIN_HEADER_OUTPUT, None) if edge is not None else None
    outputs: dict[str, Any] = {
        **({"cdn": edge} if edge is not None else {}),
        **({ORIGIN_HEADER_OUTPUT: header_output} if header_output is not None else {}),
        "environment": config.environment,
        "namespace": namespace_name,
        "apps": {
            name: {
                "service": app.service_name,
                "url": app.internal_url,
                "public_url": app.public_url,
            }
            for name, app in apps.items()
        },
    }
    if cluster is not None:
        outputs["cluster"] = {
            "name": cluster.cluster_name,
            "endpoint": cluster.endpoint,
            "oidcIssuerUrl": cluster.oidc_issuer_url,
        }
        if made is not None:
            # The Gateway's load balancer (an NLB's DNS name), which the CDN's origin uses.
            outputs["gateway"] = {"address": made.address}
        outputs["kubeconfig"] = cluster.kubeconfig  # a secret: `pulumi stack output --show-secrets`
    return outputs


def external_secrets(
    config: StackConfig,
    cluster: EksCluster,
    namespace: pulumi.Input[str],
    provider: k8s.Provider,
    secret: SecretLookup,
) -> dict[str, pulumi.Output[str]]:
    """``external-secrets`` delivery: per app with secrets, a KMS-encrypted Secrets Manager secret
    and an ExternalSecret that writes ``<app>-secrets``; once per stack, the operator and its
    Pod Identity role reading exactly those secrets. Returns app -> Kubernetes Secret name.

    Order matters on a live cluster: the Pod Identity association takes the cluster's name
    as an output (:meth:`EksCluster.pod_identity`), so it is created once the cluster
    exists; it exists before the operator's pods start (EKS injects credentials only into
    pods created after it); the ExternalSecrets come after the operator.
    """
    from webplatform.secrets.external import ExternalSecretsOperatorArgs, SyncSettings
    from webplatform.secrets.manager import SecretSettings

    spec = config.secrets
    assert spec.operator is not None  # validated
    # The stack's secret settings, as the components declare them (unset: their defaults).
    stored_settings = {key: getattr(spec, key) for key in SecretSettings.model_fields}
    sync_settings = {key: getattr(spec, key) for key in SyncSettings.model_fields}
    stored: dict[str, AppSecrets] = {}
    for app_name, app in config.apps.items():
        if not app.secret_env:
            continue
        values: dict[str, pulumi.Input[str]] | None = (
            {env: secret(key) for env, key in app.secret_env.items()} if spec.from_config else None
        )
        stored[app_name] = AppSecrets(
            f"{app_name}-secrets",
            AppSecretsArgs(
                app=app_name,
                secret_name=f"{config.namespace}/{app_name}",
                keys=tuple(sorted(app.secret_env)),
                values=values,
                tags={"webplatform.io/environment": config.environment},
                protect=config.cluster.protect,
                key_admin_arns=_key_admins(config),
                **stored_settings,
            ),
        )
    if not stored:
        return {}
    operator_settings = spec.operator
    identity = cluster.pod_identity(
        "external-secrets",
        namespace=operator_settings.namespace,
        service_account=operator_settings.service_account,
        policy_statements=pulumi.Output.all(*(s.read_statements for s in stored.values())).apply(
            lambda found: [statement for group in found for statement in group]
        ),
        # Was the program's own stand-in (issue 6): the role and its policy keep their state.
        opts=pulumi.ResourceOptions(
            aliases=[pulumi.Alias(type_="webplatform:stack:PodIdentityRole")]
        ),
    )
    for app_secrets in stored.values():
        app_secrets.limit_readers(identity.role_arn)
    operator = ExternalSecretsOperator(
        "external-secrets",
        ExternalSecretsOperatorArgs(
            **dict(operator_settings), watch_namespace=config.namespace, identity=identity
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    names: dict[str, pulumi.Output[str]] = {}
    for app_name, app_secrets in stored.items():
        sync = ExternalSecretSync(
            f"{app_name}-secrets",
            ExternalSecretSyncArgs(
                app=app_name,
                namespace=namespace,
                remote_secret_name=app_secrets.secret_name,
                keys=tuple(sorted(config.apps[app_name].secret_env)),
                region=app_secrets.region,
                operator=operator,
                **sync_settings,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        names[app_name] = sync.secret_name
    return names


def _key_admins(config: StackConfig) -> tuple[str, ...]:
    """Who administers the stack's KMS keys and secret policies: its CI role and admins."""
    access = config.cluster.access
    assert access is not None  # external-secrets needs mode eks (validated)
    return (access.ci_role_arn, *access.admin_role_arns)


def secret_env(app: AppSpec, secret: SecretLookup) -> dict[str, pulumi.Input[str]]:
    """The app's secret settings: values of the keys its ``secretEnv`` names, and ``env``
    values the stack file holds as secrets (``pulumi config set --secret --path
    'webplatform:apps.<app>.env.VAR'``; :func:`with_secrets` made them Outputs). They go to
    the app's Secret, never to its ConfigMap or the ConfigMap's checksum."""
    found: dict[str, pulumi.Input[str]] = {env: secret(key) for env, key in app.secret_env.items()}
    found.update({env: v for env, v in app.env.items() if isinstance(v, pulumi.Output)})
    return found


def plain_env(app: AppSpec) -> dict[str, str]:
    """The app's plain settings (its ConfigMap): ``env`` without the secret values."""
    return {env: v for env, v in app.env.items() if not isinstance(v, pulumi.Output)}


def main(config_file: Path | None = None, shown: str | None = None) -> None:
    """The program: validate everything first, so a bad stack file registers nothing.

    ``config_file``: the stack file to read (synth's ``--config-file``); by default the
    one next to Pulumi.yaml, or ``$WEBPLATFORM_CONFIG_FILE`` (see ``infra.config.load``).
    """
    config, source = load(config_file, shown)
    config = with_secrets(config, source)
    settings = pulumi.Config(NAMESPACE)
    for key, value in build(config, settings.require_secret).items():
        pulumi.export(key, value)

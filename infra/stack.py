"""Composition: validated stack config in, components out.

The only place that reads ``pulumi.Config``; components get plain, validated
arguments and the Kubernetes provider through ``opts``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from components import DefaultDeny, DefaultDenyArgs, Namespace, NamespaceArgs, WebApp, WebAppArgs
from components.external_secrets import (
    ExternalSecretsOperator,
    ExternalSecretSync,
    ExternalSecretSyncArgs,
)
from components.secrets import AppSecrets, AppSecretsArgs
from infra.config import (
    NAMESPACE,
    AppSpec,
    CdnSpec,
    ClusterSpec,
    KubernetesSpec,
    StackConfig,
    from_pulumi,
)

if TYPE_CHECKING:  # the AWS components import pulumi_aws; only EKS stacks load them
    from components.cluster import EksCluster
    from components.cluster_addons import ClusterAddons

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
        ),
    )


def eks_cluster(spec: ClusterSpec, version: str) -> EksCluster:
    """VPC and EKS cluster of an ``eks`` stack (imported here: dev never loads pulumi_aws)."""
    from components.cluster import EksCluster, EksClusterArgs, NodeGroupArgs
    from components.vpc import Vpc, VpcArgs

    assert spec.name and spec.vpc and spec.node_group and spec.access and spec.log_retention_days
    vpc = Vpc(
        spec.name,
        VpcArgs(
            cidr=spec.vpc.cidr,
            az_count=spec.vpc.availability_zones,
            nat="per_az" if spec.vpc.nat_gateways == "perAz" else "single",
            flow_log_retention_days=spec.vpc.flow_log_retention_days,
            cluster_names=[spec.name],
            protect=spec.protect,
        ),
    )
    nodes = spec.node_group
    return EksCluster(
        spec.name,
        EksClusterArgs(
            cluster_name=spec.name,
            version=version,
            private_subnet_ids=vpc.private_subnet_ids,
            deployer_role_arn=spec.access.ci_role_arn,
            admin_role_arns=spec.access.admin_role_arns,
            node_group=NodeGroupArgs(
                instance_types=nodes.instance_types,
                min_size=nodes.min_size,
                desired_size=nodes.desired_size,
                max_size=nodes.max_size,
                disk_size_gib=nodes.disk_size_gib,
            ),
            public_access_cidrs=spec.endpoint.public_access_cidrs,
            allow_open_public_endpoint=spec.endpoint.allow_open_to_internet,
            log_retention_days=spec.log_retention_days,
            protect=spec.protect,
        ),
    )


def cluster_addons(spec: ClusterSpec, provider: k8s.Provider) -> ClusterAddons:
    """ingress-nginx, cert-manager + ClusterIssuer, metrics-server, optionally Argo Rollouts."""
    from components.cluster_addons import ClusterAddons, ClusterAddonsArgs, ClusterIssuerArgs

    assert spec.addons is not None
    addons = spec.addons
    return ClusterAddons(
        "cluster-addons",
        ClusterAddonsArgs(
            ingress_nginx_version=addons.ingress_nginx.version,
            cert_manager_version=addons.cert_manager.version,
            metrics_server_version=addons.metrics_server.version,
            cluster_issuer=ClusterIssuerArgs(
                email=addons.cert_manager.issuer.email, server=addons.cert_manager.issuer.server
            ),
            argo_rollouts=addons.argo_rollouts.enabled,
            argo_rollouts_version=addons.argo_rollouts.version,
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )


def _app_args(
    config: StackConfig,
    namespace: pulumi.Input[str],
    app: AppSpec,
    secret: SecretLookup,
    external_secret_name: pulumi.Input[str] | None = None,
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
        secret_env={}
        if external_secret_name is not None
        else {env: secret(key) for env, key in app.secret_env.items()},
        external_secret_name=external_secret_name,
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
      controller programs Ingresses the provider would wait 10 minutes for an address, then
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
    "Ingress": ("networking.k8s.io/v1",),
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
        cluster = eks_cluster(config.cluster, config.kubernetes.version)
    provider = kubernetes_provider(config.kubernetes, cluster)
    after: list[pulumi.Resource] = []
    if cluster is not None:
        # Apps wait for the add-ons: Ingresses need the controller and issuer, Rollouts
        # the Argo CRDs, autoscalers the metrics server.
        after.append(cluster_addons(config.cluster, provider))
    opts = pulumi.ResourceOptions(provider=provider, depends_on=after)
    namespace = Namespace(config.namespace, NamespaceArgs(name=config.namespace), opts=opts)
    if any(app.network_policy is not None for app in config.apps.values()):
        # Validated: then every app has its own allow-list on top of this.
        DefaultDeny(
            config.namespace,
            DefaultDenyArgs(namespace=namespace.name),
            opts=pulumi.ResourceOptions(provider=provider, parent=namespace),
        )
    external: dict[str, pulumi.Output[str]] = {}
    if config.secrets.delivery == "external-secrets":
        external = external_secrets(config, namespace.name, provider, secret)
    apps = {
        name: WebApp(
            name, _app_args(config, namespace.name, spec, secret, external.get(name)), opts=opts
        )
        for name, spec in config.apps.items()
    }
    edge = cdn(config.cdn, config.environment)
    outputs: dict[str, Any] = {
        **({"cdn": edge} if edge is not None else {}),
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
    if cluster is not None:
        outputs["cluster"] = {
            "name": cluster.cluster_name,
            "endpoint": cluster.endpoint,
            "oidcIssuerUrl": cluster.oidc_issuer_url,
        }
        outputs["kubeconfig"] = cluster.kubeconfig  # a secret: `pulumi stack output --show-secrets`
    return outputs


def external_secrets(
    config: StackConfig,
    namespace: pulumi.Input[str],
    provider: k8s.Provider,
    secret: SecretLookup,
) -> dict[str, pulumi.Output[str]]:
    """``external-secrets`` delivery: per app with secrets, a KMS-encrypted Secrets Manager secret
    and an ExternalSecret that writes ``<app>-secrets``; once per stack, the operator and its
    Pod Identity role reading exactly those secrets. Returns app -> Kubernetes Secret name.

    Order matters on a live cluster: the Pod Identity association exists before the
    operator's pods start (EKS injects credentials only into pods created after it), and
    the ExternalSecrets come after the operator. The operator install and the role are
    cluster add-ons: they move to the cluster component when there is one (issue 6).
    """
    spec = config.secrets
    assert spec.operator is not None and spec.cluster_name is not None  # validated
    tuning: dict[str, Any] = {}
    if spec.recovery_window_days is not None:
        tuning["recovery_window_days"] = spec.recovery_window_days
    if spec.value_version is not None:
        tuning["value_version"] = spec.value_version
    if spec.rotation is not None:
        tuning["rotation"] = spec.rotation.to_args()
    stored: dict[str, AppSecrets] = {}
    for app_name, app in config.apps.items():
        if not app.secret_env:
            continue
        values = (
            {env: secret(key) for env, key in app.secret_env.items()} if spec.from_config else None
        )
        stored[app_name] = AppSecrets(
            f"{app_name}-secrets",
            AppSecretsArgs(
                app=app_name,
                secret_name=f"{config.namespace}/{app_name}",
                keys=sorted(app.secret_env),
                values=values,
                tags={"webplatform.io/environment": config.environment},
                **tuning,
            ),
        )
    if not stored:
        return {}
    operator_args = spec.operator.to_args(config.namespace)
    identity = pod_identity_role(
        "external-secrets",
        cluster_name=spec.cluster_name,
        namespace=operator_args.namespace,
        service_account=operator_args.service_account,
        statements=pulumi.Output.all(*(s.read_statements for s in stored.values())).apply(
            lambda found: [statement for group in found for statement in group]
        ),
    )
    operator = ExternalSecretsOperator(
        "external-secrets",
        dataclasses.replace(operator_args, identity=identity),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    sync_tuning = (
        {} if spec.refresh_interval is None else {"refresh_interval": spec.refresh_interval}
    )
    names: dict[str, pulumi.Output[str]] = {}
    for app_name, app_secrets in stored.items():
        sync = ExternalSecretSync(
            f"{app_name}-secrets",
            ExternalSecretSyncArgs(
                app=app_name,
                namespace=namespace,
                remote_secret_name=app_secrets.secret_name,
                keys=sorted(config.apps[app_name].secret_env),
                region=app_secrets.region,
                operator=operator,
                **sync_tuning,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        names[app_name] = sync.secret_name
    return names


class PodIdentityRole(pulumi.ComponentResource):
    """Stand-in for the cluster component's Pod Identity helper (issue 6); see :func:`pod_identity_role`."""

    role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        cluster_name: pulumi.Input[str],
        namespace: str,
        service_account: str,
        statements: pulumi.Input[list[dict[str, Any]]],
    ) -> None:
        super().__init__("webplatform:stack:PodIdentityRole", name)
        import pulumi_aws as aws  # here: a stack without AWS never loads it

        opts = pulumi.ResourceOptions(parent=self)
        trust = pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "EksPodIdentity",
                        "Effect": "Allow",
                        "Principal": {"Service": "pods.eks.amazonaws.com"},
                        "Action": ["sts:AssumeRole", "sts:TagSession"],
                        "Condition": {
                            "StringEquals": {
                                "aws:RequestTag/eks-cluster-name": cluster_name,
                                "aws:RequestTag/kubernetes-namespace": namespace,
                                "aws:RequestTag/kubernetes-service-account": service_account,
                            }
                        },
                    }
                ],
            }
        )
        role = aws.iam.Role(
            f"{name}-role",
            aws.iam.RoleArgs(
                assume_role_policy=trust,
                description=f"EKS Pod Identity of {namespace}/{service_account}",
            ),
            opts=opts,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            aws.iam.RolePolicyArgs(
                role=role.id,
                policy=pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements}),
            ),
            opts=opts,
        )
        aws.eks.PodIdentityAssociation(
            f"{name}-pod-identity",
            aws.eks.PodIdentityAssociationArgs(
                cluster_name=cluster_name,
                namespace=namespace,
                service_account=service_account,
                role_arn=role.arn,
            ),
            opts=opts,
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})


def pod_identity_role(
    name: str,
    *,
    cluster_name: pulumi.Input[str],
    namespace: str,
    service_account: str,
    statements: pulumi.Input[list[dict[str, Any]]],
) -> pulumi.Resource:
    """An IAM role that only pods of ``namespace``/``service_account`` in ``cluster_name`` can
    assume through EKS Pod Identity, allowed exactly ``statements`` (an inline policy), and its
    association. Returns what to depend on before starting those pods.

    The seam for the cluster component's Pod Identity helper (issue 6): same inputs; swap it
    in here. The trust policy also checks the session tags Pod Identity sets, so the role is
    useless to any other association that might name it.
    """
    return PodIdentityRole(
        name,
        cluster_name=cluster_name,
        namespace=namespace,
        service_account=service_account,
        statements=statements,
    )


def main() -> None:
    """The program: validate everything first, so a bad stack file registers nothing."""
    config = from_pulumi()
    settings = pulumi.Config(NAMESPACE)
    for key, value in build(config, settings.require_secret).items():
        pulumi.export(key, value)

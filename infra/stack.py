"""Composition: validated stack config in, components out.

The only place that reads ``pulumi.Config``; components get plain, validated
arguments and the Kubernetes provider through ``opts``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from components import DefaultDeny, DefaultDenyArgs, Namespace, NamespaceArgs, WebApp, WebAppArgs
from infra.config import NAMESPACE, AppSpec, ClusterSpec, KubernetesSpec, StackConfig, from_pulumi

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
    """
    if cluster is not None:
        return cluster.kubernetes_provider("kubernetes")
    return k8s.Provider(
        "kubernetes",
        k8s.ProviderArgs(
            context=spec.context,
            render_yaml_to_directory=spec.render_yaml_to_directory,
            enable_server_side_apply=True,
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
    apps = {
        name: WebApp(name, _app_args(config, namespace.name, spec, secret), opts=opts)
        for name, spec in config.apps.items()
    }
    outputs: dict[str, Any] = {
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


def main() -> None:
    """The program: validate everything first, so a bad stack file registers nothing."""
    config = from_pulumi()
    settings = pulumi.Config(NAMESPACE)
    for key, value in build(config, settings.require_secret).items():
        pulumi.export(key, value)

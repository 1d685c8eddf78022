"""Fixed example arguments, one program per component: the resource graph the library promises.

Each program builds components only through the public API (``webplatform``),
with the arguments an importer would write, and with the providers passed in
through ``opts`` as an importer passes them. The gate records the URNs each
program registers (``baseline/urns/<name>.urns``): a changed type token, child
name or parent shows up as a URN that is gone, which in an importer's stack is a
live resource deleted and created again.

Add an example when a component is added (``test_every_public_component_has_an_example``
fails until then). Never change an existing example's arguments to make the gate
pass: the arguments are the fixed point the comparison stands on. Examples use
only required arguments and a few widely used options, so that new optional
arguments do not change them.
"""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_kubernetes as k8s

import webplatform as wp

ACCOUNT = "123456789012"
CSP = "default-src 'self'; frame-ancestors 'none'"
RESOURCES = wp.Resources(
    requests=wp.Quantities(cpu="250m", memory="256Mi"),
    limits=wp.Quantities(cpu="500m", memory="512Mi"),
)
PODS = {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web"}


def _k8s() -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(provider=k8s.Provider("k8s", context="compat"))


def namespace() -> None:
    wp.Namespace("team", wp.NamespaceArgs(name="team"), opts=_k8s())


def workload() -> None:
    wp.Workload(
        "web",
        wp.WorkloadArgs(
            app="web", namespace="team", image="ghcr.io/acme/web:1.0.0", port=8080,
            resources=RESOURCES,
        ),
        opts=_k8s(),
    )  # fmt: skip


def service() -> None:
    wp.Service("web-service", wp.ServiceArgs(app="web", namespace="team", selector=PODS), _k8s())


def app_settings() -> None:
    wp.AppSettings(
        "web-settings",
        wp.AppSettingsArgs(
            app="web", namespace="team", plain={"LOG_LEVEL": "info"},
            secret={"API_TOKEN": pulumi.Output.secret("not-a-real-token")},
        ),
        opts=_k8s(),
    )  # fmt: skip


def autoscaler() -> None:
    wp.Autoscaler(
        "web",
        wp.AutoscalerArgs(
            app="web", namespace="team", target=wp.ScaleTarget.deployment("web"),
            requests=wp.Requests(cpu="250m", memory="256Mi"), min_replicas=2,
            autoscaling=wp.Autoscaling(max_replicas=6),
        ),
        opts=_k8s(),
    )  # fmt: skip


def disruption_budget() -> None:
    wp.DisruptionBudget(
        "web", wp.DisruptionBudgetArgs(app="web", namespace="team", selector=PODS), _k8s()
    )


def network_policies() -> None:
    opts = _k8s()
    wp.DefaultDeny("team", wp.DefaultDenyArgs(namespace="team"), opts)
    wp.AppNetworkPolicy(
        "web",
        wp.AppNetworkPolicyArgs(app="web", namespace="team", pod_selector=PODS, port=8080),
        opts,
    )


def monitoring() -> None:
    wp.Monitoring("web", wp.MonitoringArgs(app="web", namespace="team"), _k8s())


def web_app_blue_green() -> None:
    """WebApp with BlueGreenService, its Workloads, Services, settings and guardrails."""
    wp.WebApp(
        "web",
        wp.WebAppArgs(
            namespace="team", port=8080, replicas=3, resources=RESOURCES, strategy="blueGreen",
            blue_green=wp.BlueGreenRelease(
                active_color="blue",
                blue=wp.ColorSpec(image="ghcr.io/acme/web:1.0.0"),
                green=wp.ColorSpec(image="ghcr.io/acme/web:1.1.0"),
            ),
        ),
        opts=_k8s(),
    )  # fmt: skip


def web_app_argo_canary() -> None:
    """WebApp with ArgoRollout (canary) and its PublicRoute."""
    wp.WebApp(
        "web",
        wp.WebAppArgs(
            namespace="team", image="ghcr.io/acme/web:1.0.0", port=8080, replicas=3,
            resources=RESOURCES, strategy="argoCanary",
            argo=wp.ArgoRelease(
                analysis=wp.AnalysisArgs(prometheus_address="http://prometheus.monitoring:9090")
            ),
            route=wp.RouteSettings(hosts=("web.example.com",), issuer="letsencrypt"),
            gateway=wp.GatewayRef(name="team", namespace="envoy-gateway-system"),
        ),
        opts=_k8s(),
    )  # fmt: skip


def gateway_and_route() -> None:
    opts = _k8s()
    wp.Gateway(
        "gateway",
        wp.GatewayArgs(
            gateway_name="team", routes_namespace="team", hosts={"web": ("web.example.com",)},
            issuer="letsencrypt",
        ),
        opts,
    )  # fmt: skip
    wp.PublicRoute(
        "web-route",
        wp.PublicRouteArgs(
            app="web", namespace="team", service_name="web", service_port=80,
            gateway_name="team", gateway_namespace="envoy-gateway-system",
            route=wp.RouteSettings(hosts=("web.example.com",), issuer="letsencrypt"),
        ),
        opts,
    )  # fmt: skip


def external_secrets() -> None:
    opts = _k8s()
    wp.ExternalSecretsOperator(
        "external-secrets",
        wp.ExternalSecretsOperatorArgs(chart_version="2.8.0", watch_namespace="team"),
        opts,
    )
    wp.ExternalSecretSync(
        "web-secrets",
        wp.ExternalSecretSyncArgs(
            app="web", namespace="team", remote_secret_name="team/web", keys=["API_TOKEN"],
            region="us-west-2",
        ),
        opts,
    )  # fmt: skip


def app_secrets() -> None:
    wp.AppSecrets(
        "web-secrets",
        wp.AppSecretsArgs(
            app="web", secret_name="team/web", keys=["A"],
            key_admin_arns=[f"arn:aws:iam::{ACCOUNT}:role/platform-admin"],
        ),
    )  # fmt: skip


def vpc() -> None:
    wp.Vpc("net", wp.VpcArgs(cidr="10.20.0.0/16"))


def eks_cluster() -> None:
    cluster = wp.EksCluster(
        "eks",
        wp.EksClusterArgs(
            cluster_name="team-compat", private_subnet_ids=["subnet-a", "subnet-b"],
            ci_namespaces=["team"],
            access=wp.ClusterAccessArgs(
                ci_role_arn=f"arn:aws:iam::{ACCOUNT}:role/ci-deploy",
                admin_role_arns=[f"arn:aws:iam::{ACCOUNT}:role/platform-admin"],
            ),
        ),
    )  # fmt: skip
    cluster.kubernetes_provider("k8s")


def cluster_addons() -> None:
    wp.ClusterAddons(
        "addons",
        wp.ClusterAddonsArgs(
            envoy_gateway={"version": "v1.9.1"},
            cert_manager={"version": "v1.21.2", "issuer": {"email": "platform@example.com"}},
        ),
        opts=_k8s(),
    )


def node_pool() -> None:
    wp.NodePool("apps", wp.NodePoolArgs(cpu_limit="16", memory_limit="64Gi"), _k8s())


def pod_identity() -> None:
    statement = {
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": f"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:team/*",
    }
    wp.PodIdentity(
        "web",
        wp.PodIdentityArgs(
            cluster_name="team-compat", namespace="team", service_account="web",
            policy_statements=[statement],
        ),
    )  # fmt: skip


def cloudfront() -> None:
    import pulumi_aws as aws  # only this example needs it

    wp.CloudFrontCdn(
        "cdn",
        wp.CloudFrontCdnArgs(
            host="www.example.com", origin_host="origin.example.com",
            content_security_policy=CSP,
            us_east_1_provider=aws.Provider("east", region="us-east-1"),
        ),
    )  # fmt: skip


def cloudflare() -> None:
    wp.CloudflareEdge(
        "edge",
        wp.CloudflareEdgeArgs(
            zone_id="0123456789abcdef0123456789abcdef", host="www.example.com",
            origin_address="origin.example.com", content_security_policy=CSP,
        ),
    )  # fmt: skip


#: name -> program; the name is the snapshot file's (``baseline/urns/<name>.urns``).
EXAMPLES: dict[str, Callable[[], None]] = {
    fn.__name__.replace("_", "-"): fn
    for fn in (
        namespace,
        workload,
        service,
        app_settings,
        autoscaler,
        disruption_budget,
        network_policies,
        monitoring,
        web_app_blue_green,
        web_app_argo_canary,
        gateway_and_route,
        external_secrets,
        app_secrets,
        vpc,
        eks_cluster,
        cluster_addons,
        node_pool,
        pod_identity,
        cloudfront,
        cloudflare,
    )
}

#: What a run needs from the stack's config (the AWS components read the provider's region).
CONFIG = {"aws:region": "us-west-2"}

"""webplatform components: secure-by-default Pulumi building blocks for web workloads.

Only re-exports live here; each component is in its own module.

The CDN components are re-exported lazily (module-level ``__getattr__``):
``pulumi_cloudflare`` takes about a second to import and ``pulumi_aws`` a
fifth of one, so ``import components`` loads neither until a CDN class is
first used. (``from webplatform import *`` asks for every name, so it loads both.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from webplatform.app import GatewayRef, WebApp, WebAppArgs, WebAppSpec
from webplatform.delivery.blue_green import (
    BlueGreenArgs,
    BlueGreenRelease,
    BlueGreenService,
    ColorSpec,
)
from webplatform.delivery.rollout import AnalysisArgs, ArgoRelease, ArgoRollout, RolloutArgs
from webplatform.edge.gateway import Gateway, GatewayArgs
from webplatform.edge.route import PublicRoute, PublicRouteArgs, RateLimit, RouteSettings
from webplatform.guardrails.autoscaling import (
    Autoscaler,
    AutoscalerArgs,
    Autoscaling,
    Requests,
    ScaleTarget,
    ScalingPolicy,
    ScalingRules,
)
from webplatform.guardrails.disruption import (
    DisruptionBudget,
    DisruptionBudgetArgs,
    DisruptionPolicy,
)
from webplatform.guardrails.monitoring import Alerting, Monitoring, MonitoringArgs
from webplatform.guardrails.namespace import Namespace, NamespaceArgs
from webplatform.guardrails.network_policy import (
    AppNetworkPolicy,
    AppNetworkPolicyArgs,
    Backend,
    DefaultDeny,
    DefaultDenyArgs,
    NetworkAccess,
)
from webplatform.secrets.external import (
    ExternalSecretsOperator,
    ExternalSecretsOperatorArgs,
    ExternalSecretSync,
    ExternalSecretSyncArgs,
)
from webplatform.secrets.manager import AppSecrets, AppSecretsArgs, SecretRotation
from webplatform.workloads.service import Service, ServiceArgs
from webplatform.workloads.settings import AppSettings, AppSettingsArgs
from webplatform.workloads.workload import (
    HttpProbe,
    Quantities,
    Resources,
    RollingUpdate,
    Workload,
    WorkloadArgs,
)

if TYPE_CHECKING:
    from webplatform.cluster.addons import (
        ClusterAddons,
        ClusterAddonsArgs,
        ClusterIssuerArgs,
        HelmChart,
    )
    from webplatform.cluster.eks import ClusterAccessArgs, EksCluster, EksClusterArgs, EndpointArgs
    from webplatform.cluster.node_pool import NodePool, NodePoolArgs
    from webplatform.cluster.pod_identity import PodIdentity, PodIdentityArgs
    from webplatform.cluster.vpc import Vpc, VpcArgs
    from webplatform.edge.cloudflare import CloudflareEdge, CloudflareEdgeArgs, CloudflareSettings
    from webplatform.edge.cloudfront import CloudFrontCdn, CloudFrontCdnArgs, CloudFrontSettings

#: Re-exports imported on first use: these modules import pulumi_aws or pulumi_cloudflare,
#: which a stack that does not use them (dev, or a team's Kubernetes-only stack) should not
#: have to load (pulumi_cloudflare alone takes about 1.5 s to import).
_LAZY = {
    "CloudFrontCdn": "webplatform.edge.cloudfront",
    "CloudFrontCdnArgs": "webplatform.edge.cloudfront",
    "CloudFrontSettings": "webplatform.edge.cloudfront",
    "CloudflareEdge": "webplatform.edge.cloudflare",
    "CloudflareEdgeArgs": "webplatform.edge.cloudflare",
    "CloudflareSettings": "webplatform.edge.cloudflare",
    "EksCluster": "webplatform.cluster.eks",
    "EksClusterArgs": "webplatform.cluster.eks",
    "ClusterAccessArgs": "webplatform.cluster.eks",
    "EndpointArgs": "webplatform.cluster.eks",
    "NodePool": "webplatform.cluster.node_pool",
    "NodePoolArgs": "webplatform.cluster.node_pool",
    "ClusterAddons": "webplatform.cluster.addons",
    "ClusterAddonsArgs": "webplatform.cluster.addons",
    "ClusterIssuerArgs": "webplatform.cluster.addons",
    "HelmChart": "webplatform.cluster.addons",
    "PodIdentity": "webplatform.cluster.pod_identity",
    "PodIdentityArgs": "webplatform.cluster.pod_identity",
    "Vpc": "webplatform.cluster.vpc",
    "VpcArgs": "webplatform.cluster.vpc",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Alerting",
    "AnalysisArgs",
    "AppNetworkPolicy",
    "AppNetworkPolicyArgs",
    "AppSecrets",
    "AppSecretsArgs",
    "AppSettings",
    "AppSettingsArgs",
    "ArgoRelease",
    "ArgoRollout",
    "Autoscaler",
    "AutoscalerArgs",
    "Autoscaling",
    "Backend",
    "BlueGreenArgs",
    "BlueGreenRelease",
    "BlueGreenService",
    "CloudFrontCdn",
    "CloudFrontCdnArgs",
    "CloudFrontSettings",
    "CloudflareEdge",
    "CloudflareEdgeArgs",
    "CloudflareSettings",
    "ClusterAccessArgs",
    "ClusterAddons",
    "ClusterAddonsArgs",
    "ClusterIssuerArgs",
    "ColorSpec",
    "DefaultDeny",
    "DefaultDenyArgs",
    "DisruptionBudget",
    "DisruptionBudgetArgs",
    "DisruptionPolicy",
    "EksCluster",
    "EksClusterArgs",
    "EndpointArgs",
    "ExternalSecretSync",
    "ExternalSecretSyncArgs",
    "ExternalSecretsOperator",
    "ExternalSecretsOperatorArgs",
    "Gateway",
    "GatewayArgs",
    "GatewayRef",
    "HelmChart",
    "HttpProbe",
    "Monitoring",
    "MonitoringArgs",
    "Namespace",
    "NamespaceArgs",
    "NetworkAccess",
    "NodePool",
    "NodePoolArgs",
    "PodIdentity",
    "PodIdentityArgs",
    "PublicRoute",
    "PublicRouteArgs",
    "Quantities",
    "RateLimit",
    "Requests",
    "Resources",
    "RollingUpdate",
    "RolloutArgs",
    "RouteSettings",
    "ScaleTarget",
    "ScalingPolicy",
    "ScalingRules",
    "SecretRotation",
    "Service",
    "ServiceArgs",
    "Vpc",
    "VpcArgs",
    "WebApp",
    "WebAppArgs",
    "WebAppSpec",
    "Workload",
    "WorkloadArgs",
]

"""webplatform components: secure-by-default Pulumi building blocks for web workloads.

Only re-exports live here; each component is in its own module.

The CDN components are re-exported lazily (module-level ``__getattr__``):
``pulumi_cloudflare`` takes about a second to import and ``pulumi_aws`` a
fifth of one, so ``import components`` loads neither until a CDN class is
first used. (``from components import *`` asks for every name, so it loads both.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from components.app import WebApp, WebAppArgs
from components.autoscaling import (
    Autoscaler,
    AutoscalerArgs,
    Autoscaling,
    ScaleTarget,
    ScalingPolicy,
    ScalingRules,
)
from components.blue_green import BlueGreenArgs, BlueGreenRelease, BlueGreenService, ColorSpec
from components.disruption import DisruptionBudget, DisruptionBudgetArgs, DisruptionPolicy
from components.external_secrets import (
    ExternalSecretsOperator,
    ExternalSecretsOperatorArgs,
    ExternalSecretSync,
    ExternalSecretSyncArgs,
)
from components.ingress import Ingress, IngressArgs, IngressRoute
from components.monitoring import Alerting, Monitoring, MonitoringArgs
from components.namespace import Namespace, NamespaceArgs
from components.network_policy import (
    AppNetworkPolicy,
    AppNetworkPolicyArgs,
    Backend,
    DefaultDeny,
    DefaultDenyArgs,
    NetworkAccess,
)
from components.rollout import AnalysisArgs, ArgoRelease, ArgoRollout, RolloutArgs
from components.secrets import AppSecrets, AppSecretsArgs, SecretRotation
from components.service import Service, ServiceArgs
from components.settings import AppSettings, AppSettingsArgs
from components.workload import HttpProbe, Resources, Workload, WorkloadArgs

if TYPE_CHECKING:
    from components.cdn_cloudflare import CloudflareEdge, CloudflareEdgeArgs
    from components.cdn_cloudfront import CloudFrontCdn, CloudFrontCdnArgs
    from components.cluster import EksCluster, EksClusterArgs, NodeGroupArgs
    from components.cluster_addons import (
        ClusterAddons,
        ClusterAddonsArgs,
        ClusterIssuerArgs,
        HelmChart,
    )
    from components.pod_identity import PodIdentity, PodIdentityArgs
    from components.vpc import Vpc, VpcArgs

#: Re-exports imported on first use: these modules import pulumi_aws or pulumi_cloudflare,
#: which a stack that does not use them (dev, or a team's Kubernetes-only stack) should not
#: have to load (pulumi_cloudflare alone takes about 1.5 s to import).
_LAZY = {
    "CloudFrontCdn": "components.cdn_cloudfront",
    "CloudFrontCdnArgs": "components.cdn_cloudfront",
    "CloudflareEdge": "components.cdn_cloudflare",
    "CloudflareEdgeArgs": "components.cdn_cloudflare",
    "EksCluster": "components.cluster",
    "EksClusterArgs": "components.cluster",
    "NodeGroupArgs": "components.cluster",
    "ClusterAddons": "components.cluster_addons",
    "ClusterAddonsArgs": "components.cluster_addons",
    "ClusterIssuerArgs": "components.cluster_addons",
    "HelmChart": "components.cluster_addons",
    "PodIdentity": "components.pod_identity",
    "PodIdentityArgs": "components.pod_identity",
    "Vpc": "components.vpc",
    "VpcArgs": "components.vpc",
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
    "CloudflareEdge",
    "CloudflareEdgeArgs",
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
    "ExternalSecretSync",
    "ExternalSecretSyncArgs",
    "ExternalSecretsOperator",
    "ExternalSecretsOperatorArgs",
    "HelmChart",
    "HttpProbe",
    "Ingress",
    "IngressArgs",
    "IngressRoute",
    "Monitoring",
    "MonitoringArgs",
    "Namespace",
    "NamespaceArgs",
    "NetworkAccess",
    "NodeGroupArgs",
    "PodIdentity",
    "PodIdentityArgs",
    "Resources",
    "RolloutArgs",
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
    "Workload",
    "WorkloadArgs",
]

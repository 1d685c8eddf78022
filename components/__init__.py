"""webplatform components: secure-by-default Pulumi building blocks for web workloads.

Only re-exports live here; each component is in its own module.
"""

from components.app import WebApp, WebAppArgs
from components.autoscaling import (
    Autoscaler,
    AutoscalerArgs,
    Autoscaling,
    ScaleTarget,
    ScalingPolicy,
    ScalingRules,
)
from components.disruption import DisruptionBudget, DisruptionBudgetArgs, DisruptionPolicy
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
from components.service import Service, ServiceArgs
from components.settings import AppSettings, AppSettingsArgs
from components.workload import HttpProbe, Resources, Workload, WorkloadArgs

__all__ = [
    "Alerting",
    "AppNetworkPolicy",
    "AppNetworkPolicyArgs",
    "AppSettings",
    "AppSettingsArgs",
    "Autoscaler",
    "AutoscalerArgs",
    "Autoscaling",
    "Backend",
    "DefaultDeny",
    "DefaultDenyArgs",
    "DisruptionBudget",
    "DisruptionBudgetArgs",
    "DisruptionPolicy",
    "HttpProbe",
    "Ingress",
    "IngressArgs",
    "IngressRoute",
    "Monitoring",
    "MonitoringArgs",
    "Namespace",
    "NamespaceArgs",
    "NetworkAccess",
    "Resources",
    "ScaleTarget",
    "ScalingPolicy",
    "ScalingRules",
    "Service",
    "ServiceArgs",
    "WebApp",
    "WebAppArgs",
    "Workload",
    "WorkloadArgs",
]

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
    "ColorSpec",
    "DefaultDeny",
    "DefaultDenyArgs",
    "DisruptionBudget",
    "DisruptionBudgetArgs",
    "DisruptionPolicy",
    "ExternalSecretSync",
    "ExternalSecretSyncArgs",
    "ExternalSecretsOperator",
    "ExternalSecretsOperatorArgs",
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
    "RolloutArgs",
    "ScaleTarget",
    "ScalingPolicy",
    "ScalingRules",
    "SecretRotation",
    "Service",
    "ServiceArgs",
    "WebApp",
    "WebAppArgs",
    "Workload",
    "WorkloadArgs",
]

"""The stack model: each area's settings, composed, plus what is about a stack.

Areas: ``apps``, ``cluster``, ``secrets``, ``edge``; ``stack`` composes them and
holds the rules across areas and apps.
"""

from __future__ import annotations

from infra.config._base import (
    MAX_KUBERNETES_MINOR,
    MIN_KUBERNETES_MINOR,
    NAMESPACE,
    Environment,
    StackConfigError,
)
from infra.config.apps import (
    AnalysisSpec,
    AppSpec,
    ArgoSpec,
    AutoscalingSpec,
    BackendSpec,
    BlueGreenSpec,
    ColorSpec,
    DisruptionBudgetSpec,
    IngressSpec,
    MonitoringSpec,
    NetworkPolicySpec,
    ProbeSpec,
    Quantities,
    ResourcesSpec,
    RollingUpdateSpec,
    ScalingPolicySpec,
    ScalingRulesSpec,
    Strategy,
)
from infra.config.cluster import ClusterSpec, KubernetesSpec
from infra.config.edge import AccessLogsSpec, CdnProvider, CdnSpec, CloudflareSpec, CloudFrontSpec
from infra.config.secrets import SecretDelivery, SecretsSpec, ValueSource
from infra.config.stack import (
    PROVIDER_SECRET_KEYS,
    StackConfig,
    from_pulumi,
    parse,
    referenced_secret_keys,
    stack_file,
)

__all__ = [
    "MAX_KUBERNETES_MINOR",
    "MIN_KUBERNETES_MINOR",
    "NAMESPACE",
    "PROVIDER_SECRET_KEYS",
    "AccessLogsSpec",
    "AnalysisSpec",
    "AppSpec",
    "ArgoSpec",
    "AutoscalingSpec",
    "BackendSpec",
    "BlueGreenSpec",
    "CdnProvider",
    "CdnSpec",
    "CloudFrontSpec",
    "CloudflareSpec",
    "ClusterSpec",
    "ColorSpec",
    "DisruptionBudgetSpec",
    "Environment",
    "IngressSpec",
    "KubernetesSpec",
    "MonitoringSpec",
    "NetworkPolicySpec",
    "ProbeSpec",
    "Quantities",
    "ResourcesSpec",
    "RollingUpdateSpec",
    "ScalingPolicySpec",
    "ScalingRulesSpec",
    "SecretDelivery",
    "SecretsSpec",
    "StackConfig",
    "StackConfigError",
    "Strategy",
    "ValueSource",
    "from_pulumi",
    "parse",
    "referenced_secret_keys",
    "stack_file",
]

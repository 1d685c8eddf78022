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
from infra.config.apps import AppSpec, ConfigKey
from infra.config.cluster import (
    AccessSpec,
    AddonsSpec,
    ArgoRolloutsSpec,
    CertManagerSpec,
    ChartSpec,
    ClusterSpec,
    EndpointSpec,
    IssuerSpec,
    KubernetesSpec,
    NodeGroupSpec,
    VpcSpec,
)
from infra.config.edge import AccessLogsSpec, CdnProvider, CdnSpec, CloudflareSpec, CloudFrontSpec
from infra.config.secrets import (
    SecretDelivery,
    SecretRotationSpec,
    SecretsOperatorSpec,
    SecretsSpec,
    ValueSource,
)
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
    "AccessSpec",
    "AddonsSpec",
    "AppSpec",
    "ArgoRolloutsSpec",
    "CdnProvider",
    "CdnSpec",
    "CertManagerSpec",
    "ChartSpec",
    "CloudFrontSpec",
    "CloudflareSpec",
    "ClusterSpec",
    "ConfigKey",
    "EndpointSpec",
    "Environment",
    "IssuerSpec",
    "KubernetesSpec",
    "NodeGroupSpec",
    "SecretDelivery",
    "SecretRotationSpec",
    "SecretsOperatorSpec",
    "SecretsSpec",
    "StackConfig",
    "StackConfigError",
    "ValueSource",
    "VpcSpec",
    "from_pulumi",
    "parse",
    "referenced_secret_keys",
    "stack_file",
]

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
from infra.config._source import StackSource
from infra.config.apps import AppSpec, ConfigKey
from infra.config.cluster import ClusterSpec, KubernetesSpec
from infra.config.edge import (
    Cdn,
    CdnProvider,
    CloudflareEdgeSpec,
    CloudFrontCdnSpec,
    FailoverOrigin,
    NoCdn,
    route_hosts,
)
from infra.config.secrets import SecretDelivery, SecretsSpec, ValueSource
from infra.config.stack import (
    AWS_REGIONS,
    CONFIG_FILE_ENV,
    PROVIDER_SECRET_KEYS,
    StackConfig,
    from_pulumi,
    load,
    object_names,
    parse,
    read_source,
    referenced_secret_keys,
    stack_file,
    with_secrets,
)

__all__ = [
    "AWS_REGIONS",
    "CONFIG_FILE_ENV",
    "MAX_KUBERNETES_MINOR",
    "MIN_KUBERNETES_MINOR",
    "NAMESPACE",
    "PROVIDER_SECRET_KEYS",
    "AppSpec",
    "Cdn",
    "CdnProvider",
    "CloudFrontCdnSpec",
    "CloudflareEdgeSpec",
    "ClusterSpec",
    "ConfigKey",
    "Environment",
    "FailoverOrigin",
    "KubernetesSpec",
    "NoCdn",
    "SecretDelivery",
    "SecretsSpec",
    "StackConfig",
    "StackConfigError",
    "StackSource",
    "ValueSource",
    "from_pulumi",
    "load",
    "object_names",
    "parse",
    "read_source",
    "referenced_secret_keys",
    "route_hosts",
    "stack_file",
    "with_secrets",
]

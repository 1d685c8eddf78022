"""The stack model: each area's settings, composed, plus what is about a stack.

Layers, each importing only those above it in this list: ``_source`` (reading a stack
file), ``_base``, the areas (``apps``, ``cluster``, ``secrets``, ``edge``), ``review``
(review stacks' derived names), ``stack`` (the model and the rules across areas),
``keys`` and ``names``, ``secret_values``, ``report`` (the error report), ``loader``.
"""

from __future__ import annotations

from infra.config._base import (
    MAX_KUBERNETES_MINOR,
    MIN_KUBERNETES_MINOR,
    NAMESPACE,
    Environment,
    StackConfigError,
    aws_regions,
)
from infra.config._source import CONFIG_FILE_ENV, StackSource
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
from infra.config.loader import load, parse, read_source
from infra.config.secret_values import PROVIDER_SECRET_KEYS, referenced_secret_keys, with_secrets
from infra.config.secrets import SecretDelivery, SecretsSpec, ValueSource
from infra.config.stack import StackConfig, stack_file

__all__ = [
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
    "aws_regions",
    "load",
    "parse",
    "read_source",
    "referenced_secret_keys",
    "route_hosts",
    "stack_file",
    "with_secrets",
]

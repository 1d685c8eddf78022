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
from components.namespace import Namespace, NamespaceArgs
from components.service import Service, ServiceArgs
from components.settings import AppSettings, AppSettingsArgs
from components.workload import HttpProbe, Resources, Workload, WorkloadArgs

if TYPE_CHECKING:
    from components.cdn_cloudflare import CloudflareEdge, CloudflareEdgeArgs
    from components.cdn_cloudfront import CloudFrontCdn, CloudFrontCdnArgs

#: Lazily re-exported names -> the module that defines them.
_LAZY = {
    "CloudFrontCdn": "components.cdn_cloudfront",
    "CloudFrontCdnArgs": "components.cdn_cloudfront",
    "CloudflareEdge": "components.cdn_cloudflare",
    "CloudflareEdgeArgs": "components.cdn_cloudflare",
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
    "AppSettings",
    "AppSettingsArgs",
    "CloudFrontCdn",
    "CloudFrontCdnArgs",
    "CloudflareEdge",
    "CloudflareEdgeArgs",
    "HttpProbe",
    "Namespace",
    "NamespaceArgs",
    "Resources",
    "Service",
    "ServiceArgs",
    "WebApp",
    "WebAppArgs",
    "Workload",
    "WorkloadArgs",
]

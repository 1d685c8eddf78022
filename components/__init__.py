"""webplatform components: secure-by-default Pulumi building blocks for web workloads.

Only re-exports live here; each component is in its own module.
"""

from components.app import WebApp, WebAppArgs
from components.namespace import Namespace, NamespaceArgs
from components.service import Service, ServiceArgs
from components.settings import AppSettings, AppSettingsArgs
from components.workload import HttpProbe, Resources, Workload, WorkloadArgs

__all__ = [
    "AppSettings",
    "AppSettingsArgs",
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

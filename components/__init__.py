"""webplatform components: secure-by-default Pulumi building blocks for web workloads.

Only re-exports live here; each component is in its own module.
"""

from components.app import WebApp, WebAppArgs
from components.blue_green import BlueGreenArgs, BlueGreenRelease, BlueGreenService, ColorSpec
from components.namespace import Namespace, NamespaceArgs
from components.rollout import AnalysisArgs, ArgoRelease, ArgoRollout, RolloutArgs
from components.service import Service, ServiceArgs
from components.settings import AppSettings, AppSettingsArgs
from components.workload import HttpProbe, Resources, Workload, WorkloadArgs

__all__ = [
    "AnalysisArgs",
    "AppSettings",
    "AppSettingsArgs",
    "ArgoRelease",
    "ArgoRollout",
    "BlueGreenArgs",
    "BlueGreenRelease",
    "BlueGreenService",
    "ColorSpec",
    "HttpProbe",
    "Namespace",
    "NamespaceArgs",
    "Resources",
    "RolloutArgs",
    "Service",
    "ServiceArgs",
    "WebApp",
    "WebAppArgs",
    "Workload",
    "WorkloadArgs",
]

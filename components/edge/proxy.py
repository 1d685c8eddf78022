"""The Gateway's data plane on EKS: Envoy Gateway's own ``EnvoyProxy`` resource.

Envoy Gateway turns each Gateway into an Envoy Deployment and a ``LoadBalancer``
Service. Left to its defaults that is one proxy pod (``DefaultDeploymentReplicas = 1``),
no disruption budget, and a Service with no annotations, which EKS Auto Mode (like the
AWS Load Balancer Controller) turns into an *internal* NLB: the site is unreachable from
the internet and a node consolidation drops all traffic. The ``EnvoyProxy`` named by the
Gateway's ``spec.infrastructure.parametersRef`` (same namespace as the Gateway; Envoy
Gateway reads it per Gateway, so stacks sharing a cluster do not share settings, and
the GatewayClass that the cluster add-ons create stays generic) sets:

- the Service: ``loadBalancerClass: eks.amazonaws.com/nlb`` (the class EKS Auto Mode
  serves; the ``aws-load-balancer-type`` annotation is not supported there),
  ``service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing`` (public:
  every Gateway listener here is a public route, reached by a CDN or by browsers) and
  ``aws-load-balancer-nlb-target-type: ip`` (the NLB sends to the proxy pods directly
  and health-checks each one, so a draining pod leaves the target group instead of a
  node that may hold none); ``externalTrafficPolicy: Local`` (Envoy Gateway's default,
  written out); and, when the caller gives them, ``loadBalancerSourceRanges`` (EKS Auto
  Mode turns them into the NLB security group's inbound rules). All as documented in the
  EKS user guide, "Use Service Annotations to configure Network Load Balancers"
  (auto-configure-nlb);
- the Deployment: ``replicas`` (default 2) spread over zones and nodes by
  ``topologySpreadConstraints`` (``maxSkew`` 1, ``DoNotSchedule``: Auto Mode starts a
  node in the zone the constraint needs), selecting the pods of this Gateway only;
- a PodDisruptionBudget of ``maxUnavailable: 1``: a drain or a consolidation takes one
  proxy at a time, and never blocks (``minAvailable: replicas`` would).
"""

from __future__ import annotations

from typing import Annotated, Any

import pulumi
from pydantic import Field

from webplatform._model import Args
from webplatform._types import Cpu, Memory

ENVOY_PROXY_KIND = "EnvoyProxy"
#: The load balancer class EKS Auto Mode provisions NLBs for (auto-configure-nlb).
EKS_NLB_CLASS = "eks.amazonaws.com/nlb"
_ANNOTATION = "service.beta.kubernetes.io/"
#: Labels Envoy Gateway puts on the proxy pods of one Gateway (its ``OwningGateway*`` labels).
OWNING_GATEWAY_NAME = "gateway.envoyproxy.io/owning-gateway-name"
OWNING_GATEWAY_NAMESPACE = "gateway.envoyproxy.io/owning-gateway-namespace"


class ProxySettings(Args):
    """The Gateway's Envoy proxies (``webplatform:gateway`` in a stack file)."""

    replicas: Annotated[int, Field(ge=1, le=20)] = 2
    """Envoy proxy pods; default 2, so a drain or a zone's loss keeps one serving. Production
    and UAT stacks need at least 2 (checked when the stack file is read)."""
    cpu: Cpu = "250m"
    """Each proxy's CPU request (and the limit is twice it); default 250m."""
    memory: Memory = "256Mi"
    """Each proxy's memory request and limit; default 256Mi (Envoy's own default asks 512Mi
    without a limit; a limit keeps a leak from taking the node)."""


def load_balancer_annotations() -> dict[str, str]:
    """The NLB settings EKS Auto Mode reads from the Envoy Service (auto-configure-nlb)."""
    return {
        f"{_ANNOTATION}aws-load-balancer-scheme": "internet-facing",
        f"{_ANNOTATION}aws-load-balancer-nlb-target-type": "ip",
    }


def envoy_proxy_spec(
    settings: ProxySettings,
    gateway_name: str,
    gateway_namespace: str,
    source_ranges: pulumi.Input[list[str]] | None = None,
) -> dict[str, Any]:
    """The ``EnvoyProxy`` spec for one Gateway's proxies (see the module docstring)."""
    selector = {
        "matchLabels": {
            OWNING_GATEWAY_NAME: gateway_name,
            OWNING_GATEWAY_NAMESPACE: gateway_namespace,
        }
    }
    service: dict[str, Any] = {
        "type": "LoadBalancer",
        "loadBalancerClass": EKS_NLB_CLASS,
        "externalTrafficPolicy": "Local",
        "annotations": load_balancer_annotations(),
    }
    if source_ranges is not None:
        service["loadBalancerSourceRanges"] = source_ranges
    cpu_limit = _double_cpu(settings.cpu)
    return {
        "provider": {
            "type": "Kubernetes",
            "kubernetes": {
                "envoyService": service,
                "envoyDeployment": {
                    "replicas": settings.replicas,
                    "container": {
                        "resources": {
                            "requests": {"cpu": settings.cpu, "memory": settings.memory},
                            "limits": {"cpu": cpu_limit, "memory": settings.memory},
                        }
                    },
                    "pod": {
                        "topologySpreadConstraints": [
                            {
                                "maxSkew": 1,
                                "topologyKey": key,
                                "whenUnsatisfiable": "DoNotSchedule",
                                "labelSelector": selector,
                            }
                            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
                        ]
                    },
                },
                "envoyPDB": {"maxUnavailable": 1},
            },
        }
    }


def _double_cpu(cpu: str) -> str:
    """Twice a CPU quantity (``250m`` -> ``500m``, ``1`` -> ``2``)."""
    if cpu.endswith("m"):
        return f"{int(cpu[:-1]) * 2}m"
    return f"{float(cpu) * 2:g}"

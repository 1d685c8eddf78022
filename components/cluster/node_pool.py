"""The NodePool the apps run on, in an EKS Auto Mode cluster, with CPU and memory limits.

EKS Auto Mode (see :mod:`webplatform.cluster.eks`) runs Karpenter for the
cluster: a ``karpenter.sh/v1`` NodePool says which instances it may start for
pending pods, and ``limits`` cap the sum of their CPU and memory. Those limits
are the point: they bound the bill, and the stack checks at parse time that
every app at its autoscaler maximum (both colours for blue-green) fits within
them (:meth:`NodePoolArgs.check_fits`), so an HPA can never ask for a pod the pool
would refuse to place.

The pool uses the NodeClass ``node_class`` names: Auto Mode's ``default``
unless told otherwise. The stacks name their own (:mod:`.node_class`): the
``default`` one cannot turn NetworkPolicy enforcement on. Instances are
current-generation and on-demand; nodes are replaced at least every 14 days (patched AMIs) and
consolidated when underused, a tenth of them at a time.

No ``pulumi_aws`` here: the args are part of the stack config, and the
NodePool is a Kubernetes object created with the cluster's provider.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal, NamedTuple

import pulumi
import pulumi_kubernetes as k8s
from pydantic import AfterValidator, Field, model_validator

from webplatform import _validation
from webplatform._model import Args, Items, at
from webplatform._quantity import parse_cpu, parse_memory

__all__ = ["NodePool", "NodePoolArgs", "Peak"]


def _cpu(value: str) -> str:
    parse_cpu(value)
    return value


def _memory(value: str) -> str:
    parse_memory(value)
    return value


def _name(value: str) -> str:
    _validation.dns_label("name", value)
    return value


CpuQuantity = Annotated[str, AfterValidator(_cpu)]
MemoryQuantity = Annotated[str, AfterValidator(_memory)]
InstanceCategory = Literal["c", "m", "r", "t"]


class Peak(NamedTuple):
    """What one app asks of the pool at its most: pods, their requested cores and bytes, and
    how the pods were counted (for the error that names it)."""

    pods: int
    cpu: Decimal
    memory: Decimal
    why: str


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _gib(value: Decimal) -> str:
    return f"{_num(round(value / 2**30, 2))}Gi"


class NodePoolArgs(Args):
    """Where the apps' pods run (``cluster.nodePool``), and how much of it there may be."""

    cpu_limit: CpuQuantity
    """Most vCPUs of all nodes in the pool together (e.g. ``"32"``); required: it is the
    stack's capacity and cost ceiling."""
    memory_limit: MemoryQuantity
    """Most memory of all nodes in the pool together (e.g. ``"128Gi"``); required."""
    reserved_cpu: CpuQuantity = "2"
    """CPU kept out of the apps' share for the cluster's own pods (cert-manager, the gateway,
    metrics-server, the operators, DaemonSets); default 2 cores."""
    reserved_memory: MemoryQuantity = "4Gi"
    """Memory kept out of the apps' share for the cluster's own pods; default 4Gi."""
    instance_categories: Items[InstanceCategory] = ("c", "m", "r")
    """EC2 instance families Auto Mode may pick from; default compute, general purpose and
    memory optimised (burstable ``t`` only when listed: its CPU credits run out)."""
    min_instance_generation: int = Field(default=6, ge=5, le=9)
    """Oldest instance generation; default 6 (m6i and newer: current prices and Nitro)."""
    architectures: Items[Literal["amd64", "arm64"]] = ("amd64",)
    """CPU architectures; default amd64. Add ``arm64`` (Graviton, cheaper) once every image
    is multi-arch."""
    name: Annotated[str, AfterValidator(_name)] = "apps"
    """The NodePool's name; default ``apps``."""
    node_class: Annotated[str, AfterValidator(_name)] = "default"
    """The ``eks.amazonaws.com`` NodeClass the nodes come from; default Auto Mode's built-in
    ``default``, which enforces no NetworkPolicy. The stacks set their own
    (:class:`webplatform.cluster.node_class.NodeClass`)."""

    @model_validator(mode="after")
    def _room_for_apps(self) -> NodePoolArgs:
        cores, memory = self.app_share()
        if cores <= 0:
            raise at(
                "reserved_cpu",
                message=f"{self.reserved_cpu} leaves nothing of cpuLimit {self.cpu_limit} "
                "for the apps; raise cpuLimit or lower reservedCpu",
            )
        if memory <= 0:
            raise at(
                "reserved_memory",
                message=f"{self.reserved_memory} leaves nothing of memoryLimit "
                f"{self.memory_limit} for the apps; raise memoryLimit or lower reservedMemory",
            )
        return self

    def app_share(self) -> tuple[Decimal, Decimal]:
        """(cores, bytes) the apps may use: the limits minus what is reserved."""
        return (
            parse_cpu(self.cpu_limit) - parse_cpu(self.reserved_cpu),
            parse_memory(self.memory_limit) - parse_memory(self.reserved_memory),
        )

    def check_fits(self, peaks: Mapping[str, Peak]) -> None:
        """Raise :func:`at` on ``cpu_limit`` or ``memory_limit`` unless every app at its peak
        (:meth:`webplatform.WebAppSpec.peak`), summed, fits the apps' share, so that an
        autoscaler never asks for pods the limits would leave pending."""
        cpu_share, memory_share = self.app_share()
        cpu = sum((peak.cpu for peak in peaks.values()), Decimal(0))
        memory = sum((peak.memory for peak in peaks.values()), Decimal(0))
        detail = "; ".join(f"{name}: {p.pods} pods ({p.why})" for name, p in peaks.items())
        if cpu > cpu_share:
            raise at(
                "cpu_limit",
                message=f"{self.cpu_limit} cores minus reservedCpu {self.reserved_cpu} leaves "
                f"{_num(cpu_share)} for the apps, but at their maxima they request {_num(cpu)} "
                f"cores ({detail}); raise cpuLimit or lower maxReplicas or requests.cpu",
            )
        if memory > memory_share:
            raise at(
                "memory_limit",
                message=f"{self.memory_limit} minus reservedMemory {self.reserved_memory} "
                f"leaves {_gib(memory_share)} for the apps, but at their maxima they request "
                f"{_gib(memory)} ({detail}); raise memoryLimit or lower maxReplicas or "
                "requests.memory",
            )

    def manifest_spec(self) -> dict[str, object]:
        return {
            "template": {
                "spec": {
                    "nodeClassRef": {
                        "group": "eks.amazonaws.com",
                        "kind": "NodeClass",
                        "name": self.node_class,
                    },
                    "requirements": [
                        {
                            "key": "eks.amazonaws.com/instance-category",
                            "operator": "In",
                            "values": list(self.instance_categories),
                        },
                        {
                            "key": "eks.amazonaws.com/instance-generation",
                            "operator": "Gt",
                            "values": [str(self.min_instance_generation - 1)],
                        },
                        {
                            "key": "kubernetes.io/arch",
                            "operator": "In",
                            "values": list(self.architectures),
                        },
                        {
                            "key": "karpenter.sh/capacity-type",
                            "operator": "In",
                            "values": ["on-demand"],
                        },
                    ],
                    "expireAfter": "336h",
                }
            },
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
            "disruption": {
                "consolidationPolicy": "WhenEmptyOrUnderutilized",
                "consolidateAfter": "1m",
                "budgets": [{"nodes": "10%"}],
            },
        }


class NodePool(pulumi.ComponentResource):
    """A ``karpenter.sh/v1`` NodePool for EKS Auto Mode, with CPU and memory limits."""

    name: pulumi.Output[str]

    def __init__(
        self, name: str, args: NodePoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:cluster:NodePool", name, None, opts)
        pool = k8s.apiextensions.CustomResource(
            f"{name}-node-pool",
            api_version="karpenter.sh/v1",
            kind="NodePool",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name),
            spec=args.manifest_spec(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.name = pool.id.apply(lambda _: args.name)
        self.register_outputs({"name": self.name})

"""A HorizontalPodAutoscaler (``autoscaling/v2``) with explicit scale-up and scale-down behaviour.

References 001 and 004 settle on 3-10 replicas at 70 % CPU and 80 % memory
utilisation; 004 adds the behaviour used here as the default: scale up fast
(no stabilisation, the larger of +100 % or +4 pods every 15 s) and scale down
slowly (5 minutes of stabilisation, at most 10 % every 60 s), so a traffic
spike is met at once and a dip does not throw away warm pods.

The target is a reference (``apiVersion``, ``kind``, ``name``), not a
Deployment object, so the same component scales a Deployment, an Argo
``Rollout`` or one colour of a blue-green pair. Whatever it targets must not
set ``spec.replicas`` itself: under server-side apply the two owners of that
field fight, and every ``pulumi up`` would reset the autoscaler's choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from webplatform import _validation
from webplatform._labels import app_labels
from webplatform._quantity import parse_cpu, parse_memory

PolicyType = Literal["Pods", "Percent"]
SelectPolicy = Literal["Max", "Min", "Disabled"]
#: The API server's bounds (``HPAScalingRules`` validation).
MAX_PERIOD_SECONDS = 1800
MAX_STABILIZATION_SECONDS = 3600


@dataclass(frozen=True, kw_only=True)
class ScaleTarget:
    """What the autoscaler scales, by reference: anything with a ``scale`` subresource."""

    api_version: str
    """e.g. ``apps/v1`` or ``argoproj.io/v1alpha1``."""
    kind: str
    """e.g. ``Deployment`` or ``Rollout``."""
    name: pulumi.Input[str]
    """The object's name in the autoscaler's namespace (a ``Workload.deployment_name``)."""

    @classmethod
    def deployment(cls, name: pulumi.Input[str]) -> ScaleTarget:
        return cls(api_version="apps/v1", kind="Deployment", name=name)

    @classmethod
    def rollout(cls, name: pulumi.Input[str]) -> ScaleTarget:
        """An Argo Rollouts ``Rollout`` (it implements the scale subresource)."""
        return cls(api_version="argoproj.io/v1alpha1", kind="Rollout", name=name)

    def __post_init__(self) -> None:
        if not self.api_version or not self.kind:
            raise ValueError(
                f"api_version={self.api_version!r}, kind={self.kind!r}: both are required"
            )


@dataclass(frozen=True, kw_only=True)
class ScalingPolicy:
    """At most ``value`` pods (``Pods``) or percent of the current count (``Percent``) per period."""

    type: PolicyType
    value: int
    """Pods or percent; at least 1."""
    period_seconds: int
    """Window the limit applies to, 1 to 1800 s."""

    def __post_init__(self) -> None:
        _validation.one_of("type", self.type, ("Pods", "Percent"))
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 1:
            raise ValueError(f"value={self.value!r}: must be a whole number of at least 1")
        if not 1 <= self.period_seconds <= MAX_PERIOD_SECONDS:
            raise ValueError(
                f"period_seconds={self.period_seconds!r}: must be 1 to {MAX_PERIOD_SECONDS}"
            )

    def to_k8s(self) -> k8s.autoscaling.v2.HPAScalingPolicyArgs:
        return k8s.autoscaling.v2.HPAScalingPolicyArgs(
            type=self.type, value=self.value, period_seconds=self.period_seconds
        )


@dataclass(frozen=True, kw_only=True)
class ScalingRules:
    """How fast one direction may go: a stabilisation window and rate-limiting policies."""

    stabilization_window_seconds: int
    """Recommendations over this window are considered (the highest when scaling down); 0-3600 s."""
    policies: tuple[ScalingPolicy, ...]
    """Rate limits; which one applies is chosen by ``select_policy``."""
    select_policy: SelectPolicy = "Max"
    """``Max`` (default) allows the largest change any policy allows; ``Disabled`` stops this direction."""

    def __post_init__(self) -> None:
        if not 0 <= self.stabilization_window_seconds <= MAX_STABILIZATION_SECONDS:
            raise ValueError(
                f"stabilization_window_seconds={self.stabilization_window_seconds!r}: "
                f"must be 0 to {MAX_STABILIZATION_SECONDS}"
            )
        _validation.one_of("select_policy", self.select_policy, ("Max", "Min", "Disabled"))
        if not self.policies and self.select_policy != "Disabled":
            raise ValueError(
                "policies: at least one is required unless select_policy is 'Disabled'"
            )

    def to_k8s(self) -> k8s.autoscaling.v2.HPAScalingRulesArgs:
        return k8s.autoscaling.v2.HPAScalingRulesArgs(
            stabilization_window_seconds=self.stabilization_window_seconds,
            select_policy=self.select_policy,
            policies=[p.to_k8s() for p in self.policies] or None,
        )


#: Reference 004: react to load at once, the larger of doubling or +4 pods every 15 s.
FAST_SCALE_UP = ScalingRules(
    stabilization_window_seconds=0,
    policies=(
        ScalingPolicy(type="Percent", value=100, period_seconds=15),
        ScalingPolicy(type="Pods", value=4, period_seconds=15),
    ),
    select_policy="Max",
)
#: Reference 004: wait 5 minutes before shrinking, then at most 10 % a minute.
SLOW_SCALE_DOWN = ScalingRules(
    stabilization_window_seconds=300,
    policies=(ScalingPolicy(type="Percent", value=10, period_seconds=60),),
    select_policy="Max",
)


@dataclass(frozen=True, kw_only=True)
class Autoscaling:
    """The numbers of an autoscaler: bounds, utilisation targets and behaviour."""

    min_replicas: int
    """Floor of the pod count; required (it is the environment's availability floor)."""
    max_replicas: int
    """Ceiling of the pod count; required (it is the environment's cost ceiling)."""
    cpu_utilization: int | None = 70
    """Target average CPU, percent of the pods' CPU *request*; default 70 (reference 001). ``None``: not a metric."""
    memory_utilization: int | None = 80
    """Target average memory, percent of the memory *request*; default 80 (reference 001). ``None``: not a metric."""
    scale_up: ScalingRules = FAST_SCALE_UP
    """Default :data:`FAST_SCALE_UP` (no stabilisation; max of +100 % / +4 pods per 15 s)."""
    scale_down: ScalingRules = SLOW_SCALE_DOWN
    """Default :data:`SLOW_SCALE_DOWN` (300 s stabilisation; -10 % per 60 s)."""

    def __post_init__(self) -> None:
        for name in ("min_replicas", "max_replicas"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r}: must be a whole number of at least 1")
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas={self.min_replicas} exceeds max_replicas={self.max_replicas}; "
                "the autoscaler needs min_replicas <= max_replicas"
            )
        for name in ("cpu_utilization", "memory_utilization"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not 1 <= value <= 100):
                raise ValueError(f"{name}={value!r}: must be a percentage from 1 to 100, or None")
        if self.cpu_utilization is None and self.memory_utilization is None:
            raise ValueError(
                "cpu_utilization and memory_utilization are both None: an autoscaler needs a metric"
            )

    @property
    def metrics(self) -> dict[str, int]:
        """Resource name -> target utilisation, for the metrics in use."""
        found = {"cpu": self.cpu_utilization, "memory": self.memory_utilization}
        return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True, kw_only=True)
class AutoscalerArgs:
    app: str
    """The app's name, for labels; the HPA is named after it unless ``hpa_name`` is set."""
    namespace: pulumi.Input[str]
    """Namespace of the HPA and its target."""
    target: ScaleTarget
    """What to scale; e.g. ``ScaleTarget.deployment(workload.deployment_name)``."""
    requests: Mapping[str, str]
    """The target's per-pod resource requests (``{"cpu": "250m", "memory": "256Mi"}``).

    Utilisation is a percentage of the request: without a request for a metric
    the HPA reports ``missing request`` and never scales, so each metric in use
    must have one here.
    """
    autoscaling: Autoscaling
    """Bounds, targets and behaviour."""
    hpa_name: str | None = None
    """The HPA's name in the cluster; default the app's name."""

    def __post_init__(self) -> None:
        _validation.dns_label("app", self.app)
        _validation.dns_label("hpa_name", self.hpa_name or self.app)
        parsers = {"cpu": parse_cpu, "memory": parse_memory}
        for metric in self.autoscaling.metrics:
            request = self.requests.get(metric)
            if request is None:
                raise ValueError(
                    f"requests: no {metric} request, but {metric}_utilization is set; "
                    f"utilisation is a percentage of the request, so set a {metric} request "
                    f"on the target or set {metric}_utilization=None"
                )
            try:
                parsers[metric](request)
            except ValueError as exc:
                raise ValueError(f"requests[{metric!r}]: {exc}") from None


class Autoscaler(pulumi.ComponentResource):
    """An ``autoscaling/v2`` HorizontalPodAutoscaler on resource utilisation, with behaviour."""

    hpa_name: pulumi.Output[str]
    """The HPA's name (alerts on "HPA at its maximum" select on it)."""

    def __init__(
        self, name: str, args: AutoscalerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:autoscaling:Autoscaler", name, None, opts)
        scaling = args.autoscaling
        metrics = [
            k8s.autoscaling.v2.MetricSpecArgs(
                type="Resource",
                resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                    name=metric,
                    target=k8s.autoscaling.v2.MetricTargetArgs(
                        type="Utilization", average_utilization=target
                    ),
                ),
            )
            for metric, target in scaling.metrics.items()
        ]
        hpa = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.hpa_name or args.app,
                namespace=args.namespace,
                labels=app_labels(args.app),
            ),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version=args.target.api_version,
                    kind=args.target.kind,
                    name=args.target.name,
                ),
                min_replicas=scaling.min_replicas,
                max_replicas=scaling.max_replicas,
                metrics=metrics,
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_up=scaling.scale_up.to_k8s(),
                    scale_down=scaling.scale_down.to_k8s(),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.hpa_name = hpa.metadata.name
        self.register_outputs({"hpa_name": self.hpa_name})

"""A HorizontalPodAutoscaler (``autoscaling/v2``) with explicit scale-up and scale-down behaviour.

References 001 and 004 settle on 3-10 replicas at 70 % CPU and 80 % memory
utilisation; 004 adds the behaviour used here as the default: scale up fast
(no stabilisation, the larger of +100 % or +4 pods every 15 s) and scale down
slowly (5 minutes of stabilisation, at most 10 % every 60 s), so a traffic
spike is met at once and a dip does not throw away warm pods.

The target is a reference (``apiVersion``, ``kind``, ``name``), not a
Deployment object, so the same component scales a Deployment, an Argo
``Rollout`` or one colour of a blue-green pair. Whatever it targets must not
keep setting ``spec.replicas`` itself: under server-side apply the two owners
of that field fight, and every ``pulumi up`` would reset the autoscaler's
choice. A Deployment of ours is created with the floor and then hands the
field over (:data:`webplatform.workloads.workload.ReplicasOwner`), so ``up``
returns with the floor ready instead of one pod the HPA raises a sync later.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from webplatform._labels import app_labels
from webplatform._model import Args, Input, Items, at
from webplatform._types import Cpu, Memory, ServiceName

PolicyType = Literal["Pods", "Percent"]
SelectPolicy = Literal["Max", "Min", "Disabled"]
#: The API server's bounds (``HPAScalingRules`` validation).
MAX_PERIOD_SECONDS = 1800
MAX_STABILIZATION_SECONDS = 3600


class ScaleTarget(Args):
    """What the autoscaler scales, by reference: anything with a ``scale`` subresource."""

    api_version: Annotated[str, Field(min_length=1)]
    """e.g. ``apps/v1`` or ``argoproj.io/v1alpha1``; required."""
    kind: Annotated[str, Field(min_length=1)]
    """e.g. ``Deployment`` or ``Rollout``; required."""
    name: Input[str]
    """The object's name in the autoscaler's namespace (a ``Workload.deployment_name``)."""

    @classmethod
    def deployment(cls, name: pulumi.Input[str]) -> ScaleTarget:
        return cls(api_version="apps/v1", kind="Deployment", name=name)

    @classmethod
    def rollout(cls, name: pulumi.Input[str]) -> ScaleTarget:
        """An Argo Rollouts ``Rollout`` (it implements the scale subresource)."""
        return cls(api_version="argoproj.io/v1alpha1", kind="Rollout", name=name)


class ScalingPolicy(Args):
    """At most ``value`` pods (``Pods``) or percent of the current count (``Percent``) per period."""

    type: PolicyType
    """``Pods`` or ``Percent``; required."""
    value: Annotated[int, Field(ge=1)]
    """Pods or percent per period; at least 1."""
    period_seconds: Annotated[int, Field(ge=1, le=MAX_PERIOD_SECONDS)]
    """Window the limit applies to, 1 to 1800 s (the API server's bound)."""

    def to_k8s(self) -> k8s.autoscaling.v2.HPAScalingPolicyArgs:
        return k8s.autoscaling.v2.HPAScalingPolicyArgs(
            type=self.type, value=self.value, period_seconds=self.period_seconds
        )


class ScalingRules(Args):
    """How fast one direction may go: a stabilisation window and rate-limiting policies."""

    stabilization_window_seconds: Annotated[int, Field(ge=0, le=MAX_STABILIZATION_SECONDS)]
    """Recommendations over this window are considered (the highest when scaling down); 0-3600 s."""
    policies: Items[ScalingPolicy] = ()
    """Rate limits; which one applies is chosen by ``selectPolicy``; default none (then
    ``selectPolicy`` must be ``Disabled``)."""
    select_policy: SelectPolicy = "Max"
    """``Max`` (default) allows the largest change any policy allows; ``Disabled`` stops this direction."""

    @model_validator(mode="after")
    def _has_policy(self) -> ScalingRules:
        if not self.policies and self.select_policy != "Disabled":
            raise at(
                "policies",
                message="at least one is required unless selectPolicy is 'Disabled'",
            )
        return self

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

Utilization = Annotated[int, Field(ge=1, le=100)]


class Autoscaling(Args):
    """The numbers of an autoscaler: ceiling, utilisation targets and behaviour.

    The floor is not here: it is the workload's replica count (``AutoscalerArgs.min_replicas``;
    in a WebApp, its ``replicas``), so one number says how few pods an app runs.
    """

    max_replicas: Annotated[int, Field(ge=1, le=1000)]
    """Ceiling of the pod count; required (it is the environment's cost ceiling)."""
    cpu_utilization: Utilization | None = 70
    """Target average CPU, percent of the pods' CPU *request*; default 70 (reference 001). ``null``: not a metric."""
    memory_utilization: Utilization | None = 80
    """Target average memory, percent of the memory *request*; default 80 (reference 001). ``null``: not a metric."""
    scale_up: ScalingRules = FAST_SCALE_UP
    """Default: no stabilisation, the larger of +100 % / +4 pods per 15 s (reference 004)."""
    scale_down: ScalingRules = SLOW_SCALE_DOWN
    """Default: 300 s stabilisation, then -10 % per 60 s (reference 004)."""

    @model_validator(mode="after")
    def _has_metric(self) -> Autoscaling:
        if self.cpu_utilization is None and self.memory_utilization is None:
            raise at(
                "cpu_utilization",
                message="cpuUtilization and memoryUtilization are both null: an autoscaler "
                "needs a metric",
            )
        return self

    @property
    def metrics(self) -> dict[str, int]:
        """Resource name -> target utilisation, for the metrics in use."""
        found = {"cpu": self.cpu_utilization, "memory": self.memory_utilization}
        return {k: v for k, v in found.items() if v is not None}


class Requests(Args):
    """The target's per-pod resource requests: what utilisation is a percentage of."""

    cpu: Cpu | None = None
    """CPU request; required when ``cpuUtilization`` is set."""
    memory: Memory | None = None
    """Memory request; required when ``memoryUtilization`` is set."""


class AutoscalerArgs(Args):
    """One HorizontalPodAutoscaler: target, floor, and the numbers of :class:`Autoscaling`."""

    app: ServiceName
    """The app's name, for labels; the HPA is named after it unless ``hpa_name`` is set."""
    namespace: Input[str]
    """Namespace of the HPA and its target."""
    target: ScaleTarget
    """What to scale; e.g. ``ScaleTarget.deployment(workload.deployment_name)``."""
    requests: Requests
    """The target's per-pod requests. Without a request for a metric the HPA reports
    ``missing request`` and never scales, so each metric in use must have one here."""
    min_replicas: Annotated[int, Field(ge=1, le=1000)]
    """Floor of the pod count; required (it is the environment's availability floor)."""
    autoscaling: Autoscaling
    """Ceiling, targets and behaviour."""
    hpa_name: ServiceName | None = None
    """The HPA's name in the cluster; default the app's name."""

    @model_validator(mode="after")
    def _consistent(self) -> AutoscalerArgs:
        if self.min_replicas > self.autoscaling.max_replicas:
            raise at(
                "autoscaling",
                "max_replicas",
                message="is below minReplicas; the autoscaler needs minReplicas <= maxReplicas",
            )
        for metric in self.autoscaling.metrics:
            if getattr(self.requests, metric) is None:
                raise at(
                    "requests",
                    metric,
                    message=f"required: {metric}Utilization is a percentage of the {metric} "
                    f"request; set one on the target or set {metric}Utilization to null",
                )
        return self


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
                min_replicas=args.min_replicas,
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

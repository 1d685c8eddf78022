"""A PodDisruptionBudget that keeps an app up during node drains without ever blocking them.

Reference 004 sets ``minAvailable: 2``. A budget is only safe when it leaves
room for at least one eviction: ``minAvailable`` equal to (or above) the
replica count, or ``maxUnavailable: 0``, makes every voluntary eviction fail,
so node drains and cluster upgrades hang until someone deletes the budget by
hand. This component rejects such budgets against the *smallest* number of
pods the workload runs (its replicas, or the autoscaler's ``min_replicas``).

``unhealthyPodEvictionPolicy`` defaults to ``AlwaysAllow``: a pod that is
not ready protects no traffic, and the older ``IfHealthyBudget`` behaviour
lets a crash-looping pod block a drain forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, model_validator

from webplatform._labels import app_labels
from webplatform._model import Args, Input, at
from webplatform._types import IntOrPercent, ServiceName, Wired, percent, pods_of

EvictionPolicy = Literal["AlwaysAllow", "IfHealthyBudget"]


class DisruptionPolicy(Args):
    """How many pods must stay (``min_available``) or may go (``max_unavailable``); set one."""

    min_available: IntOrPercent | None = None
    """Pods (or ``"N%"``, rounded up) that must stay available; default ``-`` (use
    ``maxUnavailable``). Must stay below the fewest pods the workload runs."""
    max_unavailable: IntOrPercent | None = None
    """Pods (or ``"N%"``, rounded up) that may be evicted at once; default 1 when neither is
    set. Never 0: that blocks every drain."""

    @model_validator(mode="after")
    def _one_and_not_blocking(self) -> DisruptionPolicy:
        if self.min_available is not None and self.max_unavailable is not None:
            raise at(
                "max_unavailable",
                message="set minAvailable or maxUnavailable, not both (the API server rejects both)",
            )
        for name in ("min_available", "max_unavailable"):
            value = getattr(self, name)
            if value is not None and percent(value)[1] and percent(value)[0] > 100:
                raise at(name, message="a percentage must be at most 100%")
        if self.max_unavailable is not None and percent(self.max_unavailable)[0] == 0:
            raise at(
                "max_unavailable",
                message="0 blocks every voluntary eviction, so node drains would hang; use at least 1",
            )
        return self

    def evictable(self, pods: int) -> int:
        """Pods the budget lets a drain evict at once out of ``pods`` healthy ones."""
        if self.min_available is not None:
            return max(0, pods - pods_of(self.min_available, pods))
        return pods_of(1 if self.max_unavailable is None else self.max_unavailable, pods)

    def check_leaves_room(self, replicas: int | None, field: str = "replicas") -> None:
        """Raise :func:`at` on ``min_available`` unless at least one pod of ``replicas`` (the
        fewest the workload runs) can be evicted."""
        if self.min_available is None:
            return
        if replicas is None:
            raise at(
                "min_available",
                message=f"needs {field} (the fewest pods the workload runs) to check that it "
                "leaves room for an eviction",
            )
        required = pods_of(self.min_available, replicas)
        if required >= replicas:
            raise at(
                "min_available",
                message=f"would keep all {replicas} pod(s) ({field}) and block every voluntary "
                f"eviction (node drains would hang); use a minAvailable below {replicas}, "
                "or maxUnavailable: 1",
            )


class DisruptionBudgetArgs(Args):
    """One PodDisruptionBudget over an app's pods."""

    app: ServiceName
    """The app's name, for labels; the budget is named after it unless ``budget_name`` is set."""
    namespace: Input[str]
    """Namespace of the budget and the pods."""
    selector: Mapping[str, Wired[str]] = Field(min_length=1)
    """Labels of the pods it protects (a Workload's ``selector``); not empty (it would match
    every pod of the namespace)."""
    policy: DisruptionPolicy = DisruptionPolicy()
    """Default ``maxUnavailable: 1``: one pod at a time, which never blocks a drain."""
    replicas: Annotated[int, Field(ge=1)] | None = None
    """Fewest pods the workload runs (replicas, or the HPA's floor); required with ``minAvailable``."""
    unhealthy_pod_eviction_policy: EvictionPolicy = "AlwaysAllow"
    """Default ``AlwaysAllow``: pods that are not ready may always be evicted."""
    budget_name: ServiceName | None = None
    """The budget's name in the cluster; default the app's name."""

    @model_validator(mode="after")
    def _leaves_room(self) -> DisruptionBudgetArgs:
        try:
            self.policy.check_leaves_room(self.replicas)
        except ValueError as exc:
            raise at("policy", *getattr(exc, "loc", ()), message=str(exc)) from None
        return self


class DisruptionBudget(pulumi.ComponentResource):
    """A ``policy/v1`` PodDisruptionBudget that always leaves room for one eviction."""

    budget_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: DisruptionBudgetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:disruption:DisruptionBudget", name, None, opts)
        policy = args.policy
        max_unavailable = policy.max_unavailable
        if policy.min_available is None and max_unavailable is None:
            max_unavailable = 1
        pdb = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.budget_name or args.app,
                namespace=args.namespace,
                labels=app_labels(args.app),
            ),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(args.selector)),
                min_available=policy.min_available,
                max_unavailable=max_unavailable,
                unhealthy_pod_eviction_policy=args.unhealthy_pod_eviction_policy,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.budget_name = pdb.metadata.name
        self.register_outputs({"budget_name": self.budget_name})

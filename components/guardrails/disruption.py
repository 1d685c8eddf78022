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

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from webplatform import _validation
from webplatform._labels import app_labels

_PERCENT = re.compile(r"^(\d{1,3})%$")
EvictionPolicy = Literal["AlwaysAllow", "IfHealthyBudget"]


def _amount(field: str, value: int | str) -> tuple[int, bool]:
    """(number, is_percent) of an int-or-percent budget value."""
    if isinstance(value, bool):
        raise ValueError(f"{field}={value!r}: must be a whole number or a percentage like '50%'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{field}={value!r}: must not be negative")
        return value, False
    match = _PERCENT.match(value) if isinstance(value, str) else None
    if not match or int(match[1]) > 100:
        raise ValueError(f"{field}={value!r}: must be a whole number or a percentage like '50%'")
    return int(match[1]), True


@dataclass(frozen=True, kw_only=True)
class DisruptionPolicy:
    """How many pods must stay (``min_available``) or may go (``max_unavailable``); set one."""

    min_available: int | str | None = None
    """Pods (or percent, rounded up) that must stay available; default ``-`` (use ``max_unavailable``)."""
    max_unavailable: int | str | None = None
    """Pods (or percent, rounded up) that may be evicted at once; default 1 when neither is set."""

    def __post_init__(self) -> None:
        if self.min_available is not None and self.max_unavailable is not None:
            raise ValueError(
                f"min_available={self.min_available!r} and max_unavailable={self.max_unavailable!r}: "
                "set one of them, not both (the API server rejects both)"
            )
        if self.min_available is not None:
            _amount("min_available", self.min_available)
        if self.max_unavailable is not None:
            number, _ = _amount("max_unavailable", self.max_unavailable)
            if number == 0:
                raise ValueError(
                    f"max_unavailable={self.max_unavailable!r}: 0 blocks every voluntary "
                    "eviction, so node drains would hang; use at least 1"
                )

    def check_leaves_room(self, replicas: int | None, field: str = "replicas") -> None:
        """Raise unless at least one pod of ``replicas`` (the fewest the workload runs) can be evicted."""
        if self.min_available is None:
            return
        number, percent = _amount("min_available", self.min_available)
        if replicas is None:
            raise ValueError(
                f"min_available={self.min_available!r} needs {field} (the fewest pods the "
                "workload runs, e.g. the autoscaler's min_replicas) to check that it leaves "
                "room for an eviction"
            )
        required = math.ceil(replicas * number / 100) if percent else number
        if required >= replicas:
            raise ValueError(
                f"min_available={self.min_available!r} with {field}={replicas}: the budget "
                f"would keep all {replicas} pod(s) and block every voluntary eviction "
                f"(node drains would hang); use a min_available below {replicas}, "
                "or max_unavailable=1"
            )


@dataclass(frozen=True, kw_only=True)
class DisruptionBudgetArgs:
    app: str
    """The app's name, for labels; the budget is named after it unless ``budget_name`` is set."""
    namespace: pulumi.Input[str]
    selector: Mapping[str, pulumi.Input[str]]
    """Labels of the pods it protects (a Workload's ``selector``)."""
    policy: DisruptionPolicy = DisruptionPolicy()
    """Default ``max_unavailable: 1``: one pod at a time, which never blocks a drain."""
    replicas: int | None = None
    """Fewest pods the workload runs (replicas, or the HPA's ``min_replicas``); required with ``min_available``."""
    unhealthy_pod_eviction_policy: EvictionPolicy = "AlwaysAllow"
    """Default ``AlwaysAllow``: pods that are not ready may always be evicted."""
    budget_name: str | None = None
    """The budget's name in the cluster; default the app's name."""

    def __post_init__(self) -> None:
        _validation.dns_label("app", self.app)
        _validation.dns_label("budget_name", self.budget_name or self.app)
        if not self.selector:
            raise ValueError("selector: must not be empty; an empty selector matches every pod")
        _validation.one_of(
            "unhealthy_pod_eviction_policy",
            self.unhealthy_pod_eviction_policy,
            ("AlwaysAllow", "IfHealthyBudget"),
        )
        if self.replicas is not None and (isinstance(self.replicas, bool) or self.replicas < 1):
            raise ValueError(f"replicas={self.replicas!r}: must be at least 1")
        self.policy.check_leaves_room(self.replicas)


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

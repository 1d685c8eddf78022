"""Blue-green releases switched and rolled back by ``pulumi up``.

Two Deployments, ``blue`` and ``green``, run side by side, each with its own
image. The *active* Service (the app's stable DNS name) selects the active
colour; the *preview* Service selects the other, so a release can be tested
at the preview address before it takes traffic.

References 003 and 004 switch with ``kubectl patch service``, which the state
never sees (the next ``pulumi up`` silently switches back) and which moves
traffic without checking the target is ready. Here the active colour is stack
configuration, and the switch is an in-place update of the Services' selectors, ordered by
the dependency graph:

1. the active colour's Deployment is created/updated first, and the Kubernetes provider
   waits until its rollout is available (every replica ready);
2. only then is the active Service updated (it ``depends_on`` that Deployment);
3. only then is the idle colour's Deployment touched (it ``depends_on`` the active Service),
   so scaling the old colour down can never precede the switch;
4. the preview Service moves after the switch too, at the same time as step 3 (independent
   updates run in parallel: nothing waits on the preview address).

**The readiness gate.** What stops a switch to a colour that is not ready is step 1: the
provider's Deployment wait, which reads the *live* Deployment (its ``Available`` condition
and the ready replicas of its current ReplicaSet) and fails the update, before step 2 runs,
when the colour is not ready within the wait (``customTimeouts``, ``awaitTimeoutSeconds`` in
the stack file; the provider's 10 minutes otherwise). That wait only runs when the
Deployment is updated, so every Deployment carries its role as an annotation,
``webplatform.io/role: active|preview`` (on the Deployment, not the pod template: changing
it restarts nothing). A flip changes the role of both colours, so the colour about to take
traffic is always updated, and therefore always waited for, in the same ``pulumi up``,
whether its image changed too or not (its pods deleted and unschedulable, say). This holds
without ``--refresh``: the change of the annotation is in the diff against the state file,
and the wait itself reads the cluster, never the state. (The project's ``refresh: always``
adds drift detection, not the gate.) A failed gate leaves the Deployment with the
provider's initialization error, and the engine retries such a resource on the next ``up``,
so re-running it without changes waits again instead of moving the selector.

The Services themselves are not waited on (``pulumi.com/skipAwait``, see
:mod:`webplatform.workloads.service`): the provider's Service wait runs after the selector
moved and adds a fixed 10 s per Service without protecting anything.

What the gate costs on a rollback away from a broken colour: the outgoing colour's role
changes too, so the provider also waits for *it* after the switch; if it is not ready the
switch is already done (traffic is on the target), and ``pulumi up`` reports that
Deployment's wait as failed when the wait times out. Interrupting it then is safe.

What the design guarantees on a flip of ``active_color`` with unchanged images: the
Services' selectors and the Deployments' role annotations change and nothing else does (no
pod template changes, so no pod restarts; no replacement; no URN change). Capacity: the
active colour may never run fewer replicas than the app's ``replicas`` (the idle colour may
be scaled down to 0 to save money, at the price of a slower rollback), so the colour about
to take traffic carries the full load as soon as the switch happens. With an autoscaler,
each colour is created with the autoscaler's floor and the count is the autoscaler's after
that (:data:`webplatform.workloads.workload.ReplicasOwner`).

**At 0.** An idle colour set to ``replicas: 0`` has no Deployment at all (it is deleted at
the end of that ``up``, after the switch), rather than a Deployment at ``spec.replicas: 0``.
With an autoscaler the count is the autoscaler's after creation (``ignoreChanges`` on
``spec.replicas``), and Pulumi fills an ignored field from the *previous* inputs: a colour
brought back from a Deployment at 0 kept 0 pods, which an HPA never scales, so a one-``up``
rollback moved traffic to a colour with no pod (found by rollback drill (b)). Brought back
from nothing, the colour's Deployment is *created*, with the floor, and the provider waits
for it before the switch as in step 1 above: the rollback is one ``up``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pulumi
from pydantic import Field, model_validator

from webplatform._labels import selector_labels
from webplatform._model import Args, at
from webplatform._types import Image, Port
from webplatform.workloads.service import Service, ServiceArgs
from webplatform.workloads.workload import Workload, WorkloadArgs, service_account

Color = Literal["blue", "green"]
COLORS: tuple[Color, Color] = ("blue", "green")
COLOR_LABEL = "webplatform.io/color"
#: On each colour's Deployment: ``active`` or ``preview``. It changes on every flip, which is
#: what makes the provider wait for the target colour's readiness (see the module docstring).
ROLE_ANNOTATION = "webplatform.io/role"


def other(color: Color) -> Color:
    return "green" if color == "blue" else "blue"


class ColorSpec(Args):
    """One colour: its image and, optionally, its own replica count."""

    image: Image
    """Image this colour runs, with a tag or digest; required."""
    replicas: Annotated[int, Field(ge=0, le=1000)] | None = None
    """Default ``-``: the app's replica count (keeps the idle colour warm for instant rollback).
    0 scales an idle colour down; the active colour never runs fewer than the app's count."""


class BlueGreenRelease(Args):
    """The release state of a blue-green app: which colour runs what, and which is live."""

    active_color: Color
    """``blue`` or ``green``: the colour the active Service sends traffic to; required. The
    switch (and the rollback) is a change of this value and ``pulumi up``."""
    blue: ColorSpec
    """The blue colour's image and replicas."""
    green: ColorSpec
    """The green colour's image and replicas."""

    def color(self, color: Color) -> ColorSpec:
        return self.blue if color == "blue" else self.green

    def replicas(self, color: Color, app_replicas: int | None) -> int | None:
        spec = self.color(color)
        return app_replicas if spec.replicas is None else spec.replicas

    def check_capacity(self, app_replicas: int | None) -> None:
        """The active colour must carry the app's full replica count (the idle one may not).

        Raises :func:`at` on ``<activeColor>.replicas``, relative to this model.
        """
        active = self.color(self.active_color)
        floor = max(app_replicas or 1, 1)
        if active.replicas is not None and active.replicas < floor:
            raise at(
                self.active_color,
                "replicas",
                message=f"{self.active_color} is the active colour and receives traffic; it "
                f"needs at least the app's {floor} replica(s). Scale down only the idle colour.",
            )


class BlueGreenArgs(Args):
    """Two colours of one workload, an active and a preview Service."""

    workload: WorkloadArgs
    """Everything the two colours share (port, resources, probes, settings...). Its ``image``
    is ignored: each colour brings its own. Its ``replicas`` is the app's replica count
    (``None`` when autoscalers own it)."""
    release: BlueGreenRelease
    """Images per colour and the active colour."""
    service_port: Port = 80
    """Port of both Services; default 80."""

    @model_validator(mode="after")
    def _capacity_and_names(self) -> BlueGreenArgs:
        try:
            self.release.check_capacity(self.workload.replicas)
        except ValueError as exc:
            raise at("release", *getattr(exc, "loc", ()), message=str(exc)) from None
        if len(f"{self.workload.app}-preview") > 63:
            raise at(
                "workload",
                "app",
                message="too long for blue-green: the preview Service '<app>-preview' must "
                "be at most 63 characters, so the app name at most 55",
            )
        if self.workload.metrics_port == self.service_port:
            raise at("service_port", message="must differ from the workload's metricsPort")
        return self

    @staticmethod
    def object_names(app: str) -> dict[str, list[str]]:
        """The objects a blue-green pair of ``app`` creates, by kind."""
        return {
            "Deployment": [f"{app}-{c}" for c in COLORS],
            "Service": [app, f"{app}-preview"],
            "ServiceAccount": [app],
        }


class BlueGreenService(pulumi.ComponentResource):
    """Two colours of one app, an active and a preview Service; see the module docstring."""

    active_service_name: pulumi.Output[str]
    preview_service_name: pulumi.Output[str]
    workloads: dict[Color, Workload]
    """Each running colour's workload (autoscalers target ``workloads[c].deployment_name``);
    a colour at 0 replicas is absent."""

    def __init__(
        self, name: str, args: BlueGreenArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:bluegreen:BlueGreenService", name, None, opts)
        base = args.workload
        account = service_account(name, base, pulumi.ResourceOptions(parent=self))
        release = args.release
        active, idle = release.active_color, other(release.active_color)

        def colour(color: Color, depends_on: list[pulumi.Resource]) -> Workload | None:
            replicas = release.replicas(color, base.replicas)
            if replicas == 0:
                return None  # a colour at 0 has no Deployment (module docstring: "At 0")
            return Workload(
                f"{name}-{color}",
                base.model_copy(
                    update={
                        "image": release.color(color).image,
                        "replicas": replicas,
                        "deployment_name": f"{base.app}-{color}",
                        "extra_selector": {**base.extra_selector, COLOR_LABEL: color},
                        "service_account_name": account,
                        "annotations": {
                            **base.annotations,
                            ROLE_ANNOTATION: "active" if color == active else "preview",
                        },
                    }
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
            )

        def service(
            role: str, color: Color, service_name: str, after: list[pulumi.Resource]
        ) -> Service:
            return Service(
                f"{name}-{role}",
                ServiceArgs(
                    app=base.app,
                    namespace=base.namespace,
                    service_name=service_name,
                    selector={
                        **base.extra_selector,
                        **selector_labels(base.app),
                        COLOR_LABEL: color,
                    },
                    port=args.service_port,
                    metrics_port=base.metrics_port,
                    extra_labels={**base.extra_labels, "webplatform.io/role": role},
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=after),
            )

        live = colour(active, [])
        assert live is not None  # BlueGreenRelease.check_capacity: the active colour runs
        self.workloads = {active: live}
        active_service = service("active", active, base.app, after=[live.deployment])
        standby = colour(idle, [active_service.service])
        if standby is not None:
            self.workloads[idle] = standby
        # After the switch, beside the idle colour's update rather than after its wait: the
        # preview address gates no traffic, and on a flip it moves to the colour that was
        # live until now.
        preview = service("preview", idle, f"{base.app}-preview", after=[active_service.service])
        self.active_service_name = active_service.service_name
        self.preview_service_name = preview.service_name
        self.register_outputs(
            {
                "active_service_name": self.active_service_name,
                "preview_service_name": self.preview_service_name,
            }
        )

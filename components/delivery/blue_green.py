"""Blue-green releases switched and rolled back by ``pulumi up``.

Two Deployments, ``blue`` and ``green``, run side by side, each with its own
image. The *active* Service (the app's stable DNS name) selects the active
colour; the *preview* Service selects the other, so a release can be tested
at the preview address before it takes traffic.

References 003 and 004 switch with ``kubectl patch service``, which the state
never sees (the next ``pulumi up`` silently switches back) and which moves
traffic without checking the target is ready. Here the active colour is stack
configuration, and the switch is an in-place update of the Services'
selectors, ordered by the dependency graph:

1. the active colour's Deployment is created/updated first; the Kubernetes
   provider waits until its rollout is available (all replicas ready);
2. only then is the active Service updated (it ``depends_on`` that Deployment);
3. only then is the idle colour's Deployment touched (it ``depends_on`` the
   active Service), so scaling the old colour down can never precede the switch.

What the design guarantees on a flip of ``active_color`` with unchanged images:
the Services' selectors change and nothing else does (no pod template
changes, so no pod restarts; no replacement; no URN change). Capacity: the
active colour may never run fewer replicas than the app's ``replicas`` (the
idle colour may be scaled down to 0 to save money, at the price of a slower
rollback), so the colour about to take traffic carries the full load as soon
as the switch happens. Readiness is checked when a colour's Deployment is
created or updated; a flip to a colour that was not touched in the same run
relies on its last recorded readiness (run ``pulumi up --refresh`` to re-read).
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
    """Each colour's workload (autoscalers target ``workloads[c].deployment_name``)."""

    def __init__(
        self, name: str, args: BlueGreenArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:bluegreen:BlueGreenService", name, None, opts)
        base = args.workload
        account = service_account(name, base, pulumi.ResourceOptions(parent=self))
        release = args.release
        active, idle = release.active_color, other(release.active_color)

        def colour(color: Color, depends_on: list[pulumi.Resource]) -> Workload:
            return Workload(
                f"{name}-{color}",
                base.model_copy(
                    update={
                        "image": release.color(color).image,
                        "replicas": release.replicas(color, base.replicas),
                        "deployment_name": f"{base.app}-{color}",
                        "extra_selector": {**base.extra_selector, COLOR_LABEL: color},
                        "service_account_name": account,
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

        self.workloads = {}
        self.workloads[active] = colour(active, [])
        active_service = service(
            "active", active, base.app, after=[self.workloads[active].deployment]
        )
        self.workloads[idle] = colour(idle, [active_service.service])
        preview = service(
            "preview",
            idle,
            f"{base.app}-preview",
            after=[self.workloads[idle].deployment],
        )
        self.active_service_name = active_service.service_name
        self.preview_service_name = preview.service_name
        self.register_outputs(
            {
                "active_service_name": self.active_service_name,
                "preview_service_name": self.preview_service_name,
            }
        )

"""One web app: settings, workload and Service wired together with secure defaults.

This is what a team imports. The resource name is the app's name in the
cluster (a DNS label); everything else has a default except what only the
team can know: image, port, replicas and resources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Literal

import pulumi
from pydantic import Field, model_validator

from webplatform._labels import selector_labels
from webplatform._model import Args, Input, at
from webplatform._quantity import parse_cpu, parse_memory
from webplatform._types import DNS_1035, EnvName, Image, Labels, Port, Wired, pods_of
from webplatform.cluster.node_pool import Peak
from webplatform.delivery.blue_green import (
    COLOR_LABEL,
    COLORS,
    BlueGreenArgs,
    BlueGreenRelease,
    BlueGreenService,
)
from webplatform.delivery.rollout import ArgoRelease, ArgoRollout, RolloutArgs
from webplatform.edge.route import PublicRoute, PublicRouteArgs, RouteSettings
from webplatform.guardrails.autoscaling import (
    Autoscaler,
    AutoscalerArgs,
    Autoscaling,
    Requests,
    ScaleTarget,
)
from webplatform.guardrails.disruption import (
    DisruptionBudget,
    DisruptionBudgetArgs,
    DisruptionPolicy,
)
from webplatform.guardrails.monitoring import Alerting, Monitoring, MonitoringArgs
from webplatform.guardrails.network_policy import (
    AppNetworkPolicy,
    AppNetworkPolicyArgs,
    NetworkAccess,
)
from webplatform.workloads.service import Service, ServiceArgs
from webplatform.workloads.settings import AppSettings, AppSettingsArgs
from webplatform.workloads.workload import (
    LIVENESS,
    READINESS,
    HttpProbe,
    Resources,
    RollingUpdate,
    Workload,
    WorkloadArgs,
)

Strategy = Literal["rolling", "blueGreen", "argoBlueGreen", "argoCanary"]
_SERVICE_NAME = re.compile(DNS_1035)
#: Kinds whose names must be DNS-1035 labels (they become DNS names); the rest DNS-1123.
_DNS_1035_KINDS = frozenset({"Service"})


class WebAppSpec(Args):
    """The settings of one web app: everything a stack file says about it.

    :class:`WebAppArgs` adds what a program wires in (namespace, secrets, labels,
    the Gateway); the stack config composes this model as ``apps.<name>``.
    """

    image: Image | None = None
    """Container image with a tag or digest; required except with strategy ``blueGreen``,
    where each colour names its own."""
    port: Port
    """The container's HTTP port; required."""
    replicas: Annotated[int, Field(ge=1, le=1000)]
    """Pod count; required. With ``autoscaling`` it is the HPA's floor (``minReplicas``)
    and the workload has no ``spec.replicas`` (it would fight the HPA)."""
    resources: Resources
    """Requests and limits; required."""
    strategy: Strategy = "rolling"
    """How new versions go live; default ``rolling`` (one Deployment). ``blueGreen``: two
    colours switched by ``pulumi up``; ``argoBlueGreen``/``argoCanary``: an Argo Rollout
    (needs the Argo Rollouts controller)."""
    blue_green: BlueGreenRelease | None = None
    """With strategy ``blueGreen`` (required there): the colours and which is active."""
    argo: ArgoRelease | None = None
    """With strategy ``argoBlueGreen``/``argoCanary`` (required there): analysis and timings."""
    service_port: Port = 80
    """Port of the ClusterIP Service(s); default 80."""
    metrics_port: Port | None = None
    """Prometheus metrics port on the pods and the Service; default none."""
    env: dict[EnvName, str] = {}
    """Plain settings (ConfigMap); default none. Values are strings: quote numbers."""
    liveness: HttpProbe = LIVENESS
    """Default ``/health`` 30 s / 10 s."""
    readiness: HttpProbe = READINESS
    """Default ``/ready`` 5 s / 5 s."""
    rolling_update: RollingUpdate = RollingUpdate()
    """Default ``maxSurge: 1``, ``maxUnavailable: 0``."""
    autoscaling: Autoscaling | None = None
    """An HPA from ``replicas`` to ``autoscaling.maxReplicas``; default none."""
    disruption_budget: DisruptionPolicy | None = None
    """A PodDisruptionBudget; default none. Checked against ``replicas`` (the fewest pods).
    A blue-green app gets one budget per running colour (``<app>-blue``, ``<app>-green``),
    each checked against that colour's replicas: one budget over both colours would count
    the idle colour's pods as serving and let a drain evict every live pod."""
    network_policy: NetworkAccess | None = None
    """The app's NetworkPolicy allow-list; default none. Pair it with a namespace ``DefaultDeny``
    (the stack adds one when any app has a policy)."""
    route: RouteSettings | None = None
    """Publish the app through the stack's Gateway (HTTPS only, headers, rate limit); default none."""
    monitoring: Alerting | None = None
    """A PrometheusRule and, with ``metricsPort``, a ServiceMonitor; default none."""

    @model_validator(mode="after")
    def _strategy_options(self) -> WebAppSpec:
        """Each strategy takes its own options and no other's."""
        argo = self.strategy in ("argoBlueGreen", "argoCanary")
        if self.blue_green is not None and self.strategy != "blueGreen":
            raise at("blue_green", message=f"only with strategy blueGreen (not {self.strategy})")
        if self.argo is not None and not argo:
            raise at(
                "argo",
                message=f"only with strategy argoBlueGreen or argoCanary (not {self.strategy})",
            )
        if self.strategy == "blueGreen":
            if self.blue_green is None:
                raise at(
                    "blue_green",
                    message="required by strategy blueGreen: {activeColor, blue, green}",
                )
            if self.image is not None:
                raise at(
                    "image",
                    message="a blueGreen app names its images per colour "
                    "(blueGreen.blue.image, blueGreen.green.image); remove image",
                )
        elif self.image is None:
            raise at("image", message=f"required with strategy {self.strategy}")
        if argo and self.argo is None:
            raise at(
                "argo",
                message=f"required by strategy {self.strategy}: {{analysis: {{prometheusAddress}}}}",
            )
        return self

    @model_validator(mode="after")
    def _capacity(self) -> WebAppSpec:
        """Blue-green capacity, autoscaler bounds and the disruption budget's room."""
        if self.blue_green is not None:
            try:
                self.blue_green.check_capacity(self.replicas)
            except ValueError as exc:
                raise at("blue_green", *getattr(exc, "loc", ()), message=str(exc)) from None
            if self.autoscaling is not None:
                for color in COLORS:
                    if self.blue_green.color(color).replicas not in (None, 0):
                        raise at(
                            "blue_green",
                            color,
                            "replicas",
                            message="with autoscaling each colour has its own autoscaler "
                            "(from replicas to maxReplicas); a colour's replicas may only be 0 "
                            "(scaled down) or unset",
                        )
        if self.autoscaling is not None and self.replicas > self.autoscaling.max_replicas:
            raise at(
                "autoscaling",
                "max_replicas",
                message="is below replicas (the autoscaler's minReplicas); need "
                "replicas <= maxReplicas",
            )
        if self.disruption_budget is not None:
            try:
                self.disruption_budget.check_leaves_room(self.replicas)
            except ValueError as exc:
                raise at("disruption_budget", *getattr(exc, "loc", ()), message=str(exc)) from None
            if self.blue_green is not None and self.autoscaling is None:
                for running, replicas in self._budgeted_colors().items():
                    try:
                        self.disruption_budget.check_leaves_room(
                            replicas, field=f"blueGreen.{running}.replicas"
                        )
                    except ValueError as exc:
                        raise at(
                            "disruption_budget", *getattr(exc, "loc", ()), message=str(exc)
                        ) from None
        return self

    def _budgeted_colors(self) -> dict[str, int]:
        """Blue-green: each colour that runs pods -> its fewest pods (its own budget's base).

        A colour scaled to 0 gets no budget (nothing to protect). With an autoscaler each
        colour's floor is the app's ``replicas``.
        """
        assert self.blue_green is not None
        found: dict[str, int] = {}
        for color in COLORS:
            replicas = self.blue_green.replicas(color, self.replicas)
            if replicas:
                found[color] = self.replicas if self.autoscaling is not None else replicas
        return found

    def peak(self) -> Peak:
        """The most pods the app runs at once, and what they request: the node pool must hold
        them all (:meth:`webplatform.cluster.node_pool.NodePoolArgs.check_fits`).

        Blue-green counts both colours (an instant rollback keeps the idle one warm), Argo
        strategies twice (the new ReplicaSet scales up before the old one goes), a rolling
        update its surge; plus what the disruption budgets let a drain evict at once (their
        replacements are scheduled while the drained node still counts against the limits).
        Topology spread places pods and adds none.
        """
        most = self.autoscaling.max_replicas if self.autoscaling is not None else self.replicas
        what = f"{'maxReplicas' if self.autoscaling is not None else 'replicas'} {most}"
        sizes: dict[str, int]  # running colour ('' for a single workload) -> its most pods
        if self.blue_green is not None:
            sizes = {c: self.blue_green.replicas(c, most) or 0 for c in COLORS}
            pods, why = (
                sum(sizes.values()),
                f"blue {sizes['blue']} + green {sizes['green']}, {what}",
            )
        elif self.strategy.startswith("argo"):
            sizes, pods, why = {"": most}, 2 * most, f"2 x {what} during a rollout"
        else:
            surge = pods_of(self.rolling_update.max_surge, most)
            sizes, pods, why = {"": most}, most + surge, f"{what} + surge {surge}"
        budget = self.disruption_budget
        evicted = {c: budget.evictable(n) for c, n in sizes.items() if n} if budget else {}
        if sum(evicted.values()):
            pods += sum(evicted.values())
            if self.blue_green is None:
                why += f" + {evicted['']} evicted at once by a drain (disruptionBudget)"
            else:
                parts = " + ".join(f"{c} {n}" for c, n in evicted.items())
                why += f" + {parts} evicted at once by a drain (a disruptionBudget per colour)"
        requests = self.resources.requests
        cpu, memory = parse_cpu(requests.cpu), parse_memory(requests.memory)
        return Peak(
            pods, cpu * pods, memory * pods, f"{why}, each {requests.cpu}/{requests.memory}"
        )

    @model_validator(mode="after")
    def _ports(self) -> WebAppSpec:
        """The pod's ports differ, and so do the Service's (a duplicate is an API error)."""
        if self.metrics_port is not None:
            if self.metrics_port == self.port:
                raise at("metrics_port", message="must differ from port (two container ports)")
            if self.metrics_port == self.service_port:
                raise at(
                    "service_port",
                    message="must differ from metricsPort: the Service exposes both ports",
                )
        return self

    def workload_kind(self) -> str:
        return "Rollout" if self.strategy.startswith("argo") else "Deployment"

    def object_names(self, app: str) -> dict[str, list[str]]:
        """Every object this app creates in its namespace, by kind: ``{kind: [names]}``.

        The stack checks these for validity and for collisions across apps (a blue-green
        ``web`` makes ``web-preview``, which an app of that name would also make).
        """
        names: dict[str, list[str]] = {"ConfigMap": [f"{app}-config"]}
        if self._has_secrets():
            names["Secret"] = [f"{app}-secrets"]

        def add(found: dict[str, list[str]]) -> None:
            for kind, items in found.items():
                names.setdefault(kind, []).extend(items)

        if self.strategy == "blueGreen":
            add(BlueGreenArgs.object_names(app))
        elif self.strategy.startswith("argo"):
            add(RolloutArgs.object_names(app, _argo_strategy(self.strategy)))
        else:
            add({"Deployment": [app], "Service": [app], "ServiceAccount": [app]})
        if self.autoscaling is not None:
            add({"HorizontalPodAutoscaler": list(self._hpa_names(app))})
        if self.disruption_budget is not None:
            add({"PodDisruptionBudget": self._budget_names(app)})
        if self.network_policy is not None:
            add({"NetworkPolicy": [app]})
        if self.monitoring is not None:
            add({"PrometheusRule": [app]})
            if self.monitoring.dashboard:
                add({"ConfigMap": [f"{app}-grafana"]})
            if self.metrics_port is not None:
                add({"ServiceMonitor": [app]})
        if self.route is not None:
            add(PublicRouteArgs.object_names(app, self.route))
        return names

    def _budget_names(self, app: str) -> list[str]:
        """One budget per running colour of a blue-green app, else one named after the app."""
        if self.blue_green is None:
            return [app]
        return [f"{app}-{color}" for color in self._budgeted_colors()]

    def _has_secrets(self) -> bool:
        """Whether the app has secret settings (then a Secret ``<app>-secrets``); the models
        that hold them (``WebAppArgs``, the stack's app) say so."""
        return False

    def _hpa_names(self, app: str) -> tuple[str, ...]:
        """One HPA per running colour of a blue-green app, else one named after the app."""
        if self.blue_green is None:
            return (app,)
        return tuple(f"{app}-{c}" for c in COLORS if self.blue_green.color(c).replicas != 0)

    def check_names(self, app: str) -> None:
        """Raise unless ``app`` and every name derived from it is a valid object name.

        Services become DNS names: DNS-1035 labels (a letter first); all names at most 63
        characters (the label limit: pods of a Deployment carry its name in labels).
        """
        if not _SERVICE_NAME.match(app):
            raise ValueError(
                "app names must be DNS-1035 labels: lowercase letters, digits and '-', "
                "starting with a letter, ending with a letter or digit, at most 63 characters"
            )
        for kind, items in self.object_names(app).items():
            for item in items:
                if len(item) > 63 or (kind in _DNS_1035_KINDS and not _SERVICE_NAME.match(item)):
                    longest = max(
                        len(i) - len(app) for v in self.object_names(app).values() for i in v
                    )
                    raise ValueError(
                        f"too long: this app would create the {kind} '{item}' "
                        f"({len(item)} characters; at most 63); shorten the app name to at "
                        f"most {63 - longest} characters"
                    )


def _argo_strategy(strategy: Strategy) -> Literal["blueGreen", "canary"]:
    return "blueGreen" if strategy == "argoBlueGreen" else "canary"


class GatewayRef(Args):
    """Where the stack's Gateway is: the parent of every app's HTTPRoute."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
    """The Gateway's name (``Gateway.gateway_name``)."""
    namespace: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
    """The Gateway's namespace (``Gateway.namespace``)."""


class WebAppArgs(WebAppSpec):
    """A web app's settings (:class:`WebAppSpec`) plus what the program wires in."""

    namespace: Input[str]
    """Namespace to deploy into (a ``Namespace.name``); required."""
    secret_env: Mapping[EnvName, Wired[str]] = {}
    """Secret settings (Secret), e.g. ``Config.require_secret(...)``; default none."""
    external_secret_name: Wired[str] | None = None
    """A Secret written by someone else (External Secrets Operator) to read instead of
    ``secret_env``; default none. See ``AppSettingsArgs.external_secret_name``."""
    labels: Labels = {}
    """Extra labels on every object (e.g. the environment); default none."""
    gateway: GatewayRef | None = None
    """The stack's Gateway; required with ``route``."""

    def _has_secrets(self) -> bool:
        return bool(self.secret_env)

    @model_validator(mode="after")
    def _wiring(self) -> WebAppArgs:
        both = sorted(set(self.env) & set(self.secret_env))
        if both:
            raise at("secret_env", message=f"{both} are also in env; a setting belongs in one")
        if self.route is not None:
            if self.gateway is None:
                raise at("gateway", message="required with route: the HTTPRoute's parent")
            access = self.network_policy
            if access is not None and access.gateway_namespace != self.gateway.namespace:
                raise at(
                    "network_policy",
                    "gateway_namespace",
                    message=f"must be {self.gateway.namespace}, where the Gateway runs, or "
                    "the route's traffic is denied",
                )
        return self


class WebApp(pulumi.ComponentResource):
    """ConfigMap + Secret, and the workload as ``strategy`` says: a rolling Deployment and its
    Service, a blue-green pair, or an Argo Rollout; then the guardrails and the route."""

    service_name: pulumi.Output[str]
    """The Service that takes the app's traffic (its stable DNS name)."""
    preview_service_name: pulumi.Output[str] | None
    """Blue-green: the Service selecting the idle colour; Argo: preview/canary; else ``None``."""
    internal_url: pulumi.Output[str]
    """``http://<service>.<namespace>.svc.cluster.local[:port]``, for other workloads."""
    public_url: str | None
    """``https://<primary host><path>`` when the app has a route, else ``None``."""
    route_name: pulumi.Output[str] | None = None
    """The HTTPS HTTPRoute's name when the app has a route (a CDN's origin guard targets it)."""

    def __init__(
        self, name: str, args: WebAppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        args.check_names(name)
        super().__init__("webplatform:app:WebApp", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = dict(args.labels)

        settings = AppSettings(
            f"{name}-settings",
            AppSettingsArgs(
                app=name,
                namespace=args.namespace,
                plain=args.env,
                secret=args.secret_env,
                external_secret_name=args.external_secret_name,
            ),
            opts=child,
        )
        active = args.blue_green.color(args.blue_green.active_color) if args.blue_green else None
        template = WorkloadArgs(
            app=name,
            namespace=args.namespace,
            # A blue-green app's colours replace this placeholder with their own images.
            image=args.image or (active.image if active else ""),
            port=args.port,
            resources=args.resources,
            # With an autoscaler: created with its floor, then the count is the HPA's
            # (ReplicasOwner: ignoreChanges, so no apply fights it).
            replicas=args.replicas,
            replicas_owner="autoscaler" if args.autoscaling is not None else "workload",
            metrics_port=args.metrics_port,
            liveness=args.liveness,
            readiness=args.readiness,
            rolling_update=args.rolling_update,
            config_map_name=settings.config_map_name,
            secret_name=settings.secret_name,
            config_checksum=settings.checksum,
            extra_labels=labels,
        )
        canary_service: pulumi.Output[str] | None = None
        if args.blue_green is not None:
            pair = BlueGreenService(
                f"{name}-blue-green",
                BlueGreenArgs(
                    workload=template, release=args.blue_green, service_port=args.service_port
                ),
                opts=child,
            )
            self.service_name = pair.active_service_name
            self.preview_service_name: pulumi.Output[str] | None = pair.preview_service_name
            # Each colour that runs gets its own autoscaler with the same bounds, so the idle
            # colour is as large as the active one when the switch comes (capacity at the flip).
            release = args.blue_green
            targets = {
                f"{name}-{color}": ScaleTarget.deployment(workload.deployment_name)
                for color, workload in pair.workloads.items()
                if release.color(color).replicas != 0
            }
            deployments = tuple(f"{name}-{color}" for color in COLORS)
        elif args.argo is not None:
            strategy = _argo_strategy(args.strategy)
            rollout = ArgoRollout(
                f"{name}-rollout",
                RolloutArgs(
                    # The Rollout has no ignoreChanges hand-over: with an autoscaler it sets
                    # no replicas at all (the HPA scales it from its first sync).
                    workload=template.model_copy(
                        update={"replicas": None if args.autoscaling is not None else args.replicas}
                    ),
                    strategy=strategy,
                    release=args.argo,
                    service_port=args.service_port,
                    http_route=name if args.route is not None else None,
                ),
                opts=child,
            )
            self.service_name = rollout.service_name
            self.preview_service_name = rollout.preview_service_name
            if strategy == "canary":
                canary_service = rollout.preview_service_name
            # The Rollout owns the pods: the autoscaler scales it, never a Deployment.
            targets = {name: ScaleTarget.rollout(rollout.rollout_name)}
            deployments = ()
        else:
            workload = Workload(f"{name}-workload", template, opts=child)
            service = Service(
                f"{name}-service",
                ServiceArgs(
                    app=name,
                    namespace=args.namespace,
                    selector=workload.selector,
                    port=args.service_port,
                    metrics_port=args.metrics_port,
                    extra_labels=labels,
                ),
                opts=child,
            )
            self.service_name = service.service_name
            self.preview_service_name = None
            targets = {name: ScaleTarget.deployment(workload.deployment_name)}
            deployments = (name,)
        self._guardrails(name, args, targets, deployments)
        self.public_url = self._route(name, args, canary_service)
        suffix = "" if args.service_port == 80 else f":{args.service_port}"
        self.internal_url = pulumi.Output.format(
            "http://{0}.{1}.svc.cluster.local{2}", self.service_name, args.namespace, suffix
        )
        self.register_outputs(
            {
                "service_name": self.service_name,
                "preview_service_name": self.preview_service_name,
                "internal_url": self.internal_url,
                "public_url": self.public_url,
            }
        )

    def _guardrails(
        self,
        name: str,
        args: WebAppArgs,
        targets: dict[str, ScaleTarget],
        deployments: tuple[str, ...],
    ) -> None:
        """Autoscaler, disruption budget, network policy and monitoring, each when asked for.

        They select the app's pods by the app's selector labels only (no
        colour), so one budget and one policy cover every Deployment of the app.
        """
        child = pulumi.ResourceOptions(parent=self)
        pods = selector_labels(name)
        hpa_names: tuple[str, ...] = ()
        if args.autoscaling is not None:
            for hpa_name, target in targets.items():
                Autoscaler(
                    f"{name}-autoscaler" if hpa_name == name else f"{hpa_name}-autoscaler",
                    AutoscalerArgs(
                        app=name,
                        namespace=args.namespace,
                        target=target,
                        requests=Requests(
                            cpu=args.resources.requests.cpu,
                            memory=args.resources.requests.memory,
                        ),
                        min_replicas=args.replicas,
                        autoscaling=args.autoscaling,
                        hpa_name=hpa_name,
                    ),
                    opts=child,
                )
            hpa_names = tuple(sorted(targets))  # stable across a colour switch
        if args.disruption_budget is not None:
            self._budgets(name, args)
        if args.network_policy is not None:
            AppNetworkPolicy(
                f"{name}-network-policy",
                AppNetworkPolicyArgs(
                    app=name,
                    namespace=args.namespace,
                    pod_selector=pods,
                    port=args.port,
                    metrics_port=args.metrics_port,
                    access=args.network_policy,
                ),
                opts=child,
            )
        if args.monitoring is not None:
            Monitoring(
                f"{name}-monitoring",
                MonitoringArgs(
                    app=name,
                    namespace=args.namespace,
                    deployments=deployments,
                    hpa_names=hpa_names,
                    service_labels=pods,
                    metrics_port_name="metrics" if args.metrics_port is not None else None,
                    alerting=args.monitoring,
                    route_name=name if args.route is not None else None,
                ),
                opts=child,
            )

    def _budgets(self, name: str, args: WebAppArgs) -> None:
        """The app's PodDisruptionBudget(s); a blue-green app gets one per running colour.

        Per colour, not one over the active colour only: a flip then stays a change of the
        Services' selectors and nothing else (no budget moves with it), and the idle colour,
        the instant rollback, keeps its pods through drains too. One budget over both colours
        (the old shape) counted the idle colour's pods as serving, so the eviction API let a
        drain take every live pod while the idle ones stayed.
        """
        assert args.disruption_budget is not None
        pods = selector_labels(name)
        if args.blue_green is None:
            budgets = {name: (pods, args.replicas, f"{name}-disruption-budget")}
        else:
            budgets = {
                f"{name}-{color}": (
                    {**pods, COLOR_LABEL: color},
                    replicas,
                    f"{name}-{color}-disruption-budget",
                )
                for color, replicas in args._budgeted_colors().items()
            }
        for budget_name, (selector, replicas, resource_name) in budgets.items():
            DisruptionBudget(
                resource_name,
                DisruptionBudgetArgs(
                    app=name,
                    namespace=args.namespace,
                    selector=selector,
                    policy=args.disruption_budget,
                    replicas=replicas,
                    budget_name=budget_name,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

    def _route(
        self, name: str, args: WebAppArgs, canary_service: pulumi.Output[str] | None
    ) -> str | None:
        """The app's HTTPRoutes on the stack's Gateway, when it has a route."""
        if args.route is None:
            return None
        assert args.gateway is not None  # WebAppArgs guarantees it
        route = PublicRoute(
            f"{name}-route",
            PublicRouteArgs(
                app=name,
                namespace=args.namespace,
                service_name=self.service_name,
                service_port=args.service_port,
                canary_service_name=canary_service,
                gateway_name=args.gateway.name,
                gateway_namespace=args.gateway.namespace,
                route=args.route,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.route_name = route.route_name
        return route.url

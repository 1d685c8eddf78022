"""The stack model: every key under ``webplatform:``, and the rules about a stack.

Each area's settings are the components' models, composed in :mod:`infra.config.apps`,
``cluster``, ``secrets`` and ``edge``; what is here reads more than one area (routes and
their issuer, the CDN and the app it fronts, environment policies). Reading a stack file
and the rules about its secrets and derived names are :mod:`infra.config.loader`'s.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.config import cluster as _cluster
from infra.config import secrets as _secrets
from infra.config._base import _DNS_LABEL, AppName, Environment
from infra.config.apps import AppSpec
from infra.config.cluster import ClusterSpec, KubernetesSpec
from infra.config.edge import Cdn, NoCdn, route_hosts
from infra.config.review import ReviewSpec
from infra.config.secrets import SecretsSpec
from webplatform._model import Args, FieldError
from webplatform.edge import _checks as _edge
from webplatform.edge.proxy import ProxySettings


class StackConfig(Args):
    """Everything a stack file may say under ``webplatform:``."""

    environment: Environment = Field(description="Which rung of the ladder this stack is.")
    namespace: str = Field(pattern=_DNS_LABEL, description="Namespace the apps run in.")
    kubernetes: KubernetesSpec = Field(
        description="The Kubernetes minor, and how the provider reaches and waits on the cluster."
    )
    apps: dict[AppName, AppSpec] = Field(min_length=1, description="App name -> its spec.")
    cluster: ClusterSpec = Field(
        default_factory=ClusterSpec, description="An existing cluster, or an EKS cluster to create."
    )
    secrets: SecretsSpec = Field(
        default_factory=SecretsSpec,
        description="Where secretEnv values live and how pods get them.",
    )
    cdn: Cdn = Field(
        default_factory=lambda: NoCdn(provider="none"),
        description="The CDN in front of one app; default none.",
    )
    gateway: ProxySettings = Field(
        default_factory=ProxySettings,
        description="The Gateway's Envoy proxies on an EKS cluster (replicas, size); default 2.",
    )
    review: ReviewSpec | None = Field(
        default=None,
        description="How review stacks dev-pr-<N> are made from this file (Pulumi.dev.yaml only).",
    )

    @model_validator(mode="after")
    def _app_names(self) -> StackConfig:
        """App names and every name derived from them are valid object names."""
        for name, app in self.apps.items():
            try:
                app.check_names(name)
            except ValueError as exc:
                raise FieldError(("apps", name), str(exc)) from None
        return self

    @model_validator(mode="after")
    def _issuer_exists(self) -> StackConfig:
        """Routes share the stack's one Gateway, so one issuer; on a cluster this stack
        builds, it is the ClusterIssuer that cluster installs."""
        routes = [(n, a.route) for n, a in self.apps.items() if a.route is not None]
        owner: dict[str, str] = {}
        for name, route in routes:
            for index, host in enumerate(route.hosts):
                if owner.setdefault(host, name) != name:
                    raise FieldError(
                        ("apps", name, "route", "hosts", str(index)),
                        f"{host} is already a host of app {owner[host]}; a host routes to one "
                        "app (the Gateway has one HTTPS listener per host)",
                    )
        for name, route in routes[1:]:
            first, other = routes[0][1], route
            if (other.issuer, other.issuer_kind) != (first.issuer, first.issuer_kind):
                raise FieldError(
                    ("apps", name, "route", "issuer"),
                    f"must be the issuer of app {routes[0][0]}'s route ({first.issuer_kind} "
                    f"{first.issuer}): the stack's one Gateway has one certificate issuer",
                )
        if self.cluster.mode != "eks" or self.cluster.addons is None:
            return self
        installed = self.cluster.addons.cert_manager.issuer.name
        for name, route in routes:
            if route.issuer_kind != "Issuer" and route.issuer != installed:
                raise FieldError(
                    ("apps", name, "route", "issuer"),
                    f"this stack's cluster installs the ClusterIssuer {installed!r} "
                    "(cluster.addons.certManager.issuer); use that name, or issuerKind: "
                    "Issuer for a namespaced one",
                )
        return self

    @model_validator(mode="after")
    def _cdn_fronts_a_routed_app(self) -> StackConfig:
        """``cdn.app`` is an app of this stack with a route: the CDN's origin is derived from
        the route's hosts, so it always names what the route serves and its certificate covers."""
        cdn = self.cdn
        if isinstance(cdn, NoCdn):
            failover = cdn.failover_for
            if failover is not None and not route_hosts(self.apps, failover.app):
                raise FieldError(
                    ("cdn", "failoverFor", "app"),
                    f"{failover.app!r} is not an app of this stack with a public route; the "
                    f"failover origin is its route's primary host: use one of "
                    f"{sorted(n for n in self.apps if route_hosts(self.apps, n))}",
                )
            return self
        if cdn.app not in self.apps:
            raise FieldError(
                ("cdn", "app"),
                f"{cdn.app!r} is not an app of this stack; use one of {sorted(self.apps)}",
            )
        hosts = route_hosts(self.apps, cdn.app)
        if not hosts:
            raise FieldError(
                ("cdn", "app"),
                f"app {cdn.app!r} has no public route; the CDN's origin is its route's host: "
                f"set apps.{cdn.app}.route.hosts, or front another app",
            )
        if cdn.provider == "cloudflare":
            for name, app in self.apps.items():
                if name != cdn.app and app.route is not None:
                    raise FieldError(
                        ("apps", name, "route"),
                        f"on a stack whose edge is Cloudflare only cdn.app ({cdn.app}) may have "
                        "a route: the Gateway serves Cloudflare Origin CA certificates, which "
                        "only Cloudflare trusts, and the stack proxies cdn.app's hosts alone; "
                        "remove this route, or serve the app from another stack",
                    )
        origin = cdn.origin(hosts)
        problem = None if origin is None else _edge.origin_problem(origin, cdn.public_names(hosts))
        if problem is not None:
            key = type(cdn).model_fields.get(cdn.origin_key)
            raise FieldError(("cdn", (key.alias if key else None) or cdn.origin_key), problem)
        return self

    @model_validator(mode="after")
    def _proxy_replicas(self) -> StackConfig:
        """Production and UAT keep serving through a drain: at least two Envoy proxies."""
        if self.environment in ("production", "uat") and self.gateway.replicas < 2:
            raise FieldError(
                ("gateway", "replicas"),
                f"must be at least 2 in {self.environment} (one proxy pod is the whole data "
                "plane: a drain or a node's loss drops all traffic); allowed: 2 to 20",
            )
        return self

    @model_validator(mode="after")
    def _argo_controller(self) -> StackConfig:
        """An Argo strategy on a cluster this stack builds needs the controller installed."""
        argo = sorted(n for n, a in self.apps.items() if a.strategy.startswith("argo"))
        addons = self.cluster.addons
        if (
            argo
            and self.cluster.mode == "eks"
            and addons is not None
            and not addons.argo_rollouts.enabled
        ):
            raise FieldError(
                ("cluster", "addons", "argoRollouts", "enabled"),
                f"apps {argo} use an Argo Rollouts strategy; set enabled: true (and a chart version)",
            )
        return self

    @model_validator(mode="after")
    def _environment_rules(self) -> StackConfig:
        for name, app in self.apps.items():
            if self.environment == "production" and app.replicas < 2:
                raise FieldError(
                    ("apps", name, "replicas"),
                    f"production needs at least 2 replicas to survive a node loss (got {app.replicas})",
                )
            for path, image in app.images():
                if self.environment != "dev" and image.endswith(":latest"):
                    raise FieldError(
                        ("apps", name, *path),
                        f"{image!r}: ':latest' is only allowed in dev; pin a version",
                    )
        return self

    @model_validator(mode="after")
    def _guardrail_rules(self) -> StackConfig:
        isolated = sorted(n for n, a in self.apps.items() if a.network_policy is not None)
        for name, app in self.apps.items():
            here = ("apps", name)
            if isolated and app.network_policy is None:
                raise FieldError(
                    (*here, "networkPolicy"),
                    f"missing: apps {isolated} set networkPolicy, so namespace {self.namespace} "
                    "denies all traffic by default and this app would get none; "
                    "give it a networkPolicy (an empty map {} takes the defaults)",
                )
            if app.monitoring is not None and app.metrics_port is None:
                raise FieldError(
                    (*here, "metricsPort"),
                    "required by monitoring: the ServiceMonitor scrapes the metrics port",
                )
        return self

    @model_validator(mode="after")
    def _cluster_target(self) -> StackConfig:
        """With ``mode: eks`` the provider comes from the new cluster's kubeconfig: no other target."""
        if self.cluster.mode == "eks":
            for key in ("context", "render_yaml_to_directory"):
                if getattr(self.kubernetes, key) is not None:
                    alias = KubernetesSpec.model_fields[key].alias or key
                    raise FieldError(
                        ("kubernetes", alias),
                        "must not be set when cluster.mode is 'eks': the stack deploys to the "
                        "EKS cluster it creates, through that cluster's kubeconfig",
                    )
        return self

    @model_validator(mode="after")
    def _area_rules(self) -> StackConfig:
        """The cluster's and the secrets' rules that read the whole stack (their modules own them)."""
        _cluster.check(self)
        _secrets.check(self)
        return self


#: The keys under ``webplatform:`` the model reads; the others are secrets apps reference.
KEYS = [field.alias or name for name, field in StackConfig.model_fields.items()]


def stack_file(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"

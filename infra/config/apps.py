"""The apps of a stack: image, size, release strategy and guardrails per app."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from infra.config._base import (
    _CONFIG_KEY,
    _DNS_LABEL,
    _ENV_NAME,
    _at,
    _Model,
    _set_fields,
)
from webplatform import (
    Alerting,
    AnalysisArgs,
    ArgoRelease,
    Autoscaling,
    Backend,
    BlueGreenRelease,
    DisruptionPolicy,
    HttpProbe,
    IngressRoute,
    NetworkAccess,
    Resources,
    ScalingPolicy,
    ScalingRules,
)
from webplatform import ColorSpec as ComponentColorSpec
from webplatform._quantity import parse_cpu, parse_memory
from webplatform.delivery.rollout import DEFAULT_CANARY_WEIGHTS
from webplatform.workloads.workload import check_image


class Quantities(_Model):
    cpu: str = Field(description="CPU: cores ('0.5') or millicores ('250m').")
    memory: str = Field(description="Memory with a unit: '256Mi', '1Gi'.")

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str) -> str:
        parse_cpu(value)
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        parse_memory(value)
        return value


class ResourcesSpec(_Model):
    requests: Quantities = Field(description="What the scheduler reserves per pod.")
    limits: Quantities = Field(description="The ceiling per pod.")

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ResourcesSpec:
        self.to_args()
        return self

    def to_args(self) -> Resources:
        return Resources(
            cpu_request=self.requests.cpu,
            memory_request=self.requests.memory,
            cpu_limit=self.limits.cpu,
            memory_limit=self.limits.memory,
        )


class ProbeSpec(_Model):
    path: str = Field(description="HTTP path, starting with '/'.")
    initial_delay_seconds: int = Field(ge=0, le=600)
    period_seconds: int = Field(ge=1, le=300)
    timeout_seconds: int = Field(default=3, ge=1, le=60)
    failure_threshold: int = Field(default=3, ge=1, le=30)

    @model_validator(mode="after")
    def _valid(self) -> ProbeSpec:
        self.to_args()
        return self

    def to_args(self) -> HttpProbe:
        return HttpProbe(**self.model_dump())


class RollingUpdateSpec(_Model):
    max_surge: int | str = Field(default=1, description="Extra pods during a rollout.")
    max_unavailable: int | str = Field(default=0, description="Pods that may be down.")


Strategy = Literal["rolling", "blueGreen", "argoBlueGreen", "argoCanary"]


class ColorSpec(_Model):
    image: str = Field(description="Image this colour runs, with a tag or digest.")
    replicas: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Default: the app's replicas (warm, instant rollback). 0 scales the idle colour down.",
    )

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        check_image("image", value)
        return value


class BlueGreenSpec(_Model):
    active_color: Literal["blue", "green"] = Field(
        description="The colour that takes traffic; flip it and `pulumi up` to switch or roll back."
    )
    blue: ColorSpec
    green: ColorSpec

    def to_release(self) -> BlueGreenRelease:
        return BlueGreenRelease(
            active_color=self.active_color,
            blue=ComponentColorSpec(image=self.blue.image, replicas=self.blue.replicas),
            green=ComponentColorSpec(image=self.green.image, replicas=self.green.replicas),
        )


class AnalysisSpec(_Model):
    prometheus_address: str = Field(description="Prometheus URL the analysis queries.")
    success_rate: float = Field(default=0.95, gt=0, le=1)
    query: str | None = Field(
        default=None, description="PromQL; default: ingress-nginx success rate."
    )
    interval_seconds: int = Field(default=60, ge=1)
    count: int = Field(default=5, ge=1)
    failure_limit: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _valid(self) -> AnalysisSpec:
        self.to_args()
        return self

    def to_args(self) -> AnalysisArgs:
        values = self.model_dump(exclude_none=True)
        return AnalysisArgs(**values)


class ArgoSpec(_Model):
    analysis: AnalysisSpec
    scale_down_delay_seconds: int = Field(default=30, ge=0, description="Blue-green only.")
    canary_weights: list[int] = Field(
        default_factory=lambda: list(DEFAULT_CANARY_WEIGHTS), description="Canary only."
    )
    canary_pause_seconds: int = Field(default=300, ge=0, description="Canary only.")
    nginx_stable_ingress: str | None = Field(default=None, description="Canary only.")

    def to_release(self, strategy: Strategy) -> ArgoRelease:
        return ArgoRelease(
            strategy="blueGreen" if strategy == "argoBlueGreen" else "canary",
            analysis=self.analysis.to_args(),
            scale_down_delay_seconds=self.scale_down_delay_seconds,
            canary_weights=tuple(self.canary_weights),
            canary_pause_seconds=self.canary_pause_seconds,
            nginx_stable_ingress=self.nginx_stable_ingress,
        )


class ScalingPolicySpec(_Model):
    type: Literal["Pods", "Percent"] = Field(description="Limit by pods or by percent of pods.")
    value: int = Field(ge=1, description="Pods or percent per period.")
    period_seconds: int = Field(ge=1, le=1800, description="The period, seconds.")


class ScalingRulesSpec(_Model):
    stabilization_window_seconds: int = Field(ge=0, le=3600)
    policies: list[ScalingPolicySpec] = Field(default_factory=list)
    select_policy: Literal["Max", "Min", "Disabled"] | None = Field(
        default=None, description="Which policy wins; component default 'Max'."
    )

    @model_validator(mode="after")
    def _valid(self) -> ScalingRulesSpec:
        self.to_args()
        return self

    def to_args(self) -> ScalingRules:
        return ScalingRules(
            **_set_fields(self, "policies"),
            policies=tuple(ScalingPolicy(**p.model_dump()) for p in self.policies),
        )


class AutoscalingSpec(_Model):
    """An HPA. Its minReplicas is the app's ``replicas``: one number for the floor, not two."""

    max_replicas: int = Field(ge=1, le=1000, description="Ceiling of the pod count.")
    cpu_utilization: int | None = Field(
        default=None, ge=1, le=100, description="Target CPU, % of request; component default 70."
    )
    memory_utilization: int | None = Field(
        default=None, ge=1, le=100, description="Target memory, % of request; component default 80."
    )
    scale_up: ScalingRulesSpec | None = Field(
        default=None, description="Component default: 0 s window, max(+100 %, +4 pods) per 15 s."
    )
    scale_down: ScalingRulesSpec | None = Field(
        default=None, description="Component default: 300 s window, -10 % per 60 s."
    )

    def to_args(self, min_replicas: int) -> Autoscaling:
        found = _set_fields(self, "scale_up", "scale_down")
        if self.scale_up is not None:
            found["scale_up"] = self.scale_up.to_args()
        if self.scale_down is not None:
            found["scale_down"] = self.scale_down.to_args()
        return Autoscaling(min_replicas=min_replicas, **found)


class DisruptionBudgetSpec(_Model):
    min_available: int | str | None = Field(
        default=None, description="Pods (or 'N%') that must stay up; below the replica count."
    )
    max_unavailable: int | str | None = Field(
        default=None, description="Pods (or 'N%') that may go at once; component default 1."
    )

    @model_validator(mode="after")
    def _valid(self) -> DisruptionBudgetSpec:
        self.to_args()
        return self

    def to_args(self) -> DisruptionPolicy:
        return DisruptionPolicy(**_set_fields(self))


class BackendSpec(_Model):
    port: int = Field(ge=1, le=65535, description="The backend pods' port.")
    namespace: str | None = Field(default=None, pattern=_DNS_LABEL)
    pod_labels: dict[str, str] = Field(default_factory=dict)
    cidr: str | None = Field(default=None, description="An address range, instead of a namespace.")
    protocol: Literal["TCP", "UDP"] | None = None

    @model_validator(mode="after")
    def _valid(self) -> BackendSpec:
        self.to_args()
        return self

    def to_args(self) -> Backend:
        return Backend(**_set_fields(self))


class NetworkPolicySpec(_Model):
    """The app's allow-list; the namespace gets a default deny when any app has one."""

    ingress_controller_namespace: str | None = Field(
        default=None, pattern=_DNS_LABEL, description="Component default 'ingress-nginx'."
    )
    monitoring_namespace: str | None = Field(
        default=None, pattern=_DNS_LABEL, description="Component default 'monitoring'."
    )
    https_egress_cidrs: list[str] | None = Field(
        default=None, description="Ranges reachable on 443; component default anywhere."
    )
    backends: list[BackendSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> NetworkPolicySpec:
        self.to_args()
        return self

    def to_args(self) -> NetworkAccess:
        found = _set_fields(self, "backends", "https_egress_cidrs")
        if self.https_egress_cidrs is not None:
            found["https_egress_cidrs"] = tuple(self.https_egress_cidrs)
        return NetworkAccess(**found, backends=tuple(b.to_args() for b in self.backends))


class IngressSpec(_Model):
    host: str = Field(description="Public DNS name.")
    issuer: str = Field(description="cert-manager issuer, e.g. 'letsencrypt-prod'.")
    issuer_kind: Literal["ClusterIssuer", "Issuer"] | None = None
    tls_secret_name: str | None = None
    ingress_class_name: str | None = None
    path: str | None = None
    limit_rps: int | None = Field(default=None, ge=1, description="Component default 20.")
    limit_connections: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _valid(self) -> IngressSpec:
        self.to_args()
        return self

    def to_args(self) -> IngressRoute:
        return IngressRoute(**_set_fields(self))


class MonitoringSpec(_Model):
    prometheus_labels: dict[str, str] = Field(
        default_factory=dict, description="Labels Prometheus selects rules and monitors by."
    )
    cpu_limit_ratio: float | None = Field(default=None, gt=0, le=1)
    restarts: int | None = Field(default=None, ge=1)
    scrape_interval: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> MonitoringSpec:
        self.to_args()
        return self

    def to_args(self) -> Alerting:
        return Alerting(**_set_fields(self))


class AppSpec(_Model):
    image: str | None = Field(
        default=None,
        description="Container image with a tag or digest; a blueGreen app names one per colour instead.",
    )
    port: int = Field(ge=1, le=65535, description="The container's HTTP port.")
    replicas: int = Field(ge=1, le=100, description="Pod count.")
    resources: ResourcesSpec
    strategy: Strategy = Field(
        default="rolling",
        description="rolling (one Deployment), blueGreen (two colours switched by pulumi up), "
        "argoBlueGreen or argoCanary (Argo Rollouts; needs its controller).",
    )
    blue_green: BlueGreenSpec | None = Field(default=None, description="With strategy blueGreen.")
    argo: ArgoSpec | None = Field(
        default=None, description="With strategy argoBlueGreen/argoCanary."
    )
    service_port: int = Field(default=80, ge=1, le=65535)
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    env: dict[str, str] = Field(default_factory=dict, description="Plain settings (ConfigMap).")
    secret_env: dict[str, str] = Field(
        default_factory=dict,
        description="Environment variable -> name of a secret config key of this stack.",
    )
    liveness: ProbeSpec | None = None
    readiness: ProbeSpec | None = None
    rolling_update: RollingUpdateSpec = Field(default_factory=RollingUpdateSpec)
    autoscaling: AutoscalingSpec | None = Field(
        default=None, description="An HPA from replicas (its minReplicas) to maxReplicas."
    )
    disruption_budget: DisruptionBudgetSpec | None = None
    network_policy: NetworkPolicySpec | None = None
    ingress: IngressSpec | None = None
    monitoring: MonitoringSpec | None = None

    @field_validator("image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None:
            check_image("image", value)
        return value

    @field_validator("env", "secret_env")
    @classmethod
    def _env_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not _ENV_NAME.match(k)]
        if bad:
            raise ValueError(
                f"{bad} are not environment variable names (letters, digits, '_'; no leading digit)"
            )
        return value

    @field_validator("secret_env")
    @classmethod
    def _secret_keys(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [v for v in value.values() if not _CONFIG_KEY.match(v)]
        if bad:
            raise ValueError(f"{bad} are not config key names (e.g. 'webDatabaseUrl')")
        return value

    @model_validator(mode="after")
    def _split(self) -> AppSpec:
        both = sorted(set(self.env) & set(self.secret_env))
        if both:
            raise ValueError(f"{both} are in both env and secretEnv; a setting belongs in one")
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ValueError(f"metricsPort {self.metrics_port} must differ from port")
        self._strategy_options()
        return self

    def _strategy_options(self) -> None:
        """Each strategy takes its own options and no other's."""
        argo = self.strategy in ("argoBlueGreen", "argoCanary")
        if self.blue_green is not None and self.strategy != "blueGreen":
            raise _at(("blueGreen",), f"only with strategy blueGreen (strategy is {self.strategy})")
        if self.argo is not None and not argo:
            raise _at(
                ("argo",),
                f"Argo options need strategy argoBlueGreen or argoCanary (strategy is {self.strategy})",
            )
        if self.strategy == "blueGreen":
            if self.blue_green is None:
                raise _at(
                    ("blueGreen",), "strategy blueGreen needs blueGreen: {activeColor, blue, green}"
                )
            if self.image is not None:
                raise _at(
                    ("image",),
                    "a blueGreen app names its images per colour: blueGreen.blue.image / blueGreen.green.image",
                )
            active = self.blue_green.active_color
            for color in ("blue", "green"):
                replicas = getattr(self.blue_green, color).replicas
                if self.autoscaling is not None and replicas not in (None, 0):
                    raise _at(
                        ("blueGreen", color, "replicas"),
                        f"{replicas}: with autoscaling each colour has its own autoscaler "
                        "(minReplicas from replicas); a colour's replicas may only be 0 (scaled down)",
                    )
            try:
                self.blue_green.to_release().check_capacity(self.replicas)
            except ValueError as exc:
                raise _at(("blueGreen", active, "replicas"), str(exc)) from None
        elif self.image is None:
            raise _at(("image",), f"required with strategy {self.strategy}")
        if argo and self.argo is None:
            raise _at(
                ("argo",),
                f"strategy {self.strategy} needs argo: {{analysis: {{prometheusAddress}}}}",
            )
        if argo and self.argo is not None:
            try:
                self.argo.to_release(self.strategy)
            except ValueError as exc:
                raise _at(("argo",), str(exc)) from None

    def images(self) -> list[tuple[tuple[str, ...], str]]:
        """Every image the app runs, with the key path it comes from."""
        found: list[tuple[tuple[str, ...], str]] = [(("image",), self.image)] if self.image else []
        if self.blue_green is not None:
            found += [
                (("blueGreen", c, "image"), getattr(self.blue_green, c).image)
                for c in ("blue", "green")
            ]
        return found

    def release(self) -> BlueGreenRelease | ArgoRelease | None:
        if self.blue_green is not None:
            return self.blue_green.to_release()
        if self.argo is not None:
            return self.argo.to_release(self.strategy)
        return None

"""The stack configuration: every key under ``webplatform:``, validated before any resource exists.

A stack file (``Pulumi.<stack>.yaml``) says what an environment *is*; this
module turns it into frozen pydantic models, or into one error message that
names the stack file, each bad key path, the bad value and what is allowed.

Secrets are top-level keys set with ``pulumi config set --secret <key> <value>``
and referenced by name from an app's ``secretEnv``; they are never parsed
here, only checked to exist and to be secret. The program reads them with
``Config.require_secret``, so their values stay Pulumi secrets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import pulumi
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components import (
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
    SecretRotation,
    _edge,
)
from components import ColorSpec as ComponentColorSpec
from components import _eks_checks as eks_checks
from components._quantity import parse_cpu, parse_memory
from components.cluster_addons import ClusterIssuerArgs, check_chart_version
from components.external_secrets import ExternalSecretsOperatorArgs
from components.rollout import DEFAULT_CANARY_WEIGHTS
from components.workload import check_image

NAMESPACE = "webplatform"
MIN_KUBERNETES_MINOR = 30
MAX_KUBERNETES_MINOR = 37
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

Environment = Literal["dev", "staging", "uat", "production"]


class StackConfigError(pulumi.RunError):
    """Invalid stack configuration. ``pulumi up`` prints the message without a traceback."""

    def __init__(self, stack_file: str, problems: list[tuple[str, str]]) -> None:
        self.stack_file = stack_file
        self.problems = problems
        lines = [f"{stack_file}: invalid stack configuration ({len(problems)} problem(s)):"]
        lines += [f"  {path}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        str_strip_whitespace=True,
    )


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


def _set_fields(model: BaseModel, *skip: str) -> dict[str, Any]:
    """The fields a stack file set (others fall back to the component's default: no third layer)."""
    return {
        name: getattr(model, name)
        for name in model.model_fields_set
        if name not in skip and getattr(model, name) is not None
    }


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


class KubernetesSpec(_Model):
    version: str = Field(
        description="The cluster's Kubernetes version, 'MAJOR.MINOR', 1.30 or newer; "
        "manifests are validated against its schema."
    )
    context: str | None = Field(default=None, description="kubeconfig context to deploy to.")
    render_yaml_to_directory: str | None = Field(
        default=None,
        description="Write manifests to this directory instead of applying them (no cluster needed).",
    )
    skip_await: list[Literal["Ingress", "Gateway", "HTTPRoute", "Service"]] = Field(
        default_factory=list,
        description="Kinds the provider must not wait on (annotation pulumi.com/skipAwait); "
        "default none. Only for a cluster where nothing programs them (no ingress controller "
        "or load balancer), where the wait would never end.",
    )
    await_timeout_seconds: int | None = Field(
        default=None,
        ge=30,
        description="Default '-': the provider's own (10 minutes for a rollout). How long "
        "`pulumi up` waits for an object to become ready before failing.",
    )

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        match = re.fullmatch(r"1\.(\d+)", value)
        if not match or not MIN_KUBERNETES_MINOR <= int(match[1]) <= MAX_KUBERNETES_MINOR:
            raise ValueError(
                f"must be '1.{MIN_KUBERNETES_MINOR}' to '1.{MAX_KUBERNETES_MINOR}' "
                "(Kubernetes 1.30+ as 'MAJOR.MINOR')"
            )
        return value

    @model_validator(mode="after")
    def _one_target(self) -> KubernetesSpec:
        if self.context and self.render_yaml_to_directory:
            raise ValueError("set either context or renderYamlToDirectory, not both")
        return self


class VpcSpec(_Model):
    cidr: str = Field(description="The VPC's IPv4 CIDR, a private /16 to /20.")
    availability_zones: int = Field(ge=2, le=3, description="Zones to spread over: 2 or 3.")
    nat_gateways: Literal["single", "perAz"] = Field(
        description="'perAz': one NAT gateway per zone (survives a zone outage); 'single': one."
    )
    flow_log_retention_days: int = Field(description="Days VPC flow logs are kept.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        eks_checks.vpc_cidr("cidr", value)
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        eks_checks.log_retention("flowLogRetentionDays", value)
        return value


class NodeGroupSpec(_Model):
    instance_types: list[str] = Field(min_length=1, description="EC2 instance types.")
    min_size: int = Field(ge=0, description="Fewest nodes.")
    desired_size: int = Field(ge=0, description="Nodes at creation.")
    max_size: int = Field(ge=1, description="Most nodes.")
    disk_size_gib: int = Field(ge=20, le=16384, description="Encrypted gp3 root volume, GiB.")

    @field_validator("instance_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        eks_checks.instance_types("instanceTypes", value)
        return value

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupSpec:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"need minSize <= desiredSize <= maxSize (got {self.min_size}, "
                f"{self.desired_size}, {self.max_size})"
            )
        return self


class AccessSpec(_Model):
    admin_role_arns: list[str] = Field(
        min_length=1, description="IAM roles of the cluster's human admins (cluster admin)."
    )
    ci_role_arn: str = Field(
        description="The IAM role `pulumi up` runs as (CI); cluster admin, to install add-ons and apps."
    )

    @field_validator("admin_role_arns")
    @classmethod
    def _admins(cls, value: list[str]) -> list[str]:
        for arn in value:
            eks_checks.role_name("adminRoleArns", arn)
        eks_checks.distinct_roles("adminRoleArns", value)
        return value

    @field_validator("ci_role_arn")
    @classmethod
    def _ci(cls, value: str) -> str:
        eks_checks.role_name("ciRoleArn", value)
        return value

    @model_validator(mode="after")
    def _distinct(self) -> AccessSpec:
        eks_checks.distinct_roles(
            "ciRoleArn and adminRoleArns", [self.ci_role_arn, *self.admin_role_arns]
        )
        return self


class EndpointSpec(_Model):
    public_access_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs that may reach the public API endpoint; empty: public endpoint off.",
    )
    allow_open_to_internet: bool = Field(
        default=False, description="Accept 0.0.0.0/0 in publicAccessCidrs (explicit opt-in)."
    )

    @model_validator(mode="after")
    def _cidrs(self) -> EndpointSpec:
        try:
            eks_checks.public_cidrs(
                "publicAccessCidrs", self.public_access_cidrs, self.allow_open_to_internet
            )
        except ValueError as exc:
            raise _at(
                ("publicAccessCidrs",),
                f"{str(exc).removeprefix('publicAccessCidrs: ')} (allowOpenToInternet: true)",
            ) from None
        return self


class ChartSpec(_Model):
    version: str = Field(description="Exact chart version, e.g. '4.12.1'.")

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        check_chart_version("version", value)
        return value


class IssuerSpec(_Model):
    email: str = Field(description="ACME account contact (expiry notices).")
    server: str = Field(description="ACME directory URL (Let's Encrypt staging or production).")


class CertManagerSpec(ChartSpec):
    issuer: IssuerSpec = Field(description="The ClusterIssuer Ingresses get certificates from.")

    @model_validator(mode="after")
    def _issuer(self) -> CertManagerSpec:
        try:
            ClusterIssuerArgs(email=self.issuer.email, server=self.issuer.server)
        except ValueError as exc:
            raise ValueError(f"issuer: {exc}") from None
        return self


class ArgoRolloutsSpec(_Model):
    enabled: bool = Field(default=False, description="Install the Argo Rollouts controller.")
    version: str | None = Field(
        default=None, description="Exact chart version; needed when enabled."
    )

    @model_validator(mode="after")
    def _version(self) -> ArgoRolloutsSpec:
        if self.version is not None:
            check_chart_version("version", self.version)
        if self.enabled and self.version is None:
            raise ValueError("enabled: true needs a chart version")
        return self


class AddonsSpec(_Model):
    ingress_nginx: ChartSpec = Field(description="ingress-nginx chart.")
    cert_manager: CertManagerSpec = Field(description="cert-manager chart and its ClusterIssuer.")
    metrics_server: ChartSpec = Field(description="metrics-server chart (the HPA needs it).")
    argo_rollouts: ArgoRolloutsSpec = Field(
        default_factory=ArgoRolloutsSpec,
        description="Argo Rollouts controller; default off.",
    )


_EKS_REQUIRED = ("name", "vpc", "node_group", "access", "log_retention_days", "addons")


class ClusterSpec(_Model):
    """Where the apps run: an existing cluster (``kubernetes.context`` or
    ``renderYamlToDirectory``), or an EKS cluster this stack creates."""

    mode: Literal["existing", "eks"] = Field(
        default="existing",
        description="'existing': deploy to the cluster `kubernetes` points at; "
        "'eks': create VPC + EKS here; its version is `kubernetes.version`.",
    )
    name: str | None = Field(default=None, description="EKS cluster name (one per environment).")
    vpc: VpcSpec | None = Field(default=None, description="The cluster's VPC.")
    node_group: NodeGroupSpec | None = Field(default=None, description="The managed node group.")
    access: AccessSpec | None = Field(default=None, description="Who gets cluster admin.")
    endpoint: EndpointSpec = Field(
        default_factory=EndpointSpec,
        description="Public API endpoint access; default: private endpoint only.",
    )
    log_retention_days: int | None = Field(default=None, description="Control-plane log retention.")
    addons: AddonsSpec | None = Field(default=None, description="Helm add-ons, pinned.")
    protect: bool = Field(
        default=False,
        description="Protect the VPC, cluster and Secrets KMS key from deletion.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None:
            eks_checks.cluster_name("name", value)
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        if value is not None:
            eks_checks.log_retention("logRetentionDays", value)
        return value

    @model_validator(mode="after")
    def _mode(self) -> ClusterSpec:
        fields = ClusterSpec.model_fields
        if self.mode == "eks":
            missing = [fields[n].alias or n for n in _EKS_REQUIRED if getattr(self, n) is None]
            if missing:
                raise ValueError(f"mode 'eks' needs {', '.join(missing)}")
        else:
            extra = [
                fields[n].alias or n for n in fields if n != "mode" and n in self.model_fields_set
            ]
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} apply only to mode 'eks' (this stack's mode is 'existing')"
                )
        return self


SecretDelivery = Literal["kubernetes-secret", "external-secrets"]
ValueSource = Literal["config", "outOfBand"]


class SecretRotationSpec(_Model):
    lambda_arn: str = Field(description="ARN of the Lambda function that rotates the secret.")
    schedule_expression: str = Field(description="'rate(30 days)' or 'cron(...)'.")

    @model_validator(mode="after")
    def _valid(self) -> SecretRotationSpec:
        self.to_args()
        return self

    def to_args(self) -> SecretRotation:
        return SecretRotation(
            lambda_arn=self.lambda_arn, schedule_expression=self.schedule_expression
        )


class SecretsOperatorSpec(_Model):
    chart_version: str = Field(description="Exact external-secrets Helm chart version.")
    namespace: str | None = Field(
        default=None, description="Namespace of the operator; component default external-secrets."
    )

    @model_validator(mode="after")
    def _valid(self) -> SecretsOperatorSpec:
        self.to_args("default")
        return self

    def to_args(self, watch_namespace: str) -> ExternalSecretsOperatorArgs:
        return ExternalSecretsOperatorArgs(
            watch_namespace=watch_namespace,
            **_set_fields(self, "chart_version"),
            chart_version=self.chart_version,
        )


_EXTERNAL_ONLY = (
    "value_source",
    "value_version",
    "recovery_window_days",
    "rotation",
    "cluster_name",
    "operator",
    "refresh_interval",
)


class SecretsSpec(_Model):
    """How apps' ``secretEnv`` values are stored and reach pods."""

    delivery: SecretDelivery = Field(
        default="kubernetes-secret",
        description="kubernetes-secret: a Secret made by Pulumi from config secrets (no AWS). "
        "external-secrets: AWS Secrets Manager + KMS, copied into the cluster by External "
        "Secrets Operator.",
    )
    value_source: ValueSource | None = Field(
        default=None,
        description="external-secrets: 'config' (default) writes the config secrets to Secrets "
        "Manager (write-only); 'outOfBand' leaves the value to `aws secretsmanager "
        "put-secret-value`, so it never passes through Pulumi.",
    )
    value_version: int | None = Field(
        default=None, ge=1, description="Bump to write changed config values again (default 1)."
    )
    recovery_window_days: int | None = Field(
        default=None, description="0 or 7-30; component default 30; production may not use 0."
    )
    rotation: SecretRotationSpec | None = Field(
        default=None, description="Rotate with a Lambda function on a schedule."
    )
    cluster_name: str | None = Field(
        default=None, description="EKS cluster whose Pod Identity feeds the operator."
    )
    operator: SecretsOperatorSpec | None = Field(
        default=None, description="External Secrets Operator install (pinned chart)."
    )
    refresh_interval: str | None = Field(
        default=None, description="How often the operator re-reads; component default 1h."
    )

    @model_validator(mode="after")
    def _mode_options(self) -> SecretsSpec:
        if self.delivery == "kubernetes-secret":
            for name in _EXTERNAL_ONLY:
                if getattr(self, name) is not None:
                    raise _at(
                        (to_camel(name),),
                        "only with delivery external-secrets (delivery is kubernetes-secret: "
                        "a Kubernetes Secret from config secrets, no AWS)",
                    )
            return self
        for name in ("cluster_name", "operator"):
            if getattr(self, name) is None:
                raise _at((to_camel(name),), "required with delivery external-secrets")
        if self.value_source == "outOfBand" and self.value_version is not None:
            raise _at(
                ("valueVersion",),
                "only with valueSource config (outOfBand values are written outside Pulumi)",
            )
        return self

    @property
    def from_config(self) -> bool:
        """True when the secret values come from Pulumi config (either delivery mode)."""
        return self.delivery == "kubernetes-secret" or self.value_source in (None, "config")


CdnProvider = Literal["cloudfront", "cloudflare", "none"]


class AccessLogsSpec(_Model):
    bucket: str = Field(
        description="S3 bucket name (ACLs enabled, awslogsdelivery granted) for CloudFront logs."
    )
    prefix: str | None = Field(default=None, description="Prefix of the log objects, e.g. 'cdn/'.")
    include_cookies: bool | None = Field(default=None, description="Log cookies (default false).")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        _edge.s3_bucket_name("bucket", value)
        return value


class CloudFrontSpec(_Model):
    hosted_zone_id: str | None = Field(
        default=None,
        description="Route 53 zone of the host names: validation and alias records go there. "
        "Without it the validation records are a stack output to create by hand.",
    )
    certificate_domain: str | None = Field(
        default=None,
        description="The certificate's main name (default the host); may be '*.example.com'.",
    )
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] | None = Field(
        default=None, description="Edge locations used (component default PriceClass_100)."
    )
    minimum_protocol_version: Literal["TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"] | None = (
        Field(default=None, description="Viewer TLS policy (component default TLSv1.2_2021).")
    )
    waf_rate_limit: int | None = Field(
        default=None,
        ge=10,
        le=2_000_000_000,
        description="Requests per 5 minutes per IP before WAF blocks (component default 2000).",
    )
    access_logs: AccessLogsSpec | None = Field(default=None, description="Default: no logs.")

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            _edge.hosted_zone_id("hostedZoneId", value)
        return value

    @field_validator("certificate_domain")
    @classmethod
    def _certificate_domain(cls, value: str | None) -> str | None:
        if value is not None:
            _edge.certificate_domain("certificateDomain", value)
        return value


class CloudflareSpec(_Model):
    zone_id: str = Field(description="The Cloudflare zone ID (32 hex characters).")
    min_tls_version: Literal["1.2", "1.3"] | None = Field(
        default=None, description="Zone minimum TLS version (component default 1.2)."
    )

    @field_validator("zone_id")
    @classmethod
    def _zone(cls, value: str) -> str:
        _edge.zone_id("zoneId", value)
        return value


class CdnSpec(_Model):
    """The edge in front of the app: which CDN, for which host names, to which origin."""

    provider: CdnProvider = Field(description="cloudfront, cloudflare, or none (no CDN).")
    host: str | None = Field(default=None, description="Public host name, e.g. www.example.com.")
    aliases: list[str] = Field(default_factory=list, description="Other public host names.")
    origin_host: str | None = Field(
        default=None, description="Host name of the origin (the ingress), served over HTTPS."
    )
    content_security_policy: str | None = Field(
        default=None, description="The Content-Security-Policy header the edge sets."
    )
    cloudfront: CloudFrontSpec | None = Field(default=None, description="provider: cloudfront.")
    cloudflare: CloudflareSpec | None = Field(default=None, description="provider: cloudflare.")

    @field_validator("host", "origin_host")
    @classmethod
    def _hostname(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None:
            _edge.hostname(to_camel(info.field_name or ""), value)
        return value

    @field_validator("content_security_policy")
    @classmethod
    def _csp(cls, value: str | None) -> str | None:
        if value is not None:
            _edge.content_security_policy("contentSecurityPolicy", value)
        return value

    @model_validator(mode="after")
    def _provider_rules(self) -> CdnSpec:
        provider = self.provider
        if provider == "none":
            extra = [
                key
                for key, value in (
                    ("host", self.host),
                    ("aliases", self.aliases),
                    ("originHost", self.origin_host),
                    ("contentSecurityPolicy", self.content_security_policy),
                    ("cloudfront", self.cloudfront),
                    ("cloudflare", self.cloudflare),
                )
                if value
            ]
            if extra:
                raise _at(
                    ("provider",),
                    f"is none, but {', '.join(extra)} {'is' if len(extra) == 1 else 'are'} set; "
                    "choose cloudfront or cloudflare, "
                    "or remove those keys",
                )
            return self
        for key, value in (
            ("host", self.host),
            ("originHost", self.origin_host),
            ("contentSecurityPolicy", self.content_security_policy),
        ):
            if not value:
                raise _at((key,), f"required when provider is {provider}")
        assert self.host is not None and self.origin_host is not None
        try:
            _edge.hostnames("aliases", self.aliases, host=self.host)
        except ValueError as exc:
            raise _at(("aliases",), str(exc)) from None
        if self.origin_host in (self.host, *self.aliases):
            raise _at(
                ("originHost",),
                f"{self.origin_host!r} is also a public host name; the origin must be another name",
            )
        other = "cloudflare" if provider == "cloudfront" else "cloudfront"
        if getattr(self, other) is not None:
            raise _at((other,), f"only allowed with provider {other} (provider is {provider})")
        if provider == "cloudflare" and self.cloudflare is None:
            raise _at(("cloudflare", "zoneId"), "required when provider is cloudflare")
        domain = self.cloudfront.certificate_domain if self.cloudfront else None
        if domain is not None and not _edge.covers(domain, self.host):
            raise _at(
                ("cloudfront", "certificateDomain"),
                f"{domain!r} does not cover the host {self.host!r}; use the host or a "
                "wildcard one level above it",
            )
        return self


class StackConfig(_Model):
    """Everything a stack file may say under ``webplatform:``."""

    environment: Environment = Field(description="Which rung of the ladder this stack is.")
    namespace: str = Field(pattern=_DNS_LABEL, description="Namespace the apps run in.")
    kubernetes: KubernetesSpec
    apps: dict[str, AppSpec] = Field(min_length=1, description="App name -> its spec.")
    cluster: ClusterSpec = Field(
        default_factory=ClusterSpec, description="An existing cluster, or an EKS cluster to create."
    )
    secrets: SecretsSpec = Field(
        default_factory=SecretsSpec,
        description="Where secretEnv values live and how pods get them.",
    )
    cdn: CdnSpec = Field(
        default_factory=lambda: CdnSpec(provider="none"),
        description="The CDN in front of the app; default none.",
    )

    @field_validator("apps")
    @classmethod
    def _app_names(cls, value: dict[str, AppSpec]) -> dict[str, AppSpec]:
        bad = [k for k in value if not re.match(_DNS_LABEL, k)]
        if bad:
            raise ValueError(f"app names {bad} must be DNS labels (lowercase, digits, '-')")
        return value

    @model_validator(mode="after")
    def _issuer_exists(self) -> StackConfig:
        """On a cluster this stack builds, Ingresses must use the ClusterIssuer it installs."""
        if self.cluster.mode != "eks":
            return self
        installed = ClusterIssuerArgs.__dataclass_fields__["name"].default
        for name, app in self.apps.items():
            route = app.ingress
            if route is not None and route.issuer_kind != "Issuer" and route.issuer != installed:
                raise _at(
                    ("apps", name, "ingress", "issuer"),
                    f"{route.issuer!r}: this stack's cluster installs the ClusterIssuer "
                    f"{installed!r} (its ACME server is cluster.addons.certManager.issuer.server); "
                    "use that name, or issuerKind: Issuer for a namespaced one",
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
            raise _at(
                ("cluster", "addons", "argoRollouts", "enabled"),
                f"apps {argo} use an Argo Rollouts strategy; set enabled: true (and a chart version)",
            )
        return self

    @model_validator(mode="after")
    def _environment_rules(self) -> StackConfig:
        for name, app in self.apps.items():
            if self.environment == "production" and app.replicas < 2:
                raise _at(
                    ("apps", name, "replicas"),
                    f"production needs at least 2 replicas to survive a node loss (got {app.replicas})",
                )
            for path, image in app.images():
                if self.environment != "dev" and image.endswith(":latest"):
                    raise _at(
                        ("apps", name, *path),
                        f"{image!r}: ':latest' is only allowed in dev; pin a version",
                    )
        return self

    @model_validator(mode="after")
    def _guardrail_rules(self) -> StackConfig:
        isolated = sorted(n for n, a in self.apps.items() if a.network_policy is not None)
        for name, app in self.apps.items():
            here = ("apps", name)
            if app.autoscaling is not None:
                if app.replicas > app.autoscaling.max_replicas:
                    raise _at(
                        (*here, "autoscaling", "maxReplicas"),
                        f"{app.autoscaling.max_replicas} is below replicas {app.replicas} "
                        "(the autoscaler's minReplicas); need replicas <= maxReplicas",
                    )
                try:
                    app.autoscaling.to_args(app.replicas)
                except ValueError as exc:
                    raise _at((*here, "autoscaling"), str(exc)) from None
            if app.disruption_budget is not None:
                try:
                    app.disruption_budget.to_args().check_leaves_room(app.replicas)
                except ValueError as exc:
                    raise _at((*here, "disruptionBudget"), str(exc)) from None
            if isolated and app.network_policy is None:
                raise _at(
                    (*here, "networkPolicy"),
                    f"missing: apps {isolated} set networkPolicy, so namespace {self.namespace} "
                    "denies all traffic by default and this app would get none; "
                    "give it a networkPolicy (an empty map {} takes the defaults)",
                )
            if app.monitoring is not None and app.metrics_port is None:
                raise _at(
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
                    raise _at(
                        ("kubernetes", alias),
                        "must not be set when cluster.mode is 'eks': the stack deploys to the "
                        "EKS cluster it creates, through that cluster's kubeconfig",
                    )
        return self

    @model_validator(mode="after")
    def _secrets_rules(self) -> StackConfig:
        named = self.secrets.cluster_name
        if self.cluster.mode == "eks" and named is not None and named != self.cluster.name:
            raise _at(
                ("secrets", "clusterName"),
                f"{named!r}: the Pod Identity association must be on this stack's cluster "
                f"{self.cluster.name!r} (cluster.name)",
            )
        days = self.secrets.recovery_window_days
        if days is None:
            return self
        if self.environment == "production" and days == 0:
            raise _at(
                ("secrets", "recoveryWindowDays"),
                "0 deletes a production secret at once, with no way back; use 7 to 30",
            )
        if days != 0 and not 7 <= days <= 30:
            raise _at(
                ("secrets", "recoveryWindowDays"),
                f"{days}: must be 0 (delete at once) or 7 to 30 (Secrets Manager)",
            )
        return self


class _LocatedError(ValueError):
    """A cross-field error that knows the key it belongs to (pydantic would blame the parent).

    ``loc`` is relative to the model whose validator raised it.
    """

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _at(loc: tuple[str, ...], message: str) -> _LocatedError:
    return _LocatedError(loc, message)


def stack_file(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def _path(loc: tuple[Any, ...]) -> str:
    head, *rest = [str(p) for p in loc] or [""]
    return f"{NAMESPACE}:{head}" + "".join(f".{p}" for p in rest)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Keys allowed in the map at ``loc`` (for "unknown key" errors); [] when it is not a model."""
    node: Any = StackConfig
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel):
            found = [f for n, f in node.model_fields.items() if part in (n, f.alias)]
            if not found:
                return []
            node = found[0].annotation
        elif get_origin(node) is dict:
            node = get_args(node)[1]
        else:
            return []
        if get_origin(node) in (Union, UnionType):  # Optional[Model] -> Model
            node = next((a for a in get_args(node) if a is not type(None)), node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return [f.alias or n for n, f in node.model_fields.items()]
    return []


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        ctx_error = (item.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _LocatedError):
            problems.append((_path(loc + ctx_error.loc), str(ctx_error)))
            continue
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            message = "unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
        elif item["type"] != "missing" and "input" in item and not isinstance(item["input"], dict):
            message = f"{message} (got {item['input']!r})"
        problems.append((_path(loc), message))
    return problems


def _decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text; plain strings stay strings."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse(
    stack: str, raw: Mapping[str, Any], secret_keys: set[str] | frozenset[str]
) -> StackConfig:
    """Validate a stack's flat config map (``{"webplatform:apps": "<json>", ...}``).

    Keys of other namespaces (``aws:region``, ``kubernetes:...``) belong to
    providers and are ignored. Raises :class:`StackConfigError`.
    """
    file = stack_file(stack)
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}
    fields = {f.alias or n for n, f in StackConfig.model_fields.items()}
    structured = {k: _decode(v) for k, v in ours.items() if k in fields}
    extra_keys = {k for k in ours if k not in fields}
    try:
        config = StackConfig.model_validate(structured)
    except ValidationError as exc:
        problems = _problems(exc)
        problems += _unknown_top_level(extra_keys, referenced_secret_keys(raw))
        raise StackConfigError(file, problems) from None

    referenced: dict[str, str] = {}
    problems = []
    for app_name, app in config.apps.items():
        for env_name, key in app.secret_env.items():
            referenced[key] = f"apps.{app_name}.secretEnv.{env_name}"
            full = f"{NAMESPACE}:{key}"
            path = f"{NAMESPACE}:apps.{app_name}.secretEnv.{env_name}"
            if key in fields:
                problems.append((path, f"{key!r} is a reserved key, not a secret"))
            elif not config.secrets.from_config:
                if key in ours:
                    problems.append(
                        (
                            full,
                            "is set, but secrets.valueSource is outOfBand: the value lives in "
                            "AWS Secrets Manager only and this one would never be used; "
                            f"remove it: pulumi config rm {key}",
                        )
                    )
            elif key not in ours:
                problems.append(
                    (
                        path,
                        f"secret {full} is not set; run: pulumi config set --secret {key} <value>",
                    )
                )
            elif full not in secret_keys:
                problems.append(
                    (
                        full,
                        "is stored in plain text; a value used by secretEnv must be a secret: "
                        f"pulumi config set --secret {key} <value>",
                    )
                )
    problems += _unknown_top_level(extra_keys, set(referenced))
    if config.cluster.mode == "eks" and not raw.get("aws:region"):
        problems.append(
            ("aws:region", "must be set when webplatform:cluster.mode is 'eks' (e.g. us-west-2)")
        )
    problems += _plain_text_provider_secrets(raw, secret_keys)
    if problems:
        raise StackConfigError(file, problems)
    return config


def referenced_secret_keys(raw: Mapping[str, Any]) -> set[str]:
    """Secret config keys (without namespace) named by apps' ``secretEnv``; best effort on raw input.

    Used before validation has succeeded, so it tolerates any shape.
    """
    apps = _decode(raw.get(f"{NAMESPACE}:apps", {}))
    if not isinstance(apps, dict):
        return set()
    secrets = _decode(raw.get(f"{NAMESPACE}:secrets", {}))
    if isinstance(secrets, dict) and secrets.get("valueSource") == "outOfBand":
        return set()  # the values live in AWS Secrets Manager, not in the stack's config
    found = set()
    for app in apps.values():
        secret_env = app.get("secretEnv") if isinstance(app, dict) else None
        if isinstance(secret_env, dict):
            found |= {key for key in secret_env.values() if isinstance(key, str)}
    return found


def _unknown_top_level(keys: set[str], referenced: set[str]) -> list[tuple[str, str]]:
    allowed = [f.alias or n for n, f in StackConfig.model_fields.items()]
    return [
        (
            f"{NAMESPACE}:{key}",
            f"unknown key; allowed: {', '.join(allowed)}, or a secret referenced by an app's secretEnv",
        )
        for key in sorted(keys - referenced)
    ]


#: Provider credentials a stack file may hold (read by the provider, not by us): secrets only.
PROVIDER_SECRET_KEYS = ("cloudflare:apiToken",)


def _plain_text_provider_secrets(
    raw: Mapping[str, Any], secret_keys: set[str] | frozenset[str]
) -> list[tuple[str, str]]:
    return [
        (
            key,
            f"is stored in plain text; a credential must be a secret: pulumi config set --secret {key} <value>",
        )
        for key in PROVIDER_SECRET_KEYS
        if key in raw and key not in secret_keys
    ]


def from_pulumi() -> StackConfig:
    """Parse the running stack's configuration, as the Pulumi engine handed it to the program."""
    from pulumi.runtime import config as runtime_config

    # The engine passes config in PULUMI_CONFIG (real runs) or set_all_config (mocks); the SDK
    # offers no public way to list keys, which we need to reject unknown ones.
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = {k for k in raw if runtime_config.is_config_secret(k)}
    return parse(pulumi.get_stack(), raw, secret_keys)

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

from components import HttpProbe, Resources, _edge
from components._quantity import parse_cpu, parse_memory
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


class AppSpec(_Model):
    image: str = Field(description="Container image with a tag or digest.")
    port: int = Field(ge=1, le=65535, description="The container's HTTP port.")
    replicas: int = Field(ge=1, le=100, description="Pod count.")
    resources: ResourcesSpec
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

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
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
        return self


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
                    ("cdn", "provider"),
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
                raise _at(("cdn", key), f"required when provider is {provider}")
        assert self.host is not None and self.origin_host is not None
        try:
            _edge.hostnames("aliases", self.aliases, host=self.host)
        except ValueError as exc:
            raise _at(("cdn", "aliases"), str(exc)) from None
        if self.origin_host in (self.host, *self.aliases):
            raise _at(
                ("cdn", "originHost"),
                f"{self.origin_host!r} is also a public host name; the origin must be another name",
            )
        other = "cloudflare" if provider == "cloudfront" else "cloudfront"
        if getattr(self, other) is not None:
            raise _at(
                ("cdn", other), f"only allowed with provider {other} (provider is {provider})"
            )
        if provider == "cloudflare" and self.cloudflare is None:
            raise _at(("cdn", "cloudflare", "zoneId"), "required when provider is cloudflare")
        domain = self.cloudfront.certificate_domain if self.cloudfront else None
        if domain is not None and not _edge.covers(domain, self.host):
            raise _at(
                ("cdn", "cloudfront", "certificateDomain"),
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
    def _environment_rules(self) -> StackConfig:
        for name, app in self.apps.items():
            if self.environment == "production" and app.replicas < 2:
                raise _at(
                    ("apps", name, "replicas"),
                    f"production needs at least 2 replicas to survive a node loss (got {app.replicas})",
                )
            if self.environment != "dev" and app.image.endswith(":latest"):
                raise _at(
                    ("apps", name, "image"),
                    f"{app.image!r}: ':latest' is only allowed in dev; pin a version",
                )
        return self


class _LocatedError(ValueError):
    """A cross-field error that knows the key it belongs to (pydantic would blame the parent)."""

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
            problems.append((_path(ctx_error.loc), str(ctx_error)))
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

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
from typing import Any, Union, get_args, get_origin

import pulumi
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from infra.config import cluster as _cluster
from infra.config import secrets as _secrets
from infra.config._base import (
    _DNS_LABEL,
    NAMESPACE,
    Environment,
    StackConfigError,
    _at,
    _LocatedError,
    _Model,
)
from infra.config.apps import AppSpec
from infra.config.cluster import ClusterSpec, KubernetesSpec
from infra.config.edge import CdnSpec
from infra.config.secrets import SecretsSpec
from webplatform._model import FieldError, camel


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
        if self.cluster.mode != "eks" or self.cluster.addons is None:
            return self
        installed = self.cluster.addons.cert_manager.issuer.name
        for name, app in self.apps.items():
            route = app.ingress
            if route is not None and route.issuer_kind != "Issuer" and route.issuer != installed:
                raise _at(
                    ("apps", name, "ingress", "issuer"),
                    f"{route.issuer!r}: this stack's cluster installs the ClusterIssuer "
                    f"{installed!r} (cluster.addons.certManager.issuer); "
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
    def _area_rules(self) -> StackConfig:
        """The cluster's and the secrets' rules that read the whole stack (their modules own them)."""
        _cluster.check(self)
        _secrets.check(self)
        return self


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
        if isinstance(ctx_error, FieldError):  # a component model's located error (snake_case)
            at_loc = tuple(camel(p) if "_" in str(p) else p for p in ctx_error.loc)
            problems.append((_path(loc + at_loc), str(ctx_error)))
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

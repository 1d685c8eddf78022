"""The stack configuration: every key under ``webplatform:``, validated before any resource exists.

A stack file (``Pulumi.<stack>.yaml``) says what an environment *is*; this
module turns it into frozen pydantic models, or into one error
(:class:`StackConfigError`) that names the file read, each bad key path in
camelCase and what is allowed, and never a secret's value.

The pipeline, the same under ``pulumi up`` (:func:`from_pulumi`) as under synth:

1. the stack file is read strictly (:mod:`infra.config._source`): duplicate keys,
   implicit dates and other non-JSON types are refused, ``secure:`` leaves found;
2. provider keys are checked (plain-text credentials refused, ``aws:region`` real);
3. ``StackConfig`` is validated in JSON mode, strict, by alias only, so ``"3"``,
   ``3.0``, ``true`` are not integers and ``service_port`` is an unknown key;
4. stack-level rules: secret placement, app names, derived object names and
   their collisions.

Secrets are either top-level keys set with ``pulumi config set --secret <key>``
and referenced by name from an app's ``secretEnv``, or leaves anywhere, set with
``pulumi config set --secret --path``; :func:`secret_paths` says which are.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pulumi
from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    model_validator,
)

from infra import review as _review
from infra.config import cluster as _cluster
from infra.config import secrets as _secrets
from infra.config._base import (
    _DNS_LABEL,
    NAMESPACE,
    Environment,
    StackConfigError,
    _at,
    _Model,
)
from infra.config._source import (
    SourceError,
    StackSource,
    UnreadableError,
    combine,
    decode,
    display,
)
from infra.config.apps import AppSpec
from infra.config.cluster import ClusterSpec, KubernetesSpec
from infra.config.edge import Cdn, NoCdn, route_hosts
from infra.config.secrets import SecretsSpec
from webplatform._model import FieldError, camel
from webplatform.edge import _checks as _edge
from webplatform.edge.proxy import ProxySettings


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
    cdn: Cdn = Field(
        default_factory=lambda: NoCdn(provider="none"),
        description="The CDN in front of one app; default none.",
    )
    gateway: ProxySettings = Field(
        default_factory=ProxySettings,
        description="The Gateway's Envoy proxies on an EKS cluster (replicas, size); default 2.",
    )
    review: _review.ReviewSpec | None = Field(
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
                raise _at(("apps", name), str(exc)) from None
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
                    raise _at(
                        ("apps", name, "route", "hosts", str(index)),
                        f"{host} is already a host of app {owner[host]}; a host routes to one "
                        "app (the Gateway has one HTTPS listener per host)",
                    )
        for name, route in routes[1:]:
            first, other = routes[0][1], route
            if (other.issuer, other.issuer_kind) != (first.issuer, first.issuer_kind):
                raise _at(
                    ("apps", name, "route", "issuer"),
                    f"must be the issuer of app {routes[0][0]}'s route ({first.issuer_kind} "
                    f"{first.issuer}): the stack's one Gateway has one certificate issuer",
                )
        if self.cluster.mode != "eks" or self.cluster.addons is None:
            return self
        installed = self.cluster.addons.cert_manager.issuer.name
        for name, route in routes:
            if route.issuer_kind != "Issuer" and route.issuer != installed:
                raise _at(
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
                raise _at(
                    ("cdn", "failoverFor", "app"),
                    f"{failover.app!r} is not an app of this stack with a public route; the "
                    f"failover origin is its route's primary host: use one of "
                    f"{sorted(n for n in self.apps if route_hosts(self.apps, n))}",
                )
            return self
        if cdn.app not in self.apps:
            raise _at(
                ("cdn", "app"),
                f"{cdn.app!r} is not an app of this stack; use one of {sorted(self.apps)}",
            )
        hosts = route_hosts(self.apps, cdn.app)
        if not hosts:
            raise _at(
                ("cdn", "app"),
                f"app {cdn.app!r} has no public route; the CDN's origin is its route's host: "
                f"set apps.{cdn.app}.route.hosts, or front another app",
            )
        if cdn.provider == "cloudflare":
            for name, app in self.apps.items():
                if name != cdn.app and app.route is not None:
                    raise _at(
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
            raise _at(("cdn", (key.alias if key else None) or cdn.origin_key), problem)
        return self

    @model_validator(mode="after")
    def _proxy_replicas(self) -> StackConfig:
        """Production and UAT keep serving through a drain: at least two Envoy proxies."""
        if self.environment in ("production", "uat") and self.gateway.replicas < 2:
            raise _at(
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


#: Which config file the program reads when ``pulumi up --config-file FILE`` was used (the
#: CLI does not tell the program): set it to the same FILE.
CONFIG_FILE_ENV = "WEBPLATFORM_CONFIG_FILE"

#: Provider credentials a stack file may hold only as secrets (the provider reads them).
PROVIDER_SECRET_KEYS = (
    "aws:accessKey",
    "aws:secretKey",
    "aws:token",
    "kubernetes:kubeconfig",
    "cloudflare:apiToken",
    "cloudflare:apiKey",
    "cloudflare:apiUserServiceKey",
)
#: A key whose name says it holds a credential must be a secret.
_SAYS_SECRET = re.compile(r"token|passw(or)?d|secret", re.IGNORECASE)
#: A value never echoed in an error when its key's name looks like this.
_CREDENTIAL_LIKE = re.compile(
    r"token|passw|secret|key|credential|kubeconfig|auth|cert|private|dsn|url", re.IGNORECASE
)

#: AWS regions (commercial, China, GovCloud, ISO, European Sovereign Cloud) as of 2026-11-29,
#: from pulumi-aws 7.51's ``Region`` enum. A region AWS opens after that date is refused
#: until it is added here.
AWS_REGIONS = frozenset(
    [
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "cn-north-1",
        "cn-northwest-1",
        "eusc-de-east-1",
        "us-gov-east-1",
        "us-gov-west-1",
        "us-iso-east-1",
        "us-iso-west-1",
        "us-isob-east-1",
        "us-isob-west-1",
        "eu-isoe-west-1",
        "us-isof-east-1",
        "us-isof-south-1",
    ]
)

#: A Service name (and so an app name): DNS-1035 label, a letter first.
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME = 63


# --- key paths -------------------------------------------------------------------------------


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` -> X."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _members(annotation: Any) -> list[Any]:
    annotation = _strip(annotation)
    if get_origin(annotation) in (Union, UnionType):
        return [m for a in get_args(annotation) for m in _members(a)]
    return [annotation]


def _step(node: Any, part: Any) -> tuple[Any, Any] | None:
    """One key of a loc through a type: ``(its camelCase spelling, the type below)``."""
    for member in _members(node):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    return info.alias or name, info.annotation
        origin = get_origin(member)
        if origin in (dict, Mapping) and isinstance(part, str):
            return part, get_args(member)[1] if get_args(member) else Any
        if origin in (list, tuple) and (isinstance(part, int) or str(part).isdigit()):
            args = get_args(member)
            return int(part), args[0] if args else Any
    return None


def camel_loc(loc: tuple[Any, ...], model: Any = None) -> tuple[tuple[Any, ...], Any]:
    """A pydantic or FieldError loc (field names or aliases, maybe with union-branch labels
    such as ``'int'``) as stack-file keys, and the type found there (None when lost)."""
    node: Any = StackConfig if model is None else model
    out: list[Any] = []
    for part in loc:
        found = _step(node, part) if node is not None else None
        if found is not None:
            key, node = found
            out.append(key)
            continue
        members = [m for m in _members(node) if m is not type(None)] if node is not None else []
        if len(members) > 1 and isinstance(part, str):
            # pydantic names the union branch it tried ('int', 'ColorSpec', 'function-after[..]')
            named = [m for m in members if getattr(m, "__name__", None) == part]
            if named:
                node = named[0]
                continue
        out.append(part)
        node = None
    return tuple(out), node


def _path(loc: tuple[Any, ...]) -> str:
    head, *rest = list(loc) or [""]
    return display(f"{NAMESPACE}:{head}", tuple(rest))


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Keys allowed in the map at ``loc`` (for "unknown key" errors); [] when it is not a model."""
    _, node = camel_loc(loc)
    models = [m for m in _members(node) if isinstance(m, type) and issubclass(m, BaseModel)]
    return [f.alias or n for n, f in models[0].model_fields.items()] if models else []


def accepts_output(annotation: Any) -> bool:
    """True when a field's type takes a ``pulumi.Output`` (``Input[T]``): only such a field can
    carry a secret value through to the resources."""
    return any(
        isinstance(member, type) and issubclass(member, pulumi.Output)
        for member in _members(annotation)
    )


# --- errors ----------------------------------------------------------------------------------


def _named_like_credential(loc: tuple[Any, ...]) -> bool:
    """True when a key on the path that a user named (a map key such as an env variable,
    not a field of ours) says it holds a credential. ``secretEnv`` values name secret
    keys: they are not secrets themselves."""
    node: Any = StackConfig
    for part in loc:
        found = _step(node, part) if node is not None else None
        via_model = node is not None and any(
            isinstance(m, type) and issubclass(m, BaseModel) for m in _members(node)
        )
        if found is not None and found[0] == "secretEnv":
            return False
        user_named = (found is None or not via_model) and isinstance(part, str)
        if user_named and _CREDENTIAL_LIKE.search(part):
            return True
        node = found[1] if found is not None else None
    return False


def _redacted_input(path: tuple[Any, ...], source: StackSource | None) -> bool:
    """Never echo a value that may be secret: a secret path or a credential-like key."""
    if _named_like_credential(path):
        return True
    return source is not None and source.is_secret(f"{NAMESPACE}:{path[0]}", tuple(path[1:]))


def _problems(error: ValidationError, source: StackSource | None = None) -> list[tuple[str, str]]:
    by_path: dict[str, list[str]] = {}
    for item in error.errors():
        raw_loc = tuple(item["loc"])
        ctx_error = (item.get("ctx") or {}).get("error")
        if isinstance(ctx_error, FieldError):
            here, node = camel_loc(raw_loc)
            inner, _ = camel_loc(ctx_error.loc, node)
            by_path.setdefault(_path(here + inner), []).append(str(ctx_error))
            continue
        if item["type"] == "extra_forbidden":  # the key as written, not the field it resembles
            loc = camel_loc(raw_loc[:-1])[0] + raw_loc[-1:]
        else:
            loc, _ = camel_loc(raw_loc)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "is_instance_of":
            continue  # the pulumi.Output branch of an Input[T]: a stack file holds plain values
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(loc[:-1])
            wanted = camel(str(loc[-1]))
            hint = f" (did you mean {wanted}? stack files spell keys in camelCase)"
            message = "unknown key" + (hint if wanted != loc[-1] and wanted in allowed else "")
            message += f"; allowed: {', '.join(allowed)}" if allowed else ""
        elif (
            item["type"] != "missing"
            and "input" in item
            and not isinstance(item["input"], dict | list)
            and not _redacted_input(loc, source)
        ):
            message = f"{message} (got {item['input']!r})"
        by_path.setdefault(_path(loc), []).append(message)
    problems = []
    for path, messages in by_path.items():
        unique = list(dict.fromkeys(messages))
        problems.append((path, "; or ".join(unique) if len(unique) > 1 else unique[0]))
    return problems


def _scrub(problems: list[tuple[str, str]], source: StackSource) -> list[tuple[str, str]]:
    """Last guard: no message may contain the value of a secret or credential-like key."""
    values = _sensitive_values(source)
    if not values:
        return problems
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(v) for v in values) + r")(?![\w-])")
    return [(path, pattern.sub("[secret]", message)) for path, message in problems]


def _sensitive_values(source: StackSource) -> list[str]:
    """Values of secret leaves, of credential-like keys and of credential-like provider keys."""
    found: set[str] = set()

    def walk(value: Any, sensitive: bool, key: str, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, sensitive, key, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, sensitive, key, (*path, i))
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            ours = key.startswith(f"{NAMESPACE}:")
            name = key.split(":", 1)[1]
            if (
                sensitive
                or source.is_secret(key, path)
                or (ours and _named_like_credential((name, *path)))
            ) and len(str(value)) >= 3:
                found.add(str(value))

    fields = {f.alias or n for n, f in StackConfig.model_fields.items()}
    for key, value in source.values().items():
        namespace, _, name = key.partition(":")
        by_name = (namespace != NAMESPACE or name not in fields) and bool(
            _CREDENTIAL_LIKE.search(name) or key in PROVIDER_SECRET_KEYS
        )
        walk(value, by_name, key, ())
    return sorted(found, key=len, reverse=True)


# --- parse -----------------------------------------------------------------------------------


def parse(
    stack: str,
    raw: Mapping[str, Any],
    secret_keys: set[str] | frozenset[str],
    *,
    source: StackSource | None = None,
) -> StackConfig:
    """Validate a stack's config. Raises :class:`StackConfigError` with every problem found.

    ``raw`` is the flat map the engine hands a program (``{"webplatform:apps": "<json>"}``)
    and ``secret_keys`` its secret keys; ``source``, when given, is the stack file as read
    (typed values, secret leaves): what is validated then. Keys of other namespaces belong
    to providers: only credentials and ``aws:region`` are checked.
    """
    if source is None:
        source = StackSource(
            file=stack_file(stack),
            flat=dict(raw),
            secret_keys=frozenset(secret_keys),
            secret_paths=frozenset((k,) for k in secret_keys),
        )
    # Review stacks (dev-pr-<N>): namespace, hosts and cluster derived from the stack name,
    # a name another stack uses refused (infra/review.py).
    values = _review.apply(stack, source.values())
    ours = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith(f"{NAMESPACE}:")}
    fields = {f.alias or n for n, f in StackConfig.model_fields.items()}
    structured = {k: v for k, v in ours.items() if k in fields}
    extra_keys = {k for k in ours if k not in fields}
    problems = _provider_keys(values, source)
    problems += _cluster.shared_ci_role(stack, values, _review.ROOT)
    names = _app_names(structured.get("apps"))
    try:
        text = json.dumps(structured, allow_nan=False)
        config = StackConfig.model_validate_json(text, strict=True, by_alias=True, by_name=False)
    except ValidationError as exc:
        problems = _problems(exc, source) + problems + _unheard(names, exc)
        problems += _unknown_top_level(extra_keys, referenced_secret_keys(values))
        raise StackConfigError(source.file, _scrub(problems, source)) from None

    if not all(hasattr(app, "check_names") for app in config.apps.values()):
        problems += names  # else the app models have checked their names themselves
    problems += _secret_refs(config, ours, fields, source)
    problems += _unknown_top_level(
        extra_keys,
        (
            {k for a in config.apps.values() for k in a.secret_env.values()}
            if config.secrets.from_config
            else set()
        )
        | (
            {config.cluster.monitoring.receiver.credential}
            if config.cluster.monitoring is not None
            else set()
        ),
    )
    problems += _secret_leaves(source)
    problems += _plain_credentials_in_env(config, source)
    problems += _derived_names(config)
    problems += _secrets.replica_problems(config, values.get("aws:region"))
    if config.cluster.mode == "eks" and not values.get("aws:region"):
        problems.append(
            ("aws:region", "must be set when webplatform:cluster.mode is 'eks' (e.g. us-west-2)")
        )
    if problems:
        raise StackConfigError(source.file, _scrub(problems, source))
    return config


def _secret_refs(
    config: StackConfig, ours: Mapping[str, Any], fields: set[str], source: StackSource
) -> list[tuple[str, str]]:
    """Each ``secretEnv`` (and the alert receiver's credential) names a top-level key of this
    stack that is set, and secret."""
    problems = []
    monitoring = config.cluster.monitoring
    if monitoring is not None:
        key = monitoring.receiver.credential
        full = f"{NAMESPACE}:{key}"
        path = f"{NAMESPACE}:cluster.monitoring.receiver.credential"
        if key in fields:
            problems.append((path, f"{key!r} is a reserved key, not a secret"))
        elif key not in ours:
            problems.append(
                (path, f"secret {full} is not set; run: pulumi config set --secret {key} <value>")
            )
        elif not source.is_secret(full):
            problems.append(
                (
                    full,
                    "is stored in plain text; the alert receiver's credential must be a secret: "
                    f"pulumi config set --secret {key} <value>",
                )
            )
    for app_name, app in config.apps.items():
        for env_name, key in app.secret_env.items():
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
            elif not source.is_secret(full):
                problems.append(
                    (
                        full,
                        "is stored in plain text; a value used by secretEnv must be a secret: "
                        f"pulumi config set --secret {key} <value>",
                    )
                )
    return problems


def _unheard(problems: list[tuple[str, str]], error: ValidationError) -> list[tuple[str, str]]:
    """Name problems found on the raw config that validation did not already report."""
    reported = {path for path, _ in _problems(error)}
    return [p for p in problems if p[0] not in reported]


def _app_names(apps: Any) -> list[tuple[str, str]]:
    """App names become Service names: DNS-1035 labels (a letter first), at most 63."""
    if not isinstance(apps, dict):
        return []
    return [
        (
            f"{NAMESPACE}:apps.{name}",
            "an app name must be a DNS-1035 label (it names the app's Service): lowercase "
            "letters, digits and '-', starting with a letter, ending with a letter or digit, "
            f"at most {MAX_NAME} characters",
        )
        for name in apps
        if not (_DNS_1035.match(name) and len(name) <= MAX_NAME)
    ]


def _provider_keys(values: Mapping[str, Any], source: StackSource) -> list[tuple[str, str]]:
    """Credentials only as secrets; ``aws:region`` a region that exists."""
    problems = []
    for key in sorted(values):
        namespace, _, name = key.partition(":")
        if namespace == NAMESPACE:
            continue  # ours: checked against the models and secretEnv
        credential = key in PROVIDER_SECRET_KEYS or _SAYS_SECRET.search(name)
        # A credential is text; `kubernetes:enableSecretMutable: true` is a switch.
        text = isinstance(values[key], str) and values[key] != ""
        if credential and text and not source.is_secret(key):
            problems.append(
                (
                    key,
                    "is stored in plain text; a credential must be a secret: "
                    f"pulumi config set --secret {key} <value> (or leave it out and let the "
                    "provider read its environment)",
                )
            )
    region = values.get("aws:region")
    if region is not None and region not in AWS_REGIONS:
        problems.append(
            (
                "aws:region",
                "not an AWS region; e.g. us-west-2, eu-central-1 (the list is "
                "infra/config/stack.py AWS_REGIONS, dated 2026-11-29)",
            )
        )
    return problems


def secret_paths(source: StackSource) -> list[tuple[str, tuple[Any, ...]]]:
    """The secret leaves under ``webplatform:`` model keys: ``(full key, path)``."""
    fields = {f.alias or n for n, f in StackConfig.model_fields.items()}
    found = []
    for secret in sorted(source.secret_paths, key=str):
        key = str(secret[0])
        if key.startswith(f"{NAMESPACE}:") and key.split(":", 1)[1] in fields:
            found.append((key, tuple(secret[1:])))
    return found


def is_env_secret(key: str, path: tuple[Any, ...]) -> bool:
    """``webplatform:apps.<app>.env.<VAR>``: the one place a plain setting may be secret
    (it then goes to the app's Secret, not its ConfigMap)."""
    return key == f"{NAMESPACE}:apps" and len(path) == 3 and path[1] == "env"


def _secret_leaves(source: StackSource) -> list[tuple[str, str]]:
    """A secret must stay a secret: only where its setting is a Pulumi input (or an env
    value, which goes to the app's Secret) can it reach the resources as one."""
    problems = []
    external = _decoded_delivery(source) == "external-secrets"
    for key, path in secret_paths(source):
        if is_env_secret(key, path):
            if external:
                shown = display(key, path)
                problems.append(
                    (
                        shown,
                        "a secret env value, but secrets.delivery is external-secrets: the app's "
                        "Secret comes from AWS Secrets Manager; move it there through secretEnv "
                        f"({path[2]}: <key>, and pulumi config set --secret <key> <value>)",
                    )
                )
            continue
        shown = display(key, path)
        if not path:
            problems.append(
                (
                    shown,
                    "is a secret as a whole; only single values can be secrets: set the value "
                    f"in plain text and the secret leaf with pulumi config set --secret --path "
                    f"'{display(key, ('<path>',))}' <value>"
                    + (
                        " (the engine marks the whole key secret and the stack file was not "
                        f"read; run from the project directory, or set {CONFIG_FILE_ENV})"
                        if source.tree is None
                        else ""
                    ),
                )
            )
            continue
        _, node = camel_loc((key.split(":", 1)[1], *path))
        if node is None or not accepts_output(node):
            problems.append(
                (
                    shown,
                    "cannot be a secret: this setting decides what the stack creates, it is "
                    "not passed to a resource as a value (only apps.<app>.env values and "
                    "Pulumi inputs can be); store it in plain text: "
                    f"pulumi config set --path '{shown}' <value>",
                )
            )
    return problems


def _decoded_delivery(source: StackSource) -> Any:
    secrets = source.values().get(f"{NAMESPACE}:secrets")
    return secrets.get("delivery") if isinstance(secrets, dict) else None


def _plain_credentials_in_env(config: StackConfig, source: StackSource) -> list[tuple[str, str]]:
    """An env variable whose name says it holds a credential must be a secret."""
    problems = []
    for app_name, app in config.apps.items():
        for var in app.env:
            path = ("apps", app_name, "env", var)
            if _SAYS_SECRET.search(var) and not source.is_secret(f"{NAMESPACE}:apps", path[1:]):
                shown = display(f"{NAMESPACE}:apps", path[1:])
                problems.append(
                    (
                        shown,
                        "its name says it holds a credential, and it is in plain text (it would "
                        f"land in the ConfigMap): pulumi config set --secret --path '{shown}' "
                        "<value>, or reference a secret key through secretEnv",
                    )
                )
    return problems


# --- derived names ---------------------------------------------------------------------------


def object_names(name: str, app: Any, config: StackConfig) -> dict[str, list[str]]:
    """Kubernetes object names (kind -> names) the stack creates for one app, in its namespace.

    The seam the collision and length checks use: an app model that exposes
    ``object_names(name) -> {kind: [names]}`` (its components know their names) is asked;
    otherwise the names are derived here from the current components' conventions.
    """
    own = getattr(app, "object_names", None)
    if callable(own):
        return {kind: list(names) for kind, names in own(name).items()}
    strategy = getattr(app, "strategy", "rolling")
    found: dict[str, list[str]] = {
        "ServiceAccount": [name],
        "Service": [name],
        "ConfigMap": [f"{name}-config"],
    }
    if strategy == "blueGreen":
        found["Deployment"] = [f"{name}-blue", f"{name}-green"]
        found["Service"].append(f"{name}-preview")
        if getattr(app, "autoscaling", None) is not None:
            found["HorizontalPodAutoscaler"] = [f"{name}-blue", f"{name}-green"]
    elif strategy in ("argoBlueGreen", "argoCanary"):
        found["Rollout"] = [name]
        found["Service"].append(f"{name}-{'preview' if strategy == 'argoBlueGreen' else 'canary'}")
        found["AnalysisTemplate"] = [f"{name}-success-rate"]
    else:
        found["Deployment"] = [name]
        if getattr(app, "autoscaling", None) is not None:
            found["HorizontalPodAutoscaler"] = [name]
    if getattr(app, "secret_env", None):
        if config.secrets.delivery == "external-secrets":
            found["ExternalSecret"] = [f"{name}-secrets"]
            found["SecretStore"] = [f"{name}-aws-secrets-manager"]
        else:
            found["Secret"] = [f"{name}-secrets"]
    for attr, kind in (
        ("disruption_budget", "PodDisruptionBudget"),
        ("network_policy", "NetworkPolicy"),
        ("ingress", "Ingress"),
        ("route", "HTTPRoute"),
    ):
        if getattr(app, attr, None) is not None:
            found[kind] = [name]
    if getattr(app, "monitoring", None) is not None:
        found["PrometheusRule"] = [name]
        found["ServiceMonitor"] = [name]
    return found


def stack_object_names(config: StackConfig) -> dict[str, list[str]]:
    """Objects the stack itself creates in the apps' namespace (not per app)."""
    if any(getattr(a, "network_policy", None) is not None for a in config.apps.values()):
        return {"NetworkPolicy": ["default-deny"]}
    return {}


def _derived_names(config: StackConfig) -> list[tuple[str, str]]:
    """Every derived name fits (<= 63), and no two apps (or an app and the stack) make the
    same object: the API server would refuse the second, or one would overwrite the other."""
    problems = []
    owners: dict[tuple[str, str], list[str]] = {}
    for kind, stack_names in stack_object_names(config).items():
        for object_name in stack_names:
            owners.setdefault((kind, object_name), []).append("(the stack)")
    for app_name, app in config.apps.items():
        names = object_names(app_name, app, config)
        checked = hasattr(app, "check_names")  # an app model that checks its own lengths
        too_long = (
            []
            if checked
            else sorted(
                {f"{kind} {n}" for kind, ns in names.items() for n in ns if len(n) > MAX_NAME}
            )
        )
        if too_long:
            longest = max(len(n) for ns in names.values() for n in ns)
            problems.append(
                (
                    f"{NAMESPACE}:apps.{app_name}",
                    f"derived names longer than {MAX_NAME} characters: {', '.join(too_long)}; "
                    f"shorten the app name by {longest - MAX_NAME} characters",
                )
            )
        for kind, object_names_ in names.items():
            for object_name in object_names_:
                owners.setdefault((kind, object_name), []).append(app_name)
    for (kind, object_name), apps in sorted(owners.items()):
        if len(apps) > 1:
            named = [a for a in apps if a != "(the stack)"]
            problems.append(
                (
                    f"{NAMESPACE}:apps.{named[-1]}",
                    f"{kind} {object_name!r} in namespace {config.namespace} would be created "
                    f"by {' and '.join(repr(a) if a != '(the stack)' else a for a in apps)}; "
                    "rename one app",
                )
            )
    return problems


def with_secrets(config: StackConfig, source: StackSource) -> StackConfig:
    """``config`` with each secret leaf's value wrapped in ``pulumi.Output.secret``, so it
    stays a secret in every resource it reaches (:func:`parse` has refused secret leaves
    where no Output can go). An ``env`` value wrapped so goes to the app's Secret."""
    for key, path in secret_paths(source):
        if not path:
            continue
        config = _replace(config, (key.split(":", 1)[1], *path), pulumi.Output.secret)
    return config


def _replace(node: Any, path: tuple[Any, ...], change: Any) -> Any:
    """A copy of ``node`` with the value at ``path`` (stack-file keys) changed; frozen models
    are copied, not mutated."""
    if not path:
        return change(node)
    head, rest = path[0], path[1:]
    if isinstance(node, BaseModel):
        name = next(n for n, f in type(node).model_fields.items() if head in (n, f.alias))
        return node.model_copy(update={name: _replace(getattr(node, name), rest, change)})
    if isinstance(node, Mapping):
        return {**node, head: _replace(node[head], rest, change)}
    if isinstance(node, tuple | list):
        items = list(node)
        items[head] = _replace(items[head], rest, change)
        return type(node)(items)
    raise KeyError(path)


def referenced_secret_keys(raw: Mapping[str, Any]) -> set[str]:
    """Secret config keys (without namespace) named by apps' ``secretEnv``; best effort on raw input.

    Used before validation has succeeded, so it tolerates any shape.
    """
    receiver = receiver_credential_keys(raw)
    apps = decode(raw.get(f"{NAMESPACE}:apps", {}))
    if not isinstance(apps, dict):
        return receiver
    secrets = decode(raw.get(f"{NAMESPACE}:secrets", {}))
    if isinstance(secrets, dict) and secrets.get("valueSource") == "outOfBand":
        return receiver  # the apps' values live in AWS Secrets Manager, not in the config
    found = set()
    for app in apps.values():
        secret_env = app.get("secretEnv") if isinstance(app, dict) else None
        if isinstance(secret_env, dict):
            found |= {key for key in secret_env.values() if isinstance(key, str)}
    return found | receiver_credential_keys(raw)


def receiver_credential_keys(raw: Mapping[str, Any]) -> set[str]:
    """The alert receiver's credential key (``cluster.monitoring.receiver.credential``), which
    is a secret of the stack whatever ``secrets.valueSource`` says; best effort on raw input."""
    cluster = decode(raw.get(f"{NAMESPACE}:cluster", {}))
    monitoring = cluster.get("monitoring") if isinstance(cluster, dict) else None
    receiver = monitoring.get("receiver") if isinstance(monitoring, dict) else None
    key = receiver.get("credential") if isinstance(receiver, dict) else None
    return {key} if isinstance(key, str) else set()


def _unknown_top_level(keys: set[str], referenced: set[str]) -> list[tuple[str, str]]:
    allowed = [f.alias or n for n, f in StackConfig.model_fields.items()]
    return [
        (
            f"{NAMESPACE}:{key}",
            f"unknown key; allowed: {', '.join(allowed)}, or a secret referenced by an app's "
            "secretEnv or by cluster.monitoring.receiver.credential",
        )
        for key in sorted(keys - referenced)
    ]


def read_source(
    stack: str, config_file: Path | None = None, shown: str | None = None
) -> StackSource:
    """The running program's config: the stack file the engine read, typed, with the engine's
    values (:func:`infra.config._source.combine`); the engine's config alone when that file
    is not there or not the one the engine read.

    Which file: ``config_file``, else ``$WEBPLATFORM_CONFIG_FILE`` (set it to the same FILE
    as ``pulumi up --config-file FILE``: the CLI does not tell the program), else
    ``Pulumi.<stack>.yaml`` next to ``Pulumi.yaml`` (``pulumi.get_root_directory()``).
    """
    from pulumi.runtime import config as runtime_config

    # The engine passes config in PULUMI_CONFIG (real runs) or set_all_config (mocks); the SDK
    # offers no public way to list keys, which we need to reject unknown ones.
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = frozenset(k for k in raw if runtime_config.is_config_secret(k))
    chosen = config_file or os.environ.get(CONFIG_FILE_ENV)
    if chosen:
        path = Path(chosen)
        shown = shown or str(chosen)
    else:
        root = pulumi.get_root_directory()
        if not root:
            return StackSource(
                file=f"{stack_file(stack)} (not read: no project directory; the engine's config)",
                flat=raw,
                secret_keys=secret_keys,
                secret_paths=frozenset((k,) for k in secret_keys),
            )
        path = Path(root) / stack_file(stack)
    try:
        return combine(path, pulumi.get_project(), raw, secret_keys, shown=shown)
    except SourceError as exc:
        raise StackConfigError(exc.file, exc.problems) from None
    except UnreadableError as exc:
        raise StackConfigError(shown or path.name, [("(file)", str(exc))]) from None


def load(
    config_file: Path | None = None, shown: str | None = None
) -> tuple[StackConfig, StackSource]:
    """Parse the running stack's configuration (see :func:`read_source`), before any
    resource; also return the source, which says which values are secret. ``shown``: how
    errors name the file (default: as given, or its name)."""
    stack = pulumi.get_stack()
    source = read_source(stack, config_file, shown)
    for note in source.notes:
        pulumi.log.warn(f"webplatform config: {note}")
    return parse(stack, source.flat, source.secret_keys, source=source), source


def from_pulumi(config_file: Path | None = None) -> StackConfig:
    """Parse the running stack's configuration; see :func:`load`."""
    return load(config_file)[0]

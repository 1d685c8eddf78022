"""Secrets in a stack file: which leaves are secret, where a secret may stand, which keys
secretEnv references, and the refusal of credentials in plain text.

Secrets are either top-level keys set with ``pulumi config set --secret <key>`` and
referenced by name from an app's ``secretEnv`` (or the alert receiver's ``credential``),
or leaves set with ``pulumi config set --secret --path``, which only a Pulumi input (or an
``env`` value, which then goes to the app's Secret) may be.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import pulumi
from pydantic import BaseModel

from infra.config._base import NAMESPACE, Problem
from infra.config._source import CONFIG_FILE_ENV, StackSource, decode, display
from infra.config.keys import accepts_output, camel_loc, is_model, step
from infra.config.stack import KEYS, StackConfig

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
CREDENTIAL_LIKE = re.compile(
    r"token|passw|secret|key|credential|kubeconfig|auth|cert|private|dsn|url", re.IGNORECASE
)


@lru_cache(maxsize=8192)
def named_like_credential(loc: tuple[Any, ...]) -> bool:
    """True when a key on the path that a user named (a map key such as an env variable,
    not a field of ours) says it holds a credential. ``secretEnv`` values name secret
    keys: they are not secrets themselves. Cached: the last guard of every error message
    asks it for each leaf of the stack file, and the answer depends on the path alone."""
    node: Any = StackConfig
    for part in loc:
        found = step(node, part) if node is not None else None
        if found is not None and found[0] == "secretEnv":
            return False
        user_named = found is None or node is None or not is_model(node)
        if user_named and isinstance(part, str) and CREDENTIAL_LIKE.search(part):
            return True
        node = found[1] if found is not None else None
    return False


def provider_credentials(values: Mapping[str, Any], source: StackSource) -> Iterator[Problem]:
    """Provider credentials only as secrets."""
    for key in sorted(values):
        namespace, _, name = key.partition(":")
        if namespace == NAMESPACE:
            continue  # ours: checked against the models and secretEnv
        credential = key in PROVIDER_SECRET_KEYS or _SAYS_SECRET.search(name)
        # A credential is text; `kubernetes:enableSecretMutable: true` is a switch.
        text = isinstance(values[key], str) and values[key] != ""
        if credential and text and not source.is_secret(key):
            yield (
                key,
                (
                    "is stored in plain text; a credential must be a secret: "
                    f"pulumi config set --secret {key} <value> (or leave it out and let the "
                    "provider read its environment)"
                ),
            )


def secret_paths(source: StackSource) -> list[tuple[str, tuple[Any, ...]]]:
    """The secret leaves under ``webplatform:`` model keys: ``(full key, path)``."""
    found = []
    for key, *path in sorted(source.secret_paths, key=str):
        namespace, _, name = str(key).partition(":")
        if namespace == NAMESPACE and name in KEYS:
            found.append((str(key), tuple(path)))
    return found


def secret_leaves(config: StackConfig, source: StackSource) -> Iterator[Problem]:
    """A secret must stay a secret: only where its setting is a Pulumi input (or an env
    value, which goes to the app's Secret) can it reach the resources as one."""
    for key, path in secret_paths(source):
        shown = display(key, path)
        # apps.<app>.env.<VAR>: the one place a plain setting may be secret (-> the Secret)
        if key == f"{NAMESPACE}:apps" and len(path) == 3 and path[1] == "env":
            if config.secrets.delivery == "external-secrets":
                yield (
                    shown,
                    (
                        "a secret env value, but secrets.delivery is external-secrets: the app's "
                        "Secret comes from AWS Secrets Manager; move it there through secretEnv "
                        f"({path[2]}: <key>, and pulumi config set --secret <key> <value>)"
                    ),
                )
        elif not path:
            not_read = (
                " (the engine marks the whole key secret and the stack file was not "
                f"read; run from the project directory, or set {CONFIG_FILE_ENV})"
            )
            yield (
                shown,
                (
                    "is a secret as a whole; only single values can be secrets: set the value "
                    f"in plain text and the secret leaf with pulumi config set --secret --path "
                    f"'{display(key, ('<path>',))}' <value>"
                    + (not_read if source.tree is None else "")
                ),
            )
        elif not accepts_output(camel_loc((key.split(":", 1)[1], *path))[1]):
            yield (
                shown,
                (
                    "cannot be a secret: this setting decides what the stack creates, it is "
                    "not passed to a resource as a value (only apps.<app>.env values and "
                    "Pulumi inputs can be); store it in plain text: "
                    f"pulumi config set --path '{shown}' <value>"
                ),
            )


def plain_credentials_in_env(config: StackConfig, source: StackSource) -> Iterator[Problem]:
    """An env variable whose name says it holds a credential must be a secret."""
    for app_name, app in config.apps.items():
        for var in app.env:
            where = (app_name, "env", var)
            shown = display(f"{NAMESPACE}:apps", where)
            if _SAYS_SECRET.search(var) and not source.is_secret(f"{NAMESPACE}:apps", where):
                yield (
                    shown,
                    (
                        "its name says it holds a credential, and it is in plain text (it would "
                        f"land in the ConfigMap): pulumi config set --secret --path '{shown}' "
                        "<value>, or reference a secret key through secretEnv"
                    ),
                )


def secret_refs(
    config: StackConfig, ours: Mapping[str, Any], source: StackSource
) -> Iterator[Problem]:
    """Each ``secretEnv`` (and the alert receiver's credential) names a top-level key of this
    stack that is set, and secret."""
    refs = [
        (f"apps.{app_name}.secretEnv.{env}", key, "a value used by secretEnv", True)
        for app_name, app in config.apps.items()
        for env, key in app.secret_env.items()
    ]
    if config.cluster.monitoring is not None:
        credential = config.cluster.monitoring.receiver.credential
        what = "the alert receiver's credential"
        refs.insert(0, ("cluster.monitoring.receiver.credential", credential, what, False))
    for path, key, what, by_source in refs:
        full = f"{NAMESPACE}:{key}"
        if key in KEYS:
            yield f"{NAMESPACE}:{path}", f"{key!r} is a reserved key, not a secret"
        elif by_source and not config.secrets.from_config:
            if key in ours:
                yield (
                    full,
                    (
                        "is set, but secrets.valueSource is outOfBand: the value lives in "
                        "AWS Secrets Manager only and this one would never be used; "
                        f"remove it: pulumi config rm {key}"
                    ),
                )
        elif key not in ours:
            yield (
                f"{NAMESPACE}:{path}",
                (f"secret {full} is not set; run: pulumi config set --secret {key} <value>"),
            )
        elif not source.is_secret(full):
            yield (
                full,
                (
                    f"is stored in plain text; {what} must be a secret: "
                    f"pulumi config set --secret {key} <value>"
                ),
            )


def referenced_secret_keys(raw: Mapping[str, Any]) -> set[str]:
    """Secret config keys (without namespace) named by apps' ``secretEnv`` and the alert
    receiver; best effort on raw input (used before validation has succeeded)."""
    receiver = receiver_credential_keys(raw)
    apps = decode(raw.get(f"{NAMESPACE}:apps", {}))
    secrets = decode(raw.get(f"{NAMESPACE}:secrets", {}))
    if not isinstance(apps, dict) or (
        isinstance(secrets, dict) and secrets.get("valueSource") == "outOfBand"
    ):
        return receiver  # outOfBand: the apps' values live in AWS Secrets Manager
    found = set()
    for app in apps.values():
        secret_env = app.get("secretEnv") if isinstance(app, dict) else None
        if isinstance(secret_env, dict):
            found |= {key for key in secret_env.values() if isinstance(key, str)}
    return found | receiver


def receiver_credential_keys(raw: Mapping[str, Any]) -> set[str]:
    """The alert receiver's credential key (``cluster.monitoring.receiver.credential``), which
    is a secret of the stack whatever ``secrets.valueSource`` says; best effort on raw input."""
    cluster = decode(raw.get(f"{NAMESPACE}:cluster", {}))
    monitoring = cluster.get("monitoring") if isinstance(cluster, dict) else None
    receiver = monitoring.get("receiver") if isinstance(monitoring, dict) else None
    key = receiver.get("credential") if isinstance(receiver, dict) else None
    return {key} if isinstance(key, str) else set()


def unknown_top_level(keys: set[str], referenced: set[str]) -> list[tuple[str, str]]:
    """``webplatform:`` keys that are neither a model key nor a referenced secret."""
    return [
        (
            f"{NAMESPACE}:{key}",
            f"unknown key; allowed: {', '.join(KEYS)}, or a "
            "secret referenced by an app's secretEnv or by cluster.monitoring.receiver.credential",
        )
        for key in sorted(keys - referenced)
    ]


def with_secrets(config: StackConfig, source: StackSource) -> StackConfig:
    """``config`` with each secret leaf's value wrapped in ``pulumi.Output.secret``, so it
    stays a secret in every resource it reaches (``parse`` has refused secret leaves where
    no Output can go). An ``env`` value wrapped so goes to the app's Secret."""
    for key, path in secret_paths(source):
        if path:
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

"""The error report: a pydantic error as ``(key path, message)`` problems that name each
key as the stack file spells it and what is allowed, and never a secret's value."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from infra.config._base import NAMESPACE, Problem
from infra.config._source import StackSource
from infra.config.keys import allowed_keys, camel_loc, key_path
from infra.config.secret_values import CREDENTIAL_LIKE, PROVIDER_SECRET_KEYS, named_like_credential
from infra.config.stack import KEYS
from webplatform._model import FieldError, camel


def problems(error: ValidationError, source: StackSource | None = None) -> list[Problem]:
    """One problem per key path; several messages for one key joined by "; or "."""
    by_path: dict[str, list[str]] = {}
    for item in error.errors():
        # A dict key's error is at (..., key, "[key]"): the key path is the key's.
        raw_loc, kind = tuple(p for p in item["loc"] if p != "[key]"), item["type"]
        ctx_error = (item.get("ctx") or {}).get("error")
        if isinstance(ctx_error, FieldError):
            here, node = camel_loc(raw_loc)
            inner, _ = camel_loc(ctx_error.loc, node)
            by_path.setdefault(key_path(here + inner), []).append(str(ctx_error))
            continue
        if kind == "is_instance_of":
            continue  # the pulumi.Output branch of an Input[T]: a stack file holds plain values
        message = item["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":  # the key as written, not the field it resembles
            loc = camel_loc(raw_loc[:-1])[0] + raw_loc[-1:]
            allowed, wanted = allowed_keys(loc[:-1]), camel(str(loc[-1]))
            hint = f" (did you mean {wanted}? stack files spell keys in camelCase)"
            message = "unknown key" + (hint if wanted != loc[-1] and wanted in allowed else "")
            message += f"; allowed: {', '.join(allowed)}" if allowed else ""
        else:
            loc = camel_loc(raw_loc)[0]
            shown = "input" in item and not isinstance(item["input"], dict | list)
            if kind != "missing" and shown and not _may_be_secret(loc, source):
                message = f"{message} (got {item['input']!r})"
        by_path.setdefault(key_path(loc), []).append(message)
    return [(path, "; or ".join(dict.fromkeys(messages))) for path, messages in by_path.items()]


def _may_be_secret(path: tuple[Any, ...], source: StackSource | None) -> bool:
    """Never echo a value that may be secret: a secret path or a credential-like key."""
    if named_like_credential(path):
        return True
    return source is not None and source.is_secret(f"{NAMESPACE}:{path[0]}", tuple(path[1:]))


def scrub(found: list[Problem], source: StackSource) -> list[Problem]:
    """Last guard: no message may contain the value of a secret or credential-like key."""
    values = _sensitive_values(source)
    if not values:
        return found
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(v) for v in values) + r")(?![\w-])")
    return [(path, pattern.sub("[secret]", message)) for path, message in found]


def _sensitive_values(source: StackSource) -> list[str]:
    """Values of secret leaves, of credential-like keys and of credential-like provider keys."""
    found: set[str] = set()

    def walk(value: Any, sensitive: bool, key: str, path: tuple[Any, ...]) -> None:
        if isinstance(value, dict | list):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                walk(v, sensitive, key, (*path, k))
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            ours = key.startswith(f"{NAMESPACE}:")
            name = key.split(":", 1)[1]
            if (
                sensitive
                or source.is_secret(key, path)
                or (ours and named_like_credential((name, *path)))
            ) and len(str(value)) >= 3:
                found.add(str(value))

    for key, value in source.values().items():
        namespace, _, name = key.partition(":")
        by_name = (namespace != NAMESPACE or name not in KEYS) and bool(
            CREDENTIAL_LIKE.search(name) or key in PROVIDER_SECRET_KEYS
        )
        walk(value, by_name, key, ())
    return sorted(found, key=len, reverse=True)

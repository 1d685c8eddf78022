"""Checks shared by the args dataclasses; each raises ``ValueError`` naming field, value and rule."""

from __future__ import annotations

import re
from collections.abc import Iterable

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def dns_label(field: str, value: str, max_length: int = 63) -> None:
    """Kubernetes object names that end up in DNS (Services, namespaces) are RFC 1123 labels."""
    if not isinstance(value, str) or len(value) > max_length or not _DNS_LABEL.match(value):
        raise ValueError(
            f"{field}={value!r}: must be a DNS label: lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {max_length} characters"
        )


def port(field: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError(f"{field}={value!r}: must be a TCP port from 1 to 65535")


def env_names(field: str, names: Iterable[str]) -> None:
    for name in names:
        if not _ENV_NAME.match(name):
            raise ValueError(
                f"{field}: {name!r} is not a valid environment variable name "
                "(letters, digits and '_', not starting with a digit)"
            )


def one_of(field: str, value: object, allowed: Iterable[object]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{field}={value!r}: must be one of {', '.join(map(repr, allowed))}")

"""Field types shared by the args models: names, ports, quantities, images, int-or-percent.

Each is an ``Annotated`` type, so a model declares ``port: Port`` and gets the
bound, the JSON Schema and the message in one place. Messages name the rule and
the fix, never the value (a value may be secret; pydantic's ``hide_input_in_errors``
keeps it out of the error too).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Annotated, Any, Union

import pulumi
from pydantic import AfterValidator, Field, InstanceOf, PlainValidator, WithJsonSchema

from webplatform._quantity import parse_cpu, parse_memory

#: RFC 1035 label: what a Service name must be (it becomes a DNS name; no leading digit).
DNS_1035 = r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
#: RFC 1123 label: namespaces and most object names (may start with a digit).
DNS_1123 = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
#: RFC 1123 subdomain: names of objects that are not labels (Secrets, ConfigMaps, issuers).
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
#: A public host name: fully qualified, lowercase, at least two labels, no trailing dot.
HOSTNAME = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_PERCENT = re.compile(r"^(0|[1-9][0-9]{0,3})%$")
# Docker reference grammar (distribution/reference): an optional registry host[:port], then
# lowercase path components separated by '/', then ':tag' and/or '@sha256:digest'.
_REGISTRY = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"(?::[0-9]+)?$"
)
_REPOSITORY = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_IMAGE_FORM = "expected [registry/]lowercase/path:tag or [registry/]path@sha256:<64 hex>"


def check_image(value: str) -> str:
    """A container image reference with a tag or digest and a lowercase repository path.

    The first component is a registry only when it looks like a host (a dot, a port, or
    ``localhost``), as Docker decides. A capital in the path is an error the kubelet would
    only report at pull time (``InvalidImageName``), long after ``pulumi up`` succeeded.
    """
    rest, _, digest = value.partition("@")
    if digest and not _DIGEST.match(digest):
        raise ValueError(f"image: the digest must be sha256:<64 lowercase hex>; {_IMAGE_FORM}")
    first, _, remainder = rest.partition("/")
    registry = None
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, rest = first, remainder
    if registry is not None and not _REGISTRY.match(registry):
        raise ValueError(f"image: {registry!r} is not a registry host[:port]; {_IMAGE_FORM}")
    name, tag = rest, None
    if ":" in rest.rsplit("/", 1)[-1]:
        name, _, tag = rest.rpartition(":")
    if not _REPOSITORY.match(name):
        hint = " must be lowercase" if _REPOSITORY.match(name.lower()) else " is not valid"
        raise ValueError(f"image: the repository path{hint}; {_IMAGE_FORM}")
    if tag is not None and not _TAG.match(tag):
        raise ValueError("image: the tag is not valid (letters, digits, '_', '.', '-'; <= 128)")
    if tag is None and not digest:
        raise ValueError(
            "image: name a tag or digest (e.g. 'ghcr.io/example/web:1.4.2'); an untagged "
            "image silently means 'latest'"
        )
    return value


def _cpu(value: str) -> str:
    parse_cpu(value)
    return value


def _memory(value: str) -> str:
    parse_memory(value)
    return value


def _int_or_percent(value: object) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _PERCENT.match(value):
        return value
    raise ValueError(
        "must be a whole number of pods >= 0 (e.g. 1) or a percentage string like '25%'"
    )


def _label_keys(value: dict[str, str]) -> dict[str, str]:
    bad = sorted(k for k in value if not _LABEL_KEY.match(k))
    if bad:
        raise ValueError(f"{bad} are not Kubernetes label keys ([prefix/]name, name <= 63)")
    if any(not _LABEL_VALUE.match(v) for v in value.values()):
        raise ValueError("label values must be <= 63 letters, digits, '-', '_' or '.'")
    return value


DnsLabel = Annotated[str, Field(pattern=DNS_1123, max_length=63)]
"""A DNS-1123 label (namespaces, most object names)."""
ServiceName = Annotated[str, Field(pattern=DNS_1035, max_length=63)]
"""A DNS-1035 label: starts with a letter (Service names, and app names, which become them)."""
Subdomain = Annotated[str, Field(pattern=DNS_SUBDOMAIN, max_length=253)]
Hostname = Annotated[str, Field(pattern=HOSTNAME, max_length=253)]
Port = Annotated[int, Field(ge=1, le=65535)]
EnvName = Annotated[str, Field(pattern=ENV_NAME)]
Image = Annotated[str, AfterValidator(check_image)]
Cpu = Annotated[str, AfterValidator(_cpu)]
"""Cores (``"0.5"``) or millicores (``"250m"``)."""
Memory = Annotated[str, AfterValidator(_memory)]
"""Bytes with a unit (``"256Mi"``, ``"1Gi"``)."""
IntOrPercent = Annotated[
    int | str,
    PlainValidator(_int_or_percent),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": _PERCENT.pattern},
            ]
        }
    ),
]
"""``maxSurge``-style: a whole number >= 0 or ``"N%"``."""
Labels = Annotated[dict[str, str], AfterValidator(_label_keys)]


def percent(value: int | str) -> tuple[int, bool]:
    """(number, is_percent) of a validated :data:`IntOrPercent`."""
    if isinstance(value, str):
        return int(value[:-1]), True
    return value, False


def pods_of(value: int | str, pods: int) -> int:
    """A count, or ``"N%"`` of ``pods`` rounded up (as Kubernetes rounds surges and budgets)."""
    number, is_percent = percent(value)
    return math.ceil(pods * number / 100) if is_percent else number


if TYPE_CHECKING:
    from pulumi import Input as Wired
else:

    class Wired:
        """``Wired[str]``: a value or a ``pulumi.Output`` of one, like ``webplatform._model.Input``
        but without its field metadata, for optional fields (``Wired[str] | None``) and dict
        values, where pydantic warns about field metadata inside a union or a container."""

        def __class_getitem__(cls, item: Any) -> Any:
            return Union[item, InstanceOf[pulumi.Output]]  # noqa: UP007 - a runtime type object

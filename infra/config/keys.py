"""Key paths through the stack model: a pydantic ``loc`` (field names or aliases, maybe
with union-branch labels) as the stack file spells it, and the type found there."""

from __future__ import annotations

from collections.abc import Mapping
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pulumi
from pydantic import BaseModel

from infra.config._base import NAMESPACE
from infra.config._source import display
from infra.config.stack import StackConfig


def members(annotation: Any) -> list[Any]:
    """The types an annotation allows: ``Annotated`` and unions unwrapped."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        return [m for a in get_args(annotation) for m in members(a)]
    return [annotation]


def is_model(node: Any) -> bool:
    return any(isinstance(m, type) and issubclass(m, BaseModel) for m in members(node))


def step(node: Any, part: Any) -> tuple[Any, Any] | None:
    """One key of a loc through a type: ``(its camelCase spelling, the type below)``."""
    for member in members(node):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for name, info in member.model_fields.items():
                if part in (name, info.alias):
                    return info.alias or name, info.annotation
        origin, args = get_origin(member), get_args(member)
        if origin in (dict, Mapping) and isinstance(part, str):
            return part, args[1] if args else Any
        if origin in (list, tuple) and (isinstance(part, int) or str(part).isdigit()):
            return int(part), args[0] if args else Any
    return None


def camel_loc(loc: tuple[Any, ...], model: Any = None) -> tuple[tuple[Any, ...], Any]:
    """A loc as stack-file keys, and the type found there (None when lost); from
    ``model``, else from :class:`StackConfig`."""
    node, out = model or StackConfig, []
    for part in loc:
        found = step(node, part) if node is not None else None
        if found is not None:
            key, node = found
            out.append(key)
            continue
        # pydantic names the union branch it tried ('int', 'ColorSpec', 'function-after[..]')
        options = [m for m in members(node) if m is not type(None)] if node is not None else []
        named = [m for m in options if getattr(m, "__name__", None) == part]
        if len(options) > 1 and named:
            node = named[0]
            continue
        out.append(part)
        node = None
    return tuple(out), node


def key_path(loc: tuple[Any, ...]) -> str:
    """``("apps", "web", "env", "A")`` -> ``webplatform:apps.web.env.A``."""
    head, *rest = list(loc) or [""]
    return display(f"{NAMESPACE}:{head}", tuple(rest))


def allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Keys allowed in the map at ``loc`` (for "unknown key" errors); [] when it is not a model."""
    node = camel_loc(loc)[1]
    models = [m for m in members(node) if isinstance(m, type) and issubclass(m, BaseModel)]
    return [f.alias or n for n, f in models[0].model_fields.items()] if models else []


def accepts_output(annotation: Any) -> bool:
    """True when a field's type takes a ``pulumi.Output`` (``Input[T]``): only such a field can
    carry a secret value through to the resources."""
    return any(isinstance(m, type) and issubclass(m, pulumi.Output) for m in members(annotation))

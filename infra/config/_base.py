"""Shared by the area modules: the base model, the error type and located errors."""

from __future__ import annotations

import re
from typing import Any, Literal

import pulumi
from pydantic import (
    BaseModel,
    ConfigDict,
)
from pydantic.alias_generators import to_camel

from webplatform._model import FieldError

NAMESPACE = "webplatform"
MIN_KUBERNETES_MINOR = 30
MAX_KUBERNETES_MINOR = 37
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

Environment = Literal["dev", "staging", "uat", "production"]


class StackConfigError(pulumi.RunError):
    """Invalid stack configuration. ``pulumi up`` prints the message without a traceback
    (a ``RunError``), and synth prints it and exits 2. ``problems`` are ``(key path,
    message)``; the key path is camelCase, as in the stack file."""

    def __init__(self, stack_file: str, problems: list[tuple[str, str]]) -> None:
        self.stack_file = stack_file
        self.problems = problems
        lines = [f"{stack_file}: invalid stack configuration ({len(problems)} problem(s)):"]
        lines += [f"  {path}: {message}" for path, message in problems]
        super().__init__("\n".join(lines))


class _Model(BaseModel):
    """Base of the stack-level models (StackConfig and what composes the areas). Validated
    strictly, by alias only (see ``infra.config.stack.parse``); built on first use
    (``defer_build``), so importing ``infra.config`` does not pay for every class."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        defer_build=True,
    )


def _set_fields(model: BaseModel, *skip: str) -> dict[str, Any]:
    """The fields a stack file set (others fall back to the component's default: no third layer)."""
    return {
        name: getattr(model, name)
        for name in model.model_fields_set
        if name not in skip and getattr(model, name) is not None
    }


# Old spelling of webplatform._model.FieldError/at: loc may name fields or their camelCase keys.
_LocatedError = FieldError


def _at(loc: tuple[str, ...], message: str) -> FieldError:
    return FieldError(loc, message)

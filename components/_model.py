"""The base of every component's args: one pydantic model per component, the one place
its settings are declared (type, default, bounds, a one-line description).

Why pydantic and these settings:

- ``strict``: no coercion. ``"3"``, ``3.0`` and ``True`` are not the integer 3, and
  ``"y"``/``"off"`` are not booleans: a lax parser once opened a cluster endpoint to the
  internet from ``allowOpenToInternet: "y"``.
- ``extra="forbid"``: a misspelt key is an error that lists the allowed keys, never a
  setting silently ignored.
- ``frozen``: args are values; a component cannot be changed behind its back.
- camelCase aliases serve the stack files; Python importers use the snake_case names.
  Stack files are validated with ``by_name=False`` (see :func:`from_stack`), so
  ``service_port`` in YAML is an unknown key there, as docs/guides/configuration.md says.
- ``defer_build``: classes are built on first use, not at import: a stack that never
  touches the CDN or the cluster models does not pay for them.

Fields that may be wired from other resources take :data:`Input` (a plain value or a
``pulumi.Output``); plain knobs are plain types. Sequences are tuples (immutable), and
accept a list from Python or YAML.

Cross-field rules are ``model_validator(mode="after")`` methods on the model that owns
the fields. To blame one key rather than the whole model, raise :func:`at`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union

import pulumi
from pydantic import BaseModel, BeforeValidator, ConfigDict, InstanceOf, WithJsonSchema
from pydantic.alias_generators import to_camel

__all__ = ["Args", "FieldError", "Input", "Items", "at", "camel"]

T = TypeVar("T")


def camel(name: str) -> str:
    """The stack-file spelling of a field name (``service_port`` -> ``servicePort``)."""
    return to_camel(name)


class Args(BaseModel):
    """Base class of every ``XxxArgs``: strict, frozen, camelCase aliases, unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        arbitrary_types_allowed=True,
        defer_build=True,
        use_attribute_docstrings=True,
        hide_input_in_errors=True,
    )


def _listed(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


if TYPE_CHECKING:
    # Imported, not `Input = pulumi.Input`: mypy would see an alias with no parameter.
    from pulumi import Input as Input

    Items = tuple[T, ...]
else:

    class Input:
        """``Input[str]``: a ``str`` or a ``pulumi.Output`` of one (mypy sees ``pulumi.Input``)."""

        def __class_getitem__(cls, item: Any) -> Any:
            return Annotated[
                Union[item, InstanceOf[pulumi.Output]],  # noqa: UP007 - a runtime type object
                WithJsonSchema(_plain_schema(item)),
            ]

    class Items:
        """``Items[str]``: an immutable tuple that also accepts a list (YAML, JSON, Python)."""

        def __class_getitem__(cls, item: Any) -> Any:
            return Annotated[tuple[item, ...], BeforeValidator(_listed)]


def _plain_schema(item: Any) -> dict[str, Any]:
    """JSON Schema of an Input's plain type: a stack file can only hold the plain value."""
    return {str: {"type": "string"}, int: {"type": "integer"}, bool: {"type": "boolean"}}.get(
        item, {}
    )


class FieldError(ValueError):
    """A cross-field error that knows the key it belongs to; pydantic would blame the model.

    ``loc`` is relative to the model whose validator raised it, in field names (snake_case);
    the stack-config error report turns it into the camelCase key path.
    """

    def __init__(self, loc: Iterable[str], message: str) -> None:
        super().__init__(message)
        self.loc = tuple(loc)


def at(*loc: str, message: str) -> FieldError:
    """``raise at("blue_green", "green", "replicas", message="...")`` from a model validator."""
    return FieldError(loc, message)

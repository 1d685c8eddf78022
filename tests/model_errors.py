"""Reading a component model's ValidationError as a stack file's reader would: key path and message."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from webplatform._model import FieldError, camel


def problems(error: ValidationError) -> list[tuple[str, str]]:
    """``[(camelCase.key.path, message)]``: a model validator's :func:`at` blames its key."""
    found = []
    for item in error.errors():
        loc = tuple(str(p) for p in item["loc"])
        ctx = (item.get("ctx") or {}).get("error")
        if isinstance(ctx, FieldError):
            loc += tuple(camel(p) for p in ctx.loc)
        found.append((".".join(loc), item["msg"].removeprefix("Value error, ")))
    return found


def rejects(model: type[BaseModel], data: dict[str, Any], path: str, message: str) -> None:
    """``data`` (stack-file spelling) fails on exactly ``path`` with ``message`` in the text."""
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data, by_name=False)
    found = problems(caught.value)
    assert [p for p, _ in found] == [path], found
    assert message in found[0][1], found

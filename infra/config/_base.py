"""Shared by the area modules: the namespace, the error type, AWS regions."""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Literal

import pulumi
from pydantic import AfterValidator, BaseModel

from webplatform._model import at
from webplatform._types import DNS_1035

NAMESPACE = "webplatform"
MIN_KUBERNETES_MINOR = 30
MAX_KUBERNETES_MINOR = 37
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"

#: A problem found in a stack file: (key path as the file spells it, what is wrong and the fix).
Problem = tuple[str, str]
Environment = Literal["dev", "staging", "uat", "production"]


def _app_name(value: str) -> str:
    if not re.match(DNS_1035, value):
        raise ValueError(
            "an app name must be a DNS-1035 label (it names the app's Service): lowercase "
            "letters, digits and '-', starting with a letter, ending with a letter or digit, "
            "at most 63 characters"
        )
    return value


#: An app's name, a key of ``apps`` (and what ``cdn.app`` names): its Service's name.
AppName = Annotated[str, AfterValidator(_app_name)]


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


def only_the_switch(model: BaseModel, switch: str, message: str) -> None:
    """Refuse every key the stack file set but ``switch``: the others mean nothing in the
    mode it chose (raises at the first, in field order)."""
    for name in type(model).model_fields:
        if name != switch and name in model.model_fields_set:
            raise at(name, message=message)


@cache
def aws_regions() -> frozenset[str]:
    """The regions pulumi-aws knows (its ``Region`` enum: commercial, China, GovCloud, ISO,
    European Sovereign Cloud). Imported on first use: stacks without AWS never load it."""
    from pulumi_aws._enums import Region

    return frozenset(region.value for region in Region)

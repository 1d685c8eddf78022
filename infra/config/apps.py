"""The apps of a stack: each is the component's own settings model plus the stack's wiring.

Every setting of an app (image, size, strategy, guardrails, route) is declared once, in
:class:`webplatform.WebAppSpec` and the models it composes; this module adds only what
is about a stack: ``secretEnv`` names config keys of this stack (the program reads them
with ``Config.require_secret``), and the Gateway this stack runs.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from webplatform._model import at
from webplatform._types import EnvName
from webplatform.app import WebAppSpec
from webplatform.guardrails.network_policy import GATEWAY_NAMESPACE

#: A config key of this stack (without the ``webplatform:`` namespace).
ConfigKey = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$", max_length=128)]


class AppSpec(WebAppSpec):
    """``webplatform:apps.<name>``: the app's settings and the stack config keys of its secrets."""

    secret_env: dict[EnvName, ConfigKey] = {}
    """Environment variable -> name of a secret config key of this stack (set with
    ``pulumi config set --secret <key> <value>``); default none."""

    @model_validator(mode="after")
    def _stack_wiring(self) -> AppSpec:
        both = sorted(set(self.env) & set(self.secret_env))
        if both:
            raise at("secret_env", message=f"{both} are also in env; a setting belongs in one")
        access = self.network_policy
        if (
            self.route is not None
            and access is not None
            and access.gateway_namespace != GATEWAY_NAMESPACE
        ):
            raise at(
                "network_policy",
                "gateway_namespace",
                message=f"must be {GATEWAY_NAMESPACE} (where this stack's Gateway and "
                "its Envoy proxies run) while the app has a route, or its traffic is denied",
            )
        return self

    def _has_secrets(self) -> bool:
        return bool(self.secret_env)

    def settings(self) -> dict[str, Any]:
        """The component settings (every :class:`WebAppSpec` field), as ``WebAppArgs`` takes them."""
        return {name: getattr(self, name) for name in WebAppSpec.model_fields}

    def images(self) -> list[tuple[tuple[str, ...], str]]:
        """Every image the app runs, with the key path it comes from."""
        found: list[tuple[tuple[str, ...], str]] = [(("image",), self.image)] if self.image else []
        if self.blue_green is not None:
            found += [
                (("blueGreen", c, "image"), self.blue_green.color(c).image)
                for c in ("blue", "green")
            ]
        return found

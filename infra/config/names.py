"""Object names: app names are Service names, and no two apps (or an app and the stack)
may make the same object in the namespace; the API server would refuse the second, or
one would overwrite the other. Each app model knows its own names (``object_names``)
and checks their lengths (``check_names``)."""

from __future__ import annotations

from infra.config._base import NAMESPACE
from infra.config.stack import StackConfig

_STACK = "(the stack)"


def collisions(config: StackConfig) -> list[tuple[str, str]]:
    """Objects that two apps, or an app and the stack, would both create."""
    owners: dict[tuple[str, str], list[str]] = {}
    if any(app.network_policy is not None for app in config.apps.values()):
        owners[("NetworkPolicy", "default-deny")] = [_STACK]
    for app_name, app in config.apps.items():
        for kind, names in app.object_names(app_name).items():
            for name in names:
                owners.setdefault((kind, name), []).append(app_name)
    return [
        (
            f"{NAMESPACE}:apps.{[a for a in apps if a != _STACK][-1]}",
            f"{kind} {name!r} in namespace {config.namespace} would be created "
            f"by {' and '.join(a if a == _STACK else repr(a) for a in apps)}; rename one app",
        )
        for (kind, name), apps in sorted(owners.items())
        if len(apps) > 1
    ]

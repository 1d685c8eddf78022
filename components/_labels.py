"""The recommended Kubernetes labels, built in one place so every object agrees.

Selectors use only ``name`` and ``instance``: they are immutable on a
Deployment, so nothing that may change (version, environment) goes into them.
"""

from __future__ import annotations

PART_OF = "webplatform"


def selector_labels(app: str) -> dict[str, str]:
    """Labels that pick an app's pods; frozen once released (selectors are immutable)."""
    return {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": app}


def app_labels(app: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Selector labels plus the descriptive ones, for metadata of every object of an app."""
    return {
        **selector_labels(app),
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        **(extra or {}),
    }

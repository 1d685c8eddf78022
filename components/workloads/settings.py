"""An app's settings: plain ones in a ConfigMap, secret ones in a Secret, never mixed.

Reference 000 splits Secret from ConfigMap; this component makes the split a
rule: a key may not be in both, the Secret's values are Pulumi secrets end to
end (wrapped with ``Output.secret`` and listed in ``additional_secret_outputs``),
and only the plain settings feed the checksum that rolls pods on change, so
no digest of a secret value ends up in a pod annotation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from webplatform import _validation
from webplatform._labels import app_labels


@dataclass(frozen=True, kw_only=True)
class AppSettingsArgs:
    app: str
    """The app's name; objects are named ``<app>-config`` and ``<app>-secrets``."""
    namespace: pulumi.Input[str]
    """Namespace of both objects."""
    plain: Mapping[str, str] = field(default_factory=dict)
    """Non-secret settings, exposed as environment variables; default none."""
    secret: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret settings (e.g. from ``Config.require_secret``); default none, and then no Secret."""
    external_secret_name: pulumi.Input[str] | None = None
    """Name of a Secret that something else writes into the namespace (External Secrets
    Operator: ``ExternalSecretSync.secret_name``); default none. The workload reads it as it
    would read ours, and its value never passes through Pulumi. Not with ``secret``."""

    def __post_init__(self) -> None:
        _validation.dns_label("app", self.app)
        _validation.env_names("plain", self.plain)
        _validation.env_names("secret", self.secret)
        both = sorted(set(self.plain) & set(self.secret))
        if both:
            raise ValueError(f"{both} are in both plain and secret settings; a key belongs in one")
        bad = sorted(k for k, v in self.plain.items() if not isinstance(v, str))
        if bad:
            raise ValueError(f"plain: values of {bad} must be strings (quote numbers and booleans)")
        if self.secret and self.external_secret_name is not None:
            raise ValueError(
                "external_secret_name: not with secret; the Secret comes either from Pulumi "
                "(secret) or from an external writer (external_secret_name), not both"
            )


class AppSettings(pulumi.ComponentResource):
    """ConfigMap for plain settings, Secret (only when there are secrets) for the rest."""

    config_map_name: pulumi.Output[str]
    secret_name: pulumi.Output[str] | None
    checksum: str
    """sha256 of the plain settings; put it on the pod template to roll pods on change."""

    def __init__(
        self, name: str, args: AppSettingsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:settings:AppSettings", name, None, opts)
        labels = app_labels(args.app)
        plain = dict(sorted(args.plain.items()))
        self.checksum = hashlib.sha256(json.dumps(plain).encode()).hexdigest()
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-config-map",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{args.app}-config", namespace=args.namespace, labels=labels
            ),
            data=plain,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.config_map_name = config_map.metadata.name
        self.secret_name = None
        if args.external_secret_name is not None:
            self.secret_name = pulumi.Output.from_input(args.external_secret_name)
        if args.secret:
            secret = k8s.core.v1.Secret(
                f"{name}-secret",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{args.app}-secrets", namespace=args.namespace, labels=labels
                ),
                type="Opaque",
                string_data=pulumi.Output.secret(dict(args.secret)),
                opts=pulumi.ResourceOptions(
                    parent=self, additional_secret_outputs=["data", "stringData"]
                ),
            )
            self.secret_name = secret.metadata.name
        self.register_outputs(
            {"config_map_name": self.config_map_name, "secret_name": self.secret_name}
        )

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

import pulumi
import pulumi_kubernetes as k8s
from pydantic import model_validator

from webplatform._labels import app_labels
from webplatform._model import Args, Input, at
from webplatform._types import EnvName, ServiceName, Wired


class AppSettingsArgs(Args):
    """An app's environment: plain settings in a ConfigMap, secret ones in a Secret."""

    app: ServiceName
    """The app's name; objects are named ``<app>-config`` and ``<app>-secrets``."""
    namespace: Input[str]
    """Namespace of both objects."""
    plain: dict[EnvName, str] = {}
    """Non-secret settings, exposed as environment variables; default none. Values are
    strings: quote numbers and booleans in YAML."""
    secret: Mapping[EnvName, Wired[str]] = {}
    """Secret settings (e.g. from ``Config.require_secret``); default none, and then no Secret."""
    external_secret_name: Wired[str] | None = None
    """Name of a Secret that something else writes into the namespace (External Secrets
    Operator: ``ExternalSecretSync.secret_name``); default none. The workload reads it as it
    would read ours, and its value never passes through Pulumi. Not with ``secret``."""

    @model_validator(mode="after")
    def _one_home_per_key(self) -> AppSettingsArgs:
        both = sorted(set(self.plain) & set(self.secret))
        if both:
            raise at("secret", message=f"{both} are also plain settings; a key belongs in one")
        if self.secret and self.external_secret_name is not None:
            raise at(
                "external_secret_name",
                message="not with secret: the Secret comes either from Pulumi (secret) or "
                "from an external writer (externalSecretName), not both",
            )
        return self


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

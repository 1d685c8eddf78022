"""How apps' secret settings are stored and reach their pods."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
    model_validator,
)
from pydantic.alias_generators import to_camel

from infra.config._base import _at, _Model, _set_fields
from webplatform import (
    SecretRotation,
)
from webplatform.secrets.external import ExternalSecretsOperatorArgs

SecretDelivery = Literal["kubernetes-secret", "external-secrets"]
ValueSource = Literal["config", "outOfBand"]


class SecretRotationSpec(_Model):
    lambda_arn: str = Field(description="ARN of the Lambda function that rotates the secret.")
    schedule_expression: str = Field(description="'rate(30 days)' or 'cron(...)'.")

    @model_validator(mode="after")
    def _valid(self) -> SecretRotationSpec:
        self.to_args()
        return self

    def to_args(self) -> SecretRotation:
        return SecretRotation(
            lambda_arn=self.lambda_arn, schedule_expression=self.schedule_expression
        )


class SecretsOperatorSpec(_Model):
    chart_version: str = Field(description="Exact external-secrets Helm chart version.")
    namespace: str | None = Field(
        default=None, description="Namespace of the operator; component default external-secrets."
    )

    @model_validator(mode="after")
    def _valid(self) -> SecretsOperatorSpec:
        self.to_args("default")
        return self

    def to_args(self, watch_namespace: str) -> ExternalSecretsOperatorArgs:
        return ExternalSecretsOperatorArgs(
            watch_namespace=watch_namespace,
            **_set_fields(self, "chart_version"),
            chart_version=self.chart_version,
        )


_EXTERNAL_ONLY = (
    "value_source",
    "value_version",
    "recovery_window_days",
    "rotation",
    "cluster_name",
    "operator",
    "refresh_interval",
)


class SecretsSpec(_Model):
    """How apps' ``secretEnv`` values are stored and reach pods."""

    delivery: SecretDelivery = Field(
        default="kubernetes-secret",
        description="kubernetes-secret: a Secret made by Pulumi from config secrets (no AWS). "
        "external-secrets: AWS Secrets Manager + KMS, copied into the cluster by External "
        "Secrets Operator.",
    )
    value_source: ValueSource | None = Field(
        default=None,
        description="external-secrets: 'config' (default) writes the config secrets to Secrets "
        "Manager (write-only); 'outOfBand' leaves the value to `aws secretsmanager "
        "put-secret-value`, so it never passes through Pulumi.",
    )
    value_version: int | None = Field(
        default=None, ge=1, description="Bump to write changed config values again (default 1)."
    )
    recovery_window_days: int | None = Field(
        default=None, description="0 or 7-30; component default 30; production may not use 0."
    )
    rotation: SecretRotationSpec | None = Field(
        default=None, description="Rotate with a Lambda function on a schedule."
    )
    cluster_name: str | None = Field(
        default=None, description="EKS cluster whose Pod Identity feeds the operator."
    )
    operator: SecretsOperatorSpec | None = Field(
        default=None, description="External Secrets Operator install (pinned chart)."
    )
    refresh_interval: str | None = Field(
        default=None, description="How often the operator re-reads; component default 1h."
    )

    @model_validator(mode="after")
    def _mode_options(self) -> SecretsSpec:
        if self.delivery == "kubernetes-secret":
            for name in _EXTERNAL_ONLY:
                if getattr(self, name) is not None:
                    raise _at(
                        (to_camel(name),),
                        "only with delivery external-secrets (delivery is kubernetes-secret: "
                        "a Kubernetes Secret from config secrets, no AWS)",
                    )
            return self
        for name in ("cluster_name", "operator"):
            if getattr(self, name) is None:
                raise _at((to_camel(name),), "required with delivery external-secrets")
        if self.value_source == "outOfBand" and self.value_version is not None:
            raise _at(
                ("valueVersion",),
                "only with valueSource config (outOfBand values are written outside Pulumi)",
            )
        return self

    @property
    def from_config(self) -> bool:
        """True when the secret values come from Pulumi config (either delivery mode)."""
        return self.delivery == "kubernetes-secret" or self.value_source in (None, "config")

"""How apps' secret settings are stored and reach their pods (``webplatform:secrets``).

The settings are the components' own models, composed: :class:`SecretSettings`
(Secrets Manager and its KMS key), :class:`SyncSettings` (the operator's refresh)
and :class:`OperatorSettings` (its chart). What this module adds is about a
stack: the delivery mode, where values come from, which keys each mode allows,
and the rules across areas (:func:`check`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import model_validator

from infra.config._base import aws_regions, only_the_switch
from webplatform._model import Args, at
from webplatform.secrets.external import OperatorSettings, SyncSettings
from webplatform.secrets.manager import SecretSettings

if TYPE_CHECKING:
    from infra.config.stack import StackConfig

SecretDelivery = Literal["kubernetes-secret", "external-secrets"]
ValueSource = Literal["config", "outOfBand"]


class SecretsMode(Args):
    """Where the values live and how they reach pods (the first keys of ``webplatform:secrets``)."""

    delivery: SecretDelivery = "kubernetes-secret"
    """kubernetes-secret (default): a Secret made by Pulumi from config secrets (no AWS).
    external-secrets: AWS Secrets Manager + KMS, copied into the cluster by External Secrets
    Operator, whose AWS identity is a Pod Identity on this stack's EKS cluster."""
    value_source: ValueSource = "config"
    """external-secrets: 'config' (default) writes the config secrets to Secrets Manager
    (write-only); 'outOfBand' leaves the value to ``aws secretsmanager put-secret-value``, so it
    never passes through Pulumi."""


class SecretsSpec(SyncSettings, SecretSettings, SecretsMode):
    """How apps' ``secretEnv`` values are stored and reach pods (``webplatform:secrets``): the
    mode, then the components' own settings (Secrets Manager and KMS, the operator's refresh)."""

    operator: OperatorSettings | None = None
    """External Secrets Operator install (pinned chart); required with external-secrets."""

    @model_validator(mode="after")
    def _mode_options(self) -> SecretsSpec:
        if self.delivery == "kubernetes-secret":
            only_the_switch(
                self,
                "delivery",
                "only with delivery external-secrets (delivery is kubernetes-secret: a "
                "Kubernetes Secret from config secrets, no AWS)",
            )
            return self
        if self.operator is None:
            raise at("operator", message="required with delivery external-secrets")
        if self.value_source == "outOfBand" and "value_version" in self.model_fields_set:
            raise at(
                "value_version",
                message="only with valueSource config (outOfBand values are written outside "
                "Pulumi)",
            )
        return self

    @property
    def from_config(self) -> bool:
        """True when the secret values come from Pulumi config (either delivery mode)."""
        return self.delivery == "kubernetes-secret" or self.value_source == "config"


def check(config: StackConfig) -> None:
    """The secrets' rules across the stack; raises a located error."""
    spec = config.secrets
    if spec.delivery != "external-secrets":
        return
    if config.cluster.mode != "eks":
        raise at(
            "secrets",
            "delivery",
            message="external-secrets needs this stack's EKS cluster (cluster.mode: eks): the "
            "operator reads Secrets Manager through a Pod Identity on it; use "
            "kubernetes-secret on an existing cluster",
        )
    if config.environment == "production" and spec.break_glass_role_arn is None:
        raise at(
            "secrets",
            "break_glass_role_arn",
            message="required in production: the role that may read every app secret in an "
            "emergency (each secret's policy allows only its consumer and this role), e.g. "
            "arn:aws:iam::<account>:role/break-glass",
        )
    if config.environment == "production" and spec.recovery_window_days == 0:
        raise at(
            "secrets",
            "recovery_window_days",
            message="0 deletes a production secret at once, with no way back; use 7 to 30",
        )


def replica_problems(config: StackConfig, region: str | None) -> list[tuple[str, str]]:
    """``secrets.replicaRegions``: real regions, none of them the stack's own (``aws:region``)."""
    problems = []
    for index, name in enumerate(config.secrets.replica_regions):
        path = f"webplatform:secrets.replicaRegions[{index}]"
        if name not in aws_regions():
            problems.append((path, f"{name!r} is not an AWS region (none pulumi-aws knows)"))
        elif name == region:
            problems.append(
                (path, f"{name!r} is the stack's own aws:region; a replica must be elsewhere")
            )
    return problems

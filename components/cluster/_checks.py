"""Types and tables shared by the cluster and secrets args models, importable without ``pulumi_aws``.

Each type carries its own rule (a ``pydantic`` validator), so a field declares its setting
once: ``log_retention_days: LogRetentionDays = 90`` is the type, the bound and the default.
The stack config (:mod:`infra.config`) composes the same models, and a stack without AWS
resources never loads the AWS SDK.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Union

import pulumi
from pydantic import AfterValidator, Field, InstanceOf

#: Kubernetes minors EKS offers, and the day each leaves EKS *standard* support (then the
#: cluster is billed the extended-support rate, six times the control-plane price, or, with
#: ``upgradePolicy: STANDARD``, upgraded by AWS). Source: the EKS Kubernetes release calendar
#: (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html), checked 2026-11-29.
#: A new minor goes here first (and into the JSON Schema); tests/infra/test_cluster_stacks.py
#: fails once a stack's minor is past its date, so the table cannot go stale unnoticed.
EKS_STANDARD_SUPPORT_ENDS: dict[str, date] = {
    "1.30": date(2025, 7, 23),
    "1.31": date(2025, 11, 26),
    "1.32": date(2026, 3, 23),
    "1.33": date(2026, 7, 29),
    "1.34": date(2026, 12, 2),
    "1.35": date(2027, 3, 27),
}
#: The minor new clusters get: in standard support until 2027-03-27.
DEFAULT_KUBERNETES_VERSION = "1.35"
#: Retention values CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_CHART_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


def _eks_version(version: str) -> str:
    if version not in EKS_STANDARD_SUPPORT_ENDS:
        raise ValueError(
            f"must be a Kubernetes minor EKS offers: {', '.join(EKS_STANDARD_SUPPORT_ENDS)} "
            f'(as a quoted string, e.g. "{DEFAULT_KUBERNETES_VERSION}")'
        )
    return version


def _cluster_name(name: str) -> str:
    if not _CLUSTER_NAME.match(name):
        raise ValueError("1-100 letters, digits, '-' or '_', starting with a letter or digit")
    return name


def role_name(arn: str) -> str:
    """The role's name from its ARN (``arn:aws:iam::123456789012:role/path/name``)."""
    match = _ROLE_ARN.match(arn)
    if not match:
        raise ValueError("must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")
    return match[1]


def _role_arn(arn: str) -> str:
    role_name(arn)
    return arn


def _log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"CloudWatch Logs accepts only {', '.join(map(str, LOG_RETENTION_DAYS))} days"
        )
    return days


def _vpc_cidr(cidr: str) -> str:
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError:
        raise ValueError("not an IPv4 network in CIDR notation (e.g. '10.20.0.0/16')") from None
    if not network.is_private or not 16 <= network.prefixlen <= 20:
        raise ValueError("must be a private range from /16 to /20 (e.g. '10.20.0.0/16')")
    return cidr


def _chart_version(version: str) -> str:
    if not _CHART_VERSION.match(version):
        raise ValueError(
            "must be an exact chart version like '1.21.2' or 'v1.21.2' (no ranges: an "
            "upgrade is a reviewed change of the stack file)"
        )
    return version


def at_least(count: int, what: str) -> AfterValidator:
    """A length rule for an ``Items`` field: one error, with the fix (``Field(min_length=...)``
    would add a second, misleading one when an item is also wrong)."""

    def check(values: tuple[object, ...]) -> tuple[object, ...]:
        if len(values) < count:
            raise ValueError(f"{len(values)} given; {what}")
        return values

    return AfterValidator(check)


def duplicates(values: Sequence[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


if TYPE_CHECKING:
    from pulumi import Input as Wired
else:

    class Wired:
        """``Wired[str]``: ``webplatform._model.Input`` for *nested* positions (list items, dict
        values), where pydantic warns about ``Input``'s ``Field(repr=...)`` metadata."""

        def __class_getitem__(cls, item: Any) -> Any:
            return Union[item, InstanceOf[pulumi.Output]]  # noqa: UP007 - a runtime type object


EksVersion = Annotated[str, AfterValidator(_eks_version)]
"""A Kubernetes minor EKS offers (a key of :data:`EKS_STANDARD_SUPPORT_ENDS`)."""
ClusterName = Annotated[str, AfterValidator(_cluster_name)]
RoleArn = Annotated[str, AfterValidator(_role_arn)]
LogRetentionDays = Annotated[int, AfterValidator(_log_retention)]
VpcCidr = Annotated[str, AfterValidator(_vpc_cidr)]
ChartVersion = Annotated[str, AfterValidator(_chart_version)]
KmsDeletionWindowDays = Annotated[int, Field(ge=7, le=30)]

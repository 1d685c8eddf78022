"""Checks for the AWS/EKS args, importable without ``pulumi_aws``.

The stack config (:mod:`infra.config`) validates the same rules before any
resource exists, and a stack without AWS resources must not load the AWS SDK.
Each check raises ``ValueError`` naming the field, the value and the rule.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

MIN_MINOR = 30
#: Retention values CloudWatch Logs accepts (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$")
_CLUSTER_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")


def kubernetes_version(field: str, version: str) -> None:
    """EKS versions as ``MAJOR.MINOR``, 1.30 or newer (reference 004)."""
    match = re.fullmatch(r"1\.(\d+)", version) if isinstance(version, str) else None
    if not match or int(match[1]) < MIN_MINOR:
        raise ValueError(
            f"{field}={version!r}: must be a Kubernetes version 'MAJOR.MINOR', 1.{MIN_MINOR} or newer"
        )


def cluster_name(field: str, name: str) -> None:
    if not isinstance(name, str) or not _CLUSTER_NAME.match(name):
        raise ValueError(
            f"{field}={name!r}: 1-100 letters, digits, '-' or '_', starting with a letter or digit"
        )


def role_name(field: str, arn: str) -> str:
    """The role's name from its ARN (``arn:aws:iam::123456789012:role/path/name``)."""
    match = _ROLE_ARN.match(arn) if isinstance(arn, str) else None
    if not match:
        raise ValueError(
            f"{field}={arn!r}: must be an IAM role ARN "
            "(arn:aws:iam::<12-digit account>:role/<name>)"
        )
    return match[1]


def distinct_roles(field: str, arns: Sequence[str]) -> None:
    names = [role_name(field, a) for a in arns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"{field}: roles {twice} are named twice; each role gets one access entry")


def public_cidrs(field: str, cidrs: Sequence[str], allow_open: bool) -> None:
    """IPv4 CIDRs for the public API endpoint; ``0.0.0.0/0`` only when explicitly allowed."""
    for cidr in cidrs:
        try:
            network = ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ValueError(
                f"{field}: {cidr!r} is not an IPv4 CIDR (e.g. '203.0.113.0/24')"
            ) from None
        if network.prefixlen == 0 and not allow_open:
            raise ValueError(
                f"{field}: {cidr!r} opens the Kubernetes API endpoint to the whole internet; "
                "list your CI and VPN egress CIDRs instead, or allow it explicitly"
            )


def log_retention(field: str, days: int) -> None:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(
            f"{field}={days!r}: CloudWatch Logs accepts only "
            f"{', '.join(map(str, LOG_RETENTION_DAYS))} days"
        )


def vpc_cidr(field: str, cidr: str) -> None:
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError:
        raise ValueError(
            f"{field}={cidr!r}: not an IPv4 network in CIDR notation (e.g. '10.20.0.0/16')"
        ) from None
    if not network.is_private or not 16 <= network.prefixlen <= 20:
        raise ValueError(f"{field}={cidr!r}: must be a private range from /16 to /20")


def node_sizes(min_size: int, desired_size: int, max_size: int) -> None:
    sizes = (min_size, desired_size, max_size)
    if any(isinstance(s, bool) or not isinstance(s, int) for s in sizes) or not (
        0 <= min_size <= desired_size <= max_size and max_size >= 1
    ):
        raise ValueError(
            f"min_size={min_size!r}, desired_size={desired_size!r}, max_size={max_size!r}: "
            "need 0 <= min <= desired <= max and max >= 1"
        )


def instance_types(field: str, types: Sequence[str]) -> None:
    if not types:
        raise ValueError(f"{field}=[]: name at least one instance type")
    bad = [t for t in types if not isinstance(t, str) or not _INSTANCE_TYPE.match(t)]
    if bad:
        raise ValueError(f"{field}: {bad} are not EC2 instance types (e.g. 'm6i.large')")

"""Kubernetes resource quantities, parsed so args can be checked before anything is registered.

Only the forms a person writes in a stack file are accepted: CPU as cores
(``"0.5"``, ``"2"``) or millicores (``"250m"``); memory as bytes with a binary
(``Ki``..``Ti``) or decimal (``k``..``T``) suffix. Anything else is a typo that the
API server would reject at ``pulumi up`` time, long after preview looked fine.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_CPU = re.compile(r"^(?P<n>\d+(\.\d+)?)(?P<m>m?)$")
_MEMORY = re.compile(r"^(?P<n>\d+(\.\d+)?)(?P<unit>Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEMORY_FACTORS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def parse_cpu(value: str) -> Decimal:
    """Return the CPU quantity in cores; ``ValueError`` when it is not one."""
    match = _CPU.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(
            f"{value!r} is not a CPU quantity; use cores like '0.5' or millicores like '250m'"
        )
    cores = Decimal(match["n"])
    cores = cores / 1000 if match["m"] else cores
    if cores <= 0:
        raise ValueError(f"{value!r} must be greater than zero")
    return cores


def parse_memory(value: str) -> Decimal:
    """Return the memory quantity in bytes; ``ValueError`` when it is not one."""
    match = _MEMORY.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(
            f"{value!r} is not a memory quantity; use a number with a unit like '256Mi' or '1Gi'"
        )
    try:
        amount = Decimal(match["n"]) * _MEMORY_FACTORS[match["unit"]]
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only decimals
        raise ValueError(f"{value!r} is not a memory quantity") from exc
    if amount <= 0:
        raise ValueError(f"{value!r} must be greater than zero")
    return amount

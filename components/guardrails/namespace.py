"""A namespace that enforces the ``restricted`` Pod Security Standard.

Reference 004 uses a ``PodSecurityPolicy``; that API was removed in
Kubernetes 1.25. Pod Security Admission replaces it: three labels on the
namespace make the API server reject (``enforce``), log (``audit``) and warn
about (``warn``) any pod that is not ``restricted``.
"""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import field_validator

from webplatform._labels import PART_OF
from webplatform._model import Args
from webplatform._types import DnsLabel, Labels

PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


class NamespaceArgs(Args):
    """A namespace and its Pod Security Admission levels."""

    name: DnsLabel
    """The namespace's name (a DNS label). Required: names are how other objects find it."""
    enforce: PodSecurityLevel = "restricted"
    """Pod Security Standard the API server enforces; default ``restricted``, the strictest."""
    audit: PodSecurityLevel = "restricted"
    """Level logged to the audit log; default ``restricted``."""
    warn: PodSecurityLevel = "restricted"
    """Level that makes ``kubectl`` warn the user; default ``restricted``."""
    version: str = "latest"
    """Pod Security Standard version the levels refer to; default ``latest``."""
    labels: Labels = {}
    """Extra labels; default none. They cannot override the Pod Security labels."""

    @field_validator("labels")
    @classmethod
    def _no_pod_security(cls, labels: dict[str, str]) -> dict[str, str]:
        clash = sorted(k for k in labels if k.startswith("pod-security.kubernetes.io/"))
        if clash:
            raise ValueError(
                f"{clash} would override the Pod Security labels; set enforce/audit/warn instead"
            )
        return labels


class Namespace(pulumi.ComponentResource):
    """A Kubernetes namespace with Pod Security Admission labels."""

    name: pulumi.Output[str]
    """The namespace's name, known once it exists: pass it on so children wait for it."""

    def __init__(
        self, name: str, args: NamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:namespace:Namespace", name, None, opts)
        labels = {
            **args.labels,
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": "pulumi",
            "pod-security.kubernetes.io/enforce": args.enforce,
            "pod-security.kubernetes.io/enforce-version": args.version,
            "pod-security.kubernetes.io/audit": args.audit,
            "pod-security.kubernetes.io/audit-version": args.version,
            "pod-security.kubernetes.io/warn": args.warn,
            "pod-security.kubernetes.io/warn-version": args.version,
        }
        # depends_on given to the component gates the namespace itself, so everything created
        # in it (through ``name``) waits too: the stacks rely on it to create the apps' custom
        # objects only after the charts that bring their CRDs (a component's depends_on is
        # not inherited by its children otherwise).
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, labels=labels),
            opts=pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None),
        )
        self.name = ns.metadata.name
        self.register_outputs({"name": self.name})

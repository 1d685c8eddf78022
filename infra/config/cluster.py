"""Where the apps run: an existing cluster, or a VPC and EKS cluster this stack creates."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from infra.config._base import MAX_KUBERNETES_MINOR, MIN_KUBERNETES_MINOR, _at, _Model
from webplatform.cluster import _checks as eks_checks
from webplatform.cluster.addons import ClusterIssuerArgs, check_chart_version


class KubernetesSpec(_Model):
    version: str = Field(
        description="The cluster's Kubernetes version, 'MAJOR.MINOR', 1.30 or newer; "
        "manifests are validated against its schema."
    )
    context: str | None = Field(default=None, description="kubeconfig context to deploy to.")
    render_yaml_to_directory: str | None = Field(
        default=None,
        description="Write manifests to this directory instead of applying them (no cluster needed).",
    )

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        match = re.fullmatch(r"1\.(\d+)", value)
        if not match or not MIN_KUBERNETES_MINOR <= int(match[1]) <= MAX_KUBERNETES_MINOR:
            raise ValueError(
                f"must be '1.{MIN_KUBERNETES_MINOR}' to '1.{MAX_KUBERNETES_MINOR}' "
                "(Kubernetes 1.30+ as 'MAJOR.MINOR')"
            )
        return value

    @model_validator(mode="after")
    def _one_target(self) -> KubernetesSpec:
        if self.context and self.render_yaml_to_directory:
            raise ValueError("set either context or renderYamlToDirectory, not both")
        return self


class VpcSpec(_Model):
    cidr: str = Field(description="The VPC's IPv4 CIDR, a private /16 to /20.")
    availability_zones: int = Field(ge=2, le=3, description="Zones to spread over: 2 or 3.")
    nat_gateways: Literal["single", "perAz"] = Field(
        description="'perAz': one NAT gateway per zone (survives a zone outage); 'single': one."
    )
    flow_log_retention_days: int = Field(description="Days VPC flow logs are kept.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        eks_checks.vpc_cidr("cidr", value)
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        eks_checks.log_retention("flowLogRetentionDays", value)
        return value


class NodeGroupSpec(_Model):
    instance_types: list[str] = Field(min_length=1, description="EC2 instance types.")
    min_size: int = Field(ge=0, description="Fewest nodes.")
    desired_size: int = Field(ge=0, description="Nodes at creation.")
    max_size: int = Field(ge=1, description="Most nodes.")
    disk_size_gib: int = Field(ge=20, le=16384, description="Encrypted gp3 root volume, GiB.")

    @field_validator("instance_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        eks_checks.instance_types("instanceTypes", value)
        return value

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupSpec:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"need minSize <= desiredSize <= maxSize (got {self.min_size}, "
                f"{self.desired_size}, {self.max_size})"
            )
        return self


class AccessSpec(_Model):
    admin_role_arns: list[str] = Field(
        min_length=1, description="IAM roles of the cluster's human admins (cluster admin)."
    )
    ci_role_arn: str = Field(
        description="The IAM role `pulumi up` runs as (CI); cluster admin, to install add-ons and apps."
    )

    @field_validator("admin_role_arns")
    @classmethod
    def _admins(cls, value: list[str]) -> list[str]:
        for arn in value:
            eks_checks.role_name("adminRoleArns", arn)
        eks_checks.distinct_roles("adminRoleArns", value)
        return value

    @field_validator("ci_role_arn")
    @classmethod
    def _ci(cls, value: str) -> str:
        eks_checks.role_name("ciRoleArn", value)
        return value

    @model_validator(mode="after")
    def _distinct(self) -> AccessSpec:
        eks_checks.distinct_roles(
            "ciRoleArn and adminRoleArns", [self.ci_role_arn, *self.admin_role_arns]
        )
        return self


class EndpointSpec(_Model):
    public_access_cidrs: list[str] = Field(
        default_factory=list,
        description="CIDRs that may reach the public API endpoint; empty: public endpoint off.",
    )
    allow_open_to_internet: bool = Field(
        default=False, description="Accept 0.0.0.0/0 in publicAccessCidrs (explicit opt-in)."
    )

    @model_validator(mode="after")
    def _cidrs(self) -> EndpointSpec:
        try:
            eks_checks.public_cidrs(
                "publicAccessCidrs", self.public_access_cidrs, self.allow_open_to_internet
            )
        except ValueError as exc:
            raise _at(
                ("publicAccessCidrs",),
                f"{str(exc).removeprefix('publicAccessCidrs: ')} (allowOpenToInternet: true)",
            ) from None
        return self


class ChartSpec(_Model):
    version: str = Field(description="Exact chart version, e.g. '4.12.1'.")

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        check_chart_version("version", value)
        return value


class IssuerSpec(_Model):
    email: str = Field(description="ACME account contact (expiry notices).")
    server: str = Field(description="ACME directory URL (Let's Encrypt staging or production).")


class CertManagerSpec(ChartSpec):
    issuer: IssuerSpec = Field(description="The ClusterIssuer Ingresses get certificates from.")

    @model_validator(mode="after")
    def _issuer(self) -> CertManagerSpec:
        try:
            ClusterIssuerArgs(email=self.issuer.email, server=self.issuer.server)
        except ValueError as exc:
            raise ValueError(f"issuer: {exc}") from None
        return self


class ArgoRolloutsSpec(_Model):
    enabled: bool = Field(default=False, description="Install the Argo Rollouts controller.")
    version: str | None = Field(
        default=None, description="Exact chart version; needed when enabled."
    )

    @model_validator(mode="after")
    def _version(self) -> ArgoRolloutsSpec:
        if self.version is not None:
            check_chart_version("version", self.version)
        if self.enabled and self.version is None:
            raise ValueError("enabled: true needs a chart version")
        return self


class AddonsSpec(_Model):
    ingress_nginx: ChartSpec = Field(description="ingress-nginx chart.")
    cert_manager: CertManagerSpec = Field(description="cert-manager chart and its ClusterIssuer.")
    metrics_server: ChartSpec = Field(description="metrics-server chart (the HPA needs it).")
    argo_rollouts: ArgoRolloutsSpec = Field(
        default_factory=ArgoRolloutsSpec,
        description="Argo Rollouts controller; default off.",
    )


_EKS_REQUIRED = ("name", "vpc", "node_group", "access", "log_retention_days", "addons")


class ClusterSpec(_Model):
    """Where the apps run: an existing cluster (``kubernetes.context`` or
    ``renderYamlToDirectory``), or an EKS cluster this stack creates."""

    mode: Literal["existing", "eks"] = Field(
        default="existing",
        description="'existing': deploy to the cluster `kubernetes` points at; "
        "'eks': create VPC + EKS here; its version is `kubernetes.version`.",
    )
    name: str | None = Field(default=None, description="EKS cluster name (one per environment).")
    vpc: VpcSpec | None = Field(default=None, description="The cluster's VPC.")
    node_group: NodeGroupSpec | None = Field(default=None, description="The managed node group.")
    access: AccessSpec | None = Field(default=None, description="Who gets cluster admin.")
    endpoint: EndpointSpec = Field(
        default_factory=EndpointSpec,
        description="Public API endpoint access; default: private endpoint only.",
    )
    log_retention_days: int | None = Field(default=None, description="Control-plane log retention.")
    addons: AddonsSpec | None = Field(default=None, description="Helm add-ons, pinned.")
    protect: bool = Field(
        default=False,
        description="Protect the VPC, cluster and Secrets KMS key from deletion.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None:
            eks_checks.cluster_name("name", value)
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        if value is not None:
            eks_checks.log_retention("logRetentionDays", value)
        return value

    @model_validator(mode="after")
    def _mode(self) -> ClusterSpec:
        fields = ClusterSpec.model_fields
        if self.mode == "eks":
            missing = [fields[n].alias or n for n in _EKS_REQUIRED if getattr(self, n) is None]
            if missing:
                raise ValueError(f"mode 'eks' needs {', '.join(missing)}")
        else:
            extra = [
                fields[n].alias or n for n in fields if n != "mode" and n in self.model_fields_set
            ]
            if extra:
                raise ValueError(
                    f"{', '.join(extra)} apply only to mode 'eks' (this stack's mode is 'existing')"
                )
        return self

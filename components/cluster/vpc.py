"""A VPC for an EKS cluster: public and private subnets over 2-3 zones, NAT, flow logs.

- Nodes, pods and the control plane's network interfaces go in the private
  subnets; the public ones only hold NAT gateways and internet-facing load
  balancers. Reference 003 asks for "a VPC with private subnets"; this makes
  it the only place workloads can land.
- Subnets carry the tags Kubernetes' AWS cloud provider and the AWS Load
  Balancer Controller use to pick subnets: ``kubernetes.io/role/elb`` on
  public ones, ``kubernetes.io/role/internal-elb`` on private ones, and
  ``kubernetes.io/cluster/<name>: shared`` for each cluster named.
- NAT: one gateway per zone by default, so losing a zone does not cut the
  others off; ``single`` trades that for cost (one gateway, ~1/3 the price).
- Flow logs of all traffic go to a CloudWatch log group with a retention
  (protected with the VPC), written by a role only VPC Flow Logs of this
  account and region may assume; the VPC's default security group is emptied
  (no rules), so nothing can rely on its permissive defaults by accident.
- No instance gets a public IP on launch, not even in public subnets: load
  balancers and NAT gateways bring their own addresses.

Subnet sizes come from the VPC CIDR: it is cut into eight equal blocks; the
private subnets are the first ``availability_zones`` blocks (a /19 each in a /16, room
for pods, which take VPC addresses with the VPC CNI), and the public subnets
are carved from the last block (a /22 each in a /16).
"""

from __future__ import annotations

import ipaddress
import json
from typing import TYPE_CHECKING, Literal

import pulumi
from pydantic import Field

from webplatform._model import Args, Items
from webplatform.cluster._checks import ClusterName, LogRetentionDays, VpcCidr

NatGateways = Literal["single", "perAz"]

if TYPE_CHECKING:  # imported where used: a stack without AWS never loads pulumi_aws
    import pulumi_aws as aws


def subnet_cidrs(cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """(private, public) subnet CIDRs for ``az_count`` zones, as the module docstring describes."""
    network = ipaddress.IPv4Network(cidr)
    blocks = list(network.subnets(prefixlen_diff=3))
    private = [str(b) for b in blocks[:az_count]]
    public = [str(b) for b in list(blocks[-1].subnets(prefixlen_diff=3))[:az_count]]
    return private, public


class VpcSettings(Args):
    """What a stack file says about its VPC (``cluster.vpc``); :class:`VpcArgs` adds the wiring."""

    cidr: VpcCidr
    """The VPC's IPv4 CIDR, a private range from /16 to /20; required (it must not clash with
    networks you peer with, which only you know)."""
    availability_zones: int = Field(default=3, ge=2, le=3)
    """Availability zones to spread over, 2 or 3; default 3 (a zone outage leaves two)."""
    nat_gateways: NatGateways = "perAz"
    """``perAz`` (default): one NAT gateway per zone, survives a zone outage. ``single``: one
    gateway for all zones, about a third of the price, and a zone outage there cuts every
    private subnet off."""
    flow_log_retention_days: LogRetentionDays = 90
    """Days VPC flow logs are kept in CloudWatch; default 90 (a quarter, for investigations)."""


class VpcArgs(VpcSettings):
    """The VPC's settings plus what the program wires in (clusters, protection, tags)."""

    cluster_names: Items[ClusterName] = ()
    """EKS clusters that use this VPC; each adds a ``kubernetes.io/cluster/<name>: shared`` tag
    to the subnets. Default none."""
    protect: bool = False
    """Protect the VPC and its flow-log group from deletion (``pulumi destroy`` fails until
    this is turned off); default false. Subnets and gateways stay replaceable."""
    permissions_boundary_arn: str | None = None
    """Permissions boundary (an IAM managed policy ARN) of the flow-log role; default none
    (the program passes the cluster's ``access.permissionsBoundaryArn``)."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Tags on every AWS resource; default none (set ``aws:defaultTags`` for stack-wide tags)."""


class Vpc(pulumi.ComponentResource):
    """VPC, subnets, internet and NAT gateways, route tables, flow logs, emptied default SG."""

    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    """Where nodes and the cluster's network interfaces go."""
    public_subnet_ids: list[pulumi.Output[str]]
    """Where NAT gateways and internet-facing load balancers go."""
    vpc: pulumi.CustomResource
    """The ``aws.ec2.Vpc``."""

    def __init__(
        self, name: str, args: VpcArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("webplatform:vpc:Vpc", name, None, opts)
        import pulumi_aws as aws

        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        cluster_tags = {f"kubernetes.io/cluster/{c}": "shared" for c in args.cluster_names}
        zones = aws.get_availability_zones_output(
            state="available",
            filters=[
                aws.GetAvailabilityZonesFilterArgs(
                    name="opt-in-status", values=["opt-in-not-required"]
                )
            ],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        private_cidrs, public_cidrs = subnet_cidrs(args.cidr, args.availability_zones)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # EKS private endpoint resolution needs both
            tags={**tags, "Name": name},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        vpc_id = self.vpc.id
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-security-group",
            vpc_id=vpc_id,
            ingress=[],
            egress=[],
            tags={**tags, "Name": f"{name}-default-unused"},
            opts=child,
        )
        gateway = aws.ec2.InternetGateway(
            f"{name}-internet-gateway", vpc_id=vpc_id, tags={**tags, "Name": name}, opts=child
        )
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-routes",
            vpc_id=vpc_id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
            tags={**tags, "Name": f"{name}-public"},
            opts=child,
        )

        public: list[aws.ec2.Subnet] = []
        private: list[aws.ec2.Subnet] = []

        def new_subnet(role: str, i: int, cidr: str, elb_role: str) -> aws.ec2.Subnet:
            zone = zones.names[i]
            return aws.ec2.Subnet(
                f"{name}-{role}-{i}",
                vpc_id=vpc_id,
                cidr_block=cidr,
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={
                    **tags,
                    **cluster_tags,
                    "Name": pulumi.Output.concat(name, f"-{role}-", zone),
                    f"kubernetes.io/role/{elb_role}": "1",
                },
                opts=child,
            )

        for i in range(args.availability_zones):
            public.append(new_subnet("public", i, public_cidrs[i], "elb"))
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}",
                subnet_id=public[i].id,
                route_table_id=public_routes.id,
                opts=child,
            )
            private.append(new_subnet("private", i, private_cidrs[i], "internal-elb"))

        nat_count = args.availability_zones if args.nat_gateways == "perAz" else 1
        nats = []
        for i in range(nat_count):
            address = aws.ec2.Eip(
                f"{name}-nat-{i}",
                domain="vpc",
                tags={**tags, "Name": f"{name}-nat-{i}"},
                opts=child,
            )
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=address.id,
                    subnet_id=public[i].id,
                    tags={**tags, "Name": f"{name}-nat-{i}"},
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway]),
                )
            )
        for i, subnet in enumerate(private):
            routes = aws.ec2.RouteTable(
                f"{name}-private-routes-{i}",
                vpc_id=vpc_id,
                routes=[
                    aws.ec2.RouteTableRouteArgs(
                        cidr_block="0.0.0.0/0", nat_gateway_id=nats[i % nat_count].id
                    )
                ],
                tags={**tags, "Name": f"{name}-private-{i}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}", subnet_id=subnet.id, route_table_id=routes.id, opts=child
            )

        self._flow_logs(name, args, vpc_id, tags)
        self.vpc_id = vpc_id
        self.private_subnet_ids = [s.id for s in private]
        self.public_subnet_ids = [s.id for s in public]
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
            }
        )

    def _flow_logs(
        self, name: str, args: VpcArgs, vpc_id: pulumi.Output[str], tags: dict[str, str]
    ) -> None:
        import pulumi_aws as aws

        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        region = aws.get_region_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            retention_in_days=args.flow_log_retention_days,
            tags=tags,
            # Evidence for an investigation: protected with the VPC.
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            assume_role_policy=pulumi.Output.all(
                partition.partition, region.region, identity.account_id
            ).apply(lambda v: json.dumps(flow_logs_trust_policy(*v))),
            permissions_boundary=args.permissions_boundary_arn,
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=group.arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": [
                                    "logs:CreateLogStream",
                                    "logs:PutLogEvents",
                                    "logs:DescribeLogGroups",
                                    "logs:DescribeLogStreams",
                                ],
                                "Resource": [arn, f"{arn}:*"],
                            }
                        ],
                    }
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=tags,
            opts=child,
        )


def flow_logs_trust_policy(partition: str, region: str, account_id: str) -> dict[str, object]:
    """Only VPC Flow Logs may assume the role, and only for flow logs of this account and region.

    The conditions are the ones the VPC user guide documents for this role ("IAM role for
    publishing flow logs to CloudWatch Logs"): ``aws:SourceAccount`` is the flow log's owner,
    ``aws:SourceArn`` the flow log's ARN (a wildcard for its id, which exists only after the
    role), so another account's flow log cannot make the service write with this role
    (the confused deputy).
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*"
                    },
                },
            }
        ],
    }

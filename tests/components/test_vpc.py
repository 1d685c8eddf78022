"""The VPC: private subnets for workloads, NAT per zone or single, flow logs, EKS subnet tags."""

import json

import pytest
from pydantic import ValidationError

from webplatform import testing
from webplatform.cluster.vpc import Vpc, VpcArgs, VpcSettings, subnet_cidrs


def build(**overrides):
    values = {"cidr": "10.20.0.0/16", "cluster_names": ["webplatform-test"], **overrides}
    return testing.run(lambda: Vpc("net", VpcArgs(**values)), stack="test")


@pytest.fixture(scope="module")
def rec():
    return build()


def subnets(rec, kind):
    """In name order: registration order is not deterministic."""
    found = [r for r in rec.by_type("aws:ec2/subnet:Subnet") if r.name.startswith(f"net-{kind}-")]
    return sorted(found, key=lambda r: r.name)


def test_three_zones_of_public_and_private_subnets_by_default(rec):
    private, public = subnets(rec, "private"), subnets(rec, "public")
    assert [s.inputs["availabilityZone"] for s in private] == [
        "us-west-2a",
        "us-west-2b",
        "us-west-2c",
    ]
    assert [s.inputs["cidrBlock"] for s in private] == [
        "10.20.0.0/19",
        "10.20.32.0/19",
        "10.20.64.0/19",
    ]
    assert [s.inputs["cidrBlock"] for s in public] == [
        "10.20.224.0/22",
        "10.20.228.0/22",
        "10.20.232.0/22",
    ]
    for subnet in private + public:
        assert subnet.inputs["mapPublicIpOnLaunch"] is False


def test_subnets_carry_the_tags_eks_and_load_balancers_look_for(rec):
    for subnet in subnets(rec, "private"):
        assert subnet.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert "kubernetes.io/role/elb" not in subnet.inputs["tags"]
        assert subnet.inputs["tags"]["kubernetes.io/cluster/webplatform-test"] == "shared"
    for subnet in subnets(rec, "public"):
        assert subnet.inputs["tags"]["kubernetes.io/role/elb"] == "1"


def test_private_subnets_route_to_the_internet_only_through_nat(rec):
    tables = {t.name: t for t in rec.by_type("aws:ec2/routeTable:RouteTable")}
    associations = rec.by_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    for assoc in associations:
        subnet_name = assoc.inputs["subnetId"].removesuffix("-id")
        table_name = assoc.inputs["routeTableId"].removesuffix("-id")
        (route,) = tables[table_name].inputs["routes"]
        assert route["cidrBlock"] == "0.0.0.0/0"
        if "-private-" in subnet_name:
            assert set(route) == {"cidrBlock", "natGatewayId"}
        else:
            assert route["gatewayId"] == "net-internet-gateway-id"
    assert len(associations) == 6


def test_one_nat_gateway_per_zone_by_default_in_public_subnets(rec):
    nats = sorted(rec.by_type("aws:ec2/natGateway:NatGateway"), key=lambda r: r.name)
    assert [n.inputs["subnetId"] for n in nats] == [f"net-public-{i}-id" for i in range(3)]
    routes = [
        t.inputs["routes"][0]["natGatewayId"]
        for t in sorted(rec.by_type("aws:ec2/routeTable:RouteTable"), key=lambda r: r.name)
        if t.name.startswith("net-private-routes-")
    ]
    assert routes == ["net-nat-0-id", "net-nat-1-id", "net-nat-2-id"]


def test_single_nat_mode_shares_one_gateway():
    rec = build(nat_gateways="single", availability_zones=2)
    assert len(rec.by_type("aws:ec2/natGateway:NatGateway")) == 1
    assert len(rec.by_type("aws:ec2/eip:Eip")) == 1
    routes = {
        t.inputs["routes"][0]["natGatewayId"]
        for t in rec.by_type("aws:ec2/routeTable:RouteTable")
        if t.name.startswith("net-private-routes-")
    }
    assert routes == {"net-nat-0-id"}
    assert len(rec.by_type("aws:ec2/subnet:Subnet")) == 4


def test_flow_logs_of_all_traffic_with_retention(rec):
    flow = rec.one("aws:ec2/flowLog:FlowLog").inputs
    assert flow["trafficType"] == "ALL" and flow["vpcId"] == "net-vpc-id"
    assert flow["logDestinationType"] == "cloud-watch-logs"
    assert rec.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 90


def test_flow_log_role_is_only_for_flow_logs_of_this_account_and_region(rec):
    """The conditions the VPC user guide documents for this role, and no others."""
    trust = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": "123456789012"},
                "ArnLike": {"aws:SourceArn": "arn:aws:ec2:us-west-2:123456789012:vpc-flow-log/*"},
            },
        }
    ]


def test_flow_log_conditions_follow_the_account_and_region():
    mocks = testing.RecordingMocks(account_id="210987654321", region="eu-west-1")
    rec = testing.run(lambda: Vpc("net", VpcArgs(cidr="10.20.0.0/16")), stack="test", mocks=mocks)
    condition = json.loads(rec.one("aws:iam/role:Role").inputs["assumeRolePolicy"])["Statement"][0][
        "Condition"
    ]
    assert condition["StringEquals"] == {"aws:SourceAccount": "210987654321"}
    assert condition["ArnLike"]["aws:SourceArn"].startswith("arn:aws:ec2:eu-west-1:210987654321:")


def test_default_security_group_is_emptied(rec):
    group = rec.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup").inputs
    assert group.get("ingress", []) == [] and group.get("egress", []) == []


def test_protect_covers_the_vpc_and_its_flow_log_group():
    assert not any(r.protect for r in build().resources)
    rec = build(protect=True)
    assert sorted(r.type for r in rec.resources if r.protect) == [
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:ec2/vpc:Vpc",
    ]


def test_subnet_plan_for_the_smallest_vpc_fits():
    private, public = subnet_cidrs("10.0.0.0/20", 3)
    assert private == ["10.0.0.0/23", "10.0.2.0/23", "10.0.4.0/23"]
    assert public == ["10.0.14.0/26", "10.0.14.64/26", "10.0.14.128/26"]


@pytest.mark.parametrize(
    ("overrides", "where", "message"),
    [
        ({"cidr": "10.0.0.0/8"}, "cidr", "must be a private range from /16 to /20"),
        ({"cidr": "8.8.0.0/16"}, "cidr", "must be a private range"),
        ({"cidr": "10.0.0.1/16"}, "cidr", "not an IPv4 network"),
        ({"cidr": 10}, "cidr", "valid string"),
        ({"availability_zones": 1}, "availability_zones", "greater than or equal to 2"),
        ({"availability_zones": 4}, "availability_zones", "less than or equal to 3"),
        ({"availability_zones": "3"}, "availability_zones", "valid integer"),
        ({"availability_zones": 3.0}, "availability_zones", "valid integer"),
        ({"availability_zones": True}, "availability_zones", "valid integer"),
        ({"nat_gateways": "none"}, "nat_gateways", "'single' or 'perAz'"),
        ({"nat_gateways": "per_az"}, "nat_gateways", "'single' or 'perAz'"),
        ({"flow_log_retention_days": 10}, "flow_log_retention_days", "accepts only 1, 3, 5"),
        ({"protect": "off"}, "protect", "valid boolean"),
        ({"cluster_names": ["-x"]}, "cluster_names", "starting with a letter or digit"),
        ({"az_count": 3}, "az_count", "Extra inputs are not permitted"),
    ],
)
def test_bad_args(overrides, where, message):
    with pytest.raises(ValidationError) as exc_info:
        VpcArgs(**{"cidr": "10.20.0.0/16", **overrides})
    error = exc_info.value.errors()[0]
    assert error["loc"][0] == where
    assert message in error["msg"]


def test_stack_file_keys_are_camel_case_and_snake_case_is_refused_there():
    settings = VpcSettings.model_validate(
        {"cidr": "10.20.0.0/16", "availabilityZones": 2, "natGateways": "single"}, by_name=False
    )
    assert (settings.availability_zones, settings.nat_gateways) == (2, "single")
    with pytest.raises(ValidationError, match="availability_zones"):
        VpcSettings.model_validate({"cidr": "10.20.0.0/16", "availability_zones": 2}, by_name=False)

"""`dev.py cost` (issue 16): arithmetic on a small synth, the extended-support switch, errors."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal

import pytest

from infra import cost
from tests.conftest import synthesized

PRICES = cost.Prices.load()
BEFORE = date(2026, 7, 29)  # 1.33's last day of standard support
AFTER = date(2026, 7, 30)


def resource(type_: str, resource_name: str, **inputs) -> dict:
    return {
        "urn": f"urn:x::{resource_name}",
        "type": type_,
        "name": resource_name,
        "inputs": inputs,
    }


def k8s(kind: str, name: str, spec: dict, namespace: str = "web") -> dict:
    return resource(
        f"kubernetes:x:{kind}",
        f"{name}-{kind.lower()}",
        apiVersion="v1",
        kind=kind,
        metadata={"name": name, "namespace": namespace},
        spec=spec,
    )


def fixture(version: str = "1.33", instance_type: str = "m6i.large", **cluster) -> dict:
    """A small stack: one cluster, 2 (1..4) nodes with 40 GB disks, a NAT gateway with its
    address, a Gateway's NLB, a WAF ACL with 3 rules, 2 keys, a secret, a log group."""
    return {
        "resources": [
            resource("aws:eks/cluster:Cluster", "c-cluster", name="c", version=version, **cluster),
            resource(
                "aws:eks/nodeGroup:NodeGroup",
                "c-nodes",
                instanceTypes=[instance_type],
                scalingConfig={"minSize": 1, "desiredSize": 2, "maxSize": 4},
                launchTemplate={"id": "c-lt-id", "version": "1"},
            ),
            resource(
                "aws:ec2/launchTemplate:LaunchTemplate",
                "c-lt",
                blockDeviceMappings=[{"ebs": {"volumeSize": 40, "volumeType": "gp3"}}],
            ),
            resource("aws:ec2/natGateway:NatGateway", "nat-0"),
            resource("aws:ec2/eip:Eip", "nat-0"),
            resource(
                "kubernetes:gateway.networking.k8s.io/v1:Gateway",
                "gateway",
                kind="Gateway",
                metadata={"name": "public", "namespace": "envoy-gateway-system"},
            ),
            resource("aws:wafv2/webAcl:WebAcl", "acl", rules=[{}, {}, {}]),
            resource("aws:kms/key:Key", "k1", enableKeyRotation=True),
            resource("aws:kms/key:Key", "k2", enableKeyRotation=True),
            resource("aws:secretsmanager/secret:Secret", "s1"),
            resource("aws:cloudwatch/logGroup:LogGroup", "logs", name="/l", retentionInDays=30),
        ]
    }


def lines(estimate: cost.Estimate) -> dict[str, cost.Line]:
    return {line.item.split(" (")[0].split(" `")[0]: line for line in estimate.lines}


def test_the_arithmetic_of_a_small_stack():
    result = cost.estimate("s", fixture(version="1.35"), PRICES, AFTER)
    got = {item: (line.low, line.high) for item, line in lines(result).items()}
    d = Decimal
    assert got == {
        "EKS control plane": (d("73.000"), d("73.000")),  # 0.10 x 730
        "EC2 nodes m6i.large": (d("140.160"), d("280.320")),  # 0.096 x 730 x 2, x 4
        "EBS gp3 root volumes of": (d("6.40"), d("12.80")),  # 0.08 x 40 x 2, x 4
        "NAT gateways": (d("32.850"), d("32.850")),  # 0.045 x 730
        "Public IPv4 addresses": (d("3.650"), d("3.650")),  # 0.005 x 730
        "Load balancers": (d("16.4250"), d("16.4250")),  # 0.0225 x 730
        "WAF web ACL": (d("8.00"), d("8.00")),  # 5 + 3 x 1
        "KMS customer managed keys": (d("2.00"), d("2.00")),
        "Secrets Manager secrets": (d("0.40"), d("0.40")),
    }
    assert result.low == d("282.885") and cost.money(result.low) == "$282.89"
    assert result.high == d("429.445")
    assert cost.total(result) == "$282.89 (up to $429.45 at the autoscalers' ceilings)"


def test_usage_is_listed_with_its_unit_price_and_never_given_a_number():
    result = cost.estimate("s", fixture(), PRICES, AFTER)
    text = "\n".join(result.usage)
    assert "NAT gateway data processed: $0.045/GB" in text
    assert "CloudWatch Logs `/l` (kept 30 days)" in text and "no volume known" in text
    assert all("$" not in line.item for line in result.lines)
    assert not any("Logs" in line.item for line in result.lines)


def test_a_minor_past_standard_support_pays_the_extended_rate_and_says_so():
    before = lines(cost.estimate("s", fixture("1.33"), PRICES, BEFORE))["EKS control plane"]
    after = lines(cost.estimate("s", fixture("1.33"), PRICES, AFTER))["EKS control plane"]
    assert (before.low, after.low) == (Decimal("73.000"), Decimal("438.000"))
    assert before.unit_price == "$0.10/h" and after.unit_price == "$0.60/h"
    assert "standard support until 2026-07-29" in before.note
    assert "left EKS standard support on 2026-07-29: extended-support rate, 6x" in after.note
    markdown = cost.markdown(cost.estimate("s", fixture("1.33"), PRICES, AFTER))
    assert "extended-support rate" in markdown


def test_an_upgrade_policy_of_standard_pays_the_standard_rate_past_the_date():
    result = cost.estimate(
        "s", fixture("1.33", upgradePolicy={"supportType": "STANDARD"}), PRICES, AFTER
    )
    line = lines(result)["EKS control plane"]
    assert line.low == Decimal("73.000")
    assert "upgrade policy STANDARD: EKS upgrades it" in line.note


def test_an_unknown_instance_type_is_an_error_not_a_guess(capsys):
    with pytest.raises(cost.CostError, match=r"no price for instance type 'x9.huge'.*add it"):
        cost.estimate("s", fixture(instance_type="x9.huge"), PRICES, AFTER)


def test_an_unknown_kubernetes_minor_is_an_error():
    with pytest.raises(cost.CostError, match=r"Kubernetes 1\.99 has no end-of-standard-support"):
        cost.estimate("s", fixture("1.99"), PRICES, AFTER)


def test_the_cli_exits_2_on_an_unknown_instance_type(tmp_path, capsys):
    path = tmp_path / "resources.json"
    path.write_text(json.dumps(fixture(instance_type="x9.huge")))
    assert cost.main(["--stack", "s", "--resources", str(path)]) == cost.EXIT_INVALID
    err = capsys.readouterr().err
    assert err.startswith("cost: no price for instance type 'x9.huge'")
    assert "Traceback" not in err


def test_the_cli_exits_2_on_an_invalid_stack_file(write_stack, capsys):
    path = write_stack("dev", {"config": {"webplatform:environment": "nowhere"}})
    assert cost.main(["--stack", "dev", "--config-file", str(path)]) == cost.EXIT_INVALID
    assert "invalid stack configuration" in capsys.readouterr().err


def test_an_auto_mode_node_pool_is_priced_between_the_apps_floor_and_the_pools_cpu_limit():
    document = fixture("1.35", computeConfig={"enabled": True})
    document["resources"] = [
        r for r in document["resources"] if r["type"] != "aws:eks/nodeGroup:NodeGroup"
    ]
    requirements = [
        {"key": "eks.amazonaws.com/instance-category", "operator": "In", "values": ["m", "c"]},
        {"key": "eks.amazonaws.com/instance-generation", "operator": "Gt", "values": ["5"]},
        {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
    ]
    pool = {"template": {"spec": {"requirements": requirements}}, "limits": {"cpu": "16"}}
    pod = {"containers": [{"resources": {"requests": {"cpu": "250m"}}}]}
    document["resources"] += [
        k8s("NodePool", "apps", pool, namespace=""),
        k8s("Deployment", "web", {"template": {"spec": pod}}),  # its HPA says 3
        k8s(
            "HorizontalPodAutoscaler", "web", {"scaleTargetRef": {"name": "web"}, "minReplicas": 3}
        ),
        k8s("Deployment", "worker", {"replicas": 2, "template": {"spec": pod}}),
    ]
    line = lines(cost.estimate("s", document, PRICES, AFTER))["EC2 nodes, NodePool"]
    # floor: 5 pods x 250m = 1.25 -> 2 vCPU at c6i.large's 0.0425/vCPU-h; ceiling: 16 vCPU at
    # m7i's 0.0504/vCPU-h; both plus the 12 % Auto Mode fee, x 730 h.
    assert line.low == Decimal(2) * Decimal("0.0425") * Decimal("1.12") * 730
    assert line.high == Decimal(16) * Decimal("0.0504") * Decimal("1.12") * 730
    assert "(c6i.large)" in line.unit_price and "$0.0504/vCPU-h (m7i." in line.unit_price
    assert "12 % Auto Mode fee" in line.unit_price


def test_a_stack_without_aws_costs_nothing_and_says_why():
    result = cost.estimate("dev", {"resources": []}, PRICES, AFTER)
    assert result.low == 0 and "creates no AWS resources" in cost.markdown(result)


@pytest.mark.parametrize("stack", ["staging", "uat", "prod"])
def test_each_eks_stack_prices_its_control_plane_nodes_and_nat(stack, capsys, tmp_path):
    # The run's shared synth, given as --resources; `cost prod` synthesizing itself runs in
    # the fresh process of tests/conftest.py.
    resources = tmp_path / "resources.json"
    resources.write_text(json.dumps(synthesized(stack).resources()))
    argv = ["--stack", stack, "--resources", str(resources), "--date", "2026-11-29"]
    assert cost.main([*argv, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["region"], document["currency"]) == ("us-west-2", "USD")
    items = [line["item"] for line in document["lines"]]
    assert any(i.startswith("EKS control plane") for i in items)
    assert any(i.startswith("EC2 nodes") for i in items)
    assert any(i.startswith("NAT gateways") for i in items)
    total = sum(Decimal(line["monthly"]) for line in document["lines"])
    assert abs(total - Decimal(document["monthly"])) <= Decimal("0.01") * len(items)


def test_the_price_table_names_its_region_currency_and_date():
    assert (PRICES.region, PRICES.currency) == ("us-west-2", "USD")
    assert date.fromisoformat(PRICES.as_of) <= date.today()
    assert PRICES.hours == 730


def test_the_fixture_is_not_mutated_by_estimating():
    document = fixture()
    before = copy.deepcopy(document)
    cost.estimate("s", document, PRICES, AFTER)
    assert document == before


def test_the_cost_guide_shows_prods_cost_table_and_the_arithmetic_of_its_total():
    """docs/guides/cost.md: prod's table, as the tool prints it on the price table's date.

    Regenerate on purpose: WEBPLATFORM_UPDATE_DOCS=1 python3 dev.py test tests/infra/test_cost.py
    """
    import os
    import re

    from tests.conftest import ROOT

    on = date.fromisoformat(PRICES.as_of)
    table = cost.markdown(cost.estimate("prod", synthesized("prod").resources(), PRICES, on))
    guide = ROOT / "docs" / "guides" / "cost.md"
    text = guide.read_text()
    block = re.compile(r"(<!-- cost:prod -->\n)(.*?)(<!-- /cost:prod -->)", re.S)
    if os.environ.get("WEBPLATFORM_UPDATE_DOCS"):
        guide.write_text(block.sub(lambda m: f"{m[1]}{table}\n{m[3]}", text))
        text = guide.read_text()
    match = block.search(text)
    assert match, "docs/guides/cost.md has no <!-- cost:prod --> block"
    assert match[2] == table + "\n", "the cost guide's prod table is stale: regenerate (docstring)"
    assert f"--date {PRICES.as_of}" in text
    assert "Monthly: $" in table and " = **$" in table


def test_a_gateway_and_a_service_of_type_load_balancer_each_count_as_a_load_balancer():
    document = fixture("1.35")
    document["resources"] = [r for r in document["resources"] if r["name"] != "gateway"]
    document["resources"] += [
        k8s("Gateway", "web-prod", {"listeners": []}, namespace="envoy-gateway-system"),
        k8s("Service", "legacy", {"type": "LoadBalancer"}),
        k8s("Service", "web", {"type": "ClusterIP"}),
    ]
    line = lines(cost.estimate("s", document, PRICES, AFTER))["Load balancers"]
    assert line.quantity == "2 x 730 h" and line.low == Decimal("0.0225") * 730 * 2
    assert "Gateway `web-prod`" in line.note and "Service `legacy`" in line.note

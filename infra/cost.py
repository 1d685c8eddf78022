"""What a stack costs per month, before usage: from its offline synth and a committed price table.

    python3 dev.py cost --stack prod [--config-file FILE] [--resources FILE]
                        [--date YYYY-MM-DD] [--format markdown|json|row]
                        [--base-resources OLD_resources.json]

Reads ``resources.json`` (``python -m infra.synth``; synthesized here unless
``--resources`` names one) and prices what runs by the hour or the month:

- the EKS control plane, at the extended-support rate when the cluster's Kubernetes
  minor is past its end of standard support on ``--date`` (default today), saying
  so, unless its upgrade policy is STANDARD (EKS then upgrades it instead);
- nodes: a managed node group by instance type and count (desired, between the
  autoscaler's floor and ceiling), their gp3 root volumes; an EKS Auto Mode NodePool
  between the apps' minimum CPU requests and the pool's CPU limit;
- NAT gateways and their public IPv4 addresses, load balancers (a Gateway's
  Service, a Service of type LoadBalancer, or an ``aws:lb``), the WAF
  web ACL and its rules, KMS keys, Secrets Manager secrets.

Prices come from ``infra/prices.toml``, which names its region, currency and date.
What is billed by usage (data processed, requests, log volume, CloudFront traffic) is
listed with its unit price and never given a number: the stack does not say the
volume. An instance type missing from the table is an error, not a guess.

Exit status: 0; 2 on invalid stack config, an unknown instance type or Kubernetes minor.
Infracost does this for Terraform plans; this is the same idea for our synth.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from webplatform.cluster import _checks

PRICES = Path(__file__).resolve().parent / "prices.toml"
EXIT_INVALID = 2

#: End of EKS standard support per Kubernetes minor: the cluster code's calendar, one table for
#: the version check and for the price (after that date, the extended-support rate).
EKS_STANDARD_SUPPORT_ENDS: dict[str, date] = _checks.EKS_STANDARD_SUPPORT_ENDS


class CostError(Exception):
    """Something the price table cannot price (say what to add), or an unreadable synth."""


@dataclass(frozen=True)
class Prices:
    region: str
    currency: str
    as_of: str
    hours: Decimal
    table: dict[str, Any]

    @classmethod
    def load(cls, path: Path = PRICES) -> Prices:
        table = tomllib.loads(path.read_text())
        return cls(
            region=table["region"],
            currency=table["currency"],
            as_of=table["as_of"],
            hours=Decimal(str(table["hours_per_month"])),
            table=table,
        )

    def __call__(self, section: str, key: str) -> Decimal:
        return Decimal(str(self.table[section][key]))

    def instance(self, instance_type: str) -> dict[str, Decimal]:
        known = self.table["ec2"]["instances"]
        if instance_type not in known:
            raise CostError(
                f"no price for instance type {instance_type!r} in {PRICES.name} "
                f"({self.region}); add it from the EC2 on-demand price page "
                f"(known: {', '.join(sorted(known))})"
            )
        return {k: Decimal(str(v)) for k, v in known[instance_type].items()}


@dataclass(frozen=True)
class Line:
    """One priced item: ``low`` is the expected monthly cost, ``high`` the autoscaler ceiling."""

    item: str
    quantity: str
    unit_price: str
    low: Decimal
    high: Decimal
    note: str = ""


@dataclass
class Estimate:
    stack: str
    prices: Prices
    on: date
    lines: list[Line] = field(default_factory=list)
    usage: list[str] = field(default_factory=list)

    @property
    def low(self) -> Decimal:
        return sum((line.low for line in self.lines), Decimal(0))

    @property
    def high(self) -> Decimal:
        return sum((line.high for line in self.lines), Decimal(0))


def money(value: Decimal) -> str:
    return f"${value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"


def rate(value: Decimal, unit: str) -> str:
    """``$0.60/h``, ``$0.0225/h``: at least cents, and every digit the table has."""
    digits = max(2, -int(value.normalize().as_tuple().exponent))
    return f"${value:.{digits}f}/{unit}"


# --- reading the synth ------------------------------------------------------------------


def _of_type(resources: list[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"] in types]


def _k8s(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Kubernetes objects of a kind, as rendered (their inputs)."""
    return [
        r["inputs"]
        for r in resources
        if r["type"].startswith("kubernetes:") and r["inputs"].get("kind") == kind
    ]


def _cpu_cores(quantity: Any) -> Decimal:
    text = str(quantity)
    if text.endswith("m"):
        return Decimal(text[:-1]) / 1000
    return Decimal(text)


# --- pricing ----------------------------------------------------------------------------


def _control_planes(resources: list[dict[str, Any]], p: Prices, on: date) -> Iterable[Line]:
    for cluster in _of_type(resources, "aws:eks/cluster:Cluster"):
        inputs = cluster["inputs"]
        minor = str(inputs.get("version"))
        if minor not in EKS_STANDARD_SUPPORT_ENDS:
            raise CostError(
                f"cluster {inputs.get('name')!r}: Kubernetes {minor} has no end-of-standard-"
                "support date in webplatform.cluster._checks.EKS_STANDARD_SUPPORT_ENDS; add it "
                "from the EKS release calendar"
            )
        ends = EKS_STANDARD_SUPPORT_ENDS[minor]
        policy = (inputs.get("upgradePolicy") or {}).get("supportType", "EXTENDED")
        extended = on > ends and policy != "STANDARD"
        hourly = p("eks", "extended_support_per_hour" if extended else "control_plane_per_hour")
        if extended:
            note = (
                f"Kubernetes {minor} left EKS standard support on {ends}: extended-support "
                f"rate, {hourly / p('eks', 'control_plane_per_hour'):.0f}x the standard one; "
                "upgrade the cluster to stop paying it"
            )
        elif on > ends:
            note = (
                f"{minor} left standard support on {ends}; upgrade policy STANDARD: EKS upgrades it"
            )
        else:
            note = f"standard support until {ends}"
        cost = hourly * p.hours
        yield Line(
            f"EKS control plane `{inputs.get('name')}` (Kubernetes {minor})",
            f"1 x {p.hours} h",
            rate(hourly, "h"),
            cost,
            cost,
            note,
        )


def _launch_template_disk(resources: list[dict[str, Any]], group: dict[str, Any]) -> Decimal:
    template_id = ((group["inputs"].get("launchTemplate") or {}).get("id")) or ""
    for template in _of_type(resources, "aws:ec2/launchTemplate:LaunchTemplate"):
        # Under mocks an id is "<name>-id"; that is how the synth links the two.
        if f"{template['name']}-id" == template_id:
            for mapping in template["inputs"].get("blockDeviceMappings") or []:
                size = (mapping.get("ebs") or {}).get("volumeSize")
                if size:
                    return Decimal(str(size))
    return Decimal(str(group["inputs"].get("diskSize") or 20))  # EKS's default root volume


def _node_groups(resources: list[dict[str, Any]], p: Prices) -> Iterable[Line]:
    for group in _of_type(resources, "aws:eks/nodeGroup:NodeGroup"):
        inputs = group["inputs"]
        types = inputs.get("instanceTypes") or ["t3.medium"]  # EKS's default
        priced = sorted((p.instance(t)["hourly"], t) for t in types)
        scaling = inputs.get("scalingConfig") or {}
        low_n = int(scaling.get("desiredSize", scaling.get("minSize", 1)))
        floor, ceiling = int(scaling.get("minSize", low_n)), int(scaling.get("maxSize", low_n))
        (cheapest, name), (dearest, _) = priced[0], priced[-1]
        which = name if len(priced) == 1 else f"{name} to {priced[-1][1]}"
        yield Line(
            f"EC2 nodes {which} (node group `{group['name']}`)",
            f"{low_n} x {p.hours} h (autoscaler {floor} to {ceiling})",
            rate(cheapest, "h")
            if len(priced) == 1
            else f"{rate(cheapest, 'h')} to {rate(dearest, 'h')}",
            cheapest * p.hours * low_n,
            dearest * p.hours * ceiling,
            "on-demand; the high column is the node group's maxSize",
        )
        disk = _launch_template_disk(resources, group)
        gp3 = p("ebs", "gp3_per_gb_month")
        yield Line(
            f"EBS gp3 root volumes of `{group['name']}`",
            f"{low_n} x {disk} GB (up to {ceiling})",
            rate(gp3, "GB-month"),
            gp3 * disk * low_n,
            gp3 * disk * ceiling,
        )


def _instance_matches(instance_type: str, requirements: list[dict[str, Any]]) -> bool:
    family = instance_type.split(".")[0]
    category, generation = family[0], int("".join(ch for ch in family if ch.isdigit()) or 0)
    arch = "arm64" if "g" in family[2:] else "amd64"  # m7g, c6gn: Graviton
    for requirement in requirements:
        key, op, values = (
            requirement.get("key"),
            requirement.get("operator"),
            requirement.get("values") or [],
        )
        if key in ("eks.amazonaws.com/instance-category", "karpenter.k8s.aws/instance-category"):
            if op == "In" and category not in values:
                return False
        elif key in (
            "eks.amazonaws.com/instance-generation",
            "karpenter.k8s.aws/instance-generation",
        ):
            if op == "Gt" and not generation > int(values[0]):
                return False
        elif (key == "kubernetes.io/arch" and op == "In" and arch not in values) or (
            key == "node.kubernetes.io/instance-type" and op == "In" and instance_type not in values
        ):
            return False
    return True


def _min_cpu_requests(resources: list[dict[str, Any]]) -> Decimal:
    """CPU the apps request at their minimum size (HPA minReplicas, else replicas)."""
    floors = {
        (h["metadata"].get("namespace"), h["spec"]["scaleTargetRef"]["name"]): h["spec"].get(
            "minReplicas", 1
        )
        for h in _k8s(resources, "HorizontalPodAutoscaler")
    }
    total = Decimal(0)
    for deployment in _k8s(resources, "Deployment"):
        meta, spec = deployment["metadata"], deployment["spec"]
        replicas = floors.get((meta.get("namespace"), meta["name"]), spec.get("replicas", 1))
        for container in spec["template"]["spec"].get("containers", []):
            request = ((container.get("resources") or {}).get("requests") or {}).get("cpu")
            if request is not None:
                total += _cpu_cores(request) * int(replicas)
    return total


def _node_pools(resources: list[dict[str, Any]], p: Prices) -> Iterable[Line]:
    clusters = _of_type(resources, "aws:eks/cluster:Cluster")
    auto_mode = any((c["inputs"].get("computeConfig") or {}).get("enabled") for c in clusters)
    fee = p("eks", "auto_mode_fee_fraction") if auto_mode else Decimal(0)
    for pool in _k8s(resources, "NodePool"):
        name = pool["metadata"]["name"]
        limit = (pool["spec"].get("limits") or {}).get("cpu")
        requirements = pool["spec"]["template"]["spec"].get("requirements") or []
        candidates = [
            (info["hourly"] / info["vcpu"], t)
            for t in p.table["ec2"]["instances"]
            if _instance_matches(t, requirements)
            for info in [p.instance(t)]
        ]
        if not candidates:
            raise CostError(
                f"NodePool {name!r}: no instance type in {PRICES.name} matches its requirements; "
                "add the types it may start"
            )
        candidates.sort()
        (low_rate, low_type), (high_rate, high_type) = candidates[0], candidates[-1]
        floor_cores = Decimal(math.ceil(_min_cpu_requests(resources)))
        ceiling_cores = _cpu_cores(limit) if limit is not None else None
        if ceiling_cores is None:
            raise CostError(f"NodePool {name!r} has no cpu limit: its cost has no ceiling")
        scale = (1 + fee) * p.hours
        yield Line(
            f"EC2 nodes, NodePool `{name}`" + (" (EKS Auto Mode)" if auto_mode else ""),
            f"{floor_cores} to {ceiling_cores} vCPU x {p.hours} h",
            f"{rate(low_rate, 'vCPU-h')} ({low_type}) to {rate(high_rate, 'vCPU-h')} ({high_type})"
            + (f" + {fee * 100:.0f} % Auto Mode fee" if fee else ""),
            floor_cores * low_rate * scale,
            ceiling_cores * high_rate * scale,
            "low: the apps' minimum CPU requests on the cheapest allowed type; high: the pool's "
            "cpu limit on the dearest type. Not in the low figure: the add-ons' own pods "
            "(their requests are in their charts, not in the synth) and each node's EBS volume",
        )


def _network(resources: list[dict[str, Any]], p: Prices) -> Iterable[Line]:
    nats = _of_type(resources, "aws:ec2/natGateway:NatGateway")
    if nats:
        hourly = p("vpc", "nat_gateway_per_hour")
        cost = hourly * p.hours * len(nats)
        yield Line("NAT gateways", f"{len(nats)} x {p.hours} h", rate(hourly, "h"), cost, cost)
    eips = _of_type(resources, "aws:ec2/eip:Eip")
    if eips:
        hourly = p("vpc", "public_ipv4_per_hour")
        cost = hourly * p.hours * len(eips)
        yield Line(
            "Public IPv4 addresses (the NAT gateways' Elastic IPs)",
            f"{len(eips)} x {p.hours} h",
            rate(hourly, "h"),
            cost,
            cost,
        )


def _load_balancers(resources: list[dict[str, Any]], p: Prices) -> Iterable[Line]:
    found: list[str] = []
    for gateway in _k8s(resources, "Gateway"):
        found.append(f"Gateway `{gateway['metadata']['name']}` (its implementation's Service)")
    for service in _k8s(resources, "Service"):
        if (service.get("spec") or {}).get("type") == "LoadBalancer":
            found.append(f"Service `{service['metadata']['name']}`")
    for lb in _of_type(resources, "aws:lb/loadBalancer:LoadBalancer"):
        found.append(f"{lb['inputs'].get('loadBalancerType', 'application')} LB `{lb['name']}`")
    if found:
        hourly = p("elb", "nlb_per_hour")
        cost = hourly * p.hours * len(found)
        yield Line(
            "Load balancers (NLB)",
            f"{len(found)} x {p.hours} h",
            rate(hourly, "h"),
            cost,
            cost,
            "; ".join(found),
        )


def _edge_and_keys(resources: list[dict[str, Any]], p: Prices) -> Iterable[Line]:
    distributions = _of_type(resources, "aws:cloudfront/distribution:Distribution")
    if distributions:
        yield Line(
            "CloudFront distributions",
            str(len(distributions)),
            "no monthly fee",
            Decimal(0),
            Decimal(0),
            "pay as you go: traffic and requests are usage (below)",
        )
    for acl in _of_type(resources, "aws:wafv2/webAcl:WebAcl"):
        rules = len(acl["inputs"].get("rules") or [])
        acl_fee, rule_fee = p("waf", "web_acl_per_month"), p("waf", "rule_per_month")
        cost = acl_fee + rule_fee * rules
        yield Line(
            f"WAF web ACL `{acl['name']}` and its rules",
            f"1 ACL + {rules} rules",
            f"{rate(acl_fee, 'month')} + {rate(rule_fee, 'rule-month')}",
            cost,
            cost,
            "a managed rule group counts as one rule",
        )
    keys = _of_type(resources, "aws:kms/key:Key")
    if keys:
        fee = p("kms", "key_per_month")
        rotating = sum(1 for k in keys if k["inputs"].get("enableKeyRotation"))
        yield Line(
            "KMS customer managed keys",
            str(len(keys)),
            rate(fee, "month"),
            fee * len(keys),
            fee * len(keys),
            f"{rotating} rotate yearly: +$1/month per key after each of the first two rotations",
        )
    secrets = _of_type(resources, "aws:secretsmanager/secret:Secret")
    if secrets:
        fee = p("secretsmanager", "secret_per_month")
        # A replica region's copy is billed as a secret of its own.
        replicas = sum(len(s["inputs"].get("replicas") or ()) for s in secrets)
        count = len(secrets) + replicas
        yield Line(
            "Secrets Manager secrets",
            str(count),
            rate(fee, "month"),
            fee * count,
            fee * count,
            f"{replicas} of them replicas in another region (each billed as a secret)"
            if replicas
            else "",
        )


def _usage(resources: list[dict[str, Any]], p: Prices) -> list[str]:
    """Items billed by volume: named with their unit price, never given a number."""
    usage = []
    if _of_type(resources, "aws:ec2/natGateway:NatGateway"):
        usage.append(f"NAT gateway data processed: {rate(p('vpc', 'nat_gateway_per_gb'), 'GB')}")
    if any("Load balancers" in line.item for line in _load_balancers(resources, p)):
        usage.append(f"NLB capacity units: {rate(p('elb', 'nlb_per_lcu_hour'), 'LCU-h')}")
    if _of_type(resources, "aws:cloudfront/distribution:Distribution"):
        usage.append(
            f"CloudFront data out: {rate(p('cloudfront', 'per_gb_out'), 'GB')} (first 10 TB), "
            f"HTTPS requests: {rate(p('cloudfront', 'https_per_10k_requests'), '10k')}"
        )
    if _of_type(resources, "aws:wafv2/webAcl:WebAcl"):
        usage.append(f"WAF requests: {rate(p('waf', 'per_million_requests'), 'million')}")
    if _of_type(resources, "aws:kms/key:Key"):
        usage.append(f"KMS requests: {rate(p('kms', 'per_10k_requests'), '10k')}")
    if _of_type(resources, "aws:secretsmanager/secret:Secret"):
        usage.append(
            f"Secrets Manager API calls: {rate(p('secretsmanager', 'per_10k_api_calls'), '10k')}"
        )
    for group in _of_type(resources, "aws:cloudwatch/logGroup:LogGroup"):
        days = group["inputs"].get("retentionInDays")
        kept = f"kept {days} days" if days else "kept forever"
        usage.append(
            f"CloudWatch Logs `{group['inputs'].get('name') or group['name']}` ({kept}): "
            f"ingestion {rate(p('cloudwatch_logs', 'ingestion_per_gb'), 'GB')}, storage "
            f"{rate(p('cloudwatch_logs', 'storage_per_gb_month'), 'GB-month')}; no volume known"
        )
    if usage:
        usage.append("Data transfer out of AWS and across zones: by volume")
    return usage


def estimate(stack: str, document: dict[str, Any], prices: Prices, on: date) -> Estimate:
    """Price a ``resources.json`` document."""
    resources = document.get("resources")
    if not isinstance(resources, list):
        raise CostError("not a synth resources.json: no 'resources' list")
    result = Estimate(stack=stack, prices=prices, on=on)
    for lines in (
        _control_planes(resources, prices, on),
        _node_groups(resources, prices),
        _node_pools(resources, prices),
        _network(resources, prices),
        _load_balancers(resources, prices),
        _edge_and_keys(resources, prices),
    ):
        result.lines.extend(lines)
    result.usage = _usage(resources, prices)
    return result


# --- output -----------------------------------------------------------------------------


def total(estimate: Estimate) -> str:
    if estimate.high == estimate.low:
        return money(estimate.low)
    return f"{money(estimate.low)} (up to {money(estimate.high)} at the autoscalers' ceilings)"


def arithmetic(estimate: Estimate) -> str:
    """The total as a sum of the lines (unrounded lines, so the cents may differ by one)."""
    terms = " + ".join(money(line.low) for line in estimate.lines)
    line = f"Monthly: {terms} = **{money(estimate.low)}**."
    if estimate.high != estimate.low:
        highs = " + ".join(money(line.high) for line in estimate.lines)
        line += f" At the ceilings: {highs} = {money(estimate.high)}."
    return line


def markdown(estimate: Estimate) -> str:
    p = estimate.prices
    out = [
        f"Monthly cost of `{estimate.stack}`: **{total(estimate)}** "
        f"({p.region}, {p.currency}, prices of {p.as_of}, on {estimate.on}; {p.hours} h a month).",
        "",
    ]
    if not estimate.lines:
        out.append("Nothing billed by the hour or the month: this stack creates no AWS resources.")
        return "\n".join(out)
    out += ["| item | quantity | unit price | monthly | high | note |", "|---|---|---|--:|--:|---|"]
    for line in estimate.lines:
        high = money(line.high) if line.high != line.low else ""
        out.append(
            f"| {line.item} | {line.quantity} | {line.unit_price} | {money(line.low)} | {high} "
            f"| {line.note} |"
        )
    out.append(f"| **total** | | | **{money(estimate.low)}** | **{money(estimate.high)}** | |")
    out += ["", arithmetic(estimate)]
    if estimate.usage:
        out += ["", "Billed by usage, not estimated (the stack does not say the volume):"]
        out += [f"- {item}" for item in estimate.usage]
    return "\n".join(out)


def as_json(estimate: Estimate) -> dict[str, Any]:
    p = estimate.prices
    return {
        "stack": estimate.stack,
        "region": p.region,
        "currency": p.currency,
        "pricesAsOf": p.as_of,
        "on": estimate.on.isoformat(),
        "monthly": str(estimate.low.quantize(Decimal("0.01"))),
        "monthlyHigh": str(estimate.high.quantize(Decimal("0.01"))),
        "lines": [
            {
                "item": line.item,
                "quantity": line.quantity,
                "unitPrice": line.unit_price,
                "monthly": str(line.low.quantize(Decimal("0.01"))),
                "monthlyHigh": str(line.high.quantize(Decimal("0.01"))),
                "note": line.note,
            }
            for line in estimate.lines
        ],
        "usage": estimate.usage,
    }


def difference(new: Decimal, old: Decimal) -> str:
    delta = new - old
    sign = "+" if delta > 0 else "-" if delta < 0 else "±"
    return f"{sign}{money(abs(delta))}"


def row(estimate: Estimate, base: Estimate | None) -> str:
    """One row of the pull request's cost table: stack, base, head, difference (and ceilings)."""
    head = f"{money(estimate.low)} (to {money(estimate.high)})"
    if base is None:
        return f"| `{estimate.stack}` | (new stack) | {head} | {difference(estimate.low, Decimal(0))} |"
    return (
        f"| `{estimate.stack}` | {money(base.low)} (to {money(base.high)}) | {head} "
        f"| {difference(estimate.low, base.low)} (to {difference(estimate.high, base.high)}) |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py cost", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--config-file", type=Path, help="read this stack file instead")
    parser.add_argument("--resources", type=Path, help="price this resources.json; no synth")
    parser.add_argument(
        "--date",
        type=date.fromisoformat,
        default=datetime.now(UTC).date(),
        help="the day to price (Kubernetes support status); default today",
    )
    parser.add_argument(
        "--base-resources",
        type=Path,
        help="with --format row: the base commit's resources.json, to show the difference",
    )
    parser.add_argument("--format", choices=["markdown", "json", "row"], default="markdown")
    args = parser.parse_args(argv)
    try:
        if args.resources is not None:
            document = json.loads(args.resources.read_text())
        else:
            from infra.config import StackConfigError
            from infra.synth import SynthInputError, synthesize
            from webplatform.testing import close_loop

            try:
                document = synthesize(args.stack, args.config_file).resources()
            except (StackConfigError, SynthInputError) as exc:
                print(str(exc), file=sys.stderr)
                return EXIT_INVALID
            finally:
                close_loop()  # before exit, not by the garbage collector (issue 25)
        prices = Prices.load()
        result = estimate(args.stack, document, prices, args.date)
        base = None
        if args.base_resources is not None:
            base_document = json.loads(args.base_resources.read_text())
            base = estimate(args.stack, base_document, prices, args.date)
    except (CostError, OSError, json.JSONDecodeError) as exc:
        print(f"cost: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if args.format == "row":
        print(row(result, base))
    elif args.format == "json":
        print(json.dumps(as_json(result), indent=2))
    else:
        print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

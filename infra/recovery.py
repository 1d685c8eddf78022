"""Recovery numbers and files from a stack's offline synth (issue 22: RPO 15 min, RTO 4 h).

    python3 dev.py rto --stack prod [--resources FILE] [--times FILE]
    python3 dev.py import-file --stack prod --out FILE [--resources FILE]

``rto``: the critical path of a from-scratch ``pulumi up`` of the stack. The graph is the
synth's (``resources.json``: each resource's ``dependencies``, its provider, and a
component's children); each resource takes the time ``infra/rto.toml`` gives its type
(each figure with its source and date). A resource starts when everything it depends on
is done, as the engine schedules it, so the longest chain is the time of the ``up``. The
stack's runbook steps outside the graph (promote the secret replicas, move the CDN) are
added from the same table, and the total is held against the target (4 h). Exit 1 when
the target is missed, 2 on a type the table does not know.

``import-file``: a ``pulumi import --file`` document for a lost state: every resource
the synth registers, by type and name, with its parent and provider, and its cloud ID:
the ID itself when the program determines it (Kubernetes objects: ``namespace/name``;
IAM roles, log groups, the EKS cluster and its add-ons, Route 53 records: by name), else
a placeholder ``<...>`` that names the lookup (``aws ec2 describe-vpcs ...``) to fill in
before ``pulumi import --file``. Components become ``component: true`` entries, so the
imported URNs are the program's. Resources that cannot be imported (an ACM certificate
validation is a waiter, not a cloud object) are left out and listed.

``repair-state``: what a killed engine leaves in a DIY backend on a local disk
(``file://``), undone before the runbook's "Stuck update" steps (:func:`repair_file_backend`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TIMES = Path(__file__).resolve().parent / "rto.toml"
EXIT_MISSED = 1
EXIT_INVALID = 2


class RecoveryError(Exception):
    """A type the times table or the import patterns do not know (say what to add)."""


# --- RTO ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Times:
    by_type: dict[str, int]
    zero_prefixes: tuple[str, ...]
    steps: dict[str, list[dict[str, Any]]]
    target_seconds: int

    @classmethod
    def load(cls, path: Path = TIMES) -> Times:
        raw = tomllib.loads(path.read_text())
        for type_, entry in raw["types"].items():
            if not {"seconds", "source", "date"} <= set(entry):
                raise RecoveryError(f"{path.name}: {type_} needs seconds, source and date")
        return cls(
            by_type={t: int(e["seconds"]) for t, e in raw["types"].items()},
            zero_prefixes=tuple(raw.get("zero_prefixes", ())),
            steps=dict(raw.get("steps", {})),
            target_seconds=int(raw["target_hours"] * 3600),
        )

    def seconds(self, type_: str) -> int:
        if type_ in self.by_type:
            return self.by_type[type_]
        if type_.startswith(self.zero_prefixes):
            return 0
        if type_.startswith("kubernetes:") and "kubernetes:*" in self.by_type:
            return self.by_type["kubernetes:*"]
        raise RecoveryError(
            f"no creation time for {type_}: add it to infra/rto.toml with seconds, source, date"
        )


@dataclass(frozen=True)
class Step:
    name: str
    type: str
    seconds: int
    finish: int


def graph(document: Mapping[str, Any]) -> dict[str, set[str]]:
    """URN -> what it waits for: its dependencies, its provider, what its enclosing components
    wait for, and (a component) its children.

    The components' own dependencies are counted for their children, which is the stack's
    intent ("the apps wait for the add-ons") and the slower reading: the SDK sends a
    component's ``depends_on`` with the component only, not with its children.
    """
    resources = document["resources"]
    by_urn = {r["urn"]: r for r in resources}
    own = {r["urn"]: set(r.get("dependencies", ())) & by_urn.keys() for r in resources}
    waits: dict[str, set[str]] = {urn: set(deps) for urn, deps in own.items()}
    for r in resources:
        ancestor = by_urn.get(r.get("parent", ""))
        while ancestor is not None:
            if not _custom(ancestor["type"]):
                waits[r["urn"]] |= own[ancestor["urn"]]
            ancestor = by_urn.get(ancestor.get("parent", ""))
        if r.get("provider") in by_urn:
            waits[r["urn"]].add(r["provider"])
        parent = by_urn.get(r.get("parent", ""))
        if parent is not None and not _custom(parent["type"]):
            waits[parent["urn"]].add(r["urn"])  # done when its children are
    return waits


def _custom(type_: str) -> bool:
    return not type_.startswith("webplatform:")


def critical_path(document: Mapping[str, Any], times: Times) -> list[Step]:
    """The longest chain of waits, first to last, each with its own time and finish time."""
    waits = graph(document)
    types = {r["urn"]: r["type"] for r in document["resources"]}
    finish: dict[str, int] = {}
    before: dict[str, str | None] = {}

    def done(urn: str, seen: frozenset[str] = frozenset()) -> int:
        if urn in finish:
            return finish[urn]
        if urn in seen:
            raise RecoveryError(f"dependency cycle through {urn}")
        start, last = 0, None
        for dep in sorted(waits[urn]):
            at = done(dep, seen | {urn})
            if at > start or (last is None and at == start):
                start, last = at, dep
        finish[urn] = start + times.seconds(types[urn])
        before[urn] = last
        return finish[urn]

    for urn in sorted(waits):
        done(urn)
    end = max(finish, key=lambda u: (finish[u], u))
    chain: list[Step] = []
    node: str | None = end
    while node is not None:
        seconds = times.seconds(types[node])
        if seconds or node == end:
            chain.append(Step(node.rsplit("::", 1)[-1], types[node], seconds, finish[node]))
        node = before[node]
    return list(reversed(chain))


def _clock(seconds: int) -> str:
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m{seconds % 60:02d}s"


def rto_report(stack: str, document: Mapping[str, Any], times: Times) -> tuple[str, int]:
    """The printed report and the total (from-scratch ``up`` plus the stack's runbook steps)."""
    path = critical_path(document, times)
    up = path[-1].finish if path else 0
    lines = [f"RTO of {stack}: critical path of a from-scratch `pulumi up` (infra/rto.toml)"]
    for step in path:
        lines.append(f"  {_clock(step.finish)}  +{_clock(step.seconds)}  {step.name} ({step.type})")
    lines.append(f"  `pulumi up` from scratch: {_clock(up)}")
    total = up
    for extra in times.steps.get(stack, []):
        total += int(extra["seconds"])
        lines.append(f"  +{_clock(int(extra['seconds']))}  {extra['name']}")
    slack = times.target_seconds - total
    lines.append(
        f"total {_clock(total)}; target {_clock(times.target_seconds)}; "
        + (f"slack {_clock(slack)}" if slack >= 0 else f"MISSED by {_clock(-slack)}")
    )
    return "\n".join(lines), total


# --- import file --------------------------------------------------------------------------

Pattern = Callable[[Mapping[str, Any], str], str]


def _input(resource: Mapping[str, Any], key: str, fallback: str = "") -> str:
    value = resource["inputs"].get(key)
    return value if isinstance(value, str) and value != "[secret]" else fallback


def _lookup(what: str) -> Pattern:
    return lambda r, name: f"<{what.format_map({**_strings(r['inputs']), 'name': name})}>"


def _strings(inputs: Mapping[str, Any]) -> dict[str, str]:
    """String inputs by key; ``{name}`` in a lookup is the logical name (tags carry it)."""
    return {k: v for k, v in inputs.items() if isinstance(v, str)}


def _kubernetes(resource: Mapping[str, Any], name: str) -> str:
    meta = resource["inputs"].get("metadata") or {}
    if resource["type"] == "kubernetes:helm.sh/v3:Release":
        return f"{_input(resource, 'namespace', 'default')}/{_input(resource, 'name', name)}"
    namespace = meta.get("namespace")
    return f"{namespace}/{meta['name']}" if namespace else str(meta["name"])


#: How each AWS type's import ID is made (pulumi-aws v7 registry, "Import" sections).
_AWS_IDS: dict[str, Pattern] = {
    "aws:ec2/vpc:Vpc": _lookup(
        "vpc-...: aws ec2 describe-vpcs --filters Name=tag:Name,Values={name}"
    ),
    "aws:ec2/subnet:Subnet": _lookup(
        "subnet-...: aws ec2 describe-subnets --filters Name=tag:Name,Values={name}"
    ),
    "aws:ec2/internetGateway:InternetGateway": _lookup(
        "igw-...: aws ec2 describe-internet-gateways --filters Name=tag:Name,Values={name}"
    ),
    "aws:ec2/eip:Eip": _lookup(
        "eipalloc-...: aws ec2 describe-addresses --filters Name=tag:Name,Values={name}"
    ),
    "aws:ec2/natGateway:NatGateway": _lookup(
        "nat-...: aws ec2 describe-nat-gateways --filter Name=tag:Name,Values={name}"
    ),
    "aws:ec2/routeTable:RouteTable": _lookup(
        "rtb-...: aws ec2 describe-route-tables --filters Name=tag:Name,Values={name}"
    ),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _lookup(
        "subnet-.../rtb-...: the subnet and route table of {name}"
    ),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _lookup(
        "sg-...: the default group of the VPC (aws ec2 describe-security-groups --filters Name=group-name,Values=default)"
    ),
    "aws:ec2/flowLog:FlowLog": _lookup(
        "fl-...: aws ec2 describe-flow-logs --filter Name=tag:Name,Values={name}"
    ),
    "aws:cloudwatch/logGroup:LogGroup": lambda r, n: _input(r, "name", f"<log group name of {n}>"),
    "aws:iam/role:Role": lambda r, n: _input(
        r, "name", f"<role name: aws iam list-roles, prefix {n}>"
    ),
    "aws:iam/rolePolicy:RolePolicy": _lookup("ROLE:POLICY of {name}: aws iam list-role-policies"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _lookup(
        "ROLE/{policyArn}: aws iam list-attached-role-policies"
    ),
    "aws:kms/key:Key": _lookup("key id: aws kms list-aliases / describe-key (tags of {name})"),
    "aws:kms/alias:Alias": lambda r, n: _input(r, "name", f"<alias/... of {n}>"),
    "aws:secretsmanager/secret:Secret": _lookup(
        "arn:aws:secretsmanager:REGION:ACCOUNT:secret:{name}-XXXXXX: aws secretsmanager describe-secret --secret-id <name>"
    ),
    "aws:secretsmanager/secretPolicy:SecretPolicy": _lookup("the secret's ARN (as for its secret)"),
    # Imported by its value, a secret: never written here; read it where it is used (the
    # CDN's origin header) and pass it on the command line, or let `up` make a new one.
    "random:index/randomPassword:RandomPassword": _lookup("the current value of {name} (a secret)"),
    "aws:eks/cluster:Cluster": lambda r, n: _input(r, "name", f"<cluster name of {n}>"),
    "aws:eks/addon:Addon": _lookup("CLUSTER:{addonName}"),
    "aws:eks/accessEntry:AccessEntry": _lookup("CLUSTER:{principalArn}"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": _lookup(
        "CLUSTER#{principalArn}#{policyArn}"
    ),
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": _lookup(
        "CLUSTER,a-...: aws eks list-pod-identity-associations --namespace {namespace}"
    ),
    "aws:acm/certificate:Certificate": _lookup(
        "arn:aws:acm:us-east-1:...: aws acm list-certificates --region us-east-1 ({domainName})"
    ),
    "aws:route53/record:Record": lambda r, n: "_".join(
        [
            _input(r, "zoneId", "<zone id>"),
            _input(r, "name", f"<name of {n}>"),
            _input(r, "type", "<type>"),
        ]
    ),
    "aws:cloudfront/distribution:Distribution": _lookup(
        "E...: aws cloudfront list-distributions (alias of {name})"
    ),
    "aws:cloudfront/cachePolicy:CachePolicy": _lookup(
        "policy id: aws cloudfront list-cache-policies --type custom ({name})"
    ),
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": _lookup(
        "policy id: aws cloudfront list-response-headers-policies --type custom ({name})"
    ),
    "aws:wafv2/webAcl:WebAcl": _lookup(
        "ID/{name}/CLOUDFRONT: aws wafv2 list-web-acls --scope CLOUDFRONT --region us-east-1"
    ),
}
#: Types `pulumi import` cannot adopt: `up` makes them again (a waiter, no cloud object).
NOT_IMPORTABLE = frozenset({"aws:acm/certificateValidation:CertificateValidation"})


def import_id(resource: Mapping[str, Any], computed: bool = False) -> str:
    """The resource's import ID, or a ``<lookup>`` placeholder. ``computed``: its inputs come
    from another resource's outputs (a certificate's validation record), which the synth only
    has as mock values: looked up, never taken from the synth."""
    type_, name = resource["type"], resource["name"]
    if type_.startswith("kubernetes:"):
        return _kubernetes(resource, name)
    if computed and type_ == "aws:route53/record:Record":
        return f"<ZONE_NAME_CNAME of {name}: aws acm describe-certificate (ResourceRecord)>"
    if type_ in _AWS_IDS:
        return _AWS_IDS[type_](resource, name)
    raise RecoveryError(f"no import ID pattern for {type_}: add it to infra/recovery.py _AWS_IDS")


def import_file(document: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The ``pulumi import --file`` document, and the URNs left out (not importable)."""
    resources = [r for r in document["resources"] if r["type"] != "pulumi:pulumi:Stack"]
    counts: dict[str, int] = {}
    for r in resources:
        counts[r["name"]] = counts.get(r["name"], 0) + 1
    # `name` is the file's own key (unique); `logicalName` the program's.
    key = {
        r["urn"]: r["name"] if counts[r["name"]] == 1 else f"{r['name']}#{r['type']}"
        for r in resources
    }
    types = {r["urn"]: r["type"] for r in resources}
    entries, skipped = [], []
    for r in resources:
        if r["type"] in NOT_IMPORTABLE:
            skipped.append(r["urn"])
            continue
        entry: dict[str, Any] = {"type": r["type"], "name": key[r["urn"]], "logicalName": r["name"]}
        if r.get("parent") in key:
            entry["parent"] = key[r["parent"]]
        if r["type"].startswith("pulumi:providers:"):
            # Created during the import with the program's (non-secret) configuration; a
            # kubeconfig made from the cluster is a secret: the provider reads $KUBECONFIG.
            entry["inputs"] = {k: v for k, v in r["inputs"].items() if v != "[secret]"}
        elif not _custom(r["type"]):
            entry["component"] = True
        else:
            computed = any(
                types.get(d) == "aws:acm/certificate:Certificate" for d in r.get("dependencies", ())
            )
            entry["id"] = import_id(r, computed)
            if r.get("provider") in key:
                entry["provider"] = key[r["provider"]]
        entries.append(entry)
    return {"resources": entries}, skipped


def placeholders(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The entries whose ID is still a lookup to do."""
    return [e for e in document["resources"] if str(e.get("id", "")).startswith("<")]


# --- a DIY backend on a local disk, after a kill ---------------------------------------------


def backend_root(backend: str) -> Path:
    """The directory of a ``file://`` backend URL (or a plain path) that holds ``.pulumi``."""
    if "://" in backend and not backend.startswith("file://"):
        raise RecoveryError(
            f"repair-state: {backend!r} is not a file:// backend (object stores such as s3:// "
            "write each object whole; Pulumi Cloud keeps its own history): nothing to repair"
        )
    root = Path(backend.removeprefix("file://")).expanduser()
    if not (root / ".pulumi").is_dir():
        raise RecoveryError(f"repair-state: no .pulumi directory under {root}: not a DIY backend")
    return root


def repair_file_backend(root: Path) -> list[Path]:
    """Remove the broken ``.attrs`` sidecars and unfinished temp files a kill left; say which.

    The DIY backend writes through gocloud's fileblob (gocloud.dev v0.46, as built into
    pulumi v3.274): the blob goes to a temp file renamed into place (atomic), but its
    ``.attrs`` sidecar (content type and MD5) is written in place, after the temp file and
    before the rename (``blob/fileblob/attrs.go``, ``setAttrs``: ``os.Create`` then encode).
    An engine killed between the two leaves the sidecar empty, and from then on every
    command on the stack fails with ``failed to load checkpoint: EOF`` although the
    checkpoint itself is whole (the new one was never renamed in). The recovery drill hit
    it. A missing sidecar reads as defaults, so a sidecar that is not JSON is removed, and
    so are the ``*.tmp`` blobs that were never renamed. Run it only when no engine is
    running against the backend (the runbook runs it first, before ``pulumi cancel``).
    Checkpoints themselves are never touched: one that does not parse is restored from its
    ``.bak`` or from an export (runbook), by a person who reads it first.
    """
    removed: list[Path] = []
    for path in sorted((root / ".pulumi").rglob("*")):
        if not path.is_file():
            continue
        if path.name.endswith(".tmp"):
            removed.append(path)
        elif path.name.endswith(".attrs"):
            try:
                json.loads(path.read_text())  # "" (the kill's leftover) raises too
            except (ValueError, UnicodeDecodeError):
                removed.append(path)
    for path in removed:
        path.unlink()
    return removed


# --- CLI ----------------------------------------------------------------------------------


def _document(stack: str, resources: Path | None) -> dict[str, Any]:
    if resources is not None:
        return dict(json.loads(resources.read_text()))
    from infra import synth

    return synth.synthesize(stack).resources()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.recovery", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="task", required=True)
    rto = sub.add_parser("rto", help="critical path of a from-scratch up, against the RTO")
    rto.add_argument("--times", type=Path, default=TIMES)
    imp = sub.add_parser("import-file", help="a `pulumi import --file` document from the synth")
    imp.add_argument("--out", type=Path, required=True)
    for command in (rto, imp):
        command.add_argument("--stack", required=True)
        command.add_argument("--resources", type=Path, help="a resources.json (default: synth now)")
    rep = sub.add_parser("repair-state", help="undo what a killed engine left in a file:// backend")
    rep.add_argument("--backend", required=True, help="file:///path (PULUMI_BACKEND_URL) or a path")
    args = parser.parse_args(argv)
    if args.task == "repair-state":
        try:
            removed = repair_file_backend(backend_root(args.backend))
        except RecoveryError as exc:
            print(exc, file=sys.stderr)
            return EXIT_INVALID
        for path in removed:
            print(f"removed {path}")
        print(f"repair-state: {len(removed)} file(s) removed")
        return 0
    from infra.config import StackConfigError

    try:
        document = _document(args.stack, args.resources)
        if args.task == "rto":
            text, total = rto_report(args.stack, document, Times.load(args.times))
            print(text)
            return 0 if total <= Times.load(args.times).target_seconds else EXIT_MISSED
        out, skipped = import_file(document)
    except (RecoveryError, StackConfigError) as exc:
        print(f"{args.task}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    todo = placeholders(out)
    print(
        f"wrote {args.out}: {len(out['resources'])} resources, {len(todo)} IDs to look up "
        f"(<...>), {len(skipped)} left out (not importable: {', '.join(sorted({u.split('::')[2].split('$')[-1] for u in skipped})) or 'none'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

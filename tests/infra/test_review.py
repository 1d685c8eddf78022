"""Review stacks (issue 16): dev-pr-<N> from dev's file, names derived, collisions refused."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from infra import review as review_cli
from infra import synth
from infra.config import StackConfigError, review
from tests.conftest import ROOT, load_stack_file

DEV = ROOT / "Pulumi.dev.yaml"


def flat(document: dict) -> dict[str, str]:
    """A stack document as the engine hands it to the program (objects as JSON text)."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in document["config"].items()}


def synthesize(stack: str, config_file: Path, out: Path, capsys) -> tuple[int, str]:
    code = synth.main(["--stack", stack, "--config-file", str(config_file), "--out", str(out)])
    return code, capsys.readouterr().err


def public_hosts(rendered: list[dict]) -> set[str]:
    """Host names the rendered objects serve (Ingress rules and TLS, Gateway API routes)."""
    hosts = set()
    for o in rendered:
        spec = o.get("spec") or {}
        if o["kind"] == "Ingress":
            hosts |= {r["host"] for r in spec.get("rules", [])}
            hosts |= {h for t in spec.get("tls", []) for h in t.get("hosts", [])}
        elif o["kind"] == "HTTPRoute":
            hosts |= set(spec.get("hostnames", []))
        elif o["kind"] == "Gateway":
            hosts |= {li["hostname"] for li in spec.get("listeners", []) if "hostname" in li}
    return hosts


def objects(out: Path) -> list[dict]:
    return list(yaml.safe_load_all((out / "kubernetes.yaml").read_text()))


@pytest.fixture
def committed(tmp_path, monkeypatch):
    """A copy of the repository's stack files that a test may add to; the program reads it."""
    root = tmp_path / "repo"
    root.mkdir()
    for path in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(path, root / path.name)
    monkeypatch.setattr(review, "ROOT", root)
    return root


# --- naming -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack", "number"),
    [
        ("dev-pr-7", 7),
        ("dev-pr-1", 1),
        ("dev-pr-123456", 123456),
        ("dev", None),
        ("staging", None),
        ("dev-pr-0", None),
        ("dev-pr-07", None),
        ("dev-pr-", None),
        ("dev-pr-7a", None),
        ("dev-pr-7-x", None),
        ("staging-pr-7", None),
        ("Dev-pr-7", None),
        ("org/dev-pr-7", None),
    ],
)
def test_only_dev_pr_and_a_pull_request_number_names_a_review_stack(stack, number):
    assert review.review_number(stack) == number


def test_the_stack_name_of_a_pull_request():
    assert review.review_stack_name(42) == "dev-pr-42"
    with pytest.raises(ValueError, match="1 or more"):
        review.review_stack_name(0)


@pytest.mark.parametrize(
    ("host", "derived"),
    [
        ("dev.example.com", "dev-pr-7.review.example.net"),
        ("DEV.Example.com.", "dev-pr-7.review.example.net"),
        ("api.dev.example.com", "api.dev-pr-7.review.example.net"),
        ("web.example.com", "dev-pr-7-web.review.example.net"),
        ("developer.example.com", "dev-pr-7-developer.review.example.net"),
    ],
)
def test_a_host_moves_under_the_review_domain_with_the_stack_name(host, derived):
    assert review.derive_host(host, "dev-pr-7", "review.example.net") == derived


def test_a_review_stack_from_devs_file_unchanged_gets_its_own_namespace_host_and_cluster(
    tmp_path, capsys
):
    # The workflow's copy: Pulumi.dev-pr-7.yaml is byte for byte Pulumi.dev.yaml.
    copy = tmp_path / "Pulumi.dev-pr-7.yaml"
    shutil.copy(DEV, copy)
    code, err = synthesize("dev-pr-7", copy, tmp_path / "out", capsys)
    assert code == 0, err
    rendered = objects(tmp_path / "out")
    # A sandbox: no Namespace (a trusted job made it, with restricted Pod Security the PR
    # cannot change), nothing cluster-scoped, nothing in another namespace, the Gateway
    # included: every object lies in dev-pr-7, where alone the review identity may write.
    assert rendered
    assert [o["kind"] for o in rendered if o["metadata"].get("namespace") != "dev-pr-7"] == []
    # The routes attach to the Gateway the trusted job makes (test_review_sandbox.py).
    routes = [o for o in rendered if o["kind"] == "HTTPRoute"]
    assert routes and not [o for o in rendered if o["kind"] == "Gateway"]
    assert {(p["namespace"], p["name"]) for r in routes for p in r["spec"]["parentRefs"]} == {
        ("envoy-gateway-system", "dev-pr-7")
    }
    assert public_hosts(rendered) == {"dev-pr-7.review.example.net"}
    text = (tmp_path / "out" / "kubernetes.yaml").read_text()
    assert "web-dev" not in text and "example.com" not in text
    resources = json.loads((tmp_path / "out" / "resources.json").read_text())["resources"]
    (provider,) = [r for r in resources if r["type"] == "pulumi:providers:kubernetes"]
    assert provider["inputs"]["context"] == "webplatform-dev"
    assert "renderYamlToDirectory" not in provider["inputs"]


def test_two_review_stacks_share_no_namespace_and_no_host():
    raw = flat(load_stack_file("dev"))
    a = review.footprint("dev-pr-7", review.apply("dev-pr-7", raw))
    b = review.footprint("dev-pr-8", review.apply("dev-pr-8", raw))
    assert (a.namespace, b.namespace) == ("dev-pr-7", "dev-pr-8")
    assert set(a.hosts) == {"dev-pr-7.review.example.net"}
    assert set(b.hosts) == {"dev-pr-8.review.example.net"}


def test_the_dev_stack_itself_is_unchanged():
    raw = flat(load_stack_file("dev"))
    assert review.apply("dev", raw) == raw
    assert json.loads(raw[review.REVIEW_KEY]) == {
        "context": "webplatform-dev",
        "domain": "review.example.net",
    }


def test_the_workflow_reads_the_url_to_comment(capsys):
    assert review_cli.main(["url", "31"]) == 0
    assert capsys.readouterr().out.strip() == "https://dev-pr-31.review.example.net"
    assert review_cli.main(["stack", "31"]) == 0
    assert capsys.readouterr().out.strip() == "dev-pr-31"


def test_the_committed_stacks_claim_disjoint_namespaces_and_hosts():
    found = review.committed_footprints(ROOT, exclude="")
    assert {f.stack for f in found} >= {"dev", "staging", "uat", "prod"}
    for i, a in enumerate(found):
        others = found[:i] + found[i + 1 :]
        problems = review.collisions(a, others)
        if a.stack in ("prod", "prod-dr"):
            # The recovery stack is prod on its own cluster: the same namespace (so the same
            # secret names, which its replicas keep), never the same hosts.
            (problem,) = problems
            assert problem[0] == "webplatform:namespace", a.stack
            continue
        assert problems == [], a.stack


# --- refusal ----------------------------------------------------------------------------


def _app_host_key() -> str:
    """Where an app's public host lives in the stack files (its Gateway API route)."""
    return "webplatform:apps.web.route.hosts[0]"


def _add_stack(root: Path, stack: str, *, namespace: str, hosts: list[str]) -> None:
    document = load_stack_file("staging")
    config = document["config"]
    config["webplatform:namespace"] = namespace
    app = config["webplatform:apps"]["web"]
    app["route"]["hosts"] = [hosts[0]]
    config["webplatform:cdn"]["host"] = hosts[-1]
    (root / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.mark.parametrize(
    ("namespace", "hosts", "key", "words"),
    [
        # another stack already uses the namespace the review stack derives
        (
            "dev-pr-7",
            ["a.example.org", "b.example.org"],
            "webplatform:namespace",
            ["namespace 'dev-pr-7'", "stack 'demo'"],
        ),
        # another stack's route serves the review host
        (
            "demo",
            ["dev-pr-7.review.example.net", "b.example.org"],
            "APP_HOST",
            ["host 'dev-pr-7.review.example.net'", "stack 'demo'", "dev-pr-7.review.example.net"],
        ),
        # another stack's CDN serves a wildcard that covers the review host
        (
            "demo",
            ["a.example.org", "*.review.example.net"],
            "APP_HOST",
            ["host 'dev-pr-7.review.example.net'", "*.review.example.net"],
        ),
    ],
)
def test_a_review_stack_touching_another_stacks_names_is_refused_before_anything_exists(
    committed, tmp_path, capsys, namespace, hosts, key, words
):
    _add_stack(committed, "demo", namespace=namespace, hosts=hosts)
    code, err = synthesize("dev-pr-7", DEV, tmp_path / "out", capsys)
    assert code == synth.EXIT_INVALID
    assert "Pulumi.dev-pr-7.yaml: invalid stack configuration" in err
    assert f"  {_app_host_key() if key == 'APP_HOST' else key}: " in err
    assert all(w in err for w in words), err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_wildcard_covers_one_label_only():
    mine = review.Footprint("dev-pr-7", "dev-pr-7", {"dev-pr-7.example.com": "k"})
    deeper = review.Footprint("x", "x", {"*.eu.example.com": "k"})
    apex = review.Footprint("y", "y", {"example.com": "k"})
    assert review.collisions(mine, [deeper, apex]) == []
    covering = review.Footprint("z", "z", {"*.example.com": "k"})
    assert len(review.collisions(mine, [covering])) == 1


def test_a_review_stack_made_from_another_stacks_file_is_refused(tmp_path, capsys):
    code, err = synthesize("dev-pr-7", ROOT / "Pulumi.staging.yaml", tmp_path / "out", capsys)
    assert code == synth.EXIT_INVALID
    assert "  webplatform:review: a review stack needs a map" in err
    assert "  webplatform:environment: a review stack (dev-pr-7)" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "value",
    [
        {"context": "bad context with spaces", "domain": "review.example.net"},
        {"context": "ok", "domain": "review.example.net", "namespace": "web-prod"},
        {"context": "ok"},
        {"context": "ok", "domain": "Review.Example.net"},
        "webplatform-dev",
        {},
    ],
)
def test_a_bad_review_block_is_refused(value):
    raw = flat(load_stack_file("dev"))
    raw[review.REVIEW_KEY] = value if isinstance(value, str) else json.dumps(value)
    with pytest.raises(StackConfigError) as caught:
        review.apply("dev-pr-7", raw)
    (problem,) = caught.value.problems
    assert problem[0].startswith(review.REVIEW_KEY)


def test_only_devs_file_may_say_how_review_stacks_are_made(write_stack, tmp_path, capsys):
    document = load_stack_file("staging")
    document["config"]["webplatform:review"] = {
        "context": "webplatform-dev",
        "domain": "review.example.net",
    }
    path = write_stack("staging", document)
    code, err = synthesize("staging", path, tmp_path / "out", capsys)
    assert code == synth.EXIT_INVALID
    assert "  webplatform:review: only Pulumi.dev.yaml may say" in err


# --- UAT ----------------------------------------------------------------------------------

#: Where UAT must differ from prod: its identity (names, hosts, addresses), not its shape.
IDENTITY = {
    "webplatform:environment",
    "webplatform:namespace",
    "webplatform:cluster.name",
    "webplatform:cluster.vpc.cidr",
    "webplatform:secrets.clusterName",
    "webplatform:apps.web.route.hosts",
    "webplatform:cdn.host",
    "webplatform:cdn.aliases",
    "webplatform:cdn.accessLogs.prefix",
}


def _leaves(value, prefix=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


#: Where the recovery stack must differ from prod: its cluster's identity and its route host.
#: Same environment, namespace and secret names: it *is* prod, elsewhere (issue 22).
DR_IDENTITY = {
    "webplatform:cluster.name",
    "webplatform:cluster.vpc.cidr",
    "webplatform:apps.web.route.hosts",
    "webplatform:cluster.access.ciRoleArn",  # one CI role per environment and cluster
}


def _unexplained(stack: str, identity: set[str]) -> list[str]:
    """Paths where ``stack``'s file differs from prod's outside ``identity`` and no line of it
    (the key's own, or its parent's when the key itself differs) carries ``# prod: ...``."""
    prod = dict(_leaves(load_stack_file("prod")["config"]))
    other = dict(_leaves(load_stack_file(stack)["config"]))
    lines = (ROOT / f"Pulumi.{stack}.yaml").read_text().splitlines()
    differing = sorted(
        p for p in prod.keys() | other.keys() if prod.get(p) != other.get(p) and p not in identity
    )
    assert differing, f"{stack} differs from prod somewhere"
    prefixes = {".".join(q.split(".")[:i]) for q in other for i in range(1, q.count(".") + 2)}
    missing = []
    for path in differing:
        # the deepest key of the path that the file has, e.g. disruptionBudget for
        # prod's disruptionBudget.minAvailable; top-level keys keep their namespace
        parts = path.split(".")
        depth = max(i for i in range(1, len(parts) + 1) if ".".join(parts[:i]) in prefixes)
        keys = {parts[depth - 1], parts[max(depth - 2, 0)]}
        keys |= {k.split(":")[-1] for k in keys}
        explained = [
            ln for ln in lines if ln.strip().split(": ")[0].rstrip(":") in keys and "# prod:" in ln
        ]
        if not explained:
            missing.append(f"{path}: {stack} {other.get(path)!r} vs prod {prod.get(path)!r}")
    return missing


def test_every_way_uat_differs_from_prod_is_explained_on_its_line():
    """Issue 16: UAT is prod's shape, smaller where safe, each difference explained in the
    file: every value that differs carries a `# prod: ...` comment on its line (or on its
    parent's, when the key itself differs)."""
    assert _unexplained("uat", IDENTITY) == []


def test_the_recovery_stack_is_prod_elsewhere_each_difference_explained():
    """Issue 22: Pulumi.prod-dr.yaml differs from prod only in its identity and in lines
    marked `# prod:` (the region, no CDN of its own, no replica of its own)."""
    assert _unexplained("prod-dr", DR_IDENTITY) == []
    prod = dict(_leaves(load_stack_file("prod")["config"]))
    dr = dict(_leaves(load_stack_file("prod-dr")["config"]))
    assert dr["aws:region"] != prod["aws:region"]
    assert dr["aws:region"] in prod["webplatform:secrets.replicaRegions"]
    # prod's CDN fails over to this stack's route host
    assert prod["webplatform:cdn.failoverOriginHost"] == dr["webplatform:apps.web.route.hosts"][0]
    assert dr["webplatform:cdn.trustedProxyHops"] == 1  # behind prod's CloudFront
    # ... whose origin header this stack requires, and whose zone holds the failover host
    assert dr["webplatform:cdn.failoverFor.stack"] == "prod"
    assert dr["webplatform:cdn.failoverFor.originZoneId"] == prod["webplatform:cdn.hostedZoneId"]


def test_the_explanation_rule_catches_an_unmarked_difference(tmp_path, monkeypatch):
    """The rule is not vacuous: a recovery file with one unexplained change fails it."""
    text = (
        (ROOT / "Pulumi.prod-dr.yaml")
        .read_text()
        .replace("      replicas: 3\n      resources:", "      replicas: 2\n      resources:", 1)
    )
    (tmp_path / "Pulumi.prod-dr.yaml").write_text(text)
    (tmp_path / "Pulumi.prod.yaml").write_text((ROOT / "Pulumi.prod.yaml").read_text())
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(
        sys.modules[__name__],
        "load_stack_file",
        lambda stack: yaml.safe_load((tmp_path / f"Pulumi.{stack}.yaml").read_text()),
    )
    assert _unexplained("prod-dr", DR_IDENTITY) == [
        "webplatform:apps.web.replicas: prod-dr 2 vs prod 3"
    ]


def test_every_host_key_is_derived_route_lists_and_the_cdn_included():
    raw = flat(load_stack_file("dev"))
    apps = json.loads(raw["webplatform:apps"])
    apps["web"]["route"] = {"hosts": ["dev.example.com", "www.dev.example.com"]}
    apps["api"] = {"route": {"hosts": ["api.example.com"]}}
    raw["webplatform:apps"] = json.dumps(apps)
    raw["webplatform:cdn"] = json.dumps(
        {"provider": "cloudfront", "host": "cdn.dev.example.com", "aliases": ["www.example.org"]}
    )
    mine = review.footprint("dev-pr-9", review.derive("dev-pr-9", raw))
    assert mine.hosts == {
        "dev-pr-9.review.example.net": "webplatform:apps.web.route.hosts[0]",
        "www.dev-pr-9.review.example.net": "webplatform:apps.web.route.hosts[1]",
        "dev-pr-9-api.review.example.net": "webplatform:apps.api.route.hosts[0]",
        "cdn.dev-pr-9.review.example.net": "webplatform:cdn.host",
        "dev-pr-9-www.review.example.net": "webplatform:cdn.aliases[0]",
    }
    assert review.primary_url("dev-pr-9", raw) == "https://cdn.dev-pr-9.review.example.net"


def test_other_review_stacks_files_are_not_committed_stacks(committed):
    shutil.copy(DEV, committed / "Pulumi.dev-pr-3.yaml")  # a leftover review copy
    stacks = {f.stack for f in review.committed_footprints(committed, exclude="dev-pr-7")}
    assert "dev-pr-3" not in stacks and {"dev", "staging", "uat", "prod"} <= stacks


def test_the_review_module_spells_the_config_namespace_as_the_stack_model_does():
    from infra.config._base import NAMESPACE

    assert review.NAMESPACE == NAMESPACE


@pytest.mark.parametrize("domain", ["review.example.com", "example.com", "pr.dev.example.com"])
def test_a_review_domain_sharing_cookies_with_a_committed_stack_is_refused(
    domain, tmp_path, capsys
):
    document = load_stack_file("dev")
    document["config"]["webplatform:review"]["domain"] = domain
    path = tmp_path / "Pulumi.dev-pr-7.yaml"
    path.write_text(yaml.safe_dump(document))
    code, err = synthesize("dev-pr-7", path, tmp_path / "out", capsys)
    assert code == synth.EXIT_INVALID
    assert "  webplatform:review.domain: " in err
    assert "shares a registrable domain (and so cookies)" in err and "example.com" in err
    assert not (tmp_path / "out").exists()

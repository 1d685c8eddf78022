"""Issue 22, offline: `dev.py rto` (critical path against RTO 4 h), `dev.py import-file`
(a `pulumi import --file` document for a lost state), and the stack rules of secret replicas."""

import json
import tomllib

import pytest

from infra import recovery, synth
from infra.config import StackConfigError
from tests._edit import set_
from tests.conftest import ROOT, load_stack_file, synthesized

TIMES = recovery.Times.load()


@pytest.fixture(scope="module")
def documents():
    return {stack: synthesized(stack).resources() for stack in ("prod", "prod-dr", "local")}


def res(urn, type_, deps=(), parent="", provider=""):
    return {"urn": urn, "type": type_, "name": urn, "parent": parent, "inputs": {},
            "protect": False, "dependencies": list(deps), "provider": provider}  # fmt: skip


def test_every_time_names_its_source_and_date():
    raw = tomllib.loads(recovery.TIMES.read_text())
    for type_, entry in raw["types"].items():
        assert entry["seconds"] > 0 and entry["source"].strip() and entry["date"], type_
    assert raw["target_hours"] == 4  # reference 003


@pytest.mark.parametrize("stack", ["prod", "prod-dr"])
def test_prod_and_its_recovery_region_fit_in_four_hours_with_secrets_and_dns(stack, documents):
    text, total = recovery.rto_report(stack, documents[stack], TIMES)
    assert total <= 4 * 3600
    assert "slack" in text.splitlines()[-1]
    steps = " ".join(s["name"] for s in TIMES.steps[stack])
    assert "secret" in steps  # the secrets' restore is counted
    if stack == "prod-dr":
        assert "CloudFront" in steps  # and the edge's move to this region
    # the path goes through what a from-scratch up cannot skip
    path = [s.type for s in recovery.critical_path(documents[stack], TIMES)]
    assert "aws:eks/cluster:Cluster" in path
    # prod's path ends at its CDN (behind the Gateway's load balancer), prod-dr's at the app
    last = (
        "aws:cloudfront/distribution:Distribution"
        if stack == "prod"
        else "kubernetes:apps/v1:Deployment"
    )
    assert last in path


def test_the_path_is_the_longest_chain_and_components_wait_for_their_children():
    times = recovery.Times({"a": 10, "b": 100, "c": 1, "d": 5}, ("webplatform:",), {}, 3600)
    document = {
        "resources": [
            res("A", "a"),
            res("B", "b", deps=["A"]),
            res("C", "c"),
            res("G", "webplatform:x:Group"),
            res("D", "d", parent="G"),
            res("E", "c", deps=["G", "C"]),  # waits for G, so for its child D
        ]
    }
    path = recovery.critical_path(document, times)
    assert [(s.name, s.finish) for s in path] == [("A", 10), ("B", 110)]
    # E: after G's child D (5 s), not after G alone (0 s)
    assert recovery.graph(document)["G"] == {"D"}
    document["resources"][1]["dependencies"] = []
    path = recovery.critical_path(document, times)
    assert [s.name for s in path][-1] == "B" and path[-1].finish == 100


def test_a_component_dependency_holds_back_its_children():
    """The stack's intent ("apps wait for the add-ons") is counted, the slower reading."""
    times = recovery.Times({"a": 50, "c": 1}, ("webplatform:",), {}, 3600)
    document = {"resources": [res("A", "a"), res("G", "webplatform:x:App", deps=["A"]),
                              res("K", "c", parent="G")]}  # fmt: skip
    assert "A" in recovery.graph(document)["K"]
    assert recovery.critical_path(document, times)[-1].finish == 51


def test_a_missed_target_exits_1_and_an_unknown_type_exits_2(tmp_path, capsys, documents):
    slow = tmp_path / "rto.toml"
    text = recovery.TIMES.read_text().replace(
        '[types."aws:eks/cluster:Cluster"]\nseconds = 1200',
        '[types."aws:eks/cluster:Cluster"]\nseconds = 20000',
    )
    slow.write_text(text)
    resources = tmp_path / "resources.json"
    resources.write_text(json.dumps(documents["prod-dr"]))
    assert (
        recovery.main(
            ["rto", "--stack", "prod-dr", "--resources", str(resources), "--times", str(slow)]
        )
        == 1
    )
    assert "MISSED by" in capsys.readouterr().out
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        text.replace('[types."aws:ec2/natGateway:NatGateway"]', '[types."aws:ec2/natGateway:Nat"]')
    )
    assert (
        recovery.main(
            ["rto", "--stack", "prod-dr", "--resources", str(resources), "--times", str(unknown)]
        )
        == 2
    )
    assert "no creation time for aws:ec2/natGateway:NatGateway" in capsys.readouterr().err


def test_the_recovery_guide_quotes_the_current_rto_figures(documents):
    guide = (ROOT / "docs" / "guides" / "recovery.md").read_text()
    for stack in ("prod", "prod-dr"):
        text, _ = recovery.rto_report(stack, documents[stack], TIMES)
        assert text.splitlines()[-1] in guide, (
            f"docs/guides/recovery.md's {stack} RTO is stale: python3 dev.py rto --stack {stack}"
        )


# --- import file ----------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["prod", "prod-dr", "local"])
def test_the_import_file_holds_every_resource_with_its_parent_and_provider(stack, documents):
    document = documents[stack]
    out, skipped = recovery.import_file(document)
    entries = out["resources"]
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names))  # the file's keys are unique
    by_name = {e["name"]: e for e in entries}
    originals = [r for r in document["resources"] if r["urn"] not in skipped]
    assert sorted(e["logicalName"] for e in entries) == sorted(r["name"] for r in originals)
    assert all(u.split("::")[2].endswith("CertificateValidation") for u in skipped)
    for e in entries:
        assert e.get("parent") is None or e["parent"] in by_name
        assert e.get("provider") is None or by_name[e["provider"]]["type"].startswith(
            "pulumi:providers:"
        )
        if e["type"].startswith("webplatform:"):
            assert e["component"] is True and "id" not in e
        elif not e["type"].startswith("pulumi:providers:"):
            assert e["id"], e["name"]
        assert "[secret]" not in json.dumps(e)


def test_kubernetes_ids_are_namespace_slash_name_from_the_manifests(documents):
    out, _ = recovery.import_file(documents["prod"])
    ids = {e["logicalName"]: e["id"] for e in out["resources"] if "id" in e}
    assert ids["web-blue-green-blue-deployment"] == "web-production/web-blue"
    assert ids["web-production-namespace"] == "web-production"  # cluster-scoped: the name
    assert ids["cluster-addons-envoy-gateway"].endswith("/envoy-gateway")  # a Helm release
    # names the program fixes are IDs, the rest are lookups that say how
    assert ids["webplatform-production-cluster"] == "webplatform-production"
    assert ids["webplatform-production-vpc"].startswith("<vpc-...: aws ec2 describe-vpcs")
    assert ids["cdn-alias-www-example-com-a"] == "Z0123456789EXAMPLEPRD_www.example.com_A"
    # a validation record's name is ACM's: never the mock's value
    assert ids["cdn-validation-www-example-com"].startswith("<")


def test_dev_py_writes_the_file(tmp_path, capsys):
    out = tmp_path / "import.json"
    assert recovery.main(["import-file", "--stack", "prod-dr", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert any(e["type"] == "aws:eks/cluster:Cluster" for e in document["resources"])
    assert "IDs to look up" in capsys.readouterr().out


def test_a_type_without_a_pattern_is_an_error():
    with pytest.raises(recovery.RecoveryError, match="no import ID pattern for aws:s3/bucket"):
        recovery.import_id(res("b", "aws:s3/bucket:Bucket"))


# --- stack rules of secret replicas --------------------------------------------------------


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        (
            ["us-west-2"],
            "webplatform:secrets.replicaRegions[0]: 'us-west-2' is the stack's own aws:region",
        ),
        (
            ["us-east-2", "us-north-9"],
            "webplatform:secrets.replicaRegions[1]: 'us-north-9' is not an AWS region",
        ),
        (["mars"], "webplatform:secrets.replicaRegions: ['mars'] are not AWS region names"),
    ],
)
def test_bad_replica_regions_name_the_file_and_key(write_stack, regions, message):
    document = load_stack_file("prod")
    set_(["webplatform:secrets", "replicaRegions"], regions)(document["config"])
    with pytest.raises(StackConfigError) as caught:
        synth.synthesize("prod", write_stack("prod", document))
    assert message in str(caught.value)
    assert "Pulumi.prod.yaml" in str(caught.value)


def test_replica_regions_need_external_secrets(write_stack):
    document = load_stack_file("dev")
    document["config"]["webplatform:secrets"] = {"replicaRegions": ["us-east-2"]}
    with pytest.raises(
        StackConfigError, match="replicaRegions: only with delivery external-secrets"
    ):
        synth.synthesize("dev", write_stack("dev", document))


# --- repair-state: a DIY backend after a killed engine ------------------------------------


def _backend(tmp_path):
    """A file:// backend as the DIY backend lays it out, after a kill between the sidecar's
    create and its write (what the recovery drill met): an empty ``.attrs`` and the new
    checkpoint still under its temp name."""
    stacks = tmp_path / ".pulumi" / "stacks" / "webplatform"
    stacks.mkdir(parents=True)
    checkpoint = stacks / "drill.json"
    checkpoint.write_text('{"version": 3, "checkpoint": {}}\n')
    (stacks / "drill.json.attrs").write_text("")
    (stacks / "drill.json.18ee2a1f269bd43c.tmp").write_text('{"version": 3')
    (stacks / "drill.json.bak").write_text('{"version": 3, "checkpoint": {}}\n')
    good = '{"user.cache_control":"","user.content_type":"application/octet-stream"}\n'
    (stacks / "drill.json.bak.attrs").write_text(good)
    history = tmp_path / ".pulumi" / "history" / "webplatform" / "drill"
    history.mkdir(parents=True)
    (history / "drill-1.history.json.attrs").write_text('{"user.content_type": "appl')
    return checkpoint


def test_repair_removes_broken_sidecars_and_temp_blobs_and_nothing_else(tmp_path, capsys):
    checkpoint = _backend(tmp_path)
    before = checkpoint.read_bytes()
    code = recovery.main(["repair-state", "--backend", f"file://{tmp_path}"])
    assert code == 0
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == [
        ".pulumi/stacks/webplatform/drill.json",
        ".pulumi/stacks/webplatform/drill.json.bak",
        ".pulumi/stacks/webplatform/drill.json.bak.attrs",
    ]
    assert checkpoint.read_bytes() == before  # the checkpoint is never rewritten
    assert "3 file(s) removed" in capsys.readouterr().out
    # Run again: nothing left to do.
    assert recovery.repair_file_backend(tmp_path) == []


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("s3://state-bucket/web", "not a file:// backend"),
        ("https://api.pulumi.com", "not a file:// backend"),
        ("file:///nonexistent/backend", "no .pulumi directory under /nonexistent/backend"),
    ],
)
def test_repair_refuses_what_is_not_a_local_diy_backend(backend, message, capsys):
    assert recovery.main(["repair-state", "--backend", backend]) == recovery.EXIT_INVALID
    assert message in capsys.readouterr().err

"""The synth CLI contract of DESIGN.md: files, redaction, numbers, counts, diff."""

import json
import re

import yaml

from infra import synth
from tests.conftest import load_stack_file

SECRET_VALUE = "postgres://admin:Tr0ub4dor&3@db.internal/app"


def run(capsys, *args):
    code = synth.main(list(args))
    return code, capsys.readouterr()


def test_writes_both_files_and_one_count_line_per_type(tmp_path, capsys):
    code, out = run(capsys, "--stack", "dev", "--out", str(tmp_path))
    assert code == 0
    document = json.loads((tmp_path / "resources.json").read_text())
    assert (document["project"], document["stack"]) == ("webplatform", "dev")
    assert set(document["resources"][0]) == {
        "urn",
        "type",
        "name",
        "parent",
        "inputs",
        "protect",
        "dependencies",
        "provider",
    }
    types = {r["type"] for r in document["resources"]}
    count_lines = [ln for ln in out.out.splitlines() if ln.split()[-1] in types]
    assert len(count_lines) == len(types)
    deployments = sum(r["type"] == "kubernetes:apps/v1:Deployment" for r in document["resources"])
    assert f"{deployments:5d}  kubernetes:apps/v1:Deployment" in out.out
    assert "manifests:" in out.out.splitlines()[-1]
    objects = list(yaml.safe_load_all((tmp_path / "kubernetes.yaml").read_text()))
    assert all(list(o)[:3] == ["apiVersion", "kind", "metadata"] for o in objects)


def test_whole_numbers_are_written_as_integers(tmp_path, capsys):
    run(capsys, "--stack", "prod", "--out", str(tmp_path))
    text = (tmp_path / "resources.json").read_text()
    assert '"minReplicas": 3,' in text
    assert not re.search(r":\s*-?\d+\.0[,\n]", text), "a whole number written as a float"
    objects = list(yaml.safe_load_all((tmp_path / "kubernetes.yaml").read_text()))
    hpa = next(o for o in objects if o["kind"] == "HorizontalPodAutoscaler")
    assert isinstance(hpa["spec"]["minReplicas"], int)


def test_secure_values_never_reach_the_outputs(write_stack, tmp_path, capsys):
    document = load_stack_file("dev")
    # A `secure:` value is ciphertext; synth must not need to decrypt it.
    document["config"]["webplatform:webDatabaseUrl"] = {"secure": "v1:AAAA" + SECRET_VALUE}
    path = write_stack("dev", document)
    code, out = run(
        capsys, "--stack", "dev", "--config-file", str(path), "--out", str(tmp_path / "o")
    )
    assert code == 0
    for name in ("resources.json", "kubernetes.yaml"):
        text = (tmp_path / "o" / name).read_text()
        assert SECRET_VALUE not in text and synth.PLACEHOLDER not in text
    assert SECRET_VALUE not in out.out + out.err
    secret = next(
        o
        for o in yaml.safe_load_all((tmp_path / "o" / "kubernetes.yaml").read_text())
        if o["kind"] == "Secret"
    )
    assert secret["stringData"] == {"DATABASE_URL": "[secret]"}


def test_the_secret_reaches_the_secret_object_as_a_pulumi_secret(write_stack):
    document = load_stack_file("dev")
    document["config"]["webplatform:webDatabaseUrl"] = {"secure": "v1:ciphertext"}
    result = synth.synthesize("dev", write_stack("dev", document))
    secret = result.recording.one("kubernetes:core/v1:Secret")
    assert secret.inputs["stringData"]["DATABASE_URL"] == synth.PLACEHOLDER
    assert secret.is_secret("stringData.DATABASE_URL")
    assert result.placeholders == []
    for r in result.recording.resources:
        if r.type != "kubernetes:core/v1:Secret":
            assert synth.PLACEHOLDER not in json.dumps(r.inputs), r.urn


def test_unset_secret_gets_a_placeholder_and_a_note(capsys, tmp_path):
    code, out = run(capsys, "--stack", "staging", "--out", str(tmp_path))
    assert code == 0
    assert "note: secret webplatform:webDatabaseUrl is not set" in out.err


def test_diff_reports_added_removed_and_changed_properties(write_stack, tmp_path, capsys):
    run(capsys, "--stack", "dev", "--out", str(tmp_path / "old"))
    document = load_stack_file("dev")
    apps = document["config"]["webplatform:apps"]
    apps["web"]["image"] = "ghcr.io/example/web:1.5.0"
    apps["api"] = {k: v for k, v in apps["web"].items() if k != "route"}  # a host is one app's
    path = write_stack("dev", document)
    code, out = run(
        capsys,
        "--stack",
        "dev",
        "--config-file",
        str(path),
        "--out",
        str(tmp_path / "new"),
        "--diff",
        str(tmp_path / "old"),
    )
    assert code == 0
    lines = out.out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("diff against"))
    changes = lines[start + 1 :]
    assert "+ urn:pulumi:dev::webplatform::webplatform:app:WebApp::api" in changes
    assert not any(ln.startswith("- ") for ln in changes)
    image_change = '    inputs.spec.template.spec.containers[0].image: "ghcr.io/example/web:1.4.2" -> "ghcr.io/example/web:1.5.0"'
    idx = changes.index(image_change)
    assert changes[idx - 1].endswith("kubernetes:apps/v1:Deployment::web-workload-deployment")


def test_diff_of_identical_synths_is_empty(tmp_path, capsys):
    run(capsys, "--stack", "prod", "--out", str(tmp_path / "a"))
    code, out = run(
        capsys, "--stack", "prod", "--out", str(tmp_path / "b"), "--diff", str(tmp_path / "a")
    )
    assert code == 0
    assert out.out.splitlines()[-1].endswith(": 0 change(s)")
    assert (tmp_path / "a" / "resources.json").read_text() == (
        tmp_path / "b" / "resources.json"
    ).read_text()

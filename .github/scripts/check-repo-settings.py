#!/usr/bin/env python3
"""Check that the GitHub repository enforces what the delivery pipeline relies on.

    python3 .github/scripts/check-repo-settings.py OWNER/REPO      (gh, logged in as an admin)

The workflows' own checks (tag on main, UAT passed) run from the tagged commit and so can
be edited away by whoever can push a tag; what holds regardless is GitHub's: who may push a
``v*`` tag, which refs each environment accepts, who must approve production, where each
credential lives. This script reads those settings through the REST API (``gh api``; admin
rights are needed to read rulesets, environments' secrets and variables) and prints one
line per check, ``ok`` or ``FAIL`` with the fix; exit status 1 if any check failed.
docs/guides/threat-model.md lists the same settings for a human. Standard library only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

#: Secrets that deploy or decrypt a stack: never at repository or organization level, where
#: every job (pull requests included) reads them; only in environments.
DEPLOY_SECRETS = ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "REVIEW_CONFIG_SECRETS")
#: Environment -> (deployment ref policies it must have exactly, its role variable, secrets).
#: ``None``: any ref (the review environment serves pull-request refs).
ENVIRONMENTS: dict[str, tuple[set[tuple[str, str]] | None, str, bool]] = {
    "review": (None, "AWS_DEPLOY_ROLE_ARN", True),
    "review-admin": ({("main", "branch")}, "AWS_REVIEW_ADMIN_ROLE_ARN", False),
    "staging": ({("main", "branch")}, "AWS_DEPLOY_ROLE_ARN", True),
    "uat": ({("v*-rc*", "tag")}, "AWS_DEPLOY_ROLE_ARN", True),
    "production": ({("v*", "tag")}, "AWS_DEPLOY_ROLE_ARN", True),
    "staging-drift": ({("main", "branch")}, "AWS_PREVIEW_ROLE_ARN", True),
    "uat-drift": ({("main", "branch")}, "AWS_PREVIEW_ROLE_ARN", True),
    "production-drift": ({("main", "branch")}, "AWS_PREVIEW_ROLE_ARN", True),
}
#: What a tag ruleset on v* must forbid to everyone but its bypass list (release managers).
TAG_RULES = {"creation", "update", "deletion"}


def gh(path: str) -> Any:
    """``gh api PATH``, parsed; None on 404 (a setting that does not exist)."""
    done = subprocess.run(["gh", "api", path], capture_output=True, text=True)
    if done.returncode:
        if "404" in done.stderr or "Not Found" in done.stderr:
            return None
        raise SystemExit(f"gh api {path} failed: {done.stderr.strip()}")
    return json.loads(done.stdout or "null")


@dataclass
class Report:
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str, fix: str) -> None:
        print(f"ok    {what}" if ok else f"FAIL  {what}\n      fix: {fix}")
        if not ok:
            self.failures.append(what)


def _names(document: Any, key: str) -> set[str]:
    return {item["name"] for item in (document or {}).get(key) or []}


def check_secrets(repo: str, report: Report) -> None:
    here = _names(gh(f"repos/{repo}/actions/secrets"), "secrets")
    shared = _names(gh(f"repos/{repo}/actions/organization-secrets"), "secrets")
    for name in DEPLOY_SECRETS:
        report.check(
            name not in here and name not in shared,
            f"{name} is not a repository or organization secret",
            "delete it there (Settings > Secrets and variables > Actions) and set it in each "
            "environment that needs it, with that environment's own value",
        )


def check_environments(repo: str, report: Report) -> None:
    found = {e["name"]: e for e in (gh(f"repos/{repo}/environments") or {}).get("environments", [])}
    roles: dict[str, str] = {}
    for name, (refs, role_variable, needs_secrets) in ENVIRONMENTS.items():
        env = found.get(name)
        report.check(env is not None, f"environment {name} exists", f"create environment {name}")
        if env is None:
            continue
        policy = env.get("deployment_branch_policy")
        if refs is not None:
            actual = {
                (p["name"], p.get("type", "branch"))
                for p in (
                    gh(f"repos/{repo}/environments/{name}/deployment-branch-policies") or {}
                ).get("branch_policies", [])
            }
            report.check(
                bool(policy and policy.get("custom_branch_policies")) and actual == refs,
                f"environment {name} accepts only "
                + ", ".join(f"{kind} {pattern}" for pattern, kind in sorted(refs)),
                f"Deployment branches and tags: 'Selected branches and tags', exactly {sorted(refs)}"
                f" (now {sorted(actual) or policy})",
            )
        variables = {
            v["name"]: v.get("value", "")
            for v in (gh(f"repos/{repo}/environments/{name}/variables") or {}).get("variables", [])
        }
        role = variables.get(role_variable, "")
        report.check(
            role.startswith("arn:aws"),
            f"environment {name} names its own AWS role ({role_variable})",
            f"set the environment variable {role_variable} to the role this environment's "
            f"OIDC subject (repo:{repo}:environment:{name}) alone may assume",
        )
        if role:
            roles[name] = role
        if needs_secrets:
            secrets = _names(gh(f"repos/{repo}/environments/{name}/secrets"), "secrets")
            report.check(
                bool(secrets & {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"}),
                f"environment {name} holds its own Pulumi credential",
                "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_ACCESS_TOKEN) as a secret of this "
                "environment, a value no other environment has",
            )
    _check_production(found.get("production"), report)
    deploy = {n: r for n, r in roles.items() if n in ("review", "staging", "uat", "production")}
    report.check(
        len(set(deploy.values())) == len(deploy),
        "review, staging, uat and production each have a different AWS role",
        f"give each environment its own role (now {deploy})",
    )


def _check_production(env: dict[str, Any] | None, report: Report) -> None:
    if env is None:
        return
    rules = {r["type"]: r for r in env.get("protection_rules") or []}
    reviewers = rules.get("required_reviewers", {})
    report.check(
        bool(reviewers.get("reviewers")),
        "production requires a reviewer",
        "Environments > production > Required reviewers: the release approvers",
    )
    report.check(
        reviewers.get("prevent_self_review") is True,
        "production's reviewer cannot be the person who pushed the tag",
        "Environments > production > Prevent self-review",
    )
    report.check(
        env.get("can_admins_bypass") is False,
        "administrators cannot bypass production's rules",
        "Environments > production > uncheck 'Allow administrators to bypass'",
    )


def check_rulesets(repo: str, report: Report) -> None:
    summaries = gh(f"repos/{repo}/rulesets?includes_parents=true") or []
    rulesets = [gh(f"repos/{repo}/rulesets/{s['id']}") for s in summaries]
    active = [r for r in rulesets if r and r.get("enforcement") == "active"]
    tags = [
        r
        for r in active
        if r.get("target") == "tag"
        and set((r.get("conditions") or {}).get("ref_name", {}).get("include", []))
        & {"refs/tags/v*", "~ALL"}
    ]
    best = max(tags, key=lambda r: len(TAG_RULES & {x["type"] for x in r["rules"]}), default=None)
    covered = TAG_RULES & {x["type"] for x in (best or {}).get("rules", [])}
    report.check(
        covered == TAG_RULES,
        "an active tag ruleset on refs/tags/v* restricts creation, update and deletion",
        "Rules > Rulesets > New tag ruleset: target refs/tags/v*, enforcement Active, "
        f"'Restrict creations', 'Restrict updates', 'Restrict deletions' (missing: "
        f"{sorted(TAG_RULES - covered)})",
    )
    if best is not None:
        report.check(
            bool(best.get("bypass_actors")),
            "only the ruleset's bypass list (release managers) may push v* tags",
            "add the release managers' team to the tag ruleset's bypass list",
        )
    branches = [
        r
        for r in active
        if r.get("target") == "branch"
        and set((r.get("conditions") or {}).get("ref_name", {}).get("include", []))
        & {"~DEFAULT_BRANCH", "refs/heads/main", "~ALL"}
    ]
    reviews = [
        x["parameters"] for r in branches for x in r.get("rules", []) if x["type"] == "pull_request"
    ]
    report.check(
        any(
            p.get("required_approving_review_count", 0) >= 1 and p.get("require_last_push_approval")
            for p in reviews
        ),
        "main takes only pull requests approved by someone other than the last pusher",
        "branch ruleset on the default branch: 'Require a pull request before merging', 1+ "
        "approval, 'Require approval of the most recent reviewable push'",
    )


def check_actions(repo: str, report: Report) -> None:
    workflow = gh(f"repos/{repo}/actions/permissions/workflow") or {}
    report.check(
        workflow.get("default_workflow_permissions") == "read",
        "the default GITHUB_TOKEN is read-only",
        "Actions > General > Workflow permissions: 'Read repository contents'",
    )
    report.check(
        workflow.get("can_approve_pull_request_reviews") is False,
        "workflows cannot approve pull requests",
        "Actions > General: uncheck 'Allow GitHub Actions to create and approve pull requests'",
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0].count("/") != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    repo = argv[0]
    report = Report()
    for check in (check_secrets, check_environments, check_rulesets, check_actions):
        check(repo, report)
    if report.failures:
        print(f"\n{len(report.failures)} setting(s) missing: the pipeline's gates do not hold.")
        return 1
    print("\nEvery setting the pipeline relies on is in place.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

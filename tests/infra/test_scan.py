"""The checkov gate's logic (the scan itself runs in CI: `python3 dev.py scan`)."""

import re

import pytest

import dev
from infra import scan
from tests.conftest import ROOT


def report(passed=(), failed=(), skipped=()):
    def items(pairs):
        return [{"check_id": c, "resource": r} for c, r in pairs]

    return {
        "check_type": "kubernetes",
        "results": {
            "passed_checks": items(passed),
            "failed_checks": items(failed),
            "skipped_checks": items(skipped),
        },
    }


def test_listed_failures_count_as_skipped_and_others_as_failed():
    result = scan.classify(
        "prod",
        report(
            passed=[("CKV_K8S_8", "Deployment.ns.web"), ("CKV_K8S_9", "Deployment.ns.web")],
            failed=[("CKV_K8S_43", "Deployment.ns.web"), ("CKV_K8S_20", "Deployment.ns.web")],
        ),
    )
    assert result.passed == 2
    assert result.failed == [("CKV_K8S_20", "Deployment.ns.web")]
    assert result.skipped == [("CKV_K8S_43", "Deployment.ns.web")]
    assert result.line() == "prod: passed 2, failed 1, skipped 1 (CKV_K8S_43)"


def test_a_multi_framework_report_is_summed():
    both = [report(passed=[("A", "x")]), report(passed=[("B", "y")], skipped=[("C", "z")])]
    result = scan.classify("dev", both)
    assert (result.passed, result.failed, result.skipped) == (2, [], [("C", "z")])


def test_a_skip_no_stack_uses_is_reported_as_stale():
    used = scan.classify("prod", report(failed=[(c, "r") for c in list(scan.CHECKOV_SKIPS)[1:]]))
    assert scan.stale_skips([used]) == [next(iter(scan.CHECKOV_SKIPS))]


@pytest.mark.parametrize("check", sorted(scan.CHECKOV_SKIPS))
def test_every_skip_is_a_checkov_id_with_a_reason(check):
    assert re.fullmatch(r"CKV2?_K8S_\d+", check)
    assert len(scan.CHECKOV_SKIPS[check].split()) >= 15, "say why the finding is accepted"


def test_the_scan_is_pinned_offline_and_in_ci():
    pins = (ROOT / "requirements-scan.lock").read_text()
    assert re.search(rf"^checkov=={re.escape(dev.CHECKOV_VERSION)} \\$", pins, re.M)
    assert "--hash=sha256:" in pins  # uv pip sync --require-hashes installs it
    assert "python3 dev.py scan" in (ROOT / ".ci" / "run").read_text()
    source = (ROOT / "infra" / "scan.py").read_text()
    assert '"--skip-download"' in source and '"kubernetes"' in source

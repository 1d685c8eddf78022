"""Third-party security scan: checkov over each stack's synthesized ``kubernetes.yaml``.

    python -m infra.scan --checkov PATH [--stack STACK ...] [--out DIR]

Run through ``python3 dev.py scan``, which installs checkov in its own
virtualenv (``.venv-scan``, pinned by ``requirements-scan.lock``): checkov pins
``packaging<24`` and more, which would downgrade what the project's own lock
pins, so it cannot live in ``.venv``. It runs offline (``--skip-download``),
with the Kubernetes framework only.

Every check runs. A failed check listed in :data:`CHECKOV_SKIPS` (the one place
where accepted findings live, each with its reason) counts as skipped; any
other failure fails the scan, in every stack. A listed skip that no stack
needs any more also fails the scan, so the list cannot rot. Prints passed,
failed and skipped counts per stack; exits 0 when clean, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import synth
from infra.config import StackConfigError

STACKS = ("dev", "staging", "uat", "prod", "prod-dr")

#: Checks we accept failing, and why. The only list of skips; keep each reason current.
CHECKOV_SKIPS: dict[str, str] = {
    "CKV_K8S_43": (
        "Image should use a digest: the stack file names a version tag; the digest only exists "
        "once CI has pushed the image, after synth. Tags are required and ':latest' is refused "
        "outside dev; a stack may already give 'name@sha256:...', which check_image accepts."
    ),
    "CKV_K8S_15": (
        "Image pull policy should be Always: images are versioned tags, so IfNotPresent pulls "
        "each version once per node; Always would make every pod start (and every reschedule "
        "during an incident) depend on the registry being reachable."
    ),
    "CKV_K8S_40": (
        "Containers should run as a high UID (>= 10000): pods run as UID/GID 1001, the non-root "
        "user the app images are built with (reference 004), with runAsNonRoot, no privilege "
        "escalation and all capabilities dropped; a different UID needs an image change first."
    ),
    "CKV_K8S_35": (
        "Prefer secrets as files over environment variables: the app reads its settings from the "
        "environment (reference 000); secret values come from their own Secret via envFrom, never "
        "appear in the pod spec, and are Pulumi secrets end to end (dev) or written by External "
        "Secrets from Secrets Manager without passing through Pulumi (staging, prod). Files "
        "need an app change."
    ),
}


@dataclass
class StackScan:
    """One stack's checkov results, split into passed, failed and (accepted) skipped."""

    stack: str
    passed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(check id, resource) of failures not in :data:`CHECKOV_SKIPS`."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(check id, resource) of failures accepted by :data:`CHECKOV_SKIPS`, and inline skips."""

    def line(self) -> str:
        ids = sorted({check for check, _ in self.skipped})
        return (
            f"{self.stack}: passed {self.passed}, failed {len(self.failed)}, "
            f"skipped {len(self.skipped)}" + (f" ({', '.join(ids)})" if ids else "")
        )


def classify(stack: str, report: dict[str, Any] | list[dict[str, Any]]) -> StackScan:
    """Split a checkov JSON report (one framework: a dict; several: a list) against the skip list."""
    reports = report if isinstance(report, list) else [report]
    scan = StackScan(stack)
    for part in reports:
        results = part.get("results", {})
        scan.passed += len(results.get("passed_checks", []))
        for item in results.get("failed_checks", []):
            found = (item["check_id"], item["resource"])
            (scan.skipped if item["check_id"] in CHECKOV_SKIPS else scan.failed).append(found)
        scan.skipped += [(i["check_id"], i["resource"]) for i in results.get("skipped_checks", [])]
    return scan


def stale_skips(scans: list[StackScan]) -> list[str]:
    """Skips that no stack needed: the finding was fixed, so the skip must go."""
    used = {check for scan in scans for check, _ in scan.skipped}
    return sorted(set(CHECKOV_SKIPS) - used)


def run_checkov(checkov: Path, manifests: Path) -> dict[str, Any] | list[dict[str, Any]]:
    result = subprocess.run(
        [
            str(checkov),
            "--file",
            str(manifests),
            "--framework",
            "kubernetes",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report: dict[str, Any] | list[dict[str, Any]] = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(
            f"checkov did not produce a JSON report (exit {result.returncode}):\n{result.stderr}"
        ) from None
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.scan", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--checkov", type=Path, required=True, help="the checkov executable")
    parser.add_argument("--stack", action="append", choices=STACKS, help="default: every stack")
    parser.add_argument("--out", type=Path, default=synth.ROOT / "build" / "scan")
    args = parser.parse_args(argv)

    scans = []
    for stack in args.stack or STACKS:
        try:
            result = synth.synthesize(stack)
        except StackConfigError as exc:
            print(str(exc), file=sys.stderr)
            return synth.EXIT_INVALID
        finally:
            synth.testing.close_loop()  # each stack's loop closed here, not at exit (issue 25)
        manifests, _ = synth.write(result, args.out / stack)
        scan = classify(stack, run_checkov(args.checkov, manifests))
        scans.append(scan)
        print(scan.line())
        for check, resource in scan.failed:
            print(f"  FAILED {check} on {resource}")
    print("skipped checks, from infra/scan.py CHECKOV_SKIPS:")
    for check, reason in CHECKOV_SKIPS.items():
        print(f"  {check}: {reason}")
    code = 0
    if any(scan.failed for scan in scans):
        print("scan: failed checks above; fix them or add a skip with its reason", file=sys.stderr)
        code = 1
    stale = stale_skips(scans) if not args.stack else []
    if stale:
        print(f"scan: skips no stack needs any more, remove them: {stale}", file=sys.stderr)
        code = 1
    return code


if __name__ == "__main__":
    sys.exit(main())

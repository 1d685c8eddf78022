"""The benchmark scripts still start: they run outside the suite (numbers, not timed tests),
so a rename in what they import would otherwise surface only when someone measures."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "bench").glob("*.py")))
def test_each_bench_script_imports_and_answers_help(script):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout and "--runs" in proc.stdout
    assert "Traceback" not in proc.stderr

"""`pulumi up` runs `infra/` the way the Python language host does; prove imports work there.

The language host calls ``runpy.run_path`` on the ``main`` directory, which puts
only ``infra/`` on ``sys.path``: ``components`` must come from the installed
distribution, not from the repository root happening to be the working directory.
"""

import json
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r"""
import json, os, runpy, sys
root = sys.argv[1]
assert root not in sys.path and "" not in sys.path, sys.path
os.chdir("infra")
from components import testing
from infra.synth import read_stack_file
config, secret = read_stack_file(__import__("pathlib").Path(root) / "Pulumi.dev.yaml", "webplatform")
config["webplatform:webDatabaseUrl"] = "placeholder"
secret.add("webplatform:webDatabaseUrl")
rec = testing.run(lambda: runpy.run_path(".", run_name="__main__"), stack="dev", config=config, secret_keys=secret)
import components
print(json.dumps({"types": sorted({r.type for r in rec.resources}), "components": components.__file__, "path0": sys.path[0] if sys.path else None}))
"""


def test_program_runs_with_only_infra_on_sys_path():
    result = subprocess.run(
        [sys.executable, "-I", "-c", SCRIPT, str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "kubernetes:apps/v1:Deployment" in report["types"]
    assert report["components"].startswith(str(ROOT / "components"))

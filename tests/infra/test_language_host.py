"""`pulumi up` runs `infra/` the way the Python language host does; prove imports work there.

The language host calls ``runpy.run_path`` on the ``main`` directory, which puts
only ``infra/`` on ``sys.path``: ``components`` must come from the installed
distribution, not from the repository root happening to be the working directory.
The library's import name is ``webplatform``; its folder here is ``components/``.
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
import yaml
from webplatform import testing
assert "infra" not in sys.modules
document = yaml.safe_load(open(os.path.join(root, "Pulumi.dev.yaml")))
config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in document["config"].items()}
config["webplatform:webDatabaseUrl"] = "placeholder"
secret = {"webplatform:webDatabaseUrl"}
rec = testing.run(lambda: runpy.run_path(".", run_name="__main__"), stack="dev", config=config, secret_keys=secret)
import webplatform
print(json.dumps({"types": sorted({r.type for r in rec.resources}), "components": webplatform.__file__, "infra": sys.modules["infra"].__file__}))
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
    # The library through the installed distribution (its folder here is components/) ...
    assert report["components"] == str(ROOT / "components" / "__init__.py")
    # ... and the program from the project, found by infra/__main__.py itself.
    assert report["infra"] == str(ROOT / "infra" / "__init__.py")

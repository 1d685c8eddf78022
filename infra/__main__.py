"""Entry point of the `webplatform` Pulumi program (``main: infra/`` in Pulumi.yaml).

The Python language host runs this file with ``runpy.run_path``, which puts
only ``infra/`` on ``sys.path``. The library, ``webplatform``, comes from the
distribution installed into the virtualenv (``components/`` in this
repository), exactly as under pytest. The program itself is not installed:
a top-level ``infra`` package in site-packages would collide with any team's
own, so this file puts the project root on ``sys.path`` for ``infra`` alone
(the library's folder is named ``components``, so nothing else resolves there).
"""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from infra.stack import main  # noqa: E402 - needs the root on sys.path first

main()

"""Entry point of the `webplatform` Pulumi program (``main: infra/`` in Pulumi.yaml).

The Python language host runs this file with only ``infra/`` on ``sys.path``;
``components`` and ``infra`` are importable because the project is installed
into the virtualenv (``pip install -e .``), exactly as under pytest.
"""

from infra.stack import main

main()

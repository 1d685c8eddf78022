"""``python -m tools.compat``: what ``python3 dev.py compat`` runs."""

import sys

from tools.compat import main

sys.exit(main())

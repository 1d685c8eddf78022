import sys
from pathlib import Path

# The example is its own project: its program module sits beside Pulumi.yaml.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

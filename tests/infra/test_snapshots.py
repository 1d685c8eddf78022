"""URN snapshots: a change of URN means Pulumi would delete and recreate live resources.

When a change of URN is intended, regenerate on purpose with
``python3 dev.py snapshots`` and commit the new files (or add ``aliases``
to keep the live resources instead).
"""

import os

import pytest

from tests.conftest import ROOT, STACKS, synthesized

SNAPSHOTS = ROOT / "tests" / "snapshots"
UPDATE = os.environ.get("WEBPLATFORM_UPDATE_SNAPSHOTS") == "1"


# local: the stack tests/e2e runs through the real engine, whose state must hold these URNs.
@pytest.mark.parametrize("stack", [*STACKS, "local"])
def test_urns_match_the_snapshot(stack):
    urns = synthesized(stack).recording.urns
    path = SNAPSHOTS / f"{stack}.urns"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text("\n".join(urns) + "\n")
    expected = path.read_text().splitlines()
    added, removed = sorted(set(urns) - set(expected)), sorted(set(expected) - set(urns))
    assert not added and not removed, (
        f"URNs of stack {stack} changed: live resources would be replaced.\n"
        f"added: {added}\nremoved: {removed}\n"
        "If intended, run `python3 dev.py snapshots` and commit, or add aliases."
    )

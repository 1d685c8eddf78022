"""What the processes of one test run share: the xdist controller, its workers, and the
fresh processes a test starts (the SDK-imports probe). Standard library only, so that such
a process can import it without loading what it measures."""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent

#: A directory the run's processes share, made by the controller or the serial run at
#: configure and removed at unconfigure (tests/conftest.py): a result one process computed
#: once is read by the others, never by a later run (so never stale).
SHARED = "WEBPLATFORM_TEST_SHARED"
_T = TypeVar("_T")


def _entry(name: str) -> Path:
    key = hashlib.sha256(f"{ROOT}\0{name}".encode()).hexdigest()[:24]
    return Path(os.environ[SHARED]) / key


def once_per_run(name: str, produce: Callable[[], _T]) -> _T:
    """``produce()`` computed by one process of the run and read (pickled) by the others.

    The first to take the entry's lock computes it while the other worker goes on with its
    own tests until it needs the same entry. Keyed by this checkout too, in case a test
    runs another checkout's suite with this environment.
    """
    entry = _entry(name)
    with open(f"{entry}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if entry.exists():
            result: _T = pickle.loads(entry.read_bytes())
            return result
        value = produce()
        _store(entry, value)
        return value


def offer(name: str, value: object) -> None:
    """Give the run ``value`` as ``name``'s result, unless some process already did: for a
    process that had to compute it anyway (the fresh-process probe watches what it loads)."""
    entry = _entry(name)
    with open(f"{entry}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not entry.exists():
            _store(entry, value)


def _store(entry: Path, value: object) -> None:
    entry.with_suffix(".tmp").write_bytes(pickle.dumps(value))
    entry.with_suffix(".tmp").replace(entry)

"""Stress the offline synth: many valid synths, several at once; stderr must stay clean.

Why a script and not a suite test: the failure it hunts (issue 25, an event loop closed by
the garbage collector at interpreter exit) was seen about once in six hundred runs, so a
meaningful check is hundreds of fresh processes, minutes of machine time. The suite keeps
the deterministic half (tests/infra/test_event_loop.py: no loop is left open when a synth
returns); this script is the outcome check on real processes.

    python3 dev.py stress-synth [--runs 200] [--jobs 2]

Each run is a fresh ``python -m infra.synth`` over one of: every committed stack file, and
the dev variants the issue names (a secret left unset, so synth uses a placeholder; an
extra ``kubernetes:`` provider key). A run passes when it exits 0 and its stderr holds no
``Traceback`` and no ``Exception ignored``. Prints one line per failure, then a summary;
exits 1 if any run failed. Bounded: it stops after ``--runs`` processes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DIRTY = ("Traceback", "Exception ignored")


def variants(tmp: Path) -> list[tuple[str, Path]]:
    """(stack, file) pairs: every committed stack file, plus the two dev variants of issue 25."""
    pairs = [
        (p.name.removeprefix("Pulumi.").removesuffix(".yaml"), p)
        for p in sorted(ROOT.glob("Pulumi.*.yaml"))
    ]
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    dev["config"].pop("webplatform:webDatabaseUrl", None)
    unset = tmp / "unset-secret" / "Pulumi.dev.yaml"  # dev names webDatabaseUrl but sets none
    unset.parent.mkdir()
    unset.write_text(yaml.safe_dump(dev))
    extra = tmp / "extra-provider-key" / "Pulumi.dev.yaml"
    extra.parent.mkdir()
    dev["config"]["kubernetes:enableServerSideApply"] = True
    extra.write_text(yaml.safe_dump(dev))
    return [*pairs, ("dev", unset), ("dev", extra)]


def one(stack: str, path: Path, out: Path) -> tuple[str, int, str, float]:
    start = time.perf_counter()
    command = [sys.executable, "-m", "infra.synth", "--stack", stack, "--config-file", str(path)]
    result = subprocess.run(
        [*command, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return f"{stack}:{path}", result.returncode, result.stderr, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--stack", action="append", help="only these stacks' files (default: every one)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pairs = [(s, p) for s, p in variants(tmp) if not args.stack or s in args.stack]
        plan = [pairs[i % len(pairs)] for i in range(args.runs)]
        failures, times = 0, []
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [
                pool.submit(one, stack, path, tmp / "out" / str(i))
                for i, (stack, path) in enumerate(plan)
            ]
            for n, future in enumerate(futures, 1):
                label, code, err, seconds = future.result()
                times.append(seconds)
                dirty = [word for word in DIRTY if word in err]
                if n % 25 == 0:
                    print(f"  {n}/{args.runs} runs, {failures} failed so far", flush=True)
                if code != 0 or dirty:
                    failures += 1
                    print(f"FAIL run {n} {label}: exit {code}, {dirty or 'stderr clean'}")
                    print("  " + "\n  ".join(err.strip().splitlines()[-15:]))
    times.sort()
    print(
        f"synth stress: {args.runs} runs, {args.jobs} at a time, over {len(pairs)} stack files; "
        f"{failures} failed; median {times[len(times) // 2]:.2f} s per run"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

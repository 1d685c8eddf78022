#!/usr/bin/env python3
"""Build (or find) the real engine from Go modules: Pulumi CLI, Kubernetes
provider, and a loopback control plane (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler, kubectl, kwok).

Standard library only. Each tool family is built once per version into
``$WEBPLATFORM_CACHE/engine/<family>-<version>/`` (default cache:
``~/.cache/webplatform``), outside the repository, so a clean clone on the
same machine (CI) reuses it and a warm run takes a second. A ``.done`` stamp
is written last, so an interrupted build is redone; a file lock keeps two
runs from building at once. The last line printed is the ``bin`` directory
that holds every tool (symlinks into the per-version directories).

Only the plain ``go`` command is used (``GOTOOLCHAIN=local``: never fetch a
toolchain). Wrappers: ``tools/engine/<family>/go.mod`` (+ ``main.go`` for the
provider); the replace lines a wrapper needs are derived from the built
module's own go.mod at build time, never written by hand.

Usage: python3 tools/engine/build.py [--only FAMILY ...] [--no-path]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------- versions
# Pulumi CLI: our Python SDK is pulumi==3.272.0, but the module proxy answers
# 403 "This module version is not available" for pkg/v3 v3.261.0..v3.273.x;
# v3.274.0 is the oldest served release at or above the SDK (the CLI may be
# newer than the SDK, never older).
PULUMI_VERSION = "v3.274.0"
# Kubernetes provider: the Python SDK is pulumi-kubernetes==4.34.2, but the
# proxy serves only one pseudo-version of provider/v4 (its @latest), the
# commit of 2026-01-15 (it builds against sdk/v4 v4.24.0). We build that and
# call it by its pseudo-version; run from PATH with automatic plugin
# acquisition off, the CLI uses it for the SDK's "4.34.2" request. The skew
# (SDK 4.34.2 vs provider ~4.24+) is checked end to end by tests/e2e.
KUBERNETES_PROVIDER_VERSION = "v4.0.0-20260115033456-f47bc2d6f199"
# Control plane at the minor our stacks target (latest 1.35 patch served).
KUBERNETES_VERSION = "v1.35.4"
ETCD_VERSION = "v3.6.16"  # the etcd minor Kubernetes 1.35 runs on
KWOK_VERSION = "v0.8.0"

CACHE = Path(os.environ.get("WEBPLATFORM_CACHE") or Path.home() / ".cache" / "webplatform")
ENGINE = CACHE / "engine"


def log(msg: str) -> None:
    print(f"engine: {msg}", file=sys.stderr, flush=True)


def go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOTOOLCHAIN", "local")
    env["GOFLAGS"] = (env.get("GOFLAGS", "") + " -buildvcs=false -mod=mod").strip()
    return env


def go(*args: str, cwd: Path, env: dict[str, str] | None = None, capture: bool = False) -> str:
    full = {**go_env(), **(env or {})}
    proc = subprocess.run(
        ["go", *args],
        cwd=cwd,
        env=full,
        text=True,
        stdout=subprocess.PIPE if capture else sys.stderr,
        stderr=sys.stderr,
    )
    if proc.returncode:
        raise SystemExit(f"engine: `go {' '.join(args)}` failed in {cwd} (exit {proc.returncode})")
    return proc.stdout or ""


def module_info(mod: str, version: str) -> dict[str, str]:
    out = go("mod", "download", "-json", f"{mod}@{version}", cwd=Path("/"), capture=True)
    info = json.loads(out)
    if info.get("Error"):
        raise SystemExit(f"engine: {mod}@{version}: {info['Error']}")
    return info


def nonlocal_replaces(gomod: str) -> list[tuple[str, str]]:
    """`old=new@ver` pairs for every replace whose target is a published module."""
    data = json.loads(go("mod", "edit", "-json", gomod, cwd=Path("/"), capture=True))
    pairs = []
    for rep in data.get("Replace") or []:
        new = rep["New"]
        if new.get("Version"):  # a local path has no version: dropped
            old = rep["Old"]["Path"] + (
                f"@{rep['Old']['Version']}" if rep["Old"].get("Version") else ""
            )
            pairs.append((old, f"{new['Path']}@{new['Version']}"))
    return pairs


def godebug_lines(gomod: str) -> list[str]:
    return [ln.strip() for ln in Path(gomod).read_text().splitlines() if ln.startswith("godebug ")]


# ---------------------------------------------------------------- families
class Family:
    name: str
    version: str
    binaries: tuple[str, ...]

    @property
    def out(self) -> Path:
        return ENGINE / f"{self.name}-{self.version}"

    def done(self) -> bool:
        return (self.out / ".done").exists() and all(
            (self.out / "bin" / b).exists() for b in self.binaries
        )

    def workdir(self) -> Path:
        work = self.out / "src"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        template = (HERE / self.name / "go.mod").read_text()
        (work / "go.mod").write_text(template.replace("VERSION", self.version))
        return work

    def tools_go(self, work: Path, packages: list[str]) -> None:
        imports = "\n".join(f'\t_ "{p}"' for p in packages)
        (work / "tools.go").write_text(
            f"//go:build tools\n\npackage tools\n\nimport (\n{imports}\n)\n"
        )

    def build(self) -> None:
        raise NotImplementedError

    def extras(self) -> None:
        """Files the tools need beside them (also when the tools come from PATH)."""

    def go_build(
        self,
        work: Path,
        pkg: str,
        binary: str,
        ldflags: str,
        env: dict[str, str] | None = None,
        tags: str = "",
    ) -> None:
        (self.out / "bin").mkdir(parents=True, exist_ok=True)
        args = [
            "build",
            "-ldflags",
            f"-s -w {ldflags}".strip(),
            "-o",
            str(self.out / "bin" / binary),
        ]
        if tags:
            args[1:1] = ["-tags", tags]
        started = time.monotonic()
        log(f"go build {pkg} ...")
        go(*args, pkg, cwd=work, env=env)
        log(f"built {binary} in {time.monotonic() - started:.0f}s")


class Pulumi(Family):
    name, version, binaries = "pulumi", PULUMI_VERSION, ("pulumi",)

    def build(self) -> None:
        work = self.workdir()
        for mod in ("github.com/pulumi/pulumi/pkg/v3", "github.com/pulumi/pulumi/sdk/v3"):
            for old, new in nonlocal_replaces(module_info(mod, self.version)["GoMod"]):
                go("mod", "edit", f"-replace={old}={new}", cwd=work)
        self.tools_go(work, ["github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"])
        go("mod", "tidy", cwd=work)
        # As the release build: no cgo, pure-Go user lookup, no grpc tracing.
        self.go_build(
            work,
            "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
            "pulumi",
            f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={self.version}",
            env={"CGO_ENABLED": "0"},
            tags="osusergo,grpcnotrace",
        )


class KubernetesProvider(Family):
    name, version, binaries = (
        "kubernetes-provider",
        KUBERNETES_PROVIDER_VERSION,
        ("pulumi-resource-kubernetes",),
    )

    def build(self) -> None:
        mod = "github.com/pulumi/pulumi-kubernetes/provider/v4"
        src = Path(module_info(mod, self.version)["Dir"]) / "cmd" / "pulumi-resource-kubernetes"
        work = self.workdir()
        shutil.copy(HERE / self.name / "main.go", work / "main.go")
        shutil.copy(src / "terraform-mapping.json", work / "terraform-mapping.json")
        schema = json.loads((src / "schema.json").read_text())
        schema["version"] = self.version.removeprefix("v")
        (work / "schema.json").write_text(json.dumps(schema))
        for old, new in nonlocal_replaces(module_info(mod, self.version)["GoMod"]):
            go("mod", "edit", f"-replace={old}={new}", cwd=work)
        go("mod", "tidy", cwd=work)
        self.go_build(
            work,
            ".",
            "pulumi-resource-kubernetes",
            f"-X {mod}/pkg/version.Version={self.version.removeprefix('v')}",
            env={"CGO_ENABLED": "0"},
        )


class Kubernetes(Family):
    name, version = "kubernetes", KUBERNETES_VERSION
    binaries = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")

    def build(self) -> None:
        gomod = module_info("k8s.io/kubernetes", self.version)["GoMod"]
        data = json.loads(go("mod", "edit", "-json", gomod, cwd=Path("/"), capture=True))
        staging = "v0." + self.version.removeprefix("v1.")
        work = self.workdir()
        for rep in data.get("Replace") or []:
            if rep["New"]["Path"].startswith("./staging/src/"):
                go(
                    "mod",
                    "edit",
                    f"-replace={rep['Old']['Path']}={rep['Old']['Path']}@{staging}",
                    cwd=work,
                )
            elif rep["New"].get("Version"):
                go(
                    "mod",
                    "edit",
                    f"-replace={rep['Old']['Path']}={rep['New']['Path']}@{rep['New']['Version']}",
                    cwd=work,
                )
        for line in godebug_lines(gomod):
            go("mod", "edit", f"-godebug={line.split(None, 1)[1]}", cwd=work)
        cmds = [f"k8s.io/kubernetes/cmd/{b}" for b in self.binaries]
        self.tools_go(work, cmds)
        go("mod", "tidy", cwd=work)
        major, minor = self.version.removeprefix("v").split(".")[:2]
        flags = []
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
            flags += [
                f"-X {pkg}.gitVersion={self.version}",
                f"-X {pkg}.gitMajor={major}",
                f"-X {pkg}.gitMinor={minor}",
                f"-X {pkg}.gitTreeState=clean",
            ]
        for binary, pkg in zip(self.binaries, cmds, strict=True):
            self.go_build(work, pkg, binary, " ".join(flags), env={"CGO_ENABLED": "0"})


class Etcd(Family):
    name, version, binaries = "etcd", ETCD_VERSION, ("etcd",)

    def build(self) -> None:
        work = self.workdir()
        self.tools_go(work, ["go.etcd.io/etcd/server/v3"])
        go("mod", "tidy", cwd=work)
        self.go_build(
            work,
            "go.etcd.io/etcd/server/v3",
            "etcd",
            f"-X go.etcd.io/etcd/api/v3/version.GitSHA={self.version}",
            env={"CGO_ENABLED": "0"},
        )


class Kwok(Family):
    name, version, binaries = "kwok", KWOK_VERSION, ("kwok",)

    def build(self) -> None:
        work = self.workdir()
        self.tools_go(work, ["sigs.k8s.io/kwok/cmd/kwok"])
        go("mod", "tidy", cwd=work)
        self.go_build(
            work,
            "sigs.k8s.io/kwok/cmd/kwok",
            "kwok",
            f"-X sigs.k8s.io/kwok/pkg/consts.Version={self.version.removeprefix('v')}",
            env={"CGO_ENABLED": "0"},
        )
        self.extras()

    def extras(self) -> None:
        """Default stages: node initialize + heartbeat (with lease), pod ready/complete/delete."""
        (self.out / "bin").mkdir(parents=True, exist_ok=True)
        stage = Path(module_info("sigs.k8s.io/kwok", self.version)["Dir"]) / "kustomize" / "stage"
        docs = []
        for sub in ("node/fast", "node/heartbeat-with-lease", "pod/fast"):
            docs += [
                p.read_text()
                for p in sorted((stage / sub).glob("*.yaml"))
                if p.name != "kustomization.yaml"
            ]
        (self.out / "bin" / "stages.yaml").write_text(
            "\n---\n".join(d.strip() for d in docs) + "\n"
        )


FAMILIES: list[Family] = [Pulumi(), KubernetesProvider(), Kubernetes(), Etcd(), Kwok()]


# ---------------------------------------------------------------- ambient tools
def _version_of(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


# A tool already on PATH (a laptop, a CI runner) is reused only when it reports
# exactly the version we would build: e.g. /usr/bin/kubectl on our machines is
# a google-cloud-sdk dispatcher at 1.32, which must not shadow our 1.35.
AMBIENT_CHECK: dict[str, tuple[list[str], str]] = {
    "pulumi": (["version"], PULUMI_VERSION),
    "kubectl": (["version", "--client"], f"Client Version: {KUBERNETES_VERSION}"),
    "kube-apiserver": (["--version"], f"Kubernetes {KUBERNETES_VERSION}"),
    "kube-controller-manager": (["--version"], f"Kubernetes {KUBERNETES_VERSION}"),
    "kube-scheduler": (["--version"], f"Kubernetes {KUBERNETES_VERSION}"),
    "etcd": (["--version"], f"etcd Version: {ETCD_VERSION.removeprefix('v')}"),
    "kwok": (["--version"], KWOK_VERSION.removeprefix("v")),
}


def ambient(binary: str) -> Path | None:
    path = shutil.which(binary)
    if not path or binary not in AMBIENT_CHECK:
        return None
    args, want = AMBIENT_CHECK[binary]
    out = _version_of([path, *args])
    return Path(path) if want in out.split("\n", 1)[0] + out else None


# ---------------------------------------------------------------- main
@contextlib.contextmanager
def locked() -> Iterator[None]:
    ENGINE.mkdir(parents=True, exist_ok=True)
    with open(ENGINE / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def bin_dir() -> Path:
    """``<cache>/engine/set-<hash of every version>/bin``: named ``bin`` so that
    ``pulumi.automation.PulumiCommand(root=<its parent>)`` finds ``bin/pulumi``."""
    key = hashlib.sha256(" ".join(f"{f.name}@{f.version}" for f in FAMILIES).encode()).hexdigest()
    return ENGINE / f"set-{key[:12]}" / "bin"


def ensure(only: list[str] | None = None, use_path: bool = True) -> Path:
    with locked():
        bindir = bin_dir()
        bindir.mkdir(parents=True, exist_ok=True)
        for fam in FAMILIES:
            if only and fam.name not in only:
                continue
            # Our cached build first; else tools on PATH at exactly our version; else build.
            found: dict[str, Path | None] = {}
            if not fam.done() and use_path:
                found = {b: ambient(b) for b in fam.binaries}
            if not fam.done() and not all(found.get(b) for b in fam.binaries):
                if shutil.which("go") is None:  # only a build needs Go; a warm cache does not
                    raise SystemExit(
                        "engine: the `go` command is needed to build the engine (Go 1.26+)"
                    )
                started = time.monotonic()
                log(f"building {fam.name} {fam.version} (cold: minutes) ...")
                fam.build()
                (fam.out / ".done").write_text(f"{time.monotonic() - started:.0f}s\n")
            for b in fam.binaries:
                target = fam.out / "bin" / b if fam.done() else found[b]
                assert target is not None
                link = bindir / b
                if link.is_symlink() or link.exists():
                    link.unlink()
                link.symlink_to(target)
            extra = fam.out / "bin" / "stages.yaml"
            if isinstance(fam, Kwok) and not extra.exists():
                fam.extras()
            if extra.exists():
                link = bindir / "kwok-stages.yaml"
                if link.is_symlink() or link.exists():
                    link.unlink()
                link.symlink_to(extra)
        return bindir


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="build only these families")
    parser.add_argument("--no-path", action="store_true", help="ignore tools already on PATH")
    args = parser.parse_args(argv)
    bindir = ensure(args.only, use_path=not args.no_path)
    print(bindir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

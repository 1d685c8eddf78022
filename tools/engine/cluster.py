#!/usr/bin/env python3
"""A Kubernetes control plane on loopback, for the end-to-end suite.

    python3 tools/engine/cluster.py up|down|status [--dir DIR]

``up`` starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler
and kwok (fake nodes: pods scheduled there become Running and Ready, with fake
IPs, no containers), creates :data:`NODES` fake Nodes in two zones (so topology
spread and node drains mean something), waits until they are Ready, installs
the local stack's documented prerequisites (:data:`PREREQUISITE_CRDS`,
:data:`PREREQUISITE_NAMESPACES`, and nothing else), and prints
``KUBECONFIG=<path>`` on a line of its own.
``down`` stops every process ``up`` started, by the pids it recorded, and
removes the data directory. ``status`` says what runs.

Everything listens on 127.0.0.1 only, on free ports picked at ``up``.
Certificates (a CA, the API server's serving certificate, an admin client
certificate in group ``system:masters``, the service-account key pair) are
made locally with openssl. The API server runs with RBAC (``Node,RBAC``) and
its default admission plugins, Pod Security admission among them, and
``--endpoint-reconciler-type=none`` (127.0.0.1 is not a valid endpoint
address for the ``kubernetes`` Service). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "build" / "cluster"
CONTEXT = "webplatform-local"
#: Fake nodes and their zones: two per zone, so a drain always has somewhere to go.
NODES = {
    "kwok-node-0": "local-a",
    "kwok-node-1": "local-b",
    "kwok-node-2": "local-a",
    "kwok-node-3": "local-b",
}
#: What the local stack (Pulumi.local.yaml) needs from its cluster and does not install
#: itself, in one place: on EKS the Envoy Gateway chart brings the Gateway API and its own
#: CRDs and creates its namespace, and kube-prometheus-stack brings the Prometheus Operator
#: CRDs; the local control plane runs no charts. The files are the vendored CRDs of
#: tests/schemas (their README says where each comes from). The offline check
#: (tests/infra/test_prerequisites.py) proves every custom kind the local stack applies is
#: served by one of these, and that nothing here is unused.
PREREQUISITE_CRDS = (
    "gateway-api-gateways-crd.yaml",
    "gateway-api-httproutes-crd.yaml",
    "envoy-gateway-backendtrafficpolicies-crd.yaml",
    "prometheus-operator-servicemonitors-crd.yaml",
    "prometheus-operator-prometheusrules-crd.yaml",
)
#: The Gateway's namespace (on EKS the Envoy Gateway chart creates it).
PREREQUISITE_NAMESPACES = ("envoy-gateway-system",)
SCHEMAS = ROOT / "tests" / "schemas"
#: kwok manages only nodes carrying this annotation (never a real node by accident).
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
#: Pods running this image are never made Ready (kwok's pod-ready stage skips them), as a
#: real cluster never readies an image that does not exist: the e2e fault tests use it.
NEVER_READY_IMAGE = "ghcr.io/example/web:never-ready"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"


def log(msg: str) -> None:
    print(f"cluster: {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certs(pki: Path) -> None:
    pki.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "30",
        "-subj",
        "/CN=webplatform-local-ca",
        cwd=pki,
    )

    def leaf(name: str, subject: str, ext: str) -> None:
        (pki / f"{name}.ext").write_text(ext)
        openssl(
            "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=pki
        )
        openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "30",
            "-out",
            f"{name}.crt",
            "-extfile",
            f"{name}.ext",
            cwd=pki,
        )

    leaf(
        "apiserver",
        "/CN=kube-apiserver",
        "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,"
        "DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n"
        "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
    )
    leaf(
        "admin",
        "/O=system:masters/CN=webplatform-admin",
        "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n",
    )
    openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
    openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


def kubeconfig(path: Path, pki: Path, port: int) -> None:
    # JSON is YAML: no third-party YAML writer needed.
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {
                    "server": f"https://127.0.0.1:{port}",
                    "certificate-authority": str(pki / "ca.crt"),
                },
            }
        ],
        "users": [
            {
                "name": f"{CONTEXT}-admin",
                "user": {
                    "client-certificate": str(pki / "admin.crt"),
                    "client-key": str(pki / "admin.key"),
                },
            }
        ],
        "contexts": [
            {"name": CONTEXT, "context": {"cluster": CONTEXT, "user": f"{CONTEXT}-admin"}}
        ],
        "current-context": CONTEXT,
    }
    path.write_text(json.dumps(doc, indent=2))


def stages(defaults: str) -> str:
    """kwok's default stages, with pod-ready skipping pods of :data:`NEVER_READY_IMAGE`."""
    docs = defaults.split("\n---\n")
    marker = "    matchExpressions:\n"
    out = []
    for doc in docs:
        if "name: pod-ready\n" in doc and marker in doc:
            doc = doc.replace(
                marker,
                marker
                + (
                    "    - key: '.spec.containers.[0].image'\n"
                    "      operator: 'NotIn'\n"
                    f"      values: ['{NEVER_READY_IMAGE}']\n"
                ),
                1,
            )
        out.append(doc)
    return "\n---\n".join(out)


def install_prerequisites(kubectl: Any) -> None:
    """Apply :data:`PREREQUISITE_CRDS` and :data:`PREREQUISITE_NAMESPACES` with ``kubectl``
    (a callable taking kubectl's arguments and ``input=``) and wait for the CRDs."""
    files = [a for name in PREREQUISITE_CRDS for a in ("-f", str(SCHEMAS / name))]
    kubectl("apply", "--server-side", *files)
    kubectl("wait", "--for=condition=Established", "--timeout=60s", *files)
    namespaces = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
        for n in PREREQUISITE_NAMESPACES
    ]
    kubectl(
        "apply",
        "--server-side",
        "-f",
        "-",
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": namespaces}),
    )


def node_manifest(name: str, zone: str) -> dict[str, Any]:
    capacity = {"cpu": "64", "memory": "256Gi", "pods": "250", "ephemeral-storage": "1Ti"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
                "topology.kubernetes.io/zone": zone,
            },
        },
        "spec": {},
        "status": {"capacity": capacity, "allocatable": capacity},
    }


class Cluster:
    def __init__(self, directory: Path, bindir: Path) -> None:
        self.dir = directory
        self.bin = bindir
        self.state_file = directory / "state.json"

    # ------------------------------------------------------------ state
    def state(self) -> dict[str, Any]:
        if self.state_file.exists():
            return dict(json.loads(self.state_file.read_text()))
        return {}

    def save(self, state: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(state, indent=2))

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "kubectl"), "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            check=check,
            input=input,
            timeout=120,
        )

    # ------------------------------------------------------------ processes
    def start(self, state: dict[str, Any], name: str, args: list[str]) -> None:
        logf = open(self.dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(
            [str(self.bin / args[0]), *args[1:]],
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.dir,
            start_new_session=True,
        )
        state.setdefault("pids", {})[name] = proc.pid
        self.save(state)

    def alive(self, pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # A zombie (our child, exited, not yet reaped) is not alive.
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            return stat.rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    def wait_for(self, what: str, check: Any, timeout: float, state: dict[str, Any]) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, pid in state.get("pids", {}).items():
                if not self.alive(pid):
                    tail = (self.dir / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]
                    raise SystemExit(
                        f"cluster: {name} (pid {pid}) exited while waiting for {what}:\n{tail}"
                    )
            if check():
                return
            time.sleep(0.25)
        raise SystemExit(f"cluster: timed out after {timeout:.0f}s waiting for {what}")

    # ------------------------------------------------------------ up / down
    def up(self) -> int:
        st = self.state()
        if st.get("pids") and all(self.alive(p) for p in st["pids"].values()):
            log("already running")
            print(f"KUBECONFIG={self.kubeconfig}")
            return 0
        if self.dir.exists():
            self.down(quiet=True)
        started = time.monotonic()
        (self.dir / "logs").mkdir(parents=True)
        pki = self.dir / "pki"
        make_certs(pki)
        ports = {n: free_port() for n in ("etcd", "etcd-peer", "apiserver", "kwok")}
        state: dict[str, Any] = {"ports": ports, "pids": {}}
        self.save(state)
        kubeconfig(self.kubeconfig, pki, ports["apiserver"])

        etcd_url = f"http://127.0.0.1:{ports['etcd']}"
        self.start(
            state,
            "etcd",
            [
                "etcd",
                "--name=local",
                f"--data-dir={self.dir / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{ports['etcd-peer']}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{ports['etcd-peer']}",
                f"--initial-cluster=local=http://127.0.0.1:{ports['etcd-peer']}",
                "--unsafe-no-fsync",
                "--quota-backend-bytes=2147483648",
                "--log-level=warn",
            ],
        )
        self.start(
            state,
            "kube-apiserver",
            [
                "kube-apiserver",
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={ports['apiserver']}",
                f"--cert-dir={pki}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--authorization-mode=Node,RBAC",
                # The default plugin set (PodSecurity, ServiceAccount, LimitRanger, ...) plus NodeRestriction.
                "--enable-admission-plugins=NodeRestriction",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--endpoint-reconciler-type=none",
                # As on real clusters (kubeadm, EKS): privileged pods are allowed by the API server,
                # so Pod Security admission is what refuses them in a restricted namespace.
                "--allow-privileged=true",
                "--profiling=false",
                "--v=0",
            ],
        )

        def ready() -> bool:
            return self.kubectl("get", "--raw", "/readyz", check=False).returncode == 0

        self.wait_for("the API server", ready, 120, state)
        kc = str(self.kubeconfig)
        common = [
            f"--kubeconfig={kc}",
            f"--authentication-kubeconfig={kc}",
            f"--authorization-kubeconfig={kc}",
            "--bind-address=127.0.0.1",
            "--secure-port=0",
            "--leader-elect=false",
        ]
        self.start(
            state,
            "kube-controller-manager",
            [
                "kube-controller-manager",
                *common,
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                "--use-service-account-credentials=true",
                f"--cluster-cidr={POD_CIDR}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
            ],
        )
        self.start(state, "kube-scheduler", ["kube-scheduler", *common])
        (self.dir / "kwok-stages.yaml").write_text(
            stages((self.bin / "kwok-stages.yaml").read_text())
        )
        self.start(
            state,
            "kwok",
            [
                "kwok",
                f"--kubeconfig={kc}",
                f"--config={self.dir / 'kwok-stages.yaml'}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake",
                f"--cidr={'10.244.0.1/16'}",
                "--node-ip=10.0.0.2",
                f"--server-address=127.0.0.1:{ports['kwok']}",
                # The heartbeat-with-lease stage posts node status every ~10 minutes and relies
                # on a node lease for liveness: without one the node lifecycle controller sees
                # a silent node after 50 s and marks every pod NotReady (kwok never readies
                # them again: its pod-ready stage acts on Pending pods only).
                "--node-lease-duration-seconds=40",
            ],
        )
        nodes = [node_manifest(name, zone) for name, zone in NODES.items()]
        self.kubectl(
            "apply",
            "-f",
            "-",
            input=json.dumps({"apiVersion": "v1", "kind": "List", "items": nodes}),
        )

        def nodes_ready() -> bool:
            out = self.kubectl(
                "get",
                "nodes",
                "-o",
                "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}",
                check=False,
            )
            return out.stdout.split() == ["True"] * len(NODES)

        self.wait_for(f"{len(NODES)} nodes Ready", nodes_ready, 120, state)
        install_prerequisites(self.kubectl)

        def default_sa() -> bool:
            return (
                self.kubectl(
                    "get", "serviceaccount", "default", "-n", "default", check=False
                ).returncode
                == 0
            )

        self.wait_for("the default ServiceAccount", default_sa, 60, state)
        log(f"up in {time.monotonic() - started:.1f}s (pids {state['pids']})")
        print(f"KUBECONFIG={self.kubeconfig}", flush=True)
        return 0

    def down(self, quiet: bool = False) -> int:
        state = self.state()
        pids: dict[str, int] = state.get("pids", {})
        # Reverse start order: kwok and controllers first, etcd last.
        for _name, pid in reversed(list(pids.items())):
            if self.alive(pid):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, pid in reversed(list(pids.items())):
            while self.alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.alive(pid):
                os.kill(pid, signal.SIGKILL)
                log(f"{name} (pid {pid}) killed")
        if self.dir.exists():
            shutil.rmtree(self.dir)
        if not quiet:
            log(f"down: stopped {len(pids)} processes, removed {self.dir}")
        return 0

    def status(self) -> int:
        state = self.state()
        if not state:
            print("cluster: not running")
            return 1
        code = 0
        for name, pid in state.get("pids", {}).items():
            ok = self.alive(pid)
            code |= not ok
            print(f"{name:26} pid {pid:<8} {'running' if ok else 'STOPPED'}")
        print(f"KUBECONFIG={self.kubeconfig}")
        return code


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down", "status"])
    parser.add_argument(
        "--dir", type=Path, default=Path(os.environ.get("WEBPLATFORM_CLUSTER_DIR") or DEFAULT_DIR)
    )
    parser.add_argument(
        "--bin", type=Path, help="the engine's bin directory (default: build or find it)"
    )
    args = parser.parse_args(argv)
    bindir = args.bin
    if bindir is None and args.action == "up":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import build

        bindir = build.ensure()
    cluster = Cluster(args.dir.resolve(), bindir or Path("."))
    return int({"up": cluster.up, "down": cluster.down, "status": cluster.status}[args.action]())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

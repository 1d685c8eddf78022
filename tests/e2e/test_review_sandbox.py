"""The review sandbox on a real API server: what pull-request code can and cannot do there.

The trusted objects (``python -m infra.review sandbox``: ClusterRole, namespace with
restricted Pod Security, the review group's RoleBinding, quota, Gateway) are applied as an
admin, as review-sandbox.yml does; then kubectl impersonates the review identity (EKS maps
the review role to the group ``webplatform:review``) and tries what a hostile pull request
would.
"""

from __future__ import annotations

import json
import time

from infra import review
from tests.e2e.conftest import Kube

NS = "dev-pr-7"
AS_REVIEW = ("--as", "github-review", "--as-group", review.REVIEW_GROUP)
PRIVILEGED = """apiVersion: apps/v1
kind: Deployment
metadata: {name: escape, namespace: dev-pr-7}
spec:
  replicas: 1
  selector: {matchLabels: {app: escape}}
  template:
    metadata: {labels: {app: escape}}
    spec:
      containers:
        - name: shell
          image: registry.example/shell:1
          securityContext: {privileged: true}
          volumeMounts: [{name: host, mountPath: /host}]
      volumes: [{name: host, hostPath: {path: /}}]
"""


def _as_review(kube: Kube, *args: str, stdin: str | None = None):
    return kube(*args, *AS_REVIEW, check=False, input=stdin)


def test_pull_request_code_is_confined_to_its_namespace(kube: Kube):
    sandbox = {"apiVersion": "v1", "kind": "List", "items": review.sandbox(7)}
    kube(
        "apply",
        "--server-side",
        "--field-manager=webplatform-review-sandbox",
        "-f",
        "-",
        input=json.dumps(sandbox),
    )
    try:
        # What the review stack needs: namespaced objects in its own namespace.
        made = _as_review(
            kube, "create", "configmap", "web-config", "-n", NS, "--from-literal=LOG_LEVEL=debug"
        )
        assert made.returncode == 0, made.stderr
        # Its namespace's Pod Security labels: not writable (RBAC has no namespaces verb).
        relabel = _as_review(
            kube,
            "label",
            "namespace",
            NS,
            "--overwrite",
            "pod-security.kubernetes.io/enforce=privileged",
        )
        assert relabel.returncode != 0 and "forbidden" in relabel.stderr.lower()
        labels = kube.json("get", "namespace", NS)["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        # Nothing cluster-scoped, nothing in another namespace, no RBAC of its own.
        for args in (
            ("create", "namespace", "dev-pr-7-escape"),
            ("create", "configmap", "x", "-n", "default"),
            (
                "create",
                "clusterrolebinding",
                "mine",
                "--clusterrole=cluster-admin",
                "--group=webplatform:review",
            ),
            (
                "create",
                "rolebinding",
                "mine",
                "-n",
                NS,
                "--clusterrole=admin",
                "--group=webplatform:review",
            ),
            ("delete", "resourcequota", "review", "-n", NS),
        ):
            refused = _as_review(kube, *args)
            assert refused.returncode != 0 and "forbidden" in refused.stderr.lower(), args
        # A privileged hostPath pod: the Deployment is admitted, its pods never are.
        assert _as_review(kube, "apply", "-f", "-", stdin=PRIVILEGED).returncode == 0
        deadline = time.monotonic() + 90
        message = ""
        while time.monotonic() < deadline and "violates PodSecurity" not in message:
            events = kube.json("get", "events", "-n", NS)["items"]
            message = " ".join(e.get("message", "") for e in events)
            time.sleep(1)
        assert 'violates PodSecurity "restricted:latest"' in message
        assert kube.json("get", "pods", "-n", NS)["items"] == []
        # No load balancer from a pull request: the quota allows none.
        lb = _as_review(
            kube, "create", "service", "loadbalancer", "open", "-n", NS, "--tcp=443:8443"
        )
        assert lb.returncode != 0 and "exceeded quota" in lb.stderr
    finally:
        kube("delete", "namespace", NS, "--wait=false", "--ignore-not-found")
        kube("delete", "clusterrole", review.REVIEW_ROLE, "--ignore-not-found")
        kube("delete", "gateway", NS, "-n", "envoy-gateway-system", "--ignore-not-found")

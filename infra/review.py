"""Review stacks' sandbox and command line; how their config is derived from dev's is
:mod:`infra.config.review` (a rule of the stack file, applied when it is parsed).

The sandbox is what a trusted job (``review-namespace.yml``, from the default branch)
makes before pull-request code runs; ``python -m infra.review`` prints a review
stack's name, URL or sandbox for the workflows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.config import review as names
from infra.config._base import NAMESPACE
from infra.config.review import BASE_STACK, primary_url, review_stack_name

#: The Kubernetes group of the review identity (the review environment's AWS role, mapped by
#: its access entry on the dev cluster, with no access policy): what it may do comes only
#: from the RoleBinding in each review namespace.
REVIEW_GROUP = "webplatform:review"
#: The ClusterRole that binding names: namespaced kinds a review stack creates, nothing else.
#: Never ``namespaces`` (a RoleBinding's rules on ``namespaces`` apply to the namespace
#: itself: its Pod Security labels), never RBAC, never ``pods/exec``.
REVIEW_ROLE = "webplatform-review"
_WRITE = ["get", "list", "watch", "create", "update", "patch", "delete"]
_READ = ["get", "list", "watch"]
REVIEW_RULES: list[dict[str, Any]] = [
    {
        "apiGroups": [""],
        "resources": ["configmaps", "secrets", "services", "serviceaccounts"],
        "verbs": _WRITE,
    },
    {"apiGroups": [""], "resources": ["pods", "pods/log", "events", "endpoints"], "verbs": _READ},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": _WRITE},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": _READ},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": _WRITE},
    {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": _WRITE},
    {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": _WRITE},
    {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["httproutes"], "verbs": _WRITE},
    {
        "apiGroups": ["gateway.envoyproxy.io"],
        "resources": ["backendtrafficpolicies"],
        "verbs": _WRITE,
    },
    {
        "apiGroups": ["monitoring.coreos.com"],
        "resources": ["servicemonitors", "prometheusrules"],
        "verbs": _WRITE,
    },
    {
        "apiGroups": ["argoproj.io"],
        "resources": ["rollouts", "analysistemplates"],
        "verbs": _WRITE,
    },
    {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": _READ},
]
#: A review namespace's ceiling: a pull request cannot take the shared cluster's capacity,
#: nor open a load balancer or a node port.
REVIEW_QUOTA = {
    "pods": "20",
    "requests.cpu": "4",
    "requests.memory": "8Gi",
    "limits.cpu": "8",
    "limits.memory": "16Gi",
    "services.loadbalancers": "0",
    "services.nodeports": "0",
}


def sandbox(number: int, root: Path | None = None) -> list[dict[str, Any]]:
    """What a trusted job (``review-namespace.yml``, from the default branch) applies before
    review stack ``dev-pr-<number>`` runs: the ClusterRole (idempotent), the namespace with
    ``restricted`` Pod Security, the review group's RoleBinding, a ResourceQuota, and the
    stack's Gateway with per-host listeners admitting routes from that namespace only.

    The Gateway is the one the program would make for the stack (:func:`infra.stack.gateway`
    on the stack's parsed config, under mocks), as the default branch's code and dev's file
    have it: a pull request that changes hosts gets them once merged.
    """
    from pulumi import ResourceOptions

    from infra.config import parse, referenced_secret_keys
    from infra.stack import gateway
    from infra.synth import PLACEHOLDER, Synth, read_stack_file
    from webplatform import testing

    stack = review_stack_name(number)
    base = (root or names.ROOT) / f"Pulumi.{BASE_STACK}.yaml"
    source = read_stack_file(base, NAMESPACE, shown=f"Pulumi.{stack}.yaml")
    # The Gateway reads no secret: unset secrets get synth's placeholder, as in synth.
    flat, secrets = dict(source.flat), set(source.secret_keys)
    for key in sorted({f"{NAMESPACE}:{k}" for k in referenced_secret_keys(flat)} - set(flat)):
        flat[key] = PLACEHOLDER
        secrets.add(key)
    config = parse(stack, flat, secrets)
    recording = testing.run(lambda: gateway(config, stack, ResourceOptions()), stack=stack)
    gateways = Synth(stack, NAMESPACE, recording, []).kubernetes_objects()
    labels = {"app.kubernetes.io/part-of": "webplatform", "webplatform.io/review": "true"}
    pod_security = {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode in ("enforce", "audit", "warn")
        for suffix, value in (("", "restricted"), ("-version", "latest"))
    }
    meta = {"namespace": stack, "labels": labels}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": REVIEW_ROLE, "labels": labels},
            "rules": REVIEW_RULES,
        },
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": stack, "labels": {**labels, **pod_security}},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": REVIEW_ROLE, **meta},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": REVIEW_ROLE,
            },
            "subjects": [
                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": REVIEW_GROUP}
            ],
        },
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "review", **meta},
            "spec": {"hard": REVIEW_QUOTA},
        },
        *gateways,
    ]


def main(argv: list[str] | None = None) -> int:
    """``python -m infra.review url N``: the review stack's name and URL (for the workflow);
    ``sandbox N``: the trusted objects of its namespace, as JSON (for ``kubectl apply -f``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m infra.review", description=main.__doc__)
    parser.add_argument("what", choices=["stack", "url", "sandbox"])
    parser.add_argument("number", type=int, help="the pull request's number")
    args = parser.parse_args(argv)
    stack = review_stack_name(args.number)
    if args.what == "stack":
        print(stack)
        return 0
    if args.what == "sandbox":
        print(json.dumps({"apiVersion": "v1", "kind": "List", "items": sandbox(args.number)}))
        return 0
    from infra.synth import read_stack_file

    source = read_stack_file(names.ROOT / f"Pulumi.{BASE_STACK}.yaml", NAMESPACE)
    print(primary_url(stack, source.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

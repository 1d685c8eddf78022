"""Review stacks: one short-lived stack per pull request, made from dev's stack file.

Reference 000's first rung: every pull request gets its own dev environment at
``dev-*.example.com``. Here that is a stack named ``dev-pr-<N>`` (N the pull
request's number). The pull-request workflow copies ``Pulumi.dev.yaml`` to
``Pulumi.dev-pr-<N>.yaml`` unchanged; everything that must differ from dev is
derived from the stack name when the config is parsed, so nobody edits a review
stack by hand and two review stacks can never be configured alike:

- the namespace is the stack name (``dev-pr-7``);
- every public host of dev moves under the review domain (``webplatform:review.domain``,
  e.g. ``review.example.net``), the stack name in place of its ``dev`` label and of
  everything after it (``dev.example.com`` -> ``dev-pr-7.review.example.net``; a host
  without a ``dev`` label gets the stack name as a prefix of its first label). Review
  code is a pull request's: under the production domain it would share its cookie scope
  (a cookie set for ``.example.com`` by a review page reaches ``www.example.com``), so
  the review domain may not be, or lie under, the registrable domain of any committed
  stack's host;
- the apps deploy to the shared dev cluster through the kubeconfig context named
  by ``webplatform:review.context`` in dev's file (dev itself renders YAML).

Then the derived names are compared with every committed ``Pulumi.*.yaml``: a
review stack whose namespace, or any host, equals (or is covered by a wildcard of)
another stack's is refused before anything is registered, so a review stack can
never adopt or take over objects or DNS names of dev, staging, UAT or prod.

``webplatform:review`` is read here and removed before the stack model sees it;
only the base stack (dev) may carry it. The one hook is in
:func:`infra.config.stack.parse`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

# infra.config's stack model composes ReviewSpec, so this module must not import infra.config
# at import time: the errors come from it lazily (_error), the namespace is spelled here (a
# test checks it equals infra.config's).
NAMESPACE = "webplatform"

ROOT = Path(__file__).resolve().parent.parent
#: The stack review stacks are made from.
BASE_STACK = "dev"
#: ``dev-pr-<N>``: N a pull-request number, no leading zero.
REVIEW_STACK = re.compile(rf"^{BASE_STACK}-pr-(?P<number>[1-9][0-9]{{0,8}})$")
REVIEW_KEY = f"{NAMESPACE}:review"
_NAMESPACE_KEY = f"{NAMESPACE}:namespace"
_KUBERNETES_KEY = f"{NAMESPACE}:kubernetes"
_APPS_KEY = f"{NAMESPACE}:apps"
_CDN_KEY = f"{NAMESPACE}:cdn"
_ENVIRONMENT_KEY = f"{NAMESPACE}:environment"
_CONTEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@:/-]{0,252}$")
_DOMAIN = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.){1,10}[a-z]{2,63}$")


class ReviewSpec(BaseModel):
    """``webplatform:review``: how review stacks are made from this file (dev's only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    context: str = Field(
        pattern=_CONTEXT.pattern,
        description="kubeconfig context of the shared dev cluster review stacks deploy to; "
        "required: dev itself renders YAML.",
    )
    domain: str = Field(
        pattern=_DOMAIN.pattern,
        description="DNS domain review hosts live under (e.g. review.example.net); required: "
        "its own registrable domain, so review pages share no cookies with production.",
    )


def _error(file: str, problems: list[tuple[str, str]]) -> Exception:
    from infra.config._base import StackConfigError

    return StackConfigError(file, problems)


def review_number(stack: str) -> int | None:
    """The pull-request number of a review stack name, or None for any other stack."""
    match = REVIEW_STACK.match(stack)
    return int(match["number"]) if match else None


def review_stack_name(number: int) -> str:
    """The stack (and namespace) of pull request ``number``."""
    if number < 1:
        raise ValueError(f"a pull-request number is 1 or more (got {number})")
    return f"{BASE_STACK}-pr-{number}"


@dataclass(frozen=True)
class Footprint:
    """What a stack claims that another stack must not: its namespace and public hosts."""

    stack: str
    namespace: str | None
    #: host (lowercase, no trailing dot) -> its key path in the stack file
    hosts: dict[str, str]


# --- reading the flat config map ---------------------------------------------------------


def _decode(value: Any) -> Any:
    """Structured config arrives as JSON text (as the engine passes it); plain strings stay."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _host_slots(apps: Any, cdn: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Every public host in the config, with its path (for rewriting and for messages):
    each app's ``route.hosts`` and the CDN's viewer names."""
    slots: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(apps, dict):
        for name, app in apps.items():
            if not isinstance(app, dict):
                continue
            route = app.get("route")
            if isinstance(route, dict) and isinstance(route.get("hosts"), list):
                for index, host in enumerate(route["hosts"]):
                    if isinstance(host, str):
                        slots.append((("apps", name, "route", "hosts", index), host))
    if isinstance(cdn, dict):
        if isinstance(cdn.get("host"), str):
            slots.append((("cdn", "host"), cdn["host"]))
        if isinstance(cdn.get("aliases"), list):
            for index, host in enumerate(cdn["aliases"]):
                if isinstance(host, str):
                    slots.append((("cdn", "aliases", index), host))
    return slots


def footprint(stack: str, raw: Mapping[str, Any]) -> Footprint:
    """The namespace and hosts of a flat config map (``{"webplatform:apps": "<json>", ...}``)."""
    namespace = raw.get(_NAMESPACE_KEY)
    slots = _host_slots(_decode(raw.get(_APPS_KEY)), _decode(raw.get(_CDN_KEY)))
    return Footprint(
        stack=stack,
        namespace=namespace if isinstance(namespace, str) else None,
        hosts={host.lower().rstrip("."): _key(path) for path, host in slots},
    )


def _key(path: tuple[Any, ...]) -> str:
    head, *rest = [str(p) for p in path]
    return f"{NAMESPACE}:{head}" + "".join(f".{p}" for p in rest)


def committed_footprints(root: Path = ROOT, *, exclude: str) -> list[Footprint]:
    """Footprints of the stack files in ``root``, other than ``exclude`` and other review stacks."""
    found = []
    for path in sorted(root.glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        if stack == exclude or review_number(stack) is not None:
            continue
        document = yaml.safe_load(path.read_text()) or {}
        config = document.get("config") if isinstance(document, dict) else None
        if isinstance(config, dict):
            flat = {str(k): v for k, v in config.items()}
            found.append(footprint(stack, flat))
    return found


# --- deriving -----------------------------------------------------------------------------


def derive_host(host: str, stack: str, domain: str) -> str:
    """``dev.example.com`` -> ``dev-pr-7.<domain>``; ``api.dev.example.com`` ->
    ``api.dev-pr-7.<domain>``; ``web.example.com`` -> ``dev-pr-7-web.<domain>``."""
    labels = host.lower().rstrip(".").split(".")
    if BASE_STACK in labels:
        head = [*labels[: labels.index(BASE_STACK)], stack]
    else:
        head = [f"{stack}-{labels[0]}"]
    return ".".join([*head, domain])


def registrable(host: str) -> str:
    """The last two labels of a host (``www.example.com`` -> ``example.com``): the cookie
    scope a page can claim. An approximation of the Public Suffix List that errs safe for
    two-label suffixes (``example.co.uk`` -> ``co.uk``, refusing more, never less)."""
    return ".".join(host.lower().rstrip(".").lstrip("*.").split(".")[-2:])


def shares_cookies(domain: str, hosts: Iterable[str]) -> list[str]:
    """Hosts whose registrable domain is ``domain`` or a parent of it."""
    return sorted(
        h for h in hosts if domain == registrable(h) or domain.endswith("." + registrable(h))
    )


def _set(document: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        document = document[part]
    document[path[-1]] = value


def derive(stack: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A review stack's config: dev's, with namespace, hosts and cluster target derived.

    Raises ``StackConfigError`` when the file is not dev's kind of file
    (``webplatform:review.context`` missing, an environment other than dev).
    """
    file = f"Pulumi.{stack}.yaml"
    problems: list[tuple[str, str]] = []
    review = _decode(raw.get(REVIEW_KEY))
    context = review.get("context") if isinstance(review, dict) else None
    domain = review.get("domain") if isinstance(review, dict) else None
    if (
        not isinstance(review, dict)
        or set(review) != {"context", "domain"}
        or not isinstance(context, str)
        or not isinstance(domain, str)
    ):
        problems.append(
            (
                REVIEW_KEY,
                "a review stack needs a map with exactly two keys, context (the kubeconfig "
                "context of the shared dev cluster) and domain (where review hosts live, e.g. "
                f"review.example.net); create the stack from Pulumi.{BASE_STACK}.yaml, which "
                "has them",
            )
        )
    else:
        if not _CONTEXT.match(context):
            problems.append((f"{REVIEW_KEY}.context", "must be a kubeconfig context name"))
        if not _DOMAIN.match(domain):
            problems.append(
                (f"{REVIEW_KEY}.domain", "must be a lowercase DNS name such as review.example.net")
            )
    if raw.get(_ENVIRONMENT_KEY) != BASE_STACK:
        problems.append(
            (
                _ENVIRONMENT_KEY,
                f"a review stack ({stack}) runs in the shared dev cluster, so its environment "
                f"must be {BASE_STACK!r}; create it from Pulumi.{BASE_STACK}.yaml",
            )
        )
    if problems:
        raise _error(file, problems)

    derived = dict(raw)
    derived[_NAMESPACE_KEY] = stack
    kubernetes = _decode(raw.get(_KUBERNETES_KEY))
    if isinstance(kubernetes, dict):
        target = {k: v for k, v in kubernetes.items() if k not in ("renderYamlToDirectory",)}
        target["context"] = context
        derived[_KUBERNETES_KEY] = _like(raw.get(_KUBERNETES_KEY), target)
    # Copies: with typed values (the stack file as read) the originals are the source's own.
    apps = copy.deepcopy(_decode(raw.get(_APPS_KEY)))
    cdn = copy.deepcopy(_decode(raw.get(_CDN_KEY)))
    documents = {"apps": apps, "cdn": cdn}
    assert isinstance(domain, str)
    for path, host in _host_slots(apps, cdn):
        _set(documents, path, derive_host(host, stack, domain))
    if isinstance(apps, dict):
        derived[_APPS_KEY] = _like(raw.get(_APPS_KEY), apps)
    if isinstance(cdn, dict):
        derived[_CDN_KEY] = _like(raw.get(_CDN_KEY), cdn)
    return derived


def _like(original: Any, value: Any) -> Any:
    """``value`` in the form the original had: JSON text (the engine's flat map) or typed."""
    return json.dumps(value) if isinstance(original, str) else value


# --- refusing ------------------------------------------------------------------------------


def _covers(pattern: str, host: str) -> bool:
    """Whether a DNS name or ``*.`` wildcard names ``host`` (a wildcard covers one label)."""
    if pattern == host:
        return True
    if pattern.startswith("*."):
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return False


def _touches(a: str, b: str) -> bool:
    return _covers(a, b) or _covers(b, a)


def collisions(mine: Footprint, others: Iterable[Footprint]) -> list[tuple[str, str]]:
    """(key, message) for each name of ``mine`` that another stack also claims."""
    problems = []
    for other in others:
        if mine.namespace is not None and mine.namespace == other.namespace:
            problems.append(
                (
                    _NAMESPACE_KEY,
                    f"namespace {mine.namespace!r} is also stack {other.stack!r}'s "
                    f"(Pulumi.{other.stack}.yaml): a review stack must not touch another "
                    "stack's objects",
                )
            )
        for host, key in sorted(mine.hosts.items()):
            clash = sorted(h for h in other.hosts if _touches(h, host))
            if clash:
                problems.append(
                    (
                        key,
                        f"host {host!r} is also served by stack {other.stack!r} "
                        f"(Pulumi.{other.stack}.yaml: {', '.join(clash)}): a review stack must "
                        "not take another stack's DNS names or certificates",
                    )
                )
    return problems


def apply(stack: str, raw: Mapping[str, Any], root: Path | None = None) -> dict[str, Any]:
    """The hook ``parse`` calls first: derive a review stack's names, refuse a collision.

    Any other stack passes through unchanged; only the base stack may carry
    ``webplatform:review`` (validated by :class:`ReviewSpec` in the stack model).
    """
    if review_number(stack) is None:
        if REVIEW_KEY in raw and stack != BASE_STACK:
            raise _error(
                f"Pulumi.{stack}.yaml",
                [
                    (
                        REVIEW_KEY,
                        f"only Pulumi.{BASE_STACK}.yaml may say how review stacks "
                        f"({BASE_STACK}-pr-<N>) are made; remove it here",
                    )
                ],
            )
        return dict(raw)
    derived = derive(stack, raw)
    others = committed_footprints(root or ROOT, exclude=stack)
    problems = collisions(footprint(stack, derived), others)
    domain = _decode(raw.get(REVIEW_KEY))["domain"]
    shared = shares_cookies(domain, [h for other in others for h in other.hosts])
    shared += shares_cookies(domain, footprint(BASE_STACK, raw).hosts)
    if shared:
        problems.append(
            (
                f"{REVIEW_KEY}.domain",
                f"{domain!r} shares a registrable domain (and so cookies) with "
                f"{', '.join(sorted(set(shared)))}: review code is a pull request's; give it "
                "a domain of its own (e.g. review.example.net when production is example.com)",
            )
        )
    if problems:
        raise _error(f"Pulumi.{stack}.yaml", problems)
    return derived


# --- the sandbox: what a trusted job makes before pull-request code runs -----------------

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
    base = (root or ROOT) / f"Pulumi.{BASE_STACK}.yaml"
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

    source = read_stack_file(ROOT / f"Pulumi.{BASE_STACK}.yaml", NAMESPACE)
    print(primary_url(stack, source.values()))
    return 0


def primary_url(stack: str, raw: Mapping[str, Any]) -> str:
    """The URL a reviewer opens: the CDN's host if there is one, else the first app's first host."""
    derived = derive(stack, raw)
    slots = _host_slots(_decode(derived.get(_APPS_KEY)), _decode(derived.get(_CDN_KEY)))
    cdn = [host for path, host in slots if path == ("cdn", "host")]
    hosts = cdn or [host for path, host in slots if path[0] == "apps"]
    return f"https://{hosts[0]}" if hosts else ""


if __name__ == "__main__":
    raise SystemExit(main())

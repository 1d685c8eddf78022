"""Review stacks: one short-lived stack per pull request, made from dev's stack file.

Reference 000's first rung: every pull request gets its own dev environment. Here that
is a stack named ``dev-pr-<N>``, whose file the pull-request workflow copies from
``Pulumi.dev.yaml`` unchanged; what must differ from dev is derived from the stack name
when the config is parsed (:func:`apply`), so nobody edits a review stack by hand:

- the namespace is the stack name (``dev-pr-7``);
- every public host moves under ``webplatform:review.domain`` (:func:`derive_host`).
  Review code is a pull request's: under the production domain it would share its cookie
  scope, so that domain may not be, or lie under, the registrable domain of any
  committed stack's host;
- the apps deploy to the shared dev cluster through ``webplatform:review.context``.

A review stack whose namespace or any host equals (or is covered by a wildcard of)
another committed stack's is refused before anything is registered. Only the base
stack (dev) may carry ``webplatform:review``. The sandbox a trusted job makes for a
review stack, and the command line, are :mod:`infra.review`.
"""

from __future__ import annotations

import copy
import json
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache, reduce
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from infra.config._base import NAMESPACE, Problem, StackConfigError
from infra.config._source import decode, display, lenient_config
from webplatform._model import Args

ROOT = Path(__file__).resolve().parent.parent.parent
#: The stack review stacks are made from.
BASE_STACK = "dev"
#: ``dev-pr-<N>``: N a pull-request number, no leading zero.
REVIEW_STACK = re.compile(rf"^{BASE_STACK}-pr-(?P<number>[1-9][0-9]{{0,8}})$")
REVIEW_KEY = f"{NAMESPACE}:review"
_NAMESPACE_KEY, _KUBERNETES_KEY = f"{NAMESPACE}:namespace", f"{NAMESPACE}:kubernetes"
_APPS_KEY, _CDN_KEY = f"{NAMESPACE}:apps", f"{NAMESPACE}:cdn"
_ENVIRONMENT_KEY = f"{NAMESPACE}:environment"
_CONTEXT = r"^[A-Za-z0-9][A-Za-z0-9._@:/-]{0,252}$"
_DOMAIN = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.){1,10}[a-z]{2,63}$"


class ReviewSpec(Args):
    """``webplatform:review``: how review stacks are made from this file (dev's only)."""

    context: str = Field(
        pattern=_CONTEXT,
        description="kubeconfig context of the shared dev cluster review stacks deploy to; "
        "required: dev itself renders YAML.",
    )
    domain: str = Field(
        pattern=_DOMAIN,
        description="DNS domain review hosts live under (e.g. review.example.net); required: "
        "its own registrable domain, so review pages share no cookies with production.",
    )


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
    #: ``cluster.access.ciRoleArn``: one CI role per environment and cluster
    ci_role: str | None = None


def _host_slots(apps: Any, cdn: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Every public host with its path: each app's ``route.hosts``, the CDN's viewer names."""
    slots: list[tuple[tuple[Any, ...], str]] = []

    def add(path: tuple[Any, ...], hosts: Any) -> None:
        if isinstance(hosts, list):
            slots.extend(((*path, i), h) for i, h in enumerate(hosts) if isinstance(h, str))

    for name, app in apps.items() if isinstance(apps, dict) else ():
        route = app.get("route") if isinstance(app, dict) else None
        if isinstance(route, dict):
            add(("apps", name, "route", "hosts"), route.get("hosts"))
    if isinstance(cdn, dict):
        if isinstance(cdn.get("host"), str):
            slots.append((("cdn", "host"), cdn["host"]))
        add(("cdn", "aliases"), cdn.get("aliases"))
    return slots


def footprint(stack: str, raw: Mapping[str, Any]) -> Footprint:
    """The namespace and hosts of a flat config map (``{"webplatform:apps": "<json>", ...}``)."""
    namespace = raw.get(_NAMESPACE_KEY)
    slots = _host_slots(decode(raw.get(_APPS_KEY)), decode(raw.get(_CDN_KEY)))
    role: Any = decode(raw.get(f"{NAMESPACE}:cluster"))
    for key in ("access", "ciRoleArn"):
        role = role.get(key) if isinstance(role, dict) else None
    return Footprint(
        stack=stack,
        namespace=namespace if isinstance(namespace, str) else None,
        hosts={h.lower().rstrip("."): display(f"{NAMESPACE}:{p[0]}", p[1:]) for p, h in slots},
        ci_role=role if isinstance(role, str) else None,
    )


def committed_footprints(root: Path = ROOT, *, exclude: str) -> list[Footprint]:
    """Footprints of the stack files in ``root``, other than ``exclude`` and review stacks."""
    found = []
    for path in sorted(root.glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        if stack != exclude and review_number(stack) is None:
            claimed = _footprint_of(stack, path.read_bytes())
            if claimed is not None:
                found.append(claimed)
    return found


@lru_cache(maxsize=64)
def _footprint_of(stack: str, text: bytes) -> Footprint | None:
    """A stack file's footprint, by its content. Every parse of a stack reads every other
    stack file: a process that parses many (the tests, `cost` over stacks) parsed each
    again. Keyed by the bytes, not the modification time, which can repeat within a tick."""
    config = lenient_config(text.decode())
    return None if config is None else footprint(stack, config)


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


def derive(stack: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A review stack's config: dev's, with namespace, hosts and cluster target derived.
    Raises ``StackConfigError`` when the file is not dev's kind of file."""
    problems: list[tuple[str, str]] = []
    try:  # checked here, not only by StackConfig: without it the stack would be dev's
        spec = ReviewSpec.model_validate(decode(raw.get(REVIEW_KEY)), strict=True)
    except ValidationError as exc:
        found = "; ".join(" ".join([*map(str, e["loc"]), e["msg"]]) for e in exc.errors())
        problems.append(
            (
                REVIEW_KEY,
                "a review stack needs a map with exactly two keys, context (the kubeconfig "
                "context of the shared dev cluster) and domain (where review hosts live, e.g. "
                f"review.example.net) ({found}); create the stack from Pulumi.{BASE_STACK}.yaml",
            )
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
        raise StackConfigError(f"Pulumi.{stack}.yaml", problems)

    derived = {**raw, _NAMESPACE_KEY: stack}
    kubernetes = decode(raw.get(_KUBERNETES_KEY))
    if isinstance(kubernetes, dict):
        target = {k: v for k, v in kubernetes.items() if k != "renderYamlToDirectory"}
        derived[_KUBERNETES_KEY] = _like(raw[_KUBERNETES_KEY], {**target, "context": spec.context})
    # Copies: with typed values (the stack file as read) the originals are the source's own.
    documents = {"apps": decode(raw.get(_APPS_KEY)), "cdn": decode(raw.get(_CDN_KEY))}
    documents = copy.deepcopy(documents)
    for path, host in _host_slots(documents["apps"], documents["cdn"]):
        *parents, last = path
        reduce(operator.getitem, parents, documents)[last] = derive_host(host, stack, spec.domain)
    for key, value in ((_APPS_KEY, documents["apps"]), (_CDN_KEY, documents["cdn"])):
        if isinstance(value, dict):
            derived[key] = _like(raw[key], value)
    return derived


def _like(original: Any, value: Any) -> Any:
    """``value`` in the form the original had: JSON text (the engine's flat map) or typed."""
    return json.dumps(value) if isinstance(original, str) else value


def _covers(pattern: str, host: str) -> bool:
    """Whether a DNS name or ``*.`` wildcard names ``host`` (a wildcard covers one label)."""
    if pattern.startswith("*.") and pattern != host:
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


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
            clash = sorted(h for h in other.hosts if _covers(h, host) or _covers(host, h))
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
    Any other stack passes through unchanged."""
    if review_number(stack) is None:
        if REVIEW_KEY in raw and stack != BASE_STACK:
            message = (
                f"only Pulumi.{BASE_STACK}.yaml may say how review stacks ({BASE_STACK}-pr-<N>) "
                "are made; remove it here"
            )
            raise StackConfigError(f"Pulumi.{stack}.yaml", [(REVIEW_KEY, message)])
        return dict(raw)
    derived = derive(stack, raw)
    others = committed_footprints(root or ROOT, exclude=stack)
    problems = collisions(footprint(stack, derived), others)
    domain = decode(raw.get(REVIEW_KEY))["domain"]
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
        raise StackConfigError(f"Pulumi.{stack}.yaml", problems)
    return derived


def shared_ci_role(stack: str, raw: Mapping[str, Any], root: Path | None = None) -> list[Problem]:
    """This stack's ``cluster.access.ciRoleArn`` if another committed stack file has it too:
    a role shared by staging and prod lets a staging deploy (or whoever holds its
    credentials) change prod."""
    mine = footprint(stack, raw).ci_role
    clashes = [
        f"Pulumi.{other.stack}.yaml"
        for other in committed_footprints(root or ROOT, exclude=stack)
        if mine is not None and other.ci_role == mine
    ]
    if not clashes:
        return []
    message = (
        f"{mine} is also the CI role of {', '.join(clashes)}: give each environment and "
        "cluster its own role (trusted only by that GitHub environment)"
    )
    return [(f"{NAMESPACE}:cluster.access.ciRoleArn", message)]


def primary_url(stack: str, raw: Mapping[str, Any]) -> str:
    """The URL a reviewer opens: the CDN's host if there is one, else the first app's first host."""
    derived = derive(stack, raw)
    slots = _host_slots(decode(derived.get(_APPS_KEY)), decode(derived.get(_CDN_KEY)))
    cdn = [host for path, host in slots if path == ("cdn", "host")]
    hosts = cdn or [host for path, host in slots if path[0] == "apps"]
    return f"https://{hosts[0]}" if hosts else ""

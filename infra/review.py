"""Review stacks: one short-lived stack per pull request, made from dev's stack file.

Reference 000's first rung: every pull request gets its own dev environment at
``dev-*.example.com``. Here that is a stack named ``dev-pr-<N>`` (N the pull
request's number). The pull-request workflow copies ``Pulumi.dev.yaml`` to
``Pulumi.dev-pr-<N>.yaml`` unchanged; everything that must differ from dev is
derived from the stack name when the config is parsed, so nobody edits a review
stack by hand and two review stacks can never be configured alike:

- the namespace is the stack name (``dev-pr-7``);
- every public host of dev gets the stack name in place of its ``dev`` label
  (``dev.example.com`` -> ``dev-pr-7.example.com``; a host without a ``dev``
  label gets the stack name as a prefix of its first label);
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


class ReviewSpec(BaseModel):
    """``webplatform:review``: how review stacks are made from this file (dev's only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    context: str = Field(
        pattern=_CONTEXT.pattern,
        description="kubeconfig context of the shared dev cluster review stacks deploy to; "
        "required: dev itself renders YAML.",
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


def derive_host(host: str, stack: str) -> str:
    """``dev.example.com`` -> ``dev-pr-7.example.com``; ``api.dev.example.com`` ->
    ``api.dev-pr-7.example.com``; ``web.example.com`` -> ``dev-pr-7-web.example.com``."""
    labels = host.lower().rstrip(".").split(".")
    if BASE_STACK in labels:
        labels[labels.index(BASE_STACK)] = stack
    else:
        labels[0] = f"{stack}-{labels[0]}"
    return ".".join(labels)


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
    if not isinstance(review, dict) or set(review) != {"context"} or not isinstance(context, str):
        problems.append(
            (
                REVIEW_KEY,
                "a review stack needs a map with exactly one key, context: the kubeconfig context "
                f"of the shared dev cluster; create the stack from Pulumi.{BASE_STACK}.yaml, "
                "which has it",
            )
        )
    elif not _CONTEXT.match(context):
        problems.append((f"{REVIEW_KEY}.context", "must be a kubeconfig context name"))
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
    for path, host in _host_slots(apps, cdn):
        _set(documents, path, derive_host(host, stack))
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
    problems = collisions(
        footprint(stack, derived), committed_footprints(root or ROOT, exclude=stack)
    )
    if problems:
        raise _error(f"Pulumi.{stack}.yaml", problems)
    return derived


def main(argv: list[str] | None = None) -> int:
    """``python -m infra.review url N``: the review stack's name and URL (for the workflow)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m infra.review", description=main.__doc__)
    parser.add_argument("what", choices=["stack", "url"])
    parser.add_argument("number", type=int, help="the pull request's number")
    args = parser.parse_args(argv)
    stack = review_stack_name(args.number)
    if args.what == "stack":
        print(stack)
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

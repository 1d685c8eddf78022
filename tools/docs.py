"""Build the documentation site: hand-written guides plus pages generated from the code.

    python3 dev.py docs            # build/site, strict: a broken link, nav entry or diagram fails
    python3 dev.py docs --serve    # the same, then serve it on http://127.0.0.1:8000 only

Steps, each of which fails the build:

1. Assemble ``build/docs/``: ``docs/`` as written, ``README.md`` as the home page, and the
   generated pages: ``reference/components.md`` (every public component model's fields,
   from the pydantic models), ``reference/stack-file.md`` (every stack-file key, from the
   model that ``schema/stack.schema.json`` is made from) and ``stacks/<stack>.md`` (what a
   stack's offline synth creates, by type and count, and its monthly cost). Nothing
   generated is committed; a stack's synth is cached under ``build/docs-cache/`` keyed by
   the hash of every file it reads, so a warm build synthesizes only what changed.
2. Check every nav entry names a page and every relative link (and its ``#anchor``) in
   every page resolves: Zensical's strict mode checks links, not the nav.
3. Parse every Mermaid diagram with the ``mermaid`` package under node
   (``tools/mermaid``); without node it is skipped with a warning, unless
   ``WEBPLATFORM_REQUIRE_MERMAID=1`` (CI) makes that an error.
4. ``zensical build --strict`` into ``build/site`` (or ``zensical serve`` on 127.0.0.1).

Standard library plus the project's own ``.venv`` (pydantic, the library): dev.py runs it
there with ``--zensical`` naming the site generator in ``.venv-docs``.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import html
import importlib
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import time
import types
import typing
from collections import Counter, abc
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"
BUILD = ROOT / "build" / "docs"
CACHE = ROOT / "build" / "docs-cache"
SITE = ROOT / "build" / "site"
MERMAID_SOURCE = ROOT / "tools" / "mermaid"
MERMAID_HOME = ROOT / "build" / "mermaid"
#: Every committed stack gets a page; local's cost is left out (it runs on this machine).
STACKS = ("dev", "staging", "uat", "prod", "prod-dr", "local")
UNPRICED = {"local": "The local control plane runs on this machine: there is nothing to price."}
SERVE_ADDRESS = "127.0.0.1:8000"


# --- the one place that imports from infra ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Infra:
    """What the generator needs from the program (``infra``), behind one seam."""

    stack_model: type[BaseModel]
    synth_command: Callable[[str, Path], list[str]]
    cost_markdown: Callable[[str, dict[str, Any]], str]
    sources: tuple[Path, ...]


def infra_adapter() -> Infra:
    """ADAPTER: every import from ``infra`` lives here (fix only this at a restructure).

    - ``infra.config.StackConfig``: the stack-file model (the one the schema is made from);
    - ``infra.cost``: ``Prices.load``, ``estimate`` and ``markdown``, priced on the price
      table's own date so a page changes only when prices or the stack do;
    - ``python -m infra.synth``: the offline synth, run as a subprocess (in parallel).
    """
    from datetime import date

    from infra import cost
    from infra.config import StackConfig

    def synth_command(stack: str, out: Path) -> list[str]:
        return [sys.executable, "-m", "infra.synth", "--stack", stack, "--out", str(out)]

    def cost_markdown(stack: str, resources: dict[str, Any]) -> str:
        prices = cost.Prices.load()
        on = date.fromisoformat(prices.as_of)
        return cost.markdown(cost.estimate(stack, resources, prices, on))

    return Infra(
        stack_model=StackConfig,
        synth_command=synth_command,
        cost_markdown=cost_markdown,
        sources=(ROOT / "infra", ROOT / "components", ROOT / "Pulumi.yaml", ROOT / "uv.lock"),
    )


# --- models -----------------------------------------------------------------------------


def component_models() -> list[type[BaseModel]]:
    """Every pydantic model the library exports, and every model nested in one, in order."""
    import webplatform

    for module in pkgutil.walk_packages(webplatform.__path__, "webplatform."):
        importlib.import_module(module.name)  # lazily exported areas too (edge, cluster)
    found: dict[type[BaseModel], None] = {}
    for name in sorted(dir(webplatform)):
        value = getattr(webplatform, name)
        if not name.startswith("_") and _is_model(value):
            _collect(value, found)
    return sorted(found, key=lambda m: (m.__module__, m.__name__))


def stack_models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """The stack-file model and every model it nests."""
    found: dict[type[BaseModel], None] = {}
    _collect(root, found)
    return list(found)


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel) and value is not BaseModel


def _collect(model: type[BaseModel], found: dict[type[BaseModel], None]) -> None:
    if model in found:
        return
    model.model_rebuild()  # defer_build: resolve the fields before reading them
    found[model] = None
    for field in model.model_fields.values():
        for nested in _nested_models(field.annotation):
            _collect(nested, found)


def _nested_models(annotation: Any) -> Iterator[type[BaseModel]]:
    if _is_model(annotation):
        yield annotation
        return
    for argument in typing.get_args(annotation):
        yield from _nested_models(argument)


def undescribed(models: Iterable[type[BaseModel]]) -> list[str]:
    """``Model.field`` for every field without a description (attribute docstring or Field)."""
    return [
        f"{model.__name__}.{name}"
        for model in models
        for name, field in model.model_fields.items()
        if not (field.description or "").strip()
    ]


# --- rendering a field --------------------------------------------------------------------


def _anchor(model: type[BaseModel]) -> str:
    return model.__name__.lower()


def type_name(annotation: Any, link: Callable[[type[BaseModel]], str] | None = None) -> str:
    """A reader's spelling of a field's type: ``int``, ``list of str``, ``Input[str]``..."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is type(None):
        return "null"
    if origin is typing.Annotated:
        return type_name(arguments[0], link)
    if origin is typing.Literal:
        return " \\| ".join(f"`{json.dumps(a)}`" for a in arguments)
    if origin in (typing.Union, types.UnionType):
        plain = [a for a in arguments if not _is_output(a)]
        bar = " \\| "
        if len(plain) < len(arguments):
            return "Input[" + bar.join(type_name(a, link) for a in plain) + "]"
        return bar.join(type_name(a, link) for a in arguments)
    if origin in (tuple, list, frozenset, set, abc.Sequence, abc.Set, abc.Iterable):
        return f"list of {type_name(arguments[0], link)}" if arguments else "list"
    if origin in (dict, abc.Mapping):
        return f"map {type_name(arguments[0], link)} → {type_name(arguments[1], link)}"
    if _is_model(annotation):
        return link(annotation) if link else annotation.__name__
    if isinstance(annotation, type):
        return {"str": "string", "int": "integer", "bool": "boolean"}.get(
            annotation.__name__, annotation.__name__
        )
    return str(annotation).replace("typing.", "")


def _is_output(annotation: Any) -> bool:
    inner = typing.get_args(annotation)[0] if typing.get_origin(annotation) else annotation
    return "Output" in getattr(inner, "__name__", "") or "InstanceOf" in repr(annotation)


_BOUNDS = (
    ("ge", "≥ {}"),
    ("gt", "> {}"),
    ("le", "≤ {}"),
    ("lt", "< {}"),
    ("min_length", "length ≥ {}"),
    ("max_length", "length ≤ {}"),
    ("pattern", "matches `{}`"),
)


def bounds(field: FieldInfo) -> str:
    """Numeric and length bounds and patterns, from the field and from its annotated type."""
    found: list[str] = []

    def scan(items: Iterable[Any]) -> None:
        for item in items:
            if isinstance(item, FieldInfo):
                scan(item.metadata)
            for attribute, form in _BOUNDS:
                value = getattr(item, attribute, None)
                if value is not None and form.format(value) not in found:
                    found.append(form.format(value))

    scan(field.metadata)
    stack = [field.annotation]
    while stack:
        annotation = stack.pop()
        if typing.get_origin(annotation) is typing.Annotated:
            scan(typing.get_args(annotation)[1:])
        if typing.get_origin(annotation) in (typing.Union, types.UnionType, typing.Annotated):
            stack.extend(typing.get_args(annotation))
    return ", ".join(found).replace("|", "\\|")


def default(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        try:
            value = field.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "computed"
        if isinstance(value, BaseModel):
            return "its defaults"
    else:
        value = field.default
    if value is PydanticUndefined:
        return "**required**"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        if not value:
            return "its defaults"
    if isinstance(value, tuple):
        value = list(value)
    try:
        text = json.dumps(value, default=str)
    except TypeError:
        text = str(value)
    return f"`{text}`".replace("|", "\\|")


def describe(field: FieldInfo) -> str:
    text = " ".join((field.description or "").split())
    text = re.sub(r"``([^`]+)``", r"`\1`", text)  # reST literals, as the docstrings write them
    return text.replace("|", "\\|") or "—"


def _cell(text: str) -> str:
    return text.replace("\n", " ")


def _summary(model: type[BaseModel]) -> str:
    doc = (model.__doc__ or "").strip()
    if not doc or doc.startswith(f"{model.__name__}("):  # pydantic's generated signature
        return ""
    first = doc.split("\n\n")[0]
    return re.sub(r"``([^`]+)``", r"`\1`", " ".join(first.split()))


# --- the reference pages --------------------------------------------------------------------


def components_page(models: list[type[BaseModel]]) -> str:
    """Every exported model: its fields (Python name and stack-file key), type, default, bounds."""
    names = set(models)

    def link(model: type[BaseModel]) -> str:
        return f"[{model.__name__}](#{_anchor(model)})" if model in names else model.__name__

    lines = [
        "# Component reference",
        "",
        "Generated by `python3 dev.py docs` from the models themselves (`webplatform`'s",
        "exported args and the models nested in them): each field's type, default, bounds",
        "and description as the code declares them. Python callers use the field names;",
        'stack files and YAML use the camelCase keys. Every model is strict (`"3"` is not',
        "a number), frozen and refuses unknown keys.",
        "",
    ]
    by_area: dict[str, list[type[BaseModel]]] = {}
    for model in models:
        parts = model.__module__.split(".")
        by_area.setdefault(parts[1] if len(parts) > 2 else "app", []).append(model)
    for area, members in sorted(by_area.items()):
        lines += [f"## {area}", ""]
        for model in members:
            lines += [f"### {model.__name__}", ""]
            lines += [f"`{model.__module__}.{model.__name__}`", ""]
            if summary := _summary(model):
                lines += [summary, ""]
            lines += _field_table(model, link)
    return "\n".join(lines) + "\n"


def _field_table(model: type[BaseModel], link: Callable[[type[BaseModel]], str]) -> list[str]:
    lines = [
        "| field | key | type | default | bounds | description |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, field in model.model_fields.items():
        key = field.alias or name
        cells = (
            f"`{name}`",
            f"`{key}`",
            type_name(field.annotation, link),
            default(field),
            bounds(field),
            describe(field),
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return [*lines, ""]


def stack_file_page(root: type[BaseModel], namespace: str = "webplatform") -> str:
    """Every stack-file key, as a path under ``webplatform:``, a section per top-level key."""
    lines = [
        "# Stack-file reference",
        "",
        "Generated by `python3 dev.py docs` from `StackConfig`, the model",
        "`schema/stack.schema.json` is generated from (`python3 dev.py schema`). Keys sit",
        f"under the `{namespace}:` namespace of `Pulumi.<stack>.yaml`, in camelCase; an",
        "unknown key is an error that lists the allowed ones. `<name>` stands for a map key",
        "you choose (an app's name), `[]` for an item of a list. Any other",
        f"`{namespace}:` key is a secret value that some app's `secretEnv` names",
        "(`pulumi config set --secret KEY VALUE`).",
        "",
        "How stack files are read, and the rules across keys, are in",
        "[Configuration](../guides/configuration.md).",
        "",
    ]
    for name, field in root.model_fields.items():
        key = field.alias or name
        about = describe(field)
        if about == "—":  # the field's own description is missing (a test says so)
            about = next((_summary(m) for _, m, _ in _children(field.annotation)), "") or about
        lines += [f"## `{namespace}:{key}`", "", about, ""]
        lines += [
            "| key | type | default | bounds | description |",
            "| --- | --- | --- | --- | --- |",
        ]
        for path, sub in _key_rows(key, field, set()):
            cells = (
                f"`{path}`",
                type_name(sub.annotation),
                default(sub),
                bounds(sub),
                describe(sub),
            )
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _key_rows(
    path: str, field: FieldInfo, seen: set[type[BaseModel]]
) -> Iterator[tuple[str, FieldInfo]]:
    yield path, field
    for suffix, model, variant in _children(field.annotation):
        if model in seen:
            continue
        label = f" ({variant})" if variant else ""
        for name, sub in model.model_fields.items():
            yield from _key_rows(f"{path}{suffix}.{sub.alias or name}{label}", sub, seen | {model})


def _children(annotation: Any, suffix: str = "") -> Iterator[tuple[str, type[BaseModel], str]]:
    """(path suffix, nested model, variant note) for each model a field's value may be."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if _is_model(annotation):
        yield suffix, annotation, ""
    elif origin is typing.Annotated:
        yield from _children(arguments[0], suffix)
    elif origin is dict:
        yield from _children(arguments[1], f"{suffix}.<name>")
    elif origin in (tuple, list):
        yield from _children(arguments[0], f"{suffix}[]") if arguments else iter(())
    elif origin in (typing.Union, types.UnionType):
        variants = [a for a in arguments if a is not type(None)]
        for argument in variants:
            for sub_suffix, model, note in _children(argument, suffix):
                yield sub_suffix, model, note or (_variant(model) if len(variants) > 1 else "")


def _variant(model: type[BaseModel]) -> str:
    """``when provider: cloudfront`` for a member of a discriminated union."""
    for name, field in model.model_fields.items():
        if typing.get_origin(field.annotation) is typing.Literal:
            values = typing.get_args(field.annotation)
            if len(values) == 1:
                return f"when {field.alias or name}: {values[0]}"
    return model.__name__


# --- stack pages ----------------------------------------------------------------------------


def _fingerprint(paths: Iterable[Path]) -> str:
    digest = hashlib.sha256(sys.executable.encode())
    for top in paths:
        files = sorted(top.rglob("*")) if top.is_dir() else [top]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def synthesize(infra: Infra, stacks: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each stack's ``resources.json``, synthesized (in parallel) only when an input changed."""
    shared = _fingerprint(infra.sources)
    todo: list[tuple[str, Path, Path, str]] = []
    out: dict[str, dict[str, Any]] = {}
    for stack in stacks:
        key = hashlib.sha256(
            (shared + _fingerprint([ROOT / f"Pulumi.{stack}.yaml"])).encode()
        ).hexdigest()
        home = CACHE / stack
        stamp = home / "fingerprint"
        if stamp.exists() and stamp.read_text() == key and (home / "resources.json").exists():
            out[stack] = json.loads((home / "resources.json").read_text())
        else:
            todo.append((stack, home, stamp, key))

    def run(item: tuple[str, Path, Path, str]) -> tuple[str, subprocess.CompletedProcess[str]]:
        stack, home, _, _ = item
        shutil.rmtree(home, ignore_errors=True)
        command = infra.synth_command(stack, home)
        return stack, subprocess.run(command, cwd=ROOT, capture_output=True, text=True)

    with ThreadPoolExecutor(max_workers=max(1, min(len(todo), os.cpu_count() or 1))) as pool:
        for (stack, home, stamp, key), (_, done) in zip(todo, pool.map(run, todo), strict=True):
            if done.returncode:
                raise DocsError(f"synth of {stack} failed:\n{done.stdout}{done.stderr}")
            stamp.write_text(key)
            out[stack] = json.loads((home / "resources.json").read_text())
    return out


def stack_page(stack: str, document: dict[str, Any], cost: str | None) -> str:
    resources = document["resources"]
    counts = Counter(r["type"] for r in resources)
    groups: dict[str, list[tuple[str, int]]] = {}
    for kind, count in sorted(counts.items()):
        groups.setdefault(_provider(kind), []).append((kind, count))
    lines = [
        f"# Stack `{stack}`",
        "",
        f"Generated by `python3 dev.py docs` from the offline synth of `Pulumi.{stack}.yaml`",
        f"(`python3 dev.py synth --stack {stack}`): what `pulumi up -s {stack}` would create,",
        f"by type. {len(resources)} resources in all, the stack itself included.",
        "",
        "| provider | resources |",
        "| --- | --: |",
    ]
    lines += [f"| {group} | {sum(c for _, c in items)} |" for group, items in groups.items()]
    lines.append("")
    for group, items in groups.items():
        lines += [f"## {group}", "", "| type | count |", "| --- | --: |"]
        lines += [f"| `{kind}` | {count} |" for kind, count in items]
        lines.append("")
    lines += ["## Monthly cost", ""]
    if cost is None:
        lines += [UNPRICED.get(stack, "Not priced."), ""]
    else:
        lines += [
            f"`python3 dev.py cost --stack {stack}`, on the price table's date; what the",
            "figures mean and leave out is in [Cost](../guides/cost.md).",
            "",
            cost.strip(),
            "",
        ]
    return "\n".join(lines) + "\n"


def _provider(kind: str) -> str:
    package = kind.split(":")[0]
    return {
        "webplatform": "components (webplatform)",
        "pulumi": "Pulumi (stack, providers)",
    }.get(package, package)


def stacks_index(documents: dict[str, dict[str, Any]]) -> str:
    lines = [
        "# Stacks",
        "",
        "One page per committed stack file, generated from its offline synth.",
        "",
        "| stack | resources |",
        "| --- | --: |",
    ]
    lines += [f"| [{s}]({s}.md) | {len(d['resources'])} |" for s, d in documents.items()]
    return "\n".join(lines) + "\n"


# --- assembling ------------------------------------------------------------------------------


class DocsError(Exception):
    """Something that fails the build: a broken link, nav entry, diagram or synth."""


def home_page(readme: str) -> str:
    """README.md as the site's home: its links into docs/ made relative to the site."""
    return re.sub(r"\]\(docs/", "](", readme)


def assemble(out: Path = BUILD, *, stacks: Iterable[str] = STACKS) -> list[str]:
    """Write every page into ``out``; return the generated pages' paths (relative)."""
    infra = infra_adapter()
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(DOCS, out)
    (out / "index.md").write_text(home_page((ROOT / "README.md").read_text()))
    generated = {
        "reference/components.md": components_page(component_models()),
        "reference/stack-file.md": stack_file_page(infra.stack_model),
    }
    documents = synthesize(infra, stacks)
    for stack, document in documents.items():
        cost = None if stack in UNPRICED else infra.cost_markdown(stack, document)
        generated[f"stacks/{stack}.md"] = stack_page(stack, document, cost)
    generated["stacks/index.md"] = stacks_index(documents)
    for name, text in generated.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text)
    return sorted(generated)


# --- checks -------------------------------------------------------------------------------------

_LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.M | re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)
_ATTR_ID = re.compile(r"\{\s*#([\w-]+)[^}]*\}\s*$")


def slug(heading: str) -> str:
    """Python-Markdown's toc slug, which Zensical uses: a heading's anchor."""
    text = _ATTR_ID.sub("", heading)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", html.unescape(text))
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    counts: Counter[str] = Counter()
    for match in _HEADING.finditer(_FENCE.sub("", text)):
        explicit = _ATTR_ID.search(match[2])
        base = explicit[1] if explicit else slug(match[2])
        found.add(base if not counts[base] else f"{base}_{counts[base]}")
        counts[base] += 1
    found |= set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text))
    return found


def nav_pages(config: Path = CONFIG) -> list[str]:
    """The page paths the ``nav`` of mkdocs.yml names (a list of ``Title: path`` items)."""
    import yaml

    class Loader(yaml.SafeLoader):
        """Safe, and blind to the ``!!python/name:`` tags of Markdown extension options."""

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
    nav = yaml.load(config.read_text(), Loader=Loader).get("nav") or []
    pages: list[str] = []

    def walk(items: Any) -> None:
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, str):
                pages.append(item)
            elif isinstance(item, dict):
                for value in item.values():
                    walk(value) if isinstance(value, list) else pages.append(value)

    walk(nav)
    return [p for p in pages if not re.match(r"^[a-z]+://", p)]


def check_site(docs: Path = BUILD, config: Path = CONFIG) -> list[str]:
    """Every nav entry is a page; every relative link and anchor in every page resolves."""
    problems = [
        f"mkdocs.yml nav: no page {p}" for p in nav_pages(config) if not (docs / p).is_file()
    ]
    pages = {p.relative_to(docs).as_posix(): p.read_text() for p in sorted(docs.rglob("*.md"))}
    known = {name: anchors(text) for name, text in pages.items()}
    for name, text in pages.items():
        body = _FENCE.sub("", text)
        body = re.sub(r"`[^`\n]*`", "", body)  # inline code is not a link
        for match in _LINK.finditer(body):
            target = match[1]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # https:, mailto:
            path, _, fragment = target.partition("#")
            if path:
                resolved = os.path.normpath(os.path.join(os.path.dirname(name), path))
                resolved = resolved.replace(os.sep, "/")
                if resolved not in pages:
                    if not (docs / resolved).exists():
                        problems.append(f"{name}: link to a missing page: {target}")
                    continue
            else:
                resolved = name
            if fragment and fragment not in known[resolved]:
                problems.append(f"{name}: link to a missing anchor: {target}")
    return problems


def diagrams(docs: Path = BUILD) -> list[tuple[str, str]]:
    """(name, source) of every ```mermaid block, named ``<page>-<n>``."""
    found = []
    for page in sorted(docs.rglob("*.md")):
        blocks = re.findall(r"^```mermaid[^\n]*\n(.*?)^```\s*$", page.read_text(), re.M | re.S)
        stem = page.relative_to(docs).with_suffix("").as_posix().replace("/", "-")
        found += [(f"{stem}-{i}", block) for i, block in enumerate(blocks, 1)]
    return found


def mermaid_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def install_mermaid(home: Path = MERMAID_HOME) -> Path:
    """``npm ci --ignore-scripts`` of tools/mermaid's lock into build/mermaid, once per lock."""
    lock = (MERMAID_SOURCE / "package-lock.json").read_bytes()
    wanted = hashlib.sha256(lock + (MERMAID_SOURCE / "package.json").read_bytes()).hexdigest()
    stamp = home / ".webplatform-installed"
    if not (stamp.exists() and stamp.read_text() == wanted):
        print("docs: installing the mermaid parser (npm ci) into build/mermaid ...", flush=True)
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(MERMAID_SOURCE / name, home / name)
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=home, check=True,
        )  # fmt: skip
        stamp.write_text(wanted)
    shutil.copy2(MERMAID_SOURCE / "check.mjs", home / "check.mjs")
    return home


def check_mermaid(blocks: list[tuple[str, str]], home: Path = MERMAID_HOME) -> list[str]:
    """Parse each diagram under node; one problem per diagram that does not parse."""
    if not blocks:
        return []
    install_mermaid(home)
    folder = home / "diagrams"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    files = []
    for name, source in blocks:
        (folder / f"{name}.mmd").write_text(source)
        files.append(f"diagrams/{name}.mmd")
    done = subprocess.run(
        ["node", "check.mjs", *files], cwd=home, capture_output=True, text=True
    )  # fmt: skip
    problems = [line for line in done.stderr.splitlines() if line.startswith("mermaid: FAIL")]
    if done.returncode and not problems:
        problems.append(f"mermaid: the check itself failed: {done.stderr.strip()[-500:]}")
    return problems


# --- command line ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 dev.py docs", description=__doc__.split("\n")[0])
    parser.add_argument("--zensical", required=True, help="the site generator (dev.py passes it)")
    parser.add_argument("--serve", action="store_true", help=f"then serve on {SERVE_ADDRESS}")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        generated = assemble()
        print(f"docs: {len(generated)} pages generated into {BUILD.relative_to(ROOT)}", flush=True)
        problems = check_site()
        blocks = diagrams()
        if mermaid_available():
            problems += check_mermaid(blocks)
            print(f"docs: {len(blocks)} Mermaid diagrams checked", flush=True)
        elif os.environ.get("WEBPLATFORM_REQUIRE_MERMAID") == "1":
            problems.append("mermaid: node and npm are required (WEBPLATFORM_REQUIRE_MERMAID=1)")
        else:
            print("docs: WARNING: no node/npm, Mermaid diagrams not checked", file=sys.stderr)
    except DocsError as exc:
        print(f"docs: {exc}", file=sys.stderr)
        return 1
    if problems:
        print("\n".join(f"docs: {p}" for p in problems), file=sys.stderr)
        return 1
    command = [args.zensical, "build", "--strict", "-f", str(CONFIG)]
    if args.serve:
        command = [args.zensical, "serve", "-f", str(CONFIG), "-a", SERVE_ADDRESS]
    env = {**os.environ, "NO_COLOR": "1"}
    code = subprocess.run(command, cwd=ROOT, env=env).returncode
    if code == 0 and not args.serve:
        took = time.monotonic() - started
        print(f"docs: site in {SITE.relative_to(ROOT)} ({took:.1f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())

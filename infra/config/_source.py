"""Reading a stack file (``Pulumi.<stack>.yaml``) the way the Pulumi CLI reads it, strictly.

The Pulumi CLI parses stack files with Go's ``gopkg.in/yaml.v3``: a duplicated key is
an error, ``yes``/``no``/``on``/``off`` are strings (YAML 1.2), and a timestamp-looking
value such as ``2024-01-31`` reaches the program as a string. PyYAML (YAML 1.1) reads
the same file differently (``off`` is False, ``2024-01-31`` a date, a duplicated key
is last-wins), so a synth could validate a different config than ``pulumi up`` runs.
This reader resolves plain scalars as yaml.v3 does and refuses, with the key path,
what is ambiguous between the two or what the CLI refuses: duplicate keys, implicit
timestamps, explicit tags other than the JSON types, non-string keys.

It also finds the ``secure:`` leaves. ``pulumi config set --secret --path
'webplatform:apps.web.env.API_KEY' v`` stores ``{secure: <ciphertext>}`` at that path;
the engine then hands the program the whole top-level key (``webplatform:apps``) as
one secret, so only the file says which leaf was secret.

Under ``pulumi up`` the engine's config (``PULUMI_CONFIG``, decrypted) stays the source
of values: :func:`combine` lays the engine's values for the secret leaves onto the
file's typed tree, after checking that the file is the one the engine read.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import reduce
from pathlib import Path
from typing import Any

import yaml

#: Which config file the program reads when ``pulumi up --config-file FILE`` was used (the
#: CLI does not tell the program): set it to the same FILE.
CONFIG_FILE_ENV = "WEBPLATFORM_CONFIG_FILE"
#: A key path below a top-level config key: map keys and list indexes.
Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class StackSource:
    """A stack's config, as the program validates it.

    ``flat`` is what the engine hands a program: ``{"ns:key": value}``, structured values
    as JSON text. ``tree`` holds the same values typed as the file wrote them (None when
    no file was read: then only the engine's config is known). ``secret_paths`` are the
    secret leaves, ``(full_key, *path)``; with no file, a secret key is secret as a whole
    (``(full_key,)``).
    """

    file: str
    flat: dict[str, Any]
    secret_keys: frozenset[str]
    tree: dict[str, Any] | None = None
    secret_paths: frozenset[Path_] = frozenset()
    notes: tuple[str, ...] = field(default=())

    @classmethod
    def engine(cls, file: str, flat: Mapping[str, Any], secret_keys: Iterable[str]) -> StackSource:
        """The engine's config alone (no file read): each secret key secret as a whole."""
        keys = frozenset(secret_keys)
        return cls(file, dict(flat), keys, secret_paths=frozenset((k,) for k in keys))

    @classmethod
    def read(
        cls, file: str, flat: dict[str, Any], tree: dict[str, Any], secure: list[tuple[str, Path_]]
    ) -> StackSource:
        """A stack file's config, typed, and its ``secure:`` leaves."""
        paths = frozenset((key, *sub) for key, sub in secure)
        return cls(file, flat, frozenset(str(p[0]) for p in paths), tree, paths)

    def values(self) -> dict[str, Any]:
        """Every key's value, typed: from the file when read, else decoded from the engine's."""
        if self.tree is not None:
            return self.tree
        return {key: decode(value) for key, value in self.flat.items()}

    def is_secret(self, full_key: str, path: Path_ = ()) -> bool:
        """True when the value at ``full_key`` + ``path``, or an ancestor of it, is secret."""
        whole = (full_key, *path)
        return any(whole[: len(p)] == p for p in self.secret_paths)


class SourceError(Exception):
    """A stack file the CLI would refuse, or that it reads differently than PyYAML: problems
    as ``(key path, message)``, like :class:`infra.config.StackConfigError`."""

    def __init__(self, file: str, problems: list[tuple[str, str]]) -> None:
        super().__init__(file, problems)
        self.file = file
        self.problems = problems


class UnreadableError(Exception):
    """No stack file there, or not YAML at all, or no ``config:`` map."""


def decode(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text; plain strings stay strings."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def display(full_key: str, path: Path_ = ()) -> str:
    """``webplatform:apps.web.env.API_KEY``, ``webplatform:cluster.access.adminRoleArns[0]``:
    the form ``pulumi config set --path`` takes."""
    out = full_key
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


# --- YAML as yaml.v3 resolves it -------------------------------------------------------------

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
# Go's strconv.ParseInt(s, 0, 64) after yaml.v3 drops '_': decimal, 0x, 0o, 0b, and a leading 0 = octal.
_INT = re.compile(r"^[-+]?(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|[0-9][0-9_]*)$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")
# yaml.v3 treats these as timestamps (then hands interface{} targets the string); PyYAML a date.
_TIMESTAMP = re.compile(
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
    r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$"
)
_STR, _INT_TAG, _FLOAT_TAG = (
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
)
_BOOL_TAG, _NULL_TAG = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_IMPLICIT = (_INT_TAG, _FLOAT_TAG, _BOOL_TAG, _NULL_TAG, _TIMESTAMP_TAG)


#: PyYAML's safe loader on libyaml when it has it: the other stack files are read on every parse.
_LENIENT = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Composes nodes only; implicit types are resolved as yaml.v3 does (YAML 1.2 core).
    libyaml's parser when PyYAML has it (about 10x faster); the resolver is ours either way."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    (_BOOL_TAG, _BOOL, "tTfF"),
    (_NULL_TAG, _NULL, "~nN"),
    (_INT_TAG, _INT, "-+0123456789"),
    (_FLOAT_TAG, _FLOAT, "-+.0123456789"),
    (_FLOAT_TAG, _SPECIAL_FLOAT, "-+."),
    (_TIMESTAMP_TAG, _TIMESTAMP, "0123456789"),
    (_MERGE_TAG, re.compile(r"^<<$"), "<"),
):
    _Loader.add_implicit_resolver(_tag, _pattern, list(_first))
_Loader.add_implicit_resolver(_NULL_TAG, _NULL, [""])


class _Reader:
    """Walks the composed node tree, building plain values and collecting every problem."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.secure: list[tuple[str, Path_]] = []

    def problem(self, where: tuple[str, Path_], node: yaml.Node, message: str) -> None:
        line = node.start_mark.line + 1
        self.problems.append(
            (display(*where) if where[0] else "(top level)", f"{message} (line {line})")
        )

    def value(self, node: yaml.Node, where: tuple[str, Path_]) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, where)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self.problem(where, node, f"tag {node.tag} is not allowed; a list has no tag")
            return [
                self.value(item, (where[0], (*where[1], i))) for i, item in enumerate(node.value)
            ]
        return self.scalar(node, where)

    def scalar(self, node: yaml.Node, where: tuple[str, Path_]) -> Any:
        text, tag = node.value, node.tag
        if tag == _STR:
            return text
        if tag == _NULL_TAG:
            return None
        if tag == _BOOL_TAG:
            return text.lower() == "true"
        if tag == _INT_TAG and (_INT.match(text) or text.strip().lstrip("+-").isdigit()):
            return _go_int(text)
        if tag == _FLOAT_TAG and (_FLOAT.match(text) or _SPECIAL_FLOAT.match(text)):
            number = _go_float(text)
            if math.isinf(number) or math.isnan(number):
                self.problem(where, node, "not a finite number (JSON has no inf/nan)")
            return number
        if tag == _TIMESTAMP_TAG:
            self.problem(
                where,
                node,
                "an unquoted date or time: YAML 1.1 tools read it as a timestamp, the Pulumi CLI "
                "as a string; quote it (e.g. '2024-01-31') to mean the string",
            )
            return text
        self.problem(
            where,
            node,
            f"tag {tag} is not allowed: values are strings, numbers, booleans, null, maps and "
            "lists (quote the value to mean a string)",
        )
        return text

    def mapping(self, node: yaml.MappingNode, where: tuple[str, Path_]) -> Any:
        if node.tag != _MAP:
            self.problem(where, node, f"tag {node.tag} is not allowed; a map has no tag")
        seen: dict[str, int] = {}
        out: dict[str, Any] = {}
        pairs = list(node.value)
        # A map whose only key is `secure` is an encrypted value (`pulumi config set --secret`).
        if (
            len(pairs) == 1
            and isinstance(pairs[0][0], yaml.ScalarNode)
            and pairs[0][0].value == "secure"
            and isinstance(pairs[0][1], yaml.ScalarNode)
            and pairs[0][1].tag == _STR
            and where[0]
        ):
            self.secure.append(where)
            return {"secure": pairs[0][1].value}
        for key_node, value_node in pairs:
            if key_node.tag == _MERGE_TAG:
                self.problem(
                    where, key_node, "merge keys ('<<') are not allowed: write the keys out"
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a map or list"
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag in _IMPLICIT:
                    self.problem(
                        (where[0], (*where[1], shown)) if where[0] else (shown, ()),
                        key_node,
                        "a key must be a string; quote it",
                    )
                else:
                    self.problem(where, key_node, "a key must be a string")
                continue
            key = key_node.value
            here = (where[0], (*where[1], key)) if where[0] else (key, ())
            if key in seen:
                self.problem(
                    here,
                    key_node,
                    f"duplicate key (first on line {seen[key]}); the Pulumi CLI refuses the file, "
                    "and YAML tools silently keep the last one: keep one",
                )
                continue
            seen[key] = key_node.start_mark.line + 1
            out[key] = self.value(value_node, here)
        return out


def _go_int(text: str) -> int:
    """Go's ``strconv.ParseInt(s, 0, 64)``: Python's base-0 parse, but a leading 0 is octal."""
    plain = text.replace("_", "")
    digits = plain.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        plain = plain.replace("0", "0o", 1)
    return int(plain, 0)


def _go_float(text: str) -> float:
    return float(text.replace("_", "").lower().replace(".inf", "inf").replace(".nan", "nan"))


def _namespaced(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def read(
    path: Path, project: str, *, shown: str | None = None
) -> tuple[dict[str, Any], list[tuple[str, Path_]]]:
    """The typed ``config:`` map of a stack file (keys namespaced) and its ``secure:`` leaves.

    Raises :class:`UnreadableError` (no file, not YAML, no config map) or
    :class:`SourceError` (every key the CLI would refuse, or that is ambiguous).
    """
    name = shown or path.name
    if not path.is_file():
        raise UnreadableError(f"{name}: no such stack file ({path})")
    try:
        root = yaml.compose(path.read_text(), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise UnreadableError(f"{name}: not valid YAML: {exc}") from None
    if root is None:
        return {}, []
    if not isinstance(root, yaml.MappingNode):
        raise UnreadableError(f"{name}: a stack file is a map with a 'config:' key")
    reader = _Reader()
    config_node = None
    for key_node, value_node in root.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "config":
            if config_node is not None:
                reader.problem(("config", ()), key_node, "duplicate key 'config'; keep one")
            config_node = value_node
    config: dict[str, Any] = {}
    if config_node is not None and not (
        isinstance(config_node, yaml.ScalarNode) and config_node.tag == _NULL_TAG
    ):
        if not isinstance(config_node, yaml.MappingNode):
            raise UnreadableError(f"{name}: 'config' must be a map of keys to values")
        # Keys get their namespace first, so a duplicate across `apps:` and `webplatform:apps:`
        # is caught like the CLI catches it.
        for key_node, _ in config_node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR:
                key_node.value = _namespaced(key_node.value, project)
        config = reader.mapping(config_node, ("", ()))
    if reader.problems:
        raise SourceError(name, reader.problems)
    return config, reader.secure


def _engine_text(value: Any) -> str:
    """A top-level value as the engine hands it over: scalars as text, the rest as JSON."""
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, separators=(",", ":"))


def _get(tree: Any, path: Path_) -> Any:
    return reduce(operator.getitem, path, tree)


def _set(tree: Any, path: Path_, value: Any) -> None:
    _get(tree, path[:-1])[path[-1]] = value


def from_file(
    path: Path, project: str, placeholder: str, *, shown: str | None = None
) -> StackSource:
    """What synth runs: the file's config, secure leaves replaced by ``placeholder``."""
    tree, secure = read(path, project, shown=shown)
    for key, sub in secure:
        _set(tree, (key, *sub), placeholder)
    flat = {key: _engine_text(value) for key, value in tree.items()}
    return StackSource.read(shown or path.name, flat, tree, secure)


def _same(file_value: Any, engine_value: Any) -> bool:
    """The file's plain value equals the engine's (the engine's JSON loses 3.0 vs 3)."""
    if isinstance(file_value, bool) or isinstance(engine_value, bool):
        return file_value == engine_value and type(file_value) is type(engine_value)
    if isinstance(file_value, dict) and isinstance(engine_value, dict):
        return file_value.keys() == engine_value.keys() and all(
            _same(file_value[k], engine_value[k]) for k in file_value
        )
    if isinstance(file_value, list) and isinstance(engine_value, list):
        return len(file_value) == len(engine_value) and all(
            _same(a, b) for a, b in zip(file_value, engine_value, strict=True)
        )
    return bool(file_value == engine_value)


def combine(
    path: Path,
    project: str,
    engine: Mapping[str, Any],
    engine_secret_keys: frozenset[str],
    *,
    shown: str | None = None,
) -> StackSource:
    """What ``pulumi up`` validates: the stack file next to ``Pulumi.yaml``, typed, with the
    engine's (decrypted) values at its ``secure:`` leaves.

    When there is no such file, or it is not the one the engine read (``pulumi up
    --config-file OTHER``, config from a Pulumi ESC environment, a file edited since),
    the engine's config alone is validated: values as the engine decoded them, and
    each secret key secret as a whole. A note says so.
    """
    engine = dict(engine)
    name = shown or path.name
    fallback = StackSource.engine(
        f"{name} (not read: the engine's config of this stack)", engine, engine_secret_keys
    )
    if not path.is_file():
        return _note(fallback, f"{path} does not exist; validating the engine's config")
    tree, secure = read(path, project, shown=name)  # errors propagate: the CLI refuses these too
    # Secrets the engine has and the file does not (synth's placeholders for secrets not set
    # yet, a secret from an ESC environment) are taken as they are: secret as a whole.
    for key in sorted(set(engine) - set(tree) & engine_secret_keys):
        tree[key] = engine[key]
        secure.append((key, ()))
    if set(tree) != set(engine):
        return _note(
            fallback,
            f"{path.name} is not the config the engine read (other keys: --config-file, "
            "an ESC environment, or the file changed); validating the engine's config. "
            f"With --config-file, set WEBPLATFORM_CONFIG_FILE to the same file",
        )
    for key, sub in secure:
        try:
            _set(tree, (key, *sub), _get(decode(engine[key]) if sub else engine[key], sub))
        except (KeyError, IndexError, TypeError):
            return _note(fallback, f"{display(key, sub)}: the engine's config has no value there")
    for key, value in tree.items():
        if not _same(value, _engine_typed(value, engine[key])):
            return _note(
                fallback,
                f"{path.name} differs from the config the engine read at {key} (--config-file, "
                "or the file changed); validating the engine's config",
            )
    source = StackSource.read(name, engine, tree, secure)
    return replace(source, secret_keys=source.secret_keys | engine_secret_keys)


def _engine_typed(file_value: Any, engine_value: Any) -> Any:
    """The engine's value in the shape the file's has: structured values come as JSON text,
    top-level scalars as text (``3``, ``true``, ``""`` for null)."""
    if isinstance(file_value, str) or not isinstance(engine_value, str):
        return engine_value
    if file_value is None:
        return None if engine_value in ("", "null") else engine_value
    try:
        return json.loads(engine_value)
    except json.JSONDecodeError:
        return engine_value


def _note(source: StackSource, note: str) -> StackSource:
    return replace(source, notes=(*source.notes, note))


def lenient_config(text: str) -> dict[str, Any] | None:
    """The ``config:`` map of a stack file's text, read leniently; None if it has none."""
    document = yaml.load(text, Loader=_LENIENT) or {}
    config = document.get("config") if isinstance(document, dict) else None
    return {str(k): v for k, v in config.items()} if isinstance(config, dict) else None

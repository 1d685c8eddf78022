"""Loading a stack's configuration: every key under ``webplatform:``, validated before
any resource exists, or one :class:`StackConfigError` with every problem found.

The same under ``pulumi up`` (:func:`load`) as under synth:

1. the stack file is read strictly (:mod:`infra.config._source`): duplicate keys,
   implicit dates and other non-JSON types are refused, ``secure:`` leaves found;
2. a review stack's names are derived (:mod:`infra.config.review`);
3. provider keys are checked (plain-text credentials refused, ``aws:region`` real);
4. ``StackConfig`` is validated in JSON mode, strict, by alias only, so ``"3"``,
   ``3.0``, ``true`` are not integers and ``service_port`` is an unknown key;
5. the rules about secrets and derived object names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
from pydantic import ValidationError

from infra.config import names, report, review
from infra.config import secret_values as secrets
from infra.config._base import NAMESPACE, StackConfigError, aws_regions
from infra.config._source import (
    CONFIG_FILE_ENV,
    SourceError,
    StackSource,
    UnreadableError,
    combine,
)
from infra.config.secrets import replica_problems
from infra.config.stack import KEYS, StackConfig, stack_file


def parse(
    stack: str,
    raw: Mapping[str, Any],
    secret_keys: set[str] | frozenset[str],
    *,
    source: StackSource | None = None,
) -> StackConfig:
    """Validate a stack's config. Raises :class:`StackConfigError` with every problem found.

    ``raw`` is the flat map the engine hands a program (``{"webplatform:apps": "<json>"}``)
    and ``secret_keys`` its secret keys; ``source``, when given, is the stack file as read
    (typed values, secret leaves): what is validated then. Keys of other namespaces belong
    to providers: only credentials and ``aws:region`` are checked.
    """
    if source is None:
        source = StackSource.engine(stack_file(stack), raw, secret_keys)
    values = review.apply(stack, source.values())
    ours = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith(f"{NAMESPACE}:")}
    structured = {k: v for k, v in ours.items() if k in KEYS}
    extra_keys = set(ours) - set(structured)
    problems = list(secrets.provider_credentials(values, source))
    region = values.get("aws:region")
    if region is not None and region not in aws_regions():
        problems.append(
            (
                "aws:region",
                "not an AWS region; e.g. us-west-2, eu-central-1 (the regions pulumi-aws knows)",
            )
        )
    problems += review.shared_ci_role(stack, values)
    try:
        text = json.dumps(structured, allow_nan=False)
        config = StackConfig.model_validate_json(text, strict=True, by_alias=True, by_name=False)
    except ValidationError as exc:
        problems = report.problems(exc, source) + problems
        problems += secrets.unknown_top_level(extra_keys, secrets.referenced_secret_keys(values))
        raise StackConfigError(source.file, report.scrub(problems, source)) from None

    problems += secrets.secret_refs(config, ours, source)
    problems += secrets.unknown_top_level(extra_keys, secrets.referenced_secret_keys(values))
    problems += secrets.secret_leaves(config, source)
    problems += secrets.plain_credentials_in_env(config, source)
    problems += names.collisions(config)
    problems += replica_problems(config, region)
    if config.cluster.mode == "eks" and not region:
        problems.append(
            ("aws:region", "must be set when webplatform:cluster.mode is 'eks' (e.g. us-west-2)")
        )
    if problems:
        raise StackConfigError(source.file, report.scrub(problems, source))
    return config


def read_source(
    stack: str, config_file: Path | None = None, shown: str | None = None
) -> StackSource:
    """The running program's config: the stack file the engine read, typed, with the engine's
    values (:func:`infra.config._source.combine`); the engine's config alone when that file
    is not there or not the one the engine read.

    Which file: ``config_file``, else ``$WEBPLATFORM_CONFIG_FILE`` (set it to the same FILE
    as ``pulumi up --config-file FILE``: the CLI does not tell the program), else
    ``Pulumi.<stack>.yaml`` next to ``Pulumi.yaml`` (``pulumi.get_root_directory()``).
    """
    from pulumi.runtime import config as runtime_config

    # The engine passes config in PULUMI_CONFIG (real runs) or set_all_config (mocks); the SDK
    # offers no public way to list keys, which we need to reject unknown ones.
    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret_keys = frozenset(k for k in raw if runtime_config.is_config_secret(k))
    chosen = config_file or os.environ.get(CONFIG_FILE_ENV)
    if chosen:
        path = Path(chosen)
        shown = shown or str(chosen)
    else:
        root = pulumi.get_root_directory()
        if not root:
            shown = f"{stack_file(stack)} (not read: no project directory; the engine's config)"
            return StackSource.engine(shown, raw, secret_keys)
        path = Path(root) / stack_file(stack)
    try:
        return combine(path, pulumi.get_project(), raw, secret_keys, shown=shown)
    except SourceError as exc:
        raise StackConfigError(exc.file, exc.problems) from None
    except UnreadableError as exc:
        raise StackConfigError(shown or path.name, [("(file)", str(exc))]) from None


def load(
    config_file: Path | None = None, shown: str | None = None
) -> tuple[StackConfig, StackSource]:
    """Parse the running stack's configuration (see :func:`read_source`), before any
    resource; also return the source, which says which values are secret. ``shown``: how
    errors name the file (default: as given, or its name)."""
    stack = pulumi.get_stack()
    source = read_source(stack, config_file, shown)
    for note in source.notes:
        pulumi.log.warn(f"webplatform config: {note}")
    return parse(stack, source.flat, source.secret_keys, source=source), source

"""Entry point of the `webplatform-guardrails` policy pack.

    pulumi preview --policy-pack policy      # from the project root

Only the wiring lives here: ``PolicyPack(...)`` starts the analyzer's gRPC
server and blocks, so nothing may import this file. The checks are plain
functions in ``checks.py``, which the project's test suite runs on every
stack's synth without the policy SDK.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# The analyzer runs this file by path; make its sibling module importable whatever the cwd.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checks


def _context(config: Mapping[str, Any] | None) -> checks.Context:
    """The stack's environment: ``webplatform:environment`` if the program sets it, else the stack name.

    Another team's program has no ``webplatform:environment``; its stack name
    (``dev``, ``staging``, ``prod``) stands in. An unknown environment is
    judged strictly: only the environments listed in ``mutableTagEnvironments``
    (default ``["dev"]``) may run mutable image tags.
    """
    environment = pulumi.Config("webplatform").get("environment") or pulumi.get_stack() or ""
    allowed = (config or {}).get("mutableTagEnvironments")
    return checks.Context(
        environment=environment,
        mutable_tag_environments=tuple(allowed)
        if allowed is not None
        else checks.DEFAULT_MUTABLE_TAG_ENVIRONMENTS,
    )


def _resource_policy(policy: checks.Policy) -> ResourceValidationPolicy:
    check = policy.resource_check
    assert check is not None

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        resource = checks.Resource(type=args.resource_type, inputs=args.props, urn=args.urn)
        for message in check(resource, _context(args.get_config())):
            report_violation(message, None)

    return ResourceValidationPolicy(
        name=policy.name,
        description=policy.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(properties=dict(policy.config_schema))
        if policy.config_schema
        else None,
    )


def _stack_policy(policy: checks.Policy) -> StackValidationPolicy:
    check = policy.stack_check
    assert check is not None

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            checks.Resource(type=r.resource_type, inputs=r.props, urn=r.urn) for r in args.resources
        ]
        for urn, message in check(resources, _context(args.get_config())):
            report_violation(message, urn)

    return StackValidationPolicy(
        name=policy.name,
        description=policy.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


PolicyPack(
    name="webplatform-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        _stack_policy(p) if p.stack_check is not None else _resource_policy(p)
        for p in checks.POLICIES
    ],
)

#!/usr/bin/env bash
# Preview a stack with the policy pack, save the update plan, and apply exactly that plan.
#
#   .github/scripts/pulumi-deploy.sh STACK MESSAGE >> "$GITHUB_STEP_SUMMARY"
#
# `pulumi up --plan` refuses any operation the preview did not show (the plan is the preview,
# made binding). One exception, the stack's first update: a plan records values computed
# during the update (new subnet ids, a new cluster's endpoint) as unknown, and the engine
# then reports them as violations (pulumi/pulumi#13765), so an empty stack is created from
# the same preview without --plan, and the summary says so. Needs the Pulumi CLI, the
# policy pack's venv, credentials and the kubeconfig in place; PULUMI_BACKEND_URL and
# PULUMI_ORG as in docs/guides/pipeline.md.
set -euo pipefail

stack="${1:?usage: pulumi-deploy.sh STACK MESSAGE}"
message="${2:?usage: pulumi-deploy.sh STACK MESSAGE}"
name="${PULUMI_ORG:+$PULUMI_ORG/}$stack"
plan="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/update-plan-$stack.json"
preview="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/preview-$stack.txt"

if [[ -n "${PULUMI_BACKEND_URL:-}" ]]; then
  pulumi login "$PULUMI_BACKEND_URL" >&2
else
  pulumi login >&2
fi
# Never --create: the pipeline does not start stacks, so a typo cannot deploy an empty one.
pulumi stack select "$name" >&2
existing="$(pulumi stack export --stack "$name" | .venv/bin/python -c \
  'import json, sys; print(len(json.load(sys.stdin).get("deployment", {}).get("resources") or []))')"

pulumi preview --stack "$name" --policy-pack policy --diff --non-interactive \
  --save-plan "$plan" --message "$message" | tee "$preview" >&2

echo "## \`pulumi preview\` of \`$stack\`, applied below"
echo
echo '```diff'
tail -n 400 "$preview"
echo '```'
echo
if ((existing == 0)); then
  echo "First update of \`$stack\` (no resources yet): applied without \`--plan\` (see pulumi/pulumi#13765)."
  pulumi up --stack "$name" --policy-pack policy --yes --skip-preview --non-interactive \
    --message "$message" >&2
else
  echo "Applied with \`pulumi up --plan\`: any operation this preview did not show fails the update."
  pulumi up --stack "$name" --policy-pack policy --yes --skip-preview --non-interactive \
    --plan "$plan" --message "$message" >&2
fi

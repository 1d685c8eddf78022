#!/usr/bin/env bash
# Does the live state of a stack still match the code? Open or update one issue if not.
#
#   .github/scripts/drift.sh STACK RUN_URL      (GH_TOKEN: issues: write; Pulumi and cloud access)
#
# Runs `pulumi preview --refresh --expect-no-changes`: refresh reads every resource from the
# cloud, the preview compares it with the program, and any proposed change (someone edited a
# resource by hand, a controller rewrote a field, a resource vanished) makes it fail. Then the
# one open issue titled "Drift: <stack>" (label `drift`) gets the run and the preview's tail,
# created if there is none; the script exits 1 so the run shows red. When the stack is clean
# again, that issue is closed with a comment.
set -euo pipefail

stack="${1:?usage: drift.sh STACK RUN_URL}"
run_url="${2:?usage: drift.sh STACK RUN_URL}"
name="${PULUMI_ORG:+$PULUMI_ORG/}$stack"
repo="${GITHUB_REPOSITORY:?}"
title="Drift: $stack"
out="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/drift-$stack.txt"

if [[ -n "${PULUMI_BACKEND_URL:-}" ]]; then
  pulumi login "$PULUMI_BACKEND_URL" >&2
else
  pulumi login >&2
fi

status=0
pulumi preview --stack "$name" --refresh --expect-no-changes --diff --non-interactive \
  >"$out" 2>&1 || status=$?

issue="$(gh issue list --repo "$repo" --state open --label drift --search "\"$title\" in:title" \
  --json number,title --jq ".[] | select(.title == \"$title\") | .number" | head -n 1)"

if ((status == 0)); then
  echo "\`$stack\`: no drift."
  if [[ -n "$issue" ]]; then
    gh issue close "$issue" --repo "$repo" --comment "No drift any more as of $run_url." >&2
  fi
  exit 0
fi

fence='```'
body="$(printf '%s\n\n%s\n\n%s\n%s\n%s\n' \
  "\`pulumi preview --refresh --expect-no-changes\` of \`$stack\` failed in $run_url: the live state differs from the code (or the preview could not run; the output says which)." \
  "Fix: bring the resource back with \`pulumi up -s $stack\` (the code wins), or change the code and stack file to what is live (the cloud wins)." \
  "$fence" "$(tail -n 150 "$out")" "$fence")"
if [[ -n "$issue" ]]; then
  gh issue comment "$issue" --repo "$repo" --body "$body" >&2
  echo "\`$stack\`: drift; updated issue #$issue."
else
  gh label create drift --repo "$repo" --color D93F0B \
    --description "Live state differs from the code (drift workflow)" >/dev/null 2>&1 || true
  gh issue create --repo "$repo" --title "$title" --label drift --body "$body" >&2
  echo "\`$stack\`: drift; opened an issue."
fi
exit 1

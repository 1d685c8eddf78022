#!/usr/bin/env bash
# Offline synth of every stack at a base commit and at HEAD, what changed, and each stack's
# monthly cost at both (`dev.py cost`, HEAD's price table on both synths), as Markdown.
#
#   .github/scripts/synth-diff.sh BASE_REF >> "$GITHUB_STEP_SUMMARY"
#
# Needs no credentials: each stack runs under mocks (`python3 dev.py synth`). The
# base is checked out into a separate directory with `git worktree` and rendered
# by its own dev.py and .venv, so each side is what that commit's code produces.
# Exit status: 0, or 1 if HEAD's synth of some stack fails (invalid stack file).
set -euo pipefail

base_ref="${1:?usage: synth-diff.sh BASE_REF}"
max_lines="${SYNTH_DIFF_MAX_LINES:-300}"
root="$(git rev-parse --show-toplevel)"
work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/synth-diff.XXXXXX")"
# shellcheck disable=SC2329  # invoked by the EXIT trap
cleanup() {
  git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

git -C "$root" worktree add --quiet --detach "$work/base" "$base_ref" >&2
base_sha="$(git -C "$root" rev-parse --short "$base_ref")"
head_sha="$(git -C "$root" rev-parse --short HEAD)"

fence() { # print a file as a fenced block of the given language, at most max_lines lines
  local lang="$1" file="$2" total
  total="$(wc -l <"$file")"
  echo '```'"$lang"
  head -n "$max_lines" "$file"
  echo '```'
  if ((total > max_lines)); then
    echo "_…${total} lines, first ${max_lines} shown; run the command below for all of them._"
  fi
}

echo "## Offline synth: \`${base_sha}\` → \`${head_sha}\`"
echo
echo "Rendered under mocks with no cloud credentials, at the base and at this commit."
echo "Reproduce: \`python3 dev.py synth --stack STACK --out new --diff old\`."
echo "\`pulumi preview\` remains the source of truth where credentials exist."
echo

status=0
cost_rows=()
for file in "$root"/Pulumi.*.yaml; do
  stack="$(basename "$file" .yaml)"
  stack="${stack#Pulumi.}"
  base_out="$work/out/base/$stack"
  head_out="$work/out/head/$stack"
  log="$work/$stack.log"
  echo "### \`${stack}\`"
  echo
  diff_args=()
  if [[ ! -f "$work/base/Pulumi.$stack.yaml" ]]; then
    echo "New stack: no \`Pulumi.$stack.yaml\` at the base."
    echo
  elif (cd "$work/base" && python3 dev.py synth --stack "$stack" --out "$base_out") >"$log" 2>&1; then
    diff_args=(--diff "$base_out")
  else
    echo "The base does not synthesize \`$stack\`; showing this commit alone."
    echo
  fi
  if (cd "$root" && python3 dev.py synth --stack "$stack" --out "$head_out" "${diff_args[@]}") >"$log" 2>&1; then
    if ((${#diff_args[@]})); then
      summary="$(grep -m1 '^diff against ' "$log")"
      sed -n '/^diff against /,$p' "$log" | tail -n +2 >"$work/$stack.diff"
      echo "**${summary##*: }**"
      echo
      if [[ -s "$work/$stack.diff" ]]; then
        fence diff "$work/$stack.diff"
      fi
    else
      grep -E '^ *[0-9]+  ' "$log" | grep -v ' resources; ' >"$work/$stack.counts" || true
      fence text "$work/$stack.counts"
    fi
    cost_args=(--stack "$stack" --resources "$head_out/resources.json" --format row)
    if ((${#diff_args[@]})); then
      cost_args+=(--base-resources "$base_out/resources.json")
    fi
    if (cd "$root" && python3 dev.py cost "${cost_args[@]}") >"$work/$stack.cost" 2>&1; then
      cost_rows+=("$(tail -n 1 "$work/$stack.cost")")
    else
      status=1
      cost_rows+=("| \`$stack\` | | :x: $(tail -n 1 "$work/$stack.cost") | |")
    fi
  else
    status=1
    echo ":x: synth of \`$stack\` fails at this commit:"
    echo
    grep -v '^WARNING: ' "$log" >"$work/$stack.err" || true
    fence text "$work/$stack.err"
  fi
  echo
done

echo "### Monthly cost"
echo
echo "Before usage (traffic, requests, log volume are listed by \`python3 dev.py cost --stack STACK\`);"
echo "the price table is \`infra/prices.toml\`; a range runs to the autoscalers' ceilings."
echo
echo "| stack | base: monthly (ceiling) | head: monthly (ceiling) | difference |"
echo "|---|--:|--:|--:|"
printf '%s\n' "${cost_rows[@]}"
exit "$status"

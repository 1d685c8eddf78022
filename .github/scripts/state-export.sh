#!/usr/bin/env bash
# A dated, encrypted copy of one stack's Pulumi state, for when the backend itself is lost.
#
#   .github/scripts/state-export.sh STACK OUT_DIR
#   (STATE_EXPORT_PUBLIC_KEY: an ASCII-armored OpenPGP public key; Pulumi backend access)
#
# `pulumi stack export` writes the checkpoint: every resource, its ID, inputs and outputs,
# with secret values still ciphertext under the stack's secrets provider. The file is then
# encrypted to the platform team's public key (the runner holds no key that can read it
# back), checked to be a real export first (a deployment with resources, no pending
# operation), and written as OUT_DIR/<stack>-<UTC date-time>.state.json.gpg with a .sha256.
# Restore: docs/guides/recovery.md, runbook "State loss" (gpg --decrypt, then pulumi stack import).
set -euo pipefail

stack="${1:?usage: state-export.sh STACK OUT_DIR}"
out_dir="${2:?usage: state-export.sh STACK OUT_DIR}"
: "${STATE_EXPORT_PUBLIC_KEY:?the recipients public key (repository variable STATE_EXPORT_PUBLIC_KEY)}"
name="${PULUMI_ORG:+$PULUMI_ORG/}$stack"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [[ -n "${PULUMI_BACKEND_URL:-}" ]]; then
  pulumi login "$PULUMI_BACKEND_URL" >&2
else
  pulumi login >&2
fi

pulumi stack export --stack "$name" --file "$work/state.json" --non-interactive >&2

# A truncated or empty export is worse than none: refuse it.
python3 - "$work/state.json" <<'PY'
import json
import sys

with open(sys.argv[1]) as f:
    state = json.load(f)
deployment = state.get("deployment") or {}
resources = deployment.get("resources") or []
if state.get("version") is None or not resources:
    sys.exit("state-export: not a stack export with resources")
if deployment.get("pending_operations"):
    sys.exit("state-export: the stack has pending operations (an update was interrupted): "
             "see docs/guides/recovery.md, runbook Stuck update")
print(f"state-export: {len(resources)} resources", file=sys.stderr)
PY

export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
printf '%s\n' "$STATE_EXPORT_PUBLIC_KEY" >"$work/recipient.asc"
stamp="$(date -u +%Y-%m-%dT%H%MZ)"
mkdir -p "$out_dir"
file="$out_dir/$stack-$stamp.state.json.gpg"
gpg --batch --yes --trust-model always --recipient-file "$work/recipient.asc" \
  --output "$file" --encrypt "$work/state.json"
(cd "$out_dir" && sha256sum "$(basename "$file")" >"$(basename "$file").sha256")
echo "$file"

#!/usr/bin/env bash
# Make (or delete) the sandbox a review stack runs in: trusted objects from main's code.
#
#   .github/scripts/review-sandbox.sh apply|delete PR_NUMBER     (EKS_CLUSTER_DEV, AWS_REGION)
#
# `python -m infra.review sandbox N` renders a List: the review ClusterRole, namespace
# dev-pr-<N> (restricted Pod Security), the review group's RoleBinding in it, a quota, and
# the stack's Gateway in the gateway's namespace. Applied server-side with this script's
# field manager, so the review identity (which cannot write any of them) never owns them.
# Run only by review-sandbox.yml, from the default branch, never with pull-request code.
set -euo pipefail

action="${1:?usage: review-sandbox.sh apply|delete PR_NUMBER}"
number="${2:?usage: review-sandbox.sh apply|delete PR_NUMBER}"
if [[ ! "$number" =~ ^[1-9][0-9]{0,8}$ ]]; then
  echo "::error::not a pull-request number: $number" >&2
  exit 2
fi
if [[ -z "${EKS_CLUSTER_DEV:-}" ]]; then
  echo "::error::EKS_CLUSTER_DEV (repository variable) names the shared dev cluster; it is not set."
  exit 1
fi
python3 dev.py synth --stack "dev-pr-$number" --config-file Pulumi.dev.yaml >/dev/null
manifest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/sandbox-$number.json"
.venv/bin/python -m infra.review sandbox "$number" >"$manifest"
aws eks update-kubeconfig --region "${AWS_REGION:?}" --name "$EKS_CLUSTER_DEV" --alias review-admin >&2

case "$action" in
  apply)
    kubectl --context review-admin apply --server-side --field-manager=webplatform-review-sandbox \
      --force-conflicts -f "$manifest"
    ;;
  delete)
    # The namespace goes with everything in it; the Gateway lives elsewhere. The ClusterRole
    # is shared by every review namespace and stays.
    kubectl --context review-admin delete --ignore-not-found --wait=false \
      -f <(.venv/bin/python - "$manifest" <<'PY'
import json
import sys

items = json.load(open(sys.argv[1]))["items"]
print(json.dumps({"apiVersion": "v1", "kind": "List",
                  "items": [o for o in items if o["kind"] in ("Namespace", "Gateway")]}))
PY
)
    ;;
  *)
    echo "usage: review-sandbox.sh apply|delete PR_NUMBER" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# A pull request's review stack, dev-pr-<N>: create or update it, or destroy and remove it.
#
#   .github/scripts/review-stack.sh up PR_NUMBER        # prints the URL on its last line
#   .github/scripts/review-stack.sh destroy PR_NUMBER
#
# The stack file is Pulumi.dev.yaml copied unchanged: the program derives the namespace
# (dev-pr-<N>), the hosts (dev-pr-<N>.review.example.net) and the cluster context from the
# stack name, and refuses names another stack uses (infra/review.py). The namespace, its
# RoleBinding and the Gateway are the trusted sandbox (review-sandbox.yml); `up` waits until
# the review identity may write there, and the stack writes nowhere else. Secrets: each key of the JSON
# object REVIEW_CONFIG_SECRETS ({"webDatabaseUrl": "..."}) is set as a Pulumi secret of the
# stack, its value passed on stdin (never on the command line). Needs the Pulumi CLI, .venv,
# AWS credentials and EKS_CLUSTER_DEV; PULUMI_BACKEND_URL and PULUMI_ORG as in docs/guides/pipeline.md.
set -euo pipefail

action="${1:?usage: review-stack.sh up|destroy PR_NUMBER}"
number="${2:?usage: review-stack.sh up|destroy PR_NUMBER}"
stack="$(.venv/bin/python -m infra.review stack "$number")"
name="${PULUMI_ORG:+$PULUMI_ORG/}$stack"

cp Pulumi.dev.yaml "Pulumi.$stack.yaml"
context="$(.venv/bin/python - <<'PY'
import yaml

with open("Pulumi.dev.yaml") as f:
    config = yaml.safe_load(f)["config"]
print(config["webplatform:review"]["context"])
PY
)"
if [[ -z "${EKS_CLUSTER_DEV:-}" ]]; then
  echo "::error::EKS_CLUSTER_DEV (repository variable) names the shared dev cluster; it is not set."
  exit 1
fi
aws eks update-kubeconfig --region "${AWS_REGION:?}" --name "$EKS_CLUSTER_DEV" --alias "$context" >&2

if [[ -n "${PULUMI_BACKEND_URL:-}" ]]; then
  pulumi login "$PULUMI_BACKEND_URL" >&2
else
  pulumi login >&2
fi

case "$action" in
  up)
    # The sandbox job (main's code) runs alongside this one: wait for its RoleBinding.
    for _ in $(seq 60); do
      if [[ "$(kubectl --context "$context" auth can-i create deployments.apps -n "$stack")" == yes ]]; then
        break
      fi
      sleep 5
    done
    if [[ "$(kubectl --context "$context" auth can-i create deployments.apps -n "$stack")" != yes ]]; then
      echo "::error::namespace $stack is not ready for the review identity after 5 minutes; see the 'review sandbox' workflow run of this pull request." >&2
      exit 1
    fi
    pulumi stack select --create "$name" >&2
    .venv/bin/python - <<'PY' | while IFS= read -r key; do
import json
import os

for key in json.loads(os.environ.get("REVIEW_CONFIG_SECRETS") or "{}"):
    print(key)
PY
      .venv/bin/python -c 'import json, os, sys; sys.stdout.write(json.loads(os.environ["REVIEW_CONFIG_SECRETS"])[sys.argv[1]])' "$key" |
        pulumi config set --secret --stack "$name" "$key" >&2
    done
    pulumi up --stack "$name" --policy-pack policy --yes --non-interactive --diff \
      --message "review of pull request #$number" >&2
    .venv/bin/python -m infra.review url "$number"
    ;;
  destroy)
    if ! pulumi stack select "$name" >&2; then
      echo "No stack $name: nothing to destroy."
      exit 0
    fi
    pulumi destroy --stack "$name" --yes --non-interactive --message "pull request #$number closed" >&2
    pulumi stack rm "$name" --yes --non-interactive >&2
    echo "Destroyed and removed $name."
    ;;
  *)
    echo "usage: review-stack.sh up|destroy PR_NUMBER" >&2
    exit 2
    ;;
esac

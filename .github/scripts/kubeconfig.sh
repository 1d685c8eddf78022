#!/usr/bin/env bash
# Give the runner the kubeconfig context a stack file deploys to, for an EKS cluster.
#
#   .github/scripts/kubeconfig.sh STACK CLUSTER_NAME REGION
#
# The context name comes from `webplatform:kubernetes.context` in Pulumi.STACK.yaml
# (the stack file stays the one place that says where a stack deploys). A stack
# without a context (dev renders YAML) needs nothing. Run after `dev.py` built .venv
# and after AWS credentials are configured.
set -euo pipefail

stack="${1:?usage: kubeconfig.sh STACK CLUSTER_NAME REGION}"
cluster="${2-}"
region="${3:?usage: kubeconfig.sh STACK CLUSTER_NAME REGION}"

context="$(.venv/bin/python - "$stack" <<'PY'
import sys

import yaml

with open(f"Pulumi.{sys.argv[1]}.yaml") as f:
    config = yaml.safe_load(f).get("config") or {}
print((config.get("webplatform:kubernetes") or {}).get("context") or "")
PY
)"

if [[ -z "$context" ]]; then
  echo "Pulumi.$stack.yaml names no kubernetes.context: no kubeconfig needed."
  exit 0
fi
if [[ -z "$cluster" ]]; then
  echo "::error::Pulumi.$stack.yaml deploys to kubeconfig context '$context', but no EKS cluster name is set for it (repository variable EKS_CLUSTER_STAGING / EKS_CLUSTER_PROD, see docs/guides/pipeline.md)."
  exit 1
fi
aws eks update-kubeconfig --region "$region" --name "$cluster" --alias "$context"

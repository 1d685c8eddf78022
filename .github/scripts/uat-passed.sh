#!/usr/bin/env bash
# Succeed only if the `uat` environment has a successful deployment of this commit.
#
#   .github/scripts/uat-passed.sh OWNER/REPO COMMIT_SHA      (GH_TOKEN: deployments: read)
#
# The deploy workflow's `uat` job runs in the GitHub environment `uat`; GitHub records each
# such job as a deployment of the commit with a status (success, failure...). A release tag
# deploys prod only for a commit UAT has run: tag the release candidate first (v1.5.0-rc1),
# let UAT deploy it, accept it, then tag the same commit v1.5.0.
set -euo pipefail

repo="${1:?usage: uat-passed.sh OWNER/REPO COMMIT_SHA}"
sha="${2:?usage: uat-passed.sh OWNER/REPO COMMIT_SHA}"

ids="$(gh api "repos/$repo/deployments?sha=$sha&environment=uat&per_page=100" --jq '.[].id')"
for id in $ids; do
  if gh api "repos/$repo/deployments/$id/statuses?per_page=100" --jq '.[].state' | grep -qx success; then
    echo "UAT deployed $sha successfully (deployment $id): prod may take it."
    exit 0
  fi
done
echo "::error::No successful deployment of $sha to the uat environment. Tag it as a release candidate (e.g. ${GITHUB_REF_NAME:-vX.Y.Z}-rc1) first, let UAT deploy it, then tag the release."
exit 1

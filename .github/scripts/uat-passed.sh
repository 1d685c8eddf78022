#!/usr/bin/env bash
# Succeed only if the `uat` environment's own job deployed this commit successfully.
#
#   .github/scripts/uat-passed.sh OWNER/REPO COMMIT_SHA    (GH_TOKEN: deployments, actions: read)
#
# The deploy workflow's `uat` job runs in the GitHub environment `uat`; GitHub records it as
# a deployment of the commit with statuses. Anyone with write access can also create a
# deployment and a "success" status through the API, so a record counts only if:
#   - GitHub Actions created it (creator github-actions[bot]), and
#   - its success status links to a run of .github/workflows/deploy.yml, triggered by a push,
#     of this very commit, for a release-candidate tag v*-rc* that points at this commit.
# A release tag deploys prod only for such a commit: tag the release candidate first
# (v1.5.0-rc1), let UAT deploy it, accept it, then tag the same commit v1.5.0.
#
# This runs from the tagged commit's own workflow, so it is defence in depth: the gate that
# holds even against an edited deploy.yml is the `production` environment's required
# reviewer (docs/guides/threat-model.md), who sees this job's result.
set -euo pipefail

repo="${1:?usage: uat-passed.sh OWNER/REPO COMMIT_SHA}"
sha="${2:?usage: uat-passed.sh OWNER/REPO COMMIT_SHA}"
workflow=".github/workflows/deploy.yml"

ids="$(gh api "repos/$repo/deployments?sha=$sha&environment=uat&per_page=100" \
  --jq '.[] | select(.creator.login == "github-actions[bot]") | .id')"
for id in $ids; do
  urls="$(gh api "repos/$repo/deployments/$id/statuses?per_page=100" \
    --jq '.[] | select(.state == "success") | (.log_url // .target_url // "")')"
  for url in $urls; do
    [[ "$url" =~ /actions/runs/([0-9]+) ]] || continue
    run="${BASH_REMATCH[1]}"
    IFS=$'\t' read -r path event head_sha ref < <(gh api "repos/$repo/actions/runs/$run" \
      --jq '[.path, .event, .head_sha, .head_branch] | @tsv')
    if [[ "$path" != "$workflow" || "$event" != push || "$head_sha" != "$sha" ]]; then
      continue
    fi
    [[ "$ref" =~ ^v[0-9][^/]*-rc[0-9A-Za-z.]*$ ]] || continue
    tagged="$(gh api "repos/$repo/commits/refs/tags/$ref" --jq '.sha')"
    if [[ "$tagged" == "$sha" ]]; then
      echo "UAT deployed $sha successfully (deployment $id, run $run of $workflow for tag $ref): prod may take it."
      exit 0
    fi
  done
done
echo "::error::No successful deployment of $sha by the uat job of $workflow (a v*-rc* tag push). Tag it as a release candidate (e.g. ${GITHUB_REF_NAME:-vX.Y.Z}-rc1) first, let UAT deploy it, then tag the release."
exit 1

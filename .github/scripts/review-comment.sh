#!/usr/bin/env bash
# Post, or update, the one comment that gives a pull request its review environment's URL.
#
#   .github/scripts/review-comment.sh OWNER/REPO PR_NUMBER URL COMMIT_SHA   (GH_TOKEN)
set -euo pipefail

repo="${1:?usage: review-comment.sh OWNER/REPO PR_NUMBER URL COMMIT_SHA}"
number="${2:?}"
url="${3:?}"
sha="${4:?}"
marker="<!-- webplatform-review-environment -->"
body="$marker
Review environment \`dev-pr-$number\`: $url
(namespace \`dev-pr-$number\` in the shared dev cluster, at \`${sha:0:7}\`; destroyed when this pull request closes)"

# Only our own comment: anyone may post a comment that starts with the marker, and editing
# theirs would put the URL (and our edit) under their name.
author="${REVIEW_COMMENT_AUTHOR:-github-actions[bot]}"
existing="$(gh api "repos/$repo/issues/$number/comments" --paginate \
  --jq ".[] | select(.user.login == \"$author\" and .user.type == \"Bot\") | select(.body | startswith(\"$marker\")) | .id" | head -n 1)"
if [[ -n "$existing" ]]; then
  gh api --method PATCH "repos/$repo/issues/comments/$existing" -f body="$body" >/dev/null
else
  gh api --method POST "repos/$repo/issues/$number/comments" -f body="$body" >/dev/null
fi
echo "$url"

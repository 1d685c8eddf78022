#!/usr/bin/env bash
# Create the GitHub release of a library tag with its files, or, when a re-run finds the
# release already there, replace its files (same tag, same build: the attestation covers them).
#
#   .github/scripts/github-release.sh OWNER/REPO TAG NOTES_FILE FILE...   (GH_TOKEN)
set -euo pipefail

repo="${1:?usage: github-release.sh OWNER/REPO TAG NOTES_FILE FILE...}"
tag="${2:?}"
notes="${3:?}"
shift 3
(($# > 0)) || { echo "github-release.sh: no files to attach" >&2; exit 2; }
version="${tag#lib-v}"

if gh release view "$tag" --repo "$repo" >/dev/null 2>&1; then
  gh release upload "$tag" "$@" --repo "$repo" --clobber
else
  # --verify-tag: never let gh create a tag the workflow was not started by.
  gh release create "$tag" "$@" --repo "$repo" --verify-tag \
    --title "webplatform-components $version" --notes-file "$notes"
fi

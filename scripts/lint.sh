#!/usr/bin/env bash
# gofmt, go vet and staticcheck must all be clean.
set -euo pipefail
cd "$(dirname "$0")/.."
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need formatting:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go vet ./...
tools=$PWD/.tools
if [ ! -x "$tools/staticcheck" ]; then
  GOBIN=$tools go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
"$tools/staticcheck" ./...
echo "lint: clean"

#!/usr/bin/env bash
# README command (2): install what is needed, then format/lint/type checks and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
deno task check
deno task test

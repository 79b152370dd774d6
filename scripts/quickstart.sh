#!/usr/bin/env bash
# README command (1): install what is needed, then run the default experiment end to end:
# CE vs LS over label noise on two Fashion-MNIST classes, with the quick profile.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
deno task reproduce --profile quick "$@"

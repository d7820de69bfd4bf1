#!/usr/bin/env bash
# Usage: examples/refresh.sh [-h] [RUNNER]
#
# Reads one of your runners' status from GitHub now and prints the runner: online on GitHub is
# "active", offline is "offline" (one that never connected stays "pending"), gone is "deleted".
# RUNNER is its runner_id or name (default: $RUNNER_ID).
#
#   RTS_URL     the service (default http://localhost:8000)
#   OIDC_TOKEN  your bearer token (unset when the service's authentication is off)
#   RUNNER_ID   the runner, when not given as the argument
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_arguments 1 "$@"

RUNNER_PATH=$(runner_path "${1:-${RUNNER_ID:-}}")
rts POST "$RUNNER_PATH/refresh" | jq .

#!/usr/bin/env bash
# Usage: examples/delete.sh [-h] [RUNNER]
#
# Deprovisions one of your runners: removes it from GitHub, marks it "deleted" and prints it.
# A runner that is running a job is refused (RUNNER_BUSY) and left as it is: try again later.
# RUNNER is its runner_id or name (default: $RUNNER_ID).
#
#   RTS_URL     the service (default http://localhost:8000)
#   OIDC_TOKEN  your bearer token (unset when the service's authentication is off)
#   RUNNER_ID   the runner, when not given as the argument
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_arguments 1 "$@"

RUNNER_PATH=$(runner_path "${1:-${RUNNER_ID:-}}")
rts DELETE "$RUNNER_PATH" | jq .

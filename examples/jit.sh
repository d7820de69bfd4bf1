#!/usr/bin/env bash
# Usage: examples/jit.sh [-h]
#
# JIT provisioning: asks the service for a JIT config for one ephemeral runner named RUNNER_NAME,
# then starts it with ./run.sh in RUNNER_DIR. The config goes to run.sh in the environment
# (ACTIONS_RUNNER_INPUT_JITCONFIG, read like --jitconfig but kept out of `ps`), never to the screen.
#
#   RTS_URL          the service (default http://localhost:8000)
#   OIDC_TOKEN       your bearer token (unset when the service's authentication is off)
#   RUNNER_NAME      the runner's name (default secure-worker-001)
#   LABELS           comma-separated labels (default gpu,ubuntu-22.04)
#   RUNNER_GROUP_ID  the runner group's id (default: the service's)
#   WORK_FOLDER      the runner's work folder (default _work)
#   RUNNER_DIR       where the GitHub Actions runner is unpacked (default actions-runner)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_arguments 0 "$@"

RUNNER_NAME=${RUNNER_NAME:-secure-worker-001}
LABELS=${LABELS-gpu,ubuntu-22.04}
RUNNER_DIR=${RUNNER_DIR:-actions-runner}
require_runner_files run.sh

BODY=$(jit_request runner_name "$RUNNER_NAME")
RESPONSE=$(rts POST /api/v1/runners/jit "$BODY")
describe_runner "$RESPONSE" "JIT config"

JIT_CONFIG=$(field "$RESPONSE" .encoded_jit_config)
echo "Starting it: ./run.sh in $RUNNER_DIR"
cd "$RUNNER_DIR"
ACTIONS_RUNNER_INPUT_JITCONFIG=$JIT_CONFIG exec ./run.sh

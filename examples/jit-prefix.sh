#!/usr/bin/env bash
# Usage: examples/jit-prefix.sh [-h]
#
# JIT provisioning with a name prefix: the service names the runner RUNNER_NAME_PREFIX, a dash and
# six random hex characters (gpu-worker-a1b2c3), so many machines can run this unchanged. Then
# starts it with ./run.sh in RUNNER_DIR, the JIT config in ACTIONS_RUNNER_INPUT_JITCONFIG.
#
#   RTS_URL             the service (default http://localhost:8000)
#   OIDC_TOKEN          your bearer token (unset when the service's authentication is off)
#   RUNNER_NAME_PREFIX  at most 57 characters of A-Z a-z 0-9 . _ - (default gpu-worker)
#   LABELS              comma-separated labels (default gpu,cuda-12)
#   RUNNER_GROUP_ID     the runner group's id (default: the service's)
#   WORK_FOLDER         the runner's work folder (default _work)
#   RUNNER_DIR          where the GitHub Actions runner is unpacked (default actions-runner)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_arguments 0 "$@"

RUNNER_NAME_PREFIX=${RUNNER_NAME_PREFIX:-gpu-worker}
LABELS=${LABELS-gpu,cuda-12}
RUNNER_DIR=${RUNNER_DIR:-actions-runner}
require_runner_files run.sh

BODY=$(jit_request runner_name_prefix "$RUNNER_NAME_PREFIX")
RESPONSE=$(rts POST /api/v1/runners/jit "$BODY")
describe_runner "$RESPONSE" "JIT config"

JIT_CONFIG=$(field "$RESPONSE" .encoded_jit_config)
echo "Starting it: ./run.sh in $RUNNER_DIR"
cd "$RUNNER_DIR"
ACTIONS_RUNNER_INPUT_JITCONFIG=$JIT_CONFIG exec ./run.sh

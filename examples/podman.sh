#!/usr/bin/env bash
# Usage: examples/podman.sh [-h]
#
# JIT with Podman (the runner needs Linux; on macOS this runs it in `podman machine`): asks for a
# JIT config for a runner named RUNNER_NAME_PREFIX-xxxxxx and runs it in a container of
# RUNNER_IMAGE named after the runner. The config reaches the container in its environment
# (ACTIONS_RUNNER_INPUT_JITCONFIG), never on a command line. The runner takes one job and exits.
#
#   RTS_URL             the service (default http://localhost:8000)
#   OIDC_TOKEN          your bearer token (unset when the service's authentication is off)
#   RUNNER_NAME_PREFIX  default podman-runner
#   LABELS              comma-separated labels (default podman,linux)
#   RUNNER_GROUP_ID     the runner group's id (default: the service's)
#   WORK_FOLDER         the runner's work folder (default _work)
#   RUNNER_IMAGE        default ghcr.io/actions/actions-runner:latest
#   PODMAN_ARGS         more `podman run` options, split at spaces: "--cpus=2 --memory=4g" for
#                       limits, "-d" to run it in the background (then: podman logs -f NAME)
#   PODMAN              the podman command (default podman; docker works too)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_arguments 0 "$@"

RUNNER_NAME_PREFIX=${RUNNER_NAME_PREFIX:-podman-runner}
LABELS=${LABELS-podman,linux}
RUNNER_IMAGE=${RUNNER_IMAGE:-ghcr.io/actions/actions-runner:latest}
PODMAN=${PODMAN:-podman}
read -r -a EXTRA_ARGS <<<"${PODMAN_ARGS:-}"
command -v "$PODMAN" >/dev/null || { echo "Error: $PODMAN not found: install Podman, or set PODMAN" >&2; exit 1; }
# -it as the seed has it when there is a terminal; without one podman would refuse -t.
TTY_ARGS=()
if [ -t 0 ] && [ -t 1 ]; then TTY_ARGS=(-it); fi

BODY=$(jit_request runner_name_prefix "$RUNNER_NAME_PREFIX")
RESPONSE=$(rts POST /api/v1/runners/jit "$BODY")
describe_runner "$RESPONSE" "JIT config"
RUNNER_NAME=$(field "$RESPONSE" .runner_name)

JIT_CONFIG=$(field "$RESPONSE" .encoded_jit_config)
echo "Starting runner: $RUNNER_NAME (container $RUNNER_NAME, image $RUNNER_IMAGE)"
ACTIONS_RUNNER_INPUT_JITCONFIG=$JIT_CONFIG exec "$PODMAN" run ${TTY_ARGS[@]+"${TTY_ARGS[@]}"} --rm --name "$RUNNER_NAME" \
  --env ACTIONS_RUNNER_INPUT_JITCONFIG ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"} "$RUNNER_IMAGE" ./run.sh

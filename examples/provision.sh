#!/usr/bin/env bash
# Usage: examples/provision.sh [-h]
#
# Registration token (legacy; prefer JIT): asks the service for a registration token for a runner
# named RUNNER_NAME, registers the runner with ./config.sh in RUNNER_DIR as the answer's
# configuration_command says, then starts it with ./run.sh. The token goes to config.sh in the
# environment (ACTIONS_RUNNER_INPUT_TOKEN, read like --token but kept out of `ps`), never to the
# screen; --unattended makes config.sh stop on a problem instead of asking.
#
#   RTS_URL          the service (default http://localhost:8000)
#   OIDC_TOKEN       your bearer token (unset when the service's authentication is off)
#   RUNNER_NAME      the runner's name (default gpu-worker-001)
#   LABELS           comma-separated labels, at least one (default gpu,ubuntu-22.04)
#   EPHEMERAL        true (one job, then GitHub removes the runner; the default) or false
#   RUNNER_GROUP_ID  the runner group's id (default: the service's)
#   RUNNER_DIR       where the GitHub Actions runner is unpacked (default actions-runner)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_arguments 0 "$@"

RUNNER_NAME=${RUNNER_NAME:-gpu-worker-001}
LABELS=${LABELS:-gpu,ubuntu-22.04}
EPHEMERAL=${EPHEMERAL:-true}
RUNNER_DIR=${RUNNER_DIR:-actions-runner}
case "$EPHEMERAL" in
  true | false) ;;
  *) echo "Error: EPHEMERAL must be true or false, not \"$EPHEMERAL\"" >&2; exit 2 ;;
esac
require_runner_files config.sh run.sh

# The runner group's name as configuration_command passes it to --runnergroup (the answer's other
# fields hold only its id): the word after --runnergroup, single-quoted when the name needs it.
runner_group_of() {
  local group=${1#* --runnergroup }
  group=${group% --ephemeral}
  if [[ $group == \'*\' ]]; then
    group=${group:1:${#group}-2}
    group=${group//\'\\\'\'/\'}
  fi
  printf '%s' "$group"
}

BODY=$(jq -cn --arg name "$RUNNER_NAME" --arg labels "$LABELS" --argjson ephemeral "$EPHEMERAL" \
  --arg group "${RUNNER_GROUP_ID:-}" '
  {runner_name: $name, labels: ($labels | split(",")), ephemeral: $ephemeral}
  + if $group != "" then {runner_group_id: ($group | tonumber? // $group)} else {} end')
RESPONSE=$(rts POST /api/v1/runners/provision "$BODY")
describe_runner "$RESPONSE" "registration token"

GITHUB_URL=$(field "$RESPONSE" .github_url)
NAME=$(field "$RESPONSE" .runner_name)
RUNNER_LABELS=$(field "$RESPONSE" '.labels | join(",")')
CONFIGURATION_COMMAND=$(field "$RESPONSE" .configuration_command)
RUNNER_GROUP=$(runner_group_of "$CONFIGURATION_COMMAND")
CONFIG_ARGS=(--unattended --url "$GITHUB_URL" --name "$NAME" --labels "$RUNNER_LABELS" --runnergroup "$RUNNER_GROUP")
if [ "$(field "$RESPONSE" .ephemeral)" = true ]; then CONFIG_ARGS+=(--ephemeral); fi
REGISTRATION_TOKEN=$(field "$RESPONSE" .registration_token)

cd "$RUNNER_DIR"
echo "Configuring it: ./config.sh ${CONFIG_ARGS[*]} in $RUNNER_DIR"
ACTIONS_RUNNER_INPUT_TOKEN=$REGISTRATION_TOKEN ./config.sh "${CONFIG_ARGS[@]}"
echo "Starting it: ./run.sh"
exec ./run.sh

#!/usr/bin/env bash
# Usage: examples/provision-loop.sh [-h]
#
# Provisions COUNT runners with registration tokens (legacy; prefer JIT), named NAME_PREFIX-001,
# NAME_PREFIX-002, ..., labelled worker and batch-N, ephemeral, and saves each one's
# configuration_command to OUTPUT_DIR/runner-N-config.sh, to run on the machine that will be that
# runner within the hour. Those files hold the registration tokens: they are created readable by
# you only (mode 600); delete them once used. Stops at the first refusal.
#
#   RTS_URL      the service (default http://localhost:8000)
#   OIDC_TOKEN   your bearer token (unset when the service's authentication is off)
#   COUNT        how many runners, 1 to 100 (default 3)
#   NAME_PREFIX  default worker
#   OUTPUT_DIR   where the runner-N-config.sh files go (default: the current folder)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_arguments 0 "$@"

COUNT=${COUNT:-3}
NAME_PREFIX=${NAME_PREFIX:-worker}
OUTPUT_DIR=${OUTPUT_DIR:-.}
# A bound on the loop: a typo must not ask GitHub for thousands of registrations.
MAX_COUNT=100
if ! [[ $COUNT =~ ^[0-9]+$ ]] || [ "$COUNT" -lt 1 ] || [ "$COUNT" -gt "$MAX_COUNT" ]; then
  echo "Error: COUNT must be a whole number from 1 to $MAX_COUNT, not \"$COUNT\"" >&2
  exit 2
fi
[ -d "$OUTPUT_DIR" ] || { echo "Error: OUTPUT_DIR $OUTPUT_DIR is not a folder" >&2; exit 1; }
umask 077

for ((i = 1; i <= COUNT; i++)); do
  echo "Provisioning runner $i..."
  BODY=$(jq -cn --arg name "$NAME_PREFIX-$(printf %03d "$i")" --arg batch "batch-$i" \
    '{runner_name: $name, labels: ["worker", $batch], ephemeral: true}')
  RESPONSE=$(rts POST /api/v1/runners/provision "$BODY")
  FILE="$OUTPUT_DIR/runner-$i-config.sh"
  # A file left from an earlier run keeps its mode when overwritten: make a new one.
  rm -f "$FILE"
  field "$RESPONSE" .configuration_command >"$FILE"
  describe_runner "$RESPONSE" "registration token"
  echo "Configuration saved to $FILE"
done

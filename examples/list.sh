#!/usr/bin/env bash
# Usage: examples/list.sh [-h]
#
# Lists your runners, newest first, one JSON object each (pipe it to jq for more), following the
# pages to the end. Deleted and failed runners show only when STATUS asks for them.
#
#   RTS_URL     the service (default http://localhost:8000)
#   OIDC_TOKEN  your bearer token (unset when the service's authentication is off)
#   STATUS      only runners in this status: pending, active, offline, deleted or failed
#   PAGE_SIZE   runners per request, 1 to 500 (default: the service's, 100)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
parse_arguments 0 "$@"

NEXT=/api/v1/runners$(jq -rn --arg status "${STATUS:-}" --arg limit "${PAGE_SIZE:-}" '
  [if $status != "" then "status=\($status | @uri)" else empty end,
   if $limit != "" then "limit=\($limit | @uri)" else empty end]
  | if length > 0 then "?" + join("&") else "" end')
while [ -n "$NEXT" ]; do
  PAGE=$(rts GET "$NEXT")
  field "$PAGE" '.runners[]' | jq .
  NEXT=$(field "$PAGE" '.next // empty')
done

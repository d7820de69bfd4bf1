# Sourced by the example scripts beside it; not run on its own. Needs bash (3.2 or newer), curl, jq.
#
# Settings every script reads:
#   RTS_URL     the Runner Token Service (default http://localhost:8000, where `npm run demo` listens)
#   OIDC_TOKEN  your bearer token; leave it unset when the service's authentication is off (the demo)

RTS_URL=${RTS_URL:-http://localhost:8000}
RTS_URL=${RTS_URL%/}
OIDC_TOKEN=${OIDC_TOKEN:-}
# A JWT is base64url and dots; anything else would break out of the quoted line curl reads it from.
if [[ -n $OIDC_TOKEN && ! $OIDC_TOKEN =~ ^[A-Za-z0-9._~+/=-]+$ ]]; then
  echo "Error: OIDC_TOKEN is not a bearer token (letters, digits and . _ ~ + / = - only)" >&2
  exit 2
fi

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "Error: $tool is required; install it first" >&2; exit 1; }
done

# The comment block at the top of the script, without its leading "# ".
usage() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# parse_arguments N "$@": answers -h / --help with the usage; refuses options and more than N arguments.
parse_arguments() {
  local allowed=$1
  shift
  case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    -*) echo "Error: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  if [ "$#" -gt "$allowed" ]; then
    echo "Error: too many arguments" >&2
    usage >&2
    exit 2
  fi
}

# rts METHOD PATH [JSON-BODY]: calls the service and prints its JSON answer. An answer other than
# 2xx prints the API's error code and message on stderr and exits 1. The bearer token reaches curl
# on its standard input, never on its command line, so `ps` does not show it.
rts() {
  local method=$1 path=$2 body=${3:-} response status
  local args=(--silent --show-error --request "$method" --header 'Accept: application/json' --write-out '\n%{http_code}' --config -)
  if [ -n "$body" ]; then
    args+=(--header 'Content-Type: application/json' --data-binary "$body")
  fi
  if ! response=$(bearer_config | curl "${args[@]}" "$RTS_URL$path"); then
    echo "Error: no answer from the Runner Token Service at $RTS_URL (is it running? is RTS_URL right?)" >&2
    exit 1
  fi
  status=${response##*$'\n'}
  response=${response%$'\n'*}
  case "$status" in
    2??) printf '%s\n' "$response" ;;
    *) print_api_error "$status" "$response"; exit 1 ;;
  esac
}

bearer_config() {
  if [ -n "$OIDC_TOKEN" ]; then
    printf 'header = "Authorization: Bearer %s"\n' "$OIDC_TOKEN"
  fi
}

# The API's errors are {"error": {"code", "message", "details"?}, "request_id"}.
print_api_error() {
  local status=$1 body=$2 line
  if line=$(printf '%s' "$body" | jq -er '"\(.error.code): \(.error.message)" + (if .request_id then " (request_id \(.request_id))" else "" end)' 2>/dev/null); then
    echo "Error: HTTP $status $line" >&2
  else
    echo "Error: HTTP $status from $RTS_URL, not an answer of the Runner Token Service (is RTS_URL right?)" >&2
  fi
}

# field JSON FILTER: one value of a JSON answer, as text.
field() {
  printf '%s' "$1" | jq -r "$2"
}

# The path segment for a runner id or name, percent-encoded.
runner_path() {
  local runner=$1
  if [ -z "$runner" ]; then
    echo "Error: name the runner: its runner_id or name, as the argument or in RUNNER_ID" >&2
    usage >&2
    exit 2
  fi
  printf '/api/v1/runners/%s' "$(jq -rn --arg runner "$runner" '$runner | @uri')"
}

# The body of POST /api/v1/runners/jit: NAME_FIELD (runner_name or runner_name_prefix) set to NAME,
# and LABELS, RUNNER_GROUP_ID and WORK_FOLDER from the environment when set.
jit_request() {
  jq -cn --arg field "$1" --arg name "$2" --arg labels "${LABELS:-}" \
    --arg group "${RUNNER_GROUP_ID:-}" --arg work_folder "${WORK_FOLDER:-}" '
    {($field): $name}
    + if $labels != "" then {labels: ($labels | split(","))} else {} end
    + if $group != "" then {runner_group_id: ($group | tonumber? // $group)} else {} end
    + if $work_folder != "" then {work_folder: $work_folder} else {} end'
}

# describe_runner ANSWER CREDENTIAL: what a JIT or registration answer says, never the credential.
describe_runner() {
  printf '%s' "$1" | jq -r --arg credential "$2" \
    '"Runner \(.runner_name) (runner_id \(.runner_id)), labels \(.labels | join(",")); its \($credential) is valid until \(.expires_at)"'
}

# Stops early, before asking for a credential, when the runner is not where RUNNER_DIR says.
require_runner_files() {
  local file
  for file in "$@"; do
    if [ ! -x "$RUNNER_DIR/$file" ]; then
      echo "Error: no executable $RUNNER_DIR/$file: unpack the GitHub Actions runner there, or set RUNNER_DIR" >&2
      exit 1
    fi
  done
}

#!/usr/bin/env bash
# A tour of Mintline's API with curl and jq, against a service that is already running:
#
#   OPERATOR_TOKEN=<the operator token the service was started with> bash scripts/tour.sh
#
# MINTLINE_URL names the service (default http://localhost:3000). Each run creates an org of its own
# with unique emails, so the tour can run again and again against the same service. It stops at the
# first answer that is not the expected one, naming the step and showing the error envelope.
set -euo pipefail

URL="${MINTLINE_URL:-http://localhost:3000}"
URL="${URL%/}"
: "${OPERATOR_TOKEN:?set OPERATOR_TOKEN to the operator token the service was started with}"
for tool in curl jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "tour: $tool is needed (on Debian or Ubuntu: apt-get install -y $tool)" >&2
    exit 1
  fi
done

STEPS=0
ANSWER=''

# call STEP STATUS METHOD PATH CREDENTIAL [JSON]: sends one request, prints its answer, and stops the
# tour unless the answer has the expected STATUS. The answer's body is left in $ANSWER.
call() {
  local step="$1" expected="$2" method="$3" path="$4" credential="$5" body="${6:-}" response status
  local args=(-sS -X "$method" -w '\n%{http_code}' -H 'accept: application/json')
  if [[ -n "$credential" ]]; then args+=(-H "authorization: Bearer $credential"); fi
  if [[ -n "$body" ]]; then args+=(-H 'content-type: application/json' --data-binary "$body"); fi
  if ! response=$(curl "${args[@]}" "$URL$path" 2>&1); then
    printf 'tour: step "%s" failed: %s %s got no answer from %s (is the service running?)\n%s\n' \
      "$step" "$method" "$path" "$URL" "$response" >&2
    exit 1
  fi
  status="${response##*$'\n'}"
  ANSWER="${response%$'\n'*}"
  if [[ "$status" != "$expected" ]]; then
    printf 'tour: step "%s" failed: %s %s answered %s (expected %s):\n' "$step" "$method" "$path" "$status" "$expected" >&2
    jq . <<<"$ANSWER" >&2 2>/dev/null || printf '%s\n' "$ANSWER" >&2
    exit 1
  fi
  STEPS=$((STEPS + 1))
  printf '\n== %s: %s %s -> %s\n' "$step" "$method" "$path" "$status"
  jq . <<<"$ANSWER" 2>/dev/null || printf '%s\n' "$ANSWER"
}

# check STEP JQ_TEST: stops the tour unless the last answer passes the test.
check() {
  if [[ "$(jq -r "$2" <<<"$ANSWER")" != true ]]; then
    printf 'tour: step "%s" failed: the answer does not satisfy %s\n' "$1" "$2" >&2
    exit 1
  fi
}

# ---- The tour ----------------------------------------------------------------------------------
RUN="$(date +%s)-$RANDOM" # this run's org name and emails are unique
ADMIN_EMAIL="admin-$RUN@acme.example"
AGENT_EMAIL="agent-$RUN@acme.example"

call "the service is up" 200 GET /health ""

# The operator creates an org and its first admin (without OPERATOR_TOKEN, `npm run cli -- bootstrap` does this).
call "create an org (operator token)" 201 POST /api/orgs "$OPERATOR_TOKEN" \
  "$(jq -nc --arg name "Acme $RUN" '{name: $name}')"
ORG=$(jq -r .id <<<"$ANSWER")
call "create the org's first admin (operator token)" 201 POST "/api/orgs/$ORG/users" "$OPERATOR_TOKEN" \
  "$(jq -nc --arg email "$ADMIN_EMAIL" '{email: $email, password: "a long admin password", role: "admin"}')"

# The admin logs in: a 15-minute access token.
call "log in as the admin" 200 POST /api/auth/login "" \
  "$(jq -nc --arg email "$ADMIN_EMAIL" '{email: $email, password: "a long admin password"}')"
TOKEN=$(jq -r .accessToken <<<"$ANSWER")
call "who am I" 200 GET /api/auth/me "$TOKEN"

# An agent, and its caller ID: its first sinch number becomes its default sinch caller ID.
call "create an agent" 201 POST /api/users "$TOKEN" \
  "$(jq -nc --arg email "$AGENT_EMAIL" '{email: $email, password: "a long agent password", role: "agent", name: "Ada"}')"
AGENT_ID=$(jq -r .id <<<"$ANSWER")
call "give the agent a caller ID" 201 POST "/api/users/$AGENT_ID/phone-numbers" "$TOKEN" \
  '{"provider":"sinch","phoneNumber":"+14165550100","label":"Toronto desk"}'

# An API key for a backend: its token (mlk_...) is shown only in this answer.
call "create an API key" 201 POST /api/api-keys "$TOKEN" \
  '{"name":"dialer backend","scopes":["CREATE_CALL_TOKEN"],"maxRequestsPerDay":10000}'
KEY=$(jq -r .token <<<"$ANSWER")

# The org's Sinch Voice application credentials: the secret is encrypted at rest and shown masked.
call "store the Sinch Voice credentials" 200 PUT /api/credentials/sinch-voice "$TOKEN" \
  '{"applicationKey":"a32e5a8d-f7d8-411c-9645-9038e8dd051d","applicationSecret":"ax8hTTQJF0OPXL32r1LHMA=="}'

# The agent's app asks for a Sinch Voice SDK registration token (10 minutes) ...
call "log in as the agent" 200 POST /api/auth/login "" \
  "$(jq -nc --arg email "$AGENT_EMAIL" '{email: $email, password: "a long agent password"}')"
AGENT=$(jq -r .accessToken <<<"$ANSWER")
call "the agent mints a Sinch token" 200 GET /api/calls/token/sinch "$AGENT"
check "the agent mints a Sinch token" '.callerIdentifier == "+14165550100" and .expiresIn == 600'

# ... and a backend mints one for the agent with the API key, naming the user.
call "the backend mints for the agent" 200 GET "/api/calls/token/sinch?userId=$AGENT_ID" "$KEY"

# The admin (or an auditor) sees both mints: who, for whom, when, the token's fingerprint, never the token.
call "read the mint audit log" 200 GET '/api/audit/mints?limit=10' "$TOKEN"
check "read the mint audit log" '[.items[] | select(.outcome == "issued")] | length == 2'
call "verify the audit chain" 200 GET /api/audit/verify "$TOKEN"
check "verify the audit chain" '.ok'

printf '\ntour: all %d steps passed (org %s, admin %s)\n' "$STEPS" "$ORG" "$ADMIN_EMAIL"

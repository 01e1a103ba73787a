#!/usr/bin/env bash
# make contract: schemathesis (PyPI) against the running API, as a signed-in user, from docs/openapi.json:
# every operation, generated valid and invalid requests (its examples, coverage, fuzzing and stateful
# phases); the run fails on any server error (5xx) and any response that breaks the document.
#
# Starts a stack of its own, the way `make run` does (scripts/stack.sh + scripts/services.sh), in
# .run/contract on ports of its own, and stops it afterwards, whatever happens. Settings (environment):
#   PINGVAS_CONTRACT_PG_PORT, PINGVAS_CONTRACT_REDIS_PORT, PINGVAS_CONTRACT_PORT_BASE  (35432, 36379, 38080)
#   PINGVAS_CONTRACT_EXAMPLES   generated cases per operation and phase        (default: 25)
#   PINGVAS_CONTRACT_MAX_TIME   seconds the whole schemathesis run may take    (default: 150)
#   PINGVAS_CONTRACT_SEED       schemathesis' random seed                      (default: 1; "random" for a new one)
# Other PINGVAS_* variables of the environment are ignored: the run's conditions are fixed here.
# POST /api/v1/webhooks is left out: a generated endpoint on a public address would make generation
# send deliveries off this machine (ContractTests checks that operation against the document instead).
# A submission's own `webhook_url` is generated as free text (the document gives it no URI format), so
# it is all but never a resolvable public URL; ContractTests and WebhookTests cover it on loopback.
# The signed-in user is an admin: the admin routes run too (an admin cannot suspend itself, and
# deleting the account needs its password, which schemathesis does not know).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
pg_port="${PINGVAS_CONTRACT_PG_PORT:-35432}"
redis_port="${PINGVAS_CONTRACT_REDIS_PORT:-36379}"
base="${PINGVAS_CONTRACT_PORT_BASE:-38080}"
examples="${PINGVAS_CONTRACT_EXAMPLES:-25}"
max_time="${PINGVAS_CONTRACT_MAX_TIME:-150}"
seed="${PINGVAS_CONTRACT_SEED:-1}"
start=$(date +%s)

scripts/contract-venv.sh
venv="$here/.run/venv-contract"
echo "contract: building the services"
swift build >/dev/null

for name in $(env | sed -n 's/^\(PINGVAS_[A-Z0-9_]*\)=.*/\1/p'); do unset "$name"; done
export PINGVAS_STACK_DIR="$here/.run/contract" PINGVAS_PG_PORT="$pg_port" PINGVAS_REDIS_PORT="$redis_port" PINGVAS_PORT_BASE="$base"
export PINGVAS_DB_SCHEMA=pingvas_contract PINGVAS_LOG_LEVEL=notice PINGVAS_PASSWORD_HASH_COST=10 PINGVAS_ACCESS_TOKEN_TTL=1h
export PINGVAS_RATE_LIMIT_PER_IP=1000000 PINGVAS_RATE_LIMIT_PER_USER=1000000 PINGVAS_SIGNUP_CREDITS=1000
export PINGVAS_LEMONSQUEEZY_VARIANTS='{"101": {"plan": "pro", "monthly_credits": 1000}, "201": {"credits": 500}}'
cleanup() {
    scripts/services.sh stop >/dev/null 2>&1 || true
    scripts/stack.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
rm -rf "$PINGVAS_STACK_DIR"
scripts/stack.sh start >/dev/null
eval "$(scripts/stack.sh env)"
export PINGVAS_DATABASE_URL PINGVAS_REDIS_URL
scripts/services.sh start >/dev/null
api="http://127.0.0.1:$base"
echo "contract: stack up on $api after $(( $(date +%s) - start )) s"

# The user is also an admin (set in the database, as no API grants it), so the operator routes are
# exercised too; its token comes from a login after that, so it carries the role.
email="contract-$$@example.com"
credentials="{\"email\":\"$email\",\"password\":\"correct horse battery\",\"display_name\":\"Contract\"}"
curl -fsS -o /dev/null "$api/api/v1/auth/signup" -H 'Content-Type: application/json' -d "$credentials"
psql="$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)"
"$psql" "$PINGVAS_DATABASE_URL" -qX -v ON_ERROR_STOP=1 -c "UPDATE pingvas_contract_user.users SET roles = ARRAY['user', 'admin'] WHERE email = '$email'" >/dev/null
token="$(curl -fsS "$api/api/v1/auth/login" -H 'Content-Type: application/json' -d "$credentials" |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

status=0
"$venv/bin/schemathesis" run "$here/docs/openapi.json" --url "$api" \
    -H "Authorization: Bearer $token" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$examples" --max-time "$max_time" --seed "$seed" --workers 2 \
    --request-timeout 20 --suppress-health-check all --no-color --exclude-operation-id createWebhook \
    --report junit --report-dir "$PINGVAS_STACK_DIR/report" || status=$?
if grep -q '"level":"error"' "$PINGVAS_STACK_DIR"/logs/*.log 2>/dev/null; then
    echo "contract: errors logged by the services during the run:"
    grep -h '"level":"error"' "$PINGVAS_STACK_DIR"/logs/*.log | head -n 20 || true
fi
echo "contract: finished in $(( $(date +%s) - start )) s (report: $PINGVAS_STACK_DIR/report)"
exit $status

#!/usr/bin/env bash
# `make demo`: the walking skeleton by hand against a running `make run` stack, through the gateway:
# sign up, submit a preview generation, follow its events, download the PNG.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
api="${PINGVAS_GATEWAY:-http://127.0.0.1:${PINGVAS_PORT_BASE:-8080}}"
out="${1:-$here/.run/demo.png}"
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }

email="demo-$(date +%s)@example.com"
echo "1. sign up $email"
token=$(curl -fsS "$api/api/v1/auth/signup" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"correct horse battery\",\"display_name\":\"Demo\"}" | json "['access_token']")
auth=(-H "Authorization: Bearer $token")
echo "   credits: $(curl -fsS "$api/api/v1/me" "${auth[@]}" | json "['credits']")"

echo "2. submit a preview generation"
job=$(curl -fsS "$api/api/v1/generations" "${auth[@]}" -H 'Content-Type: application/json' -H "Idempotency-Key: $(date +%s%N)" \
    -d '{"model":"preview","prompt":"a lighthouse at dusk","width":256,"height":192,"steps":8,"cfg_scale":7,"seed":7}')
id=$(echo "$job" | json "['id']")
echo "   job $id, cost $(echo "$job" | json "['cost']")"

echo "3. events (server-sent, through the gateway):"
curl -fsS -N --max-time 60 "$api/api/v1/generations/$id/events" "${auth[@]}" | while IFS= read -r line; do
    case "$line" in
        event:*) printf '   %s' "${line#event: }" ;;
        data:*) echo "  ${line#data: }" | cut -c1-110
                case "$last" in succeeded|failed|canceled) break ;; esac ;;
    esac
    [[ "$line" == event:* ]] && last="${line#event: }"
done || true

status=$(curl -fsS "$api/api/v1/generations/$id" "${auth[@]}" | json "['status']")
echo "4. status: $status"
[ "$status" = succeeded ] || exit 1
image=$(curl -fsS "$api/api/v1/generations/$id" "${auth[@]}" | json "['images'][0]['id']")
for _ in $(seq 1 50); do
    curl -fsSL -o "$out" "$api/api/v1/images/$image/content" "${auth[@]}" 2>/dev/null && break
    sleep 0.2
done
echo "5. image $image saved to $out ($(file -b "$out" 2>/dev/null || wc -c <"$out"))"
echo "   credits now: $(curl -fsS "$api/api/v1/me" "${auth[@]}" | json "['credits']")"

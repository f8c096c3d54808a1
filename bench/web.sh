#!/usr/bin/env bash
# Web benchmark: 50 concurrent signed-in antenna agents on search and household pages.
# Usage: bench/web.sh DATABASE_URL [PORT] [DURATION]   (needs wrk, psql, a release build)
# The database must hold a national registry (see BENCHMARKS.md for the import).
set -euo pipefail
cd "$(dirname "$0")/.."
db=$1; port=${2:-18500}; duration=${3:-60s}
sanad=target/release/sanad
work=$(mktemp -d)

# 6,000 households of Casablanca-Settat in a fixed pseudo-random order: half page views,
# half searches by CNIE or phone.
psql "$db" -tAc "SELECT h.rsu_id, coalesce((SELECT cnie FROM persons p WHERE p.household_id = h.rsu_id AND cnie IS NOT NULL LIMIT 1), h.rsu_id), coalesce(h.phone, h.rsu_id)
                 FROM households h WHERE h.region = '06' ORDER BY md5(h.rsu_id) LIMIT 6000" |
  awk -F'|' 'NF==3 { k = NR % 4; if (k < 2) print "/households/" $1; else if (k == 2) print "/households?q=" $2; else { gsub(/\+/, "%2B", $3); print "/households?q=" $3 } }' > "$work/paths.txt"

SANAD_NEW_PASSWORD=bench-password-1 $sanad admin create-user --username bench.agent --display-name "Bench agent" \
  --role antenna_agent --scope regions:06 --database-url "$db" 2>/dev/null || true
SANAD_LOG=warn $sanad serve --database-url "$db" --port "$port" --insecure-cookies > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 1; done

# Sign in like a browser: the login form's token, then the session cookie.
jar="$work/jar"
token=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="_csrf" value="[0-9a-f]*"' | grep -o '[0-9a-f]\{32\}')
curl -s -b "$jar" -c "$jar" -o /dev/null --data "_csrf=$token&username=bench.agent&password=bench-password-1&next=/" "http://127.0.0.1:$port/login"
export SANAD_COOKIE=$(awk '$6 == "sanad_session" { print $7 }' "$jar")
[ -n "$SANAD_COOKIE" ] || { echo "login failed" >&2; exit 1; }

wrk -t2 -c50 -d"$duration" --latency -s bench/web.lua "http://127.0.0.1:$port" -- "$work/paths.txt"

#!/bin/sh
# scale-http.sh — the measurements of issue 8 point 3 in one run, on one
# machine: `infrashare serve` on a PostgreSQL database of 1,000,000 assets and
# 200,000 BTS records, driven over HTTP by infrashare-load, beside pgbench on
# the bare nearby SQL and a bare Echo handler. docs/performance.md keeps the
# figures it printed; docs/load.md explains the load generator.
#
# Settings (environment):
#   PGADMIN    a database to connect to for createdb
#              (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)
#   SCALE_DB   the database to fill and serve (default infrashare_scale);
#              filled with `infrashare gen` when it has no assets yet
#   ASSETS, BTS  the data set's size (default 1000000, 200000)
#   ADDR       where serve listens (default 127.0.0.1:8099)
#   DURATION   seconds per load run (default 30)
#   RATES      open-loop mixed rates to try, requests/s (default "300 600 1000 2000")
#   INFRASHARE_DEMO_PASSWORD  the generated accounts' password (default scale-password-1)
set -eu
cd "$(dirname "$0")/.."

PGADMIN=${PGADMIN:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
SCALE_DB=${SCALE_DB:-infrashare_scale}
ASSETS=${ASSETS:-1000000}
BTS=${BTS:-200000}
ADDR=${ADDR:-127.0.0.1:8099}
DURATION=${DURATION:-30}
RATES=${RATES:-300 600 1000 2000}
export INFRASHARE_DEMO_PASSWORD=${INFRASHARE_DEMO_PASSWORD:-scale-password-1}
export INFRASHARE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$SCALE_DB?sslmode=disable"
export PATH="$PATH:/usr/lib/postgresql/15/bin"
url=http://$ADDR

step() { printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }

step "build"
go build -o bin/infrashare ./cmd/infrashare
go build -o bin/infrashare-load ./cmd/infrashare-load
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)'); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

if ! psql "$PGADMIN" -XAtqc "SELECT 1 FROM pg_database WHERE datname = '$SCALE_DB'" | grep -q 1; then
	psql "$PGADMIN" -Xqc "CREATE DATABASE $SCALE_DB"
fi
if [ "$(psql "$INFRASHARE_DATABASE_URL" -XAtqc "SELECT CASE WHEN to_regclass('assets') IS NULL THEN 0 ELSE (SELECT count(*) FROM assets) END")" -eq 0 ]; then
	step "gen: $ASSETS assets, $BTS BTS records"
	/usr/bin/time -f 'gen took %e s' bin/infrashare gen --assets "$ASSETS" --bts "$BTS" --seed 1 --as-of 2026-11-28 | tail -3
fi
psql "$INFRASHARE_DATABASE_URL" -XAtqc "VACUUM ANALYZE" 2>/dev/null || true

step "serve: time until /readyz answers"
start=$(date +%s%N)
INFRASHARE_ADDR=$ADDR INFRASHARE_LOG_LEVEL=warn bin/infrashare serve >/tmp/scale-http-serve.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
until curl -fs -o /dev/null "$url/readyz"; do sleep 0.01; done
echo "ready after $(( ($(date +%s%N) - start) / 1000000 )) ms"

token=$(curl -fs -X POST "$url/api/v1/auth/login" -H 'Content-Type: application/json' \
	-d "{\"email\":\"auditor@demo.infrashare.vn\",\"password\":\"$INFRASHARE_DEMO_PASSWORD\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/')

step "GeoJSON of district boxes (median of 5)"
for bbox in 105.74,10.00,105.80,10.06 105.72,9.98,105.82,10.08; do
	t=$(for i in 1 2 3 4 5; do curl -fs -o /tmp/scale-http.geojson -w '%{time_total}\n' -H "Authorization: Bearer $token" "$url/api/v1/assets.geojson?bbox=$bbox"; done | sort -n | sed -n 3p)
	echo "bbox $bbox: $(grep -o '"type":"Feature"' /tmp/scale-http.geojson | wc -l) features, ${t}s"
done

step "CSV export of the whole register: resident memory of serve"
before=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
curl -fs -o /dev/null -w 'export: %{size_download} bytes in %{time_total}s\n' -H "Authorization: Bearer $token" "$url/api/v1/assets/export?format=csv"
echo "peak resident before $((before / 1024)) MB, after $(( $(awk '/VmHWM/ {print $2}' /proc/$pid/status) / 1024 )) MB"

step "pgbench: the bare nearby SQL, 8 clients"
PGURL=$INFRASHARE_DATABASE_URL CLIENTS=8 DURATION=$DURATION scripts/pgbench-nearby.sh | tail -3

step "nearby at the API, closed loop, 8 clients"
bin/infrashare-load -url "$url" -rate 0 -concurrency 8 -only nearby -duration "${DURATION}s" -seed 1 | tail -3

step "nearby at the API, one client"
bin/infrashare-load -url "$url" -rate 0 -concurrency 1 -only nearby -duration "${DURATION}s" -seed 1 | tail -3

step "sharing-ratio report at the API, closed loop, 4 clients"
bin/infrashare-load -url "$url" -rate 0 -concurrency 4 -only report -duration "${DURATION}s" -seed 1 | tail -3

for rate in $RATES; do
	step "mixed load, open loop at $rate requests/s"
	bin/infrashare-load -url "$url" -rate "$rate" -duration "${DURATION}s" -seed 1 | tail -12
done

kill $pid
wait $pid 2>/dev/null || true
step "bare Echo, 8 clients"
bin/infrashare-load -bare-server 127.0.0.1:8098 &
bare=$!
trap 'kill $bare 2>/dev/null || true' EXIT
sleep 1
bin/infrashare-load -url http://127.0.0.1:8098 -bare -rate 0 -concurrency 8 -duration 10s | tail -3
kill $bare

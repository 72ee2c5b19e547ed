#!/bin/sh
# pgbench-nearby.sh — the bare SQL of the API's 500 m nearby search, run by
# pgbench against a PostgreSQL database filled by `infrashare gen` (or the
# demo), so that its throughput and latency can be set beside
# `infrashare-load -only nearby` (docs/load.md, docs/performance.md).
#
# The statement is the one registry/search.go sends for an operator: the
# three parts of boxParts (its own and others' unrestricted points by
# position, others' restricted sites by their rounded position, line
# assets by their bounding box) OR-ed in one statement, selecting the view
# columns. Query points are sampled asset positions, each moved up to
# 250 m, as the load generator does, so that both hit the same density.
#
# Settings (environment):
#   PGURL     the database   (default: $INFRASHARE_DATABASE_URL, else
#             postgres://postgres@127.0.0.1:5432/infrashare?sslmode=disable)
#   CLIENTS   pgbench clients (-c, default 8)
#   THREADS   pgbench threads (-j, default 2)
#   DURATION  seconds (-T, default 30)
#   RADIUS_M  search radius in metres (default 500)
#   POINTS    how many asset positions to sample (default 200)
#   ORG       the searching operator's organisation code (default VIETTEL;
#             any id works when it does not exist: all it changes is whose
#             restricted sites count as its own)
set -eu

PGURL=${PGURL:-${INFRASHARE_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/infrashare?sslmode=disable}}
CLIENTS=${CLIENTS:-8}
THREADS=${THREADS:-2}
DURATION=${DURATION:-30}
RADIUS_M=${RADIUS_M:-500}
POINTS=${POINTS:-200}
ORG=${ORG:-VIETTEL}

case $PGURL in
postgres://* | postgresql://*) ;;
*) echo "pgbench-nearby: PGURL must be a postgres:// URL (got $PGURL); pgbench measures PostgreSQL only" >&2; exit 2 ;;
esac
for tool in pgbench psql; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "pgbench-nearby: $tool not found. On Debian it comes with the server package:" >&2
		echo "  apt-get install postgresql-15   (pgbench is /usr/lib/postgresql/15/bin/pgbench; psql is in postgresql-client-15)" >&2
		exit 1
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/pgbench-nearby.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

org_id=$(psql "$PGURL" -XAtqc "SELECT coalesce((SELECT id FROM organizations WHERE code = '$ORG'), 0)")
# Sampled positions, each with its longitude span for the radius (pgbench
# has no cos()). TABLESAMPLE keeps this quick on a million rows.
psql "$PGURL" -XAtq -F ' ' -c "
	SELECT lat, lon, $RADIUS_M / (111320.0 * greatest(cos(radians(lat)), 0.01))
	FROM (SELECT lat, lon FROM assets TABLESAMPLE SYSTEM (least(100, greatest(0.5, 100.0 * $POINTS * 20 / greatest((SELECT reltuples FROM pg_class WHERE relname = 'assets'), 1))))
	      WHERE lat IS NOT NULL) s
	ORDER BY random() LIMIT $POINTS" >"$work/points"
n=$(wc -l <"$work/points")
if [ "$n" -eq 0 ]; then
	echo "pgbench-nearby: the assets table has no point assets: fill it first (infrashare gen, or seed --demo)" >&2
	exit 1
fi

# The script: pick a sampled point (client-side, no SQL), move it up to
# 250 m, then run the box query.
# printf, not echo: dash's echo reads the backslashes of \if and \set.
line() { printf '%s\n' "$*"; }
{
	line "\\set k random(0, $((n - 1)))"
	i=0
	while read -r lat lon dlon; do
		if [ $i -eq 0 ]; then kw='\if'; else kw='\elif'; fi
		line "$kw :k = $i"
		line "\\set plat $lat"
		line "\\set plon $lon"
		line "\\set dlon $dlon"
		i=$((i + 1))
	done <"$work/points"
	line '\endif'
	# 250 m of jitter is half the radius.
	line "\\set lat :plat + random(-1000000, 1000000) / 1000000.0 * (250.0 / 111320.0)"
	line "\\set lon :plon + random(-1000000, 1000000) / 1000000.0 * :dlon * (250.0 / $RADIUS_M)"
	line "\\set dlat $RADIUS_M / 111320.0"
	line "\\set minlat :lat - :dlat"
	line "\\set maxlat :lat + :dlat"
	line "\\set minlon :lon - :dlon"
	line "\\set maxlon :lon + :dlon"
	line "\\set linelat :minlat - 0.05"
	line "SELECT id, owner_id, code, kind, status, geometry, lat, lon, coarse_lat, coarse_lon, unit_code, address," \
		"in_service_on, height_m, class, structure, tubes, diameter_mm, length_m, restricted, rent_vnd, contact," \
		"capacity_unit, capacity_total, reserved_units, active_units, version, created_at, updated_at FROM assets WHERE (" \
		"(lat BETWEEN :minlat AND :maxlat AND lon BETWEEN :minlon AND :maxlon AND (restricted = false OR owner_id = $org_id))" \
		"OR (restricted = true AND owner_id <> $org_id AND coarse_lat BETWEEN :minlat AND :maxlat AND coarse_lon BETWEEN :minlon AND :maxlon)" \
		"OR (lat IS NULL AND min_lat BETWEEN :linelat AND :maxlat AND max_lat >= :minlat AND min_lon <= :maxlon AND max_lon >= :minlon));"
} >"$work/nearby.sql"

rows=$(psql "$PGURL" -XAtqc "SELECT count(*) FROM assets")
echo "pgbench-nearby: $rows assets, $n sampled points, radius $RADIUS_M m, org $ORG (id $org_id), $CLIENTS clients, $THREADS threads, ${DURATION} s"
# -M prepared: the server's driver (pgx) prepares and caches its statements
# too. -n: no vacuum of pgbench's own tables, which this database lacks.
(cd "$work" && pgbench -n -M prepared -c "$CLIENTS" -j "$THREADS" -T "$DURATION" -f nearby.sql -l --log-prefix=tx "$PGURL") >"$work/out" 2>&1 || {
	cat "$work/out" >&2
	exit 1
}
grep -E '^(number of transactions actually processed|number of failed|latency average|latency stddev|tps)' "$work/out"
# Per-transaction log: the third field is the latency in microseconds.
cat "$work"/tx.* | awk '{print $3}' | sort -n | awk '
	{ v[NR] = $1 }
	END {
		if (NR == 0) exit
		split("50 95 99", ps, " ")
		line = "latency percentiles (ms):"
		for (i = 1; i <= 3; i++) {
			r = int(ps[i] / 100 * NR + 0.999999); if (r < 1) r = 1
			line = line sprintf(" p%s %.3f", ps[i], v[r] / 1000)
		}
		printf "%s max %.3f\n", line, v[NR] / 1000
	}'

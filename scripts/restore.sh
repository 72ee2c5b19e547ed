#!/usr/bin/env bash
# Restore a dump made by scripts/backup.sh (pg_dump -Fc) into an EMPTY
# PostgreSQL database, in one transaction: either everything is restored or
# nothing is.
#
# Usage:
#   scripts/restore.sh [-d DATABASE_URL] -i FILE [--keep-owner]
#
#   -d, --database-url URL  the empty target database (default: $INFRASHARE_DATABASE_URL);
#                           create it first: createdb -O infrashare infrashare_restored
#   -i, --input FILE        the dump to restore
#   --keep-owner            give objects the owners and grants recorded in the
#                           dump. By default pg_restore runs with --no-owner
#                           --no-privileges, so every object belongs to the
#                           role in DATABASE_URL: a dump restores into another
#                           server or under another role without the original
#                           roles existing there.
#   -h, --help              this text
#
# It refuses a target that already has tables in the public schema: restore
# into a new database, check it, then point INFRASHARE_DATABASE_URL at it
# (never restore over the live one). After a restore, `infrashare migrate`
# brings an older dump up to the running release.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

url="${INFRASHARE_DATABASE_URL:-}"
in=""
owner_flags=(--no-owner --no-privileges)
while [ $# -gt 0 ]; do
  case "$1" in
    -d|--database-url) url="${2:?$1 needs a value}"; shift 2 ;;
    --database-url=*)  url="${1#*=}"; shift ;;
    -i|--input)        in="${2:?$1 needs a value}"; shift 2 ;;
    --input=*)         in="${1#*=}"; shift ;;
    --keep-owner)      owner_flags=(); shift ;;
    -h|--help)         usage; exit 0 ;;
    *) echo "restore.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

case "$url" in
  postgres://*|postgresql://*) ;;
  "") echo "restore.sh: no database: pass -d URL or set INFRASHARE_DATABASE_URL" >&2; exit 2 ;;
  *) echo "restore.sh: the target must be a PostgreSQL URL" >&2; exit 2 ;;
esac
[ -n "$in" ] || { echo "restore.sh: no dump: pass -i FILE" >&2; exit 2; }
[ -r "$in" ] || { echo "restore.sh: cannot read $in" >&2; exit 2; }
for tool in pg_restore psql; do
  command -v "$tool" >/dev/null || { echo "restore.sh: $tool not found (Debian: apt-get install postgresql-client)" >&2; exit 2; }
done

# A dump restored over existing tables would mix two histories (and the
# audit chain with them): only an empty database is accepted.
tables=$(psql --no-psqlrc -tAX --dbname="$url" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "restore.sh: the target database is not empty ($tables tables in schema public); restore into a new database" >&2
  exit 1
fi

pg_restore --exit-on-error --single-transaction "${owner_flags[@]}" --dbname="$url" "$in"
# Fresh planner statistics: a restored database has none until autovacuum runs.
psql --no-psqlrc -qtAX --dbname="$url" -c "ANALYZE" >/dev/null
echo "restore.sh: restored $in into the database"

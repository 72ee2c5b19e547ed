#!/usr/bin/env bash
# Back up an infrashare PostgreSQL database with pg_dump in its custom
# format (-Fc): compressed, one file, restored with scripts/restore.sh
# (pg_restore) into an empty database. The dump is consistent: pg_dump
# reads one snapshot, so replicas may keep serving while it runs.
#
# Usage:
#   scripts/backup.sh [-d DATABASE_URL] [-o FILE]
#
#   -d, --database-url URL  the database to dump (default: $INFRASHARE_DATABASE_URL)
#   -o, --output FILE       where to write the dump (default:
#                           infrashare-YYYYMMDDTHHMMSSZ.dump in the current folder)
#   -h, --help              this text
#
# The file is written under a temporary name and renamed when pg_dump has
# succeeded, so a FILE that exists is always a complete dump. Needs pg_dump
# of the server's major version or newer (Debian: postgresql-client).
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

url="${INFRASHARE_DATABASE_URL:-}"
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    -d|--database-url) url="${2:?$1 needs a value}"; shift 2 ;;
    --database-url=*)  url="${1#*=}"; shift ;;
    -o|--output)       out="${2:?$1 needs a value}"; shift 2 ;;
    --output=*)        out="${1#*=}"; shift ;;
    -h|--help)         usage; exit 0 ;;
    *) echo "backup.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

case "$url" in
  postgres://*|postgresql://*) ;;
  "") echo "backup.sh: no database: pass -d URL or set INFRASHARE_DATABASE_URL" >&2; exit 2 ;;
  *) echo "backup.sh: only PostgreSQL is backed up this way (got ${url%%://*}://); for SQLite copy the file with sqlite3 .backup" >&2; exit 2 ;;
esac
command -v pg_dump >/dev/null || { echo "backup.sh: pg_dump not found (Debian: apt-get install postgresql-client)" >&2; exit 2; }
[ -n "$out" ] || out="infrashare-$(date -u +%Y%m%dT%H%M%SZ).dump"

tmp="$out.partial"
trap 'rm -f "$tmp"' EXIT
# --no-owner/--no-privileges are left to the restore (it decides whose the
# objects become); the dump keeps everything.
pg_dump --format=custom --compress=6 --file="$tmp" --dbname="$url"
mv "$tmp" "$out"
trap - EXIT
echo "backup.sh: wrote $out ($(wc -c <"$out") bytes)"

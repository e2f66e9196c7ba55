#!/usr/bin/env bash
# Where the PostgreSQL queue's time goes: the HTTP queue cycle (scripts/bench_queue.lua) for 5 s
# with one son1k instance, then split over two on one database, each followed by the
# statements pg_stat_statements counted (calls, total ms, text) and their sum. Statements per
# job and lock waits (a statement whose total ms is far above its peers) show what a second
# instance adds. Needs a release build (make bench builds one) and PostgreSQL 15.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(cd .build/release && pwd)
DURATION=5s
work=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PG_BIN=/usr/lib/postgresql/15/bin
pg_dir=$(mktemp -d /tmp/son1k-profile-pg.XXXXXX); if [ "$(id -u)" = 0 ]; then chown postgres:postgres $pg_dir; fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_port=$(free_port)
as_pg $PG_BIN/initdb -D $pg_dir/data -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
as_pg $PG_BIN/pg_ctl -D $pg_dir/data -l $pg_dir/server.log -w -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c synchronous_commit=off -c max_connections=200 -c shared_preload_libraries=pg_stat_statements" start >/dev/null
pids=()
cleanup() { for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true; as_pg $PG_BIN/pg_ctl -D $pg_dir/data -m immediate stop >/dev/null 2>&1 || true; rm -rf $pg_dir $work; }
trap cleanup EXIT
P() { psql -qtA -h 127.0.0.1 -p $pg_port -U postgres -d son1k -c "$1"; }
psql -q -h 127.0.0.1 -p $pg_port -U postgres -c "CREATE DATABASE son1k" >/dev/null
P "CREATE EXTENSION pg_stat_statements" >/dev/null
url="postgres://postgres@127.0.0.1:$pg_port/son1k?sslmode=disable"
serve() {
  local p; p=$(free_port)
  cat > $work/$1.json <<JSON
{ "kernel": { "listen": "127.0.0.1:$p", "data_dir": "$work/data-$1", "bcrypt_cost": 4 },
  "plugins": [ { "name": "hello", "library": "Son1kHello" },
               { "name": "cplugin", "library": "$BIN/libSon1kTestCPlugin.so" },
               { "name": "generation", "library": "Son1kGeneration", "config": { "builtin_workers": 0, "max_active_per_user": 10000 } },
               { "name": "tiers", "library": "Son1kTiers", "config": { "tiers": { "FREE": { "limit": 1000000 } } } },
               { "name": "pool", "library": "Son1kPool" },
               { "name": "lyrics", "library": "Son1kLyrics", "config": { "engines": ["offline"] } },
               { "name": "voice", "library": "Son1kVoice", "config": { "workers": 1 } },
               { "name": "tasks", "library": "$BIN/libSon1kTestTasks.so" } ] }
JSON
  DATABASE_URL="$url" SON1K_ADMIN_PASSWORD=bench-admin-pass SON1K_LOG_LEVEL=warning $BIN/son1k serve --config $work/$1.json > $work/$1.log 2>&1 &
  pids+=($!)
  local d=$(( $(date +%s) + 60 )); until curl -sf http://127.0.0.1:$p/health >/dev/null; do [ $(date +%s) -lt $d ] || { echo "$1 did not start"; cat $work/$1.log; exit 1; }; sleep 0.2; done
  eval "base_$1=http://127.0.0.1:$p"
}
serve a
# PROFILE_USERS users (8 as make bench; 1 shows one user's submissions taking turns on its row
# lock), connection i submitting as user i; with two instances each serves half of them.
users=()
for i in $(seq "${PROFILE_USERS:-8}"); do
  users+=("$(curl -sf -X POST "$base_a/api/auth/register" -d "{\"email\":\"queue$i@example.com\",\"username\":\"queue$i\",\"password\":\"bench-password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')")
done
half=$(( (${#users[@]} + 1) / 2 ))
token=$(IFS=,; echo "${users[*]}")
token_a=$(IFS=,; echo "${users[*]:0:$half}")
token_b=$(IFS=,; echo "${users[*]:$(( ${#users[@]} > 1 ? half : 0 ))}")
admin=$(curl -sf -X POST "$base_a/api/auth/login" -d '{"email":"admin@son1k.local","password":"bench-admin-pass"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
worker=$(curl -sf -X POST "$base_a/api/admin/tokens" -H "Authorization: Bearer $admin" -d '{"name":"bench","role":"worker"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
qw() { USER_TOKENS="$3" WORKER_TOKEN="$4" WORKER_PREFIX="${5:-wrk}" wrk -t"$2" -c"$2" -d"$DURATION" -s scripts/bench_queue.lua "$1" | python3 -c 'import re,sys; print(re.search(r"jobs_per_second: (\d+)", sys.stdin.read()).group(1))'; }
drain() { local d=$(( $(date +%s) + 60 )); until [ "$(P "SELECT COUNT(*) FROM kernel_deliveries WHERE status='pending'")" = 0 ]; do [ $(date +%s) -lt $d ] || { echo "pending: $(P "SELECT subscriber, COUNT(*), max(last_error) FROM kernel_deliveries WHERE status='pending' GROUP BY 1")"; return; }; sleep 0.5; done; }
report() {
  P "SELECT calls, round(total_exec_time::numeric,0) AS ms, left(regexp_replace(query, '\s+', ' ', 'g'), 150) FROM pg_stat_statements WHERE dbid=(SELECT oid FROM pg_database WHERE datname='son1k') ORDER BY calls DESC LIMIT 30"
  P "SELECT sum(calls) FROM pg_stat_statements WHERE dbid=(SELECT oid FROM pg_database WHERE datname='son1k')"
}
qw $base_a 8 $token $worker warm >/dev/null; drain
P "SELECT pg_stat_statements_reset()" >/dev/null
n=$(P "SELECT COUNT(*) FROM generation_jobs"); one=$(qw $base_a 8 $token $worker one); drain; m=$(P "SELECT COUNT(*) FROM generation_jobs")
echo "== one instance: $one jobs/s, jobs $((m-n))"; report
serve b
qw $base_b 8 $token $worker warmb >/dev/null; drain
P "SELECT pg_stat_statements_reset()" >/dev/null
n=$(P "SELECT COUNT(*) FROM generation_jobs")
qw $base_a 4 $token_a $worker a > $work/ta & qa=$!; qw $base_b 4 $token_b $worker b > $work/tb; wait $qa
drain; m=$(P "SELECT COUNT(*) FROM generation_jobs")
echo "== two instances: $(( $(cat $work/ta) + $(cat $work/tb) )) jobs/s, jobs $((m-n))"; report

# Sourced by scripts/bench.sh after its SQLite figures: the same write route, tiers routes
# and HTTP queue on PostgreSQL 15, with one son1k instance and then two on one database, in
# the same run so each figure is a ratio to SQLite's. The server is a throwaway cluster in
# $work, durable as the kernel's SQLite is (synchronous_commit=off: a commit survives a
# crash of the server process, not of the machine; fsync stays on).
#   Needs from bench.sh: BIN, work, free_port, register, write_script, measure, median,
#   median_of, queue_wrk, DURATION, ROUNDS, CONNECTIONS. Sets pg_* variables.

PG_BIN=/usr/lib/postgresql/15/bin
# A folder of its own: $work is private to this user, and as root the server runs as postgres.
pg_dir=$(mktemp -d /tmp/son1k-bench-pg.XXXXXX)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$pg_dir"; fi
pg_port=$(free_port)
as_pg "$PG_BIN/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c synchronous_commit=off -c max_connections=200" start >/dev/null
pg_stop() {
    as_pg "$PG_BIN/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE son1k" >/dev/null
pg_url="postgres://postgres@127.0.0.1:$pg_port/son1k?sslmode=disable"

pg_serve() {  # pg_serve NAME: an instance on the bench database; sets pg_pid_NAME and pg_base_NAME
    local p; p=$(free_port)
    sed -e "s#\"listen\": \"[^\"]*\"#\"listen\": \"127.0.0.1:$p\"#" -e "s#\"data_dir\": \"[^\"]*\"#\"data_dir\": \"$work/pg-$1\"#" \
        "$work/plugins.json" > "$work/pg-$1.json"
    DATABASE_URL="$pg_url" SON1K_ADMIN_PASSWORD=bench-admin-pass SON1K_LOG_LEVEL=warning \
        "$BIN/son1k" serve --config "$work/pg-$1.json" >"$work/pg-$1.log" 2>&1 &
    local pid=$!
    until curl -sf "http://127.0.0.1:$p/health" >/dev/null; do
        kill -0 $pid 2>/dev/null || { cat "$work/pg-$1.log"; pg_stop; exit 1; }
    done
    printf -v "pg_pid_$1" %s "$pid"
    printf -v "pg_base_$1" %s "http://127.0.0.1:$p"
}

pg_serve a
pg_token=$(register "$pg_base_a")
pg_admin=$(curl -sf -X POST "$pg_base_a/api/auth/login" -d '{"email":"admin@son1k.local","password":"bench-admin-pass"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
pg_worker=$(curl -sf -X POST "$pg_base_a/api/admin/tokens" -H "Authorization: Bearer $pg_admin" -d '{"name":"bench","role":"worker"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
write_script "$pg_token" > "$work/pg_post.lua"
sed -e "s#Bearer [A-Za-z0-9._-]*#Bearer $pg_token#" "$work/record.lua" > "$work/pg_record.lua"
echo "wrk.headers[\"Authorization\"] = \"Bearer $pg_token\"" > "$work/pg_auth.lua"
wrk -t1 -c"$CONNECTIONS" -d2s -s "$work/pg_auth.lua" "$pg_base_a/api/tiers/limits/me" >/dev/null

declare -A pg_runs
for round in $(seq "$ROUNDS"); do
    pg_runs[limits]+="$(measure -s "$work/pg_auth.lua" "$pg_base_a/api/tiers/limits/me");"
done
for round in $(seq "$ROUNDS"); do
    pg_runs[record]+="$(measure -s "$work/pg_record.lua" "$pg_base_a/api/tiers/record-generation");"
done
# Wait (at most 120 s) until every action published so far was delivered: a backlog left by
# the previous figure's writes would be worked off during the next figure, taking its CPU.
pg_drain() {
    local deadline=$(( $(date +%s) + 120 ))
    while [ "$(psql -tA -h 127.0.0.1 -p "$pg_port" -U postgres -d son1k -c "SELECT COUNT(*) FROM kernel_deliveries WHERE status = 'pending'")" != 0 ]; do
        [ "$(date +%s)" -lt "$deadline" ] || { echo "warning: deliveries still pending after 120 s" >&2; return; }
        sleep 0.5
    done
}
pg_drain
pg_xacts() { psql -tA -F' ' -h 127.0.0.1 -p "$pg_port" -U postgres -d son1k -c "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = 'son1k'"; }
read pg_commits0 pg_rollbacks0 < <(pg_xacts)
# Eight users, one per connection, as on SQLite; with two instances each serves four of them.
pg_queue_users=$(users "$pg_base_a" 8)
IFS=, read -ra pg_queue_user <<< "$pg_queue_users"
pg_users_a=$(IFS=,; echo "${pg_queue_user[*]:0:4}")
pg_users_b=$(IFS=,; echo "${pg_queue_user[*]:4:4}")
pg_one=()
for round in $(seq "$ROUNDS"); do pg_one+=("$(queue_wrk "$pg_base_a" 8 "$pg_queue_users" "$pg_worker")"); done
# Transactions that ended in ROLLBACK while the queue ran, against those committed: on
# PostgreSQL nearly all are serialization failures the kernel then runs again.
read pg_commits1 pg_rollbacks1 < <(pg_xacts)
pg_queue_rollbacks_per_commit=$(python3 -c "print(f'{($pg_rollbacks1 - $pg_rollbacks0) / max(1, $pg_commits1 - $pg_commits0):.2f}')")
for round in $(seq "$ROUNDS"); do
    pg_runs[write]+="$(measure -s "$work/pg_post.lua" "$pg_base_a/api/hello/greetings");"
done

# Two instances: the same 8 connections (and users) split over both, both wrk runs at once.
pg_drain
pg_serve b
pg_two=()
for round in $(seq "$ROUNDS"); do
    queue_wrk "$pg_base_a" 4 "$pg_users_a" "$pg_worker" a > "$work/pg_two_a" &
    queue_wrk "$pg_base_b" 4 "$pg_users_b" "$pg_worker" b > "$work/pg_two_b"
    wait $!
    pg_two+=("$(( $(cat "$work/pg_two_a") + $(cat "$work/pg_two_b") ))")
done
kill "$pg_pid_a" "$pg_pid_b" 2>/dev/null || true
wait "$pg_pid_a" "$pg_pid_b" 2>/dev/null || true
pg_stop

read pg_write_rps pg_write_p99 < <(median "${pg_runs[write]}")
read pg_limits_rps pg_limits_p99 < <(median "${pg_runs[limits]}")
read pg_record_rps pg_record_p99 < <(median "${pg_runs[record]}")
pg_queue_one=$(median_of "${pg_one[@]}")
pg_queue_two=$(median_of "${pg_two[@]}")
echo "postgres runs: write=${pg_runs[write]} limits=${pg_runs[limits]} record=${pg_runs[record]} queue one=${pg_one[*]} two=${pg_two[*]}"

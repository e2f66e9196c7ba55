/*
 * son1k_plugin.h — the binary contract between the son1k kernel and its plugins.
 *
 * This header is the ONLY binary interface. A plugin is a shared object exporting one
 * symbol, `son1k_plugin_entry`, which returns a `son1k_plugin_api_t`. The kernel answers
 * with a `son1k_host_api_t` passed to `init`. Everything richer than a string or a byte
 * buffer crosses the boundary as UTF-8 JSON; request and response bodies cross as raw bytes.
 *
 * Versioning
 *   Both tables start with `abi_version` (major << 16 | minor) and `struct_size`.
 *   Tables are append-only: a new minor version may add fields at the end, never move or
 *   remove one. A plugin loads when its major equals the kernel's and its minor is <= the
 *   kernel's. A reader must check `struct_size` before touching a field added later.
 *
 * Ownership (the one rule)
 *   A buffer belongs to the side that allocated it and is released by that side's
 *   `free_buffer`. Buffers the host fills through an `out` parameter are released with
 *   `host->free_buffer`; buffers the plugin fills are released by the kernel through
 *   `plugin->free_buffer`. Pointers the host passes INTO a plugin callback (request fields,
 *   topics, payloads) are valid only for the duration of that callback: copy what you keep.
 *
 * Threads
 *   The kernel calls `handle_request`, `handle_event` and `handle_call` from a pool of
 *   threads, concurrently and in no particular order. Handlers must be thread-safe. They may
 *   block (database, HTTP): they run off the network event loops. Every host function may be
 *   called from any thread, but only between `init` and the return of `stop`.
 *
 * Errors
 *   Host functions return a `son1k_status_t`. On failure, when an `out` buffer was given, it
 *   receives a JSON problem `{"status": <http status>, "code": "...", "detail": "..."}`.
 */
#ifndef SON1K_PLUGIN_H
#define SON1K_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SON1K_ABI_MAJOR 1
#define SON1K_ABI_MINOR 5
#define SON1K_ABI_VERSION ((SON1K_ABI_MAJOR << 16) | SON1K_ABI_MINOR)

/** Name of the single symbol every plugin exports. */
#define SON1K_PLUGIN_ENTRY_SYMBOL "son1k_plugin_entry"

/** Result of every fallible call, in both directions. */
typedef int32_t son1k_status_t;
enum {
    SON1K_OK = 0,              /* success */
    SON1K_VETO = 1,            /* a hook subscriber refused; `out` holds {status, code, detail} */
    SON1K_ERR_INVALID = -1,    /* bad arguments or malformed JSON from the caller */
    SON1K_ERR_NOT_FOUND = -2,  /* no such row, blob, service or route */
    SON1K_ERR_DENIED = -3,     /* not allowed: table prefix, egress host, ownership */
    SON1K_ERR_FAILED = -4,     /* the operation ran and failed (SQL error, I/O, upstream) */
};

/** Log levels for `host->log`. */
enum {
    SON1K_LOG_DEBUG = 0,
    SON1K_LOG_INFO = 1,
    SON1K_LOG_WARNING = 2,
    SON1K_LOG_ERROR = 3,
};

/** Metric kinds for `host->metric`. */
enum {
    SON1K_METRIC_COUNTER = 0,   /* value is added to the counter */
    SON1K_METRIC_GAUGE = 1,     /* value replaces the gauge */
    SON1K_METRIC_HISTOGRAM = 2, /* value is observed (seconds for durations) */
};

/** Event kinds for `host->publish`. */
enum {
    SON1K_EVENT_HOOK = 0,   /* synchronous, inside the publisher's transaction, may veto */
    SON1K_EVENT_ACTION = 1, /* durable, delivered after commit, at least once */
};

/** A borrowed UTF-8 string: not NUL-terminated, valid only as long as its owner says. */
typedef struct son1k_str {
    const char *data;
    size_t len;
} son1k_str_t;

/** A borrowed name/value pair (headers, route parameters). */
typedef struct son1k_pair {
    son1k_str_t name;
    son1k_str_t value;
} son1k_pair_t;

/**
 * An owned byte buffer. `data` was allocated by one side and must be released by that
 * side's `free_buffer`. `{NULL, 0}` is the empty buffer and needs no release.
 */
typedef struct son1k_buffer {
    uint8_t *data;
    size_t len;
} son1k_buffer_t;

/** Opaque identity of a plugin inside the kernel. Pass it back unchanged to every host call. */
typedef struct son1k_host_ctx son1k_host_ctx_t;

/** A database transaction handle; 0 means "no transaction" (autocommit). */
typedef uint64_t son1k_txn_t;

/**
 * An HTTP request routed to a plugin. Every pointer is owned by the kernel and valid only
 * during the `handle_request` call.
 */
typedef struct son1k_request {
    uint32_t struct_size;           /* sizeof(son1k_request_t) as the kernel knows it */
    uint32_t route_index;           /* index into the manifest's "routes" array */
    son1k_str_t method;             /* "GET", "POST", ... */
    son1k_str_t path;               /* the decoded path, without the query */
    son1k_str_t query;              /* the raw query string, without '?' (may be empty) */
    son1k_str_t request_id;         /* echoed in logs and in the X-Request-Id header */
    const son1k_pair_t *params;     /* route parameters, e.g. {user_id} */
    size_t params_count;
    const son1k_pair_t *headers;    /* request headers, names lower-cased */
    size_t headers_count;
    son1k_str_t principal_id;       /* empty when anonymous */
    son1k_str_t principal_role;     /* "user" | "admin" | "worker", empty when anonymous */
    son1k_str_t principal_kind;     /* "user" (JWT) | "token" (API token), empty when anonymous */
    const uint8_t *body;            /* the raw request body, never re-encoded */
    size_t body_len;
    /* Since 1.1 (check struct_size): the handle for `host->response_stream` when the route
     * declares "stream": true, otherwise 0. */
    uint64_t stream;
} son1k_request_t;

/**
 * The plugin's answer to a request. The plugin fills it; the kernel reads it after
 * `handle_request` returns and then releases `headers` and `body` with `plugin->free_buffer`.
 */
typedef struct son1k_response {
    int32_t status;           /* HTTP status code */
    son1k_buffer_t headers;   /* "Name: value\n" lines (UTF-8); may be empty */
    son1k_buffer_t body;      /* raw response bytes; may be empty */
} son1k_response_t;

/**
 * Services the kernel offers a plugin. Passed to `init`; valid until `stop` returns.
 * Every function takes the `ctx` given to `init` so the kernel knows which plugin calls.
 */
typedef struct son1k_host_api {
    uint32_t abi_version;   /* SON1K_ABI_VERSION of the kernel */
    uint32_t struct_size;   /* sizeof(son1k_host_api_t) as the kernel knows it */

    /** Write one log line tagged with the plugin's name. `msg` is borrowed for the call. */
    void (*log)(son1k_host_ctx_t *ctx, int32_t level, const char *msg, size_t msg_len);

    /**
     * Record a metric, exported at GET /metrics as `son1k_plugin_<name>` with a
     * `plugin` label. `labels` is "key=value,key=value" or empty; both strings borrowed.
     */
    void (*metric)(son1k_host_ctx_t *ctx, int32_t kind, const char *name, size_t name_len,
                   double value, const char *labels, size_t labels_len);

    /** The plugin's validated configuration (defaults applied) as JSON, into `out` (host-owned). */
    son1k_status_t (*config_get)(son1k_host_ctx_t *ctx, son1k_buffer_t *out);

    /**
     * A secret by name: the value of a config field its schema marks `"x-secret": true`.
     * Secrets never appear in responses or logs. `out` receives the raw value (host-owned).
     */
    son1k_status_t (*secret_get)(son1k_host_ctx_t *ctx, const char *name, size_t name_len,
                                 son1k_buffer_t *out);

    /**
     * Execute one SQL statement with `?` placeholders. `params` is a JSON array of
     * null | number | string | boolean (may be empty for none). Tables touched must carry
     * the plugin's prefix. With `txn` = 0 the statement commits on its own.
     * `out` receives {"changes": n, "last_insert_id": n} (host-owned).
     */
    son1k_status_t (*db_exec)(son1k_host_ctx_t *ctx, son1k_txn_t txn, const char *sql,
                              size_t sql_len, const char *params, size_t params_len,
                              son1k_buffer_t *out);

    /** Run a query; `out` receives a JSON array of row objects keyed by column name. */
    son1k_status_t (*db_query)(son1k_host_ctx_t *ctx, son1k_txn_t txn, const char *sql,
                               size_t sql_len, const char *params, size_t params_len,
                               son1k_buffer_t *out);

    /**
     * Begin a write transaction; `*txn` receives its handle. The same thread (or a hook
     * subscriber it triggers) must end it with `db_commit` or `db_rollback`. A transaction
     * left open past the kernel's limit is rolled back.
     */
    son1k_status_t (*db_begin)(son1k_host_ctx_t *ctx, son1k_txn_t *txn, son1k_buffer_t *out);

    /** Commit; pending actions published in it are delivered afterwards. Only a transaction
     *  the plugin began itself: one it was lent (a hook's, a transactional delivery's, a job's)
     *  answers SON1K_ERR_DENIED, and so does rolling it back. */
    son1k_status_t (*db_commit)(son1k_host_ctx_t *ctx, son1k_txn_t txn, son1k_buffer_t *out);

    /** Roll back; actions published in it are discarded. Always ends a transaction the plugin began. */
    son1k_status_t (*db_rollback)(son1k_host_ctx_t *ctx, son1k_txn_t txn);

    /**
     * Publish an event. `payload` is JSON `{"user_id": "..."?, "data": {...}}`.
     * HOOK: subscribers run now, in order, inside `txn`; `out` receives `{"data": ...}` as
     *   modified by them, or SON1K_VETO with `{status, code, detail}`. Since 1.3 `out` stays
     *   empty when no plugin subscribes: the payload is unchanged.
     * ACTION: written to the outbox inside `txn` (or on its own when `txn` = 0) and
     *   delivered after commit; `out` receives `{"id": "<event id>"}`.
     */
    son1k_status_t (*publish)(son1k_host_ctx_t *ctx, son1k_txn_t txn, int32_t kind,
                              const char *topic, size_t topic_len, const char *payload,
                              size_t payload_len, son1k_buffer_t *out);

    /** Call a service another plugin offers; `out` receives its JSON answer (host-owned). */
    son1k_status_t (*call)(son1k_host_ctx_t *ctx, const char *service, size_t service_len,
                           const char *input, size_t input_len, son1k_buffer_t *out);

    /**
     * Make an outbound HTTP request. `request` is JSON
     * `{"method", "url", "headers": {name: value}, "timeout_s", "proxy"?}`; `body` raw bytes
     * (may be empty). Only hosts listed in the plugin's config field `egress_hosts` are
     * reachable, the proxy's host included; redirects are not followed. `proxy` is a proxy
     * URL (`http://user:password@host:port`) for this request alone; it never appears in logs
     * or errors. `out_meta` receives `{"status", "headers"}`, `out_body` the raw body (both
     * host-owned).
     */
    son1k_status_t (*http_fetch)(son1k_host_ctx_t *ctx, const char *request, size_t request_len,
                                 const uint8_t *body, size_t body_len, son1k_buffer_t *out_meta,
                                 son1k_buffer_t *out_body);

    /**
     * Store bytes as a content-addressed blob. `meta` is JSON
     * `{"content_type", "owner_id"?, "public"?}`. `out` receives
     * `{"id", "sha256", "size", "content_type"}` (host-owned).
     */
    son1k_status_t (*blob_put)(son1k_host_ctx_t *ctx, const char *meta, size_t meta_len,
                               const uint8_t *data, size_t data_len, son1k_buffer_t *out);

    /** Read a blob: `out_meta` gets its metadata JSON, `out_data` its bytes (host-owned). */
    son1k_status_t (*blob_get)(son1k_host_ctx_t *ctx, const char *id, size_t id_len,
                               son1k_buffer_t *out_meta, son1k_buffer_t *out_data);

    /** Delete a blob's record (the file goes when no record references its content). */
    son1k_status_t (*blob_delete)(son1k_host_ctx_t *ctx, const char *id, size_t id_len,
                                  son1k_buffer_t *out);

    /**
     * Ask the kernel to deliver the action `topic` to its subscribers every `every_s`
     * seconds (first after one period). Call from `start`.
     */
    son1k_status_t (*schedule)(son1k_host_ctx_t *ctx, uint32_t every_s, const char *topic,
                               size_t topic_len, son1k_buffer_t *out);

    /** Wall-clock time in milliseconds since the Unix epoch, as the kernel sees it. Use this,
     *  not the system clock, for time-based rules (quotas, resets): tests fix it through
     *  SON1K_TEST_CLOCK_FILE to cross day and month boundaries without waiting. */
    int64_t (*now_ms)(son1k_host_ctx_t *ctx);

    /** Release a buffer the host filled. Safe on `{NULL, 0}`; resets it to empty. */
    void (*free_buffer)(son1k_buffer_t *buffer);

    /**
     * Since 1.1 (check struct_size). Stream the response of a request whose route declares
     * "stream": true, from inside its `handle_request`, on that call's thread. `stream` is
     * the request's `stream` handle. The first call must carry `head`, JSON
     * `{"status": 200, "headers": {"Content-Type": "application/x-ndjson"}}`, which the
     * client receives at once; every call's `data` (may be empty) is sent as it comes.
     * `head` and `data` are borrowed for the call. Once streaming started, the response
     * `handle_request` returns is ignored and the body ends when it returns. A handler that
     * never calls this answers with its returned response as usual.
     * Returns SON1K_ERR_FAILED when the client has gone (stop producing), SON1K_ERR_INVALID
     * for a second head or data before the head, SON1K_ERR_NOT_FOUND for an unknown handle.
     */
    son1k_status_t (*response_stream)(son1k_host_ctx_t *ctx, uint64_t stream, const char *head, size_t head_len,
                                      const uint8_t *data, size_t data_len);

    /**
     * Since 1.1 (check struct_size). Like `http_fetch`, but the response body is handed to
     * `on_body` in pieces as they arrive, on the calling thread, before this returns: `meta`
     * is the response's `{"status", "headers"}` JSON and `data` the next piece (both borrowed
     * for the call). Return 0 from `on_body` to go on, non-zero to stop the transfer early.
     * `out_meta` receives `{"status", "headers"}` at the end, or the problem (host-owned).
     * A failure after pieces were delivered (dropped connection, time limit) is an error too.
     */
    son1k_status_t (*http_fetch_stream)(son1k_host_ctx_t *ctx, const char *request, size_t request_len,
                                        const uint8_t *body, size_t body_len,
                                        int32_t (*on_body)(void *user, const char *meta, size_t meta_len,
                                                           const uint8_t *data, size_t data_len),
                                        void *user, son1k_buffer_t *out_meta);

    /**
     * Since 1.3 (check struct_size). The kernel's job queue (docs/PLUGINS.md "Jobs"). `op`
     * names the operation and `request` is its JSON; `out` receives the answer (host-owned):
     *   enqueue   {queue, kind, args, owner_id?, priority?, run_at_ms? | delay_s?, max_attempts?,
     *              timeout_s?, heartbeat_timeout_s?, backoff_base_ms?, max_postponements?,
     *              unique_key?, max_active_per_owner?} → the job (`"duplicate": true` when the
     *              unique key named an existing one). Inside `txn` the job exists only if it commits.
     *   enqueue_many  the same with `args` an array (no unique_key) → {ids}, in order
     *   get       {id} → the job;  list {queue?, owner_id?, states?, limit?, cursor?} → {jobs, next_cursor}
     *   lease     {queues, kinds?, worker, limit?} → {jobs}: each now `running` with its `lease_id`
     *   heartbeat {worker, job_ids} → {lost}: the ids among `job_ids` the worker no longer holds
     *   progress  {id, lease_id, progress}          complete {id, lease_id, result?}
     *   fail      {id, lease_id, error, retryable}  postpone {id, lease_id, reason, after_s}
     *   release   {id, lease_id} (back to the queue, the attempt not counted)
     *   cancel    {id}                              status   {id, lease_id} → {stop, reason?}
     *   run       {kind, queue, concurrency} (call from `start`: the kernel runs that many
     *              workers of its own, calling `handle_job`)
     * A job names only queues the plugin declared (manifest "jobs"); reports with a lease id
     * that is no longer the job's are refused with 409 `lease_lost` (or `job_cancelled`).
     */
    son1k_status_t (*queue)(son1k_host_ctx_t *ctx, son1k_txn_t txn, const char *op, size_t op_len,
                            const char *request, size_t request_len, son1k_buffer_t *out);

    /* ---- Added in ABI 1.4 (check struct_size) ---- */

    /**
     * The SQL dialect of the kernel's database, "sqlite" or "postgres": a NUL-terminated
     * string owned by the kernel and valid for the life of the process. Statements use the
     * portable subset; this is for the rare one that must be spelled differently.
     */
    const char *(*db_dialect)(son1k_host_ctx_t *ctx);

    /* ---- Added in ABI 1.5 (check struct_size) ---- */

    /**
     * Like `db_begin`, at an isolation level: SON1K_ISOLATION_SERIALIZABLE (what `db_begin`
     * gives) or SON1K_ISOLATION_READ_COMMITTED. SQLite runs every transaction serializably
     * (one writer); on PostgreSQL a READ COMMITTED transaction sees, in each statement, what
     * was committed when the statement began, and conflicts with others only on rows both
     * write (docs/PLUGINS.md "Isolation"). Any other level: SON1K_ERR_INVALID.
     */
    son1k_status_t (*db_begin_isolated)(son1k_host_ctx_t *ctx, int32_t isolation, son1k_txn_t *txn,
                                        son1k_buffer_t *out);
} son1k_host_api_t;

/** The levels `db_begin_isolated` takes. */
#define SON1K_ISOLATION_SERIALIZABLE 0
#define SON1K_ISOLATION_READ_COMMITTED 1

/**
 * What a plugin exports. The table and every pointer in it must stay valid for the life of
 * the process: the kernel never unloads a plugin.
 */
typedef struct son1k_plugin_api {
    uint32_t abi_version;   /* SON1K_ABI_VERSION the plugin was built against */
    uint32_t struct_size;   /* sizeof(son1k_plugin_api_t) as the plugin knows it */

    /**
     * NUL-terminated toolchain description. Swift plugins write "swift-MAJOR.MINOR" and are
     * refused unless it equals the kernel's (Swift has no stable ABI on Linux); a plugin in
     * C writes anything starting with "c".
     */
    const char *build_info;

    /**
     * The manifest, UTF-8 JSON, static: name, version, description, requires, config_schema,
     * routes, subscriptions, services, migrations. See docs/PLUGINS.md for its schema.
     */
    const char *manifest;
    size_t manifest_len;

    /**
     * Called once, before anything else. `host` and `ctx` stay valid until `stop` returns.
     * `config` is the validated config JSON (borrowed for the call). On failure return an
     * error and put a message in `err` (plugin-owned); the plugin is then disabled.
     */
    son1k_status_t (*init)(const son1k_host_api_t *host, son1k_host_ctx_t *ctx,
                           const char *config, size_t config_len, son1k_buffer_t *err);

    /** Called after every plugin is initialised and migrations ran; may schedule work. */
    son1k_status_t (*start)(son1k_buffer_t *err);

    /**
     * Serve one request. The plugin fills `response` (its buffers plugin-owned). A non-OK
     * return means the handler failed unexpectedly: the kernel answers 500 naming the plugin.
     */
    son1k_status_t (*handle_request)(const son1k_request_t *request, son1k_response_t *response);

    /**
     * Receive an event the plugin subscribed to. `envelope` is JSON
     * `{"id","topic","kind","occurred_at","user_id","data"}` (borrowed). For a hook, `txn` is
     * the publisher's transaction (use it for every write so a veto rolls them back) and
     * `out` may receive `{"data": ...}` to replace the payload, or, with SON1K_VETO,
     * `{status, code, detail}`. For an action `txn` is 0 and a non-OK return is retried —
     * unless the subscription is declared `"transactional": true`: then `txn` is the kernel's
     * delivery transaction, which also records the delivery (write in it, never commit or
     * roll it back; a non-OK return takes back this delivery's writes and is retried). That
     * transaction is serializable, or READ COMMITTED when the subscription also declares
     * `"isolation": "read_committed"` (since 1.5; docs/PLUGINS.md "Events").
     */
    son1k_status_t (*handle_event)(const char *topic, size_t topic_len, const char *envelope,
                                   size_t envelope_len, son1k_txn_t txn, son1k_buffer_t *out);

    /** Answer a service call: `input` JSON (borrowed), answer JSON into `out` (plugin-owned). */
    son1k_status_t (*handle_call)(const char *service, size_t service_len, const char *input,
                                  size_t input_len, son1k_buffer_t *out);

    /** Called once at shutdown, after `drain`. No host function may be called after it returns. */
    void (*stop)(void);

    /** Release a buffer the plugin filled. */
    void (*free_buffer)(son1k_buffer_t *buffer);

    /* Since 1.2 (the kernel checks struct_size). May be NULL: nothing to hand back. */

    /**
     * Called once when a graceful shutdown begins (SIGTERM or SIGINT), before `stop`, on a
     * thread of the kernel's: stop taking new background work (job leases, polling loops) and
     * hand back what is running, so another instance or the next start picks it up. Requests,
     * events and calls may still arrive until `stop`. Return within a few seconds: the
     * kernel's drain deadline (`shutdown_drain_s`, default 10 s) bounds the whole shutdown.
     */
    void (*drain)(void);

    /* Since 1.3 (the kernel checks struct_size). May be NULL: the plugin runs no jobs. */

    /**
     * Work on a job, on a thread of the kernel's. `envelope` is JSON (borrowed)
     * `{"phase": "run" | "changed", "job": {...}, "cause"?: "..."}`.
     * "run": the job is leased to this call (its `lease_id` is in `job`); return OK when the
     *   work is done (the kernel completes the job unless the plugin did), or non-OK with `out`
     *   `{"outcome": "failed" | "postponed" | "cancelled", "error", "retryable"?, "after_s"?}`.
     * "changed": the job changed state (`cause`: enqueued, leased, progress, completed,
     *   retrying, failed, timeout, cancelled, released, postponed, lost) inside `txn`, the
     *   transaction that changed it: write there what must change with it. Non-OK rolls the
     *   change back; `"conflict": true` in `out` (a statement answered 409
     *   `transaction_conflict`, PostgreSQL) makes the kernel run the change again.
     *   Sent only for the kinds the manifest marks "on_change".
     */
    son1k_status_t (*handle_job)(const char *envelope, size_t envelope_len, son1k_txn_t txn, son1k_buffer_t *out);
} son1k_plugin_api_t;

/** The signature of `son1k_plugin_entry`. */
typedef const son1k_plugin_api_t *(*son1k_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* SON1K_PLUGIN_H */

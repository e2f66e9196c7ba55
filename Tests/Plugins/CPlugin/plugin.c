/*
 * A son1k plugin in plain C, written against son1k_plugin.h alone. The tests load it to
 * prove the ABI needs nothing from Swift, and its /exercise route calls every host function.
 *
 *   GET  /api/cplugin/hello      public  {"message":"hello from C"}
 *   POST /api/cplugin/exercise   admin   calls every host function, reports what came back
 *   GET  /api/cplugin/log        public  the actions this plugin received
 *   action hello.greeted, cplugin.tick  recorded once per event id in cplugin_log
 *   service cplugin.echo                returns its input
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "son1k_plugin.h"

static const son1k_host_api_t *host;
static son1k_host_ctx_t *ctx;

static const char MANIFEST[] =
    "{\"name\":\"cplugin\",\"version\":\"0.1.0\",\"description\":\"A plugin written in C against the header alone.\","
    "\"requires\":[{\"name\":\"hello\",\"optional\":true}],"
    "\"config_schema\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"greeting\":{\"type\":\"string\",\"default\":\"hello from C\"},"
    "\"api_key\":{\"type\":\"string\",\"default\":\"\",\"x-secret\":true},"
    "\"egress_hosts\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"default\":[]}}},"
    "\"routes\":["
    "{\"method\":\"GET\",\"path\":\"/api/cplugin/hello\",\"auth\":\"public\",\"summary\":\"A greeting from C\"},"
    "{\"method\":\"POST\",\"path\":\"/api/cplugin/exercise\",\"auth\":\"admin\",\"summary\":\"Call every host function\"},"
    "{\"method\":\"GET\",\"path\":\"/api/cplugin/log\",\"auth\":\"public\",\"summary\":\"Actions received\"}],"
    "\"subscriptions\":[{\"topic\":\"hello.greeted\",\"kind\":\"action\",\"transactional\":true},{\"topic\":\"cplugin.tick\",\"kind\":\"action\"}],"
    "\"services\":[\"cplugin.echo\"],"
    "\"migrations\":[{\"version\":1,\"sql\":\"CREATE TABLE cplugin_log (event_id TEXT PRIMARY KEY, topic TEXT NOT NULL)\"}]}";

/* ---- a growable string, malloc'd so the kernel can release it with our free_buffer ---- */
typedef struct { char *data; size_t len, cap; } sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, n + 1, fmt, ap);
    va_end(ap);
    b->len += n;
}

/* Append a host buffer as a JSON string (escaping quotes and backslashes), then release it. */
static void sb_json_string(sbuf *b, son1k_buffer_t *buf) {
    sb_printf(b, "\"");
    for (size_t i = 0; i < buf->len; i++) {
        char c = (char)buf->data[i];
        if (c == '"' || c == '\\') sb_printf(b, "\\%c", c);
        else if ((unsigned char)c < 0x20) sb_printf(b, " ");
        else sb_printf(b, "%c", c);
    }
    sb_printf(b, "\"");
    host->free_buffer(buf);
}

/* Append a host buffer holding JSON verbatim (or null when empty), then release it. */
static void sb_json_raw(sbuf *b, son1k_buffer_t *buf) {
    if (buf->len == 0) sb_printf(b, "null");
    else sb_printf(b, "%.*s", (int)buf->len, (const char *)buf->data);
    host->free_buffer(buf);
}

static son1k_buffer_t give(sbuf *b) { son1k_buffer_t out = {(uint8_t *)b->data, b->len}; return out; }

static son1k_status_t respond(son1k_response_t *r, int status, sbuf *body) {
    static const char headers[] = "Content-Type: application/json\n";
    r->status = status;
    r->headers.data = malloc(sizeof headers - 1);
    memcpy(r->headers.data, headers, sizeof headers - 1);
    r->headers.len = sizeof headers - 1;
    r->body = give(body);
    return SON1K_OK;
}

#define CALL(expr) ((expr) == SON1K_OK ? "ok" : "error")
#define LIT(s) s, sizeof(s) - 1

/* The value of `key=` in a raw query string, copied into out. */
static void query_param(son1k_str_t query, const char *key, char *out, size_t cap) {
    out[0] = 0;
    size_t klen = strlen(key);
    const char *p = query.data, *end = query.data + query.len;
    while (p && p < end) {
        const char *amp = memchr(p, '&', end - p);
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t n = stop - p - klen - 1;
            if (n >= cap) n = cap - 1;
            memcpy(out, p + klen + 1, n);
            out[n] = 0;
            return;
        }
        p = amp ? amp + 1 : NULL;
    }
}

static son1k_status_t exercise(const son1k_request_t *req, son1k_response_t *resp) {
    sbuf b = {0};
    son1k_buffer_t out = {0}, out2 = {0};
    sb_printf(&b, "{");

    host->log(ctx, SON1K_LOG_INFO, LIT("exercise: starting"));
    host->metric(ctx, SON1K_METRIC_COUNTER, LIT("exercise_total"), 1.0, LIT("route=exercise"));

    host->config_get(ctx, &out);
    sb_printf(&b, "\"config\":"); sb_json_raw(&b, &out);

    host->secret_get(ctx, LIT("api_key"), &out);
    sb_printf(&b, ",\"secret_length\":%zu", out.len); host->free_buffer(&out);

    son1k_status_t denied = host->db_exec(ctx, 0, LIT("DELETE FROM kernel_users"), NULL, 0, &out);
    sb_printf(&b, ",\"foreign_table\":{\"status\":%d,\"problem\":", denied); sb_json_raw(&b, &out);
    sb_printf(&b, "}");

    son1k_txn_t txn = 0;
    host->db_begin(ctx, &txn, &out); host->free_buffer(&out);
    host->db_exec(ctx, txn, LIT("INSERT INTO cplugin_log (event_id, topic) VALUES (?, 'committed')"), LIT("[\"exercise-commit\"]"), &out);
    sb_printf(&b, ",\"exec\":"); sb_json_raw(&b, &out);
    host->db_query(ctx, txn, LIT("SELECT event_id, topic FROM cplugin_log WHERE event_id = ?"), LIT("[\"exercise-commit\"]"), &out);
    sb_printf(&b, ",\"query_in_txn\":"); sb_json_raw(&b, &out);
    sb_printf(&b, ",\"commit\":\"%s\"", CALL(host->db_commit(ctx, txn, &out))); host->free_buffer(&out);

    host->db_begin(ctx, &txn, &out); host->free_buffer(&out);
    host->db_exec(ctx, txn, LIT("INSERT INTO cplugin_log (event_id, topic) VALUES ('exercise-rollback', 'x')"), NULL, 0, &out);
    host->free_buffer(&out);
    sb_printf(&b, ",\"rollback\":\"%s\"", CALL(host->db_rollback(ctx, txn)));
    host->db_query(ctx, 0, LIT("SELECT COUNT(*) AS n FROM cplugin_log WHERE event_id = 'exercise-rollback'"), NULL, 0, &out);
    sb_printf(&b, ",\"after_rollback\":"); sb_json_raw(&b, &out);

    host->publish(ctx, 0, SON1K_EVENT_HOOK, LIT("cplugin.before_exercise"), LIT("{\"data\":{\"n\":1}}"), &out);
    sb_printf(&b, ",\"hook\":"); sb_json_raw(&b, &out);
    host->publish(ctx, 0, SON1K_EVENT_ACTION, LIT("cplugin.exercised"), LIT("{\"data\":{\"n\":2}}"), &out);
    sb_printf(&b, ",\"action\":"); sb_json_raw(&b, &out);

    son1k_status_t called = host->call(ctx, LIT("hello.greet"), LIT("{\"name\":\"C\"}"), &out);
    sb_printf(&b, ",\"call\":{\"status\":%d,\"answer\":", called); sb_json_raw(&b, &out);
    sb_printf(&b, "}");

    char url[512], request[700];
    query_param(req->query, "fetch", url, sizeof url);
    snprintf(request, sizeof request, "{\"method\":\"GET\",\"url\":\"%s\",\"timeout_s\":5}", url);
    son1k_status_t fetched = host->http_fetch(ctx, request, strlen(request), NULL, 0, &out, &out2);
    sb_printf(&b, ",\"fetch\":{\"status\":%d,\"meta\":", fetched); sb_json_raw(&b, &out);
    sb_printf(&b, ",\"body\":"); sb_json_string(&b, &out2);
    sb_printf(&b, "}");
    host->http_fetch(ctx, LIT("{\"url\":\"http://example.invalid/\"}"), NULL, 0, &out, &out2);
    sb_printf(&b, ",\"fetch_elsewhere\":"); sb_json_raw(&b, &out); host->free_buffer(&out2);

    static const uint8_t audio[] = {'R', 'I', 'F', 'F', 0, 1, 2, 3};
    host->blob_put(ctx, LIT("{\"content_type\":\"audio/wav\",\"public\":true}"), audio, sizeof audio, &out);
    char blob_id[128] = {0};
    const char *idp = out.len ? strstr((const char *)out.data, "\"id\":\"") : NULL;
    if (idp) { idp += 6; size_t n = strcspn(idp, "\""); if (n < sizeof blob_id) memcpy(blob_id, idp, n); }
    sb_printf(&b, ",\"blob\":"); sb_json_raw(&b, &out);
    host->blob_get(ctx, blob_id, strlen(blob_id), &out, &out2);
    sb_printf(&b, ",\"blob_roundtrip\":%s", out2.len == sizeof audio && memcmp(out2.data, audio, sizeof audio) == 0 ? "true" : "false");
    host->free_buffer(&out); host->free_buffer(&out2);
    sb_printf(&b, ",\"blob_delete\":\"%s\"", CALL(host->blob_delete(ctx, blob_id, strlen(blob_id), &out))); host->free_buffer(&out);
    son1k_status_t gone = host->blob_get(ctx, blob_id, strlen(blob_id), &out, &out2);
    sb_printf(&b, ",\"blob_after_delete\":%d", gone); host->free_buffer(&out); host->free_buffer(&out2);

    sb_printf(&b, ",\"now_ms\":%lld}", (long long)host->now_ms(ctx));
    return respond(resp, 200, &b);
}

static son1k_status_t c_init(const son1k_host_api_t *h, son1k_host_ctx_t *c, const char *config, size_t len, son1k_buffer_t *err) {
    (void)config; (void)len; (void)err;
    host = h;
    ctx = c;
    return SON1K_OK;
}

static son1k_status_t c_start(son1k_buffer_t *err) {
    /* A tick every hour: proves `schedule` from C; tests do not wait for it. */
    return host->schedule(ctx, 3600, LIT("cplugin.tick"), err);
}

static son1k_status_t c_handle_request(const son1k_request_t *req, son1k_response_t *resp) {
    sbuf b = {0};
    son1k_buffer_t out = {0};
    switch (req->route_index) {
    case 0:
        sb_printf(&b, "{\"message\":\"hello from C\"}");
        return respond(resp, 200, &b);
    case 1:
        return exercise(req, resp);
    case 2:
        host->db_query(ctx, 0, LIT("SELECT event_id, topic FROM cplugin_log ORDER BY event_id"), NULL, 0, &out);
        sb_printf(&b, "{\"items\":"); sb_json_raw(&b, &out); sb_printf(&b, "}");
        return respond(resp, 200, &b);
    default:
        sb_printf(&b, "{\"code\":\"route_not_found\"}");
        return respond(resp, 404, &b);
    }
}

/* hello.greeted is subscribed `transactional`: `txn` is the kernel's delivery transaction,
 * so the log row and the delivery's record commit together. A greeting of "refused-by-c" is
 * logged and then refused: the kernel must take the row back with the refusal. */
static son1k_status_t c_handle_event(const char *topic, size_t topic_len, const char *envelope, size_t len, son1k_txn_t txn,
                                     son1k_buffer_t *out) {
    (void)out;
    char id[128] = {0}, params[400];
    const char *p = memmem(envelope, len, "\"id\":\"", 6);
    if (!p) return SON1K_ERR_INVALID;
    p += 6;
    size_t n = strcspn(p, "\"");
    if (n >= sizeof id) return SON1K_ERR_INVALID;
    memcpy(id, p, n);
    int refusing = memmem(envelope, len, "\"name\":\"refused-by-c\"", 21) != NULL;
    if (txn && refusing) {
        /* A lent transaction is the kernel's to end: committing or rolling it back is refused.
         * (Tried only on the greetings refused anyway, so the benchmarks' deliveries stay lean.) */
        son1k_buffer_t refusal = {0};
        son1k_status_t c = host->db_commit(ctx, txn, &refusal);
        host->free_buffer(&refusal);
        if (c != SON1K_ERR_DENIED || host->db_rollback(ctx, txn) != SON1K_ERR_DENIED) return SON1K_ERR_FAILED;
    }
    snprintf(params, sizeof params, "[\"%s\",\"%.*s\"]", id, (int)topic_len, topic);
    son1k_buffer_t result = {0};
    son1k_status_t s = host->db_exec(ctx, txn, LIT("INSERT INTO cplugin_log (event_id, topic) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING"),
                                     params, strlen(params), &result);
    host->free_buffer(&result);
    if (s == SON1K_OK && refusing) return SON1K_ERR_FAILED;
    return s;
}

static son1k_status_t c_handle_call(const char *service, size_t service_len, const char *input, size_t len, son1k_buffer_t *out) {
    (void)service; (void)service_len;
    out->data = malloc(len ? len : 1);
    memcpy(out->data, input, len);
    out->len = len;
    return SON1K_OK;
}

static void c_stop(void) {}

static void c_free_buffer(son1k_buffer_t *buffer) {
    free(buffer->data);
    buffer->data = NULL;
    buffer->len = 0;
}

static const son1k_plugin_api_t API = {
    .abi_version = SON1K_ABI_VERSION,
    .struct_size = sizeof(son1k_plugin_api_t),
    .build_info = "c (gcc)",
    .manifest = MANIFEST,
    .manifest_len = sizeof MANIFEST - 1,
    .init = c_init,
    .start = c_start,
    .handle_request = c_handle_request,
    .handle_event = c_handle_event,
    .handle_call = c_handle_call,
    .stop = c_stop,
    .free_buffer = c_free_buffer,
};

const son1k_plugin_api_t *son1k_plugin_entry(void) { return &API; }

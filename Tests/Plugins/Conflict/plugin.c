/* A plugin that claims a route the hello plugin owns: start-up must fail naming both. */
#include <stddef.h>
#include "son1k_plugin.h"

static const char MANIFEST[] =
    "{\"name\":\"conflict\",\"version\":\"1.0.0\",\"routes\":["
    "{\"method\":\"GET\",\"path\":\"/api/hello/{who}\",\"auth\":\"public\",\"summary\":\"Shadows hello\"}]}";

static son1k_status_t init(const son1k_host_api_t *h, son1k_host_ctx_t *c, const char *cfg, size_t n, son1k_buffer_t *e) {
    (void)h; (void)c; (void)cfg; (void)n; (void)e;
    return SON1K_OK;
}
static son1k_status_t handle_request(const son1k_request_t *r, son1k_response_t *resp) { (void)r; resp->status = 204; return SON1K_OK; }
static son1k_status_t handle_event(const char *t, size_t tl, const char *e, size_t el, son1k_txn_t x, son1k_buffer_t *o) {
    (void)t; (void)tl; (void)e; (void)el; (void)x; (void)o;
    return SON1K_OK;
}
static son1k_status_t handle_call(const char *s, size_t sl, const char *i, size_t il, son1k_buffer_t *o) {
    (void)s; (void)sl; (void)i; (void)il; (void)o;
    return SON1K_ERR_NOT_FOUND;
}
static void free_buffer(son1k_buffer_t *b) { (void)b; }

static const son1k_plugin_api_t API = {
    .abi_version = SON1K_ABI_VERSION,
    .struct_size = sizeof(son1k_plugin_api_t),
    .build_info = "c",
    .manifest = MANIFEST,
    .manifest_len = sizeof MANIFEST - 1,
    .init = init,
    .handle_request = handle_request,
    .handle_event = handle_event,
    .handle_call = handle_call,
    .free_buffer = free_buffer,
};

const son1k_plugin_api_t *son1k_plugin_entry(void) { return &API; }

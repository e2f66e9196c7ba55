/* A plugin built for a future ABI major version: the kernel must refuse it by name. */
#include "son1k_plugin.h"

static const char MANIFEST[] = "{\"name\":\"future\",\"version\":\"9.0.0\"}";

static const son1k_plugin_api_t API = {
    .abi_version = ((SON1K_ABI_MAJOR + 1) << 16) | 0,
    .struct_size = sizeof(son1k_plugin_api_t),
    .build_info = "c",
    .manifest = MANIFEST,
    .manifest_len = sizeof MANIFEST - 1,
};

const son1k_plugin_api_t *son1k_plugin_entry(void) { return &API; }

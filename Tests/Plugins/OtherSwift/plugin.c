/* Claims to be a Swift plugin built by another Swift release: the kernel must refuse it
 * before calling anything, since Swift has no stable ABI on Linux. */
#include "son1k_plugin.h"

static const char MANIFEST[] = "{\"name\":\"oldswift\",\"version\":\"1.0.0\"}";

static const son1k_plugin_api_t API = {
    .abi_version = SON1K_ABI_VERSION,
    .struct_size = sizeof(son1k_plugin_api_t),
    .build_info = "swift-5.9",
    .manifest = MANIFEST,
    .manifest_len = sizeof MANIFEST - 1,
};

const son1k_plugin_api_t *son1k_plugin_entry(void) { return &API; }

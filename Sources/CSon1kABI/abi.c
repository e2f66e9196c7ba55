// The ABI is a header; this file only gives the C target a translation unit and lets the
// kernel ask which ABI version it was compiled with.
#include "son1k_plugin.h"

uint32_t son1k_abi_version(void) { return SON1K_ABI_VERSION; }

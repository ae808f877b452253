/* callsite.c - a call stack's frames written out (callsite.h) */
#include "analysis/report/callsite.h"

#include <stdio.h>
#include <string.h>

const char *gm_callsite_base(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

void gm_callsite_frames_json(gm_json_t *j, gm_symbols_t *sy, const uint64_t *pcs, unsigned n,
                             uint64_t when)
{
	char hex[24];
	unsigned k;
	gm_json_key(j, "frames");
	gm_json_array_begin(j);
	for (k = 0; k < n; k++) {
		gm_symbol_t y;
		gm_symbols_lookup(sy, pcs[k], when, &y);
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)pcs[k]);
		gm_json_object_begin(j);
		gm_json_key_string(j, "address", y.python ? NULL : hex);
		gm_json_key_string(j, "function", y.function);
		gm_json_key_string(j, "file", y.file);
		gm_json_key_u64(j, "line", (uint64_t)(y.line > 0 ? y.line : 0));
		gm_json_key_string(j, "module", y.module);
		gm_json_key_u64(j, "offset", y.offset);
		gm_json_key_bool(j, "python", y.python);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
}

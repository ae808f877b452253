/* as_scale.c - 10,000 assets holding 1.33 GB, loaded and unloaded over frames
 *
 *     as_scale [N]       N assets (default 10000, <= 10000)
 *
 * Asset i (0-based), named scale_NNNNN, type "blob", holds one block of
 * FX_SIZE(24 + i % 17) bytes (100075 .. 165611). Its pages are never
 * written: M_MMAP_THRESHOLD is fixed at 64 KiB (which also stops glibc
 * from raising it after frees), so every block is its own lazy mapping and
 * the process stays small however much the assets hold.
 *
 *   frames 1..100      frame f loads assets 100(f-1) .. 100f-1  (N/100 per
 *                      frame for other N; the last frame takes the rest)
 *   frames 101..150    frame 100 + g unloads 200 of them, oldest first
 *
 * So every asset is live at the end of frame 100: peak asset bytes = all
 * bytes. Expected for N = 10000: 10000 loads and unloads, 10000 allocations
 * and frees, 1328323504 bytes allocated and freed (peak the same), nothing
 * live at exit.
 */
#define _GNU_SOURCE
#include "as_common.h"

#include <malloc.h>

#define AS_MAX_ASSETS 10000u
#define AS_LOAD_FRAMES 100u
#define AS_UNLOAD_FRAMES 50u

static as_asset_t as_assets[AS_MAX_ASSETS];
static as_block_t as_blocks[AS_MAX_ASSETS];
static char as_names[AS_MAX_ASSETS][12];

int main(int argc, char **argv)
{
	uint64_t n, next = 0, out = 0, per_load, per_unload;
	fx_name = "scale";
	n = fx_arg_u64(argc > 1 ? argv[1] : NULL, AS_MAX_ASSETS);
	if (n < AS_LOAD_FRAMES || n > AS_MAX_ASSETS)
		fx_fail("usage", "as_scale [N], 100 <= N <= 10000");
	/* every block an mmap of its own, never touched: see the opening comment */
	if (mallopt(M_MMAP_THRESHOLD, 64 * 1024) != 1)
		fx_fail("mallopt", "M_MMAP_THRESHOLD refused");
	per_load = n / AS_LOAD_FRAMES;
	per_unload = (n + AS_UNLOAD_FRAMES - 1) / AS_UNLOAD_FRAMES;
	for (uint64_t i = 0; i < n; i++) {
		char *s = as_names[i];
		uint64_t v = i;
		memcpy(s, "scale_", 6);
		for (int d = 10; d >= 6; d--, v /= 10)
			s[d] = (char)('0' + v % 10);
		s[11] = 0;
		as_assets[i].name = s;
		as_assets[i].type = "blob";
	}
	(void)gmtrace_enabled(); /* the marker API's one-time lookup */

	for (unsigned f = 1; f <= AS_LOAD_FRAMES; f++) {
		uint64_t end = f == AS_LOAD_FRAMES ? n : next + per_load;
		for (; next < end; next++) {
			as_asset_t *a = &as_assets[next];
			as_load_begin(a);
			as_blocks[next] = as_alloc(a, NULL, 24 + next % 17, 0);
			as_load_end(a);
		}
		as_frame_end();
	}
	for (unsigned g = 1; g <= AS_UNLOAD_FRAMES; g++) {
		for (uint64_t j = 0; j < per_unload && out < n; j++, out++)
			as_unload(&as_assets[out], &as_blocks[out], 1);
		as_frame_end();
	}

	fx_json_begin();
	as_json_common();
	fx_json_u64("assets", n);
	fx_json_u64("loads", n);
	fx_json_u64("unloads", out);
	fx_json_u64("asset_bytes", as_total.alloc_bytes);
	fx_json_u64("peak_asset_bytes", as_total.peak_live_bytes);
	fx_json_u64("min_block_bytes", FX_SIZE(24));
	fx_json_u64("max_block_bytes", FX_SIZE(24 + 16));
	return fx_json_write(1) == 0 ? 0 : 1;
}

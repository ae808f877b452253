/* bu_touch.c - the eviction policies read every frame's touches, at every level
 *
 *     bu_touch lru|lfu [tag]
 *
 * One node, "textures", hard limit 3 MiB, texture type bound to it (with
 * "tag": the tag "render/textures" instead, every load made under it, the
 * assets' type "blob" bound to nothing), the policy given. Frame 1 loads A and B (1 MiB each) and touches both; frames
 * 2..30 touch A alone (twice a frame); frame 31 loads C (1 MiB), touches
 * it, and loads D (1 MiB): D does not fit, and the victim must be B under
 * both policies: touched in one frame and longest ago, where A was touched
 * in 30 frames and last in frame 30, C in one frame, frame 31 (LFU's tie
 * of B and C goes to the older asset).
 * The test runs it at the events and the frames level (whose capture has
 * one touch record per 60 frames: the policies must not be read from
 * what is recorded).
 *
 * JSON keys besides the verdicts: evicted (names, in call order),
 * last_touch_a, last_touch_b (the snapshot's last_touch_frame, taken in
 * the evictor: main frames ended before the last touch).
 */
#define _GNU_SOURCE
#include "bu_common.h"

#define BU_TEX BU_MIB(1)

static const char *const bu_names[4] = {"A", "B", "C", "D"};
static uint64_t bu_ids[4];
static void *bu_mem[4];
static int bu_nevicted;
static int bu_evicted[4];
static uint64_t bu_touch_a = 1, bu_touch_b = 1; /* 1: not seen */
static gmtrace_budget_asset_t bu_snap[8];

static void bu_evict(uint64_t asset, void *user)
{
	size_t n = 0;
	(void)user;
	gmtrace_budget_snapshot(NULL, 0, bu_snap, 8, &n);
	for (size_t k = 0; k < n && k < 8; k++) {
		if (bu_snap[k].id == bu_ids[0])
			bu_touch_a = bu_snap[k].last_touch_frame;
		if (bu_snap[k].id == bu_ids[1])
			bu_touch_b = bu_snap[k].last_touch_frame;
	}
	for (int i = 0; i < 4; i++) {
		if (bu_ids[i] != asset || !bu_mem[i])
			continue;
		gmtrace_asset_unload_begin(asset);
		bu_free(bu_mem[i]);
		bu_mem[i] = NULL;
		gmtrace_asset_unload_end(asset);
		if (bu_nevicted < 4)
			bu_evicted[bu_nevicted++] = i;
	}
}

static int bu_by_tag;

static void bu_load(int i)
{
	if (bu_by_tag)
		gmtrace_tag_push("render/textures");
	bu_ids[i] = gmtrace_asset_load_begin(bu_names[i], bu_by_tag ? "blob" : "texture");
	bu_mem[i] = bu_malloc(BU_TEX);
	FX_CHECK(bu_mem[i] != NULL, "a texture fits after an eviction");
	fx_touch(bu_mem[i], BU_TEX);
	gmtrace_asset_load_end(bu_ids[i], 1);
	if (bu_by_tag)
		gmtrace_tag_pop();
}

int main(int argc, char **argv)
{
	int lfu;
	uint32_t node;
	fx_name = "bu_touch";
	FX_CHECK((argc == 2 || (argc == 3 && !strcmp(argv[2], "tag"))) &&
	                 (!strcmp(argv[1], "lru") || !strcmp(argv[1], "lfu")),
	         "usage: bu_touch lru|lfu [tag]");
	lfu = !strcmp(argv[1], "lfu");
	bu_by_tag = argc == 3;
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	node = gmtrace_budget_define("textures", NULL, 0, 3 * BU_TEX);
	FX_CHECK(node != 0, "budget node defined");
	FX_CHECK((bu_by_tag ? gmtrace_budget_bind_tag(node, "render/textures") :
	                      gmtrace_budget_bind_type(node, "texture")) == 0,
	         "type or tag bound");
	FX_CHECK(gmtrace_budget_policy(node, lfu ? GMTRACE_EVICT_LFU : GMTRACE_EVICT_LRU, 0, -1) ==
	                 0,
	         "policy set");
	FX_CHECK(gmtrace_budget_evictor(node, bu_evict, NULL) == 0, "evictor set");

	bu_load(0);
	bu_load(1);
	gmtrace_asset_touch(bu_ids[0]);
	gmtrace_asset_touch(bu_ids[1]);
	GMTRACE_FRAME();
	for (int f = 2; f <= 30; f++) {
		gmtrace_asset_touch(bu_ids[0]);
		gmtrace_asset_touch(bu_ids[0]); /* twice in a frame counts once */
		GMTRACE_FRAME();
	}
	bu_load(2);
	gmtrace_asset_touch(bu_ids[2]); /* (never touched would go first) */
	bu_load(3);
	GMTRACE_FRAME();
	bu_expect("one eviction", 1, bu_nevicted);
	bu_expect("the victim is B (index 1)", 1, bu_nevicted ? bu_evicted[0] : -1);

	fx_json_begin();
	fx_json_str("policy", argv[1]);
	fx_json_open("evicted", '[');
	for (int k = 0; k < bu_nevicted; k++)
		fx_json_str(NULL, bu_names[bu_evicted[k]]);
	fx_json_close(']');
	fx_json_u64("last_touch_a", bu_touch_a);
	fx_json_u64("last_touch_b", bu_touch_b);
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}

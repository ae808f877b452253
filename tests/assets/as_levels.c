/* as_levels.c - a level transition A -> B that wrongly keeps three of A's assets
 *
 *     as_levels          (no arguments)
 *
 * Scene A (frames 1..10): scene_begin("A"), loads ui_font (font: FX_SIZE(20))
 * and a1..a6 (asset ai: FX_SIZE(i) and FX_SIZE(i + 10)); every frame touches
 * all seven.
 * Scene B (frames 11..20): at the start of frame 11 scene_begin("B"), then
 *   - unloads a1, a2, a3 (freeing their blocks);
 *   - loads b1, b2, b3 (asset bj: 2 x FX_SIZE(20 + j), plus a scratch block
 *     FX_SIZE(30) allocated inside the load and freed before load_end);
 *   - every frame touches ui_font and b1..b3 only.
 * a4, a5, a6 stay resident and are never touched again: the three kept
 * assets. ui_font is kept on purpose and used in B (not a wrong keep).
 * Nothing is allocated after the loads, so the transition's "after" is the
 * same whenever it is taken in scene B.
 *
 * Expected (asset bytes; the fixture computes and prints them):
 *   before_bytes  = ui_font + a1..a6                    = 522735
 *   unloaded_bytes = a1..a3                              = 182658
 *   loaded_bytes  = b1..b3 (net)                         = 551298
 *   peak_bytes    = before - unloaded + loaded + scratch = 1016026
 *                   (during b3's load, before its scratch is freed)
 *   after_bytes   = before - unloaded + loaded           = 891375
 *   loaded_allocated_bytes (with the scratch blocks)     = 925251
 *   scratch_freed_bytes (3 x FX_SIZE(30))                = 373953
 *   kept          = a4, a5, a6; transition_frame = 11
 */
#define _GNU_SOURCE
#include "as_common.h"

#define AS_NA 6
#define AS_NB 3
#define AS_FRAMES_PER_SCENE 10

static as_asset_t as_font = {.name = "ui_font", .type = "font"};
static as_asset_t as_a[AS_NA] = {
        {.name = "a1", .type = "texture"}, {.name = "a2", .type = "mesh"},
        {.name = "a3", .type = "sound"},   {.name = "a4", .type = "texture"},
        {.name = "a5", .type = "mesh"},    {.name = "a6", .type = "animation"},
};
static as_asset_t as_b[AS_NB] = {
        {.name = "b1", .type = "texture"},
        {.name = "b2", .type = "mesh"},
        {.name = "b3", .type = "sound"},
};
static as_block_t as_font_b[1], as_a_b[AS_NA][2], as_b_b[AS_NB][2];

/* Asset bytes live right now (the scene's view of memory). */
static uint64_t as_asset_live(void)
{
	uint64_t n = as_font.t.live_bytes;
	for (unsigned i = 0; i < AS_NA; i++)
		n += as_a[i].t.live_bytes;
	for (unsigned j = 0; j < AS_NB; j++)
		n += as_b[j].t.live_bytes;
	return n;
}

int main(void)
{
	uint64_t before, after, peak = 0, unloaded = 0, loaded = 0, transition_frame;
	fx_name = "levels";
	(void)gmtrace_enabled(); /* the marker API's one-time lookup */

	gmtrace_scene_begin("A");
	as_load_begin(&as_font);
	as_font_b[0] = as_alloc(&as_font, NULL, 20, 1);
	as_load_end(&as_font);
	for (unsigned i = 0; i < AS_NA; i++) {
		as_load_begin(&as_a[i]);
		as_a_b[i][0] = as_alloc(&as_a[i], NULL, i + 1, 1);
		as_a_b[i][1] = as_alloc(&as_a[i], NULL, i + 11, 1);
		as_load_end(&as_a[i]);
	}
	for (unsigned f = 0; f < AS_FRAMES_PER_SCENE; f++) {
		gmtrace_asset_touch(as_font.id);
		for (unsigned i = 0; i < AS_NA; i++)
			gmtrace_asset_touch(as_a[i].id);
		as_frame_end();
	}

	transition_frame = as_frame_now();
	before = as_asset_live();
	gmtrace_scene_begin("B");
	for (unsigned i = 0; i < 3; i++) {
		unloaded += as_a[i].t.live_bytes;
		as_unload(&as_a[i], as_a_b[i], 2);
	}
	for (unsigned j = 0; j < AS_NB; j++) {
		as_load_begin(&as_b[j]);
		as_b_b[j][0] = as_alloc(&as_b[j], NULL, 21 + j, 1);
		as_b_b[j][1] = as_alloc(&as_b[j], NULL, 21 + j, 1);
		as_block_t scratch = as_alloc(&as_b[j], NULL, 30, 1);
		if (as_asset_live() > peak)
			peak = as_asset_live();
		as_free(&scratch);
		as_load_end(&as_b[j]);
		loaded += as_b[j].t.live_bytes;
	}
	after = as_asset_live();
	for (unsigned f = 0; f < AS_FRAMES_PER_SCENE; f++) {
		gmtrace_asset_touch(as_font.id);
		for (unsigned j = 0; j < AS_NB; j++)
			gmtrace_asset_touch(as_b[j].id);
		as_frame_end();
	}
	if (before > peak)
		peak = before;

	fx_json_begin();
	as_json_common();
	fx_json_open("transition", '{');
	fx_json_str("from", "A");
	fx_json_str("to", "B");
	fx_json_u64("frame", transition_frame);
	fx_json_u64("before_bytes", before);
	fx_json_u64("peak_bytes", peak);
	fx_json_u64("after_bytes", after);
	fx_json_u64("unloaded_bytes", unloaded);
	fx_json_u64("loaded_bytes", loaded);
	fx_json_u64("loaded_allocated_bytes",
	            as_b[0].t.alloc_bytes + as_b[1].t.alloc_bytes + as_b[2].t.alloc_bytes);
	fx_json_u64("scratch_freed_bytes",
	            as_b[0].t.freed_bytes + as_b[1].t.freed_bytes + as_b[2].t.freed_bytes);
	fx_json_open("kept", '[');
	for (unsigned i = 3; i < AS_NA; i++)
		fx_json_str(NULL, as_a[i].name);
	fx_json_close(']');
	fx_json_open("unloaded", '[');
	for (unsigned i = 0; i < 3; i++)
		fx_json_str(NULL, as_a[i].name);
	fx_json_close(']');
	fx_json_open("loaded", '[');
	for (unsigned j = 0; j < AS_NB; j++)
		fx_json_str(NULL, as_b[j].name);
	fx_json_close(']');
	fx_json_str("kept_and_used", as_font.name);
	fx_json_close('}');
	fx_json_open("assets", '[');
	as_json_asset(&as_font);
	for (unsigned i = 0; i < AS_NA; i++)
		as_json_asset(&as_a[i]);
	for (unsigned j = 0; j < AS_NB; j++)
		as_json_asset(&as_b[j]);
	fx_json_close(']');
	return fx_json_write(1) == 0 ? 0 : 1;
}

/* as_misuse.c - every wrong marker call once; the game goes on and exits 0
 *
 *     as_misuse          (no arguments)
 *
 * Each misuse below is one wrong marker call, or a wrong sequence written as
 * a game writes it (gmtrace_asset_unload() is begin + end), and must give
 * exactly one validation record (interpose/log/format.h, gm_valid) naming
 * the asset (its id, where there is one) and change nothing else. In order,
 * with the record expected (code, and the detail b where it is defined):
 *
 *    1 release_unknown    release(999999)                 unknown_asset
 *    2 touch_unknown      touch(999999)                   unknown_asset
 *    3 unload_unknown     unload_begin(999999)            unknown_asset
 *   3b unload_unknown_1   unload(999999): begin and end   unknown_asset, once
 *    4 double_unload      unload(d) twice (begin + end    double_unload
 *                         each time: the second end is
 *                         part of the same misuse)
 *    5 release_below_zero ref, release, release           release_below_zero, b=0
 *    6 null_name          load_begin(NULL, "texture")     null_name (the new id)
 *    7 empty_name         load_begin("", "texture")       null_name (the new id)
 *    8 long_name          load_begin(300 x 'n', ...)      long_name, b=300 (the new id)
 *    9 unload_with_refs   ref, then unload (begin, frees, unload_with_refs, b=1
 *                         end): the unload still happens
 *   10 tag_underflow      tag_pop() with no tag pushed    tag_underflow
 *   11 unknown_tag        tag_push_id(777777), tag_pop()  unknown_tag (the pop pairs)
 *  11b unknown_tag_max    the same with UINT32_MAX        unknown_tag
 *   12 detach_mismatch    detach of a resident asset      detach_mismatch
 *                         this thread never attached
 *   13 load_end_twice     load_end(v, 1) a second time    bad_state, b=1 (resident)
 *   14 tag_null_name      tag_push(NULL), tag_pop()       null_name (0), b=0, only: no
 *                                                         unknown_tag, the pop pairs
 *
 * Assets 6..8 still load (gmtrace names them "(unnamed)" or cuts the name)
 * and get load_end, as a game that does not know its name was refused.
 * Then the fixture checks that gmtrace still works: tag "after" and asset
 * "after" (data) with one block FX_SIZE(1), unloaded (its block freed).
 * Expected: 16 validation records, 2 allocations (k = 1 and 2), 2 frees.
 * Not covered: stack_overflow (needs more than the internal nesting depth).
 */
#define _GNU_SOURCE
#include "as_common.h"

#define AS_UNKNOWN 999999u

static as_tag_t as_after_tag = {.name = "after", .parent = NULL};
static as_asset_t as_double = {.name = "double_unloaded", .type = "texture"};
static as_asset_t as_under = {.name = "released_below_zero", .type = "sound"};
static as_asset_t as_held = {.name = "unloaded_with_refs", .type = "mesh"};
static as_asset_t as_detached = {.name = "detached_unattached", .type = "model"};
static as_asset_t as_twice = {.name = "load_ended_twice", .type = "shader"};
static as_asset_t as_after = {.name = "after", .type = "data"};
static char as_long[301];

/* One misuse: its name, the gm_valid code name expected, the id the record
 * names (an asset's, or a tag's for unknown_tag; 0: none; 0 for every asset
 * without the preload), the detail (-1: not checked). */
typedef struct as_misuse {
	const char *what;
	const char *code;
	uint64_t subject;
	int64_t detail;
} as_misuse_t;

static as_misuse_t as_done[32];
static unsigned as_ndone;

static void as_did(const char *what, const char *code, uint64_t subject, int64_t detail)
{
	as_done[as_ndone++] = (as_misuse_t){what, code, subject, detail};
}

/* Starts a load under a name the fixture knows is bad; ends it if it got an id. */
static uint64_t as_bad_load(const char *name)
{
	uint64_t id = gmtrace_asset_load_begin(name, "texture");
	if (id != 0)
		gmtrace_asset_load_end(id, 1);
	return id;
}

/* A good load with no allocation: load_begin, load_end. */
static void as_quick_load(as_asset_t *a)
{
	as_load_begin(a);
	as_load_end(a);
}

int main(void)
{
	as_block_t b, held;
	fx_name = "misuse";
	(void)gmtrace_enabled(); /* the marker API's one-time lookup */

	gmtrace_asset_release(AS_UNKNOWN);
	as_did("release_unknown", "unknown_asset", AS_UNKNOWN, -1);
	gmtrace_asset_touch(AS_UNKNOWN);
	as_did("touch_unknown", "unknown_asset", AS_UNKNOWN, -1);
	gmtrace_asset_unload_begin(AS_UNKNOWN);
	as_did("unload_unknown", "unknown_asset", AS_UNKNOWN, -1);
	gmtrace_asset_unload(AS_UNKNOWN);
	as_did("unload_unknown_once", "unknown_asset", AS_UNKNOWN, -1);

	as_quick_load(&as_double);
	as_unload(&as_double, NULL, 0);
	gmtrace_asset_unload(as_double.id);
	as_did("double_unload", "double_unload", as_double.id, -1);

	as_quick_load(&as_under);
	gmtrace_asset_ref(as_under.id);
	gmtrace_asset_release(as_under.id);
	gmtrace_asset_release(as_under.id);
	as_did("release_below_zero", "release_below_zero", as_under.id, 0);

	as_did("null_name", "null_name", as_bad_load(NULL), -1);
	as_did("empty_name", "null_name", as_bad_load(""), -1);
	memset(as_long, 'n', 300);
	as_did("long_name", "long_name", as_bad_load(as_long), 300);

	as_load_begin(&as_held);
	held = as_alloc(&as_held, NULL, 2, 1);
	as_load_end(&as_held);
	gmtrace_asset_ref(as_held.id);
	as_unload(&as_held, &held, 1);
	as_did("unload_with_refs", "unload_with_refs", as_held.id, 1);

	gmtrace_tag_pop();
	as_did("tag_underflow", "tag_underflow", 0, -1);
	gmtrace_tag_push_id(777777);
	gmtrace_tag_pop();
	as_did("unknown_tag", "unknown_tag", 777777, -1);
	gmtrace_tag_push_id(UINT32_MAX); /* a game's "unset" id */
	gmtrace_tag_pop();
	as_did("unknown_tag_max", "unknown_tag", UINT32_MAX, -1);

	as_quick_load(&as_detached);
	gmtrace_asset_detach(as_detached.id);
	as_did("detach_mismatch", "detach_mismatch", as_detached.id, -1);

	as_quick_load(&as_twice);
	gmtrace_asset_load_end(as_twice.id, 1);
	as_did("load_end_twice", "bad_state", as_twice.id, 1);
	gmtrace_tag_push(NULL);
	gmtrace_tag_pop();
	as_did("tag_null_name", "null_name", 0, 0);

	/* gmtrace still attributes correctly after all that */
	gmtrace_tag_push("after");
	as_load_begin(&as_after);
	b = as_alloc(&as_after, &as_after_tag, 1, 1);
	as_load_end(&as_after);
	gmtrace_tag_pop();
	as_unload(&as_after, &b, 1);
	as_frame_end();

	fx_json_begin();
	as_json_common();
	fx_json_u64("validations", as_ndone);
	fx_json_open("misuses", '[');
	for (unsigned i = 0; i < as_ndone; i++) {
		fx_json_open(NULL, '{');
		fx_json_str("what", as_done[i].what);
		fx_json_str("code", as_done[i].code);
		fx_json_u64("subject", as_done[i].subject);
		fx_json_i64("detail", as_done[i].detail);
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_open("assets", '[');
	as_json_asset(&as_double);
	as_json_asset(&as_under);
	as_json_asset(&as_held);
	as_json_asset(&as_detached);
	as_json_asset(&as_twice);
	as_json_asset(&as_after);
	fx_json_close(']');
	fx_json_open("tags", '[');
	as_json_tag(&as_after_tag);
	fx_json_close(']');
	return fx_json_write(1) == 0 ? 0 : 1;
}

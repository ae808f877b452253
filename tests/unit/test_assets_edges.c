/* test_assets_edges.c - the assets model on odd input, and out of memory anywhere
 *
 * The first part feeds events straight into the model (as test_assets.c
 * does) with the records a game or a racing writer can produce but the
 * common tests do not: ids used before or defined twice, names with odd
 * bytes, records with missing parts, frames going backwards, reloads. The
 * second part makes each allocation of the model, of gm_assets_build() and
 * of `gmtrace assets` / `gmtrace transitions` (run in process) fail in turn
 * (failalloc.h): every failure must end in one clear error, never a crash
 * or a report built on half the data.
 */
#include <sys/resource.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/assets.h"
#include "capture_file.h"
#include "failalloc.h"

#define S 1000000000ull

/* ---- feeding events ------------------------------------------------------- */

/* Events go in until one fails; rc keeps the first failure. */
typedef struct feed {
	gm_assets_t *m;
	uint64_t ns, step;
	uint64_t frame;
	int rc;
} feed_t;

static feed_t feed_new(const gm_assets_opts_t *opts)
{
	gm_assets_opts_t o;
	feed_t f;

	if (!opts) {
		gm_assets_opts_default(&o);
		opts = &o;
	}
	memset(&f, 0, sizeof(f));
	f.m = gm_assets_new(opts, 2);
	cr_assert_not_null(f.m, "gm_assets_new");
	f.ns = 1000;
	f.step = 1000;
	return f;
}

static void put_at(feed_t *f, uint64_t ns, uint32_t thread, unsigned type, unsigned x, uint64_t a,
                   uint64_t b, const uint64_t *extra, uint32_t nextra)
{
	gm_event_t ev;

	if (f->rc < 0)
		return;
	ev = event_at(ns, thread, type, x, a, b, extra, nextra);
	f->rc = gm_assets_add(f->m, &ev);
}

static void put(feed_t *f, uint32_t thread, unsigned type, unsigned x, uint64_t a, uint64_t b,
                const uint64_t *extra, uint32_t nextra)
{
	put_at(f, f->ns, thread, type, x, a, b, extra, nextra);
	f->ns += f->step;
}

/* Bytes packed into 16-byte units (w has nw words): units used. */
static uint32_t pack(uint64_t *w, size_t nw, const void *s, size_t n)
{
	memset(w, 0, nw * 8);
	memcpy(w, s, n);
	return (uint32_t)((n + 15) / 16);
}

static void alloc(feed_t *f, uint32_t th, uint64_t ptr, uint64_t size)
{
	put(f, th, gm_rec_alloc, gm_kind_malloc, ptr, size, NULL, 0);
}

static void release(feed_t *f, uint32_t th, uint64_t ptr)
{
	put(f, th, gm_rec_free, gm_kind_free, ptr, 0, NULL, 0);
}

static void re_alloc(feed_t *f, uint32_t th, uint64_t ptr, uint64_t size, uint64_t old)
{
	uint64_t w[2] = {old, 0};

	put(f, th, gm_rec_realloc, gm_kind_realloc, ptr, size, w, 1);
}

/* A tag definition of n bytes (NULs included as given). */
static void tag_def_n(feed_t *f, uint64_t id, const char *name, size_t n)
{
	uint64_t w[48];
	uint32_t u = pack(w, 48, name, n);

	put(f, 0, gm_rec_tag_def, u, id, n, w, u);
}

static void tag_def(feed_t *f, uint64_t id, const char *name)
{
	tag_def_n(f, id, name, strlen(name));
}

static void context(feed_t *f, uint32_t th, uint64_t asset, uint64_t tag)
{
	put(f, th, gm_rec_context, 0, asset, tag, NULL, 0);
}

static void asset_new(feed_t *f, uint64_t id, const char *name, const char *type)
{
	uint64_t w[64];
	char buf[512];
	size_t nl = strlen(name), tl = strlen(type);
	uint32_t u;

	memcpy(buf, name, nl);
	buf[nl] = '\0';
	memcpy(buf + nl + 1, type, tl);
	u = pack(w, 64, buf, nl + 1 + tl);
	put(f, 0, gm_rec_asset_new, u, id, nl | (tl << 16), w, u);
}

static void state(feed_t *f, uint64_t id, unsigned s)
{
	put(f, 0, gm_rec_asset_state, s, id, 0, NULL, 0);
}

static void ref(feed_t *f, uint64_t id, unsigned op, uint64_t count)
{
	put(f, 0, gm_rec_asset_ref, op, id, count, NULL, 0);
}

static void extra(feed_t *f, uint64_t id, uint64_t bytes)
{
	put(f, 0, gm_rec_asset_extra, 0, id, bytes, NULL, 0);
}

static void valid(feed_t *f, unsigned code, uint64_t subject, uint64_t detail)
{
	put(f, 0, gm_rec_validation, code, subject, detail, NULL, 0);
}

static void scene(feed_t *f, uint64_t num, const char *name)
{
	uint64_t w[32];
	uint32_t u = pack(w, 32, name, strlen(name));

	put(f, 0, gm_rec_scene, u, num, strlen(name), w, u);
}

static void frame(feed_t *f)
{
	put(f, 0, gm_rec_frame, 0, ++f->frame, 0, NULL, 0);
}

static void frames(feed_t *f, unsigned n)
{
	while (n--)
		frame(f);
}

static void load(feed_t *f, uint64_t id, const char *name, const char *type, uint64_t ptr,
                 uint64_t size)
{
	asset_new(f, id, name, type);
	context(f, 0, id, 0);
	alloc(f, 0, ptr, size);
	state(f, id, gm_asset_resident);
	context(f, 0, 0, 0);
}

static void unload(feed_t *f, uint64_t id, uint64_t ptr)
{
	state(f, id, gm_asset_unloading);
	release(f, 0, ptr);
	state(f, id, gm_asset_unloaded);
}

static void finish(feed_t *f)
{
	cr_assert_eq(f->rc, 0, "every event was taken");
	cr_assert_eq(gm_assets_finish(f->m), 0, "gm_assets_finish");
}

static const gm_assets_asset_t *asset_id(const gm_assets_t *m, uint64_t id)
{
	const gm_assets_asset_t *a;
	size_t n, i;

	a = gm_assets_assets(m, &n);
	for (i = 0; i < n; i++)
		if (a[i].id == id)
			return &a[i];
	cr_assert_fail("no asset with id %llu", (unsigned long long)id);
	return NULL;
}

static const gm_assets_tag_t *tag_find(const gm_assets_t *m, const char *name)
{
	const gm_assets_tag_t *t;
	size_t n, i;

	t = gm_assets_tags(m, &n);
	for (i = 0; i < n; i++)
		if (t[i].name && strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static const gm_assets_tag_t *tag_named(const gm_assets_t *m, const char *name)
{
	const gm_assets_tag_t *t = tag_find(m, name);

	cr_assert_not_null(t, "no tag named %s", name);
	return t;
}

static const gm_assets_type_t *type_find(const gm_assets_t *m, const char *name)
{
	const gm_assets_type_t *t;
	size_t n, i;

	t = gm_assets_types(m, &n);
	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static size_t checks_of(const gm_assets_t *m, unsigned kind, const gm_assets_check_t **first)
{
	const gm_assets_check_t *c;
	size_t n, i, k = 0;

	c = gm_assets_checks(m, &n);
	*first = NULL;
	for (i = 0; i < n; i++) {
		if (c[i].kind != kind)
			continue;
		if (k++ == 0)
			*first = &c[i];
	}
	return k;
}

/* ---- tags ------------------------------------------------------------------- */

Test(assets_edges, tag_ids_defined_again_or_onto_a_name_in_use)
{
	feed_t f = feed_new(NULL);
	size_t n;

	tag_def(&f, 2, "audio");
	context(&f, 0, 0, 3); /* id 3 used before its definition: "tag#3" */
	alloc(&f, 0, 0x10, 40);
	tag_def(&f, 3, "audio"); /* a name that has a node: id 3 joins it */
	context(&f, 0, 0, 3);
	alloc(&f, 0, 0x20, 60);
	tag_def(&f, 2, "other"); /* a second definition of id 2: the first stands */
	tag_def(&f, 0, "zero");  /* id 0 is "no tag": ignored */
	context(&f, 0, 0, 5);
	alloc(&f, 0, 0x30, 5);
	tag_def(&f, 5, ""); /* a definition without a name keeps the stand-in */
	finish(&f);

	cr_expect_eq(tag_named(f.m, "audio")->id, 2);
	cr_expect_eq(tag_named(f.m, "audio")->own.live_bytes, 60, "id 3 allocates into audio now");
	cr_expect_eq(tag_named(f.m, "tag#3")->own.live_bytes, 40, "the stand-in keeps its block");
	cr_expect_eq(tag_named(f.m, "tag#5")->own.live_bytes, 5);
	cr_expect_eq(tag_named(f.m, "tag#5")->placeholder, 1);
	cr_expect_null(tag_find(f.m, "other"));
	cr_expect_null(tag_find(f.m, "zero"));
	gm_assets_tags(f.m, &n);
	cr_expect_eq(n, 4, "untagged, audio, tag#3, tag#5");
	gm_assets_free(f.m);
}

Test(assets_edges, tag_names_with_odd_bytes_and_slashes)
{
	feed_t f = feed_new(NULL);
	char longname[300];
	const gm_assets_tag_t *t;

	memset(longname, 'n', sizeof(longname));
	tag_def_n(&f, 1, "a\0b", 3);     /* a NUL inside: '?' */
	tag_def_n(&f, 2, "pad\0\0", 5);  /* trailing NULs dropped */
	tag_def(&f, 3, "/lead");         /* a leading '/' makes no level */
	tag_def(&f, 4, "trail/");        /* nor a trailing one */
	tag_def_n(&f, 5, longname, 300); /* cut to GM_NAME_MAX */
	tag_def(&f, 6, "tag#8");         /* a name that looks like a stand-in */
	context(&f, 0, 0, 8);            /* ... is the node id 8 finds */
	alloc(&f, 0, 0x10, 8);
	/* stand-ins renamed to a top-level name, a leading and a trailing '/' */
	context(&f, 0, 0, 20);
	alloc(&f, 0, 0x20, 20);
	context(&f, 0, 0, 21);
	alloc(&f, 0, 0x21, 21);
	context(&f, 0, 0, 22);
	alloc(&f, 0, 0x22, 22);
	tag_def(&f, 20, "music");
	tag_def(&f, 21, "/x");
	tag_def(&f, 22, "y/");
	/* a parent whose peak is above what a renamed child brings */
	tag_def(&f, 30, "fx");
	context(&f, 0, 0, 30);
	alloc(&f, 0, 0x40, 100);
	release(&f, 0, 0x40);
	context(&f, 0, 0, 31);
	alloc(&f, 0, 0x41, 40);
	tag_def(&f, 31, "fx/smoke");
	finish(&f);

	cr_expect_not_null(tag_find(f.m, "a?b"));
	cr_expect_not_null(tag_find(f.m, "pad"));
	cr_expect_eq(tag_named(f.m, "/lead")->parent, GM_ASSETS_NONE);
	cr_expect_eq(tag_named(f.m, "/lead")->depth, 0);
	cr_expect_eq(tag_named(f.m, "trail/")->parent, GM_ASSETS_NONE);
	longname[GM_NAME_MAX] = '\0';
	t = tag_named(f.m, longname);
	cr_expect_eq(t->id, 5, "the 300-byte name cut to %d bytes", GM_NAME_MAX);
	t = tag_named(f.m, "tag#8");
	cr_expect_eq(t->id, 6, "the node keeps the id it was defined with");
	cr_expect_eq(t->placeholder, 0);
	cr_expect_eq(t->own.live_bytes, 8);
	t = tag_named(f.m, "music");
	cr_expect(t->parent == GM_ASSETS_NONE && t->depth == 0 && t->own.live_bytes == 20);
	cr_expect(tag_named(f.m, "/x")->parent == GM_ASSETS_NONE);
	cr_expect(tag_named(f.m, "y/")->parent == GM_ASSETS_NONE);
	cr_expect_eq(tag_named(f.m, "y/")->own.live_bytes, 22);
	t = tag_named(f.m, "fx");
	cr_expect_eq(t->rollup.live_bytes, 40, "the renamed child's block joins fx");
	cr_expect_eq(t->rollup.allocated_bytes, 140);
	cr_expect_eq(t->rollup.peak_bytes, 100, "fx's own peak stays");
	cr_expect_eq(tag_named(f.m, "fx/smoke")->depth, 1);
	gm_assets_free(f.m);
}

/* ---- asset records ------------------------------------------------------------ */

Test(assets_edges, records_without_a_subject_or_with_unknown_values_are_ignored)
{
	feed_t f = feed_new(NULL);
	uint64_t w[2] = {0, 0};
	size_t n;

	asset_new(&f, 0, "nobody", "ghost");
	state(&f, 0, gm_asset_resident);
	ref(&f, 0, gm_asset_op_ref, 1);
	extra(&f, 0, 100);
	load(&f, 1, "a", "mesh", 0x10, 10);
	state(&f, 1, 7);                             /* no such state */
	ref(&f, 1, 5, 9);                            /* no such operation */
	valid(&f, gm_valid_bad_state, 0, 1);         /* an asset code without an asset */
	put(&f, 0, gm_rec_frame, 1, 77, 0, NULL, 0); /* a secondary frame set */
	put(&f, 0, gm_rec_realloc, gm_kind_realloc, 0x20, 30, w, 0); /* no old pointer */
	alloc(&f, 0, 0, 50); /* a failed malloc recorded as NULL */
	finish(&f);

	gm_assets_assets(f.m, &n);
	cr_expect_eq(n, 1, "only asset 1");
	cr_expect_null(type_find(f.m, "ghost"));
	cr_expect_eq(asset_id(f.m, 1)->state, gm_asset_resident);
	cr_expect_eq(asset_id(f.m, 1)->refs, 0);
	cr_expect_eq(gm_assets_extra_bytes(f.m), 0);
	cr_expect_eq(gm_assets_frames(f.m), 0, "frame set 1 moves no main frame");
	cr_expect_eq(gm_assets_live_bytes(f.m), 40, "10 + the realloc's 30, not the NULL");
	gm_assets_free(f.m);
}

Test(assets_edges, asset_definitions_late_twice_and_without_a_nul)
{
	feed_t f = feed_new(NULL);
	uint64_t w[2];
	uint32_t u = pack(w, 2, "herotexture", 11);
	const gm_assets_type_t *t;

	/* "hero" and "texture" with no NUL between them */
	put(&f, 0, gm_rec_asset_new, u, 1, 4 | (7 << 16), w, u);
	asset_new(&f, 1, "villain", "sound"); /* again: the first one stands */
	/* declared bytes before the definition (threads racing) */
	extra(&f, 2, 300);
	asset_new(&f, 2, "late", "texture");
	/* the texture type had a larger peak already */
	asset_new(&f, 3, "big", "texture");
	context(&f, 0, 3, 0);
	alloc(&f, 0, 0x10, 1000);
	release(&f, 0, 0x10);
	context(&f, 1, 4, 0); /* asset 4 allocates before it is defined */
	alloc(&f, 1, 0x20, 200);
	asset_new(&f, 4, "early", "texture");
	finish(&f);

	cr_expect_str_eq(asset_id(f.m, 1)->name, "hero");
	cr_expect_str_eq(gm_assets_types(f.m, &(size_t){0})[asset_id(f.m, 1)->type].name,
	                 "texture");
	cr_expect_null(type_find(f.m, "sound"), "the second definition was not read");
	t = type_find(f.m, "texture");
	cr_assert_not_null(t);
	cr_expect_eq(t->assets, 4);
	cr_expect_eq(t->extra_bytes, 300, "late's extra joined its type");
	cr_expect_eq(t->live_bytes, 200, "early's block joined its type");
	cr_expect_eq(t->allocated_bytes, 1200);
	cr_expect_eq(t->peak_bytes, 1000, "200 is below the type's peak");
	gm_assets_free(f.m);
}

Test(assets_edges, reloads_double_unloads_and_typeless_assets)
{
	feed_t f = feed_new(NULL);
	const gm_assets_stream_t *s;
	const gm_assets_asset_t *a;
	const gm_assets_check_t *c;

	/* an asset id nobody defined: bytes and extra, then unloaded */
	context(&f, 0, 9, 0);
	alloc(&f, 0, 0x90, 90);
	release(&f, 0, 0x90); /* a block of an asset without a type */
	extra(&f, 9, 500);
	state(&f, 9, gm_asset_unloaded);
	extra(&f, 9, 700); /* after unloaded: nothing is held */
	/* a: resident, unloaded, then resident again under the same id */
	load(&f, 1, "a", "mesh", 0x10, 10);
	state(&f, 1, gm_asset_loading); /* a loading record changes nothing else */
	state(&f, 1, gm_asset_resident);
	frame(&f);
	unload(&f, 1, 0x10);
	state(&f, 1, gm_asset_unloaded); /* unloaded twice: the first unload counts */
	frame(&f);
	state(&f, 1, gm_asset_resident);    /* back again */
	load(&f, 2, "a", "mesh", 0x20, 20); /* a second "a": a duplicate of the reloaded one */
	finish(&f);

	a = asset_id(f.m, 9);
	cr_expect_eq(a->known, 0);
	cr_expect_eq(a->state, gm_asset_unloaded);
	cr_expect_eq(a->extra_bytes, 0);
	cr_expect_eq(a->extra_peak, 500, "the extra after unloaded was not taken");
	cr_expect_eq(gm_assets_extra_bytes(f.m), 0);
	a = asset_id(f.m, 1);
	cr_expect_eq(a->unload_frame, 2, "the first unload");
	cr_expect_eq(a->unloaded_frame, 2);
	cr_expect_eq(a->state, gm_asset_resident);
	cr_expect_eq(a->ready_frame, 3);
	s = gm_assets_streaming(f.m);
	cr_expect_eq(s->residencies, 0, "a's unload came before its last ready");
	cr_expect_eq(s->still_resident, 2);
	cr_expect_eq(s->unloaded.total, 10 + 90 + 500, "a's block, 9's block and extra");
	cr_assert_eq(checks_of(f.m, gm_assets_check_duplicate, &c), 1,
	             "the reload counts as loaded again");
	cr_expect_eq(gm_assets_assets(f.m, &(size_t){0})[c->asset].id, 2);
	gm_assets_free(f.m);
}

Test(assets_edges, a_block_at_a_live_address_replaces_the_lost_one)
{
	feed_t f = feed_new(NULL);

	load(&f, 1, "a", "mesh", 0x10, 100);
	context(&f, 0, 0, 0);
	alloc(&f, 0, 0x10, 30); /* the free of a's block was lost */
	finish(&f);

	cr_expect_eq(asset_id(f.m, 1)->live_bytes, 0, "a's block went with the new one");
	cr_expect_eq(asset_id(f.m, 1)->live_blocks, 0);
	cr_expect_eq(gm_assets_live_bytes(f.m), 30);
	cr_expect_eq(gm_assets_tags(f.m, &(size_t){0})[0].loose_bytes, 30);
	gm_assets_free(f.m);
}

Test(assets_edges, frames_and_times_that_go_backwards)
{
	feed_t f = feed_new(NULL);

	f.ns = 10 * S;
	load(&f, 1, "a", "mesh", 0x10, 100);
	put(&f, 0, gm_rec_frame, 0, 5, 0, NULL, 0); /* frame 5 ends: now frame 6 */
	put(&f, 0, gm_rec_frame, 0, 3, 0, NULL, 0); /* an older number: frames stay */
	put_at(&f, 2 * S, 0, gm_rec_alloc, gm_kind_malloc, 0x20, 7, NULL, 0); /* before the first */
	context(&f, 0, 1, 0);
	put_at(&f, 2 * S, 0, gm_rec_alloc, gm_kind_malloc, 0x30, 8, NULL, 0);
	put(&f, 0, gm_rec_frame, 0, 0, 0, NULL, 0); /* a mark numbered 0 */
	finish(&f);

	cr_expect_eq(gm_assets_frames(f.m), 3);
	cr_expect_eq(gm_assets_last_frame(f.m), 1, "the mark numbered 0 ends frame 1");
	cr_expect_eq(gm_assets_streaming(f.m)->seconds, 1);
	cr_expect_eq(gm_assets_streaming(f.m)->loaded.total, 108, "counted in second 0");
	cr_expect_eq(asset_id(f.m, 1)->new_frame, 1);
	gm_assets_free(f.m);
}

Test(assets_edges, an_event_months_later_counts_in_the_last_second_kept)
{
	feed_t f = feed_new(NULL);
	const gm_assets_stream_t *s;

	f.ns = 0;
	f.step = 0;
	load(&f, 1, "a", "mesh", 0x10, 100);
	/* a clock gone wrong: 2^25 s (about a year) later */
	context(&f, 0, 1, 0);
	put_at(&f, (1ull << 25) * S, 0, gm_rec_alloc, gm_kind_malloc, 0x20, 50, NULL, 0);
	finish(&f);

	s = gm_assets_streaming(f.m);
	cr_expect_eq(s->seconds, 1u << 24, "at most 2^24 seconds are kept");
	cr_expect_eq(s->loaded.total, 150);
	cr_expect_eq(s->loaded.max, 100);
	cr_expect_eq(s->loaded.min, 0);
	gm_assets_free(f.m);
	/* the seconds between cost nothing: only seconds that moved bytes are
	 * kept (an array of every second took 256 MiB here) */
	{
		struct rusage ru;
		cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
		cr_expect_lt(ru.ru_maxrss, 64 * 1024, "peak RSS %ld KiB", ru.ru_maxrss);
	}
}

/* ---- transitions --------------------------------------------------------------- */

Test(assets_edges, level_then_scene_in_one_frame_and_two_scenes_in_one)
{
	feed_t f = feed_new(NULL);
	const gm_assets_transition_t *t;
	size_t n;

	load(&f, 1, "castle.lvl", "level", 0x10, 10);
	scene(&f, 1, "castle"); /* the same frame: one transition */
	frame(&f);
	scene(&f, 2, "a");
	scene(&f, 3, "b"); /* a second scene in the frame: a transition of its own */
	finish(&f);

	t = gm_assets_transitions(f.m, &n);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(t[0].name, "castle", "the scene names it");
	cr_expect_eq(t[0].has_scene, 1);
	cr_expect_eq(gm_assets_assets(f.m, &n)[t[0].level_asset].id, 1);
	cr_expect_str_eq(t[1].name, "a");
	cr_expect_eq(t[1].end, gm_assets_end_next);
	cr_expect_eq(t[1].end_frame, 2);
	cr_expect_str_eq(t[2].name, "b");
	cr_expect_eq(t[2].end, gm_assets_end_capture);
	gm_assets_free(f.m);
}

Test(assets_edges, transition_ends_at_the_last_frame_an_old_asset_unloaded)
{
	gm_assets_opts_t o;
	feed_t f;
	const gm_assets_transition_t *t;
	const gm_assets_snap_type_t *after;
	size_t n;

	gm_assets_opts_default(&o);
	o.window_frames = 10;
	f = feed_new(&o);
	scene(&f, 1, "A");
	load(&f, 1, "a1", "texture", 0x10, 100);
	load(&f, 2, "a2", "texture", 0x20, 200);
	asset_new(&f, 3, "broken", "texture");
	state(&f, 3, gm_asset_failed); /* failed under A: not an old asset of B */
	context(&f, 0, 4, 0);          /* an asset never defined, under A */
	alloc(&f, 0, 0x40, 1);
	context(&f, 0, 0, 0);
	frame(&f);
	scene(&f, 2, "B"); /* frame 2 */
	load(&f, 5, "b1", "mesh", 0x50, 50);
	unload(&f, 1, 0x10);
	frame(&f); /* frame 2 ends: a candidate end */
	frame(&f);
	unload(&f, 2, 0x20); /* frame 4: a later one replaces it */
	frames(&f, 2);
	finish(&f);

	t = gm_assets_transitions(f.m, &n);
	cr_assert_eq(n, 2);
	t++;
	cr_expect_eq(t->end, gm_assets_end_unloaded);
	cr_expect_eq(t->end_frame, 4, "the last frame an old asset unloaded in");
	cr_expect_eq(t->after.live_bytes, 51, "b1 and the stray block");
	cr_expect_eq(t->unloaded_bytes, 300);
	cr_expect_eq(t->old_assets, 2, "a1 and a2: broken failed before B");
	cr_expect_eq(t->old_unloaded, 2);
	cr_expect_eq(t->nkept, 0);
	after = gm_assets_snap_types(f.m, &t->after);
	cr_expect_eq(t->after.ntypes, 2);
	cr_expect_eq(after[0].live_bytes, 0, "textures after");
	cr_expect_eq(after[1].live_bytes, 50, "meshes after");
	cr_expect_eq(t[-1].end, gm_assets_end_next);
	gm_assets_free(f.m);
}

/* ---- heat maps -------------------------------------------------------------------- */

Test(assets_edges, the_budgets_validations_are_not_its_findings)
{
	/* codes 14..18 are gmtrace budgets' (its --check decides on them): a
	 * soft limit's no_evictor failed the assets gate by the hundred */
	feed_t f = feed_new(NULL);
	const gm_assets_check_t *c;
	unsigned code;

	for (code = gm_valid_evictor_no_progress; code <= gm_valid_bad_policy; code++)
		valid(&f, code, 3, 1);
	valid(&f, gm_valid_double_unload, 0, 0);
	finish(&f);
	cr_expect_eq(checks_of(f.m, gm_assets_check_validation, &c), 1);
	cr_expect_eq(c->v[0], gm_valid_double_unload);
	gm_assets_free(f.m);
}

Test(assets_edges, heat_map_with_no_bins_or_no_rows)
{
	gm_assets_opts_t o;
	feed_t f;

	gm_assets_opts_default(&o);
	o.heat_by = gm_assets_by_asset;
	o.heat_bins = 0; /* no columns asked for: no map */
	f = feed_new(&o);
	load(&f, 1, "a", "mesh", 0x10, 10);
	frame(&f);
	finish(&f);
	cr_expect_eq(gm_assets_heat_rows(f.m), 1);
	cr_expect_eq(gm_assets_heat_bins(f.m), 0);
	cr_expect_null(gm_assets_heat_row(f.m, 0));
	cr_expect_eq(gm_assets_heat_first(f.m, 0), 1);
	gm_assets_free(f.m);

	o.heat_by = gm_assets_by_type;
	o.heat_bins = 4;
	f = feed_new(&o);
	alloc(&f, 0, 0x10, 10); /* no asset, no type: no rows */
	frames(&f, 8);
	finish(&f);
	cr_expect_eq(gm_assets_heat_rows(f.m), 0);
	cr_expect_eq(gm_assets_heat_bins(f.m), 4);
	cr_expect_eq(gm_assets_heat_first(f.m, 4), 9);
	gm_assets_free(f.m);
}

Test(assets_edges, heat_by_type_skips_assets_without_a_type)
{
	gm_assets_opts_t o;
	feed_t f;
	const uint64_t *row;

	gm_assets_opts_default(&o);
	o.heat_by = gm_assets_by_type;
	o.heat_value = gm_assets_heat_touches;
	o.heat_bins = 2;
	f = feed_new(&o);
	load(&f, 1, "a", "mesh", 0x10, 10);
	context(&f, 0, 7, 0); /* asset 7 never defined */
	alloc(&f, 0, 0x70, 70);
	ref(&f, 7, gm_asset_op_touch, 0);
	ref(&f, 1, gm_asset_op_touch, 0);
	frame(&f);
	ref(&f, 1, gm_asset_op_touch, 0);
	frame(&f);
	finish(&f);

	cr_assert_eq(gm_assets_heat_rows(f.m), 1, "one type");
	row = gm_assets_heat_row(f.m, 0);
	cr_expect(row[0] == 1 && row[1] == 1, "mesh touches: %llu %llu", (unsigned long long)row[0],
	          (unsigned long long)row[1]);
	cr_expect_eq(asset_id(f.m, 7)->touches, 1);
	gm_assets_free(f.m);
}

Test(assets_edges, live_heat_ignores_touches_and_clamps_frames_past_the_last)
{
	gm_assets_opts_t o;
	feed_t f;
	const uint64_t *row;

	gm_assets_opts_default(&o);
	o.heat_by = gm_assets_by_asset;
	o.heat_bins = 4;
	f = feed_new(&o);
	load(&f, 1, "a", "mesh", 0x10, 10);
	ref(&f, 1, gm_asset_op_touch, 0);           /* no cell for touches in a live map */
	put(&f, 0, gm_rec_frame, 0, 9, 0, NULL, 0); /* frames 1..9 */
	context(&f, 0, 1, 0);
	alloc(&f, 0, 0x20, 30);                     /* frame 10: 40 */
	put(&f, 0, gm_rec_frame, 0, 4, 0, NULL, 0); /* an older mark: the last frame is 4 */
	finish(&f);

	cr_expect_eq(gm_assets_last_frame(f.m), 4);
	cr_assert_eq(gm_assets_heat_bins(f.m), 4);
	row = gm_assets_heat_row(f.m, 0);
	cr_expect(row[0] == 10 && row[1] == 10 && row[2] == 10,
	          "10 bytes from frame 1: %llu %llu %llu", (unsigned long long)row[0],
	          (unsigned long long)row[1], (unsigned long long)row[2]);
	cr_expect_eq(row[3], 40, "frame 10's change lands in the last bin");
	gm_assets_free(f.m);
}

/* ---- results and names ------------------------------------------------------------- */

Test(assets_edges, results_before_finish_and_with_nothing_kept)
{
	feed_t f = feed_new(NULL);
	const gm_assets_transition_t tr = {0};
	size_t n = 99;

	load(&f, 1, "a", "mesh", 0x10, 10);
	cr_expect_null(gm_assets_asset_tags(f.m, asset_id(f.m, 1), &n), "no tag lists yet");
	cr_expect_eq(n, 0);
	finish(&f);
	cr_expect_eq(gm_assets_finish(f.m), 0, "a second finish does nothing");
	cr_expect_null(gm_assets_snap_types(f.m, &tr.before), "no transition: no snapshots");
	cr_expect_null(gm_assets_kept(f.m, &tr));
	cr_expect_eq(gm_assets_options(f.m)->heat_by, gm_assets_by_none);
	gm_assets_free(f.m);
	gm_assets_free(NULL);

	cr_expect_str_eq(gm_assets_state_name(gm_asset_failed), "failed");
	cr_expect_str_eq(gm_assets_state_name(99), "unknown");
	cr_expect_str_eq(gm_assets_check_name(gm_assets_check_tag_growth), "tag_growth");
	cr_expect_str_eq(gm_assets_check_name(99), "unknown");
	cr_expect_str_eq(gm_assets_valid_name(gm_valid_none), "none");
	cr_expect_str_eq(gm_assets_valid_name(gm_valid_no_evictor), "no_evictor");
	cr_expect_str_eq(gm_assets_valid_name(gm_valid_node_redefined), "node_redefined");
	cr_expect_str_eq(gm_assets_valid_name(gm_valid_bad_policy), "bad_policy");
	cr_expect_str_eq(gm_assets_valid_name(gm_valid_count), "unknown",
	                 "a code newer than the names");
	cr_expect_str_eq(gm_assets_end_name(gm_assets_end_capture), "capture_end");
	cr_expect_str_eq(gm_assets_end_name(99), "unknown");
}

Test(assets_edges, ties_are_ordered_by_tag_index)
{
	feed_t f = feed_new(NULL);
	const gm_assets_check_t *c;
	const gm_assets_pair_t *p;
	size_t n;
	unsigned i;

	tag_def(&f, 1, "zeta");
	tag_def(&f, 2, "alpha");
	/* one asset, the same bytes under two tags */
	asset_new(&f, 1, "a", "mesh");
	context(&f, 0, 1, 1);
	alloc(&f, 0, 0x10, 64);
	context(&f, 0, 1, 2);
	alloc(&f, 0, 0x20, 64);
	/* two tags growing the same way from the same frame */
	for (i = 0; i < 5; i++) {
		context(&f, 0, 0, 2);
		alloc(&f, 0, 0x1000 + i, 8);
		context(&f, 0, 0, 1);
		alloc(&f, 0, 0x2000 + i, 8);
		frame(&f);
	}
	finish(&f);

	p = gm_assets_asset_tags(f.m, asset_id(f.m, 1), &n);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(gm_assets_tags(f.m, &(size_t){0})[p[0].tag].name, "zeta",
	                 "equal bytes: the tag defined first");
	cr_expect_str_eq(gm_assets_tags(f.m, &(size_t){0})[p[1].tag].name, "alpha");
	cr_assert_eq(checks_of(f.m, gm_assets_check_tag_growth, &c), 2);
	cr_expect_str_eq(gm_assets_tags(f.m, &(size_t){0})[c[0].tag].name, "zeta");
	cr_expect_str_eq(gm_assets_tags(f.m, &(size_t){0})[c[1].tag].name, "alpha");
	cr_expect_float_eq(c[0].rate, 8.0, 1e-9);
	gm_assets_free(f.m);
}

Test(assets_edges, duplicates_are_found_past_an_unloaded_namesake)
{
	feed_t f = feed_new(NULL);
	const gm_assets_check_t *c;
	const gm_assets_thrash_t *t;
	size_t n;

	load(&f, 1, "rock", "mesh", 0x10, 1);
	load(&f, 2, "rock", "mesh", 0x20, 1); /* a duplicate of 1 */
	unload(&f, 2, 0x20);
	asset_new(&f, 3, "rock", "mesh"); /* 2 is gone, 1 is still loaded */
	finish(&f);

	cr_assert_eq(checks_of(f.m, gm_assets_check_duplicate, &c), 2);
	cr_expect_eq(gm_assets_assets(f.m, &n)[c[1].asset].id, 3);
	cr_expect_eq(gm_assets_assets(f.m, &n)[c[1].v[0]].id, 1, "the one still loaded");
	t = gm_assets_thrashes(f.m, &n);
	cr_assert_eq(n, 1, "and a reload of the one just unloaded");
	cr_expect_eq(gm_assets_assets(f.m, &n)[t->previous].id, 2);
	gm_assets_free(f.m);
}

Test(assets_edges, old_assets_not_resident_at_the_end_are_not_kept)
{
	gm_assets_opts_t o;
	feed_t f;
	const gm_assets_transition_t *t;
	size_t n;

	gm_assets_opts_default(&o);
	o.window_frames = 20;
	f = feed_new(&o);
	scene(&f, 1, "A");
	asset_new(&f, 1, "slow", "mesh");      /* resident only after B's end */
	asset_new(&f, 2, "dies", "mesh");      /* fails during B */
	load(&f, 3, "gone", "mesh", 0x30, 30); /* unloaded during B */
	asset_new(&f, 5, "never", "mesh");     /* never ready */
	context(&f, 0, 9, 0);                  /* an asset never defined */
	alloc(&f, 0, 0x90, 9);
	context(&f, 0, 0, 0);
	frame(&f);
	scene(&f, 2, "B");
	load(&f, 4, "new", "mesh", 0x40, 40);
	state(&f, 4, gm_asset_unloaded); /* loaded under B: does not end B */
	state(&f, 9, gm_asset_unloaded); /* unknown: does not end B */
	state(&f, 2, gm_asset_failed);
	unload(&f, 3, 0x30);
	frame(&f); /* frame 2 ends: B's end */
	frames(&f, 25);
	state(&f, 1, gm_asset_resident);
	finish(&f);

	t = gm_assets_transitions(f.m, &n);
	cr_assert_eq(n, 2);
	cr_expect_eq(t[1].end, gm_assets_end_unloaded);
	cr_expect_eq(t[1].end_frame, 2, "the window ran out after the candidate end");
	cr_expect_eq(t[1].old_assets, 4, "slow, dies, gone, never");
	cr_expect_eq(t[1].old_unloaded, 1, "gone");
	cr_expect_eq(t[1].nkept, 0);
	gm_assets_free(f.m);
}

Test(assets_edges, a_tag_that_grew_then_let_go_is_no_finding)
{
	feed_t f = feed_new(NULL);
	const gm_assets_check_t *c;
	const gm_assets_tag_t *t;
	unsigned i;

	tag_def(&f, 1, "fx");
	context(&f, 0, 0, 1);
	for (i = 0; i < 5; i++) {
		alloc(&f, 0, 0x10 + i, 8);
		frame(&f);
	}
	for (i = 0; i < 5; i++)
		release(&f, 0, 0x10 + i);
	release(&f, 0, 0); /* free(NULL) */
	finish(&f);

	t = tag_named(f.m, "fx");
	cr_expect_float_eq(t->growth, 8.0, 1e-9, "frame ends 1..5: 8 .. 40 bytes");
	cr_expect_eq(t->growth_frames, 5);
	cr_expect_eq(t->loose_blocks, 0);
	cr_expect_eq(checks_of(f.m, gm_assets_check_tag_growth, &c), 0, "nothing is left live");
	gm_assets_free(f.m);
}

Test(assets_edges, damaged_and_shared_definitions)
{
	feed_t f = feed_new(NULL);
	uint64_t w[2];
	uint32_t u = pack(w, 2, "ab\0tex", 6);

	/* a type length past the record's end: the type starts at the NUL */
	put(&f, 0, gm_rec_asset_new, u, 1, 2 | (40 << 16), w, u);
	/* two ids defined with one name share the node */
	tag_def(&f, 7, "x");
	tag_def(&f, 8, "x");
	context(&f, 0, 1, 8);
	alloc(&f, 0, 0x10, 100);
	release(&f, 0, 0x10);
	alloc(&f, 0, 0x20, 10); /* below the asset's peak */
	put(&f, 0, gm_rec_level, 0, gm_level_events, 0, NULL, 0);
	cr_expect(gm_assets_exact(f.m), "an events-level record keeps bytes exact");
	put(&f, 0, gm_rec_level, 0, gm_level_frames, 0, NULL, 0);
	finish(&f);

	cr_expect_str_eq(asset_id(f.m, 1)->name, "ab");
	cr_expect_not_null(type_find(f.m, "?tex"));
	cr_expect_eq(tag_named(f.m, "x")->id, 7);
	cr_expect_eq(tag_named(f.m, "x")->own.live_bytes, 10);
	cr_expect_eq(asset_id(f.m, 1)->peak_bytes, 100);
	cr_expect_not(gm_assets_exact(f.m), "part of the capture is in the frames level");
	gm_assets_free(f.m);

	f = feed_new(NULL); /* no event at all */
	finish(&f);
	cr_expect_eq(gm_assets_streaming(f.m)->seconds, 0);
	cr_expect_eq(gm_assets_duration_ns(f.m), 0);
	gm_assets_free(f.m);
}

/* ---- out of memory ------------------------------------------------------------------ */

/* A game's worth of everything the model keeps: more ids, names, types,
 * tags, pairs and blocks than the first size of each table, checks of
 * every kind, scenes and level loads, reference changes, heat changes. */
static void story(feed_t *f)
{
	char name[32], type[16];
	unsigned i;

	tag_def(f, 1, "render/textures");
	context(f, 1, 0, 9); /* a tag used before its definition */
	alloc(f, 1, 0x9000, 16);
	tag_def(f, 9, "audio/sfx");
	tag_def(f, 2, "ai");
	extra(f, 1, 10); /* before its definition */
	asset_new(f, 1, "hero", "texture");
	context(f, 0, 1, 1);
	alloc(f, 0, 0x100, 100);
	re_alloc(f, 0, 0x180, 120, 0x100);
	state(f, 1, gm_asset_resident);
	extra(f, 1, 1000);
	ref(f, 1, gm_asset_op_ref, 1);
	ref(f, 1, gm_asset_op_touch, 0);
	scene(f, 1, "menu");
	load(f, 2, "menu.lvl", "level", 0x200, 50);
	frame(f);
	for (i = 0; i < 70; i++) {
		snprintf(name, sizeof(name), "prop%u", i);
		snprintf(type, sizeof(type), "t%u", i % 20);
		context(f, 0, 0, 2);
		alloc(f, 0, 0x10000 + 0x10 * i, 8); /* ai grows */
		asset_new(f, 100 + i, name, type);
		context(f, i & 1, 100 + i, 1 + (i % 2));
		alloc(f, i & 1, 0x20000 + 0x10 * i, 16 + i);
		state(f, 100 + i, gm_asset_resident);
		ref(f, 100 + i, gm_asset_op_touch, 0);
		context(f, 0, 0, 0);
		frame(f);
	}
	valid(f, gm_valid_release_below_zero, 1, 0);
	ref(f, 1, gm_asset_op_release, 0);
	ref(f, 1, gm_asset_op_release, 0);
	asset_new(f, 3, "hero", "texture"); /* a duplicate */
	state(f, 1, gm_asset_unloading);
	release(f, 0, 0x180);
	state(f, 1, gm_asset_unloaded);
	state(f, 3, gm_asset_unloaded);
	asset_new(f, 4, "hero", "texture"); /* thrash */
	context(f, 0, 4, 0);
	alloc(f, 0, 0x400, 40);
	state(f, 4, gm_asset_failed); /* a leak */
	scene(f, 2, "forest");
	load(f, 5, "forest.lvl", "level", 0x500, 500);
	unload(f, 2, 0x200);
	frames(f, 3);
	context(f, 3, 0, 0); /* a thread beyond the ones announced */
	alloc(f, 3, 0x600, 6);
	release(f, 3, 0x600);
	frames(f, 2);
}

typedef struct oom_case {
	gm_assets_opts_t opts;
	size_t nassets; /* of the run with nothing failing */
	size_t nchecks;
} oom_case_t;

static int oom_story(long n, void *arg)
{
	oom_case_t *oc = arg;
	feed_t f;
	int rc;

	memset(&f, 0, sizeof(f));
	f.m = gm_assets_new(&oc->opts, 2);
	if (!f.m) {
		cr_assert(gm_failalloc_fired(), "gm_assets_new failed with memory to spare");
		return 1;
	}
	f.ns = 1000;
	f.step = 1000;
	story(&f);
	rc = f.rc;
	if (rc == 0)
		rc = gm_assets_finish(f.m);
	if (rc < 0) {
		cr_assert_eq(rc, -ENOMEM, "allocation %ld: the error is -ENOMEM (got %d)", n, rc);
		cr_assert(gm_failalloc_fired(), "an error with memory to spare");
		gm_assets_free(f.m);
		return 1;
	}
	cr_assert(!gm_failalloc_fired(), "allocation %ld failed and the model did not say", n);
	gm_assets_assets(f.m, &oc->nassets);
	gm_assets_checks(f.m, &oc->nchecks);
	gm_assets_free(f.m);
	return 0;
}

Test(assets_edges, out_of_memory_anywhere_in_the_model_is_enomem)
{
	static const struct {
		gm_assets_by_t by;
		gm_assets_heat_t value;
	} heat[] = {{gm_assets_by_none, gm_assets_heat_live},
	            {gm_assets_by_asset, gm_assets_heat_live},
	            {gm_assets_by_asset, gm_assets_heat_touches},
	            {gm_assets_by_type, gm_assets_heat_live},
	            {gm_assets_by_type, gm_assets_heat_touches},
	            {gm_assets_by_tag, gm_assets_heat_live}};
	oom_case_t oc;
	size_t k;
	long runs;

	for (k = 0; k < sizeof(heat) / sizeof(heat[0]); k++) {
		memset(&oc, 0, sizeof(oc));
		gm_assets_opts_default(&oc.opts);
		oc.opts.heat_by = heat[k].by;
		oc.opts.heat_value = heat[k].value;
		oc.opts.heat_bins = 8;
		oc.opts.orphan_frames = 1;
		oc.opts.stale_frames = 5;
		oc.opts.window_frames = 2;
		runs = gm_failalloc_each(oom_story, &oc, 100000);
		cr_expect_gt(runs, 20, "heat %zu: the model allocates (%ld failing runs)", k, runs);
		cr_expect_eq(oc.nassets, 75, "heat %zu: the run with nothing failing is whole", k);
		cr_expect_gt(oc.nchecks, 70, "heat %zu: every resident asset is a check", k);
	}
}

/* Each record type as the first to allocate: its own error path. */
static void first_tag_def(feed_t *f)
{
	tag_def(f, 1, "a/b/c");
}

static void first_context(feed_t *f)
{
	context(f, 0, 5, 7);
}

static void first_alloc(feed_t *f)
{
	alloc(f, 0, 0x10, 1);
	re_alloc(f, 0, 0x20, 2, 0x10);
}

static void first_asset_new(feed_t *f)
{
	asset_new(f, 1, "a", "level");
}

static void first_state(feed_t *f)
{
	state(f, 1, gm_asset_resident);
	state(f, 1, gm_asset_unloaded);
}

static void first_ref(feed_t *f)
{
	ref(f, 1, gm_asset_op_release, 0);
	ref(f, 1, gm_asset_op_touch, 0);
}

static void first_extra(feed_t *f)
{
	extra(f, 1, 100);
}

static void first_validation(feed_t *f)
{
	valid(f, gm_valid_tag_underflow, 0, 0);
}

static void first_scene(feed_t *f)
{
	scene(f, 1, "s");
}

static void first_thread(feed_t *f)
{
	put(f, 40, gm_rec_alloc, gm_kind_malloc, 0x10, 1, NULL, 0);
}

/* The snapshot after a scene, taken at the end: the first with a type. */
static void first_scene_then_type(feed_t *f)
{
	scene(f, 1, "s");
	asset_new(f, 1, "a", "mesh");
}

/* Checks, each the first one (its allocation is the first of the list). */
static void first_orphan_episode(feed_t *f)
{
	load(f, 1, "a", "mesh", 0x10, 1);
	ref(f, 1, gm_asset_op_ref, 1);
	ref(f, 1, gm_asset_op_release, 0);
	frames(f, 3);
	ref(f, 1, gm_asset_op_ref, 1);
}

static void first_orphan_at_exit(feed_t *f)
{
	load(f, 1, "a", "mesh", 0x10, 1);
	ref(f, 1, gm_asset_op_ref, 1);
	ref(f, 1, gm_asset_op_release, 0);
	frames(f, 3);
}

static void first_stale_at_unload(feed_t *f)
{
	load(f, 1, "a", "mesh", 0x10, 1);
	ref(f, 1, gm_asset_op_touch, 0);
	frames(f, 8);
	state(f, 1, gm_asset_unloading);
}

static void first_stale_at_exit(feed_t *f)
{
	load(f, 1, "a", "mesh", 0x10, 1);
	ref(f, 1, gm_asset_op_touch, 0);
	frames(f, 8);
}

static void first_duplicate(feed_t *f)
{
	asset_new(f, 1, "a", "mesh");
	asset_new(f, 2, "a", "mesh");
}

static void first_refcount_at_unload(feed_t *f)
{
	asset_new(f, 1, "a", "mesh");
	ref(f, 1, gm_asset_op_ref, 2);
	state(f, 1, gm_asset_unloaded);
}

static void first_leak(feed_t *f)
{
	asset_new(f, 1, "a", "mesh");
	context(f, 0, 1, 0);
	alloc(f, 0, 0x10, 1);
	state(f, 1, gm_asset_failed);
}

static void first_tag_growth(feed_t *f)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		alloc(f, 0, 0x10 + i, 8);
		frame(f);
	}
}

/* The 17th check (the list grows) is the refcount finding that comes
 * with a validation record. */
static void seventeenth_check_from_a_validation(feed_t *f)
{
	unsigned i;

	asset_new(f, 1, "a", "mesh");
	for (i = 0; i < 15; i++)
		valid(f, gm_valid_tag_underflow, 0, 0);
	valid(f, gm_valid_release_below_zero, 1, 0);
}

/* The 17th heat change (by tag, one per frame) comes from the free of a
 * block whose address is allocated again. */
static void seventeenth_change_from_a_lost_free(feed_t *f)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		alloc(f, 0, 0x100 + i, 1);
		frame(f);
	}
	alloc(f, 0, 0x100, 1);
}

/* The 17th heat change (by asset) comes from the unload dropping the
 * extra bytes, 20 s after they were declared (the per-second lists grow). */
static void seventeenth_change_from_an_unload(feed_t *f)
{
	unsigned i;

	asset_new(f, 1, "a", "mesh");
	for (i = 0; i < 15; i++) {
		extra(f, 1, 100 + i);
		frame(f);
	}
	f->ns = 20 * S;
	state(f, 1, gm_asset_unloaded);
}

typedef struct first_case {
	void (*fn)(feed_t *f);
	gm_assets_opts_t opts;
} first_case_t;

static int oom_first(long n, void *arg)
{
	first_case_t *fc = arg;
	feed_t f;
	int rc;

	(void)n;
	memset(&f, 0, sizeof(f));
	f.m = gm_assets_new(&fc->opts, 0);
	if (!f.m)
		return 1;
	f.ns = 1000;
	f.step = 1000;
	fc->fn(&f);
	rc = f.rc;
	if (rc == 0)
		rc = gm_assets_finish(f.m);
	gm_assets_free(f.m);
	if (rc < 0) {
		cr_assert_eq(rc, -ENOMEM);
		cr_assert(gm_failalloc_fired());
		return 1;
	}
	cr_assert(!gm_failalloc_fired(), "allocation %ld failed and the model did not say", n);
	return 0;
}

Test(assets_edges, out_of_memory_in_each_kind_of_record)
{
	static void (*const fns[])(feed_t *) = {first_tag_def,
	                                        first_context,
	                                        first_alloc,
	                                        first_asset_new,
	                                        first_state,
	                                        first_ref,
	                                        first_extra,
	                                        first_validation,
	                                        first_scene,
	                                        first_thread,
	                                        first_scene_then_type,
	                                        first_orphan_episode,
	                                        first_orphan_at_exit,
	                                        first_stale_at_unload,
	                                        first_stale_at_exit,
	                                        first_duplicate,
	                                        first_refcount_at_unload,
	                                        first_leak,
	                                        first_tag_growth,
	                                        seventeenth_check_from_a_validation,
	                                        seventeenth_change_from_a_lost_free,
	                                        seventeenth_change_from_an_unload};
	static const gm_assets_by_t by[] = {gm_assets_by_asset, gm_assets_by_type,
	                                    gm_assets_by_tag};
	first_case_t fc;
	size_t k, b;

	for (b = 0; b < sizeof(by) / sizeof(by[0]); b++) {
		for (k = 0; k < sizeof(fns) / sizeof(fns[0]); k++) {
			memset(&fc, 0, sizeof(fc));
			gm_assets_opts_default(&fc.opts);
			fc.opts.heat_by = by[b];
			fc.opts.heat_value = by[b] == gm_assets_by_type ? gm_assets_heat_touches :
			                                                  gm_assets_heat_live;
			fc.opts.orphan_frames = 1;
			fc.opts.stale_frames = 5;
			fc.fn = fns[k];
			cr_expect_gt(gm_failalloc_each(oom_first, &fc, 10000), 0,
			             "record kind %zu allocates", k);
		}
	}
}

/* ---- a capture file, through the reader and the commands ------------------------------ */

/* A small game: two scenes, a level load, tagged asset blocks, touches,
 * a leak and a reference gone wrong; path gets the file's name. */
static void write_capture(char *path, size_t n)
{
	static recs_t r0;
	uint64_t t = 100;
	unsigned i;

	memset(&r0, 0, sizeof(r0));
	rec_str(&r0, t++, gm_rec_tag_def, 1, 15, "render/textures", 15);
	rec_str(&r0, t++, gm_rec_scene, 1, 4, "menu", 4);
	for (i = 1; i <= 6; i++) {
		char text[32];
		int nl = snprintf(text, sizeof(text), "asset%u", i);

		memcpy(text + nl + 1, i == 3 ? "level" : "texture", i == 3 ? 5 : 7);
		rec_str(&r0, t++, gm_rec_asset_new, i,
		        (uint64_t)nl | ((i == 3 ? 5ull : 7ull) << 16), text,
		        (size_t)nl + 1 + (i == 3 ? 5 : 7));
		rec(&r0, t++, gm_rec_context, 0, i, 1, NULL, 0);
		rec(&r0, t++, gm_rec_alloc, gm_kind_malloc, 0x1000 * i, 100 * i, NULL, 0);
		rec(&r0, t++, gm_rec_asset_state, gm_asset_resident, i, 0, NULL, 0);
		rec(&r0, t++, gm_rec_asset_ref, gm_asset_op_touch, i, 0, NULL, 0);
		rec(&r0, t++, gm_rec_context, 0, 0, 0, NULL, 0);
		rec(&r0, (t += S / 10), gm_rec_frame, 0, i, 0, NULL, 0);
	}
	rec(&r0, t++, gm_rec_asset_ref, gm_asset_op_release, 2, 0, NULL, 0);
	rec(&r0, t++, gm_rec_asset_state, gm_asset_unloaded, 1, 0, NULL, 0);
	rec_str(&r0, t++, gm_rec_scene, 2, 6, "forest", 6);
	rec(&r0, t++, gm_rec_frame, 0, 7, 0, NULL, 0);

	snprintf(path, n, "/tmp/gm_test_assets_edges.%ld.gmt", (long)getpid());
	cap_write_recs(path, &r0, 1, 100 * S);
}

static int oom_build(long n, void *arg)
{
	const char *path = arg;
	char err[256];
	gm_reader_t *rd;
	gm_assets_t *m;
	gm_assets_opts_t o;
	int e = 1;

	gm_assets_opts_default(&o);
	o.heat_by = gm_assets_by_tag;
	rd = gm_reader_open(path, err, sizeof(err));
	if (!rd) {
		cr_assert(gm_failalloc_fired(), "%s", err);
		return 1;
	}
	m = gm_assets_build(rd, &o, &e);
	if (!m) {
		cr_assert_eq(e, -ENOMEM, "allocation %ld: *err is -ENOMEM", n);
		gm_reader_free(rd);
		return 1;
	}
	cr_assert_eq(e, 0);
	gm_assets_free(m);
	gm_reader_free(rd);
	return 0;
}

Test(assets_edges, out_of_memory_while_building_from_a_capture)
{
	char path[128];
	long runs;

	write_capture(path, sizeof(path));
	runs = gm_failalloc_each(oom_build, path, 10000);
	cr_expect_gt(runs, 10, "reading and building allocate (%ld failing runs)", runs);
	unlink(path);
}

/* Runs a command in process with stdout and stderr in files; returns its
 * status. */
typedef struct cmd_case {
	const char *argv[8];
	int argc;
	int (*cmd)(int, char **);
	const char *out, *err;
} cmd_case_t;

static int run_cmd(cmd_case_t *cc)
{
	char *argv[8];
	int i, rc;

	for (i = 0; i < cc->argc; i++)
		argv[i] = (char *)cc->argv[i];
	argv[cc->argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	cr_assert_not_null(freopen(cc->out, "w", stdout));
	cr_assert_not_null(freopen(cc->err, "w", stderr));
	rc = cc->cmd(cc->argc, argv);
	fflush(stdout);
	fflush(stderr);
	return rc;
}

static int file_has(const char *path, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, needle) != NULL;
}

static int oom_cmd(long n, void *arg)
{
	cmd_case_t *cc = arg;
	int rc = run_cmd(cc);

	if (gm_failalloc_fired()) {
		cr_assert_eq(rc, GM_CMD_FAIL, "allocation %ld: exit status 1 (got %d)", n, rc);
		cr_assert(file_has(cc->err, "out of memory") || file_has(cc->err, "gmtrace: "),
		          "allocation %ld: an error line", n);
		return 1;
	}
	cr_assert_eq(rc, GM_CMD_OK, "the run with nothing failing");
	return 0;
}

Test(assets_edges, out_of_memory_in_the_commands_exits_1_with_a_message)
{
	static const char *const flags[][4] = {
	        {"--heatmap", "live", "--by", "asset"},
	        {"--json", "--by", "type", "--top"},
	        {"--csv", "--by", "tag", "--svg"},
	        {"--heatmap", "touches", "--svg", NULL},
	};
	char path[128], out[160], err[160], svg[160];
	cmd_case_t cc;
	size_t k;
	long runs;

	write_capture(path, sizeof(path));
	snprintf(out, sizeof(out), "%s.out", path);
	snprintf(err, sizeof(err), "%s.err", path);
	snprintf(svg, sizeof(svg), "%s.svg", path);
	for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
		int i;

		memset(&cc, 0, sizeof(cc));
		cc.cmd = gm_cmd_assets;
		cc.out = out;
		cc.err = err;
		cc.argv[cc.argc++] = "assets";
		for (i = 0; i < 4 && flags[k][i]; i++)
			cc.argv[cc.argc++] = flags[k][i];
		if (strcmp(cc.argv[cc.argc - 1], "--top") == 0)
			cc.argv[cc.argc++] = "3";
		else if (strcmp(cc.argv[cc.argc - 1], "--svg") == 0)
			cc.argv[cc.argc++] = svg;
		cc.argv[cc.argc++] = path;
		runs = gm_failalloc_each(oom_cmd, &cc, 10000);
		cr_expect_gt(runs, 10, "assets %s: allocates (%ld failing runs)", flags[k][0],
		             runs);
	}
	for (k = 0; k < 2; k++) {
		memset(&cc, 0, sizeof(cc));
		cc.cmd = gm_cmd_transitions;
		cc.out = out;
		cc.err = err;
		cc.argv[cc.argc++] = "transitions";
		if (k)
			cc.argv[cc.argc++] = "--json";
		cc.argv[cc.argc++] = path;
		runs = gm_failalloc_each(oom_cmd, &cc, 10000);
		cr_expect_gt(runs, 10, "transitions: allocates (%ld failing runs)", runs);
	}
	unlink(path);
	unlink(out);
	unlink(err);
	unlink(svg);
}

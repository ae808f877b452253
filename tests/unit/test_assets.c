/* test_assets.c - the assets model: attribution, lifecycle, checks, heat maps, transitions
 *
 * Most tests feed events straight into the model (gm_assets_add), with
 * chosen threads, times and frames, so each rule is checked on its own. The
 * last tests write synthetic captures (file header, raw record blocks per
 * thread, clock blocks) and read them back through the reader with
 * gm_assets_build(), as `gmtrace assets` does.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/log/reader.h"
#include "analysis/model/assets.h"
#include "capture_file.h"

#define MS 1000000ull
#define S 1000000000ull

/* ---- feeding events ------------------------------------------------------- */

typedef struct feed {
	gm_assets_t *m;
	uint64_t ns; /* time of the next event; each event adds step */
	uint64_t step;
	uint64_t frame; /* frames marked so far */
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

static void put(feed_t *f, uint32_t thread, unsigned type, unsigned x, uint64_t a, uint64_t b,
                const uint64_t *extra, uint32_t nextra)
{
	gm_event_t ev = event_at(f->ns, thread, type, x, a, b, extra, nextra);

	f->ns += f->step;
	cr_assert_eq(gm_assets_add(f->m, &ev), 0, "gm_assets_add of a %s record",
	             gm_reader_type_name(type));
}

/* Strings of a record packed into 16-byte units: units used. */
static uint32_t pack(uint64_t *w, size_t nw, const char *s1, size_t n1, const char *s2, size_t n2)
{
	size_t bytes = n1 + n2;

	cr_assert_leq(bytes, nw * 8);
	memset(w, 0, nw * 8);
	memcpy(w, s1, n1);
	if (s2)
		memcpy((char *)w + n1, s2, n2);
	return (uint32_t)((bytes + 15) / 16);
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

static void tag_def(feed_t *f, uint64_t id, const char *name)
{
	uint64_t w[32];
	uint32_t n = pack(w, 32, name, strlen(name), NULL, 0);

	put(f, 0, gm_rec_tag_def, n, id, strlen(name), w, n);
}

static void context(feed_t *f, uint32_t th, uint64_t asset, uint64_t tag)
{
	put(f, th, gm_rec_context, 0, asset, tag, NULL, 0);
}

/* asset_new as libgmtrace writes it: name, NUL, type. */
static void asset_new(feed_t *f, uint32_t th, uint64_t id, const char *name, const char *type)
{
	uint64_t w[64];
	size_t nl = strlen(name), tl = strlen(type);
	char buf[512];
	uint32_t n;

	memcpy(buf, name, nl);
	buf[nl] = '\0';
	n = pack(w, 64, buf, nl + 1, type, tl);
	put(f, th, gm_rec_asset_new, n, id, nl | (tl << 16), w, n);
}

static void state(feed_t *f, uint32_t th, uint64_t id, unsigned s)
{
	put(f, th, gm_rec_asset_state, s, id, 0, NULL, 0);
}

static void ref(feed_t *f, uint64_t id, unsigned op, uint64_t count)
{
	put(f, 0, gm_rec_asset_ref, op, id, count, NULL, 0);
}

static void extra(feed_t *f, uint64_t id, uint64_t bytes)
{
	put(f, 0, gm_rec_asset_extra, 0, id, bytes, NULL, 0);
}

static void valid(feed_t *f, uint32_t th, unsigned code, uint64_t subject, uint64_t detail)
{
	put(f, th, gm_rec_validation, code, subject, detail, NULL, 0);
}

static void scene(feed_t *f, uint64_t num, const char *name)
{
	uint64_t w[32];
	uint32_t n = pack(w, 32, name, strlen(name), NULL, 0);

	put(f, 0, gm_rec_scene, n, num, strlen(name), w, n);
}

/* Ends the current frame (main set). */
static void frame(feed_t *f)
{
	put(f, 0, gm_rec_frame, 0, ++f->frame, 0, NULL, 0);
}

static void frames(feed_t *f, unsigned n)
{
	while (n--)
		frame(f);
}

/* A resident asset loaded on thread 0 in one go: new, blocks, resident. */
static void load(feed_t *f, uint64_t id, const char *name, const char *type, uint64_t ptr,
                 uint64_t size)
{
	asset_new(f, 0, id, name, type);
	context(f, 0, id, 0);
	alloc(f, 0, ptr, size);
	state(f, 0, id, gm_asset_resident);
	context(f, 0, 0, 0);
}

static void unload(feed_t *f, uint64_t id, uint64_t ptr)
{
	state(f, 0, id, gm_asset_unloading);
	release(f, 0, ptr);
	state(f, 0, id, gm_asset_unloaded);
}

static void finish(feed_t *f)
{
	cr_assert_eq(gm_assets_finish(f->m), 0, "gm_assets_finish");
}

static const gm_assets_asset_t *asset_named(const gm_assets_t *m, const char *name)
{
	const gm_assets_asset_t *a;
	size_t n, i;

	a = gm_assets_assets(m, &n);
	for (i = 0; i < n; i++)
		if (a[i].name && strcmp(a[i].name, name) == 0)
			return &a[i];
	cr_assert_fail("no asset named %s", name);
	return NULL;
}

static const gm_assets_tag_t *tag_named(const gm_assets_t *m, const char *name)
{
	const gm_assets_tag_t *t;
	size_t n, i;

	t = gm_assets_tags(m, &n);
	for (i = 0; i < n; i++)
		if (t[i].name && strcmp(t[i].name, name) == 0)
			return &t[i];
	cr_assert_fail("no tag named %s", name);
	return NULL;
}

static const gm_assets_type_t *type_named(const gm_assets_t *m, const char *name)
{
	const gm_assets_type_t *t;
	size_t n, i;

	t = gm_assets_types(m, &n);
	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	cr_assert_fail("no type named %s", name);
	return NULL;
}

/* The checks of one kind, in report order; returns how many, *first set. */
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

/* ---- attribution ------------------------------------------------------------ */

Test(assets, allocations_follow_the_threads_context_and_frees_take_from_the_owner)
{
	feed_t f = feed_new(NULL);
	const gm_assets_asset_t *a;
	const gm_assets_tag_t *t;
	const gm_assets_pair_t *p;
	size_t n;

	tag_def(&f, 1, "render/textures");
	alloc(&f, 0, 0x1000, 10); /* untagged, no asset */
	asset_new(&f, 0, 7, "hero", "texture");
	context(&f, 0, 7, 1);
	alloc(&f, 0, 0x2000, 100);
	context(&f, 1, 7, 1); /* a worker helps */
	alloc(&f, 1, 0x3000, 50);
	context(&f, 1, 0, 0);
	alloc(&f, 1, 0x4000, 5); /* the worker's own block */
	state(&f, 0, 7, gm_asset_resident);
	context(&f, 0, 0, 0);
	release(&f, 1, 0x3000); /* freed by the worker under no context */
	finish(&f);

	a = asset_named(f.m, "hero");
	cr_expect_eq(a->live_bytes, 100, "hero live after the worker freed its block");
	cr_expect_eq(a->live_blocks, 1);
	cr_expect_eq(a->peak_bytes, 150, "hero peak (100 + 50)");
	cr_expect_eq(a->allocated_bytes, 150);
	cr_expect_eq(a->allocations, 2);
	cr_expect_eq(a->ready_bytes, 150, "live when it became resident");
	cr_expect_eq(a->state, gm_asset_resident);
	p = gm_assets_asset_tags(f.m, a, &n);
	cr_assert_eq(n, 1, "hero's bytes came under one tag");
	cr_expect_eq(p[0].allocated_bytes, 150);
	cr_expect_eq(p[0].live_bytes, 100);

	t = tag_named(f.m, "render/textures");
	cr_expect_eq(t->own.live_bytes, 100, "render/textures own live");
	cr_expect_eq(t->own.peak_bytes, 150);
	cr_expect_eq(t->loose_bytes, 0, "all of render/textures is in an asset");
	t = tag_named(f.m, "render");
	cr_expect_eq(t->id, 0, "render exists only as a parent");
	cr_expect_eq(t->own.allocated_bytes, 0);
	cr_expect_eq(t->rollup.live_bytes, 100, "render rolls up render/textures");
	cr_expect_eq(tag_named(f.m, "render/textures")->parent,
	             (uint32_t)(t - gm_assets_tags(f.m, &n)));

	t = &gm_assets_tags(f.m, &n)[0];
	cr_expect_null(t->name, "tag 0 is untagged");
	cr_expect_eq(t->own.live_bytes, 15, "untagged: 10 + 5");
	cr_expect_eq(t->loose_bytes, 15);
	cr_expect_eq(gm_assets_live_bytes(f.m), 115, "every live block");
	cr_expect_eq(gm_assets_asset_bytes(f.m), 100, "live blocks in assets");
	cr_expect_eq(type_named(f.m, "texture")->live_bytes, 100);
	cr_expect_eq(type_named(f.m, "texture")->peak_bytes, 150);
	cr_expect_eq(type_named(f.m, "texture")->resident, 1);
	gm_assets_free(f.m);
}

Test(assets, realloc_gives_the_new_block_to_the_reallocating_threads_context)
{
	feed_t f = feed_new(NULL);

	asset_new(&f, 0, 1, "a", "mesh");
	asset_new(&f, 0, 2, "b", "mesh");
	context(&f, 0, 1, 0);
	alloc(&f, 0, 0x100, 64);
	context(&f, 1, 2, 0);
	re_alloc(&f, 1, 0x200, 256, 0x100);
	re_alloc(&f, 1, 0x300, 32, 0x999); /* old block unknown: only the new one */
	finish(&f);

	cr_expect_eq(asset_named(f.m, "a")->live_bytes, 0, "a lost its block to the realloc");
	cr_expect_eq(asset_named(f.m, "a")->peak_bytes, 64);
	cr_expect_eq(asset_named(f.m, "b")->live_bytes, 288, "b got the new blocks (256 + 32)");
	cr_expect_eq(asset_named(f.m, "b")->live_blocks, 2);
	cr_expect_eq(type_named(f.m, "mesh")->live_bytes, 288);
	gm_assets_free(f.m);
}

Test(assets, tag_rollup_peak_is_the_peak_of_the_sum)
{
	feed_t f = feed_new(NULL);
	const gm_assets_tag_t *t;

	tag_def(&f, 1, "audio/music");
	tag_def(&f, 2, "audio/sfx");
	tag_def(&f, 3, "audio");
	context(&f, 0, 0, 1);
	alloc(&f, 0, 0x10, 100);
	release(&f, 0, 0x10);
	context(&f, 0, 0, 2);
	alloc(&f, 0, 0x20, 80);
	context(&f, 0, 0, 3);
	alloc(&f, 0, 0x30, 7);
	finish(&f);

	t = tag_named(f.m, "audio");
	cr_expect_eq(t->id, 3, "a parent defined after its children keeps its id");
	cr_expect_eq(t->own.live_bytes, 7);
	cr_expect_eq(t->rollup.live_bytes, 87);
	cr_expect_eq(t->rollup.peak_bytes, 100, "peak of the sum (100), not the sum of peaks");
	cr_expect_eq(t->rollup.allocated_bytes, 187);
	cr_expect_eq(tag_named(f.m, "audio/sfx")->own.peak_bytes, 80);
	gm_assets_free(f.m);
}

Test(assets, ids_used_before_their_definition_are_named_when_it_comes)
{
	feed_t f = feed_new(NULL);
	const gm_assets_tag_t *t;
	size_t n, i;

	context(&f, 1, 5, 3); /* a worker's context overtook both definitions */
	alloc(&f, 1, 0x10, 40);
	tag_def(&f, 3, "audio/sfx");
	asset_new(&f, 0, 5, "boom", "sound");
	context(&f, 0, 5, 3);
	alloc(&f, 0, 0x20, 60);
	release(&f, 1, 0x10);
	finish(&f);

	t = tag_named(f.m, "audio/sfx");
	cr_expect_eq(t->id, 3);
	cr_expect_eq(t->own.live_bytes, 60);
	cr_expect_eq(t->own.allocated_bytes, 100, "the block from before the definition too");
	cr_expect_eq(t->own.peak_bytes, 100);
	t = tag_named(f.m, "audio");
	cr_expect_eq(t->rollup.live_bytes, 60, "the parent took the renamed tag's bytes");
	cr_expect_eq(t->rollup.peak_bytes, 100);
	cr_expect_eq(type_named(f.m, "sound")->live_bytes, 60);
	cr_expect_eq(type_named(f.m, "sound")->allocated_bytes, 100);
	cr_expect_eq(type_named(f.m, "sound")->peak_bytes, 100);
	t = gm_assets_tags(f.m, &n);
	for (i = 0; i < n; i++)
		cr_expect(!t[i].name || strcmp(t[i].name, "tag#3") != 0, "no stand-in left");
	gm_assets_free(f.m);
}

/* ---- lifecycle --------------------------------------------------------------- */

Test(assets, lifecycle_frames_times_and_extra_bytes)
{
	feed_t f = feed_new(NULL);
	const gm_assets_asset_t *a;
	const gm_assets_check_t *c;

	f.ns = 10 * MS;
	asset_new(&f, 0, 5, "boss", "model");
	context(&f, 0, 5, 0);
	alloc(&f, 0, 0x500, 1000);
	frame(&f); /* frame 1 ends */
	f.ns = 25 * MS;
	state(&f, 0, 5, gm_asset_resident); /* frame 2 */
	extra(&f, 5, 4096);
	context(&f, 0, 0, 0);
	frames(&f, 3);                       /* frames 2..4 end */
	state(&f, 0, 5, gm_asset_unloading); /* frame 5 */
	extra(&f, 5, 1024);
	state(&f, 0, 5, gm_asset_unloaded); /* the block stays: a leak */
	frame(&f);
	finish(&f);

	a = asset_named(f.m, "boss");
	cr_expect_eq(a->new_frame, 1);
	cr_expect_eq(a->new_ns, 10 * MS);
	cr_expect_eq(a->ready_frame, 2);
	cr_expect_eq(a->ready_ns - a->new_ns, 15 * MS, "load duration");
	cr_expect_eq(a->unload_frame, 5);
	cr_expect_eq(a->unloaded_frame, 5);
	cr_expect_eq(a->unloaded_bytes, 1000);
	cr_expect_eq(a->unloaded_blocks, 1);
	cr_expect_eq(a->extra_bytes, 0, "extra bytes go with the unload");
	cr_expect_eq(a->extra_peak, 4096);
	cr_expect_eq(gm_assets_extra_bytes(f.m), 0);
	cr_expect_eq(gm_assets_frames(f.m), 5);
	cr_expect_eq(gm_assets_last_frame(f.m), 5, "the last event is the mark ending frame 5");

	cr_assert_eq(checks_of(f.m, gm_assets_check_leak, &c), 1, "one leak");
	cr_expect_eq(c->frame, 5, "leak: frame of unload");
	cr_expect_eq(c->v[0], 1000, "leak: bytes");
	cr_expect_eq(c->v[1], 1, "leak: blocks");
	cr_expect_eq(checks_of(f.m, gm_assets_check_never_unloaded, &c), 0);
	gm_assets_free(f.m);
}

Test(assets, resident_at_exit_is_never_unloaded_and_failed_loads_with_memory_leak)
{
	feed_t f = feed_new(NULL);
	const gm_assets_check_t *c;

	load(&f, 1, "kept", "font", 0x10, 10);
	frame(&f);
	asset_new(&f, 0, 2, "broken", "font");
	context(&f, 0, 2, 0);
	alloc(&f, 0, 0x20, 20);
	state(&f, 0, 2, gm_asset_failed);
	finish(&f);

	cr_assert_eq(checks_of(f.m, gm_assets_check_never_unloaded, &c), 1);
	cr_expect_str_eq(gm_assets_assets(f.m, &(size_t){0})[c->asset].name, "kept");
	cr_expect_eq(c->frame, 1, "resident since frame 1");
	cr_expect_eq(c->v[0], 10);
	cr_assert_eq(checks_of(f.m, gm_assets_check_leak, &c), 1, "the failed load's block");
	cr_expect_eq(c->frame, 2);
	cr_expect_eq(c->v[0], 20);
	cr_expect(asset_named(f.m, "broken")->failed);
	gm_assets_free(f.m);
}

/* ---- references, touches ------------------------------------------------------------ */

Test(assets, reference_counts_keep_one_change_point_per_frame)
{
	feed_t f = feed_new(NULL);
	const gm_assets_asset_t *a;
	const gm_assets_point_t *p;
	uint32_t cur = 0;

	load(&f, 1, "tex", "texture", 0x10, 10);
	ref(&f, 1, gm_asset_op_ref, 1);
	ref(&f, 1, gm_asset_op_ref, 2);
	frames(&f, 2);
	ref(&f, 1, gm_asset_op_release, 1); /* frame 3 */
	frame(&f);
	ref(&f, 1, gm_asset_op_release, 0); /* frame 4 */
	finish(&f);

	a = asset_named(f.m, "tex");
	cr_expect_eq(a->refs, 0);
	cr_expect_eq(a->refs_max, 2);
	p = gm_assets_refs_next(f.m, a, &cur);
	cr_assert_not_null(p);
	cr_expect(p->frame == 1 && p->count == 2, "frame 1: 2 (got %llu: %lld)",
	          (unsigned long long)p->frame, (long long)p->count);
	p = gm_assets_refs_next(f.m, a, &cur);
	cr_assert_not_null(p);
	cr_expect(p->frame == 3 && p->count == 1);
	p = gm_assets_refs_next(f.m, a, &cur);
	cr_assert_not_null(p);
	cr_expect(p->frame == 4 && p->count == 0);
	cr_expect_null(gm_assets_refs_next(f.m, a, &cur), "three change points");
	gm_assets_free(f.m);
}

Test(assets, orphan_episodes_longer_than_the_limit)
{
	gm_assets_opts_t o;
	feed_t f;
	const gm_assets_check_t *c;
	size_t n;

	gm_assets_opts_default(&o);
	o.orphan_frames = 5;
	f = feed_new(&o);
	load(&f, 1, "a", "texture", 0x10, 10);
	load(&f, 2, "b", "texture", 0x20, 10);
	load(&f, 3, "never_referenced", "texture", 0x30, 10);
	ref(&f, 1, gm_asset_op_ref, 1);
	ref(&f, 2, gm_asset_op_ref, 1);
	frames(&f, 2);
	ref(&f, 1, gm_asset_op_release, 0); /* frame 3: a orphaned */
	ref(&f, 2, gm_asset_op_release, 0); /* frame 3: b orphaned */
	frames(&f, 7);
	ref(&f, 1, gm_asset_op_ref, 1); /* frame 10: a referenced again after 7 frames */
	frames(&f, 10);                 /* b stays orphaned to the end (frame 20) */
	finish(&f);

	cr_assert_eq(checks_of(f.m, gm_assets_check_orphan, &c), 2,
	             "a and b, not the unreferenced");
	cr_expect_eq(c->frame, 3, "since frame 3");
	cr_expect_str_eq(gm_assets_assets(f.m, &n)[c->asset].name, "a");
	cr_expect_eq(c->v[0], 10, "a: until frame 10");
	cr_expect_eq(c->v[1], 7);
	c++;
	cr_expect_str_eq(gm_assets_assets(f.m, &n)[c->asset].name, "b");
	cr_expect_eq(c->v[0], 0, "b: still at exit");
	cr_expect_eq(c->v[1], 16, "b: from frame 3 to frame 19, the last");
	gm_assets_free(f.m);
}

Test(assets, stale_only_for_assets_once_touched)
{
	gm_assets_opts_t o;
	feed_t f;
	const gm_assets_check_t *c;
	size_t n;

	gm_assets_opts_default(&o);
	o.stale_frames = 10;
	f = feed_new(&o);
	load(&f, 1, "old", "texture", 0x10, 10);
	load(&f, 2, "fresh", "texture", 0x20, 10);
	load(&f, 3, "untouched", "texture", 0x30, 10);
	load(&f, 4, "unloaded_late", "texture", 0x40, 10);
	ref(&f, 1, gm_asset_op_touch, 0);
	ref(&f, 4, gm_asset_op_touch, 0);
	ref(&f, 4, gm_asset_op_touch, 0); /* a second record in the same frame counts once */
	frames(&f, 14);
	unload(&f, 4, 0x40); /* frame 15: untouched for 14 frames */
	frames(&f, 5);
	ref(&f, 2, gm_asset_op_touch, 0); /* frame 20 */
	finish(&f);

	cr_expect_eq(asset_named(f.m, "unloaded_late")->touches, 1);
	cr_assert_eq(checks_of(f.m, gm_assets_check_stale, &c), 2);
	cr_expect_str_eq(gm_assets_assets(f.m, &n)[c[0].asset].name, "old");
	cr_expect_eq(c[0].frame, 1, "last touched at frame 1");
	cr_expect_eq(c[0].v[0], 0, "at exit");
	cr_expect_eq(c[0].v[1], 19);
	cr_expect_str_eq(gm_assets_assets(f.m, &n)[c[1].asset].name, "unloaded_late");
	cr_expect_eq(c[1].v[0], 15, "until its unload");
	cr_expect_eq(c[1].v[1], 14);
	gm_assets_free(f.m);
}

/* ---- misuse -------------------------------------------------------------------- */

Test(assets, validation_records_and_refcount_findings)
{
	feed_t f = feed_new(NULL);
	const gm_assets_check_t *c;
	size_t n;

	load(&f, 1, "a", "texture", 0x10, 10);
	load(&f, 2, "b", "texture", 0x20, 10);
	valid(&f, 1, gm_valid_release_below_zero, 1, 0);
	frame(&f);
	ref(&f, 1, gm_asset_op_ref, 1);
	/* frame 2: libgmtrace's unload with a reference held: validation, then the state */
	valid(&f, 0, gm_valid_unload_with_refs, 1, 1);
	unload(&f, 1, 0x10);
	frame(&f);
	/* frame 3: a stream that says so alone */
	ref(&f, 2, gm_asset_op_ref, 1);
	ref(&f, 2, gm_asset_op_ref, 2);
	unload(&f, 2, 0x20);
	valid(&f, 0, gm_valid_tag_underflow, 0, 0);
	valid(&f, 0, 99, 5, 6); /* a code this gmtrace does not know */
	finish(&f);

	cr_assert_eq(checks_of(f.m, gm_assets_check_validation, &c), 4, "every validation record");
	cr_expect_eq(c[0].v[0], gm_valid_release_below_zero);
	cr_expect_eq(c[0].v[1], 1, "subject");
	cr_expect_eq(c[0].v[3], 1, "thread");
	cr_expect_str_eq(gm_assets_assets(f.m, &n)[c[0].asset].name, "a");
	cr_expect_eq(c[2].v[0], gm_valid_tag_underflow);
	cr_expect_eq(c[2].asset, GM_ASSETS_NONE, "a tag code names no asset");
	cr_expect_str_eq(gm_assets_valid_name((unsigned)c[3].v[0]), "unknown");

	cr_assert_eq(checks_of(f.m, gm_assets_check_refcount, &c), 3,
	             "below zero, unload with refs (once), unload with refs from the stream");
	cr_expect(c[0].frame == 1 && c[0].v[0] == gm_valid_release_below_zero && c[0].v[2] == 1);
	cr_expect(c[1].frame == 2 && c[1].v[0] == gm_valid_unload_with_refs && c[1].v[1] == 1 &&
	                  c[1].v[2] == 1,
	          "from the validation record, not twice");
	cr_expect(c[2].frame == 3 && c[2].v[0] == gm_valid_unload_with_refs && c[2].v[1] == 2 &&
	                  c[2].v[2] == 0,
	          "from the reference stream");
	gm_assets_free(f.m);
}

/* Two threads' ref and release, read in the other order than they were made
 * (each record's time is taken after its count changed): a release whose
 * record says the count went to 0 came from 1, whatever the stream had
 * before it. A record whose count after is below zero is one. */
Test(assets, a_release_is_below_zero_by_its_record_not_the_stream)
{
	feed_t f = feed_new(NULL);
	const gm_assets_check_t *c;

	load(&f, 1, "shared", "texture", 0x10, 10);
	ref(&f, 1, gm_asset_op_release, 0); /* thread B: 1 -> 0, read first */
	ref(&f, 1, gm_asset_op_ref, 1);     /* thread A: 0 -> 1, made first */
	ref(&f, 1, gm_asset_op_release, 0);
	frame(&f);
	ref(&f, 1, gm_asset_op_release, UINT32_MAX); /* -1 after: a writer that let it */
	finish(&f);
	cr_assert_eq(checks_of(f.m, gm_assets_check_refcount, &c), 1, "the record below zero only");
	cr_expect(c[0].frame == 2 && c[0].v[0] == gm_valid_release_below_zero && c[0].v[1] == 0 &&
	          c[0].v[2] == 0);
	gm_assets_free(f.m);
}

/* A block allocated at the events level and freed while the capture was at
 * the frames level (which records no free) may be gone: no leak. One
 * allocated after the switch back and never freed is. */
Test(assets, a_block_from_before_the_frames_level_is_no_leak)
{
	feed_t f = feed_new(NULL);
	const gm_assets_check_t *c;
	size_t n;

	load(&f, 1, "A", "texture", 0x10, 1000);
	frame(&f);
	put(&f, 0, gm_rec_level, 0, gm_level_frames, 0, NULL, 0);
	frame(&f);
	state(&f, 0, 1, gm_asset_unloading); /* its block freed meanwhile, unrecorded */
	state(&f, 0, 1, gm_asset_unloaded);
	frame(&f);
	put(&f, 0, gm_rec_level, 0, gm_level_events, 0, NULL, 0);
	load(&f, 2, "B", "texture", 0x20, 2000);
	alloc(&f, 0, 0x30, 300); /* no asset's */
	state(&f, 0, 2, gm_asset_unloading);
	state(&f, 0, 2, gm_asset_unloaded); /* its block still live */
	frame(&f);
	finish(&f);
	cr_assert_eq(checks_of(f.m, gm_assets_check_leak, &c), 1, "B's leak only");
	cr_expect_str_eq(gm_assets_assets(f.m, &n)[c[0].asset].name, "B");
	cr_expect(c[0].v[0] == 2000 && c[0].v[1] == 1 && c[0].v[2] == 2000);
	cr_expect_eq(asset_named(f.m, "A")->unsure_blocks, 1);
	cr_expect_eq(asset_named(f.m, "A")->unsure_bytes, 1000);
	cr_expect_eq(asset_named(f.m, "B")->unsure_blocks, 0);
	gm_assets_free(f.m);
}

Test(assets, duplicate_loads_and_thrash)
{
	gm_assets_opts_t o;
	feed_t f;
	const gm_assets_check_t *c;
	const gm_assets_thrash_t *t;
	size_t n;

	gm_assets_opts_default(&o);
	o.thrash_frames = 10;
	f = feed_new(&o);
	load(&f, 1, "rock", "mesh", 0x10, 10);
	frame(&f);
	load(&f, 2, "rock", "mesh", 0x20, 10); /* frame 2: duplicate of 1 */
	unload(&f, 1, 0x10);
	unload(&f, 2, 0x20);
	frames(&f, 5);
	load(&f, 3, "rock", "mesh", 0x30, 10); /* frame 7: thrash (5 frames) */
	unload(&f, 3, 0x30);
	frames(&f, 20);
	load(&f, 4, "rock", "mesh", 0x40, 10); /* frame 27: 20 frames later, fine */
	finish(&f);

	cr_assert_eq(checks_of(f.m, gm_assets_check_duplicate, &c), 1);
	cr_expect_eq(gm_assets_assets(f.m, &n)[c->asset].id, 2);
	cr_expect_eq(gm_assets_assets(f.m, &n)[c->v[0]].id, 1, "the one still loaded");
	cr_expect_eq(c->frame, 2);
	cr_expect_eq(c->v[1], 1, "its load frame");
	t = gm_assets_thrashes(f.m, &n);
	cr_assert_eq(n, 1, "one reload within 10 frames");
	cr_expect_eq(gm_assets_assets(f.m, &n)[t->asset].id, 3);
	cr_expect_eq(gm_assets_assets(f.m, &n)[t->previous].id, 2);
	cr_expect_eq(t->unload_frame, 2);
	cr_expect_eq(t->reload_frame, 7);
	gm_assets_free(f.m);
}

/* ---- tags growing --------------------------------------------------------------- */

Test(assets, tag_growth_is_the_slope_of_loose_bytes_at_frame_ends)
{
	feed_t f = feed_new(NULL);
	const gm_assets_check_t *c;
	unsigned i;

	tag_def(&f, 1, "fx/particles");
	tag_def(&f, 2, "ai");
	tag_def(&f, 3, "level");
	context(&f, 0, 0, 3);
	alloc(&f, 0, 0x9000, 5000); /* loaded once in frame 1, kept: flat */
	for (i = 0; i < 30; i++) {
		context(&f, 0, 0, 1);
		alloc(&f, 0, 0x10000 + 0x100 * i, 64); /* leaks one 64-byte block per frame */
		alloc(&f, 0, 0x80000 + 0x100 * i, 500);
		release(&f, 0, 0x80000 + 0x100 * i);
		context(&f, 0, 0, 2);
		alloc(&f, 0, 0x90000 + 0x100 * i, 77);
		release(&f, 0, 0x90000 + 0x100 * i);
		frame(&f);
	}
	finish(&f);

	cr_expect_float_eq(tag_named(f.m, "fx/particles")->growth, 64.0, 1e-9);
	cr_expect_eq(tag_named(f.m, "fx/particles")->growth_frames, 30);
	cr_expect_float_eq(tag_named(f.m, "ai")->growth, 0.0, 1e-12);
	cr_expect_float_eq(tag_named(f.m, "level")->growth, 0.0, 1e-12);
	cr_assert_eq(checks_of(f.m, gm_assets_check_tag_growth, &c), 1, "only fx/particles");
	cr_expect_str_eq(gm_assets_tags(f.m, &(size_t){0})[c->tag].name, "fx/particles");
	cr_expect_float_eq(c->rate, 64.0, 1e-9);
	cr_expect_eq(c->v[0], 30 * 64);
	cr_expect_eq(c->v[1], 30);
	cr_expect_eq(c->frame, 1, "fit from its first allocation");
	gm_assets_free(f.m);
}

/* ---- heat maps, streaming ------------------------------------------------------------ */

Test(assets, heat_map_cells_are_the_largest_value_in_each_bin)
{
	gm_assets_opts_t o;
	feed_t f;
	const uint64_t *row;
	uint32_t b;
	static const uint64_t want[5] = {0, 300, 100, 100, 0};

	gm_assets_opts_default(&o);
	o.heat_by = gm_assets_by_asset;
	o.heat_bins = 5;
	f = feed_new(&o);
	frames(&f, 2);
	load(&f, 1, "a", "texture", 0x10, 100); /* frame 3 */
	context(&f, 0, 1, 0);
	alloc(&f, 0, 0x20, 200); /* frame 3: 300 */
	release(&f, 0, 0x20);    /* 100 again */
	context(&f, 0, 0, 0);
	frames(&f, 5);
	unload(&f, 1, 0x10); /* frame 8 */
	frames(&f, 3);       /* the last mark ends frame 10 */
	finish(&f);

	cr_assert_eq(gm_assets_heat_bins(f.m), 5);
	cr_assert_eq(gm_assets_heat_rows(f.m), 1);
	row = gm_assets_heat_row(f.m, 0);
	for (b = 0; b < 5; b++) {
		cr_expect_eq(row[b], want[b], "bin %u: %llu, want %llu", b,
		             (unsigned long long)row[b], (unsigned long long)want[b]);
		cr_expect_eq(gm_assets_heat_first(f.m, b), 1 + 2 * b, "first frame of bin %u", b);
	}
	gm_assets_free(f.m);
}

Test(assets, heat_map_of_touches_by_type)
{
	gm_assets_opts_t o;
	feed_t f;
	const uint64_t *row;
	size_t n;

	gm_assets_opts_default(&o);
	o.heat_by = gm_assets_by_type;
	o.heat_value = gm_assets_heat_touches;
	o.heat_bins = 2;
	f = feed_new(&o);
	load(&f, 1, "a", "sound", 0x10, 1);
	load(&f, 2, "b", "sound", 0x20, 1);
	ref(&f, 1, gm_asset_op_touch, 0);
	ref(&f, 2, gm_asset_op_touch, 0);
	frame(&f);
	ref(&f, 1, gm_asset_op_touch, 0);
	frames(&f, 2);
	ref(&f, 2, gm_asset_op_touch, 0); /* frame 4 */
	frame(&f);
	finish(&f);

	gm_assets_types(f.m, &n);
	cr_assert_eq(gm_assets_heat_rows(f.m), n);
	row = gm_assets_heat_row(f.m, 0);
	cr_expect_eq(row[0], 3, "frames 1-2: three touches");
	cr_expect_eq(row[1], 1, "frames 3-4: one");
	gm_assets_free(f.m);
}

Test(assets, streaming_per_second_and_residency)
{
	feed_t f = feed_new(NULL);
	const gm_assets_stream_t *s;

	f.ns = 0;
	f.step = 0; /* every event at the time set */
	asset_new(&f, 0, 1, "a", "model");
	context(&f, 0, 1, 0);
	f.ns = S / 2;
	alloc(&f, 0, 0x10, 1000); /* second 0 */
	state(&f, 0, 1, gm_asset_resident);
	f.ns = 2 * S + S / 2;
	asset_new(&f, 0, 2, "b", "texture");
	context(&f, 0, 2, 0);
	alloc(&f, 0, 0x20, 3000); /* second 2 */
	state(&f, 0, 2, gm_asset_resident);
	extra(&f, 2, 500);
	f.ns = 3 * S + S / 2;
	state(&f, 0, 1, gm_asset_unloading); /* a resident for 3 s */
	release(&f, 0, 0x10);                /* second 3 */
	state(&f, 0, 1, gm_asset_unloaded);
	finish(&f);

	s = gm_assets_streaming(f.m);
	cr_expect_eq(s->seconds, 4);
	cr_expect_eq(s->loaded.total, 4500, "1000 + 3000 + 500 extra");
	cr_expect_eq(s->loaded.min, 0, "second 1 loaded nothing");
	cr_expect_eq(s->loaded.median, 0, "seconds 0 1000, 1 0, 2 3500, 3 0: lower median 0");
	cr_expect_eq(s->loaded.max, 3500);
	cr_expect_eq(s->unloaded.total, 1000);
	cr_expect_eq(s->unloaded.max, 1000);
	cr_expect_eq(s->residencies, 1);
	cr_expect_eq(s->residency_p50_ns, 3 * S, "%llu", (unsigned long long)s->residency_p50_ns);
	cr_expect_eq(s->residency_max_ns, 3 * S);
	cr_expect_eq(s->still_resident, 1);
	gm_assets_free(f.m);
}

/* ---- transitions ------------------------------------------------------------------ */

Test(assets, transition_ends_when_old_scene_assets_are_unloaded)
{
	feed_t f = feed_new(NULL);
	const gm_assets_transition_t *t;
	const gm_assets_snap_type_t *before, *after;
	const uint32_t *kept;
	size_t n;

	alloc(&f, 0, 0x1, 7); /* the runtime's block, no asset */
	scene(&f, 1, "A");
	load(&f, 1, "a1", "texture", 0x10, 100);
	load(&f, 2, "a2", "texture", 0x20, 200);
	load(&f, 3, "font", "font", 0x30, 50);
	ref(&f, 1, gm_asset_op_touch, 0);
	ref(&f, 2, gm_asset_op_touch, 0);
	frames(&f, 4);
	scene(&f, 2, "B"); /* frame 5 */
	load(&f, 4, "b1", "texture", 0x40, 400);
	unload(&f, 1, 0x10);
	ref(&f, 3, gm_asset_op_touch, 0); /* the font is used in B */
	frames(&f, 3);                    /* frame 5 ends: the old scene's unloads are done */
	finish(&f);

	t = gm_assets_transitions(f.m, &n);
	cr_assert_eq(n, 2, "scenes A and B");
	cr_expect_str_eq(t[0].name, "A");
	cr_expect_eq(t[0].end, gm_assets_end_next, "nothing before A was unloaded: B ends it");
	t++;
	cr_expect_str_eq(t->name, "B");
	cr_expect_eq(t->scene, 2);
	cr_expect_eq(t->frame, 5);
	cr_expect_eq(t->end, gm_assets_end_unloaded);
	cr_expect_eq(t->end_frame, 5);
	cr_expect_eq(t->before.live_bytes, 357);
	cr_expect_eq(t->before.asset_bytes, 350);
	cr_expect_eq(t->peak_bytes, 757, "b1 loaded before a1 went");
	cr_expect_eq(t->peak_frame, 5);
	cr_expect_eq(t->after.live_bytes, 657);
	cr_expect_eq(t->after.asset_bytes, 650);
	cr_expect_eq(t->loaded_bytes, 400);
	cr_expect_eq(t->unloaded_bytes, 100);
	cr_expect_eq(t->old_assets, 3);
	cr_expect_eq(t->old_unloaded, 1);
	before = gm_assets_snap_types(f.m, &t->before);
	after = gm_assets_snap_types(f.m, &t->after);
	cr_expect_eq(before[0].live_bytes, 300, "textures before");
	cr_expect_eq(after[0].live_bytes, 600, "textures after");
	cr_assert_eq(t->nkept, 1, "a2: survived, never touched in B");
	kept = gm_assets_kept(f.m, t);
	cr_expect_str_eq(gm_assets_assets(f.m, &n)[kept[0]].name, "a2");
	cr_expect_eq(t->kept_bytes, 200);
	gm_assets_free(f.m);
}

Test(assets, level_asset_and_scene_in_one_frame_make_one_transition)
{
	gm_assets_opts_t o;
	feed_t f;
	const gm_assets_transition_t *t;
	size_t n;

	gm_assets_opts_default(&o);
	o.window_frames = 3;
	f = feed_new(&o);
	load(&f, 1, "menu", "level", 0x10, 10);
	frames(&f, 2);
	scene(&f, 7, "forest"); /* frame 3 */
	load(&f, 2, "forest.lvl", "level", 0x20, 20);
	frames(&f, 10); /* menu never unloaded: the window ends it */
	finish(&f);

	t = gm_assets_transitions(f.m, &n);
	cr_assert_eq(n, 2, "the menu level, then forest (scene and level together)");
	cr_expect_str_eq(t[0].name, "menu", "a level load alone is named by its asset");
	cr_expect_eq(t[0].has_scene, 0);
	cr_expect_eq(t[0].end, gm_assets_end_next);
	cr_expect_str_eq(t[1].name, "forest");
	cr_expect_eq(t[1].has_scene, 1);
	cr_expect_eq(gm_assets_assets(f.m, &n)[t[1].level_asset].id, 2);
	cr_expect_eq(t[1].end, gm_assets_end_window);
	cr_expect_eq(t[1].end_frame, 5, "frames 3..5: a window of three frames");
	cr_expect_eq(t[1].nkept, 1, "menu survived untouched");
	gm_assets_free(f.m);
}

/* ---- damaged records ------------------------------------------------------------ */

Test(assets, strings_longer_than_their_record_are_cut)
{
	feed_t f = feed_new(NULL);
	uint64_t w[2] = {0x6f6f6f6f6f6f6f6full, 0x6f6f6f6f6f6f6f6full};

	put(&f, 0, gm_rec_asset_new, 1, 9, 200 | (50 << 16), w, 1); /* says 200 + 50 bytes */
	put(&f, 0, gm_rec_tag_def, 0, 4, 0, NULL, 0);               /* no name */
	context(&f, 0, 9, 4);
	alloc(&f, 0, 0x10, 1);
	context(&f, 0, 12, 99); /* ids nobody defined */
	alloc(&f, 0, 0x20, 2);
	state(&f, 0, 12, gm_asset_resident);
	finish(&f);

	cr_expect_str_eq(asset_named(f.m, "oooooooooooooooo")->name, "oooooooooooooooo");
	cr_expect_eq(tag_named(f.m, "tag#4")->own.live_bytes, 1);
	cr_expect_eq(tag_named(f.m, "tag#99")->own.live_bytes, 2);
	cr_expect_null(gm_assets_assets(f.m, &(size_t){0})[1].name, "an asset never defined");
	gm_assets_free(f.m);
}

/* ---- through a capture file ---------------------------------------------------- */

Test(assets, a_capture_read_through_the_reader)
{
	static recs_t r[2]; /* threads 0 and 1 */
	uint64_t w[4];
	char path[128];
	char text[] = "hero\0texture";
	gm_assets_opts_t o;
	gm_reader_t *rd;
	gm_assets_t *m;
	const gm_assets_asset_t *a;
	const gm_assets_transition_t *t;
	const gm_assets_check_t *chk;
	size_t n;
	int err, i;

	memset(r, 0, sizeof(r));
	/* thread 0: a tag, an asset loaded with a block, extra bytes, a scene, 4 frames */
	rec_str(&r[0], 100, gm_rec_tag_def, 3, 15, "render/textures", 15);
	memset(w, 0, sizeof(w));
	memcpy(w, text, sizeof(text) - 1);
	rec(&r[0], 200, gm_rec_asset_new, 1, 42, 4 | (7 << 16), w, 2);
	rec(&r[0], 300, gm_rec_context, 0, 42, 3, NULL, 0);
	rec(&r[0], 400, gm_rec_alloc, gm_kind_malloc, 0xa000, 1000, NULL, 0);
	rec(&r[0], 500, gm_rec_asset_extra, 0, 42, 1 << 20, NULL, 0);
	rec(&r[0], 510, gm_rec_asset_state, gm_asset_resident, 42, 0, NULL, 0);
	rec(&r[0], 520, gm_rec_asset_ref, gm_asset_op_ref, 42, 1, NULL, 0);
	rec(&r[0], 530, gm_rec_asset_ref, gm_asset_op_touch, 42, 0, NULL, 0);
	rec(&r[0], 540, gm_rec_validation, gm_valid_release_below_zero, 7, 0, NULL, 0);
	rec(&r[0], 600, gm_rec_context, 0, 0, 0, NULL, 0);
	rec_str(&r[0], 700, gm_rec_scene, 1, 5, "arena", 5);
	for (i = 1; i <= 4; i++)
		rec(&r[0], 1000 + 9 * S / 10 * (uint64_t)i, gm_rec_frame, 0, (uint64_t)i, 0, NULL,
		    0);
	/* thread 1 (between frames 1 and 2): works for the asset, then reallocs
	 * the asset's block outside it */
	rec(&r[1], S, gm_rec_context, 0, 42, 3, NULL, 0);
	rec(&r[1], S + 10, gm_rec_alloc, gm_kind_malloc, 0xb000, 24, NULL, 0);
	rec(&r[1], S + 20, gm_rec_context, 0, 0, 0, NULL, 0);
	w[0] = 0xa000;
	w[1] = 0;
	rec(&r[1], S + 30, gm_rec_realloc, gm_kind_realloc, 0xc000, 2000, w, 2);

	snprintf(path, sizeof(path), "/tmp/gm_test_assets.%ld.gmt", (long)getpid());
	cap_write_recs(path, r, 2, 10 * S); /* ns = tsc */

	gm_assets_opts_default(&o);
	o.heat_by = gm_assets_by_tag;
	o.heat_bins = 2;
	rd = gm_reader_open(path, (char[256]){0}, 256);
	cr_assert_not_null(rd, "opening %s", path);
	m = gm_assets_build(rd, &o, &err);
	cr_assert_not_null(m, "gm_assets_build: %d", err);
	cr_expect_null(gm_reader_error(rd), "%s", gm_reader_error(rd));

	a = asset_named(m, "hero");
	cr_expect_eq(a->id, 42);
	cr_expect_str_eq(gm_assets_types(m, &n)[a->type].name, "texture");
	cr_expect_eq(a->live_bytes, 24, "its first block went to the realloc's context");
	cr_expect_eq(a->peak_bytes, 1024);
	cr_expect_eq(a->extra_bytes, 1 << 20);
	cr_expect_eq(a->state, gm_asset_resident);
	cr_expect_eq(a->refs, 1);
	cr_expect_eq(a->touches, 1);
	cr_expect_eq(checks_of(m, gm_assets_check_validation, &chk), 1, "the validation record");
	cr_expect_eq(chk->v[1], 7, "its subject");
	cr_expect_eq(tag_named(m, "render/textures")->own.live_bytes, 24);
	cr_expect_eq(tag_named(m, "render")->rollup.peak_bytes, 1024);
	cr_expect_eq(gm_assets_tags(m, &n)[0].own.live_bytes, 2000,
	             "the realloc'd block: untagged");
	cr_expect_eq(gm_assets_frames(m), 4);
	t = gm_assets_transitions(m, &n);
	cr_assert_eq(n, 1);
	cr_expect_str_eq(t->name, "arena");
	cr_expect_eq(t->before.extra_bytes, 1 << 20);
	cr_expect_eq(gm_assets_streaming(m)->seconds, 4, "events from 100 ns to 3.6 s");
	cr_expect_eq(gm_assets_streaming(m)->loaded.total, 1024 + (1 << 20));
	/* the heat map pass: frames 1..4 (the last event ends frame 4) in 2 bins */
	cr_expect_eq(gm_assets_heat_bins(m), 2);
	cr_expect_eq(gm_assets_heat_first(m, 2), 5, "one past the last frame");
	gm_assets_free(m);
	gm_reader_free(rd);
	unlink(path);
}

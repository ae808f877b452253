/* test_platforms.c - the platforms model on events fed by hand: routing (type
 * before tag, the longest tag prefix, the default bank), blocks that keep
 * their context through realloc and cross-thread frees, extra bytes, the
 * first overrun and its contributors, frames over, failures */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/model/platforms.h"
#include "interpose/log/format.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)

static gm_platform_t prof; /* large: static */
static char dir[64], path[128];

static const char profile_text[] = "name: dev\n"
                                   "title: Dev kit\n"
                                   "family: console\n"
                                   "physical: {size: 64MiB, source: test}\n"
                                   "available: {size: 40MiB, source: test}\n"
                                   "banks:\n"
                                   "  - name: main\n"
                                   "    default: true\n"
                                   "    capacity: {size: 32MiB, source: test}\n"
                                   "  - name: vram\n"
                                   "    capacity: {size: 16MiB, source: test}\n"
                                   "    types: [texture]\n"
                                   "    tags: [gpu]\n"
                                   "budget:\n"
                                   "  - name: tex\n"
                                   "    parent: vram\n"
                                   "    hard: 8MiB\n"
                                   "    types: [texture]\n"
                                   "  - name: ui\n"
                                   "    parent: main\n"
                                   "    hard: 4MiB\n"
                                   "    tags: [ui]\n"
                                   "  - name: icons\n"
                                   "    parent: ui\n"
                                   "    hard: 1MiB\n"
                                   "    tags: [ui/icons]\n";

enum {
	MAIN,
	VRAM,
	TEX,
	UI,
	ICONS
}; /* node indexes, in profile order */

static void setup(void)
{
	FILE *f;
	char err[512];
	strcpy(dir, "/tmp/gm_test_platforms.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dev.yaml", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(profile_text, f);
	fclose(f);
	cr_assert_eq(gm_platform_load(path, &prof, err, sizeof(err)), 0, "%s", err);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

TestSuite(platforms, .init = setup, .fini = teardown);

typedef struct feed {
	gm_platforms_t *m;
	uint64_t ns, frame;
} feed_t;

static feed_t feed_new(void)
{
	const gm_platform_t *list[1] = {&prof};
	feed_t f = {gm_platforms_new(list, 1), 1000, 0};
	cr_assert_not_null(f.m);
	return f;
}

static void put(feed_t *f, uint32_t thread, unsigned type, unsigned x, uint64_t a, uint64_t b,
                const void *extra, uint32_t units)
{
	gm_event_t ev;
	memset(&ev, 0, sizeof(ev));
	ev.ns = ev.tsc = f->ns += 100;
	ev.thread = thread;
	ev.type = type;
	ev.x = x;
	ev.a = a;
	ev.b = b;
	ev.extra = extra;
	ev.nextra = units;
	cr_assert_eq(gm_platforms_add(f->m, &ev), 0);
}

static void tag(feed_t *f, uint32_t id, const char *name)
{
	uint64_t w[16] = {0};
	size_t n = strlen(name);
	memcpy(w, name, n);
	put(f, 0, gm_rec_tag_def, (unsigned)((n + 15) / 16), id, n, w, (uint32_t)((n + 15) / 16));
}

static void asset(feed_t *f, uint64_t id, const char *name, const char *type)
{
	uint64_t w[16] = {0};
	size_t n = strlen(name), t = strlen(type), units = (n + 1 + t + 15) / 16;
	memcpy(w, name, n);
	memcpy((char *)w + n + 1, type, t);
	put(f, 0, gm_rec_asset_new, (unsigned)units, id, n | t << 16, w, (uint32_t)units);
}

static void ctx(feed_t *f, uint32_t thread, uint32_t tag_id, uint64_t asset_id)
{
	put(f, thread, gm_rec_context, 0, asset_id, tag_id, NULL, 0);
}

static void alloc(feed_t *f, uint32_t thread, uint64_t ptr, uint64_t size)
{
	put(f, thread, gm_rec_alloc, gm_kind_malloc, ptr, size, NULL, 0);
}

static void release(feed_t *f, uint32_t thread, uint64_t ptr)
{
	put(f, thread, gm_rec_free, gm_kind_free, ptr, 0, NULL, 0);
}

static void frame(feed_t *f)
{
	put(f, 0, gm_rec_frame, 0, ++f->frame, 0, NULL, 0);
}

static int64_t live(feed_t *f, int node)
{
	return gm_platforms_profile(f->m, 0)->nodes[node].live;
}

Test(platforms, routing_takes_the_type_first_then_the_longest_tag_then_the_default_bank)
{
	feed_t f = feed_new();
	tag(&f, 1, "gpu/shaders");
	tag(&f, 2, "ui");
	tag(&f, 3, "ui/icons/small");
	tag(&f, 4, "uix");
	asset(&f, 7, "rock.png", "texture");
	ctx(&f, 0, 1, 0); /* gpu/shaders: the vram bank by its tag */
	alloc(&f, 0, 0x1000, 100);
	ctx(&f, 0, 2, 7); /* a texture under tag ui: the type wins */
	alloc(&f, 0, 0x2000, 200);
	ctx(&f, 0, 3, 0); /* ui/icons/small: icons (longest prefix), under ui */
	alloc(&f, 0, 0x3000, 300);
	ctx(&f, 0, 4, 0); /* uix: no prefix ("ui" ends at a '/'): main */
	alloc(&f, 0, 0x4000, 400);
	ctx(&f, 0, 0, 0); /* nothing: main */
	alloc(&f, 0, 0x5000, 500);
	gm_platforms_finish(f.m);
	cr_expect_eq(live(&f, VRAM), 100 + 200);
	cr_expect_eq(live(&f, TEX), 200);
	cr_expect_eq(live(&f, ICONS), 300);
	cr_expect_eq(live(&f, UI), 300);
	cr_expect_eq(live(&f, MAIN), 300 + 400 + 500);
	cr_expect_eq(gm_platforms_profile(f.m, 0)->total.live, 1500);
	gm_platforms_free(f.m);
}

Test(platforms, blocks_keep_their_context_through_realloc_and_other_threads)
{
	feed_t f = feed_new();
	uint64_t old = 0x1000;
	asset(&f, 3, "sky.png", "texture");
	ctx(&f, 0, 0, 3);
	alloc(&f, 0, old, 1000);
	ctx(&f, 0, 0, 0); /* the thread moved on */
	put(&f, 0, gm_rec_realloc, gm_kind_realloc, 0x9000, 3000, (uint64_t[2]){old, 0}, 1);
	cr_expect_eq(live(&f, TEX), 3000, "the block stays a texture");
	cr_expect_eq(live(&f, MAIN), 0);
	release(&f, 1, 0x9000); /* freed on a thread with no context */
	cr_expect_eq(live(&f, TEX), 0);
	cr_expect_eq(live(&f, VRAM), 0);
	release(&f, 1, 0x7777); /* never allocated: nothing moves */
	alloc(&f, 0, 0x8000, 10);
	alloc(&f, 0, 0x8000, 20); /* same address again: the missed free is assumed */
	cr_expect_eq(live(&f, MAIN), 20);
	gm_platforms_free(f.m);
}

Test(platforms, extra_bytes_count_in_the_assets_node)
{
	feed_t f = feed_new();
	asset(&f, 5, "hero.png", "texture");
	put(&f, 0, gm_rec_asset_extra, 0, 5, 3 * MiB, NULL, 0);
	cr_expect_eq(live(&f, TEX), (int64_t)(3 * MiB));
	put(&f, 0, gm_rec_asset_extra, 0, 5, 1 * MiB, NULL, 0); /* a new total */
	cr_expect_eq(live(&f, TEX), (int64_t)MiB);
	put(&f, 0, gm_rec_asset_extra, 0, 99, 1 * MiB, NULL, 0); /* unknown asset: ignored */
	cr_expect_eq(gm_platforms_profile(f.m, 0)->total.live, (int64_t)MiB);
	gm_platforms_free(f.m);
}

Test(platforms, the_first_overrun_names_its_frame_scene_and_contributors)
{
	feed_t f = feed_new();
	const gm_platforms_profile_t *pp;
	const gm_platforms_node_t *tex;
	uint64_t w[2] = {0};
	memcpy(w, "forest", 6);
	tag(&f, 1, "render/textures");
	put(&f, 0, gm_rec_scene, 1, 1, 6, w, 1);
	/* frames 1..10: one texture of 1 MiB + i bytes each; tex (8 MiB) goes
	 * over with the 8th, in frame 8 */
	for (uint64_t i = 1; i <= 10; i++) {
		char name[16];
		snprintf(name, sizeof(name), "t%02llu", (unsigned long long)i);
		asset(&f, i, name, "texture");
		ctx(&f, 0, 1, i);
		alloc(&f, 0, 0x100000 * i, MiB + i); /* sizes differ: t10 is the largest */
		ctx(&f, 0, 0, 0);
		frame(&f);
	}
	/* a failed allocation in frame 11 */
	put(&f, 0, gm_rec_fail, gm_kind_malloc, 0, 0, (uint64_t[2]){4 * MiB, 0}, 1);
	gm_platforms_finish(f.m);
	pp = gm_platforms_profile(f.m, 0);
	tex = &pp->nodes[TEX];
	cr_expect_eq(tex->over, 1);
	cr_expect_eq(tex->over_frame, 8);
	cr_expect_str_eq(tex->over_scene, "forest");
	cr_expect_eq(tex->first.live, (int64_t)(8 * MiB + 36));
	cr_assert_eq(tex->first.ntypes, 1);
	cr_expect_str_eq(tex->first.types[0].name, "texture");
	cr_assert_eq(tex->first.ntags, 1);
	cr_expect_str_eq(tex->first.tags[0].name, "render/textures");
	cr_assert_eq(tex->first.nlargest, 8);
	cr_expect_str_eq(tex->first.largest[0].name, "t08");
	cr_expect_eq(tex->first.largest[0].bytes, (int64_t)(MiB + 8));
	cr_expect_eq(tex->peak, (int64_t)(10 * MiB + 55));
	cr_expect_eq(tex->peak_frame, 10);
	/* taken again as the peak grew by 1/32 of the limit or more */
	cr_expect_eq(tex->at_peak.frame, 10);
	cr_expect_eq(tex->at_peak.live, tex->peak);
	cr_expect_eq(tex->at_peak.nlargest, 10);
	cr_expect_str_eq(tex->at_peak.largest[0].name, "t10");
	/* frames 8, 9 and 10 ended over 8 MiB; vram (16 MiB) never went over */
	cr_expect_eq(tex->frames_over, 3);
	cr_expect_eq(pp->nodes[VRAM].over, 0);
	cr_expect(pp->fits, "banks and total within their limits");
	cr_expect_not(pp->within_budget, "the tex budget went over");
	cr_expect_eq(gm_platforms_host(f.m)->failed_allocs, 1);
	cr_expect_eq(gm_platforms_host(f.m)->first_fail_frame, 11);
	cr_expect_eq(gm_platforms_host(f.m)->first_fail_size, 4 * MiB);
	cr_expect_eq(gm_platforms_frames(f.m), 10);
	gm_platforms_free(f.m);
}

Test(platforms, a_bank_over_its_capacity_makes_the_platform_unfit)
{
	feed_t f = feed_new();
	const gm_platforms_profile_t *pp;
	alloc(&f, 0, 0x1000, 20 * MiB);
	frame(&f);
	alloc(&f, 0, 0x2000, 13 * MiB); /* main: 33 MiB > 32 in frame 2 */
	release(&f, 0, 0x2000);
	gm_platforms_finish(f.m);
	pp = gm_platforms_profile(f.m, 0);
	cr_expect_eq(pp->nodes[MAIN].over_frame, 2);
	cr_expect_eq(pp->nodes[MAIN].frames_over, 0, "over inside frame 2 only");
	cr_expect_eq(pp->total.over, 0, "33 MiB is within the 40 MiB available");
	cr_expect_not(pp->fits);
	gm_platforms_free(f.m);
}

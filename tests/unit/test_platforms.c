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

#include "analysis/cmd/cmd.h"
#include "analysis/model/platforms.h"
#include "capture_file.h"
#include "cmdrun.h"
#include "failalloc.h"
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
                const uint64_t *extra, uint32_t units)
{
	gm_event_t ev = event_at(f->ns += 100, thread, type, x, a, b, extra, units);
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

Test(platforms, an_asset_of_an_unbound_type_goes_where_its_load_began)
{
	/* as libgmtrace routes it: an asset whose type no node binds belongs
	 * to the node of the tag its load began under, for every block made
	 * in its scopes, on any thread, under any tag */
	feed_t f = feed_new();
	tag(&f, 1, "gpu");
	tag(&f, 2, "ui");
	asset(&f, 9, "boot.bin", "blob"); /* begun with no tag: its blocks go by tag */
	ctx(&f, 0, 1, 0);                 /* thread 0 under gpu */
	asset(&f, 7, "vbuf", "blob");     /* begun under gpu */
	ctx(&f, 0, 1, 7);
	alloc(&f, 0, 0x1000, 100);
	ctx(&f, 0, 0, 0);
	ctx(&f, 1, 0, 7); /* a loader thread attached, no tag */
	alloc(&f, 1, 0x2000, 200);
	ctx(&f, 1, 2, 7); /* under ui inside the asset's scope */
	alloc(&f, 1, 0x3000, 300);
	put(&f, 1, gm_rec_asset_extra, 0, 7, 400, NULL, 0);
	ctx(&f, 1, 2, 9); /* boot.bin, begun untagged, now under ui: ui's */
	alloc(&f, 1, 0x4000, 50);
	gm_platforms_finish(f.m);
	cr_expect_eq(live(&f, VRAM), 100 + 200 + 300 + 400);
	cr_expect_eq(live(&f, UI), 50);
	cr_expect_eq(live(&f, MAIN), 50);
	gm_platforms_free(f.m);
}

Test(platforms, a_budget_node_without_a_parent_is_in_the_default_bank)
{
	/* the library defines a profile's parentless node in the default bank
	 * under a platform: so does the replay */
	static const char text[] = "name: dev\n"
	                           "title: Dev kit\n"
	                           "family: console\n"
	                           "physical: {size: 64MiB, source: test}\n"
	                           "available: {size: 48MiB, source: test}\n"
	                           "banks:\n"
	                           "  - name: main\n"
	                           "    capacity: {size: 32MiB, source: test}\n"
	                           "  - name: vram\n"
	                           "    default: true\n"
	                           "    capacity: {size: 16MiB, source: test}\n"
	                           "budget:\n"
	                           "  - name: textures\n"
	                           "    hard: 12MiB\n"
	                           "    types: [texture]\n";
	static gm_platform_t p2;
	const gm_platform_t *const list[1] = {&p2};
	char err[256];
	FILE *fp = fopen(path, "w");
	gm_platforms_t *m;
	cr_assert(fp);
	fputs(text, fp);
	fclose(fp);
	cr_assert_eq(gm_platform_load(path, &p2, err, sizeof(err)), 0, "%s", err);
	m = gm_platforms_new(list, 1);
	cr_assert(m);
	cr_expect_eq(gm_platforms_profile(m, 0)->nodes[2].parent, 1, "textures in vram");
	cr_expect_eq(gm_platforms_profile(m, 0)->nodes[2].depth, 1);
	cr_expect_eq(gm_platforms_profile(m, 0)->nodes[0].parent, -1, "banks are roots");
	gm_platforms_free(m);
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

Test(platforms, extra_bytes_go_with_the_unloaded_asset)
{
	feed_t f = feed_new();
	/* one texture at a time, loaded four times: its GPU copy is in the
	 * bank only while it is loaded */
	for (uint64_t k = 0; k < 4; k++) {
		asset(&f, 5 + k, "hero.png", "texture");
		put(&f, 0, gm_rec_asset_extra, 0, 5 + k, MiB, NULL, 0);
		cr_expect_eq(live(&f, TEX), (int64_t)MiB, "load %d", (int)k);
		put(&f, 0, gm_rec_asset_state, gm_asset_unloading, 5 + k, 0, NULL, 0);
		cr_expect_eq(live(&f, TEX), (int64_t)MiB, "still there while unloading");
		put(&f, 0, gm_rec_asset_state, gm_asset_unloaded, 5 + k, 0, NULL, 0);
		cr_expect_eq(live(&f, TEX), 0, "unload %d", (int)k);
	}
	cr_expect_eq(gm_platforms_profile(f.m, 0)->total.peak, (int64_t)MiB);
	put(&f, 0, gm_rec_asset_state, gm_asset_unloaded, 5, 0, NULL, 0);  /* twice: nothing */
	put(&f, 0, gm_rec_asset_state, gm_asset_unloaded, 99, 0, NULL, 0); /* unknown */
	cr_expect_eq(gm_platforms_profile(f.m, 0)->total.live, 0);
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

/* ---- a second profile: bindings in an order that tests the rules ------------------- */

static gm_platform_t order; /* large: static */

/* main (default) and gpu banks; "icons" binds ui/icons before "ui" binds
 * the shorter ui; texture is bound to vram2, mesh to vram1 (a type bound to
 * two banks is an error of the profile); ui has no hard limit. */
static void load_order(void)
{
	char p[160], err[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/order.yaml", dir);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs("name: order\ntitle: Order\nfamily: pc\n"
	      "physical: {size: 64MiB, source: test}\navailable: {size: 48MiB, source: test}\n"
	      "banks:\n"
	      "  - name: main\n    default: true\n    capacity: {size: 32MiB, source: test}\n"
	      "  - name: vram1\n    capacity: {size: 8MiB, source: test}\n    types: [mesh]\n"
	      "  - name: vram2\n    capacity: {size: 8MiB, source: test}\n    types: [texture]\n"
	      "budget:\n"
	      "  - name: icons\n    parent: main\n    hard: 1MiB\n    tags: [ui/icons]\n"
	      "  - name: ui\n    parent: main\n    tags: [ui]\n",
	      f);
	fclose(f);
	cr_assert_eq(gm_platform_load(p, &order, err, sizeof(err)), 0, "%s", err);
	unlink(p);
}

enum {
	O_MAIN,
	O_VRAM1,
	O_VRAM2,
	O_ICONS,
	O_UI
};

Test(platforms, the_longest_prefix_wins_whatever_the_order)
{
	const gm_platform_t *list[2];
	feed_t f;
	const gm_platforms_profile_t *pp;

	load_order();
	list[0] = &prof;
	list[1] = &order;
	f.m = gm_platforms_new(list, 2);
	f.ns = 1000;
	f.frame = 0;
	cr_assert_not_null(f.m);
	tag(&f, 1, "ui/icons/small");
	tag(&f, 2, "ui/menu");
	asset(&f, 3, "sky", "texture");
	ctx(&f, 0, 1, 0);
	alloc(&f, 0, 0x1000, 100);
	ctx(&f, 0, 2, 0);
	alloc(&f, 0, 0x2000, 200);
	ctx(&f, 0, 0, 3);
	alloc(&f, 0, 0x3000, 300);
	frame(&f);
	gm_platforms_finish(f.m);
	pp = gm_platforms_profile(f.m, 1);
	cr_expect_eq(pp->nodes[O_ICONS].live, 100, "ui/icons beats ui, though ui comes later");
	cr_expect_eq(pp->nodes[O_UI].live, 200);
	cr_expect_eq(pp->nodes[O_MAIN].live, 300, "the children count in their bank");
	cr_expect_eq(pp->nodes[O_VRAM2].live, 300, "texture's bank");
	cr_expect_eq(pp->nodes[O_VRAM1].live, 0);
	cr_expect_eq(pp->nodes[O_UI].limit, 0);
	cr_expect_eq(pp->nodes[O_UI].frames_over, 0, "no limit: never over");
	cr_expect(pp->within_budget);
	cr_expect_eq(gm_platforms_count(f.m), 2);
	/* the first profile routes the same contexts its own way */
	cr_expect_eq(gm_platforms_profile(f.m, 0)->nodes[ICONS].live, 100);
	cr_expect_eq(gm_platforms_profile(f.m, 0)->nodes[UI].live, 300, "ui/menu is under ui");
	cr_expect_eq(gm_platforms_profile(f.m, 0)->nodes[TEX].live, 300);
	gm_platforms_free(f.m);
}

/* ---- records that do not fit, and the host's records ------------------------------ */

Test(platforms, records_that_claim_more_than_they_carry_are_ignored)
{
	feed_t f = feed_new();
	uint64_t w[4] = {0};
	const gm_platforms_host_t *h;

	memcpy(w, "abc", 3);
	put(&f, 0, gm_rec_tag_def, 1, (1u << 24) + 1, 3, w, 1); /* an id too large */
	put(&f, 0, gm_rec_tag_def, 1, 7, 17, w, 1);             /* 17 bytes in 16 */
	put(&f, 0, gm_rec_asset_new, 1, (1u << 26) + 1, 1 | 1 << 16, w, 1);
	put(&f, 0, gm_rec_asset_new, 1, 8, 10 | 6 << 16, w, 1); /* 10 + 1 + 6 > 16 */
	put(&f, 0, gm_rec_scene, 1, 1, 17, w, 1);
	put(&f, 0, gm_rec_platform, 1, 0, 17, w, 1);
	put(&f, 0, gm_rec_asset_extra, 0, 8, MiB, NULL, 0); /* asset 8 was refused */
	ctx(&f, 0, 7, 8); /* tag 7 and asset 8 unknown: the default bank */
	alloc(&f, 0, 0x1000, 10);
	alloc(&f, 0, 0, 99); /* a NULL result */
	release(&f, 0, 0);
	put(&f, 0, gm_rec_realloc, gm_kind_realloc, 0x2000, 20, NULL, 0); /* no old pointer */
	put(&f, 0, gm_rec_frame, 1, 5, 0, NULL, 0);                       /* a frame set's */
	h = gm_platforms_host(f.m);
	cr_expect_eq(live(&f, MAIN), 30);
	cr_expect_eq(gm_platforms_frames(f.m), 0);
	cr_expect_str_eq(h->ran_under, "");
	cr_expect_eq(gm_platforms_profile(f.m, 0)->total.live, 30, "no extra bytes");
	gm_platforms_free(f.m);
}

Test(platforms, host_pressure_level_platform_and_failures_are_kept)
{
	feed_t f = feed_new();
	uint64_t v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	uint64_t p1[6] = {500, 100, 7, 70, 0, 0}, p2[6] = {300, 400, 8, 80, 0, 0},
	         p3[6] = {900, 50, 9, 90, 0, 0};
	uint64_t name[2] = {0};
	const gm_platforms_host_t *h;

	memcpy(name, "tiny", 4);
	put(&f, 0, gm_rec_host, 1, 0x3, 0, v, 1); /* one unit: the first two values */
	h = gm_platforms_host(f.m);
	cr_expect(h->have_host);
	cr_expect_eq(h->host.known, 3);
	cr_expect_eq(h->host.v[1], 2);
	cr_expect_eq(h->host.v[2], 0, "not in the record");
	put(&f, 0, gm_rec_host, 5, 0x3ff, 0, v, 5);
	cr_expect_eq(h->host.v[9], 10);
	put(&f, 0, gm_rec_platform, 1, 0, 4, name, 1);
	cr_expect_str_eq(h->ran_under, "tiny");
	put(&f, 0, gm_rec_pressure, 2, 0, 1, p1, 2); /* too short */
	put(&f, 0, gm_rec_pressure, 3, 0, 0, p1, 3); /* PSI not read */
	cr_expect_eq(h->pressure_samples, 0);
	frame(&f);
	put(&f, 0, gm_rec_pressure, 3, 0, 1, p1, 3); /* frame 2 */
	frame(&f);
	put(&f, 0, gm_rec_pressure, 3, 0, 1, p2, 3);
	frame(&f);
	put(&f, 0, gm_rec_level, 0, gm_level_events, 0, NULL, 0);
	cr_expect_not(h->frames_level);
	put(&f, 0, gm_rec_pressure, 3, 0, 1, p3, 3); /* frame 4 */
	put(&f, 0, gm_rec_level, 0, gm_level_frames, 0, NULL, 0);
	frame(&f);
	put(&f, 0, gm_rec_level, 0, gm_level_frames, 0, NULL, 0); /* again, frame 5 */
	put(&f, 0, gm_rec_frame, 0, 2, 0, NULL, 0);               /* a mark going back */
	put(&f, 0, gm_rec_fail, gm_kind_malloc, 0, 0, NULL, 0);   /* no size unit */
	put(&f, 0, gm_rec_fail, gm_kind_malloc, 0, 0, (uint64_t[2]){64, 0}, 1);
	cr_expect_eq(h->pressure_samples, 3);
	cr_expect_eq(h->some_avg10_max, 900);
	cr_expect_eq(h->some_max_frame, 4);
	cr_expect_eq(h->full_avg10_max, 400);
	cr_expect_eq(h->stall_us, 90 - 70, "what the full total grew by, first sample to last");
	cr_expect(h->frames_level);
	cr_expect_eq(h->frames_level_frame, 4, "the first switch");
	cr_expect_eq(h->failed_allocs, 2);
	cr_expect_eq(h->first_fail_frame, 5, "frames do not go back");
	cr_expect_eq(h->first_fail_size, 0, "the first failure had no size");
	cr_expect_eq(gm_platforms_frames(f.m), 5);
	gm_platforms_free(f.m);
}

/* ---- scale ---------------------------------------------------------------------------- */

Test(platforms, thousands_of_blocks_and_contexts_come_and_go_exactly)
{
	feed_t f = feed_new();
	uint64_t i, n = 3000;
	const gm_platforms_node_t *icons;

	for (i = 1; i <= 600; i++) {
		char name[32];
		snprintf(name, sizeof(name), "ui/icons/%llu", (unsigned long long)i);
		tag(&f, (uint32_t)i, name);
	}
	for (i = 0; i < n; i++) {
		ctx(&f, 0, (uint32_t)(i % 600) + 1, 0);
		alloc(&f, 0, 0x10000 + i * 64, 10);
	}
	cr_expect_eq(live(&f, ICONS), (int64_t)(10 * n));
	/* over 1 MiB? no: 30000 bytes. Free in a scrambled order */
	for (i = 0; i < n; i++)
		release(&f, 1, 0x10000 + ((i * 7) % n) * 64);
	icons = &gm_platforms_profile(f.m, 0)->nodes[ICONS];
	cr_expect_eq(icons->live, 0);
	cr_expect_eq(icons->peak, (int64_t)(10 * n));
	cr_expect_eq(live(&f, UI), 0);
	cr_expect_eq(live(&f, MAIN), 0);
	gm_platforms_free(f.m);
}

Test(platforms, the_snapshot_keeps_the_eight_largest_tags)
{
	feed_t f = feed_new();
	const gm_platforms_node_t *ui;
	uint64_t i;

	for (i = 1; i <= 10; i++) {
		char name[16];
		snprintf(name, sizeof(name), "ui/t%02llu", (unsigned long long)i);
		tag(&f, (uint32_t)i, name);
		ctx(&f, 0, (uint32_t)i, 0);
		alloc(&f, 0, 0x100000 * i, 420 * KiB + i); /* ui (4 MiB) is over with the 10th */
	}
	gm_platforms_finish(f.m);
	ui = &gm_platforms_profile(f.m, 0)->nodes[UI];
	cr_assert_eq(ui->over, 1);
	cr_expect_eq(ui->first.live, (int64_t)(4200 * KiB + 55));
	cr_assert_eq(ui->first.ntags, GM_PLATFORMS_TOP);
	cr_expect_str_eq(ui->first.tags[0].name, "ui/t10");
	cr_expect_str_eq(ui->first.tags[7].name, "ui/t03");
	cr_expect_eq(ui->first.ntypes, 1);
	cr_expect_str_eq(ui->first.types[0].name, "(no asset)");
	cr_expect_eq(ui->first.nlargest, 0, "no asset");
	gm_platforms_free(f.m);
}

/* ---- out of memory ------------------------------------------------------------------- */

static int add_ev(gm_platforms_t *m, uint32_t thread, unsigned type, unsigned x, uint64_t a,
                  uint64_t b, const uint64_t *extra, uint32_t units)
{
	gm_event_t ev = event_at(0, thread, type, x, a, b, extra, units);
	return gm_platforms_add(m, &ev);
}

static int oom_model(long n, void *arg)
{
	const gm_platform_t *list[1] = {&prof};
	uint64_t tg[2] = {0}, as[2] = {0}, sc[2] = {0};
	const gm_platforms_node_t *tex;
	gm_platforms_t *m = gm_platforms_new(list, 1);
	int rc = 0;

	(void)arg;
	if (!m) {
		cr_assert(n >= 0, "gm_platforms_new failed with nothing failing");
		return 1;
	}
	memcpy(tg, "render", 6);
	memcpy(as, "hero\0texture", 12);
	memcpy(sc, "intro", 5);
	rc = rc ? rc : add_ev(m, 0, gm_rec_tag_def, 1, 1, 6, tg, 1);
	rc = rc ? rc : add_ev(m, 0, gm_rec_asset_new, 1, 2, 4 | 7 << 16, as, 1);
	rc = rc ? rc : add_ev(m, 0, gm_rec_scene, 1, 1, 5, sc, 1);
	rc = rc ? rc : add_ev(m, 3, gm_rec_context, 0, 2, 1, NULL, 0);
	rc = rc ? rc : add_ev(m, 3, gm_rec_alloc, 0, 0x1000, 9 * MiB, NULL, 0); /* tex is over */
	rc = rc ? rc : add_ev(m, 0, gm_rec_asset_extra, 0, 2, MiB, NULL, 0);
	if (rc) {
		cr_assert(n >= 0, "an error with nothing failing: %d", rc);
		cr_assert_eq(rc, -ENOMEM, "allocation %ld: %d", n, rc);
		gm_platforms_free(m);
		return 1;
	}
	gm_platforms_finish(m);
	tex = &gm_platforms_profile(m, 0)->nodes[TEX];
	cr_assert_eq(tex->live, (int64_t)(10 * MiB), "allocation %ld", n);
	cr_assert_eq(tex->over, 1);
	cr_assert_str_eq(tex->over_scene, "intro");
	cr_assert_eq(tex->first.ntags, 1, "allocation %ld: what was in tex when it went over", n);
	cr_assert_str_eq(tex->first.tags[0].name, "render");
	cr_assert_eq(tex->first.nlargest, 1);
	cr_assert_str_eq(tex->first.largest[0].name, "hero");
	gm_platforms_free(m);
	return 0;
}

Test(platforms, out_of_memory_anywhere_is_enomem_never_a_half_report)
{
	long runs = gm_failalloc_each(oom_model, NULL, 1000);

	cr_expect_gt(runs, 10, "%ld runs", runs);
}

/* ---- the command on a capture file ------------------------------------------------- */

/* One record, 10 ticks after the last. */
static void rec_next(recs_t *r, unsigned type, unsigned x, uint64_t a, uint64_t b,
                     const uint64_t *extra, size_t nwords)
{
	rec(r, r->tsc + 10, type, x, a, b, extra, nwords);
}

/* A record with strings a, or a, a NUL and b, 10 ticks after the last. */
static void r_name(recs_t *r, unsigned type, uint64_t id, const char *a, const char *b)
{
	rec_text(r, r->tsc + 10, type, id, a, b);
}

static char cap[160], out[1 << 18], err[8192];

/* The game, against dev (main 32 MiB, vram 16 MiB; tex 8 MiB under vram, ui
 * 4 MiB under main, icons 1 MiB under ui; 40 MiB available):
 *   frame 1 (scene forest): textures hero 6 MiB and sky 4 MiB under tag
 *     render: tex goes over (10 MiB); 2 MiB under ui/icons: icons goes over
 *   frame 2: a third texture of 1 MiB (tex's peak, 11 MiB, grew by more
 *     than 1/32 of its limit); 5 MiB under ui/menu without an asset and a
 *     100 KiB mesh: ui goes over (7.1 MiB); 26 MiB untagged: main goes over
 *     (33.1 MiB) and all banks together (44.1 MiB) too; a failed 64 MiB
 *     allocation
 * with a host record, two pressure samples and the platform it ran under. */
static const char *cap_ran_under = "dev"; /* the platform record's, with a host */

static void cap_game(int with_host)
{
	static recs_t r;
	uint64_t host[10] = {GM_HOST_UNLIMITED, 0, 0, 0, 1ull << 40, 0, 16ull << 30, 0, 0, 2};
	uint64_t p1[6] = {1234, 50, 0, 777, 0, 0}, p2[6] = {99, 10, 0, 1000, 0, 0};
	memset(&r, 0, sizeof(r));
	if (with_host) {
		r_name(&r, gm_rec_platform, 0, cap_ran_under, NULL);
		rec_next(&r, gm_rec_host, 5,
		         GM_HOST_CG_MAX | GM_HOST_RLIMIT_AS | GM_HOST_MEM_TOTAL |
		                 GM_HOST_OVERCOMMIT,
		         0, host, 10);
	}
	r_name(&r, gm_rec_tag_def, 1, "ui/icons", NULL);
	r_name(&r, gm_rec_tag_def, 2, "render", NULL);
	r_name(&r, gm_rec_tag_def, 3, "ui/menu", NULL);
	r_name(&r, gm_rec_asset_new, 3, "hero", "texture");
	r_name(&r, gm_rec_asset_new, 4, "sky", "texture");
	r_name(&r, gm_rec_asset_new, 5, "mesh1", "mesh");
	r_name(&r, gm_rec_asset_new, 6, "moon", "texture");
	r_name(&r, gm_rec_scene, 1, "forest", NULL);
	rec_next(&r, gm_rec_context, 0, 3, 2, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x1000000, 6 * MiB, NULL, 0);
	rec_next(&r, gm_rec_context, 0, 4, 2, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x2000000, 4 * MiB, NULL, 0);
	rec_next(&r, gm_rec_context, 0, 0, 1, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x3000000, 2 * MiB, NULL, 0);
	if (with_host)
		rec_next(&r, gm_rec_pressure, 3, 0, 1, p1, 6);
	rec_next(&r, gm_rec_frame, 0, 1, 0, NULL, 0);
	rec_next(&r, gm_rec_context, 0, 6, 2, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x4000000, MiB, NULL, 0);
	rec_next(&r, gm_rec_context, 0, 0, 3, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x5000000, 5 * MiB, NULL, 0);
	rec_next(&r, gm_rec_context, 0, 5, 3, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x6000000, 100 * KiB, NULL, 0);
	rec_next(&r, gm_rec_context, 0, 0, 0, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x7000000, 26 * MiB, NULL, 0);
	if (with_host) {
		rec_next(&r, gm_rec_pressure, 3, 0, 1, p2, 6);
		rec_next(&r, gm_rec_fail, gm_kind_malloc, 0, 0, (uint64_t[2]){64 * MiB, 0}, 2);
	}
	rec_next(&r, gm_rec_frame, 0, 2, 0, NULL, 0);
	cap_write_recs(cap, &r, 1, 1000000000);
}

/* Runs gmtrace platforms with args, stdout to out_path (NULL: kept in out),
 * stderr in err; the search path is the test's directory, then the shipped
 * profiles. */
static int run_pf(const char *const *args, int nargs, const char *out_path)
{
	setenv("GMTRACE_PLATFORM_PATH", dir, 1);
	setenv("XDG_CONFIG_HOME", dir, 1);
	return gm_test_cmd_into(gm_cmd_platforms, "platforms", dir, out_path, nargs, args, out,
	                        sizeof(out), err, sizeof(err));
}

#define PF(...)                               \
	run_pf((const char *[]){__VA_ARGS__}, \
	       (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), NULL)

static void cmd_setup(void)
{
	setup();
	snprintf(cap, sizeof(cap), "%s/game.gmt", dir);
}

static void cmd_teardown(void)
{
	unlink(cap);
	teardown();
	unsetenv("GMTRACE_PLATFORM_PATH");
	unsetenv("XDG_CONFIG_HOME");
}

TestSuite(platforms_cmd, .init = cmd_setup, .fini = cmd_teardown);

Test(platforms_cmd, the_text_report_names_each_overrun_and_what_to_change)
{
	cap_game(1);
	cr_expect_eq(PF(cap, "dev"), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "ran under platform dev\n"), "%s", out);
	cr_expect(strstr(out,
	                 "\nhost      cgroup memory.max none, RLIMIT_AS 1.0 TiB, MemTotal 16.0 "
	                 "GiB, overcommit mode 2\n          not readable here: cgroup "
	                 "memory.high, cgroup memory.current, RLIMIT_DATA, MemAvailable, "
	                 "SwapTotal\n"),
	          "%s", out);
	cr_expect(strstr(out,
	                 "\npressure  2 samples: peak some avg10 12.34 % (frame 1), full avg10 "
	                 "0.50 %, 223 us fully stalled\n"),
	          "%s", out);
	cr_expect(strstr(out, "\nfailures  1 allocation failed; the first at frame 2 (64.0 MiB "
	                      "asked)\n"),
	          "%s", out);
	cr_expect(strstr(out, "\nframes    2\n"), "%s", out);
	cr_expect(strstr(out, "dev             Dev kit: DOES NOT FIT\n"), "%s", out);
	cr_expect(strstr(out, "OVER    frame 2 ('forest')\n"), "main: %s", out);
	cr_expect(strstr(out, "over    frame 1 ('forest')\n"), "tex and icons: %s", out);
	cr_expect(strstr(out, "\nrecommendations\n"), "%s", out);
	cr_expect(strstr(out,
	                 "  dev: tex exceeds the Dev kit tex budget (8.0 MiB) by 3.0 MiB at its "
	                 "peak, frame 2 (first over at frame 1 during level 'forest'): the 1 "
	                 "largest texture asset is 6.0 MiB; streaming it (loading it only when "
	                 "needed) would fit, or halving the resolution of the 1 largest (6.0 "
	                 "MiB: a quarter of the bytes stays) would.\n"),
	          "%s", out);
	cr_expect(strstr(out, "      first over, frame 1: type texture 10.0 MiB, tag render 10.0 "
	                      "MiB\n"),
	          "%s", out);
	cr_expect(strstr(out,
	                 "  dev: icons exceeds the Dev kit icons budget (1.0 MiB) by 1.0 MiB at "
	                 "its peak, frame 1 (first over at frame 1 during level 'forest'): tag "
	                 "'ui/icons' holds 2.0 MiB there; it must shrink by 50% to fit.\n"),
	          "%s", out);
	/* ui's contributors are its peak's (7.1 MiB), the mesh that came after
	 * its overrun (7 MiB) among them, though it grew ui by less than 1/32
	 * of 4 MiB */
	cr_expect(strstr(out, "  dev: ui exceeds the Dev kit ui budget (4.0 MiB) by 3.1 MiB at its "
	                      "peak, frame 2 (first over at frame 2 during level 'forest'): the 1 "
	                      "largest mesh asset is 100.0 KiB; even without them it is 3.0 MiB "
	                      "over: the largest tag there is 'ui/menu'.\n"),
	          "%s", out);
	cr_expect(strstr(out, "      at its peak, frame 2: type (no asset) 7.0 MiB, type mesh "
	                      "100.0 KiB, tag ui/menu 5.1 MiB, tag ui/icons 2.0 MiB\n"),
	          "%s", out);
	/* main: the mesh is its only asset, far from the 1.1 MiB over */
	cr_expect(strstr(out,
	                 "  dev: main exceeds the Dev kit main bank (32.0 MiB) by 1.1 MiB at its "
	                 "peak, frame 2 (first over at frame 2 during level 'forest'): the 1 "
	                 "largest mesh asset is 100.0 KiB; even without them it is 1.0 MiB over: "
	                 "the largest tag there is '(no tag)'.\n"),
	          "%s", out);
	cr_expect(strstr(out,
	                 "  dev: all banks together exceed the Dev kit memory available to a "
	                 "game (40.0 MiB) by 4.1 MiB at its peak, frame 2 (first over at frame 2 "
	                 "during level 'forest'): the 1 largest texture asset is 6.0 MiB; "),
	          "%s", out);
}

/* Against dev: frame 1: 1.5 MiB under ui/icons (icons, 1 MiB, goes over)
 * and 1 MiB under each of ui/a, ui/b, ui/c (ui, 4 MiB, goes over at 4.5
 * MiB); frame 2: 64 KiB more under ui/a (ui's peak, 4.5625 MiB, less than
 * 1/32 of 4 MiB above its overrun), then 3.5 MiB under each of lvl/a ..
 * lvl/i, untagged for ui, in main (main peaks at 36.0625 MiB: 4.0625 MiB
 * over, more than any one tag holds). */
Test(platforms_cmd, advice_is_about_the_very_peak_and_rounds_shares_up)
{
	static recs_t r;
	const char *names[] = {"ui/icons", "ui/a", "ui/b", "ui/c"};
	memset(&r, 0, sizeof(r));
	for (uint64_t i = 0; i < 4; i++)
		r_name(&r, gm_rec_tag_def, i + 1, names[i], NULL);
	for (uint64_t i = 0; i < 9; i++) {
		char name[8];
		snprintf(name, sizeof(name), "lvl/%c", (char)('a' + i));
		r_name(&r, gm_rec_tag_def, 10 + i, name, NULL);
	}
	rec_next(&r, gm_rec_context, 0, 0, 1, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x1000000, MiB + MiB / 2, NULL, 0);
	for (uint64_t i = 2; i <= 4; i++) {
		rec_next(&r, gm_rec_context, 0, 0, i, NULL, 0);
		rec_next(&r, gm_rec_alloc, 0, 0x1000000 * i, MiB, NULL, 0);
	}
	rec_next(&r, gm_rec_frame, 0, 1, 0, NULL, 0);
	rec_next(&r, gm_rec_context, 0, 0, 2, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x9000000, 64 * KiB, NULL, 0);
	for (uint64_t i = 0; i < 9; i++) {
		rec_next(&r, gm_rec_context, 0, 0, 10 + i, NULL, 0);
		rec_next(&r, gm_rec_alloc, 0, 0x10000000 * (i + 1), 3 * MiB + MiB / 2, NULL, 0);
	}
	rec_next(&r, gm_rec_frame, 0, 2, 0, NULL, 0);
	cap_write_recs(cap, &r, 1, 1000000000);
	cr_expect_eq(PF(cap, "dev"), GM_CMD_OK, "%s", err);
	/* 0.5 of 1.5 MiB is 33.3 %: 33 % would leave it over */
	cr_expect(strstr(out,
	                 "  dev: icons exceeds the Dev kit icons budget (1.0 MiB) by 512.0 KiB "
	                 "at its peak, frame 1 (first over at frame 1): tag 'ui/icons' holds "
	                 "1.5 MiB there; it must shrink by 34% to fit.\n"),
	          "%s", out);
	/* 0.5625 of 1.5 MiB is 37.5 %; the contributors are frame 2's */
	cr_expect(strstr(out,
	                 "  dev: ui exceeds the Dev kit ui budget (4.0 MiB) by 576.0 KiB at its "
	                 "peak, frame 2 (first over at frame 1): tag 'ui/icons' holds 1.5 MiB "
	                 "there; it must shrink by 38% to fit.\n"),
	          "%s", out);
	cr_expect(strstr(out, "      at its peak, frame 2: type (no asset) 4.6 MiB, tag ui/icons "
	                      "1.5 MiB, tag ui/a 1.1 MiB, tag ui/b 1.0 MiB, tag ui/c 1.0 MiB\n"),
	          "%s", out);
	cr_expect(strstr(out, "      first over, frame 1: type (no asset) 4.5 MiB, tag ui/icons "
	                      "1.5 MiB, tag ui/a 1.0 MiB, tag ui/b 1.0 MiB, tag ui/c 1.0 MiB\n"),
	          "%s", out);
	/* 4.0625 MiB over, each tag 3.5 MiB: 4.0625 of 36.0625 is 11.3 % */
	cr_expect(strstr(out,
	                 "  dev: main exceeds the Dev kit main bank (32.0 MiB) by 4.1 MiB at "
	                 "its peak, frame 2 (first over at frame 2): its largest tag, 'lvl/a', "
	                 "holds 3.5 MiB there, less than the excess; what it holds must shrink "
	                 "by 12% to fit.\n"),
	          "%s", out);
	cr_expect_eq(PF("--check", "dev", cap), GM_CMD_FAIL);
	cr_expect_str_eq(err,
	                 "gmtrace platforms: the capture does not fit dev: bank \"main\" peaks "
	                 "at 36.1 MiB of 32.0 MiB (4.1 MiB over) from frame 2\n");
}

Test(platforms_cmd, json_has_the_host_and_every_node)
{
	cap_game(1);
	cr_expect_eq(PF("--json", cap, path), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\"ran_under\": \"dev\","), "%s", out);
	cr_expect(strstr(out, "\"cgroup_max\": \"max\",\n    \"cgroup_high\": null,"), "%s", out);
	cr_expect(strstr(out, "\"overcommit\": 2,\n    \"cgroup_v1\": false\n"), "%s", out);
	cr_expect(strstr(out,
	                 "\"failed_allocations\": {\n    \"count\": 1,\n    \"first_frame\": 2,\n"
	                 "    \"first_size\": 67108864\n"),
	          "%s", out);
	cr_expect(strstr(out,
	                 "\"name\": \"vram\",\n          \"kind\": \"bank\",\n          "
	                 "\"parent\": null,\n          \"limit\": 16777216,\n          \"peak\": "
	                 "11534336,"),
	          "%s", out);
	cr_expect(strstr(out, "\"recommendation\": \"tex exceeds the Dev kit tex budget"), "%s",
	          out);
	cr_expect(strstr(out, "\"name\": \"total\",\n          \"kind\": \"total\","), "%s", out);
	cap_game(0);
	cr_expect_eq(PF("--json", cap, "dev"), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\"ran_under\": null,\n  \"host\": null,"), "%s", out);
	cr_expect_eq(PF(cap, "dev"), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out,
	                 "\nhost      not recorded (a capture older than format 2.1)\nframes    "
	                 "2\n"),
	          "no pressure, no failures: %s", out);
}

Test(platforms_cmd, check_fails_only_for_a_platform_the_capture_does_not_fit)
{
	cap_game(0);
	cr_expect_eq(PF("--check", "dev", cap), GM_CMD_FAIL);
	cr_expect_str_eq(err,
	                 "gmtrace platforms: the capture does not fit dev: bank \"main\" peaks "
	                 "at 33.1 MiB of 32.0 MiB (1.1 MiB over) from frame 2; all banks together "
	                 "peak at 44.1 MiB of 40.0 MiB (4.1 MiB over) from frame 2\n");
	cr_expect_eq(PF("--check=ps5,dev", cap, "ps5", path), GM_CMD_FAIL, "%s", err);
	cr_expect_str_eq(err,
	                 "gmtrace platforms: the capture does not fit dev: bank \"main\" peaks at "
	                 "33.1 MiB of 32.0 MiB (1.1 MiB over) from frame 2; all banks together "
	                 "peak at 44.1 MiB of 40.0 MiB (4.1 MiB over) from frame 2\n",
	                 "ps5 fits; dev is named twice and loaded once");
	cr_expect_eq(PF("--check", "ps5", cap), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "ps5 "), "a checked platform is reported: %s", out);
	cr_expect_eq(PF("--check", "ps5,gamecube", cap), GM_CMD_FAIL);
	cr_expect(strstr(err, "no platform profile 'gamecube'"), "%s", err);
	cr_expect(strstr(out, "ps5 "), "the profile that could be read is reported: %s", out);
	/* ps5 fits by the counts, but the game ran under it and an allocation
	 * failed there: a gate must not pass it */
	cap_ran_under = "ps5";
	cap_game(1);
	cap_ran_under = "dev";
	cr_expect_eq(PF("--check", "ps5", cap), GM_CMD_FAIL, "%s", out);
	cr_expect_str_eq(err,
	                 "gmtrace platforms: the game ran under ps5 and 1 allocations failed\n");
	/* and the verdict says so (it read "fits" alone) */
	cr_expect(strstr(out,
	                 "PlayStation 5: fits, within the recommended budgets, but only with 1 "
	                 "allocation failed: it ran under it\n"),
	          "%s", out);
	/* a profile that could not be read is counted in the JSON too */
	cr_expect_eq(PF("--json", cap, "ps5", "gamecube"), GM_CMD_FAIL);
	cr_expect(strstr(out, "\"profiles_not_read\": 1,"), "%s", out);
	cr_expect_eq(PF("--json", cap, "ps5"), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\"profiles_not_read\": 0,"), "%s", out);
	/* none could be read: the object still comes, with no platform */
	cr_expect_eq(PF("--json", cap, "gamecube"), GM_CMD_FAIL);
	cr_expect(strstr(out, "\"profiles_not_read\": 1,"), "%s", out);
	cr_expect(strstr(out, "\"platforms\": []"), "%s", out);
	cr_expect_eq(PF(cap, "gamecube"), GM_CMD_FAIL);
	cr_expect(strstr(out, "platforms none: no profile named could be read"), "%s", out);
}

Test(platforms_cmd, bad_arguments_and_profiles_are_one_clear_error)
{
	char broken[200], many[70][8], want[300];
	const char *args[70];
	FILE *f;
	cap_game(0);
	cr_expect_eq(PF("--help"), GM_CMD_OK);
	cr_expect_eq(strncmp(out, "usage: gmtrace platforms", 24), 0, "%s", out);
	cr_expect_eq(PF("-h"), GM_CMD_OK);
	cr_expect_eq(PF("--frob", cap), GM_CMD_USAGE);
	cr_expect_eq(strncmp(err, "gmtrace platforms: unknown option '--frob'\nusage:", 49), 0,
	             "%s", err);
	cr_expect_eq(PF(cap, "--check="), GM_CMD_USAGE);
	cr_expect_eq(strncmp(err, "gmtrace platforms: --check takes platform names\n", 48), 0, "%s",
	             err);
	cr_expect_eq(PF(cap, cap), GM_CMD_USAGE);
	cr_expect(strstr(err, "one capture at a time"), "%s", err);
	cr_expect_eq(PF("dev"), GM_CMD_USAGE);
	cr_expect_eq(strncmp(err, "gmtrace platforms: no capture given\n", 36), 0, "%s", err);
	for (int i = 0; i < 65; i++) {
		snprintf(many[i], sizeof(many[i]), "p%d", i);
		args[i] = many[i];
	}
	args[65] = cap;
	cr_expect_eq(run_pf(args, 66, NULL), GM_CMD_USAGE);
	cr_expect_eq(strncmp(err, "gmtrace platforms: at most 64 platforms\n", 40), 0, "%s", err);
	cr_expect_eq(PF(cap, "gamecube"), GM_CMD_FAIL);
	cr_expect_eq(PF("/no/such.gmt", "dev"), GM_CMD_FAIL);
	cr_expect_eq(strncmp(err, "gmtrace: /no/such.gmt: ", 23), 0, "%s", err);
	snprintf(broken, sizeof(broken), "%s/broken.yaml", dir);
	f = fopen(broken, "w");
	cr_assert_not_null(f);
	fputs("name: broken\ntitle: x\n", f);
	fclose(f);
	cr_expect_eq(PF(cap, broken), GM_CMD_FAIL);
	snprintf(want, sizeof(want), "gmtrace platforms: %s:1: expected family in the profile\n",
	         broken);
	cr_expect_str_eq(err, want);
	/* every profile on the search path: the broken one stops the report */
	cr_expect_eq(PF(cap), GM_CMD_FAIL);
	cr_expect(strstr(err, "broken.yaml:1: expected family in the profile\n"), "%s", err);
	cr_expect_eq(PF("--list"), GM_CMD_FAIL, "the broken one is named");
	cr_expect(strstr(out, "\ndev             Dev kit "), "the others are listed: %s", out);
	cr_expect(strstr(err, "broken.yaml:1: expected family in the profile\n"), "%s", err);
	unlink(broken);
	cr_expect_eq(PF(cap), GM_CMD_OK, "every profile: %s", err);
	cr_expect(strstr(out, "\ndev             Dev kit: DOES NOT FIT\n"), "%s", out);
	cr_expect(strstr(out, "\nps5 "), "%s", out);
	cr_expect_eq(PF("--list", "--json"), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "\"name\": \"dev\",\n    \"title\": \"Dev kit\","), "%s", out);
}

Test(platforms_cmd, a_report_that_cannot_be_written_fails)
{
	const char *text[2] = {cap, "dev"}, *json[3] = {"--json", cap, "dev"};
	cap_game(0);
	cr_expect_eq(run_pf(text, 2, "/dev/full"), GM_CMD_FAIL);
	cr_expect(strstr(err, "gmtrace: cannot write the report: "), "%s", err);
	cr_expect_eq(run_pf(json, 3, "/dev/full"), GM_CMD_FAIL);
	cr_expect(strstr(err, "gmtrace: cannot write the report: "), "%s", err);
}

Test(platforms_cmd, frames_level_captures_are_refused_or_reported_up_to_the_switch)
{
	static recs_t r;
	char want[300];
	memset(&r, 0, sizeof(r));
	rec_next(&r, gm_rec_level, 0, gm_level_frames, 0, NULL, 0);
	rec_next(&r, gm_rec_frame, 0, 1, 0, NULL, 0);
	cap_write_recs(cap, &r, 1, 1000000000);
	cr_expect_eq(PF(cap, "dev"), GM_CMD_FAIL);
	cr_expect(strstr(err, "the capture is at the frames level"), "%s", err);
	cr_expect_str_eq(out, "");
	memset(&r, 0, sizeof(r));
	rec_next(&r, gm_rec_alloc, 0, 0x1000, MiB, NULL, 0);
	rec_next(&r, gm_rec_frame, 0, 1, 0, NULL, 0);
	rec_next(&r, gm_rec_frame, 0, 2, 0, NULL, 0);
	rec_next(&r, gm_rec_level, 0, gm_level_frames, 0, NULL, 0);
	cap_write_recs(cap, &r, 1, 1000000000);
	cr_expect_eq(PF(cap, "dev"), GM_CMD_OK, "%s", err);
	snprintf(want, sizeof(want),
	         "gmtrace platforms: %s: warning: from frame 3 the capture is at the frames level; "
	         "the figures cover the frames before it\n",
	         cap);
	cr_expect_str_eq(err, want);
	cr_expect(strstr(out, "dev             Dev kit: fits, within the recommended budgets\n"),
	          "%s", out);
}

Test(platforms_cmd, a_damaged_capture_reports_what_came_before_and_fails)
{
	FILE *f;
	long len;
	cap_game(1);
	f = fopen(cap, "r+b");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	cr_assert_eq(ftruncate(fileno(f), len - (long)sizeof(gm_block_t) - 16 - 8), 0);
	fclose(f);
	cr_expect_eq(PF(cap, "dev"), GM_CMD_FAIL);
	cr_expect(strstr(out, " (damaged: the report covers what came before)\n"), "%s", out);
	cr_expect(strstr(err, "truncated block"), "%s", err);
}

static int oom_cmd(long n, void *arg)
{
	const char *args[3] = {"--json", cap, path};
	int rc = run_pf(args, 3, NULL);
	(void)arg;
	return oom_cmd_check(n, rc, out, err, "\"recommendation\": \"tex exceeds");
}

Test(platforms_cmd, out_of_memory_in_the_command_is_one_clear_error)
{
	long runs;
	cap_game(1);
	runs = gm_failalloc_each(oom_cmd, NULL, 1000);
	cr_expect_gt(runs, 10, "%ld runs", runs);
}

/* Twelve 1 MiB textures (tex, 8 MiB, is over from the 9th and its snapshot
 * is taken again at each one after) and a 1 MiB render target under tag gpu
 * (vram, 16 MiB): every bank fits, a budget does not; no scene. The host
 * knows everything but the swap limit; two allocations failed. */
Test(platforms_cmd, a_budget_over_with_banks_that_fit_gets_a_plan_for_several_assets)
{
	static recs_t r;
	uint64_t host[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0};
	const char *list[3] = {"--list", "--json"}, *chk[3] = {"--check", "dev", cap};
	char cwd[1024], *old = getcwd(cwd, sizeof(cwd));
	memset(&r, 0, sizeof(r));
	rec_next(&r, gm_rec_host, 5, 0x3ff & ~GM_HOST_CG_SWAP_MAX, 0, host, 10);
	r_name(&r, gm_rec_tag_def, 1, "gpu", NULL);
	r_name(&r, gm_rec_asset_new, 20, "target", "render_target");
	rec_next(&r, gm_rec_context, 0, 20, 1, NULL, 0);
	rec_next(&r, gm_rec_alloc, 0, 0x100, MiB, NULL, 0);
	for (uint64_t i = 1; i <= 12; i++) {
		char name[8];
		snprintf(name, sizeof(name), "t%02llu", (unsigned long long)i);
		r_name(&r, gm_rec_asset_new, i, name, "texture");
		rec_next(&r, gm_rec_context, 0, i, 0, NULL, 0);
		rec_next(&r, gm_rec_alloc, 0, 0x1000000 * i, MiB, NULL, 0);
	}
	rec_next(&r, gm_rec_fail, gm_kind_malloc, 0, 0, (uint64_t[2]){MiB, 0}, 2);
	rec_next(&r, gm_rec_fail, gm_kind_malloc, 0, 0, (uint64_t[2]){MiB, 0}, 2);
	rec_next(&r, gm_rec_frame, 0, 1, 0, NULL, 0);
	cap_write_recs(cap, &r, 1, 1000000000);
	cr_expect_eq(PF(cap, "dev"), GM_CMD_OK, "%s", err);
	cr_expect(strstr(out, "MemAvailable 8 B, SwapTotal 9 B, overcommit mode 0\npressure") ||
	                  strstr(out, "overcommit mode 0\nfailures"),
	          "nothing unreadable but the swap limit, which is not said: %s", out);
	cr_expect(strstr(out, "\nfailures  2 allocations failed; the first at frame 1 (1.0 MiB "
	                      "asked)\n"),
	          "%s", out);
	cr_expect(strstr(out, "over    frame 1\n"), "no scene: %s", out);
	cr_expect(
	        strstr(out, "dev             Dev kit: fits its banks, over a recommended budget\n"),
	        "%s", out);
	cr_expect(strstr(out,
	                 "  dev: tex exceeds the Dev kit tex budget (8.0 MiB) by 4.0 MiB at its "
	                 "peak, frame 1 (first over at frame 1): the 4 largest texture assets "
	                 "are 4.0 MiB; streaming them (loading them only when needed) would "
	                 "fit, or halving the resolution of the 6 largest (6.0 MiB: a quarter "
	                 "of the bytes stays) would.\n"),
	          "%s", out);
	cr_expect_eq(run_pf(chk, 3, NULL), GM_CMD_OK, "the banks fit: %s", err);
	cr_expect_eq(run_pf(list, 2, "/dev/full"), GM_CMD_FAIL, "%s", err);
	/* a file without .gmt and without a '/' is a capture when it exists */
	cr_assert_not_null(old);
	cr_assert_eq(chdir(dir), 0);
	cr_expect_eq(PF("game.gmt", "-", "dev"), GM_CMD_FAIL,
	             "'-' is a platform name, not an option");
	cr_expect(strstr(err, "no platform profile '-' in "), "%s", err);
	cr_expect_eq(rename("game.gmt", "recording"), 0);
	cr_expect_eq(PF("recording", "dev"), GM_CMD_OK, "%s", err);
	cr_expect_eq(rename("recording", "game.gmt"), 0);
	cr_expect_eq(PF("game.gmt", "--check"), GM_CMD_USAGE);
	cr_assert_eq(chdir(cwd), 0);
}

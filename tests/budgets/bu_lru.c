/* bu_lru.c - 100 textures of 10 MiB streamed through a 256 MiB texture budget, LRU eviction
 *
 *     bu_lru [TEXTURE_KIB [HARD_MIB [helper]]]     (defaults 10240 and 256)
 *
 * With "helper" the evictor hands the texture's block to a resource thread
 * (started before the first load) and waits until that thread freed it, as
 * an engine whose resource thread does the freeing: the eviction still gave
 * the texture's bytes back.
 *
 * One budget node, "textures": hard limit 256 MiB, no soft limit, policy
 * LRU, asset type "texture" bound to it, an evictor that unloads the asset
 * it is given (unload scope, free, end). Texture i (1..100) is loaded in
 * frame i: load scope, one block of 10 MiB (a size class: charged exactly;
 * other sizes given must be size classes too),
 * its first and last byte written, load end, one touch, frame end. Every
 * tenth texture (i % 10 == 5) is referenced at its load ("a material uses
 * it") and released at the start of frame i + 25: while referenced it
 * cannot be a victim. No texture is touched again.
 *
 * Evictions happen inside the load whose block does not fit: over the hard
 * limit, or earlier if the node's heap (jemalloc's metadata and extent
 * rounding share it) is full first. Where they happen is read from the
 * evictor's calls, not assumed.
 *
 * Checks (verdicts in the JSON line):
 *   - in the evictor: the victim is the model's choice (resident, no
 *     reference, oldest last touch, lowest id on ties) and the choice of
 *     the same rule over gmtrace's own snapshot; it is not the texture
 *     being loaded; the node's live bytes are the texture size x resident
 *     textures, plus the bytes reserved for the load in progress when the
 *     heap was full (over the hard limit, the reservation was taken back),
 *     which tells the two apart ("event");
 *   - after every allocation and every frame end: live bytes <= hard limit
 *     and == texture size x resident textures; at frame ends also every
 *     texture's state and references in the snapshot;
 *   - at the end: the node's evictions counter == evictor calls, no
 *     violation, no failure.
 *
 * JSON keys besides the verdicts: node, hard_limit, texture_bytes,
 * textures, referenced (indices), evictions [{asset, index, frame, model,
 * snapshot, event}] in call order, points [[frame, victims]] (loads that evicted),
 * frame_live (live bytes at each frame end, from snapshots), max_resident,
 * max_live_bytes (after an allocation), final_resident, final_live_bytes,
 * peak_bytes, node_evictions, node_violations, node_failures, ids (asset
 * id of texture i at i - 1).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>

#include "bu_common.h"

#define BU_N 100
#define BU_REF_FRAMES 25

typedef struct bu_tex {
	uint64_t id;
	void *mem;
	int resident;
	int refs;
	uint64_t last_touch; /* fixture frame, 1-based */
	uint64_t evicted_frame;
} bu_tex_t;

static bu_tex_t bu_tex[BU_N + 1];
static uint64_t bu_tex_bytes = BU_MIB(10); /* a size class */
static uint64_t bu_hard = BU_MIB(256);
static uint32_t bu_node;
static int bu_loading; /* index being loaded, 0 outside loads */
static uint64_t bu_frame = 1;
static int bu_resident;
static int bu_max_resident;
static int64_t bu_max_live;
static int64_t bu_frame_live[BU_N + 1];

typedef struct bu_evict_rec {
	uint64_t asset, frame, model, snapshot;
	int index;
	int heap_full; /* live held the load's reservation: the heap was full */
} bu_evict_rec_t;
static bu_evict_rec_t bu_evictions[BU_N];
static int bu_nevictions;
static int bu_points[BU_N + 1]; /* victims per load frame */

static gmtrace_budget_asset_t bu_assets[BU_N + 16];
static int bu_helper; /* the evictor frees on the resource thread */
static pthread_t bu_helper_thread;
static sem_t bu_helper_go, bu_helper_done;
static void *bu_helper_mem; /* the block to free; NULL: the thread ends */

static void *bu_helper_main(void *arg)
{
	(void)arg;
	for (;;) {
		while (sem_wait(&bu_helper_go) != 0)
			;
		if (!bu_helper_mem)
			return NULL;
		bu_free(bu_helper_mem);
		sem_post(&bu_helper_done);
	}
}

/* mem freed by the resource thread (NULL: it ends) */
static void bu_helper_free(void *mem)
{
	bu_helper_mem = mem;
	sem_post(&bu_helper_go);
	if (mem)
		while (sem_wait(&bu_helper_done) != 0)
			;
}

static int bu_is_textures(uint32_t node)
{
	return node == bu_node;
}

static int bu_index_of(uint64_t id)
{
	for (int i = 1; i <= BU_N; i++)
		if (bu_tex[i].id == id)
			return i;
	return 0;
}

/* The model's victim: resident, no reference, oldest touch, lowest id. */
static uint64_t bu_model_choice(void)
{
	uint64_t best = 0, best_touch = UINT64_MAX;
	for (int i = 1; i <= BU_N; i++) {
		bu_tex_t *t = &bu_tex[i];
		if (!t->resident || t->refs > 0 || i == bu_loading)
			continue;
		if (t->last_touch < best_touch || (t->last_touch == best_touch && t->id < best)) {
			best_touch = t->last_touch;
			best = t->id;
		}
	}
	return best;
}

static void bu_evict(uint64_t asset, void *user)
{
	size_t nassets = 0;
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	int i = bu_index_of(asset);
	uint64_t model = bu_model_choice();
	uint64_t snap;
	int64_t live, extra;

	(void)user;
	size_t nn = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, bu_assets,
	                                    sizeof(bu_assets) / sizeof(bu_assets[0]), &nassets);
	snap = bu_snapshot_choice(bu_assets, nassets, GMTRACE_EVICT_LRU, bu_is_textures);
	live = bu_node_in(nodes, nn, bu_node) ? bu_node_in(nodes, nn, bu_node)->live_bytes : -1;
	extra = live - (int64_t)bu_tex_bytes * bu_resident;
	bu_expect_true("evictor: the asset is a known texture", i != 0);
	bu_expect_true("evictor: called inside a load", bu_loading != 0);
	bu_expect_true("evictor: not the texture being loaded", i != bu_loading);
	bu_expect("evictor: victim is the model's LRU choice", (int64_t)model, (int64_t)asset);
	bu_expect("evictor: victim is the LRU choice over the snapshot", (int64_t)snap,
	          (int64_t)asset);
	bu_expect_true("evictor: live == resident textures (+ the load's reservation)",
	               extra == 0 || extra == (int64_t)bu_tex_bytes);
	if (bu_nevictions < BU_N) {
		bu_evict_rec_t *r = &bu_evictions[bu_nevictions];
		r->asset = asset;
		r->index = i;
		r->frame = bu_frame;
		r->model = model;
		r->snapshot = snap;
		r->heap_full = extra != 0;
	}
	bu_nevictions++;
	bu_points[bu_frame]++;
	if (i == 0 || !bu_tex[i].resident)
		return;
	gmtrace_asset_unload_begin(asset);
	if (bu_helper)
		bu_helper_free(bu_tex[i].mem);
	else
		bu_free(bu_tex[i].mem);
	bu_tex[i].mem = NULL;
	gmtrace_asset_unload_end(asset);
	bu_tex[i].resident = 0;
	bu_tex[i].evicted_frame = bu_frame;
	bu_resident--;
}

/* After an allocation or a frame end: the node against the model. */
static int64_t bu_check_live(const char *where_limit, const char *where_exact)
{
	int64_t live = bu_live(bu_node);
	bu_expect_true(where_limit, live >= 0 && live <= (int64_t)bu_hard);
	bu_expect(where_exact, (int64_t)bu_tex_bytes * bu_resident, live);
	return live;
}

static void bu_check_assets(void)
{
	size_t nassets = 0;
	gmtrace_budget_snapshot(NULL, 0, bu_assets, sizeof(bu_assets) / sizeof(bu_assets[0]),
	                        &nassets);
	for (size_t k = 0; k < nassets; k++) {
		int i = bu_index_of(bu_assets[k].id);
		if (!i)
			continue;
		bu_expect("frame end: snapshot state (1 resident, 3 unloaded)",
		          bu_tex[i].resident ? 1 : 3, bu_assets[k].state);
		bu_expect("frame end: snapshot references", bu_tex[i].refs, bu_assets[k].refs);
		bu_expect("frame end: snapshot node", bu_node, bu_assets[k].node);
	}
}

int main(int argc, char **argv)
{
	char name[16];
	fx_name = "bu_lru";
	bu_tex_bytes = BU_KIB(fx_arg_u64(argc > 1 ? argv[1] : NULL, 10240));
	bu_hard = BU_MIB(fx_arg_u64(argc > 2 ? argv[2] : NULL, 256));
	bu_helper = argc > 3 && strcmp(argv[3], "helper") == 0;
	FX_CHECK(argc <= 3 || bu_helper, "the third argument is helper");
	if (bu_helper) {
		FX_CHECK(sem_init(&bu_helper_go, 0, 0) == 0 && sem_init(&bu_helper_done, 0, 0) == 0,
		         "semaphores");
		FX_CHECK(pthread_create(&bu_helper_thread, NULL, bu_helper_main, NULL) == 0,
		         "resource thread started");
	}
	FX_CHECK(bu_tex_bytes >= BU_KIB(64) && bu_hard >= 4 * bu_tex_bytes, "sizes");
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	bu_node = gmtrace_budget_define("textures", NULL, 0, bu_hard);
	FX_CHECK(bu_node != 0, "budget node defined");
	FX_CHECK(gmtrace_budget_bind_type(bu_node, "texture") == 0, "type bound");
	FX_CHECK(gmtrace_budget_policy(bu_node, GMTRACE_EVICT_LRU, 0, -1) == 0, "policy set");
	FX_CHECK(gmtrace_budget_evictor(bu_node, bu_evict, NULL) == 0, "evictor set");

	for (int i = 1; i <= BU_N; i++) {
		bu_tex_t *t = &bu_tex[i];
		int64_t live;
		/* a material lets go of the texture it held for 25 frames */
		if (i > BU_REF_FRAMES && (i - BU_REF_FRAMES) % 10 == 5) {
			gmtrace_asset_release(bu_tex[i - BU_REF_FRAMES].id);
			bu_tex[i - BU_REF_FRAMES].refs--;
		}
		memcpy(name, "tex000", 7);
		name[3] = (char)('0' + i / 100);
		name[4] = (char)('0' + i / 10 % 10);
		name[5] = (char)('0' + i % 10);
		t->id = gmtrace_asset_load_begin(name, "texture");
		bu_loading = i;
		t->mem = bu_malloc(bu_tex_bytes);
		bu_loading = 0;
		FX_CHECK(t->mem != NULL, "a texture allocation under the budget succeeds");
		fx_touch(t->mem, bu_tex_bytes);
		t->resident = 1;
		bu_resident++;
		if (bu_resident > bu_max_resident)
			bu_max_resident = bu_resident;
		live = bu_check_live("after an allocation: live <= hard limit",
		                     "after an allocation: live == resident textures");
		if (live > bu_max_live)
			bu_max_live = live;
		gmtrace_asset_load_end(t->id, 1);
		if (i % 10 == 5) {
			gmtrace_asset_ref(t->id);
			t->refs++;
		}
		gmtrace_asset_touch(t->id);
		t->last_touch = bu_frame;
		GMTRACE_FRAME();
		bu_frame_live[i] = bu_check_live("frame end: live <= hard limit",
		                                 "frame end: live == resident textures");
		bu_check_assets();
		bu_frame++;
	}

	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	size_t na = 0, nn = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	const gmtrace_budget_node_t *b = bu_node_in(nodes, nn, bu_node);
	FX_CHECK(b != NULL, "the node is in the snapshot");
	bu_expect("end: node evictions == evictor calls", bu_nevictions, (int64_t)b->evictions);
	bu_expect("end: node violations", 0, (int64_t)b->violations);
	bu_expect("end: node failures", 0, (int64_t)b->failures);

	fx_json_begin();
	fx_json_u64("node", bu_node);
	fx_json_u64("hard_limit", bu_hard);
	fx_json_u64("texture_bytes", bu_tex_bytes);
	fx_json_u64("textures", BU_N);
	fx_json_open("referenced", '[');
	for (int i = 1; i <= BU_N; i++)
		if (i % 10 == 5)
			fx_json_u64(NULL, (uint64_t)i);
	fx_json_close(']');
	fx_json_u64("ref_frames", BU_REF_FRAMES);
	fx_json_open("ids", '[');
	for (int i = 1; i <= BU_N; i++)
		fx_json_u64(NULL, bu_tex[i].id);
	fx_json_close(']');
	fx_json_open("evictions", '[');
	for (int k = 0; k < bu_nevictions && k < BU_N; k++) {
		fx_json_open(NULL, '{');
		fx_json_u64("asset", bu_evictions[k].asset);
		fx_json_u64("index", (uint64_t)bu_evictions[k].index);
		fx_json_u64("frame", bu_evictions[k].frame);
		fx_json_u64("model", bu_evictions[k].model);
		fx_json_u64("snapshot", bu_evictions[k].snapshot);
		fx_json_str("event", bu_evictions[k].heap_full ? "heap_full" : "over_hard");
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_open("points", '[');
	for (int i = 1; i <= BU_N; i++) {
		if (!bu_points[i])
			continue;
		fx_json_open(NULL, '[');
		fx_json_u64(NULL, (uint64_t)i);
		fx_json_u64(NULL, (uint64_t)bu_points[i]);
		fx_json_close(']');
	}
	fx_json_close(']');
	fx_json_open("frame_live", '[');
	for (int i = 1; i <= BU_N; i++)
		fx_json_i64(NULL, bu_frame_live[i]);
	fx_json_close(']');
	fx_json_u64("max_resident", (uint64_t)bu_max_resident);
	fx_json_i64("max_live_bytes", bu_max_live);
	fx_json_u64("final_resident", (uint64_t)bu_resident);
	fx_json_i64("final_live_bytes", b->live_bytes);
	fx_json_i64("peak_bytes", b->peak_bytes);
	fx_json_u64("node_evictions", b->evictions);
	fx_json_u64("node_violations", b->violations);
	fx_json_u64("node_failures", b->failures);
	if (bu_helper) {
		bu_helper_free(NULL);
		FX_CHECK(pthread_join(bu_helper_thread, NULL) == 0, "resource thread joined");
	}
	bu_json_verdicts();
	return fx_json_write(1) == 0 ? 0 : 1;
}

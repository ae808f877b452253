/* bu_tree.c - a budget tree: parents' limits evict in their children, siblings keep theirs
 *
 *     bu_tree [api|file]
 *
 * api (default): the fixture defines the tree with the marker API. file:
 * the tree comes from GMTRACE_BUDGETS (the test writes the same tree as
 * YAML); the fixture finds the nodes by name and only registers evictors.
 * When the file defined none of them (a broken file: gmtrace warned and
 * runs without budgets) the fixture runs the same game with no budget and
 * expects no eviction; "budgets" is 0 in its line.
 *
 * The tree (MiB; policy of the node, asset type / tag bound to it):
 *
 *     total      hard 108                     largest
 *       assets   soft 80, target 64, hard 96  lru
 *         textures   hard 144                 lru       type texture   (8 MiB each)
 *         audio      hard 40                  priority  type sound     (2 MiB each)
 *       gameplay hard 22                      lfu       tag gameplay   (8 KiB blocks)
 *         particles  soft 10, target 6, hard 20  lru    type particles, tag gameplay/particles
 *                                                                      (2 MiB each)
 *
 * Allocations go to the heap of the node they are bound to (a leaf here);
 * a node's limits count it and everything below it, so each limit is hit
 * inside the allocation that would cross it (over_hard) and evicts under
 * that node by that node's policy; should a leaf's heap fill first, it
 * evicts in that leaf (heap_full; the model allows for it). One evictor on
 * "total" serves every node below it; "particles" assets have a type
 * evictor.
 *
 * The game, frame by frame (frame n ends at the n-th GMTRACE_FRAME):
 *   1-9    load T1..T9, one per frame; A (a sound, priority 9) in frame 3.
 *          assets 74 MiB.
 *   10     burst: S1..S12 (priority k*7 % 5). S12 takes assets to 98 > 96:
 *          evict T1 (assets, LRU). Frame end: assets 90 > soft 80: evict down
 *          to 64: T2, T3, A, T4 (A is a sound: a parent's limit evicts in
 *          both children by its own policy).
 *   11     burst: S13..S24: S21 takes audio to 42 > 40: audio evicts its
 *          lowest-priority sound, S5 (priority 0, lowest id), then S22,
 *          S23, S24 evict S10, S15, S20 - while textures T5..T9 are older
 *          than every sound: a sibling's limit is its own. Frame end:
 *          assets 40 + 40 = 80, at its soft limit, not over it.
 *   12     the sounds are unloaded by the game. Under tag "gameplay": 1280
 *          blocks of 8 KiB (10 MiB); E1..E4 (particles) loaded.
 *   13-15  touches: E1 E3 E4, then E1 E4, then E1 (E1 4 touches, E2 1, E3 2, E4 3).
 *   16     E5, E6, E7 loaded: E7 takes gameplay to 24 > 22: evict E2
 *          (gameplay, LFU: 1 touch, lowest id). Frame end: particles 12 >
 *          soft 10: evict down to 6 by LRU: E3, E4, E1.
 *   17     touch E5, E7.
 *   18     T10..T16: T16 takes total to 112 > 108: evict T5 (total,
 *          largest, lowest id). 640 gameplay blocks: the 513th takes total
 *          over: evict T6. 256 more: the 129th takes gameplay over: evict
 *          E6 (LFU). End: textures 80, audio 0, assets 80 (at soft: not
 *          over), particles 4, gameplay 21, total 101 MiB.
 *
 * The fixture predicts the node behind every evictor call (inside an
 * allocation: the first node from the leaf up that the bytes would take
 * over its hard limit, else the leaf, whose heap is full; at a frame end:
 * the nodes in id order, over their soft limit, evicted down to target),
 * checks the victim against its model of that node's policy, checks every
 * node's live bytes against its model after each allocation, at each frame
 * end and at the end, and prints all of it.
 */
#define _GNU_SOURCE
#include "bu_common.h"

enum {
	BU_TOTAL,
	BU_ASSETS,
	BU_TEXTURES,
	BU_AUDIO,
	BU_GAMEPLAY,
	BU_PARTICLES,
	BU_NNODES
};

typedef struct bu_def {
	const char *name;
	int parent; /* index, -1: root */
	uint64_t soft, target, hard;
	int policy;
	const char *type, *tag;
} bu_def_t;

static const bu_def_t bu_defs[BU_NNODES] = {
        {"total", -1, 0, 0, BU_MIB(108), GMTRACE_EVICT_LARGEST, NULL, NULL},
        {"assets", BU_TOTAL, BU_MIB(80), BU_MIB(64), BU_MIB(96), GMTRACE_EVICT_LRU, NULL, NULL},
        {"textures", BU_ASSETS, 0, 0, BU_MIB(144), GMTRACE_EVICT_LRU, "texture", NULL},
        {"audio", BU_ASSETS, 0, 0, BU_MIB(40), GMTRACE_EVICT_PRIORITY, "sound", NULL},
        {"gameplay", BU_TOTAL, 0, 0, BU_MIB(22), GMTRACE_EVICT_LFU, NULL, "gameplay"},
        {"particles", BU_GAMEPLAY, BU_MIB(10), BU_MIB(6), BU_MIB(20), GMTRACE_EVICT_LRU,
         "particles", "gameplay/particles"},
};

#define BU_TEX BU_MIB(8)
#define BU_SOUND BU_MIB(2)
#define BU_EFFECT BU_MIB(2)
#define BU_BLOCK BU_KIB(8)
#define BU_MAX_ASSETS 64
#define BU_MAX_LOOSE 4096
#define BU_FRAMES 18

static const char *bu_policy_names[] = {"lru", "lfu", "largest", "priority"};

static uint32_t bu_id[BU_NNODES];
static int64_t bu_model[BU_NNODES];
static int64_t bu_model_peak[BU_NNODES]; /* the most each node held */
static int bu_budgets;
static uint64_t bu_frame = 1;

typedef struct bu_asset {
	char name[8];
	const char *type;
	int node;
	uint64_t id, bytes;
	void *mem;
	int state; /* 0 loading, 1 resident, 3 unloaded */
	uint64_t last_touch, touches;
	int priority;
} bu_asset_t;

static bu_asset_t bu_assets[BU_MAX_ASSETS];
static int bu_nassets;
static void *bu_loose[BU_MAX_LOOSE];
static int bu_nloose;

/* What the game is doing when an evictor is called. */
enum {
	BU_CTX_NONE,
	BU_CTX_ALLOC,
	BU_CTX_FRAME
};
static int bu_ctx;
static int bu_ctx_leaf;
static uint64_t bu_ctx_bytes;
static int bu_cursor, bu_cursor_active; /* frame ends: the node gmtrace is at */

typedef struct bu_evict_rec {
	uint64_t asset, expected, frame;
	int root, context, evictor;
	const char *event;
} bu_evict_rec_t;
static bu_evict_rec_t bu_evictions[BU_MAX_ASSETS];
static int bu_nevictions;

typedef struct bu_soft_rec {
	int node;
	uint64_t frame;
	int64_t live;
} bu_soft_rec_t;
static bu_soft_rec_t bu_softs[32];
static int bu_nsofts;

static int64_t bu_frame_live[BU_NNODES][BU_FRAMES + 1];

/* check names per node, built before the game starts (no allocation) */
static char bu_names_alloc[BU_NNODES][80], bu_names_frame[BU_NNODES][80],
        bu_names_limit[BU_NNODES][80];

static void bu_name(char *dst, const char *a, const char *b, const char *c)
{
	dst[0] = '\0';
	strcat(dst, a);
	strcat(dst, b);
	strcat(dst, c);
}

/* ---- the model ------------------------------------------------------------ */

static void bu_charge(int node, int64_t delta)
{
	for (int i = node; i >= 0; i = bu_defs[i].parent) {
		bu_model[i] += delta;
		if (bu_model[i] > bu_model_peak[i])
			bu_model_peak[i] = bu_model[i];
	}
}

static int bu_under(int node, int root)
{
	for (int i = node; i >= 0; i = bu_defs[i].parent)
		if (i == root)
			return 1;
	return 0;
}

/* The victim root's policy picks now (bu_common.h's rules; LFU counts one
 * touch per frame, as gmtrace does). */
static bu_asset_t *bu_choose(int root)
{
	bu_asset_t *best = NULL;
	uint64_t best_key = UINT64_MAX;
	for (int k = 0; k < bu_nassets; k++) {
		bu_asset_t *a = &bu_assets[k];
		uint64_t key;
		if (a->state != 1 || !bu_under(a->node, root))
			continue;
		switch (bu_defs[root].policy) {
		case GMTRACE_EVICT_LFU:
			key = a->touches;
			break;
		case GMTRACE_EVICT_LARGEST:
			key = UINT64_MAX - a->bytes;
			break;
		case GMTRACE_EVICT_PRIORITY:
			key = (uint64_t)((int64_t)a->priority + INT64_MAX / 2);
			break;
		default:
			key = a->last_touch == BU_NEVER ? 0 : a->last_touch + 1;
			break;
		}
		if (key < best_key) { /* in load order: ties keep the lowest id */
			best_key = key;
			best = a;
		}
	}
	return best;
}

/* The node gmtrace evicts for now, and why ("over_hard", "heap_full",
 * "over_soft"); -1 when the model sees no reason. */
static int bu_predict(const char **event)
{
	*event = "none";
	if (bu_ctx == BU_CTX_ALLOC) {
		for (int i = bu_ctx_leaf; i >= 0; i = bu_defs[i].parent)
			if (bu_model[i] + (int64_t)bu_ctx_bytes > (int64_t)bu_defs[i].hard) {
				*event = "over_hard";
				return i;
			}
		*event = "heap_full";
		return bu_ctx_leaf;
	}
	if (bu_ctx != BU_CTX_FRAME)
		return -1;
	*event = "over_soft";
	while (bu_cursor < BU_NNODES) {
		int i = bu_cursor;
		const bu_def_t *d = &bu_defs[i];
		uint64_t target = d->target ? d->target : d->soft;
		if (bu_cursor_active) {
			if (bu_model[i] > (int64_t)target)
				return i;
		} else if (d->soft && bu_model[i] > (int64_t)d->soft) {
			bu_cursor_active = 1;
			if (bu_nsofts < 32)
				bu_softs[bu_nsofts++] = (bu_soft_rec_t){i, bu_frame, bu_model[i]};
			return i;
		}
		bu_cursor++;
		bu_cursor_active = 0;
	}
	return -1;
}

static bu_asset_t *bu_find(uint64_t id)
{
	for (int k = 0; k < bu_nassets; k++)
		if (bu_assets[k].id == id)
			return &bu_assets[k];
	return NULL;
}

static void bu_unload(bu_asset_t *a)
{
	gmtrace_asset_unload_begin(a->id);
	bu_free(a->mem);
	a->mem = NULL;
	gmtrace_asset_unload_end(a->id);
	a->state = 3;
	bu_charge(a->node, -(int64_t)a->bytes);
}

/* One evictor for both registrations: user says which (1 the node's, 2 the type's). */
static void bu_evict(uint64_t id, void *user)
{
	const char *event;
	int root = bu_predict(&event);
	bu_asset_t *want = root >= 0 ? bu_choose(root) : NULL;
	bu_asset_t *a = bu_find(id);
	int evictor = (int)(intptr_t)user;
	bu_expect_true("evictor: a known asset", a != NULL);
	bu_expect_true("evictor: the model sees a node to evict for", root >= 0);
	bu_expect("evictor: victim is the policy's choice", want ? (int64_t)want->id : 0,
	          (int64_t)id);
	if (a)
		bu_expect("evictor: particles go to the type evictor, the rest to the node's",
		          strcmp(a->type, "particles") == 0 ? 2 : 1, evictor);
	if (bu_nevictions < BU_MAX_ASSETS)
		bu_evictions[bu_nevictions++] = (bu_evict_rec_t){
		        id, want ? want->id : 0, bu_frame, root, bu_ctx, evictor, event};
	if (a && a->state == 1)
		bu_unload(a);
}

/* ---- the game -------------------------------------------------------------- */

/* Every node's live bytes against the model (and under its hard limit). */
static void bu_check_nodes(char names[][80], int frame_end)
{
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	size_t na = 0, n = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	if (!bu_budgets) {
		bu_expect("no budget nodes", 0, (int64_t)n);
		return;
	}
	for (int i = 0; i < BU_NNODES; i++) {
		const gmtrace_budget_node_t *b = bu_node_in(nodes, n, bu_id[i]);
		int64_t live = b ? b->live_bytes : -1;
		bu_expect(names[i], bu_model[i], live);
		bu_expect_true(bu_names_limit[i], live <= (int64_t)bu_defs[i].hard);
		if (frame_end && bu_frame <= BU_FRAMES)
			bu_frame_live[i][bu_frame] = live;
	}
}

static void *bu_alloc(int leaf, uint64_t n)
{
	void *p;
	bu_ctx = BU_CTX_ALLOC;
	bu_ctx_leaf = leaf;
	bu_ctx_bytes = n;
	p = bu_malloc(n);
	bu_ctx = BU_CTX_NONE;
	FX_CHECK(p != NULL, "an allocation under the tree succeeds");
	fx_touch(p, n);
	if (bu_budgets)
		bu_charge(leaf, (int64_t)n);
	bu_check_nodes(bu_names_alloc, 0);
	return p;
}

static void bu_touch(bu_asset_t *a)
{
	if (a->last_touch != bu_frame) {
		a->touches++;
		a->last_touch = bu_frame;
	}
	gmtrace_asset_touch(a->id);
}

static bu_asset_t *bu_load(const char *name, const char *type, int leaf, uint64_t bytes,
                           int priority)
{
	bu_asset_t *a;
	FX_CHECK(bu_nassets < BU_MAX_ASSETS, "asset table");
	a = &bu_assets[bu_nassets++];
	strncpy(a->name, name, sizeof(a->name) - 1);
	a->type = type;
	a->node = leaf;
	a->bytes = bytes;
	a->priority = priority;
	a->last_touch = BU_NEVER;
	a->id = gmtrace_asset_load_begin(name, type);
	if (priority)
		gmtrace_asset_priority(a->id, priority);
	a->mem = bu_alloc(leaf, bytes);
	gmtrace_asset_load_end(a->id, 1);
	a->state = 1;
	bu_touch(a);
	return a;
}

static void bu_loose_blocks(int n)
{
	GMTRACE_TAG_PUSH("gameplay");
	for (int k = 0; k < n; k++) {
		FX_CHECK(bu_nloose < BU_MAX_LOOSE, "loose block table");
		bu_loose[bu_nloose++] = bu_alloc(BU_GAMEPLAY, BU_BLOCK);
	}
	GMTRACE_TAG_POP();
}

static void bu_frame_end(void)
{
	bu_ctx = BU_CTX_FRAME;
	bu_cursor = 0;
	bu_cursor_active = 0;
	GMTRACE_FRAME();
	bu_ctx = BU_CTX_NONE;
	/* nodes over their soft limit with nothing to evict still count */
	if (bu_budgets) {
		if (bu_cursor_active)
			bu_cursor++;
		for (int i = bu_cursor; i < BU_NNODES; i++)
			if (bu_defs[i].soft && bu_model[i] > (int64_t)bu_defs[i].soft &&
			    bu_nsofts < 32)
				bu_softs[bu_nsofts++] = (bu_soft_rec_t){i, bu_frame, bu_model[i]};
	}
	bu_check_nodes(bu_names_frame, 1);
	bu_frame++;
}

static bu_asset_t *bu_named(const char *name)
{
	for (int k = 0; k < bu_nassets; k++)
		if (strcmp(bu_assets[k].name, name) == 0)
			return &bu_assets[k];
	fx_fail("bu_named", name);
	return NULL;
}

static void bu_play(void)
{
	char name[8];
	/* 1-9: textures, the ambience sound in frame 3 */
	for (int k = 1; k <= 9; k++) {
		name[0] = 'T';
		name[1] = (char)('0' + k);
		name[2] = '\0';
		bu_load(name, "texture", BU_TEXTURES, BU_TEX, 0);
		if (k == 3)
			bu_load("A", "sound", BU_AUDIO, BU_SOUND, 9);
		bu_frame_end();
	}
	/* 10, 11: sound bursts */
	for (int k = 1; k <= 24; k++) {
		name[0] = 'S';
		name[1] = (char)(k < 10 ? '0' + k : '0' + k / 10);
		name[2] = (char)(k < 10 ? '\0' : '0' + k % 10);
		name[3] = '\0';
		bu_load(name, "sound", BU_AUDIO, BU_SOUND, k * 7 % 5);
		if (k == 12 || k == 24)
			bu_frame_end();
	}
	/* 12: the game leaves the area: sounds go; gameplay memory and effects come */
	for (int k = 0; k < bu_nassets; k++)
		if (bu_assets[k].node == BU_AUDIO && bu_assets[k].state == 1)
			bu_unload(&bu_assets[k]);
	bu_loose_blocks(1280);
	GMTRACE_TAG_PUSH("gameplay/particles");
	bu_load("E1", "particles", BU_PARTICLES, BU_EFFECT, 0);
	bu_load("E2", "particles", BU_PARTICLES, BU_EFFECT, 0);
	bu_load("E3", "particles", BU_PARTICLES, BU_EFFECT, 0);
	bu_load("E4", "particles", BU_PARTICLES, BU_EFFECT, 0);
	GMTRACE_TAG_POP();
	bu_frame_end();
	/* 13-15: effects in use */
	bu_touch(bu_named("E1"));
	bu_touch(bu_named("E3"));
	bu_touch(bu_named("E4"));
	bu_frame_end();
	bu_touch(bu_named("E1"));
	bu_touch(bu_named("E4"));
	bu_frame_end();
	bu_touch(bu_named("E1"));
	bu_frame_end();
	/* 16: three more effects */
	GMTRACE_TAG_PUSH("gameplay/particles");
	bu_load("E5", "particles", BU_PARTICLES, BU_EFFECT, 0);
	bu_load("E6", "particles", BU_PARTICLES, BU_EFFECT, 0);
	bu_load("E7", "particles", BU_PARTICLES, BU_EFFECT, 0);
	GMTRACE_TAG_POP();
	bu_frame_end();
	/* 17 */
	bu_touch(bu_named("E5"));
	bu_touch(bu_named("E7"));
	bu_frame_end();
	/* 18: a texture burst, then gameplay memory */
	for (int k = 10; k <= 16; k++) {
		name[0] = 'T';
		name[1] = '1';
		name[2] = (char)('0' + k % 10);
		name[3] = '\0';
		bu_load(name, "texture", BU_TEXTURES, BU_TEX, 0);
	}
	bu_loose_blocks(640);
	bu_loose_blocks(256);
	bu_frame_end();
}

/* ---- set-up and the line ----------------------------------------------------- */

static void bu_define(void)
{
	for (int i = 0; i < BU_NNODES; i++) {
		const bu_def_t *d = &bu_defs[i];
		bu_id[i] = gmtrace_budget_define(
		        d->name, d->parent >= 0 ? bu_defs[d->parent].name : NULL, d->soft, d->hard);
		FX_CHECK(bu_id[i] != 0, "node defined");
		FX_CHECK(gmtrace_budget_policy(bu_id[i], d->policy, d->target, -1) == 0, "policy");
		if (d->type)
			FX_CHECK(gmtrace_budget_bind_type(bu_id[i], d->type) == 0, "type bound");
		if (d->tag)
			FX_CHECK(gmtrace_budget_bind_tag(bu_id[i], d->tag) == 0, "tag bound");
	}
}

static void bu_json_line(const char *mode)
{
	gmtrace_budget_node_t nodes[BU_MAX_NODES];
	size_t na = 0, n = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
	static const char *states[] = {"loading", "resident", "unloading", "unloaded"};
	static const char *contexts[] = {"none", "alloc", "frame"};
	fx_json_begin();
	fx_json_str("mode", mode);
	fx_json_u64("budgets", (uint64_t)bu_budgets);
	fx_json_u64("frames", bu_frame - 1);
	fx_json_open("nodes", '[');
	for (int i = 0; bu_budgets && i < BU_NNODES; i++) {
		const bu_def_t *d = &bu_defs[i];
		const gmtrace_budget_node_t *b = bu_node_in(nodes, n, bu_id[i]);
		fx_json_open(NULL, '{');
		fx_json_str("name", d->name);
		fx_json_u64("id", bu_id[i]);
		fx_json_str("parent", d->parent >= 0 ? bu_defs[d->parent].name : "");
		fx_json_u64("soft", d->soft);
		fx_json_u64("target", d->target);
		fx_json_u64("hard", d->hard);
		fx_json_str("policy", bu_policy_names[d->policy]);
		fx_json_i64("model", bu_model[i]);
		fx_json_i64("live", b ? b->live_bytes : -1);
		fx_json_i64("peak", b ? b->peak_bytes : -1);
		fx_json_i64("model_peak", bu_model_peak[i]);
		fx_json_u64("evictions", b ? b->evictions : 0);
		fx_json_u64("violations", b ? b->violations : 0);
		fx_json_u64("failures", b ? b->failures : 0);
		fx_json_open("frame_live", '[');
		for (uint64_t f = 1; f < bu_frame && f <= BU_FRAMES; f++)
			fx_json_i64(NULL, bu_frame_live[i][f]);
		fx_json_close(']');
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_open("assets", '[');
	for (int k = 0; k < bu_nassets; k++) {
		const bu_asset_t *a = &bu_assets[k];
		fx_json_open(NULL, '{');
		fx_json_str("name", a->name);
		fx_json_u64("id", a->id);
		fx_json_str("type", a->type);
		fx_json_str("node", bu_defs[a->node].name);
		fx_json_u64("bytes", a->bytes);
		fx_json_i64("priority", a->priority);
		fx_json_str("state", states[a->state]);
		fx_json_u64("touches", a->touches);
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_open("evictions", '[');
	for (int k = 0; k < bu_nevictions; k++) {
		const bu_evict_rec_t *e = &bu_evictions[k];
		const bu_asset_t *a = bu_find(e->asset);
		fx_json_open(NULL, '{');
		fx_json_u64("asset", e->asset);
		fx_json_str("name", a ? a->name : "?");
		fx_json_str("node", e->root >= 0 ? bu_defs[e->root].name : "?");
		fx_json_str("event", e->event);
		fx_json_str("context", contexts[e->context]);
		fx_json_u64("frame", e->frame);
		fx_json_str("evictor", e->evictor == 2 ? "type" : "node");
		fx_json_u64("expected", e->expected);
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_open("soft_violations", '[');
	for (int k = 0; k < bu_nsofts; k++) {
		fx_json_open(NULL, '{');
		fx_json_str("node", bu_defs[bu_softs[k].node].name);
		fx_json_u64("frame", bu_softs[k].frame);
		fx_json_i64("live", bu_softs[k].live);
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_u64("loose_blocks", (uint64_t)bu_nloose);
	fx_json_u64("loose_block_bytes", BU_BLOCK);
	bu_json_verdicts();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "api";
	fx_name = "bu_tree";
	FX_CHECK(gmtrace_enabled(), "runs under libgmtrace");
	for (int i = 0; i < BU_NNODES; i++) {
		bu_name(bu_names_alloc[i], "after an allocation: ", bu_defs[i].name,
		        " live == model");
		bu_name(bu_names_frame[i], "frame end: ", bu_defs[i].name, " live == model");
		bu_name(bu_names_limit[i], "live <= hard limit: ", bu_defs[i].name, "");
	}
	if (strcmp(mode, "api") == 0) {
		bu_define();
		bu_budgets = 1;
	} else if (strcmp(mode, "file") == 0) {
		int found = 0;
		gmtrace_budget_node_t nodes[BU_MAX_NODES];
		size_t na = 0, n;
		for (int i = 0; i < BU_NNODES; i++)
			found += (bu_id[i] = gmtrace_budget_find(bu_defs[i].name)) != 0;
		FX_CHECK(found == 0 || found == BU_NNODES, "the file defines all nodes or none");
		bu_budgets = found == BU_NNODES;
		n = gmtrace_budget_snapshot(nodes, BU_MAX_NODES, NULL, 0, &na);
		for (int i = 0; bu_budgets && i < BU_NNODES; i++) {
			const gmtrace_budget_node_t *b = bu_node_in(nodes, n, bu_id[i]);
			FX_CHECK(b != NULL, "a found node is in the snapshot");
			bu_expect("file: soft limit", (int64_t)bu_defs[i].soft,
			          (int64_t)b->soft_limit);
			bu_expect("file: hard limit", (int64_t)bu_defs[i].hard,
			          (int64_t)b->hard_limit);
			bu_expect("file: parent",
			          bu_defs[i].parent >= 0 ? bu_id[bu_defs[i].parent] : 0, b->parent);
		}
	} else {
		fx_fail("arguments", "mode is api or file");
	}
	if (bu_budgets) {
		FX_CHECK(gmtrace_budget_evictor(bu_id[BU_TOTAL], bu_evict, (void *)1) == 0,
		         "node evictor");
		FX_CHECK(gmtrace_budget_evictor_type("particles", bu_evict, (void *)2) == 0,
		         "type evictor");
	}
	bu_play();
	bu_check_nodes(bu_names_frame, 0);
	bu_json_line(mode);
	return fx_json_write(1) == 0 ? 0 : 1;
}

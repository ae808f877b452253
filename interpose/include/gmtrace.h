/* gmtrace.h - the gmtrace marker API for games
 *
 * Include this header; do not link anything. Calls are resolved once, at
 * run time, from libgmtrace.so when the game runs under it (LD_PRELOAD or
 * `gmtrace run`), and cost a load and a branch otherwise.
 *
 *     #include <gmtrace.h>
 *     for (;;) { update(); render(); GMTRACE_FRAME(); }
 *
 * Two mirrored halves:
 *   - GMTRACE_DISABLE defined: every macro is ((void)0), nothing is compiled.
 *   - otherwise: macros call static inline wrappers that look up the entry
 *     points through gmtrace_api_get() (found with dlsym on first use).
 *
 * Naming: gmtrace_<object>_<verb>() functions, GMTRACE_<OBJECT>[_<VERB>]()
 * macros; _N for named variants, _PUSH/_POP for scopes, _BEGIN/_END for
 * spans. Strings passed in are copied by gmtrace; callers keep ownership.
 *
 * ABI: the entry table is versioned. A table with a larger abi is a superset;
 * a game built against ABI n works with every libgmtrace that has abi >= n.
 */
#ifndef GMTRACE_H
#define GMTRACE_H

#include <stddef.h>
#include <stdint.h>

#define GMTRACE_ABI 5

#ifdef __cplusplus
extern "C" {
#endif

/* Capture levels for gmtrace_level_set(). */
#define GMTRACE_LEVEL_EVENTS 0 /* every allocation and free (short captures) */
#define GMTRACE_LEVEL_FRAMES 1 /* per-frame totals only (sessions of hours) */

/* Why a frame was reported as a spike (bits of gmtrace_spike_t.reasons). */
#define GMTRACE_SPIKE_ALLOCATIONS 1
#define GMTRACE_SPIKE_BYTES 2
#define GMTRACE_SPIKE_ALLOC_TIME 4

/* A frame whose allocation exceeded a limit; passed to the spike callback
 * on the thread that ended the frame, right after it ended. */
typedef struct gmtrace_spike {
	uint64_t frame;   /* frame number (1 = first frame) */
	uint32_t reasons; /* GMTRACE_SPIKE_* bits */
	uint32_t reserved;
	uint64_t allocations; /* in the frame, all threads */
	uint64_t allocated_bytes;
	uint64_t alloc_ns; /* estimated time inside the allocator */
	uint64_t limit_allocations, limit_bytes, limit_alloc_ns; /* limits in force */
} gmtrace_spike_t;

typedef void (*gmtrace_spike_fn)(const gmtrace_spike_t *spike, void *user);

/* Budget policies: which evictable asset leaves first. */
#define GMTRACE_EVICT_LRU 0      /* least recently touched */
#define GMTRACE_EVICT_LFU 1      /* least often touched */
#define GMTRACE_EVICT_LARGEST 2  /* largest */
#define GMTRACE_EVICT_PRIORITY 3 /* lowest gmtrace_asset_priority() */

/* Called to evict an asset: unload it (gmtrace_asset_unload and free its
 * memory). Runs at a frame end, or inside an allocation that would go over
 * a hard limit; it may free, allocate and call gmtrace. */
typedef void (*gmtrace_evict_fn)(uint64_t asset, void *user);

/* A budget limit was crossed (gmtrace_budget_violation_callback). */
#define GMTRACE_BUDGET_OVER_SOFT 0 /* over the soft limit at a frame end */
#define GMTRACE_BUDGET_OVER_HARD 1 /* an allocation went over the hard limit (soft mode) */
#define GMTRACE_BUDGET_FAILED 2    /* an allocation failed at the hard limit (strict) */
#define GMTRACE_BUDGET_HEAP_FULL 3 /* the node's heap had no room */

typedef struct gmtrace_budget_violation {
	uint32_t node;      /* budget node id */
	uint32_t event;     /* GMTRACE_BUDGET_* */
	const char *name;   /* the node's name */
	int64_t live_bytes; /* the node's live bytes then */
	uint64_t limit_bytes;
	uint64_t size;  /* bytes requested (0 at a frame end) */
	uint64_t asset; /* asset being allocated for (0: none) */
	/* 1 if gmtrace failed the allocation (strict mode). In soft mode a
	 * block the node's heap cannot serve goes to the process's allocator,
	 * which may still fail it (a request of 1 PiB): 0 here, NULL for the
	 * game, a failed-allocation record in the capture */
	int failed;
} gmtrace_budget_violation_t;

typedef void (*gmtrace_budget_violation_fn)(const gmtrace_budget_violation_t *v, void *user);

/* One budget node in a snapshot. */
typedef struct gmtrace_budget_node {
	uint32_t id, parent; /* parent 0: a root */
	const char *name;    /* valid while the process runs */
	int64_t live_bytes;  /* now, children included */
	int64_t peak_bytes;
	uint64_t soft_limit, hard_limit;
	/* evictor calls; limits crossed (over_soft, over_hard, heap_full) that
	 * let the allocation through; allocations failed (strict mode). A
	 * failure is not also a violation here, where the budgets report and the
	 * violation callback list it as a "failed" violation */
	uint64_t evictions, violations, failures;
} gmtrace_budget_node_t;

/* One asset in a snapshot. */
typedef struct gmtrace_budget_asset {
	uint64_t id;
	uint32_t state; /* 0 loading, 1 resident, 2 unloading, 3 unloaded, 4 failed */
	int32_t refs;
	uint64_t bytes; /* held: allocated in its scopes and not freed yet (an asset whose
	                   type is bound to a budget; other assets: all they allocated),
	                   plus declared extra bytes */
	/* main frames ended before its last touch (0: in the first frame; the
	 * reports number frames from 1, so their frame 18 is 17 here);
	 * UINT64_MAX: never touched */
	uint64_t last_touch_frame;
	uint32_t node; /* budget node of its type, else of the tag it was loaded
	                  under (0: none) */
	int32_t priority;
} gmtrace_budget_asset_t;

/* The entry table exported by libgmtrace.so. Fields are only ever added. */
typedef struct gmtrace_api_table {
	uint32_t abi;   /* GMTRACE_ABI of the library */
	uint32_t bytes; /* sizeof the table in the library */
	void (*frame_mark)(void);
	void (*frame_mark_n)(const char *set);
	int (*enabled)(void);
	uint64_t (*self_allocations)(void);
	uint64_t (*footprint_bytes)(void);
	void (*tick)(void);
	int (*level_set)(int level);
	void (*spike_callback)(gmtrace_spike_fn fn, void *user);
	/* ABI 2: tags, assets, scenes */
	uint32_t (*tag_id)(const char *name);
	void (*tag_push)(const char *name);
	void (*tag_push_id)(uint32_t tag);
	void (*tag_pop)(void);
	uint64_t (*asset_load_begin)(const char *name, const char *type);
	void (*asset_load_end)(uint64_t asset, int ok);
	void (*asset_attach)(uint64_t asset);
	void (*asset_detach)(uint64_t asset);
	void (*asset_ref)(uint64_t asset);
	void (*asset_release)(uint64_t asset);
	void (*asset_touch)(uint64_t asset);
	void (*asset_unload_begin)(uint64_t asset);
	void (*asset_unload_end)(uint64_t asset);
	void (*asset_extra_bytes)(uint64_t asset, uint64_t bytes);
	void (*scene_begin)(const char *name);
	/* ABI 3: pools, garbage collection */
	uint32_t (*pool_create)(const char *name, uint64_t object_size, uint64_t capacity);
	void (*pool_acquire)(uint32_t pool, int from_pool);
	void (*pool_release)(uint32_t pool, int to_pool);
	void (*pool_resize)(uint32_t pool, uint64_t capacity);
	void (*pool_destroy)(uint32_t pool);
	void (*gc)(int generation, uint64_t duration_ns, uint64_t collected,
	           uint64_t uncollectable);
	/* ABI 4: budgets */
	uint32_t (*budget_define)(const char *name, const char *parent, uint64_t soft,
	                          uint64_t hard);
	int (*budget_bind_tag)(uint32_t node, const char *tag);
	int (*budget_bind_type)(uint32_t node, const char *type);
	int (*budget_policy)(uint32_t node, int policy, uint64_t target, int strict);
	int (*budget_evictor)(uint32_t node, gmtrace_evict_fn fn, void *user);
	int (*budget_evictor_type)(const char *type, gmtrace_evict_fn fn, void *user);
	uint32_t (*budget_find)(const char *name);
	size_t (*budget_snapshot)(gmtrace_budget_node_t *nodes, size_t max_nodes,
	                          gmtrace_budget_asset_t *assets, size_t max_assets,
	                          size_t *nassets);
	void (*asset_priority)(uint64_t asset, int priority);
	void (*asset_pin)(uint64_t asset, int pinned);
	/* ABI 5: budget alerts */
	void (*budget_violation_callback)(gmtrace_budget_violation_fn fn, void *user);
} gmtrace_api_t;

#if defined(GMTRACE_IMPLEMENTATION)
/* libgmtrace itself: defines the entry points, needs only the table */
#elif !defined(GMTRACE_DISABLE)

#include <stddef.h>
#include <dlfcn.h>

typedef const gmtrace_api_t *(*gmtrace_api_get_fn)(uint32_t abi);

/* The library's table, or NULL when the game runs without gmtrace. */
static inline const gmtrace_api_t *gmtrace_api(void)
{
	/* 0 = not looked up, 1 = absent, else the table. Racing lookups store
	 * the same value, so relaxed atomics are enough. */
	static const gmtrace_api_t *cached;
	const gmtrace_api_t *api = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (api == NULL) {
		gmtrace_api_get_fn get = (gmtrace_api_get_fn)dlsym(RTLD_DEFAULT, "gmtrace_api_get");
		api = get ? get(GMTRACE_ABI) : NULL;
		if (api == NULL)
			api = (const gmtrace_api_t *)1;
		__atomic_store_n(&cached, api, __ATOMIC_RELAXED);
	}
	return api == (const gmtrace_api_t *)1 ? NULL : api;
}

/* End of one displayed (render) frame. Turns off automatic frame detection. */
static inline void gmtrace_frame_mark(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a)
		a->frame_mark();
}

/* End of one frame of a named secondary frame set ("physics", "audio"). A
 * NULL or empty name marks nothing (a null_name validation): the main
 * frames are gmtrace_frame_mark()'s. */
static inline void gmtrace_frame_mark_n(const char *set)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a)
		a->frame_mark_n(set);
}

/* 1 when the game runs under gmtrace and records, else 0. */
static inline int gmtrace_enabled(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a ? a->enabled() : 0;
}

/* Allocations gmtrace has made for itself since start-up (from the game's
 * heap while inside gmtrace, and from its private arena). After start-up
 * and a thread's first record this number no longer grows. */
static inline uint64_t gmtrace_self_allocations(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a ? a->self_allocations() : 0;
}

/* Bytes gmtrace holds in this process: its shared-memory log and the pages
 * of its private arena. */
static inline uint64_t gmtrace_footprint_bytes(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a ? a->footprint_bytes() : 0;
}

/* One simulation tick (fixed-timestep update): zero, one or several per
 * displayed frame. */
static inline void gmtrace_tick(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a)
		a->tick();
}

/* Switch what is recorded from now on (GMTRACE_LEVEL_*), e.g. events only
 * around a level transition. Returns 0, or -1 for an unknown level or
 * without gmtrace. */
static inline int gmtrace_level_set(int level)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a ? a->level_set(level) : -1;
}

/* Call fn(spike, user) for every spike frame (NULL removes it). */
static inline void gmtrace_spike_callback(gmtrace_spike_fn fn, void *user)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a)
		a->spike_callback(fn, user);
}

/* ---- tags: what subsystem allocates ------------------------------------
 * Hierarchical names ("render/textures", "audio/music"), pushed and popped
 * per thread. Every allocation belongs to the innermost tag of its thread. */

/* The id of a tag name (interned once; 0 for a NULL or empty name). */
static inline uint32_t gmtrace_tag_id(const char *name)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 2 ? a->tag_id(name) : 0;
}

static inline void gmtrace_tag_push(const char *name)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->tag_push(name);
}

/* Push by id: no string hashing, for tags pushed every frame. */
static inline void gmtrace_tag_push_id(uint32_t tag)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->tag_push_id(tag);
}

static inline void gmtrace_tag_pop(void)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->tag_pop();
}

/* ---- assets: loaded, referenced, used, unloaded --------------------------
 * An asset's life: loading -> resident -> unloading -> unloaded (or failed).
 * Allocations made on a thread between load_begin and load_end belong to the
 * asset; a worker thread doing part of the load calls attach/detach around
 * its work. A load or unload is ended on the thread that began it; ended on
 * another (a resource thread finishing it), the scope still ends on the
 * first thread, and a validation says so. Ids are never reused; 0 means
 * "no asset" and is ignored. Wrong
 * calls (unknown id, double unload, release below zero, NULL names) are
 * recorded as validation events and otherwise ignored. */

/* Start loading an asset of a type ("texture", "sound", "model", "mesh",
 * "shader", "font", "animation", "level", or any string). Returns its id. */
static inline uint64_t gmtrace_asset_load_begin(const char *name, const char *type)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 2 ? a->asset_load_begin(name, type) : 0;
}

/* End the load scope: ok != 0 makes the asset resident, 0 failed. */
static inline void gmtrace_asset_load_end(uint64_t asset, int ok)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->asset_load_end(asset, ok);
}

/* This thread works for the asset until detach (loader and worker threads). */
static inline void gmtrace_asset_attach(uint64_t asset)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->asset_attach(asset);
}

static inline void gmtrace_asset_detach(uint64_t asset)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->asset_detach(asset);
}

static inline void gmtrace_asset_ref(uint64_t asset)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->asset_ref(asset);
}

static inline void gmtrace_asset_release(uint64_t asset)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->asset_release(asset);
}

/* The asset was used this frame (cheap to call every frame). */
static inline void gmtrace_asset_touch(uint64_t asset)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->asset_touch(asset);
}

/* Unloading: frees between begin and end belong to the unload. */
static inline void gmtrace_asset_unload_begin(uint64_t asset)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->asset_unload_begin(asset);
}

static inline void gmtrace_asset_unload_end(uint64_t asset)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->asset_unload_end(asset);
}

/* Unload in one call (begin and end). */
static inline void gmtrace_asset_unload(uint64_t asset)
{
	gmtrace_asset_unload_begin(asset);
	gmtrace_asset_unload_end(asset);
}

/* Memory the asset holds that the heap cannot see (GPU uploads): the total
 * (up to 1 TiB - 1; more counts as that). */
static inline void gmtrace_asset_extra_bytes(uint64_t asset, uint64_t bytes)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->asset_extra_bytes(asset, bytes);
}

/* A level or scene begins (level transitions are measured between these). */
static inline void gmtrace_scene_begin(const char *name)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 2)
		a->scene_begin(name);
}

/* ---- object pools ----------------------------------------------------------
 * Say what your pools do; gmtrace counts it per thread and writes one
 * record per pool per frame (a few ns per call, no record per call). */

/* A pool of capacity objects of object_size bytes; returns its id (1..255,
 * 0 when no more pools can be watched or without gmtrace). */
static inline uint32_t gmtrace_pool_create(const char *name, uint64_t object_size,
                                           uint64_t capacity)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 3 ? a->pool_create(name, object_size, capacity) : 0;
}

/* An object taken: from_pool != 0 if the pool served it, 0 if it overflowed
 * to the heap. */
static inline void gmtrace_pool_acquire(uint32_t pool, int from_pool)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 3)
		a->pool_acquire(pool, from_pool);
}

/* An object given back: to_pool != 0 if it went back into the pool. */
static inline void gmtrace_pool_release(uint32_t pool, int to_pool)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 3)
		a->pool_release(pool, to_pool);
}

static inline void gmtrace_pool_resize(uint32_t pool, uint64_t capacity)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 3)
		a->pool_resize(pool, capacity);
}

static inline void gmtrace_pool_destroy(uint32_t pool)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 3)
		a->pool_destroy(pool);
}

/* A garbage-collector run (the Python module calls this from gc.callbacks). */
static inline void gmtrace_gc(int generation, uint64_t duration_ns, uint64_t collected,
                              uint64_t uncollectable)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 3)
		a->gc(generation, duration_ns, collected, uncollectable);
}

/* ---- budgets ---------------------------------------------------------------
 * A tree of nodes with soft and hard limits, bound to tags and asset types;
 * also read from the file GMTRACE_BUDGETS names. Node ids start at 1. */

/* A node under parent (NULL: a root; under a platform profile, the default
 * bank's child, as all of a game's memory is in its banks); limits 0 = none,
 * and so is a limit of 2^63 bytes or more (UINT64_MAX, say). Returns its id,
 * or 0 (bad name, unknown parent, too many nodes, or without gmtrace). */
static inline uint32_t gmtrace_budget_define(const char *name, const char *parent, uint64_t soft,
                                             uint64_t hard)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 4 ? a->budget_define(name, parent, soft, hard) : 0;
}

/* Allocations under this tag (and the tags below it) count against node. */
static inline int gmtrace_budget_bind_tag(uint32_t node, const char *tag)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 4 ? a->budget_bind_tag(node, tag) : -1;
}

/* Allocations of assets of this type count against node. */
static inline int gmtrace_budget_bind_type(uint32_t node, const char *type)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 4 ? a->budget_bind_type(node, type) : -1;
}

/* Victim policy (GMTRACE_EVICT_*), the target soft evictions go down to
 * (0, or 2^63 bytes or more: the soft limit), strict 1 (fail at the hard
 * limit), 0 (violate), -1
 * (the process's mode). */
static inline int gmtrace_budget_policy(uint32_t node, int policy, uint64_t target, int strict)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 4 ? a->budget_policy(node, policy, target, strict) : -1;
}

static inline int gmtrace_budget_evictor(uint32_t node, gmtrace_evict_fn fn, void *user)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 4 ? a->budget_evictor(node, fn, user) : -1;
}

/* An evictor for every asset of a type (takes precedence over the node's). */
static inline int gmtrace_budget_evictor_type(const char *type, gmtrace_evict_fn fn, void *user)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 4 ? a->budget_evictor_type(type, fn, user) : -1;
}

static inline uint32_t gmtrace_budget_find(const char *name)
{
	const gmtrace_api_t *a = gmtrace_api();
	return a && a->abi >= 4 ? a->budget_find(name) : 0;
}

/* Every node's live bytes and (if assets != NULL) every asset's state, now.
 * Returns the number of nodes (those past max_nodes are not written);
 * *nassets gets the number of assets (ditto). */
static inline size_t gmtrace_budget_snapshot(gmtrace_budget_node_t *nodes, size_t max_nodes,
                                             gmtrace_budget_asset_t *assets, size_t max_assets,
                                             size_t *nassets)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (!a || a->abi < 4) {
		if (nassets)
			*nassets = 0;
		return 0;
	}
	return a->budget_snapshot(nodes, max_nodes, assets, max_assets, nassets);
}

static inline void gmtrace_asset_priority(uint64_t asset, int priority)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 4)
		a->asset_priority(asset, priority);
}

/* Call fn(v, user) for every budget violation (NULL removes it): on the
 * thread that crossed the limit, inside the allocation or at the frame end;
 * fn may allocate (its own allocations never call it again). */
static inline void gmtrace_budget_violation_callback(gmtrace_budget_violation_fn fn, void *user)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 5)
		a->budget_violation_callback(fn, user);
}

/* A pinned asset is never evicted. */
static inline void gmtrace_asset_pin(uint64_t asset, int pinned)
{
	const gmtrace_api_t *a = gmtrace_api();
	if (a && a->abi >= 4)
		a->asset_pin(asset, pinned);
}

#define GMTRACE_FRAME()               \
	do {                          \
		gmtrace_frame_mark(); \
	} while (0)
#define GMTRACE_TICK()          \
	do {                    \
		gmtrace_tick(); \
	} while (0)
#define GMTRACE_TAG_PUSH(name)          \
	do {                            \
		gmtrace_tag_push(name); \
	} while (0)
#define GMTRACE_TAG_POP()          \
	do {                       \
		gmtrace_tag_pop(); \
	} while (0)
#define GMTRACE_SCENE(name)                \
	do {                               \
		gmtrace_scene_begin(name); \
	} while (0)
#if defined(__GNUC__) && !defined(__cplusplus)
/* A tag for the rest of the enclosing block (GNU C cleanup attribute). */
static inline void gmtrace__tag_scope_end(int *unused)
{
	(void)unused;
	gmtrace_tag_pop();
}
#define GMTRACE__CAT2(a, b) a##b
#define GMTRACE__CAT(a, b) GMTRACE__CAT2(a, b)
#define GMTRACE_TAG_SCOPE(name)                                            \
	int GMTRACE__CAT(gmtrace__scope_, __LINE__)                        \
	        __attribute__((cleanup(gmtrace__tag_scope_end), unused)) = \
	                (gmtrace_tag_push(name), 0)
#endif
#define GMTRACE_LEVEL(level)                    \
	do {                                    \
		(void)gmtrace_level_set(level); \
	} while (0)
#define GMTRACE_FRAME_N(set)               \
	do {                               \
		gmtrace_frame_mark_n(set); \
	} while (0)

#else /* GMTRACE_DISABLE */

/* The neutral results of the calls below, from functions so that a call
 * used as a statement is not a value computed and left unused
 * (-Wunused-value under -Werror). */
static inline int gmtrace__off_int(void)
{
	return -1;
}
static inline int gmtrace__off_false(void)
{
	return 0;
}
static inline uint32_t gmtrace__off_u32(void)
{
	return 0;
}
static inline uint64_t gmtrace__off_u64(void)
{
	return 0;
}
static inline size_t gmtrace__off_snapshot(size_t *nassets)
{
	if (nassets)
		*nassets = 0;
	return 0;
}

#define GMTRACE_FRAME() ((void)0)
#define GMTRACE_FRAME_N(set) ((void)(set))
#define GMTRACE_TICK() ((void)0)
#define GMTRACE_LEVEL(level) ((void)(level))
#define gmtrace_frame_mark() ((void)0)
#define gmtrace_frame_mark_n(set) ((void)(set))
#define gmtrace_tick() ((void)0)
#define gmtrace_level_set(level) ((void)(level), gmtrace__off_int())
#define gmtrace_spike_callback(fn, user) ((void)(fn), (void)(user))
#define gmtrace_enabled() gmtrace__off_false()
#define gmtrace_self_allocations() gmtrace__off_u64()
#define GMTRACE_TAG_PUSH(name) ((void)(name))
#define GMTRACE_TAG_POP() ((void)0)
#define GMTRACE_TAG_SCOPE(name) ((void)(name))
#define GMTRACE_SCENE(name) ((void)(name))
#define gmtrace_tag_id(name) ((void)(name), gmtrace__off_u32())
#define gmtrace_tag_push(name) ((void)(name))
#define gmtrace_tag_push_id(tag) ((void)(tag))
#define gmtrace_tag_pop() ((void)0)
#define gmtrace_asset_load_begin(name, type) ((void)(name), (void)(type), gmtrace__off_u64())
#define gmtrace_asset_load_end(asset, ok) ((void)(asset), (void)(ok))
#define gmtrace_asset_attach(asset) ((void)(asset))
#define gmtrace_asset_detach(asset) ((void)(asset))
#define gmtrace_asset_ref(asset) ((void)(asset))
#define gmtrace_asset_release(asset) ((void)(asset))
#define gmtrace_asset_touch(asset) ((void)(asset))
#define gmtrace_asset_unload_begin(asset) ((void)(asset))
#define gmtrace_asset_unload_end(asset) ((void)(asset))
#define gmtrace_asset_unload(asset) ((void)(asset))
#define gmtrace_asset_extra_bytes(asset, bytes) ((void)(asset), (void)(bytes))
#define gmtrace_scene_begin(name) ((void)(name))
#define gmtrace_pool_create(name, size, capacity) \
	((void)(name), (void)(size), (void)(capacity), gmtrace__off_u32())
#define gmtrace_pool_acquire(pool, from_pool) ((void)(pool), (void)(from_pool))
#define gmtrace_pool_release(pool, to_pool) ((void)(pool), (void)(to_pool))
#define gmtrace_pool_resize(pool, capacity) ((void)(pool), (void)(capacity))
#define gmtrace_pool_destroy(pool) ((void)(pool))
#define gmtrace_budget_define(name, parent, soft, hard) \
	((void)(name), (void)(parent), (void)(soft), (void)(hard), gmtrace__off_u32())
#define gmtrace_budget_bind_tag(node, tag) ((void)(node), (void)(tag), gmtrace__off_int())
#define gmtrace_budget_bind_type(node, type) ((void)(node), (void)(type), gmtrace__off_int())
#define gmtrace_budget_policy(node, policy, target, strict) \
	((void)(node), (void)(policy), (void)(target), (void)(strict), gmtrace__off_int())
#define gmtrace_budget_evictor(node, fn, user) \
	((void)(node), (void)(fn), (void)(user), gmtrace__off_int())
#define gmtrace_budget_evictor_type(type, fn, user) \
	((void)(type), (void)(fn), (void)(user), gmtrace__off_int())
#define gmtrace_budget_find(name) ((void)(name), gmtrace__off_u32())
#define gmtrace_budget_snapshot(nodes, max_nodes, assets, max_assets, nassets) \
	((void)(nodes), (void)(max_nodes), (void)(assets), (void)(max_assets), \
	 gmtrace__off_snapshot(nassets))
#define gmtrace_asset_priority(asset, priority) ((void)(asset), (void)(priority))
#define gmtrace_asset_pin(asset, pinned) ((void)(asset), (void)(pinned))
#define gmtrace_budget_violation_callback(fn, user) ((void)(fn), (void)(user))
#define gmtrace_gc(gen, ns, collected, uncollectable) \
	((void)(gen), (void)(ns), (void)(collected), (void)(uncollectable))
#define gmtrace_footprint_bytes() gmtrace__off_u64()

#endif /* GMTRACE_DISABLE */

#ifdef __cplusplus
}

#if !defined(GMTRACE_DISABLE) && !defined(GMTRACE_IMPLEMENTATION)
/* C++: a tag for the rest of the enclosing scope. */
struct gmtrace_tag_scope {
	explicit gmtrace_tag_scope(const char *name)
	{
		gmtrace_tag_push(name);
	}
	~gmtrace_tag_scope()
	{
		gmtrace_tag_pop();
	}
	gmtrace_tag_scope(const gmtrace_tag_scope &) = delete;
	gmtrace_tag_scope &operator=(const gmtrace_tag_scope &) = delete;
};
#define GMTRACE__CAT2(a, b) a##b
#define GMTRACE__CAT(a, b) GMTRACE__CAT2(a, b)
#define GMTRACE_TAG_SCOPE(name) gmtrace_tag_scope GMTRACE__CAT(gmtrace__scope_, __LINE__)(name)
#endif
#endif

#endif /* GMTRACE_H */

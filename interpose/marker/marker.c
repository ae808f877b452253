/* marker.c - the marker API entry points (include/gmtrace.h)
 *
 * Games reach these through gmtrace_api_get() (the header resolves it with
 * dlsym) or by name (the Python module, through ctypes). Every entry point
 * accepts any argument: bad ones are ignored here and, as the marker API
 * grows, recorded as validation events. They never crash the game.
 */
#include <string.h>

#define GMTRACE_IMPLEMENTATION
#include "../include/gmtrace.h"
#include "../budget/budget.h"
#include "../record/context.h"
#include "../record/frame.h"
#include "../record/pool.h"
#include "../record/session.h"
#include "../record/thread.h"
#include "../support/mem.h"
#include "../support/support.h"

/* Named frame sets: id 1..255, 0 is the main set. A slot is claimed with
 * an atomic add, filled, then marked ready; lookups skip slots not ready. */
static uint64_t gm_marker_frames[256]; /* frames ended per set */
static char gm_marker_sets[256][32];   /* names */
static uint32_t gm_marker_ready[256];  /* 1 once the name is written */
static uint32_t gm_marker_said[256];   /* session gen whose capture has the name */
static uint32_t gm_marker_nsets = 1;   /* atomic */
static uint32_t gm_marker_gen = 1;     /* bumped for a fork child's session */

GMTRACE_API void gmtrace_frame_mark(void)
{
	/* the game marks its own frames: present hooks stand down for good.
	 * When presents were ending frames, the first mark only takes over:
	 * the frame since the last present ends at the next mark, so a loop
	 * that presents and then marks has no frame of the few instructions
	 * between the two */
	if (!__atomic_exchange_n(&gm_frame_explicit, 1, __ATOMIC_RELAXED) &&
	    __atomic_load_n(&gm_frame_auto_ended, __ATOMIC_RELAXED))
		return;
	gm_frame_end(&gm_thread_self, gm_present_marker);
}

GMTRACE_API void gmtrace_tick(void)
{
	gm_frame_tick(&gm_thread_self);
}

GMTRACE_API int gmtrace_level_set(int level)
{
	return gm_frame_level_set(&gm_thread_self, level) == 0 ? 0 : -1;
}

GMTRACE_API void gmtrace_spike_callback(gmtrace_spike_fn fn, void *user)
{
	gm_frame_spike_callback(fn, user);
}

/* Find or add the id of a named frame set; 0 when the name is unusable or
 * every set is taken (then the mark is dropped, with a validation). */
static unsigned gm_marker_set_id(const char *set)
{
	uint32_t i, n;
	size_t len;
	len = strnlen(set, sizeof(gm_marker_sets[0]));
	if (len >= sizeof(gm_marker_sets[0]))
		len = gm_support_utf8_cut(set, sizeof(gm_marker_sets[0]) - 1);
	n = __atomic_load_n(&gm_marker_nsets, __ATOMIC_ACQUIRE);
	if (n > 256)
		n = 256;
	for (i = 1; i < n; i++)
		if (__atomic_load_n(&gm_marker_ready[i], __ATOMIC_ACQUIRE) &&
		    strncmp(gm_marker_sets[i], set, len) == 0 && gm_marker_sets[i][len] == 0)
			return i;
	/* a new set. Two threads adding the same new name at once may get two
	 * ids; both are recorded with the name, the analysis merges by name. */
	i = __atomic_fetch_add(&gm_marker_nsets, 1, __ATOMIC_ACQ_REL);
	if (i >= 256)
		return 0;
	memcpy(gm_marker_sets[i], set, len);
	gm_marker_sets[i][len] = 0;
	__atomic_store_n(&gm_marker_ready[i], 1, __ATOMIC_RELEASE);
	return i;
}

GMTRACE_API void gmtrace_frame_mark_n(const char *set)
{
	gm_thread_t *t = &gm_thread_self;
	unsigned id;
	uint64_t n;
	if (!set || !*set) {
		/* no name: a mistake (an unset subsystem name, say), not the main
		 * frames, whose count it would shift: one null_name, no mark */
		gm_context_valid(t, 0, gm_valid_null_name, set ? 1 : 0);
		return;
	}
	id = gm_marker_set_id(set);
	if (id == 0) {
		gm_context_valid(t, 0, gm_valid_stack_overflow, 256);
		return;
	}
	n = __atomic_add_fetch(&gm_marker_frames[id], 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED) && !t->busy) {
		uint32_t gen = __atomic_load_n(&gm_marker_gen, __ATOMIC_RELAXED);
		uint32_t said = __atomic_load_n(&gm_marker_said[id], __ATOMIC_RELAXED);
		if (said != gen && __atomic_compare_exchange_n(&gm_marker_said[id], &said, gen, 0,
		                                               __ATOMIC_RELAXED, __ATOMIC_RELAXED))
			gm_thread_put_var(t, gm_rec_frame_set, id, strlen(gm_marker_sets[id]),
			                  gm_marker_sets[id], strlen(gm_marker_sets[id]));
		gm_thread_put(t, gm_rec_w0(n, gm_rec_frame, id), 0);
	}
}

/* A fork child's capture needs the set names again. */
void gm_marker_new_session(void)
{
	__atomic_add_fetch(&gm_marker_gen, 1, __ATOMIC_RELAXED);
}

GMTRACE_API int gmtrace_enabled(void)
{
	return __atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED);
}

extern uint64_t gm_hook_self_allocs;

GMTRACE_API uint64_t gmtrace_self_allocations(void)
{
	return __atomic_load_n(&gm_hook_self_allocs, __ATOMIC_RELAXED) + gm_mem_allocations();
}

GMTRACE_API uint64_t gmtrace_footprint_bytes(void)
{
	/* the chunks in use: the room to grow has no pages */
	uint64_t ring = gm_session_log.hdr ? gm_session_log.hdr->payload_offset +
	                                             (uint64_t)gm_ring_nchunks(&gm_session_log) *
	                                                     gm_session_log.hdr->chunk_bytes :
	                                     0;
	return ring + gm_mem_resident_bytes();
}

/* ---- tags, assets, scenes (record/context.c does the work) -------------- */

GMTRACE_API uint32_t gmtrace_tag_id(const char *name)
{
	return gm_context_tag_id(&gm_thread_self, name);
}

GMTRACE_API void gmtrace_tag_push(const char *name)
{
	gm_thread_t *t = &gm_thread_self;
	uint32_t id = gm_context_tag_id(t, name);
	/* a NULL or empty name is one null_name, not also an unknown tag */
	gm_context_tag_push_said(t, id, id == 0 && (!name || !*name));
}

GMTRACE_API void gmtrace_tag_push_id(uint32_t tag)
{
	gm_context_tag_push(&gm_thread_self, tag);
}

GMTRACE_API void gmtrace_tag_pop(void)
{
	gm_context_tag_pop(&gm_thread_self);
}

GMTRACE_API uint64_t gmtrace_asset_load_begin(const char *name, const char *type)
{
	return gm_context_asset_load_begin(&gm_thread_self, name, type);
}

GMTRACE_API void gmtrace_asset_load_end(uint64_t asset, int ok)
{
	gm_context_asset_load_end(&gm_thread_self, asset, ok);
}

GMTRACE_API void gmtrace_asset_attach(uint64_t asset)
{
	gm_context_asset_attach(&gm_thread_self, asset);
}

GMTRACE_API void gmtrace_asset_detach(uint64_t asset)
{
	gm_context_asset_detach(&gm_thread_self, asset);
}

GMTRACE_API void gmtrace_asset_ref(uint64_t asset)
{
	gm_context_asset_ref(&gm_thread_self, asset, 1);
}

GMTRACE_API void gmtrace_asset_release(uint64_t asset)
{
	gm_context_asset_ref(&gm_thread_self, asset, 0);
}

GMTRACE_API void gmtrace_asset_touch(uint64_t asset)
{
	gm_context_asset_touch(&gm_thread_self, asset);
}

GMTRACE_API void gmtrace_asset_unload_begin(uint64_t asset)
{
	gm_context_asset_unload_begin(&gm_thread_self, asset);
}

GMTRACE_API void gmtrace_asset_unload_end(uint64_t asset)
{
	gm_context_asset_unload_end(&gm_thread_self, asset);
}

GMTRACE_API void gmtrace_asset_unload(uint64_t asset)
{
	gm_context_asset_unload_begin(&gm_thread_self, asset);
	gm_context_asset_unload_end(&gm_thread_self, asset);
}

GMTRACE_API void gmtrace_asset_extra_bytes(uint64_t asset, uint64_t bytes)
{
	gm_context_asset_extra(&gm_thread_self, asset, bytes);
}

GMTRACE_API void gmtrace_scene_begin(const char *name)
{
	gm_context_scene(&gm_thread_self, name);
}

/* ---- pools and garbage collection (record/pool.c) ------------------------ */

GMTRACE_API uint32_t gmtrace_pool_create(const char *name, uint64_t object_size, uint64_t capacity)
{
	return gm_pool_create(&gm_thread_self, name, object_size, capacity);
}

GMTRACE_API void gmtrace_pool_acquire(uint32_t pool, int from_pool)
{
	gm_pool_call(&gm_thread_self, pool, 1, from_pool != 0);
}

GMTRACE_API void gmtrace_pool_release(uint32_t pool, int to_pool)
{
	gm_pool_call(&gm_thread_self, pool, 0, to_pool != 0);
}

GMTRACE_API void gmtrace_pool_resize(uint32_t pool, uint64_t capacity)
{
	gm_pool_resize(&gm_thread_self, pool, capacity);
}

GMTRACE_API void gmtrace_pool_destroy(uint32_t pool)
{
	gm_pool_destroy(&gm_thread_self, pool);
}

GMTRACE_API void gmtrace_gc(int generation, uint64_t duration_ns, uint64_t collected,
                            uint64_t uncollectable)
{
	gm_pool_gc(&gm_thread_self, generation, duration_ns, collected, uncollectable);
}

/* ---- budgets (budget/budget.c) ----------------------------------------- */

GMTRACE_API uint32_t gmtrace_budget_define(const char *name, const char *parent, uint64_t soft,
                                           uint64_t hard)
{
	return gm_budget_define(&gm_thread_self, name, parent, soft, hard);
}

GMTRACE_API int gmtrace_budget_bind_tag(uint32_t node, const char *tag)
{
	return gm_budget_bind_tag(&gm_thread_self, node, tag);
}

GMTRACE_API int gmtrace_budget_bind_type(uint32_t node, const char *type)
{
	return gm_budget_bind_type(&gm_thread_self, node, type);
}

GMTRACE_API int gmtrace_budget_policy(uint32_t node, int policy, uint64_t target, int strict)
{
	return gm_budget_set_policy(&gm_thread_self, node, policy, target, strict);
}

GMTRACE_API int gmtrace_budget_evictor(uint32_t node, gmtrace_evict_fn fn, void *user)
{
	return gm_budget_set_evictor(&gm_thread_self, node, fn, user);
}

GMTRACE_API int gmtrace_budget_evictor_type(const char *type, gmtrace_evict_fn fn, void *user)
{
	return gm_budget_set_type_evictor(&gm_thread_self, type, fn, user);
}

GMTRACE_API uint32_t gmtrace_budget_find(const char *name)
{
	return gm_budget_find(name);
}

GMTRACE_API size_t gmtrace_budget_snapshot(gmtrace_budget_node_t *nodes, size_t max_nodes,
                                           gmtrace_budget_asset_t *assets, size_t max_assets,
                                           size_t *nassets)
{
	return gm_budget_snapshot(nodes, max_nodes, assets, max_assets, nassets);
}

GMTRACE_API void gmtrace_asset_priority(uint64_t asset, int priority)
{
	gm_budget_asset_priority(&gm_thread_self, asset, priority);
}

GMTRACE_API void gmtrace_asset_pin(uint64_t asset, int pinned)
{
	gm_budget_asset_pin(&gm_thread_self, asset, pinned);
}

GMTRACE_API void gmtrace_budget_violation_callback(gmtrace_budget_violation_fn fn, void *user)
{
	gm_budget_set_alert(fn, user);
}

static const gmtrace_api_t gm_marker_api = {
        .abi = GMTRACE_ABI,
        .bytes = sizeof(gmtrace_api_t),
        .frame_mark = gmtrace_frame_mark,
        .frame_mark_n = gmtrace_frame_mark_n,
        .enabled = gmtrace_enabled,
        .self_allocations = gmtrace_self_allocations,
        .footprint_bytes = gmtrace_footprint_bytes,
        .tick = gmtrace_tick,
        .level_set = gmtrace_level_set,
        .spike_callback = gmtrace_spike_callback,
        .tag_id = gmtrace_tag_id,
        .tag_push = gmtrace_tag_push,
        .tag_push_id = gmtrace_tag_push_id,
        .tag_pop = gmtrace_tag_pop,
        .asset_load_begin = gmtrace_asset_load_begin,
        .asset_load_end = gmtrace_asset_load_end,
        .asset_attach = gmtrace_asset_attach,
        .asset_detach = gmtrace_asset_detach,
        .asset_ref = gmtrace_asset_ref,
        .asset_release = gmtrace_asset_release,
        .asset_touch = gmtrace_asset_touch,
        .asset_unload_begin = gmtrace_asset_unload_begin,
        .asset_unload_end = gmtrace_asset_unload_end,
        .asset_extra_bytes = gmtrace_asset_extra_bytes,
        .scene_begin = gmtrace_scene_begin,
        .pool_create = gmtrace_pool_create,
        .pool_acquire = gmtrace_pool_acquire,
        .pool_release = gmtrace_pool_release,
        .pool_resize = gmtrace_pool_resize,
        .pool_destroy = gmtrace_pool_destroy,
        .gc = gmtrace_gc,
        .budget_define = gmtrace_budget_define,
        .budget_bind_tag = gmtrace_budget_bind_tag,
        .budget_bind_type = gmtrace_budget_bind_type,
        .budget_policy = gmtrace_budget_policy,
        .budget_evictor = gmtrace_budget_evictor,
        .budget_evictor_type = gmtrace_budget_evictor_type,
        .budget_find = gmtrace_budget_find,
        .budget_snapshot = gmtrace_budget_snapshot,
        .asset_priority = gmtrace_asset_priority,
        .asset_pin = gmtrace_asset_pin,
        .budget_violation_callback = gmtrace_budget_violation_callback,
};

GMTRACE_API const gmtrace_api_t *gmtrace_api_get(uint32_t abi)
{
	/* a game built for a newer ABI than this library must not call
	 * entries that are not here: it gets no table and runs as without */
	if (abi > GMTRACE_ABI)
		return NULL;
	return &gm_marker_api;
}

/* budget.h - hierarchical memory budgets, enforced while the game runs
 *
 * A budget tree (total > assets > textures ...) where every node has a soft
 * limit (evict down to a target at the next frame end), a hard limit (never
 * exceeded: evict inside the allocation, then fail as the device would in
 * strict mode, or allow it and record a violation in soft mode) and the
 * tags and asset types bound to it. Allocations made under a bound tag or
 * asset are served by the node's heap (budget/heap.c), so a node's live
 * bytes are known exactly, in real time, lock-free (one atomic add per
 * allocation and free, up the tree), including frees on other threads.
 *
 * Eviction picks among the node's resident assets with no reference and no
 * pin (LRU, LFU, largest, or game priority) and calls the game's evictor,
 * which unloads the asset. An evictor may free, allocate and call the
 * marker API; one that frees nothing is recorded and skipped.
 */
#ifndef GM_BUDGET_H
#define GM_BUDGET_H

#include <stddef.h>
#include <stdint.h>

#include "../include/gmtrace.h"
#include "../record/thread.h"

/* Read GMTRACE_PLATFORM (a profile's banks and budget tree) or else
 * GMTRACE_BUDGETS, and make the nodes; warns once and runs without budgets
 * on a bad file. Called by the session at start. */
void gm_budget_start(gm_thread_t *t);

/* Node + 1 of the default bank (a platform's main memory): serves what no
 * tag or type binds, on every thread (0: none). */
extern uint32_t gm_budget_default;

/* Node + 1 for a context: the asset type's node if any, else the tag's
 * (the longest bound prefix of its name); 0 when neither is bound. */
uint32_t gm_budget_route(uint32_t tag, uint32_t asset_node);

/* Node + 1 bound to a tag (the longest bound prefix of its name); 0: none
 * (the default bank is no tag's). */
uint32_t gm_budget_node_for_tag(uint32_t tag);

/* Node + 1 an asset type is bound to (0: none). */
uint32_t gm_budget_node_for_type(const char *type, size_t len);

/* A tag was interned: work out its node from the bindings. */
void gm_budget_tag_added(uint32_t tag, const char *name, size_t len);

/* gm_budget_alloc's answer when the process's allocator must serve it. */
#define GM_BUDGET_UNHANDLED ((void *)1)

/* Allocation under node (node + 1 as in gm_context_node_now): reserve the
 * bytes up the tree (evicting, failing or violating at a hard limit), then
 * serve from the node's heap. Returns the block, or NULL with errno ENOMEM
 * as the device would, or GM_BUDGET_UNHANDLED (no heap for the node, or its
 * heap full in soft mode: the caller uses the process's allocator). */
void *gm_budget_alloc(gm_thread_t *t, uint32_t node, size_t n, size_t align, int zero);

/* realloc of a heap block (stays in its node). GM_BUDGET_UNHANDLED when
 * its heap is full in soft mode: the caller moves the block to the
 * process's allocator (and gives this one back with gm_budget_free). */
void *gm_budget_realloc(gm_thread_t *t, void *p, size_t n);

/* free of a heap block: give its bytes back up the tree. */
void gm_budget_free(void *p);

/* Frame end: evict nodes over their soft limit, write each node's live and
 * peak bytes. Called outside the frame lock. */
void gm_budget_frame(gm_thread_t *t, uint64_t frame);

/* At the session's end: when no frame ended, each node's point for the
 * whole run (as frame 1). */
void gm_budget_exit(gm_thread_t *t);

/* The born_evict of an asset defined now: the number of the allocation or
 * frame end whose eviction's evictor loads it (a lower-detail
 * replacement), whose evictions do not take it as a victim; 0 outside an
 * eviction. */
uint64_t gm_budget_born_in(void);

/* Marker API (include/gmtrace.h). */
uint32_t gm_budget_define(gm_thread_t *t, const char *name, const char *parent, uint64_t soft,
                          uint64_t hard);
int gm_budget_bind_tag(gm_thread_t *t, uint32_t node, const char *tag);
int gm_budget_bind_type(gm_thread_t *t, uint32_t node, const char *type);
int gm_budget_set_policy(gm_thread_t *t, uint32_t node, int policy, uint64_t target, int strict);
int gm_budget_set_evictor(gm_thread_t *t, uint32_t node, gmtrace_evict_fn fn, void *user);
int gm_budget_set_type_evictor(gm_thread_t *t, const char *type, gmtrace_evict_fn fn, void *user);
uint32_t gm_budget_find(const char *name);
size_t gm_budget_snapshot(gmtrace_budget_node_t *nodes, size_t max_nodes,
                          gmtrace_budget_asset_t *assets, size_t max_assets, size_t *nassets);
void gm_budget_asset_priority(gm_thread_t *t, uint64_t asset, int priority);
void gm_budget_asset_pin(gm_thread_t *t, uint64_t asset, int pinned);

/* The game's violation callback (NULL: none). */
void gm_budget_set_alert(gmtrace_budget_violation_fn fn, void *user);

#endif

/* context.h - tags, assets and scenes: what a thread is working for
 *
 * Each thread has a stack of tags and a stack of assets (load scopes,
 * attach/detach, unload scopes). When the innermost pair changes, one
 * gm_rec_context record says so; every allocation after it on that thread
 * belongs to that tag and asset. Tag names are interned once per process
 * (a lock-free open-addressing table); assets live in a paged table that
 * keeps each one's lifecycle state, reference count and last touch, so
 * wrong calls can be caught and recorded as validation events. Nothing
 * here ever crashes on bad input.
 */
#ifndef GM_CONTEXT_H
#define GM_CONTEXT_H

#include <stdint.h>

#include "thread.h"

#define GM_CONTEXT_DEPTH 32 /* nesting of tags, and of assets, per thread */

/* One asset's state in the game process. */
typedef struct gm_asset {
	uint32_t state;      /* gm_asset_state_t (atomic) */
	int32_t refs;        /* references held (atomic) */
	uint64_t last_touch; /* frame of the last touch, UINT64_MAX: none (atomic) */
	uint64_t extra;      /* declared bytes the heap cannot see */
	uint32_t gen;        /* session that last recorded its definition */
	uint16_t name_len, type_len;
	char *text;       /* name, NUL, type, NUL (private arena) */
	uint64_t bytes;   /* bytes allocated in its scopes (atomic) */
	uint64_t touches; /* frames it was touched in (atomic) */
	int32_t priority; /* game-given; lowest goes first (priority policy) */
	uint8_t pinned;   /* never evicted */
	uint8_t node;     /* budget node + 1 of its type, else of the tag it was
	                     loaded under (0: none) */
	uint16_t pad;
	uint32_t evicting;   /* 1 while an evictor works on it (atomic) */
	uint64_t freed_away; /* budget heap bytes of its blocks that threads
	                         other than its evictor's freed while the evictor
	                         ran (atomic; budget/budget.c) */
	uint64_t id;
	uint64_t stuck_frame; /* its evictor freed nothing in frame stuck_frame - 1 */
	uint64_t born_evict;  /* the eviction call whose evictor defined it, 0: none */
	uint64_t touch_said;  /* frame of the last touch record, UINT64_MAX: none
	                         (the frames level records one per 60 frames; the
	                         policies read last_touch and touches, every frame's) */
} gm_asset_t;

/* This thread's innermost asset (NULL: none) and budget node + 1 (0: none):
 * what its allocations are attributed to and where they are served from. */
extern __thread gm_asset_t *gm_context_asset_now __attribute__((tls_model("initial-exec")));
extern __thread uint32_t gm_context_node_now __attribute__((tls_model("initial-exec")));

/* Tags interned so far (ids 1..n), and the name of one (NULL if none). */
uint32_t gm_context_tag_count(void);
const char *gm_context_tag_name(uint32_t id, size_t *len);

/* Around an evictor: no tag and no asset while it runs, then back. */
void gm_context_neutral_push(gm_thread_t *t);
void gm_context_neutral_pop(gm_thread_t *t);
/* The thread's scope depths (tags, assets), and back to depths taken
 * before: the scopes opened since are dropped (an evictor's that a C++
 * exception left open). */
uint64_t gm_context_depths(void);
void gm_context_unwind(gm_thread_t *t, uint64_t depths);

/* Work out this thread's budget node again (bindings changed). */
void gm_context_refresh(void);

/* Number of asset ids handed out + 1 (for scans: ids 1 .. n-1). */
uint64_t gm_context_asset_limit(void);

/* A validation record (gm_valid_t code about subject), while this process
 * records and the thread is not inside gmtrace. */
void gm_context_valid(gm_thread_t *t, uint64_t subject, unsigned code, uint64_t detail);

/* Interned id of a tag name (0 for NULL/empty, with a validation record). */
uint32_t gm_context_tag_id(gm_thread_t *t, const char *name);
/* Push tag (an id nobody interned is an unknown_tag validation, and "no
 * tag" is pushed so the pop pairs); with said, an unknown id is pushed as
 * "no tag" without the validation: a name gm_context_tag_id refused and
 * reported already. */
void gm_context_tag_push(gm_thread_t *t, uint32_t tag);
void gm_context_tag_push_said(gm_thread_t *t, uint32_t tag, int said);
void gm_context_tag_pop(gm_thread_t *t);

uint64_t gm_context_asset_load_begin(gm_thread_t *t, const char *name, const char *type);
void gm_context_asset_load_end(gm_thread_t *t, uint64_t id, int ok);
void gm_context_asset_attach(gm_thread_t *t, uint64_t id);
void gm_context_asset_detach(gm_thread_t *t, uint64_t id);
void gm_context_asset_ref(gm_thread_t *t, uint64_t id, int add);
void gm_context_asset_touch(gm_thread_t *t, uint64_t id);
void gm_context_asset_unload_begin(gm_thread_t *t, uint64_t id);
void gm_context_asset_unload_end(gm_thread_t *t, uint64_t id);
void gm_context_asset_extra(gm_thread_t *t, uint64_t id, uint64_t bytes);
/* Load and unload scopes of this thread's that another thread ended (its
 * load_end or unload_end called there) leave the stack, innermost first;
 * returns 1 when the innermost asset changed. Called where an allocation
 * in an asset's scope is attributed. */
int gm_context_scope_check(gm_thread_t *t);
void gm_context_scene(gm_thread_t *t, const char *name);

/* The asset with this id, or NULL. */
gm_asset_t *gm_context_asset(uint64_t id);

/* Write this thread's current context again (its stream starts anew: a
 * fork child's first record). */
void gm_context_restate(gm_thread_t *t);

/* A new session (fork child): definitions are recorded again on next use. */
void gm_context_new_session(void);

#endif

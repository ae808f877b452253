/* budget.c - budget tree, limits, heaps per node, eviction */
#define _GNU_SOURCE
#include "budget.h"
#include "owner.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../log/format.h"
#include "../record/context.h"
#include "../record/event.h"
#include "../record/session.h"
#include "../support/support.h"
#include "budgetfile.h"
#include "heap.h"
#include "platforms/profile.h"

/* An evictor and its user pointer, which a game may replace while other
 * threads evict: two slots, the current one gen & 1. A new pair is written
 * into the other slot, then gen moves on; a reader takes gen, the slot's
 * pair, and gen again, and reads again if it moved. So no thread calls one
 * evictor with another's user pointer, and a reader never waits for a
 * writer: a signal handler that allocates (and evicts) while its thread
 * is in the middle of setting an evictor reads the pair before it. */
typedef struct gm_budget_evict {
	uint32_t gen;
	uint32_t writing; /* one writer at a time (a flag, not gm_budget_lock) */
	struct {
		gmtrace_evict_fn fn;
		void *user;
	} slot[2];
} gm_budget_evict_t;

typedef struct gm_budget_node {
	char name[64];
	int32_t parent; /* index, -1 for a root */
	uint64_t soft, hard, target;
	int policy;
	int strict;         /* -1: the process's mode */
	int64_t live;       /* atomic; children included */
	int64_t peak;       /* atomic max of live */
	int64_t frame_peak; /* atomic max of live since the last frame end */
	int heap;           /* heap index, -1: none */
	uint64_t capacity;  /* of the heap: its bank */
	gm_budget_evict_t evict;
	uint64_t evictions, violations, failures; /* atomic */
	int redefined_said;                       /* a different definition was warned about */
} gm_budget_node_t;

#define GM_BUDGET_TAGS 32769
#define GM_BUDGET_MAX_VICTIMS 4096 /* evictions tried by one call at most */

static gm_budget_node_t gm_budget_nodes[GM_BUDGET_MAX_NODES];
static uint32_t gm_budget_n;        /* nodes defined (atomic, append only) */
static int gm_budget_heapless_said; /* the no-heap warning was given (atomic) */
static int gm_budget_on_platform;   /* the nodes are a platform profile's (atomic) */
uint32_t gm_budget_default;         /* node + 1 of the default bank (0: none) */
static int gm_budget_mode_strict;
static int gm_budget_lock;                         /* definitions and bindings */
static uint8_t gm_budget_tag_node[GM_BUDGET_TAGS]; /* tag id -> node + 1 */
static uint8_t gm_budget_heap_node[GM_HEAP_MAX];   /* heap -> node */
#define GM_BUDGET_TAG_BINDS 256                    /* tag prefixes bound to nodes */
#define GM_BUDGET_TYPES 64                         /* asset types bound to nodes or evictors */
static struct {
	char prefix[128];
	uint8_t node; /* + 1 */
} gm_budget_tag_binds[GM_BUDGET_TAG_BINDS];
static uint32_t gm_budget_ntag_binds;
static struct {
	char type[64];
	uint8_t node; /* + 1 */
	gm_budget_evict_t evict;
} gm_budget_types[GM_BUDGET_TYPES];
static uint32_t gm_budget_ntypes;
static __thread int gm_budget_evicting __attribute__((tls_model("initial-exec")));
/* budget heap bytes this thread freed minus those it allocated: an
 * eviction's reclaimed bytes are what its evictor gave back, whatever other
 * threads allocate meanwhile */
static __thread int64_t gm_budget_freed_here __attribute__((tls_model("initial-exec")));
/* the asset whose evictor this thread runs, 0: none. An evictor may have
 * another thread free the asset's blocks (an engine's resource thread,
 * waited for): those bytes are counted on the asset (freed_away) and are
 * the eviction's too */
static __thread uint64_t gm_budget_running_here __attribute__((tls_model("initial-exec")));

static void gm_budget_spin(void)
{
	while (__atomic_exchange_n(&gm_budget_lock, 1, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

static void gm_budget_unspin(void)
{
	__atomic_store_n(&gm_budget_lock, 0, __ATOMIC_RELEASE);
}

/* A limit as given (0: none), or none for one no live count can reach
 * (2^63 bytes or more: UINT64_MAX as "unlimited", say), which as a signed
 * count would be below every other. */
static uint64_t gm_budget_limit(uint64_t limit)
{
	return limit > (uint64_t)INT64_MAX ? 0 : limit;
}

/* Set e to fn and user. Writers take turns by a flag; one that finds it
 * taken for long (its own thread interrupted in the middle of a set, by a
 * signal handler that sets one too) goes on: at worst two racing sets
 * leave one of the two pairs, never a wait without end. */
static void gm_budget_evict_set(gm_budget_evict_t *e, gmtrace_evict_fn fn, void *user)
{
	uint32_t gen;
	int held = 0;
	for (int spins = 0; spins < 100000; spins++) {
		uint32_t free_flag = 0;
		if (__atomic_compare_exchange_n(&e->writing, &free_flag, 1, 0, __ATOMIC_ACQUIRE,
		                                __ATOMIC_RELAXED)) {
			held = 1;
			break;
		}
		__builtin_ia32_pause();
	}
	gen = __atomic_load_n(&e->gen, __ATOMIC_RELAXED);
	__atomic_store_n(&e->slot[(gen + 1) & 1].fn, fn, __ATOMIC_RELAXED);
	__atomic_store_n(&e->slot[(gen + 1) & 1].user, user, __ATOMIC_RELAXED);
	__atomic_store_n(&e->gen, gen + 1, __ATOMIC_RELEASE);
	if (held)
		__atomic_store_n(&e->writing, 0, __ATOMIC_RELEASE);
}

/* e's evictor, its user pointer in *user: a pair set together. Reads
 * again while gen moves under it (two sets in that time could have
 * rewritten the slot it read), a few times at most: never waits. */
static gmtrace_evict_fn gm_budget_evict_get(gm_budget_evict_t *e, void **user)
{
	gmtrace_evict_fn fn;
	void *u;
	for (int tries = 0;; tries++) {
		uint32_t g0 = __atomic_load_n(&e->gen, __ATOMIC_ACQUIRE), g1;
		fn = __atomic_load_n(&e->slot[g0 & 1].fn, __ATOMIC_RELAXED);
		u = __atomic_load_n(&e->slot[g0 & 1].user, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		g1 = __atomic_load_n(&e->gen, __ATOMIC_RELAXED);
		if (g1 == g0 || tries >= 8)
			break;
	}
	*user = u;
	return fn;
}

static int gm_budget_on(gm_thread_t *t)
{
	return __atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED) && !t->busy;
}

static void gm_budget_valid(gm_thread_t *t, uint64_t subject, unsigned code, uint64_t detail)
{
	if (gm_budget_on(t))
		gm_thread_put(t, gm_rec_w0(subject, gm_rec_validation, code), detail);
}

/* 1 when name fits a field of cap bytes (its NUL included); else 0, with
 * the validation format.h describes: null_name with detail 0 for NULL and
 * 1 for empty, long_name with the name's length. */
static int gm_budget_name_ok(gm_thread_t *t, uint64_t subject, const char *name, size_t cap)
{
	size_t n;
	if (!name || !*name) {
		gm_budget_valid(t, subject, gm_valid_null_name, name ? 1 : 0);
		return 0;
	}
	if ((n = strlen(name)) >= cap) {
		gm_budget_valid(t, subject, gm_valid_long_name, n);
		return 0;
	}
	return 1;
}

static int gm_budget_strict(uint32_t idx)
{
	int s = gm_budget_nodes[idx].strict;
	return s >= 0 ? s : gm_budget_mode_strict;
}

/* ---- routing ------------------------------------------------------------- */

uint32_t gm_budget_route(uint32_t tag, uint32_t asset_node)
{
	uint32_t node;
	if (asset_node)
		return asset_node;
	node = tag < GM_BUDGET_TAGS ? gm_budget_tag_node[tag] : 0;
	return node ? node : __atomic_load_n(&gm_budget_default, __ATOMIC_RELAXED);
}

uint32_t gm_budget_node_for_tag(uint32_t tag)
{
	return tag < GM_BUDGET_TAGS ? __atomic_load_n(&gm_budget_tag_node[tag], __ATOMIC_RELAXED) :
	                              0;
}

uint32_t gm_budget_node_for_type(const char *type, size_t len)
{
	uint32_t i, n = __atomic_load_n(&gm_budget_ntypes, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++)
		if (strlen(gm_budget_types[i].type) == len &&
		    memcmp(gm_budget_types[i].type, type, len) == 0)
			return gm_budget_types[i].node;
	return 0;
}

/* The node of a tag name: the longest bound prefix ("render" binds
 * "render/textures" too); 0 when none. */
static uint8_t gm_budget_tag_match(const char *name, size_t len)
{
	uint32_t i;
	size_t best = 0;
	uint8_t node = 0;
	for (i = 0; i < gm_budget_ntag_binds; i++) {
		size_t pl = strlen(gm_budget_tag_binds[i].prefix);
		if (pl > len || memcmp(gm_budget_tag_binds[i].prefix, name, pl) != 0)
			continue;
		if (pl < len && name[pl] != '/')
			continue;
		if (pl >= best) {
			best = pl;
			node = gm_budget_tag_binds[i].node;
		}
	}
	return node;
}

void gm_budget_tag_added(uint32_t tag, const char *name, size_t len)
{
	if (tag < GM_BUDGET_TAGS && gm_budget_ntag_binds)
		__atomic_store_n(&gm_budget_tag_node[tag], gm_budget_tag_match(name, len),
		                 __ATOMIC_RELEASE);
}

/* ---- definitions ----------------------------------------------------------- */

static void gm_budget_record_node(gm_thread_t *t, uint32_t idx)
{
	gm_budget_node_t *b = &gm_budget_nodes[idx];
	char buf[48 + 64];
	uint64_t w[6];
	size_t len = strlen(b->name);
	w[0] = b->parent < 0 ? 0xffffffffull : (uint64_t)b->parent + 1;
	w[1] = b->soft;
	w[2] = b->hard;
	w[3] = b->target;
	w[4] = (uint64_t)b->policy | ((uint64_t)(gm_budget_strict(idx) & 1) << 8);
	w[5] = b->heap >= 0 ? b->capacity : 0;
	memcpy(buf, w, sizeof(w));
	memcpy(buf + sizeof(w), b->name, len);
	if (gm_budget_on(t))
		gm_thread_put_var(t, gm_rec_budget_node, idx + 1, len, buf, sizeof(w) + len);
}

uint32_t gm_budget_find(const char *name)
{
	uint32_t i, n = __atomic_load_n(&gm_budget_n, __ATOMIC_ACQUIRE);
	if (!name)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(gm_budget_nodes[i].name, name) == 0)
			return i + 1;
	return 0;
}

/* A node; capacity 0 gives it a heap as large as a slot (its limits are
 * enforced by exact counts), else a heap of that capacity: a memory bank,
 * where fragmentation counts as on the device. */
static uint32_t gm_budget_define_in(gm_thread_t *t, const char *name, const char *parent,
                                    uint64_t soft, uint64_t hard, uint64_t capacity)
{
	uint32_t idx, pid = 0;
	gm_budget_node_t *b;
	soft = gm_budget_limit(soft);
	hard = gm_budget_limit(hard);
	if (!gm_budget_name_ok(t, 0, name, sizeof(b->name)))
		return 0;
	if (parent && *parent && !(pid = gm_budget_find(parent))) {
		gm_budget_valid(t, 0, gm_valid_unknown_node, 0);
		return 0;
	}
	/* under a platform all of a game's memory is in its banks: a node the
	 * game makes a root is the default bank's child, else its bytes would
	 * escape every bank's limit (a strict 64 MiB device held 96 MiB) */
	if (!pid && !capacity && __atomic_load_n(&gm_budget_on_platform, __ATOMIC_ACQUIRE))
		pid = __atomic_load_n(&gm_budget_default, __ATOMIC_ACQUIRE);
	gm_budget_spin();
	if ((idx = gm_budget_find(name)) != 0) {
		/* defined already (each level load may define it again): the
		 * first definition stays; other limits or another parent are
		 * said, once per node, as the game's own would be lost unseen
		 * under a platform profile that has a node of that name */
		int same, warn;
		b = &gm_budget_nodes[idx - 1];
		same = b->parent == (pid ? (int32_t)pid - 1 : -1) && b->soft == soft &&
		       b->hard == hard;
		warn = !same && !b->redefined_said;
		if (warn)
			b->redefined_said = 1;
		gm_budget_unspin();
		if (!same)
			gm_budget_valid(t, idx, gm_valid_node_redefined, hard);
		if (warn)
			gm_support_warn("budget \"", b->name,
			                "\" is defined already (by the platform profile or an "
			                "earlier call): its first limits and parent stay");
		return idx;
	}
	idx = __atomic_load_n(&gm_budget_n, __ATOMIC_RELAXED);
	if (idx >= GM_BUDGET_MAX_NODES) {
		gm_budget_unspin();
		gm_budget_valid(t, 0, gm_valid_stack_overflow, GM_BUDGET_MAX_NODES);
		return 0;
	}
	b = &gm_budget_nodes[idx];
	memset(b, 0, sizeof(*b));
	gm_support_strlcpy(b->name, name, sizeof(b->name));
	b->parent = pid ? (int32_t)pid - 1 : -1;
	b->soft = soft;
	b->hard = hard;
	b->target = soft;
	b->strict = -1;
	b->heap = -1;
	/* every node gets a heap: its allocations and frees are then counted
	 * exactly (free finds the heap by address). The limits are enforced by
	 * those counts; the heap itself is as large as a slot, so neither
	 * jemalloc's own metadata (it takes the first 2 MiB) nor fragmentation
	 * makes a node fail before its limits. A platform's bank sets a real
	 * capacity: then fragmentation counts as on the device. */
	b->capacity =
	        capacity && capacity < GM_BUDGET_MAX_CAPACITY ? capacity : GM_BUDGET_MAX_CAPACITY;
	if (gm_heap_reserve(GM_HEAP_MAX, GM_BUDGET_MAX_CAPACITY) == 0 &&
	    gm_heap_create(idx, b->capacity) == 0) {
		b->heap = (int)idx;
		gm_budget_heap_node[idx] = (uint8_t)idx;
	} else if (!__atomic_exchange_n(&gm_budget_heapless_said, 1, __ATOMIC_RELAXED)) {
		/* a free finds its node by the heap's address: without heaps
		 * nothing is counted, so nothing can be enforced (the capture's
		 * node records say heap_capacity 0; gmtrace budgets --check
		 * fails on them) */
		gm_support_warn("budget \"", b->name,
		                "\" has no heap: the budgets' heaps (8 TiB of address space, "
		                "reserved, never touched) could not be set up (a lower RLIMIT_AS, "
		                "ulimit -v?), so its limits are not enforced in this run, nor "
		                "those of any node without one; gmtrace platforms still checks "
		                "the capture");
	}
	__atomic_store_n(&gm_budget_n, idx + 1, __ATOMIC_RELEASE);
	gm_budget_unspin();
	gm_budget_record_node(t, idx);
	return idx + 1;
}

uint32_t gm_budget_define(gm_thread_t *t, const char *name, const char *parent, uint64_t soft,
                          uint64_t hard)
{
	return gm_budget_define_in(t, name, parent, soft, hard, 0);
}

int gm_budget_bind_tag(gm_thread_t *t, uint32_t node, const char *tag)
{
	uint32_t i, ntags;
	if (node == 0 || node > __atomic_load_n(&gm_budget_n, __ATOMIC_ACQUIRE)) {
		gm_budget_valid(t, node, gm_valid_unknown_node, 0);
		return -1;
	}
	if (!gm_budget_name_ok(t, node, tag, sizeof(gm_budget_tag_binds[0].prefix)))
		return -1;
	gm_budget_spin();
	if (gm_budget_ntag_binds == GM_BUDGET_TAG_BINDS) {
		gm_budget_unspin();
		gm_budget_valid(t, node, gm_valid_stack_overflow, GM_BUDGET_TAG_BINDS);
		return -1;
	}
	gm_support_strlcpy(gm_budget_tag_binds[gm_budget_ntag_binds].prefix, tag, 128);
	gm_budget_tag_binds[gm_budget_ntag_binds].node = (uint8_t)node;
	gm_budget_ntag_binds++;
	/* tags interned before the binding */
	ntags = gm_context_tag_count();
	for (i = 1; i <= ntags && i < GM_BUDGET_TAGS; i++) {
		size_t len;
		const char *name = gm_context_tag_name(i, &len);
		if (name)
			__atomic_store_n(&gm_budget_tag_node[i], gm_budget_tag_match(name, len),
			                 __ATOMIC_RELEASE);
	}
	gm_budget_unspin();
	gm_context_refresh();
	return 0;
}

static int gm_budget_type_slot(const char *type)
{
	uint32_t i;
	for (i = 0; i < gm_budget_ntypes; i++)
		if (strcmp(gm_budget_types[i].type, type) == 0)
			return (int)i;
	if (gm_budget_ntypes == GM_BUDGET_TYPES)
		return -1;
	memset(&gm_budget_types[gm_budget_ntypes], 0, sizeof(gm_budget_types[0]));
	gm_support_strlcpy(gm_budget_types[gm_budget_ntypes].type, type, 64);
	__atomic_store_n(&gm_budget_ntypes, gm_budget_ntypes + 1, __ATOMIC_RELEASE);
	return (int)gm_budget_ntypes - 1;
}

int gm_budget_bind_type(gm_thread_t *t, uint32_t node, const char *type)
{
	int slot;
	if (node == 0 || node > __atomic_load_n(&gm_budget_n, __ATOMIC_ACQUIRE)) {
		gm_budget_valid(t, node, gm_valid_unknown_node, 0);
		return -1;
	}
	if (!gm_budget_name_ok(t, node, type, sizeof(gm_budget_types[0].type)))
		return -1;
	gm_budget_spin();
	slot = gm_budget_type_slot(type);
	if (slot >= 0)
		gm_budget_types[slot].node = (uint8_t)node;
	gm_budget_unspin();
	if (slot < 0)
		gm_budget_valid(t, node, gm_valid_stack_overflow, GM_BUDGET_TYPES);
	return slot >= 0 ? 0 : -1;
}

int gm_budget_set_policy(gm_thread_t *t, uint32_t node, int policy, uint64_t target, int strict)
{
	gm_budget_node_t *b;
	if (node == 0 || node > __atomic_load_n(&gm_budget_n, __ATOMIC_ACQUIRE)) {
		gm_budget_valid(t, node, gm_valid_unknown_node, 0);
		return -1;
	}
	if (policy < 0 || policy >= gm_budget_policy_count) {
		gm_budget_valid(t, node, gm_valid_bad_policy, (uint64_t)(uint32_t)policy);
		return -1;
	}
	b = &gm_budget_nodes[node - 1];
	b->policy = policy;
	target = gm_budget_limit(target);
	b->target = target ? target : b->soft;
	b->strict = strict < 0 ? -1 : strict != 0;
	gm_budget_record_node(t, node - 1);
	return 0;
}

int gm_budget_set_evictor(gm_thread_t *t, uint32_t node, gmtrace_evict_fn fn, void *user)
{
	gm_budget_node_t *b;
	if (node == 0 || node > __atomic_load_n(&gm_budget_n, __ATOMIC_ACQUIRE)) {
		gm_budget_valid(t, node, gm_valid_unknown_node, 0);
		return -1;
	}
	b = &gm_budget_nodes[node - 1];
	gm_budget_evict_set(&b->evict, fn, user);
	return 0;
}

int gm_budget_set_type_evictor(gm_thread_t *t, const char *type, gmtrace_evict_fn fn, void *user)
{
	int slot;
	if (!gm_budget_name_ok(t, 0, type, sizeof(gm_budget_types[0].type)))
		return -1;
	gm_budget_spin();
	slot = gm_budget_type_slot(type);
	if (slot >= 0)
		gm_budget_evict_set(&gm_budget_types[slot].evict, fn, user);
	gm_budget_unspin();
	if (slot < 0)
		gm_budget_valid(t, 0, gm_valid_stack_overflow, GM_BUDGET_TYPES);
	return slot >= 0 ? 0 : -1;
}

/* ---- accounting ------------------------------------------------------------ */

static void gm_budget_max(int64_t *where, int64_t v)
{
	int64_t cur = __atomic_load_n(where, __ATOMIC_RELAXED);
	while (v > cur &&
	       !__atomic_compare_exchange_n(where, &cur, v, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* The live bytes of idx and its ancestors now, as their peaks. */
static void gm_budget_peaks(uint32_t idx)
{
	int32_t i;
	for (i = (int32_t)idx; i >= 0; i = gm_budget_nodes[i].parent) {
		gm_budget_node_t *b = &gm_budget_nodes[i];
		int64_t live = __atomic_load_n(&b->live, __ATOMIC_ACQUIRE);
		gm_budget_max(&b->peak, live);
		gm_budget_max(&b->frame_peak, live);
	}
}

/* Add n bytes to idx and its ancestors. Unless force, stop at the first
 * node that would go over its hard limit: undo, set *over, return -1. */
static int gm_budget_add(uint32_t idx, int64_t n, int force, int32_t *over)
{
	int32_t i, j;
	for (i = (int32_t)idx; i >= 0; i = gm_budget_nodes[i].parent) {
		gm_budget_node_t *b = &gm_budget_nodes[i];
		int64_t cur = __atomic_load_n(&b->live, __ATOMIC_ACQUIRE), now;
		if (!force && n > 0 && b->hard) {
			/* a reservation never shows above the limit, even for a
			 * moment: another thread must not see an overshoot that
			 * is about to be taken back */
			do {
				now = cur + n;
				if (now > (int64_t)b->hard) {
					for (j = (int32_t)idx; j != i;
					     j = gm_budget_nodes[j].parent)
						__atomic_sub_fetch(&gm_budget_nodes[j].live, n,
						                   __ATOMIC_ACQ_REL);
					if (over)
						*over = i;
					return -1;
				}
			} while (!__atomic_compare_exchange_n(&b->live, &cur, now, 1,
			                                      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
		} else {
			now = __atomic_add_fetch(&b->live, n, __ATOMIC_ACQ_REL);
		}
		(void)now;
	}
	/* no peak here: a reservation the heap then cannot serve (a bank
	 * with no hole that large, a 1 PiB request) was never live; the
	 * callers take the peaks once the block is served (gm_budget_peaks) */
	return 0;
}

/* flags for gm_rec_budget_violation's last word */
#define GM_BUDGET_VIOL_FAILED 1u  /* the allocation failed (NULL / bad_alloc) */
#define GM_BUDGET_VIOL_REALLOC 2u /* it was a realloc */

static gmtrace_budget_violation_fn gm_budget_alert_fn;
static void *gm_budget_alert_user;
static __thread int gm_budget_alerting __attribute__((tls_model("initial-exec")));

void gm_budget_set_alert(gmtrace_budget_violation_fn fn, void *user)
{
	gm_budget_alert_user = user;
	__atomic_store_n(&gm_budget_alert_fn, fn, __ATOMIC_RELEASE);
}

/* The optional stderr line and the game's callback for a violation. */
static void gm_budget_alert(uint32_t idx, unsigned what, uint64_t size, uint64_t limit,
                            unsigned flags)
{
	static const char *const what_name[] = {"over its soft limit", "over its hard limit",
	                                        "failed an allocation at its hard limit",
	                                        "found its heap full"};
	gm_budget_node_t *b = &gm_budget_nodes[idx];
	gmtrace_budget_violation_fn fn = __atomic_load_n(&gm_budget_alert_fn, __ATOMIC_ACQUIRE);
	gmtrace_budget_violation_t v;
	if (gm_session_options.budget_stderr) {
		char line[256], num[24];
		size_t len = 0;
		line[0] = 0;
		gm_support_append(line, sizeof(line), &len, "budget \"");
		gm_support_append(line, sizeof(line), &len, b->name);
		gm_support_append(line, sizeof(line), &len, "\" ");
		gm_support_append(line, sizeof(line), &len, what < 4 ? what_name[what] : "?");
		gm_support_append(line, sizeof(line), &len, ": ");
		gm_support_u64(num, (uint64_t)__atomic_load_n(&b->live, __ATOMIC_RELAXED));
		gm_support_append(line, sizeof(line), &len, num);
		gm_support_append(line, sizeof(line), &len, " bytes live, limit ");
		gm_support_u64(num, limit);
		gm_support_append(line, sizeof(line), &len, num);
		if (size) {
			gm_support_append(line, sizeof(line), &len, ", asked ");
			gm_support_u64(num, size);
			gm_support_append(line, sizeof(line), &len, num);
		}
		gm_support_warn(line, 0, 0);
	}
	if (!fn || gm_budget_alerting)
		return;
	memset(&v, 0, sizeof(v));
	v.node = idx + 1;
	v.event = what;
	v.name = b->name;
	v.live_bytes = __atomic_load_n(&b->live, __ATOMIC_RELAXED);
	v.limit_bytes = limit;
	v.size = size;
	v.asset =
	        what == gm_budget_over_soft || !gm_context_asset_now ? 0 : gm_context_asset_now->id;
	v.failed = (flags & GM_BUDGET_VIOL_FAILED) != 0;
	gm_budget_alerting = 1;
	gm_context_neutral_push(&gm_thread_self);
	fn(&v, gm_budget_alert_user);
	gm_context_neutral_pop(&gm_thread_self);
	gm_budget_alerting = 0;
}

static void gm_budget_violation(gm_thread_t *t, uint32_t idx, unsigned what, uint64_t size,
                                uint64_t limit, unsigned flags)
{
	gm_budget_node_t *b = &gm_budget_nodes[idx];
	uint64_t extra[6];
	if (flags & GM_BUDGET_VIOL_FAILED)
		__atomic_add_fetch(&b->failures, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&b->violations, 1, __ATOMIC_RELAXED);
	if (!gm_budget_on(t))
		return;
	extra[0] = (uint64_t)__atomic_load_n(&b->live, __ATOMIC_RELAXED);
	extra[1] = limit;
	extra[2] = size;
	/* what was allocating; nothing for a frame-end check */
	extra[3] = what == gm_budget_over_soft ? 0 : gm_context_tag_now;
	extra[4] =
	        what == gm_budget_over_soft || !gm_context_asset_now ? 0 : gm_context_asset_now->id;
	extra[5] = flags;
	gm_thread_put_var(t, gm_rec_budget_violation, idx + 1, what, extra, sizeof(extra));
	gm_budget_alert(idx, what, size, limit, flags);
}

/* ---- eviction -------------------------------------------------------------- */

static int gm_budget_in_subtree(uint32_t node1, uint32_t root)
{
	int32_t i;
	if (node1 == 0)
		return 0;
	for (i = (int32_t)node1 - 1; i >= 0; i = gm_budget_nodes[i].parent)
		if ((uint32_t)i == root)
			return 1;
	return 0;
}

/* The evictor for an asset: its type's, else its node's or an ancestor's. */
static gmtrace_evict_fn gm_budget_evictor_for(gm_asset_t *a, void **user)
{
	uint32_t i, n = __atomic_load_n(&gm_budget_ntypes, __ATOMIC_ACQUIRE);
	int32_t k;
	for (i = 0; i < n; i++) {
		gmtrace_evict_fn fn = gm_budget_evict_get(&gm_budget_types[i].evict, user);
		if (fn && strlen(gm_budget_types[i].type) == a->type_len &&
		    memcmp(gm_budget_types[i].type, a->text + a->name_len + 1, a->type_len) == 0)
			return fn;
	}
	for (k = (int32_t)a->node - 1; k >= 0; k = gm_budget_nodes[k].parent) {
		gmtrace_evict_fn fn = gm_budget_evict_get(&gm_budget_nodes[k].evict, user);
		if (fn)
			return fn;
	}
	return NULL;
}

/* The frame an asset left alone now is left alone until (its stuck_frame):
 * the next frame end's. */
static uint64_t gm_budget_next_frame(void)
{
	return __atomic_load_n(&gm_frame_number, __ATOMIC_RELAXED) + 1;
}

/* The budget operation this thread is in (an allocation's, a realloc's, a
 * frame end's: GM_BUDGET_OP), 0 if none; each has a number of its own,
 * which its every eviction call shares (an allocation evicts in up to 64
 * calls: a replacement one loads is no victim of the next). */
static uint64_t gm_budget_op_next;
static __thread uint64_t gm_budget_op_serial __attribute__((tls_model("initial-exec")));

typedef struct gm_budget_op {
	int outer; /* 1: this scope began the operation */
} gm_budget_op_t;

static gm_budget_op_t gm_budget_op_begin(void)
{
	gm_budget_op_t o = {0};
	if (!gm_budget_op_serial) {
		gm_budget_op_serial = __atomic_add_fetch(&gm_budget_op_next, 1, __ATOMIC_RELAXED);
		o.outer = 1;
	}
	return o;
}

/* (a cleanup: an evictor's C++ exception through the scope ends it too) */
static void gm_budget_op_end(gm_budget_op_t *o)
{
	if (o->outer)
		gm_budget_op_serial = 0;
}

#define GM_BUDGET_OP()                                                            \
	gm_budget_op_t gm_budget_op_ __attribute__((cleanup(gm_budget_op_end))) = \
	        gm_budget_op_begin()

uint64_t gm_budget_born_in(void)
{
	return gm_budget_evicting ? gm_budget_op_serial : 0;
}

/* Whether asset a can go to make room under root: resident, unreferenced,
 * not pinned, not left alone this frame (whether or not a thread is
 * evicting it now). The one test of gm_budget_pick and gm_budget_has_victim:
 * were they to disagree, an allocation would retry for nothing. */
static int gm_budget_candidate(const gm_asset_t *a, uint32_t root, uint64_t next_frame)
{
	return a && !a->pinned && a->stuck_frame != next_frame &&
	       __atomic_load_n(&a->state, __ATOMIC_RELAXED) == gm_asset_resident &&
	       __atomic_load_n(&a->refs, __ATOMIC_RELAXED) <= 0 &&
	       gm_budget_in_subtree(a->node, root);
}

/* An asset's evicting field: 0 free to pick; GM_BUDGET_CLAIMED held by an
 * eviction call (picked, or tried already and kept out of its later
 * choices); GM_BUDGET_RUNNING while its evictor runs. */
#define GM_BUDGET_CLAIMED 1u
#define GM_BUDGET_RUNNING 2u

/* The scans over the asset table below read its end again when they reach
 * it and go on over the assets created meanwhile. A thread paused in a scan
 * (descheduled for milliseconds under load) while others load and evict
 * can otherwise find every asset it was still to look at gone and the
 * cache's whole content past the end it first read: it would call the
 * cache empty and let its allocation over the hard limit (seen in about
 * one run in thirty of bu_threads with 8 threads on 2 cores). */
#define GM_BUDGET_EACH_ASSET(id, lim)                                                          \
	for (id = 1, lim = gm_context_asset_limit(); id < lim; lim = gm_context_asset_limit()) \
		for (; id < lim; id++)

/* The best victim under root by its policy, claimed (evicting = 1); 0 when
 * none is evictable. */
static uint64_t gm_budget_pick(uint32_t root)
{
	uint64_t id, lim, best = 0, next = gm_budget_next_frame();
	uint64_t best_key = UINT64_MAX;
	int policy = gm_budget_nodes[root].policy;
	GM_BUDGET_EACH_ASSET (id, lim) {
		gm_asset_t *a = gm_context_asset(id);
		uint64_t key;
		if (!gm_budget_candidate(a, root, next) ||
		    __atomic_load_n(&a->evicting, __ATOMIC_RELAXED))
			continue;
		/* an asset this very eviction's evictor loaded (a replacement)
		 * is no victim of it; of any other eviction, yes */
		if (a->born_evict && a->born_evict == gm_budget_op_serial)
			continue;
		switch (policy) {
		case gm_budget_lfu:
			key = __atomic_load_n(&a->touches, __ATOMIC_RELAXED);
			break;
		case gm_budget_largest:
			key = UINT64_MAX -
			      (__atomic_load_n(&a->bytes, __ATOMIC_RELAXED) + a->extra);
			break;
		case gm_budget_priority:
			key = (uint64_t)((int64_t)a->priority + INT64_MAX / 2);
			break;
		default: { /* least recently touched; never touched counts as oldest */
			uint64_t last = __atomic_load_n(&a->last_touch, __ATOMIC_RELAXED);
			key = last == UINT64_MAX ? 0 : last + 1;
			break;
		}
		}
		/* ties: the oldest asset (lowest id) goes first */
		if (key < best_key) {
			best_key = key;
			best = id;
		}
	}
	if (best) {
		uint32_t zero = 0;
		gm_asset_t *a = gm_context_asset(best);
		if (!__atomic_compare_exchange_n(&a->evicting, &zero, GM_BUDGET_CLAIMED, 0,
		                                 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			return gm_budget_pick(root); /* another thread took it: look again */
		/* it may have been evicted (and let go), referenced or pinned
		 * between our look and the claim: only a still resident,
		 * unreferenced, unpinned asset goes */
		if (__atomic_load_n(&a->state, __ATOMIC_ACQUIRE) != gm_asset_resident ||
		    __atomic_load_n(&a->refs, __ATOMIC_ACQUIRE) > 0 ||
		    __atomic_load_n(&a->pinned, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&a->evicting, 0, __ATOMIC_RELEASE);
			return gm_budget_pick(root);
		}
	}
	return best;
}

/* 1 if some asset under root can still go: resident, unreferenced, not
 * pinned, not left alone until the next frame end (whether or not another
 * thread is evicting it now). */
static int gm_budget_has_victim(uint32_t root)
{
	uint64_t id, lim, next = gm_budget_next_frame();
	GM_BUDGET_EACH_ASSET (id, lim)
		if (gm_budget_candidate(gm_context_asset(id), root, next))
			return 1;
	return 0;
}

/* 1 if another thread's evictor runs on an asset under root now: its frees
 * are about to come. An asset another call evicted already and still holds
 * (tried) is no reason to wait: its bytes came back, or never will. */
static int gm_budget_others_evicting(uint32_t root)
{
	uint64_t id, lim;
	GM_BUDGET_EACH_ASSET (id, lim) {
		gm_asset_t *a = gm_context_asset(id);
		if (a && __atomic_load_n(&a->evicting, __ATOMIC_ACQUIRE) == GM_BUDGET_RUNNING &&
		    gm_budget_in_subtree(a->node, root))
			return 1;
	}
	return 0;
}

/* What one gm_budget_evict call holds, given back when the call ends,
 * whether it returns or a C++ evictor's exception unwinds through it
 * (budget.c is built with -fexceptions, so the cleanup runs then too): the
 * assets it tried, the evictor's asset and the thread's scopes around it,
 * and the thread's eviction flags. */
typedef struct gm_budget_round {
	gm_thread_t *t;
	uint64_t tried[64];
	unsigned ntried;
	uint64_t running; /* the asset whose evictor runs, 0: none */
	uint64_t depths;  /* the thread's scope depths before it ran */
} gm_budget_round_t;

static void gm_budget_round_end(gm_budget_round_t *r)
{
	if (r->running) {
		/* its evictor threw: what it opened is closed, the asset is
		 * left alone until the next frame end, as one that freed
		 * nothing */
		gm_asset_t *a = gm_context_asset(r->running);
		gm_budget_running_here = 0;
		gm_context_unwind(r->t, r->depths);
		a->stuck_frame = gm_budget_next_frame();
		__atomic_store_n(&a->evicting, 0, __ATOMIC_RELEASE);
	}
	while (r->ntried)
		__atomic_store_n(&gm_context_asset(r->tried[--r->ntried])->evicting, 0,
		                 __ATOMIC_RELEASE);
	r->t->no_help--;
	gm_budget_evicting = 0;
}

/* How long one allocation (or one frame end) waits, in all, for other
 * threads' evictors to give bytes back. Past it, it goes on without them:
 * an evictor may wait for a lock the waiting thread holds (a loader
 * holding the game's asset lock while it allocates). */
#define GM_BUDGET_WAIT_NS 20000000ull

/* Evictions in a row that give nothing back before an eviction stops:
 * the rounds of one allocation count together (the next frame end or
 * allocation tries again). */
#define GM_BUDGET_MAX_FRUITLESS 16

/* What the eviction rounds of one allocation (or of one node at a frame
 * end) share: the end of their wait for other threads' evictions (0: not
 * begun) and the evictions in a row that gave nothing back. */
typedef struct gm_budget_pass {
	uint64_t wait_until;
	unsigned fruitless;
} gm_budget_pass_t;

/* Evict under root until its live bytes plus need fit under limit. An
 * asset with no evictor is a validation and, like one whose evictor freed
 * nothing, left alone until the next frame end; the next victim is tried.
 * Assets its evictors load are no victims of it, nor of the other calls of
 * the same allocation or frame end (gm_budget_born_in: one that loads a
 * replacement would otherwise feed them for good), and
 * GM_BUDGET_MAX_FRUITLESS evictions in a row that give nothing back, in
 * this call and the caller's rounds before it (pass->fruitless), end it.
 * With nothing to pick while other threads evict under root, waits for
 * them until pass->wait_until (set to GM_BUDGET_WAIT_NS from now at the
 * first wait of the caller's rounds). Returns the evictors called. */
static unsigned gm_budget_evict(gm_thread_t *t, uint32_t root, int64_t need, uint64_t limit,
                                unsigned why, gm_budget_pass_t *pass)
{
	unsigned rounds = 0, calls = 0;
	gm_budget_node_t *b = &gm_budget_nodes[root];
	if (gm_budget_evicting)
		return 0; /* an evictor allocating: no eviction inside eviction */
	gm_budget_evicting = 1;
	t->no_help++;
	gm_budget_round_t r __attribute__((cleanup(gm_budget_round_end))) = {.t = t};
	while (rounds++ < GM_BUDGET_MAX_VICTIMS && pass->fruitless < GM_BUDGET_MAX_FRUITLESS &&
	       __atomic_load_n(&b->live, __ATOMIC_ACQUIRE) + need > (int64_t)limit) {
		uint64_t id = gm_budget_pick(root), t0, ns;
		int64_t before, reclaimed;
		uint64_t away;
		gm_asset_t *a;
		gmtrace_evict_fn fn;
		void *user = NULL;
		uint64_t extra[4];
		if (!id) {
			/* nothing to pick, but other threads may be evicting under
			 * this node right now: their frees are about to come; wait
			 * for them a little rather than fail */
			if (gm_budget_others_evicting(root)) {
				uint64_t now = gm_support_mono_ns();
				if (!pass->wait_until)
					pass->wait_until = now + GM_BUDGET_WAIT_NS;
				if (now < pass->wait_until) {
					struct timespec ts = {0, 50000};
					nanosleep(&ts, NULL);
					continue;
				}
			}
			break;
		}
		a = gm_context_asset(id);
		fn = gm_budget_evictor_for(a, &user);
		if (!fn) {
			gm_budget_valid(t, root + 1, gm_valid_no_evictor, id);
			a->stuck_frame = gm_budget_next_frame();
			__atomic_store_n(&a->evicting, 0, __ATOMIC_RELEASE);
			continue;
		}
		before = gm_budget_freed_here;
		away = __atomic_load_n(&a->freed_away, __ATOMIC_RELAXED);
		/* what the heap should get back: extra (GPU) bytes are not in it */
		extra[3] = __atomic_load_n(&a->bytes, __ATOMIC_RELAXED);
		t0 = gm_support_mono_ns();
		r.depths = gm_context_depths();
		r.running = id;
		__atomic_store_n(&a->evicting, GM_BUDGET_RUNNING, __ATOMIC_RELEASE);
		gm_context_neutral_push(t);
		calls++;
		gm_budget_running_here = id;
		fn(id, user);
		gm_budget_running_here = 0;
		gm_context_neutral_pop(t);
		__atomic_store_n(&a->evicting, GM_BUDGET_CLAIMED, __ATOMIC_RELEASE);
		r.running = 0;
		ns = gm_support_mono_ns() - t0;
		reclaimed = gm_budget_freed_here - before +
		            (int64_t)(__atomic_load_n(&a->freed_away, __ATOMIC_RELAXED) - away);
		__atomic_add_fetch(&b->evictions, 1, __ATOMIC_RELAXED);
		extra[0] = why;
		extra[1] = (uint64_t)reclaimed;
		extra[2] = ns;
		if (gm_budget_on(t))
			gm_thread_put_var(t, gm_rec_budget_evict, id, root + 1, extra,
			                  sizeof(extra));
		if (reclaimed <= 0) {
			gm_budget_valid(t, id, gm_valid_evictor_no_progress, extra[3]);
			/* not this asset again until the next frame */
			a->stuck_frame = gm_budget_next_frame();
			pass->fruitless++;
		} else
			pass->fruitless = 0;
		/* keep it out of this round's choices; free it for later rounds */
		if (r.ntried < 64)
			r.tried[r.ntried++] = id;
		else
			__atomic_store_n(&a->evicting, 0, __ATOMIC_RELEASE);
		if (pass->fruitless >= GM_BUDGET_MAX_FRUITLESS)
			break;
	}
	/* r's cleanup gives back what the call holds */
	return calls;
}

/* Whether evicting under node over can make room for a block of n bytes:
 * not when n alone is over its hard limit (emptying the cache would not
 * help). */
static int gm_budget_room_possible(int32_t over, int64_t n)
{
	return n <= (int64_t)gm_budget_nodes[over].hard;
}

/* ---- allocation ------------------------------------------------------------ */

/* Reserves grow bytes on idx and its ancestors for a block of block bytes
 * (n asked for; realloc: vflags GM_BUDGET_VIOL_REALLOC). Where a node's
 * hard limit refuses, evicts under it and tries again: another thread may
 * take the room freed in between, so it goes on while something evictable
 * is left under the node (being evicted by another thread counts: its
 * bytes come), 64 rounds at most and GM_BUDGET_MAX_FRUITLESS fruitless
 * evictions in all, waiting for other threads' evictions until
 * pass->wait_until (the caller's, shared with its other rounds). Returns
 * 0 reserved (in soft mode over the limit after an over_hard violation),
 * or -1 with errno ENOMEM after a failed violation (strict mode). */
static int gm_budget_reserve(gm_thread_t *t, uint32_t idx, int64_t grow, int64_t block, size_t n,
                             unsigned vflags, gm_budget_pass_t *pass)
{
	int32_t over = -1;
	int tries = 0;
	if (gm_budget_add(idx, grow, 0, &over) == 0)
		return 0;
	while (gm_budget_room_possible(over, block) && tries++ < 64) {
		unsigned calls =
		        gm_budget_evict(t, (uint32_t)over, grow, gm_budget_nodes[over].hard,
		                        gm_budget_over_hard, pass);
		if (gm_budget_add(idx, grow, 0, &over) == 0)
			return 0;
		if (gm_budget_evicting || !gm_budget_has_victim((uint32_t)over) ||
		    pass->fruitless >= GM_BUDGET_MAX_FRUITLESS)
			break;
		/* the victims left are other threads' evictions, waited for
		 * long enough (they may wait for this thread) */
		if (calls == 0 && pass->wait_until && gm_support_mono_ns() >= pass->wait_until)
			break;
	}
	if (gm_budget_strict((uint32_t)over)) {
		gm_budget_violation(t, (uint32_t)over, gm_budget_failed, n,
		                    gm_budget_nodes[over].hard, GM_BUDGET_VIOL_FAILED | vflags);
		errno = ENOMEM;
		return -1;
	}
	gm_budget_violation(t, (uint32_t)over, gm_budget_over_hard, n, gm_budget_nodes[over].hard,
	                    vflags);
	gm_budget_add(idx, grow, 1, NULL);
	return 0;
}

/* Whether a block served now belongs to the thread's current asset: there
 * is one, and the hook counts the block's bytes on it (recording is on;
 * the budget serves on when it is off, the bytes go uncounted). */
static int gm_budget_owned_here(void)
{
	return gm_context_asset_now && __atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE);
}

/* A reservation an evictor's C++ exception would leave behind: the bank-full
 * evictions below run while it is held. */
typedef struct gm_budget_held {
	uint32_t idx;
	int64_t bytes; /* 0: none held */
} gm_budget_held_t;

static void gm_budget_held_end(gm_budget_held_t *h)
{
	if (h->bytes)
		gm_budget_add(h->idx, -h->bytes, 1, NULL);
}

void *gm_budget_alloc(gm_thread_t *t, uint32_t node, size_t n, size_t align, int zero)
{
	GM_BUDGET_OP();
	uint32_t idx;
	gm_budget_node_t *b;
	void *p;
	/* a scope another thread ended routes no more */
	if (gm_context_asset_now && gm_context_scope_check(t) && (node = gm_context_node_now) == 0)
		return GM_BUDGET_UNHANDLED;
	idx = node - 1;
	b = &gm_budget_nodes[idx];
	size_t usable, want = n;
	/* no allocator serves more than PTRDIFF_MAX bytes: the process's own
	 * fails the call as it would without gmtrace (and the byte counts,
	 * signed, never see such a size) */
	if (n > PTRDIFF_MAX)
		return GM_BUDGET_UNHANDLED;
	/* the limits hold for what the block takes from the heap: its size
	 * class (5 MiB + 1 takes 6 MiB), not only the bytes asked for */
	if (b->heap >= 0 && (usable = gm_heap_size_for(n, align)) > n && usable <= PTRDIFF_MAX)
		want = usable;
	/* one wait for other threads' evictions in all: the reservation's
	 * rounds and the bank-full ones below share it */
	gm_budget_pass_t pass = {0, 0};
	if (gm_budget_reserve(t, idx, (int64_t)want, (int64_t)want, n, 0, &pass) < 0)
		return NULL;
	if (b->heap < 0) {
		/* a node without a heap of its own: counted, served as usual */
		gm_budget_add(idx, -(int64_t)want, 1, NULL);
		return GM_BUDGET_UNHANDLED;
	}
	p = gm_heap_alloc((unsigned)b->heap, n, align, zero);
	/* the bank is full (fragmentation counts, as on the device): evict at
	 * least the bytes asked for, try again, a few rounds at most; an
	 * evictor that throws takes the reservation back with it */
	gm_budget_held_t held __attribute__((cleanup(gm_budget_held_end))) = {idx, 0};
	if (!p)
		held.bytes = (int64_t)want;
	for (int round = 0; !p && !gm_budget_evicting && round < 8; round++) {
		int64_t live = __atomic_load_n(&b->live, __ATOMIC_ACQUIRE);
		int64_t goal = live - (int64_t)want; /* live holds the reservation already */
		gm_budget_evict(t, idx, 0, goal > 0 ? (uint64_t)goal : 0, gm_budget_heap_full,
		                &pass);
		p = gm_heap_alloc((unsigned)b->heap, n, align, zero);
		if (!p && __atomic_load_n(&b->live, __ATOMIC_ACQUIRE) >= live)
			break; /* nothing left to evict */
	}
	held.bytes = 0; /* returned: the code below settles the reservation */
	if (!p) {
		gm_budget_add(idx, -(int64_t)want, 1, NULL);
		gm_budget_violation(t, idx, gm_budget_heap_full, n, b->hard,
		                    gm_budget_strict(idx) ? GM_BUDGET_VIOL_FAILED : 0);
		if (gm_budget_strict(idx)) {
			errno = ENOMEM;
			return NULL;
		}
		return GM_BUDGET_UNHANDLED; /* soft: the process's allocator serves it */
	}
	usable = gm_heap_usable(p);
	if (usable != want)
		gm_budget_add(idx, (int64_t)usable - (int64_t)want, 1, NULL);
	gm_budget_peaks(idx);
	gm_budget_freed_here -= (int64_t)usable;
	if (gm_budget_owned_here())
		gm_owner_note((uintptr_t)p, gm_context_asset_now->id, n);
	return p;
}

void *gm_budget_realloc(gm_thread_t *t, void *p, size_t n)
{
	GM_BUDGET_OP();
	uint32_t idx = gm_budget_heap_node[gm_heap_of(p)];
	/* the new block's size class, as gm_budget_alloc reserves (n past
	 * the largest, which the heap refuses below) */
	size_t want = n <= PTRDIFF_MAX ? gm_heap_size_for(n, 0) : 0;
	int64_t old = (int64_t)gm_heap_usable(p), now;
	int64_t grow = (int64_t)(want >= n && want <= PTRDIFF_MAX ? want : n) - old;
	uint64_t owner, owned;
	int noted;
	void *q;
	gm_budget_pass_t pass = {0, 0};
	if (grow > 0 && n <= PTRDIFF_MAX &&
	    gm_budget_reserve(t, idx, grow, old + grow, n, GM_BUDGET_VIOL_REALLOC, &pass) < 0)
		return NULL;
	noted = gm_owner_take((uintptr_t)p, &owner, &owned);
	q = gm_heap_realloc(p, n);
	if (!q && noted)
		gm_owner_note((uintptr_t)p, owner, owned); /* still there, still its */
	if (!q) {
		int strict = gm_budget_strict(idx);
		if (grow > 0)
			gm_budget_add(idx, -grow, 1, NULL);
		gm_budget_violation(t, idx, gm_budget_heap_full, n, gm_budget_nodes[idx].hard,
		                    (strict ? GM_BUDGET_VIOL_FAILED : 0) | GM_BUDGET_VIOL_REALLOC);
		if (!strict)
			return GM_BUDGET_UNHANDLED; /* soft: the block moves to the process's heap */
		errno = ENOMEM;
		return NULL;
	}
	/* settle on the real sizes */
	now = (int64_t)gm_heap_usable(q);
	gm_budget_add(idx, now - old - (grow > 0 ? grow : 0), 1, NULL);
	if (now > old)
		gm_budget_peaks(idx);
	gm_budget_freed_here -= now - old;
	if (gm_budget_owned_here()) {
		/* the block is the current asset's now (its n bytes counted by
		 * the hook); the old one's bytes leave their owner */
		if (noted)
			gm_owner_credit(owner, owned);
		gm_owner_note((uintptr_t)q, gm_context_asset_now->id, n);
	} else if (noted) {
		/* outside any asset's scope: the block stays its owner's, at its
		 * new size */
		gm_owner_note((uintptr_t)q, owner, n);
		if (n >= owned)
			gm_owner_charge(owner, n - owned);
		else
			gm_owner_credit(owner, owned - n);
	}
	return q;
}

void gm_budget_free(void *p)
{
	uint32_t idx = gm_budget_heap_node[gm_heap_of(p)];
	int64_t usable = (int64_t)gm_heap_usable(p);
	uint64_t owner = gm_owner_forget((uintptr_t)p);
	gm_heap_free(p);
	gm_budget_add(idx, -usable, 1, NULL);
	gm_budget_freed_here += usable;
	if (owner && owner != gm_budget_running_here) {
		gm_asset_t *a = gm_context_asset(owner);
		if (a && __atomic_load_n(&a->evicting, __ATOMIC_ACQUIRE) == GM_BUDGET_RUNNING)
			__atomic_add_fetch(&a->freed_away, (uint64_t)usable, __ATOMIC_RELAXED);
	}
}

/* ---- frame ends ------------------------------------------------------------ */

/* Each node's point of frame: its live bytes now and the most it held
 * since the last point (that peak starts again from now). */
static void gm_budget_points(gm_thread_t *t, uint64_t frame)
{
	uint32_t i, n = __atomic_load_n(&gm_budget_n, __ATOMIC_ACQUIRE);
	for (i = 0; i < n; i++) {
		gm_budget_node_t *b = &gm_budget_nodes[i];
		int64_t live = __atomic_load_n(&b->live, __ATOMIC_ACQUIRE);
		int64_t peak = __atomic_exchange_n(&b->frame_peak, live, __ATOMIC_ACQ_REL);
		uint64_t extra[2] = {(uint64_t)live, (uint64_t)(peak > live ? peak : live)};
		if (gm_budget_on(t))
			gm_thread_put_var(t, gm_rec_budget_frame, frame, i + 1, extra,
			                  sizeof(extra));
	}
}

void gm_budget_frame(gm_thread_t *t, uint64_t frame)
{
	GM_BUDGET_OP();
	uint32_t i, n = __atomic_load_n(&gm_budget_n, __ATOMIC_ACQUIRE);
	gm_budget_pass_t pass = {0, 0};
	for (i = 0; i < n; i++) {
		gm_budget_node_t *b = &gm_budget_nodes[i];
		int64_t live = __atomic_load_n(&b->live, __ATOMIC_ACQUIRE);
		if (b->soft && live > (int64_t)b->soft) {
			gm_budget_violation(t, i, gm_budget_over_soft, 0, b->soft, 0);
			pass.fruitless = 0; /* each node's eviction its own 16 (one wait for all) */
			gm_budget_evict(t, i, 0, b->target ? b->target : b->soft,
			                gm_budget_over_soft, &pass);
		}
	}
	gm_budget_points(t, frame);
}

/* A run that ended no frame (a tool, a test, a game without frame marks)
 * would have no point: each node's live and peak bytes at the end, as frame
 * 1's, so its report has the figures (without the frame end's eviction:
 * nothing is evicted on the way out). */
void gm_budget_exit(gm_thread_t *t)
{
	if (__atomic_load_n(&gm_frame_number, __ATOMIC_RELAXED) == 0)
		gm_budget_points(t, 1);
}

/* ---- snapshot, priorities ---------------------------------------------------- */

size_t gm_budget_snapshot(gmtrace_budget_node_t *nodes, size_t max_nodes,
                          gmtrace_budget_asset_t *assets, size_t max_assets, size_t *nassets)
{
	uint32_t i, n = __atomic_load_n(&gm_budget_n, __ATOMIC_ACQUIRE);
	uint64_t id, lim = gm_context_asset_limit(), k = 0;
	for (i = 0; i < n && nodes && i < max_nodes; i++) {
		gm_budget_node_t *b = &gm_budget_nodes[i];
		nodes[i].id = i + 1;
		nodes[i].parent = b->parent < 0 ? 0 : (uint32_t)b->parent + 1;
		nodes[i].name = b->name;
		nodes[i].live_bytes = __atomic_load_n(&b->live, __ATOMIC_ACQUIRE);
		nodes[i].peak_bytes = __atomic_load_n(&b->peak, __ATOMIC_RELAXED);
		nodes[i].soft_limit = b->soft;
		nodes[i].hard_limit = b->hard;
		nodes[i].evictions = __atomic_load_n(&b->evictions, __ATOMIC_RELAXED);
		nodes[i].violations = __atomic_load_n(&b->violations, __ATOMIC_RELAXED);
		nodes[i].failures = __atomic_load_n(&b->failures, __ATOMIC_RELAXED);
	}
	for (id = 1; id < lim; id++) {
		gm_asset_t *a = gm_context_asset(id);
		if (!a)
			continue;
		if (assets && k < max_assets) {
			gmtrace_budget_asset_t *o = &assets[k];
			o->id = id;
			o->state = __atomic_load_n(&a->state, __ATOMIC_RELAXED);
			o->refs = __atomic_load_n(&a->refs, __ATOMIC_RELAXED);
			o->bytes = __atomic_load_n(&a->bytes, __ATOMIC_RELAXED) + a->extra;
			o->last_touch_frame = __atomic_load_n(&a->last_touch, __ATOMIC_RELAXED);
			o->node = a->node;
			o->priority = a->priority;
		}
		k++;
	}
	if (nassets)
		*nassets = (size_t)k;
	return n;
}

void gm_budget_asset_priority(gm_thread_t *t, uint64_t asset, int priority)
{
	gm_asset_t *a = gm_context_asset(asset);
	if (!a) {
		gm_budget_valid(t, asset, gm_valid_unknown_asset, 0);
		return;
	}
	a->priority = priority;
}

void gm_budget_asset_pin(gm_thread_t *t, uint64_t asset, int pinned)
{
	gm_asset_t *a = gm_context_asset(asset);
	if (!a) {
		gm_budget_valid(t, asset, gm_valid_unknown_asset, 0);
		return;
	}
	a->pinned = pinned != 0;
}

/* ---- start ------------------------------------------------------------------ */

/* GMTRACE_PLATFORM: a profile's banks and budget tree, in place of a
 * budgets file. The profile is recorded (its name) before its nodes. */
/* Under a platform whose banks add up to more than what one game may use
 * (banks that share memory), a root node "total" holds them, limited to
 * that: its limit, or 0 when the banks alone keep the game within it. */
static uint64_t gm_budget_total_limit(const gm_platform_t *p)
{
	uint64_t sum = 0;
	int i;
	for (i = 0; i < p->nbanks && i < p->ndefs; i++)
		sum += p->defs[i].hard;
	/* (no bank or node of the profile has the name: its loader refuses it) */
	return p->available.bytes < sum ? p->available.bytes : 0;
}

static int gm_budget_platform(gm_thread_t *t, gm_budget_def_t **defs, int *n, int *nbanks,
                              uint64_t *total)
{
	static gm_platform_t profile;
	/* the file found at the last start: a fork child with its parent's
	 * options looks no further (the search path is the environment's,
	 * which its launcher cleared) */
	static char found[GM_PLATFORM_PATH];
	char path[GM_PLATFORM_PATH], err[512];
	const char *name = gm_session_options.platform;
	int failed, busy = t->busy;
	/* libyaml's allocations are gmtrace's own, not the game's */
	t->busy = 1;
	if (gm_session_options_inherited && found[0])
		failed = gm_platform_load(found, &profile, err, sizeof(err)) != 0;
	else
		failed = gm_platform_find(name, path, sizeof(path), err, sizeof(err)) != 0 ||
		         gm_platform_load(path, &profile, err, sizeof(err)) != 0;
	if (!failed && !gm_session_options_inherited) {
		/* (its full path: the game may change folder before it forks) */
		char full[PATH_MAX];
		gm_support_strlcpy(found,
		                   realpath(profile.path, full) && strlen(full) < sizeof(found) ?
		                           full :
		                           profile.path,
		                   sizeof(found));
	}
	t->busy = busy;
	if (failed) {
		if (!gm_session_forked)
			gm_support_warn(err, "; running without the platform's limits", 0);
		return -1;
	}
	if (gm_session_options.budgets[0] && !gm_session_forked)
		gm_support_warn("GMTRACE_BUDGETS is ignored: the budgets are those of platform ",
		                profile.name, 0);
	if (gm_budget_on(t))
		gm_thread_put_var(t, gm_rec_platform, 0, strlen(profile.name), profile.name,
		                  strlen(profile.name));
	*defs = profile.defs;
	*n = profile.ndefs;
	*nbanks = profile.nbanks;
	*total = gm_budget_total_limit(&profile);
	__atomic_store_n(&gm_budget_on_platform, 1, __ATOMIC_RELEASE);
	return 0;
}

void gm_budget_start(gm_thread_t *t)
{
	static gm_budget_def_t file_defs[GM_BUDGET_MAX_NODES];
	gm_budget_def_t *defs = file_defs;
	char err[512];
	int n = 0, strict = 0, i, k, nbanks = 0;
	uint64_t total = 0;
	const char *path = gm_session_options.budgets, *bank_parent = NULL;
	uint32_t had = __atomic_load_n(&gm_budget_n, __ATOMIC_ACQUIRE);
	gm_budget_mode_strict = gm_session_options.budget_mode;
	/* a fork child's nodes (its parent's): its first frame's peak starts
	 * from what it holds, not from the parent's frame */
	for (i = 0; i < (int)had; i++)
		__atomic_store_n(&gm_budget_nodes[i].frame_peak,
		                 __atomic_load_n(&gm_budget_nodes[i].live, __ATOMIC_ACQUIRE),
		                 __ATOMIC_RELEASE);
	if (gm_session_options.platform[0]) {
		if (gm_budget_platform(t, &defs, &n, &nbanks, &total) != 0)
			return;
		if (total) {
			/* a fork child has its parent's nodes, "total" among them:
			 * recorded in its own capture, not defined again (now with a
			 * default bank to go in, it would be called redefined) */
			uint32_t id = gm_budget_find(GM_BUDGET_TOTAL);
			if (id)
				gm_budget_record_node(t, id - 1);
			else
				id = gm_budget_define_in(t, GM_BUDGET_TOTAL, NULL, 0, total, 0);
			if (id)
				bank_parent = GM_BUDGET_TOTAL;
		}
	} else {
		if (!path[0])
			return;
		int failed, busy = t->busy;
		t->busy = 1; /* libyaml's allocations are gmtrace's own */
		failed = gm_budgetfile_load(path, defs, GM_BUDGET_MAX_NODES, &n, &strict, err,
		                            sizeof(err)) != 0;
		t->busy = busy;
		if (failed) {
			if (!gm_session_forked)
				gm_support_warn(err, "; running without budgets", 0);
			return;
		}
		if (!gm_session_options.budget_mode_given)
			gm_budget_mode_strict = strict;
	}
	for (i = 0; i < n; i++) {
		uint32_t id = gm_budget_define_in(t, defs[i].name,
		                                  defs[i].parent[0] ? defs[i].parent :
		                                  i < nbanks        ? bank_parent :
		                                                      NULL,
		                                  defs[i].soft, defs[i].hard, defs[i].capacity);
		if (!id)
			continue;
		gm_budget_set_policy(t, id, defs[i].policy, defs[i].target, defs[i].strict);
		for (k = 0; k < defs[i].ntags; k++)
			gm_budget_bind_tag(t, id, defs[i].tags[k]);
		for (k = 0; k < defs[i].ntypes; k++)
			gm_budget_bind_type(t, id, defs[i].types[k]);
		if (defs[i].is_default)
			__atomic_store_n(&gm_budget_default, id, __ATOMIC_RELEASE);
	}
	gm_context_refresh();
}

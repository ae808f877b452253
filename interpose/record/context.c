/* context.c - tag interning, per-thread context stacks, the asset table */
#define _GNU_SOURCE
#include "context.h"

#include <sched.h>
#include <string.h>

#include "../log/format.h"
#include "../support/mem.h"
#include "../support/support.h"
#include "event.h"
#include "../budget/budget.h"

/* ---- per-thread stacks --------------------------------------------------- */

/* What opened an asset's scope on a thread's stack: its load, its unload
 * (either may be ended on another thread), an attach. */
enum {
	gm_scope_attach = 0,
	gm_scope_load = 1,
	gm_scope_unload = 2
};

typedef struct gm_context_stack {
	uint32_t tags[GM_CONTEXT_DEPTH];
	uint64_t assets[GM_CONTEXT_DEPTH];
	uint8_t asset_scope[GM_CONTEXT_DEPTH]; /* gm_scope_* of each */
	uint32_t ntags, nassets;
	/* scopes opened past GM_CONTEXT_DEPTH (reported once, at the open):
	 * their closes pair with them silently */
	uint32_t tag_spill, asset_spill;
	uint32_t said_tag; /* context last written to this thread's stream */
	uint64_t said_asset;
	uint32_t said_gen; /* session of that record */
} gm_context_stack_t;

static __thread gm_context_stack_t gm_context_self __attribute__((tls_model("initial-exec")));
__thread uint32_t gm_context_tag_now __attribute__((tls_model("initial-exec")));
__thread gm_asset_t *gm_context_asset_now __attribute__((tls_model("initial-exec")));
__thread uint32_t gm_context_node_now __attribute__((tls_model("initial-exec")));
static uint32_t gm_context_gen = 1; /* session generation (fork children) */

/* > 0 while a marker call changes this thread's stacks: a signal handler's
 * allocation meanwhile (gm_context_scope_check) leaves them alone, as the
 * call is half way through (a load_end that moved the state, not yet its
 * scope off the stack) */
static __thread int gm_context_in_op __attribute__((tls_model("initial-exec")));

static int gm_context_op_begin(void)
{
	gm_context_in_op++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	return 0;
}

static void gm_context_op_end(int *unused)
{
	(void)unused;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	gm_context_in_op--;
}

#define GM_CONTEXT_OP()                                                          \
	int gm_context_op_ __attribute__((cleanup(gm_context_op_end), unused)) = \
	        gm_context_op_begin()

static int gm_context_on(gm_thread_t *t)
{
	return __atomic_load_n(&gm_thread_recording, __ATOMIC_RELAXED) && !t->busy;
}

void gm_context_valid(gm_thread_t *t, uint64_t subject, unsigned code, uint64_t detail)
{
	if (gm_context_on(t))
		gm_thread_put(t, gm_rec_w0(subject, gm_rec_validation, code), detail);
}

struct gm_tag;
static void gm_context_tag_define(gm_thread_t *t, struct gm_tag *tag);
static void gm_context_asset_define(gm_thread_t *t, uint64_t id, gm_asset_t *a);
static struct gm_tag *gm_context_tag_def(uint32_t id);

/* Write a context record if the innermost tag/asset differs from what this
 * thread's stream last said; the tag and the asset it names are defined in
 * this session's capture first (a fork child restating what it inherited:
 * the definitions are in the parent's capture only). */
static void gm_context_update(gm_thread_t *t)
{
	gm_context_stack_t *c = &gm_context_self;
	uint32_t tag = c->ntags ? c->tags[c->ntags - 1] : 0;
	uint64_t asset = c->nassets ? c->assets[c->nassets - 1] : 0;
	gm_asset_t *a = asset ? gm_context_asset(asset) : NULL;
	gm_context_tag_now = tag;
	gm_context_asset_now = a;
	gm_context_node_now = gm_budget_route(tag, a ? a->node : 0);
	if (tag == c->said_tag && asset == c->said_asset && c->said_gen == gm_context_gen)
		return;
	if (!gm_context_on(t))
		return;
	if (tag) {
		struct gm_tag *def = gm_context_tag_def(tag);
		if (def)
			gm_context_tag_define(t, def);
	}
	if (a)
		gm_context_asset_define(t, asset, a);
	gm_thread_put(t, gm_rec_w0(asset, gm_rec_context, 0), tag);
	c->said_tag = tag;
	c->said_asset = asset;
	c->said_gen = gm_context_gen;
}

void gm_context_restate(gm_thread_t *t)
{
	gm_context_stack_t *c = &gm_context_self;
	/* a new thread (nothing said yet) or a stream already current: the
	 * next push or pop speaks for itself */
	if (c->said_gen == 0 || c->said_gen == __atomic_load_n(&gm_context_gen, __ATOMIC_RELAXED))
		return;
	c->said_tag = UINT32_MAX;
	gm_context_update(t);
}

void gm_context_new_session(void)
{
	__atomic_add_fetch(&gm_context_gen, 1, __ATOMIC_RELAXED);
}

/* Copy a name for keeping: cut at GM_NAME_MAX (validation), NULL/empty
 * becomes fallback (validation). Returns the length. */
static size_t gm_context_name(gm_thread_t *t, const char *name, const char *fallback,
                              const char **out, uint64_t subject)
{
	size_t n;
	if (!name || !*name) {
		gm_context_valid(t, subject, gm_valid_null_name, name ? 1 : 0);
		*out = fallback;
		return strlen(fallback);
	}
	n = strnlen(name, GM_NAME_MAX + 1);
	if (n > GM_NAME_MAX) {
		gm_context_valid(t, subject, gm_valid_long_name, strnlen(name, 1u << 20));
		n = gm_support_utf8_cut(name, GM_NAME_MAX);
	}
	*out = name;
	return n;
}

/* ---- tags ---------------------------------------------------------------- */

#define GM_TAG_SLOTS 65536 /* open addressing; at most half used */
#define GM_TAG_MAX (GM_TAG_SLOTS / 2)
static int gm_tag_full; /* 1 once a name found the table full */

typedef struct gm_tag {
	uint64_t hash;
	uint32_t id, len;
	uint32_t gen; /* session that recorded its definition */
	char name[];
} gm_tag_t;

static gm_tag_t *gm_tag_slots[GM_TAG_SLOTS];
static gm_tag_t *gm_tag_by_id[GM_TAG_MAX + 1];
static uint32_t gm_tag_count;

static uint64_t gm_context_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	while (n--)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h ? h : 1;
}

static struct gm_tag *gm_context_tag_def(uint32_t id)
{
	return id && id <= GM_TAG_MAX ? __atomic_load_n(&gm_tag_by_id[id], __ATOMIC_ACQUIRE) : NULL;
}

static void gm_context_tag_define(gm_thread_t *t, gm_tag_t *tag)
{
	uint32_t gen = __atomic_load_n(&gm_context_gen, __ATOMIC_RELAXED);
	uint32_t old = __atomic_load_n(&tag->gen, __ATOMIC_RELAXED);
	uint32_t id = __atomic_load_n(&tag->id, __ATOMIC_ACQUIRE);
	/* (an id pushed before its interning thread published it: the
	 * definition is written at the next use) */
	if (old == gen || !gm_context_on(t) || id == 0 || id > GM_TAG_MAX)
		return;
	if (__atomic_compare_exchange_n(&tag->gen, &old, gen, 0, __ATOMIC_RELAXED,
	                                __ATOMIC_RELAXED))
		gm_thread_put_var(t, gm_rec_tag_def, id, tag->len, tag->name, tag->len);
}

/* A tag the full table could not take: its slot stays, with this id. */
#define GM_TAG_NONE UINT32_MAX

/* The id of cur, a tag another thread is interning: once that thread has
 * published it (its gm_tag_by_id entry first, so a push of the id finds
 * it); 0 for a tag the full table could not take, and 0 after a while
 * without it: the interning may be this very thread's, interrupted by a
 * signal handler that asks for the same name (or a fork child's copy of
 * another thread's, which never ends). */
static uint32_t gm_context_tag_wait(gm_tag_t *cur)
{
	uint32_t id;
	for (unsigned spins = 0; !(id = __atomic_load_n(&cur->id, __ATOMIC_ACQUIRE)); spins++) {
		if (spins < 1000)
			__builtin_ia32_pause();
		else if (spins < 1000 + 20000)
			sched_yield(); /* the interning thread was preempted */
		else
			return 0;
	}
	return id == GM_TAG_NONE ? 0 : id;
}

uint32_t gm_context_tag_id(gm_thread_t *t, const char *name)
{
	const char *use;
	size_t n = gm_context_name(t, name, "", &use, 0), i;
	uint64_t h;
	gm_tag_t *mine = NULL;
	if (n == 0)
		return 0;
	h = gm_context_hash(use, n);
	for (i = 0; i < GM_TAG_SLOTS; i++) {
		gm_tag_t **slot = &gm_tag_slots[(h + i) & (GM_TAG_SLOTS - 1)];
		gm_tag_t *cur = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		if (!cur) {
			uint32_t id;
			if (!mine) {
				mine = gm_mem_alloc(sizeof(*mine) + n + 1);
				if (!mine)
					return 0;
				mine->hash = h;
				mine->len = (uint32_t)n;
				memcpy(mine->name, use, n);
				mine->name[n] = 0;
			}
			if (!__atomic_compare_exchange_n(slot, &cur, mine, 0, __ATOMIC_ACQ_REL,
			                                 __ATOMIC_ACQUIRE)) {
				/* someone filled this slot first: look at what it holds */
				if (cur->hash == h && cur->len == n &&
				    memcmp(cur->name, use, n) == 0) {
					gm_mem_free(mine);
					if ((id = gm_context_tag_wait(cur)) != 0)
						gm_context_tag_define(t, cur);
					return id;
				}
				continue;
			}
			id = __atomic_add_fetch(&gm_tag_count, 1, __ATOMIC_RELAXED);
			if (id > GM_TAG_MAX) {
				/* table full: the slot stays taken, the tag is not usable
				 * (and threads asking for it again get 0, not a wait);
				 * said once, and its pushes push "no tag" unsaid (the
				 * flag set before the slot says so: a thread that finds
				 * the slot finds the flag) */
				int said = __atomic_exchange_n(&gm_tag_full, 1, __ATOMIC_ACQ_REL);
				__atomic_store_n(&mine->id, GM_TAG_NONE, __ATOMIC_RELEASE);
				if (!said) {
					gm_support_warn(
					        "more than 32768 tag names: the names past them "
					        "are recorded as no tag",
					        NULL, NULL);
					gm_context_valid(t, 0, gm_valid_unknown_tag, GM_TAG_MAX);
				}
				return 0;
			}
			/* by id first: another thread returns the id as soon as it
			 * sees it, and its push looks the id up */
			__atomic_store_n(&gm_tag_by_id[id], mine, __ATOMIC_RELEASE);
			gm_budget_tag_added(id, mine->name, mine->len);
			__atomic_store_n(&mine->id, id, __ATOMIC_RELEASE);
			gm_context_tag_define(t, mine);
			return id;
		}
		if (cur->hash == h && cur->len == n && memcmp(cur->name, use, n) == 0) {
			/* the winner may not have published its id yet */
			uint32_t id = gm_context_tag_wait(cur);
			if (mine)
				gm_mem_free(mine);
			if (id)
				gm_context_tag_define(t, cur);
			return id;
		}
	}
	return 0;
}

void gm_context_tag_push_said(gm_thread_t *t, uint32_t tag, int said)
{
	GM_CONTEXT_OP();
	gm_context_stack_t *c = &gm_context_self;
	gm_tag_t *def;
	if (tag == 0 || tag > GM_TAG_MAX ||
	    !(def = __atomic_load_n(&gm_tag_by_id[tag], __ATOMIC_ACQUIRE))) {
		/* an id nobody interned: push "no tag" so the pop still pairs
		 * (said: a name already refused, reported once; 0 once the
		 * table is full: the id of every name past it, said then) */
		if (!said && !(tag == 0 && __atomic_load_n(&gm_tag_full, __ATOMIC_RELAXED)))
			gm_context_valid(t, tag, gm_valid_unknown_tag, 0);
		tag = 0;
	} else {
		gm_context_tag_define(t, def);
	}
	if (c->ntags == GM_CONTEXT_DEPTH) {
		gm_context_valid(t, tag, gm_valid_stack_overflow, GM_CONTEXT_DEPTH);
		c->tag_spill++;
		return;
	}
	c->tags[c->ntags++] = tag;
	gm_context_update(t);
}

void gm_context_tag_push(gm_thread_t *t, uint32_t tag)
{
	gm_context_tag_push_said(t, tag, 0);
}

void gm_context_tag_pop(gm_thread_t *t)
{
	GM_CONTEXT_OP();
	gm_context_stack_t *c = &gm_context_self;
	if (c->tag_spill) {
		c->tag_spill--; /* the scope that did not fit */
		return;
	}
	if (c->ntags == 0) {
		gm_context_valid(t, 0, gm_valid_tag_underflow, 0);
		return;
	}
	c->ntags--;
	gm_context_update(t);
}

/* ---- assets -------------------------------------------------------------- */

#define GM_ASSET_PAGE 4096
#define GM_ASSET_PAGES 4096 /* 16M assets */

static gm_asset_t *gm_asset_pages[GM_ASSET_PAGES];
static uint64_t gm_asset_next = 1;
static uint64_t gm_scene_count;

gm_asset_t *gm_context_asset(uint64_t id)
{
	gm_asset_t *page;
	if (id == 0 || id >= __atomic_load_n(&gm_asset_next, __ATOMIC_ACQUIRE) ||
	    id / GM_ASSET_PAGE >= GM_ASSET_PAGES)
		return NULL;
	page = __atomic_load_n(&gm_asset_pages[id / GM_ASSET_PAGE], __ATOMIC_ACQUIRE);
	if (!page)
		return NULL;
	page += id % GM_ASSET_PAGE;
	return __atomic_load_n(&page->text, __ATOMIC_ACQUIRE) ? page : NULL;
}

/* The asset, or NULL after recording an unknown-id validation. */
static gm_asset_t *gm_context_known(gm_thread_t *t, uint64_t id)
{
	gm_asset_t *a = gm_context_asset(id);
	if (!a && id != 0)
		gm_context_valid(t, id, gm_valid_unknown_asset, 0);
	return a;
}

/* Record the asset's definition in this session if not done yet. */
static void gm_context_asset_define(gm_thread_t *t, uint64_t id, gm_asset_t *a)
{
	uint32_t gen = __atomic_load_n(&gm_context_gen, __ATOMIC_RELAXED);
	uint32_t old = __atomic_load_n(&a->gen, __ATOMIC_RELAXED);
	if (old == gen || !gm_context_on(t))
		return;
	if (__atomic_compare_exchange_n(&a->gen, &old, gen, 0, __ATOMIC_RELAXED,
	                                __ATOMIC_RELAXED)) {
		gm_thread_put_var(t, gm_rec_asset_new, id,
		                  (uint64_t)a->name_len | ((uint64_t)a->type_len << 16), a->text,
		                  (uint64_t)a->name_len + 1 + a->type_len);
		if (old != 0) /* a fork child: say where it stands now */
			gm_thread_put(t,
			              gm_rec_w0(id, gm_rec_asset_state,
			                        __atomic_load_n(&a->state, __ATOMIC_RELAXED)),
			              0);
	}
}

static void gm_context_state(gm_thread_t *t, uint64_t id, unsigned state)
{
	if (gm_context_on(t))
		gm_thread_put(t, gm_rec_w0(id, gm_rec_asset_state, state), 0);
}

static void gm_context_asset_push(gm_thread_t *t, uint64_t id, unsigned scope)
{
	gm_context_stack_t *c = &gm_context_self;
	if (c->nassets == GM_CONTEXT_DEPTH) {
		gm_context_valid(t, id, gm_valid_stack_overflow, GM_CONTEXT_DEPTH);
		c->asset_spill++;
		return;
	}
	c->asset_scope[c->nassets] = (uint8_t)scope;
	c->assets[c->nassets++] = id;
	gm_context_update(t);
}

int gm_context_scope_check(gm_thread_t *t)
{
	gm_context_stack_t *c = &gm_context_self;
	int changed = 0;
	if (gm_context_in_op)
		return 0;
	while (c->nassets) {
		uint32_t i = c->nassets - 1, scope = c->asset_scope[i], st;
		gm_asset_t *a;
		if (scope == gm_scope_attach || c->assets[i] == 0)
			break; /* (0: an evictor's neutral scope) */
		a = gm_context_asset(c->assets[i]);
		st = a ? __atomic_load_n(&a->state, __ATOMIC_ACQUIRE) : gm_asset_unloaded;
		if ((scope == gm_scope_load && st == gm_asset_loading) ||
		    (scope == gm_scope_unload && st == gm_asset_unloading))
			break;
		c->nassets--;
		changed = 1;
	}
	if (changed)
		gm_context_update(t);
	return changed;
}

/* Remove id from this thread's asset stack (the innermost occurrence);
 * returns 0, or -1 when it was not there (and no asset past the stack's
 * depth is still open). */
static int gm_context_asset_pop(gm_thread_t *t, uint64_t id)
{
	gm_context_stack_t *c = &gm_context_self;
	uint32_t i;
	for (i = c->nassets; i-- > 0;) {
		if (c->assets[i] != id)
			continue;
		memmove(&c->assets[i], &c->assets[i + 1],
		        (c->nassets - i - 1) * sizeof(c->assets[0]));
		memmove(&c->asset_scope[i], &c->asset_scope[i + 1],
		        (c->nassets - i - 1) * sizeof(c->asset_scope[0]));
		c->nassets--;
		gm_context_update(t);
		return 0;
	}
	if (c->asset_spill) {
		c->asset_spill--; /* an asset that did not fit on the stack */
		return 0;
	}
	return -1;
}

uint64_t gm_context_asset_load_begin(gm_thread_t *t, const char *name, const char *type)
{
	GM_CONTEXT_OP();
	const char *n, *ty;
	size_t nl, tl;
	uint64_t id;
	gm_asset_t *page, *a;
	char *text;
	id = __atomic_load_n(&gm_asset_next, __ATOMIC_RELAXED);
	nl = gm_context_name(t, name, "(unnamed)", &n, id);
	tl = gm_context_name(t, type, "unknown", &ty, id);
	text = gm_mem_alloc(nl + tl + 2);
	if (!text)
		return 0;
	memcpy(text, n, nl);
	memcpy(text + nl + 1, ty, tl);
	id = __atomic_fetch_add(&gm_asset_next, 1, __ATOMIC_ACQ_REL);
	if (id / GM_ASSET_PAGE >= GM_ASSET_PAGES) {
		gm_mem_free(text);
		return 0;
	}
	page = __atomic_load_n(&gm_asset_pages[id / GM_ASSET_PAGE], __ATOMIC_ACQUIRE);
	if (!page) {
		gm_asset_t *fresh = gm_mem_alloc(GM_ASSET_PAGE * sizeof(*fresh));
		gm_asset_t *expect = NULL;
		if (!fresh) {
			gm_mem_free(text);
			return 0;
		}
		if (__atomic_compare_exchange_n(&gm_asset_pages[id / GM_ASSET_PAGE], &expect, fresh,
		                                0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			page = fresh;
		} else {
			gm_mem_free(fresh);
			page = expect;
		}
	}
	a = &page[id % GM_ASSET_PAGE];
	a->state = gm_asset_loading;
	a->refs = 0;
	a->last_touch = UINT64_MAX;
	a->touch_said = UINT64_MAX;
	a->extra = 0;
	a->name_len = (uint16_t)nl;
	a->type_len = (uint16_t)tl;
	a->gen = 0;
	a->bytes = 0;
	a->touches = 0;
	a->priority = 0;
	a->pinned = 0;
	a->evicting = 0;
	a->freed_away = 0;
	a->stuck_frame = 0;
	a->born_evict = gm_budget_born_in();
	a->id = id;
	/* its type's node; else the node of the tag it is loaded under, whose
	 * heap serves and counts its blocks: either way the node's evictions
	 * can take it */
	a->node = (uint8_t)gm_budget_node_for_type(ty, tl);
	if (!a->node)
		a->node = (uint8_t)gm_budget_node_for_tag(gm_context_tag_now);
	__atomic_store_n(&a->text, text, __ATOMIC_RELEASE);
	gm_context_asset_define(t, id, a);
	gm_context_asset_push(t, id, gm_scope_load);
	return id;
}

/* Move a from one of the states in mask to next; returns the state it was
 * in (the move happened iff that state is in mask). */
static uint32_t gm_context_move(gm_asset_t *a, uint32_t mask, uint32_t next)
{
	uint32_t cur = __atomic_load_n(&a->state, __ATOMIC_ACQUIRE);
	while ((1u << cur) & mask) {
		if (__atomic_compare_exchange_n(&a->state, &cur, next, 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE))
			break;
	}
	return cur;
}

void gm_context_asset_load_end(gm_thread_t *t, uint64_t id, int ok)
{
	GM_CONTEXT_OP();
	gm_asset_t *a = gm_context_known(t, id);
	uint32_t was, next = ok ? gm_asset_resident : gm_asset_failed;
	if (!a)
		return;
	gm_context_asset_define(t, id, a);
	was = gm_context_move(a, 1u << gm_asset_loading, next);
	if (was != gm_asset_loading)
		gm_context_valid(t, id, gm_valid_bad_state, was);
	else
		gm_context_state(t, id, next);
	if (gm_context_asset_pop(t, id) != 0 && was == gm_asset_loading)
		gm_context_valid(t, id, gm_valid_detach_mismatch, 0);
}

void gm_context_asset_attach(gm_thread_t *t, uint64_t id)
{
	GM_CONTEXT_OP();
	gm_asset_t *a = gm_context_known(t, id);
	if (!a)
		return;
	gm_context_asset_define(t, id, a);
	gm_context_asset_push(t, id, gm_scope_attach);
}

void gm_context_asset_detach(gm_thread_t *t, uint64_t id)
{
	GM_CONTEXT_OP();
	if (gm_context_asset_pop(t, id) != 0)
		gm_context_valid(t, id, gm_valid_detach_mismatch, 0);
}

void gm_context_asset_ref(gm_thread_t *t, uint64_t id, int add)
{
	gm_asset_t *a = gm_context_known(t, id);
	int32_t cur, next;
	if (!a)
		return;
	gm_context_asset_define(t, id, a);
	cur = __atomic_load_n(&a->refs, __ATOMIC_RELAXED);
	do {
		if (!add && cur <= 0) {
			gm_context_valid(t, id, gm_valid_release_below_zero,
			                 (uint64_t)(uint32_t)cur);
			return;
		}
		next = add ? cur + 1 : cur - 1;
	} while (!__atomic_compare_exchange_n(&a->refs, &cur, next, 1, __ATOMIC_ACQ_REL,
	                                      __ATOMIC_RELAXED));
	if (gm_context_on(t))
		gm_thread_put(t,
		              gm_rec_w0(id, gm_rec_asset_ref,
		                        add ? gm_asset_op_ref : gm_asset_op_release),
		              (uint64_t)(uint32_t)next);
}

void gm_context_asset_touch(gm_thread_t *t, uint64_t id)
{
	gm_asset_t *a = gm_context_known(t, id);
	uint64_t frame, last, said;
	if (!a)
		return;
	frame = __atomic_load_n(&gm_frame_number, __ATOMIC_RELAXED);
	last = __atomic_load_n(&a->last_touch, __ATOMIC_RELAXED);
	/* once per frame: what the eviction policies read (LRU the frame,
	 * LFU the count), the same at every level */
	if (last != UINT64_MAX && last == frame)
		return;
	if (!__atomic_compare_exchange_n(&a->last_touch, &last, frame, 0, __ATOMIC_RELAXED,
	                                 __ATOMIC_RELAXED))
		return; /* another thread counted this frame's touch */
	__atomic_add_fetch(&a->touches, 1, __ATOMIC_RELAXED);
	/* one record per frame; in the frames level one per 60 frames is
	 * enough for heat maps of hour-long sessions */
	said = __atomic_load_n(&a->touch_said, __ATOMIC_RELAXED);
	if (said != UINT64_MAX && gm_event_level == gm_level_frames && frame - said < 60)
		return;
	__atomic_store_n(&a->touch_said, frame, __ATOMIC_RELAXED);
	gm_context_asset_define(t, id, a);
	if (gm_context_on(t))
		gm_thread_put(t, gm_rec_w0(id, gm_rec_asset_ref, gm_asset_op_touch), frame);
}

/* The unknown id this thread's last unload begin named: its unload end is
 * the same misuse (gmtrace_asset_unload is the two), said once. */
static __thread uint64_t gm_context_unknown_unload __attribute__((tls_model("initial-exec")));

void gm_context_asset_unload_begin(gm_thread_t *t, uint64_t id)
{
	GM_CONTEXT_OP();
	gm_asset_t *a = gm_context_known(t, id);
	uint32_t was;
	int32_t refs;
	gm_context_unknown_unload = a ? 0 : id;
	if (!a)
		return;
	gm_context_asset_define(t, id, a);
	was = gm_context_move(
	        a, (1u << gm_asset_resident) | (1u << gm_asset_failed) | (1u << gm_asset_loading),
	        gm_asset_unloading);
	if (was == gm_asset_unloading || was == gm_asset_unloaded) {
		gm_context_valid(t, id, gm_valid_double_unload, was);
		return;
	}
	refs = __atomic_load_n(&a->refs, __ATOMIC_RELAXED);
	if (refs > 0)
		gm_context_valid(t, id, gm_valid_unload_with_refs, (uint64_t)refs);
	gm_context_state(t, id, gm_asset_unloading);
	gm_context_asset_push(t, id, gm_scope_unload);
}

void gm_context_asset_unload_end(gm_thread_t *t, uint64_t id)
{
	GM_CONTEXT_OP();
	gm_asset_t *a;
	uint32_t was;
	if (id != 0 && id == gm_context_unknown_unload) {
		gm_context_unknown_unload = 0;
		return;
	}
	if (!(a = gm_context_known(t, id)))
		return;
	was = gm_context_move(a, 1u << gm_asset_unloading, gm_asset_unloaded);
	if (was != gm_asset_unloading) {
		if (was != gm_asset_unloaded) /* a double unload was reported at begin */
			gm_context_valid(t, id, gm_valid_bad_state, was);
		return;
	}
	gm_context_state(t, id, gm_asset_unloaded);
	/* ended on another thread than the one that began it: said, and the
	 * scope leaves that thread's stack at its next allocation
	 * (gm_context_scope_check) */
	if (gm_context_asset_pop(t, id) != 0)
		gm_context_valid(t, id, gm_valid_detach_mismatch, 0);
}

void gm_context_asset_extra(gm_thread_t *t, uint64_t id, uint64_t bytes)
{
	gm_asset_t *a = gm_context_known(t, id);
	if (!a)
		return;
	gm_context_asset_define(t, id, a);
	if (bytes > GM_REC_SIZE_MASK) /* the record's field: 1 TiB - 1 at most */
		bytes = GM_REC_SIZE_MASK;
	__atomic_store_n(&a->extra, bytes, __ATOMIC_RELAXED);
	if (gm_context_on(t))
		gm_thread_put(t, gm_rec_w0(id, gm_rec_asset_extra, 0), bytes);
}

void gm_context_scene(gm_thread_t *t, const char *name)
{
	const char *n;
	uint64_t num = __atomic_add_fetch(&gm_scene_count, 1, __ATOMIC_RELAXED);
	size_t len = gm_context_name(t, name, "(unnamed)", &n, num);
	if (gm_context_on(t))
		gm_thread_put_var(t, gm_rec_scene, num, len, n, len);
}

uint64_t gm_context_asset_limit(void)
{
	return __atomic_load_n(&gm_asset_next, __ATOMIC_ACQUIRE);
}

void gm_event_asset_bytes(uint64_t n)
{
	__atomic_add_fetch(&gm_context_asset_now->bytes, n, __ATOMIC_RELAXED);
}

uint32_t gm_context_tag_count(void)
{
	uint32_t n = __atomic_load_n(&gm_tag_count, __ATOMIC_ACQUIRE);
	return n > GM_TAG_MAX ? GM_TAG_MAX : n;
}

const char *gm_context_tag_name(uint32_t id, size_t *len)
{
	gm_tag_t *tag;
	if (id == 0 || id > GM_TAG_MAX ||
	    !(tag = __atomic_load_n(&gm_tag_by_id[id], __ATOMIC_ACQUIRE)))
		return NULL;
	*len = tag->len;
	return tag->name;
}

void gm_context_refresh(void)
{
	gm_context_stack_t *c = &gm_context_self;
	uint32_t tag = c->ntags ? c->tags[c->ntags - 1] : 0;
	gm_asset_t *a = gm_context_asset_now;
	gm_context_node_now = gm_budget_route(tag, a ? a->node : 0);
}

void gm_context_neutral_push(gm_thread_t *t)
{
	GM_CONTEXT_OP();
	gm_context_stack_t *c = &gm_context_self;
	/* "no tag, no asset" as the innermost scope: what the evictor does is
	 * the evictor's, not the allocation's it interrupted */
	if (c->ntags < GM_CONTEXT_DEPTH)
		c->tags[c->ntags++] = 0;
	if (c->nassets < GM_CONTEXT_DEPTH) {
		c->asset_scope[c->nassets] = gm_scope_attach;
		c->assets[c->nassets++] = 0;
	}
	gm_context_update(t);
}

uint64_t gm_context_depths(void)
{
	gm_context_stack_t *c = &gm_context_self;
	return (uint64_t)c->ntags << 32 | c->nassets;
}

void gm_context_unwind(gm_thread_t *t, uint64_t depths)
{
	GM_CONTEXT_OP();
	gm_context_stack_t *c = &gm_context_self;
	if (c->ntags > (uint32_t)(depths >> 32))
		c->ntags = (uint32_t)(depths >> 32);
	if (c->nassets > (uint32_t)depths)
		c->nassets = (uint32_t)depths;
	gm_context_update(t);
}

void gm_context_neutral_pop(gm_thread_t *t)
{
	GM_CONTEXT_OP();
	gm_context_stack_t *c = &gm_context_self;
	/* the evictor's own scopes are closed by now; drop our two zeros */
	if (c->ntags && c->tags[c->ntags - 1] == 0)
		c->ntags--;
	if (c->nassets && c->assets[c->nassets - 1] == 0)
		c->nassets--;
	gm_context_update(t);
}

/* stacks.h - where a capture's memory was allocated: its call stacks
 *
 * Fed every event of a capture recorded with GMTRACE_STACKS, the model
 * gathers, per call stack (the writer's stack id), the allocations made
 * there, their bytes, the largest, and the blocks still live at the end of
 * the capture. A site record names the stack of the next allocation or
 * realloc of its thread; a stack's definition may come later in the merged
 * order than its first use (another thread defined it), so frames are
 * matched to ids only when the model is finished. Allocations without a
 * site record (stacks off, or a thread's record lost) are counted apart,
 * as are those at stack id 0 (the writer's table was full).
 *
 * Modules (path, address range) are kept as recorded, for symbols.h.
 */
#ifndef GM_STACKS_H
#define GM_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/log/reader.h"

/* The site record pending on each thread: the stack its next allocation
 * was made at (FORMAT.md, "Call stacks"). Every model that counts by call
 * site reads sites through this, so the rules live in one place. Zeroed
 * to start. */
typedef struct gm_sites {
	uint64_t *pending; /* per thread: 1 + stack id, 0: none */
	size_t n;
	/* stacks written whole with their allocation (site_frames records:
	 * the writer's table was full), interned by their frames; stack id
	 * GM_SITES_WHOLE + index, so every model that reads a capture in order
	 * gives them the same ids */
	uint64_t **whole; /* each: [frame count] frames... */
	size_t nwhole, capwhole;
	uint32_t *whole_slots; /* open addressing by frames: 1 + index */
	size_t whole_cap;      /* a power of two, or 0 */
} gm_sites_t;

/* Ids from here on name stacks written whole (site_frames records). */
#define GM_SITES_WHOLE 0x80000000u

/* Takes one event. A site record is noted (a site_frames record too, its
 * stack interned); an alloc, a realloc, a fail or a realloc-kind free (a
 * realloc to 0) takes its thread's pending site into *site (1 + stack id,
 * 0: none); any other event sets *site to 0. The writer's stack ids stay
 * under GM_SITES_WHOLE: a larger one (a damaged capture) names no stack.
 * Returns 0 or -ENOMEM. */
int gm_sites_event(gm_sites_t *s, const gm_event_t *ev, uint64_t *site);

/* Frees the table; the tracker is zeroed again. */
void gm_sites_free(gm_sites_t *s);

/* The frames of a stack written whole (id from GM_SITES_WHOLE): 1 with
 * *frames and *n set, else 0. */
int gm_sites_whole(const gm_sites_t *s, uint32_t id, const uint64_t **frames, uint32_t *n);

typedef struct gm_stack_site {
	uint32_t id;              /* the writer's stack id (0: not kept) */
	uint32_t nframes;         /* 0 when no definition was seen */
	const uint64_t *frames;   /* return addresses, innermost first */
	uint64_t allocations;     /* allocations and reallocs made there */
	uint64_t allocated_bytes; /* their requested sizes */
	uint64_t largest;         /* the largest of them */
	uint64_t live_count;      /* of them, live at the end of the capture */
	uint64_t live_bytes;
	uint64_t defined_at; /* event number of its definition (modules then mapped) */
	uint64_t failures;   /* allocations that failed there (NULL, ENOMEM) */
} gm_stack_site_t;

/* A module as recorded: mapped from event number loaded_at (its module
 * record) until unloaded_at (its module_unload record, UINT64_MAX if none). */
typedef struct gm_stack_module {
	uint64_t base, size;
	uint64_t loaded_at, unloaded_at;
	/* time of its module record from the capture's first event, in ns (a
	 * module loaded after start-up, a hot-reloaded plugin say) */
	uint64_t loaded_after_ns;
	char *path;
	/* the GNU build ID of the file the game mapped (its module_id record;
	 * id_len 0: none recorded, a capture before format 3.4 say) */
	unsigned char id[64];
	unsigned id_len;
} gm_stack_module_t;

typedef struct gm_stacks gm_stacks_t;

/* An empty model, or NULL when out of memory. */
gm_stacks_t *gm_stacks_new(void);

/* Frees the model; NULL is allowed. */
void gm_stacks_free(gm_stacks_t *s);

/* Count only allocations made in frames from..to (1-based: frame i is what
 * happened after main frame mark i-1 up to mark i; events after the last
 * mark are in frame marks+1). Call before the first event; the default is
 * every allocation. */
void gm_stacks_frames(gm_stacks_t *s, uint64_t from, uint64_t to);

/* Count only allocations made under a tag (tag: its name, or a parent's:
 * "render" takes "render/textures") and/or in an asset's scope (asset: its
 * name, or a folder of names: "levels/harbor" takes "levels/harbor/terrain"),
 * as the thread's context records say; NULL for any. The strings must
 * outlive the model. Call before the first event. */
void gm_stacks_filter(gm_stacks_t *s, const char *tag, const char *asset);

/* Count only allocations made in the scopes of the asset with this id
 * (one of several assets of a name), in place of a name filter. */
void gm_stacks_filter_asset_id(gm_stacks_t *s, uint64_t id);

/* How many tags and assets the filter's names matched in the events so
 * far (0 for a filter not set). */
void gm_stacks_filter_matched(const gm_stacks_t *s, size_t *ntags, size_t *nassets);

/* Takes one event. Returns 0, or -ENOMEM (the model is then incomplete). */
int gm_stacks_event(gm_stacks_t *s, const gm_event_t *ev);

/* Matches definitions to sites and counts the live blocks; call once after
 * the last event. Returns 0 or -ENOMEM. */
int gm_stacks_finish(gm_stacks_t *s);

/* Sites, in the order they were first used. */
size_t gm_stacks_count(const gm_stacks_t *s);
const gm_stack_site_t *gm_stacks_site(const gm_stacks_t *s, size_t i);

/* Totals: every allocation and realloc; those with no site record. */
typedef struct gm_stacks_totals {
	uint64_t allocations, allocated_bytes;
	uint64_t unattributed, unattributed_bytes; /* no site record before them */
	uint64_t not_kept, not_kept_bytes;         /* at stack id 0: the writer's
	                                              table was full (before
	                                              format 3.2) */
	uint64_t whole, whole_bytes;               /* at stacks written whole: the
	                                              writer's table was full */
	uint64_t failures;                         /* fail records */
	uint64_t definitions;                      /* stack records */
	uint64_t undefined;                        /* sites used but never defined */
	uint32_t max_frames;                       /* deepest stack defined */
	uint64_t marks;                            /* main frame marks seen */
} gm_stacks_totals_t;
const gm_stacks_totals_t *gm_stacks_totals(const gm_stacks_t *s);

/* The frames of stack id, when a stack record defined it: 1 with *frames,
 * *n and *defined_at set, else 0. */
int gm_stacks_defined(const gm_stacks_t *s, uint32_t id, const uint64_t **frames, uint32_t *n,
                      uint64_t *defined_at);

/* The Python code object id (named by frames with GM_PYFRAME_BIT): 1 with
 * its qualified name, file and first line when a pycode record defined it,
 * else 0. */
int gm_stacks_pycode(const gm_stacks_t *s, uint32_t id, const char **name, const char **file,
                     uint32_t *first_line);

/* Modules recorded, in record order. */
size_t gm_stacks_nmodules(const gm_stacks_t *s);
const gm_stack_module_t *gm_stacks_module(const gm_stacks_t *s, size_t i);

/* The path of the program (its process record's), NULL before one. */
const char *gm_stacks_exe(const gm_stacks_t *s);

/* Index of the module that held address pc at event number when: the one
 * mapped then; else the first one recorded after (the game records new
 * modules every 50 ms, so a stack may come before its module's record);
 * else the last one that held it. -1 when no module ever held pc. */
long gm_stacks_module_at(const gm_stacks_t *s, uint64_t pc, uint64_t when);

#endif

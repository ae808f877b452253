/* callsite.h - call stacks for every report that shows call sites
 * (gmtrace stacks and html, the pool candidates of gmtrace pools): a
 * stack's frames written out, and the rows of stacks that name the same
 * places (a loop the compiler unrolled calls the allocator from several
 * addresses of one line: one row, not many)
 */
#ifndef GM_CALLSITE_H
#define GM_CALLSITE_H

#include <stdint.h>

#include "analysis/model/symbols.h"
#include "analysis/report/json.h"

/* A frame's name for people: its function, "<python code N>" for a Python
 * frame whose code is not named in the capture (in buf, cap bytes), or NULL
 * (each view shows the module and offset, or the address, its own way). */
const char *gm_callsite_name(const gm_symbol_t *y, uint64_t pc, char *buf, size_t cap);

/* The last component of a path: a module's or a source file's name. */
const char *gm_callsite_base(const char *path);

/* "frames": the n return addresses pcs of a stack defined at event number
 * when, each {address, function, file, line, module, offset, python} (null
 * strings, line 0, where unknown; a Python frame has python true, no
 * address and no module). */
void gm_callsite_frames_json(gm_json_t *j, gm_symbols_t *sy, const uint64_t *pcs, unsigned n,
                             uint64_t when);

/* One row of the report: the stacks whose shown frames name the same
 * places (a loop unrolled by the compiler calls from several addresses of
 * one line), summed; s.id and s.frames are the first stack's. */
typedef struct gm_callsite_row {
	gm_stack_site_t s;
	uint32_t merged; /* stacks in the row */
	char *key;       /* the shown frames, by name */
} gm_callsite_row_t;

/* Rows of a stacks model: its sites (those with a frame whose function or
 * file has match in it, when match is not NULL), the ones whose first depth
 * frames (0: all) name the same places merged, in key order; *nrows set.
 * NULL when out of memory. Frees with gm_callsite_rows_free. */
gm_callsite_row_t **gm_callsite_rows(gm_stacks_t *st, gm_symbols_t *sy, uint64_t depth,
                                     const char *match, size_t *nrows);
void gm_callsite_rows_free(gm_callsite_row_t **rows, size_t n);

/* Allocations and their bytes over rows. */
void gm_callsite_rows_sum(gm_callsite_row_t *const *rows, size_t n, uint64_t *allocs,
                          uint64_t *bytes);

/* Frames of s shown at depth (0: all). */
unsigned gm_callsite_shown(const gm_stack_site_t *s, uint64_t depth);

#endif

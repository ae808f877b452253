/* callsite.c - call stacks for reports: their frames written out, and rows
 * of stacks that name the same places (callsite.h) */
#define _GNU_SOURCE /* open_memstream */
#include "analysis/report/callsite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gm_callsite_name(const gm_symbol_t *y, uint64_t pc, char *buf, size_t cap)
{
	if (y->function)
		return y->function;
	if (!y->python)
		return NULL;
	snprintf(buf, cap, "<python code %u>", (unsigned)GM_PYFRAME_CODE(pc));
	return buf;
}

const char *gm_callsite_base(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

void gm_callsite_frames_json(gm_json_t *j, gm_symbols_t *sy, const uint64_t *pcs, unsigned n,
                             uint64_t when)
{
	char hex[24];
	unsigned k;
	gm_json_key(j, "frames");
	gm_json_array_begin(j);
	for (k = 0; k < n; k++) {
		gm_symbol_t y;
		gm_symbols_frame(sy, pcs, k, when, &y);
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)pcs[k]);
		gm_json_object_begin(j);
		gm_json_key_string(j, "address", y.python ? NULL : hex);
		gm_json_key_string(j, "function", y.function);
		gm_json_key_string(j, "file", y.file);
		gm_json_key_u64(j, "line", (uint64_t)(y.line > 0 ? y.line : 0));
		gm_json_key_string(j, "module", y.module);
		gm_json_key_u64(j, "offset", y.offset);
		gm_json_key_bool(j, "python", y.python);
		gm_json_key(j, "inlined");
		if (y.inlined) {
			gm_json_object_begin(j);
			gm_json_key_string(j, "function", y.inlined);
			gm_json_key_string(j, "file", y.inlined_file);
			gm_json_key_u64(j, "line",
			                (uint64_t)(y.inlined_line > 0 ? y.inlined_line : 0));
			gm_json_object_end(j);
		} else {
			gm_json_null(j);
		}
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
}

static int gm_callsite_key_cmp(const void *a, const void *b)
{
	const gm_callsite_row_t *x = *(gm_callsite_row_t *const *)a;
	const gm_callsite_row_t *y = *(gm_callsite_row_t *const *)b;
	int c = strcmp(x->key, y->key);
	return c ? c : x->s.id < y->s.id ? -1 : x->s.id > y->s.id;
}

unsigned gm_callsite_shown(const gm_stack_site_t *s, uint64_t depth);

/* A module's part of a key: its file name, or for the program itself a
 * name of its own (two builds of one game named apart, game-1.2 and
 * game-1.3, are still one program). */
static const char *gm_callsite_module_key(const char *module, const char *exe)
{
	if (!module)
		return "";
	if (exe && strcmp(module, exe) == 0)
		return "\x01program";
	return gm_callsite_base(module);
}

/* The key of a stack's shown frames: function, file name and line of each,
 * function and the offset in it where no line is known (a build without
 * -g: across two builds a call site then matches where its function's
 * code did not change),
 * module name and offset where no name is; a stack with no frames
 * is its own row. Names, not paths: one program built or run in another
 * folder (a CI workspace of another name) matches, and the program's own
 * module (exe: its path) matches under any name. NULL when out of memory. */
static char *gm_callsite_key(gm_symbols_t *sy, const gm_stack_site_t *s, uint64_t depth,
                             const char *exe)
{
	char *buf = NULL;
	size_t len = 0;
	unsigned k, nf = gm_callsite_shown(s, depth);
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	if (nf == 0)
		fprintf(f, "#%u", s->id);
	for (k = 0; k < nf; k++) {
		gm_symbol_t y;
		gm_symbols_frame(sy, s->frames, k, s->defined_at, &y);
		if (y.function && (y.file || y.python))
			/* (the module: same names in two libraries differ; the
			 * inlined code too: two constructors inlined on one line) */
			fprintf(f, "%s\x1f%s\x1f%d\x1f%s\x1f%s\x1f%d\x1e", y.function,
			        y.file ? gm_callsite_base(y.file) : "", y.line,
			        gm_callsite_module_key(y.module, exe), y.inlined ? y.inlined : "",
			        y.inlined_line);
		else if (y.function)
			/* no line (a build without -g): the function alone would
			 * make one row of all its call sites, a leak among them;
			 * the offset in the function, which code added elsewhere
			 * does not move */
			fprintf(f, "%s\x1f+%llx\x1f%s\x1e", y.function,
			        (unsigned long long)y.fn_offset,
			        gm_callsite_module_key(y.module, exe));
		else
			fprintf(f, "%s+%llx\x1e", gm_callsite_module_key(y.module, exe),
			        (unsigned long long)(y.module ? y.offset : s->frames[k]));
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* 1 when a frame of s (shown or not) names text in its function or file. */
static int gm_callsite_matches(gm_symbols_t *sy, const gm_stack_site_t *s, const char *text)
{
	uint32_t k;
	for (k = 0; k < s->nframes; k++) {
		gm_symbol_t y;
		gm_symbols_frame(sy, s->frames, k, s->defined_at, &y);
		/* the names a frame shows: its function and file, and the
		 * inlined code's ("load_level in inlined game_alloc") */
		if ((y.function && strstr(y.function, text)) || (y.file && strstr(y.file, text)) ||
		    (y.inlined && strstr(y.inlined, text)) ||
		    (y.inlined_file && strstr(y.inlined_file, text)))
			return 1;
	}
	return 0;
}

/* Rows from the model's stacks (those naming match, when not NULL), merged
 * by key; *nrows set. NULL when out of memory. */
gm_callsite_row_t **gm_callsite_rows(gm_stacks_t *st, gm_symbols_t *sy, uint64_t depth,
                                     const char *match, size_t *nrows)
{
	size_t n = gm_stacks_count(st), k, m = 0, i;
	gm_callsite_row_t **rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows)
		return NULL;
	for (k = 0, i = 0; i < gm_stacks_count(st); i++) {
		if (match && !gm_callsite_matches(sy, gm_stacks_site(st, i), match)) {
			n--;
			continue;
		}
		if (!(rows[k] = calloc(1, sizeof(**rows))))
			goto nomem;
		rows[k]->s = *gm_stacks_site(st, i);
		rows[k]->merged = 1;
		if (!(rows[k]->key = gm_callsite_key(sy, &rows[k]->s, depth, gm_stacks_exe(st))))
			goto nomem;
		k++;
	}
	qsort(rows, n, sizeof(*rows), gm_callsite_key_cmp);
	for (k = 0; k < n; k++) {
		gm_callsite_row_t *r = rows[k];
		if (m > 0 && strcmp(rows[m - 1]->key, r->key) == 0) {
			gm_stack_site_t *d = &rows[m - 1]->s;
			d->allocations += r->s.allocations;
			d->allocated_bytes += r->s.allocated_bytes;
			d->live_count += r->s.live_count;
			d->live_bytes += r->s.live_bytes;
			d->failures += r->s.failures;
			if (r->s.largest > d->largest)
				d->largest = r->s.largest;
			rows[m - 1]->merged++;
			free(r->key);
			free(r);
			continue;
		}
		rows[m++] = r;
	}
	*nrows = m;
	return rows;
nomem:
	for (k = 0; k < n; k++)
		if (rows[k]) {
			free(rows[k]->key);
			free(rows[k]);
		}
	free(rows);
	return NULL;
}

/* Allocations and their bytes over rows. */
void gm_callsite_rows_sum(gm_callsite_row_t *const *rows, size_t n, uint64_t *allocs,
                          uint64_t *bytes)
{
	size_t i;
	*allocs = *bytes = 0;
	for (i = 0; i < n; i++) {
		*allocs += rows[i]->s.allocations;
		*bytes += rows[i]->s.allocated_bytes;
	}
}

void gm_callsite_rows_free(gm_callsite_row_t **rows, size_t n)
{
	size_t k;
	for (k = 0; rows && k < n; k++) {
		free(rows[k]->key);
		free(rows[k]);
	}
	free(rows);
}

unsigned gm_callsite_shown(const gm_stack_site_t *s, uint64_t depth)
{
	return depth && depth < s->nframes ? (unsigned)depth : s->nframes;
}

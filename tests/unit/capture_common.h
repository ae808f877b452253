/* capture_common.h - what the frames and pools tests build captures with
 *
 * Built on capture_file.h. Included by frames_capture.h and
 * pools_capture.h, which add their own record helpers: a words_t of record
 * words (put() appends one),
 * write_capture() putting one raw block per words_t into a file of the
 * suite's temporary folder (caps_setup/caps_teardown make and remove it),
 * and an evs_t of events fed to a model directly (ev() appends one,
 * evs_free() empties the list).
 */
#ifndef GM_TEST_CAPTURE_COMMON_H
#define GM_TEST_CAPTURE_COMMON_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/log/reader.h"
#include "capture_file.h"
#include "interpose/log/format.h"

typedef struct words {
	uint64_t *w;
	size_t n, cap;
	uint64_t tsc;    /* TSC of the last record (0 before the first) */
	uint32_t thread; /* writer thread index of the block */
	uint32_t seq;    /* chunk sequence number of the block */
} words_t;

static char tmpdir[64];
static char paths[16][128];
static int npaths;

static inline void put(words_t *r, uint64_t w)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->w = realloc(r->w, r->cap * sizeof(*r->w));
		cr_assert_not_null(r->w);
	}
	r->w[r->n++] = w;
}

/* Writes the blocks (raw, one per words_t, with its thread and seq) as a
 * capture and frees their words; returns its path. */
static inline const char *write_capture(const char *name, words_t *blocks, int nblocks)
{
	char *path = paths[npaths++];
	gm_file_header_t h = cap_file_header();
	capbuf_t c = {0};
	int t;

	snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
	h.pid = 4242;
	cb_put(&c, &h, sizeof(h));
	for (t = 0; t < nblocks; t++) {
		uint32_t bytes = (uint32_t)(blocks[t].n * sizeof(uint64_t));
		/* tsc_base 0: frames_capture.h's head() puts time records before far ones */
		cb_block_at(&c, gm_block_raw, blocks[t].thread, blocks[t].seq, 0, bytes, 0,
		            blocks[t].w, bytes);
		free(blocks[t].w);
	}
	cb_write(&c, path);
	return path;
}

/* The suite's temporary folder, named after prefix. */
static inline void caps_setup(const char *prefix)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/%s.XXXXXX", prefix);
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp(%s): %s", tmpdir, strerror(errno));
	npaths = 0;
}

static inline void caps_teardown(void)
{
	int i;

	for (i = 0; i < npaths; i++)
		unlink(paths[i]);
	rmdir(tmpdir);
}

/* ---- events fed to a model directly --------------------------------------- */

/* A list of events with their extra words. */
typedef struct evs {
	gm_event_t *e;
	size_t n, cap;
	uint64_t ns; /* for tests that move time themselves: the last event's */
} evs_t;

/* Appends an event at ns (TSC = ns) with a copy of its nw extra words. */
static inline void ev(evs_t *l, uint64_t ns, uint32_t thread, unsigned type, unsigned x, uint64_t a,
                      uint64_t b, const uint64_t *w, size_t nw)
{
	gm_event_t *e;
	uint64_t *copy = NULL;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->e = realloc(l->e, l->cap * sizeof(*l->e));
		cr_assert_not_null(l->e);
	}
	if (nw) {
		copy = calloc((nw + 1) / 2 * 2, sizeof(*copy));
		cr_assert_not_null(copy);
		memcpy(copy, w, nw * sizeof(*w));
	}
	e = &l->e[l->n++];
	*e = event_at(ns, thread, type, x, a, b, copy, (uint32_t)((nw + 1) / 2));
}

/* Frees the events and their words; the list is empty again. */
static inline void evs_free(evs_t *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free((void *)l->e[i].extra);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

#endif

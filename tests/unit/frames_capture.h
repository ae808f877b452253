/* frames_capture.h - synthetic captures for the frames tests
 *
 * Shared by test_frames.c (the model) and test_frames_cmd.c (gmtrace
 * frames): records appended to a recs_t at the TSC given (a time record
 * first when the step would not fit the 24-bit tick), the process record
 * at 1 GHz, and the suite's temporary folder (caps_setup/caps_teardown).
 */
#ifndef GM_TEST_FRAMES_CAPTURE_H
#define GM_TEST_FRAMES_CAPTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interpose/log/format.h"

typedef struct recs {
	uint64_t *w;
	size_t n, cap;
	uint64_t prev;   /* TSC of the previous record */
	uint32_t thread; /* writer thread index of the block */
	uint32_t seq;    /* chunk sequence number of the block */
} recs_t;

static char tmpdir[64];
static char paths[8][128];
static int npaths;

static inline void put(recs_t *r, uint64_t w)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->w = realloc(r->w, r->cap * sizeof(*r->w));
		cr_assert_not_null(r->w);
	}
	r->w[r->n++] = w;
}

/* The first unit of a record at tsc; a time record first when the step
 * from the previous record would not fit the 24-bit tick. */
static inline void head(recs_t *r, uint64_t tsc, uint64_t w0, uint64_t b)
{
	uint64_t step = tsc > r->prev ? tsc - r->prev : r->prev - tsc;

	if (step >= (1ull << 22)) {
		put(r, gm_rec_w0(0, gm_rec_time, 1));
		put(r, gm_rec_w1(0, tsc));
		put(r, tsc);
		put(r, 0);
	}
	r->prev = tsc;
	put(r, w0);
	put(r, gm_rec_w1(b, tsc));
}

static inline void r_process(recs_t *r, uint64_t tsc)
{
	head(r, tsc, gm_rec_w0(4242, gm_rec_process, 3), 1);
	put(r, 1);          /* realtime ns */
	put(r, tsc);        /* monotonic ns at start */
	put(r, tsc);        /* TSC at start */
	put(r, 1000000000); /* 1 GHz */
	put(r, 0);          /* no exe, */
	put(r, 0);          /* no argv */
}

static inline void r_alloc(recs_t *r, uint64_t tsc, uint64_t ptr, uint64_t size)
{
	head(r, tsc, gm_rec_w0(ptr, gm_rec_alloc, gm_kind_malloc), size);
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

#endif

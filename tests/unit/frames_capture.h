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

/* Writes the blocks (raw, one per recs_t) as a capture; returns its path. */
static inline const char *write_capture(const char *name, recs_t *blocks, int nblocks)
{
	char *path = paths[npaths++];
	gm_file_header_t h;
	FILE *f;
	int t;

	snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	cr_assert_not_null(f, "fopen(%s): %s", path, strerror(errno));
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, GM_FORMAT_MAGIC, sizeof(h.magic));
	h.version_major = GM_FORMAT_VERSION_MAJOR;
	h.version_minor = GM_FORMAT_VERSION_MINOR;
	h.header_bytes = sizeof(h);
	h.pid = 4242;
	h.chunk_bytes = 1u << 20;
	cr_assert_eq(fwrite(&h, sizeof(h), 1, f), 1);
	for (t = 0; t < nblocks; t++) {
		uint32_t bytes = (uint32_t)(blocks[t].n * sizeof(uint64_t));
		gm_block_t b;

		memset(&b, 0, sizeof(b));
		b.magic = GM_BLOCK_MAGIC;
		b.kind = gm_block_raw;
		b.thread = blocks[t].thread;
		b.seq = blocks[t].seq;
		b.raw_bytes = b.stored_bytes = bytes;
		b.check = gm_format_check(blocks[t].w, bytes);
		b.tsc_base = 0; /* head() starts far records with a time record */
		cr_assert_eq(fwrite(&b, sizeof(b), 1, f), 1);
		cr_assert_eq(fwrite(blocks[t].w, 1, bytes, f), bytes);
		free(blocks[t].w);
	}
	fclose(f);
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

#endif

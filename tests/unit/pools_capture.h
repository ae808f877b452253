/* pools_capture.h - synthetic captures for the pools tests
 *
 * Shared by test_pools.c (the model) and test_pools_cmd.c (gmtrace pools):
 * records appended to a recs_t, a process record at 1 GHz with TSC = ns
 * (allocator ticks are nanoseconds), each record moving time by 10 ns, and
 * cap_write() putting one raw block per thread into a file of the suite's
 * temporary folder (caps_setup/caps_teardown make and remove it).
 */
#ifndef GM_TEST_POOLS_CAPTURE_H
#define GM_TEST_POOLS_CAPTURE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/model/pools.h"
#include "interpose/log/format.h"

typedef struct recs {
	uint64_t *w;
	size_t n, cap;
	uint64_t tsc; /* TSC of the next record (each record advances it by 10) */
} recs_t;

static char tmpdir[64];
static char paths[16][128];
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

/* The first unit of the next record; time moves 10 ticks per record. */
static inline void head(recs_t *r, uint64_t w0, uint64_t b)
{
	r->tsc += 10;
	put(r, w0);
	put(r, gm_rec_w1(b, r->tsc));
}

/* Extra units: the words, then zeros up to a whole unit. */
static inline void words(recs_t *r, const uint64_t *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		put(r, w[i]);
	if (n % 2)
		put(r, 0);
}

/* A record with string bytes after fixed words. */
static inline void var(recs_t *r, uint64_t a, unsigned type, uint64_t b, const uint64_t *w,
                       size_t nw, const char *s, size_t len)
{
	size_t units = (nw + 1) / 2 + (len + 15) / 16, k;
	uint64_t buf[32];

	cr_assert_lt((len + 15) / 16 * 2, sizeof(buf) / sizeof(buf[0]));
	head(r, gm_rec_w0(a, type, (unsigned)units), b);
	words(r, w, nw);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, s, len);
	for (k = 0; k < (len + 15) / 16 * 2; k++)
		put(r, buf[k]);
}

static inline void r_process(recs_t *r)
{
	uint64_t w[6] = {1, r->tsc + 10, r->tsc + 10, 1000000000, 0, 0};

	var(r, 4242, gm_rec_process, 1, w, 6, "", 0);
}

static inline void r_frame(recs_t *r, uint64_t frame)
{
	head(r, gm_rec_w0(frame, gm_rec_frame, 0), 0);
}

static inline void r_pool_def(recs_t *r, uint64_t id, const char *name, uint64_t size, uint64_t cap)
{
	uint64_t w[2] = {size, cap};

	var(r, id, gm_rec_pool_def, strlen(name), w, 2, name, strlen(name));
}

/* pool_frame: acquires, served, releases, returned, in use, high-water mark */
static inline void r_pool_frame(recs_t *r, uint64_t frame, uint64_t id, uint64_t acq,
                                uint64_t served, uint64_t rel, uint64_t ret, uint64_t in_use,
                                uint64_t hw)
{
	uint64_t w[6] = {acq, served, rel, ret, in_use, hw};

	head(r, gm_rec_w0(frame, gm_rec_pool_frame, 3), id);
	words(r, w, 6);
}

static inline void r_gc(recs_t *r, uint64_t gen, uint64_t ns, uint64_t collected, uint64_t unc)
{
	uint64_t w[2] = {ns, unc};

	head(r, gm_rec_w0(gen, gm_rec_gc, 1), collected);
	words(r, w, 2);
}

static inline void r_spike(recs_t *r, uint64_t frame)
{
	uint64_t w[6] = {5000, 1000, 0, 0, 0, 0};

	head(r, gm_rec_w0(frame, gm_rec_spike, 3), GM_SPIKE_ALLOCATIONS);
	words(r, w, 6);
}

/* alloc_cost with classes 0..n-1: calls[c], ticks[c] */
static inline void r_cost(recs_t *r, const uint64_t *calls, const uint64_t *ticks, unsigned n)
{
	uint64_t w[2 * GM_POOLS_CLASSES];
	unsigned c;

	for (c = 0; c < n; c++) {
		w[2 * c] = calls[c];
		w[2 * c + 1] = ticks[c];
	}
	head(r, gm_rec_w0(0, gm_rec_alloc_cost, n), n);
	words(r, w, 2 * n);
}

static inline void r_frame_sum(recs_t *r, uint64_t frame, uint64_t allocs, uint64_t ticks)
{
	uint64_t w[8] = {allocs, allocs, 0, 0, 0, 0, ticks, 1};

	head(r, gm_rec_w0(frame, gm_rec_frame_sum, 4), 1);
	words(r, w, 8);
}

static inline void r_alloc(recs_t *r, uint64_t ptr, uint64_t size)
{
	head(r, gm_rec_w0(ptr, gm_rec_alloc, gm_kind_malloc), size);
}

static inline void r_free(recs_t *r, uint64_t ptr)
{
	head(r, gm_rec_w0(ptr, gm_rec_free, gm_kind_free), 0);
}

static inline void r_realloc(recs_t *r, uint64_t ptr, uint64_t size, uint64_t old)
{
	uint64_t w[2] = {old, 0};

	head(r, gm_rec_w0(ptr, gm_rec_realloc, gm_kind_realloc), size);
	words(r, w, 2);
}

static inline void r_tag_def(recs_t *r, uint64_t id, const char *name)
{
	var(r, id, gm_rec_tag_def, strlen(name), NULL, 0, name, strlen(name));
}

static inline void r_context(recs_t *r, uint64_t tag)
{
	head(r, gm_rec_w0(0, gm_rec_context, 0), tag);
}

/* Writes a capture with one raw block per recs (thread index = position). */
static inline const char *cap_write(const char *name, recs_t *r, int nthreads)
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
	h.chunk_bytes = 1 << 20;
	cr_assert_eq(fwrite(&h, sizeof(h), 1, f), 1);
	for (t = 0; t < nthreads; t++) {
		gm_block_t b;
		size_t bytes = r[t].n * sizeof(uint64_t);

		memset(&b, 0, sizeof(b));
		b.magic = GM_BLOCK_MAGIC;
		b.kind = gm_block_raw;
		b.thread = (uint32_t)t;
		b.raw_bytes = b.stored_bytes = (uint32_t)bytes;
		b.check = gm_format_check(r[t].w, bytes);
		cr_assert_eq(fwrite(&b, sizeof(b), 1, f), 1);
		cr_assert_eq(fwrite(r[t].w, 1, bytes, f), bytes);
		free(r[t].w);
		memset(&r[t], 0, sizeof(r[t]));
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

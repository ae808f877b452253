/* pools_capture.h - synthetic captures for the pools tests
 *
 * Shared by test_pools.c (the model) and test_pools_cmd.c (gmtrace pools):
 * records appended to a words_t, a process record at 1 GHz with TSC = ns
 * (allocator ticks are nanoseconds), each record moving time by 10 ns, and
 * cap_write() putting one raw block per thread into a file of the suite's
 * temporary folder. The words_t, the capture writer and the folder
 * (caps_setup/caps_teardown make and remove it) are in capture_common.h.
 */
#ifndef GM_TEST_POOLS_CAPTURE_H
#define GM_TEST_POOLS_CAPTURE_H

#include "analysis/model/pools.h"
#include "capture_common.h"

/* The first unit of the next record; time moves 10 ticks per record. */
static inline void head(words_t *r, uint64_t w0, uint64_t b)
{
	r->tsc += 10;
	put(r, w0);
	put(r, gm_rec_w1(b, r->tsc));
}

/* Extra units: the words, then zeros up to a whole unit. */
static inline void words(words_t *r, const uint64_t *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		put(r, w[i]);
	if (n % 2)
		put(r, 0);
}

/* A record with string bytes after fixed words. */
static inline void var(words_t *r, uint64_t a, unsigned type, uint64_t b, const uint64_t *w,
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

static inline void r_process(words_t *r)
{
	uint64_t w[6] = {1, r->tsc + 10, r->tsc + 10, 1000000000, 0, 0};

	var(r, 4242, gm_rec_process, 1, w, 6, "", 0);
}

static inline void r_frame(words_t *r, uint64_t frame)
{
	head(r, gm_rec_w0(frame, gm_rec_frame, 0), 0);
}

static inline void r_pool_def(words_t *r, uint64_t id, const char *name, uint64_t size,
                              uint64_t cap)
{
	uint64_t w[2] = {size, cap};

	var(r, id, gm_rec_pool_def, strlen(name), w, 2, name, strlen(name));
}

/* pool_frame: acquires, served, releases, returned, in use, high-water mark */
static inline void r_pool_frame(words_t *r, uint64_t frame, uint64_t id, uint64_t acq,
                                uint64_t served, uint64_t rel, uint64_t ret, uint64_t in_use,
                                uint64_t hw)
{
	uint64_t w[6] = {acq, served, rel, ret, in_use, hw};

	head(r, gm_rec_w0(frame, gm_rec_pool_frame, 3), id);
	words(r, w, 6);
}

static inline void r_gc(words_t *r, uint64_t gen, uint64_t ns, uint64_t collected, uint64_t unc)
{
	uint64_t w[2] = {ns, unc};

	head(r, gm_rec_w0(gen, gm_rec_gc, 1), collected);
	words(r, w, 2);
}

static inline void r_spike(words_t *r, uint64_t frame)
{
	uint64_t w[6] = {5000, 1000, 0, 0, 0, 0};

	head(r, gm_rec_w0(frame, gm_rec_spike, 3), GM_SPIKE_ALLOCATIONS);
	words(r, w, 6);
}

/* alloc_cost with classes 0..n-1: calls[c], ticks[c] */
static inline void r_cost(words_t *r, const uint64_t *calls, const uint64_t *ticks, unsigned n)
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

static inline void r_frame_sum(words_t *r, uint64_t frame, uint64_t allocs, uint64_t ticks)
{
	uint64_t w[8] = {allocs, allocs, 0, 0, 0, 0, ticks, 1};

	head(r, gm_rec_w0(frame, gm_rec_frame_sum, 4), 1);
	words(r, w, 8);
}

static inline void r_alloc(words_t *r, uint64_t ptr, uint64_t size)
{
	head(r, gm_rec_w0(ptr, gm_rec_alloc, gm_kind_malloc), size);
}

static inline void r_free(words_t *r, uint64_t ptr)
{
	head(r, gm_rec_w0(ptr, gm_rec_free, gm_kind_free), 0);
}

static inline void r_realloc(words_t *r, uint64_t ptr, uint64_t size, uint64_t old)
{
	uint64_t w[2] = {old, 0};

	head(r, gm_rec_w0(ptr, gm_rec_realloc, gm_kind_realloc), size);
	words(r, w, 2);
}

static inline void r_tag_def(words_t *r, uint64_t id, const char *name)
{
	var(r, id, gm_rec_tag_def, strlen(name), NULL, 0, name, strlen(name));
}

static inline void r_context(words_t *r, uint64_t tag)
{
	head(r, gm_rec_w0(0, gm_rec_context, 0), tag);
}

/* Writes a capture with one raw block per recs (thread index = position,
 * seq 0); the recs are empty again after. */
static inline const char *cap_write(const char *name, words_t *r, int nthreads)
{
	const char *path;
	int t;

	for (t = 0; t < nthreads; t++) {
		r[t].thread = (uint32_t)t;
		r[t].seq = 0;
	}
	path = write_capture(name, r, nthreads);
	for (t = 0; t < nthreads; t++)
		memset(&r[t], 0, sizeof(r[t]));
	return path;
}

#endif

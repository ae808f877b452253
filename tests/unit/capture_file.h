/* capture_file.h - capture files and events built by hand for the tests
 *
 * Shared by the tests that write a capture and read it back (test_reader,
 * test_compact, test_assets, test_assets_edges, test_budgets,
 * test_platforms):
 *   - a capbuf_t holds the bytes of a file: cb_put() appends bytes,
 *     cap_file_header() makes a file header, cb_block() appends a block with
 *     its check value, cb_write() writes the bytes to a file;
 *   - a recs_t holds the record words of one block: rec() appends a record
 *     (after a time record when the step from the last record does not fit
 *     the tick), rec_str() and rec_text() append a record with strings;
 *   - cap_write_recs() writes a whole capture: one raw block per thread,
 *     between two clock blocks that make ns = TSC;
 *   - event_at() is the event the reader delivers for one record, for the
 *     tests that feed a model directly.
 */
#ifndef GM_TEST_CAPTURE_FILE_H
#define GM_TEST_CAPTURE_FILE_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/log/reader.h"
#include "interpose/log/format.h"

/* ---- the bytes of a file ---------------------------------------------------- */

typedef struct capbuf {
	unsigned char *buf;
	size_t len, cap;
} capbuf_t;

static inline void cb_put(capbuf_t *c, const void *p, size_t n)
{
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2;
		c->buf = realloc(c->buf, c->cap);
		cr_assert_not_null(c->buf);
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

/* A file header of the current format version with 1 MiB chunks; the
 * other fields are 0. */
static inline gm_file_header_t cap_file_header(void)
{
	gm_file_header_t h;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, GM_FORMAT_MAGIC, sizeof(h.magic));
	h.version_major = GM_FORMAT_VERSION_MAJOR;
	h.version_minor = GM_FORMAT_VERSION_MINOR;
	h.header_bytes = sizeof(h);
	h.chunk_bytes = 1 << 20;
	return h;
}

/* Appends a block whose payload is the n bytes at p, with every field of
 * its header given; returns the block's offset. */
static inline size_t cb_block_at(capbuf_t *c, uint16_t kind, uint32_t thread, uint32_t seq,
                                 uint32_t offset, uint32_t raw_bytes, uint64_t tsc_base,
                                 const void *p, size_t n)
{
	size_t at = c->len;
	gm_block_t b;

	memset(&b, 0, sizeof(b));
	b.magic = GM_BLOCK_MAGIC;
	b.kind = kind;
	b.thread = thread;
	b.seq = seq;
	b.offset = offset;
	b.raw_bytes = raw_bytes;
	b.stored_bytes = (uint32_t)n;
	b.check = gm_format_check(p, n);
	b.tsc_base = tsc_base;
	gm_format_seal(&b);
	cb_put(c, &b, sizeof(b));
	cb_put(c, p, n);
	return at;
}

/* The same with seq, offset and tsc_base 0. raw_bytes is the size of the
 * records before packing or compression (0 for a clock block). */
static inline size_t cb_block(capbuf_t *c, uint16_t kind, uint32_t thread, uint32_t raw_bytes,
                              const void *p, size_t n)
{
	return cb_block_at(c, kind, thread, 0, 0, raw_bytes, 0, p, n);
}

/* Writes the bytes to path, then frees them (c is empty again). */
static inline void cb_write(capbuf_t *c, const char *path)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f, "fopen(%s): %s", path, strerror(errno));
	if (c->len)
		cr_assert_eq(fwrite(c->buf, 1, c->len, f), c->len, "writing %s", path);
	cr_assert_eq(fclose(f), 0, "closing %s", path);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/* ---- the records of a block ------------------------------------------------ */

typedef struct recs {
	uint64_t w[4096];
	size_t n;
	uint64_t tsc; /* TSC of the last record */
} recs_t;

/* Appends a record at tsc with nwords extra words; a time record comes
 * first when the step from the last record does not fit the tick. */
static inline void rec(recs_t *r, uint64_t tsc, unsigned type, unsigned x, uint64_t a, uint64_t b,
                       const uint64_t *extra, size_t nwords)
{
	cr_assert_lt(r->n + 2 + nwords + 4, sizeof(r->w) / sizeof(r->w[0]));
	if (tsc - r->tsc >= GM_REC_TICK_HALF) {
		r->w[r->n++] = gm_rec_w0(0, gm_rec_time, 1);
		r->w[r->n++] = gm_rec_w1(0, tsc);
		r->w[r->n++] = tsc;
		r->w[r->n++] = 0;
	}
	r->w[r->n++] = gm_rec_w0(a, type, x);
	r->w[r->n++] = gm_rec_w1(b, tsc);
	if (nwords) /* extra may be NULL then */
		memcpy(r->w + r->n, extra, nwords * sizeof(uint64_t));
	r->n += nwords;
	r->tsc = tsc;
}

/* Appends a record whose extra units hold the n bytes at s; x is the
 * number of units. */
static inline void rec_str(recs_t *r, uint64_t tsc, unsigned type, uint64_t a, uint64_t b,
                           const char *s, size_t n)
{
	uint64_t w[64];
	unsigned units = (unsigned)((n + 15) / 16);

	cr_assert_leq(n, sizeof(w));
	memset(w, 0, sizeof(w));
	memcpy(w, s, n);
	rec(r, tsc, type, units, a, b, w, units * 2);
}

/* Appends a record of id whose strings are a, or a, a NUL and b (as in
 * asset_new); b of the record is the length of a, or a's | b's << 16. */
static inline void rec_text(recs_t *r, uint64_t tsc, unsigned type, uint64_t id, const char *a,
                            const char *b)
{
	char s[128];
	size_t na = strlen(a), nb = b ? strlen(b) : 0, len = b ? na + 1 + nb : na;

	cr_assert_leq(len, sizeof(s));
	memcpy(s, a, na);
	if (b) {
		s[na] = '\0';
		memcpy(s + na + 1, b, nb);
	}
	rec_str(r, tsc, type, id, b ? na | nb << 16 : na, s, len);
}

/* Writes a capture to path: the file header, a clock block at 0, one raw
 * block per recs_t (thread index = position), and a clock block at end;
 * the clock blocks make ns = TSC. */
static inline void cap_write_recs(const char *path, const recs_t *r, int nthreads, uint64_t end)
{
	capbuf_t c = {0};
	gm_file_header_t h = cap_file_header();
	uint64_t clock0[2] = {0, 0}, clock1[2] = {end, end};
	int t;

	cb_put(&c, &h, sizeof(h));
	cb_block(&c, gm_block_clock, 0, 0, clock0, sizeof(clock0));
	for (t = 0; t < nthreads; t++)
		cb_block(&c, gm_block_raw, (uint32_t)t, (uint32_t)(r[t].n * 8), r[t].w, r[t].n * 8);
	cb_block(&c, gm_block_clock, 0, 0, clock1, sizeof(clock1));
	cb_write(&c, path);
}

/* ---- events fed to a model directly ----------------------------------------- */

/* The event of a record at ns (TSC = ns) with nextra extra units. */
static inline gm_event_t event_at(uint64_t ns, uint32_t thread, unsigned type, unsigned x,
                                  uint64_t a, uint64_t b, const uint64_t *extra, uint32_t nextra)
{
	gm_event_t ev;

	memset(&ev, 0, sizeof(ev));
	ev.ns = ev.tsc = ns;
	ev.thread = thread;
	ev.type = type;
	ev.x = x;
	ev.a = a;
	ev.b = b;
	ev.extra = extra;
	ev.nextra = nextra;
	return ev;
}

#endif

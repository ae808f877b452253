/* test_reader.c - the capture reader on synthetic captures written by the test
 *
 * Each test builds a capture in memory (file header, record blocks raw or
 * zstd with correct check values, clock blocks), writes it to a temporary
 * directory and reads it back through analysis/log/reader.h.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "analysis/log/reader.h"
#include "interpose/log/pack.h"
#include "capture_file.h"
#include "failalloc.h"

/* ---- capture builder ---------------------------------------------------- */

static char tmpdir[64];
static char paths[16][128];
static int npaths;

static void reader_setup(void)
{
	strcpy(tmpdir, "/tmp/gm_test_reader.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp(%s): %s", tmpdir, strerror(errno));
}

static void reader_teardown(void)
{
	int i;

	for (i = 0; i < npaths; i++)
		unlink(paths[i]);
	rmdir(tmpdir);
}

TestSuite(reader, .init = reader_setup, .fini = reader_teardown);

static void cap_header(capbuf_t *c, uint16_t major, uint16_t minor)
{
	gm_file_header_t h = cap_file_header();

	h.version_major = major;
	h.version_minor = minor;
	h.pid = 4242;
	h.chunk_bytes = 65536;
	h.created_ns = 77;
	strcpy(h.shm_name, "/gmtrace-test");
	cb_put(c, &h, sizeof(h));
}

/* The records as one zstd frame (malloc'd); *n is its size. */
static void *zstd_of(const recs_t *r, size_t *n)
{
	size_t raw = r->n * sizeof(uint64_t), bound = ZSTD_compressBound(raw);
	void *z = malloc(bound);

	cr_assert_not_null(z);
	*n = ZSTD_compress(z, bound, r->w, raw, 3);
	cr_assert(!ZSTD_isError(*n), "ZSTD_compress of %zu bytes: %s", raw, ZSTD_getErrorName(*n));
	return z;
}

/* Appends the records as a block of any kind (raw, zstd, packed in either
 * form, with or without zstd over it); returns the block's offset. */
static size_t cap_block(capbuf_t *c, uint16_t kind, uint32_t thread, uint32_t seq, uint32_t offset,
                        uint64_t tsc_base, const recs_t *r)
{
	size_t raw = r->n * sizeof(uint64_t), at, n;

	if (kind == gm_block_packed || kind == gm_block_packed_zstd || kind == gm_block_packed2 ||
	    kind == gm_block_packed2_zstd) {
		int v1 = kind == gm_block_packed || kind == gm_block_packed_zstd;
		unsigned char *p = malloc(gm_pack_bound(raw));
		size_t bound;
		void *z;

		cr_assert_not_null(p);
		n = v1 ? gm_pack_block_v1(r->w, raw, p) : gm_pack_block(r->w, raw, p);
		if (kind == gm_block_packed || kind == gm_block_packed2) {
			at = cb_block_at(c, kind, thread, seq, offset, (uint32_t)raw, tsc_base, p,
			                 n);
			free(p);
			return at;
		}
		bound = ZSTD_compressBound(n);
		z = malloc(bound);
		cr_assert_not_null(z);
		bound = ZSTD_compress(z, bound, p, n, 3);
		cr_assert(!ZSTD_isError(bound));
		at = cb_block_at(c, kind, thread, seq, offset, (uint32_t)raw, tsc_base, z, bound);
		free(z);
		free(p);
		return at;
	}
	if (kind == gm_block_zstd) {
		void *z = zstd_of(r, &n);

		at = cb_block_at(c, kind, thread, seq, offset, (uint32_t)raw, tsc_base, z, n);
		free(z);
		return at;
	}
	return cb_block_at(c, kind, thread, seq, offset, (uint32_t)raw, tsc_base, r->w, raw);
}

static size_t cap_clock(capbuf_t *c, uint64_t tsc, uint64_t ns)
{
	uint64_t v[2] = {tsc, ns};

	return cb_block(c, gm_block_clock, 0, 0, v, sizeof(v));
}

/* Writes the capture under name in the temp dir; returns the path. */
static const char *cap_write(capbuf_t *c, const char *name)
{
	char *path = paths[npaths++];

	snprintf(path, sizeof(paths[0]), "%s/%s", tmpdir, name);
	cb_write(c, path);
	return path;
}

static void rec_put(recs_t *r, uint64_t w)
{
	cr_assert_lt(r->n, sizeof(r->w) / sizeof(r->w[0]));
	r->w[r->n++] = w;
}

static void rec_alloc(recs_t *r, uint64_t tsc, uint64_t ptr, uint64_t size)
{
	rec_put(r, gm_rec_w0(ptr, gm_rec_alloc, gm_kind_malloc));
	rec_put(r, gm_rec_w1(size, tsc));
}

static void rec_realloc(recs_t *r, uint64_t tsc, uint64_t ptr, uint64_t size, uint64_t old)
{
	rec_put(r, gm_rec_w0(ptr, gm_rec_realloc, gm_kind_realloc));
	rec_put(r, gm_rec_w1(size, tsc));
	rec_put(r, old);
	rec_put(r, 0);
}

static void rec_free(recs_t *r, uint64_t tsc, uint64_t ptr)
{
	rec_put(r, gm_rec_w0(ptr, gm_rec_free, gm_kind_free));
	rec_put(r, gm_rec_w1(0, tsc));
}

static void rec_time(recs_t *r, uint64_t tsc)
{
	rec_put(r, gm_rec_w0(0, gm_rec_time, 1));
	rec_put(r, gm_rec_w1(0, tsc));
	rec_put(r, tsc);
	rec_put(r, 0);
}

static void rec_process(recs_t *r, uint64_t tsc, uint64_t mono_ns, uint64_t tsc_start, uint64_t hz)
{
	static const char strings[16] = "/bin/game\0game\0"; /* exe 10, argv 5 */
	uint64_t w[2];

	memcpy(w, strings, sizeof(w));

	rec_put(r, gm_rec_w0(4242, gm_rec_process, 4));
	rec_put(r, gm_rec_w1(1, tsc));
	rec_put(r, 123456789); /* realtime ns */
	rec_put(r, mono_ns);
	rec_put(r, tsc_start);
	rec_put(r, hz);
	rec_put(r, 10);
	rec_put(r, 5);
	rec_put(r, w[0]);
	rec_put(r, w[1]);
}

static gm_reader_t *open_ok(const char *path)
{
	char err[256] = "";
	gm_reader_t *r = gm_reader_open(path, err, sizeof(err));

	cr_assert_not_null(r, "opening %s: %s", path, err);
	return r;
}

static void expect_open_error(const char *path, const char *what)
{
	char err[256] = "", want[512];
	gm_reader_t *r = gm_reader_open(path, err, sizeof(err));

	snprintf(want, sizeof(want), "%s: %s", path, what);
	cr_expect_null(r, "opening %s should fail with '%s'", path, what);
	cr_expect_str_eq(err, want, "error opening %s", path);
	gm_reader_free(r);
}

/* Reads every event; returns their number, stores up to max of them. */
static size_t read_all(gm_reader_t *r, gm_event_t *ev, size_t max)
{
	gm_event_t e;
	size_t n = 0;

	while (gm_reader_next(r, &e)) {
		if (n < max)
			ev[n] = e;
		n++;
	}
	return n;
}

/* ---- order, time, duplicates --------------------------------------------- */

Test(reader, merges_three_threads_in_tsc_order_ties_by_thread)
{
	/* thread t allocates ptr 0x100*t + i at TSC 100*(3*i + t + 1); all three
	 * threads then allocate at TSC 2000 (a tie). Blocks are written out of
	 * order: seq 1 before seq 0, threads reversed. */
	capbuf_t c = {0};
	recs_t r[3][2];
	gm_event_t ev[32];
	const char *path;
	gm_reader_t *rd;
	size_t n, i;
	int t;

	memset(r, 0, sizeof(r));
	for (t = 0; t < 3; t++) {
		for (i = 0; i < 4; i++)
			rec_alloc(&r[t][i / 2], 100 * (3 * i + (size_t)t + 1), 0x100u * t + i, 8);
		rec_alloc(&r[t][1], 2000, 0x1000u + (unsigned)t, 8);
	}
	cap_header(&c, 1, 0);
	for (t = 2; t >= 0; t--) {
		cap_block(&c, gm_block_raw, (uint32_t)t, 1, 0, 100 * (3 * 1 + (uint64_t)t + 1),
		          &r[t][1]);
		cap_block(&c, t == 1 ? gm_block_zstd : gm_block_raw, (uint32_t)t, 0, 0, 0,
		          &r[t][0]);
	}
	path = cap_write(&c, "three.gmt");
	rd = open_ok(path);
	cr_assert_eq(gm_reader_info(rd)->nthreads, 3, "%s: nthreads", path);
	n = read_all(rd, ev, 32);
	cr_assert_eq(n, 15, "%s: 15 events expected, got %zu", path, n);
	for (i = 0; i < 12; i++) {
		uint32_t want_t = (uint32_t)(i % 3);

		cr_expect_eq(ev[i].tsc, 100 * (i + 1), "%s: event %zu tsc", path, i);
		cr_expect_eq(ev[i].ns, ev[i].tsc, "%s: no clock, ns = tsc (event %zu)", path, i);
		cr_expect_eq(ev[i].thread, want_t, "%s: event %zu thread", path, i);
		cr_expect_eq(ev[i].a, 0x100u * want_t + i / 3, "%s: event %zu ptr", path, i);
		cr_expect_eq(ev[i].type, gm_rec_alloc, "%s: event %zu type", path, i);
	}
	for (i = 12; i < 15; i++) {
		cr_expect_eq(ev[i].tsc, 2000, "%s: tie event %zu tsc", path, i);
		cr_expect_eq(ev[i].thread, i - 12, "%s: tie event %zu by thread index", path, i);
	}
	cr_expect_null(gm_reader_error(rd), "%s: no damage", path);
	cr_expect_eq(gm_reader_info(rd)->tsc_hz, 0, "%s: no clock", path);
	gm_reader_free(rd);
}

Test(reader, reads_every_block_kind_to_the_same_events)
{
	/* the same records stored in each of the six record-carrying block
	 * kinds, one per thread, at addresses of its own (k << 24 apart; no
	 * two threads hold one address): every thread reads back the same
	 * events */
	static const uint16_t kinds[] = {gm_block_raw,     gm_block_zstd,
	                                 gm_block_packed,  gm_block_packed_zstd,
	                                 gm_block_packed2, gm_block_packed2_zstd};
	const size_t nk = sizeof(kinds) / sizeof(kinds[0]);
	capbuf_t c = {0};
	recs_t r[6];
	gm_event_t ev[64];
	const char *path;
	gm_reader_t *rd;
	size_t n, i, k;

	memset(r, 0, sizeof(r));
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	for (k = 0; k < nk; k++) {
		uint64_t at = (uint64_t)k << 24;

		rec_alloc(&r[k], 1000, 0x7f0000001000ull + at, 24);
		rec_alloc(&r[k], 1010, 0x7f0000000040ull + at, 1ull << 39);
		rec_realloc(&r[k], 1200, 0x7f0000002000ull + at, 48, 0x7f0000001000ull + at);
		rec_time(&r[k], 1000 + (1ull << 30));
		rec_alloc(&r[k], 1000 + (1ull << 30) + 5, 16 + at, 0);
		cap_block(&c, kinds[k], (uint32_t)k, 0, 0, 900, &r[k]);
	}
	path = cap_write(&c, "kinds.gmt");
	rd = open_ok(path);
	n = read_all(rd, ev, 64);
	cr_expect_null(gm_reader_error(rd), "%s: no damage: %s", path, gm_reader_error(rd));
	cr_assert_eq(n, 4 * nk, "%s: %zu events", path, n);
	for (i = 0; i < n; i++) {
		/* ties in time go by thread index: event i is record i / nk of
		 * thread i % nk */
		size_t j = i / nk;
		uint64_t at = (uint64_t)(i % nk) << 24;
		static const uint64_t want_a[] = {0x7f0000001000ull, 0x7f0000000040ull,
		                                  0x7f0000002000ull, 16};
		static const uint64_t want_b[] = {24, 1ull << 39, 48, 0};
		cr_expect_eq(ev[i].thread, i % nk, "event %zu thread", i);
		cr_expect_eq(ev[i].a, want_a[j] + at, "event %zu (kind %u) a", i, kinds[i % nk]);
		cr_expect_eq(ev[i].b, want_b[j], "event %zu (kind %u) b", i, kinds[i % nk]);
	}
	gm_reader_free(rd);
}

Test(reader, reports_a_damaged_packed_block_of_either_form)
{
	static const uint16_t kinds[] = {gm_block_packed, gm_block_packed2};
	size_t k;
	for (k = 0; k < 2; k++) {
		capbuf_t c = {0};
		recs_t r = {0};
		gm_event_t ev[8];
		const char *path;
		gm_reader_t *rd;
		size_t at;

		rec_alloc(&r, 1000, 0x1000, 24);
		rec_alloc(&r, 1010, 0x2000, 32);
		cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
		/* one record more than the packed bytes hold */
		at = cap_block(&c, kinds[k], 0, 0, 0, 900, &r);
		{
			gm_block_t *b = (gm_block_t *)(void *)(c.buf + at);
			b->raw_bytes += 16;
			gm_format_seal(b); /* as a writer would have written it */
		}
		path = cap_write(&c, "badpack.gmt");
		rd = open_ok(path);
		cr_expect_eq(read_all(rd, ev, 8), 0, "kind %u: no events", kinds[k]);
		cr_assert_not_null(gm_reader_error(rd), "kind %u: damage reported", kinds[k]);
		cr_expect(strstr(gm_reader_error(rd), "packed block does not unpack to 48 bytes"),
		          "kind %u: %s", kinds[k], gm_reader_error(rd));
		gm_reader_free(rd);
	}
}

Test(reader, a_record_without_extra_units_still_gives_an_extra_pointer)
{
	/* consumers copy a record's string with memcpy(dst, extra, len): for
	 * an empty name (no extra units) extra must still not be NULL */
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[4];
	const char *path;
	gm_reader_t *rd;

	rec_put(&r, gm_rec_w0(5, gm_rec_tag_def, 0));
	rec_put(&r, gm_rec_w1(0, 1000));
	rec_alloc(&r, 1010, 0x10, 8);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cap_block(&c, gm_block_raw, 0, 0, 0, 900, &r);
	path = cap_write(&c, "noextra.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 4), 2, "%s", path);
	cr_expect_eq(ev[0].type, gm_rec_tag_def);
	cr_expect_eq(ev[0].nextra, 0);
	cr_expect_not_null(ev[0].extra, "tag_def without a name");
	cr_expect_not_null(ev[1].extra, "alloc");
	gm_reader_free(rd);
}

Test(reader, maps_tsc_to_ns_through_two_clock_samples)
{
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[4];
	const char *path;
	gm_reader_t *rd;

	rec_alloc(&r, 2000, 0x10, 1);
	rec_alloc(&r, 5000, 0x20, 1);
	cap_header(&c, 1, 0);
	cap_clock(&c, 3000, 6000);
	cap_block(&c, gm_block_raw, 0, 0, 0, 1900, &r);
	cap_clock(&c, 1000, 5000);
	path = cap_write(&c, "clock.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 4), 2, "%s: events", path);
	cr_expect_eq(ev[0].ns, 5500, "%s: tsc 2000 between samples (1000,5000) and (3000,6000)",
	             path);
	cr_expect_eq(ev[1].ns, 7000, "%s: tsc 5000 extrapolated", path);
	cr_expect_eq(gm_reader_info(rd)->tsc_hz, 2e9, "%s: 2000 ticks per 1000 ns", path);
	cr_expect_eq(gm_reader_info(rd)->nblocks, 3, "%s: blocks incl. clock blocks", path);
	gm_reader_free(rd);
}

Test(reader, maps_tsc_to_ns_with_process_record_rate_when_one_sample)
{
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[4];
	const char *path;
	gm_reader_t *rd;

	rec_process(&r, 1000, 1000000, 1000, 2000000000ull);
	rec_alloc(&r, 3000, 0x10, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_zstd, 0, 0, 0, 1000, &r);
	path = cap_write(&c, "process.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 4), 2, "%s: events", path);
	cr_expect_eq(ev[0].type, gm_rec_process, "%s: process record delivered", path);
	cr_expect_eq(ev[0].ns, 1000000, "%s: process record at its own sample", path);
	cr_expect_eq(ev[1].ns, 1001000, "%s: 2000 ticks at 2 GHz = 1000 ns", path);
	cr_expect_eq(gm_reader_info(rd)->tsc_hz, 2e9, "%s: tsc_hz from the process record", path);
	gm_reader_free(rd);
}

/* ---- causal repair ------------------------------------------------------- */

typedef struct want_ev {
	uint32_t thread, type;
	uint64_t a, tsc;
} want_ev_t;

/* Reads the capture at path and expects exactly the events in want, in
 * that order, no damage, and reordered records repaired. */
static void expect_events(const char *path, const want_ev_t *want, size_t nwant, uint64_t reordered)
{
	gm_event_t ev[32];
	gm_reader_t *rd = open_ok(path);
	size_t n = read_all(rd, ev, 32), i;

	cr_expect_null(gm_reader_error(rd), "%s: no damage", path);
	cr_assert_eq(n, nwant, "%s: %zu events, want %zu", path, n, nwant);
	for (i = 0; i < n; i++) {
		cr_expect_eq(ev[i].thread, want[i].thread, "%s: event %zu thread", path, i);
		cr_expect_eq(ev[i].type, want[i].type, "%s: event %zu type", path, i);
		cr_expect_eq(ev[i].a, want[i].a, "%s: event %zu address", path, i);
		cr_expect_eq(ev[i].tsc, want[i].tsc, "%s: event %zu tsc", path, i);
	}
	cr_expect_eq(gm_reader_info(rd)->reordered, reordered, "%s: records reordered", path);
	gm_reader_free(rd);
}

/* Writes one raw block per thread (records in r[0..nt)), reads the
 * capture back and expects exactly the events in want, in that order. */
static void expect_order(const char *name, recs_t *r, uint32_t nt, const want_ev_t *want,
                         size_t nwant, uint64_t reordered)
{
	capbuf_t c = {0};
	uint32_t t;

	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	for (t = 0; t < nt; t++)
		cap_block(&c, gm_block_raw, t, 0, 0, 0, &r[t]);
	expect_events(cap_write(&c, name), want, nwant, reordered);
}

Test(reader, a_free_read_before_the_other_threads_allocation_comes_after_it)
{
	/* thread 0 allocates 0x5000 at 992, then 0x1000 at 1000 and hands it
	 * over; thread 1's free of it carries 990 (rdtsc run early), then
	 * thread 1 allocates 0x2000 at 995. The free comes after the
	 * allocation, keeping its own time, and each thread's own order stays. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 992, 0x5000, 8);
	rec_alloc(&r[0], 1000, 0x1000, 8);
	rec_alloc(&r[0], 1500, 0x3000, 8);
	rec_free(&r[1], 990, 0x1000);
	rec_alloc(&r[1], 995, 0x2000, 8);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x5000, 992},  {0, gm_rec_alloc, 0x1000, 1000},
	        {1, gm_rec_free, 0x1000, 990},   {1, gm_rec_alloc, 0x2000, 995},
	        {0, gm_rec_alloc, 0x3000, 1500},
	};
	expect_order("handoff.gmt", r, 2, want, 5, 1);
}

Test(reader, an_allocation_read_before_the_free_that_gave_its_address_back_comes_after_it)
{
	/* thread 0 allocates 0x1000 at 100; thread 1 frees it at 2000 and
	 * thread 0 gets the address again, its record carrying 1995; thread 0
	 * frees it at 3000. Every free matches its block. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 100, 0x1000, 8);
	rec_alloc(&r[0], 1995, 0x1000, 16);
	rec_free(&r[0], 3000, 0x1000);
	rec_free(&r[1], 2000, 0x1000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x1000, 100},
	        {1, gm_rec_free, 0x1000, 2000},
	        {0, gm_rec_alloc, 0x1000, 1995},
	        {0, gm_rec_free, 0x1000, 3000},
	};
	expect_order("reuse.gmt", r, 2, want, 4, 1);
}

Test(reader, a_realloc_of_a_block_read_before_its_allocation_comes_after_it)
{
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 1000, 0x1000, 8);
	rec_realloc(&r[1], 900, 0x2000, 64, 0x1000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x1000, 1000},
	        {1, gm_rec_realloc, 0x2000, 900},
	};
	expect_order("realloc.gmt", r, 2, want, 2, 1);
}

Test(reader, a_burst_allocation_waits_up_to_its_threads_next_reading)
{
	/* thread 0 allocates 0x7000 at 500, then 0x1000 in the same burst: its
	 * record carries 500 again, and its thread's next reading is 9000.
	 * Thread 1 frees 0x1000 (allocated by thread 0 at 100) at 5000, past
	 * 500 + the slack (2048 ticks, no clock): the burst allocation may
	 * have come as late as 9000, so it waits for that free. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 100, 0x1000, 8);
	rec_alloc(&r[0], 500, 0x7000, 8);
	rec_alloc(&r[0], 500, 0x1000, 16);
	rec_free(&r[0], 9000, 0x7000);
	rec_free(&r[1], 5000, 0x1000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x1000, 100}, {0, gm_rec_alloc, 0x7000, 500},
	        {1, gm_rec_free, 0x1000, 5000}, {0, gm_rec_alloc, 0x1000, 500},
	        {0, gm_rec_free, 0x7000, 9000},
	};
	expect_order("burst.gmt", r, 2, want, 5, 1);
}

Test(reader, a_burst_allocation_of_a_free_address_comes_after_another_threads_use_of_it)
{
	/* 0x1000 is free when thread 0 allocates it in a burst (carrying 500,
	 * its next reading 9000); thread 1 allocates and frees it at 3000 and
	 * 4000, within that bound: the allocator gave the address to thread 1
	 * first, so thread 0's allocation comes after that free. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 500, 0x7000, 8);
	rec_alloc(&r[0], 500, 0x1000, 16);
	rec_free(&r[0], 9000, 0x7000);
	rec_alloc(&r[1], 3000, 0x1000, 8);
	rec_free(&r[1], 4000, 0x1000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x7000, 500}, {1, gm_rec_alloc, 0x1000, 3000},
	        {1, gm_rec_free, 0x1000, 4000}, {0, gm_rec_alloc, 0x1000, 500},
	        {0, gm_rec_free, 0x7000, 9000},
	};
	expect_order("burst_free_addr.gmt", r, 2, want, 5, 1);
}

Test(reader, a_free_of_an_address_not_live_takes_the_burst_allocation_held_for_it_first)
{
	/* as above, and thread 2 frees thread 0's new block at 6000, before
	 * thread 0's bound: that free is of the block the held allocation
	 * made, which comes right before it. */
	recs_t r[3];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 500, 0x7000, 8);
	rec_alloc(&r[0], 500, 0x1000, 16);
	rec_free(&r[0], 9000, 0x7000);
	rec_alloc(&r[1], 3000, 0x1000, 8);
	rec_free(&r[1], 4000, 0x1000);
	rec_free(&r[2], 6000, 0x1000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x7000, 500}, {1, gm_rec_alloc, 0x1000, 3000},
	        {1, gm_rec_free, 0x1000, 4000}, {0, gm_rec_alloc, 0x1000, 500},
	        {2, gm_rec_free, 0x1000, 6000}, {0, gm_rec_free, 0x7000, 9000},
	};
	expect_order("burst_freed_by_other.gmt", r, 3, want, 6, 1);
}

Test(reader, a_held_burst_allocation_is_let_go_once_the_merge_passes_its_bound)
{
	/* thread 0's burst allocation of 0x1000 (live until thread 1 frees it
	 * at 700) carries 500; its thread's next reading is 1000, a free of
	 * 0x3000, which it allocates again at 1100 and thread 1 frees at 1500.
	 * The held allocation goes once the merge is past 1000, not past 1000
	 * + the slack: thread 0's records from 1000 on come before thread 1's
	 * at 1500. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 50, 0x1000, 8);
	rec_alloc(&r[0], 60, 0x3000, 8);
	rec_alloc(&r[0], 500, 0x7000, 8);
	rec_alloc(&r[0], 500, 0x1000, 16);
	rec_free(&r[0], 1000, 0x3000);
	rec_alloc(&r[0], 1100, 0x3000, 16);
	rec_free(&r[1], 700, 0x1000);
	rec_free(&r[1], 1500, 0x3000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x1000, 50},   {0, gm_rec_alloc, 0x3000, 60},
	        {0, gm_rec_alloc, 0x7000, 500},  {1, gm_rec_free, 0x1000, 700},
	        {0, gm_rec_alloc, 0x1000, 500},  {0, gm_rec_free, 0x3000, 1000},
	        {0, gm_rec_alloc, 0x3000, 1100}, {1, gm_rec_free, 0x3000, 1500},
	};
	expect_order("burst_bound.gmt", r, 2, want, 8, 1);
}

Test(reader, two_held_burst_allocations_go_in_the_order_of_their_bounds)
{
	/* thread 0's burst (reading 100, bound 9000) allocates 0x1000, live
	 * (thread 1's), then 0x2000; thread 1's burst (reading 200, bound 300)
	 * allocates 0x2000, which thread 0 allocates too: each holds what the
	 * other waits for. Thread 1's bound comes first, so its allocation and
	 * frees do, and thread 0's allocations follow. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 100, 0x7000, 8);
	rec_alloc(&r[0], 100, 0x1000, 16);
	rec_alloc(&r[0], 100, 0x2000, 16);
	rec_free(&r[0], 9000, 0x7000);
	rec_alloc(&r[1], 50, 0x1000, 8);
	rec_alloc(&r[1], 200, 0x6000, 8);
	rec_alloc(&r[1], 200, 0x2000, 8);
	rec_free(&r[1], 300, 0x2000);
	rec_free(&r[1], 400, 0x1000);
	rec_free(&r[1], 9500, 0x6000);
	static const want_ev_t want[] = {
	        {1, gm_rec_alloc, 0x1000, 50},  {0, gm_rec_alloc, 0x7000, 100},
	        {1, gm_rec_alloc, 0x6000, 200}, {1, gm_rec_alloc, 0x2000, 200},
	        {1, gm_rec_free, 0x2000, 300},  {1, gm_rec_free, 0x1000, 400},
	        {0, gm_rec_alloc, 0x1000, 100}, {0, gm_rec_alloc, 0x2000, 100},
	        {0, gm_rec_free, 0x7000, 9000}, {1, gm_rec_free, 0x6000, 9500},
	};
	expect_order("burst_cross.gmt", r, 2, want, 10, 1);
}

Test(reader, a_burst_allocation_its_own_thread_frees_by_its_bound_is_not_held)
{
	/* thread 0's burst allocation of 0x1000 carries 500, and its thread
	 * frees 0x1000 itself at 600 (its bound). Thread 1 allocates 0x1000 at
	 * 550 (its rdtsc 50 ticks early, or cores 50 ticks apart) and frees it
	 * at 5000: no whole use of the address elsewhere before the bound, so
	 * thread 0's allocation is not held, and thread 1's comes after thread
	 * 0's free. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 500, 0x7000, 8);
	rec_alloc(&r[0], 500, 0x1000, 16);
	rec_free(&r[0], 600, 0x1000);
	rec_alloc(&r[1], 550, 0x1000, 8);
	rec_free(&r[1], 5000, 0x1000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x7000, 500}, {0, gm_rec_alloc, 0x1000, 500},
	        {0, gm_rec_free, 0x1000, 600},  {1, gm_rec_alloc, 0x1000, 550},
	        {1, gm_rec_free, 0x1000, 5000},
	};
	expect_order("burst_own_free.gmt", r, 2, want, 5, 1);
}

Test(reader, a_held_burst_allocation_of_a_live_address_waits_for_its_free_within_the_slack)
{
	/* thread 1 holds 0x1000 from 50 and frees it at 1200 (no clock: slack
	 * 2048). Thread 0's burst allocation of 0x1000 carries 500, its bound
	 * 1000: its address is live, it is held. Thread 2 allocates 0x9000 at
	 * 1100, past the bound but before thread 1's free: the held allocation
	 * waits for that free, within the slack, and comes after it. */
	recs_t r[3];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 500, 0x7000, 8);
	rec_alloc(&r[0], 500, 0x1000, 16);
	rec_free(&r[0], 1000, 0x7000);
	rec_free(&r[0], 5000, 0x1000);
	rec_alloc(&r[1], 50, 0x1000, 8);
	rec_free(&r[1], 1200, 0x1000);
	rec_alloc(&r[2], 1100, 0x9000, 8);
	static const want_ev_t want[] = {
	        {1, gm_rec_alloc, 0x1000, 50},   {0, gm_rec_alloc, 0x7000, 500},
	        {2, gm_rec_alloc, 0x9000, 1100}, {1, gm_rec_free, 0x1000, 1200},
	        {0, gm_rec_alloc, 0x1000, 500},  {0, gm_rec_free, 0x7000, 1000},
	        {0, gm_rec_free, 0x1000, 5000},
	};
	expect_order("burst_live_slack.gmt", r, 3, want, 7, 1);
}

Test(reader, a_waiting_free_of_the_address_takes_the_burst_allocation_it_waits_for)
{
	/* thread 0's free of 0x4000 (900) waits for thread 3's allocation of
	 * it (1000); meanwhile thread 1's free of 0x1000 (980) waits for an
	 * allocation of 0x1000: thread 0's burst allocation of it (reading 900,
	 * bound 9000), which comes then, not held for thread 2's use of the
	 * address at 3000 and 4000. */
	recs_t r[4];
	memset(r, 0, sizeof(r));
	rec_free(&r[0], 900, 0x4000);
	rec_alloc(&r[0], 900, 0x1000, 16);
	rec_free(&r[0], 9000, 0x9999);
	rec_free(&r[1], 980, 0x1000);
	rec_alloc(&r[2], 3000, 0x1000, 8);
	rec_free(&r[2], 4000, 0x1000);
	rec_alloc(&r[3], 1000, 0x4000, 8);
	static const want_ev_t want[] = {
	        {3, gm_rec_alloc, 0x4000, 1000}, {0, gm_rec_free, 0x4000, 900},
	        {0, gm_rec_alloc, 0x1000, 900},  {1, gm_rec_free, 0x1000, 980},
	        {2, gm_rec_alloc, 0x1000, 3000}, {2, gm_rec_free, 0x1000, 4000},
	        {0, gm_rec_free, 0x9999, 9000},
	};
	expect_order("burst_waiting_free.gmt", r, 4, want, 7, 2);
}

Test(reader, a_free_of_a_held_bursts_later_allocation_waits_for_it_when_nothing_else_is_left)
{
	/* thread 0's burst (reading 500, bound 9000): 0x1000 live (thread
	 * 2's, freed at 1500) so held, then 0x2000, which thread 1 frees at
	 * 2000. With every stream waiting, the held burst goes first, and
	 * thread 1's free after thread 0's allocation of 0x2000. */
	recs_t r[3];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 500, 0x7000, 8);
	rec_alloc(&r[0], 500, 0x1000, 16);
	rec_alloc(&r[0], 500, 0x2000, 16);
	rec_free(&r[0], 9000, 0x7000);
	rec_free(&r[1], 2000, 0x2000);
	rec_alloc(&r[1], 6000, 0x5000, 8);
	rec_alloc(&r[2], 100, 0x1000, 8);
	rec_free(&r[2], 1500, 0x1000);
	static const want_ev_t want[] = {
	        {2, gm_rec_alloc, 0x1000, 100},  {0, gm_rec_alloc, 0x7000, 500},
	        {2, gm_rec_free, 0x1000, 1500},  {0, gm_rec_alloc, 0x1000, 500},
	        {0, gm_rec_alloc, 0x2000, 500},  {1, gm_rec_free, 0x2000, 2000},
	        {1, gm_rec_alloc, 0x5000, 6000}, {0, gm_rec_free, 0x7000, 9000},
	};
	expect_order("burst_later_free.gmt", r, 3, want, 8, 1);
}

Test(reader, a_blocks_first_record_is_no_burst_record)
{
	/* thread 0's first block ends with a time record (a drainer's prefix
	 * of a chunk), and its next block begins with an allocation carrying
	 * that same TSC: not a burst record (nothing says the record before it
	 * was not that time record), so it is ordered by its own time as any
	 * other: before thread 1's free of its block at T - 20 would be wrong,
	 * it comes with the usual repair, and thread 2's use of the address
	 * after. */
	capbuf_t c = {0};
	recs_t a = {0}, b = {0}, r1 = {0}, r2 = {0};
	gm_event_t ev[32];
	const uint64_t T = 20000000;
	gm_reader_t *rd;
	const char *path;
	size_t n;

	rec_alloc(&a, 100, 0x7000, 8);
	rec_time(&a, T);
	rec_alloc(&b, T, 0x1000, 16);
	rec_free(&b, T + 9000, 0x7000);
	rec_free(&r1, T - 20, 0x1000);
	rec_alloc(&r2, T + 3000, 0x1000, 8);
	rec_free(&r2, T + 4000, 0x1000);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &a);
	cap_block(&c, gm_block_raw, 0, 0, (uint32_t)(a.n * 8), T, &b);
	cap_block(&c, gm_block_raw, 1, 0, 0, T - 100, &r1);
	cap_block(&c, gm_block_raw, 2, 0, 0, T - 100, &r2);
	path = cap_write(&c, "block_first.gmt");
	rd = open_ok(path);
	n = read_all(rd, ev, 32);
	cr_expect_eq(gm_reader_info(rd)->burst_records, 0, "%s: no burst record", path);
	cr_assert_eq(n, 6, "%s: events", path);
	cr_expect_eq(ev[1].burst, 0);
	cr_expect(ev[1].thread == 0 && ev[1].a == 0x1000, "%s: thread 0's allocation", path);
	cr_expect(ev[2].thread == 1 && ev[2].type == gm_rec_free, "%s: then thread 1's free", path);
	cr_expect(ev[3].thread == 2 && ev[3].type == gm_rec_alloc, "%s: then thread 2's", path);
	gm_reader_free(rd);
}

Test(reader, a_free_read_early_takes_the_allocation_whose_own_free_comes_long_after)
{
	/* thread 0 allocates 0x1000 at 1000 and hands it over; thread 1's
	 * free of it carries 990 (rdtsc early). Long after, thread 1
	 * allocates 0x1000 again (at 50000, two blocks on: out of the
	 * look-ahead's reach) and thread 0 frees that one at 50100. Thread
	 * 0's own free of the address, far past thread 1's free, does not
	 * make its block "never handed over": thread 1's free matches it. */
	capbuf_t c = {0};
	recs_t t0 = {0}, a = {0}, b = {0}, d = {0};
	gm_event_t ev[16];
	const char *path;
	gm_reader_t *rd;
	size_t n, i;

	rec_alloc(&t0, 1000, 0x1000, 8);
	rec_free(&t0, 50100, 0x1000);
	rec_free(&a, 990, 0x1000);
	rec_alloc(&b, 20000, 0x2000, 8);
	rec_alloc(&d, 50000, 0x1000, 8);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &t0);
	cap_block(&c, gm_block_raw, 1, 0, 0, 0, &a);
	cap_block(&c, gm_block_raw, 1, 1, 0, 10000, &b);
	cap_block(&c, gm_block_raw, 1, 2, 0, 40000, &d);
	path = cap_write(&c, "early_free_far_own.gmt");
	rd = open_ok(path);
	n = read_all(rd, ev, 16);
	cr_assert_eq(n, 5, "%s: events", path);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x1000, 1000},  {1, gm_rec_free, 0x1000, 990},
	        {1, gm_rec_alloc, 0x2000, 20000}, {1, gm_rec_alloc, 0x1000, 50000},
	        {0, gm_rec_free, 0x1000, 50100},
	};
	for (i = 0; i < n; i++) {
		cr_expect_eq(ev[i].thread, want[i].thread, "%s: event %zu thread", path, i);
		cr_expect_eq(ev[i].type, want[i].type, "%s: event %zu type", path, i);
		cr_expect_eq(ev[i].a, want[i].a, "%s: event %zu address", path, i);
	}
	cr_expect_eq(gm_reader_info(rd)->records_lost, 0);
	gm_reader_free(rd);
}

Test(reader, counts_burst_records_and_those_known_only_past_a_microsecond)
{
	/* no clock: the slack is 2048 ticks. Thread 0: a reading at 100, two
	 * records carrying it, the next reading at 1000 (within); a reading at
	 * 2000, one record carrying it, the next at 9000 (past); a time record
	 * and a record of the same TSC (a reading of its own); a last record
	 * carrying the one before it, with no reading after it (no bound). */
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[16];
	const char *path;
	gm_reader_t *rd;

	rec_alloc(&r, 100, 0x10, 1);
	rec_alloc(&r, 100, 0x20, 1);
	rec_alloc(&r, 100, 0x30, 1);
	rec_free(&r, 1000, 0x10);
	rec_alloc(&r, 2000, 0x40, 1);
	rec_alloc(&r, 2000, 0x50, 1);
	rec_free(&r, 9000, 0x20);
	rec_time(&r, 1ull << 30);
	rec_alloc(&r, 1ull << 30, 0x60, 1);
	rec_alloc(&r, 1ull << 30, 0x70, 1);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	path = cap_write(&c, "bursts.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 16), 9, "%s: events", path);
	cr_expect_eq(gm_reader_info(rd)->burst_records, 4, "%s: burst records", path);
	cr_expect_eq(gm_reader_info(rd)->burst_over_us, 2, "%s: known only past 1 us", path);
	gm_reader_rewind(rd);
	cr_assert_eq(read_all(rd, ev, 16), 9, "%s: events again", path);
	cr_expect_eq(gm_reader_info(rd)->burst_records, 4, "%s: counted once", path);
	gm_reader_free(rd);
}

Test(reader, an_unmatched_free_or_a_lost_free_comes_at_once)
{
	/* no clock: the slack is 2048 ticks. Thread 1's free of 0x1000 at
	 * 1000 matches nothing within it (thread 0 allocates 0x1000 only at
	 * 6000): it comes at once, at its time, as do the free and the
	 * allocation of one address on one thread (0x4000), and thread 0's
	 * allocation of 0x2000 again, its free lost, with no other thread
	 * freeing it. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 1500, 0x2000, 8);
	rec_alloc(&r[0], 3000, 0x2000, 8);
	rec_alloc(&r[0], 6000, 0x1000, 8);
	rec_free(&r[1], 1000, 0x1000);
	rec_free(&r[1], 2000, 0x4000);
	rec_alloc(&r[1], 2010, 0x4000, 8);
	rec_alloc(&r[1], 2020, 0x6000, 8);
	static const want_ev_t want[] = {
	        {1, gm_rec_free, 0x1000, 1000},  {0, gm_rec_alloc, 0x2000, 1500},
	        {1, gm_rec_free, 0x4000, 2000},  {1, gm_rec_alloc, 0x4000, 2010},
	        {1, gm_rec_alloc, 0x6000, 2020}, {0, gm_rec_alloc, 0x2000, 3000},
	        {0, gm_rec_alloc, 0x1000, 6000},
	};
	expect_order("unmatched.gmt", r, 2, want, 7, 0);
}

Test(reader, a_free_of_an_unknown_block_stays_before_a_block_its_thread_frees_itself)
{
	/* thread 1 frees 0x1000, a block allocated before recording began;
	 * thread 0 gets the address 100 ticks later and frees it itself at
	 * 1500: that block was never thread 1's, so nothing moves */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 1100, 0x1000, 8);
	rec_free(&r[0], 1500, 0x1000);
	rec_free(&r[1], 1000, 0x1000);
	static const want_ev_t want[] = {
	        {1, gm_rec_free, 0x1000, 1000},
	        {0, gm_rec_alloc, 0x1000, 1100},
	        {0, gm_rec_free, 0x1000, 1500},
	};
	expect_order("unknown.gmt", r, 2, want, 3, 0);
}

Test(reader, a_handed_over_block_is_matched_though_its_address_comes_back_later)
{
	/* thread 0 allocates 0x1000 at 1000 and hands it over; thread 1's free
	 * reads 990; thread 0 gets the address again at 1500 and frees that
	 * block itself at 1600: the first block is thread 1's to free */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 1000, 0x1000, 8);
	rec_alloc(&r[0], 1500, 0x1000, 16);
	rec_free(&r[0], 1600, 0x1000);
	rec_free(&r[1], 990, 0x1000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x1000, 1000},
	        {1, gm_rec_free, 0x1000, 990},
	        {0, gm_rec_alloc, 0x1000, 1500},
	        {0, gm_rec_free, 0x1000, 1600},
	};
	expect_order("comes_back.gmt", r, 2, want, 4, 1);
}

Test(reader, a_block_handed_back_and_forth_at_one_address_is_matched_each_time)
{
	/* thread 0 allocates 0x2000 and hands it over; thread 1 frees it,
	 * allocates 0x1000 and hands that back; thread 0's free of it reads
	 * 1080 (before thread 1's allocation at 1100), then thread 0 gets
	 * 0x1000 again and hands it over, and thread 1 frees it at 1400.
	 * Thread 1 freeing 0x1000 itself later does not make thread 0's free
	 * unmatched: thread 0 allocated the address anew before that. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 1000, 0x2000, 8);
	rec_free(&r[0], 1080, 0x1000);
	rec_alloc(&r[0], 1300, 0x1000, 8);
	rec_free(&r[1], 1050, 0x2000);
	rec_alloc(&r[1], 1100, 0x1000, 8);
	rec_free(&r[1], 1400, 0x1000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x2000, 1000}, {1, gm_rec_free, 0x2000, 1050},
	        {1, gm_rec_alloc, 0x1000, 1100}, {0, gm_rec_free, 0x1000, 1080},
	        {0, gm_rec_alloc, 0x1000, 1300}, {1, gm_rec_free, 0x1000, 1400},
	};
	expect_order("back_and_forth.gmt", r, 2, want, 6, 1);
}

Test(reader, an_allocation_does_not_wait_for_a_free_of_the_other_threads_own_block)
{
	/* thread 0 allocates 0x1000 at 100 and again at 1000 (its free was
	 * lost); thread 1 then allocates 0x1000 and frees it: that free is of
	 * thread 1's block, not the one thread 0's allocation waits for */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 100, 0x1000, 8);
	rec_alloc(&r[0], 1000, 0x1000, 8);
	rec_alloc(&r[1], 1005, 0x1000, 8);
	rec_free(&r[1], 1010, 0x1000);
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x1000, 100},
	        {0, gm_rec_alloc, 0x1000, 1000},
	        {1, gm_rec_alloc, 0x1000, 1005},
	        {1, gm_rec_free, 0x1000, 1010},
	};
	expect_order("own_block.gmt", r, 2, want, 4, 0);
}

Test(reader, a_hostile_clock_keeps_the_slack_bounded)
{
	/* clock samples claiming about 1e27 ticks a second: the slack is cut
	 * to 1e9 ticks (no overflow, UBSan watching), and the repair works */
	capbuf_t c = {0};
	recs_t r[2];
	gm_event_t ev[4];
	const char *path;
	gm_reader_t *rd;

	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 1000, 0x1000, 8);
	rec_free(&r[1], 990, 0x1000);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cap_clock(&c, 1, 1);
	cap_clock(&c, 1ull << 62, 2);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r[0]);
	cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r[1]);
	path = cap_write(&c, "hostile_clock.gmt");
	rd = open_ok(path);
	cr_assert_gt(gm_reader_info(rd)->tsc_hz, 1e20, "%s: the clock claims %g Hz", path,
	             gm_reader_info(rd)->tsc_hz);
	cr_assert_eq(read_all(rd, ev, 4), 2, "%s", path);
	cr_expect_eq(ev[0].type, gm_rec_alloc, "%s: the allocation first", path);
	cr_expect_eq(ev[1].type, gm_rec_free, "%s: then the free", path);
	gm_reader_free(rd);
}

Test(reader, two_threads_waiting_for_each_other_end_with_the_earlier_record)
{
	/* a capture no program makes: each thread frees the address the other
	 * allocates next. Both wait; with nothing else to read, the earlier
	 * waiting record comes as it is, and the other then matches. */
	recs_t r[2];
	memset(r, 0, sizeof(r));
	rec_free(&r[0], 1000, 0x2000);
	rec_alloc(&r[0], 1001, 0x1000, 8);
	rec_free(&r[1], 999, 0x1000);
	rec_alloc(&r[1], 1002, 0x2000, 8);
	static const want_ev_t want[] = {
	        {1, gm_rec_free, 0x1000, 999},
	        {1, gm_rec_alloc, 0x2000, 1002},
	        {0, gm_rec_free, 0x2000, 1000},
	        {0, gm_rec_alloc, 0x1000, 1001},
	};
	expect_order("cycle.gmt", r, 2, want, 4, 1);
}

Test(reader, repairs_again_after_a_rewind)
{
	capbuf_t c = {0};
	recs_t r[2];
	gm_event_t ev[4];
	const char *path;
	gm_reader_t *rd;
	int pass;

	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 1000, 0x1000, 8);
	rec_free(&r[1], 990, 0x1000);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r[0]);
	cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r[1]);
	path = cap_write(&c, "rewind.gmt");
	rd = open_ok(path);
	for (pass = 0; pass < 2; pass++) {
		cr_assert_eq(read_all(rd, ev, 4), 2, "%s: pass %d", path, pass);
		cr_expect_eq(ev[0].type, gm_rec_alloc, "%s: pass %d: the allocation first", path,
		             pass);
		cr_expect_eq(ev[1].type, gm_rec_free, "%s: pass %d: then the free", path, pass);
		gm_reader_rewind(rd);
	}
	gm_reader_free(rd);
}

Test(reader, finds_the_record_a_free_waits_for_in_the_next_block)
{
	/* thread 0's first block ends with its allocation of 0x5000 at 992;
	 * its next block (each kind) begins with the allocation of 0x1000 at
	 * 1000 that it hands over; thread 1's free of 0x1000 reads 990. The
	 * look-ahead reads the next block before the stream gets there, and
	 * the stream then takes that block over. */
	static const uint16_t kinds[] = {gm_block_raw, gm_block_zstd, gm_block_packed2,
	                                 gm_block_packed2_zstd};
	static const want_ev_t want[] = {
	        {0, gm_rec_alloc, 0x5000, 992},  {0, gm_rec_alloc, 0x1000, 1000},
	        {1, gm_rec_free, 0x1000, 990},   {1, gm_rec_alloc, 0x2000, 995},
	        {0, gm_rec_alloc, 0x3000, 1500},
	};
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		capbuf_t c = {0};
		recs_t r[3];
		char name[64];

		memset(r, 0, sizeof(r));
		rec_alloc(&r[0], 992, 0x5000, 8);
		rec_alloc(&r[2], 1000, 0x1000, 8);
		rec_alloc(&r[2], 1500, 0x3000, 8);
		rec_free(&r[1], 990, 0x1000);
		rec_alloc(&r[1], 995, 0x2000, 8);
		cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
		cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r[0]);
		cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r[1]);
		cap_block(&c, kinds[k], 0, 1, 0, 992, &r[2]);
		snprintf(name, sizeof(name), "next_block_%u.gmt", kinds[k]);
		expect_events(cap_write(&c, name), want, 5, 1);
	}
}

Test(reader, looks_no_further_than_the_next_block)
{
	/* the same, with the handed-over block's allocation two blocks on:
	 * thread 1's free comes at once, unmatched */
	capbuf_t c = {0};
	recs_t r[4];
	static const want_ev_t want[] = {
	        {1, gm_rec_free, 0x1000, 990},   {0, gm_rec_alloc, 0x5000, 992},
	        {0, gm_rec_alloc, 0x6000, 994},  {1, gm_rec_alloc, 0x2000, 995},
	        {0, gm_rec_alloc, 0x1000, 1000},
	};

	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 992, 0x5000, 8);
	rec_alloc(&r[2], 994, 0x6000, 8);
	rec_alloc(&r[3], 1000, 0x1000, 8);
	rec_free(&r[1], 990, 0x1000);
	rec_alloc(&r[1], 995, 0x2000, 8);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r[0]);
	cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r[1]);
	cap_block(&c, gm_block_zstd, 0, 1, 0, 992, &r[2]);
	cap_block(&c, gm_block_raw, 0, 2, 0, 994, &r[3]);
	expect_events(cap_write(&c, "two_blocks_on.gmt"), want, 5, 0);
}

Test(reader, a_damaged_next_block_stops_the_look_ahead_and_is_reported_when_reached)
{
	/* thread 0's next block does not unpack: the look-ahead finds nothing
	 * there, thread 1's free comes at once, and the damage is reported at
	 * that block's offset once thread 0 gets there */
	static const unsigned char junk[16] = {0x21, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint64_t ptrs[] = {0x1000, 0x5000, 0x2000};
	capbuf_t c = {0};
	recs_t r[2];
	gm_event_t ev[8];
	const char *path;
	gm_reader_t *rd;
	char want[256];
	size_t n, i, at;

	memset(r, 0, sizeof(r));
	rec_alloc(&r[0], 992, 0x5000, 8);
	rec_free(&r[1], 990, 0x1000);
	rec_alloc(&r[1], 995, 0x2000, 8);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r[0]);
	cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r[1]);
	at = cb_block_at(&c, gm_block_packed2, 0, 1, 0, 32, 992, junk, sizeof(junk));
	path = cap_write(&c, "next_damaged.gmt");
	rd = open_ok(path);
	n = read_all(rd, ev, 8);
	cr_assert_eq(n, 3, "%s: %zu events", path, n);
	for (i = 0; i < n; i++)
		cr_expect_eq(ev[i].a, ptrs[i], "%s: event %zu address", path, i);
	snprintf(want, sizeof(want),
	         "%s: offset %zu: packed block does not unpack to 32 bytes of records", path, at);
	cr_assert_not_null(gm_reader_error(rd), "%s: damage expected", path);
	cr_expect_str_eq(gm_reader_error(rd), want, "%s: damage line", path);
	cr_expect_eq(gm_reader_info(rd)->reordered, 0, "%s: records reordered", path);
	gm_reader_free(rd);
}

/* Thread 0 keeps 1,500 blocks live (the set grows past its first size),
 * then allocates 500 more that thread 1 frees, each free's record a tick
 * before its allocation's; thread 2's free of block 512 waits for its
 * allocation, the one that grows the set (from 1,024 slots at 512 live).
 * Returns the capture's path. */
static const char *many_capture(void)
{
	static recs_t r[3];
	capbuf_t c = {0};
	size_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < 1500; i++)
		rec_alloc(&r[0], 100 + 10 * i, 0x10000 + 16 * i, 8);
	for (i = 0; i < 500; i++) {
		rec_alloc(&r[0], 50000 + 10 * i, 0x100000 + 16 * i, 8);
		rec_free(&r[1], 50000 + 10 * i - 1, 0x100000 + 16 * i);
	}
	rec_free(&r[2], 100 + 10 * 512 - 1, 0x10000 + 16 * 512);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	for (i = 0; i < 3; i++)
		cap_block(&c, gm_block_raw, (uint32_t)i, 0, 0, 0, &r[i]);
	return cap_write(&c, "many.gmt");
}

Test(reader, keeps_every_address_of_a_large_capture_in_its_set)
{
	gm_event_t e;
	const char *path = many_capture();
	gm_reader_t *rd = open_ok(path);
	size_t n = 0, bad = 0, frees = 0;
	uint64_t prev_tsc = 0;

	for (; gm_reader_next(rd, &e); prev_tsc = e.tsc) {
		n++;
		if (e.type == gm_rec_free && e.thread == 2) {
			/* comes right after block 512's allocation */
			cr_expect_eq(n, 514, "%s: thread 2's free is event %zu", path, n);
		} else if (e.type == gm_rec_free) {
			/* the free of block i comes right after its allocation */
			frees++;
			if (e.tsc != 50000 + 10 * (e.a - 0x100000) / 16 - 1 ||
			    prev_tsc != e.tsc + 1)
				bad++;
		}
	}
	cr_expect_eq(n, 2501, "%s: every record", path);
	cr_expect_eq(frees, 500, "%s: every free", path);
	cr_expect_eq(bad, 0, "%s: every free right after its allocation", path);
	cr_expect_eq(gm_reader_info(rd)->reordered, 501, "%s: records reordered", path);
	gm_reader_free(rd);
}

/* Without memory for the set at any point, every record still comes. */
static int oom_many(long n, void *arg)
{
	const char *path = arg;
	char err[256] = "";
	gm_event_t e;
	gm_reader_t *rd = gm_reader_open(path, err, sizeof(err));
	size_t got = 0;

	if (!rd) {
		cr_assert(err[0], "allocation %ld failed: open gives no error", n);
		return 1;
	}
	while (gm_reader_next(rd, &e) > 0)
		got++;
	cr_assert_null(gm_reader_error(rd), "allocation %ld: %s", n, gm_reader_error(rd));
	cr_assert_eq(got, 2501, "allocation %ld: %zu events", n, got);
	gm_reader_free(rd);
	return 0;
}

Test(reader, delivers_every_record_when_the_set_cannot_grow)
{
	long runs = gm_failalloc_each(oom_many, (void *)many_capture(), 10000);

	cr_expect_gt(runs, 0, "the reader allocates (%ld failing runs)", runs);
}

Test(reader, rebuilds_tsc_across_wraps_and_time_records)
{
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[8];
	const char *path;
	gm_reader_t *rd;
	uint64_t base = (1ull << 24) - 16; /* the next records wrap the 24-bit tick */

	rec_alloc(&r, base + 10, 0x10, 1);
	rec_alloc(&r, base + 40, 0x20, 1);
	rec_time(&r, 0x123456789abull);
	rec_alloc(&r, 0x123456789abull + 5, 0x30, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, base, &r);
	path = cap_write(&c, "time.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 8), 3, "%s: time records are not delivered", path);
	cr_expect_eq(ev[0].tsc, base + 10, "%s: first tsc", path);
	cr_expect_eq(ev[1].tsc, base + 40, "%s: tsc after the 24-bit wrap", path);
	cr_expect_eq(ev[2].tsc, 0x123456789abull + 5, "%s: tsc after a time record", path);
	gm_reader_free(rd);
}

Test(reader, drops_a_block_seen_twice)
{
	capbuf_t c = {0};
	recs_t r = {0}, r2 = {0};
	gm_event_t ev[8];
	const char *path;
	gm_reader_t *rd;
	size_t n;

	rec_alloc(&r, 10, 0x10, 1);
	rec_alloc(&r, 20, 0x20, 2);
	rec_alloc(&r2, 30, 0x30, 3);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	cap_block(&c, gm_block_raw, 0, 0, 32, 20, &r2);
	cap_block(&c, gm_block_zstd, 0, 0, 0, 0, &r); /* a dying drainer wrote it again */
	path = cap_write(&c, "dup.gmt");
	rd = open_ok(path);
	n = read_all(rd, ev, 8);
	cr_assert_eq(n, 3, "%s: duplicate dropped, got %zu events", path, n);
	cr_expect_eq(ev[0].a, 0x10, "%s", path);
	cr_expect_eq(ev[1].a, 0x20, "%s", path);
	cr_expect_eq(ev[2].a, 0x30, "%s", path);
	cr_expect_eq(gm_reader_info(rd)->records_bytes, 48, "%s: unique record bytes", path);
	cr_expect_eq(gm_reader_info(rd)->nblocks, 3, "%s: blocks indexed", path);
	gm_reader_free(rd);
}

Test(reader, skips_the_already_seen_prefix_of_an_overlapping_block)
{
	capbuf_t c = {0};
	recs_t a = {0}, b = {0};
	gm_event_t ev[8];
	const char *path;
	gm_reader_t *rd;
	size_t n;

	/* a covers chunk bytes 0..32 (records 1, 2); b covers 16..64 (2, 3, 4) */
	rec_alloc(&a, 10, 0x1, 1);
	rec_alloc(&a, 20, 0x2, 1);
	rec_alloc(&b, 20, 0x2, 1);
	rec_alloc(&b, 30, 0x3, 1);
	rec_alloc(&b, 40, 0x4, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_zstd, 0, 0, 16, 10, &b);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &a);
	path = cap_write(&c, "overlap.gmt");
	rd = open_ok(path);
	n = read_all(rd, ev, 8);
	cr_assert_eq(n, 4, "%s: 4 distinct records, got %zu", path, n);
	for (size_t i = 0; i < 4; i++) {
		cr_expect_eq(ev[i].a, i + 1, "%s: event %zu ptr", path, i);
		cr_expect_eq(ev[i].tsc, 10 * (i + 1), "%s: event %zu tsc", path, i);
	}
	cr_expect_eq(gm_reader_info(rd)->records_bytes, 64, "%s: unique record bytes", path);
	cr_expect_null(gm_reader_error(rd), "%s: no damage", path);
	gm_reader_free(rd);
}

Test(reader, skips_and_counts_unknown_records_and_sums_lost_ones)
{
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[8];
	const char *path;
	gm_reader_t *rd;

	rec_alloc(&r, 10, 0x10, 1);
	rec_put(&r, gm_rec_w0(7, 200, 2)); /* a future type with 2 extra units */
	rec_put(&r, gm_rec_w1(0, 15));
	for (int i = 0; i < 4; i++)
		rec_put(&r, 0xdeadbeef);
	rec_put(&r, gm_rec_w0(5, gm_rec_lost, 0));
	rec_put(&r, gm_rec_w1(0, 18));
	rec_realloc(&r, 20, 0x20, 2, 0x10);
	cap_header(&c, 1, 3);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	path = cap_write(&c, "unknown.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 8), 3, "%s: alloc, lost, realloc", path);
	cr_expect_eq(ev[1].type, gm_rec_lost, "%s", path);
	cr_expect_eq(ev[2].type, gm_rec_realloc, "%s", path);
	cr_expect_eq(ev[2].nextra, 1, "%s: realloc has one extra unit", path);
	cr_expect_eq(ev[2].extra[0], 0x10, "%s: realloc's old pointer", path);
	cr_expect_eq(gm_reader_info(rd)->unknown_records, 1, "%s: unknown records", path);
	cr_expect_eq(gm_reader_info(rd)->records_lost, 5, "%s: records lost", path);
	cr_expect_eq(gm_reader_info(rd)->version_minor, 3, "%s: newer minor is fine", path);
	cr_expect_null(gm_reader_error(rd), "%s: unknown types are not damage", path);

	gm_reader_rewind(rd);
	cr_expect_eq(read_all(rd, ev, 8), 3, "%s: same events after rewind", path);
	cr_expect_eq(ev[0].a, 0x10, "%s: first event after rewind", path);
	cr_expect_eq(gm_reader_info(rd)->unknown_records, 1, "%s: not counted twice", path);
	cr_expect_eq(gm_reader_info(rd)->records_lost, 5, "%s: not counted twice", path);
	gm_reader_free(rd);
}

Test(reader, opens_an_empty_capture_with_no_events)
{
	capbuf_t c = {0};
	gm_event_t ev;
	const char *path;
	gm_reader_t *rd;
	const gm_reader_info_t *info;

	cap_header(&c, 1, 0);
	path = cap_write(&c, "empty-capture.gmt");
	rd = open_ok(path);
	cr_expect_eq(gm_reader_next(rd, &ev), 0, "%s: no events", path);
	cr_expect_null(gm_reader_error(rd), "%s: no damage", path);
	info = gm_reader_info(rd);
	cr_expect_eq(info->nthreads, 0, "%s", path);
	cr_expect_eq(info->pid, 4242, "%s: pid from the header", path);
	cr_expect_eq(info->created_ns, 77, "%s", path);
	cr_expect_str_eq(info->shm_name, "/gmtrace-test", "%s", path);
	cr_expect_eq(info->file_bytes, sizeof(gm_file_header_t), "%s", path);
	gm_reader_rewind(rd);
	cr_expect_eq(gm_reader_next(rd, &ev), 0, "%s: still no events", path);
	gm_reader_free(rd);
}

/* ---- errors at open --------------------------------------------------------- */

Test(reader, refuses_a_missing_file)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/no-such.gmt", tmpdir);
	expect_open_error(path, "No such file or directory");
}

Test(reader, refuses_an_empty_file)
{
	capbuf_t c = {0};

	expect_open_error(cap_write(&c, "empty.gmt"), "empty file, not a gmtrace capture");
}

Test(reader, refuses_a_file_without_the_magic)
{
	capbuf_t c = {0};

	cap_header(&c, 1, 0);
	c.buf[0] = 'X';
	expect_open_error(cap_write(&c, "magic.gmt"),
	                  "not a gmtrace capture (no GMTRACE magic at offset 0)");
	cb_put(&c, "GMT", 3);
	expect_open_error(cap_write(&c, "short.gmt"),
	                  "not a gmtrace capture (no GMTRACE magic at offset 0)");
}

Test(reader, refuses_a_truncated_file_header)
{
	capbuf_t c = {0};

	cap_header(&c, 1, 0);
	c.len = 100;
	expect_open_error(cap_write(&c, "header.gmt"),
	                  "truncated file header at offset 100: expected 128 bytes, file has 100");
}

Test(reader, refuses_a_newer_major_version_naming_both)
{
	capbuf_t c = {0};

	cap_header(&c, GM_FORMAT_VERSION_MAJOR + 1, 0);
	expect_open_error(cap_write(&c, "vnext.gmt"),
	                  GM_FORMAT_VERSION_MAJOR == 3 ?
	                          "capture is format 4.0, this gmtrace reads up to 3.x" :
	                          "capture is format ?.0 (update this test with the major)");
}

/* ---- damage after the header ------------------------------------------------- */

/* Opens path, reads everything, checks the events' ptrs and the damage line. */
static void expect_damage(const char *path, const uint64_t *ptrs, size_t nptrs, uint64_t at,
                          const char *what)
{
	gm_event_t ev[16];
	gm_reader_t *rd = open_ok(path);
	char want[512];
	size_t n, i;

	n = read_all(rd, ev, 16);
	cr_expect_eq(n, nptrs, "%s: %zu events before the damage, got %zu", path, nptrs, n);
	for (i = 0; i < n && i < nptrs; i++)
		cr_expect_eq(ev[i].a, ptrs[i], "%s: event %zu", path, i);
	snprintf(want, sizeof(want), "%s: offset %llu: %s", path, (unsigned long long)at, what);
	cr_assert_not_null(gm_reader_error(rd), "%s: damage expected: %s", path, want);
	cr_expect_str_eq(gm_reader_error(rd), want, "%s: damage line", path);
	gm_reader_free(rd);
}

Test(reader, reports_a_truncated_block_and_keeps_what_came_before)
{
	static const uint64_t ptrs[] = {0x10, 0x20};
	capbuf_t c = {0};
	recs_t r = {0};
	size_t at;

	rec_alloc(&r, 10, 0x10, 1);
	rec_alloc(&r, 20, 0x20, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	r.n = 0;
	rec_alloc(&r, 30, 0x30, 1);
	rec_alloc(&r, 40, 0x40, 1);
	at = cap_block(&c, gm_block_raw, 0, 0, 32, 20, &r);
	c.len -= 22; /* 32 payload bytes written, 10 left */
	expect_damage(cap_write(&c, "truncated.gmt"), ptrs, 2, at,
	              "truncated block: expected 32 payload bytes, 10 left");
}

Test(reader, reports_a_truncated_block_header)
{
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r = {0};
	size_t at;

	rec_alloc(&r, 10, 0x10, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	at = c.len;
	cb_put(&c, "GMBKxxxx", 8);
	expect_damage(cap_write(&c, "header-cut.gmt"), ptrs, 1, at,
	              "truncated block header: expected 48 bytes, 8 left");
}

Test(reader, reports_a_bad_block_magic)
{
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r = {0};
	size_t at;

	rec_alloc(&r, 10, 0x10, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	at = cap_block(&c, gm_block_raw, 0, 1, 0, 0, &r);
	memcpy(c.buf + at, "XXXX", 4);
	expect_damage(cap_write(&c, "block-magic.gmt"), ptrs, 1, at,
	              "bad block magic 0x58585858, expected 0x4b424d47");
}

Test(reader, reports_a_block_of_no_records_with_a_payload)
{
	/* a packed block whose raw_bytes was damaged to 0, its check value
	 * still right: not dropped in silence; an empty zstd frame of no
	 * records reads as nothing */
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r = {0};
	char what[64];
	uint32_t stored;
	size_t at, zn;
	void *z;

	rec_alloc(&r, 10, 0x10, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	z = malloc(ZSTD_compressBound(0));
	cr_assert_not_null(z);
	zn = ZSTD_compress(z, ZSTD_compressBound(0), "", 0, 3);
	cr_assert(!ZSTD_isError(zn));
	cb_block_at(&c, gm_block_zstd, 0, 1, 16, 0, 10, z, zn);
	free(z);
	at = cap_block(&c, gm_block_packed2, 1, 0, 0, 0, &r);
	memset(c.buf + at + offsetof(gm_block_t, raw_bytes), 0, sizeof(uint32_t));
	memcpy(&stored, c.buf + at + offsetof(gm_block_t, stored_bytes), sizeof(stored));
	snprintf(what, sizeof(what), "block of no records stores %u bytes", stored);
	expect_damage(cap_write(&c, "no_records.gmt"), ptrs, 1, at, what);
}

Test(reader, reports_a_bad_check_value)
{
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r = {0};
	char what[128];
	uint32_t good, bad;
	size_t at;

	rec_alloc(&r, 10, 0x10, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	at = cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r);
	good = gm_format_check(r.w, 16);
	c.buf[at + sizeof(gm_block_t)] ^= 0x01; /* flip a bit of the pointer */
	bad = gm_format_check(c.buf + at + sizeof(gm_block_t), 16);
	cr_assert_neq(good, bad);
	snprintf(what, sizeof(what), "bad check value: block says 0x%08x, payload gives 0x%08x",
	         good, bad);
	expect_damage(cap_write(&c, "check.gmt"), ptrs, 1, at, what);
}

Test(reader, leaves_out_a_block_with_a_bad_check_value_and_reads_on)
{
	/* thread 0's first block, thread 1's block with a flipped payload bit,
	 * thread 0's second block: the damaged block alone is left out (the
	 * next header is where its size says), the line names it, and thread
	 * 0's later block is read (every later block was lost before) */
	static const uint64_t ptrs[] = {0x10, 0x30};
	capbuf_t c = {0};
	recs_t r0 = {0}, r1 = {0}, r2 = {0};
	char what[128];
	uint32_t good, bad;
	size_t at;
	gm_reader_t *rd;
	const char *path;

	rec_alloc(&r0, 10, 0x10, 1);
	rec_alloc(&r1, 20, 0x20, 1);
	rec_alloc(&r2, 30, 0x30, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r0);
	at = cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r1);
	cap_block(&c, gm_block_raw, 0, 1, 0, 0, &r2);
	good = gm_format_check(r1.w, 16);
	c.buf[at + sizeof(gm_block_t)] ^= 0x01;
	bad = gm_format_check(c.buf + at + sizeof(gm_block_t), 16);
	snprintf(what, sizeof(what), "bad check value: block says 0x%08x, payload gives 0x%08x",
	         good, bad);
	path = cap_write(&c, "skip.gmt");
	expect_damage(path, ptrs, 2, at, what);
	rd = open_ok(path);
	cr_expect_eq(gm_reader_info(rd)->skipped_blocks, 1);
	gm_reader_free(rd);
}

Test(reader, stops_at_a_damaged_block_whose_size_leads_nowhere)
{
	/* the same flip, and the next header's magic damaged too: the size
	 * cannot be trusted, so the walk stops at the first damage */
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r0 = {0}, r1 = {0}, r2 = {0};
	size_t at, at2;
	gm_reader_t *rd;
	const char *path;
	gm_event_t ev[4];

	rec_alloc(&r0, 10, 0x10, 1);
	rec_alloc(&r1, 20, 0x20, 1);
	rec_alloc(&r2, 30, 0x30, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r0);
	at = cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r1);
	at2 = cap_block(&c, gm_block_raw, 0, 1, 0, 0, &r2);
	c.buf[at + sizeof(gm_block_t)] ^= 0x01;
	c.buf[at2] ^= 0x01;
	path = cap_write(&c, "noskip.gmt");
	rd = open_ok(path);
	cr_expect_eq(read_all(rd, ev, 4), 1);
	cr_expect_eq(ev[0].a, ptrs[0]);
	cr_expect_eq(gm_reader_info(rd)->damage_at, at);
	cr_expect_eq(gm_reader_info(rd)->skipped_blocks, 0);
	gm_reader_free(rd);
}

Test(reader, reports_a_record_running_past_its_block_and_goes_on_with_other_threads)
{
	static const uint64_t ptrs[] = {0x10, 0x99};
	capbuf_t c = {0};
	recs_t r = {0}, other = {0};
	size_t at;

	rec_alloc(&r, 10, 0x10, 1);
	rec_realloc(&r, 20, 0x20, 1, 0x10);
	r.n -= 2; /* keep only the realloc's first unit */
	rec_alloc(&other, 30, 0x99, 1);
	cap_header(&c, 1, 0);
	at = cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	cap_block(&c, gm_block_raw, 1, 0, 0, 0, &other);
	expect_damage(cap_write(&c, "past-end.gmt"), ptrs, 2, at,
	              "realloc record at byte 16 needs 32 bytes, 16 left in the block");
}

Test(reader, reports_a_type_0_record_inside_a_block)
{
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r = {0};
	size_t at;

	rec_alloc(&r, 10, 0x10, 1);
	rec_put(&r, 0);
	rec_put(&r, 0);
	cap_header(&c, 1, 0);
	at = cap_block(&c, gm_block_zstd, 0, 0, 0, 0, &r);
	expect_damage(cap_write(&c, "type0.gmt"), ptrs, 1, at,
	              "record of type 0 at byte 16 of a 32-byte block");
}

Test(reader, reports_a_string_longer_than_its_record)
{
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r = {0};
	size_t at;

	rec_alloc(&r, 10, 0x10, 1);
	rec_put(&r, gm_rec_w0(1234, gm_rec_thread_start, 1));
	rec_put(&r, gm_rec_w1(17, 20)); /* 17 name bytes in one 16-byte unit */
	rec_put(&r, 0x6e69616d);
	rec_put(&r, 0);
	cap_header(&c, 1, 0);
	at = cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	expect_damage(cap_write(&c, "string.gmt"), ptrs, 1, at,
	              "thread_start record at byte 16 says 17 string bytes, has room for 16");
}

/* A stack record names at least one frame and no more than its extra units
 * hold (two 8-byte frames a unit); the records after a bad one are lost. */
Test(reader, reports_a_stack_record_with_no_frames_or_too_many)
{
	static const uint64_t ptrs[] = {0x10};
	static const struct {
		unsigned x;
		uint64_t frames;
		const char *what;
	} cases[] = {
	        {1, 0, "stack record at byte 16 says 0 frames, has room for 2"},
	        {0, 0, "stack record at byte 16 says 0 frames, has room for 0"},
	        {1, 3, "stack record at byte 16 says 3 frames, has room for 2"},
	        {0, 1, "stack record at byte 16 says 1 frames, has room for 0"},
	        {2, 5, "stack record at byte 16 says 5 frames, has room for 4"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		capbuf_t c = {0};
		recs_t r = {0};
		char name[32];
		unsigned u;
		size_t at;

		rec_alloc(&r, 10, 0x10, 1);
		rec_put(&r, gm_rec_w0(1, gm_rec_stack, cases[i].x));
		rec_put(&r, gm_rec_w1(cases[i].frames, 20));
		for (u = 0; u < cases[i].x; u++) {
			rec_put(&r, 0x401000 + 16 * u);
			rec_put(&r, 0x401008 + 16 * u);
		}
		rec_alloc(&r, 30, 0x30, 1); /* after the damage: not delivered */
		cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
		at = cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
		snprintf(name, sizeof(name), "badstack%zu.gmt", i);
		expect_damage(cap_write(&c, name), ptrs, 1, at, cases[i].what);
	}
}

/* A stack record, then site records naming it (and naming "not kept"),
 * then the allocation they describe, in every record-carrying block kind. */
Test(reader, delivers_stack_and_site_records_with_their_frames)
{
	static const uint16_t kinds[] = {gm_block_raw,     gm_block_zstd,
	                                 gm_block_packed,  gm_block_packed_zstd,
	                                 gm_block_packed2, gm_block_packed2_zstd};
	static const uint64_t frames[3] = {0x7f0000401000ull, 0x55550000beefull, 0x401234};
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		capbuf_t c = {0};
		recs_t r = {0};
		gm_event_t ev[8];
		char name[32];
		const char *path;
		gm_reader_t *rd;
		size_t n;

		rec_put(&r, gm_rec_w0(6, gm_rec_stack, 2)); /* 3 frames in 2 units */
		rec_put(&r, gm_rec_w1(3, 1000));
		rec_put(&r, frames[0]);
		rec_put(&r, frames[1]);
		rec_put(&r, frames[2]);
		rec_put(&r, 0);
		rec_put(&r, gm_rec_w0(6, gm_rec_site, 0));
		rec_put(&r, gm_rec_w1(0, 1001));
		rec_alloc(&r, 1002, 0x7f0000002000ull, 64);
		rec_put(&r, gm_rec_w0(0, gm_rec_site, 0)); /* not kept */
		rec_put(&r, gm_rec_w1(0, 1003));
		rec_alloc(&r, 1004, 0x7f0000003000ull, 32);
		cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
		cap_block(&c, kinds[k], 0, 0, 0, 900, &r);
		snprintf(name, sizeof(name), "stack%zu.gmt", k);
		path = cap_write(&c, name);
		rd = open_ok(path);
		n = read_all(rd, ev, 8);
		cr_expect_null(gm_reader_error(rd), "%s: no damage: %s", path, gm_reader_error(rd));
		cr_assert_eq(n, 5, "%s: 5 events, got %zu", path, n);

		cr_expect_eq(ev[0].type, gm_rec_stack, "%s: type %u", path, ev[0].type);
		cr_expect_str_eq(gm_reader_type_name(ev[0].type), "stack");
		cr_expect_eq(ev[0].a, 6, "%s: stack id", path);
		cr_expect_eq(ev[0].b, 3, "%s: frames", path);
		cr_expect_eq(ev[0].x, 2, "%s: x", path);
		cr_expect_eq(ev[0].nextra, 2, "%s: extra units", path);
		cr_expect_eq(ev[0].tsc, 1000, "%s: tsc", path);
		cr_expect_eq(ev[0].extra[0], frames[0], "%s: frame 0", path);
		cr_expect_eq(ev[0].extra[1], frames[1], "%s: frame 1", path);
		cr_expect_eq(ev[0].extra[2], frames[2], "%s: frame 2", path);

		cr_expect_eq(ev[1].type, gm_rec_site, "%s: type %u", path, ev[1].type);
		cr_expect_str_eq(gm_reader_type_name(ev[1].type), "site");
		cr_expect_eq(ev[1].a, 6, "%s: site names the stack", path);
		cr_expect_eq(ev[1].nextra, 0, "%s: a site is one unit", path);
		cr_expect_eq(ev[1].tsc, 1001, "%s", path);

		cr_expect_eq(ev[2].type, gm_rec_alloc, "%s", path);
		cr_expect_eq(ev[2].a, 0x7f0000002000ull, "%s", path);
		cr_expect_eq(ev[2].b, 64, "%s", path);

		cr_expect_eq(ev[3].type, gm_rec_site, "%s", path);
		cr_expect_eq(ev[3].a, 0, "%s: not kept", path);

		cr_expect_eq(ev[4].type, gm_rec_alloc, "%s", path);
		cr_expect_eq(ev[4].a, 0x7f0000003000ull, "%s", path);
		cr_expect_eq(ev[4].b, 32, "%s", path);
		gm_reader_free(rd);
	}
}

/* A Python game's records: a pycode record (code 3, first line 12, name
 * "run", file "g.py") and a site_frames record (two frames: a Python frame
 * of code 3 and a return address) before an allocation, through every
 * block kind; then a pycode record whose name is longer than its bytes, a
 * pycode record too short for its first line, and a site_frames record
 * with no frames or more than it holds: each one clear error. */
Test(reader, delivers_pycode_and_site_frames_records)
{
	static const uint16_t kinds[] = {gm_block_raw,     gm_block_zstd,
	                                 gm_block_packed,  gm_block_packed_zstd,
	                                 gm_block_packed2, gm_block_packed2_zstd};
	const uint64_t pyf = GM_PYFRAME_BIT | (3ull << 32) | 14;
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		capbuf_t c = {0};
		recs_t r = {0};
		gm_event_t ev[4];
		char name[32];
		const char *path;
		gm_reader_t *rd;
		size_t n;

		rec_put(&r, gm_rec_w0(3, gm_rec_pycode, 1)); /* 8 + 3 + 4 bytes in 1 unit */
		rec_put(&r, gm_rec_w1(15, 1000));
		rec_put(&r, 12 | (3ull << 32));
		rec_put(&r, 0x79702e676e7572ull); /* "run" "g.py" */
		rec_put(&r, gm_rec_w0(0, gm_rec_site_frames, 1));
		rec_put(&r, gm_rec_w1(2, 1001));
		rec_put(&r, pyf);
		rec_put(&r, 0x401234);
		rec_alloc(&r, 1002, 0x7f0000002000ull, 64);
		cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
		cap_block(&c, kinds[k], 0, 0, 0, 900, &r);
		snprintf(name, sizeof(name), "py%zu.gmt", k);
		path = cap_write(&c, name);
		rd = open_ok(path);
		n = read_all(rd, ev, 4);
		cr_expect_null(gm_reader_error(rd), "%s: no damage: %s", path, gm_reader_error(rd));
		cr_assert_eq(n, 3, "%s: 3 events, got %zu", path, n);
		cr_expect_str_eq(gm_reader_type_name(ev[0].type), "pycode");
		cr_expect_eq(ev[0].a, 3, "%s: code id", path);
		cr_expect_eq(ev[0].b, 15, "%s: bytes", path);
		cr_expect_eq(ev[0].extra[0], 12 | (3ull << 32), "%s: first line, name bytes", path);
		cr_expect_eq(memcmp(&ev[0].extra[1], "rung.py", 7), 0, "%s: name and file", path);
		cr_expect_str_eq(gm_reader_type_name(ev[1].type), "site_frames");
		cr_expect_eq(ev[1].b, 2, "%s: frames", path);
		cr_expect_eq(ev[1].extra[0], pyf, "%s: the Python frame", path);
		cr_expect_eq(ev[1].extra[1], 0x401234, "%s: the return address", path);
		cr_expect_eq(ev[2].type, gm_rec_alloc, "%s", path);
		gm_reader_free(rd);
	}
}

Test(reader, reports_bad_pycode_and_site_frames_records)
{
	static const uint64_t ptrs[] = {0x10};
	static const struct {
		unsigned type, x;
		uint64_t b, w;
		const char *what;
	} cases[] = {
	        {gm_rec_pycode, 1, 15, 12 | (8ull << 32),
	         "pycode record at byte 16 has 15 bytes, too few for its first line and a "
	         "name of 8 bytes"},
	        {gm_rec_pycode, 1, 4, 12,
	         "pycode record at byte 16 has 4 bytes, too few for its first line and a "
	         "name of 0 bytes"},
	        {gm_rec_pycode, 1, 17, 12 | (1ull << 32),
	         "pycode record at byte 16 says 17 string bytes, has room for 16"},
	        {gm_rec_site_frames, 1, 0, 0,
	         "site_frames record at byte 16 says 0 frames, has room for 2"},
	        {gm_rec_site_frames, 1, 3, 0,
	         "site_frames record at byte 16 says 3 frames, has room for 2"},
	        {gm_rec_module_id, 1, 17, 0,
	         "module_id record at byte 16 says 17 string bytes, has room for 16"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		capbuf_t c = {0};
		recs_t r = {0};
		char name[32];
		size_t at;

		rec_alloc(&r, 10, 0x10, 1);
		rec_put(&r, gm_rec_w0(1, cases[i].type, cases[i].x));
		rec_put(&r, gm_rec_w1(cases[i].b, 20));
		rec_put(&r, cases[i].w);
		rec_put(&r, 0x401000);
		rec_alloc(&r, 30, 0x30, 1); /* after the damage: not delivered */
		cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
		at = cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
		snprintf(name, sizeof(name), "badpy%zu.gmt", i);
		expect_damage(cap_write(&c, name), ptrs, 1, at, cases[i].what);
	}
}

Test(reader, reports_a_bad_zstd_frame)
{
	static const uint64_t ptrs[] = {0x10};
	static const unsigned char junk[24] = "this is not zstd at all";
	capbuf_t c = {0};
	recs_t r = {0};
	size_t at;

	rec_alloc(&r, 10, 0x10, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	at = cb_block_at(&c, gm_block_zstd, 0, 1, 0, 16, 0, junk, sizeof(junk));
	expect_damage(cap_write(&c, "zstd.gmt"), ptrs, 1, at,
	              "bad zstd frame: not a zstd frame header");
}

Test(reader, reports_a_zstd_frame_of_the_wrong_size)
{
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r = {0};
	size_t at, start;
	gm_block_t b;

	rec_alloc(&r, 10, 0x10, 1);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	start = c.len;
	rec_alloc(&r, 20, 0x20, 1);
	at = cap_block(&c, gm_block_zstd, 0, 1, 0, 0, &r);
	cr_assert_eq(at, start);
	memcpy(&b, c.buf + at, sizeof(b));
	b.raw_bytes = 48; /* the frame holds 32 */
	memcpy(c.buf + at, &b, sizeof(b));
	expect_damage(cap_write(&c, "zstd-size.gmt"), ptrs, 1, at,
	              "zstd frame holds 32 bytes, block says 48");
}

Test(reader, reports_a_cut_zstd_frame)
{
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r = {0}, big = {0};
	gm_event_t ev[64];
	gm_reader_t *rd;
	const char *path;
	char want[256];
	size_t at, i, n;
	void *z;

	rec_alloc(&r, 10, 0x10, 1);
	for (i = 0; i < 40; i++)
		rec_alloc(&big, 10 * (i + 2), 0x1000 + i * 77, i * 13 + 1);
	z = zstd_of(&big, &n);
	cap_header(&c, 1, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	at = cb_block_at(&c, gm_block_zstd, 0, 1, 0, (uint32_t)(big.n * sizeof(uint64_t)), 10, z,
	                 n - 3); /* the frame's last 3 bytes are missing */
	free(z);
	path = cap_write(&c, "zstd-cut.gmt");
	rd = open_ok(path);
	cr_expect_eq(read_all(rd, ev, 64), 1, "%s: only the raw block's event", path);
	cr_expect_eq(ev[0].a, ptrs[0], "%s: event 0", path);
	snprintf(want, sizeof(want), "%s: offset %zu: bad zstd frame: ", path, at);
	cr_assert_not_null(gm_reader_error(rd), "%s: damage expected", path);
	cr_expect_eq(strncmp(gm_reader_error(rd), want, strlen(want)), 0,
	             "%s: '%s' should start with '%s'", path, gm_reader_error(rd), want);
	gm_reader_free(rd);
}

Test(reader, names_types_and_kinds)
{
	cr_expect_str_eq(gm_reader_type_name(gm_rec_alloc), "alloc");
	cr_expect_str_eq(gm_reader_type_name(gm_rec_module_unload), "module_unload");
	cr_expect_str_eq(gm_reader_type_name(gm_rec_count), "unknown");
	cr_expect_str_eq(gm_reader_kind_name(gm_kind_malloc), "malloc");
	cr_expect_str_eq(gm_reader_kind_name(gm_kind_delete_array), "delete_array");
	cr_expect_str_eq(gm_reader_kind_name(gm_kind_count), "unknown");
	for (unsigned t = 1; t < gm_rec_count; t++)
		cr_expect_str_neq(gm_reader_type_name(t), "unknown",
		                  "record type %u has no name: add it to reader.c", t);
	for (unsigned k = 0; k < gm_kind_count; k++)
		cr_expect_str_neq(gm_reader_kind_name(k), "unknown",
		                  "kind %u has no name: add it to reader.c", k);
}

/* Out of memory at any point of opening and reading: one clear error (at
 * open, or as damage with an offset while reading), never a crash, and the
 * events before it are whole. */
typedef struct oom_case {
	const char *path;
	size_t want; /* events when nothing fails */
} oom_case_t;

static int oom_read(long n, void *arg)
{
	oom_case_t *c = arg;
	char err[256] = "";
	gm_event_t e;
	gm_reader_t *rd = gm_reader_open(c->path, err, sizeof(err));
	size_t got = 0;
	int rc;
	if (!rd) {
		cr_assert(n >= 0, "open failed with nothing failing: %s", err);
		cr_assert(err[0], "allocation %ld failed: open gives no error", n);
		return 1;
	}
	while (gm_reader_next(rd, &e) > 0)
		got++;
	rc = gm_reader_error(rd) != NULL;
	if (!rc)
		cr_assert_eq(got, c->want, "allocation %ld: %zu events, no error", n, got);
	else
		cr_assert_leq(got, c->want, "allocation %ld", n);
	gm_reader_free(rd);
	return rc;
}

Test(reader, out_of_memory_anywhere_is_one_clear_error)
{
	static const uint16_t kinds[] = {gm_block_raw, gm_block_zstd, gm_block_packed2,
	                                 gm_block_packed_zstd, gm_block_packed2_zstd};
	capbuf_t c = {0};
	recs_t r = {0};
	oom_case_t oc;
	size_t k;
	long runs;

	rec_process(&r, 900, 1000, 900, 1000000000);
	rec_alloc(&r, 1000, 0x1000, 24);
	rec_realloc(&r, 1200, 0x2000, 48, 0x1000);
	cap_header(&c, GM_FORMAT_VERSION_MAJOR, GM_FORMAT_VERSION_MINOR);
	cap_clock(&c, 1000, 2000);
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		cap_block(&c, kinds[k], (uint32_t)k, 0, 0, 800, &r);
	cap_clock(&c, 5000, 6000);
	oc.path = cap_write(&c, "oom.gmt");
	oc.want = 3 * sizeof(kinds) / sizeof(kinds[0]);
	runs = gm_failalloc_each(oom_read, &oc, 10000);
	cr_expect_gt(runs, 0, "the reader allocates (%ld failing runs)", runs);
}

/* ---- more damage, edge values ----------------------------------------------- */

/* One zstd frame of n bytes at p without its content size (malloc'd). */
static void *zstd_unsized(const void *p, size_t n, size_t *out)
{
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	size_t bound = ZSTD_compressBound(n);
	void *z = malloc(bound);

	cr_assert(cctx && z);
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
	*out = ZSTD_compress2(cctx, z, bound, p, n);
	cr_assert(!ZSTD_isError(*out));
	ZSTD_freeCCtx(cctx);
	return z;
}

Test(reader, refuses_a_header_whose_size_is_out_of_range)
{
	capbuf_t c = {0};
	gm_file_header_t *h;

	cap_header(&c, 3, 0);
	h = (gm_file_header_t *)(void *)c.buf;
	h->header_bytes = 64;
	expect_open_error(cap_write(&c, "hsmall.gmt"),
	                  "bad file header: header_bytes is 64, expected 128..128");
	cap_header(&c, 3, 0);
	h = (gm_file_header_t *)(void *)c.buf;
	h->header_bytes = 4096;
	expect_open_error(cap_write(&c, "hbig.gmt"),
	                  "bad file header: header_bytes is 4096, expected 128..128");
}

Test(reader, refuses_a_directory_and_a_device)
{
	char err[256] = "x";

	expect_open_error(tmpdir, "is a directory, not a capture file");
	expect_open_error("/dev/null", "not a regular file");
	/* no error buffer, or one too small for the path: no crash, NULL */
	cr_expect_null(gm_reader_open("/dev/null", NULL, 0));
	cr_expect_null(gm_reader_open("/dev/null", err, 0));
	cr_expect_str_eq(err, "x", "a zero-length buffer is not written");
	cr_expect_null(gm_reader_open("/dev/null", err, 4));
	cr_expect_str_eq(err, "/de", "cut to the buffer");
}

/* Each of these damages a block header after one good block: the good
 * block's events are delivered and the damage names the bad block. */
Test(reader, reports_every_kind_of_bad_block_header)
{
	static const uint64_t ptrs[] = {0x10};
	static const struct {
		const char *name, *what;
	} cases[] = {
	        {"kind0.gmt", "unknown block kind 0"},
	        {"kind9.gmt", "unknown block kind 9"},
	        {"clock.gmt", "clock block of 24 bytes, expected 16"},
	        {"rawsize.gmt", "raw block stores 32 bytes but says it holds 48"},
	        {"units.gmt", "records of 40 bytes, not a multiple of 16"},
	        {"thread.gmt", "thread index 1048576 out of range (max 1048575)"},
	        {"chunk.gmt", "block covers chunk bytes 65520..65552, chunks are 65536 bytes"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		capbuf_t c = {0};
		recs_t r = {0}, two = {0};
		uint64_t v[3] = {1, 2, 3};
		size_t at;

		rec_alloc(&r, 10, 0x10, 1);
		rec_alloc(&two, 20, 0x20, 1);
		rec_alloc(&two, 30, 0x30, 1);
		cap_header(&c, 3, 0);
		cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
		switch (i) {
		case 0:
		case 1:
			at = cap_block(&c, gm_block_raw, 1, 0, 0, 0, &two);
			((gm_block_t *)(void *)(c.buf + at))->kind = i == 0 ? 0 : 9;
			break;
		case 2:
			at = cb_block_at(&c, gm_block_clock, 0, 0, 0, 0, 0, v, sizeof(v));
			break;
		case 3:
			at = cb_block_at(&c, gm_block_raw, 1, 0, 0, 48, 0, two.w, 32);
			break;
		case 4:
			at = cb_block_at(&c, gm_block_zstd, 1, 0, 0, 40, 0, two.w, 32);
			break;
		case 5:
			at = cap_block(&c, gm_block_raw, 1u << 20, 0, 0, 0, &two);
			break;
		default:
			at = cap_block(&c, gm_block_raw, 1, 0, 65520, 0, &two);
			break;
		}
		expect_damage(cap_write(&c, cases[i].name), ptrs, 1, at, cases[i].what);
	}
}

/* A header naming no chunk size (0) does not limit block offsets; a block
 * of no records is counted but holds nothing. */
Test(reader, a_zero_chunk_size_and_an_empty_block_are_fine)
{
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[4];
	const char *path;
	gm_reader_t *rd;

	rec_alloc(&r, 10, 0x10, 1);
	cap_header(&c, 3, 0);
	((gm_file_header_t *)(void *)c.buf)->chunk_bytes = 0;
	cap_block(&c, gm_block_raw, 0, 0, 1u << 30, 0, &r);
	cb_block_at(&c, gm_block_raw, 0, 1, 0, 0, 0, r.w, 0);
	path = cap_write(&c, "nochunk.gmt");
	rd = open_ok(path);
	cr_expect_eq(read_all(rd, ev, 4), 1, "%s", path);
	cr_expect_eq(ev[0].a, 0x10);
	cr_expect_eq(gm_reader_info(rd)->nblocks, 2, "the empty block is counted");
	cr_expect_eq(gm_reader_info(rd)->records_bytes, 16);
	cr_expect_null(gm_reader_error(rd));
	gm_reader_free(rd);
}

/* Two copies of a chunk's start, the longer one first in sort order, and an
 * exact copy further on in the file: every record once. */
Test(reader, keeps_the_longer_of_two_copies_of_a_chunk_start)
{
	capbuf_t c = {0};
	recs_t shortr = {0}, longr = {0};
	gm_event_t ev[8];
	const char *path;
	gm_reader_t *rd;
	size_t i;

	for (i = 0; i < 3; i++)
		rec_alloc(&longr, 10 * (i + 1), 0x100 + i, i + 1);
	rec_alloc(&shortr, 10, 0x100, 1);
	cap_header(&c, 3, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &shortr);
	cap_block(&c, gm_block_zstd, 0, 0, 0, 0, &longr);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &longr);
	path = cap_write(&c, "copies.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 8), 3, "%s", path);
	for (i = 0; i < 3; i++)
		cr_expect_eq(ev[i].b, i + 1, "event %zu", i);
	cr_expect_eq(gm_reader_info(rd)->records_bytes, 48);
	cr_expect_null(gm_reader_error(rd));
	gm_reader_free(rd);
}

/* Overlaps that do not fall on record boundaries are damage. */
Test(reader, reports_overlaps_that_split_records)
{
	static const uint64_t ptrs1[] = {0x1, 0x2};
	capbuf_t c = {0};
	recs_t a = {0}, b = {0};
	size_t at;

	/* b starts 8 bytes into a's second record */
	rec_alloc(&a, 10, 0x1, 1);
	rec_alloc(&a, 20, 0x2, 1);
	rec_alloc(&b, 30, 0x3, 1);
	rec_alloc(&b, 40, 0x4, 1);
	cap_header(&c, 3, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &a);
	at = cap_block(&c, gm_block_raw, 0, 0, 24, 20, &b);
	expect_damage(cap_write(&c, "split.gmt"), ptrs1, 2, at,
	              "block overlaps an earlier one by 8 bytes, not whole records");

	/* a covers 0..32; b (from 16) starts with a realloc covering 16..48 */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	rec_alloc(&a, 10, 0x1, 1);
	rec_alloc(&a, 20, 0x2, 1);
	rec_realloc(&b, 30, 0x3, 1, 0x1);
	rec_alloc(&b, 40, 0x4, 1);
	cap_header(&c, 3, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &a);
	at = cap_block(&c, gm_block_raw, 0, 0, 16, 20, &b);
	expect_damage(cap_write(&c, "inside.gmt"), ptrs1, 2, at,
	              "overlap with an earlier block ends inside the record at byte 0");
}

/* A raw block whose payload is not 8-byte aligned in the file (after a
 * zstd block of odd size) reads the same. */
Test(reader, reads_a_raw_block_at_an_unaligned_offset)
{
	capbuf_t c = {0};
	recs_t r = {0}, z = {0};
	gm_event_t ev[8];
	const char *path;
	gm_reader_t *rd;
	size_t at;

	rec_alloc(&z, 10, 0x10, 1);
	rec_alloc(&r, 20, 0x20, 2);
	rec_alloc(&r, 30, 0x30, 3);
	cap_header(&c, 3, 0);
	cap_block(&c, gm_block_zstd, 0, 0, 0, 0, &z);
	at = cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r);
	cr_assert_neq((at + sizeof(gm_block_t)) % 8, 0, "payload at %zu should be unaligned",
	              at + sizeof(gm_block_t));
	path = cap_write(&c, "unaligned.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 8), 3);
	cr_expect_eq(ev[1].a, 0x20);
	cr_expect_eq(ev[2].b, 3);
	cr_expect_null(gm_reader_error(rd));
	gm_reader_free(rd);
}

/* zstd frames that do not say their size: fine for records (the block's
 * size is checked after decoding), refused for packed records (their
 * size cannot be bounded first). */
Test(reader, zstd_frames_without_a_content_size)
{
	static const uint64_t ptrs[] = {0x10, 0x20};
	capbuf_t c = {0};
	recs_t r = {0};
	unsigned char packed[256];
	size_t n, pn, at;
	void *z;

	rec_alloc(&r, 10, 0x10, 1);
	rec_alloc(&r, 20, 0x20, 1);
	cap_header(&c, 3, 0);
	z = zstd_unsized(r.w, 32, &n);
	cb_block_at(&c, gm_block_zstd, 0, 0, 0, 32, 0, z, n);
	free(z);
	/* an unsized frame holding 32 bytes for a block that says 48 */
	z = zstd_unsized(r.w, 32, &n);
	at = cb_block_at(&c, gm_block_zstd, 1, 0, 0, 48, 0, z, n);
	free(z);
	expect_damage(cap_write(&c, "unsized.gmt"), ptrs, 2, at,
	              "zstd frame holds 32 bytes, block says 48");

	cap_header(&c, 3, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	pn = gm_pack_block(r.w, 32, packed);
	z = zstd_unsized(packed, pn, &n);
	at = cb_block_at(&c, gm_block_packed2_zstd, 1, 0, 0, 32, 0, z, n);
	free(z);
	{
		char what[128];
		snprintf(what, sizeof(what), "zstd frame of packed records: size %llu for 32 bytes",
		         (unsigned long long)ZSTD_CONTENTSIZE_UNKNOWN);
		expect_damage(cap_write(&c, "unsized-packed.gmt"), ptrs, 2, at, what);
	}
}

/* Packed records under zstd: a frame far larger than the records could
 * pack to, and packed bytes that do not unpack to the block's size. */
Test(reader, reports_bad_packed_zstd_blocks)
{
	static const uint64_t ptrs[] = {0x10, 0x20};
	capbuf_t c = {0};
	recs_t r = {0};
	unsigned char big[200], packed[256];
	size_t n, pn, at;
	void *z;

	rec_alloc(&r, 10, 0x10, 1);
	rec_alloc(&r, 20, 0x20, 1);
	memset(big, 0x11, sizeof(big));
	cap_header(&c, 3, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	z = malloc(ZSTD_compressBound(sizeof(big)));
	n = ZSTD_compress(z, ZSTD_compressBound(sizeof(big)), big, sizeof(big), 1);
	at = cb_block_at(&c, gm_block_packed2_zstd, 1, 0, 0, 32, 0, z, n);
	free(z);
	expect_damage(cap_write(&c, "packed-big.gmt"), ptrs, 2, at,
	              "zstd frame of packed records: size 200 for 32 bytes");

	cap_header(&c, 3, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	pn = gm_pack_block(r.w, 32, packed);
	z = malloc(ZSTD_compressBound(pn));
	n = ZSTD_compress(z, ZSTD_compressBound(pn), packed, pn, 1);
	at = cb_block_at(&c, gm_block_packed2_zstd, 1, 0, 0, 48, 0, z, n);
	free(z);
	expect_damage(cap_write(&c, "packed-short.gmt"), ptrs, 2, at,
	              "packed block does not unpack to 48 bytes of records");
}

/* Records too short for what their type needs. */
Test(reader, reports_records_shorter_than_their_type)
{
	static const uint64_t ptrs[] = {0x10};
	static const struct {
		unsigned type, x;
		const char *what;
	} cases[] = {
	        {gm_rec_frame_sum, 1, "frame_sum record at byte 16 has 2 units, needs at least 5"},
	        {gm_rec_module, 0, "module record at byte 16 has 1 units, needs at least 2"},
	        {gm_rec_process, 1, "process record at byte 16 has 2 units, needs at least 4"},
	        {gm_rec_time, 0, "time record at byte 16 has no TSC unit"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		capbuf_t c = {0};
		recs_t r = {0};
		char name[32];
		unsigned u;
		size_t at;

		rec_alloc(&r, 10, 0x10, 1);
		rec_put(&r, gm_rec_w0(0, cases[i].type, cases[i].x));
		rec_put(&r, gm_rec_w1(0, 20));
		for (u = 0; u < cases[i].x; u++) {
			rec_put(&r, 0);
			rec_put(&r, 0);
		}
		cap_header(&c, 3, 0);
		at = cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
		snprintf(name, sizeof(name), "short%zu.gmt", i);
		expect_damage(cap_write(&c, name), ptrs, 1, at, cases[i].what);
	}
}

/* A process record whose string lengths add past 2^64 is damage, not a
 * wrap-around that fits. */
Test(reader, reports_process_string_lengths_that_overflow)
{
	static const uint64_t ptrs[] = {0x10};
	capbuf_t c = {0};
	recs_t r = {0};
	size_t at;
	char what[160];

	rec_alloc(&r, 10, 0x10, 1);
	rec_put(&r, gm_rec_w0(1, gm_rec_process, 3));
	rec_put(&r, gm_rec_w1(0, 20));
	rec_put(&r, 1);
	rec_put(&r, 2);
	rec_put(&r, 3);
	rec_put(&r, 4);
	rec_put(&r, UINT64_MAX - 5); /* exe bytes */
	rec_put(&r, 10);             /* argv bytes */
	cap_header(&c, 3, 0);
	at = cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	snprintf(what, sizeof(what),
	         "process record at byte 16 says %llu string bytes, has room for 0",
	         (unsigned long long)UINT64_MAX);
	expect_damage(cap_write(&c, "pover.gmt"), ptrs, 1, at, what);
}

/* The first damage is the one reported, whichever stream meets another. */
Test(reader, reports_only_the_first_damage)
{
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[4];
	const char *path;
	gm_reader_t *rd;
	size_t at0;
	char want[256];

	rec_put(&r, 0);
	rec_put(&r, 0);
	cap_header(&c, 3, 0);
	at0 = cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	cap_block(&c, gm_block_raw, 1, 0, 0, 0, &r);
	path = cap_write(&c, "twice.gmt");
	rd = open_ok(path);
	cr_expect_eq(read_all(rd, ev, 4), 0);
	snprintf(want, sizeof(want),
	         "%s: offset %zu: record of type 0 at byte 0 of a 16-byte block", path, at0);
	cr_expect_str_eq(gm_reader_error(rd), want);
	gm_reader_free(rd);
}

/* A damage line for a path too long for it is cut, never overrun. */
Test(reader, a_very_long_path_cuts_the_damage_line)
{
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[4];
	char path[900];
	gm_reader_t *rd;
	size_t len;
	int i;

	rec_put(&r, 0);
	rec_put(&r, 0);
	cap_header(&c, 3, 0);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	cap_write(&c, "long.gmt");
	len = (size_t)snprintf(path, sizeof(path), "%s/", tmpdir);
	for (i = 0; i < 300; i++)
		len += (size_t)snprintf(path + len, sizeof(path) - len, "./");
	snprintf(path + len, sizeof(path) - len, "long.gmt");
	rd = open_ok(path);
	cr_expect_eq(read_all(rd, ev, 4), 0);
	cr_assert_not_null(gm_reader_error(rd));
	cr_expect_eq(strlen(gm_reader_error(rd)), 511, "cut at the buffer's end");
	cr_expect_eq(strncmp(gm_reader_error(rd), path, 511), 0);
	gm_reader_free(rd);
}

/* Clock samples that go backwards in ns give no fit: the process record's
 * rate is used. A process record without a sample (both 0) adds none. */
Test(reader, falls_back_to_the_process_rate_when_samples_disagree)
{
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[4];
	const char *path;
	gm_reader_t *rd;

	rec_process(&r, 1000, 0, 0, 1000000000ull); /* no (TSC, ns) pair, 1 GHz */
	rec_alloc(&r, 3000, 0x10, 1);
	cap_header(&c, 3, 0);
	cap_clock(&c, 1000, 9000);
	cap_clock(&c, 2000, 8000); /* ns went back */
	cap_block(&c, gm_block_raw, 0, 0, 0, 900, &r);
	path = cap_write(&c, "backwards.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 4), 2);
	cr_expect_eq(gm_reader_info(rd)->tsc_hz, 1e9, "%s: the process record's rate", path);
	cr_expect_eq(ev[1].ns, 9000 + 2000, "%s: from the lowest sample at 1 GHz", path);
	cr_expect_eq(ev[0].ns, 9000, "%s", path);
	gm_reader_free(rd);
}

/* Times before the first sample would be negative: they read 0; times far
 * past it saturate rather than wrap. */
Test(reader, clamps_times_outside_the_64_bit_range)
{
	capbuf_t c = {0};
	recs_t r = {0};
	gm_event_t ev[4];
	const char *path;
	gm_reader_t *rd;

	rec_alloc(&r, 100, 0x10, 1);
	rec_time(&r, 1ull << 62);
	rec_alloc(&r, (1ull << 62) + 1, 0x20, 1);
	cap_header(&c, 3, 0);
	cap_clock(&c, 1000, 10); /* 1 tick = 1000 ns: tsc 100 is before ns 0 */
	cap_clock(&c, 2000, 1000010);
	cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
	path = cap_write(&c, "clamp.gmt");
	rd = open_ok(path);
	cr_assert_eq(read_all(rd, ev, 4), 2);
	cr_expect_eq(ev[0].ns, 0, "%s: before time 0", path);
	cr_expect_eq(ev[1].ns, UINT64_MAX, "%s: past 2^64 ns", path);
	gm_reader_free(rd);
}

/* A flipped bit in a block header's thread field: a 3.3 header's own check
 * finds it, and only that block is left out (its records would otherwise
 * have been given to a thread that never was); the same flip in a 3.2
 * capture, whose headers have no check, goes unseen as before. */
Test(reader, a_flipped_header_bit_fails_the_header_check_from_3_3)
{
	unsigned minor;

	for (minor = 2; minor <= 3; minor++) {
		capbuf_t c = {0};
		recs_t r = {0}, two = {0}, three = {0};
		gm_event_t ev[8];
		gm_reader_t *rd;
		const char *path;
		char want[256];
		size_t at, n;
		gm_block_t *b;
		uint64_t said, given;

		rec_alloc(&r, 10, 0x10, 1);
		rec_alloc(&two, 20, 0x20, 1);
		rec_alloc(&three, 30, 0x30, 1);
		cap_header(&c, 3, (uint16_t)minor);
		cap_block(&c, gm_block_raw, 0, 0, 0, 0, &r);
		at = cap_block(&c, gm_block_raw, 0, 1, 0, 0, &two);
		cap_block(&c, gm_block_raw, 0, 2, 0, 0, &three);
		b = (gm_block_t *)(void *)(c.buf + at);
		cr_assert(b->header_check & GM_BLOCK_HEADER_CHECKED, "the writer sealed it");
		if (minor == 2)
			b->header_check = 0; /* a 3.2 writer's header */
		b->thread ^= 1u << 4;        /* thread 0 becomes 16 */
		said = b->header_check;
		given = gm_format_header_check(b);
		/* (writing frees the buffer b points into) */
		path = cap_write(&c, minor == 2 ? "flip32.gmt" : "flip33.gmt");
		rd = open_ok(path);
		n = read_all(rd, ev, 8);
		if (minor == 2) {
			cr_expect_eq(n, 3, "3.2: every record, one on a thread of its own");
			cr_expect_null(gm_reader_error(rd), "3.2: no damage seen");
			cr_expect_eq(gm_reader_info(rd)->nthreads, 17);
		} else {
			cr_expect_eq(n, 2, "3.3: the other blocks' records");
			cr_expect(n == 2 && ev[0].a == 0x10 && ev[1].a == 0x30);
			snprintf(want, sizeof(want),
			         "%s: offset %zu: bad block header check: header says "
			         "0x%llx, its fields give 0x%llx",
			         path, at, (unsigned long long)said, (unsigned long long)given);
			cr_assert_not_null(gm_reader_error(rd));
			cr_expect_str_eq(gm_reader_error(rd), want);
			cr_expect_eq(gm_reader_info(rd)->skipped_blocks, 1);
			cr_expect_eq(gm_reader_info(rd)->nthreads, 1);
		}
		gm_reader_free(rd);
	}
}

/* test_drain.c - records written into the log come back from the reader
 *
 * The format's encoder (gm_rec_w0/w1, time records, extra units), the
 * drainer (raw and zstd blocks, partial prefixes, commit) and the reader
 * are checked together: what a thread writes is exactly what is read.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/log/reader.h"
#include "interpose/log/drain.h"
#include "interpose/log/format.h"
#include "interpose/log/ring.h"

typedef struct gm_test_writer {
	gm_ring_t *ring;
	int chunk;
	uint64_t *pos, *end;
	uint64_t tsc;
} gm_test_writer_t;

static void gm_test_put(gm_test_writer_t *w, uint64_t w0, uint64_t b, uint64_t tsc,
                        const uint64_t *extra, unsigned nextra)
{
	unsigned i;
	cr_assert(w->pos + 2 + 2 * nextra <= w->end, "test chunk too small");
	for (i = 0; i < 2 * nextra; i++)
		w->pos[2 + i] = extra[i];
	w->pos[1] = gm_rec_w1(b, tsc);
	w->pos[0] = w0;
	w->pos += 2 + 2 * nextra;
	w->tsc = tsc;
}

static char gm_test_path[64];

static int gm_test_capture(gm_drain_t *d, gm_ring_t *ring, int compress)
{
	int fd;
	strcpy(gm_test_path, "/tmp/gm-test-drain-XXXXXX");
	fd = mkstemp(gm_test_path);
	cr_assert(fd >= 0);
	gm_drain_init(d, ring, fd, 0, compress, malloc, free);
	cr_assert_eq(gm_drain_header(d, 77, ring->name), 0);
	return fd;
}

Test(drain, records_round_trip_through_capture_and_reader)
{
	gm_ring_t ring;
	gm_drain_t d;
	gm_test_writer_t w;
	gm_reader_t *r;
	gm_event_t ev;
	char err[256];
	uint64_t extra[4], t0 = 1000000000ull;
	int fd, n = 0;
	cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
	w.ring = &ring;
	w.chunk = gm_ring_claim(&ring, 0, 0, t0);
	w.pos = (uint64_t *)gm_ring_data(&ring, w.chunk);
	w.end = w.pos + 4096 / 8;
	gm_test_put(&w, gm_rec_w0(0x7f0000001000ull, gm_rec_alloc, gm_kind_malloc), 100, t0 + 10,
	            NULL, 0);
	extra[0] = 0x7f0000001000ull;
	extra[1] = 0;
	gm_test_put(&w, gm_rec_w0(0x7f0000002000ull, gm_rec_realloc, gm_kind_realloc), 200, t0 + 20,
	            extra, 1);
	/* a jump of 2^30 ticks needs a time record */
	extra[0] = t0 + (1ull << 30);
	extra[1] = 0;
	gm_test_put(&w, gm_rec_w0(0, gm_rec_time, 1), 0, t0 + (1ull << 30), extra, 1);
	gm_test_put(&w, gm_rec_w0(0x7f0000002000ull, gm_rec_free, gm_kind_free), 0,
	            t0 + (1ull << 30) + 5, NULL, 0);
	gm_test_put(&w, gm_rec_w0(9, gm_rec_frame, 0), 0, t0 + (1ull << 30) + 6, NULL, 0);
	gm_ring_commit(&ring, w.chunk,
	               (uint32_t)((unsigned char *)w.pos - gm_ring_data(&ring, w.chunk)));
	fd = gm_test_capture(&d, &ring, 0);
	cr_expect_eq(gm_drain_pass(&d, 0), 7 * 16, "seven units drained");
	cr_expect_eq(ring.chunks[w.chunk].state, gm_chunk_free, "chunk handed back");
	cr_expect_eq(((uint64_t *)gm_ring_data(&ring, w.chunk))[0], 0, "chunk zeroed");
	close(fd);

	r = gm_reader_open(gm_test_path, err, sizeof(err));
	cr_assert(r, "open %s: %s", gm_test_path, err);
	while (gm_reader_next(r, &ev) > 0) {
		switch (n++) {
		case 0:
			cr_expect_eq(ev.type, gm_rec_alloc);
			cr_expect_eq(ev.a, 0x7f0000001000ull);
			cr_expect_eq(ev.b, 100);
			cr_expect_eq(ev.tsc, t0 + 10);
			break;
		case 1:
			cr_expect_eq(ev.type, gm_rec_realloc);
			cr_expect_eq(ev.nextra, 1);
			cr_expect_eq(ev.extra[0], 0x7f0000001000ull, "old pointer");
			cr_expect_eq(ev.tsc, t0 + 20);
			break;
		case 2: /* the time record only rebuilds time; readers do not deliver it */
			cr_expect_eq(ev.type, gm_rec_free);
			cr_expect_eq(ev.tsc, t0 + (1ull << 30) + 5,
			             "rebuilt after the time record");
			break;
		case 3:
			cr_expect_eq(ev.type, gm_rec_frame);
			cr_expect_eq(ev.a, 9);
			break;
		}
	}
	cr_expect_eq(n, 4, "four events read back");
	cr_expect_null(gm_reader_error(r), "no damage: %s", gm_reader_error(r));
	gm_reader_free(r);
	unlink(gm_test_path);
	gm_ring_detach(&ring, 1);
}

Test(drain, partial_prefix_then_commit_writes_each_record_once_compressed)
{
	gm_ring_t ring;
	gm_drain_t d;
	gm_test_writer_t w;
	gm_reader_t *r;
	gm_event_t ev;
	char err[256];
	uint64_t t = 5000, want = 0;
	int fd, i, n = 0, zblocks = 0;
	cr_assert_eq(gm_ring_create(&ring, 77, 4 * 65536, 65536), 0);
	w.chunk = gm_ring_claim(&ring, 2, 0, t);
	w.pos = (uint64_t *)gm_ring_data(&ring, w.chunk);
	w.end = w.pos + 65536 / 8;
	for (i = 0; i < 1000; i++)
		gm_test_put(&w, gm_rec_w0(0x1000u + 64u * (unsigned)(i % 50), gm_rec_alloc, 0),
		            (uint64_t)i, t += 7, NULL, 0);
	fd = gm_test_capture(&d, &ring, 1);
	cr_expect_eq(gm_drain_pass(&d, 0), 0, "owned chunk untouched without partial");
	cr_expect_eq(gm_drain_pass(&d, 1), 1000 * 16, "prefix of the owned chunk");
	cr_expect_eq(gm_drain_pass(&d, 1), 0, "nothing new");
	for (i = 1000; i < 2000; i++)
		gm_test_put(&w, gm_rec_w0(0x1000u + 64u * (unsigned)(i % 50), gm_rec_alloc, 0),
		            (uint64_t)i, t += 7, NULL, 0);
	gm_ring_commit(&ring, w.chunk,
	               (uint32_t)((unsigned char *)w.pos - gm_ring_data(&ring, w.chunk)));
	cr_expect_eq(gm_drain_pass(&d, 0), 1000 * 16, "the rest, once");
	cr_expect_lt(d.stored_bytes, d.raw_bytes / 2, "zstd: %llu of %llu bytes",
	             (unsigned long long)d.stored_bytes, (unsigned long long)d.raw_bytes);
	close(fd);
	r = gm_reader_open(gm_test_path, err, sizeof(err));
	cr_assert(r, "%s", err);
	while (gm_reader_next(r, &ev) > 0) {
		cr_expect_eq(ev.b, want, "record %d has size %llu", n, (unsigned long long)ev.b);
		cr_expect_eq(ev.thread, 2);
		want++;
		n++;
	}
	cr_expect_eq(n, 2000);
	(void)zblocks;
	gm_reader_free(r);
	unlink(gm_test_path);
	gm_ring_detach(&ring, 1);
}

Test(drain, valid_end_cuts_a_half_written_block)
{
	gm_ring_t ring;
	gm_drain_t d;
	gm_test_writer_t w;
	int fd, i;
	off_t full;
	cr_assert_eq(gm_ring_create(&ring, 77, 4 * 4096, 4096), 0);
	w.chunk = gm_ring_claim(&ring, 0, 0, 1);
	w.pos = (uint64_t *)gm_ring_data(&ring, w.chunk);
	w.end = w.pos + 4096 / 8;
	for (i = 0; i < 10; i++)
		gm_test_put(&w, gm_rec_w0(16, gm_rec_alloc, 0), 8, 2 + (uint64_t)i, NULL, 0);
	gm_ring_commit(&ring, w.chunk, 160);
	fd = gm_test_capture(&d, &ring, 0);
	gm_drain_pass(&d, 0);
	full = lseek(fd, 0, SEEK_END);
	cr_expect_eq(gm_drain_valid_end(fd), full, "whole file is valid");
	cr_assert_eq(ftruncate(fd, full - 7), 0);
	cr_expect_eq(gm_drain_valid_end(fd), (int64_t)sizeof(gm_file_header_t),
	             "a block missing 7 bytes is cut");
	cr_assert_eq(ftruncate(fd, 10), 0);
	cr_expect_lt(gm_drain_valid_end(fd), 0, "10 bytes are not a capture");
	close(fd);
	unlink(gm_test_path);
	gm_ring_detach(&ring, 1);
}

Test(format, tick_rebuild_steps_both_ways_and_wraps)
{
	uint64_t base = (5ull << 24) + 100;
	cr_expect_eq(gm_rec_tsc_rebuild(base, (base + 1000) & GM_REC_TICK_MASK), base + 1000);
	cr_expect_eq(gm_rec_tsc_rebuild(base, (base - 50) & GM_REC_TICK_MASK), base - 50,
	             "small step back (signal handler, core migration)");
	cr_expect_eq(gm_rec_tsc_rebuild((6ull << 24) - 10, 5), (6ull << 24) + 5, "wrap forward");
	cr_expect_eq(gm_rec_tsc_rebuild((6ull << 24) + 5, GM_REC_TICK_MASK - 9), (6ull << 24) - 10,
	             "wrap backward");
}

Test(format, fields_pack_and_unpack)
{
	uint64_t w0 = gm_rec_w0(0x7fffdeadbeefull, gm_rec_realloc, 200);
	uint64_t w1 = gm_rec_w1(GM_REC_SIZE_MASK, 0xabcdef123456ull);
	cr_expect_eq(gm_rec_a(w0), 0x7fffdeadbeefull);
	cr_expect_eq(gm_rec_type(w0), gm_rec_realloc);
	cr_expect_eq(gm_rec_x(w0), 200);
	cr_expect_eq(gm_rec_b(w1), GM_REC_SIZE_MASK);
	cr_expect_eq(gm_rec_tick(w1), 0x123456ull);
	cr_expect_eq(gm_rec_units(gm_rec_w0(0, gm_rec_alloc, 7)), 1);
	cr_expect_eq(gm_rec_units(gm_rec_w0(0, gm_rec_fail, 3)), 2);
	cr_expect_eq(gm_rec_units(gm_rec_w0(0, gm_rec_module, 9)), 10);
	cr_expect_eq(gm_rec_units(gm_rec_w0(0, 200, 4)), 5, "unknown types carry their length");
}

/* A thread killed between claiming a slot and writing it leaves a record
 * whose first word is 0 inside a committed chunk (its exit path committed
 * the chunk). Whether the chunk is packed straight away or walked first,
 * exactly the records before the hole reach the capture. */
Test(drain, stops_at_an_unwritten_slot_in_a_committed_chunk)
{
	int prepared;
	for (prepared = 0; prepared < 2; prepared++) {
		gm_ring_t ring;
		gm_drain_t d;
		gm_test_writer_t w;
		gm_reader_t *r;
		gm_event_t ev;
		char err[256];
		uint64_t t0 = 5000;
		int fd, n = 0;
		cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
		w.chunk = gm_ring_claim(&ring, 0, 0, t0);
		w.pos = (uint64_t *)gm_ring_data(&ring, w.chunk);
		w.end = w.pos + 4096 / 8;
		gm_test_put(&w, gm_rec_w0(0x1000, gm_rec_alloc, gm_kind_malloc), 16, t0 + 1, NULL,
		            0);
		gm_test_put(&w, gm_rec_w0(0x2000, gm_rec_alloc, gm_kind_malloc), 32, t0 + 2, NULL,
		            0);
		w.pos += 2; /* the hole */
		gm_test_put(&w, gm_rec_w0(0x1000, gm_rec_free, gm_kind_free), 0, t0 + 4, NULL, 0);
		gm_ring_commit(&ring, w.chunk,
		               (uint32_t)((unsigned char *)w.pos - gm_ring_data(&ring, w.chunk)));
		fd = gm_test_capture(&d, &ring, 0);
		if (prepared)
			cr_assert_eq(gm_drain_prepare(&d, 4096), 0);
		cr_expect_eq(gm_drain_pass(&d, 0), 2 * 16, "prepared=%d: two records drained",
		             prepared);
		cr_expect_eq(ring.chunks[w.chunk].state, gm_chunk_free, "chunk handed back");
		close(fd);
		r = gm_reader_open(gm_test_path, err, sizeof(err));
		cr_assert(r, "open %s: %s", gm_test_path, err);
		while (gm_reader_next(r, &ev) > 0) {
			cr_expect_eq(ev.type, gm_rec_alloc, "prepared=%d: event %d", prepared, n);
			cr_expect_eq(ev.b, 16u * (unsigned)(n + 1));
			n++;
		}
		cr_expect_eq(n, 2, "prepared=%d: two events read back", prepared);
		cr_expect_null(gm_reader_error(r), "no damage: %s", gm_reader_error(r));
		gm_reader_free(r);
		gm_drain_free(&d);
		unlink(gm_test_path);
		gm_ring_detach(&ring, 1);
	}
}

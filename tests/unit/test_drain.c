/* test_drain.c - records written into the log come back from the reader
 *
 * The format's encoder (gm_rec_w0/w1, time records, extra units), the
 * drainer (raw and zstd blocks, partial prefixes, commit) and the reader
 * are checked together: what a thread writes is exactly what is read.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/log/reader.h"
#include "interpose/log/drain.h"
#include "interpose/log/format.h"
#include "interpose/log/pack.h"
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

/* A log of 8 chunks of 4 KiB, and w writing into a chunk of thread 0
 * claimed at t0. */
static void gm_test_writer_open(gm_test_writer_t *w, gm_ring_t *ring, uint64_t t0)
{
	cr_assert_eq(gm_ring_create(ring, 77, 8 * 4096, 4096), 0);
	w->ring = ring;
	w->chunk = gm_ring_claim(ring, 0, 0, t0);
	w->pos = (uint64_t *)gm_ring_data(ring, w->chunk);
	w->end = w->pos + 4096 / 8;
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

/* The end of a test made with gm_test_capture: the drain's buffers, the
 * capture file, the log. */
static void gm_test_done(gm_drain_t *d, gm_ring_t *ring)
{
	gm_drain_free(d);
	unlink(gm_test_path);
	gm_ring_detach(ring, 1);
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
	gm_test_writer_open(&w, &ring, t0);
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
 * exactly the records before the hole reach the capture. A word of type 0
 * (no record has it: a dying game's stray store) ends the records the same
 * way, also in a chunk still owned (what `gmtrace recover` drains): the
 * block before it reads back, where it was refused whole. */
Test(drain, stops_at_an_unwritten_slot_in_a_committed_chunk)
{
	int variant;
	for (variant = 0; variant < 8; variant++) {
		int prepared = variant & 1, committed = !(variant & 4);
		uint64_t hole = variant & 2 ? 5 : 0;
		gm_ring_t ring;
		gm_drain_t d;
		gm_test_writer_t w;
		gm_reader_t *r;
		gm_event_t ev;
		char err[256];
		uint64_t t0 = 5000;
		int fd, n = 0;
		gm_test_writer_open(&w, &ring, t0);
		gm_test_put(&w, gm_rec_w0(0x1000, gm_rec_alloc, gm_kind_malloc), 16, t0 + 1, NULL,
		            0);
		gm_test_put(&w, gm_rec_w0(0x2000, gm_rec_alloc, gm_kind_malloc), 32, t0 + 2, NULL,
		            0);
		w.pos[0] = hole; /* the hole */
		w.pos += 2;
		gm_test_put(&w, gm_rec_w0(0x1000, gm_rec_free, gm_kind_free), 0, t0 + 4, NULL, 0);
		if (committed)
			gm_ring_commit(
			        &ring, w.chunk,
			        (uint32_t)((unsigned char *)w.pos - gm_ring_data(&ring, w.chunk)));
		fd = gm_test_capture(&d, &ring, 0);
		if (prepared)
			cr_assert_eq(gm_drain_prepare(&d, 4096), 0);
		cr_expect_eq(gm_drain_pass(&d, !committed), 2 * 16,
		             "variant %d: two records drained", variant);
		if (committed)
			cr_expect_eq(ring.chunks[w.chunk].state, gm_chunk_free,
			             "chunk handed back");
		close(fd);
		r = gm_reader_open(gm_test_path, err, sizeof(err));
		cr_assert(r, "open %s: %s", gm_test_path, err);
		while (gm_reader_next(r, &ev) > 0) {
			cr_expect_eq(ev.type, gm_rec_alloc, "variant %d: event %d", variant, n);
			cr_expect_eq(ev.b, 16u * (unsigned)(n + 1));
			n++;
		}
		cr_expect_eq(n, 2, "variant %d: two events read back", variant);
		cr_expect_null(gm_reader_error(r), "no damage: %s", gm_reader_error(r));
		gm_reader_free(r);
		gm_test_done(&d, &ring);
	}
}

/* A process gone, its last records after slots that were claimed and never
 * written (a signal handler interrupted a record's write, wrote its own,
 * ended the process): with mend set, the slots become lost records (one
 * unit: an allocation's; two: a realloc's, its second unit half written)
 * and every record after them is drained; a slot with nothing written
 * after it still ends the records. A slot with no record before it in
 * what is mended is timed as the record after it. Without mend, the drain
 * stops at the first slot (the test above). */
Test(drain, a_gone_process_s_unwritten_slots_are_mended_as_lost_records)
{
	gm_ring_t ring;
	gm_drain_t d;
	gm_test_writer_t w;
	gm_reader_t *r;
	gm_event_t ev;
	char err[256];
	uint64_t t0 = 5000, old = 0x3000;
	unsigned types[8], n = 0;
	uint64_t tscs[8];
	int fd;
	gm_test_writer_open(&w, &ring, t0);
	gm_test_put(&w, gm_rec_w0(0x1000, gm_rec_alloc, gm_kind_malloc), 16, t0 + 1, NULL, 0);
	w.pos += 2; /* an allocation's slot, never written */
	gm_test_put(&w, gm_rec_w0(0x2000, gm_rec_alloc, gm_kind_malloc), 32, t0 + 3, NULL, 0);
	w.pos[2] = old; /* a realloc's: its second unit written, not its first */
	w.pos += 4;
	gm_test_put(&w, gm_rec_w0(0x2000, gm_rec_free, gm_kind_free), 0, t0 + 6, NULL, 0);
	w.pos += 2; /* and one at the end, nothing after it */
	cr_assert_eq(gm_drain_mend(gm_ring_data(&ring, w.chunk), 0, 4096, t0), 2);
	/* mended already: nothing more */
	cr_assert_eq(gm_drain_mend(gm_ring_data(&ring, w.chunk), 0, 4096, t0), 0);
	fd = gm_test_capture(&d, &ring, 0);
	d.mend = 1;
	cr_expect_eq(gm_drain_pass(&d, 1), 6 * 16, "every record before the last slot");
	close(fd);
	r = gm_reader_open(gm_test_path, err, sizeof(err));
	cr_assert(r, "open %s: %s", gm_test_path, err);
	while (n < 8 && gm_reader_next(r, &ev) > 0) {
		types[n] = ev.type;
		tscs[n++] = ev.tsc;
	}
	cr_assert_eq(n, 6);
	cr_expect_eq(types[0], gm_rec_alloc);
	cr_expect_eq(types[1], gm_rec_lost);
	cr_expect_eq(types[2], gm_rec_alloc);
	cr_expect_eq(types[3], gm_rec_lost);
	cr_expect_eq(types[4], gm_rec_lost);
	cr_expect_eq(types[5], gm_rec_free);
	/* each lost record timed as the record before it */
	cr_expect_eq(tscs[1], t0 + 1);
	cr_expect_eq(tscs[3], t0 + 3);
	cr_expect_eq(tscs[4], t0 + 3);
	cr_expect_eq(gm_reader_info(r)->burst_records, 0, "no allocation read as a burst's");
	cr_expect_eq(gm_reader_info(r)->records_lost, 2, "one a slot");
	cr_expect_null(gm_reader_error(r), "no damage: %s", gm_reader_error(r));
	gm_reader_free(r);
	gm_test_done(&d, &ring);
	{
		/* a slot first: timed as the TSC given, that of what came before */
		uint64_t first[4] = {0, 0, gm_rec_w0(0x1000, gm_rec_alloc, gm_kind_malloc),
		                     gm_rec_w1(16, t0 + 9)};
		cr_assert_eq(gm_drain_mend((unsigned char *)first, 0, sizeof(first), t0 + 8), 1);
		cr_expect_eq(first[0], gm_rec_w0(1, gm_rec_lost, 0));
		cr_expect_eq(gm_rec_tick(first[1]), (t0 + 8) & GM_REC_TICK_MASK);
	}
	{
		/* a failure's slot whose size (written first) reads as an
		 * allocation's first word (bits 48-55: 1) with the alignment,
		 * 0, as its tick: that reading does not hold together (its tick
		 * is half the range and more away), the two-unit one does */
		uint64_t fail[8] = {0,
		                    0,
		                    (1ull << 48) | 5,
		                    0,
		                    gm_rec_w0(0x1000, gm_rec_alloc, gm_kind_malloc),
		                    gm_rec_w1(16, 0x400005),
		                    0,
		                    0};
		cr_assert_eq(gm_drain_mend((unsigned char *)fail, 0, sizeof(fail), 0x400001), 1);
		cr_expect_eq(fail[0], gm_rec_w0(1, gm_rec_lost, 0));
		cr_expect_eq(fail[2], gm_rec_w0(0, gm_rec_lost, 0));
		cr_expect_eq(fail[4], gm_rec_w0(0x1000, gm_rec_alloc, gm_kind_malloc));
	}
	{
		/* two records after a slot: one unit (the first is whole, though
		 * from the second on, the rest reads as records too) */
		uint64_t both[8] = {0,
		                    0,
		                    gm_rec_w0(0x2000, gm_rec_alloc, gm_kind_malloc),
		                    gm_rec_w1(8, 0x400002),
		                    gm_rec_w0(0x1000, gm_rec_alloc, gm_kind_malloc),
		                    gm_rec_w1(16, 0x400005),
		                    0,
		                    0};
		cr_assert_eq(gm_drain_mend((unsigned char *)both, 0, sizeof(both), 0x400001), 1);
		cr_expect_eq(both[0], gm_rec_w0(1, gm_rec_lost, 0));
		cr_expect_eq(both[2], gm_rec_w0(0x2000, gm_rec_alloc, gm_kind_malloc));
	}
	{
		/* what follows a slot is no record a writer writes (a type past
		 * the known ones): the records end at the slot, as before */
		uint64_t stray[6] = {0, 0, gm_rec_w0(1, 200, 0), gm_rec_w1(0, 0x400002), 0, 0};
		cr_assert_eq(gm_drain_mend((unsigned char *)stray, 0, sizeof(stray), 0x400001), 0);
		cr_expect_eq(stray[0], 0);
	}
}

/* ---- write errors, memory, other drainers ------------------------------------ */

/* Claims a chunk of thread t and writes n allocation records (size i,
 * TSC t0 + i) into it; commits it with used bytes when commit is set. */
static int gm_test_fill(gm_ring_t *ring, uint32_t t, int n, uint64_t t0, int commit)
{
	gm_test_writer_t w;
	int i;
	w.ring = ring;
	w.chunk = gm_ring_claim(ring, t, 0, t0);
	cr_assert(w.chunk >= 0);
	w.pos = (uint64_t *)gm_ring_data(ring, w.chunk);
	w.end = w.pos + ring->hdr->chunk_bytes / 8;
	for (i = 0; i < n; i++)
		gm_test_put(&w, gm_rec_w0(0x1000u + 32u * (unsigned)i, gm_rec_alloc, 0),
		            (uint64_t)i, t0 + 1 + (uint64_t)i, NULL, 0);
	if (commit)
		gm_ring_commit(ring, w.chunk, (uint32_t)n * 16);
	return w.chunk;
}

/* Reads the capture at path: the number of events, each checked to be
 * allocation i of its thread (size i); damage is reported through *err. */
static int gm_test_read_back(const char *path, int *per_thread, int nthreads)
{
	char err[256];
	gm_reader_t *r = gm_reader_open(path, err, sizeof(err));
	gm_event_t ev;
	int n = 0;
	cr_assert_not_null(r, "%s", err);
	while (gm_reader_next(r, &ev) > 0) {
		cr_assert_lt(ev.thread, (uint32_t)nthreads);
		cr_expect_eq(ev.type, gm_rec_alloc);
		cr_expect_eq(ev.b, (uint64_t)per_thread[ev.thread], "thread %u: allocation %d",
		             ev.thread, per_thread[ev.thread]);
		per_thread[ev.thread]++;
		n++;
	}
	cr_expect_null(gm_reader_error(r), "no damage: %s", gm_reader_error(r));
	gm_reader_free(r);
	return n;
}

/* Kinds of the capture's record blocks, in file order (clock blocks left
 * out); returns their number. */
static int gm_test_block_kinds(int fd, uint16_t *kinds, int max)
{
	off_t off = sizeof(gm_file_header_t), end = lseek(fd, 0, SEEK_END);
	int k = 0;
	while (off + (off_t)sizeof(gm_block_t) <= end && k < max) {
		gm_block_t b;
		cr_assert_eq(pread(fd, &b, sizeof(b), off), (ssize_t)sizeof(b));
		if (b.kind != gm_block_clock)
			kinds[k++] = b.kind;
		off += (off_t)sizeof(b) + b.stored_bytes;
	}
	return k;
}

/* A full disk (the file size limit here): the pass fails with the write's
 * error, which sticks; the chunk stays committed in the log, and the
 * capture keeps only whole blocks once a recovery cuts the half-written one. */
Test(drain, a_write_error_sticks_and_leaves_the_chunk_in_the_log)
{
	static const int cut[] = {20, 48 + 10}; /* in the block header, in its payload */
	int k;
	signal(SIGXFSZ, SIG_IGN);
	for (k = 0; k < 2; k++) {
		gm_ring_t ring;
		gm_drain_t d;
		struct rlimit rl, lim;
		int fd, idx, per[1] = {0};
		long rc;
		cr_assert_eq(gm_ring_create(&ring, 77, 4 * 4096, 4096), 0);
		idx = gm_test_fill(&ring, 0, 20, 100, 1);
		fd = gm_test_capture(&d, &ring, 0);
		cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
		lim = rl;
		lim.rlim_cur = sizeof(gm_file_header_t) + (rlim_t)cut[k];
		cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
		rc = gm_drain_pass(&d, 0);
		cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
		cr_expect_eq(rc, -EFBIG, "cut %d: %ld", cut[k], rc);
		cr_expect_eq(d.error, -EFBIG);
		cr_expect_eq(ring.chunks[idx].state, gm_chunk_committed, "the chunk stays");
		cr_expect_eq(ring.chunks[idx].drained, 0);
		cr_expect_eq(gm_drain_pass(&d, 0), -EFBIG, "the error sticks");
		cr_expect_eq(gm_drain_clock(&d), -EFBIG, "no clock block after it either");
		cr_expect_eq(gm_drain_valid_end(fd), (int64_t)sizeof(gm_file_header_t),
		             "the half block is not valid");
		/* a new drainer (a recovery) on the same file writes the chunk */
		gm_drain_free(&d);
		cr_assert_eq(ftruncate(fd, (off_t)sizeof(gm_file_header_t)), 0);
		cr_assert_eq(lseek(fd, 0, SEEK_END), (off_t)sizeof(gm_file_header_t));
		gm_drain_init(&d, &ring, fd, sizeof(gm_file_header_t), 0, malloc, free);
		cr_expect_eq(gm_drain_pass(&d, 0), 20 * 16);
		cr_expect_eq(ring.chunks[idx].state, gm_chunk_free);
		close(fd);
		cr_expect_eq(gm_test_read_back(gm_test_path, per, 1), 20);
		gm_test_done(&d, &ring);
	}
}

/* Without an allocator (no packing buffer) blocks are raw; a committed
 * chunk is then walked, and a record cut short by the chunk's used bytes
 * is left out rather than written half. */
Test(drain, without_memory_blocks_are_raw_and_a_cut_record_is_left_out)
{
	gm_ring_t ring;
	gm_drain_t d;
	gm_test_writer_t w;
	uint16_t kinds[4];
	uint64_t extra[2] = {0x1000, 0};
	int fd, per[1] = {0};
	cr_assert_eq(gm_ring_create(&ring, 77, 4 * 4096, 4096), 0);
	w.ring = &ring;
	w.chunk = gm_ring_claim(&ring, 0, 0, 50);
	w.pos = (uint64_t *)gm_ring_data(&ring, w.chunk);
	w.end = w.pos + 4096 / 8;
	gm_test_put(&w, gm_rec_w0(0x1000, gm_rec_alloc, 0), 0, 51, NULL, 0);
	gm_test_put(&w, gm_rec_w0(0x2000, gm_rec_alloc, 0), 1, 52, NULL, 0);
	gm_test_put(&w, gm_rec_w0(0x3000, gm_rec_realloc, gm_kind_realloc), 2, 53, extra, 1);
	gm_ring_commit(&ring, w.chunk, 3 * 16); /* the realloc's second unit is cut */
	strcpy(gm_test_path, "/tmp/gm-test-drain-XXXXXX");
	fd = mkstemp(gm_test_path);
	cr_assert(fd >= 0);
	gm_drain_init(&d, &ring, fd, 0, 1, NULL, NULL);
	cr_expect_eq(gm_drain_prepare(&d, 4096), 0, "nothing to prepare");
	cr_assert_eq(gm_drain_header(&d, 77, ring.name), 0);
	cr_expect_eq(gm_drain_pass(&d, 0), 2 * 16, "the two whole records");
	cr_expect_eq(ring.chunks[w.chunk].state, gm_chunk_free);
	cr_assert_eq(gm_test_block_kinds(fd, kinds, 4), 1);
	cr_expect_eq(kinds[0], gm_block_raw);
	close(fd);
	cr_expect_eq(gm_test_read_back(gm_test_path, per, 1), 2);
	gm_test_done(&d, &ring);
}

/* An allocator that fails every call from the n-th on. */
static long gm_test_alloc_calls, gm_test_alloc_fail_from = -1;

static void *gm_test_alloc(size_t n)
{
	if (gm_test_alloc_fail_from >= 0 && gm_test_alloc_calls++ >= gm_test_alloc_fail_from)
		return NULL;
	return malloc(n);
}

/* Whichever allocation of the drainer fails (packing buffer, zstd state,
 * zstd output, the sizing probe), every record reaches the capture: raw,
 * packed or compressed, in that order of need. */
Test(drain, out_of_memory_anywhere_still_writes_every_record)
{
	long from;
	int done = 0;
	for (from = 0; !done && from < 200; from++) {
		gm_ring_t ring;
		gm_drain_t d;
		uint16_t kinds[4];
		int fd, per[2] = {0, 0}, prep, nk;
		cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
		gm_test_fill(&ring, 0, 200, 1000, 1);
		gm_test_fill(&ring, 1, 100, 2000, 0); /* still owned: drained partially */
		strcpy(gm_test_path, "/tmp/gm-test-drain-XXXXXX");
		fd = mkstemp(gm_test_path);
		cr_assert(fd >= 0);
		gm_test_alloc_calls = 0;
		gm_test_alloc_fail_from = from;
		gm_drain_init(&d, &ring, fd, 0, 1, gm_test_alloc, free);
		cr_assert_eq(gm_drain_header(&d, 77, ring.name), 0);
		prep = gm_drain_prepare(&d, 4096);
		cr_expect_eq(gm_drain_pass(&d, 1), 300 * 16, "failing from allocation %ld", from);
		done = gm_test_alloc_calls <= from; /* nothing failed */
		gm_test_alloc_fail_from = -1;
		if (done)
			cr_expect_eq(prep, 0);
		nk = gm_test_block_kinds(fd, kinds, 4);
		cr_expect_eq(nk, 2, "one block per chunk");
		if (done) {
			/* the committed chunk compressed, the owned one's prefix
			 * packed only */
			cr_expect_eq(kinds[0], gm_block_packed2_zstd);
			cr_expect_eq(kinds[1], gm_block_packed2);
		} else if (from == 0) {
			cr_expect_eq(prep, -ENOMEM);
			cr_expect_eq(kinds[0], gm_block_raw, "no packing buffer: raw");
		}
		close(fd);
		cr_expect_eq(gm_test_read_back(gm_test_path, per, 2), 300, "from %ld", from);
		cr_expect_eq(per[0], 200);
		cr_expect_eq(per[1], 100);
		gm_test_done(&d, &ring);
	}
	cr_expect(done, "the drainer makes fewer than 200 allocations");
	cr_expect_gt(from, 3, "at least the packing buffer, zstd state and output");
}

/* Packing needs a buffer for the largest block: a drainer prepared for
 * small blocks grows it for a bigger one. */
Test(drain, grows_its_buffers_for_a_bigger_block)
{
	gm_ring_t ring;
	gm_drain_t d;
	int fd, per[1] = {0};
	size_t small_cap;
	cr_assert_eq(gm_ring_create(&ring, 77, 4 * 65536, 65536), 0);
	gm_test_fill(&ring, 0, 3000, 10, 1);
	fd = gm_test_capture(&d, &ring, 1);
	cr_assert_eq(gm_drain_prepare(&d, 4096), 0);
	small_cap = d.pcap;
	cr_expect_eq(gm_drain_pass(&d, 0), 3000 * 16);
	cr_expect_gt(d.pcap, small_cap, "packing buffer grown");
	cr_expect_lt(d.stored_bytes, d.raw_bytes / 4);
	close(fd);
	cr_expect_eq(gm_test_read_back(gm_test_path, per, 1), 3000);
	gm_drain_free(&d);
	gm_drain_free(&d); /* twice is harmless */
	unlink(gm_test_path);
	gm_ring_detach(&ring, 1);
}

/* With more than half of the log committed the game is ahead of the
 * drainer: blocks are packed, not compressed, until the backlog is gone. */
Test(drain, a_backlog_stores_packed_blocks_without_zstd)
{
	gm_ring_t ring;
	gm_drain_t d;
	uint16_t kinds[8];
	int fd, i, per[6] = {0}, n;
	cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
	for (i = 0; i < 5; i++)
		gm_test_fill(&ring, (uint32_t)i, 200, 100 + 1000 * (uint64_t)i, 1);
	fd = gm_test_capture(&d, &ring, 1);
	cr_expect_eq(gm_drain_pass(&d, 0), 5 * 200 * 16);
	gm_test_fill(&ring, 5, 200, 9000, 1);
	cr_expect_eq(gm_drain_pass(&d, 0), 200 * 16, "one chunk: no backlog");
	n = gm_test_block_kinds(fd, kinds, 8);
	cr_assert_eq(n, 6);
	for (i = 0; i < 5; i++)
		cr_expect_eq(kinds[i], gm_block_packed2, "backlog: block %d packed", i);
	cr_expect_eq(kinds[5], gm_block_packed2_zstd, "no backlog: zstd");
	close(fd);
	cr_expect_eq(gm_test_read_back(gm_test_path, per, 6), 1200);
	gm_test_done(&d, &ring);
}

/* Records whose fields are all high-entropy (here module unloads: type 17
 * takes a longer header when packed) do not shrink when packed: the block
 * is stored raw (and zstd over it is not kept either). */
Test(drain, records_that_do_not_shrink_are_stored_raw)
{
	gm_ring_t ring;
	gm_drain_t d;
	gm_test_writer_t w = {0}; /* w.tsc starts the records' ticks: the same every run */
	uint16_t kinds[2];
	uint64_t x = 0x9e3779b97f4a7c15ull, raw[2 * 64];
	unsigned char packed[2 * 64 * 8 * 2];
	int fd, i;
	cr_assert_eq(gm_ring_create(&ring, 77, 4 * 4096, 4096), 0);
	w.ring = &ring;
	w.chunk = gm_ring_claim(&ring, 0, 0, 0);
	w.pos = (uint64_t *)gm_ring_data(&ring, w.chunk);
	w.end = w.pos + 4096 / 8;
	for (i = 0; i < 64; i++) {
		uint64_t tsc;
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		tsc = w.tsc + 1 + (x >> 40 & 0x7fffff);
		gm_test_put(&w, gm_rec_w0(x, gm_rec_module_unload, 0), x >> 20, tsc, NULL, 0);
	}
	memcpy(raw, gm_ring_data(&ring, w.chunk), sizeof(raw));
	cr_assert_leq(gm_pack_bound(sizeof(raw)), sizeof(packed));
	{
		size_t plen = gm_pack_block(raw, sizeof(raw), packed);
		cr_assert_geq(plen, sizeof(raw),
		              "the test's records must not shrink when packed: %zu", plen);
	}
	gm_ring_commit(&ring, w.chunk, sizeof(raw));
	fd = gm_test_capture(&d, &ring, 1);
	cr_expect_eq(gm_drain_pass(&d, 0), (long)sizeof(raw));
	cr_assert_eq(gm_test_block_kinds(fd, kinds, 2), 1);
	cr_expect_eq(kinds[0], gm_block_raw);
	cr_expect_eq(d.stored_bytes, sizeof(raw));
	close(fd);
	{
		char err[256];
		gm_reader_t *r = gm_reader_open(gm_test_path, err, sizeof(err));
		gm_event_t ev;
		int n = 0;
		cr_assert_not_null(r, "%s", err);
		while (gm_reader_next(r, &ev) > 0) {
			cr_expect_eq(ev.a, gm_rec_a(raw[2 * n]), "record %d", n);
			cr_expect_eq(ev.b, gm_rec_b(raw[2 * n + 1]), "record %d", n);
			n++;
		}
		cr_expect_eq(n, 64);
		gm_reader_free(r);
	}
	gm_test_done(&d, &ring);
}

/* A committed chunk whose first slot was claimed and never written gives
 * no block at all; one fully drained while owned gives none either. */
Test(drain, chunks_with_nothing_new_write_no_block)
{
	gm_ring_t ring;
	gm_drain_t d;
	gm_test_writer_t w;
	int fd, idx;
	off_t size;
	cr_assert_eq(gm_ring_create(&ring, 77, 4 * 4096, 4096), 0);
	w.ring = &ring;
	w.chunk = gm_ring_claim(&ring, 0, 0, 0);
	w.pos = (uint64_t *)gm_ring_data(&ring, w.chunk);
	w.end = w.pos + 4096 / 8;
	w.pos += 2; /* the hole */
	gm_test_put(&w, gm_rec_w0(0x1000, gm_rec_alloc, 0), 8, 5, NULL, 0);
	gm_ring_commit(&ring, w.chunk, 32);
	fd = gm_test_capture(&d, &ring, 0);
	cr_assert_eq(gm_drain_prepare(&d, 4096), 0);
	cr_expect_eq(gm_drain_pass(&d, 0), 0);
	cr_expect_eq(ring.chunks[w.chunk].state, gm_chunk_free, "handed back");
	size = lseek(fd, 0, SEEK_END);
	cr_expect_eq(size, (off_t)sizeof(gm_file_header_t), "no block written");

	idx = gm_test_fill(&ring, 1, 10, 100, 0);
	cr_expect_eq(gm_drain_pass(&d, 1), 10 * 16, "the owned prefix");
	gm_ring_commit(&ring, idx, 10 * 16);
	size = lseek(fd, 0, SEEK_END);
	cr_expect_eq(gm_drain_pass(&d, 0), 0, "committed with nothing new");
	cr_expect_eq(ring.chunks[idx].state, gm_chunk_free);
	cr_expect_eq(lseek(fd, 0, SEEK_END), size, "no block written");
	close(fd);
	gm_test_done(&d, &ring);
}

/* A chunk whose used count is past its size (a damaged log) is drained
 * up to the chunk's end, never past it. */
Test(drain, a_used_count_past_the_chunk_is_clamped)
{
	gm_ring_t ring;
	gm_drain_t d;
	int fd, idx, per[1] = {0};
	cr_assert_eq(gm_ring_create(&ring, 77, 4 * 4096, 4096), 0);
	idx = gm_test_fill(&ring, 0, 256, 10, 0);
	gm_ring_commit(&ring, idx, 3 * 4096);
	fd = gm_test_capture(&d, &ring, 0);
	cr_expect_eq(gm_drain_pass(&d, 0), 4096);
	close(fd);
	cr_expect_eq(gm_test_read_back(gm_test_path, per, 1), 256);
	gm_test_done(&d, &ring);
}

/* A chunk whose owner field was written over (no thread has that index):
 * left out, counted once, handed back; the other threads' chunks are
 * written and the capture reads whole. */
Test(drain, a_chunk_owned_by_no_thread_is_left_out)
{
	gm_ring_t ring;
	gm_drain_t d;
	char err[256];
	gm_reader_t *r;
	int fd, bad, owned, per[2] = {0, 0};
	cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
	gm_test_fill(&ring, 0, 20, 10, 1);
	bad = gm_test_fill(&ring, 1, 30, 10, 1);
	ring.chunks[bad].thread = 0x3c000000u;
	owned = gm_test_fill(&ring, 1, 5, 10, 0);
	ring.chunks[owned].thread = GM_FORMAT_MAX_THREADS;
	fd = gm_test_capture(&d, &ring, 1);
	cr_expect_eq(gm_drain_pass(&d, 1), 20 * 16, "only the good chunk");
	cr_expect_eq(d.damaged_chunks, 2);
	cr_expect_eq(ring.chunks[bad].state, gm_chunk_free,
	             "the bad committed chunk is handed back");
	cr_expect_eq(gm_drain_pass(&d, 1), 0);
	cr_expect_eq(d.damaged_chunks, 2, "counted once");
	close(fd);
	cr_expect_eq(gm_test_read_back(gm_test_path, per, 2), 20);
	r = gm_reader_open(gm_test_path, err, sizeof(err));
	cr_assert_not_null(r, "%s", err);
	cr_expect_null(gm_reader_error(r), "no damage in the capture");
	gm_reader_free(r);
	gm_test_done(&d, &ring);
}

/* Another drainer appended to the capture (a whole block, then half of
 * one, as if it died writing): this one cuts the half block and goes on
 * after the whole one. */
Test(drain, continues_after_blocks_another_drainer_appended)
{
	gm_ring_t ring;
	gm_drain_t d, other;
	int fd, fd2, per[2] = {0, 0};
	off_t whole;
	cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
	fd = gm_test_capture(&d, &ring, 0);
	gm_test_fill(&ring, 0, 30, 10, 1);
	fd2 = open(gm_test_path, O_WRONLY | O_APPEND);
	cr_assert(fd2 >= 0);
	gm_drain_init(&other, &ring, fd2, 0, 0, malloc, free);
	cr_expect_eq(gm_drain_pass(&other, 0), 30 * 16);
	whole = lseek(fd, 0, SEEK_END);
	cr_assert_eq(write(fd2, "GMBK\x01\x00\x00\x00half", 12), 12);
	close(fd2);
	gm_drain_free(&other);
	gm_test_fill(&ring, 1, 40, 20, 1);
	cr_expect_eq(gm_drain_pass(&d, 0), 40 * 16);
	cr_expect_gt(lseek(fd, 0, SEEK_END), whole);
	cr_expect_eq(gm_drain_valid_end(fd), lseek(fd, 0, SEEK_END), "no half block left");
	cr_expect_eq(gm_drain_clock(&d), 0);
	close(fd);
	cr_expect_eq(gm_test_read_back(gm_test_path, per, 2), 70);
	cr_expect_eq(per[0], 30);
	cr_expect_eq(per[1], 40);
	gm_test_done(&d, &ring);
}

/* `gmtrace run` and the game's threads take turns at one capture, each
 * with a descriptor of its own: every pass goes on after the other's
 * blocks, found by a walk from its own end only, and cuts a half block
 * the other left. */
Test(drain, drainers_taking_turns_append_after_each_other)
{
	gm_ring_t ring;
	gm_drain_t d[2];
	int fd[2], per[40] = {0}, round;
	cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
	fd[0] = gm_test_capture(&d[0], &ring, 0);
	fd[1] = open(gm_test_path, O_RDWR);
	cr_assert(fd[1] >= 0);
	gm_drain_init(&d[1], &ring, fd[1], 0, 0, malloc, free);
	for (round = 0; round < 40; round++) {
		int k = round & 1;
		off_t end = lseek(fd[k], 0, SEEK_END);
		/* thread `round` writes a chunk; drainer k takes it */
		gm_test_fill(&ring, (uint32_t)round, 7, 1000 * (uint64_t)(round + 1), 1);
		if (round % 10 == 9) /* the other one died halfway through a block */
			cr_assert_eq(pwrite(fd[k], "GMBK\x06\x00\x00\x00half", 12, end), 12);
		cr_expect_eq(k ? gm_drain_help(&d[k], (uint32_t)round) : gm_drain_pass(&d[k], 0),
		             7 * 16, "round %d", round);
		cr_expect_eq(gm_drain_valid_end(fd[k]), lseek(fd[k], 0, SEEK_END), "round %d",
		             round);
	}
	close(fd[1]);
	gm_drain_free(&d[1]);
	close(fd[0]);
	cr_expect_eq(gm_test_read_back(gm_test_path, per, 40), 40 * 7);
	for (round = 0; round < 40; round++)
		cr_expect_eq(per[round], 7, "thread %d", round);
	gm_test_done(&d[0], &ring);
}

/* Disk is reserved ahead of the end as blocks go in, and trim gives it
 * back without touching the size; a trim while another drainer's blocks
 * lie past ours cuts nothing. */
Test(drain, reserves_disk_ahead_and_trims_it_at_the_end)
{
	gm_ring_t ring;
	gm_drain_t d;
	struct stat st;
	int fd, fd2;
	off_t size;
	cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
	fd = gm_test_capture(&d, &ring, 0);
	gm_test_fill(&ring, 0, 100, 10, 1);
	cr_assert_eq(gm_drain_pass(&d, 0), 100 * 16);
	cr_assert_eq(fstat(fd, &st), 0);
	size = st.st_size;
	cr_expect_eq((uint64_t)size, d.file_bytes);
	if (!d.prealloc_off) {
		cr_expect_eq(d.prealloc_end, GM_DRAIN_PREALLOC, "reserved from the header on");
		cr_expect_geq((uint64_t)st.st_blocks * 512, (uint64_t)GM_DRAIN_PREALLOC / 2,
		              "the reservation holds disk");
	}
	/* another drainer appends: our end is not the file's, nothing is cut */
	fd2 = open(gm_test_path, O_RDWR | O_APPEND);
	cr_assert(fd2 >= 0);
	cr_assert_eq(write(fd2, "GMBK", 4), 4);
	gm_drain_trim(&d);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_expect_eq(st.st_size, size + 4);
	cr_assert_eq(ftruncate(fd2, size), 0);
	close(fd2);
	gm_drain_trim(&d);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_expect_eq(st.st_size, size, "the size stays");
	cr_expect_leq((uint64_t)st.st_blocks * 512, ((uint64_t)size + 65535) & ~65535ull,
	              "what lay past the end is given back");
	cr_expect_eq(d.prealloc_end, 0);
	close(fd);
	gm_test_done(&d, &ring);
}

Test(drain, valid_end_from_an_offset)
{
	gm_ring_t ring;
	gm_drain_t d;
	int fd, wfd;
	int64_t first, end;
	cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
	fd = gm_test_capture(&d, &ring, 0);
	gm_test_fill(&ring, 0, 5, 10, 1);
	gm_drain_pass(&d, 0);
	first = lseek(fd, 0, SEEK_END);
	gm_test_fill(&ring, 1, 5, 20, 1);
	gm_drain_pass(&d, 0);
	end = lseek(fd, 0, SEEK_END);
	cr_expect_eq(gm_drain_valid_end_from(fd, first), end, "one block after it");
	cr_expect_eq(gm_drain_valid_end_from(fd, end), end, "nothing after the end");
	cr_expect_eq(gm_drain_valid_end_from(fd, first + 1), first + 1,
	             "not a block start: nothing whole follows");
	wfd = open(gm_test_path, O_WRONLY);
	cr_assert(wfd >= 0);
	cr_expect_eq(gm_drain_valid_end_from(wfd, first), -EBADF,
	             "unreadable is an error, not an end to cut at");
	cr_expect_eq(gm_drain_valid_end_from(-1, first), -EBADF);
	close(wfd);
	close(fd);
	gm_test_done(&d, &ring);
}

/* A capture overwritten with something else (another program) is left
 * alone: nothing is cut, nothing appended (records after it would read as a
 * capture with its start missing), and the drainer stops writing. */
Test(drain, does_not_cut_a_file_that_is_no_longer_a_capture)
{
	gm_ring_t ring;
	gm_drain_t d;
	int fd;
	char junk[300];
	cr_assert_eq(gm_ring_create(&ring, 77, 4 * 4096, 4096), 0);
	fd = gm_test_capture(&d, &ring, 0);
	memset(junk, 'x', sizeof(junk));
	cr_assert_eq(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	cr_assert_eq(lseek(fd, 0, SEEK_END), (off_t)sizeof(junk));
	gm_test_fill(&ring, 0, 5, 10, 1);
	cr_expect_eq(gm_drain_pass(&d, 0), -ESTALE);
	cr_expect_eq(d.error, -ESTALE);
	cr_expect_eq(lseek(fd, 0, SEEK_END), (off_t)sizeof(junk), "nothing cut, nothing appended");
	close(fd);
	gm_test_done(&d, &ring);
}

/* A game that closed the drainer's descriptor, and maybe reopened the
 * number for a file of its own, never gets a block: the drainer stops. */
Test(drain, stops_when_its_descriptor_is_closed_or_reused)
{
	int reuse;
	for (reuse = 0; reuse < 2; reuse++) {
		gm_ring_t ring;
		gm_drain_t d;
		char other[64] = "/tmp/gm-test-drain-other-XXXXXX";
		int fd, ofd = -1, idx;
		cr_assert_eq(gm_ring_create(&ring, 77, 4 * 4096, 4096), 0);
		fd = gm_test_capture(&d, &ring, 0);
		idx = gm_test_fill(&ring, 0, 5, 10, 1);
		close(fd);
		if (reuse) {
			ofd = mkstemp(other);
			cr_assert(ofd >= 0);
			cr_assert_eq(dup2(ofd, fd), fd);
		}
		cr_expect_eq(gm_drain_pass(&d, 0), -EBADF, "reuse=%d", reuse);
		cr_expect_eq(gm_drain_clock(&d), -EBADF);
		cr_expect_eq(ring.chunks[idx].state, gm_chunk_committed, "the chunk stays");
		if (reuse) {
			struct stat st;
			cr_assert_eq(fstat(ofd, &st), 0);
			cr_expect_eq(st.st_size, 0, "the game's file is untouched");
			close(fd);
			close(ofd);
			unlink(other);
		}
		gm_test_done(&d, &ring);
	}
}

Test(drain, valid_end_refuses_what_is_not_a_capture)
{
	gm_file_header_t h;
	char path[64] = "/tmp/gm-test-drain-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_expect_eq(gm_drain_valid_end(-1), -EBADF);
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, GM_FORMAT_MAGIC, 8);
	h.header_bytes = 64; /* smaller than a header */
	cr_assert_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	cr_expect_eq(gm_drain_valid_end(fd), -EINVAL);
	h.header_bytes = sizeof(h);
	h.magic[0] = 'X';
	cr_assert_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	cr_expect_eq(gm_drain_valid_end(fd), -EINVAL);
	h.magic[0] = GM_FORMAT_MAGIC[0];
	cr_assert_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	cr_expect_eq(gm_drain_valid_end(fd), (int64_t)sizeof(h), "a header alone is valid");
	close(fd);
	unlink(path);
}

/* A drainer without a ring (recovery writes the header first) names no
 * chunk size; one without a file writes nothing and says why. */
Test(drain, header_without_a_ring_and_clock_without_a_file)
{
	gm_drain_t d;
	gm_file_header_t h;
	char path[64] = "/tmp/gm-test-drain-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	gm_drain_init(&d, NULL, fd, 0, 0, malloc, free);
	cr_assert_eq(gm_drain_header(&d, 5, "/gmtrace.5.x"), 0);
	cr_assert_eq(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	cr_expect_eq(h.chunk_bytes, 0);
	cr_expect_eq(h.pid, 5);
	cr_expect_str_eq(h.shm_name, "/gmtrace.5.x");
	cr_expect_eq(d.file_bytes, sizeof(h));
	close(fd);
	unlink(path);
	gm_drain_init(&d, NULL, -1, 0, 0, malloc, free);
	cr_expect_eq(gm_drain_clock(&d), -EBADF);
	cr_expect_eq(d.error, -EBADF);
}

/* With the CPU watch on, a quiet machine still gets every record (packed,
 * compressed or not as the watch decides). */
Test(drain, cpu_watch_keeps_every_record)
{
	gm_ring_t ring;
	gm_drain_t d;
	int fd, per[3] = {0}, i;
	long total = 0;
	cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
	fd = gm_test_capture(&d, &ring, 1);
	gm_drain_watch_cpu(&d, 0);
	for (i = 0; i < 3; i++) {
		gm_test_fill(&ring, (uint32_t)i, 100, 1000 * (uint64_t)i, 1);
		total += gm_drain_pass(&d, 0);
	}
	cr_expect_eq(total, 3 * 100 * 16);
	close(fd);
	cr_expect_eq(gm_test_read_back(gm_test_path, per, 3), 300);
	gm_test_done(&d, &ring);
}

/* ---- producers draining their own chunks ------------------------------------ */

/* A producer's pass takes its own thread's committed chunks and nothing
 * else (other threads' chunks, its chunk still being written), packed and
 * never compressed; a drainer pass then takes the rest. */
Test(drain, help_takes_only_its_threads_committed_chunks)
{
	gm_ring_t ring;
	gm_drain_t d;
	int fd, per[3] = {0}, k, i;
	uint16_t kinds[8];
	cr_assert_eq(gm_ring_create(&ring, 77, 8 * 4096, 4096), 0);
	fd = gm_test_capture(&d, &ring, 1);
	gm_test_fill(&ring, 0, 100, 1000, 1);
	gm_test_fill(&ring, 1, 50, 2000, 1);
	gm_test_fill(&ring, 2, 30, 3000, 1);
	gm_test_fill(&ring, 1, 20, 4000, 0); /* thread 1's next chunk, owned */
	cr_expect_eq(gm_drain_help(&d, 1), 50 * 16);
	cr_expect_eq(gm_drain_help(&d, 1), 0, "nothing more of thread 1 is committed");
	cr_expect_eq(gm_drain_help(&d, 5), 0, "a thread with no chunk");
	k = gm_test_block_kinds(fd, kinds, 8);
	cr_expect_eq(k, 1);
	cr_expect_eq(kinds[0], gm_block_packed2, "a producer never compresses");
	cr_expect_eq(gm_drain_pass(&d, 0), (100 + 30) * 16);
	k = gm_test_block_kinds(fd, kinds, 8);
	cr_expect_eq(k, 3);
	for (i = 1; i < k; i++)
		cr_expect_eq(kinds[i], gm_block_packed2_zstd, "block %d", i);
	close(fd);
	cr_expect_eq(gm_test_read_back(gm_test_path, per, 3), 180);
	cr_expect_eq(per[0], 100);
	cr_expect_eq(per[1], 50);
	cr_expect_eq(per[2], 30);
	gm_test_done(&d, &ring);
}

/* While producers drain (help 1 with no core free, by this drainer's
 * watch or by the verdict another drainer published in the log, or help
 * 2), a drainer pass takes only chunks that waited since its previous
 * pass, unless a quarter of the log waits or the pass is a final one. */
Test(drain, the_drainer_leaves_fresh_chunks_to_their_producers)
{
	static const struct {
		int help, scarce, published;
		long first; /* chunks the first pass takes */
	} cases[] = {{0, 1, 1, 3}, {1, 0, 0, 3}, {1, 1, 0, 0},
	             {1, 0, 1, 0}, {2, 0, 0, 0}, {2, 1, 0, 0}};
	size_t c;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		gm_ring_t ring;
		gm_drain_t d;
		int fd, per[4] = {0};
		cr_assert_eq(gm_ring_create(&ring, 77, 32 * 4096, 4096), 0);
		fd = gm_test_capture(&d, &ring, 0);
		d.help = cases[c].help;
		d.cpu_scarce = cases[c].scarce; /* the watch is off: it stays */
		ring.hdr->help_now = (uint32_t)cases[c].published;
		gm_test_fill(&ring, 0, 10, 1000, 1);
		gm_test_fill(&ring, 1, 10, 2000, 1);
		gm_test_fill(&ring, 2, 10, 3000, 1);
		cr_expect_eq(gm_drain_pass(&d, 0), cases[c].first * 160, "case %zu", c);
		gm_test_fill(&ring, 3, 10, 4000, 1);
		/* the three older chunks now waited one pass; the new one did not */
		cr_expect_eq(gm_drain_pass(&d, 0), cases[c].first ? 160 : 3 * 160, "case %zu", c);
		cr_expect_eq(gm_drain_pass(&d, 0), cases[c].first ? 0 : 160, "case %zu", c);
		close(fd);
		cr_expect_eq(gm_test_read_back(gm_test_path, per, 4), 40, "case %zu", c);
		gm_test_done(&d, &ring);
	}
}

Test(drain, a_backlog_or_a_final_pass_takes_everything)
{
	int final;
	for (final = 0; final < 2; final++) {
		gm_ring_t ring;
		gm_drain_t d;
		int fd, per[5] = {0}, t, n = final ? 1 : 4; /* a quarter of 16 chunks */
		cr_assert_eq(gm_ring_create(&ring, 77, 16 * 4096, 4096), 0);
		fd = gm_test_capture(&d, &ring, 0);
		d.help = 2;
		for (t = 0; t < n; t++)
			gm_test_fill(&ring, (uint32_t)t, 10, 1000 * (uint64_t)(t + 1), 1);
		cr_expect_eq(gm_drain_pass(&d, final), n * 160);
		close(fd);
		cr_expect_eq(gm_test_read_back(gm_test_path, per, 5), n * 10);
		gm_test_done(&d, &ring);
	}
}

Test(drain, an_outside_drainer_is_silent_after_two_seconds_without_a_beat)
{
	const uint64_t s = 1000000000ull, now = 100 * s;
	cr_expect_eq(gm_drain_silent(now, now - 2 * s), 1);
	cr_expect_eq(gm_drain_silent(now, now - 2 * s + 1), 0);
	cr_expect_eq(gm_drain_silent(now, 0), 1);
	cr_expect_eq(gm_drain_silent(now, now), 0);
	/* the drainer beat after the caller read the clock: alive (the
	 * difference must not wrap around to 2^64 ns of silence) */
	cr_expect_eq(gm_drain_silent(now, now + 1), 0);
	cr_expect_eq(gm_drain_silent(now, now + 3 * s), 0);
}

/* The watch: no core is free when at least half the drainer's wake-ups
 * (and 3 or more) came with a preemption of the game's threads, and the
 * game used more than ncpu - 0.9 CPUs. */
Test(drain, cpu_verdict)
{
	const uint64_t w = 50000000; /* a 50 ms window */
	cr_expect_eq(gm_drain_cpu_verdict(0, 0, 2 * w, w, 2), 0);
	cr_expect_eq(gm_drain_cpu_verdict(2, 0, 2 * w, w, 2), 0, "too few to say");
	cr_expect_eq(gm_drain_cpu_verdict(2, 4, 2 * w, w, 2), 0);
	cr_expect_eq(gm_drain_cpu_verdict(3, 0, 2 * w, w, 2), 1);
	cr_expect_eq(gm_drain_cpu_verdict(3, 6, 2 * w, w, 2), 1);
	cr_expect_eq(gm_drain_cpu_verdict(3, 7, 2 * w, w, 2), 0);
	cr_expect_eq(gm_drain_cpu_verdict(10, 20, 2 * w, w, 2), 1);
	cr_expect_eq(gm_drain_cpu_verdict(10, 21, 2 * w, w, 2), 0);
	/* the game's own use: over 1.1 CPUs of 2, over 0.1 of 1, over 7.1 of 8 */
	cr_expect_eq(gm_drain_cpu_verdict(10, 10, w + w / 10, w, 2), 0, "other programs");
	cr_expect_eq(gm_drain_cpu_verdict(10, 10, w + w / 10 + 1, w, 2), 1);
	cr_expect_eq(gm_drain_cpu_verdict(10, 10, w / 10, w, 1), 0);
	cr_expect_eq(gm_drain_cpu_verdict(10, 10, w / 10 + 1, w, 1), 1);
	cr_expect_eq(gm_drain_cpu_verdict(10, 10, 7 * w + w / 10, w, 8), 0);
	cr_expect_eq(gm_drain_cpu_verdict(10, 10, 7 * w + w / 10 + 1, w, 8), 1);
	cr_expect_eq(gm_drain_cpu_verdict(10, 10, 2 * w, w, 0), 0, "no CPU: no verdict");
	cr_expect_eq(gm_drain_cpu_verdict(UINT64_MAX / 2 + 1, UINT64_MAX, UINT64_MAX, w, 2), 1,
	             "no overflow");
	cr_expect_eq(gm_drain_cpu_verdict(UINT64_MAX / 2, UINT64_MAX, UINT64_MAX, w, 2), 0,
	             "no overflow");
	cr_expect_eq(gm_drain_cpu_verdict(10, 10, UINT64_MAX, UINT64_MAX, 2), 0, "no overflow");
}

/* What the watch reads: this process's threads (preemptions less the
 * calling thread's), another process's from /proc, nothing for a process
 * that does not exist. Counts only grow; the CPUs are this machine's. */
Test(drain, game_look)
{
	gm_drain_game_t a, b, a2, b2;
	volatile uint64_t spin = 0;
	long i;
	cr_assert_eq(gm_drain_game_look(0, &a), 0);
	cr_assert_eq(gm_drain_game_look((int)getpid(), &b), 0);
	cr_expect_geq(a.ncpu, 1);
	cr_expect_eq(a.ncpu, b.ncpu);
	for (i = 0; i < 20000000; i++)
		spin += (uint64_t)i;
	cr_assert_eq(gm_drain_game_look(0, &a2), 0);
	cr_assert_eq(gm_drain_game_look((int)getpid(), &b2), 0);
	cr_expect_geq(a2.preempts, a.preempts);
	cr_expect_geq(b2.preempts, b.preempts);
	/* the spin is the calling thread's: both views count it (read from
	 * /proc, the process's time is in clock ticks) */
	cr_expect_gt(a2.cpu_ns, a.cpu_ns + 5000000);
	cr_expect_gt(b2.cpu_ns, b.cpu_ns + 5000000);
	cr_expect_eq(gm_drain_game_look(0x7ffffff0, &a), -1);
	cr_expect_eq(gm_drain_game_look(-5, &a), -1);
}

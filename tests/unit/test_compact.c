/* test_compact.c - compacting a capture keeps every record and shrinks it */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/log/compact.h"
#include "analysis/log/reader.h"
#include "interpose/log/drain.h"
#include "interpose/log/pack.h"
#include "interpose/log/ring.h"
#include "capture_file.h"
#include "failalloc.h"

/* A capture of one thread, n allocation records, stored raw. */
static void gm_test_raw_capture(char *path, int n, uint64_t *last_ptr)
{
	gm_ring_t ring;
	gm_drain_t d;
	uint64_t *p, t = 1000;
	int fd, idx, i;
	strcpy(path, "/tmp/gm-test-compact-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(gm_ring_create(&ring, 9, 4 * 65536, 65536), 0);
	gm_drain_init(&d, &ring, fd, 0, 0, malloc, free);
	cr_assert_eq(gm_drain_header(&d, 9, ring.name), 0);
	idx = gm_ring_claim(&ring, 0, 0, t);
	p = (uint64_t *)gm_ring_data(&ring, idx);
	for (i = 0; i < n; i++) {
		uint64_t ptr = 0x10000 + 48u * (uint64_t)(i % 100);
		t += 11;
		p[2 * i + 1] = gm_rec_w1(32 + (uint64_t)(i % 7), t);
		p[2 * i] = gm_rec_w0(ptr, gm_rec_alloc, gm_kind_malloc);
		*last_ptr = ptr;
	}
	gm_ring_commit(&ring, idx, (uint32_t)n * 16);
	cr_assert_eq(gm_drain_pass(&d, 0), n * 16);
	gm_drain_free(&d);
	close(fd);
	gm_ring_detach(&ring, 1);
}

static off_t gm_test_size(const char *path)
{
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

Test(compact, raw_blocks_become_zstd_and_every_record_survives)
{
	char path[64], err[256];
	uint64_t last = 0, n = 0, size_sum = 0;
	off_t before, after;
	gm_reader_t *r;
	gm_event_t ev;
	gm_test_raw_capture(path, 3000, &last);
	before = gm_test_size(path);
	cr_expect_gt(gm_compact_file(path), 0, "bytes saved on %s", path);
	after = gm_test_size(path);
	cr_expect_lt(after, before / 2, "%lld -> %lld bytes", (long long)before, (long long)after);
	r = gm_reader_open(path, err, sizeof(err));
	cr_assert(r, "%s", err);
	while (gm_reader_next(r, &ev) > 0) {
		cr_expect_eq(ev.b, 32 + n % 7, "record %llu", (unsigned long long)n);
		size_sum += ev.b;
		n++;
	}
	cr_expect_eq(n, 3000);
	cr_expect_null(gm_reader_error(r));
	gm_reader_free(r);
	cr_expect_eq(gm_compact_file(path), 0, "nothing raw left the second time");
	unlink(path);
}

Test(compact, keeps_a_damaged_tail_and_refuses_non_captures)
{
	char path[64], junk[] = "/tmp/gm-test-compact-junk-XXXXXX";
	uint64_t last;
	int fd;
	off_t before;
	gm_test_raw_capture(path, 1000, &last);
	fd = open(path, O_WRONLY | O_APPEND);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "GMBKhalf-a-block", 16), 16);
	close(fd);
	before = gm_test_size(path);
	cr_expect_gt(gm_compact_file(path), 0);
	cr_expect_lt(gm_test_size(path), before);
	{
		char err[256];
		gm_reader_t *r = gm_reader_open(path, err, sizeof(err));
		gm_event_t ev;
		int n = 0;
		cr_assert(r);
		while (gm_reader_next(r, &ev) > 0)
			n++;
		cr_expect_eq(n, 1000);
		cr_expect_not_null(gm_reader_error(r), "the 16 stray bytes are still reported");
		gm_reader_free(r);
	}
	unlink(path);
	fd = mkstemp(junk);
	{
		char text[200];
		memset(text, 'x', sizeof(text));
		cr_assert_eq(write(fd, text, sizeof(text)), (ssize_t)sizeof(text));
	}
	close(fd);
	cr_expect_lt(gm_compact_file(junk), 0, "%s is not a capture", junk);
	cr_expect_lt(gm_compact_file("/tmp/gm-no-such-capture"), 0);
	unlink(junk);
}

/* ---- captures built block by block ----------------------------------------- */

/* Appends a file header of process 99. */
static void gm_test_header(capbuf_t *c)
{
	gm_file_header_t h = cap_file_header();
	h.pid = 99;
	cb_put(c, &h, sizeof(h));
}

/* n allocation records of thread t (sizes 100*t + i % 9), as raw words. */
static uint64_t *gm_test_records(int n, uint32_t t)
{
	uint64_t *w = calloc((size_t)n * 2, sizeof(uint64_t));
	int i;
	cr_assert_not_null(w);
	for (i = 0; i < n; i++) {
		w[2 * i] = gm_rec_w0(0x40000u + 64u * (uint64_t)(i % 50), gm_rec_alloc, 0);
		w[2 * i + 1] = gm_rec_w1(100u * t + (uint64_t)(i % 9), 1000 + 10 * (uint64_t)i);
	}
	return w;
}

/* Appends n records of thread t as a block of kind raw, packed or packed2. */
static size_t gm_test_record_block(capbuf_t *c, uint16_t kind, uint32_t t, int n)
{
	uint64_t *w = gm_test_records(n, t);
	size_t raw = (size_t)n * 16, at;
	if (kind == gm_block_raw) {
		at = cb_block(c, kind, t, (uint32_t)raw, w, raw);
	} else {
		unsigned char *p = malloc(gm_pack_bound(raw));
		size_t len;
		cr_assert_not_null(p);
		len = kind == gm_block_packed ? gm_pack_block_v1(w, raw, p) :
		                                gm_pack_block(w, raw, p);
		at = cb_block(c, kind, t, (uint32_t)raw, p, len);
		free(p);
	}
	free(w);
	return at;
}

static void gm_test_write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* 1 when the file at path holds exactly the n bytes at p. */
static int gm_test_same(const char *path, const void *p, size_t n)
{
	unsigned char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t got;
	cr_assert(fd >= 0, "%s", path);
	cr_assert_leq(n, sizeof(buf));
	got = read(fd, buf, sizeof(buf));
	close(fd);
	return got == (ssize_t)n && memcmp(buf, p, n) == 0;
}

/* Kinds of the blocks of a capture file, in file order; returns their count. */
static int gm_test_kinds(const char *path, uint16_t *kinds, int max)
{
	off_t off = sizeof(gm_file_header_t), size = gm_test_size(path);
	int fd = open(path, O_RDONLY), k = 0;
	cr_assert(fd >= 0);
	while (off + (off_t)sizeof(gm_block_t) <= size && k < max) {
		gm_block_t b;
		cr_assert_eq(pread(fd, &b, sizeof(b), off), (ssize_t)sizeof(b));
		if (b.magic != GM_BLOCK_MAGIC)
			break;
		kinds[k++] = b.kind;
		off += (off_t)sizeof(b) + b.stored_bytes;
	}
	close(fd);
	return k;
}

/* Every event's size, in reading order; returns their count. */
static int gm_test_events(const char *path, uint64_t *sizes, int max, int damaged)
{
	char err[256];
	gm_reader_t *r = gm_reader_open(path, err, sizeof(err));
	gm_event_t ev;
	int n = 0;
	cr_assert_not_null(r, "%s", err);
	while (gm_reader_next(r, &ev) > 0) {
		if (n < max)
			sizes[n] = ev.b;
		n++;
	}
	if (!damaged)
		cr_expect_null(gm_reader_error(r), "%s", gm_reader_error(r));
	else
		cr_expect_not_null(gm_reader_error(r), "damage expected in %s", path);
	gm_reader_free(r);
	return n;
}

static void gm_test_tmp(char *path)
{
	int fd;
	strcpy(path, "/tmp/gm-test-compact-XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
}

Test(compact, packed_blocks_of_either_form_are_compressed_and_keep_their_form)
{
	capbuf_t c = {0};
	char path[64];
	uint16_t kinds[8];
	uint64_t before[2000], after[2000];
	int64_t saved;
	int n, i;
	size_t size;
	gm_test_tmp(path);
	gm_test_header(&c);
	gm_test_record_block(&c, gm_block_packed, 0, 300);
	gm_test_record_block(&c, gm_block_packed2, 1, 300);
	gm_test_record_block(&c, gm_block_raw, 2, 100);
	gm_test_record_block(&c, gm_block_raw, 3, 600); /* larger than the first raw block */
	size = c.len;
	gm_test_write_file(path, c.buf, c.len);
	free(c.buf);
	n = gm_test_events(path, before, 2000, 0);
	cr_assert_eq(n, 1300);
	saved = gm_compact_file(path);
	cr_expect_gt(saved, 0);
	cr_expect_eq(gm_test_size(path), (off_t)size - saved, "saved %lld of %zu bytes",
	             (long long)saved, size);
	cr_assert_eq(gm_test_kinds(path, kinds, 8), 4);
	cr_expect_eq(kinds[0], gm_block_packed_zstd, "form 1 stays form 1");
	cr_expect_eq(kinds[1], gm_block_packed2_zstd);
	cr_expect_eq(kinds[2], gm_block_packed2_zstd, "raw records are packed in form 2");
	cr_expect_eq(kinds[3], gm_block_packed2_zstd);
	cr_assert_eq(gm_test_events(path, after, 2000, 0), n, "every record survives");
	for (i = 0; i < n; i++)
		cr_assert_eq(after[i], before[i], "event %d", i);
	unlink(path);
}

/* A raw block that is damaged (bad check value, sizes that disagree, records
 * not whole) or too small to shrink is copied byte for byte. */
Test(compact, copies_damaged_and_incompressible_blocks_as_they_are)
{
	capbuf_t c = {0};
	char path[64];
	size_t at_last;
	uint16_t kinds[8];
	/* one record of high-entropy fields: packed and framed it is larger */
	uint64_t one[2] = {gm_rec_w0(0x7f3a5c9e1b2dull, gm_rec_alloc, 0),
	                   gm_rec_w1(0xa5c3e1f2b4ull, 0xd3b2a1)};
	uint64_t *w = gm_test_records(40, 0), *stray = gm_test_records(40, 5);
	size_t bad_check;
	stray[40] = 5; /* record 20's first word: type 0, a stray store */
	gm_test_tmp(path);
	gm_test_header(&c);
	cb_block(&c, gm_block_raw, 0, 16, one, 16);             /* zstd cannot shrink it */
	bad_check = cb_block(&c, gm_block_raw, 1, 640, w, 640); /* bad check, below */
	cb_block(&c, gm_block_raw, 2, 320, w, 640);             /* says it holds 320 */
	cb_block(&c, gm_block_raw, 3, 632, w, 632);             /* half a record */
	cb_block(&c, gm_block_raw, 5, 640, stray, 640); /* packed it would end at the word */
	at_last = gm_test_record_block(&c, gm_block_raw, 4, 300); /* compressible */
	((gm_block_t *)(void *)(c.buf + bad_check))->check ^= 1;
	gm_test_write_file(path, c.buf, c.len);
	free(w);
	free(stray);
	cr_expect_gt(gm_compact_file(path), 0, "the last block shrinks");
	cr_expect(gm_test_same(path, c.buf, at_last) == 0, "the file changed");
	{
		int fd = open(path, O_RDONLY);
		unsigned char *p = malloc(at_last);
		cr_assert(fd >= 0 && p);
		cr_assert_eq(read(fd, p, at_last), (ssize_t)at_last);
		cr_expect_eq(memcmp(p, c.buf, at_last), 0,
		             "the header and the first five blocks are as they were");
		close(fd);
		free(p);
	}
	cr_assert_eq(gm_test_kinds(path, kinds, 8), 6);
	cr_expect_eq(kinds[0], gm_block_raw);
	cr_expect_eq(kinds[4], gm_block_raw);
	cr_expect_eq(kinds[5], gm_block_packed2_zstd);
	free(c.buf);
	unlink(path);
}

Test(compact, leaves_files_without_raw_blocks_or_not_captures_alone)
{
	capbuf_t c = {0};
	char path[64];
	uint64_t clock[2] = {1000, 2000};
	gm_test_tmp(path);

	gm_test_header(&c);
	cb_block(&c, gm_block_clock, 0, 16, clock, 16);
	gm_test_record_block(&c, gm_block_raw, 0, 8); /* under 256 bytes: not worth it */
	gm_test_write_file(path, c.buf, c.len);
	cr_expect_eq(gm_compact_file(path), 0, "nothing big and raw");
	cr_expect(gm_test_same(path, c.buf, c.len), "file untouched");

	/* damage before the first big raw block: nothing past it is looked at */
	((gm_block_t *)(void *)(c.buf + sizeof(gm_file_header_t)))->magic = 0x58585858;
	gm_test_record_block(&c, gm_block_raw, 0, 300);
	gm_test_write_file(path, c.buf, c.len);
	cr_expect_eq(gm_compact_file(path), 0, "stops at the damaged first block");
	cr_expect(gm_test_same(path, c.buf, c.len), "file untouched");

	/* a block running past the end of the file before any raw one */
	((gm_block_t *)(void *)(c.buf + sizeof(gm_file_header_t)))->magic = GM_BLOCK_MAGIC;
	((gm_block_t *)(void *)(c.buf + sizeof(gm_file_header_t)))->stored_bytes = 1u << 30;
	gm_test_write_file(path, c.buf, c.len);
	cr_expect_eq(gm_compact_file(path), 0, "stops at the block cut short");

	/* header_bytes past the end or too small, a file shorter than a header */
	((gm_file_header_t *)(void *)c.buf)->header_bytes = (uint32_t)c.len + 1;
	gm_test_write_file(path, c.buf, c.len);
	cr_expect_eq(gm_compact_file(path), -EINVAL, "header_bytes past the end");
	((gm_file_header_t *)(void *)c.buf)->header_bytes = 16;
	gm_test_write_file(path, c.buf, c.len);
	cr_expect_eq(gm_compact_file(path), -EINVAL, "header_bytes too small");
	gm_test_write_file(path, c.buf, 100);
	cr_expect_eq(gm_compact_file(path), -EINVAL, "100 bytes");
	cr_expect(gm_test_same(path, c.buf, 100), "left as it was");
	free(c.buf);
	unlink(path);
}

/* A capture whose blocks pass 16 MiB is read front to back and dropped
 * behind the reading point: the blocks after that point are compacted too. */
Test(compact, compacts_blocks_past_16_mib)
{
	char path[64];
	capbuf_t c = {0};
	gm_block_t big;
	size_t tail_at;
	uint64_t sizes[700];
	uint16_t kinds[8];
	int fd;
	gm_test_tmp(path);
	gm_test_header(&c);
	gm_test_record_block(&c, gm_block_raw, 0, 300);
	/* 17 MiB of zeros in a block of a kind that compaction copies */
	memset(&big, 0, sizeof(big));
	big.magic = GM_BLOCK_MAGIC;
	big.kind = gm_block_zstd;
	big.thread = 5;
	big.raw_bytes = 16;
	big.stored_bytes = 17u << 20;
	{
		void *zeros = calloc(1, big.stored_bytes);
		cr_assert_not_null(zeros);
		big.check = gm_format_check(zeros, big.stored_bytes);
		free(zeros);
	}
	cb_put(&c, &big, sizeof(big));
	tail_at = c.len + big.stored_bytes;
	fd = open(path, O_WRONLY | O_TRUNC);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, c.buf, c.len), (ssize_t)c.len);
	free(c.buf);
	memset(&c, 0, sizeof(c));
	gm_test_record_block(&c, gm_block_raw, 1, 400);
	cr_assert_eq(pwrite(fd, c.buf, c.len, (off_t)tail_at), (ssize_t)c.len);
	close(fd);
	cr_expect_gt(gm_compact_file(path), 0);
	cr_assert_eq(gm_test_kinds(path, kinds, 8), 3);
	cr_expect_eq(kinds[0], gm_block_packed2_zstd);
	cr_expect_eq(kinds[1], gm_block_zstd, "copied as it is");
	cr_expect_eq(kinds[2], gm_block_packed2_zstd, "the block after 16 MiB is compacted");
	/* thread 5's zeros are no zstd frame (damage); threads 0 and 1 read whole */
	{
		int got = gm_test_events(path, sizes, 700, 1);
		cr_expect_eq(got, 700, "%d events", got);
	}
	free(c.buf);
	unlink(path);
}

/* When the compacted copy cannot be written (the file size limit here,
 * as on a full disk), the capture is left whole and the temporary file
 * removed. */
Test(compact, a_write_error_leaves_the_capture_as_it_was)
{
	capbuf_t c = {0};
	char path[64], tmp[80], path2[64];
	size_t at_big, at_small, new_small, new_len;
	uint64_t one[2] = {gm_rec_w0(0x10, gm_rec_alloc, 0), gm_rec_w1(8, 5)};
	rlim_t limits[5];
	struct rlimit rl;
	int64_t saved;
	int i;
	gm_test_tmp(path);
	snprintf(tmp, sizeof(tmp), "%s.compact", path);
	gm_test_header(&c);
	at_big = gm_test_record_block(&c, gm_block_raw, 0, 300);
	at_small = cb_block(&c, gm_block_raw, 1, 16, one, 16);
	cb_put(&c, "GMBKhalf", 8); /* a damaged tail */
	gm_test_write_file(path, c.buf, c.len);
	/* where the small block and the tail land in the compacted file */
	gm_test_tmp(path2);
	gm_test_write_file(path2, c.buf, c.len);
	saved = gm_compact_file(path2);
	cr_assert_gt(saved, 0);
	unlink(path2);
	new_small = at_small - (size_t)saved;
	new_len = c.len - (size_t)saved;
	limits[0] = 64;                              /* the file header */
	limits[1] = at_big + 20;                     /* the new block's header */
	limits[2] = at_big + sizeof(gm_block_t) + 4; /* its payload */
	limits[3] = new_small + 20;                  /* the block copied as it is */
	limits[4] = new_len - 4;                     /* the damaged tail */
	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	for (i = 0; i < 5; i++) {
		struct rlimit lim = rl;
		int64_t rc;
		lim.rlim_cur = limits[i];
		cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
		rc = gm_compact_file(path);
		cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
		cr_expect_eq(rc, -EFBIG, "limit %d (%llu bytes): %lld", i,
		             (unsigned long long)limits[i], (long long)rc);
		cr_expect(gm_test_same(path, c.buf, c.len), "limit %d: capture whole", i);
		cr_expect_neq(access(tmp, F_OK), 0, "limit %d: %s removed", i, tmp);
	}
	/* the temporary name taken by a directory */
	cr_assert_eq(mkdir(tmp, 0700), 0);
	cr_expect_eq(gm_compact_file(path), -EISDIR);
	cr_expect(gm_test_same(path, c.buf, c.len), "capture whole");
	rmdir(tmp);
	free(c.buf);
	unlink(path);
}

/* Out of memory for either buffer (the packed records, the zstd output):
 * -ENOMEM, the capture left whole, no temporary file left. */
Test(compact, out_of_memory_leaves_the_capture_as_it_was)
{
	capbuf_t c = {0};
	char path[64], tmp[80];
	long n;
	int fired = 1;
	gm_test_tmp(path);
	snprintf(tmp, sizeof(tmp), "%s.compact", path);
	gm_test_header(&c);
	gm_test_record_block(&c, gm_block_raw, 0, 100);
	gm_test_record_block(&c, gm_block_packed2, 1, 300);
	gm_test_record_block(&c, gm_block_raw, 2, 300); /* a bigger packing buffer */
	for (n = 0; fired && n < 100; n++) {
		int64_t rc;
		gm_test_write_file(path, c.buf, c.len);
		gm_failalloc_arm(n);
		rc = gm_compact_file(path);
		fired = gm_failalloc_fired();
		gm_failalloc_arm(-1);
		if (fired) {
			cr_expect_eq(rc, -ENOMEM, "allocation %ld: %lld", n, (long long)rc);
			cr_expect(gm_test_same(path, c.buf, c.len), "allocation %ld: capture whole",
			          n);
			cr_expect_neq(access(tmp, F_OK), 0, "allocation %ld: %s removed", n, tmp);
		} else {
			cr_expect_gt(rc, 0, "nothing failing");
			cr_expect_lt(gm_test_size(path), (off_t)c.len);
		}
	}
	cr_expect_geq(n, 4, "at least three buffers are allocated (%ld runs)", n);
	cr_expect_eq(fired, 0);
	free(c.buf);
	unlink(path);
}

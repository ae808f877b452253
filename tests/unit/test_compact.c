/* test_compact.c - compacting a capture keeps every record and shrinks it */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/log/compact.h"
#include "analysis/log/reader.h"
#include "interpose/log/drain.h"
#include "interpose/log/ring.h"

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

/* test_ring.c - the shared-memory log: creation, attach, claims, drain lock */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "interpose/log/ring.h"
#include "interpose/support/support.h"

Test(ring, creates_a_private_exclusive_segment)
{
	gm_ring_t r, again;
	char path[128];
	struct stat st;
	cr_assert_eq(gm_ring_create(&r, 4242, 256 * 1024, 65536), 0);
	cr_expect_eq(strncmp(r.name, "/gmtrace.4242.", 14), 0, "name %s", r.name);
	cr_expect_eq(strlen(r.name), 14 + 16, "16 random hex digits in %s", r.name);
	snprintf(path, sizeof(path), "/dev/shm%s", r.name);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600, "mode of %s is %o", path, st.st_mode & 0777);
	cr_expect_eq(r.hdr->nchunks, 4);
	cr_expect_eq(r.hdr->chunk_bytes, 65536);
	cr_expect_eq(r.hdr->pid, 4242);
	cr_assert_eq(gm_ring_attach(&again, r.name), 0);
	cr_expect_eq(again.hdr->nchunks, 4);
	cr_expect_eq(again.payload - (unsigned char *)again.hdr,
	             r.payload - (unsigned char *)r.hdr);
	gm_ring_detach(&again, 0);
	gm_ring_detach(&r, 1);
	cr_expect_neq(stat(path, &st), 0, "%s removed", path);
}

Test(ring, rejects_bad_chunk_sizes)
{
	gm_ring_t r;
	cr_expect_eq(gm_ring_create(&r, 1, 1 << 20, 1000), -EINVAL, "chunk 1000");
	cr_expect_eq(gm_ring_create(&r, 1, 1 << 20, 4104), -EINVAL, "chunk not 16-aligned... 4104");
}

Test(ring, attach_refuses_missing_and_foreign_segments)
{
	gm_ring_t r;
	int fd;
	cr_expect_eq(gm_ring_attach(&r, "/gmtrace.no.such"), -ENOENT);
	fd = shm_open("/gmtrace.test.foreign", O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, 8192), 0);
	close(fd);
	cr_expect_eq(gm_ring_attach(&r, "/gmtrace.test.foreign"), -EINVAL, "8 KiB of zeros");
	fd = shm_open("/gmtrace.test.foreign", O_RDWR | O_TRUNC, 0600);
	close(fd);
	cr_expect_eq(gm_ring_attach(&r, "/gmtrace.test.foreign"), -EINVAL, "empty segment");
	shm_unlink("/gmtrace.test.foreign");
}

Test(ring, claims_every_chunk_once_then_reports_full)
{
	gm_ring_t r;
	int seen[8] = {0}, i, idx;
	cr_assert_eq(gm_ring_create(&r, 1, 8 * 4096, 4096), 0);
	for (i = 0; i < 8; i++) {
		idx = gm_ring_claim(&r, 3, (uint32_t)i, 100 + (uint64_t)i);
		cr_assert(idx >= 0 && idx < 8, "claim %d gave %d", i, idx);
		cr_expect_eq(seen[idx], 0, "chunk %d handed out twice", idx);
		seen[idx] = 1;
		cr_expect_eq(r.chunks[idx].thread, 3);
		cr_expect_eq(r.chunks[idx].seq, (uint32_t)i);
		cr_expect_eq(r.chunks[idx].tsc_base, 100 + (uint64_t)i);
	}
	cr_expect_eq(gm_ring_claim(&r, 3, 8, 0), -EAGAIN, "ninth claim of 8 chunks");
	gm_ring_commit(&r, 5, 4096);
	cr_expect_eq(r.chunks[5].state, gm_chunk_committed);
	cr_expect_eq(r.chunks[5].used, 4096);
	cr_expect_eq(gm_ring_claim(&r, 3, 8, 0), -EAGAIN, "committed is not free");
	r.chunks[5].state = gm_chunk_free;
	cr_expect_eq(gm_ring_claim(&r, 4, 0, 0), 5, "the freed chunk comes back");
	gm_ring_detach(&r, 1);
}

static gm_ring_t gm_test_ring;
static int gm_test_owner[64];

static void *gm_test_claimer(void *arg)
{
	uint32_t me = (uint32_t)(uintptr_t)arg;
	int idx;
	while ((idx = gm_ring_claim(&gm_test_ring, me, 0, 0)) >= 0)
		__atomic_add_fetch(&gm_test_owner[idx], 1, __ATOMIC_RELAXED);
	return NULL;
}

Test(ring, concurrent_claims_never_share_a_chunk)
{
	pthread_t t[4];
	int i, total = 0;
	cr_assert_eq(gm_ring_create(&gm_test_ring, 1, 64 * 4096, 4096), 0);
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, gm_test_claimer, (void *)(uintptr_t)i);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 64; i++) {
		cr_expect_eq(gm_test_owner[i], 1, "chunk %d claimed %d times", i, gm_test_owner[i]);
		total += gm_test_owner[i];
	}
	cr_expect_eq(total, 64);
	gm_ring_detach(&gm_test_ring, 1);
}

Test(ring, drain_lock_is_exclusive_and_broken_when_its_holder_is_gone)
{
	gm_ring_t r;
	pid_t dead;
	cr_assert_eq(gm_ring_create(&r, 1, 4 * 4096, 4096), 0);
	cr_expect_eq(gm_ring_drain_lock(&r, (uint32_t)getpid()), 1);
	cr_expect_eq(gm_ring_drain_lock(&r, 12345), 0, "held by a live process");
	gm_ring_drain_unlock(&r);
	dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	cr_assert_eq(gm_ring_drain_lock(&r, (uint32_t)dead), 1);
	cr_expect_eq(gm_ring_drain_lock(&r, (uint32_t)getpid()), 1,
	             "holder %d has exited: its lock is broken", (int)dead);
	cr_expect_eq(r.hdr->drain_lock, (uint32_t)getpid());
	gm_ring_detach(&r, 1);
}

Test(ring, a_small_ring_still_gets_four_chunks_and_a_huge_count_is_refused)
{
	gm_ring_t r;
	cr_assert_eq(gm_ring_create(&r, 1, 0, 4096), 0, "ring_size 0");
	cr_expect_eq(r.hdr->nchunks, 4, "at least four chunks");
	cr_expect_geq(r.hdr->segment_bytes, 4 * 4096 + r.hdr->payload_offset);
	cr_expect_eq(gm_ring_claim(&r, 0, 0, 0) >= 0, 1, "a chunk can be claimed");
	gm_ring_detach(&r, 1);
	cr_expect_eq(gm_ring_create(&r, 1, ((1ull << 20) + 1) * 4096, 4096), -EINVAL,
	             "2^20 + 1 chunks");
}

/* Every chunk held by a producer (none committed): the log grows by 16
 * chunks (an eighth, at least 16), which another process attached to it
 * sees; not while a chunk is committed, nor past its room. */
Test(ring, a_log_whose_chunks_are_all_held_grows)
{
	gm_ring_t r, other;
	int idx[4];
	cr_assert_eq(gm_ring_create(&r, 1, 4 * 4096, 4096), 0);
	cr_expect_eq(gm_ring_nchunks(&r), 4);
	cr_expect_eq(r.hdr->max_chunks, 4 + 1024, "room for 1024 more chunks");
	cr_expect_eq(r.hdr->segment_bytes, r.hdr->payload_offset + 1028ull * 4096);
	cr_assert_eq(gm_ring_attach(&other, r.name), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_geq(idx[i] = gm_ring_claim(&r, (uint32_t)i, 0, 0), 0);
	cr_expect_eq(gm_ring_claim(&r, 9, 0, 0), -EAGAIN, "full");
	gm_ring_commit(&r, idx[0], 16);
	cr_expect_eq(gm_ring_grow(&r), -EAGAIN, "a committed chunk: the drainer frees it");
	gm_ring_release(&r, idx[0], 16);
	cr_assert_geq(idx[0] = gm_ring_claim(&r, 0, 1, 0), 0);
	cr_expect_eq(gm_ring_grow(&r), 20, "all held: 16 more");
	cr_expect_eq(gm_ring_nchunks(&other), 20, "seen by another mapping");
	for (int i = 0; i < 16; i++) {
		int k = gm_ring_claim(&r, 10, (uint32_t)i, 0);
		cr_assert_geq(k, 4, "a new chunk");
		/* its pages are there: a store does not fault past the file */
		memset(gm_ring_data(&r, k), 0xab, 4096);
		cr_expect_eq(gm_ring_data(&other, k)[4095], 0xab);
		memset(gm_ring_data(&r, k), 0, 4096);
	}
	cr_expect_eq(gm_ring_claim(&r, 11, 0, 0), -EAGAIN);
	r.hdr->max_chunks = 20;
	cr_expect_eq(gm_ring_grow(&r), -ERANGE, "no more room");
	r.hdr->max_chunks = 24;
	cr_expect_eq(gm_ring_grow(&r), 24, "up to the room left");
	gm_ring_detach(&other, 0);
	gm_ring_detach(&r, 1);
}

/* A segment with the log's magic whose header does not match its size
 * (another version, or a damaged one) is refused, not mapped past its end. */
Test(ring, attach_refuses_a_segment_whose_header_disagrees_with_its_size)
{
	gm_ring_t r, other;
	uint64_t seg;
	uint32_t nchunks;
	cr_assert_eq(gm_ring_create(&r, 1, 4 * 4096, 4096), 0);
	seg = r.hdr->segment_bytes;
	nchunks = r.hdr->nchunks;

	r.hdr->segment_bytes = seg + 4096;
	cr_expect_eq(gm_ring_attach(&other, r.name), -EINVAL, "segment_bytes too large");
	cr_expect_null(other.hdr, "nothing left mapped");
	r.hdr->segment_bytes = seg;

	r.hdr->nchunks = r.hdr->max_chunks + 1;
	cr_expect_eq(gm_ring_attach(&other, r.name), -EINVAL, "more chunks than it has room for");
	r.hdr->nchunks = nchunks;
	r.hdr->max_chunks++;
	cr_expect_eq(gm_ring_attach(&other, r.name), -EINVAL, "room for one chunk past the end");
	r.hdr->max_chunks--;
	{
		/* a log of a library before max_chunks: nchunks is its room */
		uint32_t max = r.hdr->max_chunks;
		r.hdr->max_chunks = 0;
		r.hdr->nchunks = max + 1;
		cr_expect_eq(gm_ring_attach(&other, r.name), -EINVAL, "one chunk past the end");
		r.hdr->nchunks = max;
		cr_expect_eq(gm_ring_attach(&other, r.name), 0, "its chunks fit");
		gm_ring_detach(&other, 0);
		r.hdr->max_chunks = max;
		r.hdr->nchunks = nchunks;
	}

	cr_assert_eq(gm_ring_attach(&other, r.name), 0, "the repaired header attaches");
	cr_expect_eq(other.hdr->nchunks, nchunks);
	gm_ring_detach(&other, 0);
	gm_ring_detach(&other, 0); /* a second detach does nothing */
	gm_ring_detach(&r, 1);
	cr_expect_eq(gm_ring_attach(&other, r.name), -ENOENT, "unlinked");
	gm_ring_detach(&other, 1); /* a failed attach leaves nothing to undo */
}

static void *fx_ring_worker(void *arg)
{
	char c;
	(void)!read(*(int *)arg, &c, 1); /* until the test closes its end */
	_exit(0);
}

/* A process that ended but was not reaped (a zombie: kill(pid, 0) still
 * succeeds) is gone for every reader that asks whether a game still runs;
 * a running one is not, nor is the caller, nor a process whose main
 * thread ended while another runs (/proc calls it a zombie too). */
Test(ring, a_zombie_is_gone_a_running_process_is_not)
{
	int fds[2];
	char c;
	pid_t ended, running;
	cr_assert_eq(pipe(fds), 0);
	ended = fork();
	if (ended == 0)
		_exit(0);
	running = fork();
	if (running == 0) {
		close(fds[1]);
		(void)!read(fds[0], &c, 1); /* until the test closes its end */
		_exit(0);
	}
	close(fds[0]);
	for (int i = 0; i < 2000 && !gm_support_pid_gone((int)ended); i++)
		usleep(1000); /* (it may take a moment to end) */
	cr_expect_eq(kill(ended, 0), 0, "a zombie still answers kill(pid, 0)");
	cr_expect_eq(gm_support_pid_gone((int)ended), 1, "an unreaped process is gone");
	cr_expect_eq(gm_support_pid_gone((int)running), 0);
	cr_expect_eq(gm_support_pid_gone((int)getpid()), 0);
	cr_expect_eq(gm_support_pid_gone(gm_support_gettid()), 0, "a thread id too");
	cr_expect_eq(gm_support_pid_gone(0), 0, "no id is no answer");
	close(fds[1]);
	waitpid(ended, NULL, 0);
	waitpid(running, NULL, 0);
	cr_expect_eq(gm_support_pid_gone((int)ended), 1, "reaped: no such process");

	/* its main thread gone by pthread_exit, a worker running */
	cr_assert_eq(pipe(fds), 0);
	running = fork();
	if (running == 0) {
		pthread_t w;
		close(fds[1]);
		if (pthread_create(&w, NULL, fx_ring_worker, &fds[0]) != 0)
			_exit(1);
		pthread_exit(NULL);
	}
	close(fds[0]);
	for (int i = 0; i < 200; i++)
		usleep(1000); /* (time for its main thread to end) */
	cr_expect_eq(gm_support_pid_gone((int)running), 0, "a worker still runs");
	close(fds[1]);
	for (int i = 0; i < 2000 && !gm_support_pid_gone((int)running); i++)
		usleep(1000);
	cr_expect_eq(gm_support_pid_gone((int)running), 1, "ended, not reaped");
	waitpid(running, NULL, 0);
}

Test(ring, the_pid_in_a_logs_name)
{
	gm_ring_t r;
	cr_assert_eq(gm_ring_create(&r, 4242, 1 << 20, 64 << 10), 0);
	cr_expect_eq(gm_ring_name_pid(r.name), 4242, "%s", r.name);
	gm_ring_detach(&r, 1);
	cr_expect_eq(gm_ring_name_pid("/gmtrace.17.00ff"), 17);
	cr_expect_eq(gm_ring_name_pid("/gmtrace.2147483647.a"), 2147483647u);
	cr_expect_eq(gm_ring_name_pid("/gmtrace.2147483648.a"), 0, "past a pid");
	cr_expect_eq(gm_ring_name_pid("/gmtrace.99999999999999999999.a"), 0);
	cr_expect_eq(gm_ring_name_pid("/gmtrace.0.a"), 0);
	cr_expect_eq(gm_ring_name_pid("/gmtrace.17"), 0, "no random part");
	cr_expect_eq(gm_ring_name_pid("/gmtrace. 17.a"), 0);
	cr_expect_eq(gm_ring_name_pid("/gmtrace.x.a"), 0);
	cr_expect_eq(gm_ring_name_pid("/other.17.a"), 0);
}

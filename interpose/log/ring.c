/* ring.c - create, attach and claim chunks of the shared-memory log */
#define _GNU_SOURCE /* fallocate */
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../support/support.h"
#include "format.h"

static size_t gm_ring_page(void)
{
	long p = sysconf(_SC_PAGESIZE);
	return p > 0 ? (size_t)p : 4096;
}

/* Room a log has to grow (gm_ring_grow): 3 times the chunks it starts
 * with, 1024 chunks at least, and at most 1 GiB of them (the mapping's
 * address space counts under ulimit -v). Without room for that much
 * mapped, it has none. */
#define GM_RING_GROW_FACTOR 3
#define GM_RING_GROW_MIN 1024
#define GM_RING_GROW_BYTES (1ull << 30)

static int gm_ring_map(gm_ring_t *ring, int fd, size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	ring->hdr = (gm_ring_header_t *)p;
	ring->bytes = bytes;
	return 0;
}

/* fallocate of [off, off + len) of fd, again when a signal cut it short:
 * 0 or -errno. */
static int gm_ring_fallocate(int fd, off_t off, off_t len)
{
	int rc;
	while ((rc = fallocate(fd, 0, off, len)) != 0 && errno == EINTR)
		;
	return rc != 0 ? -errno : 0;
}

/* A write to every page of [p, p + len): maps them (their room in the
 * file must be reserved already, or a full /dev/shm is SIGBUS). */
static void gm_ring_touch(unsigned char *p, size_t len)
{
	size_t page = gm_ring_page();
	unsigned char *q = p, *end = p + len;
	if (!len)
		return;
	for (; q < end; q = (unsigned char *)(((uintptr_t)q + page) & ~(uintptr_t)(page - 1)))
		__atomic_fetch_or(q, 0, __ATOMIC_RELAXED);
}

/* Map the pages of [p, p + len) of the game's segment writable now: a page
 * fault on a fresh page while recording costs more than the records in it.
 * With reserved set, their room in the file is reserved already (the
 * segment's start, fallocated): a refused MADV_POPULATE_WRITE (a kernel
 * before 5.14, a sandbox's filter, a start not page aligned) falls back to
 * touching them. Otherwise MADV_POPULATE_WRITE reserves them too, failing
 * (-EFAULT, -ENOMEM) where a store would have been SIGBUS (a full
 * /dev/shm); refused, the room is reserved by the segment's name
 * (fallocate) first. */
static int gm_ring_populate(const gm_ring_t *ring, unsigned char *p, size_t len, int reserved)
{
	int fd, rc;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
	if (madvise(p, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno == EFAULT || errno == ENOMEM)
		return -errno;
	if (!reserved) {
		if ((fd = shm_open(ring->name, O_RDWR | O_CLOEXEC, 0)) < 0)
			return -errno;
		rc = gm_ring_fallocate(fd, (off_t)(p - (unsigned char *)ring->hdr), (off_t)len);
		close(fd);
		if (rc)
			return rc; /* no room, or no way to know: not grown */
	}
	gm_ring_touch(p, len);
	return 0;
}

/* Bytes of a segment with room for max chunks; *meta gets the header's. */
static uint64_t gm_ring_total(uint64_t max, uint32_t chunk_bytes, size_t page, uint64_t *meta)
{
	*meta = sizeof(gm_ring_header_t) + max * sizeof(gm_chunk_t);
	*meta = (*meta + page - 1) / page * page;
	return *meta + max * chunk_bytes;
}

static void gm_ring_point(gm_ring_t *ring)
{
	ring->chunks = (gm_chunk_t *)(ring->hdr + 1);
	ring->payload = (unsigned char *)ring->hdr + ring->hdr->payload_offset;
}

uint32_t gm_ring_name_pid(const char *name)
{
	uint64_t pid = 0;
	const char *p;
	if (strncmp(name, "/gmtrace.", 9) != 0)
		return 0;
	for (p = name + 9; *p >= '0' && *p <= '9' && pid <= INT32_MAX; p++)
		pid = pid * 10 + (uint64_t)(*p - '0');
	return *p == '.' && pid > 0 && pid <= INT32_MAX ? (uint32_t)pid : 0;
}

int gm_ring_create(gm_ring_t *ring, uint32_t pid, uint64_t ring_bytes, uint32_t chunk_bytes)
{
	struct rlimit lim;
	unsigned char rnd[8];
	size_t len = 0, page = gm_ring_page(), i;
	uint64_t nchunks, max, meta, total, used;
	char num[24];
	int fd, rc, tries;

	if (chunk_bytes < 4096 || (chunk_bytes & (GM_REC_UNIT - 1)))
		return -EINVAL;
	nchunks = ring_bytes / chunk_bytes;
	if (nchunks < 4)
		nchunks = 4;
	if (nchunks > 1u << 20)
		return -EINVAL;
	{
		uint64_t room = nchunks * GM_RING_GROW_FACTOR;
		if (room < GM_RING_GROW_MIN)
			room = GM_RING_GROW_MIN;
		if (room > GM_RING_GROW_BYTES / chunk_bytes)
			room = GM_RING_GROW_BYTES / chunk_bytes;
		max = nchunks + room;
		if (max > 1u << 20)
			max = 1u << 20;
	}
	total = gm_ring_total(max, chunk_bytes, page, &meta);
	/* a file-size limit (ulimit -f) holds for the segment too: sizing it
	 * past the limit would kill the process (SIGXFSZ). Less room to grow
	 * then, and fewer chunks, four at least */
	if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
	    total > lim.rlim_cur) {
		while (max > 4 && total > lim.rlim_cur) {
			uint64_t less = (total - lim.rlim_cur) / (chunk_bytes + sizeof(gm_chunk_t));
			max -= less > 1 && less < max - 4 ? less : 1;
			total = gm_ring_total(max, chunk_bytes, page, &meta);
		}
		if (total > lim.rlim_cur)
			return -EFBIG;
		if (nchunks > max)
			nchunks = max;
	}
	used = meta + nchunks * chunk_bytes; /* the part with pages from the start */

	memset(ring, 0, sizeof(*ring));
	for (tries = 0; tries < 8; tries++) {
		if ((rc = gm_support_random(rnd, sizeof(rnd))) != 0)
			return rc;
		len = 0;
		ring->name[0] = 0;
		gm_support_append(ring->name, sizeof(ring->name), &len, "/gmtrace.");
		gm_support_u64(num, pid);
		gm_support_append(ring->name, sizeof(ring->name), &len, num);
		gm_support_append(ring->name, sizeof(ring->name), &len, ".");
		for (i = 0; i < sizeof(rnd); i++) {
			static const char hexd[] = "0123456789abcdef";
			ring->name[len++] = hexd[rnd[i] >> 4];
			ring->name[len++] = hexd[rnd[i] & 15];
		}
		ring->name[len] = 0;
		fd = shm_open(ring->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return -errno;
	gm_support_owner_rw(fd);
	for (;;) {
		if (ftruncate(fd, (off_t)total) != 0) {
			rc = -errno;
			goto err;
		}
		/* the pages of the chunks in use, reserved now: a full /dev/shm
		 * is an error here, not SIGBUS at the first store into a page it
		 * cannot give (a file system without fallocate is left to
		 * chance); the room to grow stays sparse */
		rc = gm_ring_fallocate(fd, 0, (off_t)used);
		if (rc != 0 && rc != -EOPNOTSUPP && rc != -ENOSYS)
			goto err;
		rc = gm_ring_map(ring, fd, total);
		if (rc != -ENOMEM || max == nchunks)
			break;
		/* no address space for the room to grow (ulimit -v): none */
		max = nchunks;
		total = gm_ring_total(max, chunk_bytes, page, &meta);
		used = meta + nchunks * chunk_bytes;
	}
	if (rc != 0)
		goto err;
	close(fd);
	fd = -1;
	(void)gm_ring_populate(ring, (unsigned char *)ring->hdr, used, 1);
	memcpy(ring->hdr->magic, GM_RING_MAGIC, 8);
	ring->hdr->version = 1;
	ring->hdr->pid = pid;
	ring->hdr->chunk_bytes = chunk_bytes;
	ring->hdr->nchunks = (uint32_t)nchunks;
	ring->hdr->max_chunks = (uint32_t)max;
	ring->hdr->payload_offset = meta;
	ring->hdr->segment_bytes = total;
	ring->owner = 1;
	gm_ring_point(ring);
	return 0;
err:
	if (fd >= 0)
		close(fd);
	shm_unlink(ring->name);
	return rc;
}

int gm_ring_grow(gm_ring_t *ring)
{
	gm_ring_header_t *h = ring->hdr;
	uint32_t n = gm_ring_nchunks(ring), max = h->max_chunks, to, i;
	int rc;
	for (i = 0; i < n; i++)
		if (__atomic_load_n(&ring->chunks[i].state, __ATOMIC_ACQUIRE) == gm_chunk_committed)
			return -EAGAIN;
	if (n >= max)
		return -ERANGE;
	to = n + (n / 8 > 16 ? n / 8 : 16);
	if (to > max)
		to = max;
	/* pages first (another producer growing at once reserves the same
	 * ones: harmless), then the count: the new chunks are free (zero) */
	rc = gm_ring_populate(ring, gm_ring_data(ring, (int)n), (size_t)(to - n) * h->chunk_bytes,
	                      0);
	if (rc)
		return rc;
	if (!__atomic_compare_exchange_n(&h->nchunks, &n, to, 0, __ATOMIC_RELEASE,
	                                 __ATOMIC_ACQUIRE))
		return (int)n; /* another producer grew it */
	return (int)to;
}

int gm_ring_attach(gm_ring_t *ring, const char *name)
{
	struct stat st;
	int fd, rc;
	memset(ring, 0, sizeof(*ring));
	gm_support_strlcpy(ring->name, name, sizeof(ring->name));
	fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(gm_ring_header_t)) {
		close(fd);
		return -EINVAL;
	}
	rc = gm_ring_map(ring, fd, (size_t)st.st_size);
	close(fd);
	if (rc)
		return rc;
	/* room for max_chunks (nchunks in logs from before the field), and
	 * nchunks never past it */
	if (memcmp(ring->hdr->magic, GM_RING_MAGIC, 8) != 0 ||
	    ring->hdr->segment_bytes != (uint64_t)st.st_size ||
	    (ring->hdr->max_chunks && gm_ring_nchunks(ring) > ring->hdr->max_chunks) ||
	    ring->hdr->payload_offset + (uint64_t)(ring->hdr->max_chunks ? ring->hdr->max_chunks :
	                                                                   gm_ring_nchunks(ring)) *
	                                        ring->hdr->chunk_bytes >
	            (uint64_t)st.st_size) {
		munmap(ring->hdr, ring->bytes);
		memset(ring, 0, sizeof(*ring));
		return -EINVAL;
	}
	gm_ring_point(ring);
	return 0;
}

void gm_ring_detach(gm_ring_t *ring, int unlink_name)
{
	if (ring->hdr)
		munmap(ring->hdr, ring->bytes);
	if (unlink_name && ring->name[0])
		shm_unlink(ring->name);
	ring->hdr = NULL;
}

int gm_ring_claim(gm_ring_t *ring, uint32_t thread, uint32_t seq, uint64_t tsc_base)
{
	gm_ring_header_t *h = ring->hdr;
	uint32_t n = gm_ring_nchunks(ring), tries;
	for (tries = 0; tries < n; tries++) {
		uint64_t ticket = __atomic_fetch_add(&h->claim, 1, __ATOMIC_RELAXED);
		uint32_t idx = (uint32_t)(ticket % n);
		gm_chunk_t *c = &ring->chunks[idx];
		uint32_t expect = gm_chunk_free;
		if (__atomic_load_n(&c->state, __ATOMIC_RELAXED) != gm_chunk_free)
			continue;
		if (!__atomic_compare_exchange_n(&c->state, &expect, gm_chunk_claiming, 0,
		                                 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		c->thread = thread;
		c->seq = seq;
		c->used = 0;
		c->tsc_base = tsc_base;
		c->drained = 0;
		c->drained_tsc = tsc_base;
		c->late_tid = 0;
		/* owned only once the header is written: a drainer taking the
		 * written prefix of owned chunks reads it (drained_tsc, thread)
		 * before the records, and must never see the last owner's */
		__atomic_store_n(&c->state, gm_chunk_owned, __ATOMIC_RELEASE);
		return (int)idx;
	}
	return -EAGAIN;
}

void gm_ring_commit(gm_ring_t *ring, int idx, uint32_t used)
{
	gm_chunk_t *c = &ring->chunks[idx];
	c->used = used;
	__atomic_store_n(&c->state, gm_chunk_committed, __ATOMIC_RELEASE);
}

void gm_ring_release(gm_ring_t *ring, int idx, uint32_t bytes)
{
	gm_chunk_t *c = &ring->chunks[idx];
	memset(gm_ring_data(ring, idx), 0, bytes);
	c->drained = 0;
	c->aged = 0;
	__atomic_store_n(&c->state, gm_chunk_free, __ATOMIC_RELEASE);
}

int gm_ring_drain_lock(gm_ring_t *ring, uint32_t tid)
{
	uint32_t expect;
	if (gm_ring_drain_trylock(ring, tid))
		return 1;
	/* holder gone (killed drainer)? tids are pids of threads: kill(tid, 0)
	 * tells whether it still exists. */
	expect = __atomic_load_n(&ring->hdr->drain_lock, __ATOMIC_RELAXED);
	if (expect != 0 && kill((pid_t)expect, 0) != 0 && errno == ESRCH) {
		if (__atomic_compare_exchange_n(&ring->hdr->drain_lock, &expect, tid, 0,
		                                __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return 1;
	}
	return 0;
}

void gm_ring_drain_unlock(gm_ring_t *ring)
{
	__atomic_store_n(&ring->hdr->drain_lock, 0, __ATOMIC_RELEASE);
}

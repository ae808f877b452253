/* drain.c - write the shared-memory log's chunks into a capture file */
#define _GNU_SOURCE /* RUSAGE_THREAD, fallocate */
#define ZSTD_STATIC_LINKING_ONLY
#include "drain.h"

#include <errno.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include "../support/support.h"
#include "pack.h"

static void gm_drain_sync_end(gm_drain_t *d);

static void *gm_drain_zalloc(void *opaque, size_t n)
{
	gm_drain_t *d = opaque;
	return d->alloc(n);
}

static void gm_drain_zfree(void *opaque, void *p)
{
	gm_drain_t *d = opaque;
	d->release(p);
}

int gm_drain_init(gm_drain_t *d, gm_ring_t *ring, int fd, uint64_t file_bytes, int compress,
                  void *(*alloc)(size_t), void (*release)(void *))
{
	memset(d, 0, sizeof(*d));
	d->ring = ring;
	d->fd = fd;
	d->file_bytes = file_bytes;
	d->compress = compress;
	d->alloc = alloc;
	d->release = release;
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0) {
			d->dev = (uint64_t)st.st_dev;
			d->ino = (uint64_t)st.st_ino;
		}
	}
	return 0;
}

static int gm_drain_writev_all(gm_drain_t *d, struct iovec *iov, int n);

/* Append the n buffers of iov to the capture, whole or not at all. Under a
 * file-size limit the thread writing (the drainer, or a game thread
 * draining its own chunks) holds SIGXFSZ back meanwhile: past the limit the
 * write fails (EFBIG) and says so once, where the signal would kill the
 * game. The limit is asked at each write: a game may set it while it runs
 * (one system call a block). */
static int gm_drain_writev(gm_drain_t *d, struct iovec *iov, int n)
{
	struct rlimit lim;
	sigset_t xfsz, old;
	int rc, masked = 0;
	if (getrlimit(RLIMIT_FSIZE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
		return gm_drain_writev_all(d, iov, n);
	sigemptyset(&xfsz);
	sigaddset(&xfsz, SIGXFSZ);
	masked = pthread_sigmask(SIG_BLOCK, &xfsz, &old) == 0;
	rc = gm_drain_writev_all(d, iov, n);
	if (rc == -EFBIG && masked) {
		struct timespec now = {0, 0};
		while (sigtimedwait(&xfsz, NULL, &now) == SIGXFSZ)
			; /* the signal the failed write raised: taken, not delivered */
	}
	if (masked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int gm_drain_writev_all(gm_drain_t *d, struct iovec *iov, int n)
{
	size_t total = 0;
	int i;
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	/* disk space reserved ahead, past the file's size: appending then
	 * skips the file system's block allocation (measured here: about 6 %
	 * of the profiler's CPU in the 2-thread bench loop). gm_drain_trim
	 * gives back what is left; a file system that cannot is not asked
	 * again. */
	if (!d->prealloc_off && d->file_bytes + total > d->prealloc_end) {
		if (fallocate(d->fd, FALLOC_FL_KEEP_SIZE, (off_t)d->file_bytes,
		              (off_t)GM_DRAIN_PREALLOC) == 0)
			d->prealloc_end = d->file_bytes + GM_DRAIN_PREALLOC;
		else
			d->prealloc_off = 1;
	}
	while (n > 0) {
		ssize_t w = writev(d->fd, iov, n);
		if (w < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			/* a full disk or a file-size limit in the middle of a
			 * block: the part written goes, so the capture ends with
			 * the blocks before it, whole */
			if (ftruncate(d->fd, (off_t)d->file_bytes) == 0)
				(void)lseek(d->fd, (off_t)d->file_bytes, SEEK_SET);
			if (!d->error)
				d->error = -e;
			return -e;
		}
		while (n > 0 && (size_t)w >= iov[0].iov_len) {
			w -= (ssize_t)iov[0].iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov[0].iov_base = (char *)iov[0].iov_base + w;
			iov[0].iov_len -= (size_t)w;
		}
	}
	d->file_bytes += total;
	return 0;
}

int gm_drain_header(gm_drain_t *d, uint32_t pid, const char *shm_name)
{
	gm_file_header_t h;
	struct iovec iov;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, GM_FORMAT_MAGIC, 8);
	h.version_major = GM_FORMAT_VERSION_MAJOR;
	h.version_minor = GM_FORMAT_VERSION_MINOR;
	h.header_bytes = sizeof(h);
	h.pid = pid;
	h.chunk_bytes = d->ring && d->ring->hdr ? d->ring->hdr->chunk_bytes : 0;
	h.created_ns = gm_support_real_ns();
	gm_support_strlcpy(h.shm_name, shm_name, sizeof(h.shm_name));
	iov.iov_base = &h;
	iov.iov_len = sizeof(h);
	return gm_drain_writev(d, &iov, 1);
}

int gm_drain_clock(gm_drain_t *d)
{
	gm_block_t b;
	uint64_t sample[2];
	struct iovec iov[2];
	/* read the two clocks back to back; the TSC between two monotonic
	 * reads would be tighter, but one pair per pass is plenty for a fit */
	gm_drain_sync_end(d);
	if (d->error)
		return d->error;
	sample[1] = gm_support_mono_ns();
	sample[0] = gm_support_tsc();
	memset(&b, 0, sizeof(b));
	b.magic = GM_BLOCK_MAGIC;
	b.kind = gm_block_clock;
	b.raw_bytes = b.stored_bytes = sizeof(sample);
	b.check = gm_format_check(sample, sizeof(sample));
	gm_format_seal(&b);
	iov[0].iov_base = &b;
	iov[0].iov_len = sizeof(b);
	iov[1].iov_base = sample;
	iov[1].iov_len = sizeof(sample);
	return gm_drain_writev(d, iov, 2);
}

/* Walk records of data[from, limit) as far as they are whole and written;
 * returns the end offset and the full TSC of the last record in *tsc. A
 * first word of type 0 ends them as an unwritten one does: no record has
 * it (a dying game's stray store), and a block holding it would be refused
 * whole by every reader (the packer stops there too). */
static uint32_t gm_drain_walk(const unsigned char *data, uint32_t from, uint32_t limit,
                              uint64_t *tsc)
{
	uint32_t off = from;
	uint64_t t = *tsc;
	while (off + GM_REC_UNIT <= limit) {
		const uint64_t *p = (const uint64_t *)(data + off);
		uint64_t w0 = __atomic_load_n(&p[0], __ATOMIC_ACQUIRE);
		unsigned units;
		if (gm_rec_type(w0) == 0)
			break;
		units = gm_rec_units(w0);
		if (off + units * GM_REC_UNIT > limit)
			break;
		if (gm_rec_type(w0) == gm_rec_time)
			t = p[2];
		else
			t = gm_rec_tsc_rebuild(t, gm_rec_tick(p[1]));
		off += units * GM_REC_UNIT;
	}
	*tsc = t;
	return off;
}

/* The tick (low TSC bits) of the record at p (a time record carries its
 * TSC whole in its extra unit). */
static uint64_t gm_drain_tick_of(const uint64_t *p)
{
	uint64_t tsc = gm_rec_type(p[0]) == gm_rec_time ? p[2] : (p[1] >> 40);
	return tsc & GM_REC_TICK_MASK;
}

/* Whether data[off, limit) holds records as a writer writes them, up to
 * limit or a first word of nothing: types it writes, whole, each at most
 * half the tick range after the one before (tick: the record before off). */
static int gm_drain_chain(const unsigned char *data, uint32_t off, uint32_t limit, uint64_t tick)
{
	int n = 0;
	while (off + GM_REC_UNIT <= limit) {
		const uint64_t *p = (const uint64_t *)(const void *)(data + off);
		unsigned type = gm_rec_type(p[0]);
		if (type == 0)
			break;
		if (type >= gm_rec_count || off + gm_rec_units(p[0]) * GM_REC_UNIT > limit ||
		    ((gm_drain_tick_of(p) - tick) & GM_REC_TICK_MASK) >= GM_REC_TICK_HALF)
			return 0;
		tick = gm_drain_tick_of(p);
		off += gm_rec_units(p[0]) * GM_REC_UNIT;
		n++;
	}
	return n > 0;
}

uint32_t gm_drain_mend(unsigned char *data, uint32_t from, uint32_t limit, uint64_t tsc)
{
	uint32_t off = from, mended = 0;
	uint64_t tick = tsc & GM_REC_TICK_MASK; /* the record before off's */
	while (off + GM_REC_UNIT <= limit) {
		uint64_t *p = (uint64_t *)(void *)(data + off);
		unsigned units = 0, k;
		if (gm_rec_type(p[0]) != 0) {
			units = gm_rec_units(p[0]);
			if (off + units * GM_REC_UNIT > limit)
				break;
			tick = gm_drain_tick_of(p);
			off += units * GM_REC_UNIT;
			continue;
		}
		/* an allocation's slot is one unit, a realloc's or a failure's
		 * two, whose second (written first) holds a pointer or a size
		 * and an alignment or 0: the records after the slot start after
		 * one or the other. One unit when a record a writer writes
		 * starts there (never a pointer: no type below bit 48; a size
		 * with bits there has the alignment, a tick of 0, after it),
		 * else two when one starts after them */
		for (k = 1; k <= 2 && !units; k++)
			if (off + (k + 1) * GM_REC_UNIT <= limit &&
			    (k == 2 || gm_rec_type(p[2]) == gm_rec_time ||
			     gm_rec_tick(p[3]) != 0) &&
			    gm_drain_chain(data, off + k * GM_REC_UNIT, limit, tick))
				units = k;
		if (!units)
			break;
		/* timed as the record before it (as the one after it, an
		 * allocation after it would read as a burst's, reusing a time) */
		p[1] = tick << 40;
		__atomic_store_n(&p[0], gm_rec_w0(1, gm_rec_lost, 0), __ATOMIC_RELEASE);
		if (units == 2) {
			p[3] = p[1];
			__atomic_store_n(&p[2], gm_rec_w0(0, gm_rec_lost, 0), __ATOMIC_RELEASE);
		}
		mended++;
		off += units * GM_REC_UNIT;
	}
	return mended;
}

int gm_drain_prepare(gm_drain_t *d, uint32_t max_block)
{
	size_t need = ZSTD_compressBound(gm_pack_bound(max_block));
	if (!d->alloc)
		return 0;
	if (d->pcap < gm_pack_bound(max_block)) {
		if (d->pbuf)
			d->release(d->pbuf);
		d->pbuf = d->alloc(gm_pack_bound(max_block));
		d->pcap = d->pbuf ? gm_pack_bound(max_block) : 0;
		if (!d->pbuf)
			return -ENOMEM;
	}
	if (!d->compress)
		return 0;
	if (!d->cctx) {
		ZSTD_customMem mem = {gm_drain_zalloc, gm_drain_zfree, d};
		d->cctx = ZSTD_createCCtx_advanced(mem);
		if (!d->cctx)
			return -ENOMEM;
		ZSTD_CCtx_setParameter(d->cctx, ZSTD_c_compressionLevel, 1);
	}
	if (d->zcap < need) {
		if (d->zbuf)
			d->release(d->zbuf);
		d->zbuf = d->alloc(need);
		d->zcap = d->zbuf ? need : 0;
		if (!d->zbuf)
			return -ENOMEM;
	}
	/* one throw-away compression of a whole block: zstd sizes its tables
	 * on first use, for the size it is given */
	{
		unsigned char *probe = d->alloc(max_block);
		if (probe) {
			memset(probe, 0, max_block);
			ZSTD_compress2(d->cctx, d->zbuf, d->zcap, probe, max_block);
			d->release(probe);
		}
	}
	return 0;
}

/* Write data[from, *to) of chunk c as one block. When packing stops early
 * at an unwritten slot, *to moves back to it (nothing is written when it
 * was the first). */
static int gm_drain_block(gm_drain_t *d, const gm_chunk_t *c, const unsigned char *data,
                          uint32_t from, uint32_t *top, uint64_t tsc_base, int compress)
{
	gm_block_t b;
	struct iovec iov[2];
	uint32_t to = *top;
	const void *payload = data + from;
	size_t stored = to - from;
	memset(&b, 0, sizeof(b));
	b.magic = GM_BLOCK_MAGIC;
	b.kind = gm_block_raw;
	b.thread = c->thread;
	b.seq = c->seq;
	b.offset = from;
	b.raw_bytes = to - from;
	b.tsc_base = tsc_base;
	/* packed first (cheap), then zstd over the packed records when the
	 * drainer has time; whichever is smallest is stored */
	if (d->alloc &&
	    (d->pcap >= gm_pack_bound(to - from) || gm_drain_prepare(d, to - from) == 0) &&
	    d->pcap >= gm_pack_bound(to - from)) {
		size_t used, packed = gm_pack_records(data + from, to - from, d->pbuf, &used);
		if (used < to - from) {
			to = *top = from + (uint32_t)used;
			b.raw_bytes = (uint32_t)used;
			stored = used;
			if (!used)
				return 0;
		}
		if (packed < stored) {
			payload = d->pbuf;
			stored = packed;
			b.kind = gm_block_packed2;
		}
		if (compress && (d->cctx || gm_drain_prepare(d, to - from) == 0) && d->cctx &&
		    d->zcap >= ZSTD_compressBound(packed)) {
			size_t z = ZSTD_compress2(d->cctx, d->zbuf, d->zcap, d->pbuf, packed);
			if (!ZSTD_isError(z) && z < stored) {
				payload = d->zbuf;
				stored = z;
				b.kind = gm_block_packed2_zstd;
			}
		}
	}
	b.stored_bytes = (uint32_t)stored;
	b.check = gm_format_check(payload, stored);
	gm_format_seal(&b);
	iov[0].iov_base = &b;
	iov[0].iov_len = sizeof(b);
	iov[1].iov_base = (void *)payload;
	iov[1].iov_len = stored;
	if (gm_drain_writev(d, iov, 2) != 0)
		return d->error;
	d->raw_bytes += to - from;
	d->stored_bytes += stored;
	d->blocks++;
	return 0;
}

/* The capture still starts with its magic (once the header is written). */
static int gm_drain_header_there(gm_drain_t *d)
{
	char magic[8];
	if (d->file_bytes < sizeof(gm_file_header_t))
		return 1;
	return pread(d->fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	       memcmp(magic, GM_FORMAT_MAGIC, sizeof(magic)) == 0;
}

/* Another drainer may have appended to the capture since we last wrote
 * (the game's own drainer, `gmtrace run`, a takeover after one of them
 * died), possibly leaving half a block: continue after the last whole
 * block, never over it. One fstat and one read of the magic per pass;
 * the walk only on change. */
static void gm_drain_sync_end(gm_drain_t *d)
{
	struct stat st;
	int64_t end;
	if (d->fd < 0)
		return;
	if (fstat(d->fd, &st) != 0 ||
	    (d->ino && ((uint64_t)st.st_ino != d->ino || (uint64_t)st.st_dev != d->dev))) {
		/* closed, or now another file: stop writing for good */
		if (!d->error)
			d->error = -EBADF;
		return;
	}
	if ((uint64_t)st.st_size < d->file_bytes || !gm_drain_header_there(d)) {
		/* drainers only append (or cut half a block after our end): the
		 * file was cut by another program, what we wrote is gone, and
		 * what came after would make a capture that reads as whole with
		 * records missing: stop writing for good. (A cut to less than
		 * our end can be written over before the size shows it: the
		 * capture's start then is a hole, no longer its magic) */
		if (!d->error)
			d->error = -ESTALE;
		return;
	}
	if ((uint64_t)st.st_size == d->file_bytes)
		return;
	/* drainers append whole blocks after the valid end, ours included:
	 * only what came after our end needs a look (a walk from the start
	 * each time would make drainers taking turns quadratic) */
	end = gm_drain_valid_end_from(
	        d->fd, (uint64_t)st.st_size > d->file_bytes ? (int64_t)d->file_bytes : 0);
	/* no valid end to go to (the file is no longer a capture, a read or
	 * the cut failed): at least never write over what others appended */
	if (end <= 0 || (end != st.st_size && ftruncate(d->fd, end) != 0))
		end = st.st_size;
	if (lseek(d->fd, end, SEEK_SET) == end)
		d->file_bytes = (uint64_t)end;
}

/* CPU time of process pid from /proc/pid/stat (utime + stime), in ns, or
 * UINT64_MAX. */
static uint64_t gm_drain_proc_cpu_ns(int pid)
{
	char path[64], buf[1024];
	const char *p;
	uint64_t v[2] = {0, 0};
	long hz = sysconf(_SC_CLK_TCK), n;
	int field;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (hz <= 0 || (n = gm_support_read_file(path, buf, sizeof(buf) - 1)) <= 0)
		return UINT64_MAX;
	buf[n] = 0;
	/* "pid (comm) state ppid ...": the name may hold anything, so count
	 * fields from its last ')'; utime and stime are the 12th and 13th */
	p = strrchr(buf, ')');
	if (!p)
		return UINT64_MAX;
	for (field = 0; field < 13; field++) {
		if (*++p != ' ')
			return UINT64_MAX;
		p++;
		if (field >= 11) {
			if (*p < '0' || *p > '9')
				return UINT64_MAX;
			for (; *p >= '0' && *p <= '9'; p++)
				v[field - 11] = v[field - 11] * 10 + (uint64_t)(*p - '0');
			p--;
		} else {
			while (p[1] && p[1] != ' ')
				p++;
		}
	}
	return (v[0] + v[1]) * (1000000000ull / (uint64_t)hz);
}

static uint64_t gm_drain_rusage_ns(const struct rusage *r)
{
	return (uint64_t)r->ru_utime.tv_sec * 1000000000ull +
	       (uint64_t)r->ru_utime.tv_usec * 1000ull +
	       (uint64_t)r->ru_stime.tv_sec * 1000000000ull +
	       (uint64_t)r->ru_stime.tv_usec * 1000ull;
}

int gm_drain_game_look(int pid, gm_drain_game_t *g)
{
	cpu_set_t cpus;
	memset(g, 0, sizeof(*g));
	if (sched_getaffinity(pid, sizeof(cpus), &cpus) != 0 || CPU_COUNT(&cpus) < 1)
		return -1;
	g->ncpu = (unsigned)CPU_COUNT(&cpus);
	if (pid == 0) {
		struct rusage all, self;
		/* the thread's own counts first: read after them, the process's
		 * (which include them) can only be as large or larger, even when
		 * the thread is preempted between the two calls */
		if (getrusage(RUSAGE_THREAD, &self) != 0 || getrusage(RUSAGE_SELF, &all) != 0)
			return -1;
		g->preempts = all.ru_nivcsw > self.ru_nivcsw ?
		                      (uint64_t)(all.ru_nivcsw - self.ru_nivcsw) :
		                      0;
		g->cpu_ns = gm_drain_rusage_ns(&all);
		return 0;
	} else {
		char path[96], buf[4096]; /* a status file: about 1.5 KiB */
		struct rusage self;
		struct dirent *e;
		DIR *dir;
		int found = 0;
		g->cpu_ns = gm_drain_proc_cpu_ns(pid);
		if (g->cpu_ns == UINT64_MAX || getrusage(RUSAGE_THREAD, &self) != 0)
			return -1;
		g->cpu_ns += gm_drain_rusage_ns(&self);
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		dir = opendir(path);
		if (!dir)
			return -1;
		while ((e = readdir(dir)) != NULL) {
			const char *p;
			long n;
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%.20s/status", pid, e->d_name);
			if ((n = gm_support_read_file(path, buf, sizeof(buf) - 1)) <= 0)
				continue; /* the thread ended meanwhile */
			buf[n] = 0;
			p = strstr(buf, "nonvoluntary_ctxt_switches:");
			if (!p)
				continue;
			g->preempts += strtoull(p + 27, NULL, 10);
			found = 1;
		}
		closedir(dir);
		return found ? 0 : -1;
	}
}

void gm_drain_set_nice(int tid, uint64_t nice)
{
	if (nice)
		setpriority(PRIO_PROCESS, (id_t)tid, nice > 19 ? 19 : (int)nice);
}

void gm_drain_watch_cpu(gm_drain_t *d, int pid)
{
	gm_drain_game_t g;
	d->cpu_pid = pid;
	d->cpu_watch = gm_drain_game_look(pid, &g) == 0;
	d->cpu_wall0 = 0;
	__atomic_store_n(&d->cpu_scarce, 0, __ATOMIC_RELAXED);
}

int gm_drain_cpu_verdict(uint64_t preempts, uint64_t wakeups, uint64_t cpu_ns, uint64_t wall_ns,
                         unsigned ncpu)
{
	/* preempted at half the wake-ups or more (rounded up), and the game
	 * with its drainer ran on more than ncpu - 0.9 CPUs */
	return preempts >= 3 && preempts >= wakeups - wakeups / 2 && ncpu >= 1 &&
	       (unsigned __int128)cpu_ns * 10 > (unsigned __int128)wall_ns * (10u * ncpu - 9u);
}

/* One look at the CPU watch (see gm_drain_watch_cpu). */
static void gm_drain_cpu_look(gm_drain_t *d)
{
	gm_drain_game_t g;
	uint64_t wall;
	if (!d->cpu_watch)
		return;
	wall = gm_support_mono_ns();
	if (d->cpu_wall0 && wall - d->cpu_wall0 < GM_DRAIN_WINDOW_NS)
		return;
	if (gm_drain_game_look(d->cpu_pid, &g) != 0) {
		d->cpu_watch = 0;
		__atomic_store_n(&d->cpu_scarce, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&d->ring->hdr->help_now, 0, __ATOMIC_RELAXED);
		return;
	}
	/* counts that went backwards (threads of `gmtrace run`'s game ended,
	 * taking theirs along) say nothing */
	if (d->cpu_wall0 && g.preempts >= d->cpu_preempts0 && g.cpu_ns >= d->cpu_game0) {
		int scarce = gm_drain_cpu_verdict(
		        g.preempts - d->cpu_preempts0, d->wakeups - d->cpu_wakeups0,
		        g.cpu_ns - d->cpu_game0, wall - d->cpu_wall0, g.ncpu);
		__atomic_store_n(&d->cpu_scarce, scarce, __ATOMIC_RELAXED);
		/* for the game's threads when this drainer is `gmtrace run` */
		__atomic_store_n(&d->ring->hdr->help_now, (uint32_t)scarce, __ATOMIC_RELAXED);
	}
	d->cpu_wall0 = wall;
	d->cpu_preempts0 = g.preempts;
	d->cpu_game0 = g.cpu_ns;
	d->cpu_wakeups0 = d->wakeups;
}

/* A pass; only >= 0 drains that thread's committed chunks alone (a
 * producer's pass: no look at the watch, no zstd). */
static long gm_drain_run(gm_drain_t *d, int partial, int only)
{
	gm_ring_t *ring = d->ring;
	uint32_t n = gm_ring_nchunks(ring), cb = ring->hdr->chunk_bytes, i, backlog = 0;
	long total = 0;
	int compress, leave = 0;
	if (d->error)
		return d->error;
	gm_drain_sync_end(d);
	if (d->error)
		return d->error;
	if (only < 0) {
		/* the backlog decides the drainer's own pass; a producer's takes
		 * its chunks whatever it is */
		for (i = 0; i < n; i++)
			backlog += __atomic_load_n(&ring->chunks[i].state, __ATOMIC_RELAXED) ==
			           gm_chunk_committed;
		d->wakeups++;
		gm_drain_cpu_look(d);
		/* producers drain their own chunks while no core is free: this
		 * pass takes only what waited since the last one (a thread that
		 * stopped writing commits no more) unless a backlog builds up */
		leave = gm_drain_helping(d) && !partial && backlog < n / 4;
	}
	/* compress only while the log is mostly free: a backlog means the
	 * game produces faster than we compress, and waiting would stall it */
	compress = only < 0 && d->compress && backlog <= n / 2 && !d->cpu_scarce;
	for (i = 0; i < n; i++) {
		gm_chunk_t *c = &ring->chunks[i];
		uint32_t st = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
		unsigned char *data = gm_ring_data(ring, (int)i);
		uint32_t limit, end;
		uint64_t tsc;
		if (only >= 0 && (st != gm_chunk_committed || c->thread != (uint32_t)only))
			continue;
		if ((st == gm_chunk_committed || st == gm_chunk_owned) &&
		    c->thread >= GM_FORMAT_MAX_THREADS) {
			/* no thread has that index: the log was written over (a
			 * dying game's stray stores); a block naming it would stop
			 * every reader of the capture there */
			if (c->drained != UINT32_MAX) {
				d->damaged_chunks++;
				c->drained = UINT32_MAX; /* counted once */
			}
			if (st == gm_chunk_committed)
				gm_ring_release(ring, (int)i, cb);
			continue;
		}
		if (only < 0 && st == gm_chunk_owned &&
		    __atomic_load_n(&c->late_tid, __ATOMIC_ACQUIRE) != 0 &&
		    gm_support_pid_gone((int)c->late_tid)) {
			/* written after its owner's exit destructor, by a thread
			 * now gone: nobody else will commit it (record/thread.c) */
			uint64_t t2 = c->drained_tsc;
			gm_ring_commit(ring, (int)i, gm_drain_walk(data, c->drained, cb, &t2));
			st = gm_chunk_committed;
		}
		if (leave && st == gm_chunk_committed && !c->aged) {
			c->aged = 1;
			continue;
		}
		if (st == gm_chunk_committed) {
			limit = c->used <= cb ? c->used : cb;
		} else if (st == gm_chunk_owned && partial) {
			limit = cb;
		} else {
			continue;
		}
		if (d->mend && c->drained < limit)
			gm_drain_mend(data, c->drained, limit, c->drained_tsc);
		if (c->drained < limit) {
			tsc = c->drained_tsc;
			/* a committed chunk is handed back below, so its last TSC
			 * is never needed, and packing stops at an unwritten slot
			 * as the walk would: only a chunk still being written (or
			 * one with no packing buffer) is walked first */
			end = st == gm_chunk_committed && d->pcap >= gm_pack_bound(limit) ?
			              limit :
			              gm_drain_walk(data, c->drained, limit, &tsc);
			if (end > c->drained) {
				/* in the game only a whole chunk is compressed; a prefix
				 * of one still being written, and what follows it once
				 * committed, are packed: zstd, given blocks far smaller
				 * than the chunk it was sized for, resizes its tables
				 * (allocations, which the game's threads never wait on,
				 * but counted as ours). `gmtrace run` compresses them:
				 * its captures need no compaction at the end */
				if (gm_drain_block(d, c, data, c->drained, &end, c->drained_tsc,
				                   compress && (d->compress_parts ||
				                                (st == gm_chunk_committed &&
				                                 c->drained == 0))) != 0)
					return d->error;
				total += end - c->drained;
				c->drained_tsc = tsc;
				__atomic_store_n(&c->drained, end, __ATOMIC_RELEASE);
			}
		}
		if (st == gm_chunk_committed)
			gm_ring_release(ring, (int)i, limit);
	}
	return total;
}

void gm_drain_trim(gm_drain_t *d)
{
	struct stat st;
	if (d->fd < 0 || d->error)
		return;
	/* only at the file's end (truncating to the size it has frees what
	 * lies past it, and nothing else) */
	if (fstat(d->fd, &st) != 0 ||
	    (d->ino && ((uint64_t)st.st_ino != d->ino || (uint64_t)st.st_dev != d->dev)))
		return; /* closed, or now another file: not ours to touch */
	if ((uint64_t)st.st_size == d->file_bytes && ftruncate(d->fd, st.st_size) == 0)
		d->prealloc_end = 0;
}

long gm_drain_pass(gm_drain_t *d, int partial)
{
	return gm_drain_run(d, partial, -1);
}

long gm_drain_help(gm_drain_t *d, uint32_t thread)
{
	return gm_drain_run(d, 0, (int)thread);
}

void gm_drain_free(gm_drain_t *d)
{
	if (d->cctx)
		ZSTD_freeCCtx(d->cctx);
	if (d->zbuf)
		d->release(d->zbuf);
	if (d->pbuf)
		d->release(d->pbuf);
	d->cctx = NULL;
	d->zbuf = NULL;
	d->zcap = 0;
	d->pbuf = NULL;
	d->pcap = 0;
}

int64_t gm_drain_valid_end(int fd)
{
	return gm_drain_valid_end_from(fd, 0);
}

int64_t gm_drain_valid_end_from(int fd, int64_t from)
{
	gm_file_header_t h;
	struct stat st;
	ssize_t got;
	int64_t off;
	if (fstat(fd, &st) != 0)
		return -errno;
	got = pread(fd, &h, sizeof(h), 0);
	if (got < 0)
		return -errno;
	if (got != (ssize_t)sizeof(h) || memcmp(h.magic, GM_FORMAT_MAGIC, 8) != 0 ||
	    h.header_bytes < sizeof(h))
		return -EINVAL;
	off = from > (int64_t)h.header_bytes ? from : (int64_t)h.header_bytes;
	for (;;) {
		gm_block_t b;
		got = pread(fd, &b, sizeof(b), off);
		if (got < 0)
			return -errno; /* unreadable is not an end to cut at */
		if (got != (ssize_t)sizeof(b))
			break;
		if (b.magic != GM_BLOCK_MAGIC ||
		    off + (int64_t)sizeof(b) + (int64_t)b.stored_bytes > (int64_t)st.st_size)
			break;
		off += (int64_t)sizeof(b) + b.stored_bytes;
	}
	return off;
}

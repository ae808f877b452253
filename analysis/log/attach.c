/* attach.c - drain a game's shared-memory log from another process */
#define _GNU_SOURCE
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../interpose/support/support.h"

int gm_attach_open(gm_attach_t *a, const char *shm_name, const char *capture, char *err,
                   size_t errlen)
{
	int64_t end;
	int rc;
	memset(a, 0, sizeof(*a));
	a->fd = -1;
	rc = gm_ring_attach(&a->ring, shm_name);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", shm_name,
		         rc == -ENOENT ? "no such log (already complete, or recovered)" :
		         rc == -EINVAL ? "not a gmtrace log" :
		                         strerror(-rc));
		return rc;
	}
	a->pid = a->ring.hdr->pid;
	__atomic_store_n(&a->ring.hdr->drainer_pid, (uint32_t)getpid(), __ATOMIC_RELEASE);
	gm_support_strlcpy(a->capture, capture ? capture : a->ring.hdr->capture_path,
	                   sizeof(a->capture));
	a->fd = open(a->capture, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (a->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", a->capture, strerror(errno));
		goto err;
	}
	{
		struct stat st;
		if (fstat(a->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			rc = -EINVAL;
			snprintf(err, errlen, "%s: not a regular file", a->capture);
			goto err;
		}
		/* writes to it wait for the disk as usual */
		fcntl(a->fd, F_SETFL, fcntl(a->fd, F_GETFL) & ~O_NONBLOCK);
	}
	end = gm_drain_valid_end(a->fd);
	if (end < 0) {
		rc = (int)end;
		snprintf(err, errlen, "%s: not a gmtrace capture", a->capture);
		goto err;
	}
	/* no truncation yet: a drainer in the game may still be writing;
	 * gm_attach_reposition runs once we hold the drain lock */
	gm_drain_init(&a->drain, &a->ring, a->fd, (uint64_t)end, !a->ring.hdr->no_compress, malloc,
	              free);
	a->drain.compress_parts = 1;
	gm_drain_watch_cpu(&a->drain, (int)a->ring.hdr->pid);
	/* the game's DRAIN_HELP: while the watch finds no core free, its
	 * threads drain their own chunks and our passes leave them those */
	a->drain.help = (int)(a->ring.hdr->help_mode <= 2 ? a->ring.hdr->help_mode : 0);
	return 0;
err:
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	gm_ring_detach(&a->ring, 0);
	return rc;
}

/* A drainer inside the game may have appended since we last wrote
 * (internal drain, a takeover, a drainer killed mid-block): continue after
 * the last whole block, never over it. Called with the drain lock held. */
static void gm_attach_reposition(gm_attach_t *a)
{
	int64_t end = gm_drain_valid_end(a->fd);
	if (end > 0 && (uint64_t)end != a->drain.file_bytes && ftruncate(a->fd, end) != 0)
		end = -1;
	/* no valid end to go to: at least never write over what is there */
	end = end > 0 ? lseek(a->fd, end, SEEK_SET) : lseek(a->fd, 0, SEEK_END);
	if (end >= 0)
		a->drain.file_bytes = (uint64_t)end;
	a->positioned = 1;
}

void gm_attach_beat(gm_attach_t *a)
{
	if (a->ring.hdr && !a->done)
		__atomic_store_n(&a->ring.hdr->drain_beat_ns, gm_support_mono_ns(),
		                 __ATOMIC_RELAXED);
}

void gm_attach_quit(gm_attach_t *a)
{
	if (!a->ring.hdr)
		return;
	__atomic_store_n(&a->ring.hdr->drainer_errno,
	                 a->drain.error < 0 ? (uint32_t)-a->drain.error : 0u, __ATOMIC_RELEASE);
	__atomic_store_n(&a->ring.hdr->drain_beat_ns, 0, __ATOMIC_RELEASE);
}

long gm_attach_pass(gm_attach_t *a, int partial)
{
	uint64_t now = gm_support_mono_ns();
	long got;
	/* the beat says this drainer is alive, whoever holds the lock: the
	 * game's threads draining their own chunks may hold it at every look;
	 * and closing another game's capture may just have taken seconds */
	gm_attach_beat(a);
	if (!gm_ring_drain_lock(&a->ring, (uint32_t)getpid()))
		return 0; /* another drainer is at work */
	if (!a->positioned)
		gm_attach_reposition(a);
	got = gm_drain_pass(&a->drain, partial);
	if (now - a->last_clock_ns > 200000000ull) {
		gm_drain_clock(&a->drain);
		a->last_clock_ns = now;
	}
	/* and again after the pass, which may have taken long (a full log,
	 * the disk): the game must not take a live drainer for a gone one */
	gm_attach_beat(a);
	gm_ring_drain_unlock(&a->ring);
	return got;
}

int gm_attach_ended(const gm_attach_t *a)
{
	if (__atomic_load_n(&a->ring.hdr->finished, __ATOMIC_ACQUIRE))
		return 1;
	return gm_support_pid_gone((int)a->pid);
}

int gm_attach_close(gm_attach_t *a)
{
	int rc;
	if (a->done)
		return 0;
	/* the lock may be held by a drainer thread that died with its process */
	/* wait for a drainer at work (at most 5 s: one stuck in write(2) must
	 * not hold the capture hostage); a dead holder's lock is broken */
	for (int i = 0; !gm_ring_drain_lock(&a->ring, (uint32_t)getpid()); i++) {
		if (i == 5000) {
			__atomic_store_n(&a->ring.hdr->drain_lock, (uint32_t)getpid(),
			                 __ATOMIC_RELEASE);
			break;
		}
		usleep(1000);
	}
	gm_attach_reposition(a);
	/* a process gone writes no more: a slot claimed and never written
	 * (its writer interrupted by a handler that ended the process) must
	 * not end its thread's records there */
	a->drain.mend = gm_support_pid_gone((int)a->pid);
	gm_drain_pass(&a->drain, 1);
	gm_drain_clock(&a->drain);
	gm_drain_trim(&a->drain);
	gm_attach_beat(a);
	gm_ring_drain_unlock(&a->ring);
	rc = a->drain.error;
	gm_drain_free(&a->drain);
	close(a->fd);
	a->fd = -1;
	gm_ring_detach(&a->ring, rc == 0 && !a->keep);
	a->done = 1;
	return rc;
}

int gm_attach_say_damaged(const gm_attach_t *a, const char *who)
{
	uint64_t n = a->drain.damaged_chunks;
	if (!n)
		return 0;
	fprintf(stderr,
	        "%s: %s: %llu chunk%s of the log left out: their owner is no thread index the "
	        "format allows (the log written over, or more threads than the format's %u)\n",
	        who, a->capture, (unsigned long long)n, n == 1 ? "" : "s", GM_FORMAT_MAX_THREADS);
	return 1;
}

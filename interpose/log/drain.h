/* drain.h - copy committed records from the shared-memory log to a capture
 *
 * Used in three places with the same code: the drainer thread inside the
 * game, `gmtrace run` draining from outside, and `gmtrace recover` after a
 * crash. Only one drainer works on a log at a time (gm_ring_drain_lock).
 *
 * Each pass writes every committed chunk (and, when asked, the written
 * prefix of chunks still owned by their threads) as blocks: packed
 * (log/pack.h, form 2) and then zstd-compressed while the log has room and
 * a core is free (gm_drain_watch_cpu), packed only when a backlog builds
 * up or the cores are taken, so that a drainer never stalls or slows the
 * game to compress (`gmtrace run` compresses those afterwards).
 */
#ifndef GM_DRAIN_H
#define GM_DRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "ring.h"

typedef struct gm_drain {
	gm_ring_t *ring;
	int fd;
	int compress;        /* 1: zstd when there is no backlog */
	void *cctx;          /* ZSTD_CCtx, made on first use */
	unsigned char *zbuf; /* compression output */
	size_t zcap;
	unsigned char *pbuf; /* packed records (log/pack.h) */
	size_t pcap;
	uint64_t file_bytes;   /* bytes in the capture so far */
	uint64_t raw_bytes;    /* record bytes drained */
	uint64_t stored_bytes; /* payload bytes written */
	uint64_t blocks;
	int error;         /* first write error (negative errno), sticky */
	uint64_t dev, ino; /* the capture's identity: a game that closed our
	                          descriptor and reopened the number for a file
	                          of its own must never get our blocks */
	/* CPU watch (gm_drain_watch_cpu): zstd only while a core is free */
	int cpu_watch;
	int cpu_scarce; /* 1: the last window left no core for zstd */
	uint64_t cpu_wall0, cpu_delay0;
	void *(*alloc)(size_t);  /* memory for zbuf/cctx: the private arena in */
	void (*release)(void *); /* the game, malloc in the CLI */
} gm_drain_t;

/* Prepare d to drain ring into fd, which is positioned at its end and has
 * file_bytes bytes. alloc/release provide the drainer's own memory.
 * Returns 0 (cannot fail; compression buffers are made lazily). */
int gm_drain_init(gm_drain_t *d, gm_ring_t *ring, int fd, uint64_t file_bytes, int compress,
                  void *(*alloc)(size_t), void (*release)(void *));

/* Compress only while a core is free. Every 100 ms or more a pass reads
 * how long the draining thread waited to run (the kernel's run delay,
 * /proc/thread-self/schedstat): when it waited more than 2% of the
 * window, every core was taken, by the game's threads most of all, and
 * zstd is skipped (blocks are still packed) until a window shows a free
 * core again: compressing then would take its time from the game's own
 * threads. Without schedstat the watch stays off and zstd follows the
 * backlog alone. */
void gm_drain_watch_cpu(gm_drain_t *d);

/* DRAIN_NICE: give the drainer, thread tid (0: the calling process), the
 * nice value nice (0-19; larger is 19; 0 leaves it as it is). */
void gm_drain_set_nice(int tid, uint64_t nice);

/* Make the compression state now (blocks up to max_block bytes) rather
 * than on the first block, so a game's recording allocates nothing after
 * start-up. Returns 0 or -ENOMEM (blocks are then stored raw). */
int gm_drain_prepare(gm_drain_t *d, uint32_t max_block);

/* Write a capture file header for pid/shm_name at the start of fd. Returns
 * 0 or a negative errno. */
int gm_drain_header(gm_drain_t *d, uint32_t pid, const char *shm_name);

/* One pass over the log. partial=1 also drains the written prefix of chunks
 * still owned by threads (final flush, recovery, live views). Returns the
 * record bytes drained (>= 0) or a negative errno (write failed; the chunk
 * stays in the log). The caller holds the drain lock. */
long gm_drain_pass(gm_drain_t *d, int partial);

/* Append a clock sample block (TSC, monotonic ns taken together). */
int gm_drain_clock(gm_drain_t *d);

/* Release compression state (not the fd). */
void gm_drain_free(gm_drain_t *d);

/* Offset just past the last whole, valid block of the capture in fd, so a
 * recovery can truncate a half-written tail; returns it, or a negative
 * errno when the file is not a capture. */
int64_t gm_drain_valid_end(int fd);

#endif

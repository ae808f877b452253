/* ring.h - the shared-memory log: a POSIX shm segment cut into chunks
 *
 * Layout: gm_ring_header_t, then nchunks gm_chunk_t headers, then the chunk
 * payloads (page aligned). Producers (game threads) claim a free chunk with
 * one compare-and-swap, write records into it directly, and commit it when
 * full; a drainer (a thread in the game, `gmtrace run`, or `gmtrace
 * recover` after a crash) copies committed data into the capture file and
 * hands the chunk back. Because records live in shared memory from the
 * moment they are written, they survive the process dying at any instant.
 *
 * Chunk states, and who moves them:
 *   free --producer CAS--> claiming --header written, release--> owned
 *   owned --producer commit--> committed
 *   committed --drainer, after the data is in the file and the chunk is
 *   zeroed--> free
 * The drainer may also copy the written prefix of an owned chunk (records
 * are published by their first word, stored last with release order).
 *
 * A thread keeps its chunk until it is full or the thread ends, so threads
 * that recorded a little and then wait (a pool of workers, a barrier) hold
 * chunks that no drainer can free. When a producer finds every chunk held
 * that way, the log grows (gm_ring_grow): the segment is sized for
 * max_chunks from the start, sparse, and only the chunks in use (nchunks,
 * which only grows) have pages. It never shrinks.
 */
#ifndef GM_RING_H
#define GM_RING_H

#include <stddef.h>
#include <stdint.h>

#define GM_RING_MAGIC "GMRING1"

typedef enum gm_chunk_state {
	gm_chunk_free = 0,
	gm_chunk_owned = 1,
	gm_chunk_committed = 2,
	gm_chunk_claiming = 3, /* its header being written: no drainer looks at it */
	gm_chunk_state_count
} gm_chunk_state_t;

typedef struct gm_chunk {
	uint32_t state;       /* gm_chunk_state_t; atomic, see above */
	uint32_t thread;      /* owner's thread index, set after the claim */
	uint32_t seq;         /* owner's chunk sequence number */
	uint32_t used;        /* bytes of records; set by commit (release) */
	uint64_t tsc_base;    /* full TSC of the record before the first one */
	uint32_t drained;     /* bytes already in the capture (drainer only) */
	uint32_t aged;        /* drainer only: left to its producer by one pass */
	uint64_t drained_tsc; /* full TSC of the last drained record */
	uint32_t late_tid;    /* 0, or the owner's OS thread id when it wrote after
	                         its exit destructor: once that thread is gone a
	                         drainer commits the chunk (thread.c, late records) */
	uint32_t pad0;
	uint64_t pad1[2];
} gm_chunk_t; /* 64 bytes: one cache line */

typedef struct gm_ring_header {
	char magic[8];
	uint32_t version;
	uint32_t pid; /* process writing the log */
	uint32_t chunk_bytes;
	uint32_t nchunks;
	uint64_t payload_offset; /* from the segment start */
	uint64_t segment_bytes;
	uint64_t claim;          /* atomic: next chunk to try */
	uint32_t nthreads;       /* atomic: thread indexes handed out */
	uint32_t finished;       /* atomic: 1 once the process ended its log cleanly */
	uint64_t stalls;         /* atomic: producer waits for a free chunk */
	uint64_t stall_ns;       /* atomic: time spent in those waits */
	uint32_t drain_lock;     /* atomic: 0, or the tid of the drainer holding it */
	uint32_t external;       /* 1: an outside drainer is expected */
	uint64_t drain_beat_ns;  /* atomic: monotonic ns of the drainer's last pass */
	uint64_t tsc0, mono0;    /* clock sample taken when the segment was made */
	char capture_path[1024]; /* where the capture goes */
	/* producers draining their own chunks (log/drain.h, gm_drain_helping):
	 * help_mode is the game's DRAIN_HELP as gm_drain_t.help (0 off, 1
	 * auto, 2 always), set by the game before it announces the log;
	 * help_now is the CPU watch's verdict of the drainer at work, in the
	 * game or in `gmtrace run` (1: no core free for it) */
	uint32_t help_mode, help_now;
	/* 1: the game's COMPRESS is off, so a drainer outside it (`gmtrace
	 * run`, `gmtrace recover`) writes no zstd blocks either (0 in logs of
	 * libraries before the field: compress, as they did) */
	uint32_t no_compress;
	/* chunks the segment has room for: nchunks grows up to it (0 in logs
	 * of libraries before the field: nchunks, which never grows there) */
	uint32_t max_chunks;
	/* atomic: the process of the outside drainer that attached (`gmtrace
	 * run`), 0 none: once it is gone the game drains its own log again
	 * without waiting for its silence */
	uint32_t drainer_pid;
	/* the outside drainer's errno when it quit (it could not write the
	 * capture: analysis/log/attach.c, gm_attach_quit), 0 none */
	uint32_t drainer_errno;
	/* atomic: 1 from the process's exec on (0 again when it failed): a
	 * process still there whose mappings no longer hold the log has
	 * become another program (analysis/cmd/run.c, gm_run_exec_gone) */
	uint32_t exec_tried;
	char pad[36];
} gm_ring_header_t;

typedef struct gm_ring {
	gm_ring_header_t *hdr;
	gm_chunk_t *chunks;
	unsigned char *payload;
	size_t bytes;
	char name[48];
	int owner; /* 1 if this process created the segment */
} gm_ring_t;

/* Create a new segment named "/gmtrace.<pid>.<random>" (mode 0600, created
 * exclusively) with room for ring_bytes of chunks. Fills *ring; returns 0
 * or a negative errno and leaves nothing behind. */
int gm_ring_create(gm_ring_t *ring, uint32_t pid, uint64_t ring_bytes, uint32_t chunk_bytes);

/* The pid in a log's name, "/gmtrace.PID.RANDOM" (gm_ring_create makes
 * them), or 0 when name is no such name. */
uint32_t gm_ring_name_pid(const char *name);

/* Map an existing segment by name (for drainers outside the game); returns
 * 0, -ENOENT, or -EINVAL if it is not a gmtrace log. */
int gm_ring_attach(gm_ring_t *ring, const char *name);

/* Unmap (and, if unlink is set, remove the name). */
void gm_ring_detach(gm_ring_t *ring, int unlink_name);

/* Claim a free chunk for thread, recording seq and tsc_base in its header.
 * Returns the chunk index, or -EAGAIN when every chunk is in use. One
 * fetch-add and one compare-and-swap in the common case; never blocks. */
int gm_ring_claim(gm_ring_t *ring, uint32_t thread, uint32_t seq, uint64_t tsc_base);

/* Chunks in use now (they only grow; atomic). */
static inline uint32_t gm_ring_nchunks(const gm_ring_t *ring)
{
	return __atomic_load_n(&ring->hdr->nchunks, __ATOMIC_ACQUIRE);
}

/* When no chunk is committed (every one is held by a producer or being
 * claimed: nothing a drainer can free), give the log more chunks, an
 * eighth more and 16 at least, up to max_chunks, their pages reserved
 * first. Returns the chunks in use after it, or -EAGAIN (a chunk is
 * committed: the drainer frees it), -ERANGE (at max_chunks), or the
 * error reserving the pages (-EFAULT, -ENOMEM, -ENOSPC: /dev/shm full). */
int gm_ring_grow(gm_ring_t *ring);

/* Mark chunk idx committed with used bytes of records. */
void gm_ring_commit(gm_ring_t *ring, int idx, uint32_t used);

/* Hand committed chunk idx back (free), its first bytes of data zeroed
 * (the records in it; a producer's unwritten slots are zero). A drainer's,
 * once the records are in the capture, or left out. */
void gm_ring_release(gm_ring_t *ring, int idx, uint32_t bytes);

/* Start of chunk idx's records. */
static inline unsigned char *gm_ring_data(const gm_ring_t *ring, int idx)
{
	return ring->payload + (size_t)idx * ring->hdr->chunk_bytes;
}

/* Try to become the only drainer (tid is the caller's); returns 1 or 0. A
 * lock held by a thread of a process that no longer exists is broken. */
int gm_ring_drain_lock(gm_ring_t *ring, uint32_t tid);

/* The same without looking at the holder (one compare-and-swap, no
 * syscall): for a game thread that drains only when nobody else does. */
static inline int gm_ring_drain_trylock(gm_ring_t *ring, uint32_t tid)
{
	uint32_t expect = 0;
	return __atomic_compare_exchange_n(&ring->hdr->drain_lock, &expect, tid, 0,
	                                   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}
void gm_ring_drain_unlock(gm_ring_t *ring);

#endif

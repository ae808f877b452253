/* drain.h - copy committed records from the shared-memory log to a capture
 *
 * Used in four places with the same code: the drainer thread inside the
 * game, the game's own threads while no core is free for it (gm_drain_help),
 * `gmtrace run` draining from outside, and `gmtrace recover` after a
 * crash. Only one drainer works on a log at a time (gm_ring_drain_lock).
 *
 * Each pass writes every committed chunk (and, when asked, the written
 * prefix of chunks still owned by their threads, packed only) as blocks: packed
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
	int compress_parts;  /* 1: also the prefix of a chunk still being written and
	                        what follows it (a drainer outside the game, where
	                        zstd resizing its tables costs the game nothing; in
	                        the game those stay packed) */
	void *cctx;          /* ZSTD_CCtx, made on first use */
	unsigned char *zbuf; /* compression output */
	size_t zcap;
	unsigned char *pbuf; /* packed records (log/pack.h) */
	size_t pcap;
	int mend;              /* 1: the log's process is gone, its chunks are mended
	                        before they are drained (gm_drain_mend) */
	uint64_t file_bytes;   /* bytes in the capture so far */
	uint64_t raw_bytes;    /* record bytes drained */
	uint64_t stored_bytes; /* payload bytes written */
	uint64_t blocks;
	uint64_t damaged_chunks; /* chunks left out: their owner field was not a
	                            thread (a log a dying game wrote over) */
	int error;               /* first write error (negative errno), sticky */
	uint64_t dev, ino;       /* the capture's identity: a game that closed our
	                          descriptor and reopened the number for a file
	                          of its own must never get our blocks */
	/* CPU watch (gm_drain_watch_cpu): zstd only while a core is free */
	int cpu_watch;
	int cpu_scarce; /* 1: the last window left no core free (read unlocked) */
	int cpu_pid;    /* whose threads: 0 this process's, else the game's pid */
	uint64_t cpu_wall0, cpu_preempts0, cpu_game0, cpu_wakeups0;
	uint64_t wakeups;        /* passes of the drainer (not of producers) */
	int help;                /* producers drain their own chunks: 0 never, 1 while
	           cpu_scarce, 2 always (gm_drain_helping) */
	uint64_t prealloc_end;   /* disk reserved up to here (gm_drain_trim) */
	int prealloc_off;        /* the file system would not reserve */
	void *(*alloc)(size_t);  /* memory for zbuf/cctx: the private arena in */
	void (*release)(void *); /* the game, malloc in the CLI */
} gm_drain_t;

/* Prepare d to drain ring into fd, which is positioned at its end and has
 * file_bytes bytes. alloc/release provide the drainer's own memory.
 * Returns 0 (cannot fail; compression buffers are made lazily). */
int gm_drain_init(gm_drain_t *d, gm_ring_t *ring, int fd, uint64_t file_bytes, int compress,
                  void *(*alloc)(size_t), void (*release)(void *));

/* Watch for a free core. Every 50 ms or more a pass looks at the game's
 * threads (pid 0: the calling process's but the caller, the drainer in
 * the game; else process pid's): how often they were preempted
 * (involuntary context switches), and how much CPU they and the drainer
 * used. A drainer
 * that wakes when a core is free runs there and preempts nobody; when
 * every core is taken its wake-ups preempt someone. No core is free for
 * the game when at least half the drainer's wake-ups in the window (and 3
 * or more) came with a preemption of the game's threads and the game and
 * its drainer ran on more than ncpu - 0.9 CPUs: they fill the machine
 * themselves (the drainer's share counts because the game's threads wait
 * for the one it preempted, and their own use falls with it). Then
 * zstd is skipped (blocks are still packed), and with d->help the game's
 * threads drain their own chunks (gm_drain_help) while the drainer takes
 * only what waits: a drainer thread would take its time from one game
 * thread, and the others would wait for that one at the end of the frame.
 * Other programs taking the cores are not the game's threads: the drainer
 * then competes with them as one thread more, which costs the game less
 * than draining itself. The drainer's own wake-ups keep probing while
 * producers drain, so the verdict turns back once a core is free. Without
 * the counts the watch stays off and zstd follows the backlog alone. */
void gm_drain_watch_cpu(gm_drain_t *d, int pid);

/* The watch's verdict for a window of wall_ns in which the game's threads
 * were preempted preempts times, the drainer woke wakeups times and the
 * game and the drainer used cpu_ns on ncpu CPUs: 1 when no core is free. */
int gm_drain_cpu_verdict(uint64_t preempts, uint64_t wakeups, uint64_t cpu_ns, uint64_t wall_ns,
                         unsigned ncpu);

/* What the watch reads of the game's threads, so far. */
typedef struct gm_drain_game {
	uint64_t preempts; /* involuntary context switches */
	uint64_t cpu_ns;   /* user + system time, the calling thread's included */
	unsigned ncpu;     /* CPUs the game may run on */
} gm_drain_game_t;

/* Read g for pid (see gm_drain_watch_cpu); 0, or -1 when the kernel does
 * not say. */
int gm_drain_game_look(int pid, gm_drain_game_t *g);

#define GM_DRAIN_WINDOW_NS 50000000ull /* the watch's window */

/* How long an outside drainer may stay silent before the game takes its
 * capture back (its beat: gm_ring_header_t.drain_beat_ns). */
#define GM_DRAIN_SILENCE_NS 2000000000ull

/* Whether a drainer whose last beat was at beat_ns has been silent for
 * GM_DRAIN_SILENCE_NS at now_ns (both CLOCK_MONOTONIC). A beat after now
 * (written while the caller was on its way from reading the clock) is a
 * drainer alive, not 2^64 ns of silence. */
static inline int gm_drain_silent(uint64_t now_ns, uint64_t beat_ns)
{
	return beat_ns < now_ns && now_ns - beat_ns >= GM_DRAIN_SILENCE_NS;
}

/* Whether producers drain their own chunks now: d->help, and the verdict
 * of the watch of whichever drainer runs it, this one or `gmtrace run`'s
 * (published in the log's header as help_now). */
static inline int gm_drain_helping(const gm_drain_t *d)
{
	int h = __atomic_load_n(&d->help, __ATOMIC_RELAXED);
	return h == 2 || (h == 1 && (__atomic_load_n(&d->cpu_scarce, __ATOMIC_RELAXED) ||
	                             __atomic_load_n(&d->ring->hdr->help_now, __ATOMIC_RELAXED)));
}

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

/* Mends data[from, limit) of a chunk whose writer will never write again
 * (its process is ending or gone); tsc: the full TSC of the record before
 * from (the chunk's drained_tsc). A slot a record claimed and never
 * wrote, with records after it, is a signal handler's doing: it
 * interrupted the record between its claim and its write, wrote records
 * of its own after it, then ended the process (exit, _exit, abort). Such
 * a slot (one unit, or two: a realloc's or a failure's record) would end
 * the chunk's records there; it becomes a lost record of one (and, for
 * two units, one of none), timed as the record before it. Only when what
 * follows reads as records a writer writes (known types, each within half
 * the tick range of the one before): anything else ends the records
 * there, as before.
 * Returns the slots mended. */
uint32_t gm_drain_mend(unsigned char *data, uint32_t from, uint32_t limit, uint64_t tsc);

/* One pass over the log. partial=1 also drains the written prefix of chunks
 * still owned by threads (final flush, recovery, live views). Returns the
 * record bytes drained (>= 0) or a negative errno (write failed; the chunk
 * stays in the log). The caller holds the drain lock. */
long gm_drain_pass(gm_drain_t *d, int partial);

/* A producer's pass: thread's own committed chunks, packed (never zstd,
 * which is for a free core), no look at the watch. Same return and lock
 * as gm_drain_pass. */
long gm_drain_help(gm_drain_t *d, uint32_t thread);

/* Disk space is reserved ahead of the capture's end, GM_DRAIN_PREALLOC at a
 * time (it does not change the file's size). Trim gives back what lies
 * past the end, whoever reserved it: the caller holds the drain lock, after
 * its last pass. */
#define GM_DRAIN_PREALLOC (4u << 20)
void gm_drain_trim(gm_drain_t *d);

/* Append a clock sample block (TSC, monotonic ns taken together). */
int gm_drain_clock(gm_drain_t *d);

/* Release compression state (not the fd). */
void gm_drain_free(gm_drain_t *d);

/* Offset just past the last whole, valid block of the capture in fd, so a
 * recovery can truncate a half-written tail; returns it, or a negative
 * errno when the file is not a capture. */
int64_t gm_drain_valid_end(int fd);

/* The same, walking from from (past the header), an offset known to start
 * a block or to be the end: the blocks other drainers appended since.
 * Returns from when nothing whole follows it, a negative errno when fd
 * cannot be read or is not a capture. */
int64_t gm_drain_valid_end_from(int fd, int64_t from);

#endif

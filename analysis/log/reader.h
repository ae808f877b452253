/* reader.h - the one streaming capture reader every gmtrace subcommand uses
 *
 * A capture is mmap'd, its blocks indexed in one pass over the block headers
 * (payloads are not touched), each thread's blocks ordered by (seq, offset),
 * and events are then produced in global time order by a k-way merge over
 * the threads (ties broken by thread index, so order is deterministic).
 * Memory use is one decoded block per thread, whatever the capture's size.
 *
 * A reader never trusts its input. Damage (truncated block, bad magic, bad
 * check value, undecodable zstd frame, a record running past its block) is
 * reported once, as "<path>: offset <n>: <what was expected>", and everything
 * read before the damage is still delivered. Damage inside a block stops
 * only that writer thread's stream; the other threads go on.
 *
 * gm_rec_time records are consumed by the reader (they only re-anchor the
 * TSC) and never delivered. Known variable-length records are delivered only
 * when their fixed units and string lengths fit inside the record, so
 * consumers may read extra[] and the strings without further checks.
 */
#ifndef GM_READER_H
#define GM_READER_H

#include <stddef.h>
#include <stdint.h>

#include "../../interpose/log/format.h"

typedef struct gm_reader gm_reader_t;

/* One decoded record. Pointers stay valid until the next gm_reader_next(). */
typedef struct gm_event {
	uint64_t ns;           /* CLOCK_MONOTONIC nanoseconds */
	uint64_t tsc;          /* rebuilt full TSC */
	uint32_t thread;       /* writer thread index */
	uint32_t type;         /* gm_rec_t (unknown types are counted and skipped) */
	uint32_t x;            /* record's x field */
	uint64_t a;            /* record's a field (48 bits) */
	uint64_t b;            /* record's b field (40 bits) */
	const uint64_t *extra; /* extra units as 64-bit words (2 per unit); never NULL */
	uint32_t nextra;       /* number of extra units */
	uint64_t offset;       /* file offset of the block holding the record */
	int burst;             /* the record carries its thread's previous
	                          reading (an allocation in a burst, see
	                          interpose/log/FORMAT.md, Time) */
} gm_event_t;

/* Facts about the capture known after gm_reader_open(). */
typedef struct gm_reader_info {
	uint32_t pid;
	uint16_t version_major, version_minor;
	uint64_t created_ns;
	char shm_name[48];
	uint32_t stopped_errno; /* the header's: 0, or why recording stopped */
	uint64_t file_bytes;
	uint64_t nblocks;         /* blocks indexed, clock blocks included */
	uint64_t skipped_blocks;  /* damaged blocks left out, the walk going on after them */
	uint32_t nthreads;        /* highest thread index + 1 */
	uint64_t records_bytes;   /* sum of raw_bytes of all record blocks, bytes
	                            seen twice (duplicate blocks) counted once */
	uint64_t records_lost;    /* sum of gm_rec_lost counts (known after the end) */
	uint64_t unknown_records; /* records of types this reader does not know */
	uint64_t reordered;       /* records delivered after another thread's
	                             later-TSC record they depend on (causal
	                             repair; known after the end) */
	uint64_t burst_records;   /* records carrying their thread's previous
	                             reading (a burst's allocations; known
	                             after the end) */
	uint64_t burst_over_us;   /* of those, the ones whose thread's next
	                             reading came more than 1 us later, or
	                             never: placed less closely than 1 us */
	double tsc_hz;            /* tick rate used for ns (0 if no clock: ns = tsc) */
	/* the first damage (gm_reader_error): its block's file offset, and
	 * whether that block reaches the end of the file, as the block a
	 * drainer is writing does (a capture read while its game runs) */
	uint64_t damage_at;
	int damage_at_end;
} gm_reader_info_t;

/* The program of a process record (ev->type gm_rec_process; the reader
 * checked its lengths): its bytes in the record, *len of them, not
 * NUL-terminated; its arguments follow (NUL-separated, ev->extra[5] bytes). */
static inline const char *gm_event_process_exe(const gm_event_t *ev, size_t *len)
{
	*len = (size_t)ev->extra[4]; /* +[exe bytes, argv bytes] in the third unit */
	return (const char *)(ev->extra + 6);
}

/* Open and index a capture. Returns a reader, or NULL with a one-line
 * message in err (missing file, not a capture, newer major version). A
 * capture damaged after its header still opens; see gm_reader_error(). */
gm_reader_t *gm_reader_open(const char *path, char *err, size_t errlen);

/* Next event: 1 and *ev filled, 0 at the end. Events come in TSC order,
 * except that a free or allocation the TSC put before the other thread's
 * record it depends on comes right after that record (reader.c, causal
 * repair), keeping its own TSC. */
int gm_reader_next(gm_reader_t *r, gm_event_t *ev);

/* Rewind to the first event (for reports that need two passes). The
 * counters in gm_reader_info_t are not counted twice. */
void gm_reader_rewind(gm_reader_t *r);

/* The first damage found so far as one line, or NULL if none. */
const char *gm_reader_error(const gm_reader_t *r);

/* Facts about the capture; never NULL. */
const gm_reader_info_t *gm_reader_info(const gm_reader_t *r);

/* 1 if the shared-memory log a capture names (gm_reader_info's shm_name,
 * "/name") is still in /dev/shm: gmtrace recover can read it. */
int gm_reader_log_present(const char *shm_name);

/* Unmaps the capture and frees everything; NULL is allowed. */
void gm_reader_free(gm_reader_t *r);

/* Names for display and JSON ("alloc", "malloc", ...); "unknown" if out of range. */
const char *gm_reader_type_name(unsigned type);
const char *gm_reader_kind_name(unsigned kind);

#endif

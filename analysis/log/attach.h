/* attach.h - drain a live (or dead) game's shared-memory log from outside
 *
 * `gmtrace run` attaches to every log its process tree announces and drains
 * it while the game runs; `gmtrace recover` attaches to the log a dead
 * process left behind and writes what it holds into the capture. Both use
 * the drainer of interpose/log/drain.c, so the capture is the same whoever
 * wrote it.
 */
#ifndef GM_ATTACH_H
#define GM_ATTACH_H

#include <stdint.h>

#include "../../interpose/log/drain.h"
#include "../../interpose/log/ring.h"

typedef struct gm_attach {
	gm_ring_t ring;
	gm_drain_t drain;
	int fd;
	uint32_t pid;
	char capture[1024];
	uint64_t last_clock_ns;
	int positioned; /* the file offset is after the last whole block */
	int done;
	int keep; /* gm_attach_close leaves the log in place (its process runs on) */
} gm_attach_t;

/* Attach to the log named shm_name and open its capture for appending
 * (capture may be NULL: the path the log announces). A half-written last
 * block is cut off first. Returns 0 or a negative errno, with a one-line
 * reason in err. */
int gm_attach_open(gm_attach_t *a, const char *shm_name, const char *capture, char *err,
                   size_t errlen);

/* Says to the game that this drainer is alive (its beat, in the log's
 * header): a game that hears none for 2 s drains its own log again. */
void gm_attach_beat(gm_attach_t *a);

/* Says to the game that this drainer stops (its beat put back to 0, as if
 * silent for ever), and why (drain.error, in the log's header): the game
 * drains its own log again at its next look, or stops recording when the
 * capture is no longer its to write (cut or replaced by another program). */
void gm_attach_quit(gm_attach_t *a);

/* One drain pass (partial: also the prefixes of chunks still being
 * written), with a beat before and after. Returns bytes drained or a
 * negative errno. */
long gm_attach_pass(gm_attach_t *a, int partial);

/* 1 if the process that writes the log ended (cleanly or not). */
int gm_attach_ended(const gm_attach_t *a);

/* Final pass, clock sample, capture closed, log removed. Returns the
 * drainer's first error (0 if none). */
int gm_attach_close(gm_attach_t *a);

/* When the drain left chunks out (their owner no thread: gm_drain_t's
 * damaged_chunks), one line on stderr, "<who>: <capture>: ..."; returns
 * whether it said so. */
int gm_attach_say_damaged(const gm_attach_t *a, const char *who);

#endif

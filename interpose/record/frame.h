/* frame.h - frame ends, ticks, capture level and spikes, in the game
 *
 * A frame ends at gmtrace_frame_mark() or, when the game never calls it, at
 * a present/swap call (hook/present.c). At each end the thread that ends
 * it reads every thread's running totals, writes one gm_rec_frame_thread
 * record per thread that allocated and one gm_rec_frame_sum, and checks
 * the frame against the spike limits (absolute, or k times the median of
 * the last frames), writing a gm_rec_spike and calling the game's spike
 * callback when one fires. Frame ends are serialized by a spin flag; they
 * are rare next to allocations.
 */
#ifndef GM_FRAME_H
#define GM_FRAME_H

#include <stdint.h>

#include "../include/gmtrace.h"
#include "thread.h"

/* End frame set 0 (the displayed frames); source is a gm_present_t. An
 * automatic end (source != marker) is ignored once the game has marked a
 * frame itself. */
void gm_frame_end(gm_thread_t *t, unsigned source);
/* At the session's end, in the frames level: one frame_sum of the totals
 * since the last frame end (GM_FRAME_FLAG_AT_END), with no frame mark. */
void gm_frame_tail(gm_thread_t *t);

/* 1 once the game called gmtrace_frame_mark: present hooks stand down. */
extern int gm_frame_explicit;
/* 1 once a present call ended a frame (before any mark): the first mark
 * then takes over the frame in progress instead of ending it */
extern int gm_frame_auto_ended;

/* A simulation tick (fixed-timestep update). */
void gm_frame_tick(gm_thread_t *t);

/* Switch the capture level (gm_level_t); returns 0 or -EINVAL. */
int gm_frame_level_set(gm_thread_t *t, int level);

/* Spike callback (NULL to remove). */
void gm_frame_spike_callback(gmtrace_spike_fn fn, void *user);

/* Read the spike options; called by the session at start. */
void gm_frame_configure(void);

/* Write the allocator cost per size class measured so far (all threads):
 * every 1024 frames and at the end of the session. */
void gm_frame_cost(gm_thread_t *t);

/* Forget everything (fork child); nthreads: the threads the parent's log
 * had, the only totals slots that can be other than zero. */
void gm_frame_reset(uint32_t nthreads);

#endif

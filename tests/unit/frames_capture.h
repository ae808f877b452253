/* frames_capture.h - synthetic captures for the frames tests
 *
 * Shared by test_frames.c (the model) and test_frames_cmd.c (gmtrace
 * frames): records appended to a words_t at the TSC given (a time record
 * first when the step would not fit the 24-bit tick), the process record
 * at 1 GHz, and the frame records both tests write. The words_t, the
 * capture writer and the suite's temporary folder are in capture_common.h.
 */
#ifndef GM_TEST_FRAMES_CAPTURE_H
#define GM_TEST_FRAMES_CAPTURE_H

#include "capture_common.h"

/* The first unit of a record at tsc; a time record first when the step
 * from the previous record would not fit the 24-bit tick. */
static inline void head(words_t *r, uint64_t tsc, uint64_t w0, uint64_t b)
{
	uint64_t step = tsc > r->tsc ? tsc - r->tsc : r->tsc - tsc;

	if (step >= (1ull << 22)) {
		put(r, gm_rec_w0(0, gm_rec_time, 1));
		put(r, gm_rec_w1(0, tsc));
		put(r, tsc);
		put(r, 0);
	}
	r->tsc = tsc;
	put(r, w0);
	put(r, gm_rec_w1(b, tsc));
}

static inline void r_process(words_t *r, uint64_t tsc)
{
	head(r, tsc, gm_rec_w0(4242, gm_rec_process, 3), 1);
	put(r, 1);          /* realtime ns */
	put(r, tsc);        /* monotonic ns at start */
	put(r, tsc);        /* TSC at start */
	put(r, 1000000000); /* 1 GHz */
	put(r, 0);          /* no exe, */
	put(r, 0);          /* no argv */
}

static inline void r_alloc(words_t *r, uint64_t tsc, uint64_t ptr, uint64_t size)
{
	head(r, tsc, gm_rec_w0(ptr, gm_rec_alloc, gm_kind_malloc), size);
}

static inline void r_frame(words_t *r, uint64_t tsc, uint64_t frame, unsigned set, unsigned source)
{
	head(r, tsc, gm_rec_w0(frame, gm_rec_frame, set), source);
}

static inline void r_frame_thread(words_t *r, uint64_t tsc, uint64_t frame, uint32_t thread,
                                  uint64_t allocs, uint64_t frees, uint64_t abytes, uint64_t fbytes,
                                  uint64_t ticks)
{
	head(r, tsc, gm_rec_w0(frame, gm_rec_frame_thread, 3), thread);
	put(r, allocs);
	put(r, frees);
	put(r, abytes);
	put(r, fbytes);
	put(r, ticks);
	put(r, 0);
}

static inline void r_frame_sum(words_t *r, uint64_t tsc, uint64_t frame, uint64_t nthreads,
                               uint64_t allocs, uint64_t frees, uint64_t abytes, uint64_t fbytes,
                               uint64_t live, uint64_t peak, uint64_t ticks, uint64_t flags)
{
	head(r, tsc, gm_rec_w0(frame, gm_rec_frame_sum, 4), nthreads);
	put(r, allocs);
	put(r, frees);
	put(r, abytes);
	put(r, fbytes);
	put(r, live);
	put(r, peak);
	put(r, ticks);
	put(r, flags);
}

static inline void r_spike(words_t *r, uint64_t tsc, uint64_t frame, unsigned reasons,
                           uint64_t allocs, uint64_t limit)
{
	head(r, tsc, gm_rec_w0(frame, gm_rec_spike, 3), reasons);
	put(r, allocs);
	put(r, limit);
	put(r, 0);
	put(r, 0);
	put(r, 0);
	put(r, 0);
}

static inline void r_tick(words_t *r, uint64_t tsc, uint64_t n)
{
	head(r, tsc, gm_rec_w0(n, gm_rec_sim_tick, 0), 0);
}

static inline void r_level(words_t *r, uint64_t tsc, unsigned level)
{
	head(r, tsc, gm_rec_w0(level, gm_rec_level, 0), 0);
}

/* A capture whose frames 1 and 2 were lost at its start (a damaged block):
 * its one frame, 3, follows missing frames, so no row is counted. */
static inline const char *cap_all_gaps(const char *name)
{
	words_t t = {0};
	r_process(&t, 1000);
	r_alloc(&t, 2000, 0x100, 8);
	r_frame(&t, 3000, 3, 0, gm_present_marker);
	return write_capture(name, &t, 1);
}

#endif

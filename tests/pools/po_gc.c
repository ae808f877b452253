/* po_gc.c - garbage-collector runs with known figures, two spike frames
 *
 *     po_gc [F]              F frames (default 30, 8 <= F <= 1000)
 *
 * Frame f reports runs(f) = f % 4 GC runs (none in frame 1, whose
 * start-up allocations the fixture cannot predict), run k (0-based) with
 *     generation (f + k) % 3, duration 1000 f + 10 k ns,
 *     collected f k + 1, uncollectable 1 if k == 2 else 0,
 * through gmtrace_gc(), the call the Python module makes from gc.callbacks.
 * Frames 6 and 8 also allocate and free 2000 blocks of FX_SIZE(1): with
 * GMTRACE_SPIKE_ALLOCATIONS=1000 (and GMTRACE_SPIKE_FACTOR=0) both are
 * spike frames; frame 6 has GC runs (6 % 4 = 2), frame 8 none, so the one
 * spike frame with a GC run is 6.
 *
 * The JSON line: totals (runs, pause_ns, max_ns), per generation 0..2
 * (runs, pause_ns, max_ns, collected, uncollectable) and per frame with at
 * least one run (frame, runs, pause_ns, max_ns, collected), the frames
 * that were made to spike, and the expected spike frames with GC ([6]).
 */
#define _GNU_SOURCE
#include "po_common.h"

#include <gmtrace.h>

#define PO_MAX_FRAMES 1000
#define PO_SPIKE_BLOCKS 2000

typedef struct po_gen {
	uint64_t runs, pause_ns, max_ns, collected, uncollectable;
} po_gen_t;

static uint64_t po_frames[PO_MAX_FRAMES], po_runs[PO_MAX_FRAMES], po_pause[PO_MAX_FRAMES];
static uint64_t po_max[PO_MAX_FRAMES], po_collected[PO_MAX_FRAMES];

int main(int argc, char **argv)
{
	uint64_t frames = fx_arg_u64(argc > 1 ? argv[1] : NULL, 30), f, k, nf = 0;
	uint64_t runs = 0, pause = 0, max = 0;
	po_gen_t gens[3];
	unsigned g;

	fx_name = "po_gc";
	if (frames < 8 || frames > PO_MAX_FRAMES)
		fx_fail("arguments", "F must be 8..1000");
	memset(gens, 0, sizeof(gens));
	fx_json_begin();
	(void)gmtrace_enabled(); /* the marker API's lookup falls in frame 1 */
	for (f = 1; f <= frames; f++) {
		uint64_t n = f == 1 ? 0 : f % 4;

		if (f == 6 || f == 8) {
			for (k = 0; k < PO_SPIKE_BLOCKS; k++) {
				void *p = malloc(FX_SIZE(1));
				if (!p)
					fx_fail("malloc", "failed");
				fx_touch(p, FX_SIZE(1));
				free(p);
			}
		}
		for (k = 0; k < n; k++) {
			uint64_t gen = (f + k) % 3, ns = 1000 * f + 10 * k, collected = f * k + 1;
			uint64_t unc = k == 2;

			gmtrace_gc((int)gen, ns, collected, unc);
			gens[gen].runs++;
			gens[gen].pause_ns += ns;
			if (ns > gens[gen].max_ns)
				gens[gen].max_ns = ns;
			gens[gen].collected += collected;
			gens[gen].uncollectable += unc;
			runs++;
			pause += ns;
			if (ns > max)
				max = ns;
			if (k == 0) {
				po_frames[nf] = f;
				nf++;
			}
			po_runs[nf - 1]++;
			po_pause[nf - 1] += ns;
			if (ns > po_max[nf - 1])
				po_max[nf - 1] = ns;
			po_collected[nf - 1] += collected;
		}
		GMTRACE_FRAME();
	}

	fx_json_u64("frames", frames);
	fx_json_u64("runs", runs);
	fx_json_u64("pause_ns", pause);
	fx_json_u64("max_ns", max);
	fx_json_open("generations", '[');
	for (g = 0; g < 3; g++) {
		fx_json_open(NULL, '{');
		fx_json_u64("generation", g);
		fx_json_u64("runs", gens[g].runs);
		fx_json_u64("pause_ns", gens[g].pause_ns);
		fx_json_u64("max_ns", gens[g].max_ns);
		fx_json_u64("collected", gens[g].collected);
		fx_json_u64("uncollectable", gens[g].uncollectable);
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_open("per_frame", '[');
	for (k = 0; k < nf; k++) {
		fx_json_open(NULL, '{');
		fx_json_u64("frame", po_frames[k]);
		fx_json_u64("runs", po_runs[k]);
		fx_json_u64("pause_ns", po_pause[k]);
		fx_json_u64("max_ns", po_max[k]);
		fx_json_u64("collected", po_collected[k]);
		fx_json_close('}');
	}
	fx_json_close(']');
	fx_json_open("spiked_frames", '[');
	fx_json_u64(NULL, 6);
	fx_json_u64(NULL, 8);
	fx_json_close(']');
	fx_json_open("spike_frames_with_gc", '[');
	fx_json_u64(NULL, 6);
	fx_json_close(']');
	return fx_json_write(1) == 0 ? 0 : 1;
}

/* po_threads.c - one pool used by two worker threads that take turns
 *
 *     po_threads [F]         F frames (default 30, 3 <= F <= 1000), F % 3 == 0
 *
 * The main thread hands each worker one step at a time (semaphores) and
 * ends every frame itself, so the order of all pool calls is fixed. Pool
 * "shared" (16-byte objects, capacity 16), three kinds of frame f:
 *
 *   f % 3 == 1  overlap:    A acquires 5, B acquires 3 (8 held at once),
 *                           then A releases its 5 and B its 3;
 *   f % 3 == 2  one after the other: A acquires 5 and releases them, then
 *                           B acquires 3 and releases them (5 at most);
 *   f % 3 == 0  handed over: A acquires 4, B releases those 4 (4 at most).
 *
 * Every frame ends with nothing in use. The JSON line has, per frame,
 * acquires, served, releases, returned, in_use (exact in any case), the
 * true high-water mark ("high_water") and the sum of each thread's own
 * rise ("high_water_bound": what FORMAT.md says the writer reports when
 * several threads used the pool in a frame, an upper bound).
 */
#define _GNU_SOURCE
#include "po_common.h"

#include <pthread.h>
#include <semaphore.h>

#include <gmtrace.h>

#define PO_MAX_FRAMES 1000

typedef struct po_worker {
	pthread_t thread;
	sem_t go, done;
	int acquire, release; /* what to do on the next step */
	int quit;
} po_worker_t;

static po_worker_t po_a, po_b;
static uint32_t po_pool;
static uint64_t po_acq[PO_MAX_FRAMES], po_rel[PO_MAX_FRAMES], po_hw[PO_MAX_FRAMES],
        po_bound[PO_MAX_FRAMES], po_in_use[PO_MAX_FRAMES];

static void *po_work(void *arg)
{
	po_worker_t *w = arg;
	int i;

	for (;;) {
		sem_wait(&w->go);
		if (w->quit)
			break;
		for (i = 0; i < w->acquire; i++)
			gmtrace_pool_acquire(po_pool, 1);
		for (i = 0; i < w->release; i++)
			gmtrace_pool_release(po_pool, 1);
		sem_post(&w->done);
	}
	return NULL;
}

/* One step on a worker: acquire then release, and wait for it. */
static void po_step(po_worker_t *w, int acquire, int release)
{
	w->acquire = acquire;
	w->release = release;
	sem_post(&w->go);
	sem_wait(&w->done);
}

int main(int argc, char **argv)
{
	uint64_t frames = fx_arg_u64(argc > 1 ? argv[1] : NULL, 30), f;

	fx_name = "po_threads";
	if (frames < 3 || frames > PO_MAX_FRAMES || frames % 3)
		fx_fail("arguments", "F must be 3..1000 and a multiple of 3");
	fx_json_begin();
	po_pool = gmtrace_pool_create("shared", 16, 16);
	if (po_pool == 0)
		fx_fail("gmtrace_pool_create", "returned 0: run under libgmtrace");
	sem_init(&po_a.go, 0, 0);
	sem_init(&po_a.done, 0, 0);
	sem_init(&po_b.go, 0, 0);
	sem_init(&po_b.done, 0, 0);
	if (pthread_create(&po_a.thread, NULL, po_work, &po_a) ||
	    pthread_create(&po_b.thread, NULL, po_work, &po_b))
		fx_fail("pthread_create", "failed");
	for (f = 1; f <= frames; f++) {
		uint64_t i = f - 1;

		switch (f % 3) {
		case 1:
			po_step(&po_a, 5, 0);
			po_step(&po_b, 3, 0);
			po_step(&po_a, 0, 5);
			po_step(&po_b, 0, 3);
			po_acq[i] = po_rel[i] = 8;
			po_hw[i] = po_bound[i] = 8;
			break;
		case 2:
			po_step(&po_a, 5, 5);
			po_step(&po_b, 3, 3);
			po_acq[i] = po_rel[i] = 8;
			po_hw[i] = 5;
			po_bound[i] = 5 + 3;
			break;
		default:
			po_step(&po_a, 4, 0);
			po_step(&po_b, 0, 4);
			po_acq[i] = po_rel[i] = 4;
			po_hw[i] = po_bound[i] = 4;
			break;
		}
		po_in_use[i] = 0;
		GMTRACE_FRAME();
	}
	po_a.quit = po_b.quit = 1;
	sem_post(&po_a.go);
	sem_post(&po_b.go);
	pthread_join(po_a.thread, NULL);
	pthread_join(po_b.thread, NULL);

	fx_json_u64("frames", frames);
	fx_json_open("per_frame", '{');
	po_json_u64s("acquires", po_acq, (size_t)frames);
	po_json_u64s("served", po_acq, (size_t)frames);
	po_json_u64s("releases", po_rel, (size_t)frames);
	po_json_u64s("returned", po_rel, (size_t)frames);
	po_json_u64s("in_use", po_in_use, (size_t)frames);
	po_json_u64s("high_water", po_hw, (size_t)frames);
	po_json_u64s("high_water_bound", po_bound, (size_t)frames);
	fx_json_close('}');
	return fx_json_write(1) == 0 ? 0 : 1;
}

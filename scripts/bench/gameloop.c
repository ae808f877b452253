/* gameloop.c - bench workload: a game-like frame loop that allocates a lot
 *
 * F frames (default 600); each frame makes N allocations (default 10,000)
 * split evenly over T threads (--threads 1|2), which meet at a barrier at
 * the end of every frame, as a game's job system would. Per allocation:
 *
 *   - a size from a fixed mix: 70% 16-256 B, 29.8% 256 B-4 KiB, 0.2% large
 *     (16-256 KiB; about 20 per frame);
 *   - a little compute, to look like a game: the first cache line of the
 *     block is filled and a short integer mix runs over it;
 *   - a lifetime: 20% live 1-3 frames (a ring of per-frame free lists),
 *     the rest are freed within the frame (a small FIFO window of
 *     temporaries, emptied at the end of the frame).
 *
 * The sequence depends only on the seed and thread index, so plain and
 * profiled runs do exactly the same work. Output ("key=value" lines, parsed
 * by scripts/bench.sh):
 *
 *   total_ms=...  ms_per_frame=...  cpu_ms=...  frames=...  threads=...  allocs=...
 *   maxrss_kb=...
 *
 * cpu_ms is the whole process's user and system time during the loop: the
 * game's threads, and a profiler's threads in it (an in-game drainer).
 *
 *   gameloop [--frames F] [--allocs N] [--threads T]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>

#define GL_RING 4    /* frames a long-lived block may span, plus one */
#define GL_WINDOW 32 /* temporaries alive at once within a frame */
#define GL_MAX_THREADS 8

typedef struct gl_thread {
	pthread_t tid;
	int index;
	long allocs; /* per frame */
	uint64_t rng;
	void **ring[GL_RING]; /* per frame slot: blocks to free at its start */
	long ring_n[GL_RING];
	uint64_t check;
} gl_thread_t;

static int gl_frames = 600, gl_threads = 1;
static long gl_allocs = 10000;
static pthread_barrier_t gl_barrier;
static volatile uint64_t gl_sink;

static double gl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* User and system time of the whole process, in ms. */
static double gl_cpu_ms(const struct rusage *r)
{
	return (double)(r->ru_utime.tv_sec + r->ru_stime.tv_sec) * 1e3 +
	       (double)(r->ru_utime.tv_usec + r->ru_stime.tv_usec) / 1e3;
}

static uint64_t gl_rand(gl_thread_t *t)
{
	uint64_t x = t->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t->rng = x;
	return x;
}

static size_t gl_size(gl_thread_t *t)
{
	uint64_t r = gl_rand(t);
	unsigned pick = (unsigned)(r % 1000);
	r >>= 10;
	if (pick < 700)
		return 16 + (size_t)(r % 241);
	if (pick < 998)
		return 256 + (size_t)(r % 3841);
	return (16u << 10) + (size_t)(r % (240u << 10));
}

/* The "game work" done with each block: fill a cache line, mix it. */
static uint64_t gl_work(unsigned char *p, size_t size, uint64_t seed)
{
	size_t n = size < 64 ? size : 64, i;
	uint64_t h = seed;
	memset(p, (int)(seed & 0xff), n);
	for (i = 0; i < n; i += 8) {
		h ^= p[i] + i;
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	return h;
}

static void *gl_thread_main(void *arg)
{
	gl_thread_t *t = arg;
	void *window[GL_WINDOW];
	int frame;
	long i;

	for (frame = 0; frame < gl_frames; frame++) {
		int slot = frame % GL_RING;
		long nw = 0, head = 0;

		/* blocks whose lifetime ends this frame */
		for (i = 0; i < t->ring_n[slot]; i++)
			free(t->ring[slot][i]);
		t->ring_n[slot] = 0;

		for (i = 0; i < t->allocs; i++) {
			size_t size = gl_size(t);
			unsigned char *p = malloc(size);
			uint64_t r = gl_rand(t);
			if (!p) {
				fprintf(stderr, "gameloop: malloc(%zu) failed\n", size);
				exit(1);
			}
			t->check += gl_work(p, size, r);
			if (r % 5 == 0) {
				int later = (frame + 1 + (int)((r >> 8) % (GL_RING - 1))) % GL_RING;
				t->ring[later][t->ring_n[later]++] = p;
			} else {
				if (nw == GL_WINDOW) {
					free(window[head]);
					window[head] = p;
					head = (head + 1) % GL_WINDOW;
				} else {
					window[nw++] = p;
				}
			}
		}
		for (i = 0; i < nw; i++)
			free(window[i]);
		pthread_barrier_wait(&gl_barrier);
	}
	for (i = 0; i < GL_RING; i++) {
		long j;
		for (j = 0; j < t->ring_n[i]; j++)
			free(t->ring[i][j]);
		t->ring_n[i] = 0;
	}
	gl_sink += t->check;
	return NULL;
}

int main(int argc, char **argv)
{
	gl_thread_t th[GL_MAX_THREADS];
	struct rusage ru, ru0;
	double t0, ms, cpu_ms;
	int i, k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc)
			gl_frames = atoi(argv[++i]);
		else if (strcmp(argv[i], "--allocs") == 0 && i + 1 < argc)
			gl_allocs = atol(argv[++i]);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			gl_threads = atoi(argv[++i]);
		else {
			fprintf(stderr,
			        "usage: gameloop [--frames F] [--allocs N] [--threads T]\n");
			return 2;
		}
	}
	if (gl_frames < 1 || gl_allocs < 1 || gl_threads < 1 || gl_threads > GL_MAX_THREADS) {
		fprintf(stderr, "gameloop: bad arguments\n");
		return 2;
	}

	pthread_barrier_init(&gl_barrier, NULL, (unsigned)gl_threads);
	memset(th, 0, sizeof(th));
	for (i = 0; i < gl_threads; i++) {
		th[i].index = i;
		th[i].allocs = gl_allocs / gl_threads + (i < gl_allocs % gl_threads);
		th[i].rng = 0x2545f4914f6cdd1dull * (uint64_t)(i + 1);
		for (k = 0; k < GL_RING; k++) {
			/* bookkeeping arrays are set up before timing starts */
			th[i].ring[k] = calloc((size_t)th[i].allocs + 1, sizeof(void *));
			if (!th[i].ring[k]) {
				fprintf(stderr, "gameloop: out of memory\n");
				return 1;
			}
		}
	}

	getrusage(RUSAGE_SELF, &ru0);
	t0 = gl_now_ns();
	for (i = 1; i < gl_threads; i++)
		pthread_create(&th[i].tid, NULL, gl_thread_main, &th[i]);
	gl_thread_main(&th[0]);
	for (i = 1; i < gl_threads; i++)
		pthread_join(th[i].tid, NULL);
	ms = (gl_now_ns() - t0) / 1e6;
	getrusage(RUSAGE_SELF, &ru);
	cpu_ms = gl_cpu_ms(&ru) - gl_cpu_ms(&ru0);

	for (i = 0; i < gl_threads; i++)
		for (k = 0; k < GL_RING; k++)
			free(th[i].ring[k]);
	getrusage(RUSAGE_SELF, &ru);
	printf("total_ms=%.3f\nms_per_frame=%.5f\ncpu_ms=%.3f\nframes=%d\nthreads=%d\n"
	       "allocs=%ld\nmaxrss_kb=%ld\ncheck=%llu\n",
	       ms, ms / gl_frames, cpu_ms, gl_frames, gl_threads, gl_allocs * gl_frames,
	       ru.ru_maxrss, (unsigned long long)(gl_sink & 0xffff));
	return 0;
}

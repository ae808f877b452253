/* naive.c - bench reference: the simplest whole recorder, preloaded like gmtrace
 *
 * The reference point ("a naive recorder: one 32-byte record and one
 * timestamp per event, no stacks") measured on the machine that runs the
 * bench, in the same run, so that gmtrace's added cost can be set against it
 * here and not against a figure from another machine. Built by bench.sh as a
 * shared object and preloaded with LD_PRELOAD into the same workloads.
 *
 * What it does per malloc, calloc, realloc and free: call the real function
 * (dlsym(RTLD_NEXT)), read the TSC (after an allocation returns, before a
 * free starts, as gmtrace does) and append one 32-byte record {tsc, address,
 * size, type and thread number} (a realloc two: the old block's free and
 * the new block) to a 64 KiB buffer of the
 * calling thread; a full buffer is written to the output file with write(2)
 * by the thread that filled it. Nothing else: no frames, no compression, no
 * shared memory, no crash safety. It is a cheap version of "naive": the
 * clock is the TSC, not clock_gettime, and the records are plain stores.
 *
 *   NAIVE_OUTPUT=FILE LD_PRELOAD=naive.so PROGRAM ...   (default /dev/null)
 *
 * At exit (and at a thread's exit) the rest of the buffer is written and the
 * counts go to stderr as "naive_events=N".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NAIVE_BUF (64 * 1024)

typedef struct naive_rec {
	uint64_t tsc, addr, arg;
	uint32_t type, thread;
} naive_rec_t;

enum {
	naive_malloc = 1,
	naive_calloc,
	naive_realloc,
	naive_free
};

typedef struct naive_thread {
	naive_rec_t *buf; /* NAIVE_BUF bytes, from mmap */
	uint32_t used;    /* records in buf */
	uint32_t number;  /* 1, 2, ... in order of first event */
	int busy;         /* inside naive's own code: forward unrecorded */
} naive_thread_t;

static __thread naive_thread_t naive_self __attribute__((tls_model("initial-exec")));
static void *(*naive_real_malloc)(size_t);
static void *(*naive_real_calloc)(size_t, size_t);
static void *(*naive_real_realloc)(void *, size_t);
static void (*naive_real_free)(void *);
static int naive_fd = -1;
static pthread_key_t naive_key;
static uint32_t naive_threads;
static uint64_t naive_events;

/* dlsym may call calloc before the real one is known: served from here */
static char naive_boot[4096] __attribute__((aligned(16)));
static size_t naive_boot_used;

static void naive_flush(naive_thread_t *t)
{
	size_t n = (size_t)t->used * sizeof(naive_rec_t);
	const char *p = (const char *)t->buf;
	__atomic_add_fetch(&naive_events, t->used, __ATOMIC_RELAXED);
	while (n > 0 && naive_fd >= 0) {
		ssize_t w = write(naive_fd, p, n);
		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
	t->used = 0;
}

static void naive_thread_end(void *arg)
{
	naive_thread_t *t = arg;
	if (t->buf)
		naive_flush(t);
}

static __attribute__((constructor)) void naive_init(void)
{
	const char *out = getenv("NAIVE_OUTPUT");
	naive_self.busy = 1;
	naive_real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	naive_real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	naive_real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	naive_real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	naive_fd = open(out && *out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	                0644);
	pthread_key_create(&naive_key, naive_thread_end);
	naive_self.busy = 0;
}

static __attribute__((destructor)) void naive_fini(void)
{
	naive_thread_t *t = &naive_self;
	if (t->buf)
		naive_flush(t);
	fprintf(stderr, "naive_events=%llu\n",
	        (unsigned long long)__atomic_load_n(&naive_events, __ATOMIC_RELAXED));
}

static __attribute__((noinline)) void naive_slow(naive_thread_t *t)
{
	t->busy = 1;
	if (!t->buf) {
		void *b = mmap(NULL, NAIVE_BUF, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		               -1, 0);
		if (b != MAP_FAILED) {
			t->buf = b;
			t->number = __atomic_add_fetch(&naive_threads, 1, __ATOMIC_RELAXED);
			pthread_setspecific(naive_key, t);
		}
	} else
		naive_flush(t);
	t->busy = 0;
}

static inline void naive_record(uint32_t type, void *addr, uint64_t arg, uint64_t tsc)
{
	naive_thread_t *t = &naive_self;
	naive_rec_t *r;
	if (t->busy || naive_fd < 0)
		return;
	if (__builtin_expect(!t->buf || t->used == NAIVE_BUF / sizeof(naive_rec_t), 0)) {
		naive_slow(t);
		if (!t->buf)
			return;
	}
	r = &t->buf[t->used++];
	r->tsc = tsc;
	r->addr = (uintptr_t)addr;
	r->arg = arg;
	r->type = type;
	r->thread = t->number;
}

void *malloc(size_t n)
{
	void *p;
	if (__builtin_expect(!naive_real_malloc, 0)) {
		size_t at = (naive_boot_used + 15) & ~(size_t)15;
		if (at + n > sizeof naive_boot)
			return NULL;
		naive_boot_used = at + n;
		return naive_boot + at;
	}
	p = naive_real_malloc(n);
	if (p)
		naive_record(naive_malloc, p, n, __builtin_ia32_rdtsc());
	return p;
}

void *calloc(size_t n, size_t m)
{
	void *p;
	if (__builtin_expect(!naive_real_calloc, 0)) {
		size_t total;
		if (__builtin_mul_overflow(n, m, &total))
			return NULL;
		return malloc(total); /* the boot buffer is zero: static, never reused */
	}
	p = naive_real_calloc(n, m);
	if (p)
		naive_record(naive_calloc, p, n * m, __builtin_ia32_rdtsc());
	return p;
}

void *realloc(void *old, size_t n)
{
	void *p;
	if (old >= (void *)naive_boot && old < (void *)(naive_boot + sizeof naive_boot)) {
		size_t have = (size_t)(naive_boot + sizeof naive_boot - (char *)old);
		p = malloc(n);
		if (p)
			memcpy(p, old, n < have ? n : have);
		return p;
	}
	p = naive_real_realloc(old, n);
	if (p || n == 0) { /* two records: the old block's free, the new block */
		uint64_t tsc = __builtin_ia32_rdtsc();
		if (old)
			naive_record(naive_free, old, 0, tsc);
		if (p)
			naive_record(naive_realloc, p, n, tsc);
	}
	return p;
}

void free(void *p)
{
	if (!p || (p >= (void *)naive_boot && p < (void *)(naive_boot + sizeof naive_boot)))
		return;
	naive_record(naive_free, p, 0, __builtin_ia32_rdtsc());
	naive_real_free(p);
}

/* claim.c - what the recorder's signal-safe slot claim costs
 *
 *     cc -O2 -o /tmp/claim scripts/bench/claim.c && /tmp/claim
 *
 * A thread claims each record's slot in its chunk by moving its position
 * on (record/thread.h, gm_thread_claim_slot). Read, then stored moved, a
 * signal handler recording in between got the same slot and one of the
 * two records was written over; one xadd (no lock: the position is the
 * thread's own) cannot be cut in two. This times both, 16-byte records
 * written back to back into a 1 MiB buffer from a thread-local position,
 * five runs of 10^8 records: ns a record, the xadd's dependency on the
 * previous claim being the whole difference.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define CLAIM_WORDS (1u << 17)
static __thread uint64_t *claim_pos;
static uint64_t claim_buf[CLAIM_WORDS];

static double claim_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* read the position, store it moved (not signal-safe) */
__attribute__((noinline)) static void claim_load_store(long n)
{
	for (long i = 0; i < n; i++) {
		uint64_t *p = claim_pos;
		if (p >= claim_buf + CLAIM_WORDS - 2) {
			claim_pos = claim_buf;
			continue;
		}
		claim_pos = p + 2;
		__asm__ volatile("" ::: "memory");
		p[1] = (uint64_t)i;
		__atomic_store_n(&p[0], (uint64_t)i, __ATOMIC_RELEASE);
	}
}

/* one xadd (what the recorder does on x86-64) */
__attribute__((noinline)) static void claim_xadd(long n)
{
	for (long i = 0; i < n; i++) {
		uint64_t *p = claim_pos;
		uintptr_t at = 16;
		if (p >= claim_buf + CLAIM_WORDS - 2) {
			claim_pos = claim_buf;
			continue;
		}
#if defined(__x86_64__)
		__asm__ volatile("xaddq %0, %1" : "+r"(at), "+m"(claim_pos) : : "memory");
#else
		at = (uintptr_t)__atomic_fetch_add((uintptr_t *)(void *)&claim_pos, at,
		                                   __ATOMIC_RELAXED);
#endif
		p = (uint64_t *)at;
		p[1] = (uint64_t)i;
		__atomic_store_n(&p[0], (uint64_t)i, __ATOMIC_RELEASE);
	}
}

int main(void)
{
	const long n = 100000000;
	claim_pos = claim_buf;
	for (int r = 0; r < 5; r++) {
		double t0 = claim_now(), t1, t2;
		claim_load_store(n);
		t1 = claim_now();
		claim_xadd(n);
		t2 = claim_now();
		printf("load+store %.2f ns a record, xadd %.2f ns a record\n",
		       (t1 - t0) / (double)n, (t2 - t1) / (double)n);
	}
	return 0;
}

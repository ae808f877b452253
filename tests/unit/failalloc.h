/* failalloc.h - make one allocation of the code under test fail
 *
 * Unit tests built with gm_unit_test(... FAILALLOC) have malloc, calloc,
 * realloc and strdup of the statically linked project code routed through
 * failalloc.c (the linker's --wrap). gm_failalloc_arm(n) makes the n-th such
 * call from now (0: the next one) fail with NULL and ENOMEM, once; every
 * other call is served as usual. A test loops n from 0 until the code under
 * test makes fewer than n + 1 calls, checking each time that the failure
 * gives a clear error and no crash, no leak (the sanitizer build checks
 * that) and no partial result.
 */
#ifndef GM_FAILALLOC_H
#define GM_FAILALLOC_H

/* Fail the n-th allocation from now (n >= 0); n < 0 disarms. */
void gm_failalloc_arm(long n);

/* Allocation calls seen since the last gm_failalloc_arm. */
long gm_failalloc_calls(void);

/* 1 when the armed failure has happened. */
int gm_failalloc_fired(void);

/* Run body with the n-th allocation failing, for n = 0, 1, ... until a run
 * makes no n-th allocation (the failure never fired); then run it once more
 * with nothing failing. body gets n (-1 for the last run) and returns 0 when
 * it finished without an error, nonzero when it reported one. Returns the
 * number of failing runs. Stops after max runs (the code then allocates more
 * than the test expects: its result is -1). */
long gm_failalloc_each(int (*body)(long n, void *arg), void *arg, long max);

#endif

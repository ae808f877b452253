/* failalloc.c - the --wrap side of failalloc.h */
#include "failalloc.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);

static long gm_failalloc_target = -1, gm_failalloc_seen;
static int gm_failalloc_hit;

void gm_failalloc_arm(long n)
{
	gm_failalloc_target = n;
	gm_failalloc_seen = 0;
	gm_failalloc_hit = 0;
}

long gm_failalloc_calls(void)
{
	return gm_failalloc_seen;
}

int gm_failalloc_fired(void)
{
	return gm_failalloc_hit;
}

/* 1 when this call is the one to fail. */
static int gm_failalloc_now(void)
{
	if (gm_failalloc_target < 0)
		return 0;
	if (gm_failalloc_seen++ != gm_failalloc_target)
		return 0;
	gm_failalloc_hit = 1;
	errno = ENOMEM;
	return 1;
}

void *__wrap_malloc(size_t n)
{
	return gm_failalloc_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	return gm_failalloc_now() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	return gm_failalloc_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return gm_failalloc_now() ? NULL : __real_strdup(s);
}

long gm_failalloc_each(int (*body)(long n, void *arg), void *arg, long max)
{
	long n;
	for (n = 0; n < max; n++) {
		int rc;
		gm_failalloc_arm(n);
		rc = body(n, arg);
		if (!gm_failalloc_fired()) {
			gm_failalloc_arm(-1);
			return rc == 0 ? n : -1;
		}
		(void)rc;
	}
	gm_failalloc_arm(-1);
	return -1;
}

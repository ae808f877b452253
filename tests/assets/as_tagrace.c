/* as_tagrace.c - threads that use the same new tag names at the same moment
 *
 *     as_tagrace [NAMES]   (default 2000)
 *
 * Four threads meet at a barrier, then each walks the names "race/0",
 * "race/1", ... at the same time: the even threads push each name
 * (gmtrace_tag_push), the odd ones intern it (gmtrace_tag_id) and push the
 * id (gmtrace_tag_push_id). Under each tag one block of 24 bytes, kept to
 * the end, then the pop. So every name is interned by four threads racing,
 * and nothing here is wrong: no validation, every "race/k" tag holds four
 * blocks, and gmtrace_tag_id never gives 0 for one of these names.
 *
 * JSON: threads, names, block_bytes, zero_ids (gmtrace_tag_id calls that
 * gave 0).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "gmtrace.h"

#define TR_THREADS 4
#define TR_BLOCK 24

static pthread_barrier_t tr_go;
static uint64_t tr_names = 2000;
static uint64_t tr_zero_ids; /* atomic */
static void **tr_keep;       /* [thread][name] */

static void *tr_worker(void *arg)
{
	int k = (int)(intptr_t)arg;
	char name[32], digits[24];
	pthread_barrier_wait(&tr_go);
	for (uint64_t i = 0; i < tr_names; i++) {
		strcpy(name, "race/");
		strcat(name, fx_u64_fmt(i, digits));
		if (k % 2 == 0) {
			gmtrace_tag_push(name);
		} else {
			uint32_t id = gmtrace_tag_id(name);
			if (id == 0)
				__atomic_add_fetch(&tr_zero_ids, 1, __ATOMIC_RELAXED);
			gmtrace_tag_push_id(id);
		}
		tr_keep[(uint64_t)k * tr_names + i] = malloc(TR_BLOCK);
		FX_CHECK(tr_keep[(uint64_t)k * tr_names + i] != NULL, "a block");
		gmtrace_tag_pop();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[TR_THREADS];
	fx_name = "as_tagrace";
	tr_names = fx_arg_u64(argc > 1 ? argv[1] : NULL, 2000);
	FX_CHECK(tr_names > 0 && tr_names <= 20000, "names");
	tr_keep = calloc(TR_THREADS * tr_names, sizeof(*tr_keep));
	FX_CHECK(tr_keep != NULL, "the table of blocks");
	FX_CHECK(pthread_barrier_init(&tr_go, NULL, TR_THREADS) == 0, "barrier");
	for (int k = 0; k < TR_THREADS; k++)
		FX_CHECK(pthread_create(&t[k], NULL, tr_worker, (void *)(intptr_t)k) == 0,
		         "thread");
	for (int k = 0; k < TR_THREADS; k++)
		pthread_join(t[k], NULL);
	GMTRACE_FRAME();
	fx_json_begin();
	fx_json_u64("threads", TR_THREADS);
	fx_json_u64("names", tr_names);
	fx_json_u64("block_bytes", TR_BLOCK);
	fx_json_u64("zero_ids", gmtrace_enabled() ? tr_zero_ids : 0);
	return fx_json_write(1) == 0 ? 0 : 1;
}

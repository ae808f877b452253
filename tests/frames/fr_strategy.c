/* fr_strategy.c - genre: a strategy game, thousands of entities and a growing array
 *
 *     fr_strategy [F]    F frames (default 400, 60 <= F <= 2000), not slept
 *
 * Frame n spawns E(n) = 5 + n % 7 entities, entity id i (a global count
 * from 0) a block of FX_SIZE(1 + i % 3), and appends its pointer to the
 * entity array. The array is one heap block grown with realloc: its byte
 * size is always a rule size, FX_SIZE(c) with c = 1, 2, 4, 8, ... (it holds
 * FX_SIZE(c) / 8 pointers), doubled when full. Before spawning, frame n
 * destroys the entities born 50 frames earlier whose id % 3 == 0 (freeing
 * the block, removing it from the array by moving the last one into its
 * place). Frame F frees every entity and the array.
 *
 * Counting follows `gmtrace summary` (tests/fixtures/README.md): the first
 * realloc(NULL, n) is one allocation; every later realloc(p, n) is one free
 * of p and one allocation of n, in the frame that calls it.
 *
 * Expected for F = 400 (from the code; the JSON line has every frame):
 * 3198 entities; the array grown at ids 0, 901, 1669 (realloc to
 * FX_SIZE(1), (2), (4)); 3201 allocations (3198 entities + 3 array sizes),
 * 3201 frees (3198 entities, 2 by realloc, the array at the end).
 */
#define _GNU_SOURCE
#include "fr_common.h"

#include <gmtrace.h>

#define FR_MAX_ENTITIES 20000u

static uint64_t fr_born[FR_MAX_ENTITIES], fr_id[FR_MAX_ENTITIES]; /* by array slot */
static uint64_t fr_grow_at[16];
static unsigned fr_ngrow;

int main(int argc, char **argv)
{
	void **ents = NULL;
	uint64_t count = 0, cap = 0, cap_k = 0, next_id = 0;

	fx_name = "strategy";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 400);
	if (nframes < 60 || nframes > 2000)
		fx_fail("usage", "fr_strategy [F], 60 <= F <= 2000");
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, in frame 1 */

	for (uint64_t n = 1; n <= nframes; n++) {
		/* destroy: born 50 frames ago, id % 3 == 0 */
		for (uint64_t s = 0; s < count;) {
			if (fr_born[s] + 50 == n && fr_id[s] % 3 == 0) {
				fr_free(ents[s], FX_SIZE(1 + fr_id[s] % 3));
				count--;
				ents[s] = ents[count];
				fr_born[s] = fr_born[count];
				fr_id[s] = fr_id[count];
			} else {
				s++;
			}
		}
		/* spawn */
		for (uint64_t e = 5 + n % 7; e > 0; e--, next_id++) {
			if (count == cap) {
				uint64_t k = cap_k ? cap_k * 2 : 1;
				size_t old_usable = ents ? malloc_usable_size(ents) : 0;
				void **grown = realloc(ents, FX_SIZE(k));
				if (!grown)
					fx_fail("realloc", "the entity array could not grow");
				if (ents)
					fr_count_free(FX_SIZE(cap_k), old_usable);
				fr_count_alloc(FX_SIZE(k), malloc_usable_size(grown));
				fx_sink = ents = grown;
				cap_k = k;
				cap = FX_SIZE(k) / sizeof(*ents);
				if (count + 1 > FR_MAX_ENTITIES || fr_ngrow == 16)
					fx_fail("entities", "too many");
				fr_grow_at[fr_ngrow++] = next_id;
			}
			ents[count] = fr_alloc(FX_SIZE(1 + next_id % 3));
			fr_born[count] = n;
			fr_id[count] = next_id;
			count++;
		}
		if (n == nframes) {
			while (count) {
				count--;
				fr_free(ents[count], FX_SIZE(1 + fr_id[count] % 3));
			}
			size_t usable = malloc_usable_size(ents);
			free(ents);
			fr_count_free(FX_SIZE(cap_k), usable);
		}
		GMTRACE_FRAME();
		fr_next();
	}

	fx_json_begin();
	fx_json_u64("frames", nframes);
	fx_json_u64("entities", next_id);
	fx_json_open("array_grown_at", '[');
	for (unsigned i = 0; i < fr_ngrow; i++)
		fx_json_u64(NULL, fr_grow_at[i]);
	fx_json_close(']');
	fx_json_u64("reallocs", fr_ngrow);
	fr_json_tally();
	fr_json_per_frame(nframes, 0);
	fr_json_per_frame_usable(nframes);
	return fx_json_write(1) == 0 ? 0 : 1;
}

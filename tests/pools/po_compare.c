/* po_compare.c - the same particle workload without and with an object pool
 *
 *     po_compare heap|pool [F]     F frames (default 100, 1 <= F <= 100000)
 *
 * Both modes, before frame 1 ends: look the marker API up, and malloc one
 * block of 2000 x 96 bytes (the pool's storage; unused by heap mode, which
 * allocates it too so that both runs make the same allocations outside the
 * particles). Then every frame takes 2000 particles of 96 bytes, writes
 * them, and gives them all back before GMTRACE_FRAME():
 *   heap  malloc(96) and free() each one;
 *   pool  a slot of the storage each, told to gmtrace as
 *         gmtrace_pool_acquire(pool, 1) / gmtrace_pool_release(pool, 1)
 *         on the pool "particles" (96 bytes, capacity 2000).
 * So per frame the heap run makes exactly 2000 more allocations than the
 * pool run ("avoided_per_frame"), and over F frames 2000 F.
 */
#define _GNU_SOURCE
#include "po_common.h"

#include <gmtrace.h>

#define PO_PARTICLES 2000
#define PO_PARTICLE_BYTES 96

static void *po_particles[PO_PARTICLES];

int main(int argc, char **argv)
{
	uint64_t frames, f, i, sum = 0;
	unsigned char *storage;
	uint32_t pool = 0;
	int use_pool;

	fx_name = "po_compare";
	if (argc < 2 || (strcmp(argv[1], "heap") != 0 && strcmp(argv[1], "pool") != 0))
		fx_fail("arguments", "usage: po_compare heap|pool [F]");
	use_pool = strcmp(argv[1], "pool") == 0;
	frames = fx_arg_u64(argc > 2 ? argv[2] : NULL, 100);
	if (frames < 1 || frames > 100000)
		fx_fail("arguments", "F must be 1..100000");
	fx_json_begin();
	(void)gmtrace_enabled();
	storage = malloc(PO_PARTICLES * PO_PARTICLE_BYTES);
	if (!storage)
		fx_fail("malloc", "failed");
	fx_touch(storage, PO_PARTICLES * PO_PARTICLE_BYTES);
	if (use_pool) {
		pool = gmtrace_pool_create("particles", PO_PARTICLE_BYTES, PO_PARTICLES);
		if (pool == 0)
			fx_fail("gmtrace_pool_create", "returned 0: run under libgmtrace");
	}

	for (f = 1; f <= frames; f++) {
		for (i = 0; i < PO_PARTICLES; i++) {
			unsigned char *p;

			if (use_pool) {
				p = storage + i * PO_PARTICLE_BYTES;
				gmtrace_pool_acquire(pool, 1);
			} else {
				p = malloc(PO_PARTICLE_BYTES);
				if (!p)
					fx_fail("malloc", "failed");
			}
			p[0] = (unsigned char)i;
			p[PO_PARTICLE_BYTES - 1] = (unsigned char)f;
			po_particles[i] = p;
		}
		for (i = 0; i < PO_PARTICLES; i++) {
			unsigned char *p = po_particles[i];

			sum += p[0] + p[PO_PARTICLE_BYTES - 1];
			if (use_pool)
				gmtrace_pool_release(pool, 1);
			else
				free(p);
		}
		GMTRACE_FRAME();
	}
	fx_sink = (void *)(uintptr_t)sum;
	free(storage);

	fx_json_str("mode", argv[1]);
	fx_json_u64("frames", frames);
	fx_json_u64("particles_per_frame", PO_PARTICLES);
	fx_json_u64("particle_size", PO_PARTICLE_BYTES);
	fx_json_u64("avoided_per_frame", use_pool ? PO_PARTICLES : 0);
	return fx_json_write(1) == 0 ? 0 : 1;
}

/* as_particles.c - a particle system under "gameplay/particles" that leaks a few particles a frame
 *
 *     as_particles [F [P [L]]]    F frames (default 120, <= 10000), P particles
 *                                 spawned a frame (default 16, <= 64), L of them
 *                                 leaked a frame (default 2, L < P)
 *
 * Frame n (1..F):
 *   1. tag gameplay/particles: spawns P particles of FX_SIZE(2) = 9963 bytes,
 *      frees the first P - L of them; the last L are never freed (the leak);
 *   2. tag gameplay/ai (the control: no leak): allocates 3 blocks of
 *      FX_SIZE(3), frees them all;
 *   3. GMTRACE_FRAME().
 * So gameplay/particles grows by exactly L * 9963 bytes every frame and holds
 * L * F blocks at exit; gameplay/ai ends every frame at 0 live bytes. Nothing
 * else is allocated on purpose; no asset is involved.
 *
 * Expected for the defaults: particles 1920 allocations, 1680 frees, 240
 * blocks live at exit (2391120 bytes), growth 19926 bytes per frame; ai 360
 * allocations, 360 frees, peak 42177; total 2280 allocations, 2040 frees.
 */
#define _GNU_SOURCE
#include "as_common.h"

#define AS_MAX_FRAMES 10000
#define AS_MAX_P 64

static as_tag_t as_gameplay = {.name = "gameplay", .parent = NULL};
static as_tag_t as_particles = {.name = "gameplay/particles", .parent = &as_gameplay};
static as_tag_t as_ai = {.name = "gameplay/ai", .parent = &as_gameplay};

static void *as_leaked[AS_MAX_FRAMES * 4];

int main(int argc, char **argv)
{
	as_block_t spawned[AS_MAX_P], ai[3];
	uint64_t nleaked = 0;
	fx_name = "particles";
	uint64_t nframes = fx_arg_u64(argc > 1 ? argv[1] : NULL, 120);
	uint64_t p = fx_arg_u64(argc > 2 ? argv[2] : NULL, 16);
	uint64_t l = fx_arg_u64(argc > 3 ? argv[3] : NULL, 2);
	if (nframes < 1 || nframes > AS_MAX_FRAMES || p < 1 || p > AS_MAX_P || l >= p ||
	    l * nframes > sizeof(as_leaked) / sizeof(as_leaked[0]))
		fx_fail("usage",
		        "as_particles [F [P [L]]], F <= 10000, P <= 64, L < P, L*F <= 40000");
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, before any tag */
	uint32_t particles_tag = gmtrace_tag_id("gameplay/particles");

	for (uint64_t n = 1; n <= nframes; n++) {
		gmtrace_tag_push_id(particles_tag);
		for (uint64_t i = 0; i < p; i++)
			spawned[i] = as_alloc(NULL, &as_particles, 2, 1);
		for (uint64_t i = 0; i < p - l; i++)
			as_free(&spawned[i]);
		for (uint64_t i = p - l; i < p; i++)
			as_leaked[nleaked++] = spawned[i].p;
		gmtrace_tag_pop();

		gmtrace_tag_push("gameplay/ai");
		for (unsigned i = 0; i < 3; i++)
			ai[i] = as_alloc(NULL, &as_ai, 3, 1);
		for (unsigned i = 0; i < 3; i++)
			as_free(&ai[i]);
		gmtrace_tag_pop();
		as_frame_end();
	}
	fx_sink = as_leaked;

	fx_json_begin();
	as_json_common();
	fx_json_u64("particles_per_frame", p);
	fx_json_u64("leaked_per_frame", l);
	fx_json_u64("particle_size", FX_SIZE(2));
	fx_json_u64("growth_bytes_per_frame", l * FX_SIZE(2));
	fx_json_u64("leaked_blocks", nleaked);
	fx_json_str("leaking_tag", as_particles.name);
	fx_json_str("control_tag", as_ai.name);
	fx_json_open("tags", '[');
	as_json_tag(&as_gameplay);
	as_json_tag(&as_particles);
	as_json_tag(&as_ai);
	fx_json_close(']');
	return fx_json_write(1) == 0 ? 0 : 1;
}

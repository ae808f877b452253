/* po_churn.c - a game without pools whose particles churn through the heap
 *
 *     po_churn [F]           F frames (default 60, 3 <= F <= 1000)
 *
 * Under tag "gameplay/particles", every frame allocates 2000 particle
 * structs of 96 bytes with malloc. Particle i born in frame f lives
 * L = (7 i + f) % 3 frames: L = 0 ones are freed at the end of their own
 * frame, the others at the start of frame f + L, before that frame's new
 * particles. The ones still alive after frame F are freed after it, in no
 * frame (the capture's tail). Every particle is freed within 2 frames, so
 * the group is short-lived for any --churn-frames K >= 3.
 *
 * Noise around it, each under its own tag (pushed by id every frame):
 *   (no tag)            300 blocks of 96 bytes per frame, freed at the start
 *                       of the next frame: the same size, another group;
 *   gameplay/particles  5 blocks of 100 bytes per frame, freed in the frame
 *                       (the rest of the 65..128-byte class: the 96-byte
 *                       size holds more than half of it, so it is its own
 *                       group and these 100-byte blocks are not in it);
 *   audio               10 blocks per frame of 200 + (13 i + f) % 50 bytes,
 *                       freed in the frame (no size holds half the class);
 *   ui                  one block of 37 and one of 1234 bytes, freed in the frame;
 *   render/meshes       50 blocks of 4196 bytes in frame 1, never freed;
 *   world/streaming     one block of 8192 bytes per frame, freed after the
 *                       last frame (long-lived).
 *
 * The fixture counts its 96-byte particles live after every malloc and
 * free: "particle_peak_live" is the highest count, first reached in frame
 * "particle_peak_frame". gmtrace pools must list the particle group first,
 * with exactly these figures, 2000 allocations per frame and a suggested
 * capacity of ceil(1.1 x peak).
 */
#define _GNU_SOURCE
#include "po_common.h"

#include <gmtrace.h>

#define PO_PARTICLES 2000
#define PO_PARTICLE_BYTES 96
#define PO_UNTAGGED 300
#define PO_MAX_FRAMES 1000

/* Particles alive, by the frame they die in (mod 3). */
static void *po_dying[3][PO_PARTICLES];
static size_t po_ndying[3];
static void *po_now[PO_PARTICLES]; /* L = 0: freed at the end of this frame */
static size_t po_nnow;
static void *po_untagged[PO_UNTAGGED];
static void *po_streaming[PO_MAX_FRAMES];
static void *po_meshes[50];

static uint64_t po_live, po_peak, po_peak_frame;
static unsigned po_particle_line; /* the source line of the particles' po_alloc call */

/* A frame of its own, so that call stacks name it (GMTRACE_STACKS runs). */
static __attribute__((noinline)) void *po_alloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		fx_fail("malloc", "failed");
	fx_touch(p, n);
	return p;
}

static void po_particle_free(void *p)
{
	free(p);
	po_live--;
}

int main(int argc, char **argv)
{
	uint64_t frames = fx_arg_u64(argc > 1 ? argv[1] : NULL, 60), f, i;
	uint32_t t_particles, t_audio, t_ui, t_meshes, t_streaming;
	void *tmp[16];

	fx_name = "po_churn";
	if (frames < 3 || frames > PO_MAX_FRAMES)
		fx_fail("arguments", "F must be 3..1000");
	fx_json_begin();
	t_particles = gmtrace_tag_id("gameplay/particles");
	t_audio = gmtrace_tag_id("audio");
	t_ui = gmtrace_tag_id("ui");
	t_meshes = gmtrace_tag_id("render/meshes");
	t_streaming = gmtrace_tag_id("world/streaming");
	if (!t_particles || !t_audio || !t_ui || !t_meshes || !t_streaming)
		fx_fail("gmtrace_tag_id", "returned 0: run under libgmtrace");

	for (f = 1; f <= frames; f++) {
		size_t d = f % 3;

		/* particles dying now, born in an earlier frame */
		for (i = 0; i < po_ndying[d]; i++)
			po_particle_free(po_dying[d][i]);
		po_ndying[d] = 0;
		if (f > 1)
			for (i = 0; i < PO_UNTAGGED; i++)
				free(po_untagged[i]);

		gmtrace_tag_push_id(t_particles);
		for (i = 0; i < PO_PARTICLES; i++) {
			uint64_t life = (7 * i + f) % 3;
			void *p;
			po_particle_line = __LINE__ + 1;
			p = po_alloc(PO_PARTICLE_BYTES);

			if (++po_live > po_peak) {
				po_peak = po_live;
				po_peak_frame = f;
			}
			if (life == 0)
				po_now[po_nnow++] = p;
			else
				po_dying[(f + life) % 3][po_ndying[(f + life) % 3]++] = p;
		}
		for (i = 0; i < 5; i++)
			tmp[i] = po_alloc(100);
		for (i = 0; i < 5; i++)
			free(tmp[i]);
		gmtrace_tag_pop();

		for (i = 0; i < PO_UNTAGGED; i++)
			po_untagged[i] = po_alloc(PO_PARTICLE_BYTES);

		gmtrace_tag_push_id(t_audio);
		for (i = 0; i < 10; i++)
			tmp[i] = po_alloc(200 + (13 * i + f) % 50);
		for (i = 0; i < 10; i++)
			free(tmp[i]);
		gmtrace_tag_pop();

		gmtrace_tag_push_id(t_ui);
		tmp[0] = po_alloc(37);
		tmp[1] = po_alloc(1234);
		free(tmp[1]);
		free(tmp[0]);
		gmtrace_tag_pop();

		if (f == 1) {
			gmtrace_tag_push_id(t_meshes);
			for (i = 0; i < 50; i++)
				po_meshes[i] = po_alloc(4196);
			gmtrace_tag_pop();
		}
		gmtrace_tag_push_id(t_streaming);
		po_streaming[f - 1] = po_alloc(8192);
		gmtrace_tag_pop();

		for (i = 0; i < po_nnow; i++)
			po_particle_free(po_now[i]);
		po_nnow = 0;
		GMTRACE_FRAME();
	}
	/* the tail: no frame */
	for (f = 0; f < 3; f++) {
		for (i = 0; i < po_ndying[f]; i++)
			po_particle_free(po_dying[f][i]);
		po_ndying[f] = 0;
	}
	for (i = 0; i < PO_UNTAGGED; i++)
		free(po_untagged[i]);
	for (f = 0; f < frames; f++)
		free(po_streaming[f]);
	if (po_live != 0)
		fx_fail("particles", "some were never freed");

	fx_json_u64("frames", frames);
	fx_json_str("particle_tag", "gameplay/particles");
	fx_json_u64("particle_size", PO_PARTICLE_BYTES);
	fx_json_u64("particles_per_frame", PO_PARTICLES);
	fx_json_u64("particle_allocations", PO_PARTICLES * frames);
	fx_json_u64("particle_peak_live", po_peak);
	fx_json_u64("particle_peak_frame", po_peak_frame);
	fx_json_u64("particle_line", po_particle_line);
	fx_json_u64("suggested_capacity", po_headroom(po_peak, 10));
	fx_json_u64("untagged_96_per_frame", PO_UNTAGGED);
	fx_json_u64("particle_other_size", 100);
	fx_json_u64("particle_other_per_frame", 5);
	return fx_json_write(1) == 0 ? 0 : 1;
}

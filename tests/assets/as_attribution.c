/* as_attribution.c - known assets and tags, one asset loaded partly by a worker thread
 *
 *     as_attribution          (no arguments)
 *
 * Every block below is FX_SIZE(k) (fixture.h); "kept" blocks live until
 * exit. Tags by name: render > render/textures, render/meshes;
 * audio > audio/music. The worker thread is created before any scope (its
 * start-up allocations belong to nothing) and waits on a semaphore.
 *
 *   frame 1  untagged, no asset:  k=1 kept
 *            tag audio:           k=2, k=3 kept; k=4 allocated then freed
 *   frame 2  tag render:          k=5 kept
 *              tag render/textures: asset hero_diffuse (texture): k=6, k=7;
 *                                 load_end; extra_bytes 4 MiB; then k=8
 *                                 outside the asset (texture cache), kept
 *            tag render again:    k=9 kept (the pop restored the outer tag)
 *              tag render/meshes: asset level_mesh (mesh): main k=10; the
 *                                 worker attaches, pushes render/meshes,
 *                                 allocates 3 x k=11, pops, detaches, then
 *                                 allocates k=12 (no tag, no asset, kept);
 *                                 main k=13; load_end
 *   frame 3  tag audio/music:     asset theme_music (sound): 2 x k=14
 *            no tag:              asset config (data): k=15
 *   frame 4  unload theme_music and level_mesh (main frees all their
 *            blocks, the worker's too, with no tag current)
 *   frame 5  nothing (the line is written after the last frame mark)
 *
 * Expected (the fixture computes and prints them; FX_SIZE(k) = 4096k + 1771):
 *   hero_diffuse  live 56790 (k6 + k7), peak 56790, extra 4194304, resident
 *   level_mesh    allocated 238231 (k10 + 3 k11 + k13), freed all, peak 238231
 *   theme_music   allocated 118230 (2 k14), freed all, unloaded
 *   config        live 63211 (k15), resident
 *   tags (own):   render 60886 live; render/textures 91329 live;
 *                 render/meshes 0 live, peak 238231; audio 24022 live, peak
 *                 42177; audio/music 0 live, peak 118230;
 *                 untagged 120001 live (k1 + k12 + k15)
 *   roll-ups:     render live 152215, allocated 390446, peak 390446;
 *                 audio live 24022, allocated 160407, peak 142252
 *   total:        18 allocations, 8 frees, 10 blocks live at exit (296238
 *                 bytes), peak 652699 (before the frame 4 unloads)
 *
 * Without the preload every marker call is a no-op and the line is the
 * same except "enabled" (the tests check that too).
 */
#define _GNU_SOURCE
#include "as_common.h"

#include <pthread.h>
#include <semaphore.h>

static as_tag_t as_render = {.name = "render", .parent = NULL};
static as_tag_t as_textures = {.name = "render/textures", .parent = &as_render};
static as_tag_t as_meshes = {.name = "render/meshes", .parent = &as_render};
static as_tag_t as_audio = {.name = "audio", .parent = NULL};
static as_tag_t as_music = {.name = "audio/music", .parent = &as_audio};

static as_asset_t as_hero = {.name = "hero_diffuse", .type = "texture"};
static as_asset_t as_mesh = {.name = "level_mesh", .type = "mesh"};
static as_asset_t as_theme = {.name = "theme_music", .type = "sound"};
static as_asset_t as_config = {.name = "config", .type = "data"};

static as_block_t as_kept[8];
static unsigned as_nkept;
static as_block_t as_hero_b[2], as_mesh_b[5], as_theme_b[2], as_config_b[1];

/* Hand-off between main and the worker: go starts the worker's part of the
 * mesh load, done says it finished (both are plain futex semaphores: no
 * allocation, and they order the tallies between the threads). */
static sem_t as_go, as_done;

static void *as_worker(void *arg)
{
	(void)arg;
	while (sem_wait(&as_go) != 0)
		;
	gmtrace_asset_attach(as_mesh.id);
	gmtrace_tag_push("render/meshes");
	for (unsigned i = 0; i < 3; i++)
		as_mesh_b[1 + i] = as_alloc(&as_mesh, &as_meshes, 11, 1);
	gmtrace_tag_pop();
	gmtrace_asset_detach(as_mesh.id);
	as_kept[as_nkept++] = as_alloc(NULL, NULL, 12, 1);
	sem_post(&as_done);
	return NULL;
}

int main(void)
{
	pthread_t worker;
	fx_name = "attribution";
	(void)gmtrace_enabled(); /* the marker API's one-time lookup, outside every scope */
	if (sem_init(&as_go, 0, 0) != 0 || sem_init(&as_done, 0, 0) != 0)
		fx_fail("sem_init", "failed");
	if (pthread_create(&worker, NULL, as_worker, NULL) != 0)
		fx_fail("pthread_create", "failed");

	/* frame 1 */
	as_kept[as_nkept++] = as_alloc(NULL, NULL, 1, 1);
	gmtrace_tag_push("audio");
	as_kept[as_nkept++] = as_alloc(NULL, &as_audio, 2, 1);
	as_kept[as_nkept++] = as_alloc(NULL, &as_audio, 3, 1);
	{
		as_block_t tmp = as_alloc(NULL, &as_audio, 4, 1);
		as_free(&tmp);
	}
	gmtrace_tag_pop();
	as_frame_end();

	/* frame 2 */
	gmtrace_tag_push("render");
	as_kept[as_nkept++] = as_alloc(NULL, &as_render, 5, 1);
	gmtrace_tag_push("render/textures");
	as_load_begin(&as_hero);
	as_hero_b[0] = as_alloc(&as_hero, &as_textures, 6, 1);
	as_hero_b[1] = as_alloc(&as_hero, &as_textures, 7, 1);
	as_load_end(&as_hero);
	as_hero.extra_bytes = 4u << 20;
	gmtrace_asset_extra_bytes(as_hero.id, as_hero.extra_bytes);
	as_kept[as_nkept++] = as_alloc(NULL, &as_textures, 8, 1);
	gmtrace_tag_pop();
	as_kept[as_nkept++] = as_alloc(NULL, &as_render, 9, 1);
	gmtrace_tag_push("render/meshes");
	as_load_begin(&as_mesh);
	as_mesh_b[0] = as_alloc(&as_mesh, &as_meshes, 10, 1);
	sem_post(&as_go);
	while (sem_wait(&as_done) != 0)
		;
	as_mesh_b[4] = as_alloc(&as_mesh, &as_meshes, 13, 1);
	as_load_end(&as_mesh);
	gmtrace_tag_pop();
	gmtrace_tag_pop();
	as_frame_end();
	if (pthread_join(worker, NULL) != 0)
		fx_fail("pthread_join", "failed");

	/* frame 3 */
	gmtrace_tag_push("audio/music");
	as_load_begin(&as_theme);
	as_theme_b[0] = as_alloc(&as_theme, &as_music, 14, 1);
	as_theme_b[1] = as_alloc(&as_theme, &as_music, 14, 1);
	as_load_end(&as_theme);
	gmtrace_tag_pop();
	as_load_begin(&as_config);
	as_config_b[0] = as_alloc(&as_config, NULL, 15, 1);
	as_load_end(&as_config);
	as_frame_end();

	/* frame 4 */
	as_unload(&as_theme, as_theme_b, 2);
	as_unload(&as_mesh, as_mesh_b, 5);
	as_frame_end();

	fx_sink = as_kept;
	fx_json_begin();
	as_json_common();
	fx_json_u64("worker_blocks", 4);
	fx_json_open("assets", '[');
	as_json_asset(&as_hero);
	as_json_asset(&as_mesh);
	as_json_asset(&as_theme);
	as_json_asset(&as_config);
	fx_json_close(']');
	fx_json_open("tags", '[');
	as_json_tag(&as_render);
	as_json_tag(&as_textures);
	as_json_tag(&as_meshes);
	as_json_tag(&as_audio);
	as_json_tag(&as_music);
	fx_json_close(']');
	return fx_json_write(1) == 0 ? 0 : 1;
}

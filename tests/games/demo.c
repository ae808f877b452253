/* demo.c - gm_demo: the headless demo game that gmtrace's README profiles
 *
 *     gm_demo [--frames N] [--fast] [--seed S]
 *
 * A small, real game loop with no window, so it runs anywhere (CI, ssh):
 * a fixed-step simulation of entities that spawn, move, take hits and die
 * in explosions of particles; three levels played one after the other, each
 * with procedurally generated textures, meshes and sounds; a UI text cache
 * and a console log full of short-lived strings; and a worker thread that
 * streams terrain chunks in the background, freed later by the main thread.
 *
 * It says what it does through every part of the marker API, so that each
 * of gmtrace's reports has something to show:
 *   - frames and ticks: GMTRACE_FRAME() ends each displayed frame; the
 *     simulation catches up with the frame's (modelled) duration in steps
 *     of 1/120 s, 0, 1 or 2 per frame, each ending with GMTRACE_TICK(); the
 *     streamer ends one GMTRACE_FRAME_N("streaming") per chunk;
 *   - tags: render/textures, render/meshes, audio/sounds,
 *     gameplay/particles, gameplay/entities, ui/text and streaming;
 *   - assets and scenes: each level begins with gmtrace_scene_begin(); its
 *     textures, meshes and sounds are assets (load, extra bytes for the
 *     pretend GPU upload of a texture, touches when drawn or played,
 *     references held by the entities and the sound bank, unload at the
 *     level change); the level's terrain is an asset the streaming thread
 *     attaches to while it makes a chunk;
 *   - a pool: particles come from a fixed pool and overflow to the heap in
 *     the busiest frames;
 *   - a budget: "textures", bound to type "texture", LRU, whose hard limit
 *     the third level would exceed; its evictor unloads a texture, which is
 *     loaded again if it is drawn later.
 * Without gmtrace those calls do nothing, and the texture cache keeps
 * itself under the same limits (demo_cache_trim): the game does the same
 * work either way.
 *
 * What a memory profiler should find in it:
 *   - steady per-frame churn: particles past the pool, UI strings;
 *   - a component array that grows by doubling (realloc) and shrinks at
 *     each level change;
 *   - a spike at every level change (the next level is loaded before the
 *     previous one is released) with big asset buffers;
 *   - textures streamed in as the camera moves on, and evicted when the
 *     cache reaches its limits (the third level does not fit);
 *   - a leak: the sound bank of level 2 ("caverns") takes a reference on its
 *     3 ambient sounds and never drops it, so those assets are live at exit;
 *   - cross-thread frees: chunks allocated by the streamer, freed by the game.
 *
 * Deterministic: every random choice comes from a seeded generator (the
 * streamer seeds from the chunk id, an asset from its level and index) and
 * frame durations are modelled, so the same arguments make the same
 * allocations; only their timing varies. By default 600 frames paced to
 * 120 FPS (about 5 s); --fast drops the pacing. Prints one summary line.
 */
#define _GNU_SOURCE
#include <gmtrace.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEMO_HZ 120
#define DEMO_ARENA_W 1024.0f
#define DEMO_ARENA_H 768.0f

/* Games rarely survive out-of-memory; this one says where it happened. */
#define DEMO_NEED(p)                                         \
	do {                                                 \
		if ((p) == NULL)                             \
			demo_die("out of memory", __func__); \
	} while (0)

static void demo_die(const char *what, const char *where)
{
	fprintf(stderr, "gm_demo: %s in %s\n", what, where);
	exit(1);
}

/* xorshift64*: the game's only source of randomness. */
static uint32_t demo_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (uint32_t)((x * 0x2545f4914f6cdd1dull) >> 32);
}

/* A float in [lo, hi). */
static float demo_randf(uint64_t *s, float lo, float hi)
{
	return lo + (hi - lo) * (float)(demo_rand(s) >> 8) * (1.0f / 16777216.0f);
}

/* A generator's seed from a few numbers (splitmix64's finalizer): nearby
 * inputs give unrelated, nonzero seeds. */
static uint64_t demo_seed(uint64_t a, uint64_t b)
{
	uint64_t z = a * 0x9e3779b97f4a7c15ull + b;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z ? z : 1;
}

/* ---- tags: which subsystem allocates ---- */

enum demo_tag {
	demo_tag_textures,
	demo_tag_meshes,
	demo_tag_sounds,
	demo_tag_particles,
	demo_tag_entities,
	demo_tag_text,
	demo_tag_streaming,
	demo_tag_count
};
static const char *const demo_tag_names[demo_tag_count] = {
        "render/textures",   "render/meshes", "audio/sounds", "gameplay/particles",
        "gameplay/entities", "ui/text",       "streaming"};
/* interned once at start (all 0 without gmtrace): pushed by id every frame */
static uint32_t demo_tag_ids[demo_tag_count];

static void demo_tag_push(enum demo_tag tag)
{
	gmtrace_tag_push_id(demo_tag_ids[tag]);
}

/* ---- assets ---- */

enum demo_asset_kind {
	demo_asset_texture,
	demo_asset_mesh,
	demo_asset_sound,
	demo_asset_kind_count
};
static const char *const demo_asset_types[demo_asset_kind_count] = {"texture", "mesh", "sound"};

/* An asset's entry outlives its data: an evicted texture keeps its entry,
 * and a load remakes the same bytes from the seed. */
typedef struct demo_asset {
	char name[48];
	enum demo_asset_kind kind;
	int refs;           /* the level's hold plus one per user (entity, sound bank) */
	uint64_t id;        /* gmtrace's id of the current load (0: unloaded, or no gmtrace) */
	uint64_t seed;      /* what it is made from */
	unsigned max_shift; /* a texture is (128 << 0..max_shift) pixels wide */
	size_t bytes;       /* of data */
	size_t index_bytes; /* of index */
	void *data;         /* texels, vertices or samples; NULL while not resident */
	void *index;        /* a mesh's index buffer, or NULL */
	uint64_t last_used; /* frame of the last draw (textures: the cache's LRU order) */
	uint64_t load_seq;  /* order of the last load (ties in that order) */
} demo_asset_t;

typedef struct demo_vertex {
	float px, py, pz, nx, ny, nz, u, v;
} demo_vertex_t;

static char *demo_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A formatted string on the heap, as a game's string helpers make them. */
static char *demo_strfmt(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		demo_die("out of memory", __func__);
	return s;
}

static void demo_texture_make(demo_asset_t *a)
{
	uint64_t rng = a->seed;
	unsigned side = 128u << (demo_rand(&rng) % (a->max_shift + 1));
	uint32_t c1 = demo_rand(&rng) | 0xff000000u, c2 = demo_rand(&rng) | 0xff000000u;
	uint32_t *px = malloc((size_t)side * side * sizeof(*px));
	DEMO_NEED(px);
	for (unsigned y = 0; y < side; y++)
		for (unsigned x = 0; x < side; x++)
			px[(size_t)y * side + x] = ((x ^ y) & 32) ? c1 : c2 ^ ((x * y) & 0xff);
	a->data = px;
	a->bytes = (size_t)side * side * sizeof(*px);
}

static void demo_mesh_make(demo_asset_t *a)
{
	uint64_t rng = a->seed;
	unsigned n = 32u << (demo_rand(&rng) % 3); /* a grid of n x n vertices */
	float freq = demo_randf(&rng, 0.05f, 0.3f);
	size_t nverts = (size_t)n * n, nidx = (size_t)(n - 1) * (n - 1) * 6;
	demo_vertex_t *v = malloc(nverts * sizeof(*v));
	uint32_t *idx = malloc(nidx * sizeof(*idx));
	DEMO_NEED(v);
	DEMO_NEED(idx);
	for (unsigned y = 0; y < n; y++) {
		for (unsigned x = 0; x < n; x++) {
			demo_vertex_t *p = &v[(size_t)y * n + x];
			p->px = (float)x;
			p->pz = (float)y;
			p->py = sinf((float)x * freq) * cosf((float)y * freq) * 4.0f;
			p->nx = 0.0f;
			p->ny = 1.0f;
			p->nz = 0.0f;
			p->u = (float)x / (float)(n - 1);
			p->v = (float)y / (float)(n - 1);
		}
	}
	size_t k = 0;
	for (unsigned y = 0; y + 1 < n; y++) {
		for (unsigned x = 0; x + 1 < n; x++) {
			uint32_t i = y * n + x;
			idx[k++] = i;
			idx[k++] = i + n;
			idx[k++] = i + 1;
			idx[k++] = i + 1;
			idx[k++] = i + n;
			idx[k++] = i + n + 1;
		}
	}
	a->data = v;
	a->index = idx;
	a->bytes = nverts * sizeof(*v);
	a->index_bytes = nidx * sizeof(*idx);
}

static void demo_sound_make(demo_asset_t *a)
{
	uint64_t rng = a->seed;
	const unsigned rate = 22050;
	size_t n = (size_t)(rate * demo_randf(&rng, 0.5f, 2.0f));
	float f0 = demo_randf(&rng, 110.0f, 880.0f), f1 = demo_randf(&rng, 110.0f, 880.0f);
	int16_t *pcm = malloc(n * sizeof(*pcm));
	DEMO_NEED(pcm);
	float phase = 0.0f;
	for (size_t i = 0; i < n; i++) {
		float t = (float)i / (float)n;
		phase += 6.2831853f * (f0 + (f1 - f0) * t) / (float)rate;
		pcm[i] = (int16_t)(sinf(phase) * (1.0f - t) * 12000.0f);
	}
	a->data = pcm;
	a->bytes = n * sizeof(*pcm);
}

/* Makes a's data inside one gmtrace load scope. A texture is also uploaded
 * (pretend): the GPU copy and its mipmaps, a third more, are extra bytes. */
static void demo_asset_load(demo_asset_t *a)
{
	a->id = gmtrace_asset_load_begin(a->name, demo_asset_types[a->kind]);
	switch (a->kind) {
	case demo_asset_texture:
		demo_texture_make(a);
		break;
	case demo_asset_mesh:
		demo_mesh_make(a);
		break;
	default:
		demo_sound_make(a);
		break;
	}
	gmtrace_asset_load_end(a->id, 1);
	if (a->kind == demo_asset_texture)
		gmtrace_asset_extra_bytes(a->id, a->bytes + a->bytes / 3);
}

/* Frees a's data (the entry stays): the GPU copy goes first, then the
 * memory, inside the unload scope. */
static void demo_asset_unload(demo_asset_t *a)
{
	if (a->kind == demo_asset_texture)
		gmtrace_asset_extra_bytes(a->id, 0);
	gmtrace_asset_unload_begin(a->id);
	free(a->data);
	free(a->index);
	gmtrace_asset_unload_end(a->id);
	a->data = a->index = NULL;
	a->id = 0;
}

/* A user (an entity, the sound bank) takes a reference. */
static void demo_asset_ref(demo_asset_t *a)
{
	a->refs++;
	gmtrace_asset_ref(a->id);
}

static void demo_asset_destroy(demo_asset_t *a);

/* A user drops its reference; the asset goes when nobody holds it. */
static void demo_asset_release(demo_asset_t *a)
{
	gmtrace_asset_release(a->id);
	if (--a->refs == 0)
		demo_asset_destroy(a);
}

/* ---- the texture cache: textures come and go under a byte limit ----
 *
 * A level's skins and first backdrops are loaded with it, its other
 * backdrops when first drawn. A texture stays until its level ends or the
 * cache needs room: then the least recently drawn one that no entity uses
 * is unloaded (its entry stays, and a later draw loads it again).
 * The limits are gmtrace's budget node "textures": under gmtrace the
 * budget evicts through demo_cache_evictor, at the allocation that would
 * go over the hard limit and at frame ends above the soft one. The cache
 * applies the same rule itself after every load and frame
 * (demo_cache_trim), which is all that happens without gmtrace, and a
 * no-op under it: gmtrace has made room already. */

#define DEMO_TEXTURE_SOFT (9u << 20)  /* trimmed to at frame ends */
#define DEMO_TEXTURE_HARD (12u << 20) /* never above, after a load */
#define DEMO_CACHE_MAX 64             /* texture entries alive at once, at most */

typedef struct demo_cache {
	demo_asset_t *textures[DEMO_CACHE_MAX]; /* entries alive, resident or not */
	unsigned n;
	size_t bytes;   /* of resident textures' texels */
	uint64_t frame; /* the LRU clock */
	uint64_t nloads, nevicted;
	uint32_t node; /* gmtrace's budget node (0: none) */
} demo_cache_t;

static void demo_cache_add(demo_cache_t *c, demo_asset_t *a)
{
	if (c->n == DEMO_CACHE_MAX)
		demo_die("too many textures", __func__);
	c->textures[c->n++] = a;
}

static void demo_cache_remove(demo_cache_t *c, demo_asset_t *a)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (c->textures[i] == a) {
			c->textures[i] = c->textures[--c->n];
			return;
		}
	}
}

static void demo_cache_unload(demo_cache_t *c, demo_asset_t *a)
{
	c->bytes -= a->bytes;
	demo_asset_unload(a);
}

/* The least recently drawn resident texture no user holds, or NULL. */
static demo_asset_t *demo_cache_victim(demo_cache_t *c)
{
	demo_asset_t *best = NULL;
	for (unsigned i = 0; i < c->n; i++) {
		demo_asset_t *a = c->textures[i];
		if (!a->data || a->refs > 1)
			continue;
		if (!best || a->last_used < best->last_used ||
		    (a->last_used == best->last_used && a->load_seq < best->load_seq))
			best = a;
	}
	return best;
}

/* Evicts until the texels fit under limit (the game's own rule). */
static void demo_cache_trim(demo_cache_t *c, size_t limit)
{
	demo_asset_t *a;
	while (c->bytes > limit && (a = demo_cache_victim(c)) != NULL) {
		demo_cache_unload(c, a);
		c->nevicted++;
	}
}

/* gmtrace's evictor for the budget node: unload the texture it names.
 * Runs inside a texture's malloc or at a frame end, on the main thread; it
 * frees and calls gmtrace, allocates nothing, and changes only the cache. */
static void demo_cache_evictor(uint64_t asset, void *user)
{
	demo_cache_t *c = user;
	for (unsigned i = 0; i < c->n; i++) {
		demo_asset_t *a = c->textures[i];
		if (a->id == asset && a->data) {
			demo_cache_unload(c, a);
			c->nevicted++;
			return;
		}
	}
}

/* Defines the budget node; without gmtrace every call returns 0 or -1 and
 * the cache keeps its limits alone. */
static void demo_cache_budget(demo_cache_t *c)
{
	c->node = gmtrace_budget_define("textures", NULL, DEMO_TEXTURE_SOFT, DEMO_TEXTURE_HARD);
	if (c->node == 0)
		return;
	/* the game would rather go over than fail an allocation: not strict */
	(void)gmtrace_budget_policy(c->node, GMTRACE_EVICT_LRU, 0, 0);
	(void)gmtrace_budget_bind_type(c->node, "texture");
	(void)gmtrace_budget_evictor(c->node, demo_cache_evictor, c);
}

/* Loads a (again), and makes room for it if gmtrace has not. */
static void demo_cache_load(demo_cache_t *c, demo_asset_t *a)
{
	demo_tag_push(demo_tag_textures);
	demo_asset_load(a); /* gmtrace may call demo_cache_evictor in here */
	gmtrace_tag_pop();
	c->bytes += a->bytes;
	a->load_seq = c->nloads++;
	a->last_used = c->frame; /* the upload is a use: not the next victim */
	gmtrace_asset_touch(a->id);
	for (int r = 1; r < a->refs; r++) /* its users hold this load now */
		gmtrace_asset_ref(a->id);
	demo_cache_trim(c, DEMO_TEXTURE_HARD);
}

/* A draw: loads a when it is not resident; returns its texels. */
static const unsigned char *demo_cache_draw(demo_cache_t *c, demo_asset_t *a)
{
	if (!a->data)
		demo_cache_load(c, a);
	a->last_used = c->frame;
	gmtrace_asset_touch(a->id);
	return a->data;
}

/* ---- levels ---- */

typedef struct demo_level_def {
	const char *name;
	unsigned ntextures, nmeshes, nsounds;
	unsigned max_tex_shift; /* backdrops are (128 << 0..max) pixels wide */
	unsigned max_entities;
	unsigned bank_sounds; /* sounds the level's sound bank holds (and leaks) */
} demo_level_def_t;

static const demo_level_def_t demo_levels[] = {
        {"harbor", 6, 4, 3, 2, 300, 0},
        {"caverns", 8, 6, 5, 3, 500, 3},
        {"citadel", 12, 8, 4, 3, 800, 0},
};
#define DEMO_NLEVELS (sizeof(demo_levels) / sizeof(demo_levels[0]))

/* The first DEMO_SKINS textures of a level dress the entity kinds (128 or
 * 256 pixels wide); the others are backdrops, one per area of the level,
 * drawn while the camera is in their area or the one before. */
#define DEMO_SKINS 4

typedef struct demo_level {
	const demo_level_def_t *def;
	demo_asset_t **assets; /* textures, then meshes, then sounds */
	size_t n;
	uint64_t terrain; /* gmtrace's id of the streamed terrain */
	float *heights;   /* the terrain's height map, the streamer's input */
	uint64_t first_frame;
	uint64_t nframes; /* frames the level is played */
} demo_level_t;

static demo_asset_t *demo_level_texture(demo_level_t *lv, unsigned i)
{
	return lv->assets[i];
}

static demo_asset_t *demo_level_mesh(demo_level_t *lv, unsigned i)
{
	return lv->assets[lv->def->ntextures + i];
}

static demo_asset_t *demo_level_sound(demo_level_t *lv, unsigned i)
{
	return lv->assets[lv->def->ntextures + lv->def->nmeshes + i];
}

/* The audio system's bank of ambient sounds: it holds a reference on each.
 * The bug this demo ships with: at a level change the bank forgets its
 * sounds without releasing them (demo_sound_bank_forget), so they outlive
 * their level; only the orderly shutdown releases (demo_sound_bank_release). */
typedef struct demo_sound_bank {
	demo_asset_t *sounds[8];
	unsigned n;
} demo_sound_bank_t;

static void demo_sound_bank_forget(demo_sound_bank_t *bank)
{
	/* BUG (on purpose): the references taken are never dropped */
	memset(bank->sounds, 0, sizeof(bank->sounds));
	bank->n = 0;
}

static void demo_sound_bank_release(demo_sound_bank_t *bank)
{
	for (unsigned i = 0; i < bank->n; i++)
		demo_asset_release(bank->sounds[i]);
	bank->n = 0;
}

/* The texture cache that demo_asset_destroy takes textures out of. */
static demo_cache_t *demo_the_cache;

static void demo_asset_destroy(demo_asset_t *a)
{
	if (a->kind == demo_asset_texture) {
		if (a->data)
			demo_cache_unload(demo_the_cache, a);
		demo_cache_remove(demo_the_cache, a);
	} else if (a->data) {
		demo_asset_unload(a);
	}
	free(a);
}

/* Loads level index: its skins, first two backdrops, meshes, sounds and the
 * terrain's height map now, the other backdrops when first drawn. Returns
 * the bytes loaded. */
static size_t demo_level_load(demo_level_t *lv, unsigned index, demo_sound_bank_t *bank,
                              demo_cache_t *cache)
{
	const demo_level_def_t *def = &demo_levels[index];
	static const char *const ext[demo_asset_kind_count] = {"tex", "mesh", "snd"};
	static const enum demo_tag tags[demo_asset_kind_count] = {demo_tag_textures,
	                                                          demo_tag_meshes, demo_tag_sounds};
	const unsigned count[demo_asset_kind_count] = {def->ntextures, def->nmeshes, def->nsounds};
	size_t bytes = 0;

	lv->def = def;
	lv->n = 0;
	lv->assets = malloc((def->ntextures + def->nmeshes + def->nsounds) * sizeof(*lv->assets));
	DEMO_NEED(lv->assets);
	for (unsigned kind = 0; kind < demo_asset_kind_count; kind++) {
		demo_tag_push(tags[kind]);
		for (unsigned i = 0; i < count[kind]; i++) {
			demo_asset_t *a = calloc(1, sizeof(*a));
			DEMO_NEED(a);
			snprintf(a->name, sizeof(a->name), "levels/%s/%s_%02u.%s", def->name,
			         ext[kind], i, ext[kind]);
			a->kind = kind;
			a->refs = 1;
			a->seed = demo_seed(index * 4u + kind, i);
			a->max_shift = i < DEMO_SKINS ? 1 : def->max_tex_shift;
			lv->assets[lv->n++] = a;
			if (kind == demo_asset_texture) {
				demo_cache_add(cache, a);
				if (i < DEMO_SKINS + 2) {
					demo_cache_load(cache, a);
					bytes += a->bytes;
				}
				continue;
			}
			demo_asset_load(a);
			bytes += a->bytes + a->index_bytes;
			if (kind == demo_asset_sound && i < def->bank_sounds && bank->n < 8) {
				demo_asset_ref(a);
				bank->sounds[bank->n++] = a;
			}
		}
		gmtrace_tag_pop();
	}

	/* the terrain: a height map now, chunks streamed in while it is played */
	char name[48];
	snprintf(name, sizeof(name), "levels/%s/terrain", def->name);
	demo_tag_push(demo_tag_streaming);
	lv->terrain = gmtrace_asset_load_begin(name, "terrain");
	lv->heights = malloc(128 * 128 * sizeof(*lv->heights));
	DEMO_NEED(lv->heights);
	for (unsigned i = 0; i < 128 * 128; i++)
		lv->heights[i] = sinf((float)(i % 128) * 0.1f) * cosf((float)(i / 128) * 0.07f);
	gmtrace_asset_load_end(lv->terrain, 1);
	gmtrace_tag_pop();
	return bytes + 128 * 128 * sizeof(*lv->heights);
}

/* ---- entities: a struct-of-arrays component store that grows ----
 * Each entity holds references on its kind's skin and mesh. */

enum demo_kind {
	demo_kind_grunt,
	demo_kind_runner,
	demo_kind_tank,
	demo_kind_drone,
	demo_kind_count
};
static const char *const demo_kind_names[demo_kind_count] = {"Grunt", "Runner", "Tank", "Drone"};

typedef struct demo_world {
	size_t n, cap, peak;
	uint32_t next_id;
	uint32_t *id;
	float *x, *y, *vx, *vy;
	int16_t *hp;
	uint8_t *kind;
} demo_world_t;

/* Resizes every component array to cap entries. */
static void demo_world_reserve(demo_world_t *w, size_t cap)
{
	w->id = realloc(w->id, cap * sizeof(*w->id));
	w->x = realloc(w->x, cap * sizeof(*w->x));
	w->y = realloc(w->y, cap * sizeof(*w->y));
	w->vx = realloc(w->vx, cap * sizeof(*w->vx));
	w->vy = realloc(w->vy, cap * sizeof(*w->vy));
	w->hp = realloc(w->hp, cap * sizeof(*w->hp));
	w->kind = realloc(w->kind, cap * sizeof(*w->kind));
	if (!w->id || !w->x || !w->y || !w->vx || !w->vy || !w->hp || !w->kind)
		demo_die("out of memory", __func__);
	w->cap = cap;
}

static demo_asset_t *demo_world_skin(demo_level_t *lv, uint8_t kind)
{
	return demo_level_texture(lv, kind % DEMO_SKINS);
}

static demo_asset_t *demo_world_mesh(demo_level_t *lv, uint8_t kind)
{
	return demo_level_mesh(lv, kind % lv->def->nmeshes);
}

static void demo_world_spawn(demo_world_t *w, demo_level_t *lv, uint64_t *rng)
{
	if (w->n == w->cap)
		demo_world_reserve(w, w->cap ? w->cap * 2 : 16);
	size_t i = w->n++;
	uint8_t kind = (uint8_t)(demo_rand(rng) % demo_kind_count);
	static const int16_t hp[demo_kind_count] = {60, 30, 200, 45};
	w->id[i] = w->next_id++;
	w->kind[i] = kind;
	w->hp[i] = hp[kind];
	w->x[i] = demo_randf(rng, 0.0f, DEMO_ARENA_W);
	w->y[i] = demo_randf(rng, 0.0f, DEMO_ARENA_H);
	w->vx[i] = demo_randf(rng, -120.0f, 120.0f);
	w->vy[i] = demo_randf(rng, -120.0f, 120.0f);
	demo_asset_ref(demo_world_skin(lv, kind));
	demo_asset_ref(demo_world_mesh(lv, kind));
	if (w->n > w->peak)
		w->peak = w->n;
}

/* Removes entity i by moving the last one into its place. */
static void demo_world_remove(demo_world_t *w, demo_level_t *lv, size_t i)
{
	demo_asset_release(demo_world_skin(lv, w->kind[i]));
	demo_asset_release(demo_world_mesh(lv, w->kind[i]));
	size_t last = --w->n;
	w->id[i] = w->id[last];
	w->kind[i] = w->kind[last];
	w->hp[i] = w->hp[last];
	w->x[i] = w->x[last];
	w->y[i] = w->y[last];
	w->vx[i] = w->vx[last];
	w->vy[i] = w->vy[last];
}

/* Empties the world and gives back most of its arrays (a level change). */
static void demo_world_clear(demo_world_t *w, demo_level_t *lv)
{
	while (w->n)
		demo_world_remove(w, lv, w->n - 1);
	if (w->cap > 16)
		demo_world_reserve(w, 16);
}

static void demo_world_free(demo_world_t *w)
{
	free(w->id);
	free(w->x);
	free(w->y);
	free(w->vx);
	free(w->vy);
	free(w->hp);
	free(w->kind);
	memset(w, 0, sizeof(*w));
}

/* ---- particles: a fixed pool, and the heap past it ---- */

#define DEMO_PARTICLE_POOL 7168 /* enough but for the busiest frames */

typedef struct demo_particle {
	struct demo_particle *next;
	float x, y, vx, vy;
	float life; /* seconds left */
	uint32_t rgba;
} demo_particle_t;

typedef struct demo_particles {
	demo_particle_t *head; /* alive */
	demo_particle_t *slab; /* the pool: DEMO_PARTICLE_POOL particles */
	demo_particle_t *free; /* the pool's free ones */
	uint32_t pool;         /* gmtrace's id of the pool (0: none) */
	size_t n, peak;
	uint64_t nspawned, noverflows;
} demo_particles_t;

static void demo_particles_init(demo_particles_t *ps)
{
	memset(ps, 0, sizeof(*ps));
	demo_tag_push(demo_tag_particles);
	ps->slab = malloc(DEMO_PARTICLE_POOL * sizeof(*ps->slab));
	DEMO_NEED(ps->slab);
	gmtrace_tag_pop();
	for (size_t i = DEMO_PARTICLE_POOL; i-- > 0;) {
		ps->slab[i].next = ps->free;
		ps->free = &ps->slab[i];
	}
	ps->pool = gmtrace_pool_create("particles", sizeof(*ps->slab), DEMO_PARTICLE_POOL);
}

/* A particle from the pool, or from the heap when the pool is empty. */
static demo_particle_t *demo_particles_acquire(demo_particles_t *ps)
{
	demo_particle_t *p = ps->free;
	if (p) {
		ps->free = p->next;
		gmtrace_pool_acquire(ps->pool, 1);
		return p;
	}
	p = malloc(sizeof(*p));
	DEMO_NEED(p);
	ps->noverflows++;
	gmtrace_pool_acquire(ps->pool, 0);
	return p;
}

static void demo_particles_release(demo_particles_t *ps, demo_particle_t *p)
{
	if (p >= ps->slab && p < ps->slab + DEMO_PARTICLE_POOL) {
		p->next = ps->free;
		ps->free = p;
		gmtrace_pool_release(ps->pool, 1);
	} else {
		free(p);
		gmtrace_pool_release(ps->pool, 0);
	}
}

static void demo_particles_emit(demo_particles_t *ps, uint64_t *rng, float x, float y, unsigned n,
                                float speed, uint32_t rgba)
{
	for (unsigned i = 0; i < n; i++) {
		demo_particle_t *p = demo_particles_acquire(ps);
		float a = demo_randf(rng, 0.0f, 6.2831853f);
		float v = demo_randf(rng, 0.2f, 1.0f) * speed;
		p->x = x;
		p->y = y;
		p->vx = cosf(a) * v;
		p->vy = sinf(a) * v;
		p->life = demo_randf(rng, 0.2f, 1.2f);
		p->rgba = rgba;
		p->next = ps->head;
		ps->head = p;
	}
	ps->n += n;
	ps->nspawned += n;
	if (ps->n > ps->peak)
		ps->peak = ps->n;
}

static void demo_particles_update(demo_particles_t *ps, float dt)
{
	demo_particle_t **link = &ps->head;
	while (*link) {
		demo_particle_t *p = *link;
		p->life -= dt;
		if (p->life <= 0.0f) {
			*link = p->next;
			demo_particles_release(ps, p);
			ps->n--;
			continue;
		}
		p->vy += 300.0f * dt;
		p->x += p->vx * dt;
		p->y += p->vy * dt;
		link = &p->next;
	}
}

static void demo_particles_free(demo_particles_t *ps)
{
	while (ps->head) {
		demo_particle_t *p = ps->head;
		ps->head = p->next;
		demo_particles_release(ps, p);
	}
	ps->n = 0;
	gmtrace_pool_destroy(ps->pool);
	free(ps->slab);
	ps->slab = ps->free = NULL;
}

/* ---- UI: a cache of laid-out text, and a console log ---- */

#define DEMO_TEXT_BUCKETS 256
#define DEMO_TEXT_TTL 60 /* frames an unused text stays cached */

typedef struct demo_text {
	struct demo_text *next;
	char *key;
	uint64_t hash;
	uint64_t last_used;
	float *quads; /* 4 corners x (x, y, u, v) per glyph */
	size_t nglyphs;
} demo_text_t;

typedef struct demo_ui {
	demo_text_t *buckets[DEMO_TEXT_BUCKETS];
	size_t ntexts;
	uint64_t nbuilt, nhits;
	char *log[64];
	unsigned log_next;
} demo_ui_t;

static uint64_t demo_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* Returns the laid-out text for s, building and caching it on a miss. */
static demo_text_t *demo_ui_text(demo_ui_t *ui, const char *s, uint64_t frame)
{
	uint64_t h = demo_hash(s);
	demo_text_t **bucket = &ui->buckets[h % DEMO_TEXT_BUCKETS];
	for (demo_text_t *t = *bucket; t; t = t->next) {
		if (t->hash == h && strcmp(t->key, s) == 0) {
			t->last_used = frame;
			ui->nhits++;
			return t;
		}
	}
	demo_text_t *t = malloc(sizeof(*t));
	DEMO_NEED(t);
	t->key = strdup(s);
	t->nglyphs = strlen(s);
	t->quads = malloc((t->nglyphs ? t->nglyphs : 1) * 16 * sizeof(*t->quads));
	DEMO_NEED(t->key);
	DEMO_NEED(t->quads);
	for (size_t i = 0; i < t->nglyphs; i++) {
		float x = (float)i * 9.0f, u = (float)((unsigned char)s[i] % 16) / 16.0f;
		float q[16] = {x, 0,  u, 0, x + 8, 0,  u + 0.0625f, 0,
		               x, 16, u, 1, x + 8, 16, u + 0.0625f, 1};
		memcpy(&t->quads[i * 16], q, sizeof(q));
	}
	t->hash = h;
	t->last_used = frame;
	t->next = *bucket;
	*bucket = t;
	ui->ntexts++;
	ui->nbuilt++;
	return t;
}

static void demo_text_free(demo_text_t *t)
{
	free(t->quads);
	free(t->key);
	free(t);
}

/* Drops texts unused for DEMO_TEXT_TTL frames (all when frame is UINT64_MAX). */
static void demo_ui_evict(demo_ui_t *ui, uint64_t frame)
{
	for (unsigned b = 0; b < DEMO_TEXT_BUCKETS; b++) {
		demo_text_t **link = &ui->buckets[b];
		while (*link) {
			demo_text_t *t = *link;
			if (frame == UINT64_MAX || t->last_used + DEMO_TEXT_TTL < frame) {
				*link = t->next;
				demo_text_free(t);
				ui->ntexts--;
			} else {
				link = &t->next;
			}
		}
	}
}

static void demo_ui_log(demo_ui_t *ui, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds a line to the console log, which keeps the last 64. */
static void demo_ui_log(demo_ui_t *ui, const char *fmt, ...)
{
	char *line;
	va_list ap;
	demo_tag_push(demo_tag_text);
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		demo_die("out of memory", __func__);
	unsigned slot = ui->log_next++ % 64;
	free(ui->log[slot]);
	ui->log[slot] = line;
	gmtrace_tag_pop();
}

static void demo_ui_free(demo_ui_t *ui)
{
	demo_ui_evict(ui, UINT64_MAX);
	for (unsigned i = 0; i < 64; i++)
		free(ui->log[i]);
	memset(ui->log, 0, sizeof(ui->log));
}

/* ---- streaming: a worker thread makes the terrain chunks the game asks for ---- */

typedef struct demo_chunk {
	struct demo_chunk *next;
	uint32_t id;
	size_t bytes;
	unsigned char *data;
} demo_chunk_t;

typedef struct demo_request {
	uint32_t chunk;
	uint64_t terrain; /* gmtrace's id of the terrain asset the chunk belongs to */
	const float *heights;
} demo_request_t;

#define DEMO_RESIDENT 24 /* chunks the game keeps; older ones are freed */
#define DEMO_BACKLOG 8   /* chunks asked for and not made yet, at most */

typedef struct demo_stream {
	pthread_mutex_t lock;  /* guards everything down to nserved */
	pthread_cond_t wake;   /* signalled on a request and on quit */
	pthread_cond_t served; /* signalled when a chunk is done */
	demo_request_t *requests;
	size_t head, n, cap;
	demo_chunk_t *done, *done_tail;
	int quit;
	uint64_t nserved;
	/* main thread only */
	pthread_t thread;
	uint64_t nrequested, ncollected, bytes;
	demo_chunk_t *resident[DEMO_RESIDENT];
	unsigned resident_next;
} demo_stream_t;

/* Makes chunk id: "reads" a compressed block into a scratch buffer and
 * expands it into the chunk over the height map, as a streamer
 * decompressing from disk would. */
static demo_chunk_t *demo_chunk_make(uint32_t id, const float *heights)
{
	uint64_t rng = 0x5eed0000ull + id * 0x9e3779b97f4a7c15ull;
	size_t packed = 8192u << (demo_rand(&rng) % 4);
	unsigned char *scratch = malloc(packed);
	demo_chunk_t *c = malloc(sizeof(*c));
	DEMO_NEED(scratch);
	DEMO_NEED(c);
	for (size_t i = 0; i < packed; i++)
		scratch[i] = (unsigned char)demo_rand(&rng);
	c->id = id;
	c->bytes = packed * 8;
	c->data = malloc(c->bytes);
	DEMO_NEED(c->data);
	for (size_t i = 0; i < c->bytes; i++)
		c->data[i] = scratch[i / 8] ^ (unsigned char)i ^
		             (unsigned char)(heights[(id * 61u + i) % (128 * 128)] * 64.0f);
	free(scratch);
	c->next = NULL;
	return c;
}

static void *demo_stream_main(void *arg)
{
	demo_stream_t *st = arg;
	demo_tag_push(demo_tag_streaming); /* everything this thread allocates */
	pthread_mutex_lock(&st->lock);
	for (;;) {
		while (st->head == st->n && !st->quit)
			pthread_cond_wait(&st->wake, &st->lock);
		if (st->head == st->n)
			break; /* quit, and every request served */
		demo_request_t req = st->requests[st->head++];
		pthread_mutex_unlock(&st->lock);

		gmtrace_asset_attach(req.terrain);
		demo_chunk_t *c = demo_chunk_make(req.chunk, req.heights);
		gmtrace_asset_detach(req.terrain);
		GMTRACE_FRAME_N("streaming");

		pthread_mutex_lock(&st->lock);
		if (st->done_tail)
			st->done_tail->next = c;
		else
			st->done = c;
		st->done_tail = c;
		st->nserved++;
		pthread_cond_signal(&st->served);
	}
	pthread_mutex_unlock(&st->lock);
	gmtrace_tag_pop();
	return NULL;
}

/* Asks for the next chunk of lv's terrain. When the streamer is
 * DEMO_BACKLOG chunks behind (--fast), the game waits for it, as it would
 * for a disk: the same chunks get made either way. */
static void demo_stream_request(demo_stream_t *st, const demo_level_t *lv)
{
	demo_tag_push(demo_tag_streaming);
	pthread_mutex_lock(&st->lock);
	while (st->nrequested - st->nserved >= DEMO_BACKLOG)
		pthread_cond_wait(&st->served, &st->lock);
	if (st->head == st->n)
		st->head = st->n = 0;
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 4;
		st->requests = realloc(st->requests, st->cap * sizeof(*st->requests));
		DEMO_NEED(st->requests);
	}
	st->requests[st->n++] =
	        (demo_request_t){(uint32_t)st->nrequested, lv->terrain, lv->heights};
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	gmtrace_tag_pop();
	st->nrequested++;
}

static void demo_chunk_free(demo_chunk_t *c)
{
	free(c->data);
	free(c);
}

/* Takes the finished chunks in; the oldest resident ones are freed. */
static void demo_stream_collect(demo_stream_t *st)
{
	pthread_mutex_lock(&st->lock);
	demo_chunk_t *c = st->done;
	st->done = st->done_tail = NULL;
	pthread_mutex_unlock(&st->lock);
	while (c) {
		demo_chunk_t *next = c->next;
		demo_chunk_t **slot = &st->resident[st->resident_next++ % DEMO_RESIDENT];
		if (*slot)
			demo_chunk_free(*slot);
		*slot = c;
		st->ncollected++;
		st->bytes += c->bytes;
		c = next;
	}
}

/* Waits until every request is served, and takes the chunks in. */
static void demo_stream_wait(demo_stream_t *st)
{
	pthread_mutex_lock(&st->lock);
	while (st->nserved < st->nrequested)
		pthread_cond_wait(&st->served, &st->lock);
	pthread_mutex_unlock(&st->lock);
	demo_stream_collect(st);
}

/* Frees every resident chunk (the terrain they belong to is unloading). */
static void demo_stream_drop(demo_stream_t *st)
{
	for (unsigned i = 0; i < DEMO_RESIDENT; i++) {
		if (st->resident[i])
			demo_chunk_free(st->resident[i]);
		st->resident[i] = NULL;
	}
}

static void demo_stream_start(demo_stream_t *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->wake, NULL);
	pthread_cond_init(&st->served, NULL);
	if (pthread_create(&st->thread, NULL, demo_stream_main, st) != 0)
		demo_die("cannot start the streaming thread", __func__);
}

/* Stops the worker once it has served every request. */
static void demo_stream_stop(demo_stream_t *st)
{
	pthread_mutex_lock(&st->lock);
	st->quit = 1;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->thread, NULL);
	demo_stream_collect(st);
	free(st->requests);
	pthread_cond_destroy(&st->served);
	pthread_cond_destroy(&st->wake);
	pthread_mutex_destroy(&st->lock);
}

/* Unloads a level: its terrain (and the chunks streamed for it), and its
 * hold on every asset (the sound bank's leaked ones stay). */
static void demo_level_unload(demo_level_t *lv, demo_stream_t *st)
{
	if (lv->def == NULL)
		return;
	demo_tag_push(demo_tag_streaming);
	demo_stream_wait(st);
	gmtrace_asset_unload_begin(lv->terrain);
	demo_stream_drop(st);
	free(lv->heights);
	gmtrace_asset_unload_end(lv->terrain);
	gmtrace_tag_pop();
	for (size_t i = 0; i < lv->n; i++)
		if (--lv->assets[i]->refs == 0)
			demo_asset_destroy(lv->assets[i]);
	free(lv->assets);
	memset(lv, 0, sizeof(*lv));
}

/* ---- the game ---- */

typedef struct demo_game {
	uint64_t rng;
	uint64_t frame;
	uint64_t nframes;
	uint64_t score;
	uint64_t nticks;
	unsigned clock; /* tenths of a tick the simulation is behind the frames */
	unsigned nlevels;
	demo_level_t level;
	demo_sound_bank_t bank;
	demo_cache_t cache;
	demo_world_t world;
	demo_particles_t particles;
	demo_ui_t ui;
	demo_stream_t stream;
	uint32_t checksum; /* what "rendering" read, so nothing is optimized away */
} demo_game_t;

/* Level i: a scene of its own. The old level's entities go first; its
 * assets stay until the new ones are loaded, so both are resident for a
 * moment (and the texture budget makes room by evicting the old ones). */
static void demo_game_load_level(demo_game_t *g, unsigned i)
{
	demo_level_t next = {0};
	const demo_level_def_t *def = &demo_levels[i];
	gmtrace_scene_begin(def->name);
	demo_tag_push(demo_tag_entities);
	if (g->level.def)
		demo_world_clear(&g->world, &g->level);
	gmtrace_tag_pop();
	demo_sound_bank_forget(&g->bank);
	size_t bytes = demo_level_load(&next, i, &g->bank, &g->cache);
	demo_level_unload(&g->level, &g->stream);
	g->level = next;
	g->level.first_frame = g->frame;
	g->level.nframes = g->nframes * (i + 1) / DEMO_NLEVELS - g->frame;
	demo_ui_log(&g->ui, "Loaded level %s: %zu assets, %.1f MiB", def->name, next.n,
	            (double)bytes / 1048576.0);
	g->nlevels++;
}

/* One step of the simulation (1/120 s). */
static void demo_game_tick(demo_game_t *g, float dt)
{
	demo_world_t *w = &g->world;
	demo_level_t *lv = &g->level;
	unsigned spawn = demo_rand(&g->rng) % 4;

	demo_tag_push(demo_tag_entities);
	for (unsigned i = 0; i < spawn && w->n < lv->def->max_entities; i++)
		demo_world_spawn(w, lv, &g->rng);
	gmtrace_tag_pop();

	demo_tag_push(demo_tag_particles);
	for (size_t i = 0; i < w->n;) {
		w->x[i] += w->vx[i] * dt;
		w->y[i] += w->vy[i] * dt;
		if (w->x[i] < 0.0f || w->x[i] > DEMO_ARENA_W)
			w->vx[i] = -w->vx[i];
		if (w->y[i] < 0.0f || w->y[i] > DEMO_ARENA_H)
			w->vy[i] = -w->vy[i];
		if (demo_rand(&g->rng) % 100 < 2)
			w->hp[i] = (int16_t)(w->hp[i] - (int16_t)(10 + demo_rand(&g->rng) % 30));
		if (w->hp[i] <= 0) {
			demo_particles_emit(&g->particles, &g->rng, w->x[i], w->y[i],
			                    24 + demo_rand(&g->rng) % 24, 260.0f, 0xff8020ffu);
			/* the explosion's sound */
			demo_asset_t *boom = demo_level_sound(lv, w->kind[i] % lv->def->nsounds);
			gmtrace_asset_touch(boom->id);
			g->checksum += ((const unsigned char *)boom->data)[w->id[i] % boom->bytes];
			if (demo_rand(&g->rng) % 4 == 0)
				demo_ui_log(&g->ui, "%s #%u destroyed", demo_kind_names[w->kind[i]],
				            w->id[i]);
			g->score += 10u + w->kind[i] * 5u;
			demo_tag_push(demo_tag_entities);
			demo_world_remove(w, lv, i);
			gmtrace_tag_pop();
			continue;
		}
		if (w->kind[i] == demo_kind_drone && demo_rand(&g->rng) % 8 == 0)
			demo_particles_emit(&g->particles, &g->rng, w->x[i], w->y[i], 2, 40.0f,
			                    0x60a0ffffu);
		i++;
	}
	/* ambient emitters: torches, dust, sea spray */
	for (unsigned e = 0; e < 6; e++)
		demo_particles_emit(&g->particles, &g->rng, 100.0f + 160.0f * (float)e, 700.0f,
		                    4 + demo_rand(&g->rng) % 8, 90.0f, 0xffd060ffu);
	demo_particles_update(&g->particles, dt);
	gmtrace_tag_pop();
	g->nticks++;
}

/* The simulation catches up with the frame: the frame lasted 0.6 to 1.4
 * ticks (a modelled duration, so runs repeat), hence 0, 1 or 2 ticks. */
static void demo_game_update(demo_game_t *g)
{
	g->clock += 6 + demo_rand(&g->rng) % 9;
	while (g->clock >= 10) {
		g->clock -= 10;
		demo_game_tick(g, 1.0f / DEMO_HZ);
		GMTRACE_TICK();
	}

	/* the streamer is asked for the terrain around the player */
	if (g->frame % 3 == 0) {
		unsigned n = 1 + demo_rand(&g->rng) % 2;
		for (unsigned i = 0; i < n; i++)
			demo_stream_request(&g->stream, &g->level);
	}
	demo_tag_push(demo_tag_streaming);
	demo_stream_collect(&g->stream);
	gmtrace_tag_pop();
}

static void demo_game_draw_ui(demo_game_t *g)
{
	char line[128];
	demo_world_t *w = &g->world;
	demo_text_t *t;

	demo_tag_push(demo_tag_text);
	snprintf(line, sizeof(line), "Score %llu", (unsigned long long)g->score);
	t = demo_ui_text(&g->ui, line, g->frame);
	g->checksum += (uint32_t)t->nglyphs;
	snprintf(line, sizeof(line), "Level: %s", g->level.def->name);
	t = demo_ui_text(&g->ui, line, g->frame);
	g->checksum += (uint32_t)t->nglyphs;
	snprintf(line, sizeof(line), "Entities %zu  Particles %zu", w->n, g->particles.n);
	t = demo_ui_text(&g->ui, line, g->frame);
	g->checksum += (uint32_t)t->nglyphs;
	for (size_t i = 0; i < w->n && i < 24; i++) {
		snprintf(line, sizeof(line), "%s #%u  HP %d", demo_kind_names[w->kind[i]], w->id[i],
		         w->hp[i]);
		t = demo_ui_text(&g->ui, line, g->frame);
		g->checksum += (uint32_t)t->quads[0];
	}
	/* a tooltip rebuilt every frame and thrown away, as immediate-mode UIs do */
	char *tip = demo_strfmt("Frame %llu, %zu texts cached", (unsigned long long)g->frame,
	                        g->ui.ntexts);
	g->checksum += (uint32_t)strlen(tip);
	free(tip);
	if (g->frame % 30 == 0)
		demo_ui_evict(&g->ui, g->frame);
	gmtrace_tag_pop();
}

static uint32_t demo_sample(const void *data, size_t bytes, uint64_t frame)
{
	return ((const unsigned char *)data)[(frame * 4099) % bytes];
}

/* "Renders": the skins, the backdrops of the camera's area and the next
 * one (loaded on demand), every mesh, the terrain and the particles, really
 * read; every 60 frames the bank's ambient sounds play. */
static void demo_game_render(demo_game_t *g)
{
	demo_level_t *lv = &g->level;
	const demo_level_def_t *def = lv->def;
	unsigned nbackdrops = def->ntextures - DEMO_SKINS;
	uint64_t span = lv->nframes ? lv->nframes : 1;
	unsigned area = (unsigned)((g->frame - lv->first_frame) * nbackdrops / span);

	for (unsigned i = 0; i < DEMO_SKINS; i++) {
		demo_asset_t *a = demo_level_texture(lv, i);
		const unsigned char *texels = demo_cache_draw(&g->cache, a); /* sets bytes */
		g->checksum += demo_sample(texels, a->bytes, g->frame);
	}
	for (unsigned i = area; i < area + 2 && i < nbackdrops; i++) {
		demo_asset_t *a = demo_level_texture(lv, DEMO_SKINS + i);
		const unsigned char *texels = demo_cache_draw(&g->cache, a);
		g->checksum += demo_sample(texels, a->bytes, g->frame);
	}
	for (unsigned i = 0; i < def->nmeshes; i++) {
		demo_asset_t *a = demo_level_mesh(lv, i);
		gmtrace_asset_touch(a->id);
		g->checksum += demo_sample(a->data, a->bytes, g->frame);
	}
	if (g->frame % 60 == 0) {
		for (unsigned i = 0; i < g->bank.n; i++) {
			demo_asset_t *a = g->bank.sounds[i];
			gmtrace_asset_touch(a->id);
			g->checksum += demo_sample(a->data, a->bytes, g->frame);
		}
	}
	/* the terrain is drawn too, but which chunks are in depends on the
	 * streamer's timing: they stay out of the checksum */
	gmtrace_asset_touch(lv->terrain);
	for (const demo_particle_t *p = g->particles.head; p; p = p->next)
		g->checksum += p->rgba >> 24;
}

static void demo_usage(void)
{
	fprintf(stderr, "usage: gm_demo [--frames N] [--fast] [--seed S]\n"
	                "  --frames N  frames to run (default 600, at 120 FPS about 5 s)\n"
	                "  --fast      do not pace frames to 120 FPS\n"
	                "  --seed S    seed of the game's random choices (default 1)\n");
}

static int demo_arg_u64(const char *s, unsigned long long *v)
{
	char *end;
	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static double demo_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	unsigned long long nframes = 600, seed = 1;
	int fast = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--fast") == 0) {
			fast = 1;
		} else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
			if (demo_arg_u64(argv[++i], &nframes) != 0 || nframes == 0)
				goto usage;
		} else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
			if (demo_arg_u64(argv[++i], &seed) != 0)
				goto usage;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			demo_usage();
			return 0;
		} else {
			goto usage;
		}
	}

	static demo_game_t game;
	demo_game_t *g = &game;
	g->rng = 0x67616d6500000000ull ^ seed;
	if (g->rng == 0)
		g->rng = 1;
	g->nframes = nframes;
	for (unsigned t = 0; t < demo_tag_count; t++)
		demo_tag_ids[t] = gmtrace_tag_id(demo_tag_names[t]);
	demo_the_cache = &g->cache;
	demo_cache_budget(&g->cache);
	demo_particles_init(&g->particles);
	demo_stream_start(&g->stream);

	const long period_ns = 1000000000L / DEMO_HZ;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	double t0 = demo_now();

	for (g->frame = 0; g->frame < nframes; g->frame++) {
		g->cache.frame = g->frame;
		/* levels change at the start, a third and two thirds of the run */
		for (unsigned l = 0; l < DEMO_NLEVELS; l++)
			if (g->frame == nframes * l / DEMO_NLEVELS && g->nlevels == l)
				demo_game_load_level(g, l);
		demo_game_update(g);
		demo_game_draw_ui(g);
		demo_game_render(g);
		GMTRACE_FRAME(); /* under gmtrace, the budget's frame-end evictions */
		demo_cache_trim(&g->cache, DEMO_TEXTURE_SOFT); /* the same, without */

		if (!fast) {
			next.tv_nsec += period_ns;
			if (next.tv_nsec >= 1000000000L) {
				next.tv_nsec -= 1000000000L;
				next.tv_sec++;
			}
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) ==
			       EINTR)
				;
		}
	}
	double secs = demo_now() - t0;

	/* Shutdown: everything is released but what the sound bank leaked. */
	/* every level but the last lost its bank's sounds at the change */
	unsigned leaked = 0;
	for (unsigned l = 0; l + 1 < g->nlevels; l++)
		leaked += demo_levels[l].bank_sounds;
	size_t peak_entities = g->world.peak, peak_particles = g->particles.peak;
	demo_sound_bank_release(&g->bank);
	demo_tag_push(demo_tag_entities);
	demo_world_clear(&g->world, &g->level);
	demo_world_free(&g->world);
	gmtrace_tag_pop();
	demo_level_unload(&g->level, &g->stream);
	demo_stream_stop(&g->stream);
	demo_particles_free(&g->particles);
	demo_ui_free(&g->ui);

	printf("gm_demo: %llu frames (%llu ticks) in %.2f s (%.0f FPS), %u levels, peak %zu "
	       "entities and %zu particles (%llu spawned, %llu past the pool), %llu chunks "
	       "streamed (%.1f MiB), %llu texture loads (%llu evicted), %u "
	       "assets leaked on purpose, checksum %08x%s\n",
	       nframes, (unsigned long long)g->nticks, secs, (double)nframes / secs, g->nlevels,
	       peak_entities, peak_particles, (unsigned long long)g->particles.nspawned,
	       (unsigned long long)g->particles.noverflows,
	       (unsigned long long)g->stream.ncollected, (double)g->stream.bytes / 1048576.0,
	       (unsigned long long)g->cache.nloads, (unsigned long long)g->cache.nevicted, leaked,
	       g->checksum, gmtrace_enabled() ? ", recorded by gmtrace" : "");
	return 0;

usage:
	demo_usage();
	return 2;
}

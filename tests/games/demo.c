/* demo.c - gm_demo: the headless demo game that gmtrace's README profiles
 *
 *     gm_demo [--frames N] [--fast] [--seed S]
 *
 * A small, real game loop with no window, so it runs anywhere (CI, ssh):
 * a fixed 120 Hz simulation of entities that spawn, move, take hits and die
 * in explosions of particles; three levels loaded one after the other, each
 * with procedurally generated textures, meshes and sounds; a UI text cache
 * and a console log full of short-lived strings; and a worker thread that
 * streams world chunks in the background, freed later by the main thread.
 * Each frame ends with GMTRACE_FRAME(); each streamed chunk with
 * GMTRACE_FRAME_N("streaming").
 *
 * What a memory profiler should find in it:
 *   - steady per-frame churn: particles (one small struct each), UI strings;
 *   - a component array that grows by doubling (realloc) and shrinks at
 *     each level load;
 *   - a spike at every level load (the next level is loaded before the
 *     previous one is released) with big asset buffers;
 *   - a leak: the sound bank of level 2 ("caverns") takes a reference on its
 *     3 ambient sounds and never drops it, so those assets are live at exit;
 *   - cross-thread frees: chunks allocated by the streamer, freed by the game.
 *
 * Deterministic: every random choice comes from a seeded generator (the
 * streamer seeds from the chunk id), so the same arguments make the same
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

/* ---- entities: a struct-of-arrays component store that grows ---- */

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

static void demo_world_spawn(demo_world_t *w, uint64_t *rng)
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
	if (w->n > w->peak)
		w->peak = w->n;
}

/* Removes entity i by moving the last one into its place. */
static void demo_world_remove(demo_world_t *w, size_t i)
{
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
static void demo_world_clear(demo_world_t *w)
{
	w->n = 0;
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

/* ---- particles: one small heap object each, born and dead every frame ---- */

typedef struct demo_particle {
	struct demo_particle *next;
	float x, y, vx, vy;
	float life; /* seconds left */
	uint32_t rgba;
} demo_particle_t;

typedef struct demo_particles {
	demo_particle_t *head;
	size_t n, peak;
	uint64_t nspawned;
} demo_particles_t;

static void demo_particles_emit(demo_particles_t *ps, uint64_t *rng, float x, float y, unsigned n,
                                float speed, uint32_t rgba)
{
	for (unsigned i = 0; i < n; i++) {
		demo_particle_t *p = malloc(sizeof(*p));
		DEMO_NEED(p);
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
			free(p);
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
		free(p);
	}
	ps->n = 0;
}

/* ---- assets and levels ---- */

enum demo_asset_kind {
	demo_asset_texture,
	demo_asset_mesh,
	demo_asset_sound,
	demo_asset_kind_count
};

typedef struct demo_asset {
	char *name;
	enum demo_asset_kind kind;
	int refs;
	size_t bytes;       /* of data */
	size_t index_bytes; /* of index */
	void *data;         /* texels, vertices or samples */
	void *index;        /* a mesh's index buffer, or NULL */
} demo_asset_t;

typedef struct demo_level_def {
	const char *name;
	unsigned ntextures, nmeshes, nsounds;
	unsigned max_tex_shift; /* textures are (128 << 0..max) pixels wide */
	unsigned max_entities;
	unsigned bank_sounds; /* sounds the level's sound bank holds (and leaks) */
} demo_level_def_t;

static const demo_level_def_t demo_levels[] = {
        {"harbor", 6, 4, 3, 2, 300, 0},
        {"caverns", 8, 6, 5, 3, 500, 3},
        {"citadel", 10, 8, 4, 3, 800, 0},
};
#define DEMO_NLEVELS (sizeof(demo_levels) / sizeof(demo_levels[0]))

typedef struct demo_level {
	const demo_level_def_t *def;
	demo_asset_t **assets;
	size_t n, cap;
} demo_level_t;

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

static void demo_texture_make(demo_asset_t *a, uint64_t *rng, unsigned max_shift)
{
	unsigned side = 128u << (demo_rand(rng) % (max_shift + 1));
	uint32_t c1 = demo_rand(rng) | 0xff000000u, c2 = demo_rand(rng) | 0xff000000u;
	uint32_t *px = malloc((size_t)side * side * sizeof(*px));
	DEMO_NEED(px);
	for (unsigned y = 0; y < side; y++)
		for (unsigned x = 0; x < side; x++)
			px[(size_t)y * side + x] = ((x ^ y) & 32) ? c1 : c2 ^ ((x * y) & 0xff);
	a->data = px;
	a->bytes = (size_t)side * side * sizeof(*px);
}

static void demo_mesh_make(demo_asset_t *a, uint64_t *rng)
{
	unsigned n = 32u << (demo_rand(rng) % 3); /* a grid of n x n vertices */
	float freq = demo_randf(rng, 0.05f, 0.3f);
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

static void demo_sound_make(demo_asset_t *a, uint64_t *rng)
{
	const unsigned rate = 22050;
	size_t n = (size_t)(rate * demo_randf(rng, 0.5f, 2.0f));
	float f0 = demo_randf(rng, 110.0f, 880.0f), f1 = demo_randf(rng, 110.0f, 880.0f);
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

static demo_asset_t *demo_asset_load(demo_level_t *lv, enum demo_asset_kind kind, unsigned i,
                                     uint64_t *rng)
{
	static const char *const ext[demo_asset_kind_count] = {"tex", "mesh", "snd"};
	demo_asset_t *a = calloc(1, sizeof(*a));
	DEMO_NEED(a);
	a->name = demo_strfmt("levels/%s/%s_%02u.%s", lv->def->name, ext[kind], i, ext[kind]);
	a->kind = kind;
	a->refs = 1;
	switch (kind) {
	case demo_asset_texture:
		demo_texture_make(a, rng, lv->def->max_tex_shift);
		break;
	case demo_asset_mesh:
		demo_mesh_make(a, rng);
		break;
	default:
		demo_sound_make(a, rng);
		break;
	}
	if (lv->n == lv->cap) {
		lv->cap = lv->cap ? lv->cap * 2 : 8;
		lv->assets = realloc(lv->assets, lv->cap * sizeof(*lv->assets));
		DEMO_NEED(lv->assets);
	}
	lv->assets[lv->n++] = a;
	return a;
}

/* Drops one reference; the asset goes when nobody holds it. */
static void demo_asset_release(demo_asset_t *a)
{
	if (--a->refs > 0)
		return;
	free(a->data);
	free(a->index);
	free(a->name);
	free(a);
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

static size_t demo_level_load(demo_level_t *lv, const demo_level_def_t *def, uint64_t seed,
                              demo_sound_bank_t *bank)
{
	uint64_t rng = seed;
	size_t bytes = 0;
	lv->def = def;
	for (unsigned i = 0; i < def->ntextures; i++)
		bytes += demo_asset_load(lv, demo_asset_texture, i, &rng)->bytes;
	for (unsigned i = 0; i < def->nmeshes; i++) {
		demo_asset_t *a = demo_asset_load(lv, demo_asset_mesh, i, &rng);
		bytes += a->bytes + a->index_bytes;
	}
	for (unsigned i = 0; i < def->nsounds; i++) {
		demo_asset_t *a = demo_asset_load(lv, demo_asset_sound, i, &rng);
		bytes += a->bytes;
		if (i < def->bank_sounds && bank->n < 8) {
			a->refs++;
			bank->sounds[bank->n++] = a;
		}
	}
	return bytes;
}

static void demo_level_unload(demo_level_t *lv)
{
	for (size_t i = 0; i < lv->n; i++)
		demo_asset_release(lv->assets[i]);
	free(lv->assets);
	memset(lv, 0, sizeof(*lv));
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

static void demo_ui_log(demo_ui_t *ui, char *line)
{
	unsigned slot = ui->log_next++ % 64;
	free(ui->log[slot]);
	ui->log[slot] = line;
}

static void demo_ui_free(demo_ui_t *ui)
{
	demo_ui_evict(ui, UINT64_MAX);
	for (unsigned i = 0; i < 64; i++)
		free(ui->log[i]);
	memset(ui->log, 0, sizeof(ui->log));
}

/* ---- streaming: a worker thread fills chunks the game asks for ---- */

typedef struct demo_chunk {
	struct demo_chunk *next;
	uint32_t id;
	size_t bytes;
	unsigned char *data;
} demo_chunk_t;

#define DEMO_RESIDENT 24 /* chunks the game keeps; older ones are freed */

typedef struct demo_stream {
	pthread_mutex_t lock; /* guards everything down to nserved */
	pthread_cond_t wake;  /* signalled on a request and on quit */
	uint32_t *requests;
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
 * expands it into the chunk, as a streamer decompressing from disk would. */
static demo_chunk_t *demo_chunk_make(uint32_t id)
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
		c->data[i] = scratch[i / 8] ^ (unsigned char)i;
	free(scratch);
	c->next = NULL;
	return c;
}

static void *demo_stream_main(void *arg)
{
	demo_stream_t *st = arg;
	pthread_mutex_lock(&st->lock);
	for (;;) {
		while (st->head == st->n && !st->quit)
			pthread_cond_wait(&st->wake, &st->lock);
		if (st->head == st->n)
			break; /* quit, and every request served */
		uint32_t id = st->requests[st->head++];
		pthread_mutex_unlock(&st->lock);

		demo_chunk_t *c = demo_chunk_make(id);
		GMTRACE_FRAME_N("streaming");

		pthread_mutex_lock(&st->lock);
		if (st->done_tail)
			st->done_tail->next = c;
		else
			st->done = c;
		st->done_tail = c;
		st->nserved++;
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

static void demo_stream_request(demo_stream_t *st, uint32_t id)
{
	pthread_mutex_lock(&st->lock);
	if (st->head == st->n)
		st->head = st->n = 0;
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 4;
		st->requests = realloc(st->requests, st->cap * sizeof(*st->requests));
		DEMO_NEED(st->requests);
	}
	st->requests[st->n++] = id;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	st->nrequested++;
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
		if (*slot) {
			free((*slot)->data);
			free(*slot);
		}
		*slot = c;
		st->ncollected++;
		st->bytes += c->bytes;
		c = next;
	}
}

static void demo_stream_start(demo_stream_t *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->wake, NULL);
	if (pthread_create(&st->thread, NULL, demo_stream_main, st) != 0)
		demo_die("cannot start the streaming thread", __func__);
}

/* Stops the worker once it has served every request; frees all chunks. */
static void demo_stream_stop(demo_stream_t *st)
{
	pthread_mutex_lock(&st->lock);
	st->quit = 1;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->thread, NULL);
	demo_stream_collect(st);
	for (unsigned i = 0; i < DEMO_RESIDENT; i++) {
		if (st->resident[i]) {
			free(st->resident[i]->data);
			free(st->resident[i]);
		}
	}
	free(st->requests);
	pthread_cond_destroy(&st->wake);
	pthread_mutex_destroy(&st->lock);
}

/* ---- the game ---- */

typedef struct demo_game {
	uint64_t rng;
	uint64_t frame;
	uint64_t score;
	unsigned nlevels;
	demo_level_t level;
	demo_sound_bank_t bank;
	demo_world_t world;
	demo_particles_t particles;
	demo_ui_t ui;
	demo_stream_t stream;
	uint32_t checksum; /* what "rendering" read, so nothing is optimized away */
} demo_game_t;

static void demo_game_load_level(demo_game_t *g, unsigned i)
{
	demo_level_t next = {0};
	const demo_level_def_t *def = &demo_levels[i];
	demo_sound_bank_forget(&g->bank);
	/* Load first, release after: both levels are resident for a moment. */
	size_t bytes = demo_level_load(&next, def, 0x1e7e1000ull + i, &g->bank);
	demo_level_unload(&g->level);
	g->level = next;
	demo_world_clear(&g->world);
	demo_ui_log(&g->ui, demo_strfmt("Loaded level %s: %zu assets, %.1f MiB", def->name, next.n,
	                                (double)bytes / 1048576.0));
	g->nlevels++;
}

static void demo_game_update(demo_game_t *g, float dt)
{
	demo_world_t *w = &g->world;
	unsigned spawn = demo_rand(&g->rng) % 4;
	for (unsigned i = 0; i < spawn && w->n < g->level.def->max_entities; i++)
		demo_world_spawn(w, &g->rng);

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
			if (demo_rand(&g->rng) % 4 == 0)
				demo_ui_log(&g->ui,
				            demo_strfmt("%s #%u destroyed",
				                        demo_kind_names[w->kind[i]], w->id[i]));
			g->score += 10u + w->kind[i] * 5u;
			demo_world_remove(w, i);
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

	/* the streamer is asked for the world around the player */
	if (g->frame % 3 == 0) {
		unsigned n = 1 + demo_rand(&g->rng) % 2;
		for (unsigned i = 0; i < n; i++)
			demo_stream_request(&g->stream, (uint32_t)g->stream.nrequested);
	}
	demo_stream_collect(&g->stream);
}

static void demo_game_draw_ui(demo_game_t *g)
{
	char line[128];
	demo_world_t *w = &g->world;
	demo_text_t *t;

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
}

/* "Renders": samples the level's assets so their memory is really read. */
static void demo_game_render(demo_game_t *g)
{
	for (size_t i = 0; i < g->level.n; i++) {
		const demo_asset_t *a = g->level.assets[i];
		const unsigned char *b = a->data;
		g->checksum += b[(g->frame * 4099) % a->bytes];
	}
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
	demo_stream_start(&g->stream);

	const float dt = 1.0f / DEMO_HZ;
	const long period_ns = 1000000000L / DEMO_HZ;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	double t0 = demo_now();

	for (g->frame = 0; g->frame < nframes; g->frame++) {
		/* levels change at the start, a third and two thirds of the run */
		for (unsigned l = 0; l < DEMO_NLEVELS; l++)
			if (g->frame == nframes * l / DEMO_NLEVELS && g->nlevels == l)
				demo_game_load_level(g, l);
		demo_game_update(g, dt);
		demo_game_draw_ui(g);
		demo_game_render(g);
		GMTRACE_FRAME();

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
	demo_stream_stop(&g->stream);
	/* every level but the last lost its bank's sounds at the change */
	unsigned leaked = 0;
	for (unsigned l = 0; l + 1 < g->nlevels; l++)
		leaked += demo_levels[l].bank_sounds;
	size_t peak_entities = g->world.peak, peak_particles = g->particles.peak;
	demo_sound_bank_release(&g->bank);
	demo_level_unload(&g->level);
	demo_world_free(&g->world);
	demo_particles_free(&g->particles);
	demo_ui_free(&g->ui);

	printf("gm_demo: %llu frames in %.2f s (%.0f FPS), %u levels, peak %zu entities and %zu "
	       "particles (%llu spawned), %llu chunks streamed (%.1f MiB), %u assets leaked on "
	       "purpose, checksum %08x%s\n",
	       nframes, secs, (double)nframes / secs, g->nlevels, peak_entities, peak_particles,
	       (unsigned long long)g->particles.nspawned, (unsigned long long)g->stream.ncollected,
	       (double)g->stream.bytes / 1048576.0, leaked, g->checksum,
	       gmtrace_enabled() ? ", recorded by gmtrace" : "");
	return 0;

usage:
	demo_usage();
	return 2;
}

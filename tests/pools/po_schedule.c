/* po_schedule.c - three object pools driven by a known acquire/release schedule
 *
 *     po_schedule            40 frames, one JSON line at exit
 *
 * Each pool is a real one (slots in static storage, a free list); when it
 * is full, an acquire mallocs the object and tells gmtrace it overflowed
 * (gmtrace_pool_acquire(pool, 0)); releasing such an object frees it
 * (gmtrace_pool_release(pool, 0)). Objects are released last-in first-out.
 *
 *   enemies  48-byte objects, capacity 8, created before frame 1 ends.
 *            Frames f % 10 == 7 make no call at all (gmtrace writes no
 *            pool_frame record; the in-use count carries over). Other
 *            frames make 4 + r % 10 calls (r from fx_rand, seed 0x5eed),
 *            each an acquire with probability 65% (f <= 15), 40% (f <= 30)
 *            or 55%, else a release (an acquire when nothing is held).
 *   bullets  32-byte objects, capacity 64, resized to 32 when frame 20
 *            begins, destroyed at the end of frame 30 (its last frame).
 *            Frames 1..30 acquire 8 + f % 5 and release them all: peak 12
 *            (frame 4), never_fills (2 x 12 < 32); p99 of 30 high-water
 *            marks is 12, so the recommended capacity is ceil(13.2) = 14.
 *   sparks   24-byte objects, capacity 4, created in frame 5. Even frames
 *            from 6 on acquire 6 (4 served, 2 overflow) and release them:
 *            overflows in every frame it is used (overflows_every_frame).
 *
 * The fixture keeps every pool's figures frame by frame (index n - 1 for
 * frame n): acquires, served, releases, returned, in use at the frame's
 * end, high-water mark (the most pool objects in use at once in the
 * frame, its starting count included) and capacity at the frame's end,
 * and computes from them the metrics of README.md here with the default
 * percentile (99) and headroom (10%). Objects still held after frame 40
 * are released after the last frame, outside every frame.
 */
#define _GNU_SOURCE
#include "po_common.h"

#include <math.h>

#include <gmtrace.h>

#define PO_FRAMES 40
#define PO_SLOTS 64 /* most slots of any pool */
#define PO_HELD 256 /* most objects one pool hands out at once */
#define PO_SLOT_BYTES 64

typedef struct po_obj {
	void *p;
	int pooled;
	int slot;
} po_obj_t;

typedef struct po_pool {
	const char *name;
	uint32_t id;
	uint64_t object_size, capacity, capacity_initial;
	uint64_t first_frame, last_frame; /* 0 until created / while alive */
	int destroyed;
	unsigned char storage[PO_SLOTS][PO_SLOT_BYTES];
	int free_slots[PO_SLOTS];
	int nfree;
	po_obj_t held[PO_HELD];
	size_t nheld;
	uint64_t in_use; /* pool objects handed out */
	uint64_t acquires[PO_FRAMES], served[PO_FRAMES], releases[PO_FRAMES], returned[PO_FRAMES];
	uint64_t in_use_end[PO_FRAMES], high_water[PO_FRAMES], capacity_end[PO_FRAMES];
} po_pool_t;

static po_pool_t po_pools[3];
static uint64_t po_frame = 1; /* the frame being played */

static void po_create(po_pool_t *pool, const char *name, uint64_t object_size, uint64_t capacity)
{
	int i;

	pool->name = name;
	pool->object_size = object_size;
	pool->capacity = pool->capacity_initial = capacity;
	pool->nfree = 0;
	for (i = (int)capacity - 1; i >= 0; i--)
		pool->free_slots[pool->nfree++] = i;
	pool->id = gmtrace_pool_create(name, object_size, capacity);
	if (pool->id == 0)
		fx_fail("gmtrace_pool_create", "returned 0: run under libgmtrace");
	pool->first_frame = po_frame;
	pool->high_water[po_frame - 1] = 0;
}

static void po_acquire(po_pool_t *pool)
{
	uint64_t f = po_frame - 1;
	po_obj_t *o;

	if (pool->nheld == PO_HELD)
		fx_fail("po_acquire", "too many objects held");
	o = &pool->held[pool->nheld++];
	pool->acquires[f]++;
	if (pool->in_use < pool->capacity) {
		o->slot = pool->free_slots[--pool->nfree];
		o->p = pool->storage[o->slot];
		o->pooled = 1;
		pool->in_use++;
		pool->served[f]++;
		if (pool->in_use > pool->high_water[f])
			pool->high_water[f] = pool->in_use;
		gmtrace_pool_acquire(pool->id, 1);
	} else {
		o->p = malloc(pool->object_size);
		if (!o->p)
			fx_fail("po_acquire", "malloc failed");
		o->pooled = 0;
		gmtrace_pool_acquire(pool->id, 0);
	}
	fx_touch(o->p, (size_t)pool->object_size);
}

/* Releases the newest object; in_frame 0: after the last frame. */
static void po_release(po_pool_t *pool, int in_frame)
{
	po_obj_t *o = &pool->held[--pool->nheld];

	if (in_frame)
		pool->releases[po_frame - 1]++;
	if (o->pooled) {
		pool->free_slots[pool->nfree++] = o->slot;
		pool->in_use--;
		if (in_frame)
			pool->returned[po_frame - 1]++;
		gmtrace_pool_release(pool->id, 1);
	} else {
		free(o->p);
		gmtrace_pool_release(pool->id, 0);
	}
}

/* A frame of a live pool begins: its high-water mark starts at what it holds. */
static void po_frame_begin(po_pool_t *pool)
{
	if (pool->first_frame && !pool->destroyed)
		pool->high_water[po_frame - 1] = pool->in_use;
}

static void po_frame_end(po_pool_t *pool)
{
	if (pool->first_frame && !pool->last_frame) {
		pool->in_use_end[po_frame - 1] = pool->in_use;
		pool->capacity_end[po_frame - 1] = pool->capacity;
	}
}

/* The metrics of README.md from the per-frame figures, as JSON. */
static void po_json_pool(const po_pool_t *pool)
{
	uint64_t first = pool->first_frame, last = pool->last_frame ? pool->last_frame : PO_FRAMES;
	uint64_t n = last - first + 1, f, sum_in_use = 0, idle = 0, hw[PO_FRAMES],
	         demand[PO_FRAMES];
	uint64_t used = 0, ofl_frames = 0, acquires = 0, served = 0, releases = 0, returned = 0;
	uint64_t peak = 0, peak_frame = 0, peak_cap = 0, hw_p, dem_p, rec;
	double util = 0, util_peak = 0;

	for (f = first; f <= last; f++) {
		uint64_t i = f - 1, ofl = pool->acquires[i] - pool->served[i];
		double hu = (double)pool->high_water[i] / (double)pool->capacity_end[i];

		acquires += pool->acquires[i];
		served += pool->served[i];
		releases += pool->releases[i];
		returned += pool->returned[i];
		used += pool->acquires[i] > 0;
		ofl_frames += ofl > 0;
		if (f == first || pool->high_water[i] > peak) {
			peak = pool->high_water[i];
			peak_frame = f;
			peak_cap = pool->capacity_end[i];
		}
		sum_in_use += pool->in_use_end[i];
		idle += (pool->capacity_end[i] - pool->in_use_end[i]) * pool->object_size;
		util += (double)pool->in_use_end[i] / (double)pool->capacity_end[i];
		if (hu > util_peak)
			util_peak = hu;
		hw[f - first] = pool->high_water[i];
		demand[f - first] = pool->high_water[i] + ofl;
	}
	hw_p = po_percentile(hw, (size_t)n, 99000);
	dem_p = po_percentile(demand, (size_t)n, 99000);
	rec = po_headroom(hw_p, 10);

	fx_json_open(NULL, '{');
	fx_json_u64("id", pool->id);
	fx_json_str("name", pool->name);
	fx_json_u64("object_size", pool->object_size);
	fx_json_u64("capacity", pool->capacity);
	fx_json_u64("capacity_initial", pool->capacity_initial);
	fx_json_u64("first_frame", first);
	fx_json_u64("last_frame", last);
	fx_json_u64("frames", n);
	fx_json_u64("used_frames", used);
	fx_json_u64("acquires", acquires);
	fx_json_u64("served", served);
	fx_json_u64("overflows", acquires - served);
	fx_json_u64("releases", releases);
	fx_json_u64("returned", returned);
	po_json_double("hit_rate", acquires ? (double)served / (double)acquires : NAN);
	fx_json_u64("peak", peak);
	fx_json_u64("peak_frame", peak_frame);
	po_json_double("in_use_mean", (double)sum_in_use / (double)n);
	fx_json_u64("in_use_end", pool->in_use_end[last - 1]);
	po_json_double("utilization_mean", util / (double)n);
	po_json_double("utilization_peak", util_peak);
	fx_json_u64("overflow_frames", ofl_frames);
	po_json_double("overflows_per_frame", (double)(acquires - served) / (double)n);
	po_json_double("overflow_frame_fraction", (double)ofl_frames / (double)n);
	po_json_double("idle_bytes_mean", (double)idle / (double)n);
	fx_json_u64("idle_bytes_at_peak", (peak_cap - peak) * pool->object_size);
	fx_json_u64("allocations_avoided", served);
	fx_json_open("sizing", '{');
	fx_json_u64("high_water_percentile", hw_p);
	fx_json_u64("recommended_capacity", rec);
	fx_json_i64("resize_saves_bytes",
	            ((int64_t)pool->capacity - (int64_t)rec) * (int64_t)pool->object_size);
	fx_json_u64("demand_percentile", dem_p);
	fx_json_u64("demand_recommended_capacity", po_headroom(dem_p, 10));
	fx_json_bool("never_fills", 2 * peak < pool->capacity);
	fx_json_bool("overflows_every_frame", used > 0 && 10 * ofl_frames >= 9 * used);
	fx_json_close('}');
	fx_json_open("per_frame", '{');
	po_json_u64s("acquires", pool->acquires + first - 1, (size_t)n);
	po_json_u64s("served", pool->served + first - 1, (size_t)n);
	po_json_u64s("releases", pool->releases + first - 1, (size_t)n);
	po_json_u64s("returned", pool->returned + first - 1, (size_t)n);
	po_json_u64s("in_use", pool->in_use_end + first - 1, (size_t)n);
	po_json_u64s("high_water", pool->high_water + first - 1, (size_t)n);
	po_json_u64s("capacity", pool->capacity_end + first - 1, (size_t)n);
	fx_json_close('}');
	fx_json_close('}');
}

int main(void)
{
	po_pool_t *enemies = &po_pools[0], *bullets = &po_pools[1], *sparks = &po_pools[2];
	uint64_t rng = 0x5eed;
	int i, k, n;

	fx_name = "po_schedule";
	fx_json_begin(); /* nothing on the heap from here on but the overflows */
	po_create(enemies, "enemies", 48, 8);
	po_create(bullets, "bullets", 32, 64);
	for (po_frame = 1; po_frame <= PO_FRAMES; po_frame++) {
		uint64_t f = po_frame;

		for (k = 0; k < 3; k++)
			po_frame_begin(&po_pools[k]);
		if (f == 5)
			po_create(sparks, "sparks", 24, 4);

		if (f % 10 != 7) {
			int bias = f <= 15 ? 58 : f <= 30 ? 42 : 55;

			n = 4 + (int)(fx_rand(&rng) % 10);
			for (i = 0; i < n; i++) {
				if (enemies->nheld == 0 || (int)(fx_rand(&rng) % 100) < bias)
					po_acquire(enemies);
				else
					po_release(enemies, 1);
			}
		}

		if (f <= 30) {
			if (f == 20) {
				bullets->capacity = 32;
				bullets->nfree = 0;
				for (i = 31; i >= 0; i--)
					bullets->free_slots[bullets->nfree++] = i;
				gmtrace_pool_resize(bullets->id, 32);
			}
			n = 8 + (int)(f % 5);
			for (i = 0; i < n; i++)
				po_acquire(bullets);
			for (i = 0; i < n; i++)
				po_release(bullets, 1);
			if (f == 30) {
				po_frame_end(bullets);
				gmtrace_pool_destroy(bullets->id);
				bullets->last_frame = 30;
				bullets->destroyed = 1;
			}
		}

		if (f >= 6 && f % 2 == 0) {
			for (i = 0; i < 6; i++)
				po_acquire(sparks);
			for (i = 0; i < 6; i++)
				po_release(sparks, 1);
		}

		for (k = 0; k < 3; k++)
			po_frame_end(&po_pools[k]);
		GMTRACE_FRAME();
	}
	while (enemies->nheld > 0)
		po_release(enemies, 0);

	fx_json_u64("frames", PO_FRAMES);
	fx_json_u64("percentile", 99);
	fx_json_u64("headroom_pct", 10);
	fx_json_open("pools", '[');
	for (k = 0; k < 3; k++)
		po_json_pool(&po_pools[k]);
	fx_json_close(']');
	return fx_json_write(1) == 0 ? 0 : 1;
}

/* pack.c - pack and unpack blocks of records (see pack.h for the forms)
 *
 * Both forms take the same three numbers from each record (gm_pack_numbers)
 * and write the same type byte and extra units; they differ only in how the
 * numbers are written: varints (form 1) or a byte of lengths and that many
 * little-endian bytes (form 2). gm_pack_run and gm_unpack_run do the work
 * for both, the form a constant the compiler folds.
 */
#include "pack.h"

#include <string.h>

#include "../support/support.h"
#include "format.h"

/* Word k of raw records: a capture's raw block payload (gmtrace run's
 * compaction) sits at any byte offset of the file, so no alignment is
 * assumed; on x86 this is the same single load. */
static inline uint64_t gm_pack_word(const unsigned char *w, size_t k)
{
	uint64_t v;
	memcpy(&v, w + 8 * k, 8);
	return v;
}

static inline uint64_t gm_pack_zz(uint64_t v)
{
	return (v << 1) ^ (uint64_t)((int64_t)v >> 63);
}

static inline uint64_t gm_pack_unzz(uint64_t v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

/* The difference of two fields of bits width, as a small signed number. */
static inline uint64_t gm_pack_diff(uint64_t now, uint64_t prev, unsigned bits)
{
	uint64_t d = (now - prev) & ((1ull << bits) - 1);
	return gm_pack_zz((uint64_t)((int64_t)(d << (64 - bits)) >> (64 - bits)));
}

/* The sign-extended difference in a field of bits width, added to prev. */
static inline uint64_t gm_pack_step(uint64_t prev, uint64_t zz, unsigned bits)
{
	uint64_t mask = (1ull << bits) - 1;
	uint64_t d = gm_pack_unzz(zz);
	return (prev + d) & mask;
}

/* The previous allocation's pointer and size, free's pointer, and tick;
 * 0 at the start of every block. */
typedef struct gm_pack_prev {
	uint64_t a, b, f, t;
} gm_pack_prev_t;

/* ---- packing ---------------------------------------------------------------- */

/* A, B and T of the record w0, w1 (pack.h) into v, the previous values
 * moved on; returns the record's units. Allocations, frees and the rest
 * interleave at random in a game: the encodings are picked by selects, so
 * nothing branches on the data. */
static inline unsigned gm_pack_numbers(gm_pack_prev_t *pv, uint64_t w0, uint64_t w1, uint64_t v[3])
{
	unsigned t = gm_rec_type(w0);
	uint64_t a = gm_rec_a(w0), b = gm_rec_b(w1), tick = gm_rec_tick(w1);
	int is_alloc = t == gm_rec_alloc || t == gm_rec_realloc, is_free = t == gm_rec_free;
	uint64_t da = gm_pack_diff(a, is_alloc ? pv->a : pv->f, 48);
	v[0] = is_alloc | is_free ? da : a;
	v[1] = is_alloc ? gm_pack_diff(b, pv->b, 40) : b;
	v[2] = (tick - pv->t) & GM_REC_TICK_MASK;
	pv->a = is_alloc ? a : pv->a;
	pv->b = is_alloc ? b : pv->b;
	pv->f = is_free ? a : pv->f;
	pv->t = tick;
	return is_alloc | is_free ? (t == gm_rec_realloc ? 2u : 1u) : gm_rec_units(w0);
}

static inline unsigned char *gm_pack_varint(unsigned char *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*o++ = (unsigned char)v;
	return o;
}

/* Bytes needed for v: 0 for 0, else its significant bits rounded up. */
static inline unsigned gm_pack_len(uint64_t v)
{
	return v ? (64u - (unsigned)__builtin_clzll(v) + 7) >> 3 : 0;
}

/* Store v's low bytes at o, 8 bytes written, len kept. */
static inline unsigned char *gm_pack_put(unsigned char *o, uint64_t v, unsigned len)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(o, &v, 8);
#else
	unsigned i;
	for (i = 0; i < 8; i++)
		o[i] = (unsigned char)(v >> (8 * i));
#endif
	return o + len;
}

static inline __attribute__((always_inline)) size_t
gm_pack_run(const unsigned char *w, size_t n, unsigned char *out, size_t *used, int form)
{
	gm_pack_prev_t pv = {0, 0, 0, 0};
	unsigned char *o = out;
	size_t i = 0, units = n / 16;
	while (i < units) {
		uint64_t w0 = gm_pack_word(w, 2 * i), w1 = gm_pack_word(w, 2 * i + 1), v[3];
		unsigned t = gm_rec_type(w0), x = gm_rec_x(w0), u;
		if (form == 2 && GM_UNLIKELY(t == 0))
			break; /* a slot claimed and never written (or a stray word) */
		u = gm_pack_numbers(&pv, w0, w1, v);
		if (GM_UNLIKELY(i + u > units))
			break; /* its extra units cut off (a chunk's used count cut a
			          record): packed, no reader could unpack the block */
		if (GM_LIKELY(t < 16 && x < 16)) {
			*o++ = (unsigned char)(t << 4 | x);
		} else {
			*o++ = 0;
			*o++ = (unsigned char)t;
			*o++ = (unsigned char)x;
		}
		if (form == 1) {
			o = gm_pack_varint(o, v[0]);
			o = gm_pack_varint(o, v[1]);
			o = gm_pack_varint(o, v[2]);
		} else {
			unsigned la = gm_pack_len(v[0]), lb = gm_pack_len(v[1]),
			         lt = gm_pack_len(v[2]);
			*o++ = (unsigned char)(la | lb << 3 | lt << 6);
			o = gm_pack_put(o, v[0], la);
			o = gm_pack_put(o, v[1], lb);
			o = gm_pack_put(o, v[2], lt);
		}
		if (GM_UNLIKELY(u > 1)) {
			memcpy(o, w + 16 * (i + 1), (size_t)(u - 1) * 16);
			o += (size_t)(u - 1) * 16;
		}
		i += u;
	}
	*used = i * 16;
	return (size_t)(o - out);
}

size_t gm_pack_block_v1(const void *raw, size_t n, void *out)
{
	size_t used;
	return gm_pack_run(raw, n, out, &used, 1);
}

/* Form 2 counts each number's bytes with a count of leading zeros. x86-64's
 * baseline has only bsr for it, slow on the AMD cores the bench runs on
 * (perf annotate puts most of the packer's time after them); lzcnt, which
 * nearly every x86-64 made since 2013 has, is not. A CPU without it would
 * read lzcnt as bsr and get other counts, so it is used only where cpuid
 * says so, asked once. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>

__attribute__((target("lzcnt"))) static size_t gm_pack_run_lzcnt(const void *raw, size_t n,
                                                                 void *out, size_t *used)
{
	return gm_pack_run(raw, n, out, used, 2);
}

/* 1 with lzcnt, 0 without, -1 not asked yet */
static int gm_pack_lzcnt = -1;

static int gm_pack_cpu_lzcnt(void)
{
	unsigned a, b, c, d;
	return __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & bit_LZCNT);
}

static int gm_pack_has_lzcnt(void)
{
	int has = __atomic_load_n(&gm_pack_lzcnt, __ATOMIC_RELAXED);
	if (GM_UNLIKELY(has < 0)) {
		has = gm_pack_cpu_lzcnt();
		__atomic_store_n(&gm_pack_lzcnt, has, __ATOMIC_RELAXED);
	}
	return has;
}

int gm_pack_prefer_lzcnt(int on)
{
	int use = on && gm_pack_cpu_lzcnt();
	__atomic_store_n(&gm_pack_lzcnt, use, __ATOMIC_RELAXED);
	return use;
}
#else
#define gm_pack_has_lzcnt() 0
#define gm_pack_run_lzcnt(raw, n, out, used) 0

int gm_pack_prefer_lzcnt(int on)
{
	(void)on;
	return 0;
}
#endif

size_t gm_pack_records(const void *raw, size_t n, void *out, size_t *used)
{
	if (gm_pack_has_lzcnt())
		return gm_pack_run_lzcnt(raw, n, out, used);
	return gm_pack_run(raw, n, out, used, 2);
}

size_t gm_pack_block(const void *raw, size_t n, void *out)
{
	size_t used;
	return gm_pack_records(raw, n, out, &used);
}

/* ---- unpacking -------------------------------------------------------------- */

/* Read a varint; NULL when it runs past end or past 64 bits. */
static inline const unsigned char *gm_pack_get(const unsigned char *p, const unsigned char *end,
                                               uint64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;
	while (p < end) {
		unsigned char c = *p++;
		r |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = r;
			return p;
		}
		shift += 7;
		if (shift > 63)
			return NULL;
	}
	return NULL;
}

/* len (at most 7) little-endian bytes at p. */
static inline uint64_t gm_pack_get_le(const unsigned char *p, const unsigned char *end,
                                      unsigned len)
{
	uint64_t v = 0;
	unsigned i;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (GM_LIKELY(end - p >= 8)) {
		memcpy(&v, p, 8);
		return len ? v & (~0ull >> (64 - 8 * len)) : 0;
	}
#endif
	for (i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline __attribute__((always_inline)) int gm_unpack_run(const void *in, size_t n, void *out,
                                                               size_t want, int form)
{
	const unsigned char *p = in, *end = p + n;
	uint64_t *w = out;
	gm_pack_prev_t pv = {0, 0, 0, 0};
	size_t units = 0, cap = want / 16;
	if (want % 16)
		return -1;
	while (p < end) {
		unsigned t, x, u;
		uint64_t v[3], a, b;
		if (*p) {
			t = *p >> 4;
			x = *p & 15;
			p++;
		} else {
			if (end - p < 3)
				return -1;
			t = p[1];
			x = p[2];
			p += 3;
		}
		if (t == 0)
			return -1;
		if (form == 1) {
			if (!(p = gm_pack_get(p, end, &v[0])) ||
			    !(p = gm_pack_get(p, end, &v[1])) || !(p = gm_pack_get(p, end, &v[2])))
				return -1;
		} else {
			unsigned la, lb, lt;
			if (p >= end)
				return -1;
			la = *p & 7;
			lb = (*p >> 3) & 7;
			lt = *p >> 6;
			p++;
			if ((size_t)(end - p) < (size_t)la + lb + lt)
				return -1;
			v[0] = gm_pack_get_le(p, end, la);
			p += la;
			v[1] = gm_pack_get_le(p, end, lb);
			p += lb;
			v[2] = gm_pack_get_le(p, end, lt);
			p += lt;
		}
		if (units >= cap)
			return -1;
		if (t == gm_rec_alloc || t == gm_rec_realloc) {
			a = pv.a = gm_pack_step(pv.a, v[0], 48);
			b = pv.b = gm_pack_step(pv.b, v[1], 40);
		} else if (t == gm_rec_free) {
			a = pv.f = gm_pack_step(pv.f, v[0], 48);
			b = v[1];
		} else {
			a = v[0];
			b = v[1];
		}
		pv.t = (pv.t + v[2]) & GM_REC_TICK_MASK;
		/* form 2 refuses a value wider than its field: gm_pack_block never
		 * writes one (form 1's readers have always cut them) */
		if (form == 2 && (a > GM_REC_PTR_MASK || b > GM_REC_SIZE_MASK))
			return -1;
		w[2 * units] = gm_rec_w0(a, t, x);
		w[2 * units + 1] = gm_rec_w1(b, pv.t);
		u = gm_rec_units(w[2 * units]);
		if (u > 1) {
			size_t extra = (size_t)(u - 1) * 16;
			if ((size_t)(end - p) < extra || units + u > cap)
				return -1;
			memcpy(&w[2 * units + 2], p, extra);
			p += extra;
		}
		units += u;
	}
	return units == cap ? 0 : -1;
}

int gm_unpack_block_v1(const void *in, size_t n, void *out, size_t want)
{
	return gm_unpack_run(in, n, out, want, 1);
}

int gm_unpack_block(const void *in, size_t n, void *out, size_t want)
{
	return gm_unpack_run(in, n, out, want, 2);
}

gm_unpack_fn gm_unpack_for(unsigned kind)
{
	switch (kind) {
	case gm_block_packed:
	case gm_block_packed_zstd:
		return gm_unpack_block_v1;
	case gm_block_packed2:
	case gm_block_packed2_zstd:
		return gm_unpack_block;
	default:
		return NULL;
	}
}

/* pack.c - pack and unpack blocks of records (see pack.h for the forms) */
#include "pack.h"

#include <string.h>

#include "format.h"

static inline unsigned char *gm_pack_varint(unsigned char *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*o++ = (unsigned char)v;
	return o;
}

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

/* The difference of two fields of bits width, as a small signed number. */
static inline uint64_t gm_pack_diff(uint64_t now, uint64_t prev, unsigned bits)
{
	uint64_t d = (now - prev) & ((1ull << bits) - 1);
	return gm_pack_zz((uint64_t)((int64_t)(d << (64 - bits)) >> (64 - bits)));
}

static inline uint64_t gm_pack_unzz(uint64_t v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

size_t gm_pack_block_v1(const void *raw, size_t n, void *out)
{
	const unsigned char *w = raw;
	unsigned char *o = out;
	uint64_t pa = 0, pb = 0, pf = 0, pt = 0;
	size_t i = 0, units = n / 16;
	while (i < units) {
		uint64_t w0 = gm_pack_word(w, 2 * i), w1 = gm_pack_word(w, 2 * i + 1);
		unsigned t = gm_rec_type(w0), x = gm_rec_x(w0), u = gm_rec_units(w0);
		uint64_t a = gm_rec_a(w0), b = gm_rec_b(w1), tick = gm_rec_tick(w1);
		if (i + u > units)
			u = (unsigned)(units - i); /* cannot happen for whole records */
		if (t < 16 && x < 16) {
			*o++ = (unsigned char)(t << 4 | x);
		} else {
			*o++ = 0;
			*o++ = (unsigned char)t;
			*o++ = (unsigned char)x;
		}
		if (t == gm_rec_alloc || t == gm_rec_realloc) {
			o = gm_pack_varint(o, gm_pack_diff(a, pa, 48));
			o = gm_pack_varint(o, gm_pack_diff(b, pb, 40));
			pa = a;
			pb = b;
		} else if (t == gm_rec_free) {
			o = gm_pack_varint(o, gm_pack_diff(a, pf, 48));
			o = gm_pack_varint(o, b);
			pf = a;
		} else {
			o = gm_pack_varint(o, a);
			o = gm_pack_varint(o, b);
		}
		o = gm_pack_varint(o, (tick - pt) & GM_REC_TICK_MASK);
		pt = tick;
		if (u > 1) {
			memcpy(o, w + 16 * (i + 1), (size_t)(u - 1) * 16);
			o += (size_t)(u - 1) * 16;
		}
		i += u;
	}
	return (size_t)(o - (unsigned char *)out);
}

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

/* The sign-extended difference in a field of bits width, added to prev. */
static inline uint64_t gm_pack_step(uint64_t prev, uint64_t zz, unsigned bits)
{
	uint64_t mask = (1ull << bits) - 1;
	uint64_t d = gm_pack_unzz(zz);
	return (prev + d) & mask;
}

int gm_unpack_block_v1(const void *in, size_t n, void *out, size_t want)
{
	const unsigned char *p = in, *end = p + n;
	uint64_t *w = out, pa = 0, pb = 0, pf = 0, pt = 0;
	size_t units = 0, cap = want / 16;
	if (want % 16)
		return -1;
	while (p < end) {
		unsigned t, x, u;
		uint64_t a, b, dt, v;
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
		if (!(p = gm_pack_get(p, end, &v)))
			return -1;
		if (t == gm_rec_alloc || t == gm_rec_realloc) {
			a = pa = gm_pack_step(pa, v, 48);
			if (!(p = gm_pack_get(p, end, &v)))
				return -1;
			b = pb = gm_pack_step(pb, v, 40);
		} else if (t == gm_rec_free) {
			a = pf = gm_pack_step(pf, v, 48);
			if (!(p = gm_pack_get(p, end, &b)))
				return -1;
		} else {
			a = v;
			if (!(p = gm_pack_get(p, end, &b)))
				return -1;
		}
		if (!(p = gm_pack_get(p, end, &dt)))
			return -1;
		pt = (pt + dt) & GM_REC_TICK_MASK;
		if (units >= cap)
			return -1;
		w[2 * units] = gm_rec_w0(a, t, x);
		w[2 * units + 1] = gm_rec_w1(b, pt);
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

/* ---- the length-prefixed form (form 2) ------------------------------------ */

#define GM_PACK_LIKELY(x) __builtin_expect(!!(x), 1)
#define GM_PACK_UNLIKELY(x) __builtin_expect(!!(x), 0)

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

size_t gm_pack_records(const void *raw, size_t n, void *out, size_t *used)
{
	const unsigned char *w = raw;
	unsigned char *o = out;
	uint64_t pa = 0, pb = 0, pf = 0, pt = 0;
	size_t i = 0, units = n / 16;
	while (i < units) {
		uint64_t w0 = gm_pack_word(w, 2 * i), w1 = gm_pack_word(w, 2 * i + 1);
		unsigned t = gm_rec_type(w0), x = gm_rec_x(w0), u, la, lb, lt;
		if (GM_PACK_UNLIKELY(w0 == 0))
			break; /* a slot claimed and never written */
		uint64_t a = gm_rec_a(w0), b = gm_rec_b(w1), tick = gm_rec_tick(w1);
		/* allocations, frees and the rest interleave at random in a game:
		 * the encodings are picked by selects, and the lengths written up
		 * front, so that nothing branches on the data */
		int is_alloc = t == gm_rec_alloc || t == gm_rec_realloc, is_free = t == gm_rec_free;
		uint64_t da = gm_pack_diff(a, is_alloc ? pa : pf, 48);
		uint64_t va = is_alloc | is_free ? da : a;
		uint64_t vb = is_alloc ? gm_pack_diff(b, pb, 40) : b;
		uint64_t vt = (tick - pt) & GM_REC_TICK_MASK;
		pa = is_alloc ? a : pa;
		pb = is_alloc ? b : pb;
		pf = is_free ? a : pf;
		pt = tick;
		la = gm_pack_len(va);
		lb = gm_pack_len(vb);
		lt = gm_pack_len(vt);
		if (GM_PACK_LIKELY(t < 16 && x < 16)) {
			*o++ = (unsigned char)(t << 4 | x);
		} else {
			*o++ = 0;
			*o++ = (unsigned char)t;
			*o++ = (unsigned char)x;
		}
		*o++ = (unsigned char)(la | lb << 3 | lt << 6);
		o = gm_pack_put(o, va, la);
		o = gm_pack_put(o, vb, lb);
		o = gm_pack_put(o, vt, lt);
		u = is_alloc | is_free ? (t == gm_rec_realloc ? 2u : 1u) : gm_rec_units(w0);
		if (i + u > units)
			u = (unsigned)(units - i); /* cannot happen for whole records */
		if (GM_PACK_UNLIKELY(u > 1)) {
			memcpy(o, w + 16 * (i + 1), (size_t)(u - 1) * 16);
			o += (size_t)(u - 1) * 16;
		}
		i += u;
	}
	*used = i * 16;
	return (size_t)(o - (unsigned char *)out);
}

size_t gm_pack_block(const void *raw, size_t n, void *out)
{
	size_t used;
	return gm_pack_records(raw, n, out, &used);
}

/* len (at most 7) little-endian bytes at p. */
static inline uint64_t gm_pack_get_le(const unsigned char *p, const unsigned char *end,
                                      unsigned len)
{
	uint64_t v = 0;
	unsigned i;
	if (GM_PACK_LIKELY(end - p >= 8)) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(&v, p, 8);
		return len ? v & (~0ull >> (64 - 8 * len)) : 0;
#endif
	}
	for (i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int gm_unpack_block(const void *in, size_t n, void *out, size_t want)
{
	const unsigned char *p = in, *end = p + n;
	uint64_t *w = out, pa = 0, pb = 0, pf = 0, pt = 0;
	size_t units = 0, cap = want / 16;
	if (want % 16)
		return -1;
	while (p < end) {
		unsigned t, x, u, la, lb, lt;
		uint64_t a, b;
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
		if (t == 0 || p >= end)
			return -1;
		la = *p & 7;
		lb = (*p >> 3) & 7;
		lt = *p >> 6;
		p++;
		if ((size_t)(end - p) < (size_t)la + lb + lt || units >= cap)
			return -1;
		a = gm_pack_get_le(p, end, la);
		p += la;
		b = gm_pack_get_le(p, end, lb);
		p += lb;
		pt = (pt + gm_pack_get_le(p, end, lt)) & GM_REC_TICK_MASK;
		p += lt;
		if (t == gm_rec_alloc || t == gm_rec_realloc) {
			a = pa = gm_pack_step(pa, a, 48);
			b = pb = gm_pack_step(pb, b, 40);
		} else if (t == gm_rec_free) {
			a = pf = gm_pack_step(pf, a, 48);
		}
		if (a > GM_REC_PTR_MASK || b > GM_REC_SIZE_MASK)
			return -1; /* out of its field: never written by gm_pack_block */
		w[2 * units] = gm_rec_w0(a, t, x);
		w[2 * units + 1] = gm_rec_w1(b, pt);
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

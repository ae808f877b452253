/* test_pack.c - packed blocks unpack to exactly the records they came from */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "interpose/log/format.h"
#include "interpose/log/pack.h"

/* A block of every shape of record: allocations going up and down in
 * address and size, frees, reallocs with an extra unit, a variable record
 * with a string, types and kinds over 15, ticks wrapping the 24-bit field. */
static size_t gm_test_block(uint64_t *w)
{
	size_t n = 0;
	uint64_t tick = GM_REC_TICK_MASK - 40, ptr = 0x7fffff000000ull;
	int i;
	for (i = 0; i < 300; i++) {
		ptr += (i % 3 == 0) ? 48 : (uint64_t) - (int64_t)(16 * (i % 5));
		tick += 7 + (uint64_t)(i % 11) * 100000;
		w[n++] = gm_rec_w0(ptr, gm_rec_alloc, (unsigned)(i % 14));
		w[n++] = gm_rec_w1((uint64_t)(i * 977) % 100000 + (i == 7 ? GM_REC_SIZE_MASK : 0),
		                   tick);
		if (i % 4 == 0) {
			w[n++] = gm_rec_w0(ptr - 4096, gm_rec_free, gm_kind_delete);
			w[n++] = gm_rec_w1((uint64_t)i, tick + 1);
		}
		if (i % 25 == 0) {
			w[n++] = gm_rec_w0(ptr + 64, gm_rec_realloc, gm_kind_realloc);
			w[n++] = gm_rec_w1(12345, tick + 2);
			w[n++] = ptr - 4096; /* extra unit: old pointer, 0 */
			w[n++] = 0;
		}
	}
	/* a thread_start with a name (1 extra unit), a validation with x = 16 */
	w[n++] = gm_rec_w0(4242, gm_rec_thread_start, 1);
	w[n++] = gm_rec_w1(5, tick + 9);
	memcpy(&w[n], "loader\0\0\0\0\0\0\0\0\0\0", 16);
	n += 2;
	w[n++] = gm_rec_w0(77, gm_rec_validation, 16);
	w[n++] = gm_rec_w1(3, tick + 10);
	return n * 8;
}

/* The two forms, for tests run on each. */
typedef struct gm_test_form {
	const char *name;
	size_t (*pack)(const void *, size_t, void *);
	int (*unpack)(const void *, size_t, void *, size_t);
} gm_test_form_t;

static const gm_test_form_t gm_test_forms[2] = {
        {"form 1", gm_pack_block_v1, gm_unpack_block_v1},
        {"form 2", gm_pack_block, gm_unpack_block},
};

Test(pack, round_trip_is_exact_and_smaller)
{
	uint64_t *w = calloc(4096, 8), *back = calloc(4096, 8);
	unsigned char *p;
	size_t n = gm_test_block(w), packed, f;
	p = malloc(gm_pack_bound(n));
	for (f = 0; f < 2; f++) {
		const gm_test_form_t *F = &gm_test_forms[f];
		memset(back, 0, 4096 * 8);
		packed = F->pack(w, n, p);
		cr_expect_lt(packed, n * 3 / 4, "%s: %zu bytes of records packed to %zu", F->name,
		             n, packed);
		cr_assert_eq(F->unpack(p, packed, back, n), 0, "%s", F->name);
		cr_expect_eq(memcmp(w, back, n), 0, "%s: records differ after a round trip",
		             F->name);
	}
	free(w);
	free(back);
	free(p);
}

Test(pack, damaged_input_is_refused)
{
	uint64_t *w = calloc(4096, 8), *back = calloc(4096, 8);
	unsigned char *p;
	size_t n = gm_test_block(w), packed, cut, f;
	p = malloc(gm_pack_bound(n));
	for (f = 0; f < 2; f++) {
		const gm_test_form_t *F = &gm_test_forms[f];
		packed = F->pack(w, n, p);
		for (cut = 1; cut < 40; cut++)
			cr_expect_eq(F->unpack(p, packed - cut, back, n), -1,
			             "%s: cut by %zu bytes", F->name, cut);
		cr_expect_eq(F->unpack(p, packed, back, n - 16), -1, "%s: room for one record less",
		             F->name);
		cr_expect_eq(F->unpack(p, packed, back, n + 16), -1, "%s: one record more expected",
		             F->name);
		cr_expect_eq(F->unpack(p, packed, back, n + 3), -1, "%s: not whole records",
		             F->name);
		p[0] = 0; /* escape byte, then type 0: invalid */
		p[1] = 0;
		cr_expect_eq(F->unpack(p, packed, back, n), -1, "%s: type 0", F->name);
	}
	{
		unsigned char endless[20];
		memset(endless, 0xff, sizeof(endless));
		endless[0] = (unsigned char)(gm_rec_alloc << 4);
		cr_expect_eq(gm_unpack_block_v1(endless, sizeof(endless), back, 16), -1,
		             "form 1: a varint that never ends");
	}
	{
		/* form 2: lengths past the end; a pointer of 7 bytes on a record
		 * whose a field has 48 bits */
		unsigned char past[4] = {(unsigned char)(gm_rec_alloc << 4), 7 | 7 << 3 | 3u << 6,
		                         1, 2};
		unsigned char wide[10] = {
		        (unsigned char)(gm_rec_frame << 4), 7, 1, 2, 3, 4, 5, 6, 0xff, 0};
		cr_expect_eq(gm_unpack_block(past, sizeof(past), back, 16), -1,
		             "form 2: lengths past the end");
		cr_expect_eq(gm_unpack_block(wide, 9, back, 16), -1,
		             "form 2: a value wider than its field");
		cr_expect_eq(gm_unpack_block(past, 1, back, 16), -1, "form 2: no length byte");
	}
	free(w);
	free(back);
	free(p);
}

/* gm_pack_records, with lzcnt and without: it stops at a record whose first
 * word is 0 or of type 0, and at a record whose extra units the bytes
 * given do not hold; what it packed unpacks to the records before. */
Test(pack, records_stop_at_a_hole_a_stray_word_and_a_cut_record)
{
	uint64_t w[12], back[12];
	unsigned char out[256];
	size_t used, packed;
	int lz, k;
	for (lz = 0; lz < 2; lz++) {
		gm_pack_prefer_lzcnt(lz);
		for (k = 0; k < 3; k++) {
			memset(w, 0, sizeof(w));
			w[0] = gm_rec_w0(0x1000, gm_rec_alloc, 0);
			w[1] = gm_rec_w1(16, 5);
			w[2] = gm_rec_w0(0x1000, gm_rec_free, 0);
			w[3] = gm_rec_w1(0, 6);
			w[4] = k == 0 ? 0 : k == 1 ? 5 : gm_rec_w0(0x2000, gm_rec_realloc, 0);
			w[5] = gm_rec_w1(32, 7);
			w[6] = 0x1000; /* a realloc's extra unit: cut off below when k == 2 */
			w[7] = 0;
			packed = gm_pack_records(w, k == 2 ? 5 * 8 + 8 * 1 + 8 : 8 * 8, out, &used);
			cr_expect_eq(used, 32, "lzcnt %d, case %d: two records packed", lz, k);
			cr_expect_eq(gm_unpack_block(out, packed, back, used), 0,
			             "lzcnt %d, case %d: they unpack", lz, k);
			cr_expect_eq(memcmp(back, w, used), 0, "lzcnt %d, case %d", lz, k);
		}
	}
	gm_pack_prefer_lzcnt(1);
}

/* The packed forms written out the slow, obvious way from their description
 * in pack.h: what gm_pack_block (form 2) and gm_pack_block_v1 (form 1) must
 * produce byte for byte. */
static unsigned char *gm_test_varint(unsigned char *o, uint64_t v)
{
	while (v >= 0x80) {
		*o++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*o++ = (unsigned char)v;
	return o;
}

static uint64_t gm_test_diff(uint64_t now, uint64_t prev, unsigned bits)
{
	uint64_t d = (now - prev) & ((1ull << bits) - 1);
	int64_t s = (d >> (bits - 1)) ? (int64_t)(d - (1ull << bits)) : (int64_t)d;
	return s < 0 ? ((uint64_t)(-(s + 1)) << 1) | 1 : (uint64_t)s << 1;
}

/* form 2: n in the fewest little-endian bytes (none for 0) */
static unsigned char *gm_test_le(unsigned char *o, uint64_t v, unsigned *len)
{
	*len = 0;
	while (v) {
		*o++ = (unsigned char)v;
		v >>= 8;
		++*len;
	}
	return o;
}

static size_t gm_test_reference_pack(const uint64_t *w, size_t n, unsigned char *out, int form)
{
	unsigned char *o = out;
	uint64_t pa = 0, pb = 0, pf = 0, pt = 0;
	size_t i = 0, units = n / 16;
	while (i < units) {
		unsigned t = gm_rec_type(w[2 * i]), x = gm_rec_x(w[2 * i]);
		unsigned u = gm_rec_units(w[2 * i]);
		uint64_t a = gm_rec_a(w[2 * i]), b = gm_rec_b(w[2 * i + 1]);
		uint64_t tick = gm_rec_tick(w[2 * i + 1]), v[3];
		unsigned len[3], k;
		if (t < 16 && x < 16) {
			*o++ = (unsigned char)(t << 4 | x);
		} else {
			*o++ = 0;
			*o++ = (unsigned char)t;
			*o++ = (unsigned char)x;
		}
		if (t == gm_rec_alloc || t == gm_rec_realloc) {
			v[0] = gm_test_diff(a, pa, 48);
			v[1] = gm_test_diff(b, pb, 40);
			pa = a;
			pb = b;
		} else if (t == gm_rec_free) {
			v[0] = gm_test_diff(a, pf, 48);
			v[1] = b;
			pf = a;
		} else {
			v[0] = a;
			v[1] = b;
		}
		v[2] = (tick - pt) & GM_REC_TICK_MASK;
		pt = tick;
		if (form == 1) {
			for (k = 0; k < 3; k++)
				o = gm_test_varint(o, v[k]);
		} else {
			unsigned char *lens = o++;
			for (k = 0; k < 3; k++)
				o = gm_test_le(o, v[k], &len[k]);
			*lens = (unsigned char)(len[0] | len[1] << 3 | len[2] << 6);
		}
		memcpy(o, &w[2 * i + 2], (size_t)(u - 1) * 16);
		o += (size_t)(u - 1) * 16;
		i += u;
	}
	return (size_t)(o - out);
}

/* Every field at random widths, with the extremes: zero, one, the top of
 * each field, and steps of every length a varint can take. */
static uint64_t gm_test_field(uint64_t *rng, unsigned bits)
{
	uint64_t x = *rng, v;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*rng = x;
	switch (x % 5) {
	case 0:
		v = 0;
		break;
	case 1:
		v = ~0ull;
		break;
	case 2:
		v = 1ull << (x >> 8) % bits;
		break;
	default:
		v = (x >> 3) >> (x >> 40) % 64;
		break;
	}
	return bits == 64 ? v : v & ((1ull << bits) - 1);
}

Test(pack, output_is_exactly_the_described_form)
{
	static const unsigned types[] = {gm_rec_alloc, gm_rec_free,      gm_rec_realloc,
	                                 gm_rec_fail,  gm_rec_frame,     gm_rec_validation,
	                                 gm_rec_time,  gm_rec_thread_end};
	uint64_t rng = 0x9e3779b97f4a7c15ull, *w = calloc(1 << 16, 8);
	size_t round;
	int lzcnt = gm_pack_prefer_lzcnt(1);
	/* form 1, form 2 counting bytes with lzcnt where the CPU has it, and
	 * form 2 as on a CPU without */
	for (round = 0; round < 600; round++) {
		int form = round % 3 == 0 ? 1 : 2;
		if (form == 2)
			gm_pack_prefer_lzcnt(round % 3 == 1);
		unsigned char *fast, *slow;
		size_t n = 0, nf, ns;
		while (n + 4 <= (size_t)(round * 37 % 2000 + 2)) {
			unsigned t = types[gm_test_field(&rng, 3)];
			unsigned x = t == gm_rec_time ? 0 : (unsigned)gm_test_field(&rng, 5);
			w[n] = gm_rec_w0(gm_test_field(&rng, 48), t, x);
			w[n + 1] = gm_rec_w1(gm_test_field(&rng, 40), gm_test_field(&rng, 24));
			n += 2;
			if (gm_rec_units(w[n - 2]) == 2) {
				w[n] = gm_test_field(&rng, 64);
				w[n + 1] = gm_test_field(&rng, 64);
				n += 2;
			}
		}
		fast = malloc(gm_pack_bound(n * 8));
		slow = malloc(gm_pack_bound(n * 8));
		nf = (form == 1 ? gm_pack_block_v1 : gm_pack_block)(w, n * 8, fast);
		ns = gm_test_reference_pack(w, n * 8, slow, form);
		cr_assert_eq(nf, ns,
		             "round %zu, form %d (lzcnt %d): %zu bytes, the described form has %zu",
		             round, form, lzcnt && round % 3 == 1, nf, ns);
		cr_assert_eq(memcmp(fast, slow, ns), 0,
		             "round %zu, form %d (lzcnt %d): bytes differ", round, form,
		             lzcnt && round % 3 == 1);
		free(fast);
		free(slow);
	}
	gm_pack_prefer_lzcnt(1);
	free(w);
}

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

Test(pack, round_trip_is_exact_and_smaller)
{
	uint64_t *w = calloc(4096, 8), *back = calloc(4096, 8);
	unsigned char *p;
	size_t n = gm_test_block(w), packed;
	p = malloc(gm_pack_bound(n));
	packed = gm_pack_block(w, n, p);
	cr_expect_lt(packed, n * 3 / 4, "%zu bytes of records packed to %zu", n, packed);
	cr_assert_eq(gm_unpack_block(p, packed, back, n), 0);
	cr_expect_eq(memcmp(w, back, n), 0, "records differ after a round trip");
	free(w);
	free(back);
	free(p);
}

Test(pack, damaged_input_is_refused)
{
	uint64_t *w = calloc(4096, 8), *back = calloc(4096, 8);
	unsigned char *p;
	size_t n = gm_test_block(w), packed, cut;
	p = malloc(gm_pack_bound(n));
	packed = gm_pack_block(w, n, p);
	for (cut = 1; cut < 40; cut++)
		cr_expect_eq(gm_unpack_block(p, packed - cut, back, n), -1, "cut by %zu bytes",
		             cut);
	cr_expect_eq(gm_unpack_block(p, packed, back, n - 16), -1, "room for one record less");
	cr_expect_eq(gm_unpack_block(p, packed, back, n + 16), -1, "one record more expected");
	cr_expect_eq(gm_unpack_block(p, packed, back, n + 3), -1, "not whole records");
	p[0] = 0; /* escape byte, then type 0: invalid */
	p[1] = 0;
	cr_expect_eq(gm_unpack_block(p, packed, back, n), -1, "type 0");
	{
		unsigned char endless[20];
		memset(endless, 0xff, sizeof(endless));
		endless[0] = (unsigned char)(gm_rec_alloc << 4);
		cr_expect_eq(gm_unpack_block(endless, sizeof(endless), back, 16), -1,
		             "a varint that never ends");
	}
	free(w);
	free(back);
	free(p);
}

/* po_common.h - what the pool fixtures share, on top of tests/fixtures/fixture.h
 *
 * A pool fixture is a small game loop that drives object pools, the
 * garbage-collector marker or short-lived allocations in a known way and
 * prints, at exit, one JSON line (fixture.h's writer: static buffer,
 * write(2)) with the figures `gmtrace pools` must find.
 *
 * Frames are numbered as gmtrace numbers them: frame n is everything
 * between the (n-1)-th and the n-th GMTRACE_FRAME(). Doubles are printed
 * with 17 significant digits, so the test reads back the very double the
 * fixture computed; where a figure is a mean or a ratio the fixture
 * computes it the way README.md here defines it, in the same order.
 */
#ifndef PO_COMMON_H
#define PO_COMMON_H

#ifndef FX_JSON_BYTES
#define FX_JSON_BYTES (1u << 20)
#endif
#include "fixture.h"

#include <stdio.h>

/* "key":v with 17 significant digits (round-trips a double exactly);
 * null when v is not finite. snprintf of a double does not allocate. */
static inline void po_json_double(const char *key, double v)
{
	char buf[40];
	int n;

	if (v != v || v - v != 0) {
		fx_json_key(key);
		fx_json_put("null", 4);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.17g", v);
	fx_json_key(key);
	fx_json_put(buf, (size_t)n);
}

/* "key":[v0,v1,...] */
static inline void po_json_u64s(const char *key, const uint64_t *v, size_t n)
{
	size_t i;

	fx_json_open(key, '[');
	for (i = 0; i < n; i++)
		fx_json_u64(NULL, v[i]);
	fx_json_close(']');
}

/* The nearest-rank percentile (README.md): sorts v[0..n) in place and
 * returns the value at rank ceil(P x n / 100), P in thousandths. */
static inline uint64_t po_percentile(uint64_t *v, size_t n, uint64_t percentile_milli)
{
	size_t i, j, rank;

	if (n == 0)
		return 0;
	for (i = 1; i < n; i++) { /* insertion sort: a few hundred values */
		uint64_t x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	rank = (size_t)((percentile_milli * n + 99999) / 100000);
	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

/* ceil(v x (100 + headroom_pct) / 100) */
static inline uint64_t po_headroom(uint64_t v, uint64_t headroom_pct)
{
	return (v * (100 + headroom_pct) + 99) / 100;
}

#endif /* PO_COMMON_H */

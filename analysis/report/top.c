/* top.c - keep the N largest blocks seen in a stream
 *
 * items[0] is the smallest kept block while collecting (a min-heap), so a
 * new block only has to beat the root. gm_top_sorted() sorts in place and
 * marks the heap broken; the next offer rebuilds it.
 */
#include "analysis/report/top.h"

#include <stdlib.h>

struct gm_top {
	gm_live_entry_t *items;
	size_t n, cap;
	int sorted; /* items are sorted largest first, not a heap */
};

/* 1 when a ranks below b: smaller, or as large and later. */
static int gm_top_below(const gm_live_entry_t *a, const gm_live_entry_t *b)
{
	if (a->size != b->size)
		return a->size < b->size;
	return a->seq > b->seq;
}

static void gm_top_sift_down(gm_top_t *top, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		gm_live_entry_t tmp;

		if (c >= top->n)
			return;
		if (c + 1 < top->n && gm_top_below(&top->items[c + 1], &top->items[c]))
			c++;
		if (!gm_top_below(&top->items[c], &top->items[i]))
			return;
		tmp = top->items[i];
		top->items[i] = top->items[c];
		top->items[c] = tmp;
		i = c;
	}
}

static void gm_top_heapify(gm_top_t *top)
{
	size_t i = top->n / 2;

	while (i-- > 0)
		gm_top_sift_down(top, i);
	top->sorted = 0;
}

/* A collector for the n largest blocks (see top.h). */
gm_top_t *gm_top_new(size_t n)
{
	gm_top_t *top = calloc(1, sizeof(*top));

	if (!top)
		return NULL;
	top->cap = n;
	if (n > 0) {
		top->items = calloc(n, sizeof(*top->items));
		if (!top->items) {
			free(top);
			return NULL;
		}
	}
	return top;
}

/* Frees the collector; NULL is allowed. */
void gm_top_free(gm_top_t *top)
{
	if (!top)
		return;
	free(top->items);
	free(top);
}

/* Keeps *e if it is among the largest (see top.h). */
void gm_top_offer(gm_top_t *top, const gm_live_entry_t *e)
{
	size_t i;

	if (top->cap == 0)
		return;
	if (top->sorted)
		gm_top_heapify(top);
	if (top->n < top->cap) {
		i = top->n++;
		while (i > 0 && gm_top_below(e, &top->items[(i - 1) / 2])) {
			top->items[i] = top->items[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		top->items[i] = *e;
		return;
	}
	if (!gm_top_below(&top->items[0], e))
		return;
	top->items[0] = *e;
	gm_top_sift_down(top, 0);
}

static int gm_top_cmp(const void *pa, const void *pb)
{
	const gm_live_entry_t *a = pa, *b = pb;

	if (gm_top_below(a, b))
		return 1;
	if (gm_top_below(b, a))
		return -1;
	return 0;
}

/* The kept blocks, largest first (see top.h). */
const gm_live_entry_t *gm_top_sorted(gm_top_t *top, size_t *count)
{
	if (!top->sorted && top->n > 1)
		qsort(top->items, top->n, sizeof(*top->items), gm_top_cmp);
	top->sorted = 1;
	*count = top->n;
	return top->items;
}

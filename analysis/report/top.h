/* top.h - keep the N largest blocks seen in a stream
 *
 * A bounded min-heap: offering a block costs O(log N) and memory stays N
 * entries however long the capture. "Largest" is by size; between equal
 * sizes the earlier one (smaller seq) wins, so results are deterministic.
 */
#ifndef GM_TOP_H
#define GM_TOP_H

#include <stddef.h>

#include "analysis/model/live.h"

typedef struct gm_top gm_top_t;

/* A collector for the n largest blocks (n may be 0). Returns NULL when out
 * of memory. */
gm_top_t *gm_top_new(size_t n);

/* Frees the collector; NULL is allowed. */
void gm_top_free(gm_top_t *top);

/* Keeps *e if it is among the n largest offered so far. Cannot fail. */
void gm_top_offer(gm_top_t *top, const gm_live_entry_t *e);

/* Sorts the kept blocks largest first and returns them; *count is set to
 * their number. Offering again after this is allowed (the order is then
 * rebuilt on the next call). */
const gm_live_entry_t *gm_top_sorted(gm_top_t *top, size_t *count);

#endif

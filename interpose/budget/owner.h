/* owner.h - which asset each block of a budget's heap belongs to
 *
 * An asset's bytes (gm_asset_t.bytes) go up with every allocation made in
 * its scopes. A budget's heap serves the allocations of the asset types
 * bound to it, and each block it serves in an asset's scope is noted here,
 * so that its free takes its bytes off that asset again, wherever the free
 * happens (an evictor, another thread, frames later). So what an eviction
 * is told the asset held, the "largest" policy and the snapshot see what an
 * asset holds now, not every byte it ever allocated (a load's temporaries
 * included). Blocks of other heaps are not followed: an asset no budget
 * serves keeps counting what it allocated.
 */
#ifndef GM_OWNER_H
#define GM_OWNER_H

#include <stdint.h>

/* Block p of n bytes, served by a budget's heap in the scope of asset id.
 * Nothing when the table cannot grow (the block's bytes then stay on the
 * asset) or when called again from a signal handler of the thread inside
 * the table. */
void gm_owner_note(uintptr_t p, uint64_t id, uint64_t n);

/* Block p is about to be freed: its bytes come off its asset, if it was
 * noted. Before the free, so that the address, given out again to another
 * thread, is not forgotten in its place. Returns the asset's id, 0 if the
 * block was not noted. */
uint64_t gm_owner_forget(uintptr_t p);

/* The two halves of gm_owner_forget, for a realloc that may fail: take p's
 * entry out (1 if there was one, its asset and bytes in *id, *n), then
 * credit the asset once the block is gone, or note it again. */
int gm_owner_take(uintptr_t p, uint64_t *id, uint64_t *n);
void gm_owner_credit(uint64_t id, uint64_t n);

/* n more on asset id's bytes (a block of its grown outside its scopes). */
void gm_owner_charge(uint64_t id, uint64_t n);

/* Not followed: a free or realloc made by a signal handler that
 * interrupted its thread inside this table (the entry stays; its bytes stay
 * on the asset until the address is noted again). */

/* Around fork (pthread_atfork): every stripe taken before, given back
 * after, in the parent and the child, so the child never inherits a stripe
 * another thread held. The child keeps the table: asset ids go on. */
void gm_owner_fork_prepare(void);
void gm_owner_fork_done(void);

#endif

/* pack.h - the packed form of a block of records
 *
 * Records are 16 bytes in the log so that writing one is a few stores; on
 * disk most of those bytes are predictable. A packed block stores each
 * record as: one byte of type and kind ((type << 4) | x when both are
 * under 16; otherwise 0, type, x), then varints: for allocations and
 * reallocs the zigzag difference of the pointer and of the size from the
 * previous allocation's, for frees the zigzag difference of the pointer
 * from the previous free's and the size, for other records a and b as
 * they are; then the tick's step from the previous record (mod 2^24);
 * then the record's extra units unchanged. About half the size of the raw
 * records, four times cheaper to make than zstd, and exact: unpacking gives
 * back the very same 16-byte records.
 */
#ifndef GM_PACK_H
#define GM_PACK_H

#include <stddef.h>
#include <stdint.h>

/* Worst case of gm_pack_block's output for n bytes of records. */
static inline size_t gm_pack_bound(size_t n)
{
	return n + n / 4 + 16; /* 16-byte records never grow past 20 bytes */
}

/* Pack the records of raw[0, n) (n a multiple of 16; whole records) into
 * out (gm_pack_bound(n) bytes). Returns the packed size. */
size_t gm_pack_block(const void *raw, size_t n, void *out);

/* Unpack in[0, n) into out, which has room for want bytes of records.
 * Returns 0 when exactly want bytes came out, -1 when the input is damaged
 * (truncated varint, a record past the end, too much or too little). */
int gm_unpack_block(const void *in, size_t n, void *out, size_t want);

#endif

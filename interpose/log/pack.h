/* pack.h - the packed forms of a block of records
 *
 * Records are 16 bytes in the log so that writing one is a few stores; on
 * disk most of those bytes are predictable. Both packed forms keep, per
 * record, the same numbers: for allocations and reallocs the zigzag
 * difference of the pointer (48 bits) and of the size (40 bits) from the
 * previous allocation's; for frees the zigzag difference of the pointer
 * from the previous free's, and the size as it is; for other records a and
 * b as they are; and the tick's step from the previous record (mod 2^24).
 * Each record starts with one byte of type and kind ((type << 4) | x when
 * both are under 16; otherwise 0, type, x) and ends with its extra units
 * unchanged. Unpacking gives back the very same 16-byte records.
 *
 * Form 2 (block kinds packed2, packed2_zstd; written since format 3.0):
 * after the type byte, one byte of lengths, bits 0-2 the bytes of a, bits
 * 3-5 the bytes of b, bits 6-7 the bytes of the tick step; then the three
 * numbers, little-endian, in that many bytes (0 bytes for 0). Lengths up
 * front make it quick to write without branching on the data: on the
 * records of a capture of the bench loop, 4.7 ns a record against 10.2 ns
 * for the same numbers as varints (form 1), and 6.9 bytes against 7.3
 * (scripts/bench/packbench.c, run by scripts/bench/features.sh; the form 1
 * packer the drainer used before, which branched on the record's type,
 * took 11.7 ns).
 *
 * Form 1 (block kinds packed, packed_zstd; format 2.0 and 2.1): the three
 * numbers as varints (7 bits a byte, low first, top bit set on all bytes
 * but the last). Still read, no longer written.
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
 * out (gm_pack_bound(n) bytes) in form 2. Returns the packed size. */
size_t gm_pack_block(const void *raw, size_t n, void *out);

/* The same, stopping before a record whose first word is 0 (a slot claimed
 * and never written: a thread killed between the two), or of type 0 (no
 * record has it, and form 2 cannot hold it), or whose extra units run past
 * n. *used gets the bytes of raw packed, a multiple of 16. */
size_t gm_pack_records(const void *raw, size_t n, void *out, size_t *used);

/* For tests: form 2 packs with lzcnt where the CPU has it (the default),
 * or on = 0 without; the output is the same either way. Returns 1 when
 * lzcnt is used from now on. */
int gm_pack_prefer_lzcnt(int on);

/* The same in form 1 (for tests and tools that make old captures). */
size_t gm_pack_block_v1(const void *raw, size_t n, void *out);

/* Unpack in[0, n) into out, which has room for want bytes of records.
 * Returns 0 when exactly want bytes came out, -1 when the input is damaged
 * (truncated varint, a record past the end, too much or too little). */
int gm_unpack_block(const void *in, size_t n, void *out, size_t want);

/* The same for form 1. */
int gm_unpack_block_v1(const void *in, size_t n, void *out, size_t want);

typedef int (*gm_unpack_fn)(const void *in, size_t n, void *out, size_t want);

/* The unpacker for a block kind (gm_block_kind_t) of packed records, with
 * or without zstd over them; NULL for every other kind. */
gm_unpack_fn gm_unpack_for(unsigned kind);

#endif

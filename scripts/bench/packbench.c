/* packbench.c - what the drainer pays to pack a block, in both packed forms
 *
 *   packbench CAPTURE [REPS]
 *
 * Reads every block of records in CAPTURE (raw, zstd, packed in either
 * form, with or without zstd), unpacks them back to the 16-byte records
 * the game wrote, then packs all of them REPS times (default 9) in form 1
 * (varints) and in form 2 (lengths up front) and prints the median ns per
 * record and the packed bytes per record of each:
 *
 *   records=...  v1_ns=...  v2_ns=...  v1_bytes=...  v2_bytes=...  v2_sum=...
 *
 * v2_sum is a hash of the form-2 output: a change to the packer that must
 * not change the format keeps it.
 *
 * Built by scripts/bench/features.sh with the project's pack.c; a capture
 * of the bench loop makes the records real (pointers from the allocator,
 * sizes from the loop's mix, ticks from the TSC).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zstd.h>

#include "interpose/log/format.h"
#include "interpose/log/pack.h"

typedef struct pb_block {
	uint64_t *w;
	size_t n; /* bytes */
} pb_block_t;

static double pb_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int pb_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The records of one block (NULL if it holds none or is damaged). */
static uint64_t *pb_records(const gm_block_t *b, const unsigned char *p)
{
	uint64_t *w = malloc(b->raw_bytes ? b->raw_bytes : 1);
	unsigned char *tmp = NULL;
	size_t n = b->stored_bytes;
	gm_unpack_fn unpack = gm_unpack_for(b->kind);
	int ok = 0;
	if (!w)
		return NULL;
	if (b->kind == gm_block_zstd || b->kind == gm_block_packed_zstd ||
	    b->kind == gm_block_packed2_zstd) {
		size_t cap = gm_pack_bound(b->raw_bytes);
		tmp = malloc(cap);
		if (!tmp)
			goto out;
		n = ZSTD_decompress(tmp, cap, p, b->stored_bytes);
		if (ZSTD_isError(n))
			goto out;
		p = tmp;
	}
	if (unpack) {
		ok = unpack(p, n, w, b->raw_bytes) == 0;
	} else if (b->kind == gm_block_raw || b->kind == gm_block_zstd) {
		ok = n == b->raw_bytes;
		if (ok)
			memcpy(w, p, n);
	}
out:
	free(tmp);
	if (!ok) {
		free(w);
		return NULL;
	}
	return w;
}

int main(int argc, char **argv)
{
	FILE *f;
	long size;
	unsigned char *buf, *out;
	gm_file_header_t h;
	pb_block_t *blocks = NULL;
	size_t nb = 0, cap = 0, off, records = 0, i, bytes[2] = {0, 0}, maxn = 0;
	int reps = argc > 2 ? atoi(argv[2]) : 9, r, form;
	double *ns[2];
	uint64_t sum = 0xcbf29ce484222325ull;
	if (argc < 2 || reps < 1) {
		fprintf(stderr, "usage: packbench CAPTURE [REPS]\n");
		return 2;
	}
	if (!(f = fopen(argv[1], "rb")) || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		perror(argv[1]);
		return 1;
	}
	buf = malloc((size_t)size + 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size || (size_t)size < sizeof(h)) {
		fprintf(stderr, "%s: cannot read\n", argv[1]);
		return 1;
	}
	fclose(f);
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, GM_FORMAT_MAGIC, 8) != 0) {
		fprintf(stderr, "%s: not a gmtrace capture\n", argv[1]);
		return 1;
	}
	for (off = h.header_bytes; off + sizeof(gm_block_t) <= (size_t)size;) {
		gm_block_t b;
		uint64_t *w;
		memcpy(&b, buf + off, sizeof(b));
		if (b.magic != GM_BLOCK_MAGIC || off + sizeof(b) + b.stored_bytes > (size_t)size)
			break;
		if (b.kind != gm_block_clock && b.raw_bytes % 16 == 0 &&
		    (w = pb_records(&b, buf + off + sizeof(b))) != NULL) {
			if (nb == cap) {
				cap = cap ? 2 * cap : 256;
				blocks = realloc(blocks, cap * sizeof(*blocks));
				if (!blocks)
					return 1;
			}
			blocks[nb].w = w;
			blocks[nb++].n = b.raw_bytes;
			records += b.raw_bytes / 16;
			if (b.raw_bytes > maxn)
				maxn = b.raw_bytes;
		}
		off += sizeof(b) + b.stored_bytes;
	}
	if (!records) {
		fprintf(stderr, "%s: no records\n", argv[1]);
		return 1;
	}
	out = malloc(gm_pack_bound(maxn));
	ns[0] = calloc((size_t)reps, sizeof(double));
	ns[1] = calloc((size_t)reps, sizeof(double));
	if (!out || !ns[0] || !ns[1])
		return 1;
	for (r = 0; r < reps; r++) {
		for (form = 0; form < 2; form++) {
			size_t total = 0;
			double t0 = pb_now();
			for (i = 0; i < nb; i++)
				total += form == 0 ?
				                 gm_pack_block_v1(blocks[i].w, blocks[i].n, out) :
				                 gm_pack_block(blocks[i].w, blocks[i].n, out);
			ns[form][r] = (pb_now() - t0) / (double)records;
			bytes[form] = total;
		}
	}
	/* FNV-1a over every block form 2 packs: the same bytes whatever the
	 * packer's code, or its output changed */
	for (i = 0; i < nb; i++) {
		size_t k, m = gm_pack_block(blocks[i].w, blocks[i].n, out);
		for (k = 0; k < m; k++)
			sum = (sum ^ out[k]) * 0x100000001b3ull;
	}
	qsort(ns[0], (size_t)reps, sizeof(double), pb_cmp);
	qsort(ns[1], (size_t)reps, sizeof(double), pb_cmp);
	printf("records=%zu v1_ns=%.2f v2_ns=%.2f v1_bytes=%.2f v2_bytes=%.2f v2_sum=%016llx\n",
	       records, ns[0][reps / 2], ns[1][reps / 2], (double)bytes[0] / (double)records,
	       (double)bytes[1] / (double)records, (unsigned long long)sum);
	return 0;
}

/* compact.c - compress the raw blocks of a finished capture */
#define _GNU_SOURCE
#include "compact.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "../../interpose/log/format.h"
#include "../../interpose/log/pack.h"

static int gm_compact_write(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Blocks of records with no zstd over them: raw, or packed in either form
 * (the ones compaction compresses). */
static int gm_compact_uncompressed(unsigned kind)
{
	return kind == gm_block_raw || kind == gm_block_packed || kind == gm_block_packed2;
}

int64_t gm_compact_file(const char *path)
{
	struct stat st;
	const unsigned char *map = MAP_FAILED;
	unsigned char *zbuf = NULL, *pbuf = NULL;
	size_t zcap = 0, pcap = 0;
	char tmp[4200];
	int fd = -1, out = -1, rc = 0, any_raw = 0;
	uint64_t off, total = 0, dropped = 0;
	ZSTD_CCtx *cctx = NULL;
	const gm_file_header_t *h;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < sizeof(gm_file_header_t)) {
		rc = -EINVAL;
		goto err;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		goto err;
	}
	h = (const gm_file_header_t *)map;
	if (memcmp(h->magic, GM_FORMAT_MAGIC, 8) != 0 || h->header_bytes < sizeof(*h) ||
	    h->header_bytes > (uint64_t)st.st_size) {
		rc = -EINVAL;
		goto err;
	}
	/* a first look: anything to do? Block headers are read with pread, not
	 * through the mapping: touching a header every few pages would map
	 * nearly the whole capture into this process */
	for (off = h->header_bytes; off + sizeof(gm_block_t) <= (uint64_t)st.st_size;) {
		gm_block_t b;
		if (pread(fd, &b, sizeof(b), (off_t)off) != (ssize_t)sizeof(b))
			break;
		if (b.magic != GM_BLOCK_MAGIC ||
		    off + sizeof(b) + b.stored_bytes > (uint64_t)st.st_size)
			break;
		if (gm_compact_uncompressed(b.kind) && b.raw_bytes >= 256) {
			any_raw = 1;
			break;
		}
		off += sizeof(b) + b.stored_bytes;
	}
	if (!any_raw)
		goto done;
	snprintf(tmp, sizeof(tmp), "%s.compact", path);
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 0777);
	if (out < 0) {
		rc = -errno;
		goto err;
	}
	cctx = ZSTD_createCCtx();
	if (!cctx) {
		rc = -ENOMEM;
		goto err;
	}
	ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
	if ((rc = gm_compact_write(out, map, h->header_bytes)) != 0)
		goto err;
	total = h->header_bytes;
	for (off = h->header_bytes; off < (uint64_t)st.st_size;) {
		/* read once, front to back: drop what is behind us so this
		 * process stays small whatever the capture's size */
		if (off - dropped > (16u << 20)) {
			uint64_t upto = off & ~(uint64_t)4095;
			madvise((void *)(map + dropped), upto - dropped, MADV_DONTNEED);
			dropped = upto;
		}
		gm_block_t b;
		const unsigned char *payload;
		if (off + sizeof(b) > (uint64_t)st.st_size)
			break;
		memcpy(&b, map + off, sizeof(b));
		if (b.magic != GM_BLOCK_MAGIC ||
		    off + sizeof(b) + b.stored_bytes > (uint64_t)st.st_size)
			break;
		payload = map + off + sizeof(b);
		if (gm_compact_uncompressed(b.kind) &&
		    gm_format_check(payload, b.stored_bytes) == b.check) {
			/* raw records are packed first; packed ones are as they are */
			const unsigned char *src = payload;
			size_t srclen = b.stored_bytes, need, z, used;
			if (b.kind == gm_block_raw) {
				if (b.raw_bytes != b.stored_bytes || b.raw_bytes % GM_REC_UNIT)
					goto copy;
				if (pcap < gm_pack_bound(b.raw_bytes)) {
					free(pbuf);
					pbuf = malloc(gm_pack_bound(b.raw_bytes));
					pcap = pbuf ? gm_pack_bound(b.raw_bytes) : 0;
					if (!pbuf) {
						rc = -ENOMEM;
						goto err;
					}
				}
				srclen = gm_pack_records(payload, b.raw_bytes, pbuf, &used);
				if (used != b.raw_bytes)
					goto copy; /* a word of type 0: packed, the block
					              would lose what follows it */
				src = pbuf;
			}
			need = ZSTD_compressBound(srclen);
			if (zcap < need) {
				free(zbuf);
				zbuf = malloc(need);
				zcap = zbuf ? need : 0;
				if (!zbuf) {
					rc = -ENOMEM;
					goto err;
				}
			}
			z = ZSTD_compress2(cctx, zbuf, zcap, src, srclen);
			if (!ZSTD_isError(z) && z < b.stored_bytes) {
				gm_block_t nb = b;
				/* form 1 stays form 1: its zstd kind says so */
				nb.kind = b.kind == gm_block_packed ? gm_block_packed_zstd :
				                                      gm_block_packed2_zstd;
				nb.stored_bytes = (uint32_t)z;
				nb.check = gm_format_check(zbuf, z);
				gm_format_seal(&nb);
				if ((rc = gm_compact_write(out, &nb, sizeof(nb))) != 0 ||
				    (rc = gm_compact_write(out, zbuf, z)) != 0)
					goto err;
				total += sizeof(nb) + z;
				off += sizeof(b) + b.stored_bytes;
				continue;
			}
		}
copy:
		if ((rc = gm_compact_write(out, map + off, sizeof(b) + b.stored_bytes)) != 0)
			goto err;
		total += sizeof(b) + b.stored_bytes;
		off += sizeof(b) + b.stored_bytes;
	}
	/* whatever follows the last whole block (damage) is kept as it is */
	if (off < (uint64_t)st.st_size) {
		if ((rc = gm_compact_write(out, map + off, (size_t)st.st_size - off)) != 0)
			goto err;
		total += (uint64_t)st.st_size - off;
	}
	if (fsync(out) != 0 || close(out) != 0) {
		out = -1;
		rc = -errno;
		goto err;
	}
	out = -1;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		goto err;
	}
done:
	ZSTD_freeCCtx(cctx);
	free(zbuf);
	free(pbuf);
	if (map != MAP_FAILED)
		munmap((void *)map, (size_t)st.st_size);
	close(fd);
	return any_raw ? (int64_t)st.st_size - (int64_t)total : 0;
err:
	if (out >= 0) {
		close(out);
		unlink(tmp);
	}
	ZSTD_freeCCtx(cctx);
	free(zbuf);
	free(pbuf);
	if (map != MAP_FAILED)
		munmap((void *)map, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	return rc;
}

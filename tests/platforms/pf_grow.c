/* pf_grow.c - a game that grows until a platform's bank is full
 *
 *     pf_grow KIND FRAMES [BLOCK_KIB]
 *
 * KIND: video (one texture asset per frame, tag render/textures), main (one
 * untagged block per frame, tag gameplay/world), split (both each frame),
 * or host (64 MiB blocks, no tag, until the machine says no: RLIMIT_AS),
 * or reserve (main's blocks, never written: a bank's address space filled
 * with blocks larger than the machine's memory).
 * Each block is BLOCK_KIB KiB (default 256), allocated with malloc and
 * written. A kind stops at its first NULL (its frame and count kept); the
 * run goes on for FRAMES frames. Then the game recovers as a real one
 * would at a level change: it frees half of that kind's blocks and loads
 * one block again, which must succeed ("recovered").
 *
 * Nothing else is allocated between the profiler's start and the end of
 * the run (tables are static, the JSON line is written with write(2)), so
 * the bank holds exactly the blocks and the tests can predict each NULL.
 *
 * JSON: fixture, kind, block, frames, then per kind (video, main):
 * blocks (before the NULL), null_frame (0: none), enomem, recovered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gmtrace.h"

#define PF_MAX 4096

typedef struct pf_kind {
	const char *name;
	void *blocks[PF_MAX];
	uint64_t assets[PF_MAX];
	int n, null_frame, enomem, recovered, stopped;
} pf_kind_t;

static pf_kind_t pf_video = {.name = "video"}, pf_main = {.name = "main"};
static size_t pf_block = 256 << 10;
static int pf_write = 1; /* 0: reserve, blocks left untouched */

static void pf_grow(pf_kind_t *k, int frame, int texture)
{
	char name[32];
	uint64_t asset = 0;
	void *p;
	if (k->stopped || k->n == PF_MAX)
		return;
	if (texture) {
		snprintf(name, sizeof(name), "tex_%03d", k->n + 1);
		asset = gmtrace_asset_load_begin(name, "texture");
		gmtrace_tag_push("render/textures");
	} else {
		gmtrace_tag_push("gameplay/world");
	}
	errno = 0;
	p = malloc(pf_block);
	gmtrace_tag_pop();
	if (texture)
		gmtrace_asset_load_end(asset, p != NULL);
	if (!p) {
		k->stopped = 1;
		k->null_frame = frame;
		k->enomem = errno == ENOMEM;
		return;
	}
	if (pf_write)
		memset(p, frame, pf_block);
	k->assets[k->n] = asset;
	k->blocks[k->n++] = p;
}

/* Free every other block (half), then load one block again. */
static void pf_recover(pf_kind_t *k, int texture)
{
	void *p;
	int i;
	if (!k->stopped)
		return;
	for (i = 0; i < k->n; i += 2) {
		free(k->blocks[i]);
		if (texture)
			gmtrace_asset_unload(k->assets[i]);
		k->blocks[i] = NULL;
	}
	{
		uint64_t asset = texture ? gmtrace_asset_load_begin("tex_reload", "texture") : 0;
		gmtrace_tag_push(texture ? "render/textures" : "gameplay/world");
		p = malloc(pf_block);
		gmtrace_tag_pop();
		if (texture)
			gmtrace_asset_load_end(asset, p != NULL);
	}
	k->recovered = p != NULL;
	if (p) {
		if (pf_write)
			memset(p, 1, pf_block);
		free(p);
	}
}

static size_t pf_kind_json(char *buf, size_t cap, const pf_kind_t *k)
{
	return (size_t)snprintf(buf, cap,
	                        ", \"%s\": {\"blocks\": %d, \"null_frame\": %d, \"enomem\": %s, "
	                        "\"recovered\": %s}",
	                        k->name, k->n, k->null_frame, k->enomem ? "true" : "false",
	                        k->recovered ? "true" : "false");
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "";
	int frames = argc > 2 ? atoi(argv[2]) : 0, f, i;
	int video = !strcmp(kind, "video") || !strcmp(kind, "split");
	int mainb = !strcmp(kind, "main") || !strcmp(kind, "split") || !strcmp(kind, "host") ||
	            !strcmp(kind, "reserve");
	char buf[1024];
	size_t len;
	if ((!video && !mainb) || frames <= 0 || frames > PF_MAX) {
		fprintf(stderr,
		        "usage: pf_grow video|main|split|host|reserve FRAMES [BLOCK_KIB]\n");
		return 2;
	}
	pf_write = strcmp(kind, "reserve") != 0;
	if (!strcmp(kind, "host"))
		pf_block = (size_t)64 << 20;
	if (argc > 3)
		pf_block = (size_t)atol(argv[3]) << 10;
	gmtrace_scene_begin("growth");
	for (f = 1; f <= frames; f++) {
		if (video)
			pf_grow(&pf_video, f, 1);
		if (mainb)
			pf_grow(&pf_main, f, 0);
		gmtrace_frame_mark();
	}
	gmtrace_scene_begin("recovery");
	pf_recover(&pf_video, 1);
	pf_recover(&pf_main, 0);
	gmtrace_frame_mark();
	len = (size_t)snprintf(buf, sizeof(buf),
	                       "{\"fixture\": \"pf_grow\", \"kind\": \"%s\", \"block\": %zu, "
	                       "\"frames\": %d",
	                       kind, pf_block, frames);
	len += pf_kind_json(buf + len, sizeof(buf) - len, &pf_video);
	len += pf_kind_json(buf + len, sizeof(buf) - len, &pf_main);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "}\n");
	if (write(1, buf, len) != (ssize_t)len)
		return 1;
	for (i = 0; i < pf_video.n; i++)
		free(pf_video.blocks[i]);
	for (i = 0; i < pf_main.n; i++)
		free(pf_main.blocks[i]);
	return 0;
}

/* fr_spike_owners.c - a spike frame with known tags and assets
 *
 *     fr_spike_owners [F [S]]     F frames (default 60), the spike at frame S (40)
 *
 * Every frame: 10 allocations of 96 bytes under tag "gameplay/particles"
 * (freed at once), then the load of asset "boss.png" (type texture) holding
 * one untagged 4096*3+1771-byte block. Frame S does 3000 particle
 * allocations instead of 10. With GMTRACE_SPIKE_ALLOCATIONS=1000 the one
 * spike is frame S, and its tags are gameplay/particles (3000 x 96 bytes)
 * and no tag (the asset's block), its asset boss.png. The JSON line says so.
 */
#include <gmtrace.h>
#include <stdio.h>
#include <stdlib.h>

static void *volatile fr_sink;

int main(int argc, char **argv)
{
	int frames = argc > 1 ? atoi(argv[1]) : 60, spike = argc > 2 ? atoi(argv[2]) : 40;
	for (int f = 1; f <= frames; f++) {
		int n = f == spike ? 3000 : 10;
		GMTRACE_TAG_PUSH("gameplay/particles");
		for (int i = 0; i < n; i++) {
			fr_sink = malloc(96);
			free(fr_sink);
		}
		GMTRACE_TAG_POP();
		uint64_t a = gmtrace_asset_load_begin("boss.png", "texture");
		fr_sink = malloc(4096 * 3 + 1771);
		gmtrace_asset_load_end(a, 1);
		GMTRACE_FRAME();
	}
	printf("{\"fixture\":\"spike_owners\",\"frames\":%d,\"spike\":%d,\"particles\":3000,\"particle_bytes\":%d,"
	       "\"asset_bytes\":%d}\n",
	       frames, spike, 3000 * 96, 4096 * 3 + 1771);
	return 0;
}

/* fr_sdl2_ext.c - SDL 2 inside a module loaded into a private scope
 *
 *     fr_sdl2_ext [N [W H]]     as fr_sdl2, through the module
 *
 * An interpreter loads its extension modules with dlopen(RTLD_LOCAL), and
 * the extension links libSDL2 (pygame does): SDL lands in that private
 * scope, where dlsym(RTLD_NEXT) from gmtrace finds nothing, while the
 * extension's own calls to SDL still go through the global scope first —
 * into the present hooks, which must then find SDL in the loaded objects.
 * This program plays the interpreter: it does not link SDL, it dlopens
 * fr_sdl2_mod.so (fr_sdl2.c built as a module, main renamed) RTLD_LOCAL and
 * runs it. The JSON line is the module's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	int (*mod_main)(int, char **);
	void *h = dlopen(FR_SDL2_MOD_PATH, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "fr_sdl2_ext: %s\n", dlerror());
		return 1;
	}
	mod_main = (int (*)(int, char **))dlsym(h, "fr_sdl2_mod_main");
	if (!mod_main) {
		fprintf(stderr, "fr_sdl2_ext: %s\n", dlerror());
		return 1;
	}
	return mod_main(argc, argv);
}

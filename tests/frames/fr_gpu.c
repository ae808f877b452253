/* fr_gpu.c - an engine that presents through GLX, EGL or Vulkan, no SDL, no markers
 *
 *     fr_gpu glx|egl|vulkan|egl-loader N
 *
 * glx, egl, vulkan: the engine takes glXSwapBuffers, eglSwapBuffers or
 * vkQueuePresentKHR from the process's global scope (dlsym RTLD_DEFAULT), as
 * an engine that links its driver does; no driver is loaded, so under the
 * preload that is libgmtrace's hook with nothing behind it (a stub driver).
 * egl-loader: the engine loads libEGL.so.1 and asks eglGetProcAddress for
 * eglSwapBuffers, as GL loaders do; the real function runs behind the hook
 * (with no display: EGL_FALSE, nothing drawn).
 *
 * Each of the N frames allocates and frees its deliberate block (fr_sdl.h)
 * and presents once. gmtrace must find N main frames, each ended by that
 * API. Prints the line of fr_sdl_report; "present_calls" counts the calls
 * made, 0 when the function could not be found (run without the preload).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fr_sdl.h"

#include <dlfcn.h>
#include <string.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 0, i, calls = 0, t0;
	void (*glx)(void *, unsigned long) = NULL;
	unsigned (*egl)(void *, void *) = NULL;
	int32_t (*vk)(void *, const void *) = NULL;

	if (n == 0 || n > 20000) {
		fprintf(stderr, "usage: fr_gpu glx|egl|vulkan|egl-loader N (1..20000)\n");
		return 2;
	}
	if (strcmp(mode, "glx") == 0) {
		*(void **)&glx = dlsym(RTLD_DEFAULT, "glXSwapBuffers");
	} else if (strcmp(mode, "egl") == 0) {
		*(void **)&egl = dlsym(RTLD_DEFAULT, "eglSwapBuffers");
	} else if (strcmp(mode, "vulkan") == 0) {
		*(void **)&vk = dlsym(RTLD_DEFAULT, "vkQueuePresentKHR");
	} else if (strcmp(mode, "egl-loader") == 0) {
		void *(*get)(const char *);
		void *lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_GLOBAL);
		if (!lib) {
			fprintf(stderr, "fr_gpu: libEGL.so.1: %s\n", dlerror());
			return 3;
		}
		*(void **)&get = dlsym(RTLD_DEFAULT, "eglGetProcAddress");
		if (get)
			*(void **)&egl = get("eglSwapBuffers");
	} else {
		fprintf(stderr, "fr_gpu: unknown mode '%s'\n", mode);
		return 2;
	}
	t0 = fr_mono_ns();
	for (i = 1; i <= n; i++) {
		void *block = fr_sdl_frame_begin(i);
		fr_sdl_frame_end(i, block);
		if (glx) {
			glx(NULL, 0);
			calls++;
		} else if (egl) {
			egl(NULL, NULL);
			calls++;
		} else if (vk) {
			vk(NULL, NULL);
			calls++;
		}
		fr_next();
	}
	return fr_sdl_report(n, calls, 0, fr_mono_ns() - t0);
}

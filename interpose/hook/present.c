/* present.c - automatic frames: hooks on the calls that put a frame on screen
 *
 * When a game never calls gmtrace_frame_mark(), its frames are found where
 * it presents them: SDL 2 (SDL_GL_SwapWindow, SDL_RenderPresent,
 * SDL_UpdateWindowSurface[Rects]), SDL 1.2 (SDL_Flip, SDL_UpdateRect[s],
 * SDL_GL_SwapBuffers), GLX, EGL and Vulkan. Every hook forwards to the real
 * function and returns what it returned.
 *
 * Awkward cases, each learned from how real games present:
 *  - Partial updates (SDL_UpdateRect[s], SDL_UpdateWindowSurfaceRects) may
 *    come several times per displayed frame. They are coalesced: one frame
 *    per run of partial updates between two event pumps (SDL_PumpEvents,
 *    SDL_PollEvent: every game pumps once a frame); a game that never pumps
 *    gets one frame each time the first call site of the run comes back.
 *  - SDL loaded into a private scope (Python extension modules dlopen it
 *    RTLD_LOCAL): dlsym(RTLD_NEXT) finds nothing there, so the real function
 *    is looked up in each loaded object by itself.
 *  - Engines that fetch the swap function with glXGetProcAddress,
 *    eglGetProcAddress, SDL_GL_GetProcAddress or vkGet*ProcAddr get the
 *    hook, which calls what they would have got.
 *  - A present inside a present (SDL_GL_SwapWindow calling a hooked
 *    glXSwapBuffers) counts once: only the outermost call ends a frame.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#include "../log/format.h"
#include "../record/frame.h"
#include "../record/session.h"
#include "../record/thread.h"
#include "../support/support.h"

static __thread int gm_present_depth __attribute__((tls_model("initial-exec")));
static int gm_present_pumped;       /* a pump since the last counted partial update */
static uint64_t gm_present_pump_ns; /* when the last event pump came, 0: none (atomic) */
static void *gm_present_run_site;   /* call site that began the current run */

/* A game that pumps events does so every frame: without a pump for this
 * long while partial updates come, it is taken for one that does not (a
 * library pumped once, at start: pygame's set_mode does). */
#define GM_PRESENT_PUMP_GAP_NS 250000000ull

/* ---- finding the real function ----------------------------------------- */

typedef struct gm_present_search {
	const char *name;
	void *self; /* our hook: never return it */
	void *found;
} gm_present_search_t;

/* libc's dlsym, found with dlvsym (the hook below takes the name dlsym). */
static void *(*gm_present_libc_dlsym)(void *, const char *);

void *gm_present_dlsym_resolve(void)
{
	void *f = __atomic_load_n(&gm_present_libc_dlsym, __ATOMIC_ACQUIRE);
	if (!f) {
		f = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
		if (!f)
			f = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
		__atomic_store_n(&gm_present_libc_dlsym, f, __ATOMIC_RELEASE);
	}
	return f;
}

static void *gm_present_dlsym_real(void *h, const char *name)
{
	void *(*real)(void *, const char *) = gm_present_dlsym_resolve();
	return real ? real(h, name) : NULL;
}

static int gm_present_search_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	gm_present_search_t *s = arg;
	void *h, *f;
	(void)size;
	if (!info->dlpi_name || !info->dlpi_name[0])
		return 0;
	h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
	if (!h)
		return 0;
	f = gm_present_dlsym_real(h, s->name);
	dlclose(h);
	if (f && f != s->self) {
		s->found = f;
		return 1;
	}
	return 0;
}

/* The next definition of name after ours, searched in the global scope,
 * then in every loaded object (private scopes included). */
static void *gm_present_real(const char *name, void *self)
{
	gm_present_search_t s = {name, self, NULL};
	/* our dlsym hook would hand back the hooks: ask libc's directly; RTLD_NEXT
	 * is then relative to libgmtrace, which is what is meant here */
	void *f = gm_present_dlsym_real(RTLD_NEXT, name);
	if (f && f != self)
		return f;
	/* (through gmtrace's own dl_iterate_phdr, which marks the thread: the
	 * callbacks' dlclose, holding the loader's lock, waits for no module
	 * walk) */
	dl_iterate_phdr(gm_present_search_cb, &s);
	return s.found;
}

#define GM_PRESENT_RESOLVE(var, name, self)                                             \
	do {                                                                            \
		if (GM_UNLIKELY(!(var)))                                                \
			__atomic_store_n(&(var), gm_present_real(name, (void *)(self)), \
			                 __ATOMIC_RELEASE);                             \
	} while (0)

/* ---- frame logic -------------------------------------------------------- */

static int gm_present_enter(void)
{
	return gm_present_depth++ == 0 && gm_session_options.auto_frames;
}

static void gm_present_leave(int outer, unsigned source)
{
	gm_present_depth--;
	if (outer)
		gm_frame_end(&gm_thread_self, source);
}

/* A partial update: does it begin a new displayed frame? */
static int gm_present_partial(void *site)
{
	uint64_t pump = __atomic_load_n(&gm_present_pump_ns, __ATOMIC_RELAXED);
	if (pump && gm_support_mono_ns() - pump < GM_PRESENT_PUMP_GAP_NS) {
		if (!__atomic_exchange_n(&gm_present_pumped, 0, __ATOMIC_RELAXED))
			return 0;
		gm_present_run_site = site;
		return 1;
	}
	if (gm_present_run_site == NULL || gm_present_run_site == site) {
		gm_present_run_site = site;
		return 1;
	}
	return 0;
}

static void gm_present_pump(void)
{
	__atomic_store_n(&gm_present_pump_ns, gm_support_mono_ns(), __ATOMIC_RELAXED);
	__atomic_store_n(&gm_present_pumped, 1, __ATOMIC_RELAXED);
}

/* ---- SDL 2 -------------------------------------------------------------- */

GMTRACE_API void SDL_GL_SwapWindow(void *window)
{
	static void (*real)(void *);
	int outer;
	GM_PRESENT_RESOLVE(real, "SDL_GL_SwapWindow", SDL_GL_SwapWindow);
	outer = gm_present_enter();
	if (real)
		real(window);
	gm_present_leave(outer, gm_present_sdl2_gl);
}

GMTRACE_API void SDL_RenderPresent(void *renderer)
{
	static void (*real)(void *);
	int outer;
	GM_PRESENT_RESOLVE(real, "SDL_RenderPresent", SDL_RenderPresent);
	outer = gm_present_enter();
	if (real)
		real(renderer);
	gm_present_leave(outer, gm_present_sdl2_render);
}

GMTRACE_API int SDL_UpdateWindowSurface(void *window)
{
	static int (*real)(void *);
	int outer, rc = -1;
	GM_PRESENT_RESOLVE(real, "SDL_UpdateWindowSurface", SDL_UpdateWindowSurface);
	outer = gm_present_enter();
	if (real)
		rc = real(window);
	gm_present_leave(outer, gm_present_sdl2_surface);
	return rc;
}

GMTRACE_API int SDL_UpdateWindowSurfaceRects(void *window, const void *rects, int n)
{
	static int (*real)(void *, const void *, int);
	void *site = __builtin_return_address(0);
	int outer, rc = -1;
	GM_PRESENT_RESOLVE(real, "SDL_UpdateWindowSurfaceRects", SDL_UpdateWindowSurfaceRects);
	outer = gm_present_enter() && gm_present_partial(site);
	if (real)
		rc = real(window, rects, n);
	gm_present_leave(outer, gm_present_sdl2_surface_rects);
	return rc;
}

/* ---- SDL 1.2 ------------------------------------------------------------ */

GMTRACE_API int SDL_Flip(void *screen)
{
	static int (*real)(void *);
	int outer, rc = -1;
	GM_PRESENT_RESOLVE(real, "SDL_Flip", SDL_Flip);
	outer = gm_present_enter();
	if (real)
		rc = real(screen);
	gm_present_leave(outer, gm_present_sdl1_flip);
	return rc;
}

GMTRACE_API void SDL_UpdateRect(void *screen, int32_t x, int32_t y, uint32_t w, uint32_t h)
{
	static void (*real)(void *, int32_t, int32_t, uint32_t, uint32_t);
	void *site = __builtin_return_address(0);
	int outer;
	GM_PRESENT_RESOLVE(real, "SDL_UpdateRect", SDL_UpdateRect);
	outer = gm_present_enter() && gm_present_partial(site);
	if (real)
		real(screen, x, y, w, h);
	gm_present_leave(outer, gm_present_sdl1_update_rect);
}

GMTRACE_API void SDL_UpdateRects(void *screen, int n, void *rects)
{
	static void (*real)(void *, int, void *);
	void *site = __builtin_return_address(0);
	int outer;
	GM_PRESENT_RESOLVE(real, "SDL_UpdateRects", SDL_UpdateRects);
	outer = gm_present_enter() && gm_present_partial(site);
	if (real)
		real(screen, n, rects);
	gm_present_leave(outer, gm_present_sdl1_update_rects);
}

GMTRACE_API void SDL_GL_SwapBuffers(void)
{
	static void (*real)(void);
	int outer;
	GM_PRESENT_RESOLVE(real, "SDL_GL_SwapBuffers", SDL_GL_SwapBuffers);
	outer = gm_present_enter();
	if (real)
		real();
	gm_present_leave(outer, gm_present_sdl1_gl);
}

/* event pumps, same names in SDL 1.2 and 2 */
GMTRACE_API void SDL_PumpEvents(void)
{
	static void (*real)(void);
	GM_PRESENT_RESOLVE(real, "SDL_PumpEvents", SDL_PumpEvents);
	gm_present_pump();
	if (real)
		real();
}

GMTRACE_API int SDL_PollEvent(void *event)
{
	static int (*real)(void *);
	GM_PRESENT_RESOLVE(real, "SDL_PollEvent", SDL_PollEvent);
	gm_present_pump();
	return real ? real(event) : 0;
}

/* ---- GLX, EGL, Vulkan ---------------------------------------------------- */

static void (*gm_present_glx_real)(void *, unsigned long);
static unsigned (*gm_present_egl_real)(void *, void *);
static int32_t (*gm_present_vk_real)(void *, const void *);

GMTRACE_API void glXSwapBuffers(void *dpy, unsigned long drawable)
{
	int outer;
	GM_PRESENT_RESOLVE(gm_present_glx_real, "glXSwapBuffers", glXSwapBuffers);
	outer = gm_present_enter();
	if (gm_present_glx_real)
		gm_present_glx_real(dpy, drawable);
	gm_present_leave(outer, gm_present_glx);
}

GMTRACE_API unsigned eglSwapBuffers(void *dpy, void *surface)
{
	unsigned rc = 0;
	int outer;
	GM_PRESENT_RESOLVE(gm_present_egl_real, "eglSwapBuffers", eglSwapBuffers);
	outer = gm_present_enter();
	if (gm_present_egl_real)
		rc = gm_present_egl_real(dpy, surface);
	gm_present_leave(outer, gm_present_egl);
	return rc;
}

GMTRACE_API int32_t vkQueuePresentKHR(void *queue, const void *info)
{
	int32_t rc = -3; /* VK_ERROR_INITIALIZATION_FAILED */
	int outer;
	GM_PRESENT_RESOLVE(gm_present_vk_real, "vkQueuePresentKHR", vkQueuePresentKHR);
	outer = gm_present_enter();
	if (gm_present_vk_real)
		rc = gm_present_vk_real(queue, info);
	gm_present_leave(outer, gm_present_vulkan);
	return rc;
}

/* The swap function an engine asks a loader for: ours, remembering theirs. */
static void *gm_present_swap_for(const char *name, void *theirs)
{
	if (!name || !theirs)
		return theirs;
	if (strcmp(name, "glXSwapBuffers") == 0) {
		__atomic_store_n(&gm_present_glx_real, theirs, __ATOMIC_RELEASE);
		return (void *)glXSwapBuffers;
	}
	if (strcmp(name, "eglSwapBuffers") == 0) {
		__atomic_store_n(&gm_present_egl_real, theirs, __ATOMIC_RELEASE);
		return (void *)eglSwapBuffers;
	}
	if (strcmp(name, "vkQueuePresentKHR") == 0) {
		__atomic_store_n(&gm_present_vk_real, theirs, __ATOMIC_RELEASE);
		return (void *)vkQueuePresentKHR;
	}
	return theirs;
}

GMTRACE_API void *glXGetProcAddress(const unsigned char *name)
{
	static void *(*real)(const unsigned char *);
	GM_PRESENT_RESOLVE(real, "glXGetProcAddress", glXGetProcAddress);
	return gm_present_swap_for((const char *)name, real ? real(name) : NULL);
}

GMTRACE_API void *glXGetProcAddressARB(const unsigned char *name)
{
	static void *(*real)(const unsigned char *);
	GM_PRESENT_RESOLVE(real, "glXGetProcAddressARB", glXGetProcAddressARB);
	return gm_present_swap_for((const char *)name, real ? real(name) : NULL);
}

GMTRACE_API void *eglGetProcAddress(const char *name)
{
	static void *(*real)(const char *);
	GM_PRESENT_RESOLVE(real, "eglGetProcAddress", eglGetProcAddress);
	return gm_present_swap_for(name, real ? real(name) : NULL);
}

GMTRACE_API void *SDL_GL_GetProcAddress(const char *name)
{
	static void *(*real)(const char *);
	GM_PRESENT_RESOLVE(real, "SDL_GL_GetProcAddress", SDL_GL_GetProcAddress);
	return gm_present_swap_for(name, real ? real(name) : NULL);
}

GMTRACE_API void *vkGetDeviceProcAddr(void *device, const char *name)
{
	static void *(*real)(void *, const char *);
	GM_PRESENT_RESOLVE(real, "vkGetDeviceProcAddr", vkGetDeviceProcAddr);
	return gm_present_swap_for(name, real ? real(device, name) : NULL);
}

GMTRACE_API void *vkGetInstanceProcAddr(void *instance, const char *name)
{
	static void *(*real)(void *, const char *);
	GM_PRESENT_RESOLVE(real, "vkGetInstanceProcAddr", vkGetInstanceProcAddr);
	return gm_present_swap_for(name, real ? real(instance, name) : NULL);
}

/* ---- dlsym ------------------------------------------------------------------
 * An engine (or a ctypes binding) that opens libSDL2/libGL itself and takes
 * the present call with dlsym(handle, "SDL_RenderPresent") would call SDL
 * directly, past the hooks: for those names it gets the hook instead. The
 * hook must not change what dlsym(RTLD_NEXT or RTLD_DEFAULT, ...) means for
 * its caller, which glibc works out from the return address: for those two,
 * dlsym is a plain jump into libc's, the caller's return address untouched
 * (x86-64 assembly below). Only lookups in a real handle come here. */
static const struct {
	const char *name;
	void *hook;
} gm_present_names[] = {
        {"SDL_GL_SwapWindow", (void *)SDL_GL_SwapWindow},
        {"SDL_RenderPresent", (void *)SDL_RenderPresent},
        {"SDL_UpdateWindowSurface", (void *)SDL_UpdateWindowSurface},
        {"SDL_UpdateWindowSurfaceRects", (void *)SDL_UpdateWindowSurfaceRects},
        {"SDL_Flip", (void *)SDL_Flip},
        {"SDL_UpdateRect", (void *)SDL_UpdateRect},
        {"SDL_UpdateRects", (void *)SDL_UpdateRects},
        {"SDL_GL_SwapBuffers", (void *)SDL_GL_SwapBuffers},
        {"SDL_PumpEvents", (void *)SDL_PumpEvents},
        {"SDL_PollEvent", (void *)SDL_PollEvent},
        {"SDL_GL_GetProcAddress", (void *)SDL_GL_GetProcAddress},
        {"glXGetProcAddress", (void *)glXGetProcAddress},
        {"glXGetProcAddressARB", (void *)glXGetProcAddressARB},
        {"eglGetProcAddress", (void *)eglGetProcAddress},
        {"vkGetDeviceProcAddr", (void *)vkGetDeviceProcAddr},
        {"vkGetInstanceProcAddr", (void *)vkGetInstanceProcAddr},
};

__attribute__((used, visibility("hidden"))) void *gm_present_dlsym_handle(void *h, const char *name)
{
	void *f = gm_present_dlsym_real(h, name);
	size_t i;
	if (!f || !name)
		return f;
	for (i = 0; i < sizeof(gm_present_names) / sizeof(gm_present_names[0]); i++)
		if (strcmp(name, gm_present_names[i].name) == 0)
			return gm_present_names[i].hook;
	return gm_present_swap_for(name, f); /* glXSwapBuffers & co. */
}

__asm__(".text\n"
        ".globl dlsym\n"
        ".type dlsym, @function\n"
        "dlsym:\n"
        "	cmpq $-1, %rdi\n" /* RTLD_NEXT */
        "	je 1f\n"
        "	testq %rdi, %rdi\n" /* RTLD_DEFAULT */
        "	je 1f\n"
        "	jmp gm_present_dlsym_handle\n"
        "1:	movq gm_present_libc_dlsym(%rip), %rax\n"
        "	testq %rax, %rax\n"
        "	je 2f\n"
        "	jmp *%rax\n"
        "2:	pushq %rdi\n"
        "	pushq %rsi\n"
        "	subq $8, %rsp\n"
        "	call gm_present_dlsym_resolve\n"
        "	addq $8, %rsp\n"
        "	popq %rsi\n"
        "	popq %rdi\n"
        "	testq %rax, %rax\n"
        "	je 3f\n"
        "	jmp *%rax\n"
        "3:	ret\n"
        ".size dlsym, .-dlsym\n");

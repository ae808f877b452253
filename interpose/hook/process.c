/* process.c - process-level hooks: fork, the exec family, exit and _exit
 *
 * fork: the child's session is restarted by a pthread_atfork handler
 * (record/session.c); the hook only records the child's pid in the parent.
 * exec: everything recorded so far reaches the capture before the image is
 * replaced; the new image, still preloaded, starts its own capture.
 * exit/_exit/_Exit: the exit status is recorded and, for _exit, the
 * session is closed there, since no destructor will run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../record/session.h"
#include "../record/thread.h"
#include "../support/support.h"
#include "bootstrap.h"

static void *gm_process_next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* Coverage builds: exec replaces the image and _exit skips the handlers
 * that write gcov's counters, so a process that ends either way would count
 * for nothing; write them first. */
#ifdef GM_COVERAGE
void __gcov_dump(void);
#define GM_PROCESS_COVERAGE_DUMP() __gcov_dump()

/* The write at exit, from this library's destructors (the linker sends
 * their calls here: --wrap, interpose/CMakeLists.txt): its allocations are
 * gcov's, not the game's, and the session records until after the
 * destructors run. */
void __real___gcov_exit(void);
void __wrap___gcov_exit(void);
void __wrap___gcov_exit(void)
{
	gm_thread_t *t = &gm_thread_self;
	t->busy++;
	__real___gcov_exit();
	t->busy--;
}
#else
#define GM_PROCESS_COVERAGE_DUMP() ((void)0)
#endif

/* 1 once a thread has called exit() */
static int gm_process_exiting;
/* 1 on a thread inside exit() (an exit handler may call exit() again) */
static __thread int gm_process_in_exit __attribute__((tls_model("initial-exec")));

GMTRACE_API pid_t fork(void)
{
	static pid_t (*real)(void);
	pid_t pid;
	if (!real)
		real = (pid_t(*)(void))gm_process_next("fork");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	/* (signals are not held while the child starts its log: a mask over
	 * the whole fork covers the atfork prepare handlers too, and a
	 * collector that stops threads with a signal (Boehm, Mono) then never
	 * hears back from the forking thread. A child killed at once may die
	 * without a log, or with a log of zeros that recover removes.) */
	pid = real();
	if (pid > 0)
		gm_session_fork_parent(pid);
	else if (pid == 0) /* a child forked by an exit handler exits on its own */
		__atomic_store_n(&gm_process_exiting, gm_process_in_exit, __ATOMIC_RELAXED);
	return pid;
}

/* clone() without CLONE_VM: the child has a copy of the parent's memory,
 * and with it the calling thread's place in the shared log, which the
 * child would write into with the parent: the parent's capture came out
 * with the child's records in place of its own, its exit lost. The child
 * runs unrecorded instead (gm_session_clone_child), before the game's
 * function. With CLONE_VM (a thread made by hand) the call is passed on
 * as it is. A raw clone system call is not seen. */
typedef struct gm_process_clone {
	int (*fn)(void *);
	void *arg;
	int flags;
} gm_process_clone_t;

static int gm_process_clone_start(void *p)
{
	/* (the parent's frame, copied: read before the game's code runs) */
	gm_process_clone_t c = *(const gm_process_clone_t *)p;
	gm_session_clone_child((c.flags & CLONE_FILES) != 0);
	return c.fn(c.arg);
}

GMTRACE_API int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
	static int (*real)(int (*)(void *), void *, int, void *, ...);
	gm_process_clone_t c;
	pid_t *parent_tid, *child_tid;
	void *tls;
	va_list ap;
	int pid, saved;
	if (!real)
		real = (int (*)(int (*)(void *), void *, int, void *, ...))gm_process_next("clone");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	/* (read whether or not the flags ask for them, as the C library does) */
	va_start(ap, arg);
	parent_tid = va_arg(ap, pid_t *);
	tls = va_arg(ap, void *);
	child_tid = va_arg(ap, pid_t *);
	va_end(ap);
	if ((flags & CLONE_VM) || !fn) /* (no function: the C library's EINVAL) */
		return real(fn, stack, flags, arg, parent_tid, tls, child_tid);
	c.fn = fn;
	c.arg = arg;
	c.flags = flags;
	pid = real(gm_process_clone_start, stack, flags, &c, parent_tid, tls, child_tid);
	saved = errno;
	if (pid > 0)
		gm_session_fork_parent(pid);
	errno = saved;
	return pid;
}

/* daemon(): the C library forks and its parent leaves by an _exit inside
 * the library, which no hook sees: the parent's capture had no end (read
 * as killed) and, drained in the game, its log stayed in /dev/shm. The
 * same steps here, the parent's _exit through the hook: fork, the parent
 * leaves with status 0, the child becomes a session leader, goes to / unless
 * nochdir, and puts /dev/null on its standard streams unless noclose (an
 * error if /dev/null is not the null device: ENODEV). */
GMTRACE_API int daemon(int nochdir, int noclose)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	if (!nochdir && chdir("/") != 0) {
		/* (the C library goes on whatever chdir said) */
	}
	if (!noclose) {
		struct stat st;
		int fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			return -1;
		if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
			close(fd);
			errno = ENODEV;
			return -1;
		}
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* An exec hook: the capture is flushed and closed first (the new image
 * starts a capture of its own), and when the call comes back it failed and
 * the process goes on recording. params and types are the function's
 * parameters and their types, args the names passed on (gm_env for the
 * environment: env, the function's, or one that keeps the preload,
 * gm_session_exec_env, on the stack). */
#define GM_PROCESS_EXEC(name, params, types, args, file, search, env)                 \
	GMTRACE_API int name params                                                   \
	{                                                                             \
		static int(*real) types;                                              \
		char *const *gm_env = env;                                            \
		size_t text, room = gm_session_exec_env_room(gm_env, &text);          \
		char *list[room ? room : 1], line[text];                              \
		int rc;                                                               \
		if (!real)                                                            \
			real = (int(*) types)gm_process_next(#name);                  \
		if (room)                                                             \
			gm_env = gm_session_exec_env(gm_env, list, room, line, text); \
		gm_session_exec_check(file, search);                                  \
		gm_session_exec();                                                    \
		GM_PROCESS_COVERAGE_DUMP();                                           \
		rc = real args;                                                       \
		gm_session_exec_failed();                                             \
		return rc;                                                            \
	}

GM_PROCESS_EXEC(execve, (const char *path, char *const argv[], char *const envp[]),
                (const char *, char *const[], char *const[]), (path, argv, gm_env), path, 0, envp)
GM_PROCESS_EXEC(execvpe, (const char *file, char *const argv[], char *const envp[]),
                (const char *, char *const[], char *const[]), (file, argv, gm_env), file, 1, envp)
GM_PROCESS_EXEC(fexecve, (int fd, char *const argv[], char *const envp[]),
                (int, char *const[], char *const[]), (fd, argv, gm_env), NULL, 0, envp)

/* The forms without one pass environ, as the C library's do: a launcher
 * that cleared it (`env -i`) gets the preload back too. */
GMTRACE_API int execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

GMTRACE_API int execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* execl, execlp, execle: gather the variadic list on the stack and go
 * through the vector forms above (glibc's own execl calls execve
 * internally, where no hook would see it). The arguments are counted
 * first and the vector sized for them, as the C library does: no limit
 * of our own (the kernel's, E2BIG, still holds). */
static size_t gm_process_count(va_list ap)
{
	size_t n;
	va_list cp;
	va_copy(cp, ap);
	for (n = 1; va_arg(cp, char *) != NULL; n++)
		;
	va_end(cp);
	return n; /* the first argument and those up to the list's NULL */
}

/* argv[0, n) from first and *ap, then NULL; *ap left past the list's NULL. */
static void gm_process_collect(const char *first, va_list *ap, char **argv, size_t n)
{
	argv[0] = (char *)first;
	for (size_t k = 1; k < n; k++)
		argv[k] = va_arg(*ap, char *);
	(void)va_arg(*ap, char *); /* the list's NULL */
	argv[n] = NULL;
}

GMTRACE_API int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	size_t n = gm_process_count(ap);
	char *argv[n + 1];
	gm_process_collect(arg, &ap, argv, n);
	va_end(ap);
	return execv(path, argv);
}

GMTRACE_API int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	size_t n = gm_process_count(ap);
	char *argv[n + 1];
	gm_process_collect(arg, &ap, argv, n);
	va_end(ap);
	return execvp(file, argv);
}

GMTRACE_API int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	va_start(ap, arg);
	size_t n = gm_process_count(ap);
	char *argv[n + 1];
	char *const *envp;
	gm_process_collect(arg, &ap, argv, n);
	envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

GMTRACE_API void exit(int status)
{
	static void (*real)(int);
	if (!real)
		real = (void (*)(int))gm_process_next("exit");
	if (!gm_process_in_exit) {
		gm_process_in_exit = 1;
		if (__atomic_exchange_n(&gm_process_exiting, 1, __ATOMIC_ACQ_REL)) {
			/* a second thread in exit(): whichever ends the process
			 * first sets its status, which the capture cannot know */
			if (status != gm_bootstrap_status)
				gm_bootstrap_status_known = 0;
			gm_session_exit_wait();
			if (real)
				real(status);
			_exit(status);
		}
	}
	gm_bootstrap_status = status;
	gm_bootstrap_status_known = 1;
	if (real)
		real(status);
	_exit(status);
}

GMTRACE_API void _exit(int status)
{
	static void (*real)(int);
	if (!real)
		real = (void (*)(int))gm_process_next("_exit");
	gm_session_stop(status, 1);
	GM_PROCESS_COVERAGE_DUMP();
	if (real)
		real(status);
	for (;;)
		pause();
}

GMTRACE_API void _Exit(int status)
{
	_exit(status);
}

/* dlclose: the modules are walked before (the one going is recorded,
 * however short its life) and after (its unload is recorded at once), so
 * a plugin reloaded at the same addresses right after is named as itself;
 * both wait for a walk at work, unless the first waited in vain.
 * dlopen is not hooked: the loader resolves a relative name and $ORIGIN
 * from its caller, which a hook would replace; the 50 ms walk and the next
 * dlclose record loads. */
GMTRACE_API int dlclose(void *handle)
{
	static int (*real)(void *);
	int rc, walked;
	if (!real)
		real = (int (*)(void *))gm_process_next("dlclose");
	if (!real)
		return -1;
	walked = gm_session_modules_changed(1);
	rc = real(handle);
	if (rc == 0)
		gm_session_modules_changed(walked);
	return rc;
}

/* dl_iterate_phdr: the loader's lock is held while the callbacks run, so a
 * dlclose inside one (a game that looks at each module with dlopen
 * RTLD_NOLOAD, dlsym and dlclose) does not wait for a module walk of
 * gmtrace's at work, which may be waiting for that lock (the thread's
 * mark: record/session.c). */
GMTRACE_API int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *arg)
{
	typedef int (*iterate_fn)(int (*)(struct dl_phdr_info *, size_t, void *), void *);
	static iterate_fn real;
	gm_thread_t *t = &gm_thread_self;
	iterate_fn f = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
	uintptr_t here = (uintptr_t)__builtin_frame_address(0), outer = t->iterate_sp;
	int rc;
	if (!f) {
		void *sym = gm_process_next("dl_iterate_phdr");
		memcpy(&f, &sym, sizeof(f));
		if (!f)
			return 0;
		__atomic_store_n(&real, f, __ATOMIC_RELEASE);
	}
	/* the outermost call's stack; one not above this call is a mark a
	 * callback that longjmped out of its walk left behind: replaced */
	if (outer && here >= outer)
		outer = 0;
	if (!outer)
		t->iterate_sp = here;
	rc = f(cb, arg);
	t->iterate_sp = outer;
	return rc;
}

/* quick_exit runs the at_quick_exit handlers, then ends the process inside
 * the C library (no _exit call a hook sees): the status is noted here, and
 * the session ends in the handler gmtrace registered first, which runs
 * after the game's (gm_bootstrap_ctor), as _exit's hook ends it. */
void gm_process_quick_exit_end(void)
{
	gm_session_stop(gm_bootstrap_status, gm_bootstrap_status_known);
	GM_PROCESS_COVERAGE_DUMP();
}

GMTRACE_API void quick_exit(int status)
{
	static void (*real)(int);
	if (!real)
		real = (void (*)(int))gm_process_next("quick_exit");
	gm_bootstrap_status = status;
	gm_bootstrap_status_known = 1;
	if (real)
		real(status);
	_exit(status);
}

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
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "../record/session.h"
#include "../support/support.h"
#include "bootstrap.h"

#define GM_PROCESS_MAX_ARGS 4096

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
#else
#define GM_PROCESS_COVERAGE_DUMP() ((void)0)
#endif

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
	pid = real();
	if (pid > 0)
		gm_session_fork_parent(pid);
	return pid;
}

GMTRACE_API int execve(const char *path, char *const argv[], char *const envp[])
{
	static int (*real)(const char *, char *const[], char *const[]);
	int rc;
	if (!real)
		real = (int (*)(const char *, char *const[], char *const[]))gm_process_next(
		        "execve");
	gm_session_exec();
	GM_PROCESS_COVERAGE_DUMP();
	rc = real(path, argv, envp);
	gm_session_exec_failed(); /* it returned: it failed */
	return rc;
}

GMTRACE_API int execv(const char *path, char *const argv[])
{
	static int (*real)(const char *, char *const[]);
	int rc;
	if (!real)
		real = (int (*)(const char *, char *const[]))gm_process_next("execv");
	gm_session_exec();
	GM_PROCESS_COVERAGE_DUMP();
	rc = real(path, argv);
	gm_session_exec_failed(); /* it returned: it failed */
	return rc;
}

GMTRACE_API int execvp(const char *file, char *const argv[])
{
	static int (*real)(const char *, char *const[]);
	int rc;
	if (!real)
		real = (int (*)(const char *, char *const[]))gm_process_next("execvp");
	gm_session_exec();
	GM_PROCESS_COVERAGE_DUMP();
	rc = real(file, argv);
	gm_session_exec_failed(); /* it returned: it failed */
	return rc;
}

GMTRACE_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
	static int (*real)(const char *, char *const[], char *const[]);
	int rc;
	if (!real)
		real = (int (*)(const char *, char *const[], char *const[]))gm_process_next(
		        "execvpe");
	gm_session_exec();
	GM_PROCESS_COVERAGE_DUMP();
	rc = real(file, argv, envp);
	gm_session_exec_failed(); /* it returned: it failed */
	return rc;
}

GMTRACE_API int fexecve(int fd, char *const argv[], char *const envp[])
{
	static int (*real)(int, char *const[], char *const[]);
	int rc;
	if (!real)
		real = (int (*)(int, char *const[], char *const[]))gm_process_next("fexecve");
	gm_session_exec();
	GM_PROCESS_COVERAGE_DUMP();
	rc = real(fd, argv, envp);
	gm_session_exec_failed(); /* it returned: it failed */
	return rc;
}

/* execl, execlp, execle: gather the variadic list on the stack and go
 * through the vector forms above (glibc's own execl calls execve
 * internally, where no hook would see it). */
#define GM_PROCESS_COLLECT(first, ap, argv, n)          \
	do {                                            \
		argv[0] = (char *)(first);              \
		n = 1;                                  \
		while (argv[n - 1] != NULL) {           \
			if (n == GM_PROCESS_MAX_ARGS) { \
				va_end(ap);             \
				errno = E2BIG;          \
				return -1;              \
			}                               \
			argv[n] = va_arg(ap, char *);   \
			n++;                            \
		}                                       \
	} while (0)

GMTRACE_API int execl(const char *path, const char *arg, ...)
{
	char *argv[GM_PROCESS_MAX_ARGS];
	size_t n;
	va_list ap;
	va_start(ap, arg);
	GM_PROCESS_COLLECT(arg, ap, argv, n);
	va_end(ap);
	(void)n;
	return execv(path, argv);
}

GMTRACE_API int execlp(const char *file, const char *arg, ...)
{
	char *argv[GM_PROCESS_MAX_ARGS];
	size_t n;
	va_list ap;
	va_start(ap, arg);
	GM_PROCESS_COLLECT(arg, ap, argv, n);
	va_end(ap);
	(void)n;
	return execvp(file, argv);
}

GMTRACE_API int execle(const char *path, const char *arg, ...)
{
	char *argv[GM_PROCESS_MAX_ARGS];
	char *const *envp;
	size_t n;
	va_list ap;
	va_start(ap, arg);
	GM_PROCESS_COLLECT(arg, ap, argv, n);
	envp = va_arg(ap, char *const *);
	va_end(ap);
	(void)n;
	return execve(path, argv, envp);
}

GMTRACE_API void exit(int status)
{
	static void (*real)(int);
	if (!real)
		real = (void (*)(int))gm_process_next("exit");
	gm_bootstrap_status = status;
	if (real)
		real(status);
	_exit(status);
}

GMTRACE_API void _exit(int status)
{
	static void (*real)(int);
	if (!real)
		real = (void (*)(int))gm_process_next("_exit");
	gm_session_stop(status);
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

/* support.h - allocation-free helpers for code that runs inside the hooks
 *
 * Nothing here calls the malloc family, stdio or getenv, so every function
 * is safe inside the recursion guard, in a fork child and in a signal
 * handler (gm_support_warn uses only write(2)).
 */
#ifndef GM_SUPPORT_H
#define GM_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#define GM_LIKELY(x) __builtin_expect(!!(x), 1)
#define GM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GMTRACE_API __attribute__((visibility("default")))

/* Copy at most cap-1 bytes of src into dst, always NUL-terminated; returns
 * the length written. */
size_t gm_support_strlcpy(char *dst, const char *src, size_t cap);

/* Where to cut s (at least n + 1 bytes long) to keep at most n bytes
 * without splitting a UTF-8 sequence: n, or less when s[n] continues a
 * sequence begun before it. */
size_t gm_support_utf8_cut(const char *s, size_t n);

/* Append src at dst[*len], keeping a NUL; returns 0 or -ENAMETOOLONG. */
int gm_support_append(char *dst, size_t cap, size_t *len, const char *src);

/* Decimal / hex text of v into buf (>= 21 bytes); returns the length. */
size_t gm_support_u64(char *buf, uint64_t v);
size_t gm_support_hex(char *buf, uint64_t v);

/* Write "gmtrace: [pid] <a><b><c>\n" to stderr with one write(2). Any of
 * a, b, c may be NULL. */
void gm_support_warn(const char *a, const char *b, const char *c);

/* Assertion that writes with write(2) then aborts. */
#define GM_ASSERT(cond)                                            \
	do {                                                       \
		if (GM_UNLIKELY(!(cond)))                          \
			gm_support_die(__FILE__, __LINE__, #cond); \
	} while (0)
__attribute__((noreturn)) void gm_support_die(const char *file, int line, const char *what);

/* Read a whole small file (e.g. /proc/self/cmdline) into buf; returns bytes
 * read (not NUL-terminated), or a negative errno. */
long gm_support_read_file(const char *path, char *buf, size_t cap);

/* Monotonic and realtime clocks in ns (a syscall-free vDSO read). */
uint64_t gm_support_mono_ns(void);
uint64_t gm_support_real_ns(void);

#ifdef GM_BENCH_COUNTER_CLOCK
/* A measurement build only (cmake -DGM_BENCH_COUNTER_CLOCK=ON, made by
 * scripts/bench/features.sh): a per-thread counter stands in for the TSC,
 * to show what reading the clock costs the hooks. Its captures' times mean
 * nothing, and the library says so when it starts. */
extern __thread uint64_t gm_support_counter_clock __attribute__((tls_model("initial-exec")));
static inline uint64_t gm_support_tsc(void)
{
	return gm_support_counter_clock += 3;
}
#else
/* The time-stamp counter: not serializing, see record/thread.h for why. */
static inline uint64_t gm_support_tsc(void)
{
	return __builtin_ia32_rdtsc();
}
#endif

/* OS thread id (one syscall). */
int gm_support_gettid(void);

/* Gives a file gmtrace just made read and write for its owner, whatever
 * the game's umask took away (a game that sets umask(0777) made captures
 * and logs nobody could read); the other bits stay as the umask left them. */
void gm_support_owner_rw(int fd);

/* The state letter, the number of threads and (ppid not NULL) the parent
 * of process (or thread) id, 0 for the calling process, from
 * /proc/ID/stat; 0, or -1 when it cannot be read. No allocation, no
 * stdio: safe in a signal handler. */
int gm_support_proc_stat(int id, char *state, long *threads, long *ppid);

/* Each line of /proc/ID/maps (0: the calling process) to line(text, arg),
 * without its newline, until it returns non-zero. Returns that value, 0
 * at the end, -1 when the list cannot be read or a line is longer than
 * any mapping's (a path of PATH_MAX). *lines (if not NULL) counts the
 * lines read: an empty list (a process whose main thread ended) is no
 * list. No allocation: a line at a time through a buffer on the stack. */
int gm_support_proc_maps(int id, int (*line)(const char *text, void *arg), void *arg,
                         unsigned long *lines);

/* 1 when process (or thread) id is gone: no such process, or one that
 * ended and waits for its parent to reap it (a zombie: kill(id, 0) still
 * succeeds for it, and an editor or a harness may not reap it for long);
 * 0 while it runs, also while its main thread has ended and others run
 * (it shows as a zombie then), and when /proc cannot say. No allocation,
 * no stdio. */
int gm_support_pid_gone(int id);

/* Fill buf with n random bytes from getrandom(2); returns 0 or -errno. */
int gm_support_random(void *buf, size_t n);

/* The set-ID bit that makes the loader run a program in secure mode, where
 * it ignores LD_PRELOAD (its AT_SECURE rule, file capabilities aside):
 * S_ISUID when the program runs as another user than the caller's,
 * S_ISGID when as another group; 0 when neither (a set-ID program of the
 * caller's own user and group runs as usual). */
static inline unsigned gm_support_secure_bit(const struct stat *st)
{
	if ((st->st_mode & S_ISUID) && st->st_uid != getuid())
		return S_ISUID;
	if ((st->st_mode & S_ISGID) && st->st_gid != getgid())
		return S_ISGID;
	return 0;
}

#endif

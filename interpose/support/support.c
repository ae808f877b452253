/* support.c - allocation-free helpers (strings, numbers, warnings, clocks) */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

size_t gm_support_utf8_cut(const char *s, size_t n)
{
	size_t k = n;
	/* back over continuation bytes (at most 3: a sequence's longest
	 * tail) to the byte that begins their sequence, which goes too */
	while (k > 0 && n - k < 4 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return n - k < 4 ? k : n;
}

size_t gm_support_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n = 0;
	if (cap == 0)
		return 0;
	while (src && src[n] && n + 1 < cap) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = 0;
	return n;
}

int gm_support_append(char *dst, size_t cap, size_t *len, const char *src)
{
	size_t n = strlen(src);
	if (*len + n + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(dst + *len, src, n + 1);
	*len += n;
	return 0;
}

size_t gm_support_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0, i;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = 0;
	return n;
}

size_t gm_support_hex(char *buf, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[24];
	size_t n = 0, i;
	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = 0;
	return n;
}

void gm_support_warn(const char *a, const char *b, const char *c)
{
	char line[512];
	char num[24];
	size_t len = 0;
	int saved = errno;
	gm_support_u64(num, (uint64_t)getpid());
	line[0] = 0;
	gm_support_append(line, sizeof(line), &len, "gmtrace: [");
	gm_support_append(line, sizeof(line), &len, num);
	gm_support_append(line, sizeof(line), &len, "] ");
	if (a)
		len += gm_support_strlcpy(line + len, a, sizeof(line) - len - 1);
	if (b)
		len += gm_support_strlcpy(line + len, b, sizeof(line) - len - 1);
	if (c)
		len += gm_support_strlcpy(line + len, c, sizeof(line) - len - 1);
	line[len++] = '\n';
	if (write(2, line, len) < 0) {
		/* nothing more we can do */
	}
	errno = saved;
}

void gm_support_die(const char *file, int line, const char *what)
{
	char num[24];
	gm_support_u64(num, (uint64_t)line);
	gm_support_warn("assertion failed: ", what, "");
	gm_support_warn("at ", file, num);
	abort();
}

long gm_support_read_file(const char *path, char *buf, size_t cap)
{
	long total = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while ((size_t)total < cap) {
		ssize_t n = read(fd, buf + total, cap - (size_t)total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			total = -errno;
			break;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	return total;
}

#ifdef GM_BENCH_COUNTER_CLOCK
__thread uint64_t gm_support_counter_clock __attribute__((tls_model("initial-exec")));
#endif

uint64_t gm_support_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t gm_support_real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int gm_support_gettid(void)
{
	return (int)syscall(SYS_gettid);
}

void gm_support_owner_rw(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 0600) != 0600)
		(void)fchmod(fd, (st.st_mode & 07777) | 0600);
}

/* Opens /proc/ID/leaf (ID "self" for 0) for reading: a descriptor, or -1.
 * No allocation, no stdio (a signal handler's too). */
static int gm_support_proc_open(int id, const char *leaf)
{
	char path[48] = "", num[24];
	size_t len = 0;
	if (id > 0)
		gm_support_u64(num, (uint64_t)id);
	gm_support_append(path, sizeof(path), &len, "/proc/");
	gm_support_append(path, sizeof(path), &len, id > 0 ? num : "self");
	gm_support_append(path, sizeof(path), &len, leaf);
	return open(path, O_RDONLY | O_CLOEXEC);
}

int gm_support_proc_stat(int id, char *state, long *threads, long *ppid)
{
	char buf[512];
	const char *at;
	ssize_t n;
	int fd, field;
	if ((fd = gm_support_proc_open(id, "/stat")) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": the state follows the last ')' (comm may
	 * hold one), the number of threads is field 20 (the state field 3) */
	at = strrchr(buf, ')');
	if (!at || at[1] != ' ' || !at[2])
		return -1;
	*state = at[2];
	for (at += 2, field = 3; field < 20 && (at = strchr(at, ' ')) != NULL; field++) {
		at++;
		if (field == 3 && ppid) /* (field 4, the parent) */
			*ppid = strtol(at, NULL, 10);
	}
	if (!at)
		return -1;
	*threads = strtol(at, NULL, 10);
	return 0;
}

int gm_support_proc_maps(int id, int (*line)(const char *text, void *arg), void *arg,
                         unsigned long *lines)
{
	char buf[PATH_MAX + 256];
	size_t have = 0;
	ssize_t got;
	int fd, rc = 0;
	if (lines)
		*lines = 0;
	if ((fd = gm_support_proc_open(id, "/maps")) < 0)
		return -1;
	while (rc == 0) {
		char *nl;
		got = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -1;
			break;
		}
		if (got == 0)
			break;
		have += (size_t)got;
		while (rc == 0 && (nl = memchr(buf, '\n', have)) != NULL) {
			*nl = 0;
			if (lines)
				++*lines;
			rc = line(buf, arg);
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
		}
		if (rc == 0 && have == sizeof(buf) - 1)
			rc = -1; /* (a line longer than any path) */
	}
	close(fd);
	return rc;
}

int gm_support_pid_gone(int id)
{
	char state;
	long threads;
	if (id <= 0)
		return 0;
	if (kill((pid_t)id, 0) != 0)
		return errno == ESRCH;
	/* kill(2) finds a zombie too. Nothing to read (no /proc in a
	 * sandbox): it runs, as kill(2) says. A process whose main thread
	 * called pthread_exit shows Z while its other threads run: gone only
	 * with one thread left */
	if (gm_support_proc_stat(id, &state, &threads, NULL) != 0)
		return 0;
	return (state == 'Z' || state == 'X') && threads <= 1;
}

int gm_support_random(void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom((char *)buf + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	return 0;
}

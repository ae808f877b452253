/* session.c - one process's recording session: log, capture, agent thread
 *
 * Start order (gm_session_start, from the library constructor):
 *   1. options from GMTRACE_*         (no allocation)
 *   2. private jemalloc arena         (profiler memory never from the game)
 *   3. thread-exit key                (commits a thread's chunk at exit)
 *   4. shared-memory log              (mode 0600, exclusive, random name)
 *   5. capture file + header          (O_EXCL; suffix .1, .2 ... if taken)
 *   6. announce (external drain) or internal drainer state
 *   7. environment for children       (follow_children=0 strips LD_PRELOAD)
 *   8. recording on; process + module records; agent thread; atfork hooks
 * Any failure warns once and leaves recording off.
 */
#define _GNU_SOURCE
#include "session.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "../log/drain.h"
#include "../support/mem.h"
#include "../support/support.h"
#include "context.h"
#include "event.h"
#include "frame.h"
#include "pool.h"
#include "../budget/budget.h"
#include "../budget/owner.h"
#include "platforms/host.h"
#include "thread.h"

gm_ring_t gm_session_log;
gm_options_t gm_session_options;

void gm_marker_new_session(void); /* marker/marker.c */

static gm_drain_t gm_session_drain;
static int gm_session_fd = -1;
static int gm_session_started;
/* 0 recording, 1 stopping (gm_session_stop runs), 2 stopped */
static int gm_session_stopping;
/* 1 on the thread that runs gm_session_stop */
static __thread int gm_session_stopper __attribute__((tls_model("initial-exec")));
static pthread_t gm_session_agent;
static int gm_session_agent_running;
static int gm_session_agent_stop;
static char gm_session_capture[1024];
static char gm_session_exe[512];
static uint64_t gm_session_known_adds;
static uint32_t gm_session_nmodules;
static int gm_session_atfork_done;

/* ---- modules ----------------------------------------------------------- */

typedef struct gm_session_module {
	uint64_t base, size;
	uint64_t path_hash; /* a module unloaded and another loaded at its base
	                       between two walks is another module */
	uint32_t seen;      /* generation of the last walk that saw it */
} gm_session_module_t;

static uint64_t gm_session_path_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	while (s && *s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ull;
	return h;
}

static gm_session_module_t *gm_session_mods;
static uint32_t gm_session_mods_cap;
static uint32_t gm_session_gen;

/* 0 on a poll's first walk (marks the modules still there), 1 on its
 * second (records the new ones, after the unloads: a module loaded where
 * another was unloaded comes after that one's end). */
static int gm_session_mods_adding;

/* The GNU build ID among module info's notes, read in memory (a note that
 * a loaded segment holds); its length (0: none, or longer than 64 bytes),
 * *id set to it. */
static size_t gm_session_build_id(const struct dl_phdr_info *info, const unsigned char **id)
{
	int k, j;
	for (k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		size_t align = ph->p_align == 8 ? 8 : 4, at = 0;
		const unsigned char *notes = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		if (ph->p_type != PT_NOTE)
			continue;
		for (j = 0; j < info->dlpi_phnum; j++) /* mapped, not only in the file */
			if (info->dlpi_phdr[j].p_type == PT_LOAD &&
			    ph->p_vaddr >= info->dlpi_phdr[j].p_vaddr &&
			    ph->p_vaddr + ph->p_filesz <=
			            info->dlpi_phdr[j].p_vaddr + info->dlpi_phdr[j].p_filesz)
				break;
		if (j == info->dlpi_phnum)
			continue;
		while (ph->p_filesz - at >= sizeof(ElfW(Nhdr))) {
			ElfW(Nhdr) n;
			size_t left = ph->p_filesz - at - sizeof(n), name, desc;
			memcpy(&n, notes + at, sizeof(n));
			name = ((size_t)n.n_namesz + align - 1) & ~(align - 1);
			desc = ((size_t)n.n_descsz + align - 1) & ~(align - 1);
			if (name > left || desc > left - name)
				break;
			if (n.n_type == NT_GNU_BUILD_ID && n.n_namesz == 4 &&
			    memcmp(notes + at + sizeof(n), "GNU", 4) == 0 && n.n_descsz > 0 &&
			    n.n_descsz <= 64) {
				*id = notes + at + sizeof(n) + name;
				return n.n_descsz;
			}
			at += sizeof(n) + name + desc;
		}
	}
	return 0;
}

/* gm_session_mapped_path's question and answer. */
typedef struct gm_session_mapped {
	uint64_t page;
	char *out;
	size_t cap;
} gm_session_mapped_t;

/* One line of the mappings ("lo-hi perms offset dev inode   path"): 1 when
 * it holds the page and names a file, copied out. */
static int gm_session_mapped_line(const char *text, void *arg)
{
	gm_session_mapped_t *m = arg;
	char *end;
	const char *slash = strchr(text, '/');
	unsigned long long lo = strtoull(text, &end, 16);
	unsigned long long hi = *end == '-' ? strtoull(end + 1, NULL, 16) : 0;
	size_t n;
	if (!(lo <= m->page && m->page < hi) || !slash)
		return 0;
	n = strlen(slash);
	if (n >= 10 && strcmp(slash + n - 10, " (deleted)") == 0)
		n -= 10;
	if (n >= m->cap)
		return -1;
	memcpy(m->out, slash, n);
	m->out[n] = 0;
	return 1;
}

/* The path of the file mapped at the page of at, from the process's list
 * of mappings, into out: 0, or -1 (no such mapping, no file, no room). */
static int gm_session_mapped_path(uint64_t at, char *out, size_t cap)
{
	gm_session_mapped_t m = {at & ~(uint64_t)4095, out, cap};
	return gm_support_proc_maps(0, gm_session_mapped_line, &m, NULL) == 1 ? 0 : -1;
}

static int gm_session_module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	gm_thread_t *t = arg;
	uint64_t lo = UINT64_MAX, hi = 0, words[2], ph_hash = gm_session_path_hash(info->dlpi_name);
	const char *path = info->dlpi_name;
	char buf[2 * GM_REC_MAX_EXTRA * 8];
	size_t plen;
	uint32_t i;
	int k;
	(void)size;
	for (k = 0; k < info->dlpi_phnum; k++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[k];
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_vaddr < lo)
			lo = ph->p_vaddr;
		if (ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
	}
	if (hi <= lo)
		return 0;
	lo += info->dlpi_addr;
	hi += info->dlpi_addr;
	for (i = 0; i < gm_session_nmodules; i++) {
		if (gm_session_mods[i].base == lo && gm_session_mods[i].size == hi - lo &&
		    gm_session_mods[i].path_hash == ph_hash) {
			gm_session_mods[i].seen = gm_session_gen;
			return 0;
		}
	}
	if (!gm_session_mods_adding)
		return 0;
	if (gm_session_nmodules == gm_session_mods_cap) {
		uint32_t cap = gm_session_mods_cap ? gm_session_mods_cap * 2 : 64;
		gm_session_module_t *m = gm_mem_alloc(cap * sizeof(*m));
		if (!m)
			return 0;
		if (gm_session_mods) {
			memcpy(m, gm_session_mods, gm_session_nmodules * sizeof(*m));
			gm_mem_free(gm_session_mods);
		}
		gm_session_mods = m;
		gm_session_mods_cap = cap;
	}
	gm_session_mods[gm_session_nmodules].base = lo;
	gm_session_mods[gm_session_nmodules].size = hi - lo;
	gm_session_mods[gm_session_nmodules].path_hash = ph_hash;
	gm_session_mods[gm_session_nmodules].seen = gm_session_gen;
	gm_session_nmodules++;
	if (!path || !*path)
		path = gm_session_exe; /* the main program has no name here */
	if (path[0] != '/') {
		/* dlopen("./plugin.so"): the loader keeps the name as given,
		 * relative to the folder the game was in then, which may not be
		 * the folder it is in now (a chdir between the load and this
		 * walk named another file of that name); the capture's readers
		 * only trust a full path. The kernel's list of the mappings
		 * names the file mapped there; realpath from here is the last
		 * resort */
		static char full[PATH_MAX];
		int busy = t->busy;
		t->busy = 1; /* (realpath's own allocations are gmtrace's) */
		if (gm_session_mapped_path(lo, full, sizeof(full)) == 0 || realpath(path, full))
			path = full;
		t->busy = busy;
	}
	plen = strlen(path);
	if (plen > sizeof(buf) - 16)
		plen = sizeof(buf) - 16;
	words[0] = lo;
	words[1] = hi - lo;
	memcpy(buf, words, 16);
	memcpy(buf + 16, path, plen);
	gm_thread_put_var(t, gm_rec_module, plen, 0, buf, 16 + plen);
	{
		const unsigned char *id;
		size_t idlen = gm_session_build_id(info, &id);
		if (idlen)
			gm_thread_put_var(t, gm_rec_module_id, lo, idlen, id, idlen);
	}
	return 0;
}

static int gm_session_adds_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(uint64_t *)arg = info->dlpi_adds + info->dlpi_subs * 0x100000000ull;
	return 1; /* the counters are the same in every entry: stop at the first */
}

/* Record modules loaded or unloaded since the last call; one thread at a
 * time (gm_session_modules_poll). */
static void gm_session_modules_poll_locked(gm_thread_t *t)
{
	uint64_t adds = 0;
	uint32_t i, j;
	dl_iterate_phdr(gm_session_adds_cb, &adds);
	if (adds == gm_session_known_adds)
		return;
	gm_session_known_adds = adds;
	gm_session_gen++;
	gm_session_mods_adding = 0;
	dl_iterate_phdr(gm_session_module_cb, t);
	for (i = 0, j = 0; i < gm_session_nmodules; i++) {
		if (gm_session_mods[i].seen != gm_session_gen) {
			gm_thread_put(
			        t, gm_rec_w0(gm_session_mods[i].base, gm_rec_module_unload, 0), 0);
			/* another module may come at its addresses: stacks met
			 * from now on get records of their own */
			gm_stack_modules_gone();
			continue;
		}
		gm_session_mods[j++] = gm_session_mods[i];
	}
	gm_session_nmodules = j;
	gm_session_mods_adding = 1;
	dl_iterate_phdr(gm_session_module_cb, t);
}

/* The agent's walk every 50 ms, a dlclose's (hook/process.c), a new
 * stack's (gm_session_modules_cover) and the session start's: one at a
 * time. Only a dlclose's waits for a walker at work, and not for ever
 * (gm_session_mods_wait); the others leave a walk taken already to its
 * walker: a dlclose inside a dl_iterate_phdr callback holds the loader's
 * lock, which the other walker may be waiting for, and a walker whose
 * record waits for a free chunk waits for the agent to drain. */
static int gm_session_mods_lock;

static int gm_session_mods_want; /* a walk asked for while the lock was taken */

/* Takes the lock if it is free: 1, or 0 when another walk has it. The
 * thread's mark goes up first and down last (gm_session_mods_unlock), so
 * a signal handler that interrupts it anywhere in between knows that the
 * lock may be its own thread's. */
static int gm_session_mods_take(gm_thread_t *t)
{
	__atomic_store_n(&t->mods_holding, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_exchange_n(&gm_session_mods_lock, 1, __ATOMIC_SEQ_CST))
		return 1;
	__atomic_store_n(&t->mods_holding, 0, __ATOMIC_SEQ_CST);
	return 0;
}

/* Lets the lock go; a walk asked for meanwhile (gm_session_modules_cover,
 * a dlclose that waited in vain) is taken here, by whoever gets the lock
 * back first. */
static void gm_session_mods_unlock(gm_thread_t *t)
{
	for (;;) {
		__atomic_store_n(&gm_session_mods_lock, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&t->mods_holding, 0, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&gm_session_mods_want, __ATOMIC_SEQ_CST) ||
		    !gm_session_mods_take(t))
			return;
		__atomic_store_n(&gm_session_mods_want, 0, __ATOMIC_SEQ_CST);
		gm_session_modules_poll_locked(t);
	}
}

/* Takes the lock, or asks its walker to walk again once done: 1 with the
 * lock, 0 when the walk is left to the walker. The wish stays when the
 * lock is taken at the second try: another thread may have made it too,
 * after this one, and the unlock's walk is cheap when nothing changed. */
static int gm_session_mods_take_or_ask(gm_thread_t *t)
{
	if (gm_session_mods_take(t))
		return 1;
	__atomic_store_n(&gm_session_mods_want, 1, __ATOMIC_SEQ_CST);
	/* (the walker may have let go in between, before it saw the wish) */
	return gm_session_mods_take(t);
}

static void gm_session_modules_poll(gm_thread_t *t)
{
	if (!gm_session_mods_take(t))
		return;
	gm_session_modules_poll_locked(t);
	gm_session_mods_unlock(t);
}

/* The lock for a dlclose's walk, which must see that dlclose before the
 * game goes on (a plugin loaded at the same addresses next is named as
 * itself): a walker at work is waited for. On a busy machine a walker
 * taken off its core holds the lock for milliseconds, so the wait goes
 * on up to 250 ms; longer, the walker is asked to walk again once done.
 * Not waited for: a walker that may be waiting for this thread, which
 * holds the loader's lock inside a dl_iterate_phdr callback (the game's
 * own walk of the modules, closing what it opened to look), and this
 * thread's own walk, interrupted by a signal handler that closes a
 * module. Returns 1 with the lock, else 0. */
static int gm_session_mods_wait(gm_thread_t *t)
{
	uint64_t deadline = 0;
	unsigned tries = 0;
	if ((t->iterate_sp && (uintptr_t)__builtin_frame_address(0) < t->iterate_sp) ||
	    __atomic_load_n(&t->mods_holding, __ATOMIC_SEQ_CST))
		return gm_session_mods_take_or_ask(t);
	for (;;) {
		struct timespec nap = {0, 20 * 1000};
		uint64_t now;
		if (gm_session_mods_take(t))
			return 1;
		if (++tries <= 64) {
			sched_yield();
			continue;
		}
		now = gm_support_mono_ns();
		if (!deadline)
			deadline = now + 250 * 1000 * 1000ull;
		else if (now > deadline)
			break;
		nanosleep(&nap, NULL);
	}
	return gm_session_mods_take_or_ask(t);
}

void gm_session_modules_cover(const uint64_t *pcs, unsigned n)
{
	gm_thread_t *t = &gm_thread_self;
	unsigned k;
	uint32_t i;
	int saved = errno, cancel;
	if (!__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE) || t->busy ||
	    !gm_session_started)
		return;
	/* a walker at work may only be looking at its own stack's addresses:
	 * it is asked to walk once it is done (no waiting for it here: it may
	 * wait for the loader's lock, held by this thread's caller, or be the
	 * code this signal handler interrupted) */
	if (!gm_session_mods_take_or_ask(t)) {
		errno = saved;
		return;
	}
	/* (a walk reads files: no cancellation point may end the thread with
	 * the lock taken, which every later dlclose would wait for) */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	for (k = 0; k < n; k++) {
		if (pcs[k] & GM_PYFRAME_BIT)
			continue;
		for (i = 0; i < gm_session_nmodules; i++)
			if (pcs[k] - gm_session_mods[i].base < gm_session_mods[i].size)
				break;
		if (i == gm_session_nmodules) {
			gm_session_modules_poll_locked(t);
			break;
		}
	}
	gm_session_mods_unlock(t);
	pthread_setcancelstate(cancel, NULL);
	errno = saved;
}

int gm_session_modules_changed(int wait)
{
	gm_thread_t *t = &gm_thread_self;
	int saved = errno, walked = 1, cancel;
	if (__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE) && !t->busy &&
	    gm_session_started) {
		/* (the wait's naps and the walk's reads are no cancellation
		 * points of a dlclose's: the lock is never left taken) */
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
		walked = wait ? gm_session_mods_wait(t) : gm_session_mods_take_or_ask(t);
		if (walked) {
			gm_session_modules_poll_locked(t);
			gm_session_mods_unlock(t);
		}
		pthread_setcancelstate(cancel, NULL);
	}
	errno = saved;
	return walked;
}

uint32_t gm_session_modules(void)
{
	return gm_session_nmodules;
}

/* ---- process record ---------------------------------------------------- */

static void gm_session_process_record(gm_thread_t *t)
{
	static char buf[2 * GM_REC_MAX_EXTRA * 8];
	char args[2048];
	uint64_t w[6];
	long alen = gm_support_read_file("/proc/self/cmdline", args, sizeof(args));
	size_t elen = strlen(gm_session_exe), room = sizeof(buf) - sizeof(w);
	if (alen < 0)
		alen = 0;
	if (elen > room / 2)
		elen = room / 2;
	if ((size_t)alen > room - elen)
		alen = (long)(room - elen);
	/* registered first: the thread's start record comes before this one
	 * in time too (put_var reads its TSC before it would register) */
	gm_thread_attach(t);
	w[0] = gm_support_real_ns();
	w[1] = gm_support_mono_ns();
	w[2] = gm_support_tsc();
	w[3] = 0; /* tick rate: from clock samples, see the reader */
	w[4] = elen;
	w[5] = (uint64_t)alen;
	memcpy(buf, w, sizeof(w));
	memcpy(buf + sizeof(w), gm_session_exe, elen);
	memcpy(buf + sizeof(w) + elen, args, (size_t)alen);
	gm_thread_put_var(t, gm_rec_process, (uint64_t)getpid(), (uint64_t)getppid(), buf,
	                  sizeof(w) + elen + (size_t)alen);
}

/* ---- capture file ------------------------------------------------------ */

/* The program's name for captures: the executable's, except for a Python
 * interpreter running a script, where it is the script's ("game" for
 * `python3 -X dev game.py`, the executable's, such as "python3.11", for
 * `python3 -c ...`). */
static void gm_session_program(char *out, size_t cap)
{
	const char *base = strrchr(gm_session_exe, '/');
	char args[1024];
	long n;
	base = base ? base + 1 : gm_session_exe;
	gm_support_strlcpy(out, *base ? base : "program", cap);
	if (strncmp(base, "python", 6) != 0)
		return;
	n = gm_support_read_file("/proc/self/cmdline", args, sizeof(args) - 1);
	if (n <= 0)
		return;
	args[n] = 0;
	{
		/* argv[1] (after options such as -u, -X dev) when it names a .py;
		 * -X, -W and --check-hash-based-pycs take the next word as their
		 * value */
		const char *a = args + strlen(args) + 1;
		while (a < args + n && a[0] == '-' && a[1] != 'c' && a[1] != 'm') {
			int takes = strcmp(a, "-X") == 0 || strcmp(a, "-W") == 0 ||
			            strcmp(a, "--check-hash-based-pycs") == 0;
			a += strlen(a) + 1;
			if (takes && a < args + n)
				a += strlen(a) + 1;
		}
		if (a < args + n) {
			size_t len = strlen(a);
			const char *slash = strrchr(a, '/');
			if (len > 3 && strcmp(a + len - 3, ".py") == 0) {
				const char *stem = slash ? slash + 1 : a;
				size_t sl = strlen(stem) - 3;
				if (sl > 0 && sl < cap) {
					memcpy(out, stem, sl);
					out[sl] = 0;
				}
			}
		}
	}
}

/* Expand %p (pid), %e (program name) and %% (one %) in pattern. */
static int gm_session_expand(char *out, size_t cap, const char *pattern)
{
	size_t len = 0;
	const char *p;
	char num[24], base[256];
	gm_session_program(base, sizeof(base));
	out[0] = 0;
	for (p = pattern; *p; p++) {
		char one[2] = {*p, 0};
		int rc = 0;
		if (p[0] == '%' && p[1] == 'p') {
			gm_support_u64(num, (uint64_t)getpid());
			rc = gm_support_append(out, cap, &len, num);
			p++;
		} else if (p[0] == '%' && p[1] == 'e') {
			/* at most 200 bytes of it: a name of 250 made the file's
			 * name longer than a file system takes (255), and the
			 * program ran unrecorded */
			char cut[201];
			const char *name = *base ? base : "program";
			size_t n = gm_support_strlcpy(cut, name, sizeof(cut));
			if (n == 200 && ((unsigned char)name[200] & 0xc0) == 0x80) {
				/* (not inside a character: back to its first byte) */
				size_t k = 200;
				while (k > 0 && ((unsigned char)cut[k - 1] & 0xc0) == 0x80)
					k--;
				cut[k ? k - 1 : 0] = 0;
			}
			rc = gm_support_append(out, cap, &len, cut);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			rc = gm_support_append(out, cap, &len, "%");
			p++;
		} else {
			rc = gm_support_append(out, cap, &len, one);
		}
		if (rc)
			return rc;
	}
	return 0;
}

/* Names a capture may take: the one asked for, then .1 to .9999 after it
 * (a CI job's fixed name over a game that forks hundreds of processes). */
#define GM_SESSION_NAMES 10000
#define GM_SESSION_NAMES_LAST "9999"

/* Create the capture file exclusively; if the name is taken (a pattern
 * without %p in a process tree, an exec of the same program) add .1, .2 */
static int gm_session_create_file(void)
{
	char path[1024];
	const char *out = gm_session_options.output[0] ? gm_session_options.output : "%e.%p.gmt";
	struct stat st;
	int i, fd;
	size_t plen = 0;
	path[0] = 0;
	gm_support_strlcpy(gm_session_capture, out, sizeof(gm_session_capture));
	if (out[0] != '/') {
		/* absolute, so `gmtrace recover` finds it from any folder */
		if (!getcwd(path, sizeof(path) - 16))
			return -ENAMETOOLONG;
		plen = strlen(path);
		if (plen > 1)
			path[plen++] = '/';
	}
	if (gm_session_expand(path + plen, sizeof(path) - 8 - plen,
	                      out[0] == '.' && out[1] == '/' ? out + 2 : out) != 0)
		return -ENAMETOOLONG;
	gm_support_strlcpy(gm_session_capture, path, sizeof(gm_session_capture));
	/* a device or a folder by that name is not taken over, nor is a
	 * capture made beside it (/dev/null.1) */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return -ENOTSUP;
	for (i = 0; i < GM_SESSION_NAMES; i++) {
		char cand[1024];
		size_t len = 0;
		cand[0] = 0;
		gm_support_append(cand, sizeof(cand), &len, path);
		if (i) {
			char num[24];
			gm_support_u64(num, (uint64_t)i);
			gm_support_append(cand, sizeof(cand), &len, ".");
			gm_support_append(cand, sizeof(cand), &len, num);
		}
		/* read too: a drainer finds the end other drainers left */
		fd = open(cand, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0) {
			gm_support_owner_rw(fd);
			/* out of the way of the game's own low descriptor numbers */
			int high = fcntl(fd, F_DUPFD_CLOEXEC, 900);
			if (high >= 0) {
				close(fd);
				fd = high;
			}
			gm_support_strlcpy(gm_session_capture, cand, sizeof(gm_session_capture));
			return fd;
		}
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* <announce dir>/<pid><a><b> into out (cap bytes): 0, or -ENAMETOOLONG. */
static int gm_session_announce_name(char *out, size_t cap, const char *a, const char *b)
{
	char num[24];
	size_t len = 0;
	gm_support_u64(num, (uint64_t)getpid());
	out[0] = 0;
	if (gm_support_append(out, cap, &len, gm_session_options.announce_dir) ||
	    gm_support_append(out, cap, &len, "/") || gm_support_append(out, cap, &len, num) ||
	    gm_support_append(out, cap, &len, a) || gm_support_append(out, cap, &len, b))
		return -ENAMETOOLONG;
	return 0;
}

/* This process records nothing: one warning, a b c, and under `gmtrace
 * run` the same words in <dir>/<pid>.off, so that the run says why the
 * program left no capture instead of guessing. */
static void gm_session_not_recording(const char *a, const char *b, const char *c)
{
	char path[1200], body[1200];
	size_t bl = 0;
	int fd;
	gm_support_warn(a, b, c);
	if (!gm_session_options.announce_dir[0] ||
	    gm_session_announce_name(path, sizeof(path), ".off", ""))
		return;
	body[0] = 0;
	/* cut, not refused, when too long: the warning above was whole */
	gm_support_append(body, sizeof(body) - 1, &bl, a ? a : "");
	gm_support_append(body, sizeof(body) - 1, &bl, b ? b : "");
	gm_support_append(body, sizeof(body) - 1, &bl, c ? c : "");
	bl = strlen(body);
	body[bl++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	gm_support_owner_rw(fd);
	if (write(fd, body, bl) < 0) {
		/* nothing more to say: the warning went to stderr */
	}
	close(fd);
}

/* Tell `gmtrace run` about this log: <dir>/<pid>.<name>.ann holds the
 * segment name and the capture path; written whole, then renamed. */
static int gm_session_announce(void)
{
	char tmp[1200], fin[1200], body[1200];
	size_t tl = 0, bl = 0;
	int fd, rc = 0;
	tmp[0] = body[0] = 0;
	if (gm_session_announce_name(fin, sizeof(fin), gm_session_log.name + 8, ".ann"))
		return -ENAMETOOLONG;
	gm_support_append(tmp, sizeof(tmp), &tl, fin);
	if (gm_support_append(tmp, sizeof(tmp), &tl, ".tmp"))
		return -ENAMETOOLONG;
	if (gm_support_append(body, sizeof(body), &bl, gm_session_log.name) ||
	    gm_support_append(body, sizeof(body), &bl, "\n") ||
	    gm_support_append(body, sizeof(body), &bl, gm_session_capture) ||
	    gm_support_append(body, sizeof(body), &bl, "\n"))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	gm_support_owner_rw(fd);
	if (write(fd, body, bl) != (ssize_t)bl)
		rc = -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, fin) != 0)
		rc = -errno;
	return rc;
}

/* ---- agent thread ------------------------------------------------------ */

/* The drain lock for a last pass (exit, exec): the agent may hold it for
 * the pass it is in, which takes milliseconds; giving up there loses what
 * this pass was for (at an exec, every record not yet in the file). Waits
 * up to 2 s; a holder that died is broken by gm_ring_drain_lock. For a
 * takeover (while_silent), it gives up as soon as the outside drainer
 * beats again. */
static int gm_session_drain_lock_wait(uint32_t tid, int while_silent)
{
	int tries;
	for (tries = 0; tries < 20000; tries++) {
		struct timespec ts = {0, 100000};
		if (gm_ring_drain_lock(&gm_session_log, tid))
			return 1;
		if (while_silent &&
		    !gm_drain_silent(
		            gm_support_mono_ns(),
		            __atomic_load_n(&gm_session_log.hdr->drain_beat_ns, __ATOMIC_RELAXED)))
			return 0;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Game threads inside gm_session_drain_help: the last drain (exit, exec)
 * turns helping off for good and waits for them to leave, so that none
 * starts a pass after it, on freed buffers or an unmapped log, or is cut
 * by exec halfway through a block. */
static int gm_session_helpers;

static void gm_session_helpers_end(void)
{
	int i;
	__atomic_store_n(&gm_session_drain.help, 0, __ATOMIC_SEQ_CST);
	/* a thread counted in finds help 0 and leaves at once, or is in the
	 * middle of a pass of its own chunks (a chunk or a few) */
	for (i = 0; i < 2000 && __atomic_load_n(&gm_session_helpers, __ATOMIC_SEQ_CST); i++) {
		struct timespec ts = {0, 50000};
		nanosleep(&ts, NULL);
	}
}

/* The last pass before an exit or exec: every chunk, the written prefix
 * of those still owned included, then a clock sample for the reader's fit,
 * under one hold of the drain lock. */
static void gm_session_drain_last(void)
{
	gm_thread_t *t = &gm_thread_self;
	uint32_t tid = t->os_tid ? t->os_tid : (uint32_t)gm_support_gettid();
	if (gm_session_fd < 0)
		return;
	gm_session_helpers_end();
	if (!gm_session_drain_lock_wait(tid, 0))
		return;
	gm_drain_pass(&gm_session_drain, 1);
	__atomic_store_n(&gm_session_log.hdr->drain_beat_ns, gm_support_mono_ns(),
	                 __ATOMIC_RELAXED);
	gm_drain_clock(&gm_session_drain);
	gm_drain_trim(&gm_session_drain);
	gm_ring_drain_unlock(&gm_session_log);
}

/* DRAIN_HELP (auto, always, off) as gm_drain_t.help (1, 2, 0). */
static int gm_session_drain_help_mode(void)
{
	static const int mode[] = {1, 2, 0};
	unsigned o = (unsigned)gm_session_options.drain_help;
	return o < 3 ? mode[o] : 1;
}

/* The capture descriptors: the drainer's, and in the external drain the
 * one the game's threads drain into while no core is free. */
static void gm_session_close_files(void)
{
	if (gm_session_drain.fd >= 0 && gm_session_drain.fd != gm_session_fd)
		close(gm_session_drain.fd);
	if (gm_session_fd >= 0)
		close(gm_session_fd);
	gm_session_fd = -1;
	gm_session_drain.fd = -1;
}

/* External drain, but `gmtrace run` gave no sign of life for 2 s (it beats
 * at every look, whether it drained or not) while chunks wait: it was
 * killed, or never attached. Take the capture back and drain it here, so
 * the game never waits for a drainer that is gone. While the
 * game's threads drain their own chunks no chunk waits, and at the exit
 * none need: then the silence alone says it, or the capture would miss
 * what nobody drained (the last records, the clock samples). */
/* The outside drainer is gone: silent for 2 s, or it said it stops (a
 * beat of 0), or its process is no more (killed: its last beats were
 * moments ago, and a game ending now would leave its last records in the
 * log). */
static int gm_session_drainer_gone(uint64_t now)
{
	gm_ring_header_t *h = gm_session_log.hdr;
	uint32_t pid = __atomic_load_n(&h->drainer_pid, __ATOMIC_ACQUIRE);
	int gone, saved = errno;
	if (gm_drain_silent(now, __atomic_load_n(&h->drain_beat_ns, __ATOMIC_RELAXED)))
		return 1;
	gone = pid != 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
	errno = saved;
	return gone;
}

static void gm_session_give_up(void);

static void gm_session_takeover(uint64_t now, int at_exit)
{
	gm_ring_header_t *h = gm_session_log.hdr;
	uint32_t i, backlog = 0, tid, quit;
	int64_t end;
	int fd, err;
	if (!gm_session_drainer_gone(now))
		return;
	for (i = 0; i < gm_ring_nchunks(&gm_session_log); i++)
		backlog += __atomic_load_n(&gm_session_log.chunks[i].state, __ATOMIC_RELAXED) ==
		           gm_chunk_committed;
	if (backlog == 0 && !at_exit && !gm_drain_helping(&gm_session_drain))
		return;
	/* under the drain lock: a drainer slow, not gone, may be writing a
	 * block, which the cut below would lose. Waiting for it (up to 2 s; a
	 * dead holder's lock is broken) ends as soon as it beats again. */
	tid = gm_thread_self.os_tid ? gm_thread_self.os_tid : (uint32_t)gm_support_gettid();
	if (!gm_session_drain_lock_wait(tid, 1))
		return;
	/* with the lock: still silent, and not taken back already (the agent
	 * and the exiting thread may both come here) */
	if (!gm_session_options.drain_external || !gm_session_drainer_gone(gm_support_mono_ns()))
		goto unlock;
	/* the outside drainer quit because another program cut or replaced the
	 * capture: it is not ours to write on (what we appended would read as
	 * a whole capture with records missing) */
	quit = __atomic_load_n(&h->drainer_errno, __ATOMIC_ACQUIRE);
	if (quit == ESTALE || quit == EBADF) {
		err = -(int)quit;
		goto stop;
	}
	/* the new descriptor at the capture's valid end first: if that fails,
	 * nothing of the drainer in place has changed, and the capture cannot
	 * be written: recording stops (the game's threads would wait for room
	 * in the log for ever, nobody draining it) */
	fd = open(gm_session_capture, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto stop;
	}
	end = gm_drain_valid_end(fd);
	if (end < 0 || ftruncate(fd, end) != 0 || lseek(fd, end, SEEK_SET) < 0) {
		err = end < 0 ? -ESTALE : -errno; /* no longer a capture: cut */
		close(fd);
		goto stop;
	}
	/* the game's threads stop draining into the descriptor they had while
	 * the drainer goes over to the new one (helping resumes after it) */
	gm_session_helpers_end();
	gm_session_close_files();
	gm_drain_free(&gm_session_drain); /* their packing buffer: made again below */
	__atomic_store_n(&h->help_now, 0, __ATOMIC_RELAXED);
	gm_drain_init(&gm_session_drain, &gm_session_log, fd, (uint64_t)end,
	              gm_session_options.compress, gm_mem_alloc, gm_mem_free);
	gm_drain_watch_cpu(&gm_session_drain, 0);
	gm_session_drain.help = gm_session_drain_help_mode();
	gm_session_fd = fd;
	gm_drain_prepare(&gm_session_drain, h->chunk_bytes);
	gm_session_options.drain_external = 0;
	h->external = 0;
	gm_ring_drain_unlock(&gm_session_log);
	/* a beat of 0: `gmtrace run` could not write the capture, said so,
	 * and handed the log back (gm_attach_quit) */
	gm_support_warn(__atomic_load_n(&h->drain_beat_ns, __ATOMIC_RELAXED) == 0 ?
	                        "the outside drainer could not write the capture and stopped; "
	                        "the game drains its own log again" :
	                        "the outside drainer stopped; the game drains its own log again",
	                0, 0);
	return;
stop:
	gm_session_drain.error = err;
	gm_session_options.drain_external = 0;
	h->external = 0;
	gm_session_give_up();
unlock:
	gm_ring_drain_unlock(&gm_session_log);
}

/* The capture cannot be written (disk full, the game closed our file
 * descriptor): stop recording with one warning, and hand every chunk back
 * so no thread waits for a drainer that cannot drain. The game goes on.
 * The log's name goes too: what is left in it (the chunks threads still
 * hold, those before them given back unwritten) would not make a capture
 * that reads on, and gm_session_stop, with recording off, never unlinks
 * it.
 * Called with the drain lock held. */
static void gm_session_give_up(void)
{
	gm_ring_header_t *h = gm_session_log.hdr;
	uint32_t i;
	int err = gm_session_drain.error;
	/* the errno and, for the usual ones, its words (strerror may allocate:
	 * a few words of our own) */
	char reason[96];
	size_t rl = 0;
	if (!__atomic_exchange_n(&gm_thread_recording, 0, __ATOMIC_ACQ_REL))
		return;
	gm_support_u64(reason, (uint64_t)-err);
	rl = strlen(reason);
	gm_support_append(reason, sizeof(reason), &rl,
	                  err == -ENOSPC ? ": no space left on the device" :
	                  err == -EFBIG  ? ": the file-size limit, ulimit -f" :
	                  err == -EDQUOT ? ": disk quota exceeded" :
	                  err == -EBADF  ? ": its descriptor was closed" :
	                  err == -ESTALE ? ": another program cut the file while the game ran" :
	                                   "");
	gm_support_warn("cannot write the capture (errno ", reason,
	                "); recording stopped, the game goes on");
	for (i = 0; i < gm_ring_nchunks(&gm_session_log); i++)
		if (__atomic_load_n(&gm_session_log.chunks[i].state, __ATOMIC_ACQUIRE) ==
		    gm_chunk_committed)
			gm_ring_release(&gm_session_log, (int)i, h->chunk_bytes);
	shm_unlink(gm_session_log.name);
	/* and in the capture's header, which has its room on the disk: the
	 * capture says it stopped there, not that the game was killed. Only
	 * into the capture itself: the descriptor may be closed or be another
	 * file by now (the game's), and a cut file is no longer ours */
	if (gm_session_drain.fd >= 0 && gm_session_drain.error != -ESTALE &&
	    gm_session_drain.error != -EBADF) {
		struct stat st;
		uint32_t e = (uint32_t)-gm_session_drain.error;
		if (fstat(gm_session_drain.fd, &st) == 0 &&
		    (uint64_t)st.st_ino == gm_session_drain.ino &&
		    (uint64_t)st.st_dev == gm_session_drain.dev &&
		    pwrite(gm_session_drain.fd, &e, sizeof(e),
		           (off_t)offsetof(gm_file_header_t, stopped_errno)) !=
		            (ssize_t)sizeof(e)) {
			/* (nothing more to do) */
		}
	}
}

/* ---- host limits and memory pressure ---------------------------------------- */

static gm_host_t gm_session_host;

/* The host's limits, once, right after the process record. */
static void gm_session_host_record(gm_thread_t *t)
{
	gm_host_read(&gm_session_host, "");
	gm_thread_put_var(t, gm_rec_host, gm_session_host.known, 0, gm_session_host.v,
	                  sizeof(gm_session_host.v));
}

/* One pressure sample (the agent thread, every pressure_ms). */
static void gm_session_pressure(gm_thread_t *t)
{
	gm_pressure_t ps;
	uint64_t w[6];
	gm_host_refresh(&gm_session_host, "");
	gm_host_pressure(&gm_session_host, &ps);
	w[0] = ps.some_avg10;
	w[1] = ps.full_avg10;
	w[2] = ps.some_total_us;
	w[3] = ps.full_total_us;
	w[4] = (gm_session_host.known & GM_HOST_CG_CURRENT) ?
	               gm_session_host.v[gm_host_cg_current] :
	               UINT64_MAX;
	w[5] = (gm_session_host.known & GM_HOST_MEM_AVAILABLE) ?
	               gm_session_host.v[gm_host_mem_available] :
	               UINT64_MAX;
	gm_thread_put_var(t, gm_rec_pressure, 0, (uint64_t)ps.ok, w, sizeof(w));
}

/* The agent's drain, at each look and whenever it finds the log full while
 * writing a record of its own (it must not wait for itself): under
 * `gmtrace run`, take the drain back if the run is gone; draining in the
 * game, one pass with the beat and, every 200 ms, a clock sample and what
 * threads wrote into chunks they still hold (a game that allocates little
 * fills a chunk in seconds: the capture, and `gmtrace live`, would lag that
 * long). Returns what the pass drained (< 0: the capture cannot be written,
 * and recording stops). */
static long gm_session_agent_drain(uint64_t now)
{
	static uint64_t last_clock;
	long got = 0;
	if (gm_session_options.drain_external)
		gm_session_takeover(now, 0);
	if (gm_session_options.drain_external || gm_session_fd < 0)
		return 0;
	if (gm_ring_drain_lock(&gm_session_log, gm_thread_self.os_tid)) {
		int every = now - last_clock > 200000000ull;
		got = gm_drain_pass(&gm_session_drain, every);
		__atomic_store_n(&gm_session_log.hdr->drain_beat_ns, now, __ATOMIC_RELAXED);
		if (every) {
			gm_drain_clock(&gm_session_drain);
			last_clock = now;
		}
		/* under the lock: no game thread drains (gm_session_drain_help)
		 * a chunk that giving up frees */
		if (gm_session_drain.error && got < 0)
			gm_session_give_up();
		gm_ring_drain_unlock(&gm_session_log);
	}
	return got;
}

/* 1 when the main thread has ended (pthread_exit: the process shows as a
 * zombie) and the calling thread is the only other one left (/proc/self/
 * stat's field 20 counts the main thread until the process ends). */
static int gm_session_alone(void)
{
	char state;
	long threads;
	return gm_support_proc_stat(0, &state, &threads, NULL) == 0 && state == 'Z' && threads == 2;
}

static void *gm_session_agent_main(void *arg)
{
	gm_thread_t *t = &gm_thread_self;
	uint64_t last_mod = 0, last_psi = gm_support_mono_ns();
	(void)arg;
	prctl(PR_SET_NAME, "gmtrace", 0, 0, 0);
	t->os_tid = (uint32_t)gm_support_gettid();
	/* DRAIN_NICE above 0: the drainer yields to the game's threads when
	 * every core is busy (nice, never SCHED_IDLE: a full log makes the
	 * game wait for the drainer, which must always get some CPU) */
	gm_drain_set_nice((int)t->os_tid, gm_session_options.drain_nice);
	t->busy = 1; /* the agent's own calls are never recorded */
	while (!__atomic_load_n(&gm_session_agent_stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = gm_support_mono_ns();
		long got = gm_session_agent_drain(now);
		if (now - last_mod > 50000000ull) {
			t->busy = 0;
			gm_session_modules_poll(t);
			t->busy = 1;
			last_mod = now;
			/* the game's main thread called pthread_exit and its last
			 * thread has ended: the C library would end the process
			 * there with exit(0), but the agent keeps it alive. It does
			 * what the last thread would have done (the exit handlers,
			 * the session's end among them, run here) */
			if (gm_session_alone()) {
				__atomic_store_n(&gm_session_agent_running, 0, __ATOMIC_RELEASE);
				t->busy = 0;
				exit(0);
			}
		}
		if (gm_session_options.pressure_ms &&
		    now - last_psi >= gm_session_options.pressure_ms * 1000000ull) {
			t->busy = 0;
			gm_session_pressure(t);
			t->busy = 1;
			last_psi = now;
		}
		if (got <= 0) {
			/* DRAIN_INTERVAL_MS: 1-1000 (0 is 5, more is 1000: a full
			 * log waits for this drainer, and so does the game) */
			uint64_t ms = gm_session_options.drain_interval_ms;
			struct timespec ts;
			ms = ms == 0 ? 5 : ms > 1000 ? 1000 : ms;
			ts.tv_sec = (time_t)(ms / 1000);
			ts.tv_nsec = (long)(ms % 1000) * 1000000L;
			nanosleep(&ts, NULL);
		}
	}
	/* commit whatever the agent itself wrote (module records) */
	gm_thread_flush(t);
	return NULL;
}

static int gm_session_agent_start(void)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;
	gm_session_agent_stop = 0;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	/* the agent must never take a game's signal */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&gm_session_agent, &attr, gm_session_agent_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return -rc;
	gm_session_agent_running = 1;
	return 0;
}

static void gm_session_agent_end(void)
{
	struct timespec deadline;
	if (!gm_session_agent_running)
		return;
	__atomic_store_n(&gm_session_agent_stop, 1, __ATOMIC_RELEASE);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	/* a game calling exit() from a signal handler may have interrupted
	 * the agent's own thread? No: the agent blocks every signal. A timed
	 * join only guards against a drainer stuck in write(2). */
	pthread_timedjoin_np(gm_session_agent, NULL, &deadline);
	gm_session_agent_running = 0;
}

/* ---- environment ------------------------------------------------------- */

static const char *gm_session_self_name(void);

static int gm_session_entry_is(const char *entry, size_t len, const char *name);

/* Remove this library from LD_PRELOAD in place (no allocation): the string
 * in environ is edited, so children and exec'd programs run without it.
 * Its entries are known by the library's file name, whatever it is called
 * (`gmtrace run --lib`). */
static void gm_session_unfollow(void)
{
	char *v = getenv("LD_PRELOAD");
	const char *self = gm_session_self_name();
	char *r, *w;
	if (!v || !*self)
		return;
	r = w = v;
	while (*r) {
		char *start, *end;
		while (*r == ' ' || *r == ':')
			r++;
		start = r;
		while (*r && *r != ' ' && *r != ':')
			r++;
		end = r;
		if (end > start) {
			if (!gm_session_entry_is(start, (size_t)(end - start), self)) {
				if (w != v)
					*w++ = ':';
				memmove(w, start, (size_t)(end - start));
				w += end - start;
			}
		}
	}
	*w = 0;
}

static void gm_session_env_keep(void);

/* ---- fork -------------------------------------------------------------- */

int gm_session_forked;
/* gm_session_options as read at the last session's start from an
 * environment with settings in it */
static gm_options_t gm_session_options_read;
int gm_session_options_inherited;

/* 1 when environ holds a GMTRACE_ variable. */
static int gm_session_env_has_settings(void)
{
	size_t i;
	for (i = 0; environ && environ[i]; i++)
		if (strncmp(environ[i], "GMTRACE_", 8) == 0)
			return 1;
	return 0;
}

/* A child that runs unwatched: its parent's chunk, log and (close_files)
 * descriptors let go of untouched, no session. */
static void gm_session_unwatched(gm_thread_t *t, int close_files)
{
	gm_thread_reset(t);
	if (gm_session_log.hdr)
		gm_ring_detach(&gm_session_log, 0);
	if (close_files)
		gm_session_close_files();
	gm_session_agent_running = 0;
	gm_session_started = 0;
	gm_session_stopping = 0;
	gm_session_stopper = 0;
	gm_session_mods_lock = 0;
	gm_session_mods_want = 0;
}

static void gm_session_child(void)
{
	gm_thread_t *t = &gm_thread_self;
	uint32_t parent_threads =
	        gm_session_log.hdr ?
	                __atomic_load_n(&gm_session_log.hdr->nthreads, __ATOMIC_RELAXED) :
	                16384;
	/* the parent's log and capture are not ours: drop them untouched */
	__atomic_store_n(&gm_thread_recording, 0, __ATOMIC_RELEASE);
	if (!gm_session_options.follow_children) {
		/* only the first process is recorded: the child runs unwatched,
		 * with no session (a stop another thread of the parent was in
		 * is not the child's to wait for) */
		gm_session_unwatched(t, 1);
		return;
	}
	gm_thread_reset(t);
	if (gm_session_log.hdr)
		gm_ring_detach(&gm_session_log, 0);
	gm_session_close_files();
	gm_drain_free(&gm_session_drain);
	/* a parent's thread draining at the fork is not in the child */
	__atomic_store_n(&gm_session_helpers, 0, __ATOMIC_RELAXED);
	gm_session_agent_running = 0;
	gm_session_started = 0;
	gm_session_stopping = 0;
	gm_session_stopper = 0;
	gm_session_mods_lock = 0; /* a walk of the parent's other thread is not here */
	gm_session_mods_want = 0;
	t->mods_holding = 0;
	gm_session_nmodules = 0;
	gm_session_known_adds = 0;
	gm_frame_reset(parent_threads);
	gm_pool_reset();
	gm_context_new_session();
	gm_marker_new_session();
	gm_session_forked = 1;
	gm_session_start();
}

void gm_session_clone_child(int files_shared)
{
	/* the parent's log and capture are not ours; no new session either:
	 * clone runs no atfork handler, so the allocators' locks (gmtrace's
	 * own arena's too) may be held by a parent thread that is not here */
	__atomic_store_n(&gm_thread_recording, 0, __ATOMIC_RELEASE);
	/* (a shared table's descriptors are the parent's) */
	gm_session_unwatched(&gm_thread_self, !files_shared);
}

void gm_session_fork_parent(int child_pid)
{
	if (child_pid > 0 && __atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE))
		gm_thread_put(&gm_thread_self, gm_rec_w0((uint64_t)child_pid, gm_rec_fork, 0), 0);
}

/* ---- start / stop ------------------------------------------------------ */

void gm_session_start(void)
{
	gm_thread_t *t = &gm_thread_self;
	ssize_t n;
	int rc, fd;
	if (gm_session_started)
		return;
	gm_session_started = 1;
	t->busy = 1;
	/* read from the environment, also in a fork child (a parent may set a
	 * worker's options with setenv before it forks); but a fork child
	 * whose environment holds no GMTRACE_ setting at all takes its
	 * parent's as they were read: a launcher cleared its environment, and
	 * with it the run's announcement folder */
	gm_session_options_inherited = gm_session_forked && !gm_session_env_has_settings();
	if (!gm_session_options_inherited) {
		gm_options_load(&gm_session_options, gm_session_forked ? NULL : gm_support_warn);
		gm_session_options_read = gm_session_options;
	} else
		gm_session_options = gm_session_options_read;
	if (!gm_session_options.enabled)
		goto off;
	gm_frame_configure();
#ifdef GM_BENCH_COUNTER_CLOCK
	gm_support_warn("a measurement build (GM_BENCH_COUNTER_CLOCK): a counter stands in for the "
	                "clock, and the capture's times mean nothing",
	                0, 0);
#endif
	n = readlink("/proc/self/exe", gm_session_exe, sizeof(gm_session_exe) - 1);
	gm_session_exe[n > 0 ? n : 0] = 0;
	if (gm_mem_init() != 0) {
		gm_session_not_recording("cannot create the profiler's memory arena; not recording",
		                         0, 0);
		goto off;
	}
	if (gm_thread_init() != 0)
		gm_support_warn("no thread-exit hook; thread ends are committed at exit", 0, 0);
	gm_stack_start((unsigned)gm_session_options.stacks, gm_session_options.python_stacks);
	if (gm_stack_depth)
		__atomic_store_n(&gm_event_alloc_level, -1, __ATOMIC_RELAXED);
	if (gm_session_options.chunk_size < 4096 || gm_session_options.chunk_size > (1u << 24) ||
	    (gm_session_options.chunk_size & 4095)) {
		const char *v = getenv("GMTRACE_CHUNK_SIZE");
		if (!gm_session_forked)
			gm_support_warn(
			        "GMTRACE_CHUNK_SIZE: invalid value \"", v ? v : "",
			        "\" (expected a multiple of 4K up to 16M); using the default "
			        "64K");
		gm_session_options.chunk_size = 65536;
	}
	rc = gm_ring_create(&gm_session_log, (uint32_t)getpid(), gm_session_options.ring_size,
	                    (uint32_t)gm_session_options.chunk_size);
	if (rc != 0) {
		/* what /dev/shm has: a log larger than it all, or logs of games
		 * that died filling it */
		struct statvfs sv;
		int room = statvfs("/dev/shm", &sv) == 0 &&
		           (uint64_t)sv.f_bavail * sv.f_frsize >= gm_session_options.ring_size;
		gm_session_not_recording(
		        "cannot create the shared-memory log: ", strerror(-rc),
		        rc == -ENOSPC && room ?
		                " (in /dev/shm: logs of games that died may fill it; `gmtrace "
		                "recover` writes them out and removes them); not recording" :
		        rc == -ENOSPC ? " (/dev/shm has less room than GMTRACE_RING_SIZE: a "
		                        "smaller one fits); not recording" :
		        rc == -EFBIG  ? " (the file-size limit, ulimit -f, is below the smallest "
		                        "log); not recording" :
		        rc == -EINVAL ? " (GMTRACE_RING_SIZE / GMTRACE_CHUNK_SIZE is more than "
		                        "1048576 chunks: a larger GMTRACE_CHUNK_SIZE); not "
		                        "recording" :
		                        "; not recording");
		goto off;
	}
	if ((uint64_t)gm_session_log.hdr->nchunks * gm_session_log.hdr->chunk_bytes <
	    gm_session_options.ring_size / 2)
		gm_support_warn("the file-size limit (ulimit -f) makes the shared-memory log "
		                "smaller than GMTRACE_RING_SIZE: the game may wait for the drainer "
		                "more often",
		                0, 0);
	gm_session_log.hdr->tsc0 = gm_support_tsc();
	gm_session_log.hdr->mono0 = gm_support_mono_ns();
	gm_session_log.hdr->drain_beat_ns = gm_session_log.hdr->mono0;
	gm_session_log.hdr->external = (uint32_t)gm_session_options.drain_external;
	fd = gm_session_create_file();
	if (fd < 0) {
		char why[160];
		size_t wl = 0;
		why[0] = 0;
		gm_support_append(why, sizeof(why), &wl, ": ");
		gm_support_append(why, sizeof(why), &wl,
		                  fd == -ENOTSUP ? "it exists and is not a regular file" :
		                  fd == -EEXIST  ? "it exists, and so do all the names after it "
		                                   "up to ." GM_SESSION_NAMES_LAST :
		                                   strerror(-fd));
		gm_support_append(why, sizeof(why), &wl, "; not recording");
		gm_session_not_recording("cannot create the capture file ", gm_session_capture,
		                         why);
		gm_ring_detach(&gm_session_log, 1);
		goto off;
	}
	gm_support_strlcpy(gm_session_log.hdr->capture_path, gm_session_capture,
	                   sizeof(gm_session_log.hdr->capture_path));
	gm_drain_init(&gm_session_drain, &gm_session_log, fd, 0, gm_session_options.compress,
	              gm_mem_alloc, gm_mem_free);
	gm_drain_watch_cpu(&gm_session_drain, 0);
	gm_session_drain.help = gm_session_drain_help_mode();
	if ((rc = gm_drain_header(&gm_session_drain, (uint32_t)getpid(), gm_session_log.name)) !=
	    0) {
		char why[160];
		size_t wl = 0;
		why[0] = 0;
		gm_support_append(why, sizeof(why), &wl, ": ");
		gm_support_append(why, sizeof(why), &wl, strerror(-rc));
		gm_support_append(why, sizeof(why), &wl, "; not recording");
		gm_session_not_recording("cannot write the capture file ", gm_session_capture, why);
		close(fd);
		unlink(gm_session_capture); /* empty, or a header cut short */
		gm_ring_detach(&gm_session_log, 1);
		goto off;
	}
	gm_drain_clock(&gm_session_drain);
	/* said before the log is announced: `gmtrace run` reads it as it
	 * attaches (set to 0 below if the game's threads cannot drain) */
	gm_session_log.hdr->no_compress = !gm_session_options.compress;
	if (gm_session_options.drain_external)
		gm_session_log.hdr->help_mode = (uint32_t)gm_session_drain.help;
	if (gm_session_options.announce_dir[0] && gm_session_announce() != 0) {
		gm_support_warn("cannot announce the log in ", gm_session_options.announce_dir,
		                "; draining inside the game");
		gm_session_options.drain_external = 0;
		gm_session_log.hdr->external = 0;
	}
	if (gm_session_options.drain_external && !gm_session_options.announce_dir[0]) {
		gm_support_warn(
		        "GMTRACE_DRAIN=external needs GMTRACE_ANNOUNCE_DIR (set by `gmtrace run`); "
		        "draining inside the game",
		        0, 0);
		gm_session_options.drain_external = 0;
		gm_session_log.hdr->external = 0;
	}
	gm_session_drain.fd = fd;
	if (gm_session_options.drain_external) {
		/* `gmtrace run` drains; while its watch finds no core free, the
		 * game's threads drain their own chunks into the capture too
		 * (DRAIN_HELP), packed, never compressed */
		gm_session_drain.compress = 0;
		if (gm_session_drain.help == 0 ||
		    gm_drain_prepare(&gm_session_drain, (uint32_t)gm_session_options.chunk_size) !=
		            0) {
			gm_session_drain.help = 0;
			close(fd);
			gm_session_drain.fd = -1;
		}
		gm_session_log.hdr->help_mode = (uint32_t)gm_session_drain.help;
		fd = -1;
	} else {
		gm_drain_prepare(&gm_session_drain, (uint32_t)gm_session_options.chunk_size);
	}
	gm_session_fd = fd;
	if (!gm_session_options.follow_children)
		gm_session_unfollow();
	else if (!gm_session_forked || gm_session_env_has_settings())
		gm_session_env_keep(); /* (else the parent's, as the options) */

	__atomic_store_n(&gm_thread_recording, 1, __ATOMIC_RELEASE);
	t->busy = 0;
	gm_session_process_record(t);
	gm_session_host_record(t);
	/* the first pressure sample at the start, by the starting thread (the
	 * agent's come one interval apart): the stall totals count from it,
	 * and the start, a game's first loads, is what they should see */
	if (gm_session_options.pressure_ms)
		gm_session_pressure(t);
	/* the level in force from the start, so a capture says it even
	 * before its first frame */
	gm_thread_put(t, gm_rec_w0((uint64_t)gm_event_level, gm_rec_level, 0), 0);
	gm_pool_restate(t);
	gm_budget_start(t);
	gm_session_modules_poll(t);
	t->busy = 1;
	if (gm_session_agent_start() != 0)
		gm_support_warn("cannot start the drainer thread; the capture is written at exit",
		                0, 0);
	if (!gm_session_atfork_done) {
		/* the owner table first, then the session: handlers registered
		 * later run their child part later */
		pthread_atfork(gm_owner_fork_prepare, gm_owner_fork_done, gm_owner_fork_done);
		pthread_atfork(NULL, NULL, gm_session_child);
		gm_session_atfork_done = 1;
	}
	if (!gm_session_options.quiet)
		gm_support_warn("recording to ", gm_session_capture, "");
	t->busy = 0;
	return;
off:
	t->busy = 0;
}

/* Whether the session is this process's: not in a vfork child, whose
 * _exit or exec runs on its parent's memory (the session, the log and the
 * capture are the parent's, which goes on). */
static int gm_session_ours(void)
{
	return !gm_session_log.hdr || gm_session_log.hdr->pid == (uint32_t)getpid();
}

void gm_session_stop(int status, int known)
{
	gm_thread_t *t = &gm_thread_self;
	int idle = 0;
	if (!gm_session_started || !gm_session_ours())
		return;
	/* inside gmtrace on this thread: a signal handler that ends the process
	 * (exit, _exit, quick_exit) interrupted a slow path, which may hold the
	 * private arena's lock or the drain lock. Stopping here could wait for
	 * good; the log stays for `gmtrace recover` (or `gmtrace run`) instead */
	if (t->busy && !gm_session_stopper)
		return;
	/* never recording, and nobody stopping: nothing to end */
	if (!__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE) &&
	    !__atomic_load_n(&gm_session_stopping, __ATOMIC_ACQUIRE))
		return;
	if (!__atomic_compare_exchange_n(&gm_session_stopping, &idle, 1, 0, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_ACQUIRE)) {
		/* another thread stops the session (two threads in exit(), or
		 * _exit() during another's exit): the process must not end
		 * before that stop has finished */
		if (idle == 1 && !gm_session_stopper)
			gm_session_exit_wait();
		return;
	}
	gm_session_stopper = 1;
	if (gm_stack_not_kept()) {
		char n[24];
		gm_support_u64(n, gm_stack_not_kept());
		gm_support_warn("GMTRACE_STACKS: the stack table was full: ", n,
		                " allocations carry their whole stack in the capture (a larger "
		                "capture; fewer frames in GMTRACE_STACKS keep more stacks)");
	}
	if (gm_pystack_not_kept()) {
		char n[24];
		gm_support_u64(n, gm_pystack_not_kept());
		gm_support_warn("GMTRACE_STACKS: the Python code table was full: ", n,
		                " Python frames name no function (code id 0), only their line");
	}
	gm_frame_tail(t);
	gm_frame_cost(t);
	gm_budget_exit(t);
	/* with stacks, the modules loaded since the agent's last walk (up to
	 * 50 ms ago: a plugin loaded just before the end) are named too */
	if (gm_stack_depth != 0)
		gm_session_modules_poll(t);
	/* x: 1 when the status is not the process's (0, as in captures before
	 * the field, when it is); the status as the parent sees it, 8 bits */
	gm_thread_put(t,
	              gm_rec_w0((uint64_t)((uint32_t)status & 0xffu), gm_rec_exit,
	                        known ? 0u : GM_EXIT_STATUS_UNKNOWN),
	              __atomic_load_n(&gm_session_log.hdr->stalls, __ATOMIC_RELAXED));
	t->busy = 1;
	/* this thread goes no further than the process's end: a record of its
	 * own that a signal handler interrupted, the handler now ending the
	 * process, is never written; its slot must not end the chunk before
	 * the handler's records and this exit */
	gm_thread_mend(t);
	gm_thread_flush(t);
	__atomic_store_n(&gm_thread_recording, 0, __ATOMIC_RELEASE);
	gm_session_agent_end();
	if (gm_session_options.drain_external)
		gm_session_takeover(gm_support_mono_ns(), 1);
	if (!gm_session_options.drain_external) {
		gm_session_drain_last();
		gm_drain_free(&gm_session_drain);
		gm_session_close_files();
		__atomic_store_n(&gm_session_log.hdr->finished, 1, __ATOMIC_RELEASE);
		/* the name goes, the mapping stays: the game's other threads may
		 * still be running (exit() from the main loop while a streaming
		 * thread allocates) and writing records, now dropped, into their
		 * chunks; the process's end unmaps it */
		if (gm_session_drain.error == 0)
			shm_unlink(gm_session_log.name);
		else
			gm_support_warn("the capture could not be written whole; the log stays in "
			                "/dev/shm for `gmtrace recover`",
			                0, 0);
	} else {
		/* no thread of ours writes a block once `gmtrace run` sees the end */
		gm_session_helpers_end();
		__atomic_store_n(&gm_session_log.hdr->finished, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&gm_session_stopping, 2, __ATOMIC_RELEASE);
	t->busy = 0;
}

void gm_session_exit_wait(void)
{
	struct timespec ms = {0, 1000000};
	int saved = errno;
	if (!gm_session_started || gm_session_stopper || !gm_session_ours())
		return;
	/* (this thread's chunk is not committed here: called from a signal
	 * handler it could commit a record the interrupted code had claimed
	 * and not written yet; the last drain takes what a chunk still held
	 * holds, up to its first unwritten record) */
	for (int k = 0; k < GM_SESSION_EXIT_WAIT_MS; k++) {
		int s = __atomic_load_n(&gm_session_stopping, __ATOMIC_ACQUIRE);
		if (s == 2 || (s == 0 && !__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE)))
			break;
		nanosleep(&ms, NULL);
	}
	errno = saved;
}

int gm_session_drain_help(void)
{
	/* Only while no core is free (the watch, log/drain.h), with the
	 * in-game drainer, and never waiting: a busy lock means another
	 * thread drains. Otherwise the agent drains, and a producer facing a
	 * full log waits (the lossless policy; the caller counts it). */
	gm_thread_t *t = &gm_thread_self;
	int helped = 0;
	if (__atomic_load_n(&gm_session_agent_running, __ATOMIC_ACQUIRE) &&
	    pthread_equal(pthread_self(), gm_session_agent))
		return gm_session_agent_drain(gm_support_mono_ns()) > 0;
	if (gm_session_drain.fd < 0 || !t->os_tid || t->no_help ||
	    !gm_drain_helping(&gm_session_drain))
		return 0;
	/* counted in, then looking again: the last drain turns helping off,
	 * then waits for the count (gm_session_helpers_end), so a thread that
	 * still sees it on drains before that last drain starts */
	__atomic_add_fetch(&gm_session_helpers, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&gm_session_drain.help, __ATOMIC_SEQ_CST) &&
	    gm_ring_drain_trylock(&gm_session_log, t->os_tid)) {
		/* the last drain stops waiting after 100 ms: a thread held up
		 * longer than that between the two finds helping off here */
		long got = __atomic_load_n(&gm_session_drain.help, __ATOMIC_ACQUIRE) ?
		                   gm_drain_help(&gm_session_drain, t->index) :
		                   0;
		if (got < 0 && gm_session_drain.error)
			__atomic_store_n(&gm_session_drain.help, 0, __ATOMIC_RELAXED);
		/* nothing of ours to drain: say so, so that a thread waiting for
		 * a chunk sleeps and leaves the lock to the drainer, which takes
		 * the other threads' chunks */
		helped = got > 0;
		gm_ring_drain_unlock(&gm_session_log);
	}
	__atomic_sub_fetch(&gm_session_helpers, 1, __ATOMIC_SEQ_CST);
	return helped;
}

void gm_session_exec_failed(void)
{
	int saved = errno;
	if (gm_session_log.hdr && gm_session_ours())
		__atomic_store_n(&gm_session_log.hdr->exec_tried, 0, __ATOMIC_RELEASE);
	if (__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE) && gm_session_drain.fd >= 0 &&
	    !gm_session_drain.error)
		__atomic_store_n(&gm_session_drain.help, gm_session_drain_help_mode(),
		                 __ATOMIC_RELEASE);
	errno = saved;
}

/* ---- the environment of an exec'd program ------------------------------ */

/* FOLLOW_CHILDREN keeps the preload in environ; a program exec'd with an
 * environment of the caller's making (`env -i`, a launcher's execve with a
 * list of its own) lost it, and with it the run's settings, and ran
 * unrecorded without a word. What such a list lacks goes along: this
 * library in LD_PRELOAD (before the list's own), and each GMTRACE_ variable
 * of this process the list does not set. No allocation (a vfork child may
 * exec): the caller gives the room, sized by gm_session_exec_env_room. */

/* What goes along, taken at the session's start (a launcher may clear its
 * own environment before it execs: `env -i`): the LD_PRELOAD entry naming
 * this library, and the GMTRACE_ variables, NUL-terminated one after the
 * other in gm_session_env_text. */
#define GM_SESSION_ENV_MAX 64
#define GM_SESSION_ENV_ROOM 1024 /* entries of a new list, at most (8 KiB) */
#define GM_SESSION_ENV_TEXT 4096 /* bytes of its LD_PRELOAD entry, at most */
static char gm_session_env_text[8192];
static const char *gm_session_env_vars[GM_SESSION_ENV_MAX];
static size_t gm_session_env_nvars;
static const char *gm_session_env_lib; /* NULL: not preloaded by LD_PRELOAD */

static const char *gm_session_env_entry(const char *value, const char *name);

/* The file name of this library (its last path component), which its
 * LD_PRELOAD entry holds whatever it is called (`gmtrace run --lib`);
 * "" when the loader cannot say. */
static char gm_session_env_self[256];

static const char *gm_session_self_name(void)
{
	Dl_info self;
	if (!gm_session_env_self[0] && dladdr((void *)gm_session_self_name, &self) &&
	    self.dli_fname) {
		const char *slash = strrchr(self.dli_fname, '/');
		gm_support_strlcpy(gm_session_env_self, slash ? slash + 1 : self.dli_fname,
		                   sizeof(gm_session_env_self));
	}
	return gm_session_env_self;
}

static void gm_session_env_keep(void)
{
	const char *v = getenv("LD_PRELOAD"), *at;
	size_t used = 0, i, len;
	gm_session_env_lib = NULL;
	gm_session_env_nvars = 0;
	if (!v || !*gm_session_self_name() || !(at = gm_session_env_entry(v, gm_session_env_self)))
		return;
	len = strcspn(at, ": ");
	if (len + 1 > sizeof(gm_session_env_text))
		return;
	memcpy(gm_session_env_text, at, len);
	gm_session_env_text[len] = 0;
	used = len + 1;
	for (i = 0; environ && environ[i] && gm_session_env_nvars < GM_SESSION_ENV_MAX; i++) {
		len = strlen(environ[i]) + 1;
		if (strncmp(environ[i], "GMTRACE_", 8) != 0 || !strchr(environ[i], '=') ||
		    used + len > sizeof(gm_session_env_text))
			continue;
		memcpy(gm_session_env_text + used, environ[i], len);
		gm_session_env_vars[gm_session_env_nvars++] = gm_session_env_text + used;
		used += len;
	}
	gm_session_env_lib = gm_session_env_text;
}

/* Whether the LD_PRELOAD entry [entry, entry + len) names a file called
 * name (in any folder). */
static int gm_session_entry_is(const char *entry, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	return len >= nlen && memcmp(entry + len - nlen, name, nlen) == 0 &&
	       (len == nlen || entry[len - nlen - 1] == '/');
}

/* The entry in value (an LD_PRELOAD list: ':' or ' ' between entries) whose
 * file name is name, or NULL. */
static const char *gm_session_env_entry(const char *value, const char *name)
{
	const char *at = value;
	while (*at) {
		size_t len = strcspn(at, ": ");
		if (gm_session_entry_is(at, len, name))
			return at;
		at += len;
		at += strspn(at, ": ");
	}
	return NULL;
}

/* The entry named like var (NAME=..., the '=' included) in list, or NULL. */
static char *gm_session_env_find(char *const list[], const char *var)
{
	size_t i, nlen = (size_t)(strchr(var, '=') - var) + 1;
	for (i = 0; list && list[i]; i++)
		if (strncmp(list[i], var, nlen) == 0)
			return list[i];
	return NULL;
}

size_t gm_session_exec_env_room(char *const envp[], size_t *text)
{
	size_t n = 0, add = 0, i;
	char *pre;
	*text = 1;
	if (!gm_session_started || !gm_session_options.follow_children || !gm_session_env_lib)
		return 0;
	while (envp && envp[n])
		n++;
	for (i = 0; i < gm_session_env_nvars; i++)
		add += !gm_session_env_find(envp, gm_session_env_vars[i]);
	pre = gm_session_env_find(envp, "LD_PRELOAD=");
	if (add == 0 && pre && gm_session_env_entry(pre + 11, gm_session_env_self))
		return 0;
	*text = 11 + strlen(gm_session_env_lib) + 1 + (pre ? strlen(pre + 11) : 0) + 1;
	/* the new list is on the caller's stack: an environment of thousands
	 * of entries (or a preload list of pages) goes as it is, where it
	 * could overflow a small thread stack the C library's exec does not */
	if (n + add + 2 > GM_SESSION_ENV_ROOM || *text > GM_SESSION_ENV_TEXT) {
		static int said;
		if (!(pre && gm_session_env_entry(pre + 11, gm_session_env_self)) &&
		    !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
			gm_support_warn("an exec with an environment of over 1,000 entries (or a "
			                "preload list of over 4 KiB) of its own, without this "
			                "library: the program runs unrecorded",
			                0, 0);
		*text = 1;
		return 0;
	}
	return n + add + 2;
}

char *const *gm_session_exec_env(char *const envp[], char **out, size_t room, char *text,
                                 size_t ntext)
{
	size_t n = 0, i;
	char *pre = gm_session_env_find(envp, "LD_PRELOAD=");
	if (room == 0 || !gm_session_env_lib)
		return envp;
	if (pre && gm_session_env_entry(pre + 11, gm_session_env_self))
		text = pre;
	else
		snprintf(text, ntext, "LD_PRELOAD=%s%s%s", gm_session_env_lib,
		         pre && pre[11] ? ":" : "", pre ? pre + 11 : "");
	for (i = 0; envp && envp[i] && n + 2 < room; i++)
		if (envp[i] != pre)
			out[n++] = envp[i];
	out[n++] = text;
	for (i = 0; i < gm_session_env_nvars && n + 1 < room; i++)
		if (!gm_session_env_find(envp, gm_session_env_vars[i]))
			out[n++] = (char *)gm_session_env_vars[i];
	out[n] = NULL;
	return out;
}

/* gm_support_secure_bit of the program at path; 0 when it is not one. */
static unsigned gm_session_exec_secure(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? gm_support_secure_bit(&st) : 0;
}

void gm_session_exec_check(const char *file, int search)
{
	char path[4096];
	const char *dirs, *p;
	unsigned found = 0;
	if (!file || !*file || !gm_session_started || !gm_session_options.follow_children ||
	    !__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE))
		return;
	if (!search || strchr(file, '/')) {
		found = gm_session_exec_secure(file);
		snprintf(path, sizeof(path), "%s", file);
	} else {
		/* the first entry of PATH where it is, as execvp takes it (no
		 * allocation: this may run in a vfork child) */
		dirs = getenv("PATH");
		for (p = dirs && *dirs ? dirs : "/bin:/usr/bin"; !found && p;) {
			const char *colon = strchr(p, ':');
			size_t n = colon ? (size_t)(colon - p) : strlen(p);
			int len = snprintf(path, sizeof(path), "%.*s%s%s", (int)n, p, n ? "/" : "",
			                   file);
			if (len > 0 && (size_t)len < sizeof(path) && access(path, X_OK) == 0) {
				found = gm_session_exec_secure(path);
				break;
			}
			p = colon ? colon + 1 : NULL;
		}
	}
	if (found)
		gm_support_warn(
		        path,
		        found == S_ISGID ?
		                " is set-group-ID: the dynamic loader ignores LD_PRELOAD for "
		                "it, so it will not be recorded; run a copy of it without the "
		                "bit (cp, then chmod g-s)" :
		                " is set-user-ID: the dynamic loader ignores LD_PRELOAD for "
		                "it, so it will not be recorded; run a copy of it without the "
		                "bit (cp, then chmod u-s)",
		        0);
}

void gm_session_exec(void)
{
	gm_thread_t *t = &gm_thread_self;
	if (!__atomic_load_n(&gm_thread_recording, __ATOMIC_ACQUIRE) || !gm_session_ours())
		return;
	gm_thread_put(t, gm_rec_w0(0, gm_rec_exec, 0), 0);
	t->busy = 1;
	gm_thread_flush(t);
	__atomic_store_n(&gm_session_log.hdr->exec_tried, 1, __ATOMIC_RELEASE);
	if (!gm_session_options.drain_external) {
		gm_session_drain_last();
		/* the segment's name goes now: after a successful exec nobody
		 * would remove it. If exec fails we go on with the mapping. */
		shm_unlink(gm_session_log.name);
	} else {
		/* no thread of ours is cut halfway through a block */
		gm_session_helpers_end();
	}
	t->busy = 0;
}

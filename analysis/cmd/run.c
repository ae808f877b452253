/* run.c - gmtrace run: launch a game under gmtrace and drain its logs
 *
 * The program (and every process it starts, unless --no-follow) runs with
 * libgmtrace preloaded. Each process announces its shared-memory log in a
 * private folder; this command attaches to each log and drains it from
 * outside the game (--drain external, the default), so a game that crashes
 * loses nothing. With --drain internal the game drains itself and this
 * command only recovers what a dead process left behind. At the end it
 * lists every capture and exits with the program's status.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../interpose/support/options.h"
#include "../../interpose/support/support.h"
#include "../../interpose/log/drain.h"
#include "../log/attach.h"
#include "../log/compact.h"
#include "../../interpose/log/format.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"
#include "args.h"
#include "cmd.h"
#include "interpose/budget/budgetfile.h"
#include "platforms/host.h"
#include "platforms/profile.h"

#define GM_RUN_MAX 1024

typedef struct gm_run_proc {
	char ann[256]; /* announcement file name */
	gm_attach_t log;
	int attached;
	int failed;
	int gave_up;         /* its capture could not be written: left to the game */
	uint64_t seen_ns;    /* when the announcement appeared */
	uint64_t partial_ns; /* last pass that took what threads still hold */
	uint64_t maps_ns;    /* last look at its mappings (gm_run_exec_gone) */
	int finished;        /* its session ended (exit): its log said so at the close */
} gm_run_proc_t;

static void gm_run_usage(FILE *f)
{
	size_t i;
	fprintf(f,
	        "usage: gmtrace run [OPTIONS] [--] PROGRAM [ARGS...]\n"
	        "\n"
	        "Run PROGRAM with libgmtrace preloaded and write one capture per process\n"
	        "(PROGRAM, and the processes it starts: launcher scripts, helpers).\n"
	        "\n"
	        "  --output PATTERN   capture path; %%p = pid, %%e = program, %%%% = %% (default ./%%e.%%p.gmt);\n"
	        "                     a relative one is from this folder, wherever the game goes\n"
	        "  --no-follow        record only the first process\n"
	        "  --no-compact       leave blocks stored raw under load as they are\n"
	        "  --pymalloc         Python: keep pymalloc (default: PYTHONMALLOC=malloc, so\n"
	        "                     every Python object allocation is recorded)\n"
	        "  --drain MODE       external (default: this command drains the logs, so a\n"
	        "                     crash loses nothing) or internal (a thread in the game)\n"
	        "  --lib PATH         libgmtrace.so to preload (default: next to gmtrace)\n"
	        "  --json             list the captures as JSON on stdout, after the game's\n"
	        "                     own output there\n"
	        "  --json-file FILE   the same list into FILE only (for a game that prints)\n"
	        "  --<option> VALUE   any library option below (same as GMTRACE_<OPTION>)\n"
	        "\nLibrary options (defaults: the library's; --output and --drain are above):\n");
	for (i = 0; i < gm_options_count; i++) {
		/* run's own defaults differ from the library's (and show above) */
		if (!strcmp(gm_options_table[i].name, "output") ||
		    !strcmp(gm_options_table[i].name, "drain"))
			continue;
		fprintf(f, "  --%-20s %s (default %s)\n", gm_options_table[i].name,
		        gm_options_table[i].help, gm_options_table[i].def);
	}
	fprintf(f, "\nExit status: the program's (128+N if killed by signal N); 127 no such\n"
	           "program, 126 a program that cannot be run; 2 on bad usage; 1 when the\n"
	           "program exited 0 but the capture list (--json) could not be written. A\n"
	           "SIGTERM or SIGHUP sent to gmtrace run is passed on to the program.\n");
}

/* The capture names (--output, or GMTRACE_OUTPUT from the environment)
 * checked before the game starts, as --json-file is: a folder that is not
 * there or cannot be written, or a name that is there and is no regular
 * file (/dev/null), would have the game run unrecorded. A folder with an
 * escape in it (%e) is known only once the program is. Returns 0 or -1
 * with one line said. */
static int gm_run_output_check(int given)
{
	const char *out = getenv("GMTRACE_OUTPUT"), *slash;
	char dir[PATH_MAX];
	struct stat st;
	if (!out)
		return 0;
	if (!*out) {
		if (!given)
			return 0; /* an empty variable: the default, as the library takes it */
		fprintf(stderr, "gmtrace run: --output needs a file name\n");
		return -1;
	}
	slash = strrchr(out, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == out)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - out), out);
	if (!strchr(dir, '%')) {
		const char *why = NULL;
		if (stat(dir, &st) != 0)
			why = strerror(errno);
		else if (!S_ISDIR(st.st_mode))
			why = "not a folder";
		else if (access(dir, W_OK | X_OK) != 0)
			why = strerror(errno);
		if (why) {
			fprintf(stderr, "gmtrace run: cannot write captures in %s: %s\n", dir, why);
			return -1;
		}
	}
	if (!strchr(out, '%') && stat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr, "gmtrace run: cannot write a capture to %s: not a regular file\n",
		        out);
		return -1;
	}
	return 0;
}

/* Find libgmtrace.so: --lib, $GMTRACE_LIB, then beside this executable in a
 * build tree (../interpose/) or an install (../lib/). */
static int gm_run_find_lib(const char *given, char *out, size_t cap)
{
	char self[PATH_MAX], *slash;
	static const char *rel[] = {"/../interpose/libgmtrace.so", "/../lib/libgmtrace.so",
	                            "/libgmtrace.so"};
	ssize_t n;
	size_t i;
	if (!given)
		given = getenv("GMTRACE_LIB");
	if (given) {
		if (!realpath(given, out))
			return -errno;
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		char cand[PATH_MAX];
		snprintf(cand, sizeof(cand), "%s%s", self, rel[i]);
		if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < cap)
			return 0;
	}
	return -ENOENT;
}

/* Resolve a command name through PATH the way execvp does. */
static int gm_run_which(const char *cmd, char *out, size_t cap)
{
	const char *path = getenv("PATH");
	struct stat st;
	if (!*cmd)
		return -ENOENT;
	if (strchr(cmd, '/')) {
		snprintf(out, cap, "%s", cmd);
		if (stat(out, &st) != 0)
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		return access(out, X_OK) == 0 ? 0 : -errno;
	}
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		snprintf(out, cap, "%.*s/%s", (int)len, len ? path : ".", cmd);
		if (access(out, X_OK) == 0 && stat(out, &st) == 0 && !S_ISDIR(st.st_mode))
			return 0;
		path += len + (colon ? 1 : 0);
	}
	return -ENOENT;
}

/* A Python interpreter, or a script whose #! line names one. */
static int gm_run_is_python(const char *exe)
{
	const char *base = strrchr(exe, '/');
	char line[256];
	FILE *f;
	int yes = 0;
	base = base ? base + 1 : exe;
	if (strncmp(base, "python", 6) == 0)
		return 1;
	f = fopen(exe, "r");
	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f) && line[0] == '#' && line[1] == '!' &&
	    strstr(line, "python"))
		yes = 1;
	fclose(f);
	return yes;
}

static uint64_t gm_run_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Why process pid recorded nothing, as libgmtrace left it in
 * <dir>/<pid>.off (its warning's words, one line); "" when it did not. */
static void gm_run_off_reason(const char *dir, pid_t pid, char *out, size_t cap)
{
	char path[PATH_MAX];
	long n;
	snprintf(path, sizeof(path), "%s/%d.off", dir, (int)pid);
	n = gm_support_read_file(path, out, cap - 1);
	out[n > 0 ? n : 0] = 0;
	out[strcspn(out, "\n")] = 0;
}

/* Pick up new announcements. */
static void gm_run_scan(const char *dir, gm_run_proc_t *procs, int *nprocs)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		int i, known = 0;
		char path[PATH_MAX], body[2200], *nl;
		FILE *f;
		if (len < 5 || strcmp(e->d_name + len - 4, ".ann") != 0)
			continue;
		for (i = 0; i < *nprocs; i++)
			if (strcmp(procs[i].ann, e->d_name) == 0)
				known = 1;
		if (known || *nprocs >= GM_RUN_MAX || len >= sizeof(procs[0].ann))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		len = fread(body, 1, sizeof(body) - 1, f);
		fclose(f);
		body[len] = 0;
		/* the log's name, a newline, the capture's path (which may hold
		 * newlines of its own: a program's name), a newline */
		nl = strchr(body, '\n');
		if (!nl || len < 2 || body[len - 1] != '\n')
			continue;
		*nl = 0;
		body[len - 1] = 0;
		{
			gm_run_proc_t *p = &procs[*nprocs];
			char err[512];
			char *cap = nl + 1;
			memset(p, 0, sizeof(*p));
			snprintf(p->ann, sizeof(p->ann), "%s", e->d_name);
			p->seen_ns = gm_run_now();
			int rc = gm_attach_open(&p->log, body, cap, err, sizeof(err));
			if (rc == 0) {
				p->attached = 1;
			} else {
				p->failed = 1;
				snprintf(p->log.capture, sizeof(p->log.capture), "%s", cap);
				p->log.pid = gm_ring_name_pid(body); /* (in the log's name) */
				/* a log gone before we looked: a short process whose
				 * capture is complete (internal drain), no error */
				if (rc != -ENOENT || access(cap, F_OK) != 0)
					fprintf(stderr, "gmtrace: cannot attach: %s\n", err);
			}
			(*nprocs)++;
		}
	}
	closedir(d);
}

/* 1 (stop) at the line naming the log's segment. */
static int gm_run_maps_line(const char *text, void *name)
{
	return strstr(text, name) != NULL;
}

/* 1 when p's process runs on without its log mapped: it exec'd a program
 * that is not recorded (a static binary, one given an environment of its
 * own), which would keep the run waiting for as long as it runs. A
 * successful exec leaves no finished mark (a failed one records on), and a
 * recorded new image announces itself. Looked at every 250 ms at most,
 * once the program the run started is done, and only for a process whose
 * log says it tried an exec (the list of a game's mappings may be long). */
static int gm_run_exec_gone(gm_run_proc_t *p)
{
	const char *name = p->log.ring.name[0] == '/' ? p->log.ring.name + 1 : p->log.ring.name;
	uint64_t now = gm_run_now();
	unsigned long lines;
	if (!*name || now - p->maps_ns < 250000000ull ||
	    !__atomic_load_n(&p->log.ring.hdr->exec_tried, __ATOMIC_ACQUIRE))
		return 0;
	p->maps_ns = now;
	/* (an empty list is no answer: a process whose main thread ended
	 * with pthread_exit, its other threads recording on, reads empty;
	 * one that cannot be read is gone: gm_attach_ended says so) */
	return gm_support_proc_maps((int)p->log.pid, gm_run_maps_line, (void *)name, &lines) == 0 &&
	       lines > 0;
}

/* A log is over when its process said so, is gone, or exec'd (a later
 * announcement from the same pid). */
static int gm_run_over(gm_run_proc_t *procs, int n, int i, int root_done)
{
	int j;
	if (gm_attach_ended(&procs[i].log))
		return 1;
	for (j = i + 1; j < n; j++)
		if (procs[j].attached && procs[j].log.pid == procs[i].log.pid)
			return 1;
	return root_done && gm_run_exec_gone(&procs[i]);
}

static void gm_run_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (d) {
		while ((e = readdir(d)) != NULL) {
			char path[PATH_MAX];
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

/* Records in a finished capture, for the listing: the sum of its blocks'
 * record bytes / 16, read from the block headers only (reading the whole
 * capture back would make this process as big as the capture). */
static void gm_run_describe(const char *path, uint64_t *records, uint64_t *bytes)
{
	gm_file_header_t h;
	gm_block_t b;
	struct stat st;
	off_t off;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	*records = 0;
	*bytes = 0;
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0)
		*bytes = (uint64_t)st.st_size;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) || h.header_bytes < sizeof(h)) {
		close(fd);
		return;
	}
	for (off = h.header_bytes; pread(fd, &b, sizeof(b), off) == (ssize_t)sizeof(b);
	     off += (off_t)sizeof(b) + b.stored_bytes) {
		if (b.magic != GM_BLOCK_MAGIC)
			break;
		if (b.kind != gm_block_clock)
			*records += b.raw_bytes / GM_REC_UNIT;
	}
	close(fd);
}

/* Limits that are legal but likely a slip, one line each: a hard limit
 * above the parent's (a parent counts its children, so its own hard limit is
 * reached first and the child's never is); a target without a soft limit
 * (the target is where a frame end's eviction over soft stops: it does
 * nothing then); a limit of 2^63 bytes or more (it means none). what:
 * "--budgets" or "--platform". */
static void gm_run_limit_notes(const char *what, const char *path, const gm_budget_def_t *defs,
                               int n)
{
	for (int i = 0; i < n; i++) {
		if (defs[i].target && !defs[i].soft)
			fprintf(stderr,
			        "gmtrace run: %s: %s: node '%s' has a target but no soft limit: the "
			        "target does nothing (it is where an eviction at a frame end over the "
			        "soft limit stops)\n",
			        what, path, defs[i].name);
		if (defs[i].hard >= 1ull << 63 || defs[i].soft >= 1ull << 63)
			fprintf(stderr,
			        "gmtrace run: %s: %s: node '%s' has a limit of 8 EiB (2^63 bytes) or "
			        "more, which means no limit\n",
			        what, path, defs[i].name);
	}
	for (int i = 0; i < n; i++)
		for (int k = 0; k < n && defs[i].parent[0]; k++)
			if (strcmp(defs[k].name, defs[i].parent) == 0 && defs[k].hard &&
			    defs[i].hard > defs[k].hard) {
				char a[GM_TEXT_MAX], b[GM_TEXT_MAX];
				fprintf(stderr,
				        "gmtrace run: %s: %s: node '%s' has a hard limit of %s, "
				        "above the %s of its parent '%s', which is reached first\n",
				        what, path, defs[i].name,
				        gm_text_size(a, sizeof(a), defs[i].hard),
				        gm_text_size(b, sizeof(b), defs[k].hard), defs[k].name);
			}
}

/* --budgets FILE (or GMTRACE_BUDGETS): read before the game starts, as a
 * platform profile is: a broken file is one clear error here, not a game
 * that runs unbudgeted behind one warning (and a budgets --check that
 * passes for want of nodes); the game gets the file's absolute path, so
 * it finds it from whatever folder it moves to. Under a platform the
 * profile's budgets are the ones (the library says the file is ignored). */
static int gm_run_budgets(void)
{
	static gm_budget_def_t defs[GM_BUDGET_MAX_NODES];
	const char *path = getenv("GMTRACE_BUDGETS"), *platform = getenv("GMTRACE_PLATFORM");
	char real[PATH_MAX], err[600];
	int n = 0, strict = 0;
	if (!path || !*path || (platform && *platform))
		return 0;
	if (gm_budgetfile_load(path, defs, GM_BUDGET_MAX_NODES, &n, &strict, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "gmtrace run: --budgets: %s\n", err);
		return -1;
	}
	gm_run_limit_notes("--budgets", path, defs, n);
	if (realpath(path, real))
		setenv("GMTRACE_BUDGETS", real, 1);
	return 0;
}

/* --platform NAME (or GMTRACE_PLATFORM): find and check the profile before
 * the game starts, so a typo is one clear error here rather than a warning
 * inside the game; the game gets the profile's absolute path. */
static int gm_run_platform(void)
{
	static gm_platform_t p;
	const char *name = getenv("GMTRACE_PLATFORM");
	char path[GM_PLATFORM_PATH], real[PATH_MAX], err[600], size[32];
	if (!name || !*name)
		return 0;
	if (gm_platform_find(name, path, sizeof(path), err, sizeof(err)) != 0 ||
	    gm_platform_load(path, &p, err, sizeof(err)) != 0) {
		fprintf(stderr, "gmtrace run: --platform: %s\n", err);
		return -1;
	}
	if (realpath(path, real))
		setenv("GMTRACE_PLATFORM", real, 1);
	fprintf(stderr, "gmtrace run: under platform %s (%s):", p.name, p.title);
	for (int k = 0; k < p.nbanks; k++) {
		gm_text_size(size, sizeof(size), p.banks[k].capacity.bytes);
		fprintf(stderr, "%s bank %s %s", k ? "," : "", p.banks[k].name, size);
	}
	fprintf(stderr, ", %d budget nodes\n", p.ndefs - p.nbanks);
	gm_run_limit_notes("--platform", path, p.defs, p.ndefs);
	/* the machine may hold less than the platform: say so before the game
	 * runs into it (allocations then fail, or the kernel kills the game,
	 * before the banks are full) */
	{
		gm_host_t host;
		int which;
		uint64_t lim, avail;
		char have[32], want[32];
		gm_host_read(&host, "");
		lim = gm_host_limit(&host, &which);
		avail = (host.known & GM_HOST_MEM_AVAILABLE) ? host.v[gm_host_mem_available] :
		                                               GM_HOST_UNLIMITED;
		gm_text_size(want, sizeof(want), p.available.bytes);
		if (which >= 0 && lim < p.available.bytes) {
			gm_text_size(have, sizeof(have), lim);
			fprintf(stderr,
			        "gmtrace run: warning: this machine's %s is %s, less than the %s "
			        "%s holds for a game: the game may run out before its banks do\n",
			        gm_host_names[which], have, want, p.title);
		} else if (avail < p.available.bytes) {
			gm_text_size(have, sizeof(have), avail);
			fprintf(stderr,
			        "gmtrace run: warning: this machine has %s available, less than the "
			        "%s %s holds for a game\n",
			        have, want, p.title);
		}
	}
	return 0;
}

/* The capture list of a run that started no program: empty, so that a
 * script reading --json or --json-file finds a list either way. */
static void gm_run_json_none(FILE *jf, int json)
{
	gm_json_t j;
	if (!json)
		return;
	gm_json_init(&j, jf, 0);
	gm_json_object_begin(&j);
	gm_json_key(&j, "captures");
	gm_json_array_begin(&j);
	gm_json_array_end(&j);
	gm_json_object_end(&j);
	gm_json_finish(&j);
	if (jf != stdout)
		fclose(jf);
}

/* The game, for gm_run_pass_on. */
static volatile pid_t gm_run_child;

/* 1 when process p is the game or one of its descendants: its parents
 * walked up through /proc (gm_support_proc_stat: safe in a handler). */
static int gm_run_in_game(pid_t p, pid_t game)
{
	int k;
	for (k = 0; k < 64 && p > 1; k++) {
		char state;
		long threads, ppid = 0;
		/* (the run is the subreaper of the game's processes: one whose
		 * parent is the run is the game's, an orphan of it) */
		if (p == game || (k > 0 && p == getpid()))
			return 1;
		if (gm_support_proc_stat((int)p, &state, &threads, &ppid) != 0)
			return 0;
		p = (pid_t)ppid;
	}
	return 0;
}

/* SIGTERM or SIGHUP to the run: to the game (kill is async-signal-safe).
 * One the game sent (its kill(0, sig) to its process group, the run's
 * too) reached the game already: passed on, the game got it twice, and a
 * second SIGTERM is "quit now" to many. */
static void gm_run_pass_on(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	pid_t game = gm_run_child;
	(void)uc;
	if (game > 0 &&
	    !(si && si->si_code == SI_USER && si->si_pid > 0 && gm_run_in_game(si->si_pid, game)))
		kill(game, sig);
	errno = saved;
}

int gm_cmd_run(int argc, char **argv)
{
	gm_options_t check;
	char lib[PATH_MAX], exe[PATH_MAX], dir[] = "/tmp/gmtrace-run.XXXXXX", preload[PATH_MAX * 2];
	char off_reason[1024];
	const char *libarg = NULL, *drain = "external";
	int i, json = 0, follow = 1, status = 0, nprocs = 0, child_done = 0, rc, compact = 1;
	int left = 0, list_lost = 0, output_given = 0;
	uint64_t quiet_ns = 0; /* since when the program is done and every log over */
	int pymalloc = 0;
	const char *json_file = NULL;
	FILE *jf = stdout;
	static gm_run_proc_t procs[GM_RUN_MAX];
	struct stat st;
	pid_t child;
	struct sigaction ign, fwd, old_int, old_quit, old_term, old_hup;

	memset(&check, 0, sizeof(check));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		char name[64];
		const char *eq;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			gm_run_usage(stdout);
			return GM_CMD_OK;
		}
		if (strcmp(a, "--json") == 0) {
			json = 1;
			continue;
		}
		if (strcmp(a, "--json-file") == 0 || strncmp(a, "--json-file=", 12) == 0) {
			json_file = a[11] == '=' ? a + 12 : gm_args_next(argc, argv, &i);
			if (!json_file || !*json_file) {
				fprintf(stderr, "gmtrace run: --json-file needs a file name\n");
				return GM_CMD_USAGE;
			}
			continue;
		}
		if (strcmp(a, "--no-follow") == 0) {
			follow = 0;
			continue;
		}
		if (strcmp(a, "--no-compact") == 0) {
			compact = 0;
			continue;
		}
		if (strcmp(a, "--pymalloc") == 0) {
			pymalloc = 1;
			continue;
		}
		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "gmtrace run: unknown option '%s'\n", a);
			return GM_CMD_USAGE;
		}
		eq = strchr(a, '=');
		snprintf(name, sizeof(name), "%.*s",
		         (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)), a + 2);
		if (eq)
			v = eq + 1;
		else
			v = gm_args_next(argc, argv, &i);
		if (!v) {
			fprintf(stderr, "gmtrace run: %s needs a value\n", a);
			return GM_CMD_USAGE;
		}
		for (char *c = name; *c; c++)
			if (*c == '-')
				*c = '_';
		if (strcmp(name, "lib") == 0) {
			libarg = v;
			continue;
		}
		if (strcmp(name, "drain") == 0)
			drain = v;
		if (strcmp(name, "output") == 0)
			output_given = 1;
		rc = gm_options_set(&check, name, v);
		if (rc == -ENOENT) {
			fprintf(stderr,
			        "gmtrace run: unknown option '--%s' (see gmtrace run --help)\n",
			        name);
			return GM_CMD_USAGE;
		}
		if (rc != 0) {
			char what[160];
			gm_options_expected(gm_options_row(name), what, sizeof(what));
			fprintf(stderr, "gmtrace run: --%s: invalid value '%s' (expected %s)\n",
			        name, v, what);
			return GM_CMD_USAGE;
		}
		{
			char env[96];
			snprintf(env, sizeof(env), "GMTRACE_%s", name);
			for (char *c = env; *c; c++)
				if (*c >= 'a' && *c <= 'z')
					*c = (char)(*c - 32);
			setenv(env, v, 1);
		}
	}
	if (gm_run_platform() != 0 || gm_run_budgets() != 0 ||
	    gm_run_output_check(output_given) != 0)
		return GM_CMD_USAGE;
	if (i >= argc || !argv[i][0]) {
		fprintf(stderr, "gmtrace run: no program given\n");
		gm_run_usage(stderr);
		return GM_CMD_USAGE;
	}
	if ((rc = gm_run_find_lib(libarg, lib, sizeof(lib))) != 0) {
		const char *given = libarg ? libarg : getenv("GMTRACE_LIB");
		if (given)
			fprintf(stderr, "gmtrace run: %s %s: %s\n",
			        libarg ? "--lib" : "GMTRACE_LIB", given, strerror(-rc));
		else
			fprintf(stderr,
			        "gmtrace run: cannot find libgmtrace.so beside gmtrace (use "
			        "--lib or GMTRACE_LIB)\n");
		return GM_CMD_USAGE;
	}
	if (json_file) { /* opened now: a name that cannot be written stops the run */
		if (!(jf = fopen(json_file, "we"))) { /* not the game's */
			fprintf(stderr, "gmtrace run: cannot write %s: %s\n", json_file,
			        strerror(errno));
			return GM_CMD_USAGE;
		}
		json = 1;
	}
	if ((rc = gm_run_which(argv[i], exe, sizeof(exe))) != 0) {
		/* as a shell says it: 127 for no such program, 126 for one
		 * that is there and cannot be run */
		if (rc == -ENOENT || rc == -ENOTDIR)
			fprintf(stderr, "gmtrace run: %s: no such program\n", argv[i]);
		else
			fprintf(stderr, "gmtrace run: %s: cannot run it: %s\n", argv[i],
			        rc == -EISDIR ? "a folder" :
			        rc == -EACCES ? "not executable" :
			                        strerror(-rc));
		gm_run_json_none(jf, json);
		return rc == -ENOENT || rc == -ENOTDIR ? 127 : 126;
	}
	if (stat(exe, &st) == 0 && gm_support_secure_bit(&st)) {
		int uid = gm_support_secure_bit(&st) == S_ISUID;
		fprintf(stderr,
		        "gmtrace run: %s is set-%s-ID (mode %04o): the dynamic loader ignores "
		        "LD_PRELOAD for such programs, so nothing would be recorded.\n"
		        "  Run a copy without the bit instead, e.g.:\n"
		        "    cp %s /tmp/game && gmtrace run -- /tmp/game ...\n",
		        exe, uid ? "user" : "group", (unsigned)(st.st_mode & 07777), exe);
		gm_run_json_none(jf, json);
		return GM_CMD_USAGE;
	}
	if (!mkdtemp(dir)) {
		fprintf(stderr, "gmtrace run: cannot make a folder in /tmp: %s\n", strerror(errno));
		gm_run_json_none(jf, json);
		return GM_CMD_FAIL;
	}
	{
		const char *old = getenv("LD_PRELOAD");
		snprintf(preload, sizeof(preload), "%s%s%s", lib, old && *old ? ":" : "",
		         old ? old : "");
	}
	{
		/* captures land in the folder `gmtrace run` was started in,
		 * whatever folder the game or its launcher script moves to:
		 * the pattern is made absolute here, not in each process */
		const char *o = getenv("GMTRACE_OUTPUT");
		char cwd[PATH_MAX], full[2 * PATH_MAX];
		if (!o || !*o)
			o = "%e.%p.gmt";
		if (o[0] == '.' && o[1] == '/')
			o += 2;
		if (o[0] != '/' && getcwd(cwd, sizeof(cwd))) {
			/* the folder's own % signs are no pattern: %% */
			size_t len = 0;
			for (const char *c = strcmp(cwd, "/") ? cwd : ""; *c && len < PATH_MAX;
			     c++) {
				if (*c == '%')
					full[len++] = '%';
				full[len++] = *c;
			}
			if (len < PATH_MAX && snprintf(full + len, sizeof(full) - len, "/%s", o) <
			                              (int)(sizeof(full) - len))
				setenv("GMTRACE_OUTPUT", full, 1);
		}
	}
	setenv("LD_PRELOAD", preload, 1);
	setenv("GMTRACE_ANNOUNCE_DIR", dir, 1);
	setenv("GMTRACE_DRAIN", drain, 1);
	if (!follow)
		setenv("GMTRACE_FOLLOW_CHILDREN", "0", 1);
	/* Python keeps small objects in its own arenas (pymalloc), which the
	 * preload would only see as a few big blocks: route them through
	 * malloc, unless asked to keep pymalloc (then the arenas are what the
	 * capture shows). */
	if (!pymalloc && !getenv("PYTHONMALLOC") && gm_run_is_python(exe))
		setenv("PYTHONMALLOC", "malloc", 1);

	/* the game's processes that outlive their parent (a launcher that
	 * starts the game in the background and exits) become ours, not
	 * init's: the run waits for them and drains them */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "gmtrace run: fork: %s\n", strerror(errno));
		gm_run_rmdir(dir);
		gm_run_json_none(jf, json);
		return GM_CMD_FAIL;
	}
	if (child == 0) {
		execv(exe, argv + i);
		fprintf(stderr, "gmtrace run: %s: cannot run it: %s\n", exe, strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	gm_run_child = child;
	unsetenv("LD_PRELOAD");
	{
		/* the game's options, from the environment it got (the game
		 * warns about a bad value) */
		gm_options_t o;
		gm_options_load(&o, NULL);
		/* draining from here: yield to the game's threads as its own
		 * drainer thread would (DRAIN_NICE) */
		if (strcmp(drain, "internal") != 0)
			gm_drain_set_nice(0, o.drain_nice);
		/* COMPRESS off: no zstd block, compacted or not */
		if (!o.compress)
			compact = 0;
	}
	/* Ctrl-C reaches the game (same process group); we stay to drain. A
	 * SIGTERM or SIGHUP sent to this process (a CI job cancelled, a
	 * `kill` of the run) is passed on to the game, and we stay to drain
	 * what it leaves: ignored, it left the game running and the run
	 * waiting for it */
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	memset(&fwd, 0, sizeof(fwd));
	fwd.sa_sigaction = gm_run_pass_on;
	fwd.sa_flags = SA_SIGINFO;
	sigaction(SIGTERM, &fwd, &old_term);
	sigaction(SIGHUP, &fwd, &old_hup);

	for (;;) {
		long got = 0;
		int all_over = 1;
		gm_run_scan(dir, procs, &nprocs);
		/* every game hears from us each round, also while closing another
		 * one's capture takes seconds */
		for (int k = 0; k < nprocs; k++)
			if (procs[k].attached && !procs[k].log.done && !procs[k].gave_up &&
			    strcmp(drain, "internal") != 0)
				gm_attach_beat(&procs[k].log);
		for (int k = 0; k < nprocs; k++) {
			gm_run_proc_t *p = &procs[k];
			if (!p->attached || p->log.done)
				continue;
			if (gm_run_over(procs, nprocs, k, child_done)) {
				p->finished = __atomic_load_n(&p->log.ring.hdr->finished,
				                              __ATOMIC_ACQUIRE) != 0;
				if (gm_attach_close(&p->log) != 0)
					fprintf(stderr,
					        "gmtrace: %s: the capture could not be written whole\n",
					        p->log.capture);
				else
					gm_attach_say_damaged(&p->log, "gmtrace");
				continue;
			}
			all_over = 0;
			if (strcmp(drain, "internal") != 0 && !p->gave_up) {
				/* every 200 ms also what threads wrote into chunks they
				 * still hold: a game that allocates little fills one in
				 * seconds, and `gmtrace live` would lag that long */
				uint64_t now = gm_run_now();
				int partial = now - p->partial_ns >= 200000000ull;
				long n = gm_attach_pass(&p->log, partial);
				if (partial)
					p->partial_ns = now;
				if (n > 0)
					got += n;
				if (p->log.drain.error) {
					/* a full disk, a file-size limit: the game's threads
					 * would wait for room in the log for ever. The beat
					 * put back to 0 has the game take its log back at
					 * once (not after 2 s of silence, the game frozen
					 * meanwhile) and, unable to write either, stop
					 * recording with one warning and go on */
					p->gave_up = 1;
					gm_attach_quit(&p->log);
					fprintf(stderr,
					        "gmtrace run: %s: cannot write the capture: %s; the game "
					        "takes its log back\n",
					        p->log.capture,
					        p->log.drain.error == -ESTALE ?
					                "another program cut the file while the game ran" :
					                strerror(-p->log.drain.error));
				}
			}
		}
		{
			/* the program, and the processes of the game left to us */
			int wst;
			pid_t w;
			while ((w = waitpid(-1, &wst, WNOHANG)) > 0)
				if (w == child) {
					status = wst;
					child_done = 1;
					gm_run_child = 0; /* (its pid may be another's soon) */
				}
			left = w == 0; /* (-1: ECHILD, none left) */
		}
		if (!child_done || !all_over)
			quiet_ns = 0;
		else {
			/* a last look: processes that announced as we finished */
			int before = nprocs;
			gm_run_scan(dir, procs, &nprocs);
			if (nprocs != before) {
				quiet_ns = 0;
				continue;
			}
			/* processes of the game still running, none of them ours
			 * yet: one just started may announce in a moment (a game a
			 * launcher put in the background before it exited); 2 s
			 * from when all was quiet, then those left are not recorded
			 * (no preload) */
			if (!quiet_ns)
				quiet_ns = gm_run_now();
			if (!left || gm_run_now() - quiet_ns > 2000000000ull)
				break;
		}
		if (got == 0)
			usleep(2000);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	gm_run_off_reason(dir, child, off_reason, sizeof(off_reason));
	gm_run_rmdir(dir);
	/* blocks the drainer stored raw to keep up with the game: compress
	 * them now that the game is gone */
	if (compact) {
		for (int k = 0; k < nprocs; k++) {
			int64_t saved = gm_compact_file(procs[k].log.capture);
			if (saved < 0)
				fprintf(stderr, "gmtrace: %s: not compacted: %s\n",
				        procs[k].log.capture, strerror((int)-saved));
		}
	}

	{
		int root_seen = 0;
		gm_json_t j;
		if (json) {
			/* one line, the paths escaped (a name may hold quotes) */
			gm_json_init(&j, jf, 0);
			gm_json_object_begin(&j);
			gm_json_key(&j, "captures");
			gm_json_array_begin(&j);
		} else
			fprintf(stderr, "gmtrace: %d process%s recorded:\n", nprocs,
			        nprocs == 1 ? "" : "es");
		for (int k = 0; k < nprocs; k++) {
			uint64_t events, bytes;
			if (procs[k].log.pid == (uint32_t)child)
				root_seen = 1;
			gm_run_describe(procs[k].log.capture, &events, &bytes);
			if (json) {
				gm_json_object_begin(&j);
				gm_json_key_u64(&j, "pid", procs[k].log.pid);
				gm_json_key_string(&j, "capture", procs[k].log.capture);
				gm_json_key_u64(&j, "records", events);
				gm_json_key_u64(&j, "bytes", bytes);
				gm_json_object_end(&j);
			} else
				fprintf(stderr, "  pid %-7u %s  (%llu records, %llu bytes)\n",
				        procs[k].log.pid, procs[k].log.capture,
				        (unsigned long long)events, (unsigned long long)bytes);
		}
		if (json) {
			int e = 0;
			gm_json_array_end(&j);
			gm_json_object_end(&j);
			if (gm_json_finish(&j) != 0)
				e = errno ? errno : EIO;
			if (jf != stdout && fclose(jf) != 0 && !e)
				e = errno;
			if (e) {
				/* a CI script reads the captures' names there */
				fprintf(stderr,
				        "gmtrace run: cannot write the capture list to %s: %s\n",
				        json_file ? json_file : "standard output", strerror(e));
				list_lost = 1;
			}
		}
		if (!root_seen && off_reason[0])
			fprintf(stderr, "gmtrace: the program (pid %d) recorded nothing: %s\n",
			        (int)child, off_reason);
		else if (!root_seen && !(WIFEXITED(status) && (WEXITSTATUS(status) == 126 ||
		                                               WEXITSTATUS(status) == 127)))
			/* (126, 127: it could not be run, said above) */
			fprintf(stderr,
			        "gmtrace: the program (pid %d) produced no capture: it may be "
			        "set-user/group-ID behind a launcher, statically linked, or it "
			        "cleared LD_PRELOAD\n",
			        (int)child);
	}
	if (WIFSIGNALED(status)) {
		/* the program's session ended at its exit(), then a signal
		 * ended it: a crash during shutdown (another thread, the C
		 * library's last flush), or a kill while it was shutting down
		 * (a stop asked for, a timeout), which its capture cannot tell */
		int sig = WTERMSIG(status);
		int crash = sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE ||
		            sig == SIGABRT || sig == SIGTRAP || sig == SIGSYS;
		for (int k = 0; k < nprocs; k++)
			if (procs[k].log.pid == (uint32_t)child && procs[k].finished)
				fprintf(stderr,
				        "gmtrace: %s: the program (pid %d) was killed by signal %d "
				        "(%s) after its exit handlers had run%s; its capture ends at "
				        "its exit(), and what its threads did after that is not in "
				        "it\n",
				        procs[k].log.capture, (int)child, sig, strsignal(sig),
				        crash ? ": a crash during shutdown" : "");
		return 128 + sig;
	}
	if (list_lost && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return GM_CMD_FAIL;
	return WIFEXITED(status) ? WEXITSTATUS(status) : GM_CMD_FAIL;
}

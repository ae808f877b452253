/* main.c - the gmtrace command line: find the subcommand and run it
 *
 * Each subcommand lives in its own file under cmd/ and is one row of the
 * table below: name, function, one line of help. The function gets the
 * arguments from its own name on and returns the exit status (cmd/cmd.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "interpose/log/format.h"

typedef struct gm_main_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} gm_main_cmd_t;

static const gm_main_cmd_t gm_main_cmds[] = {
#ifdef GM_HAVE_RUN
        {"run", gm_cmd_run, "run a program under gmtrace and write its capture"},
#endif
#ifdef GM_HAVE_RECOVER
        {"recover", gm_cmd_recover, "write the capture of a process that died from its segment"},
#endif
        {"summary", gm_cmd_summary, "totals, peak, live blocks at exit and threads of a capture"},
        {"frames", gm_cmd_frames, "frame times against what was allocated in each frame"},
        {"pools", gm_cmd_pools, "object pools, pool candidates and garbage-collector runs"},
        {"assets", gm_cmd_assets, "per-asset, per-type and per-tag memory, checks, heat maps"},
        {"transitions", gm_cmd_transitions, "memory before, during and after each scene change"},
        {"stacks", gm_cmd_stacks, "allocations and leaks by call stack, flame-graph lines"},
        {"live", gm_cmd_live, "follow a running game's capture: a line of frame figures a second"},
        {"html", gm_cmd_html, "one capture as a self-contained HTML page with charts"},
        {"trace", gm_cmd_trace, "the capture as a timeline for Perfetto (Trace Event JSON)"},
        {"dump", gm_cmd_dump, "print every event of a capture, one per line"},
        {"budgets", gm_cmd_budgets, "budget nodes against their limits, violations, evictions"},
        {"platforms", gm_cmd_platforms, "does the capture fit each platform's memory banks"},
};

#define GM_MAIN_NCMDS (sizeof(gm_main_cmds) / sizeof(gm_main_cmds[0]))

static void gm_main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: gmtrace <command> [options] ...\n"
	           "       gmtrace <command> --help\n\ncommands:\n");
	for (i = 0; i < GM_MAIN_NCMDS; i++)
		fprintf(f, "  %-10s %s\n", gm_main_cmds[i].name, gm_main_cmds[i].help);
	fprintf(f, "\nexit status: 0 ok, 1 failure (unreadable or damaged capture, failed check),"
	           " 2 bad usage\n");
}

static const gm_main_cmd_t *gm_main_find(const char *name)
{
	size_t i;

	for (i = 0; i < GM_MAIN_NCMDS; i++)
		if (strcmp(gm_main_cmds[i].name, name) == 0)
			return &gm_main_cmds[i];
	return NULL;
}

/* Reports for people print the game's names as the game gave them, and a
 * name is any bytes: control characters in one (an escape sequence, a
 * carriage return that rewrites a line) would reach the terminal or the CI
 * log as such. Their standard output goes through this filter: C0 controls
 * but tab and line feed, DEL, the C1 controls (U+0080 to U+009F, CSI among
 * them) and bytes that are not UTF-8 each become '?'. JSON escapes such
 * characters itself and CSV is data, so --json and --csv are left alone. */
static unsigned char gm_main_held[4]; /* a sequence cut by the end of a write */
static size_t gm_main_nheld;

/* Writes n bytes of out to standard output; 0, or -1 (errno set). */
static int gm_main_put(const char *out, size_t n)
{
	size_t w = 0;
	while (w < n) {
		ssize_t r = write(STDOUT_FILENO, out + w, n - w);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		w += (size_t)r;
	}
	return 0;
}

/* The filtered form of the character at s (avail bytes there) into out
 * (*wrote bytes): returns the bytes it took, or 0 when avail ends inside a
 * sequence that may still be whole (more bytes needed). */
static size_t gm_main_text_one(const unsigned char *s, size_t avail, char *out, size_t *wrote)
{
	unsigned char c = s[0];
	size_t len = c >= 0xc2 && c <= 0xdf ? 2 :
	             c >= 0xe0 && c <= 0xef ? 3 :
	             c >= 0xf0 && c <= 0xf4 ? 4 :
	                                      0;
	uint32_t cp;
	*wrote = 1;
	if (c < 0x80) {
		out[0] = (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f ? '?' : (char)c;
		return 1;
	}
	out[0] = '?';
	if (len == 0)
		return 1; /* a byte no sequence begins with */
	for (size_t k = 1; k < len; k++) {
		if (k >= avail)
			return 0;
		if ((s[k] & 0xc0) != 0x80)
			return 1; /* cut short: its lead is a '?', what follows is read again */
	}
	cp = len == 2 ? c & 0x1fu : len == 3 ? c & 0x0fu : c & 0x07u;
	for (size_t k = 1; k < len; k++)
		cp = (cp << 6) | (s[k] & 0x3fu);
	if ((len == 2 && cp <= 0x9f) ||
	    (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return len; /* a C1 control, or not UTF-8: one '?' */
	memcpy(out, s, len);
	*wrote = len;
	return len;
}

/* fopencookie's write: takes all n bytes (a sequence cut at the end is
 * held for the next write), or returns 0 on a write error (errno set). */
static ssize_t gm_main_text_write(void *cookie, const char *buf, size_t n)
{
	unsigned char in[4096 + 4];
	char out[4096 + 4];
	size_t taken = 0;
	(void)cookie;
	while (taken < n) {
		size_t m = gm_main_nheld, i = 0, o = 0, chunk = n - taken;
		if (chunk > 4096)
			chunk = 4096;
		memcpy(in, gm_main_held, m);
		memcpy(in + m, buf + taken, chunk);
		taken += chunk;
		m += chunk;
		gm_main_nheld = 0;
		while (i < m) {
			size_t wrote, used = gm_main_text_one(in + i, m - i, out + o, &wrote);
			if (used == 0) { /* the rest may be a whole sequence: later */
				memcpy(gm_main_held, in + i, m - i);
				gm_main_nheld = m - i;
				break;
			}
			i += used;
			o += wrote;
		}
		if (o && gm_main_put(out, o) < 0)
			return 0;
	}
	return (ssize_t)n;
}

/* Whether cmd with its arguments writes a report for people to stdout. */
static int gm_main_text_report(const char *cmd, int argc, char **argv)
{
	static const char *const others[] = {"run", "recover", "html", "trace"};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (strcmp(cmd, others[i]) == 0)
			return 0;
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--csv") == 0 ||
		    strncmp(argv[i], "--json=", 7) == 0 || strncmp(argv[i], "--csv=", 6) == 0)
			return 0;
	return 1;
}

/* "--" ends a report command's options (not run's, whose "--" comes before
 * the program and its own options): it goes, and each argument after it
 * that starts with '-' becomes "./" + it, the same file, which no command
 * takes for an option. argv is rewritten in place (argv[argc] stays NULL);
 * returns the new argc. */
static int gm_main_operands(int argc, char **argv)
{
	int i, at = -1;
	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			at = i;
			break;
		}
	if (at < 0)
		return argc;
	for (i = at + 1; i < argc; i++) {
		char *a = argv[i], *p;
		if (a[0] == '-' && (p = malloc(strlen(a) + 3)) != NULL) {
			memcpy(p, "./", 2);
			memcpy(p + 2, a, strlen(a) + 1);
			a = p; /* (kept until exit) */
		}
		argv[i - 1] = a;
	}
	argv[argc - 1] = NULL;
	return argc - 1;
}

/* gmtrace <command> [args]: runs the command and returns its exit status;
 * 2 for a missing or unknown command. */
int main(int argc, char **argv)
{
	const gm_main_cmd_t *cmd;
	const char *name;

	if (argc < 2) {
		gm_main_usage(stderr);
		return GM_CMD_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		gm_main_usage(stdout);
		return GM_CMD_OK;
	}
	if (strcmp(name, "--version") == 0) {
		printf("gmtrace, capture format %u.%u\n", GM_FORMAT_VERSION_MAJOR,
		       GM_FORMAT_VERSION_MINOR);
		return GM_CMD_OK;
	}
	if (strcmp(name, "help") == 0) {
		if (argc < 3) {
			gm_main_usage(stdout);
			return GM_CMD_OK;
		}
		cmd = gm_main_find(argv[2]);
		if (!cmd) {
			fprintf(stderr, "gmtrace: no command '%s' (gmtrace --help lists them)\n",
			        argv[2]);
			return GM_CMD_USAGE;
		}
		static char help_opt[] = "--help";
		char *help_argv[] = {argv[2], help_opt, NULL};

		return cmd->run(2, help_argv);
	}
	cmd = gm_main_find(name);
	if (!cmd) {
		fprintf(stderr, "gmtrace: unknown command '%s' (gmtrace --help lists them)\n",
		        name);
		return GM_CMD_USAGE;
	}
	if (strcmp(name, "run") != 0)
		argc = gm_main_operands(argc, argv);
	if (gm_main_text_report(name, argc, argv)) {
		cookie_io_functions_t io = {.write = gm_main_text_write};
		FILE *text = fopencookie(NULL, "w", io);
		if (text) {
			/* on a terminal a line at a time, as stdout itself */
			if (isatty(STDOUT_FILENO))
				setvbuf(text, NULL, _IOLBF, 0);
			gm_args_raw_stdout = stdout;
			stdout = text; /* flushed at exit, with the other streams */
		}
	}
	return cmd->run(argc - 1, argv + 1);
}

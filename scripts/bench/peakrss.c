/* peakrss.c - run a command and report its own peak RSS, children excluded
 *
 *   peakrss [-o FILE] [--tree] [NAME=VALUE ...] PROGRAM [ARGS...]
 *
 * Writes one line "hwm_kb=H anon_shmem_kb=A file_kb=F" to FILE (default
 * stderr) and exits with PROGRAM's status (128+N if killed by signal N):
 * H is the peak resident set size of PROGRAM's process ("VmHWM"), A and F
 * the largest anonymous+shared-memory and file-backed parts of its RSS seen
 * by sampling /proc every 5 ms (file-backed pages are code and mapped files,
 * e.g. a capture mapped to be read back; they can be dropped under pressure). NAME=VALUE words are put into PROGRAM's environment only, so
 * an LD_PRELOAD given this way reaches PROGRAM but not peakrss.
 *
 * Why not /usr/bin/time -f %M: wait4's rusage reports the larger of the
 * process's own peak and that of its reaped children, so for `gmtrace run`
 * (which starts the game) it would report the game. Here the child is
 * traced with PTRACE_O_TRACEEXIT only: it stops once, when it exits, while
 * its memory still exists, and VmHWM is read from /proc then. No system
 * calls are traced, so the child runs at full speed; signals are passed on.
 * If ptrace is refused, H is the wait4 figure and "tree=1" is appended.
 * --tree asks for the wait4 figure (largest process of the whole tree).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

typedef struct peakrss_status {
	long hwm, anon, file, shmem;
} peakrss_status_t;

/* Reads the memory lines of /proc/PID/status; returns 0, or -1. */
static int peakrss_read(pid_t pid, peakrss_status_t *st)
{
	char path[64], line[256];
	FILE *f;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	st->hwm = st->anon = st->file = st->shmem = -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmHWM: %ld kB", &st->hwm);
		sscanf(line, "RssAnon: %ld kB", &st->anon);
		sscanf(line, "RssFile: %ld kB", &st->file);
		sscanf(line, "RssShmem: %ld kB", &st->shmem);
	}
	fclose(f);
	return st->hwm >= 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int tree = 0, argi = 1, status, traced;
	long hwm = -1, max_anon = 0, max_file = 0;
	peakrss_status_t st;
	struct rusage ru;
	pid_t pid;
	int sync[2];
	char ok;
	FILE *f;

	while (argi < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "-o") == 0 && argi + 1 < argc) {
			out = argv[argi + 1];
			argi += 2;
		} else if (strcmp(argv[argi], "--tree") == 0) {
			tree = 1;
			argi++;
		} else if (strcmp(argv[argi], "--") == 0) {
			argi++;
			break;
		} else {
			fprintf(stderr,
			        "usage: peakrss [-o FILE] [--tree] [NAME=VALUE ...] PROGRAM [ARGS...]\n");
			return 2;
		}
	}
	if (argi >= argc || pipe(sync) != 0) {
		fprintf(stderr,
		        "usage: peakrss [-o FILE] [--tree] [NAME=VALUE ...] PROGRAM [ARGS...]\n");
		return 2;
	}

	pid = fork();
	if (pid < 0) {
		perror("peakrss: fork");
		return 1;
	}
	if (pid == 0) {
		close(sync[1]);
		/* wait until the parent has attached (or given up) */
		if (read(sync[0], &ok, 1) != 1)
			_exit(127);
		close(sync[0]);
		while (argi < argc && strchr(argv[argi], '=') && argv[argi][0] != '=' &&
		       argv[argi][0] != '/' && argv[argi][0] != '.')
			putenv(argv[argi++]);
		if (argi >= argc)
			_exit(127);
		execvp(argv[argi], &argv[argi]);
		fprintf(stderr, "peakrss: %s: %s\n", argv[argi], strerror(errno));
		_exit(127);
	}
	close(sync[0]);
	traced = !tree && ptrace(PTRACE_SEIZE, pid, 0, (void *)(long)PTRACE_O_TRACEEXIT) == 0;
	ok = 1;
	if (write(sync[1], &ok, 1) != 1)
		perror("peakrss: write");
	close(sync[1]);

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("peakrss: waitpid");
			return 1;
		}
		if (w == 0) {
			struct timespec ts = {0, 5000000};
			if (peakrss_read(pid, &st) == 0) {
				if (st.anon + st.shmem > max_anon)
					max_anon = st.anon + st.shmem;
				if (st.file > max_file)
					max_file = st.file;
			}
			nanosleep(&ts, NULL);
			continue;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			break;
		if (WIFSTOPPED(status)) {
			int sig = WSTOPSIG(status);
			if (sig == SIGTRAP && (status >> 16) == PTRACE_EVENT_EXIT) {
				if (peakrss_read(pid, &st) == 0) {
					hwm = st.hwm;
					if (st.anon + st.shmem > max_anon)
						max_anon = st.anon + st.shmem;
					if (st.file > max_file)
						max_file = st.file;
				}
				sig = 0;
			} else if ((status >> 16) == PTRACE_EVENT_STOP) {
				sig = 0; /* group-stop under SEIZE: let it go on */
			}
			ptrace(PTRACE_CONT, pid, 0, (void *)(long)sig);
		}
	}
	getrusage(RUSAGE_CHILDREN, &ru);

	f = out ? fopen(out, "w") : stderr;
	if (!f) {
		perror("peakrss: output");
		f = stderr;
	}
	if (traced && hwm >= 0)
		fprintf(f, "hwm_kb=%ld anon_shmem_kb=%ld file_kb=%ld\n", hwm, max_anon, max_file);
	else
		fprintf(f, "hwm_kb=%ld anon_shmem_kb=%ld file_kb=%ld tree=1\n", ru.ru_maxrss,
		        max_anon, max_file);
	if (f != stderr)
		fclose(f);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* recover.c - gmtrace recover: finish the capture of a process that died
 *
 * A game killed by SIGKILL, a crash, or _exit before its drainer ran leaves
 * its records in its shared-memory log (/dev/shm/gmtrace.<pid>.<random>).
 * The capture file names that log; recovering drains what the log still
 * holds into the capture and removes the log. Without arguments, every
 * log in /dev/shm whose process is gone is recovered into its capture.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../interpose/log/format.h"
#include "../log/attach.h"
#include "../log/reader.h"
#include "../../interpose/support/support.h"
#include "cmd.h"

static void gm_recover_usage(FILE *f)
{
	fprintf(f, "usage: gmtrace recover [--force] [CAPTURE...]\n"
	           "\n"
	           "Write the records a dead process left in its shared-memory log into its\n"
	           "capture. With no CAPTURE, recover every orphaned log in /dev/shm.\n"
	           "  --force   recover even if the process still runs: what it wrote so far goes\n"
	           "            into the capture now, and its drainer goes on after it\n");
}

static int gm_recover_log(const char *shm, const char *capture, int force)
{
	gm_attach_t a;
	char err[512];
	uint64_t before;
	if (gm_attach_open(&a, shm, capture, err, sizeof(err)) != 0) {
		fprintf(stderr, "gmtrace recover: %s\n", err);
		return GM_CMD_FAIL;
	}
	if (!force && !gm_attach_ended(&a)) {
		fprintf(stderr,
		        "gmtrace recover: process %u is still running; its capture is "
		        "being written (use --force to take it now)\n",
		        a.pid);
		close(a.fd);
		gm_ring_detach(&a.ring, 0);
		return GM_CMD_FAIL;
	}
	before = a.drain.file_bytes;
	/* a process still running (--force) keeps its log: its drainer goes on
	 * after this, and a crash later is recovered from it as any other */
	a.keep = !gm_attach_ended(&a);
	if (gm_attach_close(&a) != 0) {
		fprintf(stderr, "gmtrace recover: %s: write failed\n", a.capture);
		return GM_CMD_FAIL;
	}
	printf("recovered %s: %llu bytes of records for process %u (%llu bytes added)\n", a.capture,
	       (unsigned long long)a.drain.raw_bytes, a.pid,
	       (unsigned long long)(a.drain.file_bytes - before));
	return gm_attach_say_damaged(&a, "gmtrace recover") ? GM_CMD_FAIL : GM_CMD_OK;
}

/* A log in /dev/shm that is not one: when its name's process is gone and
 * its first page is all zeros, the process was killed (SIGKILL) between
 * creating the log and writing its header; no record can be in it. It is
 * removed, said in one line; 1 when it was. */
static int gm_recover_empty(const char *name)
{
	char path[320], page[4096];
	uint32_t pid = gm_ring_name_pid(name);
	struct stat st;
	ssize_t n, i;
	int fd;
	if (!pid || !gm_support_pid_gone((int)pid))
		return 0;
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	/* a log is a file of its ring's size: a FIFO, a device or an empty
	 * file is something else, left alone */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(page)) {
		close(fd);
		return 0;
	}
	n = read(fd, page, sizeof(page));
	close(fd);
	if (n < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (page[i])
			return 0;
	if (unlink(path) != 0)
		return 0;
	printf("removed %s: process %u ended before its log had a header; it held no "
	       "record\n",
	       path, (unsigned)pid);
	return 1;
}

static int gm_recover_capture(const char *path, int force)
{
	gm_file_header_t h;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO: refused, not waited on */
	struct stat st;
	ssize_t n;
	if (fd < 0) {
		fprintf(stderr, "gmtrace recover: %s: %s\n", path, strerror(errno));
		return GM_CMD_FAIL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "gmtrace recover: %s: not a regular file\n", path);
		close(fd);
		return GM_CMD_FAIL;
	}
	n = read(fd, &h, sizeof(h));
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h.magic, GM_FORMAT_MAGIC, 8) != 0) {
		fprintf(stderr, "gmtrace recover: %s: offset 0: not a gmtrace capture\n", path);
		return GM_CMD_FAIL;
	}
	h.shm_name[sizeof(h.shm_name) - 1] = 0;
	if (!gm_reader_log_present(h.shm_name)) {
		/* (the log is what recovery reads; whether the capture reads
		 * whole is gmtrace summary's to say: it may have been cut) */
		printf("%s: its log is gone, nothing to recover\n", path);
		return GM_CMD_OK;
	}
	return gm_recover_log(h.shm_name, path, force);
}

int gm_cmd_recover(int argc, char **argv)
{
	int i, force = 0, rc = GM_CMD_OK, any = 0;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_recover_usage(stdout);
			return GM_CMD_OK;
		}
		if (strcmp(argv[i], "--force") == 0) {
			force = 1;
			continue;
		}
		if (argv[i][0] == '-') {
			fprintf(stderr, "gmtrace recover: unknown option '%s'\n", argv[i]);
			gm_recover_usage(stderr);
			return GM_CMD_USAGE;
		}
		any = 1;
		if (gm_recover_capture(argv[i], force) != GM_CMD_OK)
			rc = GM_CMD_FAIL;
	}
	if (!any) {
		DIR *d = opendir("/dev/shm");
		struct dirent *e;
		int found = 0;
		if (!d) {
			fprintf(stderr, "gmtrace recover: /dev/shm: %s\n", strerror(errno));
			return GM_CMD_FAIL;
		}
		while ((e = readdir(d)) != NULL) {
			char name[300];
			gm_ring_t ring;
			uint32_t pid;
			int finished;
			if (strncmp(e->d_name, "gmtrace.", 8) != 0)
				continue;
			snprintf(name, sizeof(name), "/%s", e->d_name);
			if (gm_ring_attach(&ring, name) != 0) {
				if (gm_recover_empty(name))
					found++;
				else
					fprintf(stderr, "gmtrace recover: %s: not a gmtrace log\n",
					        name);
				continue;
			}
			pid = ring.hdr->pid;
			finished = (int)__atomic_load_n(&ring.hdr->finished, __ATOMIC_ACQUIRE);
			gm_ring_detach(&ring, 0);
			/* a log whose process still runs is being written: not orphaned */
			if (!finished && !force && !gm_support_pid_gone((int)pid))
				continue;
			found++;
			if (gm_recover_log(name, NULL, force) != GM_CMD_OK) {
				fprintf(stderr,
				        "gmtrace recover: %s left in place (remove it with rm "
				        "/dev/shm%s once it is not needed)\n",
				        name, name);
				rc = GM_CMD_FAIL;
			}
		}
		closedir(d);
		if (!found)
			printf("no orphaned gmtrace logs in /dev/shm\n");
	}
	/* what was recovered is said on stdout: a script reads it there */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace recover: cannot write to standard output: %s\n",
		        strerror(errno));
		rc = GM_CMD_FAIL;
	}
	return rc;
}

/* fuzz_capture.c - every report command on captures a fuzzer makes (libFuzzer)
 *
 * Each input is written to a memory file and given, as a capture path, to
 * `gmtrace summary`, `dump`, `frames`, `assets`, `transitions`, `pools`,
 * `budgets`, `platforms`, `stacks --no-symbols`, `trace`, `html` and `live --once` (text and JSON), called in this process the way
 * main.c calls them. The contract under test: a capture that is not one, is
 * cut short, has a wrong version or corrupt records gets an error and an
 * exit status, never a crash, a leak, undefined behaviour or a hang
 * (AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer's timeouts
 * say so). Reports and error lines go to /dev/null. Built and run by run.sh.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analysis/cmd/cmd.h"
#include "interpose/log/format.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static int fuzz_fd = -1, fuzz_null = -1, fuzz_stderr = -1;
static char fuzz_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* reports are not the point; errors on stderr are (libFuzzer keeps its own) */
	if (!freopen("/dev/null", "w", stdout))
		return 1;
	fuzz_fd = memfd_create("gm-fuzz-capture", 0);
	fuzz_null = open("/dev/null", O_WRONLY);
	fuzz_stderr = dup(2);
	if (fuzz_fd < 0 || fuzz_null < 0 || fuzz_stderr < 0)
		return 1;
	snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
	return 0;
}

static void fuzz_run(int (*cmd)(int, char **), const char *name, const char *opt)
{
	char *argv[4];
	int argc = 0;
	argv[argc++] = (char *)name;
	if (opt)
		argv[argc++] = (char *)opt;
	argv[argc++] = fuzz_path;
	argv[argc] = NULL;
	cmd(argc, argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_fd < 0 || ftruncate(fuzz_fd, 0) != 0 ||
	    pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
		return 0;
	/* one error line per command and input would drown libFuzzer's output:
	 * the commands' stderr goes to /dev/null (sanitizer reports go to the
	 * log_path run.sh sets) */
	dup2(fuzz_null, 2);
	fuzz_run(gm_cmd_summary, "summary", "--json");
	fuzz_run(gm_cmd_dump, "dump", "--json");
	fuzz_run(gm_cmd_frames, "frames", NULL);
	fuzz_run(gm_cmd_frames, "frames", "--json");
	{
		/* the capture against itself: both sides read, every figure */
		char *argv[] = {(char *)"frames", (char *)"--compare", fuzz_path, fuzz_path, NULL};
		gm_cmd_frames(4, argv);
	}
	fuzz_run(gm_cmd_assets, "assets", "--json");
	fuzz_run(gm_cmd_transitions, "transitions", NULL);
	fuzz_run(gm_cmd_pools, "pools", "--json");
	fuzz_run(gm_cmd_budgets, "budgets", NULL);
	fuzz_run(gm_cmd_platforms, "platforms", "--json");
	fuzz_run(gm_cmd_stacks, "stacks", "--no-symbols");
	fuzz_run(gm_cmd_trace, "trace", NULL);
	fuzz_run(gm_cmd_html, "html", NULL);
	fuzz_run(gm_cmd_live, "live", "--once");
	fflush(stdout);
	fflush(stderr);
	dup2(fuzz_stderr, 2);
	return 0;
}

/* Mutate as libFuzzer does, then give every block whose header still
 * stands the check value of its payload (and of its header): without that
 * nearly every mutation is caught by the block checks, and the records
 * inside (packed varints, types, lengths, strings) would hardly be fuzzed. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	size_t at = sizeof(gm_file_header_t);
	(void)seed;
	size = LLVMFuzzerMutate(data, size, max_size);
	while (at + sizeof(gm_block_t) <= size) {
		gm_block_t b;
		memcpy(&b, data + at, sizeof(b));
		if (b.magic != GM_BLOCK_MAGIC || b.stored_bytes > size - at - sizeof(b))
			break;
		b.check = gm_format_check(data + at + sizeof(b), b.stored_bytes);
		if (b.header_check) /* (a header of 3.3: sealed again) */
			gm_format_seal(&b);
		memcpy(data + at, &b, sizeof(b));
		at += sizeof(b) + b.stored_bytes;
	}
	return size;
}

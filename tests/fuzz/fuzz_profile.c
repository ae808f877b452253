/* fuzz_profile.c - the platform profile and budget file readers on files a
 * fuzzer makes (libFuzzer)
 *
 * Each input is written to dev.yaml in a private folder (a profile must be
 * named after its file) and loaded as a platform profile and as a budgets
 * file. The contract: a file with an error gives one line, "<path>:<line>:
 * expected ...", and keeps nothing; never a crash, a leak or undefined
 * behaviour. Seeds are the shipped profiles renamed "dev". Built and run by
 * run.sh.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platforms/profile.h"

static char fuzz_dir[64], fuzz_path[96];
static gm_platform_t fuzz_prof;
static gm_budget_def_t fuzz_defs[GM_BUDGET_MAX_NODES];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	strcpy(fuzz_dir, "/tmp/gm-fuzz-profile.XXXXXX");
	if (!mkdtemp(fuzz_dir))
		return 1;
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/dev.yaml", fuzz_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	int n = 0, strict = 0;
	FILE *f = fopen(fuzz_path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (gm_platform_load(fuzz_path, &fuzz_prof, err, sizeof(err)) != 0) {
		/* one line naming the file, and nothing kept */
		if (strncmp(err, fuzz_path, strlen(fuzz_path)) != 0 || strchr(err, '\n') ||
		    fuzz_prof.nbanks != 0)
			abort();
	} else if (fuzz_prof.nbanks < 1 || fuzz_prof.ndefs < fuzz_prof.nbanks) {
		abort();
	}
	if (gm_budgetfile_load(fuzz_path, fuzz_defs, GM_BUDGET_MAX_NODES, &n, &strict, err,
	                       sizeof(err)) != 0) {
		if (strncmp(err, fuzz_path, strlen(fuzz_path)) != 0 || strchr(err, '\n'))
			abort();
	} else if (n < 1 || n > GM_BUDGET_MAX_NODES) {
		abort();
	}
	return 0;
}

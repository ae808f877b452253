/* args.c - the small argument-parsing helpers every subcommand shares */
#include "analysis/cmd/args.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Parses a decimal number (see args.h). Returns 0, -EINVAL or -ERANGE. */
int gm_args_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Matches an option with a value (see args.h). Returns 1, 0 or -EINVAL. */
int gm_args_value(int argc, char **argv, int *i, const char *name, const char **value)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*value = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	*value = gm_args_next(argc, argv, i);
	return *value ? 1 : -EINVAL;
}

const char *gm_args_next(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc || strcmp(argv[*i + 1], "--") == 0)
		return NULL;
	return argv[++*i];
}

int gm_args_capture_output(int argc, char **argv, const char *name, const char **path,
                           const char **output)
{
	const char *value;
	int i, m;
	*path = *output = NULL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
		if ((m = gm_args_value(argc, argv, &i, "--output", &value)) != 0) {
			if (m < 0 || !*value) {
				fprintf(stderr, "gmtrace %s: --output takes a file name\n", name);
				return -1;
			}
			*output = value;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "gmtrace %s: unknown option '%s'\n", name, argv[i]);
			return -1;
		} else if (*path) {
			fprintf(stderr, "gmtrace %s: one capture only\n", name);
			return -1;
		} else {
			*path = argv[i];
		}
	}
	if (!*path) {
		fprintf(stderr, "gmtrace %s: no capture given\n", name);
		return -1;
	}
	return 0;
}

FILE *gm_args_raw_stdout;

int gm_args_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

FILE *gm_args_output_open(const char *name, const char *output, const char *capture)
{
	FILE *f;
	if (!output)
		return stdout;
	if (gm_args_same_file(output, capture)) {
		fprintf(stderr, "gmtrace %s: --output %s is the capture itself\n", name, output);
		return NULL;
	}
	if (!(f = fopen(output, "w")))
		fprintf(stderr, "gmtrace %s: cannot write %s: %s\n", name, output, strerror(errno));
	return f;
}

int gm_args_output_end(FILE *f, int failed, const char *name, const char *what, const char *output)
{
	if (fflush(f) != 0 || ferror(f))
		failed = 1;
	if (f != stdout && fclose(f) != 0)
		failed = 1;
	if (!failed)
		return 0;
	fprintf(stderr, "gmtrace %s: cannot write the %s%s%s\n", name, what, output ? " to " : "",
	        output ? output : "");
	return -1;
}

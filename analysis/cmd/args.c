/* args.c - the small argument-parsing helpers every subcommand shares */
#include "analysis/cmd/args.h"

#include <errno.h>
#include <string.h>

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
	if (*i + 1 >= argc)
		return -EINVAL;
	*value = argv[++*i];
	return 1;
}

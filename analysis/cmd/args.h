/* args.h - the small argument-parsing helpers every subcommand shares
 *
 * Options take "--name VALUE" or "--name=VALUE"; numbers are decimal.
 */
#ifndef GM_ARGS_H
#define GM_ARGS_H

#include <stdint.h>

/* Parses a whole decimal number with no sign. Returns 0 and sets *out, or
 * -EINVAL (empty, not a number, trailing text) or -ERANGE (too large). */
int gm_args_u64(const char *s, uint64_t *out);

/* Matches argv[*i] against option name ("--top"). Returns 1 with *value set
 * (and *i moved past a separate value) when it matches, 0 when argv[*i] is
 * another argument, or -EINVAL when it matches but the value is missing. */
int gm_args_value(int argc, char **argv, int *i, const char *name, const char **value);

#endif

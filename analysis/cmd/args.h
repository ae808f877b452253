/* args.h - the small argument-parsing helpers every subcommand shares
 *
 * Options take "--name VALUE" or "--name=VALUE"; numbers are decimal.
 */
#ifndef GM_ARGS_H
#define GM_ARGS_H

#include <stdint.h>
#include <stdio.h>

/* Parses a whole decimal number with no sign. Returns 0 and sets *out, or
 * -EINVAL (empty, not a number, trailing text) or -ERANGE (too large). */
int gm_args_u64(const char *s, uint64_t *out);

/* Matches argv[*i] against option name ("--top"). Returns 1 with *value set
 * (and *i moved past a separate value) when it matches, 0 when argv[*i] is
 * another argument, or -EINVAL when it matches but the value is missing. */
int gm_args_value(int argc, char **argv, int *i, const char *name, const char **value);

/* The separate value of the option at argv[*i] (*i moved past it), or
 * NULL when there is none: the end of the line, or "--", which ends the
 * options (`--stacks -- ./game` lacks the value). */
const char *gm_args_next(int argc, char **argv, int *i);

/* `gmtrace NAME [--output FILE] CAPTURE` (argv[0] is NAME): 1 when --help
 * was asked, 0 with *path and *output (NULL: none) set, or -1 after one
 * line "gmtrace NAME: ..." on stderr (the caller adds its usage). */
int gm_args_capture_output(int argc, char **argv, const char *name, const char **path,
                           const char **output);

/* Standard output as it was before gmtrace's main put the filter of the
 * reports for people in front of it (main.c: a name's control characters
 * print as '?'), for what writes escape sequences of its own (the heat
 * map's colours); NULL when there is no filter. Flush stdout before
 * writing to it, and it after. */
extern FILE *gm_args_raw_stdout;

/* 1 when paths a and b name one file that exists (a report's output that
 * would write over its own capture), else 0. */
int gm_args_same_file(const char *a, const char *b);

/* Where a report of capture goes: the file output, or standard output when
 * NULL; NULL after one line "gmtrace NAME: ..." on stderr (it cannot be
 * written, or it is the capture itself, which it would destroy). */
FILE *gm_args_output_open(const char *name, const char *output, const char *capture);

/* Ends a report written to f (failed: writing it failed already): flushes,
 * closes a file (not standard output). 0, or -1 after one line "gmtrace
 * NAME: cannot write the WHAT[ to FILE]" on stderr. f is closed either way. */
int gm_args_output_end(FILE *f, int failed, const char *name, const char *what, const char *output);

#endif

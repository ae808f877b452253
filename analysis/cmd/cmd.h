/* cmd.h - the gmtrace subcommands, one file each under analysis/cmd/
 *
 * main.c dispatches argv[1] to gm_cmd_<name>(argc - 1, argv + 1), so a
 * command sees its own name as argv[0]. Every command accepts --help (usage
 * on stdout, exit 0) and returns the process exit status:
 */
#ifndef GM_CMD_H
#define GM_CMD_H

#define GM_CMD_OK 0    /* done; for checks: the check passed */
#define GM_CMD_FAIL 1  /* capture unreadable or damaged, a check failed, out of memory */
#define GM_CMD_USAGE 2 /* bad arguments; a one-line error and the usage went to stderr */

/* gmtrace summary [--json] [--top N] CAPTURE: totals, peak, leaks, threads. */
int gm_cmd_summary(int argc, char **argv);

/* gmtrace dump [--json] [--limit N] CAPTURE: one line per event. */
int gm_cmd_dump(int argc, char **argv);

/* gmtrace frames [--json | --csv] [options] CAPTURE: frame times against
 * allocation, per frame. */
int gm_cmd_frames(int argc, char **argv);

/* gmtrace pools [--json | --csv] [options] CAPTURE | --compare A B: object
 * pools, pool candidates, GC runs. */
int gm_cmd_pools(int argc, char **argv);

/* gmtrace assets [--json | --csv] [options] CAPTURE: per-asset, per-type and
 * per-tag memory, checks (--check), streaming, heat maps. */
int gm_cmd_assets(int argc, char **argv);

/* gmtrace transitions [--json] [--window N] CAPTURE: memory around each scene
 * or level change. */
int gm_cmd_transitions(int argc, char **argv);

/* gmtrace stacks [--json | --folded] [--by K] [--top N] [--depth D] CAPTURE:
 * allocations by call stack (recorded with GMTRACE_STACKS). */
int gm_cmd_stacks(int argc, char **argv);

/* gmtrace trace: the capture as a Trace Event Format timeline (Perfetto). */
int gm_cmd_trace(int argc, char **argv);

/* gmtrace html: one capture as a self-contained HTML page. */
int gm_cmd_html(int argc, char **argv);

/* gmtrace live: a running game's capture followed, a line per interval. */
int gm_cmd_live(int argc, char **argv);

/* gmtrace run [...] -- PROGRAM: record a program (cmd/run.c, GM_HAVE_RUN). */
int gm_cmd_run(int argc, char **argv);

/* gmtrace recover [...]: capture a dead process's segment (cmd/recover.c,
 * GM_HAVE_RECOVER). */
int gm_cmd_recover(int argc, char **argv);

/* gmtrace budgets [--json | --csv] [--check] [--node NAME] [--from F --to F]
 * CAPTURE: budget nodes against their limits, violations, evictions. */
int gm_cmd_budgets(int argc, char **argv);

/* gmtrace platforms [--json] [--check NAMES] CAPTURE [NAME...] | --list: the
 * capture against platform profiles: banks, budgets, fit, recommendations. */
int gm_cmd_platforms(int argc, char **argv);

#endif

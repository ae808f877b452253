/* options.h - every gmtrace setting, one row of one table
 *
 * Each row has a name, a default and a one-line meaning. The environment
 * variable is GMTRACE_<NAME>; `gmtrace run --<name>` sets the same row.
 * Booleans take 1/0, true/false, yes/no, on/off; sizes take K/M/G and
 * KiB/MiB/GiB. An invalid value is one warning and the default.
 */
#ifndef GM_OPTIONS_H
#define GM_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

typedef enum gm_opt_type {
	gm_opt_bool,
	gm_opt_size,
	gm_opt_uint,
	gm_opt_string,
	gm_opt_choice,
	gm_opt_ratio, /* "4", "2.5": stored in hundredths */
	gm_opt_type_count
} gm_opt_type_t;

typedef struct gm_options {
	int enabled;                /* ENABLED */
	char output[1024];          /* OUTPUT */
	uint64_t ring_size;         /* RING_SIZE */
	uint64_t chunk_size;        /* CHUNK_SIZE */
	int drain_external;         /* DRAIN: internal(0) | external(1) */
	char announce_dir[1024];    /* ANNOUNCE_DIR */
	int follow_children;        /* FOLLOW_CHILDREN */
	int compress;               /* COMPRESS */
	uint64_t drain_interval_ms; /* DRAIN_INTERVAL_MS */
	uint64_t drain_nice;        /* DRAIN_NICE */
	int drain_help;             /* DRAIN_HELP: auto(0) | always(1) | off(2) */
	int quiet;                  /* QUIET */
	int level;                  /* LEVEL: events(0) | frames(1) */
	uint64_t timing_sample;     /* TIMING_SAMPLE */
	uint64_t burst_allocations; /* BURST_ALLOCATIONS */
	uint64_t spike_allocations; /* SPIKE_ALLOCATIONS */
	uint64_t spike_bytes;       /* SPIKE_BYTES */
	uint64_t spike_alloc_ns;    /* SPIKE_ALLOC_NS */
	uint64_t spike_factor_pct;  /* SPIKE_FACTOR, in hundredths */
	int spike_stderr;           /* SPIKE_STDERR */
	int auto_frames;            /* AUTO_FRAMES */
	char budgets[1024];         /* BUDGETS */
	int budget_mode;            /* BUDGET_MODE: soft(0) | strict(1) */
	int budget_mode_given;      /* 1: BUDGET_MODE was in the environment (a
	                               budgets file's own mode then yields) */
	int budget_stderr;          /* BUDGET_STDERR */
	char platform[1024];        /* PLATFORM */
	uint64_t pressure_ms;       /* PRESSURE_MS */
	uint64_t stacks;            /* STACKS: frames per allocation, 0 = off */
	int python_stacks;          /* PYTHON_STACKS: python(0) | mixed(1) | c(2) */
} gm_options_t;

typedef struct gm_option_row {
	const char *name; /* lowercase, as in `gmtrace run --<name>` */
	gm_opt_type_t type;
	const char *def;     /* default, as text */
	const char *choices; /* for gm_opt_choice: "a|b|c", index stored */
	size_t offset;       /* field in gm_options_t */
	size_t cap;          /* for strings: field size */
	const char *help;
	uint64_t max; /* gm_opt_uint, gm_opt_size: largest value taken (0: no limit) */
} gm_option_row_t;

extern const gm_option_row_t gm_options_table[];
extern const size_t gm_options_count;

/* Fill *o with defaults, then apply GMTRACE_* variables from the
 * environment; an invalid value warns once (through warn, if not NULL) and
 * keeps the default. Never fails. */
void gm_options_load(gm_options_t *o, void (*warn)(const char *a, const char *b, const char *c));

/* Set one row from text; returns 0, -ENOENT (no such option) or -EINVAL
 * (bad value, *o unchanged for that row). */
int gm_options_set(gm_options_t *o, const char *name, const char *value);

/* The row of the option called name, or NULL. */
const gm_option_row_t *gm_options_row(const char *name);

/* What row takes, in words, into buf ("events|frames", "a whole number up
 * to 19"), for messages about a value it refused. */
void gm_options_expected(const gm_option_row_t *row, char *buf, size_t cap);

/* Parse helpers shared with the CLI: return 0 or -EINVAL. */
int gm_options_parse_bool(const char *s, int *out);
int gm_options_parse_size(const char *s, uint64_t *out);

#endif

/* profile.h - platform profiles: a target's memory, its banks, a budget tree
 *
 * One human-editable YAML file per platform (platforms/profiles/NAME.yaml).
 * Every figure carries its public source:
 *
 *     name: switch                  # the file's name without .yaml
 *     title: Nintendo Switch
 *     family: console               # console | handheld | pc | phone | web
 *     physical: {size: 4GiB, source: "where this was published"}
 *     available: {size: 3285MiB, source: "..."}   # what one game may use
 *     page_size: {size: 4KiB, source: "..."}      # optional
 *     banks:                        # memory pools, each enforced on its own
 *       - name: main
 *         default: true             # holds what no other bank holds
 *         capacity: {size: 3285MiB, source: "..."}
 *       - name: video
 *         capacity: {size: 249MiB, source: "..."}
 *         types: [texture]          # asset types that live in this bank
 *         tags: [gpu]               # and tags (with the tags below them)
 *         note: "RSX local memory"  # optional
 *     budget:                       # optional: the recommended budget tree,
 *       - name: textures            # budget nodes as in a budgets file
 *         parent: main              # (budgetfile.h), under the banks;
 *         hard: 40%                 # limits may be shares of the parent
 *         types: [texture]
 *     notes: |                      # optional free text
 *       ...
 *
 * A profile becomes a budget tree (defs): its banks are root nodes whose
 * capacity is the bank's (a heap that size: fragmentation counts), the
 * default bank serves every allocation nothing else binds, and the budget
 * nodes hang below. `gmtrace run --platform` runs a game under it;
 * `gmtrace platforms` checks a capture against it.
 *
 * Search path for names: $GMTRACE_PLATFORM_PATH (directories separated by
 * ':'), then $XDG_CONFIG_HOME/gmtrace/platforms (default
 * ~/.config/gmtrace/platforms), then the profiles shipped with gmtrace. The
 * first file named <name>.yaml wins, so a studio's own file replaces a
 * shipped one of the same name.
 */
#ifndef GM_PROFILE_H
#define GM_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "interpose/budget/budgetfile.h"

#define GM_PLATFORM_MAX_BANKS 8
#define GM_PLATFORM_NAME 64
#define GM_PLATFORM_PATH 1024
#define GM_PLATFORM_MAX_DIRS 16

/* A figure and where it was published. */
typedef struct gm_platform_fact {
	uint64_t bytes; /* 0: not given (page_size only) */
	char source[512];
} gm_platform_fact_t;

typedef struct gm_platform_bank {
	char name[GM_PLATFORM_NAME];
	gm_platform_fact_t capacity;
	int is_default;
	char note[256];
} gm_platform_bank_t;

typedef struct gm_platform {
	char path[GM_PLATFORM_PATH];
	char name[GM_PLATFORM_NAME];
	char title[128];
	char family[16];
	gm_platform_fact_t physical, available, page_size;
	gm_platform_bank_t banks[GM_PLATFORM_MAX_BANKS];
	int nbanks;
	/* the budget tree: defs[0..nbanks) are the banks, in order, then the
	 * recommended nodes */
	gm_budget_def_t defs[GM_BUDGET_MAX_NODES];
	int ndefs;
	char notes[2048];
} gm_platform_t;

/* Load and check the profile at path. Returns 0, or -1 with one line in
 * err: "<path>:<line>: expected ..." (nothing kept in *p then). */
int gm_platform_load(const char *path, gm_platform_t *p, char *err, size_t errlen);

/* The search path, in order; returns the number of directories. */
int gm_platform_dirs(char dirs[][GM_PLATFORM_PATH], int max);

/* Resolve a name (or a path: anything with a '/' or ending in .yaml) to a
 * file. Returns 0, or -1 with err naming what was searched. */
int gm_platform_find(const char *name, char *path, size_t cap, char *err, size_t errlen);

/* Every profile on the search path, sorted by name, the first of each name
 * only; paths[i] is name[i]'s file. Returns how many (at most max). */
int gm_platform_list(char names[][GM_PLATFORM_NAME], char paths[][GM_PLATFORM_PATH], int max);

/* 1 if name is a valid profile name: [a-z0-9_-], 1..63 bytes. */
int gm_platform_valid_name(const char *name);

#endif

/* budgetfile.h - read a budget tree from a human-editable file
 *
 * GMTRACE_BUDGETS names a YAML file (parsed with libyaml):
 *
 *     mode: soft                 # soft (default): over a hard limit is a
 *                                # violation; strict: the allocation fails
 *     nodes:
 *       - name: total
 *         hard: 512M
 *       - name: textures
 *         parent: total          # must be defined above
 *         soft: 200M             # evict down to target at the next frame end
 *         target: 180M           # default: soft
 *         hard: 256M             # never exceeded (evict, then fail or violate)
 *         policy: lru            # lru | lfu | largest | priority
 *         strict: true           # optional, overrides mode for this node
 *         tags: [render/textures]  # allocations under these tags (and below)
 *         types: [texture]       # allocations of assets of these types
 *
 * Sizes take K/M/G and KiB/MiB/GiB. Platform profiles supply such files.
 */
#ifndef GM_BUDGETFILE_H
#define GM_BUDGETFILE_H

#include <stddef.h>
#include <stdint.h>

#define GM_BUDGET_MAX_NODES 64
#define GM_BUDGET_MAX_BINDS 16

typedef struct gm_budget_def {
	char name[64];
	char parent[64];     /* "" for a root */
	uint64_t soft, hard; /* 0: no such limit */
	uint64_t target;     /* 0: the soft limit */
	int policy;          /* gm_budget_policy_t */
	int strict;          /* -1: the file's mode, 0 soft, 1 strict */
	char tags[GM_BUDGET_MAX_BINDS][128];
	int ntags;
	char types[GM_BUDGET_MAX_BINDS][64];
	int ntypes;
} gm_budget_def_t;

/* Parse the file at path into defs (at most max); *n gets the number of
 * nodes and *strict the file's mode (0 soft, 1 strict). Returns 0, or -1
 * with one line in err: "<path>:<line>: <what was expected>" (a missing
 * file, bad YAML, an unknown key, a bad size, an unknown parent, a soft
 * limit above the hard one, too many nodes...). Nothing is kept on error. */
int gm_budgetfile_load(const char *path, gm_budget_def_t *defs, int max, int *n, int *strict,
                       char *err, size_t errlen);

#endif

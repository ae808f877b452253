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
 *         target: 180M           # default: soft (without soft: no effect)
 *         hard: 256M             # never exceeded (evict, then fail or violate)
 *         policy: lru            # lru | lfu | largest | priority
 *         strict: true           # optional, overrides mode for this node
 *         tags: [render/textures]  # allocations under these tags (and below)
 *         types: [texture]       # allocations of assets of these types
 *                                  # (a tag or a type is bound to one node)
 *       - name: main
 *         capacity: 3GiB         # a memory bank: its heap holds this much and
 *                                # no more (fragmentation counts); hard
 *                                # defaults to it and may not exceed it
 *         default: true          # allocations no tag or type binds elsewhere
 *       - name: meshes
 *         parent: main
 *         hard: 25%              # a share of the parent's hard limit
 *
 * Sizes take K/M/G/T and KiB/MiB/GiB/TiB, decimals with a unit ("3.5GiB").
 * Platform profiles (platforms/) carry such nodes under their banks.
 */
#ifndef GM_BUDGETFILE_H
#define GM_BUDGETFILE_H

#include <stddef.h>
#include <stdint.h>

#include "../support/yamlfile.h"

#define GM_BUDGET_MAX_NODES 64
/* A node's heap is one slot of the range gmtrace reserves: a memory bank
 * (capacity) holds at most this much. */
#define GM_BUDGET_MAX_CAPACITY (1ull << 36)
#define GM_BUDGET_MAX_BINDS 16
/* Under a platform whose banks share memory, the root node over them. */
#define GM_BUDGET_TOTAL "total"

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
	uint64_t capacity; /* 0: none; else its heap's size (a memory bank's) */
	int is_default;    /* serves allocations no tag or type binds elsewhere */
} gm_budget_def_t;

/* The first tag or type a binds that b binds too (one could serve it), or
 * NULL; *is_type says which. The one test of budget files and platform
 * profiles' banks. */
const char *gm_budget_def_clash(const gm_budget_def_t *a, const gm_budget_def_t *b, int *is_type);

/* Parse the file at path into defs (at most max); *n gets the number of
 * nodes and *strict the file's mode (0 soft, 1 strict). Returns 0, or -1
 * with one line in err: "<path>:<line>: <what was expected>" (a missing
 * file, bad YAML, an unknown key, a bad size, an unknown parent, a soft
 * limit above the hard one, too many nodes...). Nothing is kept on error. */
int gm_budgetfile_load(const char *path, gm_budget_def_t *defs, int max, int *n, int *strict,
                       char *err, size_t errlen);

/* The nodes list of a budget tree inside another YAML file (a platform
 * profile's budget:), appended to defs after the *n defined already (its
 * banks, which parents may name). Returns 0 with *n updated, or -1 with
 * the error in y (nothing appended). */
int gm_budgetfile_nodes_in(gm_yaml_t *y, const yaml_node_t *list, gm_budget_def_t *defs, int max,
                           int *n);

#endif

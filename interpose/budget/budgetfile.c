/* budgetfile.c - read a budget tree from a YAML file (GMTRACE_BUDGETS)
 *
 * The file is loaded whole (support/yamlfile.c), then walked once in file
 * order, so the error reported is the first one a reader meets; errors name
 * the 1-based line of the YAML node at fault.
 *
 * Runs in the game process at start-up: nothing is printed (the caller prints
 * err), nothing outlives the call, and a failed load leaves no half tree.
 */
#include "budgetfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../log/format.h"
#include "../support/options.h"
#include "../support/yamlfile.h"

/* Keys a node may have; the order of the table is the order of the enum. */
typedef enum gm_budgetfile_key {
	gm_budgetfile_key_name,
	gm_budgetfile_key_parent,
	gm_budgetfile_key_soft,
	gm_budgetfile_key_hard,
	gm_budgetfile_key_target,
	gm_budgetfile_key_policy,
	gm_budgetfile_key_strict,
	gm_budgetfile_key_capacity,
	gm_budgetfile_key_default,
	gm_budgetfile_key_tags,
	gm_budgetfile_key_types,
	gm_budgetfile_key_count
} gm_budgetfile_key_t;

static const char *const gm_budgetfile_keys[gm_budgetfile_key_count] = {
        "name",   "parent",   "soft",    "hard", "target", "policy",
        "strict", "capacity", "default", "tags", "types"};

#define GM_BUDGETFILE_KEY_LIST \
	"name, parent, soft, hard, target, policy, strict, capacity, default, tags or types"

/* Indexed by gm_budget_policy_t. */
static const char *const gm_budgetfile_policies[gm_budget_policy_count] = {"lru", "lfu", "largest",
                                                                           "priority"};

/* Everything one walk needs; lives on the caller's stack. */
typedef struct gm_budgetfile_ctx {
	gm_yaml_t *y;
	gm_budget_def_t *defs;
	int max;
	int ndefs;    /* defs[0..ndefs) are complete */
	int nwritten; /* defs[0..nwritten) were written to */
	int first;    /* defs[0..first) were there before (a profile's banks) */
} gm_budgetfile_ctx_t;

/* Limits given as a share of the parent's hard limit ("40%"), in millionths
 * until the node is complete; indexed soft, hard, target. */
typedef struct gm_budgetfile_shares {
	uint64_t ppm[3];
	const yaml_node_t *at[3];
} gm_budgetfile_shares_t;

/* Index of the node named name among defs[0..ctx->ndefs), or -1. */
static int gm_budgetfile_find(const gm_budgetfile_ctx_t *ctx, const char *name)
{
	int i;

	for (i = 0; i < ctx->ndefs; i++)
		if (strcmp(ctx->defs[i].name, name) == 0)
			return i;
	return -1;
}

/* 1 when def's parent chain reaches the node named name. */
static int gm_budgetfile_under(const gm_budgetfile_ctx_t *ctx, const gm_budget_def_t *def,
                               const char *name)
{
	const char *p = def->parent;
	for (int hops = 0; *p && hops <= ctx->ndefs; hops++) {
		int k;
		if (strcmp(p, name) == 0)
			return 1;
		if ((k = gm_budgetfile_find(ctx, p)) < 0)
			return 0;
		p = ctx->defs[k].parent;
	}
	return 0;
}

/* Whether tag is below prefix ("gpu/ui" below "gpu"). */
static int gm_budgetfile_tag_below(const char *tag, const char *prefix)
{
	size_t pl = strlen(prefix);
	return strncmp(tag, prefix, pl) == 0 && tag[pl] == '/';
}

/* A limit: a size, or a share of the parent's hard limit ("40%", "12.5%"),
 * kept in shares until the node is complete (the parent may come later in
 * the mapping). idx: 0 soft, 1 hard, 2 target. */
static int gm_budgetfile_limit(gm_budgetfile_ctx_t *ctx, const yaml_node_t *v, const char *what,
                               uint64_t *out, gm_budgetfile_shares_t *shares, int idx)
{
	const char *s;
	size_t len;
	uint64_t whole = 0, frac = 0, scale = 1;
	size_t i;
	int dot = 0;
	char shown[64];

	if (!gm_yaml_is_text(v) || (len = v->data.scalar.length) < 2 ||
	    gm_yaml_text(v)[len - 1] != '%')
		return gm_yaml_size(ctx->y, v, what, out);
	s = gm_yaml_text(v);
	for (i = 0; i + 1 < len; i++) {
		if (s[i] == '.' && !dot && i > 0) {
			dot = 1;
		} else if (s[i] >= '0' && s[i] <= '9' && whole < 1000 && scale < 10000) {
			if (dot) {
				frac = frac * 10 + (uint64_t)(s[i] - '0');
				scale *= 10;
			} else {
				whole = whole * 10 + (uint64_t)(s[i] - '0');
			}
		} else {
			whole = 1000;
			break;
		}
	}
	shares->ppm[idx] = whole * 10000 + frac * 10000 / scale;
	if (whole > 100 || shares->ppm[idx] == 0 || shares->ppm[idx] > 1000000)
		return gm_yaml_fail(ctx->y, gm_yaml_line(v),
		                    "expected a share of the parent's hard limit for %s (0.0001%% "
		                    "to 100%%, at most 4 decimals), got %s",
		                    what, gm_yaml_show(v, shown, sizeof(shown)));
	shares->at[idx] = v;
	*out = 0;
	return 0;
}

/* Turn the node's shares into bytes of its parent's hard limit. */
static int gm_budgetfile_resolve(gm_budgetfile_ctx_t *ctx, gm_budget_def_t *def,
                                 const gm_budgetfile_shares_t *shares)
{
	static const char *const what[3] = {"soft", "hard", "target"};
	uint64_t *field[3] = {&def->soft, &def->hard, &def->target};
	int i, p;

	for (i = 0; i < 3; i++) {
		if (!shares->at[i])
			continue;
		p = def->parent[0] ? gm_budgetfile_find(ctx, def->parent) : -1;
		if (p < 0 || !ctx->defs[p].hard)
			return gm_yaml_fail(ctx->y, gm_yaml_line(shares->at[i]),
			                    "expected a parent with a hard limit for %s %s",
			                    what[i], gm_yaml_text(shares->at[i]));
		*field[i] = (uint64_t)((unsigned __int128)ctx->defs[p].hard * shares->ppm[i] /
		                       1000000u);
		if (*field[i] == 0)
			*field[i] = 1;
	}
	return 0;
}

/* One value of a node, checked and stored; k is already known and unique. */
static int gm_budgetfile_value(gm_budgetfile_ctx_t *ctx, gm_budget_def_t *def,
                               gm_budgetfile_key_t k, const yaml_node_t *v,
                               gm_budgetfile_shares_t *shares)
{
	char shown[64];
	int i;

	switch (k) {
	case gm_budgetfile_key_name:
		if (gm_yaml_name(ctx->y, v, "node name", def->name, sizeof(def->name)))
			return -1;
		if (gm_budgetfile_find(ctx, def->name) >= 0)
			return gm_yaml_fail(ctx->y, gm_yaml_line(v),
			                    "expected a unique node name, got '%s' again",
			                    def->name);
		/* a profile's node (after its banks): "total" is the root gmtrace
		 * puts over banks that share memory (budget.c) */
		if (ctx->first > 0 && strcmp(def->name, GM_BUDGET_TOTAL) == 0)
			return gm_yaml_fail(ctx->y, gm_yaml_line(v),
			                    "expected a node name other than '%s' (under a "
			                    "platform, the node over its banks)",
			                    def->name);
		return 0;
	case gm_budgetfile_key_parent:
		if (gm_yaml_name(ctx->y, v, "parent name", def->parent, sizeof(def->parent)))
			return -1;
		if (gm_budgetfile_find(ctx, def->parent) < 0)
			return gm_yaml_fail(ctx->y, gm_yaml_line(v),
			                    "expected a parent defined above, got '%s'",
			                    def->parent);
		return 0;
	case gm_budgetfile_key_soft:
		return gm_budgetfile_limit(ctx, v, "soft", &def->soft, shares, 0);
	case gm_budgetfile_key_hard:
		return gm_budgetfile_limit(ctx, v, "hard", &def->hard, shares, 1);
	case gm_budgetfile_key_target:
		return gm_budgetfile_limit(ctx, v, "target", &def->target, shares, 2);
	case gm_budgetfile_key_capacity:
		return gm_yaml_size(ctx->y, v, "capacity", &def->capacity);
	case gm_budgetfile_key_default:
		if (gm_yaml_bool(ctx->y, v, "default", &def->is_default))
			return -1;
		for (i = 0; def->is_default && i < ctx->ndefs; i++)
			if (ctx->defs[i].is_default)
				return gm_yaml_fail(ctx->y, gm_yaml_line(v),
				                    "expected one default node, got '%s' already",
				                    ctx->defs[i].name);
		return 0;
	case gm_budgetfile_key_policy:
		for (i = 0; gm_yaml_is_text(v) && i < gm_budget_policy_count; i++) {
			if (strcasecmp(gm_yaml_text(v), gm_budgetfile_policies[i]) == 0) {
				def->policy = i;
				return 0;
			}
		}
		return gm_yaml_fail(ctx->y, gm_yaml_line(v),
		                    "expected policy lru, lfu, largest or priority, got %s",
		                    gm_yaml_show(v, shown, sizeof(shown)));
	case gm_budgetfile_key_strict:
		if (!gm_yaml_is_text(v) ||
		    gm_options_parse_bool(gm_yaml_text(v), &def->strict) != 0)
			return gm_yaml_fail(ctx->y, gm_yaml_line(v),
			                    "expected strict true or false, got %s",
			                    gm_yaml_show(v, shown, sizeof(shown)));
		return 0;
	case gm_budgetfile_key_tags:
		return gm_yaml_names(ctx->y, v, "tags", "tag name", "a node", &def->tags[0][0],
		                     sizeof(def->tags[0]), GM_BUDGET_MAX_BINDS, &def->ntags);
	case gm_budgetfile_key_types:
		return gm_yaml_names(ctx->y, v, "types", "type name", "a node", &def->types[0][0],
		                     sizeof(def->types[0]), GM_BUDGET_MAX_BINDS, &def->ntypes);
	case gm_budgetfile_key_count:
		break;
	}
	return -1;
}

/* One item of nodes: into ctx->defs[ctx->ndefs]. */
static int gm_budgetfile_node(gm_budgetfile_ctx_t *ctx, const yaml_node_t *node)
{
	const yaml_node_t *keys[gm_budgetfile_key_count] = {NULL};
	const yaml_node_t *vals[gm_budgetfile_key_count] = {NULL};
	gm_budget_def_t *def = &ctx->defs[ctx->ndefs];
	gm_budgetfile_shares_t shares;
	yaml_node_pair_t *pair;
	const yaml_node_t *k, *v;
	char shown[64];
	int i;

	if (node->type != YAML_MAPPING_NODE)
		return gm_yaml_fail(ctx->y, gm_yaml_line(node),
		                    "expected a node (a mapping with a name), got %s",
		                    gm_yaml_show(node, shown, sizeof(shown)));
	ctx->nwritten = ctx->ndefs + 1;
	memset(def, 0, sizeof(*def));
	memset(&shares, 0, sizeof(shares));
	def->policy = gm_budget_lru;
	def->strict = -1;
	for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
		k = gm_yaml_node(ctx->y, pair->key);
		v = gm_yaml_node(ctx->y, pair->value);
		for (i = 0; gm_yaml_is_text(k) && i < gm_budgetfile_key_count; i++)
			if (strcmp(gm_yaml_text(k), gm_budgetfile_keys[i]) == 0)
				break;
		if (!gm_yaml_is_text(k) || i == gm_budgetfile_key_count)
			return gm_yaml_fail(ctx->y, gm_yaml_line(k),
			                    "expected a node key (" GM_BUDGETFILE_KEY_LIST
			                    "), got %s",
			                    gm_yaml_show(k, shown, sizeof(shown)));
		if (keys[i])
			return gm_yaml_fail(ctx->y, gm_yaml_line(k),
			                    "expected %s once in a node, got it again",
			                    gm_budgetfile_keys[i]);
		keys[i] = k;
		vals[i] = v;
		if (gm_budgetfile_value(ctx, def, (gm_budgetfile_key_t)i, v, &shares))
			return -1;
	}
	if (!keys[gm_budgetfile_key_name])
		return gm_yaml_fail(ctx->y, gm_yaml_line(node), "expected a name in every node");
	if (gm_budgetfile_resolve(ctx, def, &shares))
		return -1;
	if (def->capacity > GM_BUDGET_MAX_CAPACITY)
		return gm_yaml_fail(ctx->y, gm_yaml_line(keys[gm_budgetfile_key_capacity]),
		                    "expected a capacity of at most 64GiB (a bank's heap), got %s",
		                    gm_yaml_text(vals[gm_budgetfile_key_capacity]));
	/* a node with a capacity (a memory bank) never holds more than it */
	if (def->capacity && def->hard > def->capacity)
		return gm_yaml_fail(ctx->y, gm_yaml_line(keys[gm_budgetfile_key_hard]),
		                    "expected hard <= capacity, got hard %s > capacity %s",
		                    gm_yaml_text(vals[gm_budgetfile_key_hard]),
		                    gm_yaml_text(vals[gm_budgetfile_key_capacity]));
	if (def->capacity && !def->hard)
		def->hard = def->capacity;
	/* reported on the line of the lower limit, the one that overshoots */
	if (def->soft && def->hard && def->soft > def->hard)
		return gm_yaml_fail(ctx->y, gm_yaml_line(keys[gm_budgetfile_key_soft]),
		                    "expected soft <= hard, got soft %s > hard %s",
		                    gm_yaml_text(vals[gm_budgetfile_key_soft]),
		                    gm_yaml_text(vals[gm_budgetfile_key_hard] ?
		                                         vals[gm_budgetfile_key_hard] :
		                                         vals[gm_budgetfile_key_capacity]));
	if (def->target && def->soft && def->target > def->soft)
		return gm_yaml_fail(ctx->y, gm_yaml_line(keys[gm_budgetfile_key_target]),
		                    "expected target <= soft, got target %s > soft %s",
		                    gm_yaml_text(vals[gm_budgetfile_key_target]),
		                    gm_yaml_text(vals[gm_budgetfile_key_soft]));
	/* a tag or type bound to two nodes: only one could serve it. A
	 * profile's bank (i < first) may bind what a node under it binds too
	 * (the node refines it; a node without a parent goes under the
	 * default bank), not what a node under another bank binds, nor a tag
	 * below one of its tags (the longest bound prefix wins): that bank
	 * would never see it */
	for (i = 0; i < ctx->ndefs; i++) {
		const gm_budget_def_t *o = &ctx->defs[i];
		const char *both;
		int is_type;
		if (i < ctx->first &&
		    (gm_budgetfile_under(ctx, def, o->name) || (!def->parent[0] && o->is_default)))
			continue;
		if ((both = gm_budget_def_clash(def, o, &is_type)) != NULL)
			return gm_yaml_fail(
			        ctx->y,
			        gm_yaml_line(keys[is_type ? gm_budgetfile_key_types :
			                                    gm_budgetfile_key_tags]),
			        "expected each %s bound to one node, got '%s' bound to '%s' already",
			        is_type ? "type" : "tag", both, o->name);
		for (int t = 0; i < ctx->first && t < def->ntags; t++)
			for (int j = 0; j < o->ntags; j++)
				if (gm_budgetfile_tag_below(def->tags[t], o->tags[j]))
					return gm_yaml_fail(
					        ctx->y, gm_yaml_line(keys[gm_budgetfile_key_tags]),
					        "expected the tags of a node outside bank '%s' not to "
					        "be below its tag '%s', got '%s'",
					        o->name, o->tags[j], def->tags[t]);
	}
	ctx->ndefs++;
	return 0;
}

const char *gm_budget_def_clash(const gm_budget_def_t *a, const gm_budget_def_t *b, int *is_type)
{
	int i, j;
	for (i = 0; i < a->ntags; i++)
		for (j = 0; j < b->ntags; j++)
			if (strcmp(a->tags[i], b->tags[j]) == 0) {
				*is_type = 0;
				return a->tags[i];
			}
	for (i = 0; i < a->ntypes; i++)
		for (j = 0; j < b->ntypes; j++)
			if (strcmp(a->types[i], b->types[j]) == 0) {
				*is_type = 1;
				return a->types[i];
			}
	return NULL;
}

/* nodes: - a non-empty list of at most ctx->max nodes. */
static int gm_budgetfile_nodes(gm_budgetfile_ctx_t *ctx, const yaml_node_t *v)
{
	yaml_node_item_t *item;
	const yaml_node_t *it;
	char shown[64];

	if (v->type != YAML_SEQUENCE_NODE)
		return gm_yaml_fail(ctx->y, gm_yaml_line(v),
		                    "expected nodes to be a list of nodes, got %s",
		                    gm_yaml_show(v, shown, sizeof(shown)));
	if (v->data.sequence.items.start == v->data.sequence.items.top)
		return gm_yaml_fail(ctx->y, gm_yaml_line(v), "expected at least one node");
	for (item = v->data.sequence.items.start; item < v->data.sequence.items.top; item++) {
		it = gm_yaml_node(ctx->y, *item);
		if (ctx->ndefs >= ctx->max)
			return gm_yaml_fail(ctx->y, gm_yaml_line(it), "expected at most %d nodes",
			                    ctx->max < 0 ? 0 : ctx->max);
		if (gm_budgetfile_node(ctx, it))
			return -1;
	}
	return 0;
}

/* The top-level mapping: mode and nodes. */
static int gm_budgetfile_root(gm_budgetfile_ctx_t *ctx, const yaml_node_t *root, int *strict)
{
	const yaml_node_t *mode = NULL, *nodes = NULL;
	yaml_node_pair_t *pair;
	const yaml_node_t *k, *v;
	char shown[64];

	if (!root)
		return gm_yaml_fail(ctx->y, 1,
		                    "expected a mapping with mode and nodes, got "
		                    "an empty file");
	if (root->type != YAML_MAPPING_NODE)
		return gm_yaml_fail(ctx->y, gm_yaml_line(root),
		                    "expected a mapping with mode and nodes, got %s",
		                    gm_yaml_show(root, shown, sizeof(shown)));
	*strict = 0;
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		k = gm_yaml_node(ctx->y, pair->key);
		v = gm_yaml_node(ctx->y, pair->value);
		if (gm_yaml_is_text(k) && strcmp(gm_yaml_text(k), "mode") == 0) {
			if (mode)
				return gm_yaml_fail(ctx->y, gm_yaml_line(k),
				                    "expected mode once, got it again");
			mode = k;
			if (gm_yaml_is_text(v) && strcasecmp(gm_yaml_text(v), "soft") == 0)
				*strict = 0;
			else if (gm_yaml_is_text(v) && strcasecmp(gm_yaml_text(v), "strict") == 0)
				*strict = 1;
			else
				return gm_yaml_fail(ctx->y, gm_yaml_line(v),
				                    "expected mode soft or strict, got %s",
				                    gm_yaml_show(v, shown, sizeof(shown)));
		} else if (gm_yaml_is_text(k) && strcmp(gm_yaml_text(k), "nodes") == 0) {
			if (nodes)
				return gm_yaml_fail(ctx->y, gm_yaml_line(k),
				                    "expected nodes once, got it again");
			nodes = k;
			if (gm_budgetfile_nodes(ctx, v))
				return -1;
		} else {
			return gm_yaml_fail(ctx->y, gm_yaml_line(k),
			                    "expected mode or nodes, got %s",
			                    gm_yaml_show(k, shown, sizeof(shown)));
		}
	}
	if (!nodes)
		return gm_yaml_fail(ctx->y, gm_yaml_line(root), "expected a nodes list");
	return 0;
}

/* Parse the file at path into defs (at most max); see budgetfile.h. On
 * error, *n and *strict are left alone and the defs written are zeroed. */
int gm_budgetfile_load(const char *path, gm_budget_def_t *defs, int max, int *n, int *strict,
                       char *err, size_t errlen)
{
	gm_yaml_t y;
	gm_budgetfile_ctx_t ctx = {&y, defs, max, 0, 0, 0};
	int mode = 0, rc = -1;

	if (gm_yaml_open(&y, path, err, errlen) == 0 &&
	    gm_budgetfile_root(&ctx, gm_yaml_root(&y), &mode) == 0) {
		*n = ctx.ndefs;
		*strict = mode;
		rc = 0;
	}
	if (rc && ctx.nwritten)
		memset(defs, 0, (size_t)ctx.nwritten * sizeof(*defs));
	gm_yaml_close(&y);
	return rc;
}

int gm_budgetfile_nodes_in(gm_yaml_t *y, const yaml_node_t *list, gm_budget_def_t *defs, int max,
                           int *n)
{
	gm_budgetfile_ctx_t ctx = {y, defs, max, *n, *n, *n};

	if (gm_budgetfile_nodes(&ctx, list)) {
		if (ctx.nwritten > ctx.first)
			memset(defs + ctx.first, 0,
			       (size_t)(ctx.nwritten - ctx.first) * sizeof(*defs));
		return -1;
	}
	*n = ctx.ndefs;
	return 0;
}

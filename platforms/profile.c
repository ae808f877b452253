/* profile.c - load a platform profile, find profiles on the search path
 *
 * The file is walked once in file order, top-level keys in any order; the
 * first error a reader meets is the one reported. Banks are checked against
 * the device (each and all together fit in its physical memory; one
 * default), then the budget nodes are read by the budget file reader with
 * the banks already defined, so a node's parent may be a bank and its
 * limits shares of the bank.
 *
 * Runs in the game process too (GMTRACE_PLATFORM): no stdio, nothing kept
 * after the call but *p.
 */
#define _GNU_SOURCE
#include "profile.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interpose/log/format.h"
#include "interpose/support/support.h"
#include "interpose/support/yamlfile.h"

#ifndef GM_PLATFORM_DIR
#define GM_PLATFORM_DIR "/usr/share/gmtrace/platforms"
#endif

int gm_platform_valid_name(const char *name)
{
	size_t i, n = strlen(name);
	if (n == 0 || n >= GM_PLATFORM_NAME)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_' || name[i] == '-'))
			return 0;
	return 1;
}

/* The file's name without directory and .yaml. */
static void gm_platform_stem(const char *path, char *out, size_t cap)
{
	const char *base = strrchr(path, '/');
	size_t n;
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".yaml") == 0)
		n -= 5;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, base, n);
	out[n] = '\0';
}

/* {size: ..., source: "..."}: a figure and where it was published. */
static int gm_platform_fact(gm_yaml_t *y, const yaml_node_t *v, const char *what,
                            gm_platform_fact_t *f)
{
	yaml_node_pair_t *pair;
	const yaml_node_t *size = NULL, *source = NULL;
	char shown[64];

	if (v->type != YAML_MAPPING_NODE)
		return gm_yaml_fail(
		        y, gm_yaml_line(v),
		        "expected %s as {size: ..., source: \"where it was published\"}, "
		        "got %s",
		        what, gm_yaml_show(v, shown, sizeof(shown)));
	for (pair = v->data.mapping.pairs.start; pair < v->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = gm_yaml_node(y, pair->key);
		const yaml_node_t **slot = gm_yaml_is(k, "size")   ? &size :
		                           gm_yaml_is(k, "source") ? &source :
		                                                     NULL;
		if (!slot)
			return gm_yaml_fail(y, gm_yaml_line(k),
			                    "expected size or source in %s, got %s", what,
			                    gm_yaml_show(k, shown, sizeof(shown)));
		if (*slot)
			return gm_yaml_fail(y, gm_yaml_line(k),
			                    "expected %s once in %s, got it again", gm_yaml_text(k),
			                    what);
		*slot = gm_yaml_node(y, pair->value);
	}
	if (!size)
		return gm_yaml_fail(y, gm_yaml_line(v), "expected a size in %s", what);
	if (!source)
		return gm_yaml_fail(y, gm_yaml_line(v),
		                    "expected a source in %s (where the figure was published)",
		                    what);
	if (gm_yaml_size(y, size, what, &f->bytes))
		return -1;
	{
		char name[32];
		snprintf(name, sizeof(name), "source of %s", what);
		return gm_yaml_name(y, source, name, f->source, sizeof(f->source));
	}
}

typedef enum gm_platform_bank_key {
	gm_bank_key_name,
	gm_bank_key_capacity,
	gm_bank_key_default,
	gm_bank_key_tags,
	gm_bank_key_types,
	gm_bank_key_note,
	gm_bank_key_count
} gm_platform_bank_key_t;

static const char *const gm_bank_keys[gm_bank_key_count] = {"name", "capacity", "default",
                                                            "tags", "types",    "note"};

static int gm_platform_bank(gm_yaml_t *y, const yaml_node_t *node, gm_platform_t *p)
{
	const yaml_node_t *seen[gm_bank_key_count] = {NULL};
	gm_platform_bank_t *b = &p->banks[p->nbanks];
	gm_budget_def_t *d = &p->defs[p->nbanks];
	yaml_node_pair_t *pair;
	char shown[64];
	int i;

	if (node->type != YAML_MAPPING_NODE)
		return gm_yaml_fail(y, gm_yaml_line(node),
		                    "expected a bank (a mapping with name and capacity), got %s",
		                    gm_yaml_show(node, shown, sizeof(shown)));
	memset(b, 0, sizeof(*b));
	memset(d, 0, sizeof(*d));
	d->strict = -1;
	for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = gm_yaml_node(y, pair->key);
		const yaml_node_t *v = gm_yaml_node(y, pair->value);
		for (i = 0; i < gm_bank_key_count && !gm_yaml_is(k, gm_bank_keys[i]); i++)
			;
		if (i == gm_bank_key_count)
			return gm_yaml_fail(
			        y, gm_yaml_line(k),
			        "expected a bank key (name, capacity, default, tags, types "
			        "or note), got %s",
			        gm_yaml_show(k, shown, sizeof(shown)));
		if (seen[i])
			return gm_yaml_fail(y, gm_yaml_line(k),
			                    "expected %s once in a bank, got it again",
			                    gm_bank_keys[i]);
		seen[i] = k;
		switch ((gm_platform_bank_key_t)i) {
		case gm_bank_key_name:
			if (gm_yaml_name(y, v, "bank name", b->name, sizeof(b->name)))
				return -1;
			if (strcmp(b->name, GM_BUDGET_TOTAL) == 0)
				return gm_yaml_fail(
				        y, gm_yaml_line(v),
				        "expected a bank name other than '%s' (the node "
				        "over banks that share memory)",
				        b->name);
			for (int j = 0; j < p->nbanks; j++)
				if (strcmp(p->banks[j].name, b->name) == 0)
					return gm_yaml_fail(
					        y, gm_yaml_line(v),
					        "expected a unique bank name, got '%s' again",
					        b->name);
			break;
		case gm_bank_key_capacity:
			if (gm_platform_fact(y, v, "capacity", &b->capacity))
				return -1;
			break;
		case gm_bank_key_default:
			if (gm_yaml_bool(y, v, "default", &b->is_default))
				return -1;
			for (int j = 0; b->is_default && j < p->nbanks; j++)
				if (p->banks[j].is_default)
					return gm_yaml_fail(
					        y, gm_yaml_line(v),
					        "expected one default bank, got '%s' already",
					        p->banks[j].name);
			break;
		case gm_bank_key_tags:
			if (gm_yaml_names(y, v, "tags", "tag name", "a bank", &d->tags[0][0],
			                  sizeof(d->tags[0]), GM_BUDGET_MAX_BINDS, &d->ntags))
				return -1;
			break;
		case gm_bank_key_types:
			if (gm_yaml_names(y, v, "types", "type name", "a bank", &d->types[0][0],
			                  sizeof(d->types[0]), GM_BUDGET_MAX_BINDS, &d->ntypes))
				return -1;
			break;
		case gm_bank_key_note:
			if (gm_yaml_name(y, v, "note", b->note, sizeof(b->note)))
				return -1;
			break;
		case gm_bank_key_count:
			break;
		}
	}
	if (!seen[gm_bank_key_name])
		return gm_yaml_fail(y, gm_yaml_line(node), "expected a name in every bank");
	if (!seen[gm_bank_key_capacity])
		return gm_yaml_fail(y, gm_yaml_line(node), "expected a capacity in bank '%s'",
		                    b->name);
	if (b->capacity.bytes > GM_BUDGET_MAX_CAPACITY)
		return gm_yaml_fail(
		        y, gm_yaml_line(seen[gm_bank_key_capacity]),
		        "expected a bank of at most 64GiB (a bank's heap), got %llu bytes",
		        (unsigned long long)b->capacity.bytes);
	if (p->physical.bytes && b->capacity.bytes > p->physical.bytes)
		return gm_yaml_fail(
		        y, gm_yaml_line(seen[gm_bank_key_capacity]),
		        "expected bank '%s' to fit in the physical memory (%llu bytes), "
		        "got %llu bytes",
		        b->name, (unsigned long long)p->physical.bytes,
		        (unsigned long long)b->capacity.bytes);
	/* a tag or type bound to two banks: only one could serve it */
	for (int j = 0; j < p->nbanks; j++) {
		int is_type;
		const char *both = gm_budget_def_clash(d, &p->defs[j], &is_type);
		if (both)
			return gm_yaml_fail(
			        y,
			        gm_yaml_line(seen[is_type ? gm_bank_key_types : gm_bank_key_tags]),
			        "expected each %s bound to one bank, got '%s' bound to '%s' already",
			        is_type ? "type" : "tag", both, p->defs[j].name);
	}
	gm_support_strlcpy(d->name, b->name, sizeof(d->name));
	d->capacity = b->capacity.bytes;
	d->hard = b->capacity.bytes;
	d->policy = gm_budget_lru;
	d->is_default = b->is_default;
	p->nbanks++;
	return 0;
}

static int gm_platform_banks(gm_yaml_t *y, const yaml_node_t *v, gm_platform_t *p)
{
	yaml_node_item_t *it;
	uint64_t sum = 0;
	char shown[64];
	int i, ndefault = 0;

	if (v->type != YAML_SEQUENCE_NODE)
		return gm_yaml_fail(y, gm_yaml_line(v),
		                    "expected banks to be a list of banks, got %s",
		                    gm_yaml_show(v, shown, sizeof(shown)));
	if (v->data.sequence.items.start == v->data.sequence.items.top)
		return gm_yaml_fail(y, gm_yaml_line(v),
		                    "expected at least one bank in banks, got an empty list");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *e = gm_yaml_node(y, *it);
		if (p->nbanks == GM_PLATFORM_MAX_BANKS)
			return gm_yaml_fail(y, gm_yaml_line(e), "expected at most %d banks",
			                    GM_PLATFORM_MAX_BANKS);
		if (gm_platform_bank(y, e, p))
			return -1;
		sum += p->banks[p->nbanks - 1].capacity.bytes;
	}
	for (i = 0; i < p->nbanks; i++)
		ndefault += p->banks[i].is_default;
	if (p->nbanks == 1 && !ndefault) {
		/* one bank holds everything */
		p->banks[0].is_default = 1;
		p->defs[0].is_default = 1;
	} else if (!ndefault) {
		return gm_yaml_fail(y, gm_yaml_line(v),
		                    "expected one bank with default: true (it holds what no other "
		                    "bank binds)");
	}
	if (p->physical.bytes && sum > p->physical.bytes)
		return gm_yaml_fail(
		        y, gm_yaml_line(v),
		        "expected the banks to fit in the physical memory (%llu bytes), "
		        "got %llu bytes together",
		        (unsigned long long)p->physical.bytes, (unsigned long long)sum);
	p->ndefs = p->nbanks;
	return 0;
}

typedef enum gm_platform_key {
	gm_pkey_name,
	gm_pkey_title,
	gm_pkey_family,
	gm_pkey_physical,
	gm_pkey_available,
	gm_pkey_page_size,
	gm_pkey_banks,
	gm_pkey_budget,
	gm_pkey_notes,
	gm_pkey_count
} gm_platform_key_t;

static const char *const gm_platform_keys[gm_pkey_count] = {"name",     "title",     "family",
                                                            "physical", "available", "page_size",
                                                            "banks",    "budget",    "notes"};

static const char *const gm_platform_families[] = {"console", "handheld", "pc", "phone", "web"};

static int gm_platform_root(gm_yaml_t *y, const yaml_node_t *root, gm_platform_t *p)
{
	const yaml_node_t *seen[gm_pkey_count] = {NULL}, *vals[gm_pkey_count] = {NULL};
	yaml_node_pair_t *pair;
	char shown[64], stem[GM_PLATFORM_NAME];
	int i;

	if (!root || root->type != YAML_MAPPING_NODE)
		return gm_yaml_fail(y, root ? gm_yaml_line(root) : 1,
		                    "expected a mapping with name, title, family, physical, "
		                    "available and banks, got %s",
		                    root ? gm_yaml_show(root, shown, sizeof(shown)) :
		                           "an empty file");
	/* first pass: which keys, in file order; physical comes before banks
	 * are checked whatever the order in the file */
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		const yaml_node_t *k = gm_yaml_node(y, pair->key);
		for (i = 0; i < gm_pkey_count && !gm_yaml_is(k, gm_platform_keys[i]); i++)
			;
		if (i == gm_pkey_count)
			return gm_yaml_fail(
			        y, gm_yaml_line(k),
			        "expected a profile key (name, title, family, physical, "
			        "available, page_size, banks, budget or notes), got %s",
			        gm_yaml_show(k, shown, sizeof(shown)));
		if (seen[i])
			return gm_yaml_fail(y, gm_yaml_line(k), "expected %s once, got it again",
			                    gm_platform_keys[i]);
		seen[i] = k;
		vals[i] = gm_yaml_node(y, pair->value);
	}
	for (i = 0; i <= gm_pkey_available; i++)
		if (!seen[i])
			return gm_yaml_fail(y, gm_yaml_line(root), "expected %s in the profile",
			                    gm_platform_keys[i]);
	if (!seen[gm_pkey_banks])
		return gm_yaml_fail(y, gm_yaml_line(root), "expected banks in the profile");
	if (gm_yaml_name(y, vals[gm_pkey_name], "profile name", p->name, sizeof(p->name)))
		return -1;
	if (!gm_platform_valid_name(p->name))
		return gm_yaml_fail(y, gm_yaml_line(vals[gm_pkey_name]),
		                    "expected a profile name of a-z, 0-9, '_' and '-', got '%s'",
		                    p->name);
	gm_platform_stem(y->path, stem, sizeof(stem));
	if (strcmp(stem, p->name) != 0)
		return gm_yaml_fail(y, gm_yaml_line(vals[gm_pkey_name]),
		                    "expected name '%s' (the file's name without .yaml), got '%s'",
		                    stem, p->name);
	if (gm_yaml_name(y, vals[gm_pkey_title], "title", p->title, sizeof(p->title)))
		return -1;
	if (gm_yaml_name(y, vals[gm_pkey_family], "family", p->family, sizeof(p->family)))
		return -1;
	for (i = 0; i < 5 && strcmp(p->family, gm_platform_families[i]) != 0; i++)
		;
	if (i == 5)
		return gm_yaml_fail(y, gm_yaml_line(vals[gm_pkey_family]),
		                    "expected family console, handheld, pc, phone or web, got '%s'",
		                    p->family);
	if (gm_platform_fact(y, vals[gm_pkey_physical], "physical", &p->physical) ||
	    gm_platform_fact(y, vals[gm_pkey_available], "available", &p->available))
		return -1;
	if (p->available.bytes > p->physical.bytes)
		return gm_yaml_fail(y, gm_yaml_line(vals[gm_pkey_available]),
		                    "expected available <= physical, got %llu > %llu bytes",
		                    (unsigned long long)p->available.bytes,
		                    (unsigned long long)p->physical.bytes);
	if (seen[gm_pkey_page_size] &&
	    gm_platform_fact(y, vals[gm_pkey_page_size], "page_size", &p->page_size))
		return -1;
	if (gm_platform_banks(y, vals[gm_pkey_banks], p))
		return -1;
	if (seen[gm_pkey_budget] && gm_budgetfile_nodes_in(y, vals[gm_pkey_budget], p->defs,
	                                                   GM_BUDGET_MAX_NODES, &p->ndefs))
		return -1;
	if (seen[gm_pkey_notes] &&
	    gm_yaml_name(y, vals[gm_pkey_notes], "notes", p->notes, sizeof(p->notes)))
		return -1;
	return 0;
}

int gm_platform_load(const char *path, gm_platform_t *p, char *err, size_t errlen)
{
	gm_yaml_t y;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (gm_yaml_open(&y, path, err, errlen) == 0 &&
	    gm_platform_root(&y, gm_yaml_root(&y), p) == 0)
		rc = 0;
	gm_yaml_close(&y);
	if (rc)
		memset(p, 0, sizeof(*p));
	else
		gm_support_strlcpy(p->path, path, sizeof(p->path));
	return rc;
}

int gm_platform_dirs(char dirs[][GM_PLATFORM_PATH], int max)
{
	const char *env = getenv("GMTRACE_PLATFORM_PATH");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	int n = 0;

	while (env && *env && n < max) {
		const char *colon = strchr(env, ':');
		size_t len = colon ? (size_t)(colon - env) : strlen(env);
		if (len && len < GM_PLATFORM_PATH) {
			memcpy(dirs[n], env, len);
			dirs[n++][len] = '\0';
		}
		env = colon ? colon + 1 : NULL;
	}
	if (n < max && xdg && *xdg)
		snprintf(dirs[n++], GM_PLATFORM_PATH, "%s/gmtrace/platforms", xdg);
	else if (n < max && home && *home)
		snprintf(dirs[n++], GM_PLATFORM_PATH, "%s/.config/gmtrace/platforms", home);
	if (n < max)
		snprintf(dirs[n++], GM_PLATFORM_PATH, "%s", GM_PLATFORM_DIR);
#ifdef GM_PLATFORM_INSTALL_DIR
	if (n < max && strcmp(GM_PLATFORM_INSTALL_DIR, GM_PLATFORM_DIR) != 0)
		snprintf(dirs[n++], GM_PLATFORM_PATH, "%s", GM_PLATFORM_INSTALL_DIR);
#endif
	return n;
}

int gm_platform_find(const char *name, char *path, size_t cap, char *err, size_t errlen)
{
	char dirs[GM_PLATFORM_MAX_DIRS][GM_PLATFORM_PATH];
	int i, n;
	size_t len;

	if (!name || !*name) {
		snprintf(err, errlen, "expected a platform name or a profile file");
		return -1;
	}
	if (strchr(name, '/') ||
	    ((len = strlen(name)) > 5 && strcmp(name + len - 5, ".yaml") == 0)) {
		if (access(name, R_OK) != 0) {
			snprintf(err, errlen, "%s: %s", name, strerror(errno));
			return -1;
		}
		snprintf(path, cap, "%s", name);
		return 0;
	}
	if (!gm_platform_valid_name(name)) {
		if (len >= GM_PLATFORM_NAME)
			snprintf(err, errlen,
			         "expected a platform name of at most %d characters (or a .yaml "
			         "file), got one of %zu",
			         GM_PLATFORM_NAME - 1, len);
		else
			snprintf(err, errlen,
			         "expected a platform name of a-z, 0-9, '_' and '-' (or a .yaml "
			         "file), got '%.64s'",
			         name);
		return -1;
	}
	n = gm_platform_dirs(dirs, GM_PLATFORM_MAX_DIRS);
	for (i = 0; i < n; i++) {
		snprintf(path, cap, "%s/%s.yaml", dirs[i], name);
		if (access(path, R_OK) == 0)
			return 0;
	}
	snprintf(err, errlen,
	         "no platform profile '%s' in %s%s%s%s (see `gmtrace platforms --list`)", name,
	         dirs[0], n > 1 ? ", " : "", n > 1 ? dirs[1] : "", n > 2 ? " or others" : "");
	return -1;
}

static int gm_platform_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

int gm_platform_list(char names[][GM_PLATFORM_NAME], char paths[][GM_PLATFORM_PATH], int max)
{
	char dirs[GM_PLATFORM_MAX_DIRS][GM_PLATFORM_PATH];
	int i, k, n = 0, nd = gm_platform_dirs(dirs, GM_PLATFORM_MAX_DIRS);

	for (i = 0; i < nd; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		if (!d)
			continue;
		while ((e = readdir(d)) && n < max) {
			char stem[GM_PLATFORM_NAME];
			size_t len = strlen(e->d_name);
			int dup = 0;
			if (len <= 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
				continue;
			gm_platform_stem(e->d_name, stem, sizeof(stem));
			if (!gm_platform_valid_name(stem))
				continue;
			for (k = 0; k < n && !dup; k++)
				dup = strcmp(names[k], stem) == 0;
			if (dup)
				continue;
			if (snprintf(paths[n], GM_PLATFORM_PATH, "%s/%s", dirs[i], e->d_name) >=
			    GM_PLATFORM_PATH)
				continue;
			memcpy(names[n], stem, sizeof(stem));
			n++;
		}
		closedir(d);
	}
	/* sort names and paths together: sort an index */
	{
		char(*both)[GM_PLATFORM_NAME + GM_PLATFORM_PATH] =
		        malloc((size_t)n * sizeof(*both));
		if (!both)
			return n;
		for (i = 0; i < n; i++) {
			memcpy(both[i], names[i], GM_PLATFORM_NAME);
			memcpy(both[i] + GM_PLATFORM_NAME, paths[i], GM_PLATFORM_PATH);
		}
		qsort(both, (size_t)n, sizeof(*both), gm_platform_cmp);
		for (i = 0; i < n; i++) {
			memcpy(names[i], both[i], GM_PLATFORM_NAME);
			memcpy(paths[i], both[i] + GM_PLATFORM_NAME, GM_PLATFORM_PATH);
		}
		free(both);
	}
	return n;
}

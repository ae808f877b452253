/* budgetfile.c - read a budget tree from a YAML file (GMTRACE_BUDGETS)
 *
 * The file is loaded whole with libyaml's document API, then walked once in
 * file order, so the error reported is the first one a reader meets. Every
 * node of the document carries its start mark; errors name the 1-based line
 * of the node at fault. The file is read with read(2) through a libyaml read
 * handler: no stdio, and an I/O error is told apart from bad text.
 *
 * Runs in the game process at start-up: nothing is printed (the caller prints
 * err), nothing outlives the call, and a failed load leaves no half tree.
 */
#include "budgetfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "../log/format.h"
#include "../support/options.h"

/* Keys a node may have; the order of the table is the order of the enum. */
typedef enum gm_budgetfile_key {
	gm_budgetfile_key_name,
	gm_budgetfile_key_parent,
	gm_budgetfile_key_soft,
	gm_budgetfile_key_hard,
	gm_budgetfile_key_target,
	gm_budgetfile_key_policy,
	gm_budgetfile_key_strict,
	gm_budgetfile_key_tags,
	gm_budgetfile_key_types,
	gm_budgetfile_key_count
} gm_budgetfile_key_t;

static const char *const gm_budgetfile_keys[gm_budgetfile_key_count] = {
        "name", "parent", "soft", "hard", "target", "policy", "strict", "tags", "types"};

#define GM_BUDGETFILE_KEY_LIST "name, parent, soft, hard, target, policy, strict, tags or types"

/* Indexed by gm_budget_policy_t. */
static const char *const gm_budgetfile_policies[gm_budget_policy_count] = {"lru", "lfu", "largest",
                                                                           "priority"};

/* Everything one load needs; lives on the caller's stack. */
typedef struct gm_budgetfile_ctx {
	const char *path;
	char *err;
	size_t errlen;
	int fd;
	int read_errno; /* set by the read handler when read(2) fails */
	yaml_document_t *doc;
	gm_budget_def_t *defs;
	int max;
	int ndefs;    /* defs[0..ndefs) are complete */
	int nwritten; /* defs[0..nwritten) were written to */
} gm_budgetfile_ctx_t;

/* libyaml read handler: 1 with *size_read bytes (0 at the end), or 0 with
 * ctx->read_errno set. */
static int gm_budgetfile_read(void *data, unsigned char *buf, size_t size, size_t *size_read)
{
	gm_budgetfile_ctx_t *ctx = data;
	ssize_t got;

	do {
		got = read(ctx->fd, buf, size);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		ctx->read_errno = errno;
		return 0;
	}
	*size_read = (size_t)got;
	return 1;
}

/* Write "<path>:<line>: <message>" (line 0: "<path>: <message>") into err;
 * returns -1 so callers can `return gm_budgetfile_fail(...)`. */
__attribute__((format(printf, 3, 4))) static int
gm_budgetfile_fail(gm_budgetfile_ctx_t *ctx, size_t line, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (!ctx->err || ctx->errlen == 0)
		return -1;
	if (line)
		len = snprintf(ctx->err, ctx->errlen, "%s:%zu: ", ctx->path, line);
	else
		len = snprintf(ctx->err, ctx->errlen, "%s: ", ctx->path);
	if (len < 0 || (size_t)len >= ctx->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ctx->err + len, ctx->errlen - (size_t)len, fmt, ap);
	va_end(ap);
	return -1;
}

/* The 1-based line a node starts on. */
static size_t gm_budgetfile_line(const yaml_node_t *node)
{
	return node->start_mark.line + 1;
}

/* A scalar holding text without NUL bytes (libyaml allows "\0" escapes). */
static int gm_budgetfile_is_text(const yaml_node_t *node)
{
	return node->type == YAML_SCALAR_NODE &&
	       strlen((const char *)node->data.scalar.value) == node->data.scalar.length;
}

static const char *gm_budgetfile_text(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* How a node reads in a message: a scalar quoted and cut short, on one line
 * (control bytes become '?'); anything else by its kind. */
static const char *gm_budgetfile_show(const yaml_node_t *node, char *buf, size_t cap)
{
	const unsigned char *s;
	size_t i, n, len;

	if (node->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (node->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (node->data.scalar.length == 0)
		return "nothing";
	s = node->data.scalar.value;
	len = node->data.scalar.length;
	n = 0;
	buf[n++] = '\'';
	for (i = 0; i < len && n + 5 < cap; i++)
		buf[n++] = s[i] < 0x20 || s[i] == 0x7f ? '?' : (char)s[i];
	if (i < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

/* Copy a non-empty name shorter than cap bytes into dst; what names it. */
static int gm_budgetfile_name(gm_budgetfile_ctx_t *ctx, const yaml_node_t *v, const char *what,
                              char *dst, size_t cap)
{
	char shown[64];

	if (!gm_budgetfile_is_text(v))
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(v), "expected a %s, got %s", what,
		                          gm_budgetfile_show(v, shown, sizeof(shown)));
	if (v->data.scalar.length == 0)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(v), "expected a non-empty %s",
		                          what);
	if (v->data.scalar.length >= cap)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(v),
		                          "expected a %s shorter than %zu bytes, got %zu bytes",
		                          what, cap, v->data.scalar.length);
	memcpy(dst, v->data.scalar.value, v->data.scalar.length + 1);
	return 0;
}

/* Index of the node named name among defs[0..ctx->ndefs), or -1. */
static int gm_budgetfile_find(const gm_budgetfile_ctx_t *ctx, const char *name)
{
	int i;

	for (i = 0; i < ctx->ndefs; i++)
		if (strcmp(ctx->defs[i].name, name) == 0)
			return i;
	return -1;
}

/* A size above zero (0 means "no limit" in gm_budget_def_t). */
static int gm_budgetfile_size(gm_budgetfile_ctx_t *ctx, const yaml_node_t *v, const char *what,
                              uint64_t *out)
{
	char shown[64];

	if (!gm_budgetfile_is_text(v) || gm_options_parse_size(gm_budgetfile_text(v), out) != 0)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(v),
		                          "expected a size for %s (bytes, or with K/M/G or "
		                          "KiB/MiB/GiB), got %s",
		                          what, gm_budgetfile_show(v, shown, sizeof(shown)));
	if (*out == 0)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(v),
		                          "expected a size above zero for %s (leave it out for no "
		                          "limit)",
		                          what);
	return 0;
}

/* tags: or types: - a list of at most GM_BUDGET_MAX_BINDS names, each
 * shorter than cap, into dst (rows of cap bytes); key is "tags" or "types",
 * item names one entry ("tag name"). */
static int gm_budgetfile_binds(gm_budgetfile_ctx_t *ctx, const yaml_node_t *v, const char *key,
                               const char *item_name, char *dst, size_t cap, int *n)
{
	yaml_node_item_t *item;
	const yaml_node_t *it;
	char shown[64];

	if (v->type != YAML_SEQUENCE_NODE)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(v),
		                          "expected %s to be a list of names (like [a, b]), got %s",
		                          key, gm_budgetfile_show(v, shown, sizeof(shown)));
	*n = 0;
	for (item = v->data.sequence.items.start; item < v->data.sequence.items.top; item++) {
		it = yaml_document_get_node(ctx->doc, *item);
		if (*n == GM_BUDGET_MAX_BINDS)
			return gm_budgetfile_fail(ctx, gm_budgetfile_line(it),
			                          "expected at most %d %s in a node",
			                          GM_BUDGET_MAX_BINDS, key);
		if (gm_budgetfile_name(ctx, it, item_name, dst + (size_t)*n * cap, cap))
			return -1;
		(*n)++;
	}
	return 0;
}

/* One value of a node, checked and stored; k is already known and unique. */
static int gm_budgetfile_value(gm_budgetfile_ctx_t *ctx, gm_budget_def_t *def,
                               gm_budgetfile_key_t k, const yaml_node_t *v)
{
	char shown[64];
	int i;

	switch (k) {
	case gm_budgetfile_key_name:
		if (gm_budgetfile_name(ctx, v, "node name", def->name, sizeof(def->name)))
			return -1;
		if (gm_budgetfile_find(ctx, def->name) >= 0)
			return gm_budgetfile_fail(ctx, gm_budgetfile_line(v),
			                          "expected a unique node name, got '%s' again",
			                          def->name);
		return 0;
	case gm_budgetfile_key_parent:
		if (gm_budgetfile_name(ctx, v, "parent name", def->parent, sizeof(def->parent)))
			return -1;
		if (gm_budgetfile_find(ctx, def->parent) < 0)
			return gm_budgetfile_fail(ctx, gm_budgetfile_line(v),
			                          "expected a parent defined above, got '%s'",
			                          def->parent);
		return 0;
	case gm_budgetfile_key_soft:
		return gm_budgetfile_size(ctx, v, "soft", &def->soft);
	case gm_budgetfile_key_hard:
		return gm_budgetfile_size(ctx, v, "hard", &def->hard);
	case gm_budgetfile_key_target:
		return gm_budgetfile_size(ctx, v, "target", &def->target);
	case gm_budgetfile_key_policy:
		for (i = 0; gm_budgetfile_is_text(v) && i < gm_budget_policy_count; i++) {
			if (strcasecmp(gm_budgetfile_text(v), gm_budgetfile_policies[i]) == 0) {
				def->policy = i;
				return 0;
			}
		}
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(v),
		                          "expected policy lru, lfu, largest or priority, got %s",
		                          gm_budgetfile_show(v, shown, sizeof(shown)));
	case gm_budgetfile_key_strict:
		if (!gm_budgetfile_is_text(v) ||
		    gm_options_parse_bool(gm_budgetfile_text(v), &def->strict) != 0)
			return gm_budgetfile_fail(ctx, gm_budgetfile_line(v),
			                          "expected strict true or false, got %s",
			                          gm_budgetfile_show(v, shown, sizeof(shown)));
		return 0;
	case gm_budgetfile_key_tags:
		return gm_budgetfile_binds(ctx, v, "tags", "tag name", &def->tags[0][0],
		                           sizeof(def->tags[0]), &def->ntags);
	case gm_budgetfile_key_types:
		return gm_budgetfile_binds(ctx, v, "types", "type name", &def->types[0][0],
		                           sizeof(def->types[0]), &def->ntypes);
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
	yaml_node_pair_t *pair;
	const yaml_node_t *k, *v;
	char shown[64];
	int i;

	if (node->type != YAML_MAPPING_NODE)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(node),
		                          "expected a node (a mapping with a name), got %s",
		                          gm_budgetfile_show(node, shown, sizeof(shown)));
	ctx->nwritten = ctx->ndefs + 1;
	memset(def, 0, sizeof(*def));
	def->policy = gm_budget_lru;
	def->strict = -1;
	for (pair = node->data.mapping.pairs.start; pair < node->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(ctx->doc, pair->key);
		v = yaml_document_get_node(ctx->doc, pair->value);
		for (i = 0; gm_budgetfile_is_text(k) && i < gm_budgetfile_key_count; i++)
			if (strcmp(gm_budgetfile_text(k), gm_budgetfile_keys[i]) == 0)
				break;
		if (!gm_budgetfile_is_text(k) || i == gm_budgetfile_key_count)
			return gm_budgetfile_fail(ctx, gm_budgetfile_line(k),
			                          "expected a node key (" GM_BUDGETFILE_KEY_LIST
			                          "), got %s",
			                          gm_budgetfile_show(k, shown, sizeof(shown)));
		if (keys[i])
			return gm_budgetfile_fail(ctx, gm_budgetfile_line(k),
			                          "expected %s once in a node, got it again",
			                          gm_budgetfile_keys[i]);
		keys[i] = k;
		vals[i] = v;
		if (gm_budgetfile_value(ctx, def, (gm_budgetfile_key_t)i, v))
			return -1;
	}
	if (!keys[gm_budgetfile_key_name])
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(node),
		                          "expected a name in every node");
	/* reported on the line of the lower limit, the one that overshoots */
	if (def->soft && def->hard && def->soft > def->hard)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(keys[gm_budgetfile_key_soft]),
		                          "expected soft <= hard, got soft %s > hard %s",
		                          gm_budgetfile_text(vals[gm_budgetfile_key_soft]),
		                          gm_budgetfile_text(vals[gm_budgetfile_key_hard]));
	if (def->target && def->soft && def->target > def->soft)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(keys[gm_budgetfile_key_target]),
		                          "expected target <= soft, got target %s > soft %s",
		                          gm_budgetfile_text(vals[gm_budgetfile_key_target]),
		                          gm_budgetfile_text(vals[gm_budgetfile_key_soft]));
	ctx->ndefs++;
	return 0;
}

/* nodes: - a non-empty list of at most ctx->max nodes. */
static int gm_budgetfile_nodes(gm_budgetfile_ctx_t *ctx, const yaml_node_t *v)
{
	yaml_node_item_t *item;
	const yaml_node_t *it;
	char shown[64];

	if (v->type != YAML_SEQUENCE_NODE)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(v),
		                          "expected nodes to be a list of nodes, got %s",
		                          gm_budgetfile_show(v, shown, sizeof(shown)));
	if (v->data.sequence.items.start == v->data.sequence.items.top)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(v), "expected at least one node");
	for (item = v->data.sequence.items.start; item < v->data.sequence.items.top; item++) {
		it = yaml_document_get_node(ctx->doc, *item);
		if (ctx->ndefs >= ctx->max)
			return gm_budgetfile_fail(ctx, gm_budgetfile_line(it),
			                          "expected at most %d nodes",
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
		return gm_budgetfile_fail(ctx, 1,
		                          "expected a mapping with mode and nodes, got "
		                          "an empty file");
	if (root->type != YAML_MAPPING_NODE)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(root),
		                          "expected a mapping with mode and nodes, got %s",
		                          gm_budgetfile_show(root, shown, sizeof(shown)));
	*strict = 0;
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		k = yaml_document_get_node(ctx->doc, pair->key);
		v = yaml_document_get_node(ctx->doc, pair->value);
		if (gm_budgetfile_is_text(k) && strcmp(gm_budgetfile_text(k), "mode") == 0) {
			if (mode)
				return gm_budgetfile_fail(ctx, gm_budgetfile_line(k),
				                          "expected mode once, got it again");
			mode = k;
			if (gm_budgetfile_is_text(v) &&
			    strcasecmp(gm_budgetfile_text(v), "soft") == 0)
				*strict = 0;
			else if (gm_budgetfile_is_text(v) &&
			         strcasecmp(gm_budgetfile_text(v), "strict") == 0)
				*strict = 1;
			else
				return gm_budgetfile_fail(
				        ctx, gm_budgetfile_line(v),
				        "expected mode soft or strict, got %s",
				        gm_budgetfile_show(v, shown, sizeof(shown)));
		} else if (gm_budgetfile_is_text(k) &&
		           strcmp(gm_budgetfile_text(k), "nodes") == 0) {
			if (nodes)
				return gm_budgetfile_fail(ctx, gm_budgetfile_line(k),
				                          "expected nodes once, got it again");
			nodes = k;
			if (gm_budgetfile_nodes(ctx, v))
				return -1;
		} else {
			return gm_budgetfile_fail(ctx, gm_budgetfile_line(k),
			                          "expected mode or nodes, got %s",
			                          gm_budgetfile_show(k, shown, sizeof(shown)));
		}
	}
	if (!nodes)
		return gm_budgetfile_fail(ctx, gm_budgetfile_line(root), "expected a nodes list");
	return 0;
}

/* The 1-based line holding byte offset of the file. Reader errors carry a
 * byte offset and no mark (the reader decodes ahead of the scanner, so
 * parser->mark can be lines short): count the newlines before it again. */
static size_t gm_budgetfile_line_at(gm_budgetfile_ctx_t *ctx, size_t offset)
{
	char buf[512];
	size_t line = 1, pos = 0, want, i;
	ssize_t got;

	while (pos < offset) {
		want = offset - pos < sizeof(buf) ? offset - pos : sizeof(buf);
		got = pread(ctx->fd, buf, want, (off_t)pos);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (i = 0; i < (size_t)got; i++)
			line += buf[i] == '\n';
		pos += (size_t)got;
	}
	return line;
}

/* Turn a libyaml failure into err. */
static int gm_budgetfile_yaml_error(gm_budgetfile_ctx_t *ctx, const yaml_parser_t *parser)
{
	if (ctx->read_errno)
		return gm_budgetfile_fail(ctx, 0, "%s", strerror(ctx->read_errno));
	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		return gm_budgetfile_fail(ctx, 0, "%s", strerror(ENOMEM));
	case YAML_READER_ERROR:
		return gm_budgetfile_fail(ctx, gm_budgetfile_line_at(ctx, parser->problem_offset),
		                          "expected UTF-8 text: %s at byte %zu",
		                          parser->problem ? parser->problem : "bad input",
		                          parser->problem_offset);
	default:
		if (parser->context)
			return gm_budgetfile_fail(ctx, parser->problem_mark.line + 1,
			                          "expected valid YAML: %s (%s from line %zu)",
			                          parser->problem ? parser->problem : "an error",
			                          parser->context, parser->context_mark.line + 1);
		return gm_budgetfile_fail(ctx, parser->problem_mark.line + 1,
		                          "expected valid YAML: %s",
		                          parser->problem ? parser->problem : "an error");
	}
}

/* Parse the file at path into defs (at most max); see budgetfile.h. On
 * error, *n and *strict are left alone and the defs written are zeroed. */
int gm_budgetfile_load(const char *path, gm_budget_def_t *defs, int max, int *n, int *strict,
                       char *err, size_t errlen)
{
	gm_budgetfile_ctx_t ctx = {path, err, errlen, -1, 0, NULL, defs, max, 0, 0};
	yaml_parser_t parser;
	yaml_document_t doc, rest;
	int have_parser = 0, have_doc = 0, have_rest = 0;
	int mode = 0, rc = -1;

	if (err && errlen)
		err[0] = '\0';
	ctx.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ctx.fd < 0) {
		gm_budgetfile_fail(&ctx, 0, "%s", strerror(errno));
		goto err;
	}
	if (!yaml_parser_initialize(&parser)) {
		gm_budgetfile_fail(&ctx, 0, "%s", strerror(ENOMEM));
		goto err;
	}
	have_parser = 1;
	yaml_parser_set_input(&parser, gm_budgetfile_read, &ctx);
	if (!yaml_parser_load(&parser, &doc)) {
		gm_budgetfile_yaml_error(&ctx, &parser);
		goto err;
	}
	have_doc = 1;
	ctx.doc = &doc;
	if (gm_budgetfile_root(&ctx, yaml_document_get_root_node(&doc), &mode))
		goto err;
	/* A second document would be ignored silently: refuse it. */
	if (!yaml_parser_load(&parser, &rest)) {
		gm_budgetfile_yaml_error(&ctx, &parser);
		goto err;
	}
	have_rest = 1;
	if (yaml_document_get_root_node(&rest)) {
		gm_budgetfile_fail(&ctx, rest.start_mark.line + 1,
		                   "expected one document, got a second one");
		goto err;
	}
	*n = ctx.ndefs;
	*strict = mode;
	rc = 0;
err:
	if (rc && ctx.nwritten)
		memset(defs, 0, (size_t)ctx.nwritten * sizeof(*defs));
	if (have_rest)
		yaml_document_delete(&rest);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	if (ctx.fd >= 0)
		close(ctx.fd);
	return rc;
}

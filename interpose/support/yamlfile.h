/* yamlfile.h - load one human-editable YAML file and report its errors
 *
 * The budget files and the platform profiles are read the same way: the
 * whole file with libyaml's document API (through read(2): no stdio, and an
 * I/O error is told apart from bad text), exactly one document, then walked
 * by the caller. Every error is one line, "<path>:<line>: expected ...",
 * where line is the 1-based line of the YAML node at fault.
 *
 * Runs in the game process at start-up too: nothing is printed and nothing
 * outlives gm_yaml_close().
 */
#ifndef GM_YAMLFILE_H
#define GM_YAMLFILE_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

typedef struct gm_yaml {
	const char *path;
	char *err;
	size_t errlen;
	int fd;
	int read_errno; /* set by the read handler when read(2) fails */
	int have_doc;
	yaml_document_t doc;
} gm_yaml_t;

/* Open and parse path into y->doc. Returns 0, or -1 with err written (a
 * missing file, bad UTF-8, bad YAML, a second document). err may be NULL.
 * Call gm_yaml_close() either way. */
int gm_yaml_open(gm_yaml_t *y, const char *path, char *err, size_t errlen);
void gm_yaml_close(gm_yaml_t *y);

/* The document's root node (NULL for an empty file). */
yaml_node_t *gm_yaml_root(gm_yaml_t *y);
yaml_node_t *gm_yaml_node(gm_yaml_t *y, int id);

/* Write "<path>:<line>: <message>" (line 0: "<path>: <message>") into err;
 * returns -1 so callers can `return gm_yaml_fail(...)`. */
__attribute__((format(printf, 3, 4))) int gm_yaml_fail(gm_yaml_t *y, size_t line, const char *fmt,
                                                       ...);

/* The 1-based line a node starts on. */
static inline size_t gm_yaml_line(const yaml_node_t *node)
{
	return node->start_mark.line + 1;
}

/* A scalar holding text without NUL bytes (libyaml allows "\0" escapes). */
int gm_yaml_is_text(const yaml_node_t *node);

static inline const char *gm_yaml_text(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* 1 if node is text equal to s. */
int gm_yaml_is(const yaml_node_t *node, const char *s);

/* How a node reads in a message: a scalar quoted and cut short on one line
 * (control bytes become '?'); anything else by its kind. */
const char *gm_yaml_show(const yaml_node_t *node, char *buf, size_t cap);

/* Copy a non-empty text shorter than cap bytes into dst; what names it in
 * the error ("node name"). */
int gm_yaml_name(gm_yaml_t *y, const yaml_node_t *v, const char *what, char *dst, size_t cap);

/* A list of at most max names ("[a, b]"), each shorter than cap, into dst
 * (rows of cap bytes); key names the list ("tags"), item one entry ("tag
 * name"), where what holds it ("a node"). */
int gm_yaml_names(gm_yaml_t *y, const yaml_node_t *v, const char *key, const char *item,
                  const char *where, char *dst, size_t cap, int max, int *n);

/* A size above zero: bytes, or with K/M/G/T or KiB/MiB/GiB/TiB, decimals
 * allowed with a unit ("3.5GiB"). what names it in the error. */
int gm_yaml_size(gm_yaml_t *y, const yaml_node_t *v, const char *what, uint64_t *out);

/* true/false (and yes/no, on/off, 1/0). */
int gm_yaml_bool(gm_yaml_t *y, const yaml_node_t *v, const char *what, int *out);

#endif

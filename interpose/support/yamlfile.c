/* yamlfile.c - load one YAML file, report errors with file and line */
#include "yamlfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"

/* libyaml read handler: 1 with *size_read bytes (0 at the end), or 0 with
 * y->read_errno set. */
static int gm_yaml_read(void *data, unsigned char *buf, size_t size, size_t *size_read)
{
	gm_yaml_t *y = data;
	ssize_t got;

	do {
		got = read(y->fd, buf, size);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		y->read_errno = errno;
		return 0;
	}
	*size_read = (size_t)got;
	return 1;
}

int gm_yaml_fail(gm_yaml_t *y, size_t line, const char *fmt, ...)
{
	va_list ap;
	int len;

	if (!y->err || y->errlen == 0)
		return -1;
	if (line)
		len = snprintf(y->err, y->errlen, "%s:%zu: ", y->path, line);
	else
		len = snprintf(y->err, y->errlen, "%s: ", y->path);
	if (len < 0 || (size_t)len >= y->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(y->err + len, y->errlen - (size_t)len, fmt, ap);
	va_end(ap);
	return -1;
}

int gm_yaml_is_text(const yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE &&
	       strlen((const char *)node->data.scalar.value) == node->data.scalar.length;
}

int gm_yaml_is(const yaml_node_t *node, const char *s)
{
	return gm_yaml_is_text(node) && strcmp(gm_yaml_text(node), s) == 0;
}

const char *gm_yaml_show(const yaml_node_t *node, char *buf, size_t cap)
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

int gm_yaml_name(gm_yaml_t *y, const yaml_node_t *v, const char *what, char *dst, size_t cap)
{
	char shown[64];

	if (!gm_yaml_is_text(v))
		return gm_yaml_fail(y, gm_yaml_line(v), "expected a %s, got %s", what,
		                    gm_yaml_show(v, shown, sizeof(shown)));
	if (v->data.scalar.length == 0)
		return gm_yaml_fail(y, gm_yaml_line(v), "expected a non-empty %s", what);
	if (v->data.scalar.length >= cap)
		return gm_yaml_fail(y, gm_yaml_line(v),
		                    "expected a %s shorter than %zu bytes, got %zu bytes", what,
		                    cap, v->data.scalar.length);
	memcpy(dst, v->data.scalar.value, v->data.scalar.length + 1);
	return 0;
}

int gm_yaml_names(gm_yaml_t *y, const yaml_node_t *v, const char *key, const char *item,
                  const char *where, char *dst, size_t cap, int max, int *n)
{
	yaml_node_item_t *it;
	char shown[64];

	if (v->type != YAML_SEQUENCE_NODE)
		return gm_yaml_fail(y, gm_yaml_line(v),
		                    "expected %s to be a list of names (like [a, b]), got %s", key,
		                    gm_yaml_show(v, shown, sizeof(shown)));
	*n = 0;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *e = gm_yaml_node(y, *it);
		if (*n == max)
			return gm_yaml_fail(y, gm_yaml_line(e), "expected at most %d %s in %s", max,
			                    key, where);
		if (gm_yaml_name(y, e, item, dst + (size_t)*n * cap, cap))
			return -1;
		/* a tag binds the tags under it ("render" takes "render/ui"):
		 * "render/" or "/render" would bind no tag a game can push */
		if (strcmp(key, "tags") == 0) {
			const char *tag = dst + (size_t)*n * cap;
			size_t len = strlen(tag);
			if (len == 0 || tag[0] == '/' || tag[len - 1] == '/' || strstr(tag, "//"))
				return gm_yaml_fail(y, gm_yaml_line(e),
				                    "expected a tag name like render or "
				                    "render/textures in %s (it binds the tags "
				                    "under it too), got '%s'",
				                    key, tag);
		}
		(*n)++;
	}
	return 0;
}

int gm_yaml_size(gm_yaml_t *y, const yaml_node_t *v, const char *what, uint64_t *out)
{
	char shown[64];

	if (!gm_yaml_is_text(v) || gm_options_parse_size(gm_yaml_text(v), out) != 0)
		return gm_yaml_fail(y, gm_yaml_line(v),
		                    "expected a size for %s (bytes, or with K/M/G/T or "
		                    "KiB/MiB/GiB/TiB), got %s",
		                    what, gm_yaml_show(v, shown, sizeof(shown)));
	if (*out == 0)
		return gm_yaml_fail(y, gm_yaml_line(v), "expected a size above zero for %s", what);
	return 0;
}

int gm_yaml_bool(gm_yaml_t *y, const yaml_node_t *v, const char *what, int *out)
{
	char shown[64];

	if (!gm_yaml_is_text(v) || gm_options_parse_bool(gm_yaml_text(v), out) != 0)
		return gm_yaml_fail(y, gm_yaml_line(v), "expected %s true or false, got %s", what,
		                    gm_yaml_show(v, shown, sizeof(shown)));
	return 0;
}

/* The 1-based line holding byte offset of the file. Reader errors carry a
 * byte offset and no mark (the reader decodes ahead of the scanner, so
 * parser->mark can be lines short): count the newlines before it again. */
static size_t gm_yaml_line_at(gm_yaml_t *y, size_t offset)
{
	char buf[512];
	size_t line = 1, pos = 0, want, i;
	ssize_t got;

	while (pos < offset) {
		want = offset - pos < sizeof(buf) ? offset - pos : sizeof(buf);
		got = pread(y->fd, buf, want, (off_t)pos);
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
static int gm_yaml_error(gm_yaml_t *y, const yaml_parser_t *parser)
{
	if (y->read_errno)
		return gm_yaml_fail(y, 0, "%s", strerror(y->read_errno));
	switch (parser->error) {
	case YAML_MEMORY_ERROR:
		return gm_yaml_fail(y, 0, "%s", strerror(ENOMEM));
	case YAML_READER_ERROR:
		return gm_yaml_fail(y, gm_yaml_line_at(y, parser->problem_offset),
		                    "expected UTF-8 text: %s at byte %zu",
		                    parser->problem ? parser->problem : "bad input",
		                    parser->problem_offset);
	default:
		if (parser->context)
			return gm_yaml_fail(y, parser->problem_mark.line + 1,
			                    "expected valid YAML: %s (%s from line %zu)",
			                    parser->problem ? parser->problem : "an error",
			                    parser->context, parser->context_mark.line + 1);
		return gm_yaml_fail(y, parser->problem_mark.line + 1, "expected valid YAML: %s",
		                    parser->problem ? parser->problem : "an error");
	}
}

int gm_yaml_open(gm_yaml_t *y, const char *path, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t rest;
	int rc = -1;

	memset(y, 0, sizeof(*y));
	y->path = path;
	y->err = err;
	y->errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	/* non-blocking: a FIFO by that name is refused below, not waited on */
	y->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (y->fd < 0)
		return gm_yaml_fail(y, 0, "%s", strerror(errno));
	{
		struct stat st;
		if (fstat(y->fd, &st) != 0)
			return gm_yaml_fail(y, 0, "%s", strerror(errno));
		if (!S_ISREG(st.st_mode))
			return gm_yaml_fail(y, 0, "%s",
			                    S_ISDIR(st.st_mode) ? strerror(EISDIR) :
			                                          "not a regular file");
	}
	if (!yaml_parser_initialize(&parser))
		return gm_yaml_fail(y, 0, "%s", strerror(ENOMEM));
	yaml_parser_set_input(&parser, gm_yaml_read, y);
	if (!yaml_parser_load(&parser, &y->doc)) {
		gm_yaml_error(y, &parser);
		goto out;
	}
	y->have_doc = 1;
	/* A second document would be ignored silently: refuse it. */
	if (!yaml_parser_load(&parser, &rest)) {
		gm_yaml_error(y, &parser);
		goto out;
	}
	if (yaml_document_get_root_node(&rest))
		gm_yaml_fail(y, rest.start_mark.line + 1,
		             "expected one document, got a second one");
	else
		rc = 0;
	yaml_document_delete(&rest);
out:
	yaml_parser_delete(&parser);
	return rc;
}

void gm_yaml_close(gm_yaml_t *y)
{
	if (y->have_doc)
		yaml_document_delete(&y->doc);
	y->have_doc = 0;
	if (y->fd >= 0)
		close(y->fd);
	y->fd = -1;
}

yaml_node_t *gm_yaml_root(gm_yaml_t *y)
{
	return y->have_doc ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *gm_yaml_node(gm_yaml_t *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

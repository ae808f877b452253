/* json.c - a small streaming JSON writer for every gmtrace report
 *
 * The nesting stack holds one flag per level (object or array) and whether
 * it already has a member; that is all comma placement needs. See json.h.
 */
#include "analysis/report/json.h"
#include "analysis/report/text.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void gm_json_fail(gm_json_t *j, int e)
{
	if (!j->error)
		j->error = e;
}

static void gm_json_indent(gm_json_t *j)
{
	int i;

	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separator before a value or a key at the current level. Returns 0, or -1
 * when the value is not allowed here. */
static int gm_json_before(gm_json_t *j, int is_key)
{
	int top = j->depth - 1;

	if (j->depth == 0) {
		if (is_key) {
			gm_json_fail(j, -EINVAL);
			return -1;
		}
		return 0;
	}
	if (j->in_object[top]) {
		if (is_key == j->want_value) {
			/* a key while a value is due, or a value without a key */
			gm_json_fail(j, -EINVAL);
			return -1;
		}
		if (!is_key) {
			j->want_value = 0;
			return 0;
		}
	}
	if (j->has_member[top])
		fputc(',', j->f);
	j->has_member[top] = 1;
	if (j->pretty)
		gm_json_indent(j);
	return 0;
}

/* After a complete top-level value: newline for JSON lines or pretty. */
static void gm_json_after(gm_json_t *j)
{
	if (j->depth == 0)
		fputc('\n', j->f);
}

/* Starts a writer on f (see json.h). */
void gm_json_init(gm_json_t *j, FILE *f, int pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
}

static void gm_json_open(gm_json_t *j, int object)
{
	if (gm_json_before(j, 0) < 0)
		return;
	if (j->depth >= GM_JSON_MAX_DEPTH) {
		gm_json_fail(j, -EINVAL);
		return;
	}
	fputc(object ? '{' : '[', j->f);
	j->in_object[j->depth] = (unsigned char)object;
	j->has_member[j->depth] = 0;
	j->depth++;
}

static void gm_json_close(gm_json_t *j, int object)
{
	int top = j->depth - 1;

	if (j->depth == 0 || j->in_object[top] != object || (object && j->want_value)) {
		gm_json_fail(j, -EINVAL);
		return;
	}
	j->depth--;
	if (j->pretty && j->has_member[top])
		gm_json_indent(j);
	fputc(object ? '}' : ']', j->f);
	gm_json_after(j);
}

/* Opens an object (see json.h). */
void gm_json_object_begin(gm_json_t *j)
{
	gm_json_open(j, 1);
}

/* Closes the innermost object; -EINVAL if it is not an object. */
void gm_json_object_end(gm_json_t *j)
{
	gm_json_close(j, 1);
}

/* Opens an array (see json.h). */
void gm_json_array_begin(gm_json_t *j)
{
	gm_json_open(j, 0);
}

/* Closes the innermost array; -EINVAL if it is not an array. */
void gm_json_array_end(gm_json_t *j)
{
	gm_json_close(j, 0);
}

static void gm_json_quote(gm_json_t *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	fputc('"', j->f);
	while (i < n) {
		unsigned char c = s[i];
		size_t len;

		switch (c) {
		case '"':
			fputs("\\\"", j->f);
			break;
		case '\\':
			fputs("\\\\", j->f);
			break;
		case '\n':
			fputs("\\n", j->f);
			break;
		case '\r':
			fputs("\\r", j->f);
			break;
		case '\t':
			fputs("\\t", j->f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fprintf(j->f, "\\u%04x", c);
				break;
			}
			len = gm_text_utf8_len(s + i, n - i);
			if (len == 0) {
				fputs("\\ufffd", j->f);
				break;
			}
			fwrite(s + i, 1, len, j->f);
			i += len;
			continue;
		}
		i++;
	}
	fputc('"', j->f);
}

/* Writes a member name (see json.h). */
void gm_json_key(gm_json_t *j, const char *key)
{
	if (j->depth == 0 || !j->in_object[j->depth - 1]) {
		gm_json_fail(j, -EINVAL);
		return;
	}
	if (gm_json_before(j, 1) < 0)
		return;
	gm_json_quote(j, key, strlen(key));
	fputs(j->pretty ? ": " : ":", j->f);
	j->want_value = 1;
}

/* Writes a string value; NULL writes null. */
void gm_json_string(gm_json_t *j, const char *s)
{
	if (!s) {
		gm_json_null(j);
		return;
	}
	gm_json_string_n(j, s, strlen(s));
}

/* Writes the n bytes at s as a string value (NUL bytes are escaped). */
void gm_json_string_n(gm_json_t *j, const char *s, size_t n)
{
	if (gm_json_before(j, 0) < 0)
		return;
	gm_json_quote(j, s, n);
	gm_json_after(j);
}

/* Writes an unsigned integer value. */
void gm_json_u64(gm_json_t *j, uint64_t v)
{
	if (gm_json_before(j, 0) < 0)
		return;
	fprintf(j->f, "%" PRIu64, v);
	gm_json_after(j);
}

/* Writes a signed integer value. */
void gm_json_i64(gm_json_t *j, int64_t v)
{
	if (gm_json_before(j, 0) < 0)
		return;
	fprintf(j->f, "%" PRId64, v);
	gm_json_after(j);
}

int gm_json_number(char *buf, size_t cap, double v)
{
	int prec;

	if (!isfinite(v) || cap == 0)
		return 0;
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(buf, cap, "%.0f", v);
	} else {
		for (prec = 1; prec <= 17; prec++) {
			snprintf(buf, cap, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
	return 1;
}

/* Writes v as gm_json_number has it; null when v is not finite (JSON has
 * no NaN or infinity). */
void gm_json_double(gm_json_t *j, double v)
{
	char buf[40];

	if (!gm_json_number(buf, sizeof(buf), v)) {
		gm_json_null(j);
		return;
	}
	if (gm_json_before(j, 0) < 0)
		return;
	fputs(buf, j->f);
	gm_json_after(j);
}

/* Writes true (v != 0) or false. */
void gm_json_bool(gm_json_t *j, int v)
{
	if (gm_json_before(j, 0) < 0)
		return;
	fputs(v ? "true" : "false", j->f);
	gm_json_after(j);
}

/* Writes null. */
void gm_json_null(gm_json_t *j)
{
	if (gm_json_before(j, 0) < 0)
		return;
	fputs("null", j->f);
	gm_json_after(j);
}

/* Member with a string value (NULL writes null). */
void gm_json_key_string(gm_json_t *j, const char *key, const char *s)
{
	gm_json_key(j, key);
	gm_json_string(j, s);
}

/* Member with an unsigned integer value. */
void gm_json_key_u64(gm_json_t *j, const char *key, uint64_t v)
{
	gm_json_key(j, key);
	gm_json_u64(j, v);
}

/* Member with a signed integer value. */
void gm_json_key_i64(gm_json_t *j, const char *key, int64_t v)
{
	gm_json_key(j, key);
	gm_json_i64(j, v);
}

/* Member with a number value (null if not finite). */
void gm_json_key_double(gm_json_t *j, const char *key, double v)
{
	gm_json_key(j, key);
	gm_json_double(j, v);
}

/* Member with a boolean value. */
void gm_json_key_bool(gm_json_t *j, const char *key, int v)
{
	gm_json_key(j, key);
	gm_json_bool(j, v);
}

/* Member with a null value. */
void gm_json_key_null(gm_json_t *j, const char *key)
{
	gm_json_key(j, key);
	gm_json_null(j);
}

/* Checks balance and flushes (see json.h). */
int gm_json_finish(gm_json_t *j)
{
	if (j->depth != 0 || j->want_value)
		gm_json_fail(j, -EINVAL);
	if (fflush(j->f) != 0 || ferror(j->f))
		gm_json_fail(j, -EIO);
	return j->error;
}

/* json.h - a small streaming JSON writer for every gmtrace report
 *
 * Values are written straight to a FILE* as they come; the writer only keeps
 * the nesting (object or array, first member or not) to place commas, colons
 * and, when pretty, newlines and indentation. Misuse (a value in an object
 * without a key, too deep nesting, unbalanced ends) and write errors are
 * sticky and reported by gm_json_finish(), so report code stays linear:
 *
 *     gm_json_t j;
 *     gm_json_init(&j, stdout, 1);
 *     gm_json_object_begin(&j);
 *     gm_json_key_u64(&j, "allocations", n);
 *     gm_json_object_end(&j);
 *     return gm_json_finish(&j);
 *
 * Strings are written as valid UTF-8: control characters, quotes and
 * backslashes are escaped, bytes that are not well-formed UTF-8 become
 * U+FFFD. Doubles that are not finite are written as null.
 *
 * Each top-level value ends with a newline, so several may follow each
 * other: with pretty off that is JSON lines (one value per line).
 */
#ifndef GM_JSON_H
#define GM_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GM_JSON_MAX_DEPTH 32

typedef struct gm_json {
	FILE *f;
	int pretty;     /* newlines and 2-space indentation */
	int depth;      /* open objects and arrays */
	int error;      /* first error as a negative errno, or 0 */
	int want_value; /* a key was written, its value comes next */
	unsigned char in_object[GM_JSON_MAX_DEPTH];
	unsigned char has_member[GM_JSON_MAX_DEPTH];
} gm_json_t;

/* Starts a writer on f. pretty: 1 for indented output, 0 for one line per
 * top-level value. Cannot fail. */
void gm_json_init(gm_json_t *j, FILE *f, int pretty);

/* Open and close objects and arrays. Too deep nesting (more than
 * GM_JSON_MAX_DEPTH) or an end that does not match is recorded as -EINVAL. */
void gm_json_object_begin(gm_json_t *j);
void gm_json_object_end(gm_json_t *j);
void gm_json_array_begin(gm_json_t *j);
void gm_json_array_end(gm_json_t *j);

/* Writes a member name inside an object; -EINVAL when not in an object or
 * when the previous key still waits for its value. */
void gm_json_key(gm_json_t *j, const char *key);

/* Values. A value inside an object without a key first is -EINVAL. */
void gm_json_string(gm_json_t *j, const char *s); /* NULL writes null */
void gm_json_string_n(gm_json_t *j, const char *s, size_t n);
void gm_json_u64(gm_json_t *j, uint64_t v);
void gm_json_i64(gm_json_t *j, int64_t v);
/* v in the shortest form that reads back as v, a whole one under 2^53 as
 * an integer ("10", not "1e+01"), into buf (40 bytes do); 0 when v is not
 * finite (nothing written). For CSV as for JSON. */
int gm_json_number(char *buf, size_t cap, double v);
void gm_json_double(gm_json_t *j, double v);
void gm_json_bool(gm_json_t *j, int v);
void gm_json_null(gm_json_t *j);

/* A member in one call: gm_json_key() then the value. */
void gm_json_key_string(gm_json_t *j, const char *key, const char *s);
void gm_json_key_u64(gm_json_t *j, const char *key, uint64_t v);
void gm_json_key_i64(gm_json_t *j, const char *key, int64_t v);
void gm_json_key_double(gm_json_t *j, const char *key, double v);
void gm_json_key_bool(gm_json_t *j, const char *key, int v);
void gm_json_key_null(gm_json_t *j, const char *key);

/* Checks that every object and array was closed and flushes the stream.
 * Returns 0, the first misuse as -EINVAL, or -EIO if a write failed. */
int gm_json_finish(gm_json_t *j);

#endif

/* text.h - small formatting helpers for reports meant for people
 *
 * Human sizes ("1.5 MiB"), durations ("1.234 s") and quoted strings with
 * unprintable bytes escaped, so every table in every report reads the same.
 */
#ifndef GM_TEXT_H
#define GM_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Enough room for any gm_text_size() or gm_text_duration() result. */
#define GM_TEXT_MAX 32

/* A computed figure (a mean, a rate) as a whole number to show, rounded:
 * 0 below 0 or NaN, UINT64_MAX from 2^64 on (a damaged capture can make
 * any figure; converting such a double is undefined behaviour in C). */
static inline uint64_t gm_text_whole(double v)
{
	if (!(v > 0))
		return 0;
	if (v >= 18446744073709551615.0) /* the literal is 2^64 as a double */
		return UINT64_MAX;
	return (uint64_t)(v + 0.5); /* below 2^64 still: from 2^53 on, + 0.5 rounds to v */
}

/* Writes bytes in binary units: "512 B", "1.5 KiB", "3.0 GiB". Returns buf;
 * the text is cut to n bytes (GM_TEXT_MAX is always enough). */
const char *gm_text_size(char *buf, size_t n, uint64_t bytes);

/* Writes a duration: "850 ns", "12.3 us", "4.56 ms", "1.234 s", "2m03.4s". Returns buf;
 * the text is cut to n bytes (GM_TEXT_MAX is always enough). */
const char *gm_text_duration(char *buf, size_t n, uint64_t ns);

/* Prints the n bytes at s between double quotes, with quote, backslash and
 * bytes outside printable ASCII written as C escapes (\n, \t, \xNN). Cannot
 * fail; write errors show up in ferror(f). */
void gm_text_quote(FILE *f, const char *s, size_t n);

/* A name for one cell or one line of a report for people: s itself when
 * it holds no control character below 0x20, else a copy in buf (n bytes,
 * cut) with each of them (a line break, a tab) as '?', so that a name
 * cannot break a table's rows or columns (the standard output filter,
 * analysis/main.c, keeps the report's own line breaks and tabs and takes
 * care of every other unprintable byte). NULL gives "-". */
const char *gm_text_line(char *buf, size_t n, const char *s);

/* gm_text_line for a column width characters wide (UTF-8 characters
 * counted, width >= 3): a longer name is shown as ".." and its last
 * width - 2 characters (a name's end tells most: "textures/rock.png"), so
 * that it cannot push the row's other columns right (width 0: never cut).
 * buf: n bytes, at least 4 * width + 1 for the cut form (less: cut
 * shorter). */
const char *gm_text_cell(char *buf, size_t n, const char *s, size_t width);

/* Writes s as one CSV field: as it is, or in double quotes (quotes doubled)
 * when it holds a comma, a quote or a line break; bytes that are not UTF-8
 * become U+FFFD, as in the JSON. NULL writes nothing. */
void gm_text_csv(FILE *f, const char *s);

/* Length of the well-formed UTF-8 sequence at s (at most n bytes, n > 0):
 * 1 to 4, or 0 when it is not one (a stray byte, an overlong form, a
 * surrogate, beyond U+10FFFF, cut short). */
size_t gm_text_utf8_len(const unsigned char *s, size_t n);

/* The code point of the well-formed sequence of len bytes at s (len from
 * gm_text_utf8_len). */
uint32_t gm_text_utf8_code(const unsigned char *s, size_t len);

/* The same for HTML and XML text (SVG): 0 also for a character neither
 * allows, though well formed: the C1 controls (U+0080..U+009F) and the
 * noncharacters (U+FDD0..U+FDEF, U+xFFFE and U+xFFFF of every plane). */
size_t gm_text_utf8_markup_len(const unsigned char *s, size_t n);

#endif

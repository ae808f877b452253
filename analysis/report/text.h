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

/* Writes s as one CSV field: as it is, or in double quotes (quotes doubled)
 * when it holds a comma, a quote or a line break. NULL writes nothing. */
void gm_text_csv(FILE *f, const char *s);

#endif

/* text.c - small formatting helpers for reports meant for people */
#include "analysis/report/text.h"

#include <string.h>

/* Human size in binary units (see text.h). */
const char *gm_text_size(char *buf, size_t n, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	unsigned u = 0;

	if (bytes < 1024) {
		snprintf(buf, n, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	v /= 1024.0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, n, "%.1f %s", v, units[u]);
	return buf;
}

/* Human duration (see text.h). */
const char *gm_text_duration(char *buf, size_t n, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, n, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, n, "%.1f us", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, n, "%.2f ms", (double)ns / 1e6);
	else if (ns < 60000000000ull)
		snprintf(buf, n, "%.3f s", (double)ns / 1e9);
	else
		snprintf(buf, n, "%llum%04.1fs", (unsigned long long)(ns / 60000000000ull),
		         (double)(ns % 60000000000ull) / 1e9);
	return buf;
}

const char *gm_text_line(char *buf, size_t n, const char *s)
{
	size_t i;

	if (!s)
		return "-";
	for (i = 0; s[i] && (unsigned char)s[i] >= 0x20; i++)
		;
	if (!s[i])
		return s;
	if (n == 0)
		return "?";
	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

const char *gm_text_cell(char *buf, size_t n, const char *s, size_t width)
{
	size_t chars = 0, i, len, tail;

	if (!s)
		return "-";
	for (i = 0; s[i]; i++)
		chars += ((unsigned char)s[i] & 0xc0) != 0x80;
	if (chars <= width || width < 3 || n < 3)
		return gm_text_line(buf, n, s);
	/* the start of the last width - 2 characters */
	len = i;
	for (tail = len, chars = 0; tail > 0 && chars < width - 2;) {
		tail--;
		chars += ((unsigned char)s[tail] & 0xc0) != 0x80;
	}
	while (len - tail + 3 > n) { /* a short buf: fewer characters */
		tail++;
		while (tail < len && ((unsigned char)s[tail] & 0xc0) == 0x80)
			tail++;
	}
	buf[0] = buf[1] = '.';
	for (i = 0; tail + i < len; i++)
		buf[2 + i] = (unsigned char)s[tail + i] < 0x20 ? '?' : s[tail + i];
	buf[2 + i] = '\0';
	return buf;
}

/* Quoted string with C escapes (see text.h). */
void gm_text_quote(FILE *f, const char *s, size_t n)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Length of a UTF-8 sequence (see text.h). */
uint32_t gm_text_utf8_code(const unsigned char *s, size_t len)
{
	uint32_t c = len < 2 ? s[0] : s[0] & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
	for (size_t i = 1; i < len; i++)
		c = (c << 6) | (s[i] & 0x3f);
	return c;
}

size_t gm_text_utf8_markup_len(const unsigned char *s, size_t n)
{
	size_t len = gm_text_utf8_len(s, n);
	uint32_t c;
	if (len < 2)
		return len;
	c = gm_text_utf8_code(s, len);
	if ((c >= 0x80 && c <= 0x9f) || (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe)
		return 0;
	return len;
}

size_t gm_text_utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0; /* overlong, surrogate or beyond Unicode */
	return len;
}

/* One CSV field (see text.h). */
void gm_text_csv(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, i = 0, len;
	int quote;
	if (!s)
		return;
	n = strlen(s);
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		putc('"', f);
	while (i < n) {
		/* ASCII but for quotes, the common case, in one write */
		size_t run = i;
		while (run < n && u[run] < 0x80 && u[run] != '"')
			run++;
		if (run > i) {
			fwrite(u + i, 1, run - i, f);
			i = run;
			continue;
		}
		if (u[i] == '"') {
			fputs("\"\"", f);
			i++;
			continue;
		}
		len = gm_text_utf8_len(u + i, n - i);
		if (len == 0) { /* not UTF-8: U+FFFD, as in the JSON */
			fputs("\xef\xbf\xbd", f);
			i++;
			continue;
		}
		fwrite(u + i, 1, len, f);
		i += len;
	}
	if (quote)
		putc('"', f);
}

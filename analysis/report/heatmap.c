/* heatmap.c - heat maps of rows over frame bins: terminal colour blocks and SVG files
 *
 * Both outputs share one scale: a cell's level is its share of the largest
 * cell, in GM_HEATMAP_LEVELS steps, rounded up so that every non-zero value
 * shows. The terminal ramp runs through the xterm 256-colour cube from dark
 * blue over cyan and green to yellow and red; the SVG ramp interpolates the
 * same hues in RGB.
 */
#include "analysis/report/heatmap.h"

#include <errno.h>
#include <string.h>

#include "analysis/report/text.h"

/* xterm 256-colour indices, coolest first */
static const unsigned char gm_heatmap_xterm[] = {17,  18,  19,  20,  21,  27,  33, 39,  45,
                                                 51,  50,  49,  48,  47,  46,  82, 118, 154,
                                                 190, 226, 220, 214, 208, 202, 196};
#define GM_HEATMAP_LEVELS (sizeof(gm_heatmap_xterm) / sizeof(gm_heatmap_xterm[0]))

/* ASCII ramp for terminals without colour: ' ' is 0 */
static const char gm_heatmap_ascii[] = ".:-=+*#%@";

/* RGB stops of the SVG ramp, evenly spaced from level 1 to the top */
static const unsigned char gm_heatmap_rgb[][3] = {
        {0x1b, 0x1e, 0x6b}, {0x1f, 0x6f, 0xc4}, {0x1c, 0xb5, 0xc8}, {0x3c, 0xc0, 0x5a},
        {0xd8, 0xd8, 0x2a}, {0xf5, 0x8a, 0x1f}, {0xd7, 0x26, 0x26},
};
#define GM_HEATMAP_STOPS (sizeof(gm_heatmap_rgb) / sizeof(gm_heatmap_rgb[0]))

#define GM_HEATMAP_LABEL_MAX 40

static uint64_t gm_heatmap_max(const gm_heatmap_t *h)
{
	uint64_t max = 0;
	size_t r;
	uint32_t c;

	for (r = 0; r < h->nrows; r++)
		for (c = 0; c < h->ncols; c++)
			if (h->rows[r][c] > max)
				max = h->rows[r][c];
	return max;
}

/* Level of v in 0..levels: 0 only for 0, levels for max. */
static unsigned gm_heatmap_level(uint64_t v, uint64_t max, unsigned levels)
{
	unsigned __int128 k;

	if (v == 0 || max == 0)
		return 0;
	k = ((unsigned __int128)v * levels + max - 1) / max;
	return k < 1 ? 1 : k > levels ? levels : (unsigned)k;
}

static const char *gm_heatmap_value(char *buf, size_t n, const gm_heatmap_t *h, uint64_t v)
{
	if (h->bytes)
		return gm_text_size(buf, n, v);
	snprintf(buf, n, "%llu", (unsigned long long)v);
	return buf;
}

/* ---- names ------------------------------------------------------------- */

/* The character at s (n bytes left, n > 0): its bytes (1 for a byte that
 * starts no well-formed UTF-8), and in *cols the terminal columns it takes:
 * 2 for the East Asian wide ranges, 1 otherwise (a '?' for what cannot be
 * shown takes 1 too). */
static size_t gm_heatmap_char(const unsigned char *s, size_t n, unsigned *cols)
{
	size_t len = s[0] < 0x80 ? 1 : gm_text_utf8_len(s, n);
	uint32_t c;
	if (cols)
		*cols = 1;
	if (len < 2)
		return 1;
	c = gm_text_utf8_code(s, len);
	if (cols && ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf && c != 0x303f) ||
	             (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	             (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	             (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	             (c >= 0x20000 && c <= 0x3fffd)))
		*cols = 2;
	return len;
}

/* Characters in s[0, n). */
static size_t gm_heatmap_chars(const unsigned char *s, size_t n)
{
	size_t k = 0, len;
	for (; n > 0; s += len, n -= len, k++)
		len = gm_heatmap_char(s, n, NULL);
	return k;
}

/* Terminal columns s takes. */
static size_t gm_heatmap_cols(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), k = 0, len;
	unsigned cols;
	for (; n > 0; s += len, n -= len, k += cols)
		len = gm_heatmap_char(s, n, &cols);
	return k;
}

/* ---- terminal ----------------------------------------------------------- */

/* Prints a label cut or padded to width columns, unprintable characters as
 * '?'; a name too long keeps its end (asset paths differ in their last
 * part) after "..". */
static void gm_heatmap_label(FILE *f, const char *str, size_t width)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "-");
	size_t n = strlen((const char *)s), used = 0, total = 0, len, i;
	unsigned cols;

	for (i = 0; i < n; i += len) {
		len = gm_heatmap_char(s + i, n - i, &cols);
		total += cols;
	}
	if (total > width && width > 2) {
		fputs("..", f);
		used = 2;
		/* from the first character after which the rest fits */
		for (i = 0; i < n && total > width - 2; i += len) {
			len = gm_heatmap_char(s + i, n - i, &cols);
			total -= cols;
		}
		s += i;
		n -= i;
	}
	/* (the heat map is written past the names' filter of the reports for
	 * people: C1 controls, CSI among them, and bytes that are not UTF-8
	 * are '?' here too) */
	for (i = 0; i < n; i += len) {
		const unsigned char *u = s + i;
		len = gm_heatmap_char(u, n - i, &cols);
		if ((len == 1 && u[0] >= 0x80) || (len == 2 && u[0] == 0xc2 && u[1] <= 0x9f) ||
		    (len == 1 && (u[0] < 0x20 || u[0] == 0x7f))) {
			fputc('?', f);
			used += 1;
			continue;
		}
		fwrite(u, 1, len, f);
		used += cols;
	}
	for (; used < width; used++)
		fputc(' ', f);
}

static void gm_heatmap_cell(FILE *f, unsigned level, int colour, int *cur)
{
	if (!colour) {
		fputc(level ? gm_heatmap_ascii[(level - 1) * (sizeof(gm_heatmap_ascii) - 1) /
		                               GM_HEATMAP_LEVELS] :
		              ' ',
		      f);
		return;
	}
	if ((int)level != *cur) {
		if (level)
			fprintf(f, "\x1b[48;5;%um", gm_heatmap_xterm[level - 1]);
		else
			fputs("\x1b[0m", f);
		*cur = (int)level;
	}
	fputc(' ', f);
}

/* Text of the frame axis under the cells: first frame at the left, last at
 * the right, the middle one between when there is room. */
static void gm_heatmap_axis(FILE *f, const gm_heatmap_t *h, size_t pad)
{
	char line[1024], num[32];
	size_t w = h->ncols < sizeof(line) - 1 ? h->ncols : sizeof(line) - 1, n;
	uint64_t last = h->col_first[h->ncols] - 1;

	memset(line, ' ', w);
	line[w] = '\0';
	n = (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)h->col_first[0]);
	memcpy(line, num, n < w ? n : w);
	if (h->ncols > 1) {
		size_t left = n, right;
		uint32_t mid = h->ncols / 2;

		right = (size_t)snprintf(num, sizeof(num), "%llu", (unsigned long long)last);
		if (right + left + 1 <= w)
			memcpy(line + w - right, num, right);
		else
			right = 0;
		n = (size_t)snprintf(num, sizeof(num), "%llu",
		                     (unsigned long long)h->col_first[mid]);
		if (mid > left + 1 && mid + n + 1 < w - right)
			memcpy(line + mid, num, n);
	}
	fprintf(f, "%*s%s  frames\n", (int)pad, "", line);
}

/* Terminal heat map (see heatmap.h). Returns 0 or -EIO. */
int gm_heatmap_text(FILE *f, const gm_heatmap_t *h, int colour)
{
	uint64_t max = gm_heatmap_max(h);
	size_t width = 4, r, k;
	char v[GM_TEXT_MAX], lo[GM_TEXT_MAX];

	for (r = 0; r < h->nrows; r++) {
		size_t n = h->labels[r] ? gm_heatmap_cols(h->labels[r]) : 1;

		if (n > width)
			width = n;
	}
	if (width > GM_HEATMAP_LABEL_MAX)
		width = GM_HEATMAP_LABEL_MAX;
	fprintf(f, "%s\n", h->title);
	for (r = 0; r < h->nrows; r++) {
		uint64_t peak = 0;
		int cur = 0;
		uint32_t c;

		fputs("  ", f);
		gm_heatmap_label(f, h->labels[r], width);
		fputs(" |", f);
		for (c = 0; c < h->ncols; c++) {
			uint64_t x = h->rows[r][c];

			if (x > peak)
				peak = x;
			gm_heatmap_cell(f, gm_heatmap_level(x, max, GM_HEATMAP_LEVELS), colour,
			                &cur);
		}
		if (colour && cur)
			fputs("\x1b[0m", f);
		fprintf(f, "| %s\n", gm_heatmap_value(v, sizeof(v), h, peak));
	}
	if (h->ncols > 0)
		gm_heatmap_axis(f, h, width + 4);

	/* legend: the ramp with the value each end stands for */
	fprintf(f, "  scale: %s ", gm_heatmap_value(lo, sizeof(lo), h, max ? 1 : 0));
	for (k = 1; k <= GM_HEATMAP_LEVELS; k++) {
		int cur = 0;

		gm_heatmap_cell(f, (unsigned)k, colour, &cur);
		if (colour)
			fputs("\x1b[0m", f);
	}
	fprintf(f, " %s (linear; a cell is the %s in its frames, blank: 0)\n",
	        gm_heatmap_value(v, sizeof(v), h, max),
	        h->sums ? "sum of the values" : "largest value");
	return ferror(f) ? -EIO : 0;
}

/* ---- SVG ------------------------------------------------------------------ */

/* Colour of a level (1..levels) as #rrggbb. */
static void gm_heatmap_rgb_of(char *out, unsigned level, unsigned levels)
{
	double pos = levels > 1 ? (double)(level - 1) / (levels - 1) * (GM_HEATMAP_STOPS - 1) : 0;
	size_t i = (size_t)pos, k;
	unsigned char c[3];

	if (i >= GM_HEATMAP_STOPS - 1)
		i = GM_HEATMAP_STOPS - 2;
	pos -= (double)i;
	for (k = 0; k < 3; k++)
		c[k] = (unsigned char)(gm_heatmap_rgb[i][k] +
		                       (gm_heatmap_rgb[i + 1][k] - gm_heatmap_rgb[i][k]) * pos +
		                       0.5);
	snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/* Writes s as XML text: markup characters escaped, control bytes, bytes
 * that are not well-formed UTF-8 and characters XML does not allow as '?'.
 * At most max characters (0: all): a longer s keeps its end, after "..",
 * as the terminal's labels do. */
static void gm_heatmap_xml_cut(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "-");
	size_t left = strlen((const char *)p), chars = gm_heatmap_chars(p, left), n;

	if (max > 2 && chars > max) {
		fputs("..", f);
		for (; chars > max - 2; chars--) {
			n = gm_heatmap_char(p, left, NULL);
			p += n;
			left -= n;
		}
	}
	while (*p) {
		unsigned char c = *p;

		if (c == '&')
			fputs("&amp;", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', f);
		else if (c < 0x80)
			fputc(c, f);
		else if ((n = gm_text_utf8_markup_len(p, left)) == 0)
			fputc('?', f);
		else {
			fwrite(p, 1, n, f);
			p += n - 1;
			left -= n - 1;
		}
		p++;
		left--;
	}
}

static void gm_heatmap_xml(FILE *f, const char *s)
{
	gm_heatmap_xml_cut(f, s, 0);
}

/* SVG heat map (see heatmap.h). Returns 0 or -EIO. */
int gm_heatmap_svg(FILE *f, const gm_heatmap_t *h)
{
	const unsigned levels = 64;
	uint64_t max = gm_heatmap_max(h);
	unsigned cw = h->ncols ? 960 / h->ncols : 16, ch = 16, lw = 0, top = 44, left, width,
	         height;
	size_t r, k, ticks;
	uint32_t c;
	char v[GM_TEXT_MAX], rgb[8];

	if (cw < 3)
		cw = 3;
	if (cw > 24)
		cw = 24;
	for (r = 0; r < h->nrows; r++) {
		const char *l = h->labels[r] ? h->labels[r] : "-";
		size_t n = gm_heatmap_chars((const unsigned char *)l, strlen(l));

		if (n > lw)
			lw = (unsigned)(n > GM_HEATMAP_LABEL_MAX ? GM_HEATMAP_LABEL_MAX : n);
	}
	left = 16 + lw * 7 + 8;
	width = left + h->ncols * cw + 110;
	/* room for the colour scale and its words (a few bins, or none) and
	 * for the title */
	if (width < left + 240 + 6 + 60 * 7)
		width = left + 240 + 6 + 60 * 7;
	if (h->title && width < 16 + 9 * (unsigned)strlen(h->title) + 16)
		width = 16 + 9 * (unsigned)strlen(h->title) + 16;
	height = top + (unsigned)h->nrows * ch + 90;

	fprintf(f,
	        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
	        "viewBox=\"0 0 %u %u\" font-family=\"monospace\" font-size=\"11\">\n",
	        width, height, width, height);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	fprintf(f, "<text x=\"16\" y=\"22\" font-size=\"14\" font-weight=\"bold\">");
	gm_heatmap_xml(f, h->title);
	fprintf(f, "</text>\n");

	/* rows: label, cells with tooltips, the row's largest value */
	for (r = 0; r < h->nrows; r++) {
		unsigned y = top + (unsigned)r * ch;
		uint64_t peak = 0;

		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\">", left - 8, y + ch - 4);
		gm_heatmap_xml_cut(f, h->labels[r], GM_HEATMAP_LABEL_MAX);
		fprintf(f, "</text>\n");
		for (c = 0; c < h->ncols; c++) {
			uint64_t x = h->rows[r][c];
			unsigned level = gm_heatmap_level(x, max, levels);

			if (x > peak)
				peak = x;
			if (level)
				gm_heatmap_rgb_of(rgb, level, levels);
			else
				strcpy(rgb, "#f2f2f2");
			fprintf(f,
			        "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" fill=\"%s\">",
			        left + c * cw, y, cw, ch - 1, rgb);
			fprintf(f, "<title>");
			gm_heatmap_xml(f, h->labels[r]);
			fprintf(f, ", frames %llu-%llu: %s</title></rect>\n",
			        (unsigned long long)h->col_first[c],
			        (unsigned long long)h->col_first[c + 1] - 1,
			        gm_heatmap_value(v, sizeof(v), h, x));
		}
		fprintf(f, "<text x=\"%u\" y=\"%u\">%s</text>\n", left + h->ncols * cw + 6,
		        y + ch - 4, gm_heatmap_value(v, sizeof(v), h, peak));
	}

	/* frame axis: a tick at about every 100 pixels */
	if (h->ncols > 0) {
		unsigned y = top + (unsigned)h->nrows * ch + 4;

		fprintf(f, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#444444\"/>\n",
		        left, y, left + h->ncols * cw, y);
		ticks = h->ncols * cw / 100 + 1;
		for (k = 0; k <= ticks; k++) {
			uint32_t col = (uint32_t)(k * h->ncols / ticks);
			unsigned x = left + col * cw;
			uint64_t frame = col < h->ncols ? h->col_first[col] : h->col_first[col] - 1;

			fprintf(f,
			        "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#444444\"/>"
			        "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">%llu</text>\n",
			        x, y, x, y + 4, x, y + 16, (unsigned long long)frame);
		}
		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">frame</text>\n",
		        left + h->ncols * cw / 2, y + 30);
	}

	/* colour scale */
	{
		unsigned y = top + (unsigned)h->nrows * ch + 52, x, bar = 240;

		fprintf(f, "<defs><linearGradient id=\"gm-scale\">\n");
		for (k = 0; k < GM_HEATMAP_STOPS; k++)
			fprintf(f, "<stop offset=\"%.3f\" stop-color=\"#%02x%02x%02x\"/>\n",
			        (double)k / (GM_HEATMAP_STOPS - 1), gm_heatmap_rgb[k][0],
			        gm_heatmap_rgb[k][1], gm_heatmap_rgb[k][2]);
		fprintf(f, "</linearGradient></defs>\n");
		x = left;
		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"end\">%s</text>\n", x - 6, y + 11,
		        gm_heatmap_value(v, sizeof(v), h, max ? 1 : 0));
		fprintf(f,
		        "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"14\" fill=\"url(#gm-scale)\" "
		        "stroke=\"#444444\"/>\n",
		        x, y, bar);
		fprintf(f, "<text x=\"%u\" y=\"%u\">%s (linear; %s in the bin; grey: 0)</text>\n",
		        x + bar + 6, y + 11, gm_heatmap_value(v, sizeof(v), h, max),
		        h->sums ? "sum of the values" : "largest value");
	}
	fprintf(f, "</svg>\n");
	return ferror(f) ? -EIO : 0;
}

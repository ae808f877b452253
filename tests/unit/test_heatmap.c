/* test_heatmap.c - the heat map writers (analysis/report/heatmap.h) on small known maps
 *
 * Every expected string below is worked out by hand from heatmap.h's rules:
 * a cell's level is ceil(v * L / max) (1 for any non-zero v, 0 for 0), with
 * L = 25 terminal colours (xterm indices 17 .. 196), the ASCII ramp
 * ".:-=+*#%@" indexed by (level - 1) * 9 / 25, and L = 64 SVG colours
 * interpolated over 7 RGB stops. The terminal view is read from memory
 * (open_memstream); the SVG from a temporary file, as a user would get it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/report/heatmap.h"

/* ---- helpers ------------------------------------------------------------ */

/* The terminal view of h as one string (caller frees). */
static char *heat_text(const gm_heatmap_t *h, int colour)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f, "open_memstream");
	cr_assert_eq(gm_heatmap_text(f, h, colour), 0, "gm_heatmap_text(colour %d)", colour);
	cr_assert_eq(fclose(f), 0);
	return text;
}

/* The SVG of h, written to a temporary file and read back (caller frees). */
static char *heat_svg(const gm_heatmap_t *h)
{
	char path[] = "/tmp/gm_test_heatmap.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;
	char *text;
	long n;

	cr_assert_geq(fd, 0, "mkstemp(%s): %s", path, strerror(errno));
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert_eq(gm_heatmap_svg(f, h), 0, "gm_heatmap_svg into %s", path);
	cr_assert_eq(fclose(f), 0);
	f = fopen(path, "r");
	cr_assert_not_null(f, "reopen %s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	cr_assert_gt(n, 0, "%s is empty", path);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	cr_assert_not_null(text);
	cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return text;
}

/* Occurrences of needle in hay. */
static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0, k = strlen(needle);

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + k, needle))
		n++;
	return n;
}

/* Line i (0-based) of text, without its newline, into buf. */
static const char *line_of(const char *text, int i, char *buf, size_t n)
{
	const char *end;
	size_t len;

	for (; i > 0 && text; i--) {
		text = strchr(text, '\n');
		if (text)
			text++;
	}
	cr_assert_not_null(text, "text has fewer lines than asked");
	end = strchr(text, '\n');
	len = end ? (size_t)(end - text) : strlen(text);
	cr_assert_lt(len, n, "line too long for the buffer");
	memcpy(buf, text, len);
	buf[len] = '\0';
	return buf;
}

static size_t lines_in(const char *text)
{
	return count_of(text, "\n");
}

/* The map most tests use: two rows of counts over four bins of ten frames.
 * max = 100, so levels (L = 25): 1 -> 1, 4 -> 1, 25 -> 7, 50 -> 13, 100 -> 25. */
static const uint64_t row_a[] = {0, 1, 50, 100};
static const uint64_t row_b[] = {100, 25, 0, 4};
static const uint64_t *const two_rows[] = {row_a, row_b};
static const char *const two_labels[] = {"alpha", "b"};
static const uint64_t four_bins[] = {1, 11, 21, 31, 41};

static gm_heatmap_t two_by_four(void)
{
	gm_heatmap_t h = {
	        .title = "touches by asset",
	        .bytes = 0,
	        .nrows = 2,
	        .ncols = 4,
	        .labels = two_labels,
	        .rows = two_rows,
	        .col_first = four_bins,
	};
	return h;
}

/* ---- terminal ------------------------------------------------------------ */

Test(heatmap, ascii_view_shades_cells_by_share_of_the_largest)
{
	gm_heatmap_t h = two_by_four();
	char *t = heat_text(&h, 0);
	char line[256];

	cr_expect_eq(lines_in(t), 5, "title, 2 rows, axis, legend: %s", t);
	cr_expect_str_eq(line_of(t, 0, line, sizeof(line)), "touches by asset");
	/* label column as wide as the longest label (5), at least 4 */
	cr_expect_str_eq(line_of(t, 1, line, sizeof(line)), "  alpha | .+@| 100",
	                 "row {0, 1, 50, 100}");
	cr_expect_str_eq(line_of(t, 2, line, sizeof(line)), "  b     |@- .| 100",
	                 "row {100, 25, 0, 4}");
	/* axis under the cells (pad = width 5 + 4): first frame, last frame 40;
	 * the middle bin's first frame (21) does not fit in 4 columns */
	cr_expect_str_eq(line_of(t, 3, line, sizeof(line)), "         1 40  frames");
	cr_expect_str_eq(line_of(t, 4, line, sizeof(line)),
	                 "  scale: 1 ...:::---===++***###%%%@@ 100 (linear; a cell is the "
	                 "largest value in its frames, blank: 0)",
	                 "legend: 25 levels through 9 shades, from 1 to the max");
	cr_expect_null(strchr(t, '\x1b'), "no escape sequence without colour");
	free(t);
}

Test(heatmap, colour_view_uses_xterm_backgrounds_and_resets_only_on_change)
{
	static const char legend_start[] = "  scale: 1 \x1b[48;5;17m \x1b[0m\x1b[48;5;18m \x1b[0m";
	gm_heatmap_t h = two_by_four();
	char *t = heat_text(&h, 1);
	char line[512];

	/* level 1 -> 17, 7 -> 33, 13 -> 48, 25 -> 196; a 0 cell after a
	 * coloured one resets; the row ends reset when a colour is on */
	cr_expect_str_eq(line_of(t, 1, line, sizeof(line)),
	                 "  alpha | \x1b[48;5;17m \x1b[48;5;48m \x1b[48;5;196m \x1b[0m| 100",
	                 "row {0, 1, 50, 100}");
	cr_expect_str_eq(line_of(t, 2, line, sizeof(line)),
	                 "  b     |\x1b[48;5;196m \x1b[48;5;33m \x1b[0m \x1b[48;5;17m \x1b[0m| 100",
	                 "row {100, 25, 0, 4}");
	line_of(t, 4, line, sizeof(line));
	cr_expect_eq(strncmp(line, legend_start, strlen(legend_start)), 0,
	             "legend starts at the coolest colours: %s", line);
	cr_expect_eq(count_of(line, "\x1b[0m"), 25, "legend: one reset per colour");
	cr_expect_not_null(strstr(line, "\x1b[48;5;196m \x1b[0m 100 (linear;"),
	                   "legend ends at the hottest colour and the max: %s", line);
	free(t);
}

Test(heatmap, ascii_ramp_gives_each_level_its_shade)
{
	/* one row holding 1..25 against max 25: level k for value k */
	static uint64_t cells[25];
	static const uint64_t *rows[] = {cells};
	static const char *labels[] = {"ramp"};
	static uint64_t bins[26];
	gm_heatmap_t h = {.title = "ramp",
	                  .nrows = 1,
	                  .ncols = 25,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char line[256], want[256];
	char *t;
	int k;

	for (k = 0; k < 25; k++)
		cells[k] = (uint64_t)k + 1;
	for (k = 0; k <= 25; k++)
		bins[k] = (uint64_t)k + 1;
	t = heat_text(&h, 0);
	cr_expect_str_eq(line_of(t, 1, line, sizeof(line)),
	                 "  ramp |...:::---===++***###%%%@@| 25");
	/* 25 columns: 1 at the left, 25 (last frame) at the right, 13 (first
	 * frame of column 12) in the middle */
	snprintf(want, sizeof(want), "%8s1%11s13%9s25  frames", "", "", "");
	cr_expect_str_eq(line_of(t, 2, line, sizeof(line)), want);
	free(t);
}

Test(heatmap, bytes_show_as_human_sizes)
{
	static const uint64_t r0[] = {1536, 0, 3u << 20};
	static const uint64_t r1[] = {0, 512, 0};
	static const uint64_t *rows[] = {r0, r1};
	/* a control byte in a label shows as '?' */
	static const char *labels[] = {"textures/brick.png", "a\tb"};
	static const uint64_t bins[] = {1, 2, 3, 4};
	gm_heatmap_t h = {.title = "live bytes by asset",
	                  .bytes = 1,
	                  .nrows = 2,
	                  .ncols = 3,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char line[256], want[256];
	char *t = heat_text(&h, 0);

	/* max 3 MiB: 1536 -> level 1 '.', 3 MiB -> '@', 512 -> '.' */
	cr_expect_str_eq(line_of(t, 1, line, sizeof(line)), "  textures/brick.png |. @| 3.0 MiB");
	snprintf(want, sizeof(want), "  %-18s | . | 512 B", "a?b");
	cr_expect_str_eq(line_of(t, 2, line, sizeof(line)), want);
	/* axis: 3 columns, "1" and "3" (last = 4 - 1), under the cells */
	snprintf(want, sizeof(want), "%22s1 3  frames", "");
	cr_expect_str_eq(line_of(t, 3, line, sizeof(line)), want);
	line_of(t, 4, line, sizeof(line));
	cr_expect_eq(strncmp(line, "  scale: 1 B ", 13), 0, "legend low end in bytes: %s", line);
	cr_expect_not_null(strstr(line, " 3.0 MiB (linear;"), "legend high end: %s", line);
	free(t);
}

/* heatmap.h: "a label column" - labels longer than 40 keep their end after
 * "..", and every row's cells start in the same column as the axis. */
Test(heatmap, cut_labels_keep_the_label_column_width)
{
	static const uint64_t r0[] = {9, 0, 3};
	static const uint64_t r1[] = {0, 9, 0};
	static const uint64_t *rows[] = {r0, r1};
	/* 42 bytes: cut to 40 = ".." + the last 38 */
	static const char *labels[] = {"textures/level_01/very/long/path/brick.png", "short"};
	static const uint64_t bins[] = {1, 2, 3, 4};
	gm_heatmap_t h = {.title = "touches by asset",
	                  .nrows = 2,
	                  .ncols = 3,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char line[256], want[256];
	char *t = heat_text(&h, 0);

	/* 3 of 9 -> level ceil(75 / 9) = 9 -> shade (8 * 9) / 25 = 2 '-' */
	cr_expect_str_eq(line_of(t, 1, line, sizeof(line)),
	                 "  ..ures/level_01/very/long/path/brick.png |@ -| 9",
	                 "a 42-byte label in a 40-column label column");
	snprintf(want, sizeof(want), "  %-40s | @ | 9", "short");
	cr_expect_str_eq(line_of(t, 2, line, sizeof(line)), want);
	snprintf(want, sizeof(want), "%44s1 3  frames", "");
	cr_expect_str_eq(line_of(t, 3, line, sizeof(line)), want, "axis under the cells");
	free(t);
}

/* Labels are padded and cut by the columns their characters take, not by
 * their bytes: one of accented letters and one of wide (CJK) characters
 * line up with an ASCII one (their cells started 9 columns left). */
Test(heatmap, labels_of_other_scripts_take_their_columns)
{
	static const uint64_t r0[] = {9}, r1[] = {9}, r2[] = {9};
	static const uint64_t *rows[] = {r0, r1, r2};
	/* "ünïcødé" 7 columns (12 bytes); "テクスチャ" 5 characters, 10
	 * columns (15 bytes) */
	static const char *labels[] = {"plain",
	                               "\xc3\xbcn\xc3\xaf"
	                               "c\xc3\xb8"
	                               "d\xc3\xa9",
	                               "\xe3\x83\x86\xe3\x82\xaf\xe3\x82\xb9\xe3\x83\x81\xe3"
	                               "\x83\xa3"};
	static const uint64_t bins[] = {1, 2};
	gm_heatmap_t h = {.title = "live bytes by asset",
	                  .nrows = 3,
	                  .ncols = 1,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char line[256], want[256];
	char *t = heat_text(&h, 0);

	/* the label column is 7 wide here (the longest label's bytes would
	 * have made it 15): each row's "|" is at the same column */
	snprintf(want, sizeof(want), "  %-10s |@| 9", "plain");
	cr_expect_str_eq(line_of(t, 1, line, sizeof(line)), want, "%s", t);
	cr_expect_str_eq(line_of(t, 2, line, sizeof(line)), "  \xc3\xbcn\xc3\xaf"
	                                                    "c\xc3\xb8"
	                                                    "d\xc3\xa9    |@| 9");
	cr_expect_str_eq(line_of(t, 3, line, sizeof(line)),
	                 "  \xe3\x83\x86\xe3\x82\xaf\xe3\x82\xb9\xe3\x83\x81\xe3\x83\xa3 |@| 9");
	free(t);
}

/* Touches: a cell is the sum of the touches in its frames, and the legend
 * says so (it said "the largest value" for every map). */
Test(heatmap, a_map_of_sums_says_so_in_its_legends)
{
	gm_heatmap_t h = two_by_four();
	char *t, *s;
	h.sums = 1;
	t = heat_text(&h, 0);
	s = heat_svg(&h);
	cr_expect_not_null(strstr(t, "(linear; a cell is the sum of the values in its frames, "
	                             "blank: 0)"),
	                   "%s", t);
	cr_expect_not_null(strstr(s, "(linear; sum of the values in the bin; grey: 0)"));
	free(t);
	free(s);
	h.sums = 0;
	t = heat_text(&h, 0);
	cr_expect_not_null(strstr(t, "(linear; a cell is the largest value in its frames"));
	free(t);
}

/* Characters XML does not allow, though well formed as UTF-8 (a
 * noncharacter, a C1 control), and forms that are not (a surrogate, past
 * U+10FFFF) are '?' in the SVG: browsers refused the whole file. */
Test(heatmap, svg_names_hold_only_what_xml_allows)
{
	static const uint64_t r0[] = {1};
	static const uint64_t *rows[] = {r0};
	static const char *labels[] = {"a\xef\xbf\xbe"
	                               "b\xed\xa0\x80"
	                               "c\xf4\x90\x80\x80"
	                               "d\xc2\x85"
	                               "e\xc3\xa9"};
	static const uint64_t bins[] = {1, 2};
	gm_heatmap_t h = {.title = "t",
	                  .nrows = 1,
	                  .ncols = 1,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char *s = heat_svg(&h);
	/* one '?' a byte of what cannot be written */
	cr_expect_not_null(strstr(s, ">a???b???c????d??e\xc3\xa9</text>"), "%s", s);
	free(s);
}

Test(heatmap, null_label_and_all_zero_map_draw_blank)
{
	static const uint64_t r0[] = {0, 0};
	static const uint64_t *rows[] = {r0};
	static const char *labels[] = {NULL};
	static const uint64_t bins[] = {5, 6, 9};
	gm_heatmap_t h = {.title = "empty",
	                  .nrows = 1,
	                  .ncols = 2,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char line[256];
	char *t = heat_text(&h, 0);
	char *c = heat_text(&h, 1);

	cr_expect_str_eq(line_of(t, 1, line, sizeof(line)), "  -    |  | 0");
	/* first frame 5; the last (8) does not fit beside it in 2 columns */
	cr_expect_str_eq(line_of(t, 2, line, sizeof(line)), "        5   frames");
	cr_expect_eq(strncmp(line_of(t, 3, line, sizeof(line)), "  scale: 0 ", 11), 0,
	             "an empty map's scale starts at 0: %s", line);
	cr_expect_not_null(strstr(line, "@@ 0 (linear;"), "and ends at 0: %s", line);
	/* colour: zero cells never switch a colour on, so no reset either */
	cr_expect_str_eq(line_of(c, 1, line, sizeof(line)), "  -    |  | 0");
	free(t);
	free(c);
}

Test(heatmap, no_rows_and_no_columns_print_title_and_legend_only)
{
	static const uint64_t bins[] = {1};
	gm_heatmap_t h = {.title = "nothing",
	                  .nrows = 0,
	                  .ncols = 0,
	                  .labels = NULL,
	                  .rows = NULL,
	                  .col_first = bins};
	char *t = heat_text(&h, 0);
	char line[256];

	cr_expect_eq(lines_in(t), 2, "title and legend, no axis: %s", t);
	cr_expect_str_eq(line_of(t, 0, line, sizeof(line)), "nothing");
	cr_expect_eq(strncmp(line_of(t, 1, line, sizeof(line)), "  scale: 0 ", 11), 0);
	free(t);
}

Test(heatmap, write_errors_are_reported_as_eio)
{
	gm_heatmap_t h = two_by_four();
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		cr_skip_test("/dev/full: %s", strerror(errno));
	setvbuf(f, NULL, _IONBF, 0);
	cr_expect_eq(gm_heatmap_text(f, &h, 0), -EIO, "text into /dev/full");
	clearerr(f);
	cr_expect_eq(gm_heatmap_svg(f, &h), -EIO, "SVG into /dev/full");
	fclose(f);
}

/* ---- SVG ------------------------------------------------------------------ */

Test(heatmap, svg_lays_out_rows_cells_axis_and_scale)
{
	gm_heatmap_t h = two_by_four();
	char *s = heat_svg(&h);

	/* cell width 960 / 4 = 240, clamped to 24; labels 5 chars: left =
	 * 16 + 5 * 7 + 8 = 59; width = 59 + 4 * 24 + 110 = 265, but at least
	 * left + 240 + 6 + 60 * 7 = 725 for the colour scale and its words (they
	 * ran past the edge); height = 44 + 2 * 16 + 90 = 166 */
	cr_expect_eq(strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44), 0,
	             "document start: %.60s", s);
	cr_expect_not_null(strstr(s, "width=\"725\" height=\"166\" viewBox=\"0 0 725 166\""));
	cr_expect_not_null(strstr(s,
	                          "<text x=\"16\" y=\"22\" font-size=\"14\" font-weight=\"bold\">"
	                          "touches by asset</text>"));
	cr_expect_eq(strcmp(s + strlen(s) - 7, "</svg>\n"), 0, "document end");

	/* row labels right-aligned at left - 8, baselines 44 + 16 r + 12 */
	cr_expect_not_null(strstr(s, "<text x=\"51\" y=\"56\" text-anchor=\"end\">alpha</text>"));
	cr_expect_not_null(strstr(s, "<text x=\"51\" y=\"72\" text-anchor=\"end\">b</text>"));

	/* cells: background + 8 cells + the scale bar; one tooltip per cell */
	cr_expect_eq(count_of(s, "<rect "), 10);
	cr_expect_eq(count_of(s, "<title>"), 8);
	/* 0 is grey; levels out of 64: 1 -> 1 (first stop), 50 -> 32, 100 -> 64
	 * (last stop), 25 -> 16, 4 -> 3 */
	cr_expect_not_null(strstr(s,
	                          "<rect x=\"59\" y=\"44\" width=\"24\" height=\"15\" "
	                          "fill=\"#f2f2f2\"><title>alpha, frames 1-10: 0</title></rect>"));
	cr_expect_not_null(strstr(s, "<rect x=\"83\" y=\"44\" width=\"24\" height=\"15\" "
	                             "fill=\"#1b1e6b\"><title>alpha, frames 11-20: 1</title>"));
	cr_expect_not_null(strstr(s, "<rect x=\"107\" y=\"44\" width=\"24\" height=\"15\" "
	                             "fill=\"#3abf5f\"><title>alpha, frames 21-30: 50</title>"));
	cr_expect_not_null(strstr(s, "<rect x=\"131\" y=\"44\" width=\"24\" height=\"15\" "
	                             "fill=\"#d72626\"><title>alpha, frames 31-40: 100</title>"));
	cr_expect_not_null(strstr(s, "<rect x=\"59\" y=\"60\" width=\"24\" height=\"15\" "
	                             "fill=\"#d72626\"><title>b, frames 1-10: 100</title>"));
	cr_expect_not_null(strstr(s, "<rect x=\"83\" y=\"60\" width=\"24\" height=\"15\" "
	                             "fill=\"#1e8dc6\"><title>b, frames 11-20: 25</title>"));
	cr_expect_not_null(strstr(s, "<rect x=\"131\" y=\"60\" width=\"24\" height=\"15\" "
	                             "fill=\"#1c2d7c\"><title>b, frames 31-40: 4</title>"));
	/* each row's largest value right of its cells (59 + 96 + 6) */
	cr_expect_not_null(strstr(s, "<text x=\"161\" y=\"56\">100</text>"));
	cr_expect_not_null(strstr(s, "<text x=\"161\" y=\"72\">100</text>"));

	/* axis at y = 44 + 32 + 4 = 80; 96 px wide: 1 interval, ticks at the
	 * first frame (1) and after the last column (40) */
	cr_expect_not_null(strstr(s, "<line x1=\"59\" y1=\"80\" x2=\"155\" y2=\"80\" "));
	cr_expect_not_null(strstr(s, "<text x=\"59\" y=\"96\" text-anchor=\"middle\">1</text>"));
	cr_expect_not_null(strstr(s, "<text x=\"155\" y=\"96\" text-anchor=\"middle\">40</text>"));
	cr_expect_eq(count_of(s, "<line "), 3, "axis line and 2 ticks");
	cr_expect_not_null(
	        strstr(s, "<text x=\"107\" y=\"110\" text-anchor=\"middle\">frame</text>"));

	/* scale at y = 44 + 32 + 52 = 128: 7 stops, 1 .. 100 */
	cr_expect_eq(count_of(s, "<stop "), 7);
	cr_expect_not_null(strstr(s, "<stop offset=\"0.000\" stop-color=\"#1b1e6b\"/>"));
	cr_expect_not_null(strstr(s, "<stop offset=\"0.500\" stop-color=\"#3cc05a\"/>"));
	cr_expect_not_null(strstr(s, "<stop offset=\"1.000\" stop-color=\"#d72626\"/>"));
	cr_expect_not_null(strstr(s, "<text x=\"53\" y=\"139\" text-anchor=\"end\">1</text>"));
	cr_expect_not_null(strstr(s, "<rect x=\"59\" y=\"128\" width=\"240\" height=\"14\" "
	                             "fill=\"url(#gm-scale)\""));
	cr_expect_not_null(strstr(s, "<text x=\"305\" y=\"139\">100 (linear; largest value in "
	                             "the bin; grey: 0)</text>"));
	free(s);
}

Test(heatmap, svg_escapes_markup_and_replaces_bad_bytes)
{
	static const uint64_t r0[] = {7};
	static const uint64_t r1[] = {0};
	static const uint64_t *rows[] = {r0, r1};
	/* markup, a control byte, valid UTF-8 (e-acute, euro, U+1F600), a lone
	 * continuation byte and a truncated 2-byte sequence */
	static const char *labels[] = {"<a&b> \"q\"\x01",
	                               "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x80 \xc3"};
	static const uint64_t bins[] = {1, 2};
	gm_heatmap_t h = {.title = "A & B <x>",
	                  .nrows = 2,
	                  .ncols = 1,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char *s = heat_svg(&h);

	cr_expect_not_null(strstr(s, "font-weight=\"bold\">A &amp; B &lt;x&gt;</text>"), "title");
	cr_expect_not_null(strstr(s, ">&lt;a&amp;b&gt; &quot;q&quot;?</text>"), "label 0");
	cr_expect_not_null(
	        strstr(s, "<title>&lt;a&amp;b&gt; &quot;q&quot;?, frames 1-1: 7</title>"),
	        "tooltip 0");
	cr_expect_not_null(strstr(s, ">caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ? ?</text>"),
	                   "label 1: valid UTF-8 kept, broken bytes as '?'");
	cr_expect_null(strstr(s, "<a&"), "no raw markup from labels");
	free(s);
}

Test(heatmap, svg_clamps_cell_width_and_spaces_axis_ticks)
{
	enum {
		ncols = 500
	};
	static uint64_t cells[ncols], bins[ncols + 1];
	static const uint64_t *rows[] = {cells};
	static const char *labels[] = {NULL};
	gm_heatmap_t h = {.title = "wide",
	                  .bytes = 1,
	                  .nrows = 1,
	                  .ncols = ncols,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char want[160];
	char *s;
	int c;

	for (c = 0; c < ncols; c++)
		cells[c] = c == 250 ? 2048 : 0;
	for (c = 0; c <= ncols; c++)
		bins[c] = 2 * (uint64_t)c + 1; /* two frames a bin, 1 .. 1000 */
	s = heat_svg(&h);
	/* 960 / 500 = 1 px, clamped to 3; label "-" (1 char): left = 31;
	 * width = 31 + 1500 + 110 = 1641 */
	cr_expect_not_null(strstr(s, "width=\"1641\" height=\"150\""), "%.200s", s);
	cr_expect_not_null(strstr(s, "<rect x=\"781\" y=\"44\" width=\"3\" height=\"15\" "
	                             "fill=\"#d72626\"><title>-, frames 501-502: 2.0 KiB</title>"));
	cr_expect_eq(count_of(s, "fill=\"#f2f2f2\""), ncols - 1);
	/* 1500 px: 16 intervals, 17 ticks plus the axis line; the last tick
	 * names the last frame */
	cr_expect_eq(count_of(s, "<line "), 18);
	snprintf(want, sizeof(want), "<text x=\"%d\" y=\"80\" text-anchor=\"middle\">1000</text>",
	         31 + ncols * 3);
	cr_expect_not_null(strstr(s, want), "%s", want);
	/* tick 8 of 16: column 250, frame 501 */
	cr_expect_not_null(strstr(s, "<text x=\"781\" y=\"80\" text-anchor=\"middle\">501</text>"));
	cr_expect_not_null(strstr(s, ">1 B</text>"), "scale low end in bytes");
	cr_expect_not_null(strstr(s, ">2.0 KiB (linear;"), "scale high end in bytes");
	free(s);
}

Test(heatmap, svg_without_columns_has_no_axis)
{
	static const uint64_t bins[] = {1};
	gm_heatmap_t h = {.title = "none", .nrows = 0, .ncols = 0, .col_first = bins};
	char *s = heat_svg(&h);

	/* no columns: cell width 16 (unused); left = 24; width 24 + 666 (the
	 * scale's room); height 134 */
	cr_expect_not_null(strstr(s, "width=\"690\" height=\"134\""), "%.200s", s);
	cr_expect_eq(count_of(s, "<line "), 0);
	cr_expect_eq(count_of(s, "<title>"), 0);
	cr_expect_not_null(strstr(s, ">0</text>"), "scale starts at 0");
	cr_expect_not_null(strstr(s, ">0 (linear;"), "and ends at 0");
	free(s);
}

/* One column: the axis names only the first frame (no room for more), and
 * a DEL byte in a label shows as '?' like any control byte. */
Test(heatmap, one_column_axis_and_del_byte_in_a_label)
{
	static const uint64_t r0[] = {5};
	static const uint64_t *rows[] = {r0};
	static const char *labels[] = {"del\x7f"};
	static const uint64_t bins[] = {3, 8};
	gm_heatmap_t h = {.title = "one bin",
	                  .nrows = 1,
	                  .ncols = 1,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char line[256];
	char *t = heat_text(&h, 0);

	cr_expect_eq(lines_in(t), 4, "title, 1 row, axis, legend: %s", t);
	/* 5 of max 5: level 25, shade '@'; label width 4 */
	cr_expect_str_eq(line_of(t, 1, line, sizeof(line)), "  del? |@| 5");
	/* pad = 4 + 4; the one column holds "3", the last frame (7) is left out */
	cr_expect_str_eq(line_of(t, 2, line, sizeof(line)), "        3  frames");
	free(t);
}

/* SVG: the label column is at most 40 characters wide (7 px each) however
 * long a label is (the label itself is written whole); DEL and bytes that
 * start no UTF-8 sequence (0xf5..0xff) become '?'. */
Test(heatmap, svg_label_column_is_capped_and_bad_lead_bytes_replaced)
{
	static const uint64_t r0[] = {1};
	static const uint64_t r1[] = {2};
	static const uint64_t *rows[] = {r0, r1};
	/* 46 bytes */
	static const char *labels[] = {"levels/forest/terrain/chunk_0042/heightmap.raw",
	                               "x\x7fy\xf8z\xffw"};
	static const uint64_t bins[] = {1, 5};
	gm_heatmap_t h = {.title = "cap",
	                  .nrows = 2,
	                  .ncols = 1,
	                  .labels = labels,
	                  .rows = rows,
	                  .col_first = bins};
	char *s = heat_svg(&h);

	cr_assert_gt(strlen(labels[0]), 40);
	/* left = 16 + 40 * 7 + 8 = 304; cell width 960 clamped to 24; width =
	 * 304 + 24 + 110, at least 304 + 666 = 970 (the scale's room); height =
	 * 44 + 2 * 16 + 90 = 166 */
	cr_expect_not_null(strstr(s, "width=\"970\" height=\"166\""), "%.200s", s);
	/* cut to the column's 40 characters, keeping the end (it ran past the
	 * left edge whole) */
	cr_expect_not_null(strstr(s, "<text x=\"296\" y=\"56\" text-anchor=\"end\">"
	                             "..orest/terrain/chunk_0042/heightmap.raw</text>"));
	cr_expect_not_null(strstr(s, "<text x=\"296\" y=\"72\" text-anchor=\"end\">x?y?z?w</text>"),
	                   "DEL, 0xf8 and 0xff as '?'");
	cr_expect_not_null(strstr(s, "<title>x?y?z?w, frames 1-4: 2</title>"));
	free(s);
}

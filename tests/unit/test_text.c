/* test_text.c - the report helpers: CSV fields (gm_text_csv) and quoted
 * strings (gm_text_quote), written to a memory stream (open_memstream) as
 * the reports write to stdout; sizes and durations for people
 * (gm_text_size, gm_text_duration); the largest-blocks collector (top.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/report/text.h"
#include "analysis/report/top.h"
#include "failalloc.h"

/* What gm_text_csv writes for s. */
static char *csv_of(const char *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f, "open_memstream");
	gm_text_csv(f, s);
	cr_assert_eq(fclose(f), 0);
	return text;
}

Test(text, csv_fields_are_quoted_only_when_they_must_be)
{
	static const char *const cases[][2] = {
	        {"textures/hero.png", "textures/hero.png"},
	        {"a,b", "\"a,b\""},
	        {"say \"hi\"", "\"say \"\"hi\"\"\""},
	        {"two\nlines", "\"two\nlines\""},
	        {"cr\r", "\"cr\r\""},
	        {"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = csv_of(cases[i][0]);
		cr_expect_str_eq(got, cases[i][1], "field %zu", i);
		free(got);
	}
}

Test(text, csv_of_null_writes_nothing)
{
	char *got = csv_of(NULL);
	cr_expect_str_eq(got, "");
	free(got);
}

/* What gm_text_quote writes for n bytes of s. */
static char *quote_of(const char *s, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cr_assert_not_null(f, "open_memstream");
	gm_text_quote(f, s, n);
	cr_assert_eq(fclose(f), 0);
	return text;
}

Test(text, quoted_strings_escape_what_a_terminal_would_garble)
{
	char *got = quote_of("a\"b\\c\nd\te\x01\x7f\xc3", 12);
	cr_expect_str_eq(got, "\"a\\\"b\\\\c\\nd\\te\\x01\\x7f\\xc3\"");
	free(got);
	got = quote_of("main thread", 4);
	cr_expect_str_eq(got, "\"main\"", "only n bytes");
	free(got);
}

Test(text, whole_numbers_of_computed_figures_saturate)
{
	cr_expect_eq(gm_text_whole(0.0 / 0.0), 0, "NaN");
	cr_expect_eq(gm_text_whole(-5.0), 0);
	cr_expect_eq(gm_text_whole(0.49), 0);
	cr_expect_eq(gm_text_whole(0.5), 1);
	cr_expect_eq(gm_text_whole(1234.6), 1235);
	cr_expect_eq(gm_text_whole(18446744073709549568.0), 18446744073709549568ull,
	             "the largest double below 2^64");
	cr_expect_eq(gm_text_whole(18446744073709551616.0), UINT64_MAX, "2^64");
	cr_expect_eq(gm_text_whole(3.6e19), UINT64_MAX, "a rate a damaged capture made");
	cr_expect_eq(gm_text_whole(1.0 / 0.0), UINT64_MAX);
}

Test(text, sizes_in_binary_units_up_to_exbibytes)
{
	static const struct {
		uint64_t bytes;
		const char *want;
	} cases[] = {
	        {0, "0 B"},
	        {1023, "1023 B"},
	        {1024, "1.0 KiB"},
	        {1536, "1.5 KiB"},
	        {5ull << 20, "5.0 MiB"},
	        {3ull << 30, "3.0 GiB"},
	        {1ull << 60, "1.0 EiB"},
	        {UINT64_MAX, "16.0 EiB"}, /* no unit above EiB */
	};
	char buf[GM_TEXT_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(gm_text_size(buf, sizeof(buf), cases[i].bytes), cases[i].want,
		                 "%llu bytes", (unsigned long long)cases[i].bytes);
}

Test(text, durations_from_nanoseconds_to_minutes)
{
	static const struct {
		uint64_t ns;
		const char *want;
	} cases[] = {
	        {0, "0 ns"},
	        {999, "999 ns"},
	        {1500, "1.5 us"},
	        {2500000, "2.50 ms"},
	        {1500000000, "1.500 s"},
	        {59999000000ull, "59.999 s"},
	        {61500000000ull, "1m01.5s"},
	        {3600000000000ull, "60m00.0s"},
	};
	char buf[GM_TEXT_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(gm_text_duration(buf, sizeof(buf), cases[i].ns), cases[i].want,
		                 "%llu ns", (unsigned long long)cases[i].ns);
	cr_expect_str_eq(gm_text_duration(buf, sizeof(buf), UINT64_MAX), "307445734m33.7s");
}

/* ---- top.h ------------------------------------------------------------------ */

static gm_live_entry_t block(uint64_t size, uint64_t seq)
{
	gm_live_entry_t e = {.ptr = 0x1000 + seq, .size = size, .seq = seq};
	return e;
}

Test(top, keeps_the_largest_and_earlier_on_ties_across_sorts)
{
	static const uint64_t sizes[] = {50, 10, 90, 50, 70, 20};
	gm_top_t *top = gm_top_new(3);
	const gm_live_entry_t *v;
	gm_live_entry_t e;
	size_t n;

	cr_assert_not_null(top);
	v = gm_top_sorted(top, &n);
	cr_expect_eq(n, 0, "nothing offered");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		e = block(sizes[i], i);
		gm_top_offer(top, &e);
	}
	v = gm_top_sorted(top, &n);
	cr_assert_eq(n, 3);
	cr_expect_eq(v[0].size, 90);
	cr_expect_eq(v[1].size, 70);
	cr_expect_eq(v[2].size, 50);
	cr_expect_eq(v[2].seq, 0, "of the two 50-byte blocks, the earlier");
	/* offering after a sort rebuilds the heap */
	e = block(80, 10);
	gm_top_offer(top, &e);
	e = block(5, 11);
	gm_top_offer(top, &e);
	e = block(90, 12); /* as large as the first 90, later: ranks below it */
	gm_top_offer(top, &e);
	v = gm_top_sorted(top, &n);
	cr_assert_eq(n, 3);
	cr_expect(v[0].size == 90 && v[0].seq == 2);
	cr_expect(v[1].size == 90 && v[1].seq == 12);
	cr_expect_eq(v[2].size, 80);
	v = gm_top_sorted(top, &n); /* sorted twice: the same */
	cr_expect_eq(v[2].size, 80);
	gm_top_free(top);
}

Test(top, one_block_or_none)
{
	gm_top_t *top = gm_top_new(1), *none = gm_top_new(0);
	const gm_live_entry_t *v;
	gm_live_entry_t e = block(7, 1), same = block(7, 1);
	size_t n;

	cr_assert_not_null(top);
	cr_assert_not_null(none);
	gm_top_offer(top, &e);
	gm_top_offer(top, &same); /* the very same block: not above it */
	gm_top_offer(none, &e);
	v = gm_top_sorted(top, &n);
	cr_assert_eq(n, 1);
	cr_expect_eq(v[0].size, 7);
	gm_top_sorted(none, &n);
	cr_expect_eq(n, 0, "a collector for 0 blocks keeps none");
	gm_top_free(top);
	/* the same block offered twice is kept twice, side by side */
	top = gm_top_new(3);
	cr_assert_not_null(top);
	gm_top_offer(top, &e);
	gm_top_offer(top, &same);
	e = block(3, 2);
	gm_top_offer(top, &e);
	v = gm_top_sorted(top, &n);
	cr_assert_eq(n, 3);
	cr_expect(v[0].size == 7 && v[1].size == 7 && v[2].size == 3);
	gm_top_free(top);
	gm_top_free(none);
	gm_top_free(NULL);
}

static int oom_top(long n, void *arg)
{
	gm_top_t *top = gm_top_new(4);
	(void)n;
	(void)arg;
	if (!top)
		return 1;
	gm_top_free(top);
	return 0;
}

Test(top, out_of_memory_is_null)
{
	long runs = gm_failalloc_each(oom_top, NULL, 10);
	cr_expect_eq(runs, 2, "the collector and its items (%ld)", runs);
}

Test(text, csv_fields_show_bytes_that_are_not_utf8_as_replacement_characters)
{
	char *s = csv_of("bad\xff\xfe\xc3(");
	cr_expect_str_eq(s, "bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd(");
	free(s);
	s = csv_of("caf\xc3\xa9,\xe2\x82\xac");
	cr_expect_str_eq(s, "\"caf\xc3\xa9,\xe2\x82\xac\"");
	free(s);
}

Test(text, cells_cut_long_names_to_their_last_characters)
{
	char buf[4 * 10 + 1], small[6];
	const char *s;
	/* fits: the name itself (no copy) */
	s = "texture";
	cr_expect_eq(gm_text_cell(buf, sizeof(buf), s, 10), s);
	cr_expect_str_eq(gm_text_cell(buf, sizeof(buf), "0123456789", 10), "0123456789");
	/* too long: ".." and the last 8 characters */
	cr_expect_str_eq(gm_text_cell(buf, sizeof(buf), "0123456789a", 10), "..3456789a");
	cr_expect_str_eq(gm_text_cell(buf, sizeof(buf), "engine/texture2d_array", 10),
	                 "..2d_array");
	/* characters, not bytes: the cut starts at a character's first byte */
	cr_expect_str_eq(gm_text_cell(buf, sizeof(buf), "caf\xc3\xa9-caf\xc3\xa9-caf\xc3\xa9", 10),
	                 "..af\xc3\xa9-caf\xc3\xa9");
	cr_expect_str_eq(gm_text_cell(buf, sizeof(buf),
	                              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
	                              10),
	                 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	                 "\xc3\xa9");
	/* control characters become '?', cut or not */
	cr_expect_str_eq(gm_text_cell(buf, sizeof(buf), "a\nb", 10), "a?b");
	cr_expect_str_eq(gm_text_cell(buf, sizeof(buf), "0123456789\tbc", 10), "..56789?bc");
	/* width 0: never cut; a buffer too small for the cut form: fewer characters */
	cr_expect_str_eq(gm_text_cell(buf, sizeof(buf), "0123456789abc", 0), "0123456789abc");
	cr_expect_str_eq(gm_text_cell(small, sizeof(small), "0123456789abc", 10), "..abc");
	cr_expect_str_eq(gm_text_cell(buf, sizeof(buf), NULL, 10), "-");
}

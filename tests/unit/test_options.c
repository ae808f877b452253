/* test_options.c - the options table: parsers, environment, bad values */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interpose/support/options.h"
#include "interpose/support/support.h"

Test(options, booleans_take_every_documented_spelling)
{
	static const struct {
		const char *in;
		int out;
	} cases[] = {{"1", 1}, {"true", 1},  {"YES", 1}, {"on", 1},
	             {"0", 0}, {"false", 0}, {"No", 0},  {"off", 0}};
	size_t i;
	int v;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -1;
		cr_expect_eq(gm_options_parse_bool(cases[i].in, &v), 0, "input %s", cases[i].in);
		cr_expect_eq(v, cases[i].out, "input %s", cases[i].in);
	}
	cr_expect_eq(gm_options_parse_bool("maybe", &v), -EINVAL);
	cr_expect_eq(gm_options_parse_bool("", &v), -EINVAL);
}

Test(options, sizes_take_suffixes_and_reject_junk)
{
	static const struct {
		const char *in;
		uint64_t out;
	} ok[] = {{"0", 0},           {"4096", 4096},
	          {"64K", 65536},     {"64KiB", 65536},
	          {"8M", 8u << 20},   {"8mib", 8u << 20},
	          {"2G", 2ull << 30}, {"1GiB", 1ull << 30},
	          {"1.5M", 3u << 19}, {"3.2GiB", 3435973836ull},
	          {"2T", 2ull << 40}, {"0.25KiB", 256}};
	static const char *bad[] = {"",    "-1",  "12Q", "K",      "99999999999999999999",
	                            "1.5", "1.M", ".5M", "1.5.5M", "18446744073709551615G",
	                            " 8M", "+8M"};
	size_t i;
	uint64_t v;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_expect_eq(gm_options_parse_size(ok[i].in, &v), 0, "input %s", ok[i].in);
		cr_expect_eq(v, ok[i].out, "input %s", ok[i].in);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(gm_options_parse_size(bad[i], &v), -EINVAL, "input '%s'", bad[i]);
}

static int gm_test_warnings;
static char gm_test_warned[256];

static void gm_test_warn(const char *a, const char *b, const char *c)
{
	gm_test_warnings++;
	snprintf(gm_test_warned, sizeof(gm_test_warned), "%s%s%s", a ? a : "", b ? b : "",
	         c ? c : "");
}

Test(options, environment_overrides_defaults_and_bad_values_warn_once)
{
	gm_options_t o;
	setenv("GMTRACE_RING_SIZE", "16M", 1);
	setenv("GMTRACE_COMPRESS", "off", 1);
	setenv("GMTRACE_CHUNK_SIZE", "lots", 1);
	setenv("GMTRACE_DRAIN", "external", 1);
	setenv("GMTRACE_OUTPUT", "/tmp/x.%p.gmt", 1);
	gm_options_load(&o, gm_test_warn);
	cr_expect_eq(o.ring_size, 16u << 20);
	cr_expect_eq(o.compress, 0);
	cr_expect_eq(o.chunk_size, 65536, "bad value keeps the default");
	cr_expect_eq(o.drain_external, 1);
	cr_expect_str_eq(o.output, "/tmp/x.%p.gmt");
	cr_expect_eq(gm_test_warnings, 1);
	cr_expect(strstr(gm_test_warned, "GMTRACE_CHUNK_SIZE") != NULL, "warning: %s",
	          gm_test_warned);
	unsetenv("GMTRACE_RING_SIZE");
	unsetenv("GMTRACE_COMPRESS");
	unsetenv("GMTRACE_CHUNK_SIZE");
	unsetenv("GMTRACE_DRAIN");
	unsetenv("GMTRACE_OUTPUT");
}

Test(options, set_by_name_reports_unknown_and_invalid)
{
	gm_options_t o;
	char longpath[2048];
	gm_options_load(&o, NULL);
	cr_expect_eq(gm_options_set(&o, "follow_children", "no"), 0);
	cr_expect_eq(o.follow_children, 0);
	cr_expect_eq(gm_options_set(&o, "drain_interval_ms", "12"), 0);
	cr_expect_eq(o.drain_interval_ms, 12);
	cr_expect_eq(gm_options_set(&o, "drain_interval_ms", "-3"), -EINVAL);
	cr_expect_eq(gm_options_set(&o, "drain", "sideways"), -EINVAL);
	cr_expect_eq(gm_options_set(&o, "no_such_option", "1"), -ENOENT);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = 0;
	cr_expect_eq(gm_options_set(&o, "output", longpath), -EINVAL, "2047-byte path");
	cr_expect_str_eq(o.output, "./%e.%p.gmt", "unchanged after a bad value");
}

Test(options, every_row_has_a_name_default_and_meaning)
{
	size_t i;
	gm_options_t o;
	for (i = 0; i < gm_options_count; i++) {
		const gm_option_row_t *r = &gm_options_table[i];
		cr_expect(r->name && *r->name, "row %zu", i);
		cr_expect(r->help && *r->help, "row %s", r->name);
		cr_expect_eq(gm_options_set(&o, r->name, r->def), 0, "default of %s parses",
		             r->name);
	}
}

Test(options, sizes_keep_six_decimals_and_refuse_a_point_without_digits)
{
	uint64_t v = 7;
	/* 1.1234567M: the seventh decimal is dropped, 1.123456 MiB rounded down */
	cr_expect_eq(gm_options_parse_size("1.1234567M", &v), 0);
	cr_expect_eq(v, 1048576 + 123456ull * 1048576 / 1000000, "got %llu", (unsigned long long)v);
	cr_expect_eq(gm_options_parse_size("1. M", &v), -EINVAL, "space after the point");
	cr_expect_eq(gm_options_parse_size(NULL, &v), -EINVAL, "no value");
}

Test(options, integers_reject_empty_junk_and_overflow_keeping_the_old_value)
{
	static const char *bad[] = {"", "-3", "12x", "99999999999999999999", "0x10", " 7", "+7"};
	gm_options_t o;
	size_t i;
	gm_options_load(&o, NULL);
	cr_assert_eq(gm_options_set(&o, "drain_interval_ms", "18446744073709551615"), 0);
	cr_expect_eq(o.drain_interval_ms, UINT64_MAX, "the largest value is taken");
	cr_assert_eq(gm_options_set(&o, "drain_interval_ms", "7"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(gm_options_set(&o, "drain_interval_ms", bad[i]), -EINVAL, "'%s'",
		             bad[i]);
		cr_expect_eq(o.drain_interval_ms, 7, "'%s' leaves the value", bad[i]);
	}
	cr_expect_eq(gm_options_set(&o, "enabled", "maybe"), -EINVAL);
	cr_expect_eq(o.enabled, 1, "enabled keeps its default");
}

Test(options, ratios_are_hundredths_up_to_a_million)
{
	static const struct {
		const char *in;
		uint64_t pct;
	} ok[] = {{"2.5", 250}, {"0", 0}, {"4", 400}, {"0.333", 33}, {"1e6", 100000000}};
	static const char *bad[] = {"",      "-1", " -1", "abc",  "2x",  "1000001",
	                            "1e999", " 4", "+4",  "0x10", "inf", "nan"};
	gm_options_t o;
	size_t i;
	gm_options_load(&o, NULL);
	cr_expect_eq(o.spike_factor_pct, 400, "default 4");
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_expect_eq(gm_options_set(&o, "spike_factor", ok[i].in), 0, "'%s'", ok[i].in);
		cr_expect_eq(o.spike_factor_pct, ok[i].pct, "'%s'", ok[i].in);
	}
	cr_assert_eq(gm_options_set(&o, "spike_factor", "3"), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(gm_options_set(&o, "spike_factor", bad[i]), -EINVAL, "'%s'", bad[i]);
		cr_expect_eq(o.spike_factor_pct, 300, "'%s' leaves the value", bad[i]);
	}
}

Test(options, a_bad_environment_value_without_a_warner_keeps_the_default)
{
	gm_options_t o;
	setenv("GMTRACE_SPIKE_FACTOR", "lots", 1);
	setenv("GMTRACE_LEVEL", "FRAMES", 1);
	gm_options_load(&o, NULL);
	unsetenv("GMTRACE_SPIKE_FACTOR");
	unsetenv("GMTRACE_LEVEL");
	cr_expect_eq(o.spike_factor_pct, 400, "default kept");
	cr_expect_eq(o.level, 1, "choices ignore case");
}

/* A name cut to n bytes never ends inside a UTF-8 sequence. */
Test(support, utf8_cut_keeps_whole_sequences)
{
	/* "ab" then U+00E9 (2 bytes), U+20AC (3), U+1F600 (4) */
	const char *s = "ab\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
	cr_expect_eq(gm_support_utf8_cut(s, 2), 2);
	cr_expect_eq(gm_support_utf8_cut(s, 3), 2); /* inside U+00E9 */
	cr_expect_eq(gm_support_utf8_cut(s, 4), 4);
	cr_expect_eq(gm_support_utf8_cut(s, 5), 4); /* inside U+20AC */
	cr_expect_eq(gm_support_utf8_cut(s, 6), 4);
	cr_expect_eq(gm_support_utf8_cut(s, 7), 7);
	cr_expect_eq(gm_support_utf8_cut(s, 10), 7); /* inside U+1F600 */
	cr_expect_eq(gm_support_utf8_cut(s, 11), 11);
	/* not UTF-8: four continuation bytes in a row are cut where asked */
	cr_expect_eq(gm_support_utf8_cut("a\x80\x80\x80\x80\x80", 5), 5);
}

/* test_options.c - the options table: parsers, environment, bad values */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interpose/support/options.h"

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
	                            "1.5", "1.M", ".5M", "1.5.5M", "18446744073709551615G"};
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

/* test_json.c - the streaming JSON writer: commas, escaping, numbers, misuse */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/report/json.h"

/* A writer into memory; json_text() closes it and returns the text. */
typedef struct buf {
	char *text;
	size_t len;
	FILE *f;
} buf_t;

static void buf_open(buf_t *b)
{
	memset(b, 0, sizeof(*b));
	b->f = open_memstream(&b->text, &b->len);
	cr_assert_not_null(b->f);
}

static const char *buf_text(buf_t *b)
{
	fclose(b->f);
	b->f = NULL;
	return b->text;
}

Test(json, places_commas_between_members_and_elements)
{
	gm_json_t j;
	buf_t b;

	buf_open(&b);
	gm_json_init(&j, b.f, 0);
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "a", 1);
	gm_json_key(&j, "list");
	gm_json_array_begin(&j);
	gm_json_u64(&j, 1);
	gm_json_object_begin(&j);
	gm_json_object_end(&j);
	gm_json_array_begin(&j);
	gm_json_array_end(&j);
	gm_json_string(&j, "x");
	gm_json_array_end(&j);
	gm_json_key_null(&j, "n");
	gm_json_key_bool(&j, "t", 1);
	gm_json_key_bool(&j, "f", 0);
	gm_json_key_i64(&j, "neg", -42);
	gm_json_key_u64(&j, "big", UINT64_MAX);
	gm_json_object_end(&j);
	cr_expect_eq(gm_json_finish(&j), 0, "finish of a balanced document");
	cr_expect_str_eq(buf_text(&b),
	                 "{\"a\":1,\"list\":[1,{},[],\"x\"],\"n\":null,\"t\":true,\"f\":false,"
	                 "\"neg\":-42,\"big\":18446744073709551615}\n");
	free(b.text);
}

Test(json, indents_when_pretty)
{
	gm_json_t j;
	buf_t b;

	buf_open(&b);
	gm_json_init(&j, b.f, 1);
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "a", 1);
	gm_json_key(&j, "b");
	gm_json_array_begin(&j);
	gm_json_u64(&j, 2);
	gm_json_u64(&j, 3);
	gm_json_array_end(&j);
	gm_json_key(&j, "c");
	gm_json_array_begin(&j);
	gm_json_array_end(&j);
	gm_json_object_end(&j);
	cr_expect_eq(gm_json_finish(&j), 0);
	cr_expect_str_eq(buf_text(&b), "{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ],\n"
	                               "  \"c\": []\n}\n");
	free(b.text);
}

Test(json, writes_one_top_level_value_per_line)
{
	gm_json_t j;
	buf_t b;

	buf_open(&b);
	gm_json_init(&j, b.f, 0);
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "ns", 1);
	gm_json_object_end(&j);
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "ns", 2);
	gm_json_object_end(&j);
	cr_expect_eq(gm_json_finish(&j), 0);
	cr_expect_str_eq(buf_text(&b), "{\"ns\":1}\n{\"ns\":2}\n");
	free(b.text);
}

Test(json, escapes_strings_and_replaces_bad_utf8)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
	        {"plain", 5, "\"plain\""},
	        {"q\"b\\s/", 6, "\"q\\\"b\\\\s/\""},
	        {"\n\r\t\x01\x7f", 5, "\"\\n\\r\\t\\u0001\\u007f\""},
	        {"a\0b", 3, "\"a\\u0000b\""},
	        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xae", 14,
	         "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xae\""},
	        {"\xff", 1, "\"\\ufffd\""},
	        {"\xc0\xaf", 2, "\"\\ufffd\\ufffd\""},            /* overlong '/' */
	        {"\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* surrogate */
	        {"\xe2\x82", 2, "\"\\ufffd\\ufffd\""},            /* cut sequence */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[64];
		gm_json_t j;
		buf_t b;

		buf_open(&b);
		gm_json_init(&j, b.f, 0);
		gm_json_string_n(&j, cases[i].in, cases[i].n);
		cr_expect_eq(gm_json_finish(&j), 0, "case %zu", i);
		snprintf(want, sizeof(want), "%s\n", cases[i].out);
		cr_expect_str_eq(buf_text(&b), want, "string case %zu (%s)", i, cases[i].out);
		free(b.text);
	}
}

Test(json, writes_doubles_shortest_and_non_finite_as_null)
{
	static const struct {
		double v;
		const char *out;
	} cases[] = {
	        {0.1, "0.1\n"},
	        {1.5, "1.5\n"},
	        {-2, "-2\n"},
	        {1e300, "1e+300\n"},
	        {10, "10\n"},
	        {1500, "1500\n"},
	        {1.0 / 3.0, "0.3333333333333333\n"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gm_json_t j;
		buf_t b;

		buf_open(&b);
		gm_json_init(&j, b.f, 0);
		gm_json_double(&j, cases[i].v);
		cr_expect_eq(gm_json_finish(&j), 0);
		cr_expect_str_eq(buf_text(&b), cases[i].out, "double case %zu (%s)", i,
		                 cases[i].out);
		free(b.text);
	}
	{
		gm_json_t j;
		buf_t b;

		buf_open(&b);
		gm_json_init(&j, b.f, 0);
		gm_json_array_begin(&j);
		gm_json_double(&j, strtod("nan", NULL));
		gm_json_double(&j, strtod("inf", NULL));
		gm_json_array_end(&j);
		cr_expect_eq(gm_json_finish(&j), 0);
		cr_expect_str_eq(buf_text(&b), "[null,null]\n", "NaN and infinity");
		free(b.text);
	}
}

Test(json, reports_misuse_at_finish)
{
	static const char *const names[] = {"value without key", "key in array", "unclosed object",
	                                    "mismatched end", "key without value"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		gm_json_t j;
		buf_t b;

		buf_open(&b);
		gm_json_init(&j, b.f, 0);
		switch (i) {
		case 0:
			gm_json_object_begin(&j);
			gm_json_u64(&j, 1);
			gm_json_object_end(&j);
			break;
		case 1:
			gm_json_array_begin(&j);
			gm_json_key(&j, "k");
			gm_json_array_end(&j);
			break;
		case 2:
			gm_json_object_begin(&j);
			break;
		case 3:
			gm_json_object_begin(&j);
			gm_json_array_end(&j);
			break;
		default:
			gm_json_object_begin(&j);
			gm_json_key(&j, "k");
			gm_json_object_end(&j);
			break;
		}
		cr_expect_eq(gm_json_finish(&j), -EINVAL, "misuse: %s", names[i]);
		buf_text(&b);
		free(b.text);
	}
}

Test(json, reports_too_deep_nesting)
{
	gm_json_t j;
	buf_t b;
	int i;

	buf_open(&b);
	gm_json_init(&j, b.f, 0);
	for (i = 0; i <= GM_JSON_MAX_DEPTH; i++)
		gm_json_array_begin(&j);
	cr_expect_eq(gm_json_finish(&j), -EINVAL, "%d nested arrays", GM_JSON_MAX_DEPTH + 1);
	buf_text(&b);
	free(b.text);
}

Test(json, replaces_overlong_and_out_of_range_utf8_and_bad_continuations)
{
	static const struct {
		const char *in;
		size_t n;
		const char *out;
	} cases[] = {
	        {"\xc3\x41", 2, "\"\\ufffdA\""},                  /* no continuation */
	        {"\xe0\x80\xaf", 3, "\"\\ufffd\\ufffd\\ufffd\""}, /* overlong 3-byte '/' */
	        {"\xf0\x80\x80\xaf", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* overlong 4 */
	        {"\xf4\x90\x80\x80", 4, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* > U+10FFFF */
	        {"\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\""},             /* U+10FFFF itself */
	        {"\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\""},                     /* U+FFFD itself */
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[64];
		gm_json_t j;
		buf_t b;

		buf_open(&b);
		gm_json_init(&j, b.f, 0);
		gm_json_string_n(&j, cases[i].in, cases[i].n);
		cr_expect_eq(gm_json_finish(&j), 0, "case %zu", i);
		snprintf(want, sizeof(want), "%s\n", cases[i].out);
		cr_expect_str_eq(buf_text(&b), want, "string case %zu (%s)", i, cases[i].out);
		free(b.text);
	}
}

/* Every kind of value written where an object wants a key, a key where no
 * object is open, two keys in a row, a close with nothing open: each is
 * refused without output and reported by gm_json_finish. */
Test(json, refuses_values_and_keys_out_of_place_without_writing_them)
{
	static const char *const names[] = {"string",   "u64",       "i64",    "double",
	                                    "bool",     "null",      "object", "top-level key",
	                                    "two keys", "end at top"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		gm_json_t j;
		buf_t b;
		int top = i >= 7;

		buf_open(&b);
		gm_json_init(&j, b.f, 0);
		if (!top)
			gm_json_object_begin(&j);
		switch (i) {
		case 0:
			gm_json_string(&j, "v");
			break;
		case 1:
			gm_json_u64(&j, 1);
			break;
		case 2:
			gm_json_i64(&j, -1);
			break;
		case 3:
			gm_json_double(&j, 0.5);
			break;
		case 4:
			gm_json_bool(&j, 1);
			break;
		case 5:
			gm_json_null(&j);
			break;
		case 6:
			gm_json_object_begin(&j);
			break;
		case 7:
			gm_json_key(&j, "k");
			break;
		case 8:
			gm_json_object_begin(&j);
			gm_json_key(&j, "a");
			gm_json_key(&j, "b");
			break;
		default:
			gm_json_object_end(&j);
			break;
		}
		cr_expect_eq(j.error, -EINVAL, "%s: refused", names[i]);
		if (!top)
			gm_json_object_end(&j);
		cr_expect_eq(gm_json_finish(&j), -EINVAL, "%s: reported at finish", names[i]);
		cr_expect_str_eq(buf_text(&b),
		                 i == 8 ? "{\"a\":" :
		                 top    ? "" :
		                          "{}\n",
		                 "%s: nothing written for it", names[i]);
		free(b.text);
	}
}

Test(json, reports_a_write_error_at_finish)
{
	gm_json_t j;
	FILE *f = fopen("/dev/full", "w");
	int i;

	cr_assert_not_null(f, "/dev/full");
	gm_json_init(&j, f, 0);
	gm_json_array_begin(&j);
	for (i = 0; i < 10000; i++)
		gm_json_u64(&j, (uint64_t)i);
	gm_json_array_end(&j);
	cr_expect_eq(gm_json_finish(&j), -EIO, "a full disk is an error");
	fclose(f);
}

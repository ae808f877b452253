/* test_text.c - the report text helpers: CSV fields (gm_text_csv), written
 * to a memory stream (open_memstream) as the CSV reports write to stdout.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/report/text.h"

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

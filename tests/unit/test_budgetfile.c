/* test_budgetfile.c - the budget file: every key, defaults, and each error's exact line */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "interpose/budget/budgetfile.h"
#include "interpose/log/format.h"

static char tmpdir[64];
static char path[128];

static void budgetfile_setup(void)
{
	strcpy(tmpdir, "/tmp/gm_test_budgetfile.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp(%s): %s", tmpdir, strerror(errno));
	snprintf(path, sizeof(path), "%s/budgets.yaml", tmpdir);
}

static void budgetfile_teardown(void)
{
	unlink(path);
	rmdir(tmpdir);
}

TestSuite(budgetfile, .init = budgetfile_setup, .fini = budgetfile_teardown);

/* Write text to path (replacing what was there). */
static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "fopen(%s): %s", path, strerror(errno));
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text), "writing %s", path);
	cr_assert_eq(fclose(f), 0, "closing %s", path);
}

/* Defs big enough for any case; static, a few hundred KiB. */
static gm_budget_def_t defs[GM_BUDGET_MAX_NODES];
static const gm_budget_def_t zero_defs[GM_BUDGET_MAX_NODES];

Test(budgetfile, reads_every_key_of_a_full_file)
{
	int n = -1, strict = -1;
	char err[256] = "untouched";

	put("# platform profile: a console with 512M for the game\n"
	    "mode: strict\n"
	    "nodes:\n"
	    "  - name: total\n"
	    "    hard: 512M\n"
	    "  - name: textures\n"
	    "    parent: total\n"
	    "    soft: 200M\n"
	    "    target: 180MiB\n"
	    "    hard: 256M\n"
	    "    policy: largest\n"
	    "    strict: false\n"
	    "    tags: [render/textures, ui/atlas]\n"
	    "    types:\n"
	    "      - texture\n"
	    "      - cubemap\n"
	    "  - {name: audio, parent: total, soft: 64K, policy: priority, strict: yes,\n"
	    "     types: [bank]}\n"
	    "  - name: meshes\n"
	    "    parent: textures\n"
	    "    hard: 1G\n"
	    "    policy: lfu\n"
	    "    tags: []\n");
	cr_assert_eq(
	        gm_budgetfile_load(path, defs, GM_BUDGET_MAX_NODES, &n, &strict, err, sizeof(err)),
	        0, "err: %s", err);
	cr_expect_str_eq(err, "");
	cr_assert_eq(n, 4);
	cr_expect_eq(strict, 1);

	cr_expect_str_eq(defs[0].name, "total");
	cr_expect_str_eq(defs[0].parent, "");
	cr_expect_eq(defs[0].soft, 0);
	cr_expect_eq(defs[0].hard, 512ull << 20);
	cr_expect_eq(defs[0].target, 0);
	cr_expect_eq(defs[0].policy, gm_budget_lru);
	cr_expect_eq(defs[0].strict, -1);
	cr_expect_eq(defs[0].ntags, 0);
	cr_expect_eq(defs[0].ntypes, 0);

	cr_expect_str_eq(defs[1].name, "textures");
	cr_expect_str_eq(defs[1].parent, "total");
	cr_expect_eq(defs[1].soft, 200ull << 20);
	cr_expect_eq(defs[1].target, 180ull << 20);
	cr_expect_eq(defs[1].hard, 256ull << 20);
	cr_expect_eq(defs[1].policy, gm_budget_largest);
	cr_expect_eq(defs[1].strict, 0);
	cr_assert_eq(defs[1].ntags, 2);
	cr_expect_str_eq(defs[1].tags[0], "render/textures");
	cr_expect_str_eq(defs[1].tags[1], "ui/atlas");
	cr_assert_eq(defs[1].ntypes, 2);
	cr_expect_str_eq(defs[1].types[0], "texture");
	cr_expect_str_eq(defs[1].types[1], "cubemap");

	cr_expect_str_eq(defs[2].name, "audio");
	cr_expect_str_eq(defs[2].parent, "total");
	cr_expect_eq(defs[2].soft, 64 << 10);
	cr_expect_eq(defs[2].hard, 0);
	cr_expect_eq(defs[2].policy, gm_budget_priority);
	cr_expect_eq(defs[2].strict, 1);
	cr_expect_eq(defs[2].ntags, 0);
	cr_assert_eq(defs[2].ntypes, 1);
	cr_expect_str_eq(defs[2].types[0], "bank");

	cr_expect_str_eq(defs[3].name, "meshes");
	cr_expect_str_eq(defs[3].parent, "textures");
	cr_expect_eq(defs[3].hard, 1ull << 30);
	cr_expect_eq(defs[3].policy, gm_budget_lfu);
	cr_expect_eq(defs[3].ntags, 0);
}

Test(budgetfile, mode_defaults_to_soft_and_limits_reach_the_field_sizes)
{
	int n = -1, strict = -1;
	char err[256];

	/* a 63-byte name, 16 tags of 127 bytes, a 63-byte type: all just fit */
#define X9 "xxxxxxxxx"
#define N63 X9 X9 X9 X9 X9 X9 X9
#define T127 N63 N63 "t"
#define T16 T127 ", " T127 ", " T127 ", " T127
	put("nodes:\n"
	    "  - name: " N63 "\n"
	    "    soft: 1\n"
	    "    hard: 1\n"
	    "    target: 1\n"
	    "    tags: [" T16 ", " T16 ", " T16 ", " T16 "]\n"
	    "    types: [" N63 "]\n");
	cr_assert_eq(gm_budgetfile_load(path, defs, 1, &n, &strict, err, sizeof(err)), 0, "err: %s",
	             err);
	cr_assert_eq(n, 1);
	cr_expect_eq(strict, 0);
	cr_expect_eq(strlen(defs[0].name), 63);
	cr_assert_eq(defs[0].ntags, GM_BUDGET_MAX_BINDS);
	cr_expect_eq(strlen(defs[0].tags[GM_BUDGET_MAX_BINDS - 1]), 127);
	cr_expect_eq(strlen(defs[0].types[0]), 63);
	cr_expect_eq(defs[0].soft, 1);
}

Test(budgetfile, a_missing_or_unreadable_file_gives_the_path_and_the_errno_text)
{
	int n = -1, strict = -1;
	char err[256], want[256];

	cr_expect_eq(
	        gm_budgetfile_load(path, defs, GM_BUDGET_MAX_NODES, &n, &strict, err, sizeof(err)),
	        -1);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	cr_expect_str_eq(err, want);

	cr_expect_eq(gm_budgetfile_load(tmpdir, defs, GM_BUDGET_MAX_NODES, &n, &strict, err,
	                                sizeof(err)),
	             -1);
	snprintf(want, sizeof(want), "%s: %s", tmpdir, strerror(EISDIR));
	cr_expect_str_eq(err, want);
	cr_expect_eq(n, -1, "nothing written on error");
	cr_expect_eq(strict, -1, "nothing written on error");
}

/* Each case: the file, the node limit (0: GM_BUDGET_MAX_NODES), and the
 * error after "<path>:". */
static const struct {
	const char *text;
	int max;
	const char *want;
} bad[] = {
        /* the file as a whole */
        {"", 0, "1: expected a mapping with mode and nodes, got an empty file"},
        {"# nothing but a comment\n", 0,
         "1: expected a mapping with mode and nodes, got an empty file"},
        {"- total\n", 0, "1: expected a mapping with mode and nodes, got a list"},
        {"mode: soft\n", 0, "1: expected a nodes list"},
        {"\nmode: hard\nnodes:\n  - name: a\n", 0, "2: expected mode soft or strict, got 'hard'"},
        {"nodes:\n  - name: a\nmode: soft\nmode: strict\n", 0,
         "4: expected mode once, got it again"},
        {"nodes:\n  - name: a\nnodes:\n  - name: b\n", 0, "3: expected nodes once, got it again"},
        {"nodes:\n  - name: a\nlimits: 3\n", 0, "3: expected mode or nodes, got 'limits'"},
        {"nodes: total\n", 0, "1: expected nodes to be a list of nodes, got 'total'"},
        {"nodes: []\n", 0, "1: expected at least one node"},
        {"nodes:\n  - name: a\n    tags: [ui, render/]\n", 0,
         "3: expected a tag name like render or render/textures in tags (it binds the tags "
         "under it too), got 'render/'"},
        {"nodes:\n  - name: a\n    tags:\n      - ui\n      - /ui\n", 0,
         "5: expected a tag name like render or render/textures in tags (it binds the tags "
         "under it too), got '/ui'"},
        {"nodes:\n  - name: a\n    tags: [ui//x]\n", 0,
         "3: expected a tag name like render or render/textures in tags (it binds the tags "
         "under it too), got 'ui//x'"},
        {"nodes:\n  - name: a\n    tags: [ui, render]\n  - name: b\n    tags: [render]\n", 0,
         "5: expected each tag bound to one node, got 'render' bound to 'a' already"},
        {"nodes:\n  - name: a\n    types: [mesh]\n  - name: b\n    hard: 1M\n"
         "    types: [texture, mesh]\n",
         0, "6: expected each type bound to one node, got 'mesh' bound to 'a' already"},
        {"nodes:\n  - name: a\n  - name: b\n  - name: c\n", 2, "4: expected at most 2 nodes"},
        {"nodes:\n  - name: a\n---\nnodes:\n  - name: b\n", 0,
         "3: expected one document, got a second one"},
        /* YAML itself, with libyaml's words */
        {"nodes:\n  - name: a\n  soft: 1\n", 0,
         "3: expected valid YAML: did not find expected '-' indicator (while parsing a block "
         "collection from line 2)"},
        {"nodes:\n\t- name: a\n", 0,
         "2: expected valid YAML: found character that cannot start any token (while scanning for "
         "the next token from line 2)"},
        {"nodes:\n  - name: a\n    hard: *big\n", 0,
         "3: expected valid YAML: found undefined alias"},
        {"nodes:\n  - name: a\n    tags: [\xff]\n", 0,
         "3: expected UTF-8 text: invalid leading UTF-8 octet at byte 30"},
        /* a node's shape and name */
        {"nodes:\n  - total\n", 0, "2: expected a node (a mapping with a name), got 'total'"},
        {"nodes:\n  - hard: 1M\n", 0, "2: expected a name in every node"},
        {"nodes:\n  - name: a\n  - policy: lru\n    hard: 1M\n", 0,
         "3: expected a name in every node"},
        {"nodes:\n  - name: \"\"\n", 0, "2: expected a non-empty node name"},
        {"nodes:\n  - name: [a]\n", 0, "2: expected a node name, got a list"},
        {"nodes:\n  - name: \"a\\0b\"\n", 0, "2: expected a node name, got 'a?b'"},
        {"nodes:\n  - name: " N63 "x\n", 0,
         "2: expected a node name shorter than 64 bytes, got 64 bytes"},
        {"nodes:\n  - name: a\n  - name: b\n  - name: a\n", 0,
         "4: expected a unique node name, got 'a' again"},
        {"nodes:\n  - name: a\n    sfot: 1M\n", 0,
         "3: expected a node key (name, parent, soft, hard, target, policy, strict, capacity, default, tags or types), "
         "got 'sfot'"},
        {"nodes:\n  - name: a\n    ? [k]\n    : v\n", 0,
         "3: expected a node key (name, parent, soft, hard, target, policy, strict, capacity, default, tags or types), "
         "got a list"},
        {"nodes:\n  - name: a\n    hard: 1M\n    hard: 2M\n", 0,
         "4: expected hard once in a node, got it again"},
        /* parents */
        {"nodes:\n  - name: a\n    parent: b\n  - name: b\n", 0,
         "3: expected a parent defined above, got 'b'"},
        {"nodes:\n  - name: a\n    parent: a\n", 0, "3: expected a parent defined above, got 'a'"},
        {"nodes:\n  - name: a\n    parent:\n", 0, "3: expected a non-empty parent name"},
        /* sizes */
        {"nodes:\n  - name: a\n\n    soft: 12X\n", 0,
         "4: expected a size for soft (bytes, or with K/M/G/T or KiB/MiB/GiB/TiB), got '12X'"},
        {"nodes:\n  - name: a\n    hard:\n", 0,
         "3: expected a size for hard (bytes, or with K/M/G/T or KiB/MiB/GiB/TiB), got nothing"},
        {"nodes:\n  - name: a\n    target: [1M]\n", 0,
         "3: expected a size for target (bytes, or with K/M/G/T or KiB/MiB/GiB/TiB), got a list"},
        {"nodes:\n  - name: a\n    soft: -1M\n", 0,
         "3: expected a size for soft (bytes, or with K/M/G/T or KiB/MiB/GiB/TiB), got '-1M'"},
        {"nodes:\n  - name: a\n    hard: 0\n", 0, "3: expected a size above zero for hard"},
        {"nodes:\n  - name: a\n    hard: 200M\n    soft: 300M\n", 0,
         "4: expected soft <= hard, got soft 300M > hard 200M"},
        {"nodes:\n  - name: a\n    soft: 300M\n    hard: 200M\n", 0,
         "3: expected soft <= hard, got soft 300M > hard 200M"},
        {"nodes:\n  - name: a\n    target: 200M\n    soft: 100M\n", 0,
         "3: expected target <= soft, got target 200M > soft 100M"},

        /* policy and strict */
        {"nodes:\n  - name: a\n    policy: fifo\n", 0,
         "3: expected policy lru, lfu, largest or priority, got 'fifo'"},
        {"nodes:\n  - name: a\n    policy: \"l\\nru\"\n", 0,
         "3: expected policy lru, lfu, largest or priority, got 'l?ru'"},
        {"nodes:\n  - name: a\n    strict: maybe\n", 0,
         "3: expected strict true or false, got 'maybe'"},
        {"nodes:\n  - name: a\n    strict: {x: 1}\n", 0,
         "3: expected strict true or false, got a mapping"},
        /* tags and types */
        {"nodes:\n  - name: a\n    tags: render\n", 0,
         "3: expected tags to be a list of names (like [a, b]), got 'render'"},
        {"nodes:\n  - name: a\n    tags:\n      - x\n      - [y]\n", 0,
         "5: expected a tag name, got a list"},
        {"nodes:\n  - name: a\n    tags: [x, \"\"]\n", 0, "3: expected a non-empty tag name"},
        {"nodes:\n  - name: a\n    tags: [" T127 "x]\n", 0,
         "3: expected a tag name shorter than 128 bytes, got 128 bytes"},
        {"nodes:\n  - name: a\n    tags: [a, b, c, d, e, f, g, h,\n"
         "           i, j, k, l, m, n, o, p,\n"
         "           q]\n",
         0, "5: expected at most 16 tags in a node"},
        {"nodes:\n  - name: a\n    types: {texture: 1}\n", 0,
         "3: expected types to be a list of names (like [a, b]), got a mapping"},
        {"nodes:\n  - name: a\n    types: [" N63 "x]\n", 0,
         "3: expected a type name shorter than 64 bytes, got 64 bytes"},
        /* banks: capacity, default, shares of the parent */
        {"nodes:\n  - name: a\n    capacity: 1M\n    hard: 2M\n", 0,
         "4: expected hard <= capacity, got hard 2M > capacity 1M"},
        {"nodes:\n  - name: a\n    capacity: 1M\n    soft: 2M\n", 0,
         "4: expected soft <= hard, got soft 2M > hard 1M"},
        {"nodes:\n  - name: a\n    default: yes\n  - name: b\n    default: true\n", 0,
         "5: expected one default node, got 'a' already"},
        {"nodes:\n  - name: a\n    default: 2\n", 0, "3: expected default true or false, got '2'"},
        {"nodes:\n  - name: a\n    hard: 40%\n", 0,
         "3: expected a parent with a hard limit for hard 40%"},
        {"nodes:\n  - name: a\n  - name: b\n    parent: a\n    soft: 10%\n", 0,
         "5: expected a parent with a hard limit for soft 10%"},
        {"nodes:\n  - name: a\n    hard: 1G\n  - name: b\n    parent: a\n    hard: 140%\n", 0,
         "6: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 decimals), "
         "got '140%'"},
        {"nodes:\n  - name: a\n    hard: 1G\n  - name: b\n    parent: a\n    hard: 0%\n", 0,
         "6: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 decimals), "
         "got '0%'"},
        {"nodes:\n  - name: a\n    hard: 1G\n  - name: b\n    parent: a\n    hard: x%\n", 0,
         "6: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 decimals), "
         "got 'x%'"},
        {"nodes:\n  - name: a\n    capacity: 100GiB\n", 0,
         "3: expected a capacity of at most 64GiB (a bank's heap), got 100GiB"},
        {"nodes:\n  - name: a\n    capacity: 1.5\n", 0,
         "3: expected a size for capacity (bytes, or with K/M/G/T or KiB/MiB/GiB/TiB), got '1.5'"},
        {"nodes:\n  - name: a\n    hard: 1G\n  - name: b\n    parent: a\n    hard: 40.5.5%\n", 0,
         "6: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 decimals), "
         "got '40.5.5%'"},
        {"nodes:\n  - name: a\n    hard: 1G\n  - name: b\n    parent: a\n    hard: .5%\n", 0,
         "6: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 decimals), "
         "got '.5%'"},
        {"nodes:\n  - name: a\n    hard: 1G\n  - name: b\n    parent: a\n    hard: 100.5%\n", 0,
         "6: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 decimals), "
         "got '100.5%'"},
        {"nodes:\n  - name: a\n    hard: 1G\n  - name: b\n    parent: a\n    hard: 12345%\n", 0,
         "6: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 decimals), "
         "got '12345%'"},
        {"nodes:\n  - name: a\n    hard: 1G\n  - name: b\n    parent: a\n    hard: 1.00001%\n", 0,
         "6: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 decimals), "
         "got '1.00001%'"},
        {"nodes:\n  - name: a\n    policy: [lru]\n", 0,
         "3: expected policy lru, lfu, largest or priority, got a list"},
        {"nodes:\n  - name: a\n    policy: \"\\x7f\"\n", 0,
         "3: expected policy lru, lfu, largest or priority, got '?'"},
        {"nodes:\n  - name: a\n    default: [yes]\n", 0,
         "3: expected default true or false, got a list"},
        {"mode: [soft]\nnodes:\n  - name: a\n", 0, "1: expected mode soft or strict, got a list"},
        {"? [mode]\n: soft\nnodes:\n  - name: a\n", 0, "1: expected mode or nodes, got a list"},
        {"nodes:\n  - name: a\n---\n[\n", 0,
         "5: expected valid YAML: did not find expected node content (while parsing a flow node "
         "from line 5)"},
        /* a long value is cut in the message */
        {"nodes:\n  - name: a\n    policy: " N63 N63 "\n", 0,
         "3: expected policy lru, lfu, largest or priority, got "
         "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"},
};

Test(budgetfile, each_error_gives_its_line_and_what_was_expected)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = -7, strict = -7;
		int max = bad[i].max ? bad[i].max : GM_BUDGET_MAX_NODES;
		char err[512], want[512];

		put(bad[i].text);
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].want);
		cr_expect_eq(gm_budgetfile_load(path, defs, max, &n, &strict, err, sizeof(err)), -1,
		             "case %zu: %s", i, bad[i].text);
		cr_expect_str_eq(err, want, "case %zu: %s", i, bad[i].text);
		cr_expect_null(strchr(err, '\n'), "case %zu: one line: %s", i, err);
		cr_expect_eq(n, -7, "case %zu: *n untouched", i);
		cr_expect_eq(strict, -7, "case %zu: *strict untouched", i);
		cr_expect_eq(memcmp(defs, zero_defs, sizeof(defs)), 0,
		             "case %zu: no half tree left", i);
	}
}

Test(budgetfile, a_short_or_missing_error_buffer_is_safe)
{
	int n = -1, strict = -1;
	char err[8];

	put("nodes: []\n");
	cr_expect_eq(
	        gm_budgetfile_load(path, defs, GM_BUDGET_MAX_NODES, &n, &strict, err, sizeof(err)),
	        -1);
	cr_expect_eq(strlen(err), sizeof(err) - 1, "cut to the buffer: %s", err);
	cr_expect_eq(strncmp(err, path, sizeof(err) - 1), 0, "starts with the path: %s", err);
	cr_expect_eq(gm_budgetfile_load(path, defs, GM_BUDGET_MAX_NODES, &n, &strict, NULL, 0), -1);
	cr_expect_eq(gm_budgetfile_load(path, defs, 0, &n, &strict, NULL, 0), -1);
}

Test(budgetfile, loading_twice_gives_the_same_tree)
{
	static gm_budget_def_t again[GM_BUDGET_MAX_NODES];
	int n = -1, n2 = -1, strict = -1, strict2 = -1;
	char err[256];

	put("mode: STRICT\nnodes:\n  - name: a\n    policy: LRU\n    strict: off\n");
	cr_assert_eq(gm_budgetfile_load(path, defs, 4, &n, &strict, err, sizeof(err)), 0, "err: %s",
	             err);
	cr_assert_eq(gm_budgetfile_load(path, again, 4, &n2, &strict2, err, sizeof(err)), 0,
	             "err: %s", err);
	cr_expect_eq(n, 1);
	cr_expect_eq(n2, 1);
	cr_expect_eq(strict, 1, "mode is not case-sensitive");
	cr_expect_eq(strict2, 1);
	cr_expect_eq(defs[0].policy, gm_budget_lru, "policy is not case-sensitive");
	cr_expect_eq(defs[0].strict, 0);
	cr_expect_eq(memcmp(defs, again, sizeof(defs)), 0);
}

Test(budgetfile, banks_take_a_capacity_a_default_and_shares_of_their_parent)
{
	int n = 0, strict = 0;
	char err[512];

	put("nodes:\n"
	    "  - name: main\n"
	    "    capacity: 3.5GiB\n"
	    "    default: true\n"
	    "  - name: textures\n"
	    "    hard: 40%\n"
	    "    soft: 12.5%\n"
	    "    parent: main\n"
	    "  - name: video\n"
	    "    capacity: 256M\n"
	    "    hard: 200M\n");
	cr_assert_eq(
	        gm_budgetfile_load(path, defs, GM_BUDGET_MAX_NODES, &n, &strict, err, sizeof(err)),
	        0, "%s", err);
	cr_assert_eq(n, 3);
	cr_expect_eq(defs[0].capacity, 3758096384ull); /* 3.5 x 2^30 */
	cr_expect_eq(defs[0].hard, 3758096384ull);     /* a bank's hard limit is its capacity */
	cr_expect_eq(defs[0].is_default, 1);
	cr_expect_eq(defs[1].hard, 1503238553ull); /* 40 % of 3.5 GiB, rounded down */
	cr_expect_eq(defs[1].soft, 469762048ull);  /* 12.5 % */
	cr_expect_eq(defs[1].capacity, 0);
	cr_expect_eq(defs[1].is_default, 0);
	cr_expect_eq(defs[2].capacity, 256ull << 20);
	cr_expect_eq(defs[2].hard, 200ull << 20);
}

Test(budgetfile, tiny_shares_round_up_and_the_default_is_checked_against_every_node)
{
	int n = 0, strict = 0;
	char err[512];

	put("nodes:\n"
	    "  - name: a\n"
	    "    hard: 10\n"
	    "  - name: b\n"
	    "    parent: a\n"
	    "    hard: 1%\n"
	    "    soft: 1%\n"
	    "    target: 1\n"
	    "    default: true\n");
	cr_assert_eq(
	        gm_budgetfile_load(path, defs, GM_BUDGET_MAX_NODES, &n, &strict, err, sizeof(err)),
	        0, "%s", err);
	cr_assert_eq(n, 2);
	cr_expect_eq(defs[1].hard, 1, "1 % of 10 bytes is one byte, not none");
	cr_expect_eq(defs[1].soft, 1, "a share rounds up to a byte for soft too");
	cr_expect_eq(defs[1].target, 1);
	cr_expect_eq(defs[1].is_default, 1);
	cr_expect_eq(gm_budgetfile_load(path, defs, GM_BUDGET_MAX_NODES, &n, &strict, NULL, 0), 0);
}

Test(budgetfile, the_yaml_helpers_take_what_they_are_given)
{
	gm_yaml_t y;
	char err[4];

	cr_expect_eq(gm_yaml_open(&y, path, NULL, 0), -1, "no file, no message");
	gm_yaml_close(&y);
	cr_expect_null(gm_yaml_root(&y));
	cr_expect_eq(gm_yaml_is_text(NULL), 0);
	cr_expect_eq(gm_yaml_is(NULL, "x"), 0);
	put("a: 1\n");
	cr_expect_eq(gm_yaml_open(&y, path, err, sizeof(err)), 0);
	cr_expect_str_eq(err, "");
	cr_expect_eq(gm_yaml_fail(&y, 3, "x"), -1);
	cr_expect_str_eq(err, "/tm", "cut to the buffer");
	gm_yaml_close(&y);
}

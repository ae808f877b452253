/* test_profile.c - platform profiles: every shipped one loads and checks out,
 * broken ones give their line and what was expected, the search path */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platforms/profile.h"

static char tmpdir[64];
static char path[128];
static gm_platform_t prof; /* large: static */

static void profile_setup(void)
{
	strcpy(tmpdir, "/tmp/gm_test_profile.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp(%s): %s", tmpdir, strerror(errno));
	snprintf(path, sizeof(path), "%s/dev.yaml", tmpdir);
	unsetenv("GMTRACE_PLATFORM_PATH");
	setenv("XDG_CONFIG_HOME", tmpdir, 1); /* no user profiles from the machine */
}

static void profile_teardown(void)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(profile, .init = profile_setup, .fini = profile_teardown);

static void put(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f, "fopen(%s): %s", file, strerror(errno));
	cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	cr_assert_eq(fclose(f), 0);
}

static const char *const shipped[] = {"android-high", "android-low",   "android-mid",  "ios-high",
                                      "ios-low",      "ios-mid",       "ps3",          "ps4",
                                      "ps5",          "steam-deck",    "switch",       "web-wasm",
                                      "xbox-one",     "xbox-series-s", "xbox-series-x"};

Test(profile, every_shipped_profile_loads_and_is_consistent)
{
	char names[64][GM_PLATFORM_NAME], paths[64][GM_PLATFORM_PATH], err[512];
	int n = gm_platform_list(names, paths, 64), i, k, found;
	cr_assert_geq(n, (int)(sizeof(shipped) / sizeof(shipped[0])));
	for (size_t s = 0; s < sizeof(shipped) / sizeof(shipped[0]); s++) {
		for (found = -1, i = 0; i < n; i++)
			if (strcmp(names[i], shipped[s]) == 0)
				found = i;
		cr_assert_geq(found, 0, "profile %s is listed", shipped[s]);
	}
	for (i = 0; i < n; i++) {
		uint64_t sum = 0;
		int ndefault = 0;
		cr_assert_eq(gm_platform_load(paths[i], &prof, err, sizeof(err)), 0, "%s", err);
		cr_expect_str_eq(prof.name, names[i]);
		cr_expect_gt(prof.physical.bytes, 0);
		cr_expect_gt(prof.available.bytes, 0);
		cr_expect_leq(prof.available.bytes, prof.physical.bytes, "%s", prof.name);
		cr_expect_gt(strlen(prof.physical.source), 10, "%s: physical has a source",
		             prof.name);
		cr_expect_gt(strlen(prof.available.source), 10, "%s", prof.name);
		cr_expect_geq(prof.nbanks, 1);
		for (k = 0; k < prof.nbanks; k++) {
			sum += prof.banks[k].capacity.bytes;
			ndefault += prof.banks[k].is_default;
			cr_expect_gt(strlen(prof.banks[k].capacity.source), 10, "%s/%s", prof.name,
			             prof.banks[k].name);
			/* a bank is a root budget node with its capacity */
			cr_expect_str_eq(prof.defs[k].name, prof.banks[k].name);
			cr_expect_eq(prof.defs[k].capacity, prof.banks[k].capacity.bytes);
			cr_expect_eq(prof.defs[k].hard, prof.banks[k].capacity.bytes);
			cr_expect_eq(prof.defs[k].parent[0], 0);
		}
		cr_expect_eq(ndefault, 1, "%s: one default bank", prof.name);
		cr_expect_leq(sum, prof.physical.bytes, "%s", prof.name);
		for (k = prof.nbanks; k < prof.ndefs; k++) {
			cr_expect_neq(prof.defs[k].parent[0], 0, "%s/%s has a parent", prof.name,
			              prof.defs[k].name);
			cr_expect_gt(prof.defs[k].hard, 0);
		}
	}
}

Test(profile, split_memory_profiles_have_their_banks)
{
	char p[GM_PLATFORM_PATH], err[512];
	cr_assert_eq(gm_platform_find("ps3", p, sizeof(p), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(gm_platform_load(p, &prof, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(prof.nbanks, 2);
	cr_expect_str_eq(prof.banks[0].name, "main");
	cr_expect_eq(prof.banks[0].capacity.bytes, 213ull << 20);
	cr_expect(prof.banks[0].is_default);
	cr_expect_str_eq(prof.banks[1].name, "video");
	cr_expect_eq(prof.banks[1].capacity.bytes, 249ull << 20);
	cr_expect_str_eq(prof.defs[1].types[0], "texture");
	/* textures: 60 % of video */
	cr_expect_str_eq(prof.defs[2].name, "textures");
	cr_expect_str_eq(prof.defs[2].parent, "video");
	cr_expect_eq(prof.defs[2].hard, (249ull << 20) * 6 / 10);

	cr_assert_eq(gm_platform_find("xbox-series-x", p, sizeof(p), err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(gm_platform_load(p, &prof, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(prof.nbanks, 2);
	cr_expect_eq(prof.banks[0].capacity.bytes + prof.banks[1].capacity.bytes,
	             (27ull << 30) / 2); /* 13.5 GiB for games */

	/* ESRAM is outside the 8 GB: a game has its 32 MiB besides the 5 GiB of
	 * DDR3, and one filling both banks fits (it was "over" by 32 MiB) */
	cr_assert_eq(gm_platform_find("xbox-one", p, sizeof(p), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(gm_platform_load(p, &prof, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(prof.nbanks, 2);
	cr_expect_eq(prof.banks[0].capacity.bytes, 5ull << 30);
	cr_expect_eq(prof.banks[1].capacity.bytes, 32ull << 20);
	cr_expect_eq(prof.available.bytes, (5ull << 30) + (32ull << 20));
}

#define SRC "source: \"test\""
#define HEAD                                                                            \
	"name: dev\ntitle: Dev kit\nfamily: console\nphysical: {size: 1GiB, " SRC "}\n" \
	"available: {size: 512MiB, " SRC "}\n"

static const struct {
	const char *text, *want;
} bad[] = {
        {"", "1: expected a mapping with name, title, family, physical, available and banks, "
             "got an empty file"},
        {HEAD "banks:\n  - name: main\n    capacity: {size: 512MiB, " SRC "}\ncolour: red\n",
         "9: expected a profile key (name, title, family, physical, available, page_size, banks, "
         "budget or notes), got 'colour'"},
        {"name: other\ntitle: x\nfamily: console\nphysical: {size: 1GiB, " SRC "}\n"
         "available: {size: 1GiB, " SRC "}\nbanks:\n  - name: m\n    capacity: {size: 1M, " SRC
         "}\n",
         "1: expected name 'dev' (the file's name without .yaml), got 'other'"},
        {"name: dev\ntitle: x\nfamily: fridge\nphysical: {size: 1GiB, " SRC "}\n"
         "available: {size: 1GiB, " SRC "}\nbanks:\n  - name: m\n    capacity: {size: 1M, " SRC
         "}\n",
         "3: expected family console, handheld, pc, phone or web, got 'fridge'"},
        {"name: dev\ntitle: x\nfamily: pc\nphysical: {size: 1GiB}\n"
         "available: {size: 1GiB, " SRC "}\nbanks:\n  - name: m\n    capacity: {size: 1M, " SRC
         "}\n",
         "4: expected a source in physical (where the figure was published)"},
        {"name: dev\ntitle: x\nfamily: pc\nphysical: 1GiB\navailable: 1GiB\nbanks: []\n",
         "4: expected physical as {size: ..., source: \"where it was published\"}, got '1GiB'"},
        {"name: dev\ntitle: x\nfamily: pc\nphysical: {size: 1GiB, " SRC "}\n"
         "available: {size: 2GiB, " SRC "}\nbanks:\n  - name: m\n    capacity: {size: 1M, " SRC
         "}\n",
         "5: expected available <= physical, got 2147483648 > 1073741824 bytes"},
        {HEAD "banks:\n  - name: main\n    capacity: {size: 2GiB, " SRC "}\n",
         "8: expected bank 'main' to fit in the physical memory (1073741824 bytes), got "
         "2147483648 bytes"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 600MiB, " SRC "}\n    default: true\n"
              "  - name: b\n    capacity: {size: 600MiB, " SRC "}\n",
         "7: expected the banks to fit in the physical memory (1073741824 bytes), got "
         "1258291200 bytes together"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n"
              "  - name: b\n    capacity: {size: 1MiB, " SRC "}\n",
         "7: expected one bank with default: true (it holds what no other bank binds)"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n  - name: a\n"
              "    capacity: {size: 1MiB, " SRC "}\n",
         "9: expected a unique bank name, got 'a' again"},
        {HEAD "banks:\n  - name: a\n", "7: expected a capacity in bank 'a'"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n    speed: 5\n",
         "9: expected a bank key (name, capacity, default, tags, types or note), got 'speed'"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n"
              "budget:\n  - name: tex\n    parent: nowhere\n",
         "11: expected a parent defined above, got 'nowhere'"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n"
              "budget:\n  - name: a\n",
         "10: expected a unique node name, got 'a' again"},
        /* "total" is the node gmtrace puts over banks that share memory:
         * a profile's own (bank or node) took its limit away */
        {HEAD "banks:\n  - name: total\n    capacity: {size: 1MiB, " SRC "}\n",
         "7: expected a bank name other than 'total' (the node over banks that share "
         "memory)"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n"
              "budget:\n  - name: total\n    parent: a\n",
         "10: expected a node name other than 'total' (under a platform, the node over its "
         "banks)"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n"
              "budget:\n  - name: tex\n    parent: a\n    hard: 150%\n",
         "12: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 "
         "decimals), got '150%'"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n"
              "budget:\n  - name: tex\n    parent: a\n    hard: 0.00001%\n",
         "12: expected a share of the parent's hard limit for hard (0.0001% to 100%, at most 4 "
         "decimals), got '0.00001%'"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n    types: [tex]\n"
              "  - name: b\n    capacity: {size: 1MiB, " SRC "}\n    types: [tex]\n",
         "12: expected each type bound to one bank, got 'tex' bound to 'a' already"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n    types: [tex]\n"
              "  - name: b\n    capacity: {size: 1MiB, " SRC "}\n    default: true\n"
              "budget:\n  - name: t\n    parent: b\n    types: [tex]\n",
         "16: expected each type bound to one node, got 'tex' bound to 'a' already"},
        /* the longest bound prefix serves a tag: a node outside bank a that
         * binds a tag below a's took it from a's memory */
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n    tags: [gpu]\n"
              "  - name: b\n    capacity: {size: 1MiB, " SRC "}\n    default: true\n"
              "budget:\n  - name: ui\n    parent: b\n    tags: [gpu/ui]\n",
         "16: expected the tags of a node outside bank 'a' not to be below its tag 'gpu', got "
         "'gpu/ui'"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\n    tags: [gpu]\n"
              "  - name: b\n    capacity: {size: 1MiB, " SRC "}\n    default: true\n"
              "budget:\n  - name: ui\n    tags: [x, gpu/ui/icons]\n",
         "15: expected the tags of a node outside bank 'a' not to be below its tag 'gpu', got "
         "'gpu/ui/icons'"},
        {"name: dev\ntitle: x\nfamily: pc\nphysical: {size: 200GiB, " SRC "}\n"
         "available: {size: 200GiB, " SRC "}\n"
         "banks:\n  - name: a\n    capacity: {size: 100GiB, " SRC "}\n",
         "8: expected a bank of at most 64GiB (a bank's heap), got 107374182400 bytes"},
        {HEAD "banks: []\n", "6: expected at least one bank in banks, got an empty list"},
        {HEAD "banks: main\n", "6: expected banks to be a list of banks, got 'main'"},
        {"- dev\n", "1: expected a mapping with name, title, family, physical, available and "
                    "banks, got a list"},
        {HEAD "title: again\n", "6: expected title once, got it again"},
        {"name: dev\nfamily: pc\nphysical: {size: 1GiB, " SRC "}\navailable: {size: 1GiB, " SRC
         "}\nbanks: []\n",
         "1: expected title in the profile"},
        {HEAD, "1: expected banks in the profile"},
        {"name: [dev]\ntitle: x\nfamily: pc\nphysical: {size: 1GiB, " SRC "}\n"
         "available: {size: 1GiB, " SRC "}\nbanks: []\n",
         "1: expected a profile name, got a list"},
        {"name: Dev\ntitle: x\nfamily: pc\nphysical: {size: 1GiB, " SRC "}\n"
         "available: {size: 1GiB, " SRC "}\nbanks: []\n",
         "1: expected a profile name of a-z, 0-9, '_' and '-', got 'Dev'"},
        {"name: dev\ntitle: [x]\nfamily: pc\nphysical: {size: 1GiB, " SRC "}\n"
         "available: {size: 1GiB, " SRC "}\nbanks: []\n",
         "2: expected a title, got a list"},
        {"name: dev\ntitle: x\nfamily: {a: 1}\nphysical: {size: 1GiB, " SRC "}\n"
         "available: {size: 1GiB, " SRC "}\nbanks: []\n",
         "3: expected a family, got a mapping"},
        {"name: dev\ntitle: x\nfamily: pc\nphysical: {size: 1GiB, src: x}\n"
         "available: {size: 1GiB, " SRC "}\nbanks: []\n",
         "4: expected size or source in physical, got 'src'"},
        {"name: dev\ntitle: x\nfamily: pc\nphysical: {size: 1GiB, size: 2GiB, " SRC "}\n"
         "available: {size: 1GiB, " SRC "}\nbanks: []\n",
         "4: expected size once in physical, got it again"},
        {"name: dev\ntitle: x\nfamily: pc\nphysical: {" SRC "}\n"
         "available: {size: 1GiB, " SRC "}\nbanks: []\n",
         "4: expected a size in physical"},
        {"name: dev\ntitle: x\nfamily: pc\nphysical: {size: 1GiB, " SRC "}\n"
         "available: {size: lots, " SRC "}\nbanks: []\n",
         "5: expected a size for available (bytes, or with K/M/G/T or KiB/MiB/GiB/TiB), got 'lots'"},
        {"name: dev\ntitle: x\nfamily: pc\nphysical: {size: 1GiB, source: [a]}\n"
         "available: {size: 1GiB, " SRC "}\nbanks: []\n",
         "4: expected a source of physical, got a list"},
        {HEAD "page_size: {size: 0, " SRC "}\nbanks: []\n",
         "6: expected a size above zero for page_size"},
        {HEAD "banks: [main]\n", "6: expected a bank (a mapping with name and capacity), got "
                                 "'main'"},
        {HEAD "banks:\n  - name: a\n    name: b\n",
         "8: expected name once in a bank, got it again"},
        {HEAD "banks:\n  - name: [a]\n", "7: expected a bank name, got a list"},
        {HEAD "banks:\n  - capacity: {size: 1MiB, " SRC "}\n", "7: expected a name in every bank"},
        {HEAD "banks:\n  - name: a\n    capacity: 1MiB\n",
         "8: expected capacity as {size: ..., source: \"where it was published\"}, got '1MiB'"},
        {HEAD "banks:\n  - name: a\n    default: maybe\n",
         "8: expected default true or false, got 'maybe'"},
        {HEAD "banks:\n  - name: a\n    default: true\n    capacity: {size: 1MiB, " SRC "}\n"
              "  - name: b\n    default: true\n",
         "11: expected one default bank, got 'a' already"},
        {HEAD "banks:\n  - name: a\n    tags: gpu\n",
         "8: expected tags to be a list of names (like [a, b]), got 'gpu'"},
        {HEAD "banks:\n  - name: a\n    types: {x: 1}\n",
         "8: expected types to be a list of names (like [a, b]), got a mapping"},
        {HEAD "banks:\n  - name: a\n    note: [x]\n", "8: expected a note, got a list"},
        {HEAD "banks: [{name: a, default: true, capacity: {size: 1M, " SRC
              "}}, {name: b, capacity: "
              "{size: 1M, " SRC "}},\n {name: c, capacity: {size: 1M, " SRC "}}, {name: d, "
              "capacity: {size: 1M, " SRC "}},\n {name: e, capacity: {size: 1M, " SRC
              "}}, {name: f, capacity: {size: 1M, " SRC "}},\n {name: g, capacity: {size: 1M, " SRC
              "}}, {name: h, capacity: {size: 1M, " SRC "}},\n {name: i, capacity: {size: 1M, " SRC
              "}}]\n",
         "10: expected at most 8 banks"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\nbudget: []\n",
         "9: expected at least one node"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\nbudget: none\n",
         "9: expected nodes to be a list of nodes, got 'none'"},
        {HEAD "banks:\n  - name: a\n    capacity: {size: 1MiB, " SRC "}\nnotes: [x]\n",
         "9: expected a notes, got a list"},
};

Test(profile, each_error_gives_its_line_and_what_was_expected)
{
	char err[512], want[512];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(path, bad[i].text);
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].want);
		cr_expect_eq(gm_platform_load(path, &prof, err, sizeof(err)), -1, "case %zu", i);
		cr_expect_str_eq(err, want, "case %zu: %s", i, err);
		cr_expect_eq(prof.nbanks, 0, "case %zu: nothing kept", i);
	}
}

Test(profile, a_good_profile_becomes_a_budget_tree)
{
	char err[512];
	put(path, HEAD "page_size: {size: 16KiB, " SRC "}\n"
	               "banks:\n  - name: main\n    default: true\n"
	               "    capacity: {size: 384MiB, " SRC "}\n"
	               "  - name: vram\n    capacity: {size: 128MiB, " SRC "}\n"
	               "    types: [texture]\n    tags: [gpu]\n    note: fast\n"
	               "budget:\n  - name: tex\n    parent: vram\n    hard: 50%\n    soft: 40%\n"
	               "    types: [texture]\n  - name: ui\n    parent: vram\n    tags: [gpu/ui]\n"
	               "  - name: gpux\n    tags: [gpux, main/x]\nnotes: |\n  two banks\n");
	cr_assert_eq(gm_platform_load(path, &prof, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(prof.title, "Dev kit");
	cr_expect_eq(prof.page_size.bytes, 16384);
	cr_expect_eq(prof.nbanks, 2);
	cr_expect_eq(prof.ndefs, 5,
	             "a node under vram refines its tag gpu; gpux is no tag below it");
	cr_expect_eq(prof.defs[0].is_default, 1);
	cr_expect_eq(prof.defs[0].capacity, 384ull << 20);
	cr_expect_eq(prof.defs[1].is_default, 0);
	cr_expect_eq(prof.defs[1].ntypes, 1);
	cr_expect_str_eq(prof.defs[1].tags[0], "gpu");
	cr_expect_str_eq(prof.banks[1].note, "fast");
	cr_expect_eq(prof.defs[2].hard, 64ull << 20);
	cr_expect_eq(prof.defs[2].soft, (128ull << 20) * 4 / 10);
	cr_expect_eq(prof.defs[2].capacity, 0, "a budget node shares nothing of a bank's heap");
	cr_expect_str_eq(prof.notes, "two banks\n");
}

Test(profile, the_search_path_puts_a_studio_profile_first)
{
	char p[GM_PLATFORM_PATH], err[512], dir[128], file[192];
	snprintf(dir, sizeof(dir), "%s/mine", tmpdir);
	cr_assert_eq(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/switch.yaml", dir);
	put(file, "name: switch\ntitle: Studio Switch\nfamily: handheld\n"
	          "physical: {size: 4GiB, " SRC "}\navailable: {size: 3GiB, " SRC "}\n"
	          "banks:\n  - name: main\n    capacity: {size: 3GiB, " SRC "}\n");
	setenv("GMTRACE_PLATFORM_PATH", dir, 1);
	cr_assert_eq(gm_platform_find("switch", p, sizeof(p), err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(p, file);
	cr_assert_eq(gm_platform_load(p, &prof, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(prof.title, "Studio Switch");
	cr_expect_eq(prof.banks[0].is_default, 1, "a single bank is the default");
	cr_expect_eq(gm_platform_find("gamecube", p, sizeof(p), err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "no platform profile 'gamecube' in "), "%s", err);
	cr_expect_eq(gm_platform_find("Bad Name", p, sizeof(p), err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "expected a platform name"), "%s", err);
	cr_expect_eq(gm_platform_find("/no/such/file.yaml", p, sizeof(p), err, sizeof(err)), -1);
	cr_expect_str_eq(err, "/no/such/file.yaml: No such file or directory");
}

/* Every shipped profile, cut short or with bytes changed, loads or gives one
 * error line naming the file: never a crash, never a half profile. */
Test(profile, damaged_profiles_give_one_error_and_nothing_else)
{
	char src[GM_PLATFORM_PATH], err[512], *text;
	FILE *f;
	long len;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	int loaded = 0, refused = 0;
	cr_assert_eq(gm_platform_find("ps3", src, sizeof(src), err, sizeof(err)), 0, "%s", err);
	f = fopen(src, "rb");
	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	text = malloc((size_t)len + 1);
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	text[len] = 0;
	for (int round = 0; round < 600; round++) {
		char *copy = malloc((size_t)len + 1);
		long cut = len;
		memcpy(copy, text, (size_t)len + 1);
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		if (round % 3 == 0) {
			cut = (long)((seed >> 33) % (uint64_t)len);
			copy[cut] = 0;
		} else {
			for (int k = 0; k < 1 + round % 4; k++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				copy[(seed >> 33) % (uint64_t)len] = (char)(seed >> 20);
			}
		}
		put(path, copy);
		if (gm_platform_load(path, &prof, err, sizeof(err)) == 0) {
			loaded++;
			cr_expect_geq(prof.nbanks, 1);
		} else {
			refused++;
			cr_expect_eq(strncmp(err, path, strlen(path)), 0, "round %d: %s", round,
			             err);
			cr_expect_null(strchr(err, '\n'), "round %d: one line", round);
			cr_expect_eq(prof.nbanks, 0, "round %d: nothing kept", round);
		}
		free(copy);
	}
	free(text);
	cr_expect_gt(refused, 100);
	cr_expect_gt(loaded + refused, 599);
}

Test(profile, names_and_file_names_are_checked)
{
	char p[GM_PLATFORM_PATH], err[512], file[300], name65[66];
	memset(name65, 'a', 65);
	name65[65] = 0;
	cr_expect(gm_platform_valid_name("a-b_9"));
	cr_expect_not(gm_platform_valid_name(""));
	cr_expect_not(gm_platform_valid_name(name65));
	cr_expect_not(gm_platform_valid_name("a.b"));
	cr_expect_eq(gm_platform_find("", p, sizeof(p), err, sizeof(err)), -1);
	cr_expect_str_eq(err, "expected a platform name or a profile file");
	cr_expect_eq(gm_platform_find(NULL, p, sizeof(p), err, sizeof(err)), -1);
	cr_expect_eq(gm_platform_find(name65, p, sizeof(p), err, sizeof(err)), -1);
	cr_expect_str_eq(err,
	                 "expected a platform name of at most 63 characters (or a .yaml file), "
	                 "got one of 65");
	cr_expect_eq(gm_platform_find("a.b", p, sizeof(p), err, sizeof(err)), -1);
	cr_expect_not_null(strstr(err, "expected a platform name of a-z"), "%s", err);
	/* a profile file need not end in .yaml: its name is the file's */
	snprintf(file, sizeof(file), "%s/dev", tmpdir);
	put(file, HEAD "banks:\n  - name: main\n    capacity: {size: 1MiB, " SRC "}\n");
	cr_expect_eq(gm_platform_load(file, &prof, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(prof.path, file);
	/* a file name longer than any profile name cannot match it */
	snprintf(file, sizeof(file), "%s/%s.yaml", tmpdir, name65);
	put(file, HEAD "banks:\n  - name: main\n    capacity: {size: 1MiB, " SRC "}\n");
	cr_expect_eq(gm_platform_load(file, &prof, err, sizeof(err)), -1);
	cr_expect_not_null(
	        strstr(err, ":1: expected name 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	                    "aaaaaaaaaaaaaaaaa' (the file's name without .yaml), got 'dev'"),
	        "cut to 63 bytes: %s", err);
	/* a .yaml file given by a relative name is a file, not a name */
	cr_assert_eq(chdir(tmpdir), 0);
	put("mine.yaml", "x: 1\n");
	cr_expect_eq(gm_platform_find("mine.yaml", p, sizeof(p), err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(p, "mine.yaml");
	cr_assert_eq(chdir("/"), 0);
}

Test(profile, the_search_path_skips_empty_and_overlong_entries)
{
	char dirs[GM_PLATFORM_MAX_DIRS][GM_PLATFORM_PATH], env[4096], *e = env;
	int n, i;
	memset(env, 0, sizeof(env));
	e += sprintf(e, "/a::/b:");
	memset(e, 'x', 1100); /* longer than a path */
	e += 1100;
	e += sprintf(e, ":/c");
	setenv("GMTRACE_PLATFORM_PATH", env, 1);
	n = gm_platform_dirs(dirs, GM_PLATFORM_MAX_DIRS);
	cr_assert_geq(n, 5);
	cr_expect_str_eq(dirs[0], "/a");
	cr_expect_str_eq(dirs[1], "/b");
	cr_expect_str_eq(dirs[2], "/c");
	cr_expect_eq(strncmp(dirs[3], tmpdir, strlen(tmpdir)), 0, "then XDG_CONFIG_HOME: %s",
	             dirs[3]);
	/* no XDG_CONFIG_HOME: ~/.config; no HOME either: none of those */
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/dev", 1);
	n = gm_platform_dirs(dirs, GM_PLATFORM_MAX_DIRS);
	cr_expect_str_eq(dirs[3], "/home/dev/.config/gmtrace/platforms");
	unsetenv("HOME");
	i = gm_platform_dirs(dirs, GM_PLATFORM_MAX_DIRS);
	cr_expect_eq(i, n - 1, "one directory less");
	/* more entries than room: the first ones */
	setenv("GMTRACE_PLATFORM_PATH",
	       "/1:/2:/3:/4:/5:/6:/7:/8:/9:/10:/11:/12:/13:/14:/15:/16:/17", 1);
	cr_expect_eq(gm_platform_dirs(dirs, GM_PLATFORM_MAX_DIRS), GM_PLATFORM_MAX_DIRS);
	cr_expect_str_eq(dirs[15], "/16");
	cr_expect_eq(gm_platform_dirs(dirs, 2), 2);
}

Test(profile, the_list_takes_the_first_of_each_name_and_skips_other_files)
{
	char names[64][GM_PLATFORM_NAME], paths[64][GM_PLATFORM_PATH], d1[128], d2[128], f[512];
	int n, i, found = 0;
	snprintf(d1, sizeof(d1), "%s/one", tmpdir);
	snprintf(d2, sizeof(d2), "%s/two", tmpdir);
	cr_assert_eq(mkdir(d1, 0700), 0);
	cr_assert_eq(mkdir(d2, 0700), 0);
	snprintf(f, sizeof(f), "%s/ps3.yaml", d1); /* replaces the shipped ps3 */
	put(f, "x\n");
	snprintf(f, sizeof(f), "%s/zz-mine.yaml", d2);
	put(f, "x\n");
	snprintf(f, sizeof(f), "%s/ps3.yaml", d2); /* behind d1's */
	put(f, "x\n");
	snprintf(f, sizeof(f), "%s/Bad Name.yaml", d2);
	put(f, "x\n");
	snprintf(f, sizeof(f), "%s/.yaml", d2);
	put(f, "x\n");
	snprintf(f, sizeof(f), "%s/readme.txt", d2);
	put(f, "x\n");
	snprintf(f, sizeof(f), "%s:%s:%s/none", d1, d2, tmpdir);
	setenv("GMTRACE_PLATFORM_PATH", f, 1);
	n = gm_platform_list(names, paths, 64);
	for (i = 0; i < n; i++) {
		if (i)
			cr_expect_lt(strcmp(names[i - 1], names[i]), 0, "sorted, once each");
		if (strcmp(names[i], "ps3") == 0) {
			snprintf(f, sizeof(f), "%s/ps3.yaml", d1);
			cr_expect_str_eq(paths[i], f, "the first on the path");
			found++;
		}
		if (strcmp(names[i], "zz-mine") == 0)
			found++;
		cr_expect_null(strchr(names[i], ' '));
		cr_expect_neq(names[i][0], 0);
	}
	cr_expect_eq(found, 2);
	cr_expect_eq(gm_platform_list(names, paths, 1), 1, "at most max");
}

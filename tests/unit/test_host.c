/* test_host.c - host limit detection on made-up /proc and /sys trees: cgroup
 * v2 (nested limits), v1 (hybrid machines), containers, nothing readable */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platforms/host.h"

static char root[64];

static void host_setup(void)
{
	strcpy(root, "/tmp/gm_test_host.XXXXXX");
	cr_assert_not_null(mkdtemp(root));
}

static void host_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(host, .init = host_setup, .fini = host_teardown);

/* Write text at root/rel, making the directories. */
static void put(const char *rel, const char *text)
{
	char p[512], cmd[600];
	FILE *f;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	cr_assert_eq(system(cmd), 0);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s: %s", p, strerror(errno));
	fputs(text, f);
	fclose(f);
}

static void meminfo(void)
{
	put("proc/meminfo", "MemTotal:       16384000 kB\nMemFree:         1000 kB\n"
	                    "MemAvailable:    8192000 kB\nSwapTotal:       2048 kB\n");
	put("proc/sys/vm/overcommit_memory", "2\n");
}

Test(host, cgroup_v2_limits_nest_and_pressure_is_read)
{
	gm_host_t h;
	gm_pressure_t ps;
	put("proc/self/cgroup", "0::/game.slice/run-1.scope\n");
	put("proc/self/mountinfo",
	    "25 1 0:22 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
	put("sys/fs/cgroup/game.slice/memory.max", "536870912\n");
	put("sys/fs/cgroup/game.slice/memory.high", "max\n");
	put("sys/fs/cgroup/game.slice/run-1.scope/memory.max", "max\n");
	put("sys/fs/cgroup/game.slice/run-1.scope/memory.high", "402653184\n");
	put("sys/fs/cgroup/game.slice/run-1.scope/memory.current", "12345678\n");
	put("sys/fs/cgroup/game.slice/run-1.scope/memory.swap.max", "0\n");
	put("sys/fs/cgroup/game.slice/run-1.scope/memory.pressure",
	    "some avg10=12.34 avg60=5.00 avg300=1.00 total=987654\n"
	    "full avg10=3.5 avg60=0.00 avg300=0.00 total=4321\n");
	meminfo();
	gm_host_read(&h, root);
	cr_expect_eq(h.v[gm_host_cg_max], 536870912ull, "the parent's limit binds the leaf");
	cr_expect_eq(h.v[gm_host_cg_high], 402653184ull);
	cr_expect_eq(h.v[gm_host_cg_current], 12345678ull);
	cr_expect_eq(h.v[gm_host_cg_swap_max], 0);
	cr_expect_eq(h.v[gm_host_mem_total], 16384000ull * 1024);
	cr_expect_eq(h.v[gm_host_mem_available], 8192000ull * 1024);
	cr_expect_eq(h.v[gm_host_swap_total], 2048ull * 1024);
	cr_expect_eq(h.v[gm_host_overcommit], 2);
	cr_expect(h.known & GM_HOST_CG_MAX);
	cr_expect_not(h.known & GM_HOST_CG_V1);
	cr_expect(h.known & GM_HOST_PSI);
	cr_expect_not_null(strstr(h.pressure, "run-1.scope/memory.pressure"), "%s", h.pressure);
	gm_host_pressure(&h, &ps);
	cr_assert(ps.ok);
	cr_expect_eq(ps.some_avg10, 1234);
	cr_expect_eq(ps.some_avg60, 500);
	cr_expect_eq(ps.full_avg10, 350);
	cr_expect_eq(ps.some_total_us, 987654);
	cr_expect_eq(ps.full_total_us, 4321);
	{
		int which;
		uint64_t lim = gm_host_limit(&h, &which);
		struct rlimit rl;
		getrlimit(RLIMIT_AS, &rl);
		if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 536870912ull) {
			cr_expect_eq(lim, 536870912ull);
			cr_expect_eq(which, gm_host_cg_max);
		}
	}
	/* the values that move */
	put("sys/fs/cgroup/game.slice/run-1.scope/memory.current", "22222222\n");
	gm_host_refresh(&h, root);
	cr_expect_eq(h.v[gm_host_cg_current], 22222222ull);
}

Test(host, a_container_sees_its_own_cgroup_root)
{
	gm_host_t h;
	/* cgroup namespace: the process is at "/", the mount is the subtree */
	put("proc/self/cgroup", "0::/\n");
	put("proc/self/mountinfo", "30 20 0:25 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n");
	put("sys/fs/cgroup/memory.max", "268435456\n");
	put("sys/fs/cgroup/memory.current", "1000\n");
	meminfo();
	gm_host_read(&h, root);
	cr_expect_eq(h.v[gm_host_cg_max], 268435456ull);
	cr_expect_eq(h.v[gm_host_cg_current], 1000);
	cr_expect_not(h.known & GM_HOST_CG_HIGH, "memory.high could not be read");
	cr_expect_not(h.known & GM_HOST_PSI, "no pressure file");
}

Test(host, a_hybrid_machine_falls_back_to_cgroup_v1)
{
	gm_host_t h;
	put("proc/self/cgroup", "4:memory:/process_api/abc\n1:cpu:/\n0::/\n");
	put("proc/self/mountinfo",
	    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	    "40 31 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
	put("sys/fs/cgroup/unified/cgroup.procs", "1\n"); /* no memory controller */
	put("sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes", "9223372036854771712\n");
	put("sys/fs/cgroup/memory/process_api/memory.limit_in_bytes", "1073741824\n");
	put("sys/fs/cgroup/memory/process_api/abc/memory.usage_in_bytes", "6672384\n");
	put("proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
	                            "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
	meminfo();
	gm_host_read(&h, root);
	cr_expect(h.known & GM_HOST_CG_V1);
	cr_expect_eq(h.v[gm_host_cg_max], 1073741824ull);
	cr_expect_eq(h.v[gm_host_cg_current], 6672384ull);
	cr_expect(h.known & GM_HOST_PSI, "system-wide PSI when the cgroup has none");
}

Test(host, nothing_readable_is_said_not_guessed)
{
	gm_host_t h;
	gm_pressure_t ps;
	gm_host_read(&h, root); /* an empty tree */
	cr_expect_eq(h.known & ~(unsigned)(GM_HOST_RLIMIT_AS | GM_HOST_RLIMIT_DATA), 0);
	cr_expect_str_eq(h.cgroup, "");
	gm_host_pressure(&h, &ps);
	cr_expect_not(ps.ok);
	put("proc/meminfo", "MemTotal: lots\n");
	put("proc/self/cgroup", "garbage\n");
	put("proc/self/mountinfo", "garbage without a dash\n");
	gm_host_read(&h, root);
	cr_expect_not(h.known & GM_HOST_MEM_TOTAL);
}

Test(host, rlimit_as_is_the_processes_own)
{
	gm_host_t h;
	struct rlimit rl;
	cr_assert_eq(getrlimit(RLIMIT_AS, &rl), 0);
	gm_host_read(&h, root);
	cr_expect(h.known & GM_HOST_RLIMIT_AS);
	if (rl.rlim_cur == RLIM_INFINITY)
		cr_expect_eq(h.v[gm_host_rlimit_as], GM_HOST_UNLIMITED);
	else
		cr_expect_eq(h.v[gm_host_rlimit_as], (uint64_t)rl.rlim_cur);
}

Test(host, odd_numbers_are_read_or_left_out)
{
	gm_host_t h;
	char pad[128];
	put("proc/self/cgroup", "0::/g\n");
	put("proc/self/mountinfo", "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	/* a value after a tab and spaces, the file longer than what is read */
	memset(pad, ' ', sizeof(pad));
	memcpy(pad, "\t  12345", 8);
	pad[sizeof(pad) - 1] = 0;
	put("sys/fs/cgroup/g/memory.current", pad);
	put("sys/fs/cgroup/g/memory.max", "99999999999999999999999\n"); /* too large */
	put("sys/fs/cgroup/g/memory.high", "");                         /* empty */
	put("sys/fs/cgroup/memory.high", "7000\n");                     /* the parent's */
	gm_host_read(&h, root);
	cr_expect_eq(h.v[gm_host_cg_current], 12345);
	cr_expect_not(h.known & GM_HOST_CG_MAX, "a number past 2^64 is not a limit");
	cr_expect(h.known & GM_HOST_CG_HIGH);
	cr_expect_eq(h.v[gm_host_cg_high], 7000, "the mount's own limit counts");
	cr_expect_not_null(strstr(h.cgroup, "/sys/fs/cgroup/g"), "%s", h.cgroup);
}

Test(host, mountinfo_and_cgroup_lines_that_do_not_fit_are_skipped)
{
	gm_host_t h;
	put("proc/self/cgroup", "junk\n0:x\n0::/other\n3:cpu,cpuacct:/c\n0::/a\n"
	                        "5:blkio,memory:/v1/game\n");
	put("proc/self/mountinfo", "1 2 - cgroup2 cgroup2 rw\n" /* too few fields */
	                           "1 2 3 / /x rw - cgroup2\n"  /* no source */
	                           "1 2 3 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
	                           "1 2 3 / /sys/fs/cgroup/mem rw - cgroup cgroup rw,memory,x\n");
	put("sys/fs/cgroup/mem/v1/game/memory.usage_in_bytes", "100\n");
	put("sys/fs/cgroup/mem/v1/game/memory.limit_in_bytes", "9223372036854771712\n");
	put("sys/fs/cgroup/mem/v1/game/memory.soft_limit_in_bytes", "4096\n");
	gm_host_read(&h, root);
	cr_expect(h.known & GM_HOST_CG_V1, "no cgroup2 mount: v1 (%x)", h.known);
	cr_expect_eq(h.v[gm_host_cg_current], 100);
	cr_expect_eq(h.v[gm_host_cg_max], GM_HOST_UNLIMITED, "v1's largest value is no limit");
	cr_expect_eq(h.v[gm_host_cg_high], 4096);
	cr_expect_not(h.known & GM_HOST_CG_SWAP_MAX, "v1 has no swap.max here");
	/* the values that move, through v1's file */
	put("sys/fs/cgroup/mem/v1/game/memory.usage_in_bytes", "200\n");
	gm_host_refresh(&h, root);
	cr_expect_eq(h.v[gm_host_cg_current], 200);
}

Test(host, a_mounted_subtree_is_followed_to_the_process_cgroup)
{
	gm_host_t h;
	put("proc/self/cgroup", "0::/game.slice/run.scope\n");
	put("proc/self/mountinfo",
	    "30 20 0:25 /game.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	put("sys/fs/cgroup/run.scope/memory.current", "5\n");
	put("sys/fs/cgroup/run.scope/memory.max", "1000\n");
	gm_host_read(&h, root);
	cr_expect_eq(h.v[gm_host_cg_current], 5);
	cr_expect_eq(h.v[gm_host_cg_max], 1000);
	cr_expect_not_null(strstr(h.cgroup, "/sys/fs/cgroup/run.scope"), "%s", h.cgroup);
	/* the process at the mounted root itself */
	put("proc/self/cgroup", "0::/game.slice\n");
	put("sys/fs/cgroup/memory.current", "6\n");
	gm_host_read(&h, root);
	cr_expect_eq(h.v[gm_host_cg_current], 6);
	/* a cgroup outside the mounted subtree: taken as it is */
	put("proc/self/cgroup", "0::/game.slicer\n");
	put("sys/fs/cgroup/game.slicer/memory.current", "7\n");
	gm_host_read(&h, root);
	cr_expect_eq(h.v[gm_host_cg_current], 7);
}

Test(host, a_cgroup_path_too_long_or_a_missing_file_is_no_cgroup)
{
	gm_host_t h;
	char line[700];
	memset(line, 'x', sizeof(line));
	memcpy(line, "0::/", 4);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = 0;
	put("proc/self/mountinfo", "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	gm_host_read(&h, root); /* no /proc/self/cgroup */
	cr_expect_str_eq(h.cgroup, "");
	put("proc/self/cgroup", line);
	gm_host_read(&h, root);
	cr_expect_str_eq(h.cgroup, "");
	cr_expect_not(h.known & GM_HOST_CG_CURRENT);
	gm_host_refresh(&h, root); /* no cgroup: only MemAvailable, if any */
	cr_expect_not(h.known & GM_HOST_CG_CURRENT);
}

Test(host, pressure_lines_are_parsed_field_by_field)
{
	gm_host_t h;
	gm_pressure_t ps;
	memset(&h, 0, sizeof(h));
	snprintf(h.pressure, sizeof(h.pressure), "%s/psi", root);
	put("psi", "some avg10=5 avg60=1.2 avg300=0 total=10\n"); /* no full line */
	gm_host_pressure(&h, &ps);
	cr_assert(ps.ok);
	cr_expect_eq(ps.some_avg10, 500);
	cr_expect_eq(ps.some_avg60, 120);
	cr_expect_eq(ps.some_total_us, 10);
	cr_expect_eq(ps.full_avg10, 0);
	put("psi", "some avg10=1.234 avg60=0.00\nfull avg10=0.5 avg60=0.25\n"); /* no totals */
	gm_host_pressure(&h, &ps);
	cr_assert(ps.ok);
	cr_expect_eq(ps.some_avg10, 123, "hundredths, the rest dropped");
	cr_expect_eq(ps.full_avg10, 50);
	cr_expect_eq(ps.full_avg60, 25);
	cr_expect_eq(ps.some_total_us, 0);
	put("psi", "some avg10=1.00\n"); /* no avg60 */
	gm_host_pressure(&h, &ps);
	cr_expect_not(ps.ok);
	put("psi", "full avg10=1.00 avg60=1.00\n"); /* no some line first */
	gm_host_pressure(&h, &ps);
	cr_expect_not(ps.ok);
	put("psi", "");
	gm_host_pressure(&h, &ps);
	cr_expect_not(ps.ok);
}

Test(host, the_least_limit_wins)
{
	gm_host_t h;
	int which = 99;
	memset(&h, 0, sizeof(h));
	cr_expect_eq(gm_host_limit(&h, &which), GM_HOST_UNLIMITED);
	cr_expect_eq(which, -1, "none known");
	h.known = GM_HOST_CG_MAX | GM_HOST_RLIMIT_AS | GM_HOST_RLIMIT_DATA | GM_HOST_MEM_TOTAL;
	h.v[gm_host_cg_max] = 4000;
	h.v[gm_host_rlimit_as] = 5000;
	h.v[gm_host_rlimit_data] = 3000;
	h.v[gm_host_mem_total] = 3000; /* equal: the first one found stays */
	cr_expect_eq(gm_host_limit(&h, &which), 3000);
	cr_expect_eq(which, gm_host_rlimit_data);
	cr_expect_eq(gm_host_limit(&h, NULL), 3000);
}

Test(host, the_real_machine_can_be_read)
{
	gm_host_t h;
	gm_host_read(&h, NULL);
	cr_expect(h.known & GM_HOST_RLIMIT_AS, "RLIMIT_AS is always known");
	gm_host_refresh(&h, NULL);
	cr_expect(h.known & GM_HOST_RLIMIT_AS);
}

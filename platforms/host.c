/* host.c - read the host's memory limits and pressure (see host.h) */
#define _GNU_SOURCE
#include "host.h"

#include "interpose/support/support.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

const char *const gm_host_names[GM_HOST_NVALUES] = {"cgroup memory.max",
                                                    "cgroup memory.high",
                                                    "cgroup memory.current",
                                                    "cgroup memory.swap.max",
                                                    "RLIMIT_AS",
                                                    "RLIMIT_DATA",
                                                    "MemTotal",
                                                    "MemAvailable",
                                                    "SwapTotal",
                                                    "overcommit mode"};

const char *const gm_host_keys[GM_HOST_NVALUES] = {
        "cgroup_max",  "cgroup_high", "cgroup_current", "cgroup_swap_max", "rlimit_as",
        "rlimit_data", "mem_total",   "mem_available",  "swap_total",      "overcommit"};

/* Read a small file whole into buf (NUL-terminated); its length or -1. */
static long gm_host_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	if (fd < 0)
		return -1;
	while (n + 1 < cap) {
		ssize_t got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	return (long)n;
}

/* A decimal number at s (after spaces); "max" is GM_HOST_UNLIMITED.
 * Returns 0 or -1. */
static int gm_host_number(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "max", 3) == 0) {
		*out = GM_HOST_UNLIMITED;
		return 0;
	}
	while (*s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
		digits++;
	}
	if (!digits)
		return -1;
	*out = v;
	return 0;
}

/* One value from a file holding one number; sets bit in h->known. */
static void gm_host_value(gm_host_t *h, const char *dir, const char *file, int idx, int v1)
{
	char path[1024], buf[64];
	uint64_t v;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (gm_host_file(path, buf, sizeof(buf)) <= 0 || gm_host_number(buf, &v) != 0)
		return;
	/* cgroup v1 says "no limit" with the largest page-aligned long */
	if (v1 && v >= (1ull << 62))
		v = GM_HOST_UNLIMITED;
	h->v[idx] = v;
	h->known |= 1u << idx;
}

/* Lowest limit along dir and its parents up to top (cgroup limits nest). */
static void gm_host_limit_up(gm_host_t *h, const char *dir, const char *top, const char *file,
                             int idx, int v1)
{
	char path[512];
	uint64_t best = GM_HOST_UNLIMITED;
	int found = 0;
	size_t toplen = strlen(top);
	snprintf(path, sizeof(path), "%s", dir);
	for (;;) {
		gm_host_t one;
		char *slash;
		memset(&one, 0, sizeof(one));
		gm_host_value(&one, path, file, idx, v1);
		if (one.known) {
			found = 1;
			if (one.v[idx] < best)
				best = one.v[idx];
		}
		if (strlen(path) <= toplen)
			break;
		slash = strrchr(path, '/');
		if (!slash || (size_t)(slash - path) < toplen)
			break;
		*slash = '\0';
	}
	if (found) {
		h->v[idx] = best;
		h->known |= 1u << idx;
	}
}

/* The mount point and mounted root of the cgroup2 hierarchy (v1 = 0) or
 * of the v1 memory controller (v1 = 1); 0 if found. */
static int gm_host_mount(const char *root, int v1, char *mnt, size_t mcap, char *mroot, size_t rcap)
{
	char path[1024], buf[16384];
	char *line, *save = NULL;
	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", root);
	if (gm_host_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[6], *dash, *fstype, *opts, *p = line;
		int i;
		dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = '\0';
		for (i = 0; i < 5; i++) {
			f[i] = p;
			p = strchr(p, ' ');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (i < 4)
			continue;
		fstype = dash + 3;
		opts = strchr(fstype, ' ');
		if (!opts)
			continue;
		*opts++ = '\0';
		opts = strchr(opts, ' '); /* skip the source */
		if (v1 ? strcmp(fstype, "cgroup") != 0 : strcmp(fstype, "cgroup2") != 0)
			continue;
		if (v1) {
			/* superblock options: ...,memory,... */
			char *o = opts ? opts + 1 : NULL;
			int mem = 0;
			while (o && *o) {
				size_t len = strcspn(o, ",");
				mem |= len == 6 && strncmp(o, "memory", 6) == 0;
				o += len + (o[len] == ',');
			}
			if (!mem)
				continue;
		}
		snprintf(mnt, mcap, "%s%s", root, f[4]);
		snprintf(mroot, rcap, "%s", f[3]);
		return 0;
	}
	return -1;
}

/* This process's cgroup path in the v2 hierarchy (v1 = 0) or the v1
 * memory controller's (v1 = 1); 0 if found. */
static int gm_host_cgpath(const char *root, int v1, char *out, size_t cap)
{
	char path[1024], buf[4096];
	char *line, *save = NULL;
	snprintf(path, sizeof(path), "%s/proc/self/cgroup", root);
	if (gm_host_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2;
		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c1 = '\0';
		*c2 = '\0';
		if (!v1 && strcmp(line, "0") == 0 && c1[1] == '\0') {
			snprintf(out, cap, "%s", c2 + 1);
			return 0;
		}
		if (v1 && strcmp(line, "0") != 0) {
			char *o = c1 + 1;
			while (*o) {
				size_t len = strcspn(o, ",");
				if (len == 6 && strncmp(o, "memory", 6) == 0) {
					snprintf(out, cap, "%s", c2 + 1);
					return 0;
				}
				o += len + (o[len] == ',');
			}
		}
	}
	return -1;
}

/* The cgroup's directory: mount point + path below the mounted root. */
static int gm_host_cgdir(const char *root, int v1, char *dir, size_t cap, char *top, size_t tcap)
{
	char mnt[512], mroot[512], cg[512];
	const char *rel;
	size_t rl;
	if (gm_host_mount(root, v1, mnt, sizeof(mnt), mroot, sizeof(mroot)) ||
	    gm_host_cgpath(root, v1, cg, sizeof(cg)))
		return -1;
	rl = strlen(mroot);
	rel = cg;
	if (strcmp(mroot, "/") != 0 && strncmp(cg, mroot, rl) == 0 && (cg[rl] == '/' || !cg[rl]))
		rel = cg + rl;
	if (strcmp(rel, "/") == 0)
		rel = "";
	if (snprintf(dir, cap, "%s%s", mnt, rel) >= (int)cap)
		return -1;
	return gm_support_strlcpy(top, mnt, tcap) < tcap ? 0 : -1;
}

static void gm_host_meminfo(gm_host_t *h, const char *root, int moving_only)
{
	static const struct {
		const char *key;
		int idx;
	} keys[] = {{"MemTotal:", gm_host_mem_total},
	            {"MemAvailable:", gm_host_mem_available},
	            {"SwapTotal:", gm_host_swap_total}};
	char path[1024], buf[8192];
	size_t i;
	snprintf(path, sizeof(path), "%s/proc/meminfo", root);
	if (gm_host_file(path, buf, sizeof(buf)) <= 0)
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *at = strstr(buf, keys[i].key);
		uint64_t kb;
		if (moving_only && keys[i].idx != gm_host_mem_available)
			continue;
		if (at && (at == buf || at[-1] == '\n') &&
		    gm_host_number(at + strlen(keys[i].key), &kb) == 0) {
			h->v[keys[i].idx] = kb * 1024;
			h->known |= 1u << keys[i].idx;
		}
	}
}

void gm_host_read(gm_host_t *h, const char *root)
{
	char dir[512], top[512], path[1024];
	struct rlimit rl;
	int v1;

	memset(h, 0, sizeof(*h));
	if (!root)
		root = "";
	/* cgroup v2 first; a hybrid machine whose v2 tree has no memory
	 * controller falls back to v1's */
	for (v1 = 0; v1 <= 1 && !(h->known & GM_HOST_CG_CURRENT); v1++) {
		if (gm_host_cgdir(root, v1, dir, sizeof(dir), top, sizeof(top)))
			continue;
		gm_host_value(h, dir, v1 ? "memory.usage_in_bytes" : "memory.current",
		              gm_host_cg_current, v1);
		if (!(h->known & GM_HOST_CG_CURRENT))
			continue;
		gm_host_limit_up(h, dir, top, v1 ? "memory.limit_in_bytes" : "memory.max",
		                 gm_host_cg_max, v1);
		gm_host_limit_up(h, dir, top, v1 ? "memory.soft_limit_in_bytes" : "memory.high",
		                 gm_host_cg_high, v1);
		if (!v1)
			gm_host_limit_up(h, dir, top, "memory.swap.max", gm_host_cg_swap_max, 0);
		if (v1)
			h->known |= GM_HOST_CG_V1;
		snprintf(h->cgroup, sizeof(h->cgroup), "%s", dir);
		if (!v1) {
			snprintf(path, sizeof(path), "%s/memory.pressure", dir);
			if (access(path, R_OK) == 0)
				gm_support_strlcpy(h->pressure, path, sizeof(h->pressure));
		}
	}
	if (getrlimit(RLIMIT_AS, &rl) == 0) {
		h->v[gm_host_rlimit_as] =
		        rl.rlim_cur == RLIM_INFINITY ? GM_HOST_UNLIMITED : (uint64_t)rl.rlim_cur;
		h->known |= GM_HOST_RLIMIT_AS;
	}
	if (getrlimit(RLIMIT_DATA, &rl) == 0) {
		h->v[gm_host_rlimit_data] =
		        rl.rlim_cur == RLIM_INFINITY ? GM_HOST_UNLIMITED : (uint64_t)rl.rlim_cur;
		h->known |= GM_HOST_RLIMIT_DATA;
	}
	gm_host_meminfo(h, root, 0);
	snprintf(path, sizeof(path), "%s/proc/sys/vm", root);
	gm_host_value(h, path, "overcommit_memory", gm_host_overcommit, 0);
	if (!h->pressure[0]) {
		snprintf(path, sizeof(path), "%s/proc/pressure/memory", root);
		if (access(path, R_OK) == 0)
			gm_support_strlcpy(h->pressure, path, sizeof(h->pressure));
	}
	if (h->pressure[0])
		h->known |= GM_HOST_PSI;
}

void gm_host_refresh(gm_host_t *h, const char *root)
{
	if (!root)
		root = "";
	if (h->cgroup[0])
		gm_host_value(h, h->cgroup,
		              (h->known & GM_HOST_CG_V1) ? "memory.usage_in_bytes" :
		                                           "memory.current",
		              gm_host_cg_current, (h->known & GM_HOST_CG_V1) != 0);
	gm_host_meminfo(h, root, 1);
}

/* "avg10=1.23" -> 123 (hundredths); -1 if absent. */
static int gm_host_avg(const char *line, const char *key, uint32_t *out)
{
	const char *at = strstr(line, key);
	uint64_t whole = 0, frac = 0;
	int n = 0;
	if (!at)
		return -1;
	at += strlen(key);
	while (*at >= '0' && *at <= '9')
		whole = whole * 10 + (uint64_t)(*at++ - '0');
	if (*at == '.') {
		at++;
		while (*at >= '0' && *at <= '9' && n < 2) {
			frac = frac * 10 + (uint64_t)(*at++ - '0');
			n++;
		}
		if (n == 1)
			frac *= 10;
	}
	*out = (uint32_t)(whole * 100 + frac);
	return 0;
}

void gm_host_pressure(const gm_host_t *h, gm_pressure_t *p)
{
	char buf[512];
	char *full;
	const char *tot;
	memset(p, 0, sizeof(*p));
	if (!h->pressure[0] || gm_host_file(h->pressure, buf, sizeof(buf)) <= 0)
		return;
	full = strstr(buf, "full ");
	if (strncmp(buf, "some ", 5) != 0)
		return;
	if (full)
		full[-1] = '\0';
	if (gm_host_avg(buf, "avg10=", &p->some_avg10) ||
	    gm_host_avg(buf, "avg60=", &p->some_avg60))
		return;
	tot = strstr(buf, "total=");
	if (tot)
		gm_host_number(tot + 6, &p->some_total_us);
	if (full) {
		gm_host_avg(full, "avg10=", &p->full_avg10);
		gm_host_avg(full, "avg60=", &p->full_avg60);
		tot = strstr(full, "total=");
		if (tot)
			gm_host_number(tot + 6, &p->full_total_us);
	}
	p->ok = 1;
}

uint64_t gm_host_limit(const gm_host_t *h, int *which)
{
	static const int order[] = {gm_host_cg_max, gm_host_rlimit_as, gm_host_rlimit_data,
	                            gm_host_mem_total};
	uint64_t best = GM_HOST_UNLIMITED;
	size_t i;
	if (which)
		*which = -1;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((h->known & (1u << order[i])) && h->v[order[i]] < best) {
			best = h->v[order[i]];
			if (which)
				*which = order[i];
		}
	}
	return best;
}

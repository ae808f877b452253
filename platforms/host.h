/* host.h - the real memory limits of the machine the game runs on
 *
 * What a game can really get here, whatever the platform it pretends to be:
 * the cgroup's limits (v2: memory.max, memory.high, memory.current,
 * memory.swap.max; v1: memory.limit_in_bytes, memory.soft_limit_in_bytes,
 * memory.usage_in_bytes), RLIMIT_AS and RLIMIT_DATA, MemTotal, MemAvailable
 * and SwapTotal, the overcommit mode; and memory pressure (PSI: the cgroup's
 * memory.pressure, else /proc/pressure/memory).
 *
 * The cgroup is found through /proc/self/cgroup and the cgroup mounts in
 * /proc/self/mountinfo, so containers (a cgroup namespace, a mount of a
 * subtree) and hybrid v1/v2 machines work. Whatever cannot be read is left
 * out of `known` and said so by the reports; nothing fails.
 *
 * Reads with open/read into stack buffers: safe in the game process (no
 * allocation, no stdio), fast enough to sample once a second.
 */
#ifndef GM_HOST_H
#define GM_HOST_H

#include <stddef.h>
#include <stdint.h>

#define GM_HOST_UNLIMITED UINT64_MAX

/* bits of gm_host_t.known, in this order in the capture record */
enum {
	GM_HOST_CG_MAX = 1u << 0,
	GM_HOST_CG_HIGH = 1u << 1,
	GM_HOST_CG_CURRENT = 1u << 2,
	GM_HOST_CG_SWAP_MAX = 1u << 3,
	GM_HOST_RLIMIT_AS = 1u << 4,
	GM_HOST_RLIMIT_DATA = 1u << 5,
	GM_HOST_MEM_TOTAL = 1u << 6,
	GM_HOST_MEM_AVAILABLE = 1u << 7,
	GM_HOST_SWAP_TOTAL = 1u << 8,
	GM_HOST_OVERCOMMIT = 1u << 9,
	GM_HOST_CG_V1 = 1u << 14, /* the cgroup figures come from cgroup v1 */
	GM_HOST_PSI = 1u << 15,   /* pressure can be sampled */
};

#define GM_HOST_NVALUES 10

typedef struct gm_host {
	uint32_t known;
	/* indexed like the bits above; GM_HOST_UNLIMITED for "max" */
	uint64_t v[GM_HOST_NVALUES];
	char cgroup[512];   /* the cgroup's directory ("" when not found) */
	char pressure[512]; /* the PSI file sampled ("" when none) */
} gm_host_t;

enum {
	gm_host_cg_max,
	gm_host_cg_high,
	gm_host_cg_current,
	gm_host_cg_swap_max,
	gm_host_rlimit_as,
	gm_host_rlimit_data,
	gm_host_mem_total,
	gm_host_mem_available,
	gm_host_swap_total,
	gm_host_overcommit
};

/* Names of the values, for people ("cgroup memory.max") and for JSON keys
 * ("cgroup_max"), indexed like the bits above. */
extern const char *const gm_host_names[GM_HOST_NVALUES];
extern const char *const gm_host_keys[GM_HOST_NVALUES];

/* One PSI sample. avg figures are in hundredths of a percent. */
typedef struct gm_pressure {
	int ok;
	uint32_t some_avg10, full_avg10, some_avg60, full_avg60;
	uint64_t some_total_us, full_total_us;
} gm_pressure_t;

/* Read everything. root is prepended to every path ("" for the real
 * system; tests give a directory holding a fake proc/ and sys/). */
void gm_host_read(gm_host_t *h, const char *root);

/* Sample h->pressure; ok = 0 when it cannot be read. */
void gm_host_pressure(const gm_host_t *h, gm_pressure_t *p);

/* Refresh the values that move: cgroup current, MemAvailable. */
void gm_host_refresh(gm_host_t *h, const char *root);

/* The least of the limits that bound this process's memory (cgroup max,
 * RLIMIT_AS, RLIMIT_DATA, MemTotal); GM_HOST_UNLIMITED when none known. */
uint64_t gm_host_limit(const gm_host_t *h, int *which);

#endif

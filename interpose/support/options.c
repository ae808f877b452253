/* options.c - the options table and its parsers (no allocation, no stdio) */
#include "options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "support.h"

#define GM_OPT_OFF(f) offsetof(gm_options_t, f)
#define GM_OPT_CAP(f) sizeof(((gm_options_t *)0)->f)

const gm_option_row_t gm_options_table[] = {
        {"enabled", gm_opt_bool, "1", NULL, GM_OPT_OFF(enabled), 0,
         "record this process (0: the library only forwards calls)", 0},
        {"output", gm_opt_string, "./%e.%p.gmt", NULL, GM_OPT_OFF(output), GM_OPT_CAP(output),
         "capture file; %p is the pid, %e the program name, %% one %", 0},
        {"level", gm_opt_choice, "events", "events|frames", GM_OPT_OFF(level), 0,
         "what is recorded: events (every allocation and free) or frames (per-frame totals)", 0},
        {"stacks", gm_opt_uint, "0", NULL, GM_OPT_OFF(stacks), 0,
         "record the call stack of every allocation, this many frames deep (0: off; at most 128; events level)",
         128},
        {"python_stacks", gm_opt_choice, "python", "python|mixed|c", GM_OPT_OFF(python_stacks), 0,
         "stacks of a CPython game: python (its Python frames, and the C frames of other libraries), mixed (also the interpreter's own C frames) or c (C frames only)",
         0},
        {"timing_sample", gm_opt_uint, "16", NULL, GM_OPT_OFF(timing_sample), 0,
         "time one allocator call in N per thread for the allocator-time estimate (1: all)",
         1000000},
        {"burst_allocations", gm_opt_uint, "0", NULL, GM_OPT_OFF(burst_allocations), 0,
         "in a burst (a reading within 1024 ticks of the thread's record before), the next N allocations carry the reading of the record before each instead of reading the clock (0: every allocation reads it; at most 15)",
         15},
        {"spike_allocations", gm_opt_uint, "0", NULL, GM_OPT_OFF(spike_allocations), 0,
         "a frame with more allocations than this is a spike (0: no absolute limit)", 0},
        {"spike_bytes", gm_opt_size, "0", NULL, GM_OPT_OFF(spike_bytes), 0,
         "a frame allocating more bytes than this is a spike (0: no absolute limit)", 0},
        {"spike_alloc_ns", gm_opt_uint, "0", NULL, GM_OPT_OFF(spike_alloc_ns), 0,
         "a frame spending more ns in the allocator than this is a spike (0: none)", 0},
        {"spike_factor", gm_opt_ratio, "4", NULL, GM_OPT_OFF(spike_factor_pct), 0,
         "a frame allocating over this many times the median of the last 128 frames (count or bytes) is a spike (0: off)",
         0},
        {"spike_stderr", gm_opt_bool, "0", NULL, GM_OPT_OFF(spike_stderr), 0,
         "print a line on stderr for every spike", 0},
        {"auto_frames", gm_opt_bool, "1", NULL, GM_OPT_OFF(auto_frames), 0,
         "end frames at present/swap calls until the game marks frames itself", 0},
        {"budgets", gm_opt_string, "", NULL, GM_OPT_OFF(budgets), GM_OPT_CAP(budgets),
         "budget tree file (YAML) enforced while the game runs", 0},
        {"budget_mode", gm_opt_choice, "soft", "soft|strict", GM_OPT_OFF(budget_mode), 0,
         "at a hard limit after eviction: soft records a violation, strict fails the allocation",
         0},
        {"budget_stderr", gm_opt_bool, "0", NULL, GM_OPT_OFF(budget_stderr), 0,
         "print a line on stderr for every budget violation", 0},
        {"platform", gm_opt_string, "", NULL, GM_OPT_OFF(platform), GM_OPT_CAP(platform),
         "run under a platform profile's memory banks and budgets (a name or a .yaml file)", 0},
        {"pressure_ms", gm_opt_uint, "1000", NULL, GM_OPT_OFF(pressure_ms), 0,
         "sample the host's memory pressure (PSI) this often, in ms (0: never)", 0},
        {"ring_size", gm_opt_size, "8M", NULL, GM_OPT_OFF(ring_size), 0,
         "shared-memory log size per process", 64ull << 30},
        {"chunk_size", gm_opt_size, "64K", NULL, GM_OPT_OFF(chunk_size), 0,
         "size of the slices of the log a thread claims at a time", 16u << 20},
        {"drain", gm_opt_choice, "internal", "internal|external", GM_OPT_OFF(drain_external), 0,
         "who writes the capture: a thread in the game, or `gmtrace run` outside it", 0},
        {"announce_dir", gm_opt_string, "", NULL, GM_OPT_OFF(announce_dir),
         GM_OPT_CAP(announce_dir),
         "folder where each process announces its log (set by `gmtrace run`)", 0},
        {"follow_children", gm_opt_bool, "1", NULL, GM_OPT_OFF(follow_children), 0,
         "keep the preload for child processes and exec'd programs", 0},
        {"compress", gm_opt_bool, "1", NULL, GM_OPT_OFF(compress), 0,
         "zstd-compress capture blocks while the drainer keeps up", 0},
        {"drain_interval_ms", gm_opt_uint, "5", NULL, GM_OPT_OFF(drain_interval_ms), 0,
         "how often the drainer looks for committed chunks when idle, in ms (1-1000; 0 is 5, more is 1000)",
         0},
        {"drain_nice", gm_opt_uint, "0", NULL, GM_OPT_OFF(drain_nice), 0,
         "nice value of the drainer (in the game or in gmtrace run), 0-19: above 0 the game's own threads run first",
         19},
        {"drain_help", gm_opt_choice, "auto", "auto|always|off", GM_OPT_OFF(drain_help), 0,
         "game threads drain their own records: auto while no core is free for the drainer, always, or off",
         0},
        {"quiet", gm_opt_bool, "0", NULL, GM_OPT_OFF(quiet), 0,
         "no start/stop messages from the library on stderr (gmtrace run still lists the captures)",
         0},
};
const size_t gm_options_count = sizeof(gm_options_table) / sizeof(gm_options_table[0]);

int gm_options_parse_bool(const char *s, int *out)
{
	static const char *yes[] = {"1", "true", "yes", "on"};
	static const char *no[] = {"0", "false", "no", "off"};
	size_t i;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int gm_options_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *names[3];
		unsigned shift;
	} units[] = {{{"k", "kib", "kb"}, 10},
	             {{"m", "mib", "mb"}, 20},
	             {{"g", "gib", "gb"}, 30},
	             {{"t", "tib", "tb"}, 40}};
	char *end;
	unsigned long long v;
	uint64_t mul = 1, frac = 0, scale = 1;
	size_t u, k;
	/* digits first: strtoull would also take leading blanks, a sign, or
	 * (with base 0) hex */
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	/* "3.5G": up to 6 decimals, only with a unit (no fractions of a byte) */
	if (*end == '.') {
		end++;
		if (*end < '0' || *end > '9')
			return -EINVAL;
		while (*end >= '0' && *end <= '9') {
			if (scale < 1000000) {
				frac = frac * 10 + (uint64_t)(*end - '0');
				scale *= 10;
			}
			end++;
		}
		if (!*end)
			return -EINVAL;
	}
	if (*end) {
		for (u = 0; u < sizeof(units) / sizeof(units[0]) && mul == 1; u++)
			for (k = 0; k < 3; k++)
				if (strcasecmp(end, units[u].names[k]) == 0)
					mul = 1ull << units[u].shift;
		if (mul == 1)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return -EINVAL;
	*out = v * mul + (uint64_t)((unsigned __int128)frac * mul / scale);
	return 0;
}

static int gm_options_apply(gm_options_t *o, const gm_option_row_t *row, const char *value)
{
	char *field = (char *)o + row->offset;
	switch (row->type) {
	case gm_opt_bool: {
		int b;
		if (gm_options_parse_bool(value, &b))
			return -EINVAL;
		*(int *)field = b;
		return 0;
	}
	case gm_opt_size:
	case gm_opt_uint: {
		uint64_t v;
		if (row->type == gm_opt_size) {
			if (gm_options_parse_size(value, &v) || (row->max && v > row->max))
				return -EINVAL;
		} else {
			char *end;
			if (*value < '0' || *value > '9') /* not " 7", "+7" or "-7" */
				return -EINVAL;
			errno = 0;
			v = strtoull(value, &end, 10);
			if (errno || *end || (row->max && v > row->max))
				return -EINVAL;
		}
		*(uint64_t *)field = v;
		return 0;
	}
	case gm_opt_ratio: {
		char *end;
		double d;
		/* a decimal number: not " 4", "+4", "0x10" (strtod reads hex) or
		 * "inf" */
		if (((*value < '0' || *value > '9') && *value != '.') ||
		    value[strspn(value, "0123456789.eE+-")] != '\0')
			return -EINVAL;
		errno = 0;
		d = strtod(value, &end);
		if (errno || *end || !(d >= 0 && d <= 1e6)) /* NaN too */
			return -EINVAL;
		*(uint64_t *)field = (uint64_t)(d * 100.0 + 0.5);
		return 0;
	}
	case gm_opt_string:
		if (strlen(value) >= row->cap)
			return -EINVAL;
		gm_support_strlcpy(field, value, row->cap);
		return 0;
	case gm_opt_choice: {
		const char *c = row->choices;
		int idx = 0;
		size_t n = strlen(value);
		while (*c) {
			const char *bar = strchr(c, '|');
			size_t len = bar ? (size_t)(bar - c) : strlen(c);
			if (len == n && strncasecmp(c, value, n) == 0) {
				*(int *)field = idx;
				return 0;
			}
			if (!bar)
				break;
			c = bar + 1;
			idx++;
		}
		return -EINVAL;
	}
	default:
		return -EINVAL;
	}
}

int gm_options_set(gm_options_t *o, const char *name, const char *value)
{
	const gm_option_row_t *row = gm_options_row(name);
	return row ? gm_options_apply(o, row, value) : -ENOENT;
}

/* What row takes, in words ("events|frames", "a whole number up to 19"). */
void gm_options_expected(const gm_option_row_t *row, char *buf, size_t cap)
{
	char num[24];
	size_t len = 0;
	buf[0] = 0;
	switch (row->type) {
	case gm_opt_bool:
		gm_support_append(buf, cap, &len, "1/0, true/false, yes/no or on/off");
		break;
	case gm_opt_uint:
		gm_support_append(buf, cap, &len, "a whole number");
		break;
	case gm_opt_size:
		gm_support_append(buf, cap, &len, "a size in bytes, or with K, M, G or T");
		break;
	case gm_opt_ratio:
		gm_support_append(buf, cap, &len, "a number from 0 to 1000000");
		break;
	case gm_opt_string:
		gm_support_u64(num, (uint64_t)(row->cap - 1));
		gm_support_append(buf, cap, &len, "at most ");
		gm_support_append(buf, cap, &len, num);
		gm_support_append(buf, cap, &len, " bytes");
		break;
	case gm_opt_choice:
		gm_support_append(buf, cap, &len, row->choices);
		break;
	default:
		break;
	}
	if (row->max && (row->type == gm_opt_uint || row->type == gm_opt_size)) {
		static const char units[] = "KMGT";
		uint64_t m = row->max;
		int u = -1;
		while (row->type == gm_opt_size && u < 3 && m >= 1024 && m % 1024 == 0) {
			m /= 1024;
			u++;
		}
		gm_support_u64(num, m);
		gm_support_append(buf, cap, &len, " up to ");
		gm_support_append(buf, cap, &len, num);
		if (u >= 0) {
			char unit[2] = {units[u], 0};
			gm_support_append(buf, cap, &len, unit);
		}
	}
}

const gm_option_row_t *gm_options_row(const char *name)
{
	size_t i;
	for (i = 0; i < gm_options_count; i++)
		if (strcmp(gm_options_table[i].name, name) == 0)
			return &gm_options_table[i];
	return NULL;
}

/* ": invalid value "<given>" (expected <what row takes>); using the default "
 * into buf: the middle of a warning about row. */
static void gm_options_invalid(const gm_option_row_t *row, const char *given, char *buf, size_t cap)
{
	char cut[44], what[160];
	size_t len = 0;
	buf[0] = 0;
	gm_support_strlcpy(cut, given, sizeof(cut));
	gm_options_expected(row, what, sizeof(what));
	gm_support_append(buf, cap, &len, ": invalid value \"");
	gm_support_append(buf, cap, &len, cut);
	gm_support_append(buf, cap, &len,
	                  strlen(given) >= sizeof(cut) ? "...\" (expected " : "\" (expected ");
	gm_support_append(buf, cap, &len, what);
	gm_support_append(buf, cap, &len, "); using the default ");
}

void gm_options_load(gm_options_t *o, void (*warn)(const char *a, const char *b, const char *c))
{
	size_t i, j;
	memset(o, 0, sizeof(*o));
	for (i = 0; i < gm_options_count; i++)
		gm_options_apply(o, &gm_options_table[i], gm_options_table[i].def);
	for (i = 0; i < gm_options_count; i++) {
		char env[64] = "GMTRACE_";
		const char *v;
		for (j = 0; gm_options_table[i].name[j] && j + 9 < sizeof(env); j++) {
			char ch = gm_options_table[i].name[j];
			env[8 + j] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
		}
		env[8 + j] = 0;
		v = getenv(env);
		if (!v)
			continue;
		if (gm_options_table[i].offset == GM_OPT_OFF(budget_mode))
			o->budget_mode_given = 1;
		if (gm_options_apply(o, &gm_options_table[i], v) != 0) {
			char why[256];
			gm_options_invalid(&gm_options_table[i], v, why, sizeof(why));
			if (warn)
				warn(env, why, gm_options_table[i].def);
			gm_options_apply(o, &gm_options_table[i], gm_options_table[i].def);
		}
	}
}

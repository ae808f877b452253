/* dump.c - gmtrace dump: every event of a capture, one line each
 *
 * For reading a capture by eye or feeding it to line tools. Text lines are
 * "ns thread type name=value ..."; JSON lines are one object per event with
 * ns, thread and type first, then the type's own fields (README.md, "dump").
 */
#include <stdio.h>
#include <string.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"
#include "platforms/host.h"

/* Field kinds a record type's fields are printed as. */
typedef enum gm_dump_field {
	gm_dump_field_u64,
	gm_dump_field_ptr,
	gm_dump_field_kind,
	gm_dump_field_string,
	gm_dump_field_count
} gm_dump_field_t;

/* One output line under construction: text or JSON, same calls. */
typedef struct gm_dump_line {
	int json;
	gm_json_t *j;
} gm_dump_line_t;

static void gm_dump_usage(FILE *f)
{
	fprintf(f, "usage: gmtrace dump [--json] [--limit N] CAPTURE\n"
	           "\n"
	           "Every event of a capture in time order, one per line:\n"
	           "  text: NS THREAD TYPE name=value ...\n"
	           "  json: {\"ns\":..,\"thread\":..,\"type\":\"alloc\",\"kind\":\"malloc\",...}\n"
	           "\n"
	           "  --json      JSON lines, one object per event\n"
	           "  --limit N   stop after N events\n"
	           "  --help      this text\n"
	           "\n"
	           "Exit status: 0 ok, 1 capture unreadable or damaged (events before the\n"
	           "damage are still printed), 2 bad usage.\n");
}

static void gm_dump_put(gm_dump_line_t *l, const char *name, gm_dump_field_t kind, uint64_t v,
                        const char *s, size_t n)
{
	char ptr[24];

	if (kind == gm_dump_field_ptr)
		snprintf(ptr, sizeof(ptr), "0x%llx", (unsigned long long)v);
	if (l->json) {
		gm_json_key(l->j, name);
		if (kind == gm_dump_field_u64)
			gm_json_u64(l->j, v);
		else if (kind == gm_dump_field_ptr)
			gm_json_string(l->j, ptr);
		else if (kind == gm_dump_field_kind)
			gm_json_string(l->j, gm_reader_kind_name((unsigned)v));
		else
			gm_json_string_n(l->j, s, n);
		return;
	}
	printf(" %s=", name);
	if (kind == gm_dump_field_u64)
		printf("%llu", (unsigned long long)v);
	else if (kind == gm_dump_field_ptr)
		fputs(ptr, stdout);
	else if (kind == gm_dump_field_kind)
		fputs(gm_reader_kind_name((unsigned)v), stdout);
	else
		gm_text_quote(stdout, s, n);
}

static void gm_dump_u64(gm_dump_line_t *l, const char *name, uint64_t v)
{
	gm_dump_put(l, name, gm_dump_field_u64, v, NULL, 0);
}

/* A field with no value: null in JSON, '-' in text. */
static void gm_dump_null(gm_dump_line_t *l, const char *name)
{
	if (l->json) {
		gm_json_key_null(l->j, name);
		return;
	}
	printf(" %s=-", name);
}

static void gm_dump_ptr(gm_dump_line_t *l, const char *name, uint64_t v)
{
	gm_dump_put(l, name, gm_dump_field_ptr, v, NULL, 0);
}

static void gm_dump_i64(gm_dump_line_t *l, const char *name, int64_t v)
{
	if (l->json) {
		gm_json_key(l->j, name);
		gm_json_i64(l->j, v);
		return;
	}
	printf(" %s=%lld", name, (long long)v);
}

static const char *const gm_dump_levels[] = {"events", "frames"};
static const char *const gm_dump_states[] = {"loading", "resident", "unloading", "unloaded",
                                             "failed"};
static const char *const gm_dump_ops[] = {"ref", "release", "touch"};
static const char *const gm_dump_budget_events[] = {"over_soft", "over_hard", "failed",
                                                    "heap_full"};
static const char *const gm_dump_codes[] = {
        "none",           "unknown_asset",  "double_unload",       "release_below_zero",
        "null_name",      "long_name",      "unload_with_refs",    "tag_underflow",
        "stack_overflow", "bad_state",      "detach_mismatch",     "unknown_tag",
        "unknown_pool",   "pool_underflow", "evictor_no_progress", "unknown_node",
        "no_evictor",     "node_redefined", "bad_policy"};

/* An enum value by name ("unknown" past the table). */
static void gm_dump_name(gm_dump_line_t *l, const char *name, const char *const *names,
                         unsigned count, uint64_t v)
{
	const char *s = v < count ? names[v] : "unknown";
	gm_dump_put(l, name, gm_dump_field_string, 0, s, strlen(s));
}

/* Strings in records may be padded with NULs; they are not shown. */
static void gm_dump_string(gm_dump_line_t *l, const char *name, const void *p, uint64_t n)
{
	const char *s = p;

	while (n > 0 && s[n - 1] == '\0')
		n--;
	gm_dump_put(l, name, gm_dump_field_string, 0, s, (size_t)n);
}

/* A frame: "0x..." for a return address, "py<code id>:<line>" for a
 * Python frame (FORMAT.md, "Call stacks"). */
static void gm_dump_frame_text(char *out, size_t cap, uint64_t pc)
{
	if (pc & GM_PYFRAME_BIT)
		snprintf(out, cap, "py%u:%u", (unsigned)GM_PYFRAME_CODE(pc),
		         (unsigned)GM_PYFRAME_LINE(pc));
	else
		snprintf(out, cap, "0x%llx", (unsigned long long)pc);
}

/* A stack's return addresses: JSON gets an array of "0x..." strings, text
 * one comma-separated list, innermost first. */
static void gm_dump_frames(gm_dump_line_t *l, const uint64_t *pcs, uint64_t n)
{
	uint64_t i;
	char hex[24];

	if (l->json) {
		gm_json_key(l->j, "frames");
		gm_json_array_begin(l->j);
		for (i = 0; i < n; i++) {
			gm_dump_frame_text(hex, sizeof(hex), pcs[i]);
			gm_json_string(l->j, hex);
		}
		gm_json_array_end(l->j);
		return;
	}
	fputs(" frames=", stdout);
	for (i = 0; i < n; i++) {
		gm_dump_frame_text(hex, sizeof(hex), pcs[i]);
		printf("%s%s", i ? "," : "", hex);
	}
}

/* argv: NUL-separated strings; JSON gets an array, text one quoted string each. */
static void gm_dump_argv(gm_dump_line_t *l, const char *s, uint64_t n)
{
	uint64_t i = 0;

	while (n > 0 && s[n - 1] == '\0')
		n--;
	if (l->json) {
		gm_json_key(l->j, "argv");
		gm_json_array_begin(l->j);
	} else {
		fputs(" argv=", stdout);
	}
	while (i < n) {
		size_t len = strnlen(s + i, (size_t)(n - i));

		if (l->json) {
			gm_json_string_n(l->j, s + i, len);
		} else {
			if (i > 0)
				putchar(',');
			gm_text_quote(stdout, s + i, len);
		}
		i += len + 1;
	}
	if (l->json)
		gm_json_array_end(l->j);
}

/* The type's own fields, in the order format.h lists them. */
static void gm_dump_fields(gm_dump_line_t *l, const gm_event_t *ev)
{
	const uint64_t *u = ev->extra;

	switch (ev->type) {
	case gm_rec_alloc:
	case gm_rec_free:
		gm_dump_put(l, "kind", gm_dump_field_kind, ev->x, NULL, 0);
		gm_dump_ptr(l, "ptr", ev->a);
		gm_dump_u64(l, "size", ev->b);
		if (ev->burst) /* its time: the reading of its thread's record before */
			gm_dump_u64(l, "burst", 1);
		break;
	case gm_rec_realloc:
		gm_dump_put(l, "kind", gm_dump_field_kind, ev->x, NULL, 0);
		gm_dump_ptr(l, "ptr", ev->a);
		gm_dump_u64(l, "size", ev->b);
		gm_dump_ptr(l, "old_ptr", u[0]);
		break;
	case gm_rec_fail:
		gm_dump_put(l, "kind", gm_dump_field_kind, ev->x, NULL, 0);
		gm_dump_u64(l, "size", u[0]);
		gm_dump_u64(l, "alignment", u[1]);
		break;
	case gm_rec_thread_start:
		gm_dump_u64(l, "os_tid", ev->a);
		gm_dump_string(l, "name", u, ev->b);
		break;
	case gm_rec_thread_end:
		gm_dump_u64(l, "os_tid", ev->a);
		break;
	case gm_rec_frame:
		gm_dump_u64(l, "frame", ev->a);
		gm_dump_u64(l, "set", ev->x);
		gm_dump_u64(l, "source", ev->b);
		break;
	case gm_rec_module:
		gm_dump_ptr(l, "base", u[0]);
		gm_dump_u64(l, "size", u[1]);
		gm_dump_string(l, "path", u + 2, ev->a);
		break;
	case gm_rec_process:
		gm_dump_u64(l, "pid", ev->a);
		gm_dump_u64(l, "ppid", ev->b);
		gm_dump_u64(l, "realtime_ns", u[0]);
		gm_dump_u64(l, "monotonic_ns", u[1]);
		gm_dump_u64(l, "tsc", u[2]);
		gm_dump_u64(l, "tsc_hz", u[3]);
		gm_dump_string(l, "exe", u + 6, u[4]);
		gm_dump_argv(l, (const char *)(u + 6) + u[4], u[5]);
		break;
	case gm_rec_clock:
		gm_dump_u64(l, "tsc", u[0]);
		gm_dump_u64(l, "monotonic_ns", u[1]);
		break;
	case gm_rec_stall:
		gm_dump_u64(l, "waits", ev->a);
		gm_dump_u64(l, "wait_ns", ev->b);
		break;
	case gm_rec_fork:
		gm_dump_u64(l, "child_pid", ev->a);
		break;
	case gm_rec_exit:
		if (ev->x != GM_EXIT_STATUS_UNKNOWN)
			gm_dump_u64(l, "status", ev->a);
		else
			gm_dump_null(l, "status");
		break;
	case gm_rec_lost:
		gm_dump_u64(l, "records", ev->a);
		break;
	case gm_rec_frame_set:
		gm_dump_u64(l, "set", ev->a);
		gm_dump_string(l, "name", u, ev->b);
		break;
	case gm_rec_module_unload:
		gm_dump_ptr(l, "base", ev->a);
		break;
	case gm_rec_sim_tick:
		gm_dump_u64(l, "tick", ev->a);
		break;
	case gm_rec_level:
		gm_dump_name(l, "level", gm_dump_levels, gm_level_count, ev->a);
		break;
	case gm_rec_frame_thread:
		gm_dump_u64(l, "frame", ev->a);
		gm_dump_u64(l, "thread_index", ev->b);
		gm_dump_u64(l, "allocations", u[0]);
		gm_dump_u64(l, "frees", u[1]);
		gm_dump_u64(l, "allocated_bytes", u[2]);
		gm_dump_u64(l, "freed_bytes", u[3]);
		gm_dump_u64(l, "alloc_ticks", u[4]);
		break;
	case gm_rec_frame_sum:
		gm_dump_u64(l, "frame", ev->a);
		gm_dump_u64(l, "threads", ev->b);
		gm_dump_u64(l, "allocations", u[0]);
		gm_dump_u64(l, "frees", u[1]);
		gm_dump_u64(l, "allocated_bytes", u[2]);
		gm_dump_u64(l, "freed_bytes", u[3]);
		gm_dump_i64(l, "live_bytes", (int64_t)u[4]);
		gm_dump_i64(l, "peak_live_bytes", (int64_t)u[5]);
		gm_dump_u64(l, "alloc_ticks", u[6]);
		gm_dump_u64(l, "flags", u[7]);
		break;
	case gm_rec_spike:
		gm_dump_u64(l, "frame", ev->a);
		gm_dump_u64(l, "reasons", ev->b);
		gm_dump_u64(l, "allocations", u[0]);
		gm_dump_u64(l, "limit_allocations", u[1]);
		gm_dump_u64(l, "allocated_bytes", u[2]);
		gm_dump_u64(l, "limit_bytes", u[3]);
		gm_dump_u64(l, "alloc_ns", u[4]);
		gm_dump_u64(l, "limit_alloc_ns", u[5]);
		break;
	case gm_rec_tag_def:
		gm_dump_u64(l, "tag", ev->a);
		gm_dump_string(l, "name", u, ev->b);
		break;
	case gm_rec_context:
		gm_dump_u64(l, "asset", ev->a);
		gm_dump_u64(l, "tag", ev->b);
		break;
	case gm_rec_asset_new:
		gm_dump_u64(l, "asset", ev->a);
		gm_dump_string(l, "name", u, ev->b & 0xffff);
		gm_dump_string(l, "asset_type", (const char *)u + (ev->b & 0xffff) + 1,
		               ev->b >> 16);
		break;
	case gm_rec_asset_state:
		gm_dump_u64(l, "asset", ev->a);
		gm_dump_name(l, "state", gm_dump_states, gm_asset_state_count, ev->x);
		break;
	case gm_rec_asset_ref:
		gm_dump_u64(l, "asset", ev->a);
		gm_dump_name(l, "op", gm_dump_ops, gm_asset_op_count, ev->x);
		gm_dump_u64(l, ev->x == gm_asset_op_touch ? "touch_frame" : "refs", ev->b);
		break;
	case gm_rec_asset_extra:
		gm_dump_u64(l, "asset", ev->a);
		gm_dump_u64(l, "bytes", ev->b);
		break;
	case gm_rec_validation:
		gm_dump_u64(l, "id", ev->a);
		gm_dump_name(l, "code", gm_dump_codes, gm_valid_count, ev->x);
		gm_dump_u64(l, "detail", ev->b);
		break;
	case gm_rec_scene:
		gm_dump_u64(l, "scene", ev->a);
		gm_dump_string(l, "name", u, ev->b);
		break;
	case gm_rec_pool_def:
		gm_dump_u64(l, "pool", ev->a);
		gm_dump_u64(l, "object_size", u[0]);
		gm_dump_u64(l, "capacity", u[1]);
		gm_dump_string(l, "name", u + 2, ev->b);
		break;
	case gm_rec_pool_resize:
		gm_dump_u64(l, "pool", ev->a);
		gm_dump_u64(l, "capacity", ev->b);
		break;
	case gm_rec_pool_destroy:
		gm_dump_u64(l, "pool", ev->a);
		break;
	case gm_rec_pool_frame:
		gm_dump_u64(l, "frame", ev->a);
		gm_dump_u64(l, "pool", ev->b);
		gm_dump_u64(l, "acquires", u[0]);
		gm_dump_u64(l, "served", u[1]);
		gm_dump_u64(l, "releases", u[2]);
		gm_dump_u64(l, "returned", u[3]);
		gm_dump_i64(l, "in_use", (int64_t)u[4]);
		gm_dump_i64(l, "high_water", (int64_t)u[5]);
		break;
	case gm_rec_gc:
		gm_dump_u64(l, "generation", ev->a);
		gm_dump_u64(l, "collected", ev->b);
		gm_dump_u64(l, "duration_ns", u[0]);
		gm_dump_u64(l, "uncollectable", u[1]);
		break;
	case gm_rec_alloc_cost: {
		uint64_t calls = 0, ticks = 0, c;
		for (c = 0; c < ev->nextra; c++) {
			calls += u[2 * c];
			ticks += u[2 * c + 1];
		}
		gm_dump_u64(l, "classes", ev->b);
		gm_dump_u64(l, "timed_calls", calls);
		gm_dump_u64(l, "ticks", ticks);
		break;
	}
	case gm_rec_frame_tags: {
		uint64_t c, allocs = 0;
		for (c = 0; c < ev->nextra; c++)
			allocs += u[2 * c] >> 24;
		gm_dump_u64(l, "frame", ev->a);
		gm_dump_u64(l, "tags", ev->b);
		gm_dump_u64(l, "allocations", allocs);
		break;
	}
	case gm_rec_budget_node:
		gm_dump_u64(l, "node", ev->a);
		gm_dump_u64(l, "parent", u[0] == 0xffffffffull ? 0 : u[0]);
		gm_dump_u64(l, "soft", u[1]);
		gm_dump_u64(l, "hard", u[2]);
		gm_dump_u64(l, "target", u[3]);
		gm_dump_u64(l, "policy", u[4] & 0xff);
		gm_dump_u64(l, "strict", (u[4] >> 8) & 1);
		gm_dump_u64(l, "heap_capacity", u[5]);
		gm_dump_string(l, "name", u + 6, ev->b);
		break;
	case gm_rec_budget_frame:
		gm_dump_u64(l, "frame", ev->a);
		gm_dump_u64(l, "node", ev->b);
		gm_dump_i64(l, "live_bytes", (int64_t)u[0]);
		gm_dump_i64(l, "peak_live_bytes", (int64_t)u[1]);
		break;
	case gm_rec_budget_violation:
		gm_dump_u64(l, "node", ev->a);
		gm_dump_name(l, "event", gm_dump_budget_events, gm_budget_event_count, ev->b);
		gm_dump_i64(l, "live_bytes", (int64_t)u[0]);
		gm_dump_u64(l, "limit", u[1]);
		gm_dump_u64(l, "size", u[2]);
		gm_dump_u64(l, "tag", u[3]);
		gm_dump_u64(l, "asset", u[4]);
		break;
	case gm_rec_budget_evict:
		gm_dump_u64(l, "asset", ev->a);
		gm_dump_u64(l, "node", ev->b);
		gm_dump_name(l, "event", gm_dump_budget_events, gm_budget_event_count, u[0]);
		gm_dump_i64(l, "reclaimed_bytes", (int64_t)u[1]);
		gm_dump_u64(l, "duration_ns", u[2]);
		gm_dump_u64(l, "asset_bytes", u[3]);
		break;
	case gm_rec_host: {
		unsigned i;
		gm_dump_u64(l, "known", ev->a);
		for (i = 0; i < GM_HOST_NVALUES; i++)
			if (ev->a & (1u << i)) {
				if (u[i] == UINT64_MAX)
					gm_dump_string(l, gm_host_keys[i], "max", 3);
				else
					gm_dump_u64(l, gm_host_keys[i], u[i]);
			}
		break;
	}
	case gm_rec_pressure:
		gm_dump_u64(l, "psi", ev->b);
		gm_dump_u64(l, "some_avg10", u[0]);
		gm_dump_u64(l, "full_avg10", u[1]);
		gm_dump_u64(l, "some_total_us", u[2]);
		gm_dump_u64(l, "full_total_us", u[3]);
		if (u[4] != UINT64_MAX)
			gm_dump_u64(l, "cgroup_current", u[4]);
		if (u[5] != UINT64_MAX)
			gm_dump_u64(l, "mem_available", u[5]);
		break;
	case gm_rec_platform:
		gm_dump_string(l, "name", u, ev->b);
		break;
	case gm_rec_stack:
		gm_dump_u64(l, "id", ev->a);
		gm_dump_frames(l, u, ev->b);
		break;
	case gm_rec_site:
		gm_dump_u64(l, "stack", ev->a);
		break;
	case gm_rec_site_frames:
		gm_dump_frames(l, u, ev->b);
		break;
	case gm_rec_module_id: { /* the reader checked that b bytes fit */
		char hex[2 * 64 + 1];
		uint64_t i, n = ev->b < 64 ? ev->b : 64;
		for (i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", ((const unsigned char *)u)[i]);
		hex[2 * n] = '\0';
		gm_dump_ptr(l, "base", ev->a);
		gm_dump_string(l, "build_id", hex, 2 * n);
		break;
	}
	case gm_rec_pycode: { /* the reader checked the lengths */
		uint64_t name = u[0] >> 32;
		gm_dump_u64(l, "id", ev->a);
		gm_dump_u64(l, "first_line", u[0] & 0xffffffffu);
		gm_dump_string(l, "name", (const char *)u + 8, name);
		gm_dump_string(l, "file", (const char *)u + 8 + name, ev->b - 8 - name);
		break;
	}
	default: /* gm_rec_exec has no fields */
		break;
	}
}

static void gm_dump_event(gm_json_t *j, const gm_event_t *ev)
{
	gm_dump_line_t l = {.json = j != NULL, .j = j};

	if (j) {
		gm_json_object_begin(j);
		gm_json_key_u64(j, "ns", ev->ns);
		gm_json_key_u64(j, "thread", ev->thread);
		gm_json_key_string(j, "type", gm_reader_type_name(ev->type));
		gm_dump_fields(&l, ev);
		gm_json_object_end(j);
		return;
	}
	printf("%llu %u %s", (unsigned long long)ev->ns, ev->thread, gm_reader_type_name(ev->type));
	gm_dump_fields(&l, ev);
	putchar('\n');
}

/* gmtrace dump (see cmd.h). Returns GM_CMD_OK, GM_CMD_FAIL when the
 * capture cannot be read or is damaged (events before the damage are still
 * printed), or GM_CMD_USAGE. */
int gm_cmd_dump(int argc, char **argv)
{
	const char *path = NULL, *value, *error;
	uint64_t limit = UINT64_MAX, n = 0;
	int json = 0, rc = GM_CMD_OK, i, m;
	gm_reader_t *r;
	char err[512];
	gm_event_t ev;
	gm_json_t j;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_dump_usage(stdout);
			return GM_CMD_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--limit", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &limit) < 0) {
				fprintf(stderr, "gmtrace dump: --limit takes a number\n");
				goto usage;
			}
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "gmtrace dump: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (path) {
			fprintf(stderr, "gmtrace dump: one capture at a time ('%s' and '%s')\n",
			        path, argv[i]);
			goto usage;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "gmtrace dump: no capture given\n");
		goto usage;
	}

	r = gm_reader_open(path, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "gmtrace: %s\n", err);
		return GM_CMD_FAIL;
	}
	gm_json_init(&j, stdout, 0);
	while (n < limit && gm_reader_next(r, &ev)) {
		gm_dump_event(json ? &j : NULL, &ev);
		n++;
		if (ferror(stdout))
			break;
	}
	if ((json && gm_json_finish(&j) < 0) || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace: dump: cannot write the events\n");
		rc = GM_CMD_FAIL;
	}
	error = gm_reader_error(r);
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		rc = GM_CMD_FAIL;
	}
	gm_reader_free(r);
	return rc;
usage:
	gm_dump_usage(stderr);
	return GM_CMD_USAGE;
}

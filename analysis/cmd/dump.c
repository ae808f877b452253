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

static void gm_dump_ptr(gm_dump_line_t *l, const char *name, uint64_t v)
{
	gm_dump_put(l, name, gm_dump_field_ptr, v, NULL, 0);
}

/* Strings in records may be padded with NULs; they are not shown. */
static void gm_dump_string(gm_dump_line_t *l, const char *name, const void *p, uint64_t n)
{
	const char *s = p;

	while (n > 0 && s[n - 1] == '\0')
		n--;
	gm_dump_put(l, name, gm_dump_field_string, 0, s, (size_t)n);
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
		gm_dump_u64(l, "status", ev->a);
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

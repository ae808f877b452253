/* summary.c - gmtrace summary: what a capture allocated, freed, peaked at and left live
 *
 * One pass over the events. Allocations and frees are matched through the
 * live-block map (model/live.h); the peak is the largest sum of live bytes
 * after any allocation; "at exit" means at the end of the capture. The
 * counting rules are written down in analysis/README.md, "summary --json".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/live.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"
#include "analysis/report/top.h"

#define GM_SUMMARY_TOP_DEFAULT 10
#define GM_SUMMARY_TOP_MAX 100000
/* Size classes <= 16 B, <= 32 B, ... up to 2^(4 + n - 1): sizes are 40 bits. */
#define GM_SUMMARY_BUCKETS 37

typedef struct gm_summary_thread {
	uint64_t allocations, frees, allocated_bytes, freed_bytes;
	uint64_t os_tid;
	char *name;
	int seen, has_tid;
} gm_summary_thread_t;

typedef struct gm_summary {
	const char *path;
	const gm_reader_info_t *info;
	uint64_t nevents;
	uint64_t allocations, frees, allocated_bytes, freed_bytes;
	uint64_t unmatched_frees, failed_allocations, frames;
	/* stall records: a thread waited for room in the log (the drainer
	 * behind): how often, the waits' time in all and the longest */
	uint64_t stalls, stall_ns, stall_max_ns;
	uint64_t stacks; /* stack records: recorded with GMTRACE_STACKS */
	uint64_t peak_bytes, peak_ns, peak_frame;
	int has_peak;
	uint64_t first_ns, last_ns;
	uint64_t bucket_count[GM_SUMMARY_BUCKETS], bucket_bytes[GM_SUMMARY_BUCKETS];
	int nbuckets; /* buckets up to the largest non-empty one */
	gm_summary_thread_t *threads;
	uint32_t nthreads;
	gm_live_t *live;
	gm_top_t *largest, *live_largest;
	int has_process;
	uint64_t pid, ppid;
	char *exe, *argv;
	size_t exe_len, argv_len;
	/* how the capture ends: its exit record (status), an exec, or neither
	 * (killed, crashed, or the capture could not be written) */
	enum {
		gm_summary_no_end,
		gm_summary_exit,
		gm_summary_exec
	} end;
	uint64_t exit_status;
	int exit_known; /* the status is the process's (its exit record says so) */
	/* frames-level stretches (GMTRACE_LEVEL=frames, a level switch): no
	 * allocation records there, so the counts above leave them out */
	int frames_level;
	uint64_t frames_level_from; /* frames ended before the first one began */
} gm_summary_t;

static void gm_summary_usage(FILE *f)
{
	fprintf(f,
	        "usage: gmtrace summary [--json] [--top N] CAPTURE\n"
	        "\n"
	        "Totals of a capture: allocations and frees, the peak of live bytes,\n"
	        "blocks still live at the end (by size class, largest first), the\n"
	        "largest allocations, and the same counts per thread.\n"
	        "\n"
	        "  --json     one JSON object (keys: analysis/README.md, \"summary --json\")\n"
	        "  --top N    list N largest allocations and live blocks (default %d)\n"
	        "  --help     this text\n"
	        "\n"
	        "Exit status: 0 ok, 1 capture unreadable or damaged (the report covers\n"
	        "what could be read), 2 bad usage.\n",
	        GM_SUMMARY_TOP_DEFAULT);
}

/* Copies n bytes without trailing NULs into a new string. */
static char *gm_summary_strdup(const void *p, size_t n, size_t *len)
{
	const char *s = p;
	char *d;

	while (n > 0 && s[n - 1] == '\0')
		n--;
	d = malloc(n + 1);
	if (!d)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	if (len)
		*len = n;
	return d;
}

static int gm_summary_bucket(uint64_t size)
{
	int k = 0;

	while (k < GM_SUMMARY_BUCKETS - 1 && size > (16ull << k))
		k++;
	return k;
}

static int gm_summary_alloc(gm_summary_t *s, const gm_event_t *ev, uint64_t ptr, uint64_t size,
                            unsigned kind)
{
	gm_summary_thread_t *t = &s->threads[ev->thread];
	gm_live_entry_t e = {
	        .ptr = ptr,
	        .size = size,
	        .ns = ev->ns,
	        .seq = s->nevents,
	        .thread = ev->thread,
	        .kind = kind,
	};

	s->allocations++;
	s->allocated_bytes += size;
	t->allocations++;
	t->allocated_bytes += size;
	gm_top_offer(s->largest, &e);
	if (ptr == 0)
		return 0;
	/* a block still live at this address lost its free: it is gone now */
	gm_live_remove(s->live, ptr, NULL);
	if (gm_live_add(s->live, &e) < 0)
		return -ENOMEM;
	if (gm_live_bytes(s->live) > s->peak_bytes || !s->has_peak) {
		s->has_peak = 1;
		s->peak_bytes = gm_live_bytes(s->live);
		s->peak_ns = ev->ns;
		s->peak_frame = s->frames;
	}
	return 0;
}

/* A free of ptr by the event's thread; realloc counts it even when unknown. */
static void gm_summary_release(gm_summary_t *s, const gm_event_t *ev, uint64_t ptr,
                               int from_realloc)
{
	gm_summary_thread_t *t = &s->threads[ev->thread];
	gm_live_entry_t e;

	if (gm_live_remove(s->live, ptr, &e) < 0) {
		if (!from_realloc) {
			s->unmatched_frees++;
			return;
		}
		e.size = 0;
	}
	s->frees++;
	s->freed_bytes += e.size;
	t->frees++;
	t->freed_bytes += e.size;
}

static int gm_summary_event(gm_summary_t *s, const gm_event_t *ev)
{
	gm_summary_thread_t *t = &s->threads[ev->thread];
	const char *str;
	size_t n;

	if (s->nevents == 0 || ev->ns < s->first_ns)
		s->first_ns = ev->ns;
	if (s->nevents == 0 || ev->ns > s->last_ns)
		s->last_ns = ev->ns;
	s->nevents++;
	t->seen = 1;
	switch (ev->type) {
	case gm_rec_alloc:
		return gm_summary_alloc(s, ev, ev->a, ev->b, ev->x);
	case gm_rec_free:
		if (ev->a != 0) /* free(NULL) does nothing */
			gm_summary_release(s, ev, ev->a, 0);
		return 0;
	case gm_rec_realloc:
		if (ev->extra[0] != 0)
			gm_summary_release(s, ev, ev->extra[0], 1);
		if (ev->a != 0) /* a == 0: realloc(p, 0) only freed */
			return gm_summary_alloc(s, ev, ev->a, ev->b, ev->x);
		return 0;
	case gm_rec_fail:
		s->failed_allocations++;
		return 0;
	case gm_rec_stall:
		s->stalls++;
		s->stall_ns += ev->b;
		if (ev->b > s->stall_max_ns)
			s->stall_max_ns = ev->b;
		return 0;
	case gm_rec_frame:
		if (ev->x == 0)
			s->frames++;
		return 0;
	case gm_rec_stack:
		s->stacks++;
		return 0;
	case gm_rec_exit:
		s->end = gm_summary_exit;
		s->exit_known = ev->x != GM_EXIT_STATUS_UNKNOWN;
		s->exit_status = ev->a;
		return 0;
	case gm_rec_exec:
		s->end = gm_summary_exec;
		return 0;
	case gm_rec_level:
		if (ev->a == gm_level_frames && !s->frames_level) {
			s->frames_level = 1;
			s->frames_level_from = s->frames;
		}
		return 0;
	case gm_rec_thread_start:
		t->os_tid = ev->a;
		t->has_tid = 1;
		free(t->name);
		t->name = gm_summary_strdup(ev->extra, ev->b, NULL);
		return t->name ? 0 : -ENOMEM;
	case gm_rec_process:
		if (s->has_process)
			return 0; /* the first one describes the capture */
		s->has_process = 1;
		s->pid = ev->a;
		s->ppid = ev->b;
		str = gm_event_process_exe(ev, &n);
		s->exe = gm_summary_strdup(str, n, &s->exe_len);
		s->argv = gm_summary_strdup(str + n, ev->extra[5], &s->argv_len);
		return s->exe && s->argv ? 0 : -ENOMEM;
	default:
		return 0;
	}
}

/* Size classes and largest blocks of what is still live at the end. */
static void gm_summary_finish(gm_summary_t *s)
{
	const gm_live_entry_t *e;
	size_t cursor = 0;

	while ((e = gm_live_next(s->live, &cursor))) {
		int k = gm_summary_bucket(e->size);

		s->bucket_count[k]++;
		s->bucket_bytes[k] += e->size;
		if (k + 1 > s->nbuckets)
			s->nbuckets = k + 1;
		gm_top_offer(s->live_largest, e);
	}
}

/* ---- text ------------------------------------------------------------- */

static void gm_summary_row(const char *label, uint64_t count, const uint64_t *bytes)
{
	char h[GM_TEXT_MAX];

	printf("  %-20s %12llu", label, (unsigned long long)count);
	if (bytes)
		printf("  %10s  (%llu bytes)", gm_text_size(h, sizeof(h), *bytes),
		       (unsigned long long)*bytes);
	putchar('\n');
}

static const char *gm_summary_at(char *buf, size_t n, const gm_summary_t *s, uint64_t ns)
{
	char d[GM_TEXT_MAX];

	snprintf(buf, n, "+%s", gm_text_duration(d, sizeof(d), ns - s->first_ns));
	return buf;
}

static void gm_summary_blocks_text(const gm_summary_t *s, const char *title, gm_top_t *top)
{
	const gm_live_entry_t *e;
	size_t n, i;

	e = gm_top_sorted(top, &n);
	if (n == 0)
		return;
	printf("\n%s\n  %-24s %6s  %-12s %-14s %s\n", title, "size", "thread", "at", "kind",
	       "address");
	for (i = 0; i < n; i++) {
		char h[GM_TEXT_MAX], cell[64], at[GM_TEXT_MAX + 1];

		snprintf(cell, sizeof(cell), "%s (%llu)", gm_text_size(h, sizeof(h), e[i].size),
		         (unsigned long long)e[i].size);
		printf("  %-24s %6u  %-12s %-14s 0x%llx\n", cell, e[i].thread,
		       gm_summary_at(at, sizeof(at), s, e[i].ns), gm_reader_kind_name(e[i].kind),
		       (unsigned long long)e[i].ptr);
	}
}

static void gm_summary_text(const gm_summary_t *s, const char *error)
{
	const gm_reader_info_t *info = s->info;
	uint64_t live_bytes = gm_live_bytes(s->live);
	char h[GM_TEXT_MAX], d[GM_TEXT_MAX], at[GM_TEXT_MAX + 1];
	uint32_t i;

	printf("capture   %s (format %u.%u, %llu blocks, %s)\n", s->path, info->version_major,
	       info->version_minor, (unsigned long long)info->nblocks,
	       gm_text_size(h, sizeof(h), info->file_bytes));
	if (s->has_process) {
		size_t k;

		printf("process   %llu  ", (unsigned long long)s->pid);
		gm_text_quote(stdout, s->exe, s->exe_len);
		for (k = 0; k < s->argv_len; k += strlen(s->argv + k) + 1) {
			putchar(' ');
			gm_text_quote(stdout, s->argv + k, strlen(s->argv + k));
		}
		putchar('\n');
	} else {
		printf("process   %u (no process record)\n", info->pid);
	}
	printf("duration  %s, %llu frames, %llu events\n",
	       gm_text_duration(d, sizeof(d), s->last_ns - s->first_ns),
	       (unsigned long long)s->frames, (unsigned long long)s->nevents);
	if (error)
		printf("damaged   %s\n", error);
	if (s->end == gm_summary_no_end && info->stopped_errno) {
		printf("ended     recording stopped here: the capture could not be written (%s); "
		       "the game went on unrecorded\n",
		       strerror((int)info->stopped_errno));
	} else if (s->end == gm_summary_no_end) {
		/* recover only helps while the log is still there */
		if (info->shm_name[0] && gm_reader_log_present(info->shm_name))
			printf("ended     without an exit record: the game was killed or crashed, or "
			       "its capture could not be written; its log is still in /dev/shm: "
			       "`gmtrace recover` adds what it did after the last block written\n");
		else
			printf("ended     without an exit record: the game was killed or crashed, or "
			       "its capture could not be written; its log is no longer in /dev/shm "
			       "(drained whole by `gmtrace run` or `gmtrace recover`, or gone with a "
			       "restart)\n");
	}
	if (s->frames_level)
		printf("level     frames from frame %llu: per-frame totals only, no allocation "
		       "records; the counts below leave that part out (`gmtrace frames` has it)\n",
		       (unsigned long long)s->frames_level_from + 1);

	printf("\n  %-20s %12s  %10s\n", "", "count", "bytes");
	gm_summary_row("allocations", s->allocations, &s->allocated_bytes);
	gm_summary_row("frees", s->frees, &s->freed_bytes);
	gm_summary_row("unmatched frees", s->unmatched_frees, NULL);
	gm_summary_row("failed allocations", s->failed_allocations, NULL);
	gm_summary_row("live at exit", gm_live_count(s->live), &live_bytes);
	gm_summary_row("records lost", info->records_lost, NULL);
	if (s->stalls) {
		char all[32], most[32];
		printf("  %-20s %12llu  (%s in all, the longest %s: threads waited for room in the "
		       "log, its drainer behind)\n",
		       "log stalls", (unsigned long long)s->stalls,
		       gm_text_duration(all, sizeof(all), s->stall_ns),
		       gm_text_duration(most, sizeof(most), s->stall_max_ns));
	}
	if (info->reordered)
		gm_summary_row("reordered records", info->reordered, NULL);
	if (info->burst_records)
		printf("  %-20s %12llu  (%llu of them known only to more than 1 us)\n",
		       "burst allocations", (unsigned long long)info->burst_records,
		       (unsigned long long)info->burst_over_us);
	/* the frame numbered as every other report numbers it: from 1, frame k
	 * ending at the k-th mark (JSON keeps frames ended before the peak) */
	if (s->has_peak) {
		printf("  %-20s %12s  %10s  (%llu bytes) at %s", "peak live", "",
		       gm_text_size(h, sizeof(h), s->peak_bytes), (unsigned long long)s->peak_bytes,
		       gm_summary_at(at, sizeof(at), s, s->peak_ns));
		if (s->frames)
			printf(", frame %llu", (unsigned long long)s->peak_frame + 1);
		putchar('\n');
	}

	printf("\nthreads\n  %6s %8s %12s %12s %24s %24s  %s\n", "thread", "os_tid", "allocations",
	       "frees", "allocated", "freed", "name");
	for (i = 0; i < s->nthreads; i++) {
		const gm_summary_thread_t *t = &s->threads[i];
		char tid[24] = "-", a[64], f[64];

		if (!t->seen)
			continue;
		if (t->has_tid)
			snprintf(tid, sizeof(tid), "%llu", (unsigned long long)t->os_tid);
		snprintf(a, sizeof(a), "%s (%llu)", gm_text_size(h, sizeof(h), t->allocated_bytes),
		         (unsigned long long)t->allocated_bytes);
		snprintf(f, sizeof(f), "%s (%llu)", gm_text_size(h, sizeof(h), t->freed_bytes),
		         (unsigned long long)t->freed_bytes);
		printf("  %6u %8s %12llu %12llu %24s %24s  ", i, tid,
		       (unsigned long long)t->allocations, (unsigned long long)t->frees, a, f);
		if (t->name)
			gm_text_quote(stdout, t->name, strlen(t->name));
		putchar('\n');
	}

	if (s->nbuckets > 0) {
		int k;

		printf("\nlive at exit by size\n  %-12s %12s  %s\n", "size class", "blocks",
		       "bytes");
		for (k = 0; k < s->nbuckets; k++) {
			char cls[GM_TEXT_MAX + 4];

			if (s->bucket_count[k] == 0)
				continue;
			snprintf(cls, sizeof(cls), "<= %s", gm_text_size(h, sizeof(h), 16ull << k));
			printf("  %-12s %12llu  %s (%llu)\n", cls,
			       (unsigned long long)s->bucket_count[k],
			       gm_text_size(d, sizeof(d), s->bucket_bytes[k]),
			       (unsigned long long)s->bucket_bytes[k]);
		}
	}
	gm_summary_blocks_text(s, "largest blocks live at exit", s->live_largest);
	gm_summary_blocks_text(s, "largest allocations", s->largest);
	if (s->stacks)
		printf("\ncall stacks: %llu recorded; where the live blocks were allocated: "
		       "gmtrace stacks --by live %s\n",
		       (unsigned long long)s->stacks, s->path);
}

/* ---- JSON ------------------------------------------------------------- */

static void gm_summary_blocks_json(gm_json_t *j, const char *key, gm_top_t *top)
{
	const gm_live_entry_t *e;
	size_t n, i;

	e = gm_top_sorted(top, &n);
	gm_json_key(j, key);
	gm_json_array_begin(j);
	for (i = 0; i < n; i++) {
		char ptr[24];

		snprintf(ptr, sizeof(ptr), "0x%llx", (unsigned long long)e[i].ptr);
		gm_json_object_begin(j);
		gm_json_key_u64(j, "size", e[i].size);
		gm_json_key_string(j, "ptr", ptr);
		gm_json_key_u64(j, "thread", e[i].thread);
		gm_json_key_u64(j, "ns", e[i].ns);
		gm_json_key_string(j, "kind", gm_reader_kind_name(e[i].kind));
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
}

static int gm_summary_json(const gm_summary_t *s, const char *error)
{
	const gm_reader_info_t *info = s->info;
	char version[16];
	gm_json_t j;
	uint32_t i;
	int k;

	gm_json_init(&j, stdout, 1);
	gm_json_object_begin(&j);
	snprintf(version, sizeof(version), "%u.%u", info->version_major, info->version_minor);
	gm_json_key_string(&j, "format_version", version);
	gm_json_key_string(&j, "file", s->path);
	gm_json_key_string(&j, "error", error);

	gm_json_key(&j, "process");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "pid", s->has_process ? s->pid : info->pid);
	if (s->has_process) {
		size_t n;

		gm_json_key_u64(&j, "ppid", s->ppid);
		gm_json_key(&j, "exe");
		gm_json_string_n(&j, s->exe, s->exe_len);
		gm_json_key(&j, "argv");
		gm_json_array_begin(&j);
		for (n = 0; n < s->argv_len; n += strlen(s->argv + n) + 1)
			gm_json_string(&j, s->argv + n);
		gm_json_array_end(&j);
	} else {
		gm_json_key_null(&j, "ppid");
		gm_json_key_null(&j, "exe");
		gm_json_key(&j, "argv");
		gm_json_array_begin(&j);
		gm_json_array_end(&j);
	}
	gm_json_object_end(&j);

	gm_json_key_u64(&j, "events", s->nevents);
	gm_json_key_string(&j, "ended",
	                   s->end == gm_summary_exit ? "exit" :
	                   s->end == gm_summary_exec ? "exec" :
	                                               NULL);
	if (s->end == gm_summary_exit && s->exit_known)
		gm_json_key_u64(&j, "exit_status", s->exit_status);
	else
		gm_json_key_null(&j, "exit_status");
	if (info->stopped_errno)
		gm_json_key_u64(&j, "recording_stopped_errno", info->stopped_errno);
	else
		gm_json_key_null(&j, "recording_stopped_errno");
	if (s->frames_level)
		gm_json_key_u64(&j, "frames_level_from_frame", s->frames_level_from + 1);
	else
		gm_json_key_null(&j, "frames_level_from_frame");
	gm_json_key_u64(&j, "start_ns", s->first_ns);
	gm_json_key_u64(&j, "duration_ns", s->last_ns - s->first_ns);
	gm_json_key_u64(&j, "frames", s->frames);
	gm_json_key_u64(&j, "allocations", s->allocations);
	gm_json_key_u64(&j, "frees", s->frees);
	gm_json_key_u64(&j, "allocated_bytes", s->allocated_bytes);
	gm_json_key_u64(&j, "freed_bytes", s->freed_bytes);
	gm_json_key_u64(&j, "unmatched_frees", s->unmatched_frees);
	gm_json_key_u64(&j, "failed_allocations", s->failed_allocations);
	gm_json_key_u64(&j, "peak_live_bytes", s->peak_bytes);
	if (s->has_peak) {
		gm_json_key_u64(&j, "peak_live_ns", s->peak_ns);
		gm_json_key_u64(&j, "peak_live_frame", s->peak_frame);
	} else {
		gm_json_key_null(&j, "peak_live_ns");
		gm_json_key_null(&j, "peak_live_frame");
	}
	gm_json_key_u64(&j, "live_at_exit_count", gm_live_count(s->live));
	gm_json_key_u64(&j, "live_at_exit_bytes", gm_live_bytes(s->live));
	gm_json_key(&j, "live_at_exit_by_size");
	gm_json_array_begin(&j);
	for (k = 0; k < s->nbuckets; k++) {
		gm_json_object_begin(&j);
		gm_json_key_u64(&j, "max_bytes", 16ull << k);
		gm_json_key_u64(&j, "count", s->bucket_count[k]);
		gm_json_key_u64(&j, "bytes", s->bucket_bytes[k]);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	gm_summary_blocks_json(&j, "live_at_exit_largest", s->live_largest);
	gm_summary_blocks_json(&j, "largest_allocations", s->largest);
	gm_json_key_u64(&j, "records_lost", info->records_lost);
	gm_json_key_u64(&j, "unknown_records", info->unknown_records);
	gm_json_key_u64(&j, "log_stalls", s->stalls);
	gm_json_key_u64(&j, "log_stall_ns", s->stall_ns);
	gm_json_key_u64(&j, "log_stall_max_ns", s->stall_max_ns);
	gm_json_key_u64(&j, "reordered_records", info->reordered);
	gm_json_key_u64(&j, "burst_records", info->burst_records);
	gm_json_key_u64(&j, "burst_records_over_1us", info->burst_over_us);
	gm_json_key_u64(&j, "stacks", s->stacks);

	gm_json_key(&j, "threads");
	gm_json_array_begin(&j);
	for (i = 0; i < s->nthreads; i++) {
		const gm_summary_thread_t *t = &s->threads[i];

		if (!t->seen)
			continue;
		gm_json_object_begin(&j);
		gm_json_key_u64(&j, "thread", i);
		if (t->has_tid)
			gm_json_key_u64(&j, "os_tid", t->os_tid);
		else
			gm_json_key_null(&j, "os_tid");
		gm_json_key_string(&j, "name", t->name);
		gm_json_key_u64(&j, "allocations", t->allocations);
		gm_json_key_u64(&j, "frees", t->frees);
		gm_json_key_u64(&j, "allocated_bytes", t->allocated_bytes);
		gm_json_key_u64(&j, "freed_bytes", t->freed_bytes);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	gm_json_object_end(&j);
	return gm_json_finish(&j);
}

/* ---- command ---------------------------------------------------------- */

static void gm_summary_free(gm_summary_t *s)
{
	uint32_t i;

	for (i = 0; s->threads && i < s->nthreads; i++)
		free(s->threads[i].name);
	free(s->threads);
	gm_live_free(s->live);
	gm_top_free(s->largest);
	gm_top_free(s->live_largest);
	free(s->exe);
	free(s->argv);
}

/* gmtrace summary (see cmd.h). Returns GM_CMD_OK, GM_CMD_FAIL when the
 * capture cannot be read or is damaged (the report is still printed), or
 * GM_CMD_USAGE. */
int gm_cmd_summary(int argc, char **argv)
{
	gm_summary_t s;
	gm_reader_t *r = NULL;
	const char *path = NULL, *value, *error;
	uint64_t top = GM_SUMMARY_TOP_DEFAULT;
	int json = 0, rc = GM_CMD_FAIL, i, m;
	char err[512];
	gm_event_t ev;

	memset(&s, 0, sizeof(s));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_summary_usage(stdout);
			return GM_CMD_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--top", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &top) < 0 || top > GM_SUMMARY_TOP_MAX) {
				fprintf(stderr, "gmtrace summary: --top takes a number 0..%d\n",
				        GM_SUMMARY_TOP_MAX);
				goto usage;
			}
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "gmtrace summary: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (path) {
			fprintf(stderr, "gmtrace summary: one capture at a time ('%s' and '%s')\n",
			        path, argv[i]);
			goto usage;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "gmtrace summary: no capture given\n");
		goto usage;
	}

	r = gm_reader_open(path, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "gmtrace: %s\n", err);
		return GM_CMD_FAIL;
	}
	s.path = path;
	s.info = gm_reader_info(r);
	s.nthreads = s.info->nthreads;
	s.threads = calloc(s.nthreads ? s.nthreads : 1, sizeof(*s.threads));
	s.live = gm_live_new(0);
	s.largest = gm_top_new((size_t)top);
	s.live_largest = gm_top_new((size_t)top);
	if (!s.threads || !s.live || !s.largest || !s.live_largest)
		goto nomem;
	while (gm_reader_next(r, &ev))
		if (gm_summary_event(&s, &ev) < 0)
			goto nomem;
	gm_summary_finish(&s);

	error = gm_reader_error(r);
	if ((json ? gm_summary_json(&s, error) : (gm_summary_text(&s, error), 0)) < 0 ||
	    fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace: summary: cannot write the report\n");
		goto out;
	}
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		goto out;
	}
	rc = GM_CMD_OK;
	goto out;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", path);
out:
	gm_summary_free(&s);
	gm_reader_free(r);
	return rc;
usage:
	gm_summary_usage(stderr);
	return GM_CMD_USAGE;
}

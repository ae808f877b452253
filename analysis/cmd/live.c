/* live.c - gmtrace live: a running game's frames, a line every interval
 *
 * Follows a capture while its game runs: every interval it reads the
 * capture again (the frames model over everything drained so far; a block
 * still being written at the end is damage, and what came before it
 * counts), and prints one line for the frames that ended since the last
 * line (but the newest 100 ms of them: other threads' records of a frame can
 * be drained later; every thread's are at least every 200 ms): how many, their rate, frame time p50 and max, allocations and bytes
 * per frame, live bytes at the last one's end, the peak, spikes. It stops
 * when the capture ends (the game's exit record), when the game is gone
 * without one (SIGKILL), or after --once. Reading
 * again costs the capture's size each time: at the events level a long
 * session grows fast, and the frames level (GMTRACE_LEVEL=frames) suits
 * watching a game for hours.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/frames.h"
#include "analysis/model/grow.h"
#include "analysis/report/text.h"
#include "interpose/support/support.h"

#define GM_LIVE_INTERVAL_MS 1000
#define GM_LIVE_WAIT_MS 10000 /* for a capture not there yet */
/* Frames that ended this close to the newest record are left for the next
 * line: other threads' records of them may not be drained yet. */
#define GM_LIVE_SETTLE_NS 100000000ull

static void gm_live_usage(FILE *f)
{
	fprintf(f,
	        "usage: gmtrace live [--interval MS] [--once] CAPTURE\n"
	        "\n"
	        "Follow a running game's capture: every interval (default %d ms) one line\n"
	        "for the frames that ended since the last line: their count and rate,\n"
	        "frame time p50 and max, allocations and bytes per frame, live bytes at\n"
	        "the last one's end, the peak, spikes. Stops when the game ends, or is\n"
	        "gone without an end (killed: `gmtrace recover` writes its last records).\n"
	        "The capture is read again each time: for hours-long sessions record the\n"
	        "frames level (GMTRACE_LEVEL=frames).\n"
	        "\n"
	        "  --interval MS  time between lines (10..60000)\n"
	        "  --once         one line for every frame so far, then stop\n"
	        "  --help         this text\n"
	        "\n"
	        "Exit status: 0 the game ended (or --once), 1 the capture cannot be read\n"
	        "or the game is gone without an end, 2 bad usage.\n",
	        GM_LIVE_INTERVAL_MS);
}

/* A frame's totals as the writer counted them at the frame's end (its
 * frame_sum record): every thread's, whether or not their records are
 * drained yet. */
typedef struct gm_live_sum {
	uint64_t frame, allocations, bytes;
} gm_live_sum_t;

/* One reading of the capture: the frames model, the frame_sum totals, and
 * whether it has ended. */
typedef struct gm_live_read {
	gm_frames_t *frames;
	gm_live_sum_t *sums;
	size_t nsums, capsums;
	int ended;
	uint32_t pid;        /* the game's */
	uint64_t created_ns; /* the capture's (another game's capture: another value) */
	int log_left;        /* the game's log is still in /dev/shm */
	/* damage before the file's last block: not a block being written but
	 * a damaged capture, whose rest cannot be read (the reader's line) */
	char damage[512];
} gm_live_read_t;

static void gm_live_read_free(gm_live_read_t *lr)
{
	gm_frames_free(lr->frames);
	free(lr->sums);
	memset(lr, 0, sizeof(*lr));
}

/* The writer's totals of frame (NULL: no frame_sum read). */
static const gm_live_sum_t *gm_live_sum(const gm_live_read_t *lr, uint64_t frame)
{
	size_t lo = 0, hi = lr->nsums;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (lr->sums[mid].frame < frame)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < lr->nsums && lr->sums[lo].frame == frame ? &lr->sums[lo] : NULL;
}

/* Reads path; 0, 1 when it cannot be opened (err set), -ENOMEM. */
static int gm_live_read(const char *path, gm_live_read_t *lr, char *err, size_t errlen)
{
	gm_frames_opts_t fo;
	gm_reader_t *r = gm_reader_open(path, err, errlen);
	const gm_reader_info_t *info;
	gm_event_t ev;
	memset(lr, 0, sizeof(*lr));
	if (!r)
		return 1;
	info = gm_reader_info(r);
	lr->pid = info->pid;
	lr->created_ns = info->created_ns;
	lr->log_left = info->shm_name[0] && gm_reader_log_present(info->shm_name);
	memset(&fo, 0, sizeof(fo));
	fo.to = UINT64_MAX;
	if (!(lr->frames = gm_frames_new(&fo, info->tsc_hz, info->nthreads)))
		goto nomem;
	while (gm_reader_next(r, &ev)) {
		if (gm_frames_add(lr->frames, &ev) < 0)
			goto nomem;
		lr->ended |= ev.type == gm_rec_exit || ev.type == gm_rec_exec;
		/* (frame numbers only grow; the reader checked the 4 units) */
		if (ev.type == gm_rec_frame_sum &&
		    (lr->nsums == 0 || lr->sums[lr->nsums - 1].frame < ev.a)) {
			if (gm_grow((void **)&lr->sums, &lr->capsums, lr->nsums + 1,
			            sizeof(*lr->sums)) != 0)
				goto nomem;
			lr->sums[lr->nsums].frame = ev.a;
			lr->sums[lr->nsums].allocations = ev.extra[0];
			lr->sums[lr->nsums++].bytes = ev.extra[2];
		}
	}
	if (gm_frames_finish(lr->frames) < 0)
		goto nomem;
	if (gm_reader_error(r) && !gm_reader_info(r)->damage_at_end)
		snprintf(lr->damage, sizeof(lr->damage), "%s", gm_reader_error(r));
	gm_reader_free(r);
	return 0;
nomem:
	gm_live_read_free(lr);
	gm_reader_free(r);
	return -ENOMEM;
}

static int gm_live_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The line (starting with label) for rows [from, n) of f; from moves to n.
 * Unless final, frames that ended within GM_LIVE_SETTLE_NS of the newest
 * record wait. 0, -ENOMEM or -EIO. */
static int gm_live_line(const gm_live_read_t *lr, size_t *from, const char *label, int final)
{
	const gm_frames_t *f = lr->frames;
	size_t n = f->nrows, k, i, s;
	uint64_t *ns, span, allocs = 0, bytes = 0, peak = 0, spikes = 0;
	char a[32], b[32], c[32], d[32], e[32];
	if (!final) {
		/* a frame's own records (frame_sum, spike) follow its mark on the
		 * marking thread and can reach the capture a chunk later: the
		 * newest row waits for the next mark, a row without its frame_sum
		 * waits, and so do rows of the newest 100 ms (other threads) */
		if (n > *from)
			n--;
		for (i = *from; i < n; i++)
			if (!(f->rows[i].flags & GM_FRAMES_ROW_SUM) && i + 8 >= n) {
				n = i;
				break;
			}
		while (n > *from && f->rows[n - 1].end_ns + GM_LIVE_SETTLE_NS > f->last_ns)
			n--;
	}
	k = n - *from;
	if (k == 0) {
		printf("%s no frame ended%s\n", label, f->nrows ? " since the last line" : " yet");
		return fflush(stdout) == 0 ? 0 : -EIO;
	}
	if (!(ns = malloc(k * sizeof(*ns))))
		return -ENOMEM;
	for (i = *from; i < n; i++) {
		const gm_frames_row_t *r = &f->rows[i];
		const gm_live_sum_t *sum = gm_live_sum(lr, r->frame);
		ns[i - *from] = gm_frames_row_ns(r);
		allocs += sum ? sum->allocations : r->allocations;
		bytes += sum ? sum->bytes : r->allocated_bytes;
		if (r->peak_live_bytes > peak)
			peak = r->peak_live_bytes;
	}
	for (s = 0; s < f->nspikes; s++)
		spikes += f->spikes[s].frame >= f->rows[*from].frame &&
		          f->spikes[s].frame <= f->rows[n - 1].frame;
	qsort(ns, k, sizeof(*ns), gm_live_u64_cmp);
	span = f->rows[n - 1].end_ns - f->rows[*from].start_ns;
	printf("%s frames %llu-%llu: %zu at %.1f/s, frame p50 %s max %s, %.1f allocations and "
	       "%s a frame, live %s, peak %s, %llu spike%s\n",
	       label, (unsigned long long)f->rows[*from].frame,
	       (unsigned long long)f->rows[n - 1].frame, k,
	       span ? (double)k * 1e9 / (double)span : 0.0,
	       gm_text_duration(a, sizeof(a), ns[(k - 1) / 2]),
	       gm_text_duration(b, sizeof(b), ns[k - 1]), (double)allocs / (double)k,
	       gm_text_size(c, sizeof(c), bytes / k),
	       gm_text_size(d, sizeof(d), f->rows[n - 1].live_bytes),
	       gm_text_size(e, sizeof(e), peak), (unsigned long long)spikes,
	       spikes == 1 ? "" : "s");
	free(ns);
	*from = n;
	return fflush(stdout) == 0 ? 0 : -EIO;
}

/* Index of the first row after frame number last. */
static size_t gm_live_after(const gm_frames_t *f, uint64_t last)
{
	size_t lo = 0, hi = f->nrows;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->rows[mid].frame <= last)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint64_t gm_live_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void gm_live_sleep(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int gm_cmd_live(int argc, char **argv)
{
	const char *path = NULL, *value;
	uint64_t interval = GM_LIVE_INTERVAL_MS, missing_since = 0, last = 0, created = 0;
	int i, m, once = 0, rc, ended, gone, suspect = 0;
	size_t from = 0;
	char err[512];

	for (i = 1; i < argc; i++) { /* (argv[0] is "live") */
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_live_usage(stdout);
			return GM_CMD_OK;
		} else if (strcmp(argv[i], "--once") == 0) {
			once = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--interval", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &interval) < 0 || interval < 10 ||
			    interval > 60000) {
				fprintf(stderr,
				        "gmtrace live: --interval takes milliseconds, 10..60000\n");
				goto usage;
			}
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "gmtrace live: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (path) {
			fprintf(stderr, "gmtrace live: one capture only\n");
			goto usage;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "gmtrace live: no capture given\n");
		goto usage;
	}
	int log_left = 0, slow_said = 0;
	for (;;) {
		gm_live_read_t lr;
		uint64_t read_at = gm_live_now_ms(), took;
		rc = gm_live_read(path, &lr, err, sizeof(err));
		if (rc == -ENOMEM) {
			fprintf(stderr, "gmtrace: %s: out of memory\n", path);
			return GM_CMD_FAIL;
		}
		if (rc == 1) { /* not there yet (the game is starting), or not a capture */
			struct stat st;
			/* a folder, a device or a pipe never becomes one: at once */
			if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
				fprintf(stderr, "gmtrace: %s\n", err);
				return GM_CMD_FAIL;
			}
			if (!missing_since)
				missing_since = gm_live_now_ms();
			if (once || gm_live_now_ms() - missing_since >= GM_LIVE_WAIT_MS) {
				fprintf(stderr, "gmtrace: %s\n", err);
				return GM_CMD_FAIL;
			}
			gm_live_sleep(interval);
			continue;
		}
		missing_since = 0;
		if (created && lr.created_ns != created) { /* the file is another game's now */
			printf("new  capture of process %u\n", lr.pid);
			last = 0;
			suspect = 0;
		}
		created = lr.created_ns;
		/* on from the frame after the last one printed (rows move when a
		 * block comes late or the capture is rewritten) */
		from = gm_live_after(lr.frames, last);
		ended = lr.ended;
		/* a game killed (SIGKILL) never writes its end. Gone without one
		 * twice in a row (the first time, its last drain may have landed
		 * just after the read) is the end */
		gone = !ended && !once && lr.pid && gm_support_pid_gone((int)lr.pid);
		rc = gm_live_line(&lr, &from,
		                  lr.damage[0] ? "now " : /* (not "end": damaged) */
		                          ended   ? "end " :
		                  once            ? "now " :
		                  gone && suspect ? "gone" :
		                                    "live",
		                  once || ended || (gone && suspect) || lr.damage[0]);
		if (from > 0 && lr.frames->rows[from - 1].frame > last)
			last = lr.frames->rows[from - 1].frame;
		if (lr.damage[0] && rc == 0) {
			/* what follows the damage will never be read: stop */
			fprintf(stderr, "gmtrace: %s\n", lr.damage);
			gm_live_read_free(&lr);
			return GM_CMD_FAIL;
		}
		log_left = lr.log_left;
		gm_live_read_free(&lr);
		if (rc == -ENOMEM) {
			fprintf(stderr, "gmtrace: %s: out of memory\n", path);
			return GM_CMD_FAIL;
		}
		if (rc < 0) {
			fprintf(stderr, "gmtrace live: cannot write\n");
			return GM_CMD_FAIL;
		}
		if (gone && suspect) {
			/* killed or crashed: under `gmtrace run` (or after a
			 * recover) its log was drained whole and is gone */
			if (log_left)
				fprintf(stderr,
				        "gmtrace live: the game is gone and its capture has no end: "
				        "`gmtrace recover %s` writes the records still in its log\n",
				        path);
			else
				fprintf(stderr,
				        "gmtrace live: the game is gone without an exit record (killed "
				        "or crashed); its log was drained into the capture\n");
			return GM_CMD_FAIL;
		}
		if (gone) {
			suspect = 1;
			continue;
		}
		if (once || ended)
			return GM_CMD_OK;
		/* a line every interval, the read included; a read longer than
		 * that (the capture grew: each read is of all of it) is said once,
		 * as the lines then come further apart */
		took = gm_live_now_ms() - read_at;
		if (took > interval && !slow_said) {
			slow_said = 1;
			fprintf(stderr,
			        "gmtrace live: reading the capture and writing the line took %llu ms, "
			        "more than the %llu ms interval: lines come further apart as it grows "
			        "(each read is of the whole capture; GMTRACE_LEVEL=frames keeps it "
			        "small)\n",
			        (unsigned long long)took, (unsigned long long)interval);
		}
		if (took < interval)
			gm_live_sleep(interval - took);
	}
usage:
	gm_live_usage(stderr);
	return GM_CMD_USAGE;
}

/* html.c - gmtrace html: one capture as a page to read and pass around
 *
 * A self-contained HTML file (no script, no outside resource): the game and
 * the capture, frame time and allocation statistics, three charts drawn as
 * inline SVG (frame time, live bytes, allocations per frame), the spikes,
 * the call stacks that allocated most, the assets that held most, the
 * budget nodes, and whether the capture fits each platform profile. One pass
 * over the capture feeds the frames, stacks, assets, budgets and platforms
 * models (analysis/model/), the figures `gmtrace frames`, `stacks`, `assets`,
 * `budgets` and `platforms` print (call sites as the rows of `gmtrace
 * stacks`, report/callsite.h). Every name from the
 * capture or a profile is escaped: neither is trusted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/assets.h"
#include "analysis/model/budgets.h"
#include "analysis/model/frames.h"
#include "analysis/model/platforms.h"
#include "analysis/model/stacks.h"
#include "analysis/model/symbols.h"
#include "analysis/report/callsite.h"
#include "analysis/report/text.h"

#define GM_HTML_SPIKES 50   /* spikes listed */
#define GM_HTML_SITES 10    /* call sites listed */
#define GM_HTML_DEPTH 8     /* frames shown per call site */
#define GM_HTML_ASSETS 20   /* assets listed */
#define GM_HTML_POINTS 800  /* chart columns at most */
#define GM_HTML_PROFILES 64 /* platform profiles read at most */

typedef struct gm_html {
	const char *path, *output;
	FILE *out;
	const gm_reader_info_t *info;
	gm_frames_t *frames;
	gm_stacks_t *stacks;
	gm_symbols_t *symbols;
	gm_assets_t *assets;
	gm_budgets_t *budgets;
	gm_platforms_t *platforms;
	gm_platform_t *profiles[GM_HTML_PROFILES];
	int nprofiles;
	char *profile_errs[GM_HTML_PROFILES]; /* profiles that could not be read, why */
	int nprofile_errs;
	char *exe;
	uint64_t stack_records;
	int ended; /* an exit or exec record was read */
} gm_html_t;

static void gm_html_usage(FILE *f)
{
	fprintf(f, "usage: gmtrace html [--output FILE] CAPTURE\n"
	           "\n"
	           "One capture as a self-contained HTML page (no script, nothing fetched):\n"
	           "frame time and allocations per frame (percentiles and charts), live\n"
	           "bytes, spikes, the call stacks that allocated most (recorded with\n"
	           "GMTRACE_STACKS), the assets that held most, the budget nodes, and\n"
	           "whether the capture fits each platform profile.\n"
	           "\n"
	           "  --output FILE  write the page there (default: standard output)\n"
	           "  --help         this text\n"
	           "\n"
	           "Exit status: 0 ok, 1 capture unreadable or damaged (the page covers\n"
	           "what could be read, and says so) or the page cannot be\n"
	           "written, 2 bad usage.\n");
}

/* Text with &, <, >, " and ' escaped (NULL: a dash); bytes that are not
 * UTF-8, and control characters HTML does not allow, as U+FFFD. */
static void gm_html_text(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, len;
	if (!s) {
		fputs("&#8211;", f);
		return;
	}
	n = strlen(str);
	for (; *s; s++, n--) {
		if ((*s < 0x20 && *s != '\t' && *s != '\n') || *s == 0x7f) {
			fputs("&#xfffd;", f);
			continue;
		}
		if (*s >= 0x80) {
			if ((len = gm_text_utf8_markup_len(s, n)) == 0) {
				fputs("&#xfffd;", f);
				continue;
			}
			fwrite(s, 1, len, f);
			s += len - 1;
			n -= len - 1;
			continue;
		}
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char *gm_html_size(char *buf, size_t n, uint64_t v)
{
	return gm_text_size(buf, n, v);
}

static const char *gm_html_ms(char *buf, size_t n, uint64_t ns)
{
	snprintf(buf, n, "%.3f ms", (double)ns / 1e6);
	return buf;
}

/* A table row of a label and a value. */
static void gm_html_kv(FILE *f, const char *k, const char *v)
{
	fputs("<tr><th>", f);
	gm_html_text(f, k);
	fputs("</th><td>", f);
	gm_html_text(f, v);
	fputs("</td></tr>\n", f);
}

/* ---- charts ---------------------------------------------------------------- */

/* A chart of one value per frame: columns of at most GM_HTML_POINTS, each
 * the largest value of its frames, as an SVG polyline; a dashed line at
 * mark when it is not 0 (the frame budget). */
static void gm_html_chart(gm_html_t *h, const char *title, gm_frames_metric_t metric, int live,
                          uint64_t mark, const char *mark_label)
{
	const gm_frames_t *fr = h->frames;
	size_t n = fr->nrows, cols = n < GM_HTML_POINTS ? n : GM_HTML_POINTS, c, i;
	const double w = 800, ht = 160;
	uint64_t top = mark, big = 0, v;
	FILE *f = h->out;
	char a[32];
	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		v = live ? fr->rows[i].live_bytes : gm_frames_value(&fr->rows[i], metric);
		if (v > big)
			big = v;
	}
	if (big > top)
		top = big;
	if (top == 0)
		top = 1;
	fputs("<figure><figcaption>", f);
	gm_html_text(f, title);
	fprintf(f, ", frames %llu to %llu; largest ", (unsigned long long)fr->rows[0].frame,
	        (unsigned long long)fr->rows[n - 1].frame);
	gm_html_text(f, live || metric == gm_frames_metric_allocated_bytes ?
	                        gm_html_size(a, sizeof(a), big) :
	                metric == gm_frames_metric_frame_ns ?
	                        gm_html_ms(a, sizeof(a), big) :
	                        (snprintf(a, sizeof(a), "%llu", (unsigned long long)big), a));
	fprintf(f,
	        "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
	        "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\">\n"
	        "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n"
	        "<polyline fill=\"none\" stroke=\"#1f6fb2\" stroke-width=\"1\" points=\"",
	        w, ht, w, ht, w, ht);
	for (c = 0; c < cols; c++) {
		size_t lo = c * n / cols, hi = (c + 1) * n / cols;
		uint64_t best = 0;
		for (i = lo; i < hi; i++) {
			v = live ? fr->rows[i].live_bytes : gm_frames_value(&fr->rows[i], metric);
			if (v > best)
				best = v;
		}
		fprintf(f, "%s%.1f,%.1f", c ? " " : "",
		        cols > 1 ? (double)c * (w - 1) / (double)(cols - 1) : 0,
		        ht - 1 - (double)best * (ht - 2) / (double)top);
		if (cols == 1) /* (one point draws nothing: a level line) */
			fprintf(f, " %.1f,%.1f", w - 1,
			        ht - 1 - (double)best * (ht - 2) / (double)top);
	}
	fputs("\"/>\n", f);
	if (mark) {
		double y = ht - 1 - (double)mark * (ht - 2) / (double)top;
		fprintf(f,
		        "<line x1=\"0\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#c0392b\" "
		        "stroke-dasharray=\"4 3\"/><text x=\"4\" y=\"%.1f\" font-size=\"11\" "
		        "fill=\"#c0392b\">",
		        w, y, y, y > 14 ? y - 3 : y + 12);
		gm_html_text(f, mark_label);
		fputs("</text>\n", f);
	}
	fputs("</svg></figure>\n", f);
}

/* ---- sections ---------------------------------------------------------------- */

/* Percentiles of m into p: 0, or -ENOMEM (there are rows). */
static int gm_html_percentiles(const gm_frames_t *fr, gm_frames_metric_t m, uint64_t p[4])
{
	/* (-ENOENT: every row follows missing frames, none counted: zeros) */
	return gm_frames_percentiles(fr, m, p) == -ENOMEM ? -ENOMEM : 0;
}

static int gm_html_frames(gm_html_t *h)
{
	const gm_frames_t *fr = h->frames;
	FILE *f = h->out;
	uint64_t p[4], q[4], r[4], peak = 0, peak_frame = 0;
	char a[64], b[64];
	size_t i;
	fputs("<h2>Frames</h2>\n", f);
	if (fr->nrows == 0) {
		fputs("<p>No frame in this capture: the game presented nothing gmtrace hooks and "
		      "marked no frame.</p>\n",
		      f);
		return 0;
	}
	if (gm_html_percentiles(fr, gm_frames_metric_frame_ns, p) < 0 ||
	    gm_html_percentiles(fr, gm_frames_metric_allocations, q) < 0 ||
	    gm_html_percentiles(fr, gm_frames_metric_allocated_bytes, r) < 0)
		return -ENOMEM;
	for (i = 0; i < fr->nrows; i++)
		if (fr->rows[i].peak_live_bytes > peak) {
			peak = fr->rows[i].peak_live_bytes;
			peak_frame = fr->rows[i].frame;
		}
	/* after the last frame mark (a shutdown, a level load the game died
	 * in): in no frame, its peak counts as the capture's */
	if (fr->cur.peak > 0 && (uint64_t)fr->cur.peak > peak) {
		peak = (uint64_t)fr->cur.peak;
		peak_frame = UINT64_MAX;
	}
	fputs("<table class=\"kv\">\n", f);
	snprintf(a, sizeof(a), "%zu", fr->nrows);
	gm_html_kv(f, "frames", a);
	if (fr->ngaps) {
		/* (a damaged capture: their time and counts span the frames
		 * lost before them) */
		snprintf(a, sizeof(a), "%zu, left out of the percentiles", fr->ngaps);
		gm_html_kv(f, "frames after missing frames", a);
	}
	snprintf(a, sizeof(a), "%.3f / %.3f / %.3f / %.3f ms", (double)p[0] / 1e6,
	         (double)p[1] / 1e6, (double)p[2] / 1e6, (double)p[3] / 1e6);
	gm_html_kv(f, "frame time p50 / p95 / p99 / max", a);
	snprintf(a, sizeof(a), "%llu / %llu / %llu / %llu", (unsigned long long)q[0],
	         (unsigned long long)q[1], (unsigned long long)q[2], (unsigned long long)q[3]);
	gm_html_kv(f, "allocations per frame p50 / p95 / p99 / max", a);
	{
		char c[32], d[32], e[32], g[32];
		snprintf(a, sizeof(a), "%s / %s / %s / %s", gm_html_size(c, sizeof(c), r[0]),
		         gm_html_size(d, sizeof(d), r[1]), gm_html_size(e, sizeof(e), r[2]),
		         gm_html_size(g, sizeof(g), r[3]));
		gm_html_kv(f, "bytes allocated per frame p50 / p95 / p99 / max", a);
	}
	if (peak == 0)
		snprintf(a, sizeof(a), "none (nothing live in any frame)");
	else if (peak_frame == UINT64_MAX)
		snprintf(a, sizeof(a), "%s (after the last frame)",
		         gm_html_size(b, sizeof(b), peak));
	else
		snprintf(a, sizeof(a), "%s (frame %llu)", gm_html_size(b, sizeof(b), peak),
		         (unsigned long long)peak_frame);
	gm_html_kv(f, "peak live bytes", a);
	gm_html_kv(f, "live bytes at the last frame's end",
	           gm_html_size(a, sizeof(a), fr->rows[fr->nrows - 1].live_bytes));
	snprintf(a, sizeof(a), "%zu", fr->nspikes);
	gm_html_kv(f, "spikes", a);
	fputs("</table>\n", f);
	gm_html_chart(h, "Frame time", gm_frames_metric_frame_ns, 0, 16666667, "16.7 ms (60 FPS)");
	gm_html_chart(h, "Live bytes at each frame's end", gm_frames_metric_count, 1, 0, NULL);
	gm_html_chart(h, "Allocations per frame", gm_frames_metric_allocations, 0, 0, NULL);
	return 0;
}

static void gm_html_spikes(gm_html_t *h)
{
	const gm_frames_t *fr = h->frames;
	FILE *f = h->out;
	size_t i;
	char a[32], b[32];
	if (fr->nspikes == 0)
		return;
	fprintf(f, "<h2>Spikes</h2>\n<p>%zu frame%s allocated over the spike limits", fr->nspikes,
	        fr->nspikes == 1 ? "" : "s");
	if (fr->nspikes > GM_HTML_SPIKES)
		fprintf(f, " (the first %d listed)", GM_HTML_SPIKES);
	fputs(".</p>\n<table>\n<tr><th>frame</th><th>why</th><th>allocations</th>"
	      "<th>bytes</th><th>allocator time</th><th>who allocated most</th></tr>\n",
	      f);
	for (i = 0; i < fr->nspikes && i < GM_HTML_SPIKES; i++) {
		const gm_frames_spike_t *s = &fr->spikes[i];
		const char *why[3];
		uint32_t k, nwhy = 0;
		if (s->reasons & GM_SPIKE_ALLOCATIONS)
			why[nwhy++] = "allocations";
		if (s->reasons & GM_SPIKE_BYTES)
			why[nwhy++] = "bytes";
		if (s->reasons & GM_SPIKE_ALLOC_TIME)
			why[nwhy++] = "allocator time";
		fprintf(f, "<tr><td>%llu</td><td>", (unsigned long long)s->frame);
		for (k = 0; k < nwhy; k++) /* the reasons, comma-separated */
			fprintf(f, "%s%s", k ? ", " : "", why[k]);
		fprintf(f, "</td><td>%llu</td><td>%s</td><td>%s</td><td>",
		        (unsigned long long)s->allocations,
		        gm_html_size(a, sizeof(a), s->allocated_bytes),
		        gm_html_ms(b, sizeof(b), s->alloc_ns));
		/* the three largest, tags and assets together (kept as tags,
		 * then assets, each largest first) */
		const gm_frames_owner_t *top[3] = {NULL, NULL, NULL};
		for (k = 0; k < s->owner_count; k++) {
			const gm_frames_owner_t *o = &fr->owners[s->owner_first + k];
			int j;
			for (j = 0; j < 3 && top[j] && top[j]->bytes >= o->bytes; j++)
				;
			if (j < 3) {
				memmove(top + j + 1, top + j, (size_t)(2 - j) * sizeof(top[0]));
				top[j] = o;
			}
		}
		for (k = 0; k < 3 && top[k]; k++) {
			const gm_frames_owner_t *o = top[k];
			fputs(k ? ", " : "", f);
			gm_html_text(f, o->name ? o->name :
			                o->kind ? "(unnamed asset)" :
			                          "(no tag)");
			fprintf(f, " %s", gm_html_size(a, sizeof(a), o->bytes));
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static int gm_html_row_cmp(const void *x, const void *y)
{
	const gm_stack_site_t *a = &(*(gm_callsite_row_t *const *)x)->s;
	const gm_stack_site_t *b = &(*(gm_callsite_row_t *const *)y)->s;
	if (a->allocated_bytes != b->allocated_bytes)
		return a->allocated_bytes > b->allocated_bytes ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int gm_html_stacks(gm_html_t *h)
{
	FILE *f = h->out;
	size_t n, i, shown;
	gm_callsite_row_t **rows;
	char a[32], b[32];
	fputs("<h2>Call sites</h2>\n", f);
	if (h->stack_records == 0) {
		fputs("<p>No call stacks in this capture: record with <code>GMTRACE_STACKS=16</code> "
		      "(or <code>gmtrace run --stacks 16</code>) to see where memory is "
		      "allocated.</p>\n",
		      f);
		return 0;
	}
	/* the rows of gmtrace stacks: the stacks that name the same places are one */
	if (!(rows = gm_callsite_rows(h->stacks, h->symbols, 0, NULL, &n)))
		return -ENOMEM;
	qsort(rows, n, sizeof(*rows), gm_html_row_cmp);
	shown = n < GM_HTML_SITES ? n : GM_HTML_SITES;
	fprintf(f,
	        "<p>The %zu call sites that allocated most bytes, of %zu (<code>gmtrace stacks</code> "
	        "lists them all).</p>\n",
	        shown, n);
	for (i = 0; i < shown; i++) {
		const gm_stack_site_t *s = &rows[i]->s;
		uint32_t k;
		fprintf(f,
		        "<details%s><summary>#%zu %s in %llu allocation%s, %s live at the end</summary>\n"
		        "<ol class=\"stack\">\n",
		        i < 3 ? " open" : "", i + 1, gm_html_size(a, sizeof(a), s->allocated_bytes),
		        (unsigned long long)s->allocations, s->allocations == 1 ? "" : "s",
		        gm_html_size(b, sizeof(b), s->live_bytes));
		if (s->nframes == 0)
			fputs("<li>(no frames: the stack was not recorded)</li>\n", f);
		for (k = 0; k < s->nframes && k < GM_HTML_DEPTH; k++) {
			gm_symbol_t y;
			char buf[32];
			const char *name;
			gm_symbols_frame(h->symbols, s->frames, k, s->defined_at, &y);
			name = gm_callsite_name(&y, s->frames[k], buf, sizeof(buf));
			fputs("<li>", f);
			/* as gmtrace stacks writes a frame */
			if (name)
				gm_html_text(f, name);
			else
				fprintf(f, "0x%llx", (unsigned long long)s->frames[k]);
			if (y.file) {
				fputs(" <span class=\"where\">(", f);
				gm_html_text(f, gm_callsite_base(y.file));
				fprintf(f, ":%d)</span>", y.line);
			} else if (y.python && y.line) {
				fprintf(f, " <span class=\"where\">(line %d)</span>", y.line);
			}
			if (y.inlined) { /* the line that allocates, in the code inlined there */
				fputs(" in inlined ", f);
				gm_html_text(f, y.inlined);
				if (y.inlined_file) {
					fputs(" <span class=\"where\">(", f);
					gm_html_text(f, gm_callsite_base(y.inlined_file));
					fprintf(f, ":%d)</span>", y.inlined_line);
				}
			}
			if (y.module) {
				fputs(" <span class=\"mod\">", f);
				gm_html_text(f, gm_callsite_base(y.module));
				fprintf(f, "+0x%llx</span>", (unsigned long long)y.offset);
			}
			fputs("</li>\n", f);
		}
		fputs("</ol></details>\n", f);
	}
	gm_callsite_rows_free(rows, n);
	return 0;
}

/* The table's order: heap peak and declared extra (GPU) peak together. */
static int gm_html_asset_cmp(const void *x, const void *y)
{
	const gm_assets_asset_t *a = *(const gm_assets_asset_t *const *)x;
	const gm_assets_asset_t *b = *(const gm_assets_asset_t *const *)y;
	uint64_t sa = a->peak_bytes + a->extra_peak, sb = b->peak_bytes + b->extra_peak;
	if (sa != sb)
		return sa > sb ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

static int gm_html_assets(gm_html_t *h)
{
	FILE *f = h->out;
	size_t n, ntypes, nchecks, i;
	const gm_assets_asset_t *assets = gm_assets_assets(h->assets, &n);
	const gm_assets_type_t *types = gm_assets_types(h->assets, &ntypes);
	const gm_assets_asset_t **order;
	char a[32], b[32];
	if (n == 0)
		return 0;
	gm_assets_checks(h->assets, &nchecks);
	if (!(order = malloc(n * sizeof(*order))))
		return -ENOMEM;
	for (i = 0; i < n; i++)
		order[i] = &assets[i];
	qsort(order, n, sizeof(*order), gm_html_asset_cmp);
	fprintf(f,
	        "<h2>Assets</h2>\n<p>%zu asset%s; %zu check%s fired (<code>gmtrace assets</code> "
	        "says which).%s Largest first: heap peak and extra (GPU) bytes together.</p>\n"
	        "<table>\n<tr><th>asset</th><th>type</th><th>state at the "
	        "end</th><th>peak</th><th>extra (GPU) peak</th><th>allocated</th><th>live at the "
	        "end</th></tr>\n",
	        n, n == 1 ? "" : "s", nchecks, nchecks == 1 ? "" : "s",
	        gm_assets_exact(h->assets) ? "" :
	        gm_assets_frames_level_whole(h->assets) ?
	                                     " The capture is in the frames level: asset bytes are "
	                                     "not recorded, the byte columns are empty." :
	                                     " Part of the capture is in the frames level: asset "
	                                     "bytes are not recorded there.");
	for (i = 0; i < n && i < GM_HTML_ASSETS; i++) {
		const gm_assets_asset_t *s = order[i];
		fputs("<tr><td>", f);
		gm_html_text(f, s->name ? s->name : "(unnamed)");
		fputs("</td><td>", f);
		gm_html_text(f, s->type < ntypes ? types[s->type].name : NULL);
		/* (an asset never defined, its records seen: no state) */
		const char *state = s->known ? gm_assets_state_name(s->state) : "unknown";
		if (gm_assets_frames_level_whole(h->assets)) /* (no figures, not 0 B) */
			fprintf(f, "</td><td>%s</td><td></td><td>%s</td><td></td><td></td></tr>\n",
			        state, gm_html_size(a, sizeof(a), s->extra_peak));
		else
			fprintf(f,
			        "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			        state, gm_html_size(a, sizeof(a), s->peak_bytes),
			        gm_html_size((char[32]){0}, 32, s->extra_peak),
			        gm_html_size(b, sizeof(b), s->allocated_bytes),
			        gm_html_size((char[32]){0}, 32, s->live_bytes));
	}
	fputs("</table>\n", f);
	free(order);
	return 0;
}

static void gm_html_budgets(gm_html_t *h)
{
	FILE *f = h->out;
	size_t n, i;
	const gm_budgets_node_t *nodes = gm_budgets_nodes(h->budgets, &n);
	const uint32_t *tree = gm_budgets_tree(h->budgets, &n);
	char a[32], b[32], c[32];
	if (n == 0)
		return;
	fputs("<h2>Budgets</h2>\n<table>\n<tr><th>node</th><th>soft</th><th>hard</th>"
	      "<th>peak</th><th>frames over soft</th><th>violations</th><th>evictions</th></tr>\n",
	      f);
	for (i = 0; i < n; i++) { /* (in tree order: each node under its parent) */
		const gm_budgets_node_t *d = &nodes[tree[i]];
		uint64_t v = 0;
		unsigned e;
		for (e = 0; e < gm_budget_event_count; e++)
			v += d->violations[e];
		fprintf(f, "<tr><td style=\"padding-left:%upx\">", 6 + 14 * d->depth);
		gm_html_text(f, d->name ? d->name : "(undefined)");
		char over[24] = "&#8211;"; /* no soft limit: none to be over, as in budgets */
		if (d->soft)
			snprintf(over, sizeof(over), "%llu",
			         (unsigned long long)d->frames_over_soft);
		fprintf(f,
		        "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%llu</td>"
		        "<td>%llu</td></tr>\n",
		        d->soft ? gm_html_size(a, sizeof(a), d->soft) : "&#8211;",
		        d->hard ? gm_html_size(b, sizeof(b), d->hard) : "&#8211;",
		        d->npoints == 0 ?
		                "&#8211;" :
		                gm_html_size(c, sizeof(c), d->peak > 0 ? (uint64_t)d->peak : 0),
		        over, (unsigned long long)v, (unsigned long long)d->evictions);
	}
	fputs("</table>\n", f);
}

/* The profiles on the search path (platforms/README.md); one that cannot be
 * read is named on the page and left out. -ENOMEM or 0. */
static int gm_html_profiles(gm_html_t *h)
{
	static char names[GM_HTML_PROFILES][GM_PLATFORM_NAME];
	static char paths[GM_HTML_PROFILES][GM_PLATFORM_PATH];
	int n = gm_platform_list(names, paths, GM_HTML_PROFILES), i;
	for (i = 0; i < n; i++) {
		gm_platform_t *p = malloc(sizeof(*p));
		char err[600];
		if (!p)
			return -ENOMEM;
		if (gm_platform_load(paths[i], p, err, sizeof(err)) != 0) {
			free(p);
			if (!(h->profile_errs[h->nprofile_errs] = strdup(err)))
				return -ENOMEM;
			h->nprofile_errs++;
			continue;
		}
		h->profiles[h->nprofiles++] = p;
	}
	return 0;
}

static void gm_html_platforms(gm_html_t *h)
{
	FILE *f = h->out;
	int i, k;
	char a[32], b[32];
	if (h->nprofiles == 0 && h->nprofile_errs == 0)
		return;
	fputs("<h2>Platforms</h2>\n<p>Would this capture fit each platform profile: its live "
	      "bytes routed to the profile's banks as libgmtrace routes them when the game runs "
	      "under it (<code>gmtrace platforms</code> says where it would not, and what to "
	      "change).</p>\n",
	      f);
	for (i = 0; i < h->nprofile_errs; i++) {
		fputs("<p>A profile could not be read: ", f);
		gm_html_text(f, h->profile_errs[i]);
		fputs("</p>\n", f);
	}
	if (!h->platforms)
		return;
	if (gm_platforms_host(h->platforms)->frames_level &&
	    gm_platforms_host(h->platforms)->frames_level_frame <= 1) {
		fputs("<p>The capture is at the frames level (per-frame totals, no allocation "
		      "records): record the events level (<code>GMTRACE_LEVEL=events</code>) to see "
		      "it against a platform.</p>\n",
		      f);
		return;
	}
	if (gm_platforms_host(h->platforms)->frames_level)
		fprintf(f,
		        "<p>From frame %llu the capture is at the frames level: the figures cover "
		        "the frames before it.</p>\n",
		        (unsigned long long)gm_platforms_host(h->platforms)->frames_level_frame);
	fputs("<table>\n<tr><th>platform</th><th>fits</th><th>peak, all banks</th>"
	      "<th>available to a game</th><th>first over its limit</th></tr>\n",
	      f);
	for (i = 0; i < gm_platforms_count(h->platforms); i++) {
		const gm_platforms_profile_t *pp = gm_platforms_profile(h->platforms, i);
		const gm_platforms_node_t *over = NULL;
		fputs("<tr><td>", f);
		gm_html_text(f, pp->p->title[0] ? pp->p->title : pp->p->name);
		fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>", pp->fits ? "yes" : "no",
		        gm_html_size(a, sizeof(a),
		                     pp->total.peak > 0 ? (uint64_t)pp->total.peak : 0),
		        pp->total.limit ? gm_html_size(b, sizeof(b), pp->total.limit) : "&#8211;");
		for (k = 0; k < pp->nnodes; k++)
			if (pp->nodes[k].bank && pp->nodes[k].over &&
			    (!over || pp->nodes[k].over_ns < over->over_ns))
				over = &pp->nodes[k];
		if (!over && pp->total.over)
			over = &pp->total;
		if (over) {
			gm_html_text(f, over == &pp->total ? "all banks" : over->name);
			fprintf(f, " at frame %llu", (unsigned long long)over->over_frame);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static int gm_html_write(gm_html_t *h, const char *error)
{
	FILE *f = h->out;
	char title[600], d[32];
	snprintf(title, sizeof(title), "%s (pid %u)", h->exe && *h->exe ? h->exe : "game",
	         h->info->pid);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>gmtrace: ",
	      f);
	gm_html_text(f, title);
	fputs("</title>\n<style>\n"
	      "body{font-family:system-ui,sans-serif;margin:2em;max-width:60em;color:#222}\n"
	      "table{border-collapse:collapse;margin:.5em 0}\n"
	      "td,th{border:1px solid #ddd;padding:.2em .6em;text-align:left;"
	      "font-variant-numeric:tabular-nums}\n"
	      "table.kv th{background:#f4f4f4;font-weight:normal}\n"
	      "figure{margin:1em 0}figcaption{font-size:.9em;color:#555}\n"
	      ".stack{font-family:monospace;font-size:.9em}.where{color:#1f6fb2}.mod{color:#888}\n"
	      ".damaged{background:#fde8e8;padding:.5em;border:1px solid #c0392b}\n"
	      "</style></head><body>\n<h1>",
	      f);
	gm_html_text(f, title);
	fputs("</h1>\n<p>Capture <code>", f);
	gm_html_text(f, h->path);
	fprintf(f, "</code> (format %u.%u), %s from the first event to the last, %s.</p>\n",
	        h->info->version_major, h->info->version_minor,
	        gm_text_duration(d, sizeof(d),
	                         h->frames->last_ns > h->frames->first_ns ?
	                                 h->frames->last_ns - h->frames->first_ns :
	                                 0),
	        h->frames->level_frames[gm_level_events] &&
	                        h->frames->level_frames[gm_level_frames] ?
	                "events level, then frames level (the figures of allocations cover "
	                "the events level's frames)" :
	        h->frames->level == gm_level_frames ? "frames level" :
	        h->frames->level == gm_level_events ? "events level" :
	                                              "level unknown");
	if (h->info->stopped_errno)
		fprintf(f,
		        "<p class=\"damaged\">Recording stopped before the game ended: the capture "
		        "could not be written (%s). The figures end there.</p>\n",
		        strerror((int)h->info->stopped_errno));
	else if (!h->ended)
		fputs("<p class=\"damaged\">The capture has no end (no exit record): the game was "
		      "killed or crashed, or is still running. If its log is still in /dev/shm, "
		      "<code>gmtrace recover</code> adds what was in it; the figures here end "
		      "where the capture does.</p>\n",
		      f);
	if (error) {
		fputs("<p class=\"damaged\">The capture is damaged: ", f);
		gm_html_text(f, error);
		fputs(". This page covers what could be read: everything before the damage, and "
		      "the blocks after it that could be found.</p>\n",
		      f);
	}
	if (gm_html_frames(h) < 0)
		return -ENOMEM;
	gm_html_spikes(h);
	if (gm_html_stacks(h) < 0 || gm_html_assets(h) < 0)
		return -ENOMEM;
	gm_html_budgets(h);
	gm_html_platforms(h);
	fputs("<p><small>Written by <code>gmtrace html</code>.</small></p>\n</body></html>\n", f);
	return 0;
}

int gm_cmd_html(int argc, char **argv)
{
	gm_html_t h;
	gm_frames_opts_t fo;
	gm_assets_opts_t ao;
	gm_budgets_opts_t bo;
	gm_reader_t *r = NULL;
	const char *error = NULL;
	int i, m, rc = GM_CMD_FAIL;
	FILE *out;
	char err[512];
	gm_event_t ev;

	memset(&h, 0, sizeof(h));
	if ((m = gm_args_capture_output(argc, argv, "html", &h.path, &h.output)) != 0) {
		gm_html_usage(m > 0 ? stdout : stderr);
		return m > 0 ? GM_CMD_OK : GM_CMD_USAGE;
	}
	if (!(r = gm_reader_open(h.path, err, sizeof(err)))) {
		fprintf(stderr, "gmtrace: %s\n", err);
		return GM_CMD_FAIL;
	}
	h.info = gm_reader_info(r);
	memset(&fo, 0, sizeof(fo));
	fo.to = UINT64_MAX;
	gm_assets_opts_default(&ao);
	gm_budgets_opts_default(&bo);
	if (!(h.frames = gm_frames_new(&fo, h.info->tsc_hz, h.info->nthreads)) ||
	    !(h.stacks = gm_stacks_new()) || !(h.assets = gm_assets_new(&ao, h.info->nthreads)) ||
	    !(h.budgets = gm_budgets_new(&bo)) || gm_html_profiles(&h) < 0 ||
	    (h.nprofiles && !(h.platforms = gm_platforms_new(
	                              (const gm_platform_t *const *)h.profiles, h.nprofiles))))
		goto nomem;
	while (gm_reader_next(r, &ev)) {
		if (gm_frames_add(h.frames, &ev) < 0 || gm_stacks_event(h.stacks, &ev) < 0 ||
		    gm_assets_add(h.assets, &ev) < 0 || gm_budgets_add(h.budgets, &ev) < 0 ||
		    (h.platforms && gm_platforms_add(h.platforms, &ev) < 0))
			goto nomem;
		h.stack_records += ev.type == gm_rec_stack || ev.type == gm_rec_site_frames;
		h.ended |= ev.type == gm_rec_exit || ev.type == gm_rec_exec;
		if (ev.type == gm_rec_process) {
			size_t n;
			const char *exe = gm_event_process_exe(&ev, &n);
			free(h.exe);
			if (!(h.exe = strndup(exe, n)))
				goto nomem;
		}
	}
	if (gm_frames_finish(h.frames) < 0 || gm_stacks_finish(h.stacks) < 0 ||
	    gm_assets_finish(h.assets) < 0 || gm_budgets_finish(h.budgets) < 0 ||
	    !(h.symbols = gm_symbols_new(h.stacks, 1)))
		goto nomem;
	gm_symbols_since(h.symbols, gm_reader_info(r)->created_ns, h.path);
	if (h.platforms) {
		gm_platforms_finish(h.platforms);
		if (!(h.platforms = gm_platforms_exact(h.platforms, r)))
			goto nomem;
	}
	error = gm_reader_error(r);

	if (!(h.out = gm_args_output_open("html", h.output, h.path)))
		goto done;
	if (gm_html_write(&h, error) == -ENOMEM || gm_symbols_failed(h.symbols))
		goto nomem;
	out = h.out;
	h.out = NULL;
	if (gm_args_output_end(out, 0, "html", "page", h.output) != 0)
		goto done;
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		goto done;
	}
	rc = GM_CMD_OK;
	goto done;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", h.path);
done:
	if (h.out && h.out != stdout)
		fclose(h.out);
	free(h.exe);
	gm_symbols_free(h.symbols);
	gm_budgets_free(h.budgets);
	gm_platforms_free(h.platforms);
	for (i = 0; i < h.nprofiles; i++)
		free(h.profiles[i]);
	for (i = 0; i < h.nprofile_errs; i++)
		free(h.profile_errs[i]);
	gm_assets_free(h.assets);
	gm_stacks_free(h.stacks);
	gm_frames_free(h.frames);
	gm_reader_free(r);
	return rc;
}

/* assets.c - gmtrace assets: what every asset, type and tag held, the checks, streaming, heat maps
 *
 * One pass over the capture builds the assets model (model/assets.h); this
 * file only sorts, cuts and prints it: text for people, JSON and CSV for
 * tools, heat maps for the terminal and as SVG (report/heatmap.h). The JSON
 * keys are listed in analysis/README.md, "assets --json".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/assets.h"
#include "analysis/report/heatmap.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"

#define GM_ASSETS_TOP_DEFAULT 20
#define GM_ASSETS_BINS_MAX 4096

typedef enum gm_assets_sort {
	gm_assets_sort_bytes = 0,
	gm_assets_sort_peak,
	gm_assets_sort_name,
	gm_assets_sort_type,
	gm_assets_sort_load_ns,
	gm_assets_sort_touches,
	gm_assets_sort_count
} gm_assets_sort_t;

static const char *const gm_assets_sort_names[gm_assets_sort_count] = {
        "bytes", "peak", "name", "type", "load_ns", "touches"};
static const char *const gm_assets_by_names[gm_assets_by_count] = {"none", "asset", "type", "tag"};
static const char *const gm_assets_heat_names[gm_assets_heat_count] = {"live", "touches"};

/* What the command prints: the model and the orders chosen. */
typedef struct gm_assets_out {
	const char *path;
	const gm_reader_info_t *info;
	const gm_assets_t *m;
	const gm_assets_asset_t *assets;
	size_t nassets;
	const gm_assets_type_t *types;
	size_t ntypes;
	const gm_assets_tag_t *tags;
	size_t ntags;
	uint32_t *order;     /* assets in --sort order */
	uint32_t *tag_order; /* tags in tree order */
	size_t top;
	/* heat map rows chosen (top N by peak) */
	size_t *heat_rows, nheat;
	uint64_t *heat_peak;
	uint64_t *col_first;
	const char **heat_labels;
	char *heat_label_buf;
} gm_assets_out_t;

static void gm_cmd_assets_usage(FILE *f)
{
	fprintf(f,
	        "usage: gmtrace assets [options] CAPTURE\n"
	        "\n"
	        "Per asset: state, bytes attributed (live, peak, at unload), declared extra\n"
	        "bytes (at their peak), load time, load and unload frames, references,\n"
	        "touches, tags. Per type and per tag (with roll-ups) totals; checks;\n"
	        "streaming figures; heat maps.\n"
	        "\n"
	        "  --json               one JSON object (analysis/README.md, \"assets --json\")\n"
	        "  --csv                one CSV row per asset\n"
	        "  --sort KEY           bytes|peak|name|type|load_ns|touches (default bytes)\n"
	        "  --top N              rows of the text tables and heat maps (default %d)\n"
	        "  --check              exit 1 when any check fires (for CI)\n"
	        "  --orphan-frames N    orphan: resident, no reference for > N frames (%d)\n"
	        "  --stale-frames N     stale: resident, not touched for > N frames (%d)\n"
	        "  --thrash-frames N    thrash: reloaded within N frames of its unload (%d)\n"
	        "  --heatmap live|touches  heat map of live bytes or touches per frame bin\n"
	        "  --by asset|type|tag  heat map rows (default asset; touches: not tag)\n"
	        "  --bins N             heat map columns (default %d)\n"
	        "  --svg FILE           write the heat map as an SVG file as well\n"
	        "  --help               this text\n"
	        "\n"
	        "Checks: leak, never_unloaded, orphan, refcount, duplicate, stale,\n"
	        "validation, tag_growth (analysis/README.md says when each fires).\n"
	        "\n"
	        "Exit status: 0 ok, 1 capture unreadable or damaged (the report covers\n"
	        "what could be read) or, with --check, a check fired; 2 bad usage.\n",
	        GM_ASSETS_TOP_DEFAULT, GM_ASSETS_ORPHAN_FRAMES, GM_ASSETS_STALE_FRAMES,
	        GM_ASSETS_THRASH_FRAMES, GM_ASSETS_BINS);
}

/* ---- orders ------------------------------------------------------------------- */

static const gm_assets_out_t *gm_cmd_assets_ctx;
static gm_assets_sort_t gm_cmd_assets_key;

static int gm_cmd_assets_strcmp(const char *a, const char *b)
{
	if (!a || !b)
		return a ? -1 : b ? 1 : 0; /* unnamed last */
	return strcmp(a, b);
}

static uint64_t gm_cmd_assets_load_ns(const gm_assets_asset_t *a)
{
	return a->ready_ns >= a->new_ns && a->ready_ns ? a->ready_ns - a->new_ns : 0;
}

static int gm_cmd_assets_cmp(const void *pa, const void *pb)
{
	const gm_assets_out_t *o = gm_cmd_assets_ctx;
	const gm_assets_asset_t *a = &o->assets[*(const uint32_t *)pa];
	const gm_assets_asset_t *b = &o->assets[*(const uint32_t *)pb];
	uint64_t x = 0, y = 0;
	int c = 0;

	switch (gm_cmd_assets_key) {
	case gm_assets_sort_bytes:
		x = a->live_bytes + a->extra_bytes;
		y = b->live_bytes + b->extra_bytes;
		if (x == y) {
			x = a->peak_bytes;
			y = b->peak_bytes;
		}
		break;
	case gm_assets_sort_peak:
		x = a->peak_bytes;
		y = b->peak_bytes;
		break;
	case gm_assets_sort_name:
		c = gm_cmd_assets_strcmp(a->name, b->name);
		break;
	case gm_assets_sort_type:
		c = gm_cmd_assets_strcmp(a->type != GM_ASSETS_NONE ? o->types[a->type].name : NULL,
		                         b->type != GM_ASSETS_NONE ? o->types[b->type].name : NULL);
		x = a->live_bytes + a->extra_bytes;
		y = b->live_bytes + b->extra_bytes;
		break;
	case gm_assets_sort_load_ns:
		x = gm_cmd_assets_load_ns(a);
		y = gm_cmd_assets_load_ns(b);
		break;
	case gm_assets_sort_touches:
		x = a->touches;
		y = b->touches;
		break;
	default:
		break;
	}
	if (c != 0)
		return c;
	if (x != y)
		return x > y ? -1 : 1; /* numbers: largest first */
	return a->id < b->id ? -1 : a->id > b->id;
}

/* Tree order: by full name with '/' below every other byte, so a tag comes
 * right before its children. */
static int gm_cmd_assets_cmp_tag(const void *pa, const void *pb)
{
	const gm_assets_out_t *o = gm_cmd_assets_ctx;
	const char *a = o->tags[*(const uint32_t *)pa].name;
	const char *b = o->tags[*(const uint32_t *)pb].name;

	if (!a || !b)
		return a ? -1 : b ? 1 : 0; /* untagged last */
	for (; *a && *a == *b; a++, b++)
		;
	return (*a == '/' ? 1 : (unsigned char)*a + 1) - (*b == '/' ? 1 : (unsigned char)*b + 1);
}

/* The heat map rows: every row of the model, largest peak first, --top. */
static int gm_cmd_assets_heat_pick(gm_assets_out_t *o, const gm_assets_opts_t *opts)
{
	size_t rows = gm_assets_heat_rows(o->m), r, i, n = 0;
	uint32_t bins = gm_assets_heat_bins(o->m), c;
	size_t *idx;
	uint64_t *peak;

	idx = calloc(rows ? rows : 1, sizeof(*idx));
	peak = calloc(rows ? rows : 1, sizeof(*peak));
	o->col_first = calloc((size_t)bins + 1, sizeof(*o->col_first));
	if (!idx || !peak || !o->col_first) {
		free(idx);
		free(peak);
		return -ENOMEM;
	}
	for (r = 0; r < rows; r++) {
		const uint64_t *cells = gm_assets_heat_row(o->m, r);

		for (c = 0; c < bins; c++)
			if (cells[c] > peak[r])
				peak[r] = cells[c];
		/* rows that never held anything, and unknown assets, are left out */
		if (peak[r] == 0)
			continue;
		if (opts->heat_by == gm_assets_by_asset && !o->assets[r].known)
			continue;
		idx[n++] = r;
	}
	/* selection sort of the top rows: n is at most the rows, top is small */
	for (i = 0; i < n && i < o->top; i++) {
		size_t best = i, k, t;

		for (k = i + 1; k < n; k++)
			if (peak[idx[k]] > peak[idx[best]] ||
			    (peak[idx[k]] == peak[idx[best]] && idx[k] < idx[best]))
				best = k;
		t = idx[i];
		idx[i] = idx[best];
		idx[best] = t;
	}
	o->nheat = n < o->top ? n : o->top;
	o->heat_rows = idx;
	o->heat_peak = peak;
	for (c = 0; c <= bins; c++)
		o->col_first[c] = gm_assets_heat_first(o->m, c);
	o->heat_labels = calloc(o->nheat ? o->nheat : 1, sizeof(*o->heat_labels));
	o->heat_label_buf = calloc(o->nheat ? o->nheat : 1, 32);
	if (!o->heat_labels || !o->heat_label_buf)
		return -ENOMEM;
	for (i = 0; i < o->nheat; i++) {
		r = idx[i];
		if (opts->heat_by == gm_assets_by_type) {
			o->heat_labels[i] = o->types[r].name;
		} else if (opts->heat_by == gm_assets_by_tag) {
			o->heat_labels[i] = r == 0 ? "(untagged)" : o->tags[r].name;
		} else if (o->assets[r].name) {
			o->heat_labels[i] = o->assets[r].name;
		} else {
			snprintf(o->heat_label_buf + 32 * i, 32, "#%llu",
			         (unsigned long long)o->assets[r].id);
			o->heat_labels[i] = o->heat_label_buf + 32 * i;
		}
	}
	return 0;
}

static void gm_cmd_assets_heat_map(const gm_assets_out_t *o, const gm_assets_opts_t *opts,
                                   gm_heatmap_t *h, const uint64_t **rows, char *title, size_t n)
{
	size_t i;

	for (i = 0; i < o->nheat; i++)
		rows[i] = gm_assets_heat_row(o->m, o->heat_rows[i]);
	snprintf(title, n,
	         "%s by %s, %u frame bins (frames %llu-%llu), top %zu of %zu rows by peak",
	         opts->heat_value == gm_assets_heat_live ? "live bytes" : "touches",
	         gm_assets_by_names[opts->heat_by], gm_assets_heat_bins(o->m),
	         (unsigned long long)o->col_first[0],
	         (unsigned long long)o->col_first[gm_assets_heat_bins(o->m)] - 1, o->nheat,
	         gm_assets_heat_rows(o->m));
	memset(h, 0, sizeof(*h));
	h->title = title;
	h->bytes = opts->heat_value == gm_assets_heat_live;
	h->sums = opts->heat_value == gm_assets_heat_touches;
	h->nrows = o->nheat;
	h->ncols = gm_assets_heat_bins(o->m);
	h->labels = o->heat_labels;
	h->rows = rows;
	h->col_first = o->col_first;
}

/* ---- text ------------------------------------------------------------------------ */

/* An asset's type name for a column width characters wide of a report
 * for people (buf: room for the shown form, gm_text_cell). */
static const char *gm_cmd_assets_type_name(const gm_assets_out_t *o, const gm_assets_asset_t *a,
                                           char *buf, size_t n, size_t width)
{
	return a->type != GM_ASSETS_NONE ? gm_text_cell(buf, n, o->types[a->type].name, width) :
	                                   "-";
}

static void gm_cmd_assets_name_text(const gm_assets_asset_t *a)
{
	if (a->name)
		gm_text_quote(stdout, a->name, strlen(a->name));
	else
		printf("#%llu", (unsigned long long)a->id);
}

static const char *gm_cmd_assets_frame(char *buf, size_t n, uint64_t frame)
{
	if (frame)
		snprintf(buf, n, "%llu", (unsigned long long)frame);
	else
		snprintf(buf, n, "-");
	return buf;
}

/* What a check is about, to f: its asset (name, or #id), its tag, or the
 * validation's name. */
static void gm_cmd_assets_subject(FILE *f, const gm_assets_out_t *o, const gm_assets_check_t *c)
{
	const gm_assets_asset_t *a = c->asset < o->nassets ? &o->assets[c->asset] : NULL;

	if (a && a->name)
		gm_text_quote(f, a->name, strlen(a->name));
	else if (a)
		fprintf(f, "#%llu", (unsigned long long)a->id);
	else if (c->tag < o->ntags && o->tags[c->tag].name)
		gm_text_quote(f, o->tags[c->tag].name, strlen(o->tags[c->tag].name));
	else if (c->kind == gm_assets_check_validation)
		fputs(gm_assets_valid_name((unsigned)c->v[0]), f);
	else
		fputc('-', f);
}

/* The checks that fired, to f, by kind: ": N leak (NAME, NAME, ...), N
 * orphan (...)", at most GM_CMD_ASSETS_NAMED subjects a kind, then how many
 * more. */
#define GM_CMD_ASSETS_NAMED 4
static void gm_cmd_assets_fired(FILE *f, const gm_assets_out_t *o, const gm_assets_check_t *checks,
                                size_t n)
{
	unsigned k;
	size_t i;
	int kinds = 0;

	for (k = 0; k < gm_assets_check_kind_count; k++) {
		size_t count = 0, named = 0;

		for (i = 0; i < n; i++)
			count += checks[i].kind == k;
		if (!count)
			continue;
		fprintf(f, "%s%zu %s (", kinds++ ? ", " : ": ", count, gm_assets_check_name(k));
		for (i = 0; i < n && named < GM_CMD_ASSETS_NAMED; i++) {
			if (checks[i].kind != k)
				continue;
			if (named++)
				fputs(", ", f);
			gm_cmd_assets_subject(f, o, &checks[i]);
		}
		if (count > named)
			fprintf(f, ", %zu more", count - named);
		fputc(')', f);
	}
}

static void gm_cmd_assets_check_text(const gm_assets_out_t *o, const gm_assets_check_t *c)
{
	const gm_assets_asset_t *a = c->asset != GM_ASSETS_NONE ? &o->assets[c->asset] : NULL;
	char h[GM_TEXT_MAX], until[48], type[64], tag[256];

	printf("    ");
	if (a) {
		gm_cmd_assets_name_text(a);
		printf(" (id %llu, %s): ", (unsigned long long)a->id,
		       gm_cmd_assets_type_name(o, a, type, sizeof(type), 0));
	}
	switch (c->kind) {
	case gm_assets_check_leak:
		printf("%s (%llu bytes) in %llu blocks still live, %s at frame %llu (%llu bytes "
		       "live then)\n",
		       gm_text_size(h, sizeof(h), c->v[0]), (unsigned long long)c->v[0],
		       (unsigned long long)c->v[1], a && a->failed ? "failed" : "unloaded",
		       (unsigned long long)c->frame, (unsigned long long)c->v[2]);
		if (a && a->known && gm_assets_stacks(o->m)) {
			printf("      call sites: gmtrace stacks --by live --asset-id %llu %s\n",
			       (unsigned long long)a->id, o->path);
		}
		break;
	case gm_assets_check_never_unloaded:
		printf("%s since frame %llu, %s live, %s extra\n",
		       c->v[2] == gm_asset_loading   ? "still loading (its load never ended)" :
		       c->v[2] == gm_asset_unloading ? "still unloading (its unload never ended)" :
		                                       "resident",
		       (unsigned long long)c->frame, gm_text_size(h, sizeof(h), c->v[0]),
		       gm_text_size(until, sizeof(until), c->v[1]));
		break;
	case gm_assets_check_orphan:
		snprintf(until, sizeof(until), "until frame %llu", (unsigned long long)c->v[0]);
		printf("no reference since frame %llu, %s (%llu frames)\n",
		       (unsigned long long)c->frame, c->v[0] ? until : "still resident at exit",
		       (unsigned long long)c->v[1]);
		break;
	case gm_assets_check_refcount:
		if (c->v[0] == gm_valid_release_below_zero)
			printf("released below zero at frame %llu (count %llu before; %s)\n",
			       (unsigned long long)c->frame, (unsigned long long)c->v[1],
			       c->v[2] ? "validation record" : "reference stream");
		else
			printf("unloaded at frame %llu with %llu references held (%s)\n",
			       (unsigned long long)c->frame, (unsigned long long)c->v[1],
			       c->v[2] ? "validation record" : "reference stream");
		break;
	case gm_assets_check_duplicate:
		printf("loaded at frame %llu while ", (unsigned long long)c->frame);
		if (c->v[0] < o->nassets)
			printf("id %llu of the same name (loaded at frame %llu) was still loaded\n",
			       (unsigned long long)o->assets[c->v[0]].id,
			       (unsigned long long)c->v[1]);
		else
			printf("another of the same name was still loaded\n");
		break;
	case gm_assets_check_stale:
		printf("last touched at frame %llu, resident and untouched for %llu frames%s\n",
		       (unsigned long long)c->frame, (unsigned long long)c->v[1],
		       c->v[0] ? "" : " at exit");
		break;
	case gm_assets_check_validation:
		printf("%s at frame %llu: subject %llu, detail %llu, thread %llu\n",
		       gm_assets_valid_name((unsigned)c->v[0]), (unsigned long long)c->frame,
		       (unsigned long long)c->v[1], (unsigned long long)c->v[2],
		       (unsigned long long)c->v[3]);
		break;
	case gm_assets_check_tag_growth:
		printf("%s: loose bytes grow %.1f bytes/frame from frame %llu; %s (%llu bytes) in "
		       "%llu blocks live at exit\n",
		       gm_text_line(tag, sizeof(tag), o->tags[c->tag].name), c->rate,
		       (unsigned long long)c->frame, gm_text_size(h, sizeof(h), c->v[0]),
		       (unsigned long long)c->v[0], (unsigned long long)c->v[1]);
		break;
	default:
		putchar('\n');
		break;
	}
}

static void gm_cmd_assets_text(const gm_assets_out_t *o, const char *error)
{
	const gm_assets_t *m = o->m;
	const gm_assets_stream_t *st = gm_assets_streaming(m);
	const gm_assets_check_t *checks;
	const gm_assets_thrash_t *thrash;
	size_t nchecks, nthrash, i, by_state[gm_asset_state_count] = {0};
	char h[GM_TEXT_MAX], d[GM_TEXT_MAX], e[GM_TEXT_MAX], f1[32], f2[32];
	unsigned k;

	for (i = 0; i < o->nassets; i++) /* as JSON: an asset never defined has no state */
		if (o->assets[i].known && o->assets[i].state < gm_asset_state_count)
			by_state[o->assets[i].state]++;
	printf("capture   %s (format %u.%u), %llu frames, %s, %s\n", o->path,
	       o->info->version_major, o->info->version_minor,
	       (unsigned long long)gm_assets_frames(m),
	       gm_text_duration(d, sizeof(d), gm_assets_duration_ns(m)),
	       gm_assets_exact(m) ? "events level (exact bytes)" :
	       gm_assets_frames_level_whole(m) ?
	                            "frames level (asset bytes not recorded, a touch "
	                            "recorded once in 60 frames)" :
	                            "frames level in part (asset bytes not recorded there, a "
	                            "touch once in 60 frames)");
	if (error)
		printf("damaged   %s\n", error);
	printf("assets    %zu: %zu loading, %zu resident, %zu unloading, %zu unloaded, %zu failed\n",
	       o->nassets, by_state[gm_asset_loading], by_state[gm_asset_resident],
	       by_state[gm_asset_unloading], by_state[gm_asset_unloaded],
	       by_state[gm_asset_failed]);
	printf("memory    %s live at exit, %s of it in assets, %s declared extra\n",
	       gm_text_size(h, sizeof(h), gm_assets_live_bytes(m)),
	       gm_text_size(d, sizeof(d), gm_assets_asset_bytes(m)),
	       gm_text_size(e, sizeof(e), gm_assets_extra_bytes(m)));

	if (o->nassets) {
		printf("\nassets by %s (top %zu of %zu)\n", gm_assets_sort_names[gm_cmd_assets_key],
		       o->top < o->nassets ? o->top : o->nassets, o->nassets);
		printf("  %8s %-28s %-10s %-9s %10s %10s %10s %10s %7s %7s %5s %8s %6s\n", "id",
		       "name", "type", "state", "live", "peak", "peak extra", "load", "loaded",
		       "unload", "refs", "touches", "last");
		for (i = 0; i < o->nassets && i < o->top; i++) {
			const gm_assets_asset_t *a = &o->assets[o->order[i]];
			char shown[4 * 28 + 1], type[4 * 10 + 1], lp[GM_TEXT_MAX], ld[GM_TEXT_MAX],
			        t1[32], t2[32], t3[32];

			if (a->ready_ns)
				gm_text_duration(ld, sizeof(ld), gm_cmd_assets_load_ns(a));
			else
				snprintf(ld, sizeof(ld), "-");
			printf("  %8llu %-28s %-10s %-9s %10s %10s %10s %10s %7s %7s %5lld %8llu %6s\n",
			       (unsigned long long)a->id,
			       gm_text_cell(shown, sizeof(shown), a->name, 28),
			       gm_cmd_assets_type_name(o, a, type, sizeof(type), 10),
			       a->known ? gm_assets_state_name(a->state) : "unknown",
			       gm_text_size(h, sizeof(h), a->live_bytes),
			       gm_text_size(lp, sizeof(lp), a->peak_bytes),
			       gm_text_size(e, sizeof(e), a->extra_peak), ld,
			       gm_cmd_assets_frame(t1, sizeof(t1), a->new_frame),
			       gm_cmd_assets_frame(t2, sizeof(t2), a->unload_frame),
			       (long long)a->refs, (unsigned long long)a->touches,
			       gm_cmd_assets_frame(t3, sizeof(t3), a->last_touch_frame));
		}
	}

	if (o->ntypes) {
		printf("\ntypes\n  %-16s %7s %8s %10s %10s %10s %10s\n", "type", "assets",
		       "resident", "live", "peak", "extra", "allocated");
		for (i = 0; i < o->ntypes; i++) {
			const gm_assets_type_t *t = &o->types[i];
			char p[GM_TEXT_MAX], al[GM_TEXT_MAX], type[4 * 16 + 1];

			printf("  %-16s %7llu %8llu %10s %10s %10s %10s\n",
			       t->name[0] ? gm_text_cell(type, sizeof(type), t->name, 16) : "\"\"",
			       (unsigned long long)t->assets, (unsigned long long)t->resident,
			       gm_text_size(h, sizeof(h), t->live_bytes),
			       gm_text_size(p, sizeof(p), t->peak_bytes),
			       gm_text_size(e, sizeof(e), t->extra_bytes),
			       gm_text_size(al, sizeof(al), t->allocated_bytes));
		}
	}

	printf("\ntags (own: the tag innermost; with children: its whole subtree)\n");
	printf("  %-32s %10s %10s %10s %10s %10s %12s\n", "tag", "own live", "own peak",
	       "tree live", "tree peak", "loose live", "loose/frame");
	for (i = 0; i < o->ntags; i++) {
		const gm_assets_tag_t *t = &o->tags[o->tag_order[i]];
		char label[4 * 32 + 8], shown[4 * 32 + 1], p[GM_TEXT_MAX], tl[GM_TEXT_MAX],
		        tp[GM_TEXT_MAX], lo[GM_TEXT_MAX];
		const char *leaf;
		size_t indent;

		if (t->own.allocated_bytes == 0 && t->rollup.allocated_bytes == 0)
			continue;
		leaf = t->name ? strrchr(t->name, '/') : NULL;
		leaf = leaf && t->depth ? leaf + 1 : t->name ? t->name : "(untagged)";
		/* indented by depth; a long leaf cut to what is left of the column */
		indent = 2 * (size_t)t->depth < 24 ? 2 * (size_t)t->depth : 24;
		snprintf(label, sizeof(label), "%*s%s", (int)indent, "",
		         gm_text_cell(shown, sizeof(shown), leaf, 32 - indent));
		printf("  %-32s %10s %10s %10s %10s %10s %12.1f\n", label,
		       gm_text_size(h, sizeof(h), t->own.live_bytes),
		       gm_text_size(p, sizeof(p), t->own.peak_bytes),
		       gm_text_size(tl, sizeof(tl), t->rollup.live_bytes),
		       gm_text_size(tp, sizeof(tp), t->rollup.peak_bytes),
		       gm_text_size(lo, sizeof(lo), t->loose_bytes), t->growth);
	}

	printf("\nstreaming (asset bytes per wall-clock second, %llu second%s; freed: by an "
	       "unload or not, the game's frees at exit included)\n",
	       (unsigned long long)st->seconds, st->seconds == 1 ? "" : "s");
	for (k = 0; k < 2; k++) {
		const gm_assets_rate_t *r = k ? &st->unloaded : &st->loaded;
		char mn[GM_TEXT_MAX], md[GM_TEXT_MAX], mx[GM_TEXT_MAX];

		printf("  %-9s total %s; per second min %s, median %s, max %s\n",
		       k ? "freed" : "allocated", gm_text_size(h, sizeof(h), r->total),
		       gm_text_size(mn, sizeof(mn), r->min),
		       gm_text_size(md, sizeof(md), r->median),
		       gm_text_size(mx, sizeof(mx), r->max));
	}
	if (st->residencies) {
		char p90[GM_TEXT_MAX], p99[GM_TEXT_MAX], mx[GM_TEXT_MAX];

		printf("  residency %llu assets resident then unloaded: p50 %s, p90 %s, p99 %s, max "
		       "%s; %llu resident at exit\n",
		       (unsigned long long)st->residencies,
		       gm_text_duration(d, sizeof(d), st->residency_p50_ns),
		       gm_text_duration(p90, sizeof(p90), st->residency_p90_ns),
		       gm_text_duration(p99, sizeof(p99), st->residency_p99_ns),
		       gm_text_duration(mx, sizeof(mx), st->residency_max_ns),
		       (unsigned long long)st->still_resident);
	} else {
		printf("  residency no asset was resident then unloaded; %llu resident at exit\n",
		       (unsigned long long)st->still_resident);
	}
	thrash = gm_assets_thrashes(m, &nthrash);
	printf("  thrash    %zu reloads within %llu frames of an unload\n", nthrash,
	       (unsigned long long)gm_assets_options(m)->thrash_frames);
	for (i = 0; i < nthrash && i < o->top; i++) {
		const gm_assets_thrash_t *t = &thrash[i];

		printf("    ");
		gm_cmd_assets_name_text(&o->assets[t->asset]);
		printf(" unloaded at frame %s (id %llu), loaded again at frame %s (id %llu)\n",
		       gm_cmd_assets_frame(f1, sizeof(f1), t->unload_frame),
		       (unsigned long long)o->assets[t->previous].id,
		       gm_cmd_assets_frame(f2, sizeof(f2), t->reload_frame),
		       (unsigned long long)o->assets[t->asset].id);
	}
	if (nthrash > o->top)
		printf("    ... %zu more (--top, --json)\n", nthrash - o->top);

	checks = gm_assets_checks(m, &nchecks);
	printf("\nchecks: %zu\n", nchecks);
	for (k = 0; k < gm_assets_check_kind_count; k++) {
		size_t n = 0, shown = 0;

		for (i = 0; i < nchecks; i++)
			n += checks[i].kind == k;
		if (n == 0)
			continue;
		printf("  %s (%zu)\n", gm_assets_check_name(k), n);
		for (i = 0; i < nchecks; i++) {
			if (checks[i].kind != k)
				continue;
			if (shown++ == o->top) {
				printf("    ... %zu more (--top, --json)\n", n - o->top);
				break;
			}
			gm_cmd_assets_check_text(o, &checks[i]);
		}
	}
}

/* ---- JSON ------------------------------------------------------------------------- */

static void gm_cmd_assets_json_frame(gm_json_t *j, const char *key, uint64_t frame)
{
	if (frame)
		gm_json_key_u64(j, key, frame);
	else
		gm_json_key_null(j, key);
}

static void gm_cmd_assets_json_asset(gm_json_t *j, const gm_assets_out_t *o,
                                     const gm_assets_asset_t *a)
{
	const gm_assets_pair_t *pairs;
	const gm_assets_point_t *p;
	uint32_t cursor = 0;
	size_t n, i;

	gm_json_object_begin(j);
	gm_json_key_u64(j, "id", a->id);
	gm_json_key_string(j, "name", a->name);
	gm_json_key_string(j, "type", a->type != GM_ASSETS_NONE ? o->types[a->type].name : NULL);
	gm_json_key_string(j, "state", a->known ? gm_assets_state_name(a->state) : "unknown");
	gm_cmd_assets_json_frame(j, "load_frame", a->new_frame);
	if (a->known)
		gm_json_key_u64(j, "load_ns", a->new_ns);
	else
		gm_json_key_null(j, "load_ns");
	gm_cmd_assets_json_frame(j, "ready_frame", a->ready_frame);
	if (a->ready_ns)
		gm_json_key_u64(j, "load_duration_ns", gm_cmd_assets_load_ns(a));
	else
		gm_json_key_null(j, "load_duration_ns");
	gm_cmd_assets_json_frame(j, "unload_frame", a->unload_frame);
	gm_cmd_assets_json_frame(j, "unloaded_frame", a->unloaded_frame);
	gm_json_key_u64(j, "live_bytes", a->live_bytes);
	gm_json_key_u64(j, "live_blocks", a->live_blocks);
	gm_json_key_u64(j, "peak_live_bytes", a->peak_bytes);
	gm_json_key_u64(j, "allocated_bytes", a->allocated_bytes);
	gm_json_key_u64(j, "allocations", a->allocations);
	if (a->ready_ns && !a->failed)
		gm_json_key_u64(j, "resident_bytes", a->ready_bytes);
	else
		gm_json_key_null(j, "resident_bytes");
	if (a->unloaded_frame)
		gm_json_key_u64(j, "unloaded_live_bytes", a->unloaded_bytes);
	else
		gm_json_key_null(j, "unloaded_live_bytes");
	gm_json_key_u64(j, "extra_bytes", a->extra_bytes);
	gm_json_key_u64(j, "peak_extra_bytes", a->extra_peak);
	gm_json_key_i64(j, "refs", a->refs);
	gm_json_key_u64(j, "refs_max", a->refs_max);
	gm_json_key(j, "refs_series");
	gm_json_array_begin(j);
	while ((p = gm_assets_refs_next(o->m, a, &cursor))) {
		gm_json_array_begin(j);
		gm_json_u64(j, p->frame);
		gm_json_i64(j, p->count);
		gm_json_array_end(j);
	}
	gm_json_array_end(j);
	gm_json_key_u64(j, "touches", a->touches);
	gm_cmd_assets_json_frame(j, "last_touch_frame", a->last_touch_frame);
	gm_json_key_u64(j, "scene", a->scene);
	gm_json_key(j, "tags");
	gm_json_array_begin(j);
	pairs = gm_assets_asset_tags(o->m, a, &n);
	for (i = 0; i < n; i++) {
		gm_json_object_begin(j);
		gm_json_key_string(j, "tag", o->tags[pairs[i].tag].name);
		gm_json_key_u64(j, "allocated_bytes", pairs[i].allocated_bytes);
		gm_json_key_u64(j, "live_bytes", pairs[i].live_bytes);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
	gm_json_object_end(j);
}

static void gm_cmd_assets_json_count(gm_json_t *j, const gm_assets_count_t *c)
{
	gm_json_key_u64(j, "live_bytes", c->live_bytes);
	gm_json_key_u64(j, "live_blocks", c->live_blocks);
	gm_json_key_u64(j, "peak_live_bytes", c->peak_bytes);
	gm_json_key_u64(j, "allocated_bytes", c->allocated_bytes);
}

static void gm_cmd_assets_json_tag(gm_json_t *j, const gm_assets_out_t *o, const gm_assets_tag_t *t)
{
	gm_cmd_assets_json_count(j, &t->own);
	gm_json_key(j, "rollup");
	gm_json_object_begin(j);
	gm_cmd_assets_json_count(j, &t->rollup);
	gm_json_object_end(j);
	gm_json_key_u64(j, "loose_live_bytes", t->loose_bytes);
	gm_json_key_u64(j, "loose_live_blocks", t->loose_blocks);
	gm_json_key_double(j, "growth_bytes_per_frame", t->growth);
	gm_cmd_assets_json_frame(j, "growth_from_frame", t->growth_from);
	(void)o;
}

static void gm_cmd_assets_json_check(gm_json_t *j, const gm_assets_out_t *o,
                                     const gm_assets_check_t *c)
{
	const gm_assets_asset_t *a = c->asset != GM_ASSETS_NONE ? &o->assets[c->asset] : NULL;

	gm_json_object_begin(j);
	gm_json_key_string(j, "check", gm_assets_check_name(c->kind));
	gm_cmd_assets_json_frame(j, "frame", c->frame);
	if (a)
		gm_json_key_u64(j, "asset", a->id);
	else
		gm_json_key_null(j, "asset");
	if (c->kind == gm_assets_check_tag_growth)
		gm_json_key_string(j, "name", o->tags[c->tag].name);
	else
		gm_json_key_string(j, "name", a ? a->name : NULL);
	switch (c->kind) {
	case gm_assets_check_leak:
		gm_json_key_u64(j, "live_bytes", c->v[0]);
		gm_json_key_u64(j, "live_blocks", c->v[1]);
		gm_json_key_u64(j, "unloaded_live_bytes", c->v[2]);
		break;
	case gm_assets_check_never_unloaded:
		gm_json_key_u64(j, "live_bytes", c->v[0]);
		gm_json_key_u64(j, "extra_bytes", c->v[1]);
		gm_json_key_string(j, "state",
		                   c->v[2] == gm_asset_loading   ? "loading" :
		                   c->v[2] == gm_asset_unloading ? "unloading" :
		                                                   "resident");
		break;
	case gm_assets_check_orphan:
	case gm_assets_check_stale:
		gm_cmd_assets_json_frame(j, "until_frame", c->v[0]);
		gm_json_key_u64(j, "frames", c->v[1]);
		break;
	case gm_assets_check_refcount:
		gm_json_key_string(j, "what", gm_assets_valid_name((unsigned)c->v[0]));
		gm_json_key_u64(j, "refs", c->v[1]);
		gm_json_key_string(j, "source", c->v[2] ? "validation" : "stream");
		break;
	case gm_assets_check_duplicate:
		if (c->v[0] < o->nassets)
			gm_json_key_u64(j, "previous_asset", o->assets[c->v[0]].id);
		else
			gm_json_key_null(j, "previous_asset");
		gm_cmd_assets_json_frame(j, "previous_load_frame", c->v[1]);
		break;
	case gm_assets_check_validation:
		gm_json_key_string(j, "code", gm_assets_valid_name((unsigned)c->v[0]));
		gm_json_key_u64(j, "code_number", c->v[0]);
		gm_json_key_u64(j, "subject", c->v[1]);
		gm_json_key_u64(j, "detail", c->v[2]);
		gm_json_key_u64(j, "thread", c->v[3]);
		break;
	case gm_assets_check_tag_growth:
		gm_json_key_string(j, "tag", o->tags[c->tag].name);
		gm_json_key_double(j, "bytes_per_frame", c->rate);
		gm_json_key_u64(j, "live_bytes", c->v[0]);
		gm_json_key_u64(j, "live_blocks", c->v[1]);
		break;
	default:
		break;
	}
	gm_json_object_end(j);
}

static void gm_cmd_assets_json_rate(gm_json_t *j, const char *key, const gm_assets_rate_t *r)
{
	gm_json_key(j, key);
	gm_json_object_begin(j);
	gm_json_key_u64(j, "total_bytes", r->total);
	gm_json_key_u64(j, "min_bytes", r->min);
	gm_json_key_u64(j, "median_bytes", r->median);
	gm_json_key_u64(j, "max_bytes", r->max);
	gm_json_object_end(j);
}

static int gm_cmd_assets_json(const gm_assets_out_t *o, const gm_assets_opts_t *opts,
                              const char *error)
{
	const gm_assets_t *m = o->m;
	const gm_assets_stream_t *st = gm_assets_streaming(m);
	const gm_assets_check_t *checks;
	const gm_assets_thrash_t *thrash;
	size_t nchecks, nthrash, i, by_state[gm_asset_state_count] = {0};
	char version[16];
	gm_json_t j;
	unsigned k;

	for (i = 0; i < o->nassets; i++)
		if (o->assets[i].known && o->assets[i].state < gm_asset_state_count)
			by_state[o->assets[i].state]++;
	gm_json_init(&j, stdout, 1);
	gm_json_object_begin(&j);
	snprintf(version, sizeof(version), "%u.%u", o->info->version_major, o->info->version_minor);
	gm_json_key_string(&j, "format_version", version);
	gm_json_key_string(&j, "file", o->path);
	gm_json_key_string(&j, "error", error);
	gm_json_key_bool(&j, "exact", gm_assets_exact(m));
	gm_json_key_u64(&j, "frames", gm_assets_frames(m));
	gm_json_key_u64(&j, "last_frame", gm_assets_last_frame(m));
	gm_json_key_u64(&j, "start_ns", gm_assets_start_ns(m));
	gm_json_key_u64(&j, "duration_ns", gm_assets_duration_ns(m));
	gm_json_key(&j, "options");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "orphan_frames", opts->orphan_frames);
	gm_json_key_u64(&j, "stale_frames", opts->stale_frames);
	gm_json_key_u64(&j, "thrash_frames", opts->thrash_frames);
	gm_json_object_end(&j);

	gm_json_key(&j, "totals");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "assets", o->nassets);
	for (k = 0; k < gm_asset_state_count; k++)
		gm_json_key_u64(&j, gm_assets_state_name(k), by_state[k]);
	gm_json_key_u64(&j, "live_bytes", gm_assets_live_bytes(m));
	gm_json_key_u64(&j, "asset_bytes", gm_assets_asset_bytes(m));
	gm_json_key_u64(&j, "extra_bytes", gm_assets_extra_bytes(m));
	gm_json_object_end(&j);

	gm_json_key(&j, "assets");
	gm_json_array_begin(&j);
	for (i = 0; i < o->nassets; i++)
		gm_cmd_assets_json_asset(&j, o, &o->assets[o->order[i]]);
	gm_json_array_end(&j);

	gm_json_key(&j, "types");
	gm_json_array_begin(&j);
	for (i = 0; i < o->ntypes; i++) {
		const gm_assets_type_t *t = &o->types[i];

		gm_json_object_begin(&j);
		gm_json_key_string(&j, "type", t->name);
		gm_json_key_u64(&j, "assets", t->assets);
		gm_json_key_u64(&j, "resident", t->resident);
		gm_json_key_u64(&j, "live_bytes", t->live_bytes);
		gm_json_key_u64(&j, "peak_live_bytes", t->peak_bytes);
		gm_json_key_u64(&j, "allocated_bytes", t->allocated_bytes);
		gm_json_key_u64(&j, "extra_bytes", t->extra_bytes);
		gm_json_key_u64(&j, "touches", t->touches);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);

	gm_json_key(&j, "tags");
	gm_json_array_begin(&j);
	for (i = 0; i < o->ntags; i++) {
		const gm_assets_tag_t *t = &o->tags[o->tag_order[i]];

		if (!t->name)
			continue;
		gm_json_object_begin(&j);
		gm_json_key_string(&j, "tag", t->name);
		if (t->id)
			gm_json_key_u64(&j, "id", t->id);
		else
			gm_json_key_null(&j, "id");
		gm_json_key_string(&j, "parent",
		                   t->parent != GM_ASSETS_NONE ? o->tags[t->parent].name : NULL);
		gm_cmd_assets_json_tag(&j, o, t);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	gm_json_key(&j, "untagged");
	gm_json_object_begin(&j);
	gm_cmd_assets_json_tag(&j, o, &o->tags[0]);
	gm_json_object_end(&j);

	gm_json_key(&j, "streaming");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "seconds", st->seconds);
	gm_cmd_assets_json_rate(&j, "loaded", &st->loaded);
	gm_cmd_assets_json_rate(&j, "unloaded", &st->unloaded);
	gm_json_key(&j, "residency");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "count", st->residencies);
	gm_json_key_u64(&j, "p50_ns", st->residency_p50_ns);
	gm_json_key_u64(&j, "p90_ns", st->residency_p90_ns);
	gm_json_key_u64(&j, "p99_ns", st->residency_p99_ns);
	gm_json_key_u64(&j, "max_ns", st->residency_max_ns);
	gm_json_key_u64(&j, "still_resident", st->still_resident);
	gm_json_object_end(&j);
	gm_json_key(&j, "thrash");
	gm_json_array_begin(&j);
	thrash = gm_assets_thrashes(m, &nthrash);
	for (i = 0; i < nthrash; i++) {
		gm_json_object_begin(&j);
		gm_json_key_string(&j, "name", o->assets[thrash[i].asset].name);
		gm_json_key_u64(&j, "asset", o->assets[thrash[i].asset].id);
		gm_json_key_u64(&j, "previous_asset", o->assets[thrash[i].previous].id);
		gm_json_key_u64(&j, "unload_frame", thrash[i].unload_frame);
		gm_json_key_u64(&j, "reload_frame", thrash[i].reload_frame);
		gm_json_key_u64(&j, "frames", thrash[i].reload_frame - thrash[i].unload_frame);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	gm_json_object_end(&j);

	checks = gm_assets_checks(m, &nchecks);
	gm_json_key(&j, "checks_by_kind");
	gm_json_object_begin(&j);
	for (k = 0; k < gm_assets_check_kind_count; k++) {
		size_t n = 0;

		for (i = 0; i < nchecks; i++)
			n += checks[i].kind == k;
		gm_json_key_u64(&j, gm_assets_check_name(k), n);
	}
	gm_json_object_end(&j);
	gm_json_key(&j, "checks");
	gm_json_array_begin(&j);
	for (i = 0; i < nchecks; i++)
		gm_cmd_assets_json_check(&j, o, &checks[i]);
	gm_json_array_end(&j);

	if (opts->heat_by != gm_assets_by_none) {
		uint32_t bins = gm_assets_heat_bins(m), c;

		gm_json_key(&j, "heatmap");
		gm_json_object_begin(&j);
		gm_json_key_string(&j, "by", gm_assets_by_names[opts->heat_by]);
		gm_json_key_string(&j, "value", gm_assets_heat_names[opts->heat_value]);
		gm_json_key_u64(&j, "bins", bins);
		gm_json_key(&j, "first_frames");
		gm_json_array_begin(&j);
		for (c = 0; c < bins; c++)
			gm_json_u64(&j, o->col_first[c]);
		gm_json_array_end(&j);
		gm_json_key_u64(&j, "last_frame", o->col_first[bins] - 1);
		gm_json_key(&j, "rows");
		gm_json_array_begin(&j);
		for (i = 0; i < o->nheat; i++) {
			const uint64_t *cells = gm_assets_heat_row(m, o->heat_rows[i]);

			gm_json_object_begin(&j);
			gm_json_key_string(&j, "name", o->heat_labels[i]);
			if (opts->heat_by == gm_assets_by_asset)
				gm_json_key_u64(&j, "asset", o->assets[o->heat_rows[i]].id);
			gm_json_key_u64(&j, "peak", o->heat_peak[o->heat_rows[i]]);
			gm_json_key(&j, "cells");
			gm_json_array_begin(&j);
			for (c = 0; c < bins; c++)
				gm_json_u64(&j, cells[c]);
			gm_json_array_end(&j);
			gm_json_object_end(&j);
		}
		gm_json_array_end(&j);
		gm_json_object_end(&j);
	}
	gm_json_object_end(&j);
	return gm_json_finish(&j);
}

/* ---- CSV --------------------------------------------------------------------------- */

static void gm_cmd_assets_csv(const gm_assets_out_t *o)
{
	size_t i, k, n;

	printf("id,name,type,state,live_bytes,live_blocks,peak_live_bytes,allocated_bytes,"
	       "extra_bytes,load_frame,ready_frame,load_duration_ns,unload_frame,unloaded_frame,"
	       "unloaded_live_bytes,refs,refs_max,touches,last_touch_frame,tags\n");
	for (i = 0; i < o->nassets; i++) {
		const gm_assets_asset_t *a = &o->assets[o->order[i]];
		const gm_assets_pair_t *pairs = gm_assets_asset_tags(o->m, a, &n);
		char tags[1024];
		size_t len = 0;

		printf("%llu,", (unsigned long long)a->id);
		gm_text_csv(stdout, a->name);
		putchar(',');
		gm_text_csv(stdout, a->type != GM_ASSETS_NONE ? o->types[a->type].name : NULL);
		printf(",%s,%llu,%llu,%llu,%llu,%llu,",
		       a->known ? gm_assets_state_name(a->state) : "unknown",
		       (unsigned long long)a->live_bytes, (unsigned long long)a->live_blocks,
		       (unsigned long long)a->peak_bytes, (unsigned long long)a->allocated_bytes,
		       (unsigned long long)a->extra_bytes);
		if (a->new_frame)
			printf("%llu", (unsigned long long)a->new_frame);
		putchar(',');
		if (a->ready_frame)
			printf("%llu", (unsigned long long)a->ready_frame);
		putchar(',');
		if (a->ready_ns)
			printf("%llu", (unsigned long long)gm_cmd_assets_load_ns(a));
		putchar(',');
		if (a->unload_frame)
			printf("%llu", (unsigned long long)a->unload_frame);
		putchar(',');
		if (a->unloaded_frame)
			printf("%llu,%llu", (unsigned long long)a->unloaded_frame,
			       (unsigned long long)a->unloaded_bytes);
		else
			putchar(',');
		printf(",%lld,%llu,%llu,", (long long)a->refs, (unsigned long long)a->refs_max,
		       (unsigned long long)a->touches);
		if (a->last_touch_frame)
			printf("%llu", (unsigned long long)a->last_touch_frame);
		putchar(',');
		tags[0] = '\0';
		for (k = 0; k < n; k++) {
			/* a name's ';' and '\' as "\;" and "\\", and a tag named
			 * "(untagged)" or "\u2026" with a '\' first: the list splits
			 * back. Whole names only: a list that does not fit ends with
			 * ";\u2026" after the last name that does */
			char one[2 * 256 + 4];
			size_t m = 0;
			const char *t = o->tags[pairs[k].tag].name;
			if (!t)
				t = "(untagged)";
			else if (strcmp(t, "(untagged)") == 0 || strcmp(t, "\u2026") == 0)
				one[m++] = '\\';
			for (; *t && m + 2 < sizeof(one); t++) {
				if (*t == ';' || *t == '\\')
					one[m++] = '\\';
				one[m++] = *t;
			}
			/* room for it, its ';' and a last ";\u2026" (4 bytes) */
			if (len + (k ? 1 : 0) + m + (k + 1 < n ? 4 : 0) >= sizeof(tags)) {
				memcpy(tags + len, k ? ";\u2026" : "\u2026", k ? 4 : 3);
				len += k ? 4 : 3;
				tags[len] = '\0';
				break;
			}
			if (k)
				tags[len++] = ';';
			memcpy(tags + len, one, m);
			len += m;
			tags[len] = '\0';
		}
		gm_text_csv(stdout, tags);
		putchar('\n');
	}
}

/* ---- command ---------------------------------------------------------------------- */

static int gm_cmd_assets_pick(const char *value, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (names[i] && strcmp(value, names[i]) == 0)
			return i;
	return -1;
}

static void gm_cmd_assets_out_free(gm_assets_out_t *o)
{
	free(o->order);
	free(o->tag_order);
	free(o->heat_rows);
	free(o->heat_peak);
	free(o->col_first);
	free(o->heat_labels);
	free(o->heat_label_buf);
}

/* Parses a frame-count option into *out; -1 on a bad value (message given). */
static int gm_cmd_assets_frames_opt(const char *name, int m, const char *value, uint64_t *out)
{
	if (m < 0 || gm_args_u64(value, out) < 0) {
		fprintf(stderr, "gmtrace assets: %s takes a number of frames\n", name);
		return -1;
	}
	return 0;
}

/* Writes the SVG heat map; 0 or -1 after a message. */
static int gm_cmd_assets_svg(const char *file, const gm_heatmap_t *h)
{
	FILE *f = fopen(file, "w");
	int rc;

	if (!f) {
		fprintf(stderr, "gmtrace assets: cannot write %s: %s\n", file, strerror(errno));
		return -1;
	}
	rc = gm_heatmap_svg(f, h);
	if (fclose(f) != 0 || rc < 0) {
		fprintf(stderr, "gmtrace assets: cannot write %s\n", file);
		return -1;
	}
	return 0;
}

/* gmtrace assets (see cmd.h). Returns GM_CMD_OK, GM_CMD_FAIL (capture
 * unreadable or damaged, a check fired with --check, a file not written),
 * or GM_CMD_USAGE. */
int gm_cmd_assets(int argc, char **argv)
{
	gm_assets_opts_t opts;
	gm_assets_out_t o;
	gm_assets_t *m = NULL;
	gm_reader_t *r = NULL;
	const char *path = NULL, *value, *error, *svg = NULL;
	uint64_t top = GM_ASSETS_TOP_DEFAULT, bins = GM_ASSETS_BINS;
	int json = 0, csv = 0, check = 0, by_set = 0, heat_set = 0, rc = GM_CMD_FAIL, i, mt, err;
	gm_assets_sort_t key = gm_assets_sort_bytes;
	char errbuf[512];
	size_t k;

	memset(&o, 0, sizeof(o));
	gm_assets_opts_default(&opts);
	opts.heat_by = gm_assets_by_asset;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_cmd_assets_usage(stdout);
			return GM_CMD_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--csv") == 0) {
			csv = 1;
		} else if (strcmp(argv[i], "--check") == 0) {
			check = 1;
		} else if ((mt = gm_args_value(argc, argv, &i, "--sort", &value)) != 0) {
			int s = mt < 0 ? -1 :
			                 gm_cmd_assets_pick(value, gm_assets_sort_names,
			                                    gm_assets_sort_count);

			if (s < 0) {
				fprintf(stderr,
				        "gmtrace assets: --sort takes bytes, peak, name, type, "
				        "load_ns or touches\n");
				goto usage;
			}
			key = (gm_assets_sort_t)s;
		} else if ((mt = gm_args_value(argc, argv, &i, "--top", &value)) != 0) {
			if (mt < 0 || gm_args_u64(value, &top) < 0) {
				fprintf(stderr, "gmtrace assets: --top takes a number\n");
				goto usage;
			}
		} else if ((mt = gm_args_value(argc, argv, &i, "--orphan-frames", &value)) != 0) {
			if (gm_cmd_assets_frames_opt("--orphan-frames", mt, value,
			                             &opts.orphan_frames))
				goto usage;
		} else if ((mt = gm_args_value(argc, argv, &i, "--stale-frames", &value)) != 0) {
			if (gm_cmd_assets_frames_opt("--stale-frames", mt, value,
			                             &opts.stale_frames))
				goto usage;
		} else if ((mt = gm_args_value(argc, argv, &i, "--thrash-frames", &value)) != 0) {
			if (gm_cmd_assets_frames_opt("--thrash-frames", mt, value,
			                             &opts.thrash_frames))
				goto usage;
		} else if ((mt = gm_args_value(argc, argv, &i, "--heatmap", &value)) != 0) {
			int v = mt < 0 ? -1 :
			                 gm_cmd_assets_pick(value, gm_assets_heat_names,
			                                    gm_assets_heat_count);

			if (v < 0) {
				fprintf(stderr,
				        "gmtrace assets: --heatmap takes live or touches\n");
				goto usage;
			}
			opts.heat_value = (gm_assets_heat_t)v;
			heat_set = 1;
		} else if ((mt = gm_args_value(argc, argv, &i, "--by", &value)) != 0) {
			int v = mt < 0 ? -1 :
			                 gm_cmd_assets_pick(value, gm_assets_by_names,
			                                    gm_assets_by_count);

			if (v <= 0) {
				fprintf(stderr, "gmtrace assets: --by takes asset, type or tag\n");
				goto usage;
			}
			opts.heat_by = (gm_assets_by_t)v;
			by_set = 1;
		} else if ((mt = gm_args_value(argc, argv, &i, "--bins", &value)) != 0) {
			if (mt < 0 || gm_args_u64(value, &bins) < 0 || bins < 1 ||
			    bins > GM_ASSETS_BINS_MAX) {
				fprintf(stderr, "gmtrace assets: --bins takes a number 1..%d\n",
				        GM_ASSETS_BINS_MAX);
				goto usage;
			}
			heat_set = 1;
		} else if ((mt = gm_args_value(argc, argv, &i, "--svg", &value)) != 0) {
			if (mt < 0 || !*value) {
				fprintf(stderr, "gmtrace assets: --svg takes a file name\n");
				goto usage;
			}
			svg = value;
			heat_set = 1;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "gmtrace assets: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (path) {
			fprintf(stderr, "gmtrace assets: one capture at a time ('%s' and '%s')\n",
			        path, argv[i]);
			goto usage;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "gmtrace assets: no capture given\n");
		goto usage;
	}
	if (json && csv) {
		fprintf(stderr, "gmtrace assets: --json or --csv, not both\n");
		goto usage;
	}
	if (!heat_set && !by_set)
		opts.heat_by = gm_assets_by_none;
	if (opts.heat_by == gm_assets_by_tag && opts.heat_value == gm_assets_heat_touches) {
		fprintf(stderr, "gmtrace assets: touches belong to assets: --by asset or type\n");
		goto usage;
	}
	opts.heat_bins = (uint32_t)bins;
	if (svg && gm_args_same_file(svg, path)) { /* (it would be gone) */
		fprintf(stderr, "gmtrace assets: --svg %s is the capture itself\n", svg);
		return GM_CMD_FAIL;
	}

	r = gm_reader_open(path, errbuf, sizeof(errbuf));
	if (!r) {
		fprintf(stderr, "gmtrace: %s\n", errbuf);
		return GM_CMD_FAIL;
	}
	m = gm_assets_build(r, &opts, &err);
	if (!m)
		goto nomem;
	opts = *gm_assets_options(m);

	o.path = path;
	o.info = gm_reader_info(r);
	o.m = m;
	o.top = (size_t)top;
	o.assets = gm_assets_assets(m, &o.nassets);
	o.types = gm_assets_types(m, &o.ntypes);
	o.tags = gm_assets_tags(m, &o.ntags);
	o.order = malloc((o.nassets ? o.nassets : 1) * sizeof(*o.order));
	o.tag_order = malloc((o.ntags ? o.ntags : 1) * sizeof(*o.tag_order));
	if (!o.order || !o.tag_order)
		goto nomem;
	for (k = 0; k < o.nassets; k++)
		o.order[k] = (uint32_t)k;
	for (k = 0; k < o.ntags; k++)
		o.tag_order[k] = (uint32_t)k;
	gm_cmd_assets_ctx = &o;
	gm_cmd_assets_key = key;
	qsort(o.order, o.nassets, sizeof(*o.order), gm_cmd_assets_cmp);
	qsort(o.tag_order, o.ntags, sizeof(*o.tag_order), gm_cmd_assets_cmp_tag);
	if (opts.heat_by != gm_assets_by_none && gm_cmd_assets_heat_pick(&o, &opts) < 0)
		goto nomem;

	error = gm_reader_error(r);
	if (json) {
		if (gm_cmd_assets_json(&o, &opts, error) < 0)
			goto write_error;
	} else if (csv) {
		gm_cmd_assets_csv(&o);
		/* the table has no column for it (JSON's exact): said beside it */
		if (!gm_assets_exact(m))
			fprintf(stderr,
			        "gmtrace assets: %s in the frames level: asset bytes are not "
			        "recorded%s, its byte columns are 0\n",
			        gm_assets_frames_level_whole(m) ? "the capture is" :
			                                          "part of the capture is",
			        gm_assets_frames_level_whole(m) ? "" : " there");
	} else {
		gm_cmd_assets_text(&o, error);
	}
	if (opts.heat_by != gm_assets_by_none && (svg || (!json && !csv))) {
		gm_heatmap_t h;
		const uint64_t **rows = calloc(o.nheat ? o.nheat : 1, sizeof(*rows));
		char title[256];
		const char *nc = getenv("NO_COLOR");

		if (!rows)
			goto nomem;
		gm_cmd_assets_heat_map(&o, &opts, &h, rows, title, sizeof(title));
		if (!json && !csv) {
			/* its colours are escape sequences of its own, past the
			 * filter of names (its labels are made safe in it) */
			FILE *raw = gm_args_raw_stdout ? gm_args_raw_stdout : stdout;
			int bad;
			putchar('\n');
			if (raw != stdout)
				fflush(stdout);
			/* colours for a terminal; shades in a file or a CI log */
			bad = gm_heatmap_text(raw, &h, !(nc && *nc) && isatty(fileno(raw))) < 0;
			if (raw != stdout)
				bad |= fflush(raw) != 0 || ferror(raw);
			if (bad) {
				free(rows);
				goto write_error;
			}
		}
		if (svg && gm_cmd_assets_svg(svg, &h) < 0) {
			free(rows);
			goto out;
		}
		free(rows);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		goto write_error;
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		goto out;
	}
	if (check) {
		size_t n;

		const gm_assets_check_t *fired = gm_assets_checks(m, &n);
		if (n > 0) {
			fprintf(stderr, "gmtrace assets: %zu check%s fired", n, n == 1 ? "" : "s");
			gm_cmd_assets_fired(stderr, &o, fired, n);
			fputc('\n', stderr);
			goto out;
		}
	}
	rc = GM_CMD_OK;
	goto out;
write_error:
	fprintf(stderr, "gmtrace: assets: cannot write the report\n");
	goto out;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", path);
out:
	gm_cmd_assets_out_free(&o);
	gm_assets_free(m);
	gm_reader_free(r);
	return rc;
usage:
	gm_cmd_assets_usage(stderr);
	return GM_CMD_USAGE;
}

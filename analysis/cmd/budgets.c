/* budgets.c - gmtrace budgets: each budget node's live bytes against its limits, violations, evictions
 *
 * One pass over the capture builds the budgets model (model/budgets.h);
 * this file prints it: text for people (nodes in tree order, a sparkline
 * per node, the events), JSON and CSV for tools. --check fails a CI run on
 * any hard-limit violation. The JSON keys are listed in analysis/README.md,
 * "gmtrace budgets".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/budgets.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"

#define GM_CMD_BUDGETS_ROWS 10  /* rows of each list per node in text */
#define GM_CMD_BUDGETS_SPARK 60 /* sparkline columns at most */

/* What the command prints. */
typedef struct gm_cmd_budgets_out {
	const char *path;
	const gm_reader_info_t *info;
	const gm_budgets_t *m;
	const gm_budgets_node_t *nodes;
	const uint32_t *tree;
	size_t nnodes;
	const gm_budgets_violation_t *violations;
	size_t nviolations;
	const gm_budgets_evict_t *evictions;
	size_t nevictions;
	const gm_budgets_valid_t *valids;
	size_t nvalids;
	uint64_t over_hard, failed, heap_full; /* what --check counts (heap_full: failed ones) */
	uint64_t unenforced; /* nodes without a heap: nothing counted, nothing enforced */
} gm_cmd_budgets_out_t;

static void gm_cmd_budgets_usage(FILE *f)
{
	fprintf(f,
	        "usage: gmtrace budgets [options] CAPTURE\n"
	        "\n"
	        "Per budget node, in tree order: limits, policy and heap; live bytes per\n"
	        "frame against the limits; the peak; frames and time over the soft limit;\n"
	        "violations (when, what, by how much, what was allocating); evictions (asset,\n"
	        "why, bytes reclaimed against bytes held, time) and leaky unloads; failed\n"
	        "allocations; budget validations (evictor_no_progress, unknown_node,\n"
	        "no_evictor, node_redefined, bad_policy). Totals across the nodes.\n"
	        "\n"
	        "  --json          one JSON object (analysis/README.md, \"gmtrace budgets\")\n"
	        "  --csv           the tables nodes, series, violations, evictions, validations\n"
	        "  --check         exit 1 on a hard-limit violation (CI): over_hard, failed,\n"
	        "                  or heap_full on a strict node (the allocation failed); or\n"
	        "                  when the limits were not enforced (nodes without a heap)\n"
	        "  --node NAME     only that node and the nodes below it\n"
	        "  --from F        only frames F and later\n"
	        "  --to F          only frames up to F\n"
	        "  --help          this text\n"
	        "\n"
	        "Exit status: 0 ok, 1 capture unreadable or damaged (the report covers\n"
	        "what could be read) or, with --check, a hard-limit violation or limits\n"
	        "not enforced;\n"
	        "2 bad usage or no node of that name.\n");
}

/* ---- helpers --------------------------------------------------------------------- */

/* A signed byte amount in human units: "-1.0 MiB", "4.0 KiB", or with
 * plus set "+4.0 KiB". */
static const char *gm_cmd_budgets_bytes(char *buf, size_t n, int64_t v, int plus)
{
	size_t sign = v < 0 || (v > 0 && plus);

	if (n < 2)
		return "";
	buf[0] = v < 0 ? '-' : '+';
	gm_text_size(buf + sign, n - sign, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	return buf;
}

/* A limit for text: "-" when there is none. */
static const char *gm_cmd_budgets_limit(char *buf, size_t n, uint64_t v)
{
	if (!v) {
		snprintf(buf, n, "-");
		return buf;
	}
	return gm_text_size(buf, n, v);
}

static const char *gm_cmd_budgets_at(char *buf, size_t n, const gm_cmd_budgets_out_t *o,
                                     uint64_t ns)
{
	char d[GM_TEXT_MAX];
	uint64_t start = gm_budgets_start_ns(o->m);

	snprintf(buf, n, "+%s", gm_text_duration(d, sizeof(d), ns > start ? ns - start : 0));
	return buf;
}

static const char *gm_cmd_budgets_node_name(const gm_cmd_budgets_out_t *o, uint32_t i, char *buf,
                                            size_t n)
{
	if (i == GM_BUDGETS_NONE)
		return "-";
	if (o->nodes[i].name) /* (reports for people only: no control character) */
		return gm_text_line(buf, n, o->nodes[i].name);
	snprintf(buf, n, "node#%llu", (unsigned long long)o->nodes[i].id);
	return buf;
}

/* What --check counts a violation as: 0 over_hard, 1 failed, 2 heap_full
 * that failed the allocation (a strict node), -1 nothing it fails on. */
static int gm_cmd_budgets_check_kind(const gm_budgets_violation_t *v)
{
	return v->event == gm_budget_over_hard               ? 0 :
	       v->event == gm_budget_failed                  ? 1 :
	       v->event == gm_budget_heap_full && v->failure ? 2 :
	                                                       -1;
}

/* What --check fails on, by node: ": NAME N over_hard, N failed, N
 * heap_full from frame F; ..." to f, nodes in tree order, at most
 * GM_CMD_BUDGETS_NAMED of them and then how many more. The counts are per
 * node, the frame its first such violation's. */
#define GM_CMD_BUDGETS_NAMED 8
static void gm_cmd_budgets_failing(FILE *f, const gm_cmd_budgets_out_t *o)
{
	static const char *const kinds[3] = {"over_hard", "failed", "heap_full"};
	uint64_t(*per)[4] = calloc(o->nnodes ? o->nnodes : 1, sizeof(*per));
	size_t k, named = 0, more = 0;

	if (!per)
		return; /* the counts above still say it */
	for (k = 0; k < o->nnodes; k++)
		per[k][3] = UINT64_MAX;
	for (k = 0; k < o->nviolations; k++) {
		const gm_budgets_violation_t *v = &o->violations[k];
		int kind = gm_cmd_budgets_check_kind(v);

		if (kind < 0 || v->node >= o->nnodes || !o->nodes[v->node].shown)
			continue;
		per[v->node][kind]++;
		if (v->frame < per[v->node][3])
			per[v->node][3] = v->frame;
	}
	for (k = 0; k < o->nnodes; k++) {
		uint32_t n = o->tree[k];
		const char *name;
		char nn[32];
		int i, first = 1;

		if (per[n][0] + per[n][1] + per[n][2] == 0)
			continue;
		if (named == GM_CMD_BUDGETS_NAMED) {
			more++;
			continue;
		}
		name = o->nodes[n].name ? o->nodes[n].name :
		                          gm_cmd_budgets_node_name(o, n, nn, sizeof(nn));
		fputs(named++ ? "; " : ": ", f);
		gm_text_quote(f, name, strlen(name));
		for (i = 0; i < 3; i++)
			if (per[n][i]) {
				fprintf(f, "%s %llu %s", first ? "" : ",",
				        (unsigned long long)per[n][i], kinds[i]);
				first = 0;
			}
		fprintf(f, " from frame %llu", (unsigned long long)per[n][3]);
	}
	if (more)
		fprintf(f, "; and %zu more node%s", more, more == 1 ? "" : "s");
	free(per);
}

/* The nodes without a heap (nothing counted or enforced) to f: " (NAME,
 * NAME ...)", at most GM_CMD_BUDGETS_NAMED and how many more. */
static void gm_cmd_budgets_unenforced(FILE *f, const gm_cmd_budgets_out_t *o)
{
	size_t k, named = 0, more = 0;

	for (k = 0; k < o->nnodes; k++) {
		const gm_budgets_node_t *b = &o->nodes[o->tree[k]];
		const char *name;
		char nn[32];

		if (!b->shown || !b->definitions || b->capacity)
			continue;
		if (named == GM_CMD_BUDGETS_NAMED) {
			more++;
			continue;
		}
		name = b->name ? b->name : gm_cmd_budgets_node_name(o, o->tree[k], nn, sizeof(nn));
		fputs(named++ ? ", " : " (", f);
		gm_text_quote(f, name, strlen(name));
	}
	if (more)
		fprintf(f, " and %zu more", more);
	if (named)
		fputc(')', f);
}

static void gm_cmd_budgets_quote(const char *s)
{
	if (s)
		gm_text_quote(stdout, s, strlen(s));
	else
		putchar('-');
}

/* ---- text ------------------------------------------------------------------------ */

/* One line of block characters: the largest peak of each column's frames,
 * scaled to top. */
static void gm_cmd_budgets_spark(const gm_budgets_node_t *b, uint64_t top)
{
	static const char *const bars[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
	                                    "\u2585", "\u2586", "\u2587", "\u2588"};
	size_t cols = b->npoints < GM_CMD_BUDGETS_SPARK ? b->npoints : GM_CMD_BUDGETS_SPARK, c;

	for (c = 0; c < cols; c++) {
		size_t lo = b->npoints * c / cols, hi = b->npoints * (c + 1) / cols, k;
		int64_t v = b->series[lo].peak;
		uint64_t level;

		for (k = lo + 1; k < hi; k++)
			if (b->series[k].peak > v)
				v = b->series[k].peak;
		if (v <= 0 || !top) {
			putchar(' ');
			continue;
		}
		/* 1..8; in 128 bits: a damaged capture's peak may be near 2^63 */
		level = (uint64_t)(((unsigned __int128)v * 8 + top - 1) / top);
		fputs(bars[level > 8 ? 7 : level - 1], stdout);
	}
}

static void gm_cmd_budgets_more(size_t shown, size_t total)
{
	if (total > shown)
		printf("      ... %zu more (--json lists every one)\n", total - shown);
}

static void gm_cmd_budgets_violation_text(const gm_cmd_budgets_out_t *o,
                                          const gm_budgets_violation_t *v)
{
	char at[GM_TEXT_MAX + 1], l[GM_TEXT_MAX], lim[GM_TEXT_MAX], over[GM_TEXT_MAX + 2],
	        req[GM_TEXT_MAX];
	const char *tag = gm_budgets_tag_name(o->m, v->tag);
	const char *asset = gm_budgets_asset_name(o->m, v->asset);

	printf("    %7llu %-11s %-9s %10s %10s %11s %10s  ", (unsigned long long)v->frame,
	       gm_cmd_budgets_at(at, sizeof(at), o, v->ns), gm_budgets_event_name(v->event),
	       gm_cmd_budgets_bytes(l, sizeof(l), v->live, 0),
	       gm_text_size(lim, sizeof(lim), v->limit),
	       gm_cmd_budgets_bytes(over, sizeof(over),
	                            v->live + (int64_t)v->requested - (int64_t)v->limit, 1),
	       gm_text_size(req, sizeof(req), v->requested));
	if (tag)
		gm_text_quote(stdout, tag, strlen(tag));
	else if (v->tag)
		printf("tag#%llu", (unsigned long long)v->tag);
	else
		putchar('-');
	putchar(' ');
	if (asset)
		gm_text_quote(stdout, asset, strlen(asset));
	else if (v->asset)
		printf("#%llu", (unsigned long long)v->asset);
	else
		putchar('-');
	putchar('\n');
}

static void gm_cmd_budgets_violations_text(const gm_cmd_budgets_out_t *o, uint32_t node,
                                           const char *title, int failures)
{
	size_t i, n = 0, shown = 0;

	for (i = 0; i < o->nviolations; i++)
		n += o->violations[i].node == node && (!failures || o->violations[i].failure);
	printf("  %-11s", title);
	if (!n) {
		printf("none\n");
		return;
	}
	printf("%zu\n    %7s %-11s %-9s %10s %10s %11s %10s  %s\n", n, "frame", "at", "event",
	       "live", "limit", "over", "requested", "tag asset");
	for (i = 0; i < o->nviolations && shown < GM_CMD_BUDGETS_ROWS; i++) {
		const gm_budgets_violation_t *v = &o->violations[i];

		if (v->node != node || (failures && !v->failure))
			continue;
		gm_cmd_budgets_violation_text(o, v);
		shown++;
	}
	gm_cmd_budgets_more(shown, n);
}

static void gm_cmd_budgets_evictions_text(const gm_cmd_budgets_out_t *o, uint32_t node,
                                          const char *title, int leaky)
{
	size_t i, n = 0, shown = 0;

	for (i = 0; i < o->nevictions; i++)
		n += o->evictions[i].node == node && (!leaky || o->evictions[i].leaky);
	printf("  %-11s", title);
	if (!n) {
		printf("none\n");
		return;
	}
	if (leaky) {
		printf("%zu (reclaimed less than 90 %% of what the asset held)\n", n);
	} else {
		const gm_budgets_node_t *b = &o->nodes[node];
		char r[GM_TEXT_MAX + 2], d[GM_TEXT_MAX];

		printf("%zu, %s reclaimed, %s in evictors\n", n,
		       gm_cmd_budgets_bytes(r, sizeof(r), b->reclaimed, 0),
		       gm_text_duration(d, sizeof(d), b->eviction_ns));
	}
	printf("    %7s %-11s %-9s %11s %10s %9s  %s\n", "frame", "at", "why", "reclaimed", "held",
	       "time", "asset (type)");
	for (i = 0; i < o->nevictions && shown < GM_CMD_BUDGETS_ROWS; i++) {
		const gm_budgets_evict_t *e = &o->evictions[i];
		char at[GM_TEXT_MAX + 1], r[GM_TEXT_MAX + 2], h[GM_TEXT_MAX], d[GM_TEXT_MAX];
		const char *name, *type;

		if (e->node != node || (leaky && !e->leaky))
			continue;
		name = gm_budgets_asset_name(o->m, e->asset);
		type = gm_budgets_asset_type(o->m, e->asset);
		printf("    %7llu %-11s %-9s %11s %10s %9s  ", (unsigned long long)e->frame,
		       gm_cmd_budgets_at(at, sizeof(at), o, e->ns), gm_budgets_event_name(e->event),
		       gm_cmd_budgets_bytes(r, sizeof(r), e->reclaimed, 0),
		       gm_text_size(h, sizeof(h), e->asset_bytes),
		       gm_text_duration(d, sizeof(d), e->duration_ns));
		if (name)
			gm_text_quote(stdout, name, strlen(name));
		else
			printf("#%llu", (unsigned long long)e->asset);
		if (type) {
			printf(" (");
			gm_text_quote(stdout, type, strlen(type));
			putchar(')');
		}
		putchar('\n');
		shown++;
	}
	gm_cmd_budgets_more(shown, n);
}

static void gm_cmd_budgets_node_text(const gm_cmd_budgets_out_t *o, uint32_t i)
{
	const gm_budgets_node_t *b = &o->nodes[i];
	char s[GM_TEXT_MAX], h[GM_TEXT_MAX], t[GM_TEXT_MAX], c[GM_TEXT_MAX], d[GM_TEXT_MAX],
	        at[GM_TEXT_MAX + 1], pn[32], nn[32];
	uint64_t top = b->hard > b->soft ? b->hard : b->soft;
	const char *scale = b->hard >= b->soft && b->hard ? "hard limit" : "soft limit";

	printf("\n%*s%s (id %llu", (int)(2 * b->depth), "",
	       gm_cmd_budgets_node_name(o, i, nn, sizeof(nn)), (unsigned long long)b->id);
	if (b->parent != GM_BUDGETS_NONE)
		printf(", under %s", gm_cmd_budgets_node_name(o, b->parent, pn, sizeof(pn)));
	printf(")\n");
	if (b->definitions)
		printf("  limits     soft %s, hard %s, target %s, %s, %s mode, heap %s\n",
		       gm_cmd_budgets_limit(s, sizeof(s), b->soft),
		       gm_cmd_budgets_limit(h, sizeof(h), b->hard),
		       gm_cmd_budgets_limit(t, sizeof(t), b->target),
		       gm_budgets_policy_name(b->policy), b->strict ? "strict" : "soft",
		       b->capacity ? gm_text_size(c, sizeof(c), b->capacity) : "none");
	else
		printf("  limits     unknown (no budget_node record)\n");
	if (b->npoints) {
		char mn[GM_TEXT_MAX + 2], mean[GM_TEXT_MAX], pk[GM_TEXT_MAX + 2],
		        end[GM_TEXT_MAX + 2];

		printf("  live       frames %llu-%llu: min %s, mean %s, peak %s (frame %llu, %s), "
		       "end %s\n",
		       (unsigned long long)b->series[0].frame,
		       (unsigned long long)b->series[b->npoints - 1].frame,
		       gm_cmd_budgets_bytes(mn, sizeof(mn), b->live_min, 0),
		       gm_text_size(mean, sizeof(mean), gm_text_whole(b->live_mean)),
		       gm_cmd_budgets_bytes(pk, sizeof(pk), b->peak, 0),
		       (unsigned long long)b->peak_frame,
		       gm_cmd_budgets_at(at, sizeof(at), o, b->peak_ns),
		       gm_cmd_budgets_bytes(end, sizeof(end), b->live_end, 0));
		if (b->peak > 0 && (uint64_t)b->peak > top) {
			top = (uint64_t)b->peak;
			scale = "peak";
		}
		printf("             ");
		gm_cmd_budgets_spark(b, top);
		printf("  peak per frame, full = %s (%s)\n", gm_text_size(h, sizeof(h), top),
		       scale);
	} else {
		printf("  live       no budget_frame record\n");
	}
	if (b->soft)
		printf("  over soft  %llu frames, %s\n", (unsigned long long)b->frames_over_soft,
		       gm_text_duration(d, sizeof(d), b->over_soft_ns));
	else
		printf("  over soft  - (no soft limit)\n");
	if (b->hard)
		printf("  over hard  %llu frames\n", (unsigned long long)b->frames_over_hard);
	gm_cmd_budgets_violations_text(o, i, "violations", 0);
	gm_cmd_budgets_evictions_text(o, i, "evictions", 0);
	gm_cmd_budgets_evictions_text(o, i, "leaky", 1);
	gm_cmd_budgets_violations_text(o, i, "failed", 1);
}

static void gm_cmd_budgets_valid_text(const gm_cmd_budgets_out_t *o, const gm_budgets_valid_t *v)
{
	char at[GM_TEXT_MAX + 1], h[GM_TEXT_MAX], nn[32];
	const char *asset = gm_budgets_asset_name(o->m, v->asset);

	printf("  %7llu %-11s %-20s ", (unsigned long long)v->frame,
	       gm_cmd_budgets_at(at, sizeof(at), o, v->ns), gm_budgets_valid_name(v->code));
	switch (v->code) {
	case gm_valid_evictor_no_progress:
		printf("node %s, asset ", gm_cmd_budgets_node_name(o, v->node, nn, sizeof(nn)));
		if (asset)
			gm_cmd_budgets_quote(asset);
		else
			printf("#%llu", (unsigned long long)v->asset);
		printf(": its evictor reclaimed nothing (the asset held %s)\n",
		       gm_text_size(h, sizeof(h), v->detail));
		break;
	case gm_valid_node_redefined:
		printf("node %s defined again (hard limit %s asked): its first definition stays\n",
		       gm_cmd_budgets_node_name(o, v->node, nn, sizeof(nn)),
		       gm_text_size(h, sizeof(h), v->detail));
		break;
	case gm_valid_bad_policy:
		printf("node %s: policy %llu is none of lru, lfu, largest, priority: its policy "
		       "stays\n",
		       gm_cmd_budgets_node_name(o, v->node, nn, sizeof(nn)),
		       (unsigned long long)(uint32_t)v->detail);
		break;
	case gm_valid_no_evictor:
		printf("node %s: over a limit, evictable asset ",
		       gm_cmd_budgets_node_name(o, v->node, nn, sizeof(nn)));
		if (asset)
			gm_cmd_budgets_quote(asset);
		else
			printf("#%llu", (unsigned long long)v->asset);
		printf(", but no evictor registered\n");
		break;
	default:
		printf("node id %llu (0: by name), detail %llu: no such node\n",
		       (unsigned long long)v->subject, (unsigned long long)v->detail);
		break;
	}
}

static void gm_cmd_budgets_text(const gm_cmd_budgets_out_t *o, const char *error)
{
	const gm_budgets_totals_t *tot = gm_budgets_totals(o->m);
	const gm_budgets_opts_t *opts = gm_budgets_options(o->m);
	char d[GM_TEXT_MAX], r[GM_TEXT_MAX + 2];
	size_t k, nval = 0;

	printf("capture   %s (format %u.%u), %llu frames, %s\n", o->path, o->info->version_major,
	       o->info->version_minor, (unsigned long long)gm_budgets_frames(o->m),
	       gm_text_duration(d, sizeof(d), gm_budgets_duration_ns(o->m)));
	if (error)
		printf("damaged   %s\n", error);
	if (opts->from || opts->to != UINT64_MAX) {
		/* records after the last mark are in frame marks + 1 */
		uint64_t marks = gm_budgets_frames(o->m);
		printf("range     frames %llu..", (unsigned long long)opts->from);
		if (opts->to != UINT64_MAX)
			printf("%llu", (unsigned long long)opts->to);
		if (opts->from > marks + 1)
			printf(": past the capture's end (%llu frame marks), nothing in it",
			       (unsigned long long)marks);
		putchar('\n');
	}
	printf("budgets   %llu node%s%s%s: %llu violations (%llu over_soft, %llu over_hard, "
	       "%llu failed, %llu heap_full), %llu evictions (%s reclaimed, %llu leaky), %llu "
	       "failed allocations, %llu validations\n",
	       (unsigned long long)tot->nodes, tot->nodes == 1 ? "" : "s",
	       opts->node ? " under " : "", opts->node ? opts->node : "",
	       (unsigned long long)(tot->violations[0] + tot->violations[1] + tot->violations[2] +
	                            tot->violations[3]),
	       (unsigned long long)tot->violations[gm_budget_over_soft],
	       (unsigned long long)tot->violations[gm_budget_over_hard],
	       (unsigned long long)tot->violations[gm_budget_failed],
	       (unsigned long long)tot->violations[gm_budget_heap_full],
	       (unsigned long long)tot->evictions,
	       gm_cmd_budgets_bytes(r, sizeof(r), tot->reclaimed, 0),
	       (unsigned long long)tot->leaky, (unsigned long long)tot->failed,
	       (unsigned long long)tot->validations);
	if (o->over_hard + o->failed + o->heap_full) {
		printf("check     FAILED: %llu over_hard, %llu failed, %llu heap_full that failed "
		       "an allocation",
		       (unsigned long long)o->over_hard, (unsigned long long)o->failed,
		       (unsigned long long)o->heap_full);
		gm_cmd_budgets_failing(stdout, o);
		putchar('\n');
	} else if (!o->unenforced)
		printf("check     passed: no hard-limit violation\n");
	if (o->unenforced) {
		printf("check     FAILED: %llu node%s had no heap",
		       (unsigned long long)o->unenforced, o->unenforced == 1 ? "" : "s");
		gm_cmd_budgets_unenforced(stdout, o);
		printf(", so nothing was counted or enforced during the run (the heaps' address "
		       "space could not be reserved: a lower RLIMIT_AS, ulimit -v?); gmtrace "
		       "platforms checks a profile's banks on the capture\n");
	}

	if (tot->nodes) {
		printf("\n  %-24s %10s %10s %10s %-8s %-6s %10s %10s %10s %7s %10s\n", "node",
		       "soft", "hard", "target", "policy", "mode", "heap", "end", "peak", "frame",
		       "over soft");
		for (k = 0; k < o->nnodes; k++) {
			const gm_budgets_node_t *b = &o->nodes[o->tree[k]];
			char name[64], nn[32], s[GM_TEXT_MAX], h[GM_TEXT_MAX], t[GM_TEXT_MAX],
			        c[GM_TEXT_MAX], e[GM_TEXT_MAX + 2], p[GM_TEXT_MAX + 2], f[24],
			        os[24];

			if (!b->shown)
				continue;
			snprintf(name, sizeof(name), "%*s%s", (int)(2 * b->depth), "",
			         gm_cmd_budgets_node_name(o, o->tree[k], nn, sizeof(nn)));
			snprintf(f, sizeof(f), "%llu", (unsigned long long)b->peak_frame);
			snprintf(os, sizeof(os), "%llu fr",
			         (unsigned long long)b->frames_over_soft);
			printf("  %-24s %10s %10s %10s %-8s %-6s %10s %10s %10s %7s %10s\n", name,
			       gm_cmd_budgets_limit(s, sizeof(s), b->soft),
			       gm_cmd_budgets_limit(h, sizeof(h), b->hard),
			       gm_cmd_budgets_limit(t, sizeof(t), b->target),
			       b->definitions ? gm_budgets_policy_name(b->policy) : "-",
			       b->definitions ? (b->strict ? "strict" : "soft") : "-",
			       gm_cmd_budgets_limit(c, sizeof(c), b->capacity),
			       b->npoints ? gm_cmd_budgets_bytes(e, sizeof(e), b->live_end, 0) :
			                    "-",
			       b->npoints ? gm_cmd_budgets_bytes(p, sizeof(p), b->peak, 0) : "-",
			       b->npoints ? f : "-", b->soft ? os : "-");
		}
		for (k = 0; k < o->nnodes; k++)
			if (o->nodes[o->tree[k]].shown)
				gm_cmd_budgets_node_text(o, o->tree[k]);
	} else {
		printf("\nno budget nodes%s\n", opts->node ? "" : " (the game defined none)");
	}

	for (k = 0; k < o->nvalids; k++)
		nval += (size_t)gm_budgets_valid_shown(o->m, &o->valids[k]);
	printf("\nvalidations%s\n", nval ? "" : " none");
	if (nval)
		printf("  %7s %-11s %-20s %s\n", "frame", "at", "code", "what");
	for (k = 0; k < o->nvalids; k++)
		if (gm_budgets_valid_shown(o->m, &o->valids[k]))
			gm_cmd_budgets_valid_text(o, &o->valids[k]);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void gm_cmd_budgets_json_asset(gm_json_t *j, const gm_cmd_budgets_out_t *o, uint64_t id)
{
	if (id)
		gm_json_key_u64(j, "asset", id);
	else
		gm_json_key_null(j, "asset");
	gm_json_key_string(j, "asset_name", gm_budgets_asset_name(o->m, id));
	gm_json_key_string(j, "asset_type", gm_budgets_asset_type(o->m, id));
}

static void gm_cmd_budgets_json_violation(gm_json_t *j, const gm_cmd_budgets_out_t *o,
                                          const gm_budgets_violation_t *v)
{
	gm_json_object_begin(j);
	gm_json_key_string(j, "event", gm_budgets_event_name(v->event));
	gm_json_key_u64(j, "frame", v->frame);
	gm_json_key_u64(j, "ns", v->ns);
	gm_json_key_u64(j, "thread", v->thread);
	gm_json_key_i64(j, "live_bytes", v->live);
	gm_json_key_u64(j, "limit_bytes", v->limit);
	gm_json_key_i64(j, "over_bytes", v->live - (int64_t)v->limit);
	gm_json_key_u64(j, "requested_bytes", v->requested);
	gm_json_key_i64(j, "excess_bytes", v->live + (int64_t)v->requested - (int64_t)v->limit);
	gm_json_key_bool(j, "failure", (int)v->failure);
	gm_json_key_string(j, "tag", gm_budgets_tag_name(o->m, v->tag));
	if (v->tag)
		gm_json_key_u64(j, "tag_id", v->tag);
	else
		gm_json_key_null(j, "tag_id");
	gm_cmd_budgets_json_asset(j, o, v->asset);
	gm_json_object_end(j);
}

static void gm_cmd_budgets_json_evict(gm_json_t *j, const gm_cmd_budgets_out_t *o,
                                      const gm_budgets_evict_t *e)
{
	gm_json_object_begin(j);
	gm_cmd_budgets_json_asset(j, o, e->asset);
	gm_json_key_string(j, "event", gm_budgets_event_name(e->event));
	gm_json_key_u64(j, "frame", e->frame);
	gm_json_key_u64(j, "ns", e->ns);
	gm_json_key_u64(j, "thread", e->thread);
	gm_json_key_i64(j, "reclaimed_bytes", e->reclaimed);
	gm_json_key_u64(j, "asset_bytes", e->asset_bytes);
	if (e->asset_bytes)
		gm_json_key_double(j, "reclaimed_fraction",
		                   (double)e->reclaimed / (double)e->asset_bytes);
	else
		gm_json_key_null(j, "reclaimed_fraction");
	gm_json_key_u64(j, "duration_ns", e->duration_ns);
	gm_json_key_bool(j, "leaky", (int)e->leaky);
	gm_json_object_end(j);
}

static void gm_cmd_budgets_json_node(gm_json_t *j, const gm_cmd_budgets_out_t *o, uint32_t i)
{
	const gm_budgets_node_t *b = &o->nodes[i];
	uint64_t nviol = 0;
	size_t k;
	unsigned e;

	gm_json_object_begin(j);
	gm_json_key_u64(j, "id", b->id);
	gm_json_key_string(j, "name", b->name);
	gm_json_key_string(j, "parent",
	                   b->parent != GM_BUDGETS_NONE ? o->nodes[b->parent].name : NULL);
	if (b->parent_id)
		gm_json_key_u64(j, "parent_id", b->parent_id);
	else
		gm_json_key_null(j, "parent_id");
	gm_json_key_u64(j, "depth", b->depth);
	gm_json_key_u64(j, "soft_limit_bytes", b->soft);
	gm_json_key_u64(j, "hard_limit_bytes", b->hard);
	gm_json_key_u64(j, "target_bytes", b->target);
	gm_json_key_string(j, "policy", b->definitions ? gm_budgets_policy_name(b->policy) : NULL);
	gm_json_key_bool(j, "strict", (int)b->strict);
	gm_json_key_u64(j, "heap_capacity_bytes", b->capacity);
	gm_json_key_u64(j, "definitions", b->definitions);
	if (b->definitions) {
		gm_json_key_u64(j, "defined_frame", b->defined_frame);
		gm_json_key_u64(j, "defined_ns", b->defined_ns);
	} else {
		gm_json_key_null(j, "defined_frame");
		gm_json_key_null(j, "defined_ns");
	}

	gm_json_key_u64(j, "frames", b->npoints);
	if (b->npoints) {
		gm_json_key_i64(j, "live_bytes", b->live_end);
		gm_json_key_i64(j, "min_live_bytes", b->live_min);
		gm_json_key_double(j, "mean_live_bytes", b->live_mean);
		gm_json_key_i64(j, "peak_live_bytes", b->peak);
		gm_json_key_u64(j, "peak_frame", b->peak_frame);
		gm_json_key_u64(j, "peak_ns", b->peak_ns);
	} else {
		gm_json_key_null(j, "live_bytes");
		gm_json_key_null(j, "min_live_bytes");
		gm_json_key_null(j, "mean_live_bytes");
		gm_json_key_null(j, "peak_live_bytes");
		gm_json_key_null(j, "peak_frame");
		gm_json_key_null(j, "peak_ns");
	}
	gm_json_key_u64(j, "frames_over_soft", b->frames_over_soft);
	gm_json_key_u64(j, "over_soft_ns", b->over_soft_ns);
	gm_json_key_u64(j, "frames_over_hard", b->frames_over_hard);

	for (e = 0; e < gm_budget_event_count; e++)
		nviol += b->violations[e];
	gm_json_key_u64(j, "nviolations", nviol);
	gm_json_key(j, "violations_by_event");
	gm_json_object_begin(j);
	for (e = 0; e < gm_budget_event_count; e++)
		gm_json_key_u64(j, gm_budgets_event_name(e), b->violations[e]);
	gm_json_object_end(j);
	gm_json_key(j, "violations");
	gm_json_array_begin(j);
	for (k = 0; k < o->nviolations; k++)
		if (o->violations[k].node == i)
			gm_cmd_budgets_json_violation(j, o, &o->violations[k]);
	gm_json_array_end(j);

	gm_json_key_u64(j, "nevictions", b->evictions);
	gm_json_key_i64(j, "reclaimed_bytes", b->reclaimed);
	gm_json_key_u64(j, "eviction_ns", b->eviction_ns);
	gm_json_key(j, "evictions");
	gm_json_array_begin(j);
	for (k = 0; k < o->nevictions; k++)
		if (o->evictions[k].node == i)
			gm_cmd_budgets_json_evict(j, o, &o->evictions[k]);
	gm_json_array_end(j);
	gm_json_key_u64(j, "nleaky_unloads", b->leaky);
	gm_json_key(j, "leaky_unloads");
	gm_json_array_begin(j);
	for (k = 0; k < o->nevictions; k++)
		if (o->evictions[k].node == i && o->evictions[k].leaky)
			gm_cmd_budgets_json_evict(j, o, &o->evictions[k]);
	gm_json_array_end(j);

	gm_json_key_u64(j, "nfailed", b->failed);
	gm_json_key(j, "failed");
	gm_json_array_begin(j);
	for (k = 0; k < o->nviolations; k++)
		if (o->violations[k].node == i && o->violations[k].failure)
			gm_cmd_budgets_json_violation(j, o, &o->violations[k]);
	gm_json_array_end(j);

	gm_json_key(j, "series");
	gm_json_array_begin(j);
	for (k = 0; k < b->npoints; k++) {
		int pretty = j->pretty;

		/* one line per point: a frame per line keeps long series readable */
		gm_json_array_begin(j);
		j->pretty = 0;
		gm_json_u64(j, b->series[k].frame);
		gm_json_i64(j, b->series[k].live);
		gm_json_i64(j, b->series[k].peak);
		gm_json_array_end(j);
		j->pretty = pretty;
	}
	gm_json_array_end(j);
	gm_json_object_end(j);
}

static int gm_cmd_budgets_json(const gm_cmd_budgets_out_t *o, const char *error)
{
	const gm_budgets_totals_t *tot = gm_budgets_totals(o->m);
	const gm_budgets_opts_t *opts = gm_budgets_options(o->m);
	char version[16];
	uint64_t nviol = 0;
	gm_json_t j;
	size_t k;
	unsigned e;

	gm_json_init(&j, stdout, 1);
	gm_json_object_begin(&j);
	snprintf(version, sizeof(version), "%u.%u", o->info->version_major, o->info->version_minor);
	gm_json_key_string(&j, "format_version", version);
	gm_json_key_string(&j, "file", o->path);
	gm_json_key_string(&j, "error", error);
	gm_json_key_u64(&j, "frames", gm_budgets_frames(o->m));
	gm_json_key_u64(&j, "start_ns", gm_budgets_start_ns(o->m));
	gm_json_key_u64(&j, "duration_ns", gm_budgets_duration_ns(o->m));
	gm_json_key(&j, "range");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "from", opts->from);
	if (opts->to != UINT64_MAX)
		gm_json_key_u64(&j, "to", opts->to);
	else
		gm_json_key_null(&j, "to");
	gm_json_object_end(&j);
	gm_json_key_string(&j, "node", opts->node);

	gm_json_key(&j, "check");
	gm_json_object_begin(&j);
	gm_json_key_bool(&j, "passed",
	                 o->over_hard + o->failed + o->heap_full + o->unenforced == 0);
	gm_json_key_u64(&j, "over_hard", o->over_hard);
	gm_json_key_u64(&j, "failed", o->failed);
	gm_json_key_u64(&j, "heap_full", o->heap_full);
	gm_json_key_u64(&j, "not_enforced", o->unenforced);
	gm_json_object_end(&j);

	gm_json_key(&j, "totals");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "nodes", tot->nodes);
	for (e = 0; e < gm_budget_event_count; e++)
		nviol += tot->violations[e];
	gm_json_key_u64(&j, "violations", nviol);
	gm_json_key(&j, "violations_by_event");
	gm_json_object_begin(&j);
	for (e = 0; e < gm_budget_event_count; e++)
		gm_json_key_u64(&j, gm_budgets_event_name(e), tot->violations[e]);
	gm_json_object_end(&j);
	gm_json_key_u64(&j, "evictions", tot->evictions);
	gm_json_key_i64(&j, "reclaimed_bytes", tot->reclaimed);
	gm_json_key_u64(&j, "eviction_ns", tot->eviction_ns);
	gm_json_key_u64(&j, "leaky_unloads", tot->leaky);
	gm_json_key_u64(&j, "failed_allocations", tot->failed);
	gm_json_key_u64(&j, "validations", tot->validations);
	gm_json_object_end(&j);

	gm_json_key(&j, "nodes");
	gm_json_array_begin(&j);
	for (k = 0; k < o->nnodes; k++)
		if (o->nodes[o->tree[k]].shown)
			gm_cmd_budgets_json_node(&j, o, o->tree[k]);
	gm_json_array_end(&j);

	gm_json_key(&j, "validations");
	gm_json_array_begin(&j);
	for (k = 0; k < o->nvalids; k++) {
		const gm_budgets_valid_t *v = &o->valids[k];

		if (!gm_budgets_valid_shown(o->m, v))
			continue;
		gm_json_object_begin(&j);
		gm_json_key_string(&j, "code", gm_budgets_valid_name(v->code));
		gm_json_key_u64(&j, "code_number", v->code);
		gm_json_key_u64(&j, "frame", v->frame);
		gm_json_key_u64(&j, "ns", v->ns);
		gm_json_key_u64(&j, "thread", v->thread);
		gm_json_key_u64(&j, "subject", v->subject);
		gm_json_key_u64(&j, "detail", v->detail);
		if (v->node != GM_BUDGETS_NONE) {
			gm_json_key_string(&j, "node", o->nodes[v->node].name);
			gm_json_key_u64(&j, "node_id", o->nodes[v->node].id);
		} else {
			gm_json_key_null(&j, "node");
			if (v->code != gm_valid_evictor_no_progress && v->subject)
				gm_json_key_u64(&j, "node_id", v->subject);
			else
				gm_json_key_null(&j, "node_id");
		}
		gm_cmd_budgets_json_asset(&j, o, v->asset);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	gm_json_object_end(&j);
	return gm_json_finish(&j);
}

/* ---- CSV ------------------------------------------------------------------------- */

/* node,node_id: the first two columns of every per-node table */
static void gm_cmd_budgets_csv_node(const gm_cmd_budgets_out_t *o, uint32_t i)
{
	if (i != GM_BUDGETS_NONE) {
		gm_text_csv(stdout, o->nodes[i].name);
		printf(",%llu,", (unsigned long long)o->nodes[i].id);
	} else {
		printf(",,");
	}
}

static void gm_cmd_budgets_csv_asset(const gm_cmd_budgets_out_t *o, uint64_t id)
{
	if (id)
		printf("%llu", (unsigned long long)id);
	putchar(',');
	gm_text_csv(stdout, gm_budgets_asset_name(o->m, id));
	putchar(',');
	gm_text_csv(stdout, gm_budgets_asset_type(o->m, id));
}

static void gm_cmd_budgets_csv(const gm_cmd_budgets_out_t *o)
{
	size_t k, p;

	printf("# nodes\nnode,node_id,parent,depth,soft_limit_bytes,hard_limit_bytes,target_bytes,"
	       "policy,strict,heap_capacity_bytes,frames,live_bytes,min_live_bytes,"
	       "mean_live_bytes,peak_live_bytes,peak_frame,peak_ns,frames_over_soft,over_soft_ns,"
	       "frames_over_hard,over_soft,over_hard,failed,heap_full,nevictions,reclaimed_bytes,"
	       "eviction_ns,nleaky_unloads,nfailed\n");
	for (k = 0; k < o->nnodes; k++) {
		uint32_t i = o->tree[k];
		const gm_budgets_node_t *b = &o->nodes[i];

		if (!b->shown)
			continue;
		gm_cmd_budgets_csv_node(o, i);
		if (b->parent != GM_BUDGETS_NONE)
			gm_text_csv(stdout, o->nodes[b->parent].name);
		printf(",%u,%llu,%llu,%llu,%s,%u,%llu,%zu,", b->depth, (unsigned long long)b->soft,
		       (unsigned long long)b->hard, (unsigned long long)b->target,
		       b->definitions ? gm_budgets_policy_name(b->policy) : "", b->strict,
		       (unsigned long long)b->capacity, b->npoints);
		if (b->npoints) {
			char mean[40] = ""; /* as in the JSON */
			gm_json_number(mean, sizeof(mean), b->live_mean);
			printf("%lld,%lld,%s,%lld,%llu,%llu", (long long)b->live_end,
			       (long long)b->live_min, mean, (long long)b->peak,
			       (unsigned long long)b->peak_frame, (unsigned long long)b->peak_ns);
		} else
			printf(",,,,,");
		printf(",%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%lld,%llu,%llu,%llu\n",
		       (unsigned long long)b->frames_over_soft, (unsigned long long)b->over_soft_ns,
		       (unsigned long long)b->frames_over_hard,
		       (unsigned long long)b->violations[gm_budget_over_soft],
		       (unsigned long long)b->violations[gm_budget_over_hard],
		       (unsigned long long)b->violations[gm_budget_failed],
		       (unsigned long long)b->violations[gm_budget_heap_full],
		       (unsigned long long)b->evictions, (long long)b->reclaimed,
		       (unsigned long long)b->eviction_ns, (unsigned long long)b->leaky,
		       (unsigned long long)b->failed);
	}

	printf("\n# series\nnode,node_id,frame,live_bytes,peak_live_bytes\n");
	for (k = 0; k < o->nnodes; k++) {
		uint32_t i = o->tree[k];
		const gm_budgets_node_t *b = &o->nodes[i];

		for (p = 0; b->shown && p < b->npoints; p++) {
			gm_cmd_budgets_csv_node(o, i);
			printf("%llu,%lld,%lld\n", (unsigned long long)b->series[p].frame,
			       (long long)b->series[p].live, (long long)b->series[p].peak);
		}
	}

	printf("\n# violations\nnode,node_id,event,frame,ns,thread,live_bytes,limit_bytes,"
	       "over_bytes,requested_bytes,excess_bytes,failure,tag,tag_id,asset,asset_name,"
	       "asset_type\n");
	for (k = 0; k < o->nviolations; k++) {
		const gm_budgets_violation_t *v = &o->violations[k];

		if (!o->nodes[v->node].shown)
			continue;
		gm_cmd_budgets_csv_node(o, v->node);
		printf("%s,%llu,%llu,%u,%lld,%llu,%lld,%llu,%lld,%u,",
		       gm_budgets_event_name(v->event), (unsigned long long)v->frame,
		       (unsigned long long)v->ns, v->thread, (long long)v->live,
		       (unsigned long long)v->limit, (long long)(v->live - (int64_t)v->limit),
		       (unsigned long long)v->requested,
		       (long long)(v->live + (int64_t)v->requested - (int64_t)v->limit),
		       v->failure);
		gm_text_csv(stdout, gm_budgets_tag_name(o->m, v->tag));
		putchar(',');
		if (v->tag)
			printf("%llu", (unsigned long long)v->tag);
		putchar(',');
		gm_cmd_budgets_csv_asset(o, v->asset);
		putchar('\n');
	}

	printf("\n# evictions\nnode,node_id,asset,asset_name,asset_type,event,frame,ns,thread,"
	       "reclaimed_bytes,asset_bytes,reclaimed_fraction,duration_ns,leaky\n");
	for (k = 0; k < o->nevictions; k++) {
		const gm_budgets_evict_t *e = &o->evictions[k];

		if (!o->nodes[e->node].shown)
			continue;
		gm_cmd_budgets_csv_node(o, e->node);
		gm_cmd_budgets_csv_asset(o, e->asset);
		printf(",%s,%llu,%llu,%u,%lld,%llu,", gm_budgets_event_name(e->event),
		       (unsigned long long)e->frame, (unsigned long long)e->ns, e->thread,
		       (long long)e->reclaimed, (unsigned long long)e->asset_bytes);
		if (e->asset_bytes) { /* as in the JSON; empty for null */
			char num[40];
			if (gm_json_number(num, sizeof(num),
			                   (double)e->reclaimed / (double)e->asset_bytes))
				fputs(num, stdout);
		}
		printf(",%llu,%u\n", (unsigned long long)e->duration_ns, e->leaky);
	}

	printf("\n# validations\nnode,node_id,code,code_number,frame,ns,thread,subject,detail,asset,"
	       "asset_name,asset_type\n");
	for (k = 0; k < o->nvalids; k++) {
		const gm_budgets_valid_t *v = &o->valids[k];

		if (!gm_budgets_valid_shown(o->m, v))
			continue;
		gm_cmd_budgets_csv_node(o, v->node);
		printf("%s,%u,%llu,%llu,%u,%llu,%llu,", gm_budgets_valid_name(v->code), v->code,
		       (unsigned long long)v->frame, (unsigned long long)v->ns, v->thread,
		       (unsigned long long)v->subject, (unsigned long long)v->detail);
		gm_cmd_budgets_csv_asset(o, v->asset);
		putchar('\n');
	}
}

/* ---- command --------------------------------------------------------------------- */

/* Parses a frame number option; -1 after a message. */
static int gm_cmd_budgets_frame_opt(const char *name, int m, const char *value, uint64_t *out)
{
	if (m < 0 || gm_args_u64(value, out) < 0) {
		fprintf(stderr, "gmtrace budgets: %s takes a frame number\n", name);
		return -1;
	}
	return 0;
}

/* gmtrace budgets (see cmd.h). Returns GM_CMD_OK, GM_CMD_FAIL (capture
 * unreadable or damaged, a hard-limit violation with --check, out of
 * memory, the report not written), or GM_CMD_USAGE (bad arguments, or
 * --node names no node of the capture). */
int gm_cmd_budgets(int argc, char **argv)
{
	gm_budgets_opts_t opts;
	gm_cmd_budgets_out_t o;
	gm_budgets_t *m = NULL;
	gm_reader_t *r = NULL;
	const char *path = NULL, *value, *error;
	int json = 0, csv = 0, check = 0, rc = GM_CMD_FAIL, i, mt, err;
	char errbuf[512];
	size_t k;

	memset(&o, 0, sizeof(o));
	gm_budgets_opts_default(&opts);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_cmd_budgets_usage(stdout);
			return GM_CMD_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--csv") == 0) {
			csv = 1;
		} else if (strcmp(argv[i], "--check") == 0) {
			check = 1;
		} else if ((mt = gm_args_value(argc, argv, &i, "--node", &value)) != 0) {
			if (mt < 0 || !*value) {
				fprintf(stderr, "gmtrace budgets: --node takes a node name\n");
				goto usage;
			}
			opts.node = value;
		} else if ((mt = gm_args_value(argc, argv, &i, "--from", &value)) != 0) {
			if (gm_cmd_budgets_frame_opt("--from", mt, value, &opts.from))
				goto usage;
		} else if ((mt = gm_args_value(argc, argv, &i, "--to", &value)) != 0) {
			if (gm_cmd_budgets_frame_opt("--to", mt, value, &opts.to))
				goto usage;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "gmtrace budgets: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (path) {
			fprintf(stderr, "gmtrace budgets: one capture at a time ('%s' and '%s')\n",
			        path, argv[i]);
			goto usage;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "gmtrace budgets: no capture given\n");
		goto usage;
	}
	if (json && csv) {
		fprintf(stderr, "gmtrace budgets: --json or --csv, not both\n");
		goto usage;
	}
	if (opts.from > opts.to) {
		fprintf(stderr, "gmtrace budgets: --from %llu is after --to %llu\n",
		        (unsigned long long)opts.from, (unsigned long long)opts.to);
		goto usage;
	}

	r = gm_reader_open(path, errbuf, sizeof(errbuf));
	if (!r) {
		fprintf(stderr, "gmtrace: %s\n", errbuf);
		return GM_CMD_FAIL;
	}
	m = gm_budgets_build(r, &opts, &err);
	if (!m)
		goto nomem;
	o.path = path;
	o.info = gm_reader_info(r);
	o.m = m;
	o.nodes = gm_budgets_nodes(m, &o.nnodes);
	o.tree = gm_budgets_tree(m, &k);
	o.violations = gm_budgets_violations(m, &o.nviolations);
	o.evictions = gm_budgets_evictions(m, &o.nevictions);
	o.valids = gm_budgets_valids(m, &o.nvalids);
	if (err == -ENOENT) {
		fprintf(stderr,
		        "gmtrace budgets: no budget node named '%s'; the capture has:", opts.node);
		for (k = 0; k < o.nnodes; k++)
			if (o.nodes[o.tree[k]].name)
				fprintf(stderr, " %s", o.nodes[o.tree[k]].name);
		fprintf(stderr, "%s\n", o.nnodes ? "" : " none");
		rc = GM_CMD_USAGE;
		goto out;
	}
	for (k = 0; k < o.nviolations; k++) {
		const gm_budgets_violation_t *v = &o.violations[k];

		int kind = gm_cmd_budgets_check_kind(v);

		if (!o.nodes[v->node].shown)
			continue;
		o.over_hard += kind == 0;
		o.failed += kind == 1;
		o.heap_full += kind == 2;
	}
	for (k = 0; k < o.nnodes; k++)
		o.unenforced += o.nodes[k].shown && o.nodes[k].definitions && !o.nodes[k].capacity;

	error = gm_reader_error(r);
	if (json) {
		if (gm_cmd_budgets_json(&o, error) < 0)
			goto write_error;
	} else if (csv) {
		gm_cmd_budgets_csv(&o);
	} else {
		gm_cmd_budgets_text(&o, error);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		goto write_error;
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		goto out;
	}
	if (check && o.over_hard + o.failed + o.heap_full) {
		uint64_t n = o.over_hard + o.failed + o.heap_full;

		fprintf(stderr,
		        "gmtrace budgets: %llu hard-limit violation%s (%llu over_hard, %llu failed, "
		        "%llu heap_full that failed an allocation)",
		        (unsigned long long)n, n == 1 ? "" : "s", (unsigned long long)o.over_hard,
		        (unsigned long long)o.failed, (unsigned long long)o.heap_full);
		gm_cmd_budgets_failing(stderr, &o);
		fputc('\n', stderr);
		goto out;
	}
	if (check && o.unenforced) {
		fprintf(stderr, "gmtrace budgets: %llu node%s had no heap",
		        (unsigned long long)o.unenforced, o.unenforced == 1 ? "" : "s");
		gm_cmd_budgets_unenforced(stderr, &o);
		fprintf(stderr, ": the limits were not enforced in this run\n");
		goto out;
	}
	rc = GM_CMD_OK;
	goto out;
write_error:
	fprintf(stderr, "gmtrace: budgets: cannot write the report\n");
	goto out;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", path);
out:
	gm_budgets_free(m);
	gm_reader_free(r);
	return rc;
usage:
	gm_cmd_budgets_usage(stderr);
	return GM_CMD_USAGE;
}

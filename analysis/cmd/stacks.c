/* stacks.c - gmtrace stacks: where the memory was allocated, by call stack
 *
 * One pass over the events into model/stacks.h, then the call stacks
 * ranked by allocated bytes, allocations or bytes live at the end, each with
 * its frames named by model/symbols.h. --folded writes one line per stack,
 * outermost frame first, for flame-graph tools.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/stacks.h"
#include "analysis/model/symbols.h"
#include "analysis/report/callsite.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"

#define GM_STACKS_TOP_DEFAULT 10
#define GM_STACKS_TOP_MAX 1000000

typedef enum gm_stacks_by {
	gm_by_bytes,
	gm_by_count,
	gm_by_live,
	gm_by_count_
} gm_stacks_by_t;

static const char *const gm_stacks_by_names[] = {"bytes", "count", "live"};

static void gm_stacks_usage(FILE *f)
{
	fprintf(f,
	        "usage: gmtrace stacks [--json | --folded] [--by bytes|count|live] [--top N]\n"
	        "                      [--depth D] [--from F] [--to F] [--tag NAME] [--asset NAME]\n"
	        "                      [--match TEXT] [--no-symbols] CAPTURE\n"
	        "       gmtrace stacks [--json] [--by K] [--top N] [--depth D] [filters]\n"
	        "                      [--check-growth N] --compare A B\n"
	        "\n"
	        "Where a capture's memory was allocated: the call stacks of its\n"
	        "allocations (recorded with GMTRACE_STACKS=N or `gmtrace run --stacks N`),\n"
	        "each with its allocations, bytes, largest block and what was still live\n"
	        "at the end, its frames named from the game's files (function, file:line).\n"
	        "\n"
	        "  --by K      rank by allocated bytes (default), allocation count, or\n"
	        "              bytes live at the end (leaks)\n"
	        "  --top N     list N stacks (default %d, all with --folded; 0: all)\n"
	        "  --depth D   show D frames of each stack (default: all recorded)\n"
	        "  --tag NAME  only allocations made under tag NAME or a tag below it\n"
	        "  --asset NAME  only allocations made in the scopes of asset NAME (or of\n"
	        "                those under it: levels/harbor takes levels/harbor/terrain)\n"
	        "  --asset-id ID  only allocations made in the scopes of the asset with id\n"
	        "                ID (as gmtrace assets lists it: one of several of a name)\n"
	        "  --match TEXT  only stacks with a frame whose function or file (or\n"
	        "              inlined function or file) has TEXT in it (a Python\n"
	        "              game's own code: --match mygame/)\n"
	        "  --from F, --to F  only allocations made in frames F..T (a spike's frame:\n"
	        "              --from F --to F); live means still live at the end\n"
	        "  --no-symbols  name frames by module and offset only (no file is read)\n"
	        "  --compare A B  call sites of capture A against B (the same game before\n"
	        "              and after a change), matched by the places they name, most\n"
	        "              changed first (by --by); --check-growth N exits 1 when one\n"
	        "              grew by more than N (bytes, or allocations with --by count)\n"
	        "  --json      one JSON object (keys: analysis/README.md, \"stacks --json\")\n"
	        "  --folded    one line per stack, \"outer;...;inner VALUE\", VALUE by --by\n"
	        "  --help      this text\n"
	        "\n"
	        "Exit status: 0 ok, 1 capture unreadable or damaged (the report covers\n"
	        "what could be read) or a call site grew past --check-growth,\n"
	        "2 bad usage.\n",
	        GM_STACKS_TOP_DEFAULT);
}

static uint64_t gm_stacks_value(const gm_stack_site_t *s, gm_stacks_by_t by)
{
	return by == gm_by_count ? s->allocations :
	       by == gm_by_live  ? s->live_bytes :
	                           s->allocated_bytes;
}

/* What the command was asked for. */
typedef struct gm_stacks_opts {
	gm_stacks_by_t by;
	uint64_t top, depth;
	uint64_t from, to;             /* frames counted (1..UINT64_MAX: every one) */
	uint64_t from_given, to_given; /* --from/--to as given (0: not), for the header */
	const char *tag, *asset;       /* --tag, --asset (NULL: any) */
	uint64_t asset_id;             /* --asset-id (0: any) */
	const char *match;             /* --match (NULL: every stack) */
	int names;                     /* 0: --no-symbols */
} gm_stacks_opts_t;

static gm_stacks_by_t gm_stacks_sort_by; /* (qsort takes no context) */

static int gm_stacks_cmp(const void *a, const void *b)
{
	const gm_stack_site_t *x = &(*(gm_callsite_row_t *const *)a)->s;
	const gm_stack_site_t *y = &(*(gm_callsite_row_t *const *)b)->s;
	uint64_t vx = gm_stacks_value(x, gm_stacks_sort_by);
	uint64_t vy = gm_stacks_value(y, gm_stacks_sort_by);
	if (vx != vy)
		return vx > vy ? -1 : 1;
	if (x->allocated_bytes != y->allocated_bytes)
		return x->allocated_bytes > y->allocated_bytes ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* One frame for people: "function (file:line)  module", or what is known. */
static void gm_stacks_frame_text(const gm_symbol_t *y, uint64_t pc)
{
	char buf[32];
	const char *name = gm_callsite_name(y, pc, buf, sizeof(buf));
	if (name)
		printf("      %s", name);
	else
		printf("      0x%llx", (unsigned long long)pc);
	if (y->file)
		printf(" (%s:%d)", gm_callsite_base(y->file), y->line);
	else if (y->python && y->line)
		printf(" (line %d)", y->line);
	if (y->inlined) {
		printf(" in inlined %s", y->inlined);
		if (y->inlined_file)
			printf(" (%s:%d)", gm_callsite_base(y->inlined_file), y->inlined_line);
	}
	if (y->module)
		printf("  %s+0x%llx", gm_callsite_base(y->module), (unsigned long long)y->offset);
	putchar('\n');
}

static void gm_stacks_text(const char *path, const gm_reader_info_t *info, gm_stacks_t *st,
                           gm_symbols_t *sy, gm_callsite_row_t *const *order, size_t n,
                           const gm_stacks_opts_t *o, const char *error)
{
	uint64_t top = o->top, depth = o->depth;
	gm_stacks_by_t by = o->by;
	const gm_stacks_totals_t *t = gm_stacks_totals(st);
	char b1[32], b2[32], b3[32];
	size_t i, shown, ranked = n;
	if (by == gm_by_live) /* rows with nothing live left rank last: not listed */
		while (ranked > 0 && order[ranked - 1]->s.live_bytes == 0)
			ranked--;
	shown = top && top < ranked ? (size_t)top : ranked;
	printf("capture   %s (format %u.%u)\n", path, info->version_major, info->version_minor);
	if (o->from_given || o->to_given) {
		printf("frames    ");
		if (o->from_given)
			printf("from %llu ", (unsigned long long)o->from_given);
		if (o->to_given)
			printf("to %llu ", (unsigned long long)o->to_given);
		printf("(of %llu marks): allocations made there only\n",
		       (unsigned long long)t->marks);
	}
	if (o->tag)
		printf("tag       %s (and the tags under it): allocations made under it only\n",
		       o->tag);
	if (o->asset)
		printf("asset     %s: allocations made in its scopes only\n", o->asset);
	if (o->asset_id)
		printf("asset     id %llu: allocations made in its scopes only\n",
		       (unsigned long long)o->asset_id);
	if (o->match) {
		uint64_t na, nb;
		gm_callsite_rows_sum(order, n, &na, &nb);
		printf("match     %s: %llu allocation%s (%s) at stacks with a function or file "
		       "naming it; the figures below are the whole capture's\n",
		       o->match, (unsigned long long)na, na == 1 ? "" : "s",
		       gm_text_size(b1, sizeof(b1), nb));
	}
	printf("stacks    %zu call stack%s, %llu of %llu allocations with a stack (%s of %s)\n",
	       gm_stacks_count(st), gm_stacks_count(st) == 1 ? "" : "s",
	       (unsigned long long)(t->allocations - t->unattributed),
	       (unsigned long long)t->allocations,
	       gm_text_size(b1, sizeof(b1), t->allocated_bytes - t->unattributed_bytes),
	       gm_text_size(b2, sizeof(b2), t->allocated_bytes));
	if (t->definitions == 0 && t->whole == 0 && t->allocations > 0)
		printf("          no call stacks recorded: record with GMTRACE_STACKS=16 "
		       "(or `gmtrace run --stacks 16`)\n");
	if (t->not_kept)
		printf("          %llu allocation%s (%s) with no stack (the game's stack table "
		       "was full, before format 3.2, or no frame could be taken)\n",
		       (unsigned long long)t->not_kept, t->not_kept == 1 ? "" : "s",
		       gm_text_size(b3, sizeof(b3), t->not_kept_bytes));
	if (t->whole)
		printf("          %llu allocation%s (%s) carry their whole stack in the capture "
		       "(the game's stack table was full)\n",
		       (unsigned long long)t->whole, t->whole == 1 ? "" : "s",
		       gm_text_size(b3, sizeof(b3), t->whole_bytes));
	if (t->undefined)
		printf("          %llu stack%s used but not defined in the capture (lost records)\n",
		       (unsigned long long)t->undefined, t->undefined == 1 ? "" : "s");
	if (shown)
		printf("\nby %s, top %zu of %zu (stacks naming the same places are one row):\n",
		       by == gm_by_bytes ? "allocated bytes" :
		       by == gm_by_count ? "allocation count" :
		                           "bytes live at the end",
		       shown, ranked);
	if (ranked < n)
		printf("%s%zu row%s with nothing live at the end not listed\n", shown ? "" : "\n",
		       n - ranked, n - ranked == 1 ? "" : "s");
	for (i = 0; i < shown; i++) {
		const gm_stack_site_t *s = &order[i]->s;
		unsigned k, nf = gm_callsite_shown(s, depth);
		printf("\n#%zu  %s in %llu allocation%s (largest %s), %llu live at the end (%s)",
		       i + 1, gm_text_size(b1, sizeof(b1), s->allocated_bytes),
		       (unsigned long long)s->allocations, s->allocations == 1 ? "" : "s",
		       gm_text_size(b2, sizeof(b2), s->largest), (unsigned long long)s->live_count,
		       gm_text_size(b3, sizeof(b3), s->live_bytes));
		if (s->failures)
			printf(", %llu failed", (unsigned long long)s->failures);
		if (order[i]->merged > 1)
			printf(", %u stacks", order[i]->merged);
		putchar('\n');
		if (s->id == 0)
			printf("      (no stack: the table was full, before format 3.2, or no frame "
			       "could be taken)\n");
		else if (s->nframes == 0)
			printf("      (stack %u: no definition in the capture)\n", s->id);
		for (k = 0; k < nf; k++) {
			gm_symbol_t y;
			gm_symbols_frame(sy, s->frames, k, s->defined_at, &y);
			gm_stacks_frame_text(&y, s->frames[k]);
		}
		if (nf < s->nframes)
			printf("      ... %u more\n", s->nframes - nf);
	}
	if (error)
		printf("\ndamaged: %s\n", error);
}

/* A frame's name for a folded line: no ';' or ' ' inside. */
static void gm_stacks_folded_text(const char *p)
{
	for (; *p; p++)
		putchar(*p == ';' || *p == ' ' ? '_' : *p);
}

static void gm_stacks_folded_name(const gm_symbol_t *y, uint64_t pc)
{
	char buf[32];
	const char *name = gm_callsite_name(y, pc, buf, sizeof(buf));
	if (name) {
		gm_stacks_folded_text(name);
	} else if (y->module) {
		gm_stacks_folded_text(gm_callsite_base(y->module));
		printf("+0x%llx", (unsigned long long)y->offset);
	} else {
		printf("0x%llx", (unsigned long long)pc);
	}
}

static void gm_stacks_folded(gm_symbols_t *sy, gm_callsite_row_t *const *order, size_t n,
                             const gm_stacks_opts_t *o)
{
	uint64_t top = o->top, depth = o->depth;
	gm_stacks_by_t by = o->by;
	size_t i, shown = top && top < n ? (size_t)top : n;
	for (i = 0; i < shown; i++) {
		const gm_stack_site_t *s = &order[i]->s;
		uint64_t v = gm_stacks_value(s, by);
		unsigned k = gm_callsite_shown(s, depth);
		if (v == 0)
			continue;
		if (k == 0)
			printf(s->id ? "[stack %u]" : "[not kept]", s->id);
		while (k-- > 0) {
			gm_symbol_t y;
			gm_symbols_frame(sy, s->frames, k, s->defined_at, &y);
			gm_stacks_folded_name(&y, s->frames[k]);
			if (k)
				putchar(';');
		}
		printf(" %llu\n", (unsigned long long)v);
	}
}

static int gm_stacks_json(const char *path, gm_stacks_t *st, gm_symbols_t *sy,
                          gm_callsite_row_t *const *order, size_t n, const gm_stacks_opts_t *o,
                          const char *error)
{
	uint64_t top = o->top, depth = o->depth;
	gm_stacks_by_t by = o->by;
	const gm_stacks_totals_t *t = gm_stacks_totals(st);
	gm_json_t j;
	size_t i, shown = top && top < n ? (size_t)top : n;
	gm_json_init(&j, stdout, 1);
	gm_json_object_begin(&j);
	gm_json_key_string(&j, "capture", path);
	gm_json_key_string(&j, "by", gm_stacks_by_names[by]);
	if (o->from_given)
		gm_json_key_u64(&j, "from", o->from_given);
	else
		gm_json_key_null(&j, "from");
	if (o->to_given)
		gm_json_key_u64(&j, "to", o->to_given);
	else
		gm_json_key_null(&j, "to");
	gm_json_key_u64(&j, "frames", t->marks);
	gm_json_key_string(&j, "tag", o->tag);
	gm_json_key_string(&j, "asset", o->asset);
	if (o->asset_id)
		gm_json_key_u64(&j, "asset_id", o->asset_id);
	else
		gm_json_key_null(&j, "asset_id");
	gm_json_key_string(&j, "match", o->match);
	if (o->match) {
		uint64_t na, nb;
		gm_callsite_rows_sum(order, n, &na, &nb);
		gm_json_key_u64(&j, "matched_allocations", na);
		gm_json_key_u64(&j, "matched_allocated_bytes", nb);
	} else {
		gm_json_key_null(&j, "matched_allocations");
		gm_json_key_null(&j, "matched_allocated_bytes");
	}
	gm_json_key_u64(&j, "allocations", t->allocations);
	gm_json_key_u64(&j, "allocated_bytes", t->allocated_bytes);
	gm_json_key_u64(&j, "without_stack", t->unattributed);
	gm_json_key_u64(&j, "without_stack_bytes", t->unattributed_bytes);
	gm_json_key_u64(&j, "stacks_recorded", gm_stacks_count(st));
	gm_json_key_u64(&j, "rows", n);
	gm_json_key_u64(&j, "undefined", t->undefined);
	gm_json_key_u64(&j, "failed", t->failures);
	gm_json_key_u64(&j, "not_kept", t->not_kept);
	gm_json_key_u64(&j, "not_kept_bytes", t->not_kept_bytes);
	gm_json_key_u64(&j, "written_whole", t->whole);
	gm_json_key_u64(&j, "written_whole_bytes", t->whole_bytes);
	gm_json_key(&j, "stacks");
	gm_json_array_begin(&j);
	for (i = 0; i < shown; i++) {
		const gm_stack_site_t *s = &order[i]->s;
		unsigned nf = gm_callsite_shown(s, depth);
		gm_json_object_begin(&j);
		gm_json_key_u64(&j, "id", s->id);
		gm_json_key_u64(&j, "merged", order[i]->merged);
		gm_json_key_u64(&j, "allocations", s->allocations);
		gm_json_key_u64(&j, "allocated_bytes", s->allocated_bytes);
		gm_json_key_u64(&j, "largest", s->largest);
		gm_json_key_u64(&j, "live_count", s->live_count);
		gm_json_key_u64(&j, "live_bytes", s->live_bytes);
		gm_json_key_u64(&j, "failed", s->failures);
		gm_json_key_u64(&j, "depth", s->nframes);
		gm_callsite_frames_json(&j, sy, s->frames, nf, s->defined_at);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	if (error)
		gm_json_key_string(&j, "error", error);
	else
		gm_json_key_null(&j, "error");
	gm_json_object_end(&j);
	return gm_json_finish(&j);
}

/* ---- --compare A B ------------------------------------------------------- */

/* One capture read: its model, names and rows (in key order until sorted). */
typedef struct gm_stacks_side {
	const char *path;
	gm_reader_t *r;
	gm_stacks_t *st;
	gm_symbols_t *sy;
	gm_callsite_row_t **rows;
	size_t n;
	const char *error;
} gm_stacks_side_t;

/* One call site in A, B or both. */
typedef struct gm_stacks_pair {
	const gm_callsite_row_t *a, *b;
	int64_t delta; /* B's value minus A's, by --by */
} gm_stacks_pair_t;

static void gm_stacks_side_free(gm_stacks_side_t *s)
{
	gm_callsite_rows_free(s->rows, s->n);
	gm_symbols_free(s->sy);
	gm_stacks_free(s->st);
	gm_reader_free(s->r);
}

/* Reads a capture into its rows (in key order), as o asks. 0; 1 when it
 * cannot be opened (said); -ENOMEM. */
static int gm_stacks_side_load(gm_stacks_side_t *s, const gm_stacks_opts_t *o)
{
	char err[512];
	gm_event_t ev;
	if (!(s->r = gm_reader_open(s->path, err, sizeof(err)))) {
		fprintf(stderr, "gmtrace: %s\n", err);
		return 1;
	}
	if (!(s->st = gm_stacks_new()))
		return -ENOMEM;
	gm_stacks_frames(s->st, o->from, o->to);
	gm_stacks_filter(s->st, o->tag, o->asset);
	if (o->asset_id)
		gm_stacks_filter_asset_id(s->st, o->asset_id);
	while (gm_reader_next(s->r, &ev))
		if (gm_stacks_event(s->st, &ev) < 0)
			return -ENOMEM;
	if (gm_stacks_finish(s->st) < 0 || !(s->sy = gm_symbols_new(s->st, o->names)))
		return -ENOMEM;
	gm_symbols_since(s->sy, gm_reader_info(s->r)->created_ns, s->path);
	if (!(s->rows = gm_callsite_rows(s->st, s->sy, o->depth, o->match, &s->n)))
		return -ENOMEM;
	s->error = gm_reader_error(s->r);
	{
		/* a name that matched nothing: an empty report would look like
		 * "no allocation there" */
		size_t ntags, nassets;
		gm_stacks_filter_matched(s->st, &ntags, &nassets);
		if (o->tag && !ntags)
			fprintf(stderr, "gmtrace stacks: %s: no tag named \"%s\" (nor under it)\n",
			        s->path, o->tag);
		if (o->asset && !nassets)
			fprintf(stderr,
			        "gmtrace stacks: %s: no asset named \"%s\" (nor under \"%s/\")\n",
			        s->path, o->asset, o->asset);
		else if (o->asset_id && !nassets)
			fprintf(stderr, "gmtrace stacks: %s: no asset with id %llu\n", s->path,
			        (unsigned long long)o->asset_id);
	}
	return 0;
}

static int gm_stacks_pair_cmp(const void *x, const void *y)
{
	const gm_stacks_pair_t *a = x, *b = y;
	uint64_t da = a->delta < 0 ? 0 - (uint64_t)a->delta : (uint64_t)a->delta;
	uint64_t db = b->delta < 0 ? 0 - (uint64_t)b->delta : (uint64_t)b->delta;
	if (da != db)
		return da > db ? -1 : 1;
	if (a->delta != b->delta)
		return a->delta > b->delta ? -1 : 1; /* growth before shrinkage */
	return strcmp((a->b ? a->b : a->a)->key, (b->b ? b->b : b->a)->key);
}

/* Rows of both sides matched by key (both are in key order), changed first. */
static gm_stacks_pair_t *gm_stacks_pairs(const gm_stacks_side_t *a, const gm_stacks_side_t *b,
                                         gm_stacks_by_t by, size_t *np)
{
	gm_stacks_pair_t *p = malloc((a->n + b->n + 1) * sizeof(*p));
	size_t i = 0, k = 0, n = 0;
	if (!p)
		return NULL;
	while (i < a->n || k < b->n) {
		int c = i == a->n ? 1 : k == b->n ? -1 : strcmp(a->rows[i]->key, b->rows[k]->key);
		if (c == 0 && a->rows[i]->key[0] == '#')
			c = -1; /* no frames: its id means nothing in the other run */
		p[n].a = c <= 0 ? a->rows[i++] : NULL;
		p[n].b = c >= 0 ? b->rows[k++] : NULL;
		p[n].delta = (int64_t)((p[n].b ? gm_stacks_value(&p[n].b->s, by) : 0) -
		                       (p[n].a ? gm_stacks_value(&p[n].a->s, by) : 0));
		n++;
	}
	qsort(p, n, sizeof(*p), gm_stacks_pair_cmp);
	*np = n;
	return p;
}

static void gm_stacks_compare_side_text(const char *name, const gm_callsite_row_t *r)
{
	char b1[32], b2[32];
	if (!r) {
		printf("%s: none", name);
		return;
	}
	printf("%s: %s in %llu, %llu live (%s)", name,
	       gm_text_size(b1, sizeof(b1), r->s.allocated_bytes),
	       (unsigned long long)r->s.allocations, (unsigned long long)r->s.live_count,
	       gm_text_size(b2, sizeof(b2), r->s.live_bytes));
}

static void gm_stacks_compare_side_json(gm_json_t *j, const char *key, const gm_callsite_row_t *r)
{
	gm_json_key(j, key);
	if (!r) {
		gm_json_null(j);
		return;
	}
	gm_json_object_begin(j);
	gm_json_key_u64(j, "allocations", r->s.allocations);
	gm_json_key_u64(j, "allocated_bytes", r->s.allocated_bytes);
	gm_json_key_u64(j, "live_count", r->s.live_count);
	gm_json_key_u64(j, "live_bytes", r->s.live_bytes);
	gm_json_key_u64(j, "failed", r->s.failures);
	gm_json_object_end(j);
}

/* gmtrace stacks --compare A B: what changed, call site by call site. */
static int gm_stacks_compare(const char *pa, const char *pb, int json, const gm_stacks_opts_t *o,
                             int check, uint64_t limit)
{
	uint64_t top = o->top, depth = o->depth;
	gm_stacks_by_t by = o->by;
	gm_stacks_side_t a = {.path = pa}, b = {.path = pb};
	gm_stacks_pair_t *p = NULL;
	size_t n = 0, i, shown, changed = 0, grew = 0;
	int rc = GM_CMD_FAIL, ra, rb, werr = 0;
	const char *oom = NULL; /* what ran out of memory: a capture, or the comparison */
	char d[32], sz[32];

	ra = gm_stacks_side_load(&a, o);
	rb = ra ? 0 : gm_stacks_side_load(&b, o);
	if (ra > 0 || rb > 0)
		goto out;
	/* a side with allocations and not one of them at a stack (recorded
	 * without stacks): every call site of the other would look new, or
	 * gone; say why instead */
	for (i = 0; !ra && !rb && i < 2; i++) {
		const gm_stacks_side_t *s = i ? &b : &a;
		const gm_stacks_totals_t *t = gm_stacks_totals(s->st);
		if (t->allocations > 0 && t->unattributed == t->allocations && !t->not_kept) {
			fprintf(stderr,
			        "gmtrace stacks: %s has no call stacks: record it with "
			        "GMTRACE_STACKS=16 (or `gmtrace run --stacks 16`) to compare it\n",
			        s->path);
			goto out;
		}
	}
	oom = ra < 0 ? pa : rb < 0 ? pb : "stacks --compare";
	if (ra < 0 || rb < 0 || !(p = gm_stacks_pairs(&a, &b, by, &n)))
		goto nomem;
	for (i = 0; i < n; i++) {
		changed += p[i].delta != 0;
		grew += p[i].delta > 0 && (uint64_t)p[i].delta > limit;
	}
	/* a gate's failures first, in their order: --top keeps them shown
	 * whatever shrank more (stable: a partition moving each one up) */
	if (check && grew) {
		size_t k = 0;
		for (i = 0; i < n; i++) {
			if (p[i].delta > 0 && (uint64_t)p[i].delta > limit) {
				gm_stacks_pair_t up = p[i];
				memmove(&p[k + 1], &p[k], (i - k) * sizeof(*p));
				p[k++] = up;
			}
		}
	}
	shown = top && top < changed ? (size_t)top : changed;
	if (json) {
		gm_json_t j;
		gm_json_init(&j, stdout, 1);
		gm_json_object_begin(&j);
		gm_json_key_string(&j, "a", pa);
		gm_json_key_string(&j, "b", pb);
		gm_json_key_string(&j, "by", gm_stacks_by_names[by]);
		gm_json_key_u64(&j, "sites", n);
		gm_json_key_u64(&j, "changed", changed);
		if (check)
			gm_json_key_u64(&j, "check_growth", limit);
		else
			gm_json_key_null(&j, "check_growth");
		gm_json_key_u64(&j, "grew", grew);
		gm_json_key(&j, "rows");
		gm_json_array_begin(&j);
		for (i = 0; i < shown; i++) {
			const gm_callsite_row_t *r = p[i].b ? p[i].b : p[i].a;
			gm_json_object_begin(&j);
			gm_json_key_i64(&j, "delta", p[i].delta);
			gm_stacks_compare_side_json(&j, "in_a", p[i].a);
			gm_stacks_compare_side_json(&j, "in_b", p[i].b);
			gm_callsite_frames_json(&j, p[i].b ? b.sy : a.sy, r->s.frames,
			                        gm_callsite_shown(&r->s, depth), r->s.defined_at);
			gm_json_object_end(&j);
		}
		gm_json_array_end(&j);
		gm_json_key_string(&j, "error_a", a.error);
		gm_json_key_string(&j, "error_b", b.error);
		gm_json_object_end(&j);
		werr = gm_json_finish(&j) < 0;
	} else {
		printf("compare   %s -> %s\n", pa, pb);
		printf("sites     %zu call sites, %zu changed by %s", n, changed,
		       by == gm_by_bytes ? "allocated bytes" :
		       by == gm_by_count ? "allocation count" :
		                           "bytes live at the end");
		if (check)
			printf(", %zu grew by more than %llu", grew, (unsigned long long)limit);
		printf("\n");
		for (i = 0; i < shown; i++) {
			const gm_callsite_row_t *r = p[i].b ? p[i].b : p[i].a;
			gm_stacks_side_t *s = p[i].b ? &b : &a;
			unsigned k, nf = gm_callsite_shown(&r->s, depth);
			if (by == gm_by_count)
				snprintf(d, sizeof(d), "%+lld", (long long)p[i].delta);
			else
				snprintf(d, sizeof(d), "%s%s", p[i].delta < 0 ? "-" : "+",
				         gm_text_size(sz, sizeof(sz),
				                      p[i].delta < 0 ? 0 - (uint64_t)p[i].delta :
				                                       (uint64_t)p[i].delta));
			printf("\n#%zu  %s  (", i + 1, d);
			gm_stacks_compare_side_text("A", p[i].a);
			printf("; ");
			gm_stacks_compare_side_text("B", p[i].b);
			printf(")\n");
			if (r->s.id == 0)
				printf("      (no stack: the table was full, before format 3.2, or no frame "
				       "could be taken)\n");
			else if (r->s.nframes == 0)
				printf("      (stack %u: no definition in the capture)\n", r->s.id);
			for (k = 0; k < nf; k++) {
				gm_symbol_t y;
				gm_symbols_frame(s->sy, r->s.frames, k, r->s.defined_at, &y);
				gm_stacks_frame_text(&y, r->s.frames[k]);
			}
			if (nf < r->s.nframes)
				printf("      ... %u more\n", r->s.nframes - nf);
		}
		if (a.error)
			printf("\ndamaged: %s\n", a.error);
		if (b.error)
			printf("\ndamaged: %s\n", b.error);
	}
	if (werr || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace: stacks: cannot write the report\n");
		goto out;
	}
	if (gm_symbols_failed(a.sy) || gm_symbols_failed(b.sy)) {
		oom = gm_symbols_failed(a.sy) ? pa : pb;
		goto nomem;
	}
	if (a.error || b.error) {
		if (a.error)
			fprintf(stderr, "gmtrace: %s\n", a.error);
		if (b.error)
			fprintf(stderr, "gmtrace: %s\n", b.error);
		goto out;
	}
	if (check && grew) /* the verdict in the log too: stdout may be a JSON file */
		fprintf(stderr,
		        "gmtrace stacks: %zu call site%s grew by more than %llu (the report "
		        "ranks them)\n",
		        grew, grew == 1 ? "" : "s", (unsigned long long)limit);
	rc = check && grew ? GM_CMD_FAIL : GM_CMD_OK;
	goto out;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", oom);
out:
	free(p);
	gm_stacks_side_free(&a);
	gm_stacks_side_free(&b);
	return rc;
}

int gm_cmd_stacks(int argc, char **argv)
{
	gm_stacks_opts_t o = {.by = gm_by_bytes,
	                      .top = GM_STACKS_TOP_DEFAULT,
	                      .from = 1,
	                      .to = UINT64_MAX,
	                      .names = 1};
	gm_stacks_side_t s = {0};
	const char *path = NULL, *value;
	uint64_t limit = 0;
	int check = 0;
	const char *cmp_a = NULL, *cmp_b = NULL;
	int json = 0, folded = 0, top_given = 0, rc = GM_CMD_FAIL, i, m, werr = 0, loaded;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_stacks_usage(stdout);
			return GM_CMD_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--folded") == 0) {
			folded = 1;
		} else if (strcmp(argv[i], "--no-symbols") == 0) {
			o.names = 0;
		} else if (strcmp(argv[i], "--compare") == 0) {
			if (i + 2 >= argc || cmp_a) {
				fprintf(stderr,
				        "gmtrace stacks: --compare takes two captures, once\n");
				goto usage;
			}
			cmp_a = argv[++i];
			cmp_b = argv[++i];
		} else if ((m = gm_args_value(argc, argv, &i, "--check-growth", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &limit) < 0) {
				fprintf(stderr, "gmtrace stacks: --check-growth takes a number\n");
				goto usage;
			}
			check = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--by", &value)) != 0) {
			if (m < 0)
				value = "";
			for (o.by = 0; o.by < gm_by_count_; o.by++)
				if (strcmp(value, gm_stacks_by_names[o.by]) == 0)
					break;
			if (o.by == gm_by_count_) {
				fprintf(stderr,
				        "gmtrace stacks: --by takes bytes, count or live\n");
				goto usage;
			}
		} else if ((m = gm_args_value(argc, argv, &i, "--top", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &o.top) < 0 || o.top > GM_STACKS_TOP_MAX) {
				fprintf(stderr, "gmtrace stacks: --top takes a number 0..%d\n",
				        GM_STACKS_TOP_MAX);
				goto usage;
			}
			top_given = 1;
		} else if ((m = gm_args_value(argc, argv, &i, "--from", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &o.from) < 0 || o.from == 0) {
				fprintf(stderr,
				        "gmtrace stacks: --from takes a frame number 1 or more\n");
				goto usage;
			}
			o.from_given = o.from;
		} else if ((m = gm_args_value(argc, argv, &i, "--to", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &o.to) < 0 || o.to == 0) {
				fprintf(stderr,
				        "gmtrace stacks: --to takes a frame number 1 or more\n");
				goto usage;
			}
			o.to_given = o.to;
		} else if ((m = gm_args_value(argc, argv, &i, "--tag", &value)) != 0) {
			if (m < 0 || !*value) {
				fprintf(stderr, "gmtrace stacks: --tag takes a tag name\n");
				goto usage;
			}
			o.tag = value;
		} else if ((m = gm_args_value(argc, argv, &i, "--asset", &value)) != 0) {
			if (m < 0 || !*value) {
				fprintf(stderr, "gmtrace stacks: --asset takes an asset name\n");
				goto usage;
			}
			o.asset = value;
		} else if ((m = gm_args_value(argc, argv, &i, "--asset-id", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &o.asset_id) < 0 || o.asset_id == 0) {
				fprintf(stderr,
				        "gmtrace stacks: --asset-id takes an asset id 1 or more\n");
				goto usage;
			}
		} else if ((m = gm_args_value(argc, argv, &i, "--match", &value)) != 0) {
			if (m < 0 || !*value) {
				fprintf(stderr,
				        "gmtrace stacks: --match takes a function or file name "
				        "(or part of one)\n");
				goto usage;
			}
			o.match = value;
		} else if ((m = gm_args_value(argc, argv, &i, "--depth", &value)) != 0) {
			if (m < 0 || gm_args_u64(value, &o.depth) < 0 || o.depth > 1000) {
				fprintf(stderr, "gmtrace stacks: --depth takes a number 0..1000\n");
				goto usage;
			}
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "gmtrace stacks: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (path) {
			fprintf(stderr, "gmtrace stacks: one capture at a time ('%s' and '%s')\n",
			        path, argv[i]);
			goto usage;
		} else {
			path = argv[i];
		}
	}
	if (o.from > o.to) {
		fprintf(stderr, "gmtrace stacks: --from %llu is after --to %llu\n",
		        (unsigned long long)o.from, (unsigned long long)o.to);
		goto usage;
	}
	if (json && folded) {
		fprintf(stderr, "gmtrace stacks: --json and --folded do not go together\n");
		goto usage;
	}
	if (cmp_a) {
		if (path || folded) {
			fprintf(stderr, "gmtrace stacks: --compare A B takes no other capture "
			                "and no --folded\n");
			goto usage;
		}
		return gm_stacks_compare(cmp_a, cmp_b, json, &o, check, limit);
	}
	if (check) {
		fprintf(stderr, "gmtrace stacks: --check-growth goes with --compare A B\n");
		goto usage;
	}
	if (o.asset && o.asset_id) {
		fprintf(stderr, "gmtrace stacks: --asset and --asset-id: one or the other\n");
		goto usage;
	}
	if (!path) {
		fprintf(stderr, "gmtrace stacks: no capture given\n");
		goto usage;
	}
	if (folded && !top_given)
		o.top = 0; /* a flame graph wants every stack */

	s.path = path;
	loaded = gm_stacks_side_load(&s, &o);
	if (loaded > 0)
		return GM_CMD_FAIL;
	if (loaded < 0)
		goto nomem;
	gm_stacks_sort_by = o.by;
	qsort(s.rows, s.n, sizeof(*s.rows), gm_stacks_cmp);

	if (json)
		werr = gm_stacks_json(path, s.st, s.sy, s.rows, s.n, &o, s.error) < 0;
	else if (folded)
		gm_stacks_folded(s.sy, s.rows, s.n, &o);
	else
		gm_stacks_text(path, gm_reader_info(s.r), s.st, s.sy, s.rows, s.n, &o, s.error);
	if (werr || fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace: stacks: cannot write the report\n");
		goto out;
	}
	if (gm_symbols_failed(s.sy))
		goto nomem;
	if (s.error) {
		fprintf(stderr, "gmtrace: %s\n", s.error);
		goto out;
	}
	rc = GM_CMD_OK;
	goto out;
nomem:
	fprintf(stderr, "gmtrace: %s: out of memory\n", path);
out:
	gm_stacks_side_free(&s);
	return rc;
usage:
	gm_stacks_usage(stderr);
	return GM_CMD_USAGE;
}

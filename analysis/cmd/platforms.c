/* platforms.c - gmtrace platforms: does this capture fit each platform?
 *
 * Loads the profiles (all on the search path, or those named), replays the
 * capture against them (model/platforms.h) and prints, per platform and
 * memory bank or recommended budget node: the peak against the limit, the
 * headroom, the first frame over and what filled the node then; then
 * recommendations in plain words. --check NAME exits 1 when the capture
 * does not fit NAME's banks (CI). JSON keys: analysis/README.md,
 * "platforms --json".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/platforms.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"

#define GM_PF_MAX 64

static void gm_cmd_platforms_usage(FILE *f)
{
	fprintf(f, "usage: gmtrace platforms [--json] [--check NAME[,NAME...]] CAPTURE [NAME...]\n"
	           "       (CAPTURE: the argument ending in .gmt or naming a file)\n"
	           "       gmtrace platforms --list [--json]\n"
	           "\n"
	           "Replays one capture against platform profiles (every profile on the search\n"
	           "path, or the NAMEs given: a name or a .yaml file) and says whether the game\n"
	           "fits each: per memory bank and recommended budget node, the peak against the\n"
	           "limit, the headroom, the first frame over (and the level then), the largest\n"
	           "tags, asset types and assets in it at that frame, and what to change.\n"
	           "Allocations go to banks as libgmtrace routes them under `gmtrace run\n"
	           "--platform`: asset types and tags bound to a bank or node, else the default\n"
	           "bank. Sizes are the requested ones; assets' extra (GPU) bytes count.\n"
	           "\n"
	           "  --json          one JSON object (analysis/README.md, \"platforms --json\")\n"
	           "  --check NAMES   exit 1 unless the capture fits every bank of these\n"
	           "                  platforms and their memory available to a game (and,\n"
	           "                  for the platform the game ran under, none of its\n"
	           "                  allocations failed)\n"
	           "  --list          the profiles on the search path and where they are\n"
	           "  --help          this text\n"
	           "\n"
	           "Profiles: $GMTRACE_PLATFORM_PATH (directories separated by ':'), then\n"
	           "~/.config/gmtrace/platforms, then the profiles shipped with gmtrace.\n"
	           "\n"
	           "Exit status: 0 ok (and every checked platform fits), 1 a checked platform\n"
	           "does not fit, or the capture or a profile is unreadable, 2 bad usage.\n");
}

/* ---- loading -------------------------------------------------------------- */

typedef struct gm_pf_set {
	gm_platform_t *p[GM_PF_MAX];
	int n;
} gm_pf_set_t;

static int gm_pf_load_one(gm_pf_set_t *set, const char *name)
{
	char path[GM_PLATFORM_PATH], err[600];
	gm_platform_t *p;
	if (set->n == GM_PF_MAX) {
		fprintf(stderr, "gmtrace platforms: at most %d profiles at a time\n", GM_PF_MAX);
		return -1;
	}
	if (gm_platform_find(name, path, sizeof(path), err, sizeof(err)) != 0) {
		fprintf(stderr, "gmtrace platforms: %s\n", err);
		return -1;
	}
	for (int i = 0; i < set->n; i++)
		if (strcmp(set->p[i]->path, path) == 0)
			return 0;
	p = malloc(sizeof(*p));
	if (!p) {
		fprintf(stderr, "gmtrace platforms: out of memory\n");
		return -1;
	}
	if (gm_platform_load(path, p, err, sizeof(err)) != 0) {
		fprintf(stderr, "gmtrace platforms: %s\n", err);
		free(p);
		return -1;
	}
	set->p[set->n++] = p;
	return 0;
}

/* Every profile on the search path; one that cannot be read is one error
 * line and left out, the others are reported. Returns -1 when none could be
 * read, else the number left out. */
static int gm_pf_load_all(gm_pf_set_t *set)
{
	static char names[GM_PF_MAX][GM_PLATFORM_NAME], paths[GM_PF_MAX][GM_PLATFORM_PATH];
	int n = gm_platform_list(names, paths, GM_PF_MAX), bad = 0;
	if (n == 0) {
		fprintf(stderr, "gmtrace platforms: no profile on the search path\n");
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (gm_pf_load_one(set, paths[i]) != 0)
			bad++;
	return set->n ? bad : -1;
}

static void gm_pf_free_set(gm_pf_set_t *set)
{
	for (int i = 0; i < set->n; i++)
		free(set->p[i]);
	set->n = 0;
}

/* ---- recommendations ------------------------------------------------------- */

static int gm_pf_texture_like(const char *type)
{
	return type && (strcmp(type, "texture") == 0 || strcmp(type, "render_target") == 0);
}

/* One sentence for a node that went over (buf). */
static void gm_pf_advice(const gm_platforms_profile_t *pp, const gm_platforms_node_t *n, char *buf,
                         size_t cap)
{
	/* advice is about the peak: its excess and what was there
	 * (gm_platforms_exact) */
	const gm_platforms_snap_t *sn = &n->at_peak;
	char e[32], s[32], l[32], a[32];
	int64_t excess = n->peak - (int64_t)n->limit;
	const char *type = NULL;
	size_t len = 0, i, k = 0;
	int64_t sum = 0;
	const char *what = n == &pp->total ? "memory available to a game" :
	                   n->bank         ? "bank" :
	                                     "budget";
	/* the asset type that weighs most (assets over anything untyped) */
	for (i = 0; i < sn->ntypes && !type; i++)
		if (strcmp(sn->types[i].name, "(no asset)") != 0)
			type = sn->types[i].name;
	gm_text_size(e, sizeof(e), (uint64_t)excess);
	gm_text_size(l, sizeof(l), n->limit);
	len += (size_t)snprintf(buf + len, cap - len,
	                        "%s exceed%s the %s %s%s%s (%s) by %s at its peak, frame %llu",
	                        n == &pp->total ? "all banks together" : n->name,
	                        n == &pp->total ? "" : "s", pp->p->title,
	                        n == &pp->total ? "" : n->name, n == &pp->total ? "" : " ", what, l,
	                        e, (unsigned long long)n->peak_frame);
	if (len >= cap)
		return;
	len += (size_t)snprintf(buf + len, cap - len, " (first over at frame %llu%s%s%s)",
	                        (unsigned long long)n->over_frame,
	                        n->over_scene ? " during level '" : "",
	                        n->over_scene ? n->over_scene : "", n->over_scene ? "'" : "");
	if (len >= cap)
		return;
	if (type) {
		/* k: the largest assets of that type whose removal fits; k4: those
		 * whose resolution halved (a quarter of the bytes) fits */
		size_t k4 = 0;
		int64_t sum4 = 0, run = 0;
		for (i = 0; i < sn->nlargest && (sum < excess || (!k4 && gm_pf_texture_like(type)));
		     i++) {
			if (!sn->largest[i].type || strcmp(sn->largest[i].type, type) != 0)
				continue;
			run += sn->largest[i].bytes;
			if (sum < excess) {
				sum = run;
				k++;
			}
			if (!k4 && run * 3 / 4 >= excess) {
				sum4 = run;
				k4 = (size_t)(&sn->largest[i] - sn->largest) + 1;
			}
		}
		if (k4) { /* count only that type's assets among the first k4 */
			size_t c = 0;
			for (i = 0; i < k4; i++)
				c += sn->largest[i].type && strcmp(sn->largest[i].type, type) == 0;
			k4 = c;
		}
		if (k) {
			gm_text_size(s, sizeof(s), (uint64_t)sum);
			len += (size_t)snprintf(buf + len, cap - len,
			                        ": the %zu largest %s asset%s %s %s", k, type,
			                        k == 1 ? "" : "s", k == 1 ? "is" : "are", s);
			if (len >= cap)
				return;
			if (sum >= excess)
				len += (size_t)snprintf(
				        buf + len, cap - len,
				        "; streaming %s (loading %s only when needed) "
				        "would fit",
				        k == 1 ? "it" : "them", k == 1 ? "it" : "them");
			else {
				gm_text_size(a, sizeof(a), (uint64_t)(excess - sum));
				len += (size_t)snprintf(
				        buf + len, cap - len,
				        "; even without them it is %s over: the largest "
				        "tag there is '%s'",
				        a, sn->ntags ? sn->tags[0].name : "?");
			}
			if (len < cap && k4) {
				gm_text_size(a, sizeof(a), (uint64_t)sum4);
				snprintf(
				        buf + len, cap - len,
				        ", or halving the resolution of the %zu largest (%s: a quarter "
				        "of the bytes stays) would",
				        k4, a);
			}
			return;
		}
	}
	if (sn->ntags) {
		/* shares rounded up: shrinking by them fits */
		int64_t tb = sn->tags[0].bytes;
		gm_text_size(s, sizeof(s), (uint64_t)tb);
		if (tb >= excess)
			snprintf(buf + len, cap - len,
			         ": tag '%s' holds %s there; it must shrink by %lld%% to fit",
			         sn->tags[0].name, s, (long long)((excess * 100 + tb - 1) / tb));
		else
			snprintf(buf + len, cap - len,
			         ": its largest tag, '%s', holds %s there, less than the excess; "
			         "what it holds must shrink by %lld%% to fit",
			         sn->tags[0].name, s,
			         (long long)(n->peak > 0 ? (excess * 100 + n->peak - 1) / n->peak :
			                                   100));
	}
}

/* ---- text ------------------------------------------------------------------ */

static void gm_pf_host_text(const gm_platforms_host_t *h, uint64_t frames)
{
	char v[32], miss[512];
	size_t ml = 0;
	int any = 0;
	miss[0] = '\0';
	if (h->ran_under[0])
		printf("ran under platform %s\n", h->ran_under);
	if (!h->have_host) {
		printf("host      not recorded (a capture older than format 2.1)\n");
	} else {
		printf("host      ");
		for (int i = 0; i < GM_HOST_NVALUES; i++) {
			if (!(h->host.known & (1u << i))) {
				if (i != 3)
					ml += (size_t)snprintf(
					        miss + ml,
					        ml < sizeof(miss) ? sizeof(miss) - ml : 0, "%s%s",
					        ml ? ", " : "", gm_host_names[i]);
				continue;
			}
			if (i == gm_host_overcommit)
				snprintf(v, sizeof(v), "%llu", (unsigned long long)h->host.v[i]);
			else if (h->host.v[i] == GM_HOST_UNLIMITED)
				snprintf(v, sizeof(v), "none");
			else
				gm_text_size(v, sizeof(v), h->host.v[i]);
			printf("%s%s %s", any++ ? ", " : "", gm_host_names[i], v);
		}
		printf("\n");
		if (ml)
			printf("          not readable here: %s\n", miss);
	}
	if (h->pressure_samples)
		printf("pressure  %llu samples: peak some avg10 %u.%02u %% (frame %llu), full avg10 "
		       "%u.%02u %%, %llu us fully stalled\n",
		       (unsigned long long)h->pressure_samples, h->some_avg10_max / 100,
		       h->some_avg10_max % 100, (unsigned long long)h->some_max_frame,
		       h->full_avg10_max / 100, h->full_avg10_max % 100,
		       (unsigned long long)h->stall_us);
	if (h->failed_allocs) {
		gm_text_size(v, sizeof(v), h->first_fail_size);
		printf("failures  %llu allocation%s failed; the first at frame %llu (%s asked)\n",
		       (unsigned long long)h->failed_allocs, h->failed_allocs == 1 ? "" : "s",
		       (unsigned long long)h->first_fail_frame, v);
	}
	printf("frames    %llu\n\n", (unsigned long long)frames);
}

/* Where a profile does not fit, to f: ": bank NAME peaks at X of Y from
 * frame F; ..." for each bank over its size, then "all banks together
 * peak at ..." when they are over what the platform has available. */
static void gm_pf_overruns(FILE *f, const gm_platforms_profile_t *pp)
{
	const gm_platforms_node_t *n;
	char peak[32], lim[32], over[32];
	int i, named = 0;

	for (i = 0; i <= pp->nnodes; i++) {
		n = i < pp->nnodes ? &pp->nodes[i] : &pp->total;
		if (!n->over || (i < pp->nnodes && !n->bank))
			continue;
		gm_text_size(peak, sizeof(peak), n->peak > 0 ? (uint64_t)n->peak : 0);
		gm_text_size(lim, sizeof(lim), n->limit);
		gm_text_size(over, sizeof(over),
		             n->peak > (int64_t)n->limit ? (uint64_t)n->peak - n->limit : 0);
		fputs(named++ ? "; " : ": ", f);
		if (i < pp->nnodes) {
			fputs("bank ", f);
			gm_text_quote(f, n->name, strlen(n->name));
			fputs(" peaks", f);
		} else {
			fputs("all banks together peak", f);
		}
		fprintf(f, " at %s of %s (%s over) from frame %llu", peak, lim, over,
		        (unsigned long long)n->over_frame);
	}
}

static void gm_pf_row(const char *platform, const gm_platforms_node_t *n, int budget)
{
	char peak[32], lim[32], head[32], name[80];
	int64_t room = (int64_t)n->limit - n->peak;
	gm_text_size(peak, sizeof(peak), n->peak > 0 ? (uint64_t)n->peak : 0);
	gm_text_size(lim, sizeof(lim), n->limit);
	if (room >= 0)
		gm_text_size(head, sizeof(head), (uint64_t)room);
	else {
		head[0] = '-';
		gm_text_size(head + 1, sizeof(head) - 1, (uint64_t)-room);
	}
	snprintf(name, sizeof(name), "%*s%s%s", n->depth * 2, "", n->name,
	         budget ? " (budget)" : "");
	printf("%-15s %-24s %10s %10s %11s  %-7s", platform, name, peak, lim, head,
	       !n->over ? "fits" :
	       budget   ? "over" :
	                  "OVER");
	if (n->over)
		printf(" frame %llu%s%s%s", (unsigned long long)n->over_frame,
		       n->over_scene ? " ('" : "", n->over_scene ? n->over_scene : "",
		       n->over_scene ? "')" : "");
	printf("\n");
}

/* One line of what filled a node at a moment. */
static void gm_pf_snap_text(const char *when, const gm_platforms_snap_t *sn)
{
	char sz[32], shown[256];
	if (!sn->ntypes && !sn->ntags)
		return;
	printf("      %s, frame %llu:", when, (unsigned long long)sn->frame);
	for (size_t k = 0; k < sn->ntypes && k < 4; k++) {
		gm_text_size(sz, sizeof(sz), (uint64_t)sn->types[k].bytes);
		printf("%s type %s %s", k ? "," : "",
		       gm_text_line(shown, sizeof(shown), sn->types[k].name), sz);
	}
	for (size_t k = 0; k < sn->ntags && k < 4; k++) {
		gm_text_size(sz, sizeof(sz), (uint64_t)sn->tags[k].bytes);
		printf(", tag %s %s", gm_text_line(shown, sizeof(shown), sn->tags[k].name), sz);
	}
	printf("\n");
}

/* Node i and the nodes below it, in tree order. */
static void gm_pf_subtree(const gm_platforms_profile_t *pp, int i, int *first)
{
	gm_pf_row(*first ? pp->p->name : "", &pp->nodes[i], !pp->nodes[i].bank);
	*first = 0;
	for (int k = 0; k < pp->nnodes; k++)
		if (pp->nodes[k].parent == i)
			gm_pf_subtree(pp, k, first);
}

static void gm_pf_text(const char *path, const gm_platforms_t *m, const char *error)
{
	char line[1024];
	int nrec = 0;
	printf("capture   %s%s\n", path,
	       error ? " (damaged: the report covers what came before)" : "");
	gm_pf_host_text(gm_platforms_host(m), gm_platforms_frames(m));
	if (gm_platforms_count(m) == 0) {
		printf("platforms none: no profile named could be read (see the lines above)\n");
		return;
	}
	printf("%-15s %-24s %10s %10s %11s  %s\n", "platform", "memory", "peak", "limit",
	       "headroom", "verdict");
	for (int pi = 0; pi < gm_platforms_count(m); pi++) {
		const gm_platforms_profile_t *pp = gm_platforms_profile(m, pi);
		int first = 1;
		for (int i = 0; i < pp->nnodes; i++)
			if (pp->nodes[i].parent < 0)
				gm_pf_subtree(pp, i, &first);
		gm_pf_row("", &pp->total, 0);
	}
	printf("\n");
	for (int pi = 0; pi < gm_platforms_count(m); pi++) {
		const gm_platforms_profile_t *pp = gm_platforms_profile(m, pi);
		const gm_platforms_host_t *h = gm_platforms_host(m);
		printf("%-15s %s: %s", pp->p->name, pp->p->title,
		       !pp->fits         ? "DOES NOT FIT" :
		       pp->within_budget ? "fits, within the recommended budgets" :
		                           "fits its banks, over a recommended budget");
		/* what it held fit because the device said no (strict mode) */
		if (pp->fits && h->failed_allocs && strcmp(h->ran_under, pp->p->name) == 0)
			printf(", but only with %llu allocation%s failed: it ran under it",
			       (unsigned long long)h->failed_allocs,
			       h->failed_allocs == 1 ? "" : "s");
		printf("\n");
	}
	for (int pi = 0; pi < gm_platforms_count(m); pi++) {
		const gm_platforms_profile_t *pp = gm_platforms_profile(m, pi);
		for (int i = -1; i < pp->nnodes; i++) {
			const gm_platforms_node_t *n = i < 0 ? &pp->total : &pp->nodes[i];
			if (!n->over)
				continue;
			if (!nrec++)
				printf("\nrecommendations\n");
			gm_pf_advice(pp, n, line, sizeof(line));
			printf("  %s: %s.\n", pp->p->name, line);
			gm_pf_snap_text("at its peak", &n->at_peak);
			if (n->first.frame != n->at_peak.frame)
				gm_pf_snap_text("first over", &n->first);
		}
	}
}

/* ---- JSON -------------------------------------------------------------------- */

static void gm_pf_items_json(gm_json_t *j, const char *key, const gm_platforms_item_t *it, size_t n)
{
	gm_json_key(j, key);
	gm_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		gm_json_object_begin(j);
		gm_json_key_string(j, "name", it[i].name);
		if (it[i].type)
			gm_json_key_string(j, "type", it[i].type);
		gm_json_key_i64(j, "bytes", it[i].bytes);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
}

static void gm_pf_snap_json(gm_json_t *j, const gm_platforms_snap_t *sn, uint64_t ns,
                            const char *advice)
{
	gm_json_object_begin(j);
	gm_json_key_u64(j, "frame", sn->frame);
	if (ns)
		gm_json_key_u64(j, "ns", ns);
	gm_json_key_string(j, "scene", sn->scene);
	gm_json_key_i64(j, "live", sn->live);
	gm_pf_items_json(j, "tags", sn->tags, sn->ntags);
	gm_pf_items_json(j, "types", sn->types, sn->ntypes);
	gm_pf_items_json(j, "assets", sn->largest, sn->nlargest < 16 ? sn->nlargest : 16);
	if (advice)
		gm_json_key_string(j, "recommendation", advice);
	gm_json_object_end(j);
}

static void gm_pf_node_json(gm_json_t *j, const gm_platforms_profile_t *pp,
                            const gm_platforms_node_t *n, const char *kind)
{
	char advice[1024];
	gm_json_object_begin(j);
	gm_json_key_string(j, "name", n->name);
	gm_json_key_string(j, "kind", kind);
	gm_json_key(j, "parent");
	if (n->parent >= 0)
		gm_json_string(j, pp->nodes[n->parent].name);
	else
		gm_json_null(j);
	gm_json_key_u64(j, "limit", n->limit);
	gm_json_key_i64(j, "peak", n->peak);
	if (n->peak > 0)
		gm_json_key_u64(j, "peak_frame", n->peak_frame);
	else
		gm_json_key_null(j, "peak_frame"); /* never used: no frame had a peak */
	gm_json_key_i64(j, "headroom", (int64_t)n->limit - n->peak);
	gm_json_key_bool(j, "fits", !n->over);
	gm_json_key_u64(j, "frames_over", n->frames_over);
	gm_json_key(j, "first_over");
	if (!n->over) {
		gm_json_null(j);
		gm_json_key_null(j, "at_peak");
	} else {
		gm_pf_snap_json(j, &n->first, n->over_ns, NULL);
		gm_json_key(j, "at_peak");
		gm_pf_advice(pp, n, advice, sizeof(advice));
		gm_pf_snap_json(j, &n->at_peak, 0, advice);
	}
	gm_json_object_end(j);
}

static int gm_pf_json(const char *path, const gm_platforms_t *m, const char *error,
                      int bad_profiles)
{
	gm_json_t j;
	const gm_platforms_host_t *h = gm_platforms_host(m);
	gm_json_init(&j, stdout, 1);
	gm_json_object_begin(&j);
	gm_json_key_string(&j, "capture", path);
	gm_json_key_string(&j, "error", error);
	/* profiles named, or on the search path, that could not be read (each
	 * said on stderr; the exit status is 1) */
	gm_json_key_u64(&j, "profiles_not_read", (uint64_t)bad_profiles);
	gm_json_key_u64(&j, "frames", gm_platforms_frames(m));
	gm_json_key(&j, "ran_under");
	if (h->ran_under[0])
		gm_json_string(&j, h->ran_under);
	else
		gm_json_null(&j);
	gm_json_key(&j, "host");
	if (!h->have_host) {
		gm_json_null(&j);
	} else {
		gm_json_object_begin(&j);
		for (int i = 0; i < GM_HOST_NVALUES; i++) {
			if (!(h->host.known & (1u << i)))
				gm_json_key_null(&j, gm_host_keys[i]);
			else if (h->host.v[i] == GM_HOST_UNLIMITED)
				gm_json_key_string(&j, gm_host_keys[i], "max");
			else
				gm_json_key_u64(&j, gm_host_keys[i], h->host.v[i]);
		}
		gm_json_key_bool(&j, "cgroup_v1", (h->host.known & GM_HOST_CG_V1) != 0);
		gm_json_object_end(&j);
	}
	gm_json_key(&j, "pressure");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "samples", h->pressure_samples);
	gm_json_key_u64(&j, "some_avg10_max", h->some_avg10_max);
	gm_json_key_u64(&j, "full_avg10_max", h->full_avg10_max);
	gm_json_key_u64(&j, "full_stall_us", h->stall_us);
	gm_json_object_end(&j);
	gm_json_key(&j, "failed_allocations");
	gm_json_object_begin(&j);
	gm_json_key_u64(&j, "count", h->failed_allocs);
	gm_json_key_u64(&j, "first_frame", h->first_fail_frame);
	gm_json_key_u64(&j, "first_size", h->first_fail_size);
	gm_json_object_end(&j);
	gm_json_key(&j, "platforms");
	gm_json_array_begin(&j);
	for (int pi = 0; pi < gm_platforms_count(m); pi++) {
		const gm_platforms_profile_t *pp = gm_platforms_profile(m, pi);
		gm_json_object_begin(&j);
		gm_json_key_string(&j, "name", pp->p->name);
		gm_json_key_string(&j, "title", pp->p->title);
		gm_json_key_string(&j, "family", pp->p->family);
		gm_json_key_string(&j, "profile", pp->p->path);
		gm_json_key_u64(&j, "physical", pp->p->physical.bytes);
		gm_json_key_u64(&j, "available", pp->p->available.bytes);
		gm_json_key_bool(&j, "fits", pp->fits);
		gm_json_key_bool(&j, "within_budgets", pp->within_budget);
		gm_json_key(&j, "memory");
		gm_json_array_begin(&j);
		for (int i = 0; i < pp->nnodes; i++)
			gm_pf_node_json(&j, pp, &pp->nodes[i],
			                pp->nodes[i].bank ? "bank" : "budget");
		gm_pf_node_json(&j, pp, &pp->total, "total");
		gm_json_array_end(&j);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	gm_json_object_end(&j);
	return gm_json_finish(&j);
}

/* ---- --list ------------------------------------------------------------------ */

static int gm_pf_list(int json)
{
	static char names[GM_PF_MAX][GM_PLATFORM_NAME], paths[GM_PF_MAX][GM_PLATFORM_PATH];
	static gm_platform_t p;
	char err[600], a[32], ph[32];
	int n = gm_platform_list(names, paths, GM_PF_MAX), rc = GM_CMD_OK;
	gm_json_t j;
	if (json) {
		gm_json_init(&j, stdout, 1);
		gm_json_array_begin(&j);
	} else {
		printf("%-15s %-26s %-9s %10s %10s  %s\n", "name", "title", "family", "physical",
		       "available", "banks");
	}
	for (int i = 0; i < n; i++) {
		if (gm_platform_load(paths[i], &p, err, sizeof(err)) != 0) {
			fprintf(stderr, "gmtrace platforms: %s\n", err);
			rc = GM_CMD_FAIL;
			continue;
		}
		if (json) {
			gm_json_object_begin(&j);
			gm_json_key_string(&j, "name", p.name);
			gm_json_key_string(&j, "title", p.title);
			gm_json_key_string(&j, "family", p.family);
			gm_json_key_string(&j, "profile", p.path);
			gm_json_key_u64(&j, "physical", p.physical.bytes);
			gm_json_key_u64(&j, "available", p.available.bytes);
			gm_json_key(&j, "banks");
			gm_json_array_begin(&j);
			for (int k = 0; k < p.nbanks; k++) {
				gm_json_object_begin(&j);
				gm_json_key_string(&j, "name", p.banks[k].name);
				gm_json_key_u64(&j, "capacity", p.banks[k].capacity.bytes);
				gm_json_key_bool(&j, "default", p.banks[k].is_default);
				gm_json_key_string(&j, "source", p.banks[k].capacity.source);
				gm_json_object_end(&j);
			}
			gm_json_array_end(&j);
			gm_json_object_end(&j);
			continue;
		}
		gm_text_size(ph, sizeof(ph), p.physical.bytes);
		gm_text_size(a, sizeof(a), p.available.bytes);
		printf("%-15s %-26s %-9s %10s %10s  ", p.name, p.title, p.family, ph, a);
		for (int k = 0; k < p.nbanks; k++) {
			gm_text_size(a, sizeof(a), p.banks[k].capacity.bytes);
			printf("%s%s %s", k ? ", " : "", p.banks[k].name, a);
		}
		printf("\n                %s\n", p.path);
	}
	if (json) {
		gm_json_array_end(&j);
		gm_json_finish(&j);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "gmtrace: cannot write the report: %s\n", strerror(errno));
		rc = GM_CMD_FAIL;
	}
	return rc;
}

/* A capture, not a platform: a .gmt file, or an existing file that is not a
 * .yaml profile; names and .yaml files are platforms. */
static int gm_pf_ends_gmt(const char *a)
{
	size_t n = strlen(a);
	return n > 4 && strcmp(a + n - 4, ".gmt") == 0;
}

/* Whether argument a is the capture: one ending in .gmt; else, when no
 * argument ends so (any_gmt 0), a path or a file that is there and is not
 * a folder (a profile's name that is also a folder here is a name). */
static int gm_pf_is_capture(const char *a, int any_gmt)
{
	size_t n = strlen(a);
	struct stat st;
	if (n > 5 && strcmp(a + n - 5, ".yaml") == 0)
		return 0;
	if (gm_pf_ends_gmt(a))
		return 1;
	if (any_gmt)
		return 0;
	return strchr(a, '/') != NULL || (stat(a, &st) == 0 && !S_ISDIR(st.st_mode));
}

/* ---- main ---------------------------------------------------------------------- */

int gm_cmd_platforms(int argc, char **argv)
{
	static gm_pf_set_t set;
	const char *path = NULL, *value, *error, *check = NULL;
	const char *names[GM_PF_MAX];
	int nnames = 0, json = 0, list = 0, rc = GM_CMD_FAIL, i, mt, bad_profiles = 0, any_gmt = 0;
	gm_platforms_t *m = NULL;
	gm_reader_t *r = NULL;
	gm_event_t ev;
	char errbuf[512];

	for (i = 1; i < argc; i++)
		any_gmt |= argv[i][0] != '-' && gm_pf_ends_gmt(argv[i]);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_cmd_platforms_usage(stdout);
			return GM_CMD_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--list") == 0) {
			list = 1;
		} else if ((mt = gm_args_value(argc, argv, &i, "--check", &value)) != 0) {
			size_t n = mt < 0 ? 0 : strlen(value);
			if (mt < 0 || !*value) {
				fprintf(stderr,
				        "gmtrace platforms: --check takes platform names\n");
				goto usage;
			}
			/* an empty name would check nothing, and a CI gate pass */
			if (value[0] == ',' || value[n - 1] == ',' || strstr(value, ",,") ||
			    n >= 1024) {
				fprintf(stderr,
				        "gmtrace platforms: --check takes platform names separated by "
				        "single commas, under 1024 bytes in all (got '%s')\n",
				        value);
				goto usage;
			}
			check = value;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "gmtrace platforms: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (gm_pf_is_capture(argv[i], any_gmt)) {
			if (path) {
				fprintf(stderr,
				        "gmtrace platforms: one capture at a time ('%s' and '%s')\n",
				        path, argv[i]);
				goto usage;
			}
			path = argv[i];
		} else if (nnames < GM_PF_MAX) {
			names[nnames++] = argv[i];
		} else {
			fprintf(stderr, "gmtrace platforms: at most %d platforms\n", GM_PF_MAX);
			goto usage;
		}
	}
	if (list && (path || nnames || check)) {
		fprintf(stderr, "gmtrace platforms: --list takes no capture and no platform\n");
		goto usage;
	}
	if (list)
		return gm_pf_list(json);
	if (!path) {
		fprintf(stderr, "gmtrace platforms: no capture given\n");
		goto usage;
	}
	set.n = 0;
	/* a profile that cannot be read is one error line and left out; the
	 * others are reported, and the status says something was left out */
	for (i = 0; i < nnames; i++)
		if (gm_pf_load_one(&set, names[i]) != 0)
			bad_profiles++;
	if (check) {
		/* the checked platforms are reported too */
		char buf[1024], *save = NULL, *tok;
		snprintf(buf, sizeof(buf), "%s", check);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (gm_pf_load_one(&set, tok) != 0)
				bad_profiles++;
	}
	/* none of the profiles named could be read: the report still comes,
	 * with no platform in it (a CI job reading --json gets its object,
	 * profiles_not_read saying why), and the status is 1 */
	if (set.n == 0 && !bad_profiles && (bad_profiles = gm_pf_load_all(&set)) < 0)
		goto out;

	r = gm_reader_open(path, errbuf, sizeof(errbuf));
	if (!r) {
		fprintf(stderr, "gmtrace: %s\n", errbuf);
		goto out;
	}
	m = gm_platforms_new((const gm_platform_t *const *)set.p, set.n);
	if (!m)
		goto oom;
	while (gm_reader_next(r, &ev) > 0)
		if (gm_platforms_add(m, &ev) != 0)
			goto oom;
	gm_platforms_finish(m);
	if (!(m = gm_platforms_exact(m, r)))
		goto oom;
	error = gm_reader_error(r);
	if (gm_platforms_host(m)->frames_level && gm_platforms_host(m)->frames_level_frame <= 1) {
		fprintf(stderr,
		        "gmtrace platforms: %s: the capture is at the frames level (per-frame totals, "
		        "no allocation records): record the events level (GMTRACE_LEVEL=events) to "
		        "see it against a platform\n",
		        path);
		goto out;
	}
	if (gm_platforms_host(m)->frames_level)
		fprintf(stderr,
		        "gmtrace platforms: %s: warning: from frame %llu the capture is at the frames "
		        "level; the figures cover the frames before it\n",
		        path, (unsigned long long)gm_platforms_host(m)->frames_level_frame);
	if (json) {
		if (gm_pf_json(path, m, error, bad_profiles) < 0)
			goto write_error;
	} else {
		gm_pf_text(path, m, error);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		goto write_error;
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		goto out;
	}
	/* the profiles that could not be read were named above; the report
	 * covers the others, and the status says something was left out */
	rc = bad_profiles > 0 ? GM_CMD_FAIL : GM_CMD_OK;
	if (check) {
		char buf[1024], *save = NULL, *tok;
		snprintf(buf, sizeof(buf), "%s", check);
		for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			char want[GM_PLATFORM_PATH], err[600];
			if (gm_platform_find(tok, want, sizeof(want), err, sizeof(err)) != 0)
				continue;
			for (i = 0; i < set.n; i++) {
				const gm_platforms_profile_t *pp = gm_platforms_profile(m, i);
				const gm_platforms_host_t *h = gm_platforms_host(m);
				if (strcmp(pp->p->path, want) != 0)
					continue;
				if (!pp->fits) {
					fprintf(stderr,
					        "gmtrace platforms: the capture does not fit %s",
					        pp->p->name);
					gm_pf_overruns(stderr, pp);
					fputc('\n', stderr);
					rc = GM_CMD_FAIL;
				} else if (h->failed_allocs &&
				           strcmp(h->ran_under, pp->p->name) == 0) {
					/* by its counts it fits, but it ran under that
					 * platform and allocations failed there */
					fprintf(stderr,
					        "gmtrace platforms: the game ran under %s and %llu "
					        "allocations failed\n",
					        pp->p->name, (unsigned long long)h->failed_allocs);
					rc = GM_CMD_FAIL;
				}
			}
		}
	}
	goto out;
oom:
	fprintf(stderr, "gmtrace: %s: out of memory\n", path);
	goto out;
write_error:
	fprintf(stderr, "gmtrace: cannot write the report: %s\n", strerror(errno));
	rc = GM_CMD_FAIL;
out:
	gm_platforms_free(m);
	gm_reader_free(r);
	gm_pf_free_set(&set);
	return rc;
usage:
	gm_cmd_platforms_usage(stderr);
	return GM_CMD_USAGE;
}

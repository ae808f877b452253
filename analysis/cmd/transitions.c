/* transitions.c - gmtrace transitions: memory around every scene or level change
 *
 * A transition begins at a gm_rec_scene record or at the load of an asset
 * of type "level" (both in the same frame make one). It ends at the end of
 * the last frame, within --window frames, in which an asset loaded under
 * the previous scene finished unloading; without such a frame, when the
 * window runs out, the next transition begins or the capture ends. The
 * assets model (model/assets.h) measures it; this file prints it. JSON keys:
 * analysis/README.md, "transitions --json".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cmd/args.h"
#include "analysis/cmd/cmd.h"
#include "analysis/log/reader.h"
#include "analysis/model/assets.h"
#include "analysis/report/json.h"
#include "analysis/report/text.h"

static void gm_cmd_transitions_usage(FILE *f)
{
	fprintf(f,
	        "usage: gmtrace transitions [--json] [--window N] CAPTURE\n"
	        "\n"
	        "For every scene or level change (a scene record, or the load of an asset\n"
	        "of type \"level\"): live bytes just before (all, and per asset type), the\n"
	        "peak during the transition, and after; bytes loaded and unloaded during it;\n"
	        "and the \"kept\" assets: loaded under the old scene, still resident after\n"
	        "the transition, never touched again.\n"
	        "\n"
	        "  --json       one JSON object (analysis/README.md, \"transitions --json\")\n"
	        "  --window N   a transition lasts at most N frames (default %d); it ends\n"
	        "               earlier when the old scene's assets are unloaded\n"
	        "  --help       this text\n"
	        "\n"
	        "Exit status: 0 ok, 1 capture unreadable or damaged (the report covers\n"
	        "what could be read), 2 bad usage.\n",
	        GM_ASSETS_WINDOW_FRAMES);
}

static const char *gm_cmd_transitions_source(const gm_assets_transition_t *t)
{
	if (t->has_scene && t->level_asset != GM_ASSETS_NONE)
		return "scene+level";
	return t->has_scene ? "scene" : "level";
}

/* ---- text ----------------------------------------------------------------------- */

static void gm_cmd_transitions_types_text(const gm_assets_t *m, const gm_assets_transition_t *t)
{
	const gm_assets_snap_type_t *b = gm_assets_snap_types(m, &t->before);
	const gm_assets_snap_type_t *a = gm_assets_snap_types(m, &t->after);
	const gm_assets_type_t *types;
	size_t ntypes, i;

	types = gm_assets_types(m, &ntypes);
	for (i = 0; i < t->after.ntypes && i < ntypes; i++) {
		uint64_t before = i < t->before.ntypes ? b[i].live_bytes + b[i].extra_bytes : 0;
		uint64_t after = a[i].live_bytes + a[i].extra_bytes;
		char x[GM_TEXT_MAX], y[GM_TEXT_MAX], shown[64];

		if (before == 0 && after == 0)
			continue;
		printf("    %-16s %10s -> %10s\n",
		       types[i].name[0] ? gm_text_line(shown, sizeof(shown), types[i].name) :
		                          "\"\"",
		       gm_text_size(x, sizeof(x), before), gm_text_size(y, sizeof(y), after));
	}
}

static void gm_cmd_transitions_text(const char *path, const gm_assets_t *m, const char *error)
{
	const gm_assets_transition_t *trans;
	const gm_assets_asset_t *assets;
	const gm_assets_type_t *types;
	size_t ntrans, nassets, ntypes, i, k;
	char d[GM_TEXT_MAX];

	trans = gm_assets_transitions(m, &ntrans);
	assets = gm_assets_assets(m, &nassets);
	types = gm_assets_types(m, &ntypes);
	printf("capture   %s, %llu frames, %s, %zu transitions (window %llu frames)\n", path,
	       (unsigned long long)gm_assets_frames(m),
	       gm_text_duration(d, sizeof(d), gm_assets_duration_ns(m)), ntrans,
	       (unsigned long long)gm_assets_options(m)->window_frames);
	if (gm_assets_frames_level_whole(m))
		printf("note      the capture is in the frames level: asset bytes are not "
		       "recorded\n");
	else if (!gm_assets_exact(m))
		printf("note      part of the capture is in the frames level: asset bytes are not "
		       "recorded there\n");
	if (error)
		printf("damaged   %s\n", error);
	for (i = 0; i < ntrans; i++) {
		const gm_assets_transition_t *t = &trans[i];
		const uint32_t *kept = gm_assets_kept(m, t);
		char b[GM_TEXT_MAX], p[GM_TEXT_MAX], a[GM_TEXT_MAX], at[GM_TEXT_MAX];

		printf("\ntransition %zu: ", i + 1);
		if (t->name)
			gm_text_quote(stdout, t->name, strlen(t->name));
		else
			printf("(unnamed)");
		printf(" (%s", gm_cmd_transitions_source(t));
		if (t->has_scene)
			printf(" %llu", (unsigned long long)t->scene);
		printf(") at frame %llu (+%s), until frame %llu (%s)\n",
		       (unsigned long long)t->frame,
		       gm_text_duration(at, sizeof(at), t->ns - gm_assets_start_ns(m)),
		       (unsigned long long)t->end_frame, gm_assets_end_name(t->end));
		printf("  live         before %10s   peak %10s (frame %llu)   after %10s\n",
		       gm_text_size(b, sizeof(b), t->before.live_bytes),
		       gm_text_size(p, sizeof(p), t->peak_bytes), (unsigned long long)t->peak_frame,
		       gm_text_size(a, sizeof(a), t->after.live_bytes));
		printf("  in assets    before %10s                              after %10s\n",
		       gm_text_size(b, sizeof(b), t->before.asset_bytes),
		       gm_text_size(a, sizeof(a), t->after.asset_bytes));
		printf("  extra        before %10s                              after %10s\n",
		       gm_text_size(b, sizeof(b), t->before.extra_bytes),
		       gm_text_size(a, sizeof(a), t->after.extra_bytes));
		printf("  moved        loaded %s, unloaded %s during the transition\n",
		       gm_text_size(b, sizeof(b), t->loaded_bytes),
		       gm_text_size(a, sizeof(a), t->unloaded_bytes));
		printf("  by type (heap + extra)\n");
		gm_cmd_transitions_types_text(m, t);
		printf("  old scene    %llu assets, %llu unloaded in the transition, %u kept "
		       "(never touched again): %s\n",
		       (unsigned long long)t->old_assets, (unsigned long long)t->old_unloaded,
		       t->nkept, gm_text_size(b, sizeof(b), t->kept_bytes));
		for (k = 0; k < t->nkept; k++) {
			const gm_assets_asset_t *x = &assets[kept[k]];
			char type[64];

			printf("    ");
			gm_text_quote(stdout, x->name, strlen(x->name));
			printf(" (id %llu, %s) %s", (unsigned long long)x->id,
			       x->type < ntypes ?
			               gm_text_line(type, sizeof(type), types[x->type].name) :
			               "-",
			       gm_text_size(b, sizeof(b), x->ready_bytes + x->extra_peak));
			if (x->last_touch_frame)
				printf(", last touched at frame %llu\n",
				       (unsigned long long)x->last_touch_frame);
			else
				printf(", never touched\n");
		}
	}
}

/* ---- JSON ----------------------------------------------------------------------- */

static void gm_cmd_transitions_snap_json(gm_json_t *j, const char *key, const gm_assets_t *m,
                                         const gm_assets_snap_t *s)
{
	const gm_assets_snap_type_t *v = gm_assets_snap_types(m, s);
	const gm_assets_type_t *types;
	size_t ntypes, i;

	types = gm_assets_types(m, &ntypes);
	gm_json_key(j, key);
	gm_json_object_begin(j);
	gm_json_key_u64(j, "live_bytes", s->live_bytes);
	gm_json_key_u64(j, "asset_bytes", s->asset_bytes);
	gm_json_key_u64(j, "extra_bytes", s->extra_bytes);
	gm_json_key(j, "by_type");
	gm_json_array_begin(j);
	for (i = 0; i < s->ntypes && i < ntypes; i++) {
		if (v[i].live_bytes == 0 && v[i].extra_bytes == 0)
			continue;
		gm_json_object_begin(j);
		gm_json_key_string(j, "type", types[i].name);
		gm_json_key_u64(j, "live_bytes", v[i].live_bytes);
		gm_json_key_u64(j, "extra_bytes", v[i].extra_bytes);
		gm_json_object_end(j);
	}
	gm_json_array_end(j);
	gm_json_object_end(j);
}

static int gm_cmd_transitions_json(const char *path, const gm_reader_info_t *info,
                                   const gm_assets_t *m, const char *error)
{
	const gm_assets_transition_t *trans;
	const gm_assets_asset_t *assets;
	const gm_assets_type_t *types;
	size_t ntrans, nassets, ntypes, i, k;
	char version[16];
	gm_json_t j;

	trans = gm_assets_transitions(m, &ntrans);
	assets = gm_assets_assets(m, &nassets);
	types = gm_assets_types(m, &ntypes);
	gm_json_init(&j, stdout, 1);
	gm_json_object_begin(&j);
	snprintf(version, sizeof(version), "%u.%u", info->version_major, info->version_minor);
	gm_json_key_string(&j, "format_version", version);
	gm_json_key_string(&j, "file", path);
	gm_json_key_string(&j, "error", error);
	gm_json_key_bool(&j, "exact", gm_assets_exact(m));
	gm_json_key_u64(&j, "frames", gm_assets_frames(m));
	gm_json_key_u64(&j, "window_frames", gm_assets_options(m)->window_frames);
	gm_json_key(&j, "transitions");
	gm_json_array_begin(&j);
	for (i = 0; i < ntrans; i++) {
		const gm_assets_transition_t *t = &trans[i];
		const uint32_t *kept = gm_assets_kept(m, t);

		gm_json_object_begin(&j);
		gm_json_key_u64(&j, "index", i + 1);
		gm_json_key_string(&j, "source", gm_cmd_transitions_source(t));
		if (t->has_scene)
			gm_json_key_u64(&j, "scene", t->scene);
		else
			gm_json_key_null(&j, "scene");
		gm_json_key_string(&j, "name", t->name);
		gm_json_key_string(&j, "from", i > 0 ? trans[i - 1].name : NULL);
		if (t->level_asset != GM_ASSETS_NONE)
			gm_json_key_u64(&j, "level_asset", assets[t->level_asset].id);
		else
			gm_json_key_null(&j, "level_asset");
		gm_json_key_u64(&j, "frame", t->frame);
		gm_json_key_u64(&j, "ns", t->ns);
		gm_json_key_u64(&j, "end_frame", t->end_frame);
		gm_json_key_u64(&j, "end_ns", t->end_ns);
		gm_json_key_string(&j, "end", gm_assets_end_name(t->end));
		gm_cmd_transitions_snap_json(&j, "before", m, &t->before);
		gm_json_key(&j, "peak");
		gm_json_object_begin(&j);
		gm_json_key_u64(&j, "live_bytes", t->peak_bytes);
		gm_json_key_u64(&j, "frame", t->peak_frame);
		gm_json_key_u64(&j, "ns", t->peak_ns);
		gm_json_object_end(&j);
		gm_cmd_transitions_snap_json(&j, "after", m, &t->after);
		gm_json_key_u64(&j, "loaded_bytes", t->loaded_bytes);
		gm_json_key_u64(&j, "unloaded_bytes", t->unloaded_bytes);
		gm_json_key_u64(&j, "old_assets", t->old_assets);
		gm_json_key_u64(&j, "old_unloaded", t->old_unloaded);
		gm_json_key_u64(&j, "kept_bytes", t->kept_bytes);
		gm_json_key(&j, "kept");
		gm_json_array_begin(&j);
		for (k = 0; k < t->nkept; k++) {
			const gm_assets_asset_t *a = &assets[kept[k]];

			gm_json_object_begin(&j);
			gm_json_key_u64(&j, "asset", a->id);
			gm_json_key_string(&j, "name", a->name);
			gm_json_key_string(&j, "type",
			                   a->type < ntypes ? types[a->type].name : NULL);
			gm_json_key_u64(&j, "resident_bytes", a->ready_bytes);
			gm_json_key_u64(&j, "extra_bytes", a->extra_peak);
			if (a->last_touch_frame)
				gm_json_key_u64(&j, "last_touch_frame", a->last_touch_frame);
			else
				gm_json_key_null(&j, "last_touch_frame");
			gm_json_object_end(&j);
		}
		gm_json_array_end(&j);
		gm_json_object_end(&j);
	}
	gm_json_array_end(&j);
	gm_json_object_end(&j);
	return gm_json_finish(&j);
}

/* ---- command -------------------------------------------------------------------- */

/* gmtrace transitions (see cmd.h). Returns GM_CMD_OK, GM_CMD_FAIL when the
 * capture cannot be read or is damaged (the report is still printed), or
 * GM_CMD_USAGE. */
int gm_cmd_transitions(int argc, char **argv)
{
	gm_assets_opts_t opts;
	gm_assets_t *m = NULL;
	gm_reader_t *r = NULL;
	const char *path = NULL, *value, *error;
	int json = 0, rc = GM_CMD_FAIL, i, mt, err;
	char errbuf[512];

	gm_assets_opts_default(&opts);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			gm_cmd_transitions_usage(stdout);
			return GM_CMD_OK;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if ((mt = gm_args_value(argc, argv, &i, "--window", &value)) != 0) {
			if (mt < 0 || gm_args_u64(value, &opts.window_frames) < 0 ||
			    opts.window_frames == 0) {
				fprintf(stderr, "gmtrace transitions: --window takes a number of "
				                "frames, at least 1\n");
				goto usage;
			}
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "gmtrace transitions: unknown option '%s'\n", argv[i]);
			goto usage;
		} else if (path) {
			fprintf(stderr,
			        "gmtrace transitions: one capture at a time ('%s' and '%s')\n",
			        path, argv[i]);
			goto usage;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "gmtrace transitions: no capture given\n");
		goto usage;
	}

	r = gm_reader_open(path, errbuf, sizeof(errbuf));
	if (!r) {
		fprintf(stderr, "gmtrace: %s\n", errbuf);
		return GM_CMD_FAIL;
	}
	m = gm_assets_build(r, &opts, &err);
	if (!m) {
		fprintf(stderr, "gmtrace: %s: out of memory\n", path);
		goto out;
	}
	error = gm_reader_error(r);
	if (json) {
		if (gm_cmd_transitions_json(path, gm_reader_info(r), m, error) < 0)
			goto write_error;
	} else {
		gm_cmd_transitions_text(path, m, error);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		goto write_error;
	if (error) {
		fprintf(stderr, "gmtrace: %s\n", error);
		goto out;
	}
	rc = GM_CMD_OK;
	goto out;
write_error:
	fprintf(stderr, "gmtrace: transitions: cannot write the report\n");
out:
	gm_assets_free(m);
	gm_reader_free(r);
	return rc;
usage:
	gm_cmd_transitions_usage(stderr);
	return GM_CMD_USAGE;
}

/* heatmap.h - heat maps of rows over frame bins: terminal colour blocks and SVG files
 *
 * A heat map is a table of non-negative values: one row per thing (asset,
 * type, tag), one column per bin of frames. The caller chooses, sorts and
 * cuts the rows; this module only draws them. Colours follow one linear
 * scale from the largest cell down to 1 (any non-zero cell gets at least the
 * first colour, so nothing small disappears); 0 is drawn as empty.
 */
#ifndef GM_HEATMAP_H
#define GM_HEATMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct gm_heatmap {
	const char *title; /* one line, e.g. "live bytes by asset" */
	int bytes;         /* 1: values are bytes (shown as 1.5 MiB), 0: counts */
	int sums;          /* 1: a cell is the sum over its frames (touches), 0: the
	                      largest value in them */
	size_t nrows;
	uint32_t ncols;
	const char *const *labels;   /* nrows row names (NULL shows as "-") */
	const uint64_t *const *rows; /* nrows rows of ncols cells */
	const uint64_t *col_first;   /* ncols + 1 frames: column c holds frames
	                                col_first[c] .. col_first[c + 1] - 1 */
} gm_heatmap_t;

/* Draws the map for a terminal: a label column, one character per cell, the
 * row's largest value, then the frame axis and a legend. colour = 1 uses
 * 256-colour backgrounds (ESC[48;5;Nm); colour = 0 a ramp of ASCII
 * characters (for NO_COLOR and files). Returns 0, or -EIO when writing
 * failed. */
int gm_heatmap_text(FILE *f, const gm_heatmap_t *h, int colour);

/* Writes the map as one standalone SVG document: a title, labelled rows, a
 * cell per bin with a tooltip (row, frames, value), a frame axis and a
 * colour scale. Returns 0, or -EIO when writing failed. */
int gm_heatmap_svg(FILE *f, const gm_heatmap_t *h);

#endif

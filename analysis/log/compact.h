/* compact.h - compress the raw blocks of a finished capture
 *
 * A drainer that cannot compress as fast as the game writes stores blocks
 * raw rather than stall the game. Once the game is gone there is time:
 * `gmtrace run` compacts each capture it made, block by block, into a new
 * file that replaces the old one only when whole.
 */
#ifndef GM_COMPACT_H
#define GM_COMPACT_H

#include <stdint.h>

/* Compress every raw block of the capture at path (zstd level 3). Returns
 * the bytes saved (0 when nothing was raw), or a negative errno with the
 * capture left as it was. A damaged tail is copied as it is. */
int64_t gm_compact_file(const char *path);

#endif

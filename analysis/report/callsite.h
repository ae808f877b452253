/* callsite.h - a call stack's frames written out, for every report that
 * shows call sites (gmtrace stacks, the pool candidates of gmtrace pools)
 */
#ifndef GM_CALLSITE_H
#define GM_CALLSITE_H

#include <stdint.h>

#include "analysis/model/symbols.h"
#include "analysis/report/json.h"

/* The last component of a path: a module's or a source file's name. */
const char *gm_callsite_base(const char *path);

/* "frames": the n return addresses pcs of a stack defined at event number
 * when, each {address, function, file, line, module, offset, python} (null
 * strings, line 0, where unknown; a Python frame has python true, no
 * address and no module). */
void gm_callsite_frames_json(gm_json_t *j, gm_symbols_t *sy, const uint64_t *pcs, unsigned n,
                             uint64_t when);

#endif

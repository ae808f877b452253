/* framescmp.h - gmtrace frames --compare A B (framescmp.c) */
#ifndef GM_FRAMESCMP_H
#define GM_FRAMESCMP_H

/* Compares the frame figures of captures a and b, as text or JSON on
 * stdout. check: exit 1 when a memory figure grew by more than limit
 * percent. Returns GM_CMD_OK, or GM_CMD_FAIL: a figure grew past the
 * check (the report says so), or a capture unreadable, damaged or without
 * frames, a write error, out of memory (one line on stderr each). */
int gm_frames_compare(const char *a, const char *b, int json, int check, double limit);

#endif

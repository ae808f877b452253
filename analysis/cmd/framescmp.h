/* framescmp.h - gmtrace frames --compare A B (framescmp.c) */
#ifndef GM_FRAMESCMP_H
#define GM_FRAMESCMP_H

/* The figures --check-growth looks at, as a mask of figure indices: every
 * memory figure when list is NULL, else those named in list (comma
 * separated JSON names, memory figures only). -1 after one line on stderr
 * naming what is wrong. */
int gm_frames_compare_checked(const char *list, unsigned *mask);

/* Compares the frame figures of captures a and b, as text or JSON on
 * stdout. check: exit 1 when a figure of mask (gm_frames_compare_checked)
 * grew by more than limit percent. Returns GM_CMD_OK, or GM_CMD_FAIL: a
 * figure grew past the check (the report says so), or a capture
 * unreadable, damaged or without frames, a write error, out of memory
 * (one line on stderr each). */
int gm_frames_compare(const char *a, const char *b, int json, int check, double limit,
                      unsigned mask);

#endif

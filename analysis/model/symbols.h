/* symbols.h - return addresses to function, file and line
 *
 * The capture's module records say which file was mapped where; symbols
 * are read from those files (and their separate debug files, found by
 * build id) with elfutils' libdwfl, after the run, on the machine that ran
 * the game, each module in a libdwfl session of its own, so that modules
 * mapped at the same addresses one after the other keep their own names.
 * C++ names are demangled. Python frames are named by the capture's pycode
 * records, with or without files. An address outside every module, or in
 * a file that is gone or has no symbols, still gets its module and offset
 * when they are known.
 */
#ifndef GM_SYMBOLS_H
#define GM_SYMBOLS_H

#include <stdint.h>

#include "analysis/model/stacks.h"

typedef struct gm_symbol {
	const char *function; /* NULL when unknown */
	const char *file;     /* source file, NULL when unknown */
	int line;             /* 0 when unknown */
	const char *module;   /* path of the module holding it, NULL if none */
	uint64_t offset;      /* address minus the module's base */
	uint64_t fn_offset;   /* address minus its function's start (function known) */
	int python;           /* 1: a Python frame (function, file and line of
	                         the game's Python code, from the capture) */
	/* The address is in code the compiler inlined into function (an
	 * allocation wrapper at -O2): file and line are then the call site in
	 * function itself, so each call of the wrapper is a frame of its own,
	 * and these say where inside the inlined code it was. NULL and 0 when
	 * the address is not in inlined code. */
	const char *inlined;      /* the innermost inlined function */
	const char *inlined_file; /* and its file and line there */
	int inlined_line;
	/* 1: the C library's return from a signal handler (x86-64's
	 * rt_sigreturn trampoline), named "<signal handler called>"; the frame
	 * after it is the code the signal interrupted, at the very instruction
	 * (gm_symbols_frame looks that one up as it is, not the call before) */
	int signal;
} gm_symbol_t;

typedef struct gm_symbols gm_symbols_t;

/* Symbols for the modules the model recorded, or NULL when out of memory.
 * Files that cannot be read are left out, not an error. With read_files 0
 * no file is opened: lookups give modules and offsets only. A module whose
 * build ID was recorded (format 3.4) is named from its file only when the
 * file's build ID is the same (a rebuilt game's file would name its frames
 * wrongly); otherwise its frames are addresses, said once on stderr as
 * "gmtrace: FILE is not the file the game ran in CAPTURE (its build ID
 * differs): its frames are shown as addresses". */
gm_symbols_t *gm_symbols_new(const gm_stacks_t *s, int read_files);

/* The capture was made at created_ns (CLOCK_REALTIME, its header's): a
 * module file with no recorded build ID changed after that (a rebuilt
 * game) may name frames with another build's names, so each one is said
 * once on stderr, as
 * "gmtrace: FILE changed after CAPTURE was made: its names may be wrong".
 * Without this call nothing is checked. */
void gm_symbols_since(gm_symbols_t *y, uint64_t created_ns, const char *capture);

/* Frees them; every string handed out goes too. NULL is allowed. */
void gm_symbols_free(gm_symbols_t *y);

/* What the return address pc of a stack defined at event number when
 * points into (the call before it), in the module mapped there then. */
void gm_symbols_lookup(gm_symbols_t *y, uint64_t pc, uint64_t when, gm_symbol_t *out);

/* Frame k of the stack pcs (innermost first): as gm_symbols_lookup, but
 * the frame a signal interrupted (the one after a signal frame) is named
 * at its own address, which is no return address: the instruction that
 * faulted or was about to run, maybe a function's first. */
void gm_symbols_frame(gm_symbols_t *y, const uint64_t *pcs, unsigned k, uint64_t when,
                      gm_symbol_t *out);

/* 1 when a lookup ran out of memory (a name was left unrewritten): the
 * report is not whole. */
int gm_symbols_failed(const gm_symbols_t *y);

#endif

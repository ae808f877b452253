/* stack.h - where allocations were made: call stacks (option STACKS)
 *
 * With STACKS=N (N frames, 0 = off, the default) every allocation and
 * realloc record of the events level is preceded by a site record naming
 * the call stack it was made at. A stack is recorded once, by the thread
 * that first meets it (gm_rec_stack), and named by its id after that; the
 * reader matches ids to stacks wherever in the capture they were defined.
 *
 * The unwinder is libunwind, loaded with dlopen(RTLD_LOCAL) only when
 * stacks are asked for: libunwind.so exports _Unwind_* and backtrace, and
 * a library the game's C++ exceptions would meet before libgcc_s must not
 * be in the global scope. Stacks are kept in a table made at start (no
 * allocation later, lock-free: a new stack is a compare-and-swap into an
 * open-addressed table, its frames in a store handed out by fetch-add).
 * When the table or the store is full, a new stack is written whole with
 * its allocation (gm_rec_site_frames), each time it is met, and counted. Frames inside libgmtrace are left out.
 */
#ifndef GM_STACK_H
#define GM_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "thread.h"

#define GM_STACK_MAX 128 /* most frames kept per stack (option STACKS) */

/* A table of interned stacks. */
typedef struct gm_stack_table {
	uint32_t *slots;    /* 1 + word offset of an entry in store; 0: empty */
	uint32_t mask;      /* slots - 1 (a power of two) */
	uint64_t *store;    /* entries: [hash], [frames], frames... */
	uint64_t words;     /* size of store in 64-bit words (under 2^32) */
	uint64_t used;      /* words handed out (atomic) */
	uint64_t not_kept;  /* stacks met when the table was full (atomic) */
	uint64_t published; /* entries in the table (atomic) */
	/* bumped when a module goes (gm_stack_table_new_gen): a stack met
	 * after it is interned anew, with a record of its own, though its
	 * addresses are those of a stack met before (a plugin unloaded and
	 * another loaded at its addresses: the reader names each stack from
	 * the modules mapped when its record came) (atomic) */
	uint64_t gen;
} gm_stack_table_t;

/* Frames kept per allocation; 0 while stacks are off. */
extern int gm_stack_depth;

/* Make t's table (2^bits slots, words of store) from mem_alloc; returns 0,
 * -EINVAL (bits over 30, words 2^32 or more) or -ENOMEM (then slots or
 * store may be set: the caller frees them). */
int gm_stack_table_make(gm_stack_table_t *t, unsigned bits, uint64_t words,
                        void *(*mem_alloc)(size_t));

/* Forget every stack (a fork child: the parent's capture has them). */
void gm_stack_table_clear(gm_stack_table_t *t);

/* Id of the stack pcs[0, n) (n >= 1) in the table's current generation,
 * interned on first sight (*is_new set); 0 when it is new and the table or
 * store is full. */
uint32_t gm_stack_intern(gm_stack_table_t *t, const uint64_t *pcs, unsigned n, int *is_new);

/* A new generation of t: stacks are interned again from now on. */
void gm_stack_table_new_gen(gm_stack_table_t *t);

/* A module was unloaded: the process's table starts a new generation. */
void gm_stack_modules_gone(void);

/* Session start (options STACKS and PYTHON_STACKS): load the unwinder and
 * make the table, or clear it (fork child). On failure, one warning and
 * stacks stay off. */
void gm_stack_start(unsigned depth, int python);

/* A libunwind function, once stacks are on (NULL otherwise or if it has
 * none of that name). */
void *gm_stack_unwinder(const char *name);

/* The address range of the module holding pc: 1, or 0 when none does. */
int gm_stack_module_range(uintptr_t pc, uintptr_t *lo, uintptr_t *hi);

/* Before an allocation record of t (not busy; registered here if new): the
 * site record, and the stack's definition when it is new. */
void gm_stack_note(gm_thread_t *t);

/* Python frames (record/pystack.c): on once the process's CPython, of the
 * version gmtrace was built against, is found; then the C frames of its
 * evaluation function are replaced by the Python frames they ran. A
 * Python frame is GM_PYFRAME_BIT | code id << 32 | line (log/format.h). */
extern int gm_pystack_on;
/* Option PYTHON_STACKS: gm_pystack_python (the Python frames and the C
 * frames of other libraries, not the interpreter's own but the innermost),
 * gm_pystack_mixed (every C frame too) or gm_pystack_c (no Python frames). */
enum {
	gm_pystack_python,
	gm_pystack_mixed,
	gm_pystack_c
};
extern int gm_pystack_mode;

/* Looks for CPython in the process (at start, and when gmtrace.py is
 * imported by an interpreter loaded later: hook/python.c); one warning when
 * it is another version. Needs stacks on. */
void gm_pystack_find(void);

/* Writes the n unwound return addresses raw, with the Python frames each
 * evaluation call ran in place of its C frame, into pcs (at most depth);
 * returns the count. Code objects met first are defined in t's log. */
int gm_pystack_splice(gm_thread_t *t, void *const *raw, int n, uint64_t *pcs, int depth);

/* Forgets the code objects defined (a fork child). */
void gm_pystack_clear(void);

/* Python frames named by no code (the code table was full: 12,288 code
 * objects), for the exit warning. */
uint64_t gm_pystack_not_kept(void);

/* Allocations whose stack the table had no room for (written whole with
 * them), for the exit warning. */
uint64_t gm_stack_not_kept(void);

#endif

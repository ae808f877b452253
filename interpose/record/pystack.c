/* pystack.c - the Python frames of a call stack (stack.h)
 *
 * A Python game's allocations are made under the interpreter's C frames,
 * which say little: every Python function runs in _PyEval_EvalFrameDefault.
 * When the process runs the CPython that gmtrace was built against, each
 * stack's frames in that function are replaced by the Python frames it was
 * running (function, file and line of the game's code), read from the
 * thread's own interpreter frames. Since 3.11 one call of the evaluation
 * function runs Python-to-Python calls itself: its frames are those from the
 * thread's current frame back to the one marked is_entry, and the next call
 * of the function (further out) takes the frames after that.
 *
 * The reading makes no allocation and takes no lock: a thread's frames are
 * changed by that thread only, so they can be read without the GIL (a C
 * extension that released it still allocates under its caller's frames).
 * The struct layouts come from the interpreter's headers; another version of
 * CPython (a game shipping its own) is recognised by Py_Version and keeps
 * its C frames, with one warning.
 *
 * A Python frame is a 64-bit word in the stack: bit 63 set (no return
 * address has it), the code's id in bits 32-62, the line in bits 0-31. A
 * code object is defined once per capture by a pycode record (its name,
 * file and first line), by the thread that meets it first.
 */
#define _GNU_SOURCE 1 /* (as the interpreter's pyconfig.h has it) */
#include "stack.h"

#ifdef GM_PYFRAMES

#include <Python.h>
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE

#include <dlfcn.h>
#include <libunwind.h> /* (its types only: the library is loaded by stack.c) */
#include <link.h>
#include <string.h>

#include "../support/mem.h"
#include "../support/support.h"

#define GM_PY_STR2(x) #x
#define GM_PY_STR(x) GM_PY_STR2(x)
#define GM_PY_BUILT GM_PY_STR(PY_MAJOR_VERSION) "." GM_PY_STR(PY_MINOR_VERSION)
#define GM_PYCODE_TEXT 512 /* bytes kept of a name or a file name */

int gm_pystack_on;
int gm_pystack_mode;

static struct {
	PyThreadState *(*this_thread)(void);
	int (*addr2line)(PyCodeObject *co, int byte_offset);
	int (*initialized)(void);
	int (*finalizing)(void);
	uintptr_t eval_lo, eval_hi; /* _PyEval_EvalFrameDefault's code */
	uintptr_t cold_lo, cold_hi; /* and its cold part, when it has one */
	uintptr_t self_lo, self_hi; /* the interpreter's module */
	int tried_version;          /* the version warning was given */
} gm_py;

/* Code objects seen: keys [code, filename, qualname, first line]. A code
 * object freed and another made at its address with the same names and
 * line is the same function to the reader. 2^14 slots, 12,288 codes. */
static gm_stack_table_t gm_pycode_table;

/* The frames a thread met last, by code object and instruction: finding a
 * line walks the code's line table from its start (most of the time spent
 * in a Python game's stacks, uncached), and a game loop meets the same
 * frames over and over. The code's name, line table and first line are
 * compared too: a code object made at a freed one's address (a reloaded
 * script) has a line table of its own. */
typedef struct gm_pyline {
	uintptr_t code, name, table;
	uint32_t lasti, line, id, first;
} gm_pyline_t;
#define GM_PYLINE_SLOTS 128
static __thread gm_pyline_t gm_pyline_cache[GM_PYLINE_SLOTS]
        __attribute__((tls_model("initial-exec")));
#define GM_PYCODE_BITS 14
#define GM_PYCODE_WORDS (6u << GM_PYCODE_BITS)

/* Text of a str object as UTF-8 into out (cap bytes, cut there); "?" for
 * anything else. Reads the object's own storage: no allocation. */
static size_t gm_pystack_text(PyObject *o, char *out, size_t cap)
{
	size_t k = 0;
	Py_ssize_t i, n;
	unsigned kind;
	const void *data;
	if (!o || !PyUnicode_Check(o) || !PyUnicode_IS_READY(o)) {
		out[0] = '?';
		return 1;
	}
	kind = PyUnicode_KIND(o);
	data = PyUnicode_DATA(o);
	n = PyUnicode_GET_LENGTH(o);
	for (i = 0; i < n; i++) {
		Py_UCS4 c = PyUnicode_READ(kind, data, i);
		unsigned char u[4];
		size_t m;
		if (c < 0x80) {
			u[0] = (unsigned char)c;
			m = 1;
		} else if (c < 0x800) {
			u[0] = (unsigned char)(0xc0 | (c >> 6));
			u[1] = (unsigned char)(0x80 | (c & 0x3f));
			m = 2;
		} else if (c < 0x10000) {
			if (c >= 0xd800 && c < 0xe000) /* a lone surrogate (a bad file name) */
				c = 0xfffd;
			u[0] = (unsigned char)(0xe0 | (c >> 12));
			u[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
			u[2] = (unsigned char)(0x80 | (c & 0x3f));
			m = 3;
		} else {
			u[0] = (unsigned char)(0xf0 | (c >> 18));
			u[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
			u[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
			u[3] = (unsigned char)(0x80 | (c & 0x3f));
			m = 4;
		}
		if (k + m > cap)
			break;
		memcpy(out + k, u, m);
		k += m;
	}
	return k;
}

/* The id of code object co, defined in the capture at first sight (0: the
 * table is full, counted). Out of line: its buffer is on the stack only
 * when a frame misses the thread's cache. */
static __attribute__((noinline)) uint32_t gm_pystack_code(gm_thread_t *t, PyCodeObject *co)
{
	uint64_t key[4] = {(uintptr_t)co, (uintptr_t)co->co_filename, (uintptr_t)co->co_qualname,
	                   (uint64_t)(uint32_t)co->co_firstlineno};
	uint64_t def[(8 + 2 * GM_PYCODE_TEXT + 15) / 16 * 2];
	char *text = (char *)def;
	uint32_t id, first = (uint32_t)co->co_firstlineno, n32;
	size_t nname, nfile, len, units;
	int is_new;
	id = gm_stack_intern(&gm_pycode_table, key, 4, &is_new);
	if (!is_new)
		return id;
	/* [first line, name bytes] name file, padded to whole units */
	nname = gm_pystack_text(co->co_qualname, text + 8, GM_PYCODE_TEXT);
	nfile = gm_pystack_text(co->co_filename, text + 8 + nname, GM_PYCODE_TEXT);
	len = 8 + nname + nfile;
	units = (len + 15) / 16;
	memset(text + len, 0, units * 16 - len);
	n32 = (uint32_t)nname;
	memcpy(text, &first, 4);
	memcpy(text + 4, &n32, 4);
	gm_thread_put_units(t, gm_rec_w0(id, gm_rec_pycode, (unsigned)units), len, def,
	                    (unsigned)units);
	return id;
}

/* This thread's Python frames, innermost first, into py (at most max
 * words): frame words, and 0 after the last frame of each call of the
 * evaluation function (an is_entry frame). Returns the count. */
static int gm_pystack_read(gm_thread_t *t, uint64_t *py, int max)
{
	PyThreadState *ts;
	_PyInterpreterFrame *f;
	int k = 0;
	/* (none of them allocates; a hook reached from them forwards). Once
	 * the interpreter finalizes, other threads' states are freed: their
	 * stacks keep their C frames then */
	t->busy++;
	ts = gm_py.initialized() && !gm_py.finalizing() ? gm_py.this_thread() : NULL;
	t->busy--;
	if (!ts || !ts->cframe)
		return 0;
	for (f = ts->cframe->current_frame; f && k < max - 1; f = f->previous) {
		PyCodeObject *co = f->f_code;
		if (!_PyFrame_IsIncomplete(f)) {
			uint32_t lasti = (uint32_t)_PyInterpreterFrame_LASTI(f);
			gm_pyline_t *e =
			        &gm_pyline_cache[(((uintptr_t)co >> 4) ^ (lasti * 0x9e37u)) &
			                         (GM_PYLINE_SLOTS - 1)];
			if (e->code != (uintptr_t)co || e->lasti != lasti ||
			    e->name != (uintptr_t)co->co_qualname ||
			    e->table != (uintptr_t)co->co_linetable ||
			    e->first != (uint32_t)co->co_firstlineno) {
				int line;
				e->id = gm_pystack_code(t, co);
				t->busy++;
				line = gm_py.addr2line(co, (int)lasti * (int)sizeof(_Py_CODEUNIT));
				t->busy--;
				e->line = line > 0 ? (uint32_t)line : 0;
				e->code = (uintptr_t)co;
				e->name = (uintptr_t)co->co_qualname;
				e->table = (uintptr_t)co->co_linetable;
				e->first = (uint32_t)co->co_firstlineno;
				e->lasti = lasti;
			}
			py[k++] = GM_PYFRAME(e->id, e->line);
		}
		if (f->is_entry)
			py[k++] = 0;
	}
	return k;
}

/* A stack with no Python frame: its C frames as they are. */
static int gm_pystack_copy(void *const *raw, int n, uint64_t *pcs, int depth)
{
	int k;
	for (k = 0; k < n && k < depth; k++)
		pcs[k] = (uintptr_t)raw[k];
	return k;
}

static int gm_pystack_is_eval(const void *pc)
{
	return ((uintptr_t)pc >= gm_py.eval_lo && (uintptr_t)pc < gm_py.eval_hi) ||
	       ((uintptr_t)pc >= gm_py.cold_lo && (uintptr_t)pc < gm_py.cold_hi);
}

/* The cold part of the evaluation function: a build with profile feedback
 * (Debian's) moves its rare paths (errors, some calls) into a fragment of
 * their own, elsewhere in the file and under no symbol, and a return
 * address there is an evaluation frame too. The fragment is the code the
 * function jumps to most outside itself (hundreds of near jumps; a tail call
 * to another function is one or two), and its bounds are those of its own
 * call-frame information, which libunwind finds. x86-64 only: elsewhere,
 * and when nothing is found, only the function itself is known. */
static void gm_pystack_find_cold(void)
{
#if defined(__x86_64__)
	typedef int (*proc_info_fn)(unw_addr_space_t, unw_word_t, unw_proc_info_t *, int, void *);
	proc_info_fn info = (proc_info_fn)gm_stack_unwinder("_ULx86_64_get_proc_info_by_ip");
	unw_addr_space_t *space = gm_stack_unwinder("_ULx86_64_local_addr_space");
	struct {
		uintptr_t lo, hi;
		unsigned jumps;
	} seen[32];
	unsigned nseen = 0, best = 0, k;
	const unsigned char *c = (const unsigned char *)gm_py.eval_lo;
	uintptr_t at;
	if (!info || !space)
		return;
	for (at = gm_py.eval_lo; at + 6 <= gm_py.eval_hi; at++, c++) {
		int32_t rel;
		uintptr_t to;
		if (c[0] == 0x0f && (c[1] & 0xf0) == 0x80) { /* jcc rel32 */
			memcpy(&rel, c + 2, 4);
			to = at + 6 + (uintptr_t)(intptr_t)rel;
		} else if (c[0] == 0xe9) { /* jmp rel32 */
			memcpy(&rel, c + 1, 4);
			to = at + 5 + (uintptr_t)(intptr_t)rel;
		} else {
			continue;
		}
		if ((to >= gm_py.eval_lo && to < gm_py.eval_hi) || to < gm_py.self_lo ||
		    to >= gm_py.self_hi)
			continue;
		for (k = 0; k < nseen; k++)
			if (to >= seen[k].lo && to < seen[k].hi)
				break;
		if (k == nseen) {
			unw_proc_info_t pi;
			if (nseen == sizeof(seen) / sizeof(seen[0]) ||
			    info(*space, (unw_word_t)to, &pi, 0, NULL) != 0 ||
			    pi.end_ip <= pi.start_ip)
				continue;
			seen[k].lo = (uintptr_t)pi.start_ip;
			seen[k].hi = (uintptr_t)pi.end_ip;
			seen[k].jumps = 0;
			nseen++;
		}
		seen[k].jumps++;
	}
	for (k = 0; k < nseen; k++)
		if (seen[k].jumps > best && seen[k].jumps >= 16 &&
		    (seen[k].hi <= gm_py.eval_lo || seen[k].lo >= gm_py.eval_hi)) {
			best = seen[k].jumps;
			gm_py.cold_lo = seen[k].lo;
			gm_py.cold_hi = seen[k].hi;
		}
#endif
}

int gm_pystack_splice(gm_thread_t *t, void *const *raw, int n, uint64_t *pcs, int depth)
{
	uint64_t py[2 * depth + 2];
	int i, j = 0, k = 0, npy, last = -1, mixed = gm_pystack_mode == gm_pystack_mixed;
	for (i = 0; i < n; i++)
		if (gm_pystack_is_eval(raw[i]))
			last = i;
	if (last < 0 || (npy = gm_pystack_read(t, py, 2 * depth + 2)) == 0)
		return gm_pystack_copy(raw, n, pcs, depth);
	for (i = 0; i < n && k < depth; i++) {
		uintptr_t pc = (uintptr_t)raw[i];
		if (gm_pystack_is_eval(raw[i])) {
			int had = k;
			/* this call's frames, up to the 0 after them; at the last
			 * call seen, every frame left: a call running the
			 * function's cold part (its error paths, which the compiler
			 * moved out of it) is not known by its address, and its
			 * frames would be lost or go with the wrong C frames */
			while (j < npy && k < depth && (py[j] != 0 || i == last)) {
				if (py[j] != 0)
					pcs[k++] = py[j];
				j++;
			}
			while (j < npy && py[j] != 0)
				j++;
			if (j < npy)
				j++; /* the next call's frames start after the 0 */
			if (!mixed && i == last)
				break; /* past the outermost Python frame: the interpreter's
				          start, or a thread's */
			if (k == had && mixed)
				pcs[k++] = pc; /* (no frame of its own yet) */
			continue;
		}
		/* the interpreter's own C frames say little once its Python frames
		 * are there (calls into C, its recursions) and vary most: only the
		 * stack's innermost frame is kept when it is one, the function
		 * that made the object (a bytearray's, a list's) */
		if (!mixed && i > 0 && pc >= gm_py.self_lo && pc < gm_py.self_hi)
			continue;
		pcs[k++] = pc;
	}
	return k;
}

/* dlsym without leaving the error message of a missing name to the game's
 * next dlerror (it is allocated: gmtrace's own block). */
static void *gm_pystack_sym(gm_thread_t *t, const char *name)
{
	void *p;
	t->busy++;
	p = dlsym(RTLD_DEFAULT, name);
	if (!p) {
		dlerror();
		dlerror();
	}
	t->busy--;
	return p;
}

void gm_pystack_find(void)
{
	gm_thread_t *t = &gm_thread_self;
	const unsigned long *version;
	const ElfW(Sym) *sym = NULL;
	Dl_info info;
	void *eval;
	int ok;
	if (__atomic_load_n(&gm_pystack_on, __ATOMIC_ACQUIRE) || gm_stack_depth == 0 ||
	    gm_pystack_mode == gm_pystack_c)
		return;
	version = gm_pystack_sym(t, "Py_Version");
	if (!version)
		return; /* no CPython here (or one before 3.11) */
	if ((*version >> 16) != (PY_VERSION_HEX >> 16)) {
		if (!gm_py.tried_version) {
			/* "3.x" by hand: snprintf may allocate, in a hook's path */
			char v[8] = "3.", *e = v + 2;
			unsigned minor = (unsigned)((*version >> 16) & 0xff);
			gm_py.tried_version = 1;
			v[0] = (char)('0' + ((*version >> 24) & 0xf));
			if (minor >= 10)
				*e++ = (char)('0' + minor / 10 % 10);
			*e++ = (char)('0' + minor % 10);
			*e = 0;
			gm_support_warn("GMTRACE_STACKS: this game runs Python ", v,
			                ", and gmtrace reads the frames of Python " GM_PY_BUILT
			                " only: its stacks show the interpreter's C frames");
		}
		return;
	}
	*(void **)&gm_py.this_thread = gm_pystack_sym(t, "PyGILState_GetThisThreadState");
	*(void **)&gm_py.addr2line = gm_pystack_sym(t, "PyCode_Addr2Line");
	*(void **)&gm_py.initialized = gm_pystack_sym(t, "Py_IsInitialized");
	*(void **)&gm_py.finalizing = gm_pystack_sym(t, "_Py_IsFinalizing");
	eval = gm_pystack_sym(t, "_PyEval_EvalFrameDefault");
	t->busy++;
	ok = eval && dladdr1(eval, &info, (void **)&sym, RTLD_DL_SYMENT) && sym && sym->st_size;
	t->busy--;
	if (!gm_py.this_thread || !gm_py.addr2line || !gm_py.initialized || !gm_py.finalizing ||
	    !ok) {
		gm_support_warn("GMTRACE_STACKS: the Python interpreter's functions are not ",
		                "all found; its stacks show the interpreter's C frames", 0);
		return;
	}
	gm_py.eval_lo = (uintptr_t)eval;
	gm_py.eval_hi = (uintptr_t)eval + sym->st_size;
	if (!gm_stack_module_range(gm_py.eval_lo, &gm_py.self_lo, &gm_py.self_hi))
		gm_py.self_lo = gm_py.self_hi = 0;
	t->busy++; /* (libunwind may allocate the first time it reads the file) */
	gm_pystack_find_cold();
	t->busy--;
	if (!gm_pycode_table.slots && gm_stack_table_make(&gm_pycode_table, GM_PYCODE_BITS,
	                                                  GM_PYCODE_WORDS, gm_mem_alloc) != 0) {
		gm_mem_free(gm_pycode_table.slots);
		gm_mem_free(gm_pycode_table.store);
		memset(&gm_pycode_table, 0, sizeof(gm_pycode_table));
		gm_support_warn("GMTRACE_STACKS: no memory for Python's code table; ",
		                "stacks show the interpreter's C frames", 0);
		return;
	}
	__atomic_store_n(&gm_pystack_on, 1, __ATOMIC_RELEASE);
}

void gm_pystack_clear(void)
{
	if (gm_pycode_table.slots)
		gm_stack_table_clear(&gm_pycode_table);
	/* (a fork child: the forking thread is the only one left) */
	memset(gm_pyline_cache, 0, sizeof(gm_pyline_cache));
}

uint64_t gm_pystack_not_kept(void)
{
	return gm_pycode_table.slots ?
	               __atomic_load_n(&gm_pycode_table.not_kept, __ATOMIC_RELAXED) :
	               0;
}

#else /* built without the interpreter's headers */

int gm_pystack_on;
int gm_pystack_mode;

int gm_pystack_splice(gm_thread_t *t, void *const *raw, int n, uint64_t *pcs, int depth)
{
	(void)t;
	(void)raw;
	(void)n;
	(void)pcs;
	(void)depth;
	return 0;
}

void gm_pystack_find(void)
{
}

void gm_pystack_clear(void)
{
}

uint64_t gm_pystack_not_kept(void)
{
	return 0;
}

#endif

/* symbols.c - return addresses to names with libdwfl (symbols.h) */
#include "analysis/model/symbols.h"

#include <dwarf.h>
#include <errno.h>
#include <elfutils/libdwfl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libstdc++'s demangler has a C linkage name. */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

/* A name as libdwfl gave it (a pointer that stays valid while its session
 * lives) and as people read it. */
typedef struct gm_symbols_name {
	const char *raw;
	char *shown;
} gm_symbols_name_t;

/* A return address already named (in module mod): libdwfl's lookups are
 * slow (a search of the symbol table each) and the same addresses come
 * back in stack after stack. */
typedef struct gm_symbols_hit {
	uint64_t pc;
	long mod;         /* -1: an empty slot */
	gm_symbol_t name; /* what the lookup gave */
} gm_symbols_hit_t;

struct gm_symbols {
	const gm_stacks_t *stacks;
	Dwfl **dwfl;           /* per module, made at its first lookup */
	unsigned char *tried;  /* per module: 1 once its Dwfl was tried */
	unsigned char *warned; /* per module: 1 once its file was found changed */
	size_t nmods;
	int read_files;
	gm_symbols_name_t *names; /* names rewritten so far, open addressing by raw */
	size_t nnames, capnames;  /* capnames a power of two, or 0 */
	int failed;               /* out of memory once: a name was left as it was */
	gm_symbols_hit_t *hits;   /* open addressing by (pc, mod) */
	size_t nhits, caphits;    /* caphits a power of two, or 0 */
	uint64_t since;           /* gm_symbols_since: the capture's creation, 0: none */
	const char *capture;
};

void gm_symbols_since(gm_symbols_t *y, uint64_t created_ns, const char *capture)
{
	if (!y)
		return;
	y->since = created_ns;
	y->capture = capture;
}

static size_t gm_symbols_hit_slot(uint64_t pc, long mod, size_t cap)
{
	return (size_t)(((pc ^ ((uint64_t)mod << 48)) * 0x9e3779b97f4a7c15ull) >> 20) & (cap - 1);
}

/* The slot of (pc, mod): its entry, or the empty slot to take. */
static gm_symbols_hit_t *gm_symbols_hit_find(gm_symbols_t *y, uint64_t pc, long mod)
{
	size_t i = gm_symbols_hit_slot(pc, mod, y->caphits);
	while (y->hits[i].mod != -1 && (y->hits[i].pc != pc || y->hits[i].mod != mod))
		i = (i + 1) & (y->caphits - 1);
	return &y->hits[i];
}

/* Keeps what (pc, mod) was named; without memory it is only not kept. */
static void gm_symbols_hit_keep(gm_symbols_t *y, uint64_t pc, long mod, const gm_symbol_t *out)
{
	gm_symbols_hit_t *h;
	if ((y->nhits + 1) * 4 > y->caphits * 3) {
		size_t cap = y->caphits ? y->caphits * 2 : 1024, k, had = y->caphits;
		gm_symbols_hit_t *old = y->hits, *t = malloc(cap * sizeof(*t));
		if (!t)
			return;
		for (k = 0; k < cap; k++)
			t[k].mod = -1;
		y->hits = t;
		y->caphits = cap;
		for (k = 0; k < had; k++)
			if (old[k].mod != -1)
				*gm_symbols_hit_find(y, old[k].pc, old[k].mod) = old[k];
		free(old);
	}
	h = gm_symbols_hit_find(y, pc, mod);
	h->pc = pc;
	h->mod = mod;
	h->name = *out;
	y->nhits++;
}

static char *gm_symbols_debuginfo_path;

static const Dwfl_Callbacks gm_symbols_callbacks = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = &gm_symbols_debuginfo_path,
};

gm_symbols_t *gm_symbols_new(const gm_stacks_t *s, int read_files)
{
	gm_symbols_t *y = calloc(1, sizeof(*y));
	if (!y)
		return NULL;
	y->stacks = s;
	y->read_files = read_files;
	y->nmods = gm_stacks_nmodules(s);
	y->dwfl = calloc(y->nmods ? y->nmods : 1, sizeof(*y->dwfl));
	y->tried = calloc(y->nmods ? y->nmods : 1, 1);
	y->warned = calloc(y->nmods ? y->nmods : 1, 1);
	if (!y->dwfl || !y->tried || !y->warned) {
		free(y->dwfl);
		free(y->tried);
		free(y->warned);
		free(y);
		return NULL;
	}
	return y;
}

/* The file and line of at when libdwfl finds no compile unit for it: clang
 * writes no .debug_aranges, from which libdwfl looks units up, so a game
 * built with clang -g had function names and no lines. Each unit's own
 * ranges are asked instead (a walk over the units, once per address: the
 * caller keeps what it finds). */
/* The compile unit holding at, found by a walk over the units' own ranges
 * (into *die); NULL when none has it. */
static Dwarf_Die *gm_symbols_unit_walk(Dwfl_Module *mod, Dwarf_Addr at, Dwarf_Die *die,
                                       Dwarf_Addr *bias)
{
	Dwarf *dw = dwfl_module_getdwarf(mod, bias);
	Dwarf_CU *cu = NULL;
	Dwarf_Half version;
	uint8_t type;
	if (!dw || at < *bias)
		return NULL;
	while (dwarf_get_units(dw, cu, &cu, &version, &type, die, NULL) == 0)
		if ((type == DW_UT_compile || type == DW_UT_partial) &&
		    dwarf_haspc(die, at - *bias) > 0)
			return die;
	return NULL;
}

static void gm_symbols_line_by_units(Dwfl_Module *mod, Dwarf_Addr at, gm_symbol_t *out)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die cudie;
	Dwarf_Line *l;
	int line = 0;
	if (gm_symbols_unit_walk(mod, at, &cudie, &bias) &&
	    (l = dwarf_getsrc_die(&cudie, at - bias)) != NULL && dwarf_lineno(l, &line) == 0 &&
	    line > 0) {
		out->file = dwarf_linesrc(l, NULL, NULL);
		out->line = line;
	}
}

static const char *gm_symbols_demangle(gm_symbols_t *y, const char *name);

/* When at is in code inlined into its function: the file and line become
 * the call site in the function itself (the outermost inlined scope's
 * DW_AT_call_file and DW_AT_call_line), and the line found so far is kept
 * as the inlined code's, with the innermost inlined function's name. A
 * wrapper inlined at three call sites gave one frame, its own line, for
 * all three: a leak hidden among the others' allocations. The unit is
 * libdwfl's, or (clang writes no .debug_aranges) the units' own ranges'. */
static void gm_symbols_inline_site(gm_symbols_t *y, Dwfl_Module *mod, Dwarf_Addr at,
                                   gm_symbol_t *out)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die unit, *cu = dwfl_module_addrdie(mod, at, &bias), *scopes = NULL, inner_die;
	Dwarf_Attribute attr;
	Dwarf_Word file_ix, line;
	Dwarf_Files *files;
	size_t nfiles;
	const char *file, *name;
	int n, i, inner = -1, outer = -1;
	if (!cu)
		cu = gm_symbols_unit_walk(mod, at, &unit, &bias);
	if (!cu || at < bias || (n = dwarf_getscopes(cu, at - bias, &scopes)) <= 0)
		return;
	/* the scopes of a pc go from an inlined instance to its abstract
	 * origin's; the chain of the concrete tree, the instance inside the
	 * instance it was inlined into, is the innermost scope's parents */
	inner_die = scopes[0];
	free(scopes);
	scopes = NULL;
	if ((n = dwarf_getscopes_die(&inner_die, &scopes)) <= 0)
		return;
	for (i = 0; i < n; i++) { /* innermost first, up to the real function */
		int tag = dwarf_tag(&scopes[i]);
		if (tag == DW_TAG_subprogram)
			break;
		if (tag == DW_TAG_inlined_subroutine) {
			if (inner < 0)
				inner = i;
			outer = i;
		}
	}
	if (outer >= 0 &&
	    dwarf_formudata(dwarf_attr(&scopes[outer], DW_AT_call_line, &attr), &line) == 0 &&
	    line > 0 && line <= INT32_MAX &&
	    dwarf_formudata(dwarf_attr(&scopes[outer], DW_AT_call_file, &attr), &file_ix) == 0 &&
	    dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && file_ix < nfiles &&
	    (file = dwarf_filesrc(files, file_ix, NULL, NULL)) != NULL) {
		/* (its name is on the abstract instance the scope points to, or
		 * the declaration that one completes: its linkage name, demangled
		 * as the functions' are, gives a C++ method its class and
		 * template arguments, "Pool<Particle>::grab(unsigned long)"
		 * where DW_AT_name has "grab") */
		name = dwarf_formstring(
		        dwarf_attr_integrate(&scopes[inner], DW_AT_linkage_name, &attr));
		if (!name)
			name = dwarf_formstring(dwarf_attr_integrate(
			        &scopes[inner], DW_AT_MIPS_linkage_name, &attr));
		if (name)
			name = gm_symbols_demangle(y, name);
		else
			name = dwarf_formstring(
			        dwarf_attr_integrate(&scopes[inner], DW_AT_name, &attr));
		out->inlined = name ? name : "?";
		out->inlined_file = out->file;
		out->inlined_line = out->line;
		out->file = file;
		out->line = (int)line;
	}
	free(scopes);
}

/* Says what is wrong with module i's file ("gmtrace: FILE before CAPTURE
 * after"), once per file (a module loaded twice is one warning). */
static void gm_symbols_say(gm_symbols_t *y, size_t i, const char *before, const char *after)
{
	const char *path = gm_stacks_module(y->stacks, i)->path;
	size_t j;
	for (j = 0; j < i; j++)
		if (y->warned[j] && strcmp(gm_stacks_module(y->stacks, j)->path, path) == 0)
			break;
	if (j == i)
		fprintf(stderr, "gmtrace: %s %s %s%s\n", path, before,
		        y->capture ? y->capture : "the capture", after);
	y->warned[i] = 1;
}

/* 1 when the folder of the full path path is there. */
static int gm_symbols_folder_there(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t n = slash ? (size_t)(slash - path) : 0;
	if (n >= sizeof(dir))
		return 0;
	memcpy(dir, path, n);
	dir[n] = 0;
	return stat(n ? dir : "/", &st) == 0 && S_ISDIR(st.st_mode);
}

/* Module i's own libdwfl session, its file placed at its recorded base: one
 * session per module, so modules mapped at the same addresses at different
 * times (a plugin unloaded, another loaded) each keep their names. NULL when
 * the file cannot be read. */
static Dwfl *gm_symbols_dwfl(gm_symbols_t *y, size_t i)
{
	const gm_stack_module_t *m = gm_stacks_module(y->stacks, i);
	const char *slash = strrchr(m->path, '/');
	const unsigned char *id;
	GElf_Addr id_at;
	Dwfl_Module *mod;
	struct stat st;
	Dwfl *d;
	if (y->tried[i] || !y->read_files)
		return y->dwfl[i];
	y->tried[i] = 1;
	/* only regular files: a capture is not trusted, and a FIFO or a device
	 * named as a module would block the report */
	if (m->path[0] != '/')
		return NULL;
	if (stat(m->path, &st) != 0 || access(m->path, R_OK) != 0) {
		/* a binary deleted or moved since the run, from a folder that
		 * is still there, is said (its bare addresses would puzzle);
		 * a folder gone too is a capture read on another machine or
		 * outside the game's container, where every module would be
		 * one line */
		char why[160];
		int err = errno;
		if (err != ENOENT || gm_symbols_folder_there(m->path)) {
			snprintf(why, sizeof(why),
			         ") cannot be read: %s; its frames are shown as addresses",
			         strerror(err));
			gm_symbols_say(y, i, "(a module of", why);
		}
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || !(d = dwfl_begin(&gm_symbols_callbacks)))
		return NULL;
	dwfl_report_begin(d);
	/* the recorded base is where the file's lowest segment lies */
	if (!(mod = dwfl_report_elf(d, slash ? slash + 1 : m->path, m->path, -1, m->base, false))) {
		dwfl_end(d);
		return NULL;
	}
	dwfl_report_end(d, NULL, NULL);
	if (m->id_len) {
		/* the file the game mapped had this build ID: another file (the
		 * game rebuilt since) would give wrong names, so it gives none */
		if (dwfl_module_build_id(mod, &id, &id_at) != (int)m->id_len ||
		    memcmp(id, m->id, m->id_len) != 0) {
			gm_symbols_say(
			        y, i, "is not the file the game ran in",
			        " (its build ID differs): its frames are shown as addresses");
			dwfl_end(d);
			return NULL;
		}
	} else if (y->since &&
	           (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec >
	                   y->since + m->loaded_after_ns + 1000000000ull) {
		/* no build ID to go by: changed after it was loaded (the capture's
		 * creation, the wall clock, plus the time its record came after
		 * the first event; a second's margin for file systems with coarse
		 * times) */
		gm_symbols_say(y, i, "changed after", " was made: its names may be wrong");
	}
	y->dwfl[i] = d;
	return d;
}

void gm_symbols_free(gm_symbols_t *y)
{
	if (!y)
		return;
	for (size_t i = 0; i < y->capnames; i++)
		free(y->names[i].shown);
	free(y->names);
	free(y->hits);
	for (size_t i = 0; i < y->nmods; i++)
		if (y->dwfl[i])
			dwfl_end(y->dwfl[i]);
	free(y->dwfl);
	free(y->tried);
	free(y->warned);
	free(y);
}

/* A function's name for people: C++ names demangled, C names without the
 * symbol version ("__libc_start_main@@GLIBC_2.34"). */
static size_t gm_symbols_slot(const char *raw, size_t cap)
{
	return (size_t)(((uintptr_t)raw * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

/* Keeps shown as raw's name (a table that grows at 3/4); 0 or -1 (no memory). */
static int gm_symbols_keep(gm_symbols_t *y, const char *raw, char *shown)
{
	size_t i;
	if ((y->nnames + 1) * 4 > y->capnames * 3) {
		size_t cap = y->capnames ? y->capnames * 2 : 64, k;
		gm_symbols_name_t *t = calloc(cap, sizeof(*t));
		if (!t)
			return -1;
		for (k = 0; k < y->capnames; k++)
			if (y->names[k].raw) {
				i = gm_symbols_slot(y->names[k].raw, cap);
				while (t[i].raw)
					i = (i + 1) & (cap - 1);
				t[i] = y->names[k];
			}
		free(y->names);
		y->names = t;
		y->capnames = cap;
	}
	i = gm_symbols_slot(raw, y->capnames);
	while (y->names[i].raw)
		i = (i + 1) & (y->capnames - 1);
	y->names[i].raw = raw;
	y->names[i].shown = shown;
	y->nnames++;
	return 0;
}

/* A function's name for people: C++ names demangled, C names without the
 * symbol version ("__libc_start_main@@GLIBC_2.34"); each rewritten once. */
static const char *gm_symbols_demangle(gm_symbols_t *y, const char *name)
{
	int status = -1;
	const char *at = NULL;
	char *d;
	size_t i;
	if (strncmp(name, "_Z", 2) != 0 && !(at = strchr(name, '@')))
		return name;
	for (i = y->capnames ? gm_symbols_slot(name, y->capnames) : 0;
	     y->capnames && y->names[i].raw; i = (i + 1) & (y->capnames - 1))
		if (y->names[i].raw == name)
			return y->names[i].shown;
	if (at) {
		d = strndup(name, (size_t)(at - name));
		status = d ? 0 : -1;
		if (!d)
			y->failed = 1;
	} else {
		d = __cxa_demangle(name, NULL, NULL, &status);
		if (status == -1) /* the demangler's "out of memory" */
			y->failed = 1;
	}
	if (!d || status != 0) {
		free(d);
		return name; /* (not a valid mangled name: shown as it is) */
	}
	if (gm_symbols_keep(y, name, d) != 0) {
		free(d);
		y->failed = 1;
		return name;
	}
	return d;
}

int gm_symbols_failed(const gm_symbols_t *y)
{
	return y && y->failed;
}

/* x86-64's rt_sigreturn trampoline, the return address of every signal
 * handler the C library installs (glibc's __restore_rt, musl's
 * __restore_rt): mov $15, %rax; syscall. It is no symbol of the dynamic
 * table, so a stripped C library names it after whatever comes before. */
static const unsigned char gm_symbols_sigreturn[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00,
                                                     0x00, 0x00, 0x0f, 0x05};

/* 1 when pc is the start of the signal trampoline in mod's file. */
static int gm_symbols_is_sigreturn(Dwfl_Module *mod, uint64_t pc)
{
	Dwarf_Addr at = pc, bias = 0;
	Elf_Scn *scn = dwfl_module_address_section(mod, &at, &bias);
	Elf_Data *data;
	if (!scn || !(data = elf_getdata(scn, NULL)) || !data->d_buf ||
	    data->d_type != ELF_T_BYTE || at > data->d_size ||
	    data->d_size - at < sizeof(gm_symbols_sigreturn))
		return 0;
	return memcmp((const unsigned char *)data->d_buf + at, gm_symbols_sigreturn,
	              sizeof(gm_symbols_sigreturn)) == 0;
}

/* The lookup of pc, a return address (exact 0) or the address of the
 * instruction itself (exact 1: a frame a signal interrupted). */
static void gm_symbols_lookup_at(gm_symbols_t *y, uint64_t pc, int exact, uint64_t when,
                                 gm_symbol_t *out);

void gm_symbols_lookup(gm_symbols_t *y, uint64_t pc, uint64_t when, gm_symbol_t *out)
{
	gm_symbols_lookup_at(y, pc, 0, when, out);
}

void gm_symbols_frame(gm_symbols_t *y, const uint64_t *pcs, unsigned k, uint64_t when,
                      gm_symbol_t *out)
{
	int exact = 0;
	if (k > 0) {
		gm_symbols_lookup_at(y, pcs[k - 1], 0, when, out); /* (kept: cheap again) */
		exact = out->signal;
	}
	gm_symbols_lookup_at(y, pcs[k], exact, when, out);
}

/* (the cache's key: an exact lookup of an address is another name than a
 * return address's; native addresses are below 2^57) */
#define GM_SYMBOLS_EXACT_BIT (1ull << 62)

static void gm_symbols_lookup_at(gm_symbols_t *y, uint64_t pc, int exact, uint64_t when,
                                 gm_symbol_t *out)
{
	long i;
	/* the call instruction, not the one after */
	uint64_t at = pc && !exact ? pc - 1 : pc, key = exact ? pc | GM_SYMBOLS_EXACT_BIT : pc;
	Dwfl *d;
	memset(out, 0, sizeof(*out));
	if (pc & GM_PYFRAME_BIT) { /* named by the capture itself */
		uint32_t first;
		uint32_t line = GM_PYFRAME_LINE(pc);
		/* (a code the writer's table had no room for, id 0, or one whose
		 * record was lost, still has its line) */
		gm_stacks_pycode(y->stacks, GM_PYFRAME_CODE(pc), &out->function, &out->file,
		                 &first);
		out->line = line <= INT32_MAX ? (int)line : 0;
		out->python = 1;
		return;
	}
	if ((i = gm_stacks_module_at(y->stacks, pc, when)) < 0)
		return;
	out->module = gm_stacks_module(y->stacks, (size_t)i)->path;
	out->offset = pc - gm_stacks_module(y->stacks, (size_t)i)->base;
	if (y->caphits) {
		const gm_symbols_hit_t *h = gm_symbols_hit_find(y, key, i);
		if (h->mod == i) {
			*out = h->name; /* (its module and offset are this pc's too) */
			return;
		}
	}
	if ((d = gm_symbols_dwfl(y, (size_t)i)) != NULL) {
		Dwfl_Module *mod = dwfl_addrmodule(d, at);
		if (mod && !exact && gm_symbols_is_sigreturn(mod, pc)) {
			out->function = "<signal handler called>";
			out->signal = 1;
		} else if (mod) {
			GElf_Off in_fn = 0;
			GElf_Sym sym;
			const char *name =
			        dwfl_module_addrinfo(mod, at, &in_fn, &sym, NULL, NULL, NULL);
			Dwfl_Line *line = dwfl_module_getsrc(mod, at);
			Dwarf_Addr bias = 0;
			Dwarf_Die *cu;
			if (name) {
				out->function = gm_symbols_demangle(y, name);
				out->fn_offset = in_fn;
			}
			/* an address past a unit's last line row (_start, from a
			 * file built without -g) gets that row from libdwfl: a line
			 * of another file */
			if (line && (cu = dwfl_linecu(line)) != NULL &&
			    dwfl_module_getdwarf(mod, &bias) && at >= bias &&
			    dwarf_haspc(cu, at - bias) == 0)
				line = NULL;
			if (line)
				out->file = dwfl_lineinfo(line, NULL, &out->line, NULL, NULL, NULL);
			else
				gm_symbols_line_by_units(mod, at, out);
			if (out->file)
				gm_symbols_inline_site(y, mod, at, out);
		}
		gm_symbols_hit_keep(y, key, i, out);
	}
}

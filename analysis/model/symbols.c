/* symbols.c - return addresses to names with libdwfl (symbols.h) */
#include "analysis/model/symbols.h"

#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libstdc++'s demangler has a C linkage name. */
extern char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

typedef struct gm_symbols_name {
	struct gm_symbols_name *next;
	char *demangled;
} gm_symbols_name_t;

struct gm_symbols {
	Dwfl *dwfl;
	const gm_stacks_t *stacks;
	gm_symbols_name_t *names; /* demangled names handed out */
};

static char *gm_symbols_debuginfo_path;

static const Dwfl_Callbacks gm_symbols_callbacks = {
        .find_elf = dwfl_build_id_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .section_address = dwfl_offline_section_address,
        .debuginfo_path = &gm_symbols_debuginfo_path,
};

gm_symbols_t *gm_symbols_new(const gm_stacks_t *s)
{
	gm_symbols_t *y = calloc(1, sizeof(*y));
	size_t i, j, n = gm_stacks_nmodules(s);
	if (!y)
		return NULL;
	y->stacks = s;
	y->dwfl = dwfl_begin(&gm_symbols_callbacks);
	if (!y->dwfl)
		return y; /* no symbols: modules and offsets only */
	dwfl_report_begin(y->dwfl);
	for (i = 0; i < n; i++) {
		const gm_stack_module_t *m = gm_stacks_module(s, i);
		const char *slash = strrchr(m->path, '/');
		struct stat st;
		int later = 0;
		/* a range mapped again later belongs to the later module */
		for (j = i + 1; j < n && !later; j++) {
			const gm_stack_module_t *o = gm_stacks_module(s, j);
			later = o->base < m->base + m->size && m->base < o->base + o->size;
		}
		/* only regular files: a capture is not trusted, and a FIFO or a
		 * device named as a module would block the report */
		if (later || m->path[0] != '/' || stat(m->path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    access(m->path, R_OK) != 0)
			continue;
		/* the recorded base is where the file's lowest segment lies */
		dwfl_report_elf(y->dwfl, slash ? slash + 1 : m->path, m->path, -1, m->base, false);
	}
	dwfl_report_end(y->dwfl, NULL, NULL);
	return y;
}

void gm_symbols_free(gm_symbols_t *y)
{
	if (!y)
		return;
	while (y->names) {
		gm_symbols_name_t *n = y->names;
		y->names = n->next;
		free(n->demangled);
		free(n);
	}
	if (y->dwfl)
		dwfl_end(y->dwfl);
	free(y);
}

/* A function's name for people: C++ names demangled, C names without the
 * symbol version ("__libc_start_main@@GLIBC_2.34"). */
static const char *gm_symbols_demangle(gm_symbols_t *y, const char *name)
{
	gm_symbols_name_t *n;
	int status = -1;
	const char *at;
	char *d;
	if (strncmp(name, "_Z", 2) != 0) {
		if (!(at = strchr(name, '@')) || !(d = strndup(name, (size_t)(at - name))))
			return name;
		status = 0;
	} else {
		d = __cxa_demangle(name, NULL, NULL, &status);
	}
	if (!d || status != 0 || !(n = malloc(sizeof(*n)))) {
		free(d);
		return name;
	}
	n->demangled = d;
	n->next = y->names;
	y->names = n;
	return d;
}

void gm_symbols_lookup(gm_symbols_t *y, uint64_t pc, gm_symbol_t *out)
{
	size_t i = gm_stacks_nmodules(y->stacks);
	uint64_t at = pc ? pc - 1 : 0; /* the call instruction, not the one after */
	memset(out, 0, sizeof(*out));
	while (i-- > 0) {
		const gm_stack_module_t *m = gm_stacks_module(y->stacks, i);
		if (pc >= m->base && pc - m->base < m->size) {
			out->module = m->path;
			out->offset = pc - m->base;
			break;
		}
	}
	if (y->dwfl) {
		Dwfl_Module *mod = dwfl_addrmodule(y->dwfl, at);
		if (mod) {
			const char *name = dwfl_module_addrname(mod, at);
			Dwfl_Line *line = dwfl_module_getsrc(mod, at);
			if (name)
				out->function = gm_symbols_demangle(y, name);
			if (line)
				out->file = dwfl_lineinfo(line, NULL, &out->line, NULL, NULL, NULL);
		}
	}
}

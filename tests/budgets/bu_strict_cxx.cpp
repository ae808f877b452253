/* bu_strict_cxx.cpp - the C++ half of bu_strict: operator new at a budget's hard limit
 *
 * C entry points around new[] so that bu_strict.c (C11) can see what a C++
 * game sees: std::bad_alloc from a throwing new, nullptr from a nothrow new.
 * Results go through out-parameters, so no new-expression can be elided.
 */
#include <cstddef>
#include <new>

extern "C" {

/* new char[n]: 0 with *out set, or 1 when it threw std::bad_alloc (*out NULL). */
int bu_cxx_new(size_t n, void **out)
{
	try {
		char *p = new char[n];
		p[0] = 1;
		p[n - 1] = 2;
		*out = p;
		return 0;
	} catch (const std::bad_alloc &) {
		*out = nullptr;
		return 1;
	}
}

/* new (std::nothrow) char[n]: 0 with *out set, or 2 when it gave nullptr. */
int bu_cxx_new_nothrow(size_t n, void **out)
{
	char *p = new (std::nothrow) char[n];
	*out = p;
	if (!p)
		return 2;
	p[0] = 1;
	p[n - 1] = 2;
	return 0;
}

void bu_cxx_delete(void *p)
{
	delete[] static_cast<char *>(p);
}
}

/* grow.h - the models' growing arrays
 *
 * An array of *cap elements grows to hold at least need, doubling from 16:
 * GM_GROW(arr, cap, need) is 0, or -ENOMEM with the array unchanged.
 */
#ifndef GM_GROW_H
#define GM_GROW_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

static inline int gm_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			return -ENOMEM;
		c *= 2;
	}
	if (c > SIZE_MAX / size || !(q = realloc(*p, c * size)))
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

#define GM_GROW(arr, cap, need) gm_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

#endif

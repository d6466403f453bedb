/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-in for the kernel header of the same name, used only by
 * the unit tests and the tuning tool (see ../kshim.h): just what the code
 * they build needs.
 */
#ifndef KSHIM_LINUX_SLAB_H
#define KSHIM_LINUX_SLAB_H

#include <linux/types.h>

#include "kshim.h"

typedef unsigned int gfp_t;

#define GFP_KERNEL	((gfp_t)0x1)
#define __GFP_NOWARN	((gfp_t)0x2)

/*
 * malloc() with the kernel's overflow check of n * size, counted and made
 * to fail on demand by kshim.c. (kvmalloc_array() never zeroes: neither
 * does this.)
 */
static inline void *kvmalloc_array(size_t n, size_t size, gfp_t flags)
{
	(void)flags;
	return kshim_kvmalloc_array(n, size);
}

static inline void kvfree(const void *p)
{
	kshim_kvfree(p);
}

#endif

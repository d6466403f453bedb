/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-in for the kernel header of the same name, used only by
 * the unit tests and the tuning tool (see ../kshim.h): just what the code
 * they build needs.
 */
#ifndef KSHIM_LINUX_MM_H
#define KSHIM_LINUX_MM_H

#include <linux/slab.h>	/* kvmalloc_array() and kvfree(), there or here */

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-in for the kernel header of the same name, used only by
 * the unit tests and the tuning tool (see ../kshim.h): just what the code
 * they build needs.
 */
#ifndef KSHIM_LINUX_SCHED_H
#define KSHIM_LINUX_SCHED_H

#include "kshim.h"

/*
 * Nothing to give the CPU to here: count the call (kshim_resched_count)
 * and call kshim_resched_hook, which a test may set to time the gaps.
 */
static inline int cond_resched(void)
{
	kshim_resched_count++;
	if (kshim_resched_hook)
		kshim_resched_hook();
	return 0;
}

#endif

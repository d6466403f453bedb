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

/*
 * What a student may write in cond_resched()'s place, so that a wrong
 * answer builds and the tests say what it does. schedule() and yield()
 * give the CPU up (always); might_resched() and might_sleep() do too on a
 * kernel with voluntary preemption, as Debian's. cpu_relax() never does:
 * it only tells the CPU that this is a spin loop.
 */
static inline void schedule(void)
{
	cond_resched();
}

static inline void yield(void)
{
	cond_resched();
}

#define might_resched()	((void)cond_resched())
#define might_sleep()	((void)cond_resched())

static inline void cpu_relax(void)
{
}

#endif

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
 * A reschedule point: nothing to give the CPU to here, so count it
 * (kshim_resched_count) and call kshim_resched_hook, which a test may set
 * to time the gaps.
 */
static inline void kshim_resched(void)
{
	kshim_resched_count++;
	if (kshim_resched_hook)
		kshim_resched_hook();
}

static inline int cond_resched(void)
{
	kshim_resched();
	return 0;
}

/*
 * What a student may write in its place, so that a wrong answer builds
 * and the tests say what it does. schedule() and yield() give the CPU up
 * (always); might_resched() and might_sleep() do too on a kernel with
 * voluntary preemption, as Debian's. cpu_relax() never does: it only tells
 * the CPU that this is a spin loop.
 */
static inline void schedule(void)
{
	kshim_resched();
}

static inline void yield(void)
{
	kshim_resched();
}

#define might_resched()	kshim_resched()
#define might_sleep()	kshim_resched()

static inline void cpu_relax(void)
{
}

#endif

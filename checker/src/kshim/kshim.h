/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim.h - user-space stand-in for a few kernel services, used only by
 * the unit tests (checker/unit/test_bn.c) and the tuning tool
 * (checker/unit/bn_tune.c), which build kernel code such as
 * solutions/07-fib/bn.c with -I checker/src/kshim. The headers in linux/
 * next to this one stand in for the kernel headers of the same names.
 *
 * Besides what the kernel offers, the stand-ins count things and can be
 * told to fail, so that the tests can see what the kernel code does:
 * how often it would reschedule, how much it allocates, and what it does
 * when an allocation fails. kshim.c defines the variables.
 */
#ifndef KSHIM_H
#define KSHIM_H

#include <stddef.h>

/* Reschedule points: how many were passed, and a hook called at each (or
 * NULL). */
extern unsigned long kshim_resched_count;
extern void (*kshim_resched_hook)(void);

/* kvmalloc_array() and kvfree(): what is allocated now, and the peaks. */
extern unsigned long kshim_alloc_calls;	/* kvmalloc_array() calls */
extern long kshim_live_allocs;		/* allocated, not yet freed */
extern size_t kshim_live_bytes;
extern size_t kshim_peak_bytes;		/* the most kshim_live_bytes was */
extern size_t kshim_max_alloc;		/* the biggest one allocation */

/*
 * Failures on demand: when kshim_fail_at is not 0, the call to
 * kvmalloc_array() that makes kshim_alloc_calls equal to it fails; any
 * allocation of more than kshim_alloc_limit bytes fails (0: no limit).
 */
extern unsigned long kshim_fail_at;
extern size_t kshim_alloc_limit;

/*
 * New blocks are filled with 0xa5, as kvmalloc_array() does not zero them
 * (fresh pages from malloc() often are zero, which hides reads of memory
 * not yet written); 0 turns that off, for timing.
 */
extern int kshim_poison;

/*
 * Zero the counters and the peaks, and disarm the failures and the hook
 * (kshim_poison stays as it is).
 */
void kshim_reset(void);

void *kshim_kvmalloc_array(size_t n, size_t size);
void kshim_kvfree(const void *p);

#endif /* KSHIM_H */

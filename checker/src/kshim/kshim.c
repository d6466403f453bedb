// SPDX-License-Identifier: GPL-2.0
/*
 * kshim.c - user-space stand-in for a few kernel services (see kshim.h),
 * used only by the unit tests and the tuning tool.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kshim.h"

unsigned long kshim_resched_count;
void (*kshim_resched_hook)(void);
unsigned long kshim_alloc_calls;
long kshim_live_allocs;
size_t kshim_live_bytes;
size_t kshim_peak_bytes;
size_t kshim_max_alloc;
unsigned long kshim_fail_at;
size_t kshim_alloc_limit;
int kshim_poison = 1;

/* Each block starts with its size, so that kvfree() can count it. */
#define KSHIM_HEAD 16

void kshim_reset(void)
{
	kshim_resched_count = 0;
	kshim_resched_hook = NULL;
	kshim_alloc_calls = 0;
	kshim_peak_bytes = kshim_live_bytes;
	kshim_max_alloc = 0;
	kshim_fail_at = 0;
	kshim_alloc_limit = 0;
}

void *kshim_kvmalloc_array(size_t n, size_t size)
{
	size_t bytes;
	char *p;

	kshim_alloc_calls++;
	if (kshim_fail_at && kshim_alloc_calls == kshim_fail_at)
		return NULL;
	if (size && n > (SIZE_MAX - KSHIM_HEAD) / size)
		return NULL;	/* the kernel's overflow check */
	bytes = n * size;
	if (kshim_alloc_limit && bytes > kshim_alloc_limit)
		return NULL;
	p = malloc(KSHIM_HEAD + bytes);
	if (!p)
		return NULL;
	*(size_t *)p = bytes;
	if (kshim_poison)
		memset(p + KSHIM_HEAD, 0xa5, bytes);
	kshim_live_allocs++;
	kshim_live_bytes += bytes;
	if (kshim_live_bytes > kshim_peak_bytes)
		kshim_peak_bytes = kshim_live_bytes;
	if (bytes > kshim_max_alloc)
		kshim_max_alloc = bytes;
	return p + KSHIM_HEAD;
}

void kshim_kvfree(const void *addr)
{
	char *p;

	if (!addr)
		return;
	p = (char *)addr - KSHIM_HEAD;
	kshim_live_allocs--;
	kshim_live_bytes -= *(size_t *)p;
	free(p);
}

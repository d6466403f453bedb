/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-in for the kernel header of the same name, used only by
 * the unit tests and the tuning tool (see ../kshim.h): just what the code
 * they build needs.
 */
#ifndef KSHIM_LINUX_KERNEL_H
#define KSHIM_LINUX_KERNEL_H

#include <linux/types.h>

#define U32_MAX		((u32)~0U)

/* The kernel's come from <linux/compiler.h>, which <linux/kernel.h> has. */
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/*
 * min() and max() evaluate their arguments once and, like the kernel's,
 * want two arguments of the same type: comparing the addresses of two
 * different types makes the compiler warn (-Werror: fail).
 */
#define __kshim_paste(a, b)	a##b
#define __kshim_cmp(x, y, op)	__kshim_cmp2(x, y, op, __COUNTER__)
#define __kshim_cmp2(x, y, op, n) \
	__kshim_cmp3(x, y, op, __kshim_paste(__kshim_x, n), \
		     __kshim_paste(__kshim_y, n))
#define __kshim_cmp3(x, y, op, X, Y) __extension__({		\
	__typeof__(x) X = (x);					\
	__typeof__(y) Y = (y);					\
	(void)(&X == &Y);					\
	X op Y ? X : Y; })

#define min(x, y)		__kshim_cmp(x, y, <)
#define max(x, y)		__kshim_cmp(x, y, >)
#define max3(x, y, z)		max(max(x, y), z)
#define min_t(type, x, y)	__kshim_cmp((type)(x), (type)(y), <)
#define max_t(type, x, y)	__kshim_cmp((type)(x), (type)(y), >)

#define swap(a, b) do {				\
	__typeof__(a) __kshim_swap = (a);	\
	(a) = (b);				\
	(b) = __kshim_swap;			\
} while (0)

#endif

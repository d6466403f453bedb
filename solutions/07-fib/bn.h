/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bn.h - big natural numbers for kweb's /fib/N: fast-doubling Fibonacci
 * and conversion to decimal (see bn.c for the algorithms).
 *
 * The same bn.c builds in the kernel (a part of the kweb module) and in
 * user space, where checker/unit/test_bn.c checks it against GMP through
 * the stand-in headers of checker/src/kshim/.
 */
#ifndef _KWEB_BN_H
#define _KWEB_BN_H

#include <linux/types.h>

/*
 * Karatsuba multiplication pays from this many limbs on (schoolbook below).
 * Measured by checker/unit/bn_tune.c, run with
 *	make -C checker/unit tune BN=DIR	(DIR: the folder of a whole bn.c)
 * as the smallest size from which one level of Karatsuba over schoolbook
 * halves is always the faster, here products 24,
 * squares 28 to 44 (it varies from run to run), base-10^9 products 48 to 56
 * limbs (gcc 12 -O2, Xeon at 2.6 GHz). Squares have their own threshold: a
 * schoolbook square computes each cross product once, so it stays the
 * faster a little longer. Near these values the time of bn_fib() and
 * bn_to_dec() hardly changes (a few percent from 20 to 60 limbs).
 */
#define BN_KARATSUBA_LIMBS	24
#define BN_KARATSUBA_SQR_LIMBS	40
#define BN_KARATSUBA_DEC_LIMBS	48

/**
 * struct bn - a natural number
 * @limb: little-endian 32-bit limbs: the value is the sum of
 *	limb[i] * 2^(32 i); kvmalloc'ed, NULL when nothing is allocated
 * @len: limbs in use; limb[len - 1] is never 0, and 0 has len 0
 * @cap: limbs allocated
 */
struct bn {
	u32 *limb;
	size_t len;
	size_t cap;
};

/**
 * struct bn_ctx - how a long computation asks whether to give up
 * @cancelled: called between steps, from process context; true stops the
 *	computation with -ECANCELED. NULL (or a NULL ctx): never give up.
 * @arg: passed to @cancelled
 */
struct bn_ctx {
	bool (*cancelled)(void *arg);
	void *arg;
};

void bn_init(struct bn *x);
void bn_free(struct bn *x);
int bn_from_u64(struct bn *x, u64 v);
int bn_cmp(const struct bn *a, const struct bn *b);
int bn_add(struct bn *res, const struct bn *a, const struct bn *b);
int bn_sub(struct bn *res, const struct bn *a, const struct bn *b);
int bn_mul(struct bn *res, const struct bn *a, const struct bn *b,
	   const struct bn_ctx *ctx);
int bn_mul_tuned(struct bn *res, const struct bn *a, const struct bn *b,
		 bool dec, size_t kara, const struct bn_ctx *ctx);
size_t bn_fib_limbs(u32 n);
int bn_fib(struct bn *res, u32 n, const struct bn_ctx *ctx);
int bn_to_dec(const struct bn *x, char **out, size_t *len,
	      const struct bn_ctx *ctx);

#endif /* _KWEB_BN_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * bn.c - big natural numbers for kweb's /fib/N: Fibonacci numbers by fast
 * doubling, Karatsuba multiplication, and a subquadratic conversion to
 * decimal.
 *
 * F(1000000) has 208988 decimal digits: no machine word holds it, so the
 * number is an array of 32-bit "limbs", the digits of base 2^32, least
 * significant first (struct bn in bn.h). The code has four layers:
 *
 *  1. Loops over limb arrays, one operation each: add, subtract, multiply
 *     and add a row, a schoolbook product. A 32 x 32-bit product and the
 *     sums around it are computed in a u64, whose high half is the carry
 *     into the next limb. (No __int128: this builds on every architecture.)
 *     The same loops exist for base 10^9, where a limb holds nine decimal
 *     digits; the conversion to decimal computes in that base.
 *
 *  2. Karatsuba multiplication over either base: three half-size products
 *     instead of four, recursively, above BN_KARATSUBA_LIMBS. All the
 *     scratch memory of one product is allocated once, by its caller.
 *
 *  3. struct bn and the functions of bn.h, which allocate the limbs.
 *
 *  4. Fibonacci by fast doubling, and the conversion to decimal.
 *
 * Computing F(10^7) takes seconds of CPU time. Kernel code that runs that
 * long must let the scheduler in now and then and must be able to stop
 * when asked to (the module is being unloaded, the client went away):
 * every long loop here calls bn_yield() about every 0.1 ms (at most about
 * 0.5 ms apart, measured in user space for F(10^7)).
 *
 * A failed allocation is an answer, not a bug: every function returns
 * -ENOMEM, having freed what it allocated, and the sizes it asks for are
 * computed so that they cannot wrap around, however big n is.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/types.h>

#include "bn.h"

/* Nine decimal digits: the largest power of 10 below 2^32. */
#define BN_DEC_BASE	1000000000U

/*
 * How often to call bn_yield(): before each of the three products of a
 * Karatsuba node of at least BN_YIELD_LIMBS limbs (one below that is about
 * 50 us of work), and in loops after about BN_YIELD_WORK limb products of
 * work (or the time of that many: about 0.1 ms).
 */
#define BN_YIELD_LIMBS	512
#define BN_YIELD_WORK	(256UL * 1024)

/*
 * The conversion to decimal starts from blocks of BN_DEC_BLOCK to
 * 2 BN_DEC_BLOCK - 1 limbs (see bn_to_dec()).
 */
#define BN_DEC_BLOCK	16

/*
 * Big requests fail quietly: a failure is reported to the caller as
 * -ENOMEM, so the allocator need not warn about it in the kernel log.
 */
#define BN_GFP		(GFP_KERNEL | __GFP_NOWARN)

/*
 * What a multiplication needs besides its operands: whether the limbs are
 * of base 2^32 or 10^9, the Karatsuba thresholds, and the caller's ctx,
 * passed on to bn_yield().
 */
struct bn_job {
	const struct bn_ctx *ctx;
	bool dec;		/* base 10^9 instead of 2^32 */
	size_t kara;		/* Karatsuba from this many limbs on */
	size_t kara_sqr;	/* the same, for squares */
};

/*
 * The one reschedule point of this file: a long computation calls this
 * between steps. It lets another task run if one is waiting for this CPU
 * (a kernel with voluntary preemption, as Debian's, never takes the CPU
 * from kernel code on its own), then asks the caller's ctx whether to
 * stop.
 */
static int bn_yield(const struct bn_ctx *ctx)
{
	AAAA;
	if (ctx && ctx->cancelled && ctx->cancelled(ctx->arg))
		return -ECANCELED;
	return 0;
}

/*
 * A loop counts its work in *work (units: about the time of one limb
 * product) and calls this after each piece: every BN_YIELD_WORK units, it
 * yields.
 */
static int bn_work(const struct bn_ctx *ctx, size_t *work, size_t units)
{
	*work += units;
	if (*work < BN_YIELD_WORK)
		return 0;
	*work = 0;
	return bn_yield(ctx);
}

/*
 * Sizes: a + b, or SIZE_MAX if that does not fit. kvmalloc_array() fails
 * on SIZE_MAX limbs, so an absurd size becomes -ENOMEM, never a small
 * buffer that a wrapped-around size would give.
 */
static size_t bn_sadd(size_t a, size_t b)
{
	return a + b < a ? SIZE_MAX : a + b;
}

static u32 *bn_alloc(size_t n)
{
	return kvmalloc_array(n, sizeof(u32), BN_GFP);
}

/* The length of p[0..n) without its high zero limbs. */
static size_t bn_norm(const u32 *p, size_t n)
{
	while (n && !p[n - 1])
		n--;
	return n;
}

/* -1, 0 or 1 as a[0..n) is below, equal to or above b[0..n). */
static int bn_cmp_n(const u32 *a, const u32 *b, size_t n)
{
	while (n--) {
		if (a[n] != b[n])
			return a[n] < b[n] ? -1 : 1;
	}
	return 0;
}

/* ---- 1. Base 2^32: loops over limbs ---------------------------------- */

/*
 * r[0..n) = a[0..n) + b[0..n), the way it is done on paper: limb by limb
 * from the lowest, each sum plus the carry from the limb below. Returns
 * the carry out of the top limb, 0 or 1. r may be a or b.
 */
static u32 bn_add_n(u32 *r, const u32 *a, const u32 *b, size_t n)
{
	u32 carry = 0;
	size_t i;
	u64 sum;

	for (i = 0; i < n; i++) {
		/* At most 2 (2^32 - 1) + 1: 33 bits, a u64 holds it. */
		sum = (u64)a[i] + b[i] + carry;
		r[i] = (u32)sum;		/* the low 32 bits stay here */
		carry = BBBB;	/* bit 32 goes to the next limb */
	}
	return carry;
}

/*
 * r[0..n) = a[0..n) - b[0..n); returns the borrow, 1 if a < b (r is then
 * a - b + 2^(32 n)). r may be a or b.
 */
static u32 bn_sub_n(u32 *r, const u32 *a, const u32 *b, size_t n)
{
	u32 borrow = 0;
	size_t i;
	u64 diff;

	for (i = 0; i < n; i++) {
		/* Below zero, the u64 wraps around: its top bit is set. */
		diff = (u64)a[i] - b[i] - borrow;
		r[i] = (u32)diff;
		borrow = diff >> 63;
	}
	return borrow;
}

/* r[0..n) = a[0..n) + c; returns the carry out. r may be a. */
static u32 bn_add_1(u32 *r, const u32 *a, size_t n, u32 c)
{
	size_t i;
	u64 sum;

	for (i = 0; i < n && c; i++) {
		sum = (u64)a[i] + c;
		r[i] = (u32)sum;
		c = sum >> 32;
	}
	if (r != a)
		memcpy(r + i, a + i, (n - i) * sizeof(*r));
	return c;
}

/* r[0..n) = a[0..n) - c; returns the borrow out. r may be a. */
static u32 bn_sub_1(u32 *r, const u32 *a, size_t n, u32 c)
{
	size_t i;
	u32 v;

	for (i = 0; i < n && c; i++) {
		v = a[i];
		r[i] = v - c;
		c = v < c;
	}
	if (r != a)
		memcpy(r + i, a + i, (n - i) * sizeof(*r));
	return c;
}

/*
 * r[0..n) += the 64-bit v, where the sum fits in r[0..n), n >= 2.
 */
static void bn_add_u64(u32 *r, size_t n, u64 v)
{
	u64 t;

	t = (u64)r[0] + (u32)v;
	r[0] = (u32)t;
	t = (u64)r[1] + (v >> 32) + (t >> 32);
	r[1] = (u32)t;
	bn_add_1(r + 2, r + 2, n - 2, t >> 32);
}

/*
 * r[0..n) += a[0..n) * b, one row of a schoolbook product; returns the
 * limb carried out of r[n - 1]. A product of two limbs plus two more limbs
 * is at most (2^32 - 1)^2 + 2 (2^32 - 1) = 2^64 - 1: it never overflows
 * a u64, and the carry is always one limb.
 */
static u32 bn_addmul_1(u32 *r, const u32 *a, size_t n, u32 b)
{
	u32 carry = 0;
	size_t i;
	u64 t;

	for (i = 0; i < n; i++) {
		t = (u64)a[i] * b + r[i] + carry;
		r[i] = (u32)t;
		carry = t >> 32;
	}
	return carry;
}

/*
 * r[0..n) += a[0..n) * (b0 + b1 2^32): two rows in one pass. This is the
 * loop that most of the time of a big product goes to: it loads and stores
 * r[i] once for two products, and the two products of a[i] do not wait
 * for each other, so it runs about 1.4 times as fast as two bn_addmul_1().
 *
 * pend is what limb i + 1 has received so far: the b1 product of a[i],
 * the carry out of limb i, and the high half of the previous pend; at most
 * 2^64 - 1, as in bn_addmul_1(). Returns the last pend: the low half goes
 * to r[n], the high half to r[n + 1].
 */
static u64 bn_addmul_2(u32 *r, const u32 *a, size_t n, u32 b0, u32 b1)
{
	u64 t, pend = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		t = (u64)a[i] * b0 + r[i] + (u32)pend;
		r[i] = (u32)t;
		pend = (u64)a[i] * b1 + (t >> 32) + (pend >> 32);
	}
	return pend;
}

/*
 * r[0..na + nb) = a[0..na) * b[0..nb), na >= nb >= 1, the schoolbook way:
 * one row a * b[j] for each limb of b, shifted by j limbs. r must not
 * overlap a or b.
 */
static int bn_mul_basecase(u32 *r, const u32 *a, size_t na, const u32 *b,
			   size_t nb, const struct bn_ctx *ctx)
{
	size_t j, work = 0;
	u64 pend;
	int err;

	memset(r, 0, na * sizeof(*r));
	for (j = 0; j + 1 < nb; j += 2) {
		/* r[0..na + j) holds a * b[0..j): r[na + j + 0..1] are new */
		pend = bn_addmul_2(r + j, a, na, b[j], b[j + 1]);
		r[na + j] = (u32)pend;
		r[na + j + 1] = pend >> 32;
		err = bn_work(ctx, &work, 2 * na);	/* long rows only */
		if (err)
			return err;
	}
	if (j < nb)
		r[na + j] = bn_addmul_1(r + j, a, na, b[j]);
	return 0;
}

/*
 * r[0..2n) = a[0..n)^2. Of the n^2 products a[i] a[j], the ones with
 * i != j come in equal pairs: compute each once, double the sum, and add
 * the squares a[i]^2 -- about half the work of bn_mul_basecase().
 */
static int bn_sqr_basecase(u32 *r, const u32 *a, size_t n,
			   const struct bn_ctx *ctx)
{
	size_t i, work = 0;
	u32 c = 0, v;
	u64 t, sq;
	int err;

	/*
	 * Row i adds a[i] * a[i + 1..n) at limb 2i + 1. Two rows at a time:
	 * a[i + 2..n) * (a[i] + a[i + 1] 2^32) at limb 2i + 2, then the
	 * first product of row i, a[i] a[i + 1], which that leaves out.
	 */
	memset(r, 0, 2 * n * sizeof(*r));
	for (i = 0; i + 3 <= n; i += 2) {
		t = bn_addmul_2(r + 2 * i + 2, a + i + 2, n - i - 2, a[i],
				a[i + 1]);
		r[i + n] = (u32)t;
		r[i + n + 1] = t >> 32;
		bn_add_u64(r + 2 * i + 1, 2 * n - 2 * i - 1,
			   (u64)a[i] * a[i + 1]);
		err = bn_work(ctx, &work, 2 * (n - i));
		if (err)
			return err;
	}
	if (i + 2 == n)
		bn_add_u64(r + 2 * i + 1, 2, (u64)a[i] * a[i + 1]);

	/* Double: shift left by one bit. */
	for (i = 0; i < 2 * n; i++) {
		v = r[i];
		r[i] = v << 1 | c;
		c = v >> 31;
	}
	/* Add the squares a[i]^2 at limb 2i. */
	c = 0;
	for (i = 0; i < n; i++) {
		sq = (u64)a[i] * a[i];
		t = (u64)r[2 * i] + (u32)sq + c;
		r[2 * i] = (u32)t;
		t = (u64)r[2 * i + 1] + (sq >> 32) + (t >> 32);
		r[2 * i + 1] = (u32)t;
		c = t >> 32;
	}
	return 0;
}

/* ---- 1. Base 10^9: the same loops, nine decimal digits a limb -------- */

/*
 * A base-10^9 limb is below 10^9 < 2^30: a sum of two limbs and a carry
 * fits a u32, and the carry is whether it reached 10^9.
 */
static u32 bn_dec_add_n(u32 *r, const u32 *a, const u32 *b, size_t n)
{
	u32 carry = 0, sum;
	size_t i;

	for (i = 0; i < n; i++) {
		sum = a[i] + b[i] + carry;
		carry = sum >= BN_DEC_BASE;
		r[i] = carry ? sum - BN_DEC_BASE : sum;
	}
	return carry;
}

static u32 bn_dec_sub_n(u32 *r, const u32 *a, const u32 *b, size_t n)
{
	u32 borrow = 0, sub;
	size_t i;

	for (i = 0; i < n; i++) {
		sub = b[i] + borrow;
		borrow = a[i] < sub;
		r[i] = borrow ? a[i] + BN_DEC_BASE - sub : a[i] - sub;
	}
	return borrow;
}

/* r[0..n) = a[0..n) + c, for a small c (at most 3 here). r may be a. */
static u32 bn_dec_add_1(u32 *r, const u32 *a, size_t n, u32 c)
{
	size_t i;
	u32 sum;

	for (i = 0; i < n && c; i++) {
		sum = a[i] + c;
		c = sum >= BN_DEC_BASE;
		r[i] = c ? sum - BN_DEC_BASE : sum;
	}
	if (r != a)
		memcpy(r + i, a + i, (n - i) * sizeof(*r));
	return c;
}

/* r[0..n) = a[0..n) - c, for a small c. r may be a. */
static u32 bn_dec_sub_1(u32 *r, const u32 *a, size_t n, u32 c)
{
	size_t i;
	u32 v;

	for (i = 0; i < n && c; i++) {
		v = a[i];
		r[i] = v < c ? v + BN_DEC_BASE - c : v - c;
		c = v < c;
	}
	if (r != a)
		memcpy(r + i, a + i, (n - i) * sizeof(*r));
	return c;
}

/*
 * r[0..na + nb) = a[0..na) * b[0..nb) in base 10^9, na >= nb >= 1, column
 * by column: limb k of the product is the sum of a[i] b[k - i] plus what
 * column k - 1 carried, modulo 10^9. Dividing by 10^9 costs more than a
 * product, so a column is not reduced after every product: a product is
 * below 10^18 and a u64 holds 18.4 10^18, so 16 products (and the carry,
 * below nb 10^9) are added up before each reduction, which moves all but
 * the last nine digits into q.
 */
static int bn_dec_mul_basecase(u32 *r, const u32 *a, size_t na,
			       const u32 *b, size_t nb,
			       const struct bn_ctx *ctx)
{
	size_t k, i, end, top, units, work = 0;
	u64 dot, acc, q = 0;	/* q: what column k receives from k - 1 */
	u32 rem;
	int err;

	for (k = 0; k + 1 < na + nb; k++) {
		i = k < nb ? 0 : k - nb + 1;	/* b[k - i] exists */
		top = min(k + 1, na);		/* a[i] exists */
		units = top - i;
		acc = q;
		q = 0;
		while (i < top) {
			/*
			 * The products do not wait for the column below: only
			 * their sum is added to its carry.
			 */
			end = min(i + 16, top);
			for (dot = 0; i + 4 <= end; i += 4)	/* unrolled */
				dot += (u64)a[i] * b[k - i] +
				       (u64)a[i + 1] * b[k - i - 1] +
				       (u64)a[i + 2] * b[k - i - 2] +
				       (u64)a[i + 3] * b[k - i - 3];
			for (; i < end; i++)
				dot += (u64)a[i] * b[k - i];
			q += div_u64_rem(acc + dot, BN_DEC_BASE, &rem);
			acc = rem;
		}
		r[k] = (u32)acc;
		err = bn_work(ctx, &work, units);
		if (err)
			return err;
	}
	r[na + nb - 1] = (u32)q;	/* below 10^9: the product fits */
	return 0;
}

/*
 * r[0..2n) = a[0..n)^2 in base 10^9: as bn_dec_mul_basecase(), but each
 * cross product a[i] a[k - i], i < k - i, is computed once and doubled,
 * and the square a[k/2]^2 of an even column added: about half the
 * products.
 */
static int bn_dec_sqr_basecase(u32 *r, const u32 *a, size_t n,
			       const struct bn_ctx *ctx)
{
	size_t k, i, end, top, units, work = 0;
	u64 dot, sq, acc, q = 0;
	u32 rem;
	int err;

	for (k = 0; k + 1 < 2 * n; k++) {
		i = k < n ? 0 : k - n + 1;	/* a[k - i] exists */
		top = (k + 1) / 2;		/* i < k - i */
		units = top - i;
		/* the square goes with the first products: 2 * 8 + 1 fit */
		sq = k & 1 ? 0 : (u64)a[k / 2] * a[k / 2];
		acc = q;
		q = 0;
		do {
			end = min(i + 8, top);
			for (dot = 0; i + 4 <= end; i += 4)
				dot += (u64)a[i] * a[k - i] +
				       (u64)a[i + 1] * a[k - i - 1] +
				       (u64)a[i + 2] * a[k - i - 2] +
				       (u64)a[i + 3] * a[k - i - 3];
			for (; i < end; i++)
				dot += (u64)a[i] * a[k - i];
			q += div_u64_rem(acc + 2 * dot + sq, BN_DEC_BASE, &rem);
			acc = rem;
			sq = 0;
		} while (i < top);
		r[k] = (u32)acc;
		err = bn_work(ctx, &work, units);
		if (err)
			return err;
	}
	r[2 * n - 1] = (u32)q;
	return 0;
}

/* ---- 2. Karatsuba, in either base ------------------------------------ */

static u32 job_add_n(const struct bn_job *job, u32 *r, const u32 *a,
		     const u32 *b, size_t n)
{
	return job->dec ? bn_dec_add_n(r, a, b, n) : bn_add_n(r, a, b, n);
}

static u32 job_sub_n(const struct bn_job *job, u32 *r, const u32 *a,
		     const u32 *b, size_t n)
{
	return job->dec ? bn_dec_sub_n(r, a, b, n) : bn_sub_n(r, a, b, n);
}

static u32 job_add_1(const struct bn_job *job, u32 *r, const u32 *a,
		     size_t n, u32 c)
{
	return job->dec ? bn_dec_add_1(r, a, n, c) : bn_add_1(r, a, n, c);
}

/* r[0..na) = a[0..na) + b[0..nb), na >= nb; returns the carry out. */
static u32 job_add(const struct bn_job *job, u32 *r, const u32 *a,
		   size_t na, const u32 *b, size_t nb)
{
	u32 c = job_add_n(job, r, a, b, nb);

	return job_add_1(job, r + nb, a + nb, na - nb, c);
}

/*
 * t[0..xn) = |x - y|, where y has yn = xn or xn - 1 limbs; returns whether
 * x < y.
 */
static bool job_absdiff(const struct bn_job *job, u32 *t, const u32 *x,
			size_t xn, const u32 *y, size_t yn)
{
	if (xn > yn) {
		if (x[yn]) {	/* x has one more limb, not 0: x > y */
			t[yn] = x[yn] - job_sub_n(job, t, x, y, yn);
			return false;
		}
		t[yn] = 0;
	}
	if (bn_cmp_n(x, y, yn) >= 0) {
		job_sub_n(job, t, x, y, yn);
		return false;
	}
	job_sub_n(job, t, y, x, yn);
	return true;
}

/*
 * The middle term of bn_kara(), in one pass over the limbs. With
 * W = 2^(32 h), r holds z0 + z2 W^2 = L0 + H0 W + L2 W^2 + H2 W^3 (h limbs
 * each, but H2 has e = 2n - 3h), and the product is
 *
 *	r + (z0 + z2 + sv) W	(s = 1 if add, else -1)
 *	= L0 + (X + L0 + s v_lo) W + (X + H2 + s v_hi) W^2 + H2 W^3,
 *	X = H0 + L2.
 *
 * Limb i of X, of the W term and of the W^2 term are computed together:
 * three carry chains that do not wait for each other, which is about twice
 * as fast as three passes. The carries of the last two can be -1, so they
 * are signed (>> of a negative s64 is arithmetic, as the kernel assumes
 * everywhere). What the chains carry out of the top is added at the end.
 */
static void bn_kara_mid(u32 *r, size_t h, size_t e, const u32 *v, bool add)
{
	s64 sign = add ? 1 : -1, c1 = 0, c2 = 0, t, c;
	u32 *lo = r + h, *hi = r + 2 * h;	/* the W and W^2 terms */
	u64 x, cx = 0;
	size_t i;

	for (i = 0; i < h; i++) {
		x = (u64)lo[i] + hi[i] + cx;			/* X = H0 + L2 */
		cx = x >> 32;
		x = (u32)x;
		t = (s64)x + r[i] + sign * v[i] + c1;		/* + L0 */
		lo[i] = (u32)t;
		c1 = t >> 32;
		t = (s64)x + (i < e ? hi[h + i] : 0) + sign * v[h + i] + c2;
		hi[i] = (u32)t;					/* + H2 */
		c2 = t >> 32;
	}
	/* X's carry is in both terms: c1 + cx at W^2, c2 + cx at W^3. */
	for (c = c1 + (s64)cx, i = 0; i < 2; i++, c = c2 + (s64)cx) {
		if (c > 0)
			bn_add_1(hi + i * h, hi + i * h, e + h - i * h, (u32)c);
		else if (c < 0)
			bn_sub_1(hi + i * h, hi + i * h, e + h - i * h, (u32)-c);
	}
}

/*
 * The same in base 10^9. A limb of X is below 2 10^9; a limb of the other
 * two terms, from -10^9 to 3 10^9, is brought into [0, 10^9) by adding a
 * carry from -1 to 2 times 10^9.
 */
static void bn_dec_kara_mid(u32 *r, size_t h, size_t e, const u32 *v,
			    bool add)
{
	const s64 base = BN_DEC_BASE;
	s64 sign = add ? 1 : -1, c1 = 0, c2 = 0, t, c;
	u32 *lo = r + h, *hi = r + 2 * h;
	u32 x, cx = 0;
	size_t i;

	for (i = 0; i < h; i++) {
		x = lo[i] + hi[i] + cx;
		cx = x >= BN_DEC_BASE;
		x = cx ? x - BN_DEC_BASE : x;
		t = (s64)x + r[i] + sign * v[i] + c1;
		c1 = (t >= base) + (t >= 2 * base) - (t < 0);
		lo[i] = (u32)(t - c1 * base);
		t = (s64)x + (i < e ? hi[h + i] : 0) + sign * v[h + i] + c2;
		c2 = (t >= base) + (t >= 2 * base) - (t < 0);
		hi[i] = (u32)(t - c2 * base);
	}
	for (c = c1 + cx, i = 0; i < 2; i++, c = c2 + cx) {
		if (c > 0)
			bn_dec_add_1(hi + i * h, hi + i * h, e + h - i * h, (u32)c);
		else if (c < 0)
			bn_dec_sub_1(hi + i * h, hi + i * h, e + h - i * h, (u32)-c);
	}
}

static int bn_kara(u32 *r, const u32 *a, const u32 *b, size_t n, u32 *s,
		   const struct bn_job *job);

/*
 * r[0..2n) = a[0..n) * b[0..n), with the scratch s (bn_kara_scratch()
 * limbs); a == b is a square. r overlaps none of a, b, s.
 */
static int bn_mul_n(u32 *r, const u32 *a, const u32 *b, size_t n, u32 *s,
		    const struct bn_job *job)
{
	bool sqr = a == b;

	if (n >= (sqr ? job->kara_sqr : job->kara))
		return bn_kara(r, a, b, n, s, job);
	if (job->dec && sqr)
		return bn_dec_sqr_basecase(r, a, n, job->ctx);
	if (job->dec)
		return bn_dec_mul_basecase(r, a, n, b, n, job->ctx);
	if (sqr)
		return bn_sqr_basecase(r, a, n, job->ctx);
	return bn_mul_basecase(r, a, n, b, n, job->ctx);
}

/*
 * Karatsuba: with B = 2^(32 h) (or 10^(9 h)), h = ceil(n / 2), write
 * a = a1 B + a0 and b = b1 B + b0. Then
 *
 *	a b = z2 B^2 + (a0 b1 + a1 b0) B + z0, z2 = a1 b1, z0 = a0 b0,
 *	a0 b1 + a1 b0 = z0 + z2 - (a0 - a1) (b0 - b1)
 *
 * three products of h limbs instead of four, and recursively so: the
 * cost grows as n^1.585 instead of n^2. The middle product is of
 * |a0 - a1| and |b0 - b1|, whose signs are kept apart, so that every
 * number stays a natural number of h limbs. The recursion is
 * log2(n / BN_KARATSUBA_LIMBS) deep: a few small stack frames.
 *
 * Scratch: t = |a0 - a1|, u = |b0 - b1| (h limbs each), their product v
 * (2h), then the scratch of the products below (bn_kara_scratch()).
 */
static int bn_kara(u32 *r, const u32 *a, const u32 *b, size_t n, u32 *s,
		   const struct bn_job *job)
{
	size_t h = (n + 1) / 2, l = n - h;
	u32 *t = s, *u = s + h, *v = s + 2 * h;
	bool yield = n >= BN_YIELD_LIMBS, sqr = a == b, neg;
	int err;

	/* z0 in r[0..2h), z2 in r[2h..2n) */
	err = yield ? bn_yield(job->ctx) : 0;
	if (!err)
		err = bn_mul_n(r, a, b, h, s, job);
	if (!err && yield)
		err = bn_yield(job->ctx);
	if (!err)
		err = bn_mul_n(r + 2 * h, a + h, b + h, l, s, job);
	if (!err && yield)
		err = bn_yield(job->ctx);
	if (err)
		return err;

	/* v = |a0 - a1| |b0 - b1|; neg: (a0 - a1) (b0 - b1) < 0 */
	neg = job_absdiff(job, t, a, h, a + h, l);
	if (sqr)
		neg = false;	/* (a0 - a1)^2 */
	else if (job_absdiff(job, u, b, h, b + h, l))
		neg = !neg;
	err = bn_mul_n(v, t, sqr ? t : u, h, s + 4 * h, job);
	if (err)
		return err;

	/* r += (z0 + z2 -+ v) shifted by h limbs */
	if (job->dec)
		bn_dec_kara_mid(r, h, 2 * n - 3 * h, v, neg);
	else
		bn_kara_mid(r, h, 2 * n - 3 * h, v, neg);
	return 0;
}

/* Scratch limbs of bn_mul_n() for n limbs, with thresholds of at least thr. */
static size_t bn_kara_scratch(size_t n, size_t thr)
{
	size_t s = 0;

	while (n >= thr) {
		n = (n + 1) / 2;
		s = bn_sadd(s, 4 * n);
	}
	return s;
}

/*
 * r[0..na + nb) = a[0..na) * b[0..nb), any lengths >= 1, with the scratch
 * s (bn_mul_scratch() limbs). r overlaps none of a, b, s. When one is
 * longer, it is cut into pieces as long as the other, and the pieces'
 * products are added up.
 */
static int bn_mul_limbs(u32 *r, const u32 *a, size_t na, const u32 *b,
			size_t nb, u32 *s, const struct bn_job *job)
{
	size_t i, k, work = 0;
	u32 c;
	int err;

	if (na < nb) {
		swap(a, b);
		swap(na, nb);
	}
	if (na == nb)
		return bn_mul_n(r, a, b, na, s, job);
	if (nb < job->kara)
		return job->dec ? bn_dec_mul_basecase(r, a, na, b, nb, job->ctx) :
				  bn_mul_basecase(r, a, na, b, nb, job->ctx);

	err = bn_mul_n(r, a, b, nb, s, job);
	for (i = nb; !err && i < na; i += nb) {
		/* s = a[i..i + k) * b; r[0..i + nb) holds a[0..i) * b */
		k = min(nb, na - i);
		err = bn_mul_limbs(s, a + i, k, b, nb, s + k + nb, job);
		if (err)
			break;
		memcpy(r + i + nb, s + nb, k * sizeof(*r));
		c = job_add_n(job, r + i, r + i, s, nb);
		job_add_1(job, r + i + nb, r + i + nb, k, c);
		err = bn_work(job->ctx, &work, k * nb);
	}
	return err;
}

/* The scratch limbs that bn_mul_limbs() needs: the same recursion. */
static size_t bn_mul_scratch(size_t na, size_t nb, const struct bn_job *job)
{
	size_t thr = min(job->kara, job->kara_sqr), s, k;

	if (na < nb)
		swap(na, nb);
	if (na == nb)
		return bn_kara_scratch(na, thr);
	if (nb < job->kara)
		return 0;
	s = bn_kara_scratch(nb, thr);
	if (na - nb >= nb)	/* a full piece besides the first */
		s = bn_sadd(2 * nb, s);
	k = na % nb;
	if (k)
		s = max(s, bn_sadd(k + nb, bn_mul_scratch(nb, k, job)));
	return s;
}

/* ---- 3. struct bn ---------------------------------------------------- */

/**
 * bn_init() - make a struct bn hold 0, with nothing allocated
 * @x: the number
 */
void bn_init(struct bn *x)
{
	x->limb = NULL;
	x->len = 0;
	x->cap = 0;
}

/**
 * bn_free() - free the limbs of a number; it holds 0 again
 * @x: the number (initialised with bn_init())
 */
void bn_free(struct bn *x)
{
	kvfree(x->limb);
	bn_init(x);
}

/* Make room for n limbs in x, keeping its value. */
static int bn_reserve(struct bn *x, size_t n)
{
	u32 *p;

	if (x->cap >= n)
		return 0;
	p = bn_alloc(n);
	if (!p)
		return -ENOMEM;
	if (x->len)
		memcpy(p, x->limb, x->len * sizeof(*p));
	kvfree(x->limb);
	x->limb = p;
	x->cap = n;
	return 0;
}

/**
 * bn_from_u64() - set a number to a u64
 * @x: the number (initialised with bn_init())
 * @v: its new value
 *
 * Return: 0, or -ENOMEM (@x is then unchanged).
 */
int bn_from_u64(struct bn *x, u64 v)
{
	int err = bn_reserve(x, 2);

	if (err)
		return err;
	x->limb[0] = (u32)v;
	x->limb[1] = v >> 32;
	x->len = bn_norm(x->limb, 2);
	return 0;
}

/**
 * bn_cmp() - compare two numbers
 * @a: a number
 * @b: another one
 *
 * Return: -1, 0 or 1 as @a is below, equal to or above @b.
 */
int bn_cmp(const struct bn *a, const struct bn *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return bn_cmp_n(a->limb, b->limb, a->len);
}

/**
 * bn_add() - add two numbers
 * @res: where the sum goes; may be @a or @b
 * @a: a number
 * @b: another one
 *
 * Return: 0, or -ENOMEM (the three are then unchanged).
 */
int bn_add(struct bn *res, const struct bn *a, const struct bn *b)
{
	u32 c;
	int err;

	if (a->len < b->len)
		swap(a, b);
	if (!a->len) {
		res->len = 0;
		return 0;
	}
	err = bn_reserve(res, a->len + 1);	/* keeps @a if it is @res */
	if (err)
		return err;
	c = bn_add_n(res->limb, a->limb, b->limb, b->len);
	c = bn_add_1(res->limb + b->len, a->limb + b->len, a->len - b->len, c);
	res->limb[a->len] = c;
	res->len = a->len + c;
	return 0;
}

/**
 * bn_sub() - subtract a number from a bigger one
 * @res: where @a - @b goes; may be @a or @b
 * @a: a number
 * @b: a number not above @a
 *
 * Return: 0, -ERANGE if @b > @a, or -ENOMEM (the three are then
 * unchanged).
 */
int bn_sub(struct bn *res, const struct bn *a, const struct bn *b)
{
	u32 c;
	int err;

	if (bn_cmp(a, b) < 0)
		return -ERANGE;
	err = bn_reserve(res, a->len);
	if (err)
		return err;
	c = bn_sub_n(res->limb, a->limb, b->limb, b->len);
	bn_sub_1(res->limb + b->len, a->limb + b->len, a->len - b->len, c);
	res->len = bn_norm(res->limb, a->len);
	return 0;
}

static int bn_mul_job(struct bn *res, const struct bn *a, const struct bn *b,
		      const struct bn_job *job)
{
	size_t n, ns;
	u32 *p, *s = NULL;
	int err = -ENOMEM;

	if (!a->len || !b->len) {
		res->len = 0;
		return 0;
	}
	n = a->len + b->len;
	p = res->limb;
	if (res == a || res == b || res->cap < n) {
		p = bn_alloc(n);	/* the product cannot overlap a or b */
		if (!p)
			return -ENOMEM;
	}
	ns = bn_mul_scratch(a->len, b->len, job);
	if (ns)
		s = bn_alloc(ns);
	if (!ns || s)
		err = bn_mul_limbs(p, a->limb, a->len, b->limb, b->len, s, job);
	kvfree(s);
	if (err) {
		if (p != res->limb)
			kvfree(p);
		else
			res->len = 0;
		return err;
	}
	if (p != res->limb) {
		kvfree(res->limb);
		res->limb = p;
		res->cap = n;
	}
	res->len = bn_norm(p, n);
	return 0;
}

/**
 * bn_mul_tuned() - multiply, with a given Karatsuba threshold, in either base
 * @res: where the product goes; may be @a and/or @b
 * @a: a number
 * @b: another one (@b == @a is a square)
 * @dec: the limbs of @a and @b are digits of base 10^9 (each below 10^9),
 *	and so are the product's, instead of base 2^32
 * @kara: Karatsuba from this many limbs on (at least 2), schoolbook below;
 *	SIZE_MAX: schoolbook only
 * @ctx: checked at big Karatsuba nodes and long schoolbook rows (or NULL)
 *
 * For the tests and for measuring the thresholds (checker/unit/bn_tune.c);
 * bn_mul() is this with the thresholds of bn.h.
 *
 * Return: 0, -ENOMEM or -ECANCELED. On error, @a and @b are unchanged
 * (even if @res is one of them) and @res is a valid number with any value.
 */
int bn_mul_tuned(struct bn *res, const struct bn *a, const struct bn *b,
		 bool dec, size_t kara, const struct bn_ctx *ctx)
{
	struct bn_job job = {
		.ctx = ctx,
		.dec = dec,
		.kara = max_t(size_t, kara, 2),
		.kara_sqr = max_t(size_t, kara, 2),
	};

	return bn_mul_job(res, a, b, &job);
}

/**
 * bn_mul() - multiply two numbers
 * @res: where the product goes; may be @a and/or @b
 * @a: a number
 * @b: another one (@b == @a is a square, which is faster)
 * @ctx: checked at big Karatsuba nodes and long schoolbook rows (or NULL)
 *
 * Return: 0, -ENOMEM or -ECANCELED. On error, @a and @b are unchanged
 * (even if @res is one of them) and @res is a valid number with any value.
 */
int bn_mul(struct bn *res, const struct bn *a, const struct bn *b,
	   const struct bn_ctx *ctx)
{
	struct bn_job job = {
		.ctx = ctx,
		.kara = BN_KARATSUBA_LIMBS,
		.kara_sqr = BN_KARATSUBA_SQR_LIMBS,
	};

	return bn_mul_job(res, a, b, &job);
}

/* ---- 4. Fibonacci ---------------------------------------------------- */

/**
 * bn_fib_limbs() - how many limbs F(n) needs, at most
 * @n: the index
 *
 * F(n) < phi^n, phi = (1 + sqrt(5)) / 2, and log2(phi) = 0.694241... <
 * 45499 / 65536, so F(n) has at most n * 45499 / 65536 + 1 bits. A few
 * limbs more are counted, so that bn_fib() finds room for its last product
 * in the result it allocates first. No overflow for any u32 @n.
 *
 * Return: an upper bound of the limbs of F(@n) (and of what bn_fib()
 * allocates for its result).
 */
size_t bn_fib_limbs(u32 n)
{
	u64 bits = ((u64)n * 45499 >> 16) + 1;

	return (size_t)(bits / 32) + 5;
}

/*
 * The doubling step. From F(k) and F(k+1):
 *
 *	F(2k)   = F(k) (2 F(k+1) - F(k))
 *	F(2k+1) = F(k)^2 + F(k+1)^2
 *
 * (both follow from F(m + n) = F(m) F(n+1) + F(m-1) F(n)). One step
 * doubles the index with three multiplications; the loop in bn_fib() needs
 * one step per bit of n.
 */

/* *even = F(2k) = F(k) (2 F(k+1) - F(k)); *tmp is scratch. */
static int bn_fib_even(struct bn *even, const struct bn *fk,
		       const struct bn *fk1, struct bn *tmp,
		       const struct bn_ctx *ctx)
{
	int err;

	err = bn_add(tmp, fk1, fk1);		/* 2 F(k+1) */
	if (!err)
		err = bn_sub(tmp, tmp, fk);	/* 2 F(k+1) - F(k) */
	if (!err)
		err = CCCC;
	return err;
}

/* *odd = F(2k+1) = F(k)^2 + F(k+1)^2; *tmp is scratch, odd != fk. */
static int bn_fib_odd(struct bn *odd, const struct bn *fk,
		      const struct bn *fk1, struct bn *tmp,
		      const struct bn_ctx *ctx)
{
	int err;

	err = bn_mul(tmp, fk, fk, ctx);		/* F(k)^2 */
	if (!err)
		err = bn_mul(odd, fk1, fk1, ctx);	/* F(k+1)^2 */
	if (!err)
		err = bn_add(odd, odd, tmp);
	return err;
}

/* (*a, *b) = (F(k), F(k+1)) becomes (F(2k), F(2k+1)). */
static int bn_fib_double(struct bn *a, struct bn *b, struct bn *t,
			 struct bn *u, const struct bn_ctx *ctx)
{
	int err;

	err = bn_fib_even(t, a, b, u, ctx);	/* t = F(2k) */
	if (!err)
		err = bn_fib_odd(b, a, b, u, ctx);	/* b = F(2k+1) */
	if (!err)
		swap(*a, *t);
	return err;
}

/**
 * bn_fib() - compute a Fibonacci number
 * @res: where F(@n) goes (initialised with bn_init(); its old value is
 *	freed)
 * @n: the index: F(0) = 0, F(1) = 1, F(n) = F(n-1) + F(n-2)
 * @ctx: checked between the steps and in big multiplications (or NULL)
 *
 * Fast doubling: the bits of @n, from the top, say how to go from
 * k = 1 to k = @n: each bit doubles k (bn_fib_double()), a 1 bit then
 * adds one (F(k+2) = F(k) + F(k+1)). The last bit needs only F(n) itself:
 * one of the two formulas. Each step costs about a third of the next one
 * (Karatsuba: numbers twice as long cost three times as much), so the
 * last two steps are most of the time.
 *
 * Memory: the result is allocated first, bn_fib_limbs(@n) limbs, so that
 * a too big @n fails at once; the peak is five times the size of F(@n),
 * the biggest single allocation twice that size.
 *
 * Return: 0, -ENOMEM or -ECANCELED; on error @res holds 0, with nothing
 * allocated.
 */
int bn_fib(struct bn *res, u32 n, const struct bn_ctx *ctx)
{
	struct bn a, b, t, u;
	u32 bit = 1U << 31;
	int err;

	bn_free(res);
	if (!n)
		return 0;
	bn_init(&a);
	bn_init(&b);
	bn_init(&t);
	bn_init(&u);
	err = bn_reserve(res, bn_fib_limbs(n));
	if (!err)
		err = bn_from_u64(&a, 1);	/* k = 1: F(1) = 1 */
	if (!err)
		err = bn_from_u64(&b, 1);	/* F(2) = 1 */
	while (!(n & bit))
		bit >>= 1;	/* the top bit of n: k = 1 */
	for (bit >>= 1; !err && bit > 1; bit >>= 1) {
		err = bn_yield(ctx);
		if (!err)
			err = bn_fib_double(&a, &b, &t, &u, ctx);
		if (!err && (n & bit)) {
			/* (F(k), F(k+1)) becomes (F(k+1), F(k) + F(k+1)) */
			err = bn_add(&t, &a, &b);
			swap(a, b);
			swap(b, t);
		}
	}
	if (!err)
		err = bn_yield(ctx);
	if (!err) {
		if (n == 1)
			err = bn_from_u64(res, 1);
		else if (n & 1)
			err = bn_fib_odd(res, &a, &b, &t, ctx);
		else
			err = bn_fib_even(res, &a, &b, &t, ctx);
	}
	bn_free(&a);
	bn_free(&b);
	bn_free(&t);
	bn_free(&u);
	if (err)
		bn_free(res);
	return err;
}

/* ---- 4. Conversion to decimal ---------------------------------------- */

/*
 * The base-10^9 limbs that a number below 2^(32 m) needs, at most:
 * floor(m * 32 log10(2) / 9) + 1, and 32 log10(2) / 9 = 1.0703 < 1 + 1/14.
 */
static size_t bn_dec_limbs(size_t m)
{
	return m + m / 14 + 1;
}

/*
 * The base case: x[0..k) (k <= 2 BN_DEC_BLOCK) in base 10^9, into
 * out[0..s), zero-padded. Divide by 10^9, long division from the top limb,
 * and the remainder is the next digit; repeat on the quotient.
 */
static void bn_dec_block(u32 *out, size_t s, const u32 *x, size_t k)
{
	u32 t[2 * BN_DEC_BLOCK], rem;
	size_t i, o = 0;

	memcpy(t, x, k * sizeof(*t));
	k = bn_norm(t, k);
	while (k) {
		rem = 0;
		for (i = k; i-- > 0;)
			t[i] = div_u64_rem((u64)rem << 32 | t[i], BN_DEC_BASE,
					   &rem);
		out[o++] = rem;
		if (!t[k - 1])
			k--;
	}
	memset(out + o, 0, (s - o) * sizeof(*out));
}

/*
 * How the conversion is laid out (see bn_to_dec()): a level holds blocks of
 * m binary limbs, each as a "slot" of bn_dec_limbs(m) base-10^9 limbs.
 */
struct bn_dec_plan {
	size_t block;		/* limbs of a block of level 0 */
	size_t blocks;		/* blocks of level 0 */
	size_t slots;		/* limbs of one level's slots */
	size_t pow;		/* limbs of one power buffer */
	size_t scratch;		/* limbs of multiplication scratch */
};

static void bn_dec_plan(struct bn_dec_plan *pl, size_t n,
			const struct bn_job *job)
{
	size_t c, m, s, last, h;

	/*
	 * m = n / 2^levels, rounded up, in [BN_DEC_BLOCK, 2 BN_DEC_BLOCK):
	 * then n fills nearly all of the 2^levels blocks, and every merge
	 * is of two halves of about the same size.
	 */
	for (m = n; m >= 2 * BN_DEC_BLOCK; m = (m + 1) / 2)
		;
	c = (n - 1) / m + 1;
	pl->block = m;
	pl->blocks = c;
	pl->slots = c * bn_dec_limbs(m);
	pl->pow = bn_dec_limbs(m);
	pl->scratch = 0;
	while (c > 1) {
		s = bn_dec_limbs(m);
		last = n - (c - 1) * m;		/* binary limbs of the last block */
		h = min(s, bn_dec_limbs(last));
		pl->scratch = max3(pl->scratch, bn_mul_scratch(s, s, job),
				   bn_mul_scratch(s, h, job));
		if (c > 2)			/* the next power is squared */
			pl->pow = max(pl->pow, 2 * s);
		c = (c + 1) / 2;
		m *= 2;
		pl->slots = max(pl->slots, c * bn_dec_limbs(m));
	}
	pl->slots++;	/* a product may spill one limb past its slot */
}

/*
 * The conversion itself, in area[] as bn_dec_plan() says; *d and *dn:
 * where the base-10^9 digits of x[0..n) are and how many.
 */
static int bn_dec_convert(u32 *area, const struct bn_dec_plan *pl,
			  const u32 *x, size_t n, const struct bn_job *job,
			  const u32 **d, size_t *dn)
{
	u32 *src = area, *dst = src + pl->slots;
	u32 *pw = dst + pl->slots, *pnext = pw + pl->pow;
	u32 *scratch = pnext + pl->pow;
	size_t c = pl->blocks, m = pl->block, s = bn_dec_limbs(m), s1;
	size_t i, h, last, work = 0;
	int err = 0;

	/* Level 0: the base case on each block (divisions: 4 units each). */
	for (i = 0; !err && i < c; i++) {
		bn_dec_block(src + i * s, s, x + i * m, min(m, n - i * m));
		err = bn_work(job->ctx, &work, 4 * m * m);
	}
	/* The power of level 0: 2^(32 m), a 1 above m zero limbs (in dst). */
	memset(dst, 0, m * sizeof(*dst));
	dst[m] = 1;
	bn_dec_block(pw, s, dst, m + 1);
	/* Each level merges pairs of blocks, until one is left. */
	while (!err && c > 1) {
		err = bn_yield(job->ctx);
		s1 = bn_dec_limbs(2 * m);
		last = n - (c - 1) * m;
		for (i = 0; !err && 2 * i + 1 < c; i++) {
			const u32 *lo = src + 2 * i * s, *hi = lo + s;
			u32 *out = dst + i * s1;

			/* The top block may be short: fewer limbs to multiply. */
			h = 2 * i + 2 == c ? min(s, bn_dec_limbs(last)) : s;
			/* out = hi * 2^(32 m) + lo */
			err = bn_mul_limbs(out, hi, h, pw, s, scratch, job);
			if (err)
				break;
			job_add(job, out, out, h + s, lo, s);
			if (h + s < s1)
				memset(out + h + s, 0, (s1 - h - s) * sizeof(*out));
			err = bn_work(job->ctx, &work, h * s);
		}
		if (err)
			break;
		if (c & 1) {	/* an odd block out moves up as it is */
			memcpy(dst + (c / 2) * s1, src + (c - 1) * s,
			       s * sizeof(*dst));
			memset(dst + (c / 2) * s1 + s, 0, (s1 - s) * sizeof(*dst));
		}
		if (c > 2) {	/* 2^(64 m) = (2^(32 m))^2, for the next level */
			err = bn_mul_limbs(pnext, pw, s, pw, s, scratch, job);
			swap(pw, pnext);
		}
		swap(src, dst);
		c = (c + 1) / 2;
		m *= 2;
		s = s1;
	}
	*d = src;
	*dn = bn_norm(src, s);
	return err;
}

/*
 * Print the base-10^9 digits d[0..dn) as decimal into a new string: the
 * top limb without leading zeros, each other one as nine digits.
 */
static int bn_dec_print(char **out, size_t *len, const u32 *d, size_t dn,
			const struct bn_ctx *ctx)
{
	u32 top = dn ? d[dn - 1] : 0, v;
	size_t total = 1, i, k, work = 0;
	char *p, *q;
	int err;

	for (v = top; v >= 10; v /= 10)
		total++;
	if (dn > 1) {
		if (dn - 1 > (SIZE_MAX - total - 1) / 9)
			return -ENOMEM;
		total += 9 * (dn - 1);
	}
	p = kvmalloc_array(total + 1, 1, BN_GFP);
	if (!p)
		return -ENOMEM;
	for (q = p + total - 1, i = 0; i + 1 < dn; i++) {
		v = d[i];
		for (k = 0; k < 9; k++) {
			*q-- = '0' + v % 10;
			v /= 10;
		}
		err = bn_work(ctx, &work, 64);	/* nine divisions */
		if (err) {
			kvfree(p);
			return err;
		}
	}
	do {
		*q-- = '0' + top % 10;
		top /= 10;
	} while (top);
	p[total] = '\0';
	*out = p;
	*len = total;
	return 0;
}

/**
 * bn_to_dec() - write a number in decimal
 * @x: the number
 * @out: where the new string goes: decimal digits, no leading zero ("0"
 *	for 0), NUL-terminated; kvmalloc'ed, the caller kvfree()s it
 * @len: where its length (strlen) goes
 * @ctx: checked between the levels, every few hundred microseconds within
 *	a level, and in big multiplications (or NULL)
 *
 * Dividing by 10^9 again and again costs n^2 for n limbs. Instead, with
 * B = 2^(32 m),
 *
 *	x = hi B + lo, so dec(x) = dec(hi) dec(B) + dec(lo)
 *
 * where dec() is the number written in base 10^9 and the product and sum
 * are computed in base 10^9, with the same Karatsuba code. Bottom-up: the
 * limbs of @x are cut into 2^L blocks of m limbs (m from BN_DEC_BLOCK to
 * twice that, so that the last block is nearly full), each converted by
 * long division (the base case); then each of the L levels merges pairs of
 * neighbouring blocks, hi and lo, into blocks twice as long, with the
 * power dec(2^(32 m)) of the level, which is the square of the level
 * below's. A block of m limbs is kept as bn_dec_limbs(m) base-10^9 limbs,
 * zero-padded, so that the blocks of a level sit at fixed places. With
 * Karatsuba the time is about that of three products of half of @x, and
 * the last step prints each base-10^9 limb as nine digits.
 *
 * Memory: a work area of 5.6 times the size of @x, freed before returning,
 * and the string, 2.4 times the size of @x (9.63 digits a limb).
 *
 * Return: 0, -ENOMEM or -ECANCELED (*@out is then NULL).
 */
int bn_to_dec(const struct bn *x, char **out, size_t *len,
	      const struct bn_ctx *ctx)
{
	struct bn_job job = {
		.ctx = ctx,
		.dec = true,
		.kara = BN_KARATSUBA_DEC_LIMBS,
		.kara_sqr = BN_KARATSUBA_DEC_LIMBS,
	};
	struct bn_dec_plan pl;
	size_t n = bn_norm(x->limb, x->len), dn, total;
	const u32 *d;
	u32 *area;
	int err;

	*out = NULL;
	*len = 0;
	if (!n)
		return bn_dec_print(out, len, NULL, 0, ctx);
	bn_dec_plan(&pl, n, &job);
	total = bn_sadd(bn_sadd(pl.slots, pl.slots),
			bn_sadd(bn_sadd(pl.pow, pl.pow), pl.scratch));
	area = bn_alloc(total);
	if (!area)
		return -ENOMEM;
	err = bn_dec_convert(area, &pl, x->limb, n, &job, &d, &dn);
	if (!err)
		err = bn_dec_print(out, len, d, dn, ctx);
	kvfree(area);
	return err;
}

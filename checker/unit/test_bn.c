// SPDX-License-Identifier: GPL-2.0
/*
 * test_bn.c - CMocka unit tests of solutions/07-fib/bn.c, against GMP.
 *
 * bn.c is kernel code: it is built here with the user-space stand-ins of
 * checker/src/kshim/ for the kernel headers, which also count what the
 * code does (reschedule points, live allocations) and can make an
 * allocation fail on demand.
 *
 * The random cases are reproducible: the seed is fixed and printed.
 * BN_TEST_QUICK=1 in the environment makes the big cases small, to run
 * the whole under valgrind:
 *
 *	BN_TEST_QUICK=1 valgrind --leak-check=full build/unit/test_bn
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gmp.h>

#include <linux/errno.h>
#include <linux/slab.h>

#include "kshim.h"
#include "bn.h"

#define DEC_BASE 1000000000U

static int quick;		/* BN_TEST_QUICK: smaller big cases */

/* ---- helpers ----------------------------------------------------------- */

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 1;
	print_message("seed %llu\n", (unsigned long long)seed);
}

static uint32_t rnd32(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ULL) >> 32);
}

static size_t rnd_below(size_t n)
{
	return (size_t)(((uint64_t)rnd32() << 32 | rnd32()) % n);
}

/* What the limbs of a test number look like. */
enum kind {
	RANDOM,		/* uniform */
	ONES,		/* every limb the largest: 2^32 - 1 (or 10^9 - 1) */
	ZEROS,		/* random, with runs of zero limbs */
	SPARSE,		/* mostly zero limbs, a few small or largest ones */
	NKINDS
};

static u32 limb_of(enum kind kind, int dec)
{
	u32 top = dec ? DEC_BASE - 1 : 0xffffffffU, v = rnd32();

	if (dec)
		v %= DEC_BASE;
	switch (kind) {
	case ONES:
		return top;
	case ZEROS:
		return rnd32() % 3 ? v : 0;
	case SPARSE:
		switch (rnd32() % 8) {
		case 0:
			return top;
		case 1:
			return 1;
		default:
			return 0;
		}
	default:
		return v;
	}
}

/* x = a number of exactly n limbs (n > 0: top limb not 0), kvmalloc'ed. */
static void make_bn(struct bn *x, size_t n, enum kind kind, int dec)
{
	size_t i, run = 0;

	bn_init(x);
	if (!n)
		return;
	x->limb = kvmalloc_array(n, sizeof(u32), GFP_KERNEL);
	assert_non_null(x->limb);
	for (i = 0; i < n; i++) {
		if (kind == ZEROS && !run && rnd32() % 16 == 0)
			run = 1 + rnd32() % (n / 4 + 1);	/* a zero run */
		if (run) {
			x->limb[i] = 0;
			run--;
		} else {
			x->limb[i] = limb_of(kind, dec);
		}
	}
	if (!x->limb[n - 1])
		x->limb[n - 1] = 1 + rnd32() % (dec ? DEC_BASE - 1 : 0xfffffffeU);
	x->len = x->cap = n;
}

static void bn_to_mpz(mpz_t g, const struct bn *x)
{
	mpz_import(g, x->len, -1, sizeof(u32), 0, 0, x->limb);
}

static void mpz_to_bn(struct bn *x, const mpz_t g)
{
	size_t n = mpz_sizeinbase(g, 2) / 32 + 1, cnt = 0;

	bn_init(x);
	x->limb = kvmalloc_array(n, sizeof(u32), GFP_KERNEL);
	assert_non_null(x->limb);
	mpz_export(x->limb, &cnt, -1, sizeof(u32), 0, 0, g);
	x->len = cnt;
	x->cap = n;
}

/* The value of base-10^9 limbs (least significant first). */
static void dec_to_mpz(mpz_t g, const u32 *d, size_t n)
{
	char *s = malloc(9 * n + 2), *p = s;
	size_t i;

	assert_non_null(s);
	*p++ = '0';
	for (i = n; i-- > 0;) {
		assert_true(d[i] < DEC_BASE);
		p += sprintf(p, "%09u", d[i]);
	}
	assert_int_equal(mpz_set_str(g, s, 10), 0);
	free(s);
}

/* x must hold exactly g, as a normalised struct bn. */
static void check_bn(const struct bn *x, const mpz_t g, const char *what,
		     size_t a, size_t b)
{
	size_t cnt = 0;
	u32 *want;

	if (x->len && !x->limb[x->len - 1])
		fail_msg("%s (%zu, %zu): high zero limb", what, a, b);
	assert_true(x->len <= x->cap);
	want = mpz_export(NULL, &cnt, -1, sizeof(u32), 0, 0, g);
	if (cnt != x->len || (cnt && memcmp(want, x->limb, cnt * 4))) {
		free(want);
		fail_msg("%s (%zu, %zu): %zu limbs, GMP has %zu, or they differ",
			 what, a, b, x->len, cnt);
	}
	free(want);
}

/* The same for base-10^9 limbs. */
static void check_dec(const struct bn *x, const mpz_t g, const char *what,
		      size_t a, size_t b)
{
	mpz_t h;

	if (x->len && !x->limb[x->len - 1])
		fail_msg("%s (%zu, %zu): high zero limb", what, a, b);
	mpz_init(h);
	dec_to_mpz(h, x->limb, x->len);
	if (mpz_cmp(h, g))
		fail_msg("%s (%zu, %zu): the base-10^9 product differs", what,
			 a, b);
	mpz_clear(h);
}

/* a * b with the threshold kara (in base 10^9 if dec), checked. */
static void mul_case(size_t na, size_t nb, enum kind ka, enum kind kb,
		     int dec, size_t kara)
{
	struct bn a, b, r;
	mpz_t ga, gb, gr;

	make_bn(&a, na, ka, dec);
	make_bn(&b, nb, kb, dec);
	bn_init(&r);
	mpz_inits(ga, gb, gr, NULL);
	if (dec) {
		dec_to_mpz(ga, a.limb, a.len);
		dec_to_mpz(gb, b.limb, b.len);
	} else {
		bn_to_mpz(ga, &a);
		bn_to_mpz(gb, &b);
	}
	mpz_mul(gr, ga, gb);
	if (kara)
		assert_int_equal(bn_mul_tuned(&r, &a, &b, dec, kara, NULL), 0);
	else
		assert_int_equal(bn_mul(&r, &a, &b, NULL), 0);
	if (dec)
		check_dec(&r, gr, "product", na, nb);
	else
		check_bn(&r, gr, "product", na, nb);

	/* The square of a, as a * a and in place (res is both operands). */
	mpz_mul(gr, ga, ga);
	if (kara)
		assert_int_equal(bn_mul_tuned(&r, &a, &a, dec, kara, NULL), 0);
	else
		assert_int_equal(bn_mul(&r, &a, &a, NULL), 0);
	if (dec)
		check_dec(&r, gr, "square", na, na);
	else
		check_bn(&r, gr, "square", na, na);
	if (kara)
		assert_int_equal(bn_mul_tuned(&a, &a, &a, dec, kara, NULL), 0);
	else
		assert_int_equal(bn_mul(&a, &a, &a, NULL), 0);
	if (dec)
		check_dec(&a, gr, "square in place", na, na);
	else
		check_bn(&a, gr, "square in place", na, na);

	mpz_clears(ga, gb, gr, NULL);
	bn_free(&a);
	bn_free(&b);
	bn_free(&r);
}

static int setup(void **state)
{
	(void)state;
	kshim_reset();
	return 0;
}

/* Every test frees all it allocated. */
static int teardown(void **state)
{
	(void)state;
	assert_int_equal(kshim_live_allocs, 0);
	kshim_reset();
	return 0;
}

/* ---- small operations -------------------------------------------------- */

static void test_from_u64_cmp(void **state)
{
	static const u64 v[] = {
		0, 1, 2, 0xffffffffULL, 0x100000000ULL, 0x100000001ULL,
		0xfffffffffULL, 0xffffffffffffffffULL,
	};
	struct bn a, b;
	size_t i, j;

	(void)state;
	bn_init(&a);
	assert_null(a.limb);
	assert_int_equal(a.len, 0);
	assert_int_equal(a.cap, 0);
	bn_init(&b);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(bn_from_u64(&a, v[i]), 0);
		assert_int_equal(a.len, v[i] ? (v[i] >> 32 ? 2 : 1) : 0);
		for (j = 0; j < sizeof(v) / sizeof(v[0]); j++) {
			assert_int_equal(bn_from_u64(&b, v[j]), 0);
			assert_int_equal(bn_cmp(&a, &b),
					 v[i] < v[j] ? -1 : v[i] > v[j]);
		}
	}
	bn_free(&a);
	bn_free(&b);
	assert_null(a.limb);
	assert_int_equal(a.len, 0);
}

static void test_add_sub(void **state)
{
	struct bn a, b, r;
	mpz_t ga, gb, gr;
	size_t na, nb, k;

	(void)state;
	rng_seed(7);
	mpz_inits(ga, gb, gr, NULL);
	for (na = 0; na <= 40; na++) {
		for (nb = 0; nb <= 40; nb++) {
			for (k = 0; k < NKINDS; k++) {
				make_bn(&a, na, (enum kind)k, 0);
				make_bn(&b, nb, (enum kind)(NKINDS - 1 - k), 0);
				bn_init(&r);
				bn_to_mpz(ga, &a);
				bn_to_mpz(gb, &b);
				mpz_add(gr, ga, gb);
				assert_int_equal(bn_add(&r, &a, &b), 0);
				check_bn(&r, gr, "a + b", na, nb);
				if (mpz_cmp(ga, gb) >= 0) {
					mpz_sub(gr, ga, gb);
					assert_int_equal(bn_sub(&r, &a, &b), 0);
					check_bn(&r, gr, "a - b", na, nb);
					/* in place: a -= b */
					assert_int_equal(bn_sub(&a, &a, &b), 0);
					check_bn(&a, gr, "a -= b", na, nb);
				} else {
					assert_int_equal(bn_sub(&r, &a, &b),
							 -ERANGE);
					/* in place: b = a + b */
					mpz_add(gr, ga, gb);
					assert_int_equal(bn_add(&b, &a, &b), 0);
					check_bn(&b, gr, "b = a + b", na, nb);
				}
				bn_free(&a);
				bn_free(&b);
				bn_free(&r);
			}
		}
	}
	/* The carry through every limb: (2^(32k) - 1) + 1 and back. */
	for (k = 1; k <= 70; k++) {
		make_bn(&a, k, ONES, 0);
		bn_init(&b);
		assert_int_equal(bn_from_u64(&b, 1), 0);
		assert_int_equal(bn_add(&a, &a, &b), 0);
		assert_int_equal(a.len, k + 1);
		assert_int_equal(a.limb[k], 1);
		assert_int_equal(a.limb[0], 0);
		assert_int_equal(bn_sub(&a, &a, &b), 0);
		assert_int_equal(a.len, k);
		assert_int_equal(a.limb[k - 1], 0xffffffffU);
		assert_int_equal(bn_add(&a, &a, &a), 0);	/* a + a */
		assert_int_equal(a.len, k + 1);
		assert_int_equal(a.limb[0], 0xfffffffeU);
		bn_free(&a);
		bn_free(&b);
	}
	mpz_clears(ga, gb, gr, NULL);
}

/* ---- multiplication ---------------------------------------------------- */

/* Every pair of lengths up to 70 limbs, with bn_mul()'s thresholds. */
static void test_mul_all_small(void **state)
{
	size_t na, nb;

	(void)state;
	rng_seed(11);
	for (na = 1; na <= 70; na++)
		for (nb = 1; nb <= 70; nb++)
			mul_case(na, nb, (enum kind)((na + nb) % NKINDS),
				 (enum kind)(na % NKINDS), 0, 0);
}

/*
 * Karatsuba all the way down (thresholds 2..8), so that every odd and even
 * split, short top half and unbalanced piece is met in small numbers.
 */
static void test_mul_forced_karatsuba(void **state)
{
	static const size_t thr[] = { 2, 3, 4, 5, 8 };
	size_t t, na, nb;
	int dec;

	(void)state;
	rng_seed(13);
	for (dec = 0; dec <= 1; dec++)
		for (t = 0; t < sizeof(thr) / sizeof(thr[0]); t++)
			for (na = 1; na <= 90; na += 1 + na / 16)
				for (nb = 1; nb <= na; nb += 1 + nb / 8)
					mul_case(na, nb,
						 (enum kind)((na * nb) % NKINDS),
						 (enum kind)(nb % NKINDS), dec,
						 thr[t]);
}

/* Around the thresholds, far above them, and unbalanced. */
static void test_mul_sizes(void **state)
{
	const size_t t = BN_KARATSUBA_LIMBS, q = BN_KARATSUBA_SQR_LIMBS;
	const size_t d = BN_KARATSUBA_DEC_LIMBS;
	const size_t bal[] = {
		t - 1, t, t + 1, q - 1, q, q + 1, d - 1, d, d + 1,
		2 * t - 1, 2 * t, 2 * t + 1, 2 * q - 1, 2 * q + 1, 4 * t + 3,
		8 * t - 1, 511, 512, 513, 1023, 1024, 1025, 1000, 3001,
		10007, 40000,
	};
	const size_t unbal[][2] = {
		{ t - 1, 10 * t }, { t, 3 * t + 1 }, { t + 1, 5 * t - 1 },
		{ 2 * t + 1, 7 * t }, { 37, 5000 }, { 100, 3000 },
		{ 1000, 10007 }, { 2500, 4999 }, { 3000, 3001 },
		{ 513, 1537 }, { 5000, 50000 }, { 1, 20000 }, { 2, 7777 },
	};
	size_t i, k, lim = quick ? 2000 : SIZE_MAX;
	int dec;

	(void)state;
	rng_seed(17);
	for (dec = 0; dec <= 1; dec++) {
		for (i = 0; i < sizeof(bal) / sizeof(bal[0]); i++) {
			if (bal[i] > lim)
				continue;
			for (k = 0; k < NKINDS; k++)
				mul_case(bal[i], bal[i], (enum kind)k,
					 (enum kind)((k + 1) % NKINDS), dec,
					 dec ? d : 0);
		}
		for (i = 0; i < sizeof(unbal) / sizeof(unbal[0]); i++) {
			if (unbal[i][1] > lim)
				continue;
			mul_case(unbal[i][0], unbal[i][1], RANDOM, ZEROS, dec,
				 dec ? d : 0);
			mul_case(unbal[i][1], unbal[i][0], ONES, RANDOM, dec,
				 dec ? d : 0);
		}
	}
	/* Schoolbook only, on big numbers. */
	mul_case(quick ? 300 : 3000, quick ? 200 : 2000, RANDOM, ONES, 0,
		 SIZE_MAX);
	mul_case(quick ? 300 : 3000, quick ? 200 : 2000, ONES, RANDOM, 1,
		 SIZE_MAX);
}

/* res is a or b, 0 times anything. */
static void test_mul_alias_zero(void **state)
{
	struct bn a, b, z;
	mpz_t ga, gb, gr;
	size_t n;

	(void)state;
	rng_seed(19);
	mpz_inits(ga, gb, gr, NULL);
	for (n = 1; n < 300; n += 7) {
		make_bn(&a, n, RANDOM, 0);
		make_bn(&b, n + n / 3 + 1, ZEROS, 0);
		bn_to_mpz(ga, &a);
		bn_to_mpz(gb, &b);
		mpz_mul(gr, ga, gb);
		assert_int_equal(bn_mul(&a, &a, &b, NULL), 0);	/* a *= b */
		check_bn(&a, gr, "a *= b", n, n);
		assert_int_equal(bn_mul(&b, &a, &b, NULL), 0);	/* b = a b */
		mpz_mul(gr, gr, gb);
		check_bn(&b, gr, "b = a * b", n, n);

		bn_init(&z);
		assert_int_equal(bn_mul(&a, &a, &z, NULL), 0);
		assert_int_equal(a.len, 0);
		assert_int_equal(bn_mul(&z, &b, &z, NULL), 0);
		assert_int_equal(z.len, 0);
		bn_free(&a);
		bn_free(&b);
		bn_free(&z);
	}
	mpz_clears(ga, gb, gr, NULL);
}

/* ---- decimal ----------------------------------------------------------- */

static void check_to_dec(const mpz_t g, const char *what, size_t arg)
{
	struct bn x;
	char *s, *want;
	size_t len = 12345;

	mpz_to_bn(&x, g);
	assert_int_equal(bn_to_dec(&x, &s, &len, NULL), 0);
	want = mpz_get_str(NULL, 10, g);
	if (len != strlen(want) || strlen(s) != len || strcmp(s, want))
		fail_msg("%s %zu: %zu digits, GMP has %zu, or they differ",
			 what, arg, len, strlen(want));
	free(want);
	kvfree(s);
	bn_free(&x);
}

static void test_to_dec_edges(void **state)
{
	static const char *const v[] = {
		"0", "1", "9", "10", "999999999", "1000000000", "1000000001",
		"4294967295", "4294967296", "4294967297",
		"999999999999999999", "1000000000000000000",
		"18446744073709551615", "18446744073709551616",
	};
	struct bn zero;
	mpz_t g;
	size_t i, k, kmax = quick ? 800 : 3000, mmax = quick ? 200 : 700;
	char *s;
	size_t len;

	(void)state;
	mpz_init(g);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(mpz_set_str(g, v[i], 10), 0);
		check_to_dec(g, "value", i);
	}
	/* 10^k - 1 and 10^k: every carry into a new digit group */
	for (k = 1; k <= kmax; k++) {
		mpz_ui_pow_ui(g, 10, k);
		check_to_dec(g, "10^k", k);
		mpz_sub_ui(g, g, 1);
		check_to_dec(g, "10^k - 1", k);
	}
	/*
	 * 2^(32m) - 1 and 2^(32m): all-ones limbs, across the block sizes
	 * (16..31 limbs) and the levels of the conversion.
	 */
	for (k = 1; k <= mmax; k++) {
		mpz_set_ui(g, 1);
		mpz_mul_2exp(g, g, 32 * k);
		check_to_dec(g, "2^(32m)", k);
		mpz_sub_ui(g, g, 1);
		check_to_dec(g, "2^(32m) - 1", k);
	}
	mpz_clear(g);

	/* 0 is "0", also with a NULL limb array */
	bn_init(&zero);
	assert_int_equal(bn_to_dec(&zero, &s, &len, NULL), 0);
	assert_string_equal(s, "0");
	assert_int_equal(len, 1);
	kvfree(s);
}

static void test_to_dec_random(void **state)
{
	static const size_t big[] = {
		255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025, 4095,
		4096, 4097, 10000, 32767, 32768, 65537, 200000,
	};
	struct bn x;
	mpz_t g;
	size_t n, i, k;

	(void)state;
	rng_seed(23);
	mpz_init(g);
	for (n = 1; n <= 200; n++) {
		make_bn(&x, n, (enum kind)(n % NKINDS), 0);
		bn_to_mpz(g, &x);
		check_to_dec(g, "random limbs", n);
		bn_free(&x);
	}
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		if (quick && big[i] > 5000)
			continue;
		for (k = 0; k < NKINDS; k += big[i] > 20000 ? NKINDS : 1) {
			make_bn(&x, big[i], (enum kind)k, 0);
			bn_to_mpz(g, &x);
			check_to_dec(g, "random limbs", big[i]);
			bn_free(&x);
		}
	}
	mpz_clear(g);
}

/* ---- Fibonacci --------------------------------------------------------- */

static void fib_case(u32 n, int dec)
{
	struct bn f;
	mpz_t g;
	char *s, *want;
	size_t len;

	bn_init(&f);
	mpz_init(g);
	assert_int_equal(bn_fib(&f, n, NULL), 0);
	mpz_fib_ui(g, n);
	check_bn(&f, g, "F(n)", n, 0);
	if (f.len > bn_fib_limbs(n))
		fail_msg("F(%u) has %zu limbs, bn_fib_limbs() says %zu", n,
			 f.len, bn_fib_limbs(n));
	if (dec) {
		assert_int_equal(bn_to_dec(&f, &s, &len, NULL), 0);
		want = mpz_get_str(NULL, 10, g);
		if (len != strlen(want) || strcmp(s, want))
			fail_msg("F(%u) in decimal differs", n);
		free(want);
		kvfree(s);
	}
	mpz_clear(g);
	bn_free(&f);
}

static void test_fib_small(void **state)
{
	struct bn f;
	char *s;
	size_t len;
	u32 n;

	(void)state;
	bn_init(&f);
	assert_int_equal(bn_fib(&f, 0, NULL), 0);	/* F(0) = 0 */
	assert_int_equal(f.len, 0);
	assert_int_equal(bn_to_dec(&f, &s, &len, NULL), 0);
	assert_string_equal(s, "0");
	kvfree(s);
	assert_int_equal(bn_fib(&f, 10, NULL), 0);	/* F(10) = 55 */
	assert_int_equal(bn_to_dec(&f, &s, &len, NULL), 0);
	assert_string_equal(s, "55");
	assert_int_equal(len, 2);
	kvfree(s);
	bn_free(&f);
	for (n = 0; n <= 2000; n++)
		fib_case(n, 1);
}

static void test_fib_random(void **state)
{
	int i;

	(void)state;
	rng_seed(20240607);
	for (i = 0; i < 200; i++)
		fib_case((u32)rnd_below(quick ? 5000 : 100001), 1);
}

static void test_fib_large(void **state)
{
	(void)state;
	if (quick) {
		fib_case(100000, 1);
		return;
	}
	fib_case(1000000, 1);
	fib_case(1 << 20, 0);
	fib_case((1 << 20) - 1, 0);
	fib_case(1234567, 0);
	fib_case(3000001, 0);
}

/* An upper bound for every n, and no overflow at the top. */
static void test_fib_limbs(void **state)
{
	u32 n;

	(void)state;
	for (n = 0; n < 100000; n++)
		assert_true(bn_fib_limbs(n) <= bn_fib_limbs(n + 1));
	/* F(2^32 - 1) has 2981746313 bits: 93179573 limbs */
	assert_true(bn_fib_limbs(0xffffffffU) >= 93179573);
	assert_true(bn_fib_limbs(0xffffffffU) <= 93179573 + 4096);
}

/* An n too big for memory is -ENOMEM at once, not an overflow. */
static void test_fib_huge(void **state)
{
	static const u32 n[] = { 0xffffffffU, 0x7fffffffU, 1000000000U };
	struct bn f;
	size_t i;

	(void)state;
	kshim_alloc_limit = (size_t)64 << 20;
	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		bn_init(&f);
		assert_int_equal(bn_fib(&f, n[i], NULL), -ENOMEM);
		assert_null(f.limb);
		assert_int_equal(f.len, 0);
		assert_int_equal(kshim_live_allocs, 0);
	}
	kshim_alloc_limit = 0;
}

/* ---- cancellation, allocation failures, rescheduling ------------------- */

struct countdown {
	unsigned long calls;	/* cancelled() calls so far */
	unsigned long at;	/* return true from this call on (0: never) */
};

static bool countdown_cancelled(void *arg)
{
	struct countdown *c = arg;

	return ++c->calls >= c->at && c->at;
}

static void test_cancel_fib(void **state)
{
	struct countdown cd = { 0, 0 };
	struct bn_ctx ctx = { .cancelled = countdown_cancelled, .arg = &cd };
	unsigned long at, total;
	struct bn f;
	int err;

	(void)state;
	/* How many checks F(10^5) makes, when none says stop. */
	bn_init(&f);
	assert_int_equal(bn_fib(&f, 100000, &ctx), 0);
	total = cd.calls;
	bn_free(&f);
	print_message("bn_fib(100000): %lu cancellation checks\n", total);
	assert_true(total >= 16);	/* at least one a step */
	for (at = 1; at <= total + 1; at++) {
		cd.calls = 0;
		cd.at = at;
		bn_init(&f);
		err = bn_fib(&f, 100000, &ctx);
		if (at <= total) {
			assert_int_equal(err, -ECANCELED);
			assert_int_equal(cd.calls, at);	/* stops at once */
			assert_null(f.limb);
			assert_int_equal(f.len, 0);
		} else {
			assert_int_equal(err, 0);
			fib_case(100000, 0);
		}
		bn_free(&f);
		assert_int_equal(kshim_live_allocs, 0);
	}
	/* No ctx, or no callback: never cancelled. */
	ctx.cancelled = NULL;
	bn_init(&f);
	assert_int_equal(bn_fib(&f, 30000, &ctx), 0);
	bn_free(&f);
}

static void test_cancel_to_dec(void **state)
{
	struct countdown cd = { 0, 0 };
	struct bn_ctx ctx = { .cancelled = countdown_cancelled, .arg = &cd };
	unsigned long at, total;
	struct bn f;
	char *s;
	size_t len;
	int err;

	(void)state;
	bn_init(&f);
	assert_int_equal(bn_fib(&f, 300000, NULL), 0);
	assert_int_equal(bn_to_dec(&f, &s, &len, &ctx), 0);
	kvfree(s);
	total = cd.calls;
	print_message("bn_to_dec(F(300000)): %lu cancellation checks\n",
		      total);
	assert_true(total >= 10);	/* at least one a level */
	for (at = 1; at <= total; at += 1 + at / 8) {
		cd.calls = 0;
		cd.at = at;
		s = (char *)&cd;
		len = 1;
		err = bn_to_dec(&f, &s, &len, &ctx);
		assert_int_equal(err, -ECANCELED);
		assert_null(s);
		assert_int_equal(len, 0);
		assert_int_equal(kshim_live_allocs, 1);	/* f only */
	}
	/* A product stops too, and leaves its operands alone. */
	cd.calls = 0;
	cd.at = 3;
	assert_int_equal(bn_mul(&f, &f, &f, &ctx), -ECANCELED);
	fib_case(300000, 0);
	assert_int_equal(kshim_live_allocs, 1);
	bn_free(&f);
}

/* The k-th allocation fails, for every k: -ENOMEM and nothing leaks. */
static void test_enomem(void **state)
{
	unsigned long k, calls;
	struct bn f, a;
	char *s;
	size_t len;
	mpz_t g;
	int err;

	(void)state;
	mpz_init(g);
	for (k = 1;; k++) {
		kshim_reset();
		kshim_fail_at = k;
		bn_init(&f);
		err = bn_fib(&f, 100000, NULL);
		calls = kshim_alloc_calls;
		if (!err) {
			assert_true(k > calls);	/* no failure was met */
			break;
		}
		assert_int_equal(err, -ENOMEM);
		assert_null(f.limb);
		assert_int_equal(f.len, 0);
		assert_int_equal(kshim_live_allocs, 0);
	}
	print_message("bn_fib(100000): %lu allocations\n", calls);
	assert_true(k > 10);
	mpz_fib_ui(g, 100000);
	check_bn(&f, g, "F(100000) after the failures", 100000, 0);

	for (k = 1;; k++) {
		kshim_reset();
		kshim_fail_at = k;
		s = (char *)&f;
		err = bn_to_dec(&f, &s, &len, NULL);
		if (!err) {
			kvfree(s);
			break;
		}
		assert_int_equal(err, -ENOMEM);
		assert_null(s);
		assert_int_equal(kshim_live_allocs, 1);		/* f */
	}
	assert_true(k >= 3);

	/* A failed product leaves its operands as they were. */
	for (k = 1; k <= 2; k++) {
		kshim_reset();
		mpz_to_bn(&a, g);
		kshim_fail_at = 1 + k;		/* after mpz_to_bn()'s */
		assert_int_equal(bn_mul(&a, &a, &f, NULL), -ENOMEM);
		check_bn(&a, g, "a after a failed a *= f", k, 0);
		assert_int_equal(bn_add(&a, &a, &a), 0);
		bn_free(&a);
	}
	/* So does a failed sum (a with no room for a carry limb). */
	mpz_to_bn(&a, g);
	a.cap = a.len;
	kshim_fail_at = kshim_alloc_calls + 1;
	assert_int_equal(bn_add(&a, &a, &a), -ENOMEM);
	check_bn(&a, g, "a after a failed a + a", 0, 0);
	kshim_fail_at = 0;
	bn_free(&a);
	bn_free(&f);
	mpz_clear(g);
}

static void test_resched(void **state)
{
	struct bn f;
	char *s;
	size_t len;
	unsigned long fib, dec;

	(void)state;
	bn_init(&f);
	kshim_reset();
	assert_int_equal(bn_fib(&f, 100000, NULL), 0);
	fib = kshim_resched_count;
	kshim_reset();
	assert_int_equal(bn_to_dec(&f, &s, &len, NULL), 0);
	dec = kshim_resched_count;
	print_message("F(100000): %lu reschedule points, %lu in bn_to_dec\n",
		      fib, dec);
	assert_true(fib >= 20);
	assert_true(dec >= 10);
	kvfree(s);

	if (!quick) {
		kshim_reset();
		assert_int_equal(bn_fib(&f, 1000000, NULL), 0);
		fib = kshim_resched_count;
		print_message("F(1000000): %lu reschedule points\n", fib);
		assert_true(fib >= 200);
	}
	bn_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_from_u64_cmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_sub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mul_all_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mul_forced_karatsuba, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mul_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mul_alias_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_to_dec_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_to_dec_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_limbs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fib_huge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_fib, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_to_dec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resched, setup, teardown),
	};
	const char *q = getenv("BN_TEST_QUICK");

	quick = q && *q && strcmp(q, "0");
	return cmocka_run_group_tests(tests, NULL, NULL);
}

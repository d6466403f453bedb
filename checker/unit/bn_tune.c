// SPDX-License-Identifier: GPL-2.0
/*
 * bn_tune.c - measure solutions/07-fib/bn.c in user space: the Karatsuba
 * thresholds of bn.h, and bn_fib() + bn_to_dec() against GMP.
 *
 *	make -C tests/unit tune
 *
 * 1. Schoolbook against Karatsuba, for products, squares and base-10^9
 *    products of 8..512 limbs: "karatsuba" is one Karatsuba level over
 *    schoolbook halves (bn_mul_tuned() with the threshold n), so the
 *    crossover, the smallest size from which it is always the faster one,
 *    is the threshold to put in bn.h.
 * 2. F(N) and its decimal string, N = 10^3..10^7, with bn.c and with GMP
 *    (mpz_fib_ui() + mpz_get_str()), the ratio of the times, the longest
 *    stretch without a reschedule point and without a cancellation check,
 *    and the memory bn.c used (peak and biggest single allocation).
 *
 * Times are the best of several runs (the machine may be busy).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmp.h>

#include <linux/slab.h>	/* kvmalloc_array(), from checker/src/kshim */

#include "kshim.h"
#include "bn.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd32(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* A random number of n limbs (base 10^9 digits if dec), top limb not 0. */
static void bn_random(struct bn *x, size_t n, int dec)
{
	size_t i;

	x->limb = kvmalloc_array(n, sizeof(u32), GFP_KERNEL);
	if (!x->limb) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++)
		x->limb[i] = dec ? rnd32() % 1000000000U : rnd32();
	if (!x->limb[n - 1])
		x->limb[n - 1] = 1;
	x->len = x->cap = n;
}

/* Best time of a product of a and b (b == a: a square), in ns. */
static double time_mul(const struct bn *a, const struct bn *b, int dec,
		       size_t kara)
{
	struct bn r;
	double best = 1e30, t0, t;
	long reps, i;
	int round;

	bn_init(&r);
	/* Enough repetitions for about 2 ms a round. */
	reps = 1;
	for (;;) {
		t0 = now();
		for (i = 0; i < reps; i++)
			bn_mul_tuned(&r, a, b, dec, kara, NULL);
		t = now() - t0;
		if (t > 2e-3)
			break;
		reps *= 2;
	}
	for (round = 0; round < 7; round++) {
		t0 = now();
		for (i = 0; i < reps; i++)
			bn_mul_tuned(&r, a, b, dec, kara, NULL);
		t = (now() - t0) / reps;
		if (t < best)
			best = t;
	}
	bn_free(&r);
	return best * 1e9;
}

static const size_t sizes[] = {
	8, 12, 16, 20, 24, 28, 32, 34, 36, 40, 44, 48, 52, 56, 64, 72,
	80, 96, 112, 128, 160, 192, 256, 320, 384, 512,
};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

/* Returns the crossover: the smallest size from which Karatsuba wins. */
static size_t threshold(const char *what, int dec, int sqr, int quiet)
{
	size_t i, cross = 0;
	double sb[NSIZES], ka[NSIZES];
	struct bn a, b;

	for (i = 0; i < NSIZES; i++) {
		bn_random(&a, sizes[i], dec);
		bn_random(&b, sizes[i], dec);
		sb[i] = time_mul(&a, sqr ? &a : &b, dec, SIZE_MAX);
		ka[i] = time_mul(&a, sqr ? &a : &b, dec, sizes[i]);
		bn_free(&a);
		bn_free(&b);
	}
	for (i = NSIZES; i-- > 0;) {
		if (ka[i] >= sb[i])
			break;
		cross = sizes[i];
	}
	if (!quiet) {
		printf("\n%s: schoolbook vs one Karatsuba level (ns)\n", what);
		printf("%6s %12s %12s %7s\n", "limbs", "schoolbook",
		       "karatsuba", "ratio");
		for (i = 0; i < NSIZES; i++)
			printf("%6zu %12.0f %12.0f %7.3f\n", sizes[i], sb[i],
			       ka[i], ka[i] / sb[i]);
	}
	printf("%s: Karatsuba is faster from %zu limbs on\n", what, cross);
	return cross;
}

/* The gaps between reschedule points and between cancellation checks. */
static double last_resched, max_resched_gap, last_cancel, max_cancel_gap;

static void on_resched(void)
{
	double t = now();

	if (t - last_resched > max_resched_gap)
		max_resched_gap = t - last_resched;
	last_resched = t;
}

static bool on_cancel(void *arg)
{
	double t = now();

	(void)arg;
	if (t - last_cancel > max_cancel_gap)
		max_cancel_gap = t - last_cancel;
	last_cancel = t;
	return false;
}

static void fib_vs_gmp(u32 n, int runs)
{
	struct bn_ctx ctx = { .cancelled = on_cancel };
	double tf = 1e30, td = 1e30, gf = 1e30, gd = 1e30, t0, t1, t2;
	size_t len = 0, peak = 0, biggest = 0, limbs = 0;
	char *s, *gs;
	struct bn f;
	mpz_t g;
	int i;

	for (i = 0; i < runs; i++) {
		bn_init(&f);
		kshim_reset();
		kshim_resched_hook = on_resched;
		max_resched_gap = max_cancel_gap = 0;
		t0 = last_resched = last_cancel = now();
		if (bn_fib(&f, n, &ctx)) {
			fprintf(stderr, "bn_fib(%u) failed\n", n);
			exit(1);
		}
		t1 = now();
		if (bn_to_dec(&f, &s, &len, &ctx)) {
			fprintf(stderr, "bn_to_dec(F(%u)) failed\n", n);
			exit(1);
		}
		t2 = now();
		on_resched();	/* the stretch up to the end counts too */
		on_cancel(NULL);
		tf = t1 - t0 < tf ? t1 - t0 : tf;
		td = t2 - t1 < td ? t2 - t1 : td;
		peak = kshim_peak_bytes;
		biggest = kshim_max_alloc;
		limbs = f.len;

		mpz_init(g);
		t0 = now();
		mpz_fib_ui(g, n);
		t1 = now();
		gs = mpz_get_str(NULL, 10, g);
		t2 = now();
		gf = t1 - t0 < gf ? t1 - t0 : gf;
		gd = t2 - t1 < gd ? t2 - t1 : gd;
		if (strcmp(s, gs)) {
			fprintf(stderr, "F(%u): bn.c and GMP differ!\n", n);
			exit(1);
		}
		free(gs);
		mpz_clear(g);
		kshim_kvfree(s);
		bn_free(&f);
	}
	kshim_reset();
	printf("%9u %8zu %9.3f %9.3f %9.3f %9.3f %6.2f %7.3f %7.3f %8.0f %7.0f\n",
	       n, len, tf * 1e3, td * 1e3, gf * 1e3, gd * 1e3,
	       (tf + td) / (gf + gd), max_resched_gap * 1e3,
	       max_cancel_gap * 1e3, peak / 1024.0, biggest / 1024.0);
	(void)limbs;
}

int main(int argc, char **argv)
{
	int quiet = argc > 1 && !strcmp(argv[1], "-q");
	double t0;

	kshim_poison = 0;	/* no memset() of new blocks in the times */

	printf("bn.h: BN_KARATSUBA_LIMBS %d, BN_KARATSUBA_SQR_LIMBS %d, "
	       "BN_KARATSUBA_DEC_LIMBS %d\n", BN_KARATSUBA_LIMBS,
	       BN_KARATSUBA_SQR_LIMBS, BN_KARATSUBA_DEC_LIMBS);
	threshold("products", 0, 0, quiet);
	threshold("squares", 0, 1, quiet);
	threshold("base-10^9 products", 1, 0, quiet);

	printf("\nF(N) in decimal: bn.c (bn_fib, bn_to_dec) vs GMP (mpz_fib_ui, mpz_get_str), ms\n");
	printf("%9s %8s %9s %9s %9s %9s %6s %7s %7s %8s %7s\n", "N",
	       "digits", "bn_fib", "bn_to_dec", "gmp_fib", "gmp_str",
	       "ratio", "resched", "cancel", "peak_KiB", "max_KiB");
	fib_vs_gmp(1000, 50);
	fib_vs_gmp(10000, 20);
	fib_vs_gmp(100000, 10);
	fib_vs_gmp(1000000, 5);
	t0 = now();
	fib_vs_gmp(10000000, 1);
	printf("(resched, cancel: the longest stretch without a reschedule point or a\n"
	       " cancellation check; peak: bn.c's most memory at once, max: its\n"
	       " biggest allocation; 10^7 took %.1f s with GMP's runs)\n",
	       now() - t0);
	return 0;
}

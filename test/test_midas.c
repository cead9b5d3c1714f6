/*
 * test_midas.c - MIDAS burst scores: steady rates stay low, bursts score,
 * long bursts are not absorbed while moderate rises are, keys are
 * independent, lazy bucket gaps equal bucket-by-bucket closing (against an
 * exact one-key model), determinism, save/load and its refusals, config caps.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../models/midas.h"
#include "unit.h"

#define BUCKET 60000000ull                 /* 60 s */
#define T0 1795856400000000ull             /* 2026-11-28T09:00:00Z, a bucket boundary */
#define KEY_A 0x1234567890abcdefull
#define KEY_B 0x0fedcba987654321ull

static struct midas_config config(double absorb_max)
{
	struct midas_config c = {
		.rows = 4, .cols = 4096, .bucket_us = BUCKET, .decay = 0.9,
		.absorb_max = absorb_max, .seed = 42,
	};
	return c;
}

static struct midas *sketch(double absorb_max)
{
	struct midas_config c = config(absorb_max);
	return midas_new(&c);
}

/* n events of key in bucket b, spread over it; returns the largest score. */
static double bucket(struct midas *m, uint64_t key, uint64_t b, uint32_t n)
{
	double max = 0;
	for (uint32_t j = 0; j < n; j++) {
		double s = midas_observe(m, key, T0 + b * BUCKET + j * (BUCKET / (n + 1)));
		CHECK(s >= 0);
		if (s > max)
			max = s;
	}
	return max;
}

/* 20 +/- 3 events a bucket, varying deterministically */
static uint32_t noisy20(uint64_t b)
{
	return 17 + (uint32_t)((b * 2654435761u >> 7) % 7);
}

static void test_first_bucket_scores_zero(void)
{
	struct midas *m = sketch(50);
	CHECK(m != NULL);
	/* no closed bucket yet: nothing to compare with */
	CHECK(bucket(m, KEY_A, 0, 500) == 0.0);
	midas_free(m);
}

static void test_steady_rate_scores_low(void)
{
	struct midas *m = sketch(50);
	double max = 0;
	for (uint64_t b = 0; b < 100; b++) {
		double s = bucket(m, KEY_A, b, noisy20(b));
		if (b >= 5 && s > max)
			max = s;
	}
	CHECK(max < 5);
	/* an exactly steady rate scores 0: the count never exceeds the mean */
	struct midas *e = sketch(50);
	for (uint64_t b = 0; b < 50; b++) {
		double s = bucket(e, KEY_A, b, 20);
		if (b >= 1)
			CHECK(s < 1e-9);
	}
	midas_free(e);
	midas_free(m);
}

static void test_burst_scores_high(void)
{
	struct midas *m = sketch(50);
	for (uint64_t b = 0; b < 40; b++)
		bucket(m, KEY_A, b, noisy20(b));
	double s = bucket(m, KEY_A, 40, 200);
	CHECK(s > 300);
	/* the score grows with the burst inside the bucket */
	double s1 = bucket(m, KEY_A, 41, 60), s2 = bucket(m, KEY_A, 41, 60);
	CHECK(s2 > s1);
	/* fewer than usual is not a burst */
	for (uint64_t b = 42; b < 80; b++)
		bucket(m, KEY_A, b, 20);
	CHECK(bucket(m, KEY_A, 80, 3) == 0.0);
	midas_free(m);
}

static void test_long_burst_not_absorbed(void)
{
	struct midas *filt = sketch(50), *all = sketch(1e300);
	for (uint64_t b = 0; b < 40; b++) {
		bucket(filt, KEY_A, b, 20);
		bucket(all, KEY_A, b, 20);
	}
	double first_f = 0, last_f = 0, first_a = 0, last_a = 0;
	for (uint64_t b = 40; b < 80; b++) {
		double f = bucket(filt, KEY_A, b, 200), a = bucket(all, KEY_A, b, 200);
		if (b == 40) {
			first_f = f;
			first_a = a;
		}
		last_f = f;
		last_a = a;
	}
	CHECK(first_f > 300);
	CHECK(first_f == first_a);
	/* filtered: the mean stays at 20, the 40th burst bucket scores like the first */
	CHECK(last_f > 0.99 * first_f && last_f < 1.01 * first_f);
	/* unfiltered: the burst became the baseline */
	CHECK(last_a < 1);
	/* back to normal: the filtered sketch still knows 20 as normal */
	CHECK(bucket(filt, KEY_A, 80, 20) < 1e-6);
	midas_free(filt);
	midas_free(all);
}

static void test_moderate_rise_absorbed(void)
{
	struct midas *m = sketch(50);
	for (uint64_t b = 0; b < 40; b++)
		bucket(m, KEY_A, b, 20);
	double first = bucket(m, KEY_A, 40, 40);
	CHECK(first > 5 && first < 50); /* visible, but under absorb_max */
	double prev = first, s = first;
	for (uint64_t b = 41; b < 100; b++) {
		s = bucket(m, KEY_A, b, 40);
		CHECK(s <= prev);
		prev = s;
	}
	CHECK(s < 0.01);
	/* now 200 is measured against 40 */
	CHECK(bucket(m, KEY_A, 100, 200) > 100);
	midas_free(m);
}

static void test_keys_independent(void)
{
	struct midas *m = sketch(50), *alone = sketch(50);
	/* 300 steady keys and one that bursts */
	for (uint64_t b = 0; b < 60; b++) {
		uint32_t n = b >= 30 && b < 40 ? 300 : 10;
		for (uint32_t j = 0; j < 10; j++) {
			uint64_t now = T0 + b * BUCKET + j * (BUCKET / 11);
			double max = 0;
			for (uint64_t k = 1; k <= 300; k++) {
				double s = midas_observe(m, k * 0x9e3779b97f4a7c15ull, now);
				if (s > max)
					max = s;
			}
			if (b > 0)
				CHECK(max < 1e-6);
		}
		double s = bucket(m, KEY_A, b, n), t = bucket(alone, KEY_A, b, n);
		/* 301 keys in 4096 columns: no key shares all four cells with another */
		CHECK(s == t);
		if (b >= 30 && b < 40)
			CHECK(s > 1000);
	}
	midas_free(m);
	midas_free(alone);
}

/* The exact one-key model, closing one bucket at a time. */
struct ref {
	double decay, absorb_max, total, weight;
	uint64_t bucket;
	int started;
	uint32_t cur;
	int hot;
};

static double ref_observe(struct ref *r, uint64_t now)
{
	uint64_t b = now / BUCKET;
	if (!r->started) {
		r->started = 1;
		r->bucket = b;
	}
	for (; r->bucket < b; r->bucket++) {
		double mean = r->weight > 0 ? r->total / r->weight : 0;
		r->total = r->total * r->decay + (r->hot ? mean : r->cur);
		r->weight = r->weight * r->decay + 1;
		r->cur = 0;
		r->hot = 0;
	}
	r->cur++;
	if (r->weight == 0)
		return 0;
	double a = r->cur, s = r->total + a, t = r->weight + 1;
	if (a <= s / t)
		return 0;
	double score = (a - s / t) * (a - s / t) * t * t / (s * (t - 1));
	if (score > r->absorb_max)
		r->hot = 1;
	return score;
}

static int close_to(double x, double y)
{
	double d = x > y ? x - y : y - x;
	double mag = x > y ? x : y;
	return d <= 1e-9 * (mag > 1 ? mag : 1);
}

static void test_lazy_gaps_match_exact_model(void)
{
	double decays[] = {0.5, 0.9, 0.99, 1.0};
	for (unsigned di = 0; di < sizeof decays / sizeof decays[0]; di++) {
		struct midas_config c = config(30);
		c.decay = decays[di];
		struct midas *m = midas_new(&c);
		struct ref r = {.decay = c.decay, .absorb_max = c.absorb_max};
		uint64_t state = 99, b = 0;
		int bad = 0;
		for (int step = 0; step < 400; step++) {
			state = state * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t roll = (uint32_t)(state >> 33);
			/* mostly the next bucket, sometimes gaps of up to 40 buckets */
			b += roll % 5 == 0 ? roll % 41 : 1;
			uint32_t n = 5 + (roll >> 8) % 30;
			if (roll % 17 == 0)
				n *= 10; /* bursts, some above absorb_max */
			for (uint32_t j = 0; j < n; j++) {
				uint64_t now = T0 + b * BUCKET + j * (BUCKET / (n + 1));
				double x = midas_observe(m, KEY_A, now), y = ref_observe(&r, now);
				if (!close_to(x, y))
					bad++;
			}
		}
		CHECK_EQ(bad, 0);
		midas_free(m);
	}
}

static void test_huge_gap(void)
{
	struct midas *m = sketch(50);
	for (uint64_t b = 0; b < 30; b++)
		bucket(m, KEY_A, b, 20);
	/* 2^40 buckets later (about two million years): O(1) in the gap, totals
	 * forgotten, W at its limit 1 / (1 - 0.9) = 10, so one event scores a * W */
	double s = midas_observe(m, KEY_A, T0 + (1ull << 40) * BUCKET);
	CHECK(s > 9.999999 && s < 10.000001);
	midas_free(m);
}

static void test_late_events_count_in_open_bucket(void)
{
	struct midas *m = sketch(1e300), *n = sketch(1e300);
	for (uint64_t b = 0; b < 20; b++) {
		bucket(m, KEY_A, b, 20);
		bucket(n, KEY_A, b, 20);
	}
	/* bucket 20: m sees half its events stamped a bucket (and a day) early */
	for (uint32_t j = 0; j < 100; j++) {
		uint64_t t = T0 + 20 * BUCKET + j * 1000;
		uint64_t late = j % 2 ? t - BUCKET : t - 1440 * BUCKET;
		double x = midas_observe(m, KEY_A, j < 1 ? t : late);
		double y = midas_observe(n, KEY_A, t);
		CHECK(x == y);
	}
	CHECK(bucket(m, KEY_A, 21, 20) == bucket(n, KEY_A, 21, 20));
	midas_free(m);
	midas_free(n);
}

/* a mixed stream with collisions: 64 columns, 500 keys; with `prefetch`, each
 * observation after a midas_prefetch, of its key mostly, of another sometimes */
static void run_stream_as(struct midas *m, uint64_t from, uint64_t to, double *out, bool prefetch)
{
	uint64_t st = 7 + from;
	for (uint64_t i = from; i < to; i++) {
		st = st * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t key = (st >> 33) % 500;
		if (i % 97 < 10)
			key = 7; /* a bursty one */
		if (prefetch)
			midas_prefetch(m, i % 5 == 0 ? key + 1 : key);
		out[i - from] = midas_observe(m, key, T0 + i * (BUCKET / 400));
	}
}

static void run_stream(struct midas *m, uint64_t from, uint64_t to, double *out)
{
	run_stream_as(m, from, to, out, false);
}

static void test_deterministic(void)
{
	struct midas_config c = config(40);
	c.cols = 64;
	enum { N = 20000 };
	static double a[N], b[N], d[N];
	struct midas *x = midas_new(&c), *y = midas_new(&c);
	c.seed = 43;
	struct midas *z = midas_new(&c);
	run_stream(x, 0, N, a);
	run_stream_as(y, 0, N, b, true); /* prefetches change no score */
	run_stream(z, 0, N, d);
	CHECK(memcmp(a, b, sizeof a) == 0);
	CHECK(memcmp(a, d, sizeof a) != 0); /* another seed, other collisions */
	midas_free(x);
	midas_free(y);
	midas_free(z);
}

static void test_save_load_round_trip(void)
{
	struct midas_config c = config(40);
	c.cols = 256;
	enum { N = 30000 };
	static double a[N], b[N];
	struct midas *x = midas_new(&c), *y = midas_new(&c);
	run_stream(x, 0, N, a);
	FILE *f = tmpfile();
	CHECK(f != NULL);
	CHECK_EQ(midas_save(x, f), 0);
	long len = ftell(f);
	CHECK_EQ(len, 56 + 16 * 4 * 256);
	rewind(f);
	midas_prefetch(y, 7); /* cells of the table the load replaces: never used after it */
	CHECK_EQ(midas_load(y, f), 0);
	CHECK(midas_observe(y, 7, T0 + N * (BUCKET / 400)) ==
	      midas_observe(x, 7, T0 + N * (BUCKET / 400)));
	/* the same scores from here on, bucket closes included */
	run_stream(x, N, 2 * N, a);
	run_stream_as(y, N, 2 * N, b, true);
	CHECK(memcmp(a, b, sizeof a) == 0);
	/* and the same bytes when saved again */
	FILE *g = tmpfile(), *h = tmpfile();
	CHECK_EQ(midas_save(x, g), 0);
	CHECK_EQ(midas_save(y, h), 0);
	CHECK_EQ(ftell(g), ftell(h));
	rewind(g);
	rewind(h);
	int same = 1, cg, ch;
	do {
		cg = getc(g);
		ch = getc(h);
		same &= cg == ch;
	} while (cg != EOF && ch != EOF);
	CHECK(same);
	fclose(f);
	fclose(g);
	fclose(h);
	midas_free(x);
	midas_free(y);
}

/* Writes m's state to a buffer. */
static size_t saved(const struct midas *m, unsigned char *buf, size_t cap)
{
	FILE *f = tmpfile();
	CHECK_EQ(midas_save(m, f), 0);
	rewind(f);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static int load_bytes(struct midas *m, const unsigned char *buf, size_t n)
{
	FILE *f = tmpfile();
	fwrite(buf, 1, n, f);
	rewind(f);
	int rc = midas_load(m, f);
	fclose(f);
	return rc;
}

static void test_load_refuses_and_keeps_state(void)
{
	struct midas_config c = config(40);
	c.rows = 2;
	c.cols = 8;
	struct midas *x = midas_new(&c), *y = midas_new(&c);
	static double tmp[5000];
	run_stream(x, 0, 5000, tmp);
	run_stream(y, 0, 3000, tmp);
	unsigned char good[56 + 16 * 16], mine[sizeof good], bad[sizeof good];
	size_t n = saved(x, good, sizeof good);
	CHECK_EQ(n, sizeof good);
	CHECK_EQ(saved(y, mine, sizeof mine), sizeof mine);

	/* every truncation */
	for (size_t cut = 0; cut < n; cut++)
		CHECK_EQ(load_bytes(y, good, cut), -1);
	/* magic, version, shape, bucket length, seed */
	size_t fields[] = {0, 4, 8, 12, 16, 24};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		memcpy(bad, good, n);
		bad[fields[i]] ^= 1;
		CHECK_EQ(load_bytes(y, bad, n), -1);
	}
	/* NaN weight, started = 2, NaN and negative totals, hot = 2 */
	memcpy(bad, good, n);
	memset(bad + 40, 0xff, 8);
	CHECK_EQ(load_bytes(y, bad, n), -1);
	memcpy(bad, good, n);
	bad[48] = 2;
	CHECK_EQ(load_bytes(y, bad, n), -1);
	memcpy(bad, good, n);
	memset(bad + 56 + 16 * 5, 0xff, 8);
	CHECK_EQ(load_bytes(y, bad, n), -1);
	memcpy(bad, good, n);
	memcpy(bad + 56 + 16 * 5, "\0\0\0\0\0\0\xf0\xbf", 8); /* -1.0 */
	CHECK_EQ(load_bytes(y, bad, n), -1);
	memcpy(bad, good, n);
	bad[56 + 16 * 15 + 12] = 2;
	CHECK_EQ(load_bytes(y, bad, n), -1);
	/* another configuration */
	c.cols = 16;
	struct midas *w = midas_new(&c);
	CHECK_EQ(load_bytes(w, good, n), -1);
	midas_free(w);

	/* y was left as it was */
	unsigned char after[sizeof good];
	CHECK_EQ(saved(y, after, sizeof after), sizeof after);
	CHECK(memcmp(after, mine, sizeof mine) == 0);
	/* and the good bytes load */
	CHECK_EQ(load_bytes(y, good, n), 0);
	CHECK_EQ(saved(y, after, sizeof after), sizeof after);
	CHECK(memcmp(after, good, sizeof good) == 0);
	midas_free(x);
	midas_free(y);
}

static void test_config_caps_and_memory(void)
{
	struct midas_config c = config(50);
	struct midas *m = midas_new(&c);
	CHECK(m != NULL);
	size_t mem = midas_memory(m);
	CHECK(mem >= 4 * 4096 * 16 && mem < 4 * 4096 * 16 + 1024);
	printf("midas 4 x 4096: %zu bytes\n", mem);
	midas_free(m);
	midas_free(NULL);

	struct midas_config bad;
	bad = c; bad.rows = 0; CHECK(midas_new(&bad) == NULL);
	bad = c; bad.rows = 17; CHECK(midas_new(&bad) == NULL);
	bad = c; bad.cols = 0; CHECK(midas_new(&bad) == NULL);
	bad = c; bad.cols = (1u << 24) + 1; CHECK(midas_new(&bad) == NULL);
	bad = c; bad.bucket_us = 0; CHECK(midas_new(&bad) == NULL);
	bad = c; bad.decay = 0; CHECK(midas_new(&bad) == NULL);
	bad = c; bad.decay = 1.01; CHECK(midas_new(&bad) == NULL);
	bad = c; bad.decay = NAN; CHECK(midas_new(&bad) == NULL);
	bad = c; bad.absorb_max = NAN; CHECK(midas_new(&bad) == NULL);
	CHECK(midas_new(NULL) == NULL);
	bad = c; bad.rows = 1; bad.cols = 1; bad.decay = 1;
	m = midas_new(&bad);
	CHECK(m != NULL);
	midas_free(m);
}

int main(void)
{
	RUN(test_first_bucket_scores_zero);
	RUN(test_steady_rate_scores_low);
	RUN(test_burst_scores_high);
	RUN(test_long_burst_not_absorbed);
	RUN(test_moderate_rise_absorbed);
	RUN(test_keys_independent);
	RUN(test_lazy_gaps_match_exact_model);
	RUN(test_huge_gap);
	RUN(test_late_events_count_in_open_bucket);
	RUN(test_deterministic);
	RUN(test_save_load_round_trip);
	RUN(test_load_refuses_and_keeps_state);
	RUN(test_config_caps_and_memory);
	return unit_done("test_midas");
}

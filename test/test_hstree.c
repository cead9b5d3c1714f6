/*
 * test_hstree.c - Half-Space Trees: nothing scores before the first window,
 * a tight cluster scores low and an outlier high, the score's ends (0 for a
 * whole window in one leaf), agreement with the paper's algorithms written
 * out plainly, window swaps at exact boundaries, scoring
 * without learning, determinism, save/load and its refusals, config caps.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../models/hstree.h"
#include "unit.h"

#define DIMS 4

static struct hstree_config config(void)
{
	struct hstree_config c = {.dims = DIMS, .trees = 25, .depth = 10, .window = 256, .seed = 7};
	return c;
}

static struct hstree *forest(void)
{
	struct hstree_config c = config();
	return hstree_new(&c);
}

/* the test's own generator (splitmix64), uniform in [0, 1) */
static double unit_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

/* a point within +/- 0.03 of (c, c, ...) */
static void near(double *x, double c, uint64_t *s)
{
	for (int q = 0; q < DIMS; q++)
		x[q] = c + (unit_rand(s) - 0.5) * 0.06;
}

/*
 * The paper's algorithms, written out plainly: the trees rebuilt from the
 * seed as hstree.c documents (splitmix64; per tree the dims work ranges,
 * then the splits in pre-order), every node's r and l kept and updated on
 * the whole path (UpdateMass), Score = sum of r * 2^k at the first node with
 * r < 0.1 * window or the leaf. Pins the construction and the arithmetic.
 */
struct ref {
	uint32_t dims, trees, depth, window, per, count;
	int filled;
	float *split;
	uint32_t *dim, *r, *l;
};

static uint64_t ref_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void ref_build(struct ref *f, uint32_t t, uint32_t i, uint32_t k, double *lo, double *hi,
		      uint64_t *rng)
{
	if (k == f->depth)
		return;
	uint32_t q = (uint32_t)(((ref_next(rng) >> 32) * f->dims) >> 32);
	double p = (lo[q] + hi[q]) / 2, save;
	f->split[t * f->per + i] = (float)p;
	f->dim[t * f->per + i] = q;
	save = hi[q];
	hi[q] = p;
	ref_build(f, t, 2 * i, k + 1, lo, hi, rng);
	hi[q] = save;
	save = lo[q];
	lo[q] = p;
	ref_build(f, t, 2 * i + 1, k + 1, lo, hi, rng);
	lo[q] = save;
}

static void ref_init(struct ref *f, const struct hstree_config *c)
{
	memset(f, 0, sizeof *f);
	f->dims = c->dims;
	f->trees = c->trees;
	f->depth = c->depth;
	f->window = c->window;
	f->per = 2u << c->depth;
	size_t n = (size_t)f->per * f->trees;
	f->split = calloc(n, sizeof *f->split);
	f->dim = calloc(n, sizeof *f->dim);
	f->r = calloc(n, sizeof *f->r);
	f->l = calloc(n, sizeof *f->l);
	uint64_t rng = c->seed;
	for (uint32_t t = 0; t < f->trees; t++) {
		double lo[32], hi[32];
		for (uint32_t q = 0; q < f->dims; q++) {
			double s = (double)(ref_next(&rng) >> 11) / 9007199254740992.0;
			double range = 2 * (s > 1 - s ? s : 1 - s);
			lo[q] = s - range;
			hi[q] = s + range;
		}
		ref_build(f, t, 1, 0, lo, hi, &rng);
	}
}

static void ref_free(struct ref *f)
{
	free(f->split);
	free(f->dim);
	free(f->r);
	free(f->l);
}

/* log2(x) for x >= 1, bit by bit by squaring: slow, plain, no libm */
static double ref_log2(double x)
{
	double y = 0, b = 0.5;
	while (x >= 2) {
		x /= 2;
		y += 1;
	}
	for (int i = 0; i < 64; i++, b /= 2) {
		x *= x;
		if (x >= 2) {
			x /= 2;
			y += b;
		}
	}
	return y;
}

static double ref_score_learn(struct ref *f, const double *x, int learn)
{
	double raw = 0;
	for (uint32_t t = 0; t < f->trees; t++) {
		uint32_t *r = f->r + t * f->per, *l = f->l + t * f->per, i = 1, k = 0;
		int scored = 0;
		for (;;) {
			if (!scored && (k == f->depth || r[i] < 0.1 * f->window)) {
				raw += (double)r[i] * (double)(1u << k);
				scored = 1;
			}
			if (learn)
				l[i]++;
			if (k == f->depth)
				break;
			i = x[f->dim[t * f->per + i]] < (double)f->split[t * f->per + i] ? 2 * i : 2 * i + 1;
			k++;
		}
	}
	double score = f->filled ? 1 - ref_log2(1 + raw / f->trees) /
					   ref_log2(1 + (double)f->window * (double)(1u << f->depth))
				 : 0;
	if (learn && ++f->count == f->window) {
		memcpy(f->r, f->l, (size_t)f->per * f->trees * sizeof *f->r);
		memset(f->l, 0, (size_t)f->per * f->trees * sizeof *f->l);
		f->count = 0;
		f->filled = 1;
	}
	return score;
}

static void test_matches_paper_reference(void)
{
	struct hstree_config cs[] = {
		{.dims = 3, .trees = 7, .depth = 6, .window = 50, .seed = 1},
		{.dims = 5, .trees = 20, .depth = 8, .window = 64, .seed = 2},
		{.dims = 1, .trees = 9, .depth = 4, .window = 10, .seed = 3},
		{.dims = 4, .trees = 25, .depth = 10, .window = 256, .seed = 7},
	};
	for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
		struct hstree *h = hstree_new(&cs[ci]);
		struct ref f;
		ref_init(&f, &cs[ci]);
		uint64_t s = 100 + ci;
		double worst = 0;
		for (int n = 0; n < 2000; n++) {
			double x[5];
			double c = (n / 170) % 3 == 0 ? 0.25 : 0.7;
			for (uint32_t q = 0; q < cs[ci].dims; q++)
				x[q] = n % 41 == 0 ? unit_rand(&s) : c + (unit_rand(&s) - 0.5) * 0.2;
			int learn = n % 5 != 0;
			double a = learn ? hstree_score_learn(h, x) : hstree_score(h, x);
			double b = ref_score_learn(&f, x, learn);
			double d = a > b ? a - b : b - a;
			if (d > worst)
				worst = d;
		}
		CHECK(worst < 1e-12);
		ref_free(&f);
		hstree_free(h);
	}
}

static void test_zero_before_first_window(void)
{
	struct hstree *h = forest();
	CHECK(h != NULL);
	uint64_t s = 1;
	double x[DIMS], far[DIMS] = {0.01, 0.99, 0.01, 0.99};
	for (int i = 0; i < 255; i++) {
		near(x, 0.5, &s);
		CHECK(hstree_score_learn(h, x) == 0.0);
		CHECK(hstree_score(h, far) == 0.0);
	}
	/* the 256th point is still scored against the empty reference, then swaps */
	near(x, 0.5, &s);
	CHECK(hstree_score_learn(h, x) == 0.0);
	CHECK(hstree_score(h, far) > 0.8);
	hstree_free(h);
}

static void test_cluster_low_outlier_high(void)
{
	struct hstree *h = forest();
	uint64_t s = 2;
	double x[DIMS];
	for (int i = 0; i < 3 * 256; i++) {
		near(x, 0.5, &s);
		hstree_score_learn(h, x);
	}
	double max_in = 0, sum_in = 0;
	for (int i = 0; i < 200; i++) {
		near(x, 0.5, &s);
		double v = hstree_score_learn(h, x);
		CHECK(v >= 0 && v <= 1);
		sum_in += v;
		if (v > max_in)
			max_in = v;
	}
	/* far in every dimension: isolated in (nearly) every tree */
	double far1[DIMS] = {0.05, 0.95, 0.05, 0.95}, far2[DIMS] = {0.9, 0.9, 0.9, 0.9};
	double v1 = hstree_score(h, far1), v2 = hstree_score(h, far2);
	/* off in one dimension only: isolated in the trees that split it in between,
	 * so it scores above every cluster point but lower (the sum is dominated by
	 * the trees that do not separate it; see the normalisation in hstree.c) */
	double one1[DIMS] = {0.5, 0.5, 0.5, 0.9}, one2[DIMS] = {0.2, 0.5, 0.5, 0.5};
	double v3 = hstree_score(h, one1), v4 = hstree_score(h, one2);
	printf("hstree cluster: mean %.3f max %.3f; far %.3f %.3f; one dimension off %.3f %.3f\n",
	       sum_in / 200, max_in, v1, v2, v3, v4);
	CHECK(max_in < 0.1);
	CHECK(v1 > 0.9 && v1 <= 1);
	CHECK(v2 > 0.9 && v2 <= 1);
	CHECK(v3 > max_in && v3 <= 1);
	CHECK(v4 > max_in && v4 <= 1);
	/* hstree_score gives what hstree_score_learn would have */
	near(x, 0.5, &s);
	double a = hstree_score(h, x);
	CHECK(a == hstree_score_learn(h, x));
	hstree_free(h);
}

static void test_score_ends(void)
{
	struct hstree *h = forest();
	double x[DIMS] = {0.3, 0.6, 0.1, 0.8};
	for (int i = 0; i < 256; i++)
		hstree_score_learn(h, x);
	/* the whole window in x's leaf in every tree: the most ordinary a point can be */
	CHECK(hstree_score(h, x) == 0.0);
	/* far outside the unit cube in every direction: empty space in every tree */
	double lo[DIMS] = {-1e9, -1e9, -1e9, -1e9}, hi[DIMS] = {1e9, 1e9, 1e9, 1e9};
	CHECK(hstree_score(h, lo) > 0.9);
	CHECK(hstree_score(h, hi) > 0.9);
	/* NaN features take a path (right at every split) and score in [0, 1] */
	double nan[DIMS] = {NAN, NAN, NAN, NAN};
	double v = hstree_score(h, nan);
	CHECK(v >= 0 && v <= 1);
	CHECK(v == hstree_score(h, hi));
	hstree_free(h);
}

static void test_window_swap(void)
{
	struct hstree *h = forest();
	uint64_t s = 3;
	double x[DIMS], a[DIMS] = {0.2, 0.2, 0.2, 0.2}, b[DIMS] = {0.8, 0.8, 0.8, 0.8};
	for (int i = 0; i < 2 * 256; i++) {
		near(x, 0.2, &s);
		hstree_score_learn(h, x);
	}
	CHECK(hstree_score(h, a) < 0.2);
	CHECK(hstree_score(h, b) > 0.8);

	/* scoring without learning moves no window */
	for (int i = 0; i < 5000; i++) {
		near(x, 0.8, &s);
		hstree_score(h, x);
	}
	CHECK(hstree_score(h, b) > 0.8);

	/* the move to B: a whole window of B is scored against A's reference ... */
	for (int i = 0; i < 256; i++) {
		near(x, 0.8, &s);
		double v = hstree_score_learn(h, x);
		CHECK(v > 0.7);
	}
	/* ... and the swap after its last point makes B the reference */
	CHECK(hstree_score(h, b) < 0.2);
	CHECK(hstree_score(h, a) > 0.8);
	near(x, 0.8, &s);
	CHECK(hstree_score_learn(h, x) < 0.3);

	/* a half window of A then a half of B: the reference stays pure B until the
	 * swap, then holds both */
	for (int i = 0; i < 255; i++) {
		double c = i < 127 ? 0.2 : 0.8;
		near(x, c, &s);
		hstree_score_learn(h, x);
		if (i < 254)
			CHECK(hstree_score(h, a) > 0.8);
	}
	CHECK(hstree_score(h, a) < 0.3);
	CHECK(hstree_score(h, b) < 0.3);
	hstree_free(h);
}

static void stream(struct hstree *h, uint64_t seed, int n, double *out)
{
	uint64_t s = seed;
	double x[DIMS];
	for (int i = 0; i < n; i++) {
		/* a wandering mixture with a few stray points */
		double c = (i / 300) % 2 ? 0.3 : 0.6;
		near(x, c, &s);
		if (i % 53 == 0)
			for (int q = 0; q < DIMS; q++)
				x[q] = unit_rand(&s);
		out[i] = hstree_score_learn(h, x);
	}
}

static void test_deterministic(void)
{
	enum { N = 3000 };
	static double a[N], b[N], d[N];
	struct hstree_config c = config();
	struct hstree *x = hstree_new(&c), *y = hstree_new(&c);
	c.seed = 8;
	struct hstree *z = hstree_new(&c);
	stream(x, 11, N, a);
	stream(y, 11, N, b);
	stream(z, 11, N, d);
	CHECK(memcmp(a, b, sizeof a) == 0);
	CHECK(memcmp(a, d, sizeof a) != 0);
	hstree_free(x);
	hstree_free(y);
	hstree_free(z);
}

static long save_len(const struct hstree *h, FILE *f)
{
	CHECK_EQ(hstree_save(h, f), 0);
	long n = ftell(f);
	rewind(f);
	return n;
}

static void test_save_load_round_trip(void)
{
	enum { N = 1000 };
	static double a[N], b[N];
	struct hstree *x = forest(), *y = forest();
	stream(x, 5, 1000, a); /* mid-window: 1000 = 3 * 256 + 232 */
	FILE *f = tmpfile();
	long n = save_len(x, f);
	CHECK_EQ(n, 40 + 25 * 1024 * 8); /* per leaf: r, l */
	CHECK_EQ(hstree_load(y, f), 0);
	fclose(f);
	stream(x, 6, N, a);
	stream(y, 6, N, b);
	CHECK(memcmp(a, b, sizeof a) == 0);
	hstree_free(x);
	hstree_free(y);
}

static int load_bytes(struct hstree *h, const unsigned char *buf, size_t n)
{
	FILE *f = tmpfile();
	fwrite(buf, 1, n, f);
	rewind(f);
	int rc = hstree_load(h, f);
	fclose(f);
	return rc;
}

static void test_load_refuses_and_keeps_state(void)
{
	struct hstree_config c = {.dims = 2, .trees = 3, .depth = 3, .window = 16, .seed = 9};
	struct hstree *x = hstree_new(&c), *y = hstree_new(&c);
	uint64_t s = 4;
	double p[2];
	for (int i = 0; i < 40; i++) {
		p[0] = unit_rand(&s);
		p[1] = unit_rand(&s);
		hstree_score_learn(x, p);
		if (i < 25)
			hstree_score_learn(y, p);
	}
	enum { LEN = 40 + 3 * 8 * 8 };
	unsigned char good[LEN], mine[LEN], bad[LEN], after[LEN];
	FILE *f = tmpfile();
	CHECK_EQ(save_len(x, f), LEN);
	CHECK_EQ(fread(good, 1, LEN, f), LEN);
	fclose(f);
	f = tmpfile();
	CHECK_EQ(save_len(y, f), LEN);
	CHECK_EQ(fread(mine, 1, LEN, f), LEN);
	fclose(f);

	for (size_t cut = 0; cut < LEN; cut++)
		CHECK_EQ(load_bytes(y, good, cut), -1);
	/* magic, version, dims, trees, depth, window, seed (both halves), count, filled */
	size_t fields[] = {0, 4, 8, 12, 16, 20, 24, 28, 36};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		memcpy(bad, good, LEN);
		bad[fields[i]] ^= 2;
		CHECK_EQ(load_bytes(y, bad, LEN), -1);
	}
	/* count = window; a tree's leaves not adding up to the window (r) or to
	 * the count (l); an r so large it would spill into the split dimension */
	memcpy(bad, good, LEN);
	bad[32] = 16;
	CHECK_EQ(load_bytes(y, bad, LEN), -1);
	memcpy(bad, good, LEN);
	bad[40 + 8 * 3]++;
	CHECK_EQ(load_bytes(y, bad, LEN), -1);
	memcpy(bad, good, LEN);
	bad[40 + 8 * 20 + 4]++;
	CHECK_EQ(load_bytes(y, bad, LEN), -1);
	memcpy(bad, good, LEN);
	bad[40 + 8 * 9 + 3] = 0x80;
	CHECK_EQ(load_bytes(y, bad, LEN), -1);
	f = tmpfile();
	CHECK_EQ(save_len(y, f), LEN);
	CHECK_EQ(fread(after, 1, LEN, f), LEN);
	fclose(f);
	CHECK(memcmp(after, mine, LEN) == 0);

	/* moving mass between leaves of a tree is a state like any other */
	memcpy(bad, good, LEN);
	int from = -1;
	for (int j = 0; j < 8 && from < 0; j++)
		if (bad[40 + 8 * j])
			from = j;
	CHECK(from >= 0);
	bad[40 + 8 * from]--;
	bad[40 + 8 * ((from + 1) % 8)]++;
	CHECK_EQ(load_bytes(y, bad, LEN), 0);
	CHECK_EQ(load_bytes(y, mine, LEN), 0);

	CHECK_EQ(load_bytes(y, good, LEN), 0);
	f = tmpfile();
	CHECK_EQ(save_len(y, f), LEN);
	CHECK_EQ(fread(after, 1, LEN, f), LEN);
	fclose(f);
	CHECK(memcmp(after, good, LEN) == 0);
	hstree_free(x);
	hstree_free(y);
}

static void test_config_caps_and_memory(void)
{
	struct hstree_config c = config();
	struct hstree *h = hstree_new(&c);
	CHECK(h != NULL);
	size_t mem = hstree_memory(h);
	CHECK(mem >= 25 * (2048 * 8 + 1024 * 4) && mem < 25 * (2048 * 8 + 1024 * 4) + 1024);
	printf("hstree 25 trees, depth 10: %zu bytes\n", mem);
	hstree_free(h);
	hstree_free(NULL);

	struct hstree_config bad;
	bad = c; bad.dims = 0; CHECK(hstree_new(&bad) == NULL);
	bad = c; bad.dims = 33; CHECK(hstree_new(&bad) == NULL);
	bad = c; bad.trees = 0; CHECK(hstree_new(&bad) == NULL);
	bad = c; bad.depth = 0; CHECK(hstree_new(&bad) == NULL);
	bad = c; bad.depth = 21; CHECK(hstree_new(&bad) == NULL);
	bad = c; bad.window = 0; CHECK(hstree_new(&bad) == NULL);
	bad = c; bad.trees = 1024; bad.depth = 20; CHECK(hstree_new(&bad) == NULL);
	CHECK(hstree_new(NULL) == NULL);
	bad = c; bad.dims = 32; bad.trees = 1; bad.depth = 1; bad.window = 1;
	h = hstree_new(&bad);
	CHECK(h != NULL);
	double x[32] = {0};
	CHECK(hstree_score_learn(h, x) == 0.0); /* swaps after every point */
	CHECK(hstree_score_learn(h, x) == 0.0); /* the whole window of 1 in its leaf */
	hstree_free(h);
}

int main(void)
{
	RUN(test_zero_before_first_window);
	RUN(test_matches_paper_reference);
	RUN(test_cluster_low_outlier_high);
	RUN(test_score_ends);
	RUN(test_window_swap);
	RUN(test_deterministic);
	RUN(test_save_load_round_trip);
	RUN(test_load_refuses_and_keeps_state);
	RUN(test_config_caps_and_memory);
	return unit_done("test_hstree");
}

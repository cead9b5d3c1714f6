/*
 * hstree.c - Half-Space Trees (Tan, Ting and Liu, "Fast Anomaly Detection
 * for Streaming Data", IJCAI 2011): an ensemble of random, perfectly
 * balanced binary trees over the unit cube whose nodes count the points of
 * two windows.
 *
 * Construction (the paper's BuildSingleHS-Tree, from a seeded splitmix64, so
 * the same seed gives the same trees everywhere): for each dimension q draw
 * s_q in [0, 1] and give the tree the work range s_q -/+ 2 max(s_q, 1 - s_q);
 * each internal node picks a random dimension q and splits its range at the
 * middle p. A point goes left when x[q] < p, else right (NaN goes right).
 *
 * Trees are heaps, node i's children at 2i and 2i + 1, root 1, leaves at
 * depth `depth` (indices 2^depth .. 2^(depth+1) - 1), slot 0 unused:
 *
 *     node  { split: f32, rd: u32 = r | dim << 27 }    8 bytes
 *     latest[leaf]: u32                                l, leaves only
 *
 * r is the node's mass in the reference window, dim its split dimension.
 * Every learned point reaches a leaf, so a node's latest-window mass l is
 * the sum of its leaves': learning adds 1 to the leaf only, and the window
 * swap (every `window` learned points) sets the leaves' r from latest and
 * each internal r as the sum of its children's, bottom up, in one pass over
 * the trees (O(trees * 2^depth / window) a point amortised). Same masses as
 * the paper's UpdateMass, without ten read-modify-writes a tree per point.
 * Before the first swap r is all zero and every score is 0.
 *
 * Score (the paper's): per tree, walk down to the first node with
 * r < sizeLimit or to the leaf, and add r * 2^k for that node at depth k;
 * sizeLimit = 0.1 * window, the paper's value. The raw sum is a mass: large
 * for ordinary points. Normalisation, so that 0 = ordinary and 1 = isolated
 * whatever the configuration:
 *
 *     score = 1 - log2(1 + raw / trees) / log2(1 + window * 2^depth)
 *
 * window * 2^depth is the largest raw / trees can be (a whole window in the
 * point's leaf in every tree: score 0); a point in empty space everywhere
 * has raw 0: score 1. The map is monotone, so the ranking is the paper's.
 * The log is there because raw spans orders of magnitude: a linear
 * 1 - raw / max puts every point of a spread-out but ordinary distribution
 * near 1 (for ~uniform data raw / trees is about 3 * window, not
 * window * 2^depth: 0.98), leaving nothing to threshold. In trials (4-D,
 * 25 trees, depth 10, window 256) ordinary points of a tight cluster, a
 * Gaussian, two blobs and uniform data scored 0.04, 0.23, 0.27 and 0.42 at
 * the 99th percentile; points away from the data in every feature 0.37
 * (in the gap between the blobs) to 1.
 * A point off in one feature only is isolated just by the trees that split
 * that feature between it and the data; the others dominate the sum, so it
 * scores lower (0.08 to 0.3 in the same trials). That is the paper's score.
 *
 * No libm: log2 is computed here, so scores are the same bits everywhere.
 */
#include "hstree.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DIMS_MAX 32u
#define DEPTH_MAX 20u              /* 2^21 nodes a tree */
#define TREES_MAX 1024u
#define NODES_MAX (1u << 24)       /* trees * 2^(depth+1): 16M nodes, 160 MiB */
#define WINDOW_MAX (1u << 24)      /* masses share a u32 with the split dimension */

#define SAVE_MAGIC 0x52545348u     /* "HSTR" in little-endian order */
#define SAVE_VERSION 1u
#define SAVE_HEADER 40u

struct hs_node {
	float split;
	uint32_t rd;                   /* r | dim << DIM_SHIFT */
};

#define DIM_SHIFT 27
#define R_MASK ((1u << DIM_SHIFT) - 1) /* so WINDOW_MAX < 2^27 */

struct hstree {
	struct hstree_config cfg;
	uint32_t per_tree;             /* 2^(depth+1) heap slots */
	uint32_t count;                /* points learned in the latest window */
	bool filled;                   /* a window has been swapped in: r is valid */
	uint32_t limit;                /* sizeLimit: a node with r < limit ends a walk */
	double log_max;                /* log2(1 + window * 2^depth) */
	struct hs_node *nodes;         /* [trees * per_tree] */
	uint32_t *latest;              /* [trees * 2^depth]: l of the leaves */
	/* Counters (no accessor in hstree.h; read them in a debugger). */
	uint64_t learned;
	uint64_t swaps;
};

/* splitmix64 (Steele, Lea and Flood, OOPSLA 2014). */
static uint64_t next64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [0, 1), 53 bits */
static double next_unit(uint64_t *s)
{
	return (double)(next64(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* uniform in [0, n) (Lemire's multiply-shift; bias < n / 2^32, immaterial for n <= 32) */
static uint32_t next_below(uint64_t *s, uint32_t n)
{
	return (uint32_t)(((next64(s) >> 32) * n) >> 32);
}

/*
 * log2(x) for finite x >= 1, without libm: x = m * 2^e with m in
 * [sqrt(1/2), sqrt(2)), ln m = 2 atanh(z), z = (m - 1) / (m + 1), |z| < 0.172;
 * twelve terms of the series leave an error below 1e-16.
 */
static double log2_ge1(double x)
{
	uint64_t b;
	memcpy(&b, &x, sizeof b);
	int e = (int)((b >> 52) & 0x7ff) - 1023;
	b = (b & 0x000fffffffffffffull) | (1023ull << 52);
	double m;
	memcpy(&m, &b, sizeof m);
	if (m > 1.4142135623730951) {
		m *= 0.5;
		e++;
	}
	double z = (m - 1.0) / (m + 1.0), z2 = z * z, term = z, sum = 0.0;
	for (int k = 1; k <= 23; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return e + 2.0 * sum * 1.4426950408889634; /* 1 / ln 2 */
}

static void build(struct hstree *h, uint32_t tree, uint32_t i, uint32_t k, double *lo, double *hi,
		  uint64_t *rng)
{
	if (k == h->cfg.depth)
		return;
	struct hs_node *nd = &h->nodes[(size_t)tree * h->per_tree + i];
	uint32_t q = next_below(rng, h->cfg.dims);
	double p = (lo[q] + hi[q]) / 2;
	nd->split = (float)p;
	nd->rd = q << DIM_SHIFT;
	double save = hi[q];
	hi[q] = p;
	build(h, tree, 2 * i, k + 1, lo, hi, rng);
	hi[q] = save;
	save = lo[q];
	lo[q] = p;
	build(h, tree, 2 * i + 1, k + 1, lo, hi, rng);
	lo[q] = save;
}

struct hstree *hstree_new(const struct hstree_config *cfg)
{
	if (!cfg || cfg->dims == 0 || cfg->dims > DIMS_MAX || cfg->trees == 0 ||
	    cfg->trees > TREES_MAX || cfg->depth == 0 || cfg->depth > DEPTH_MAX || cfg->window == 0 ||
	    cfg->window > WINDOW_MAX)
		return NULL;
	uint32_t per_tree = 2u << cfg->depth;
	if ((uint64_t)per_tree * cfg->trees > NODES_MAX)
		return NULL;
	struct hstree *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->cfg = *cfg;
	h->per_tree = per_tree;
	h->nodes = calloc((size_t)per_tree * cfg->trees, sizeof *h->nodes);
	h->latest = calloc((size_t)(per_tree / 2) * cfg->trees, sizeof *h->latest);
	if (!h->nodes || !h->latest) {
		hstree_free(h);
		return NULL;
	}
	h->limit = (cfg->window + 9) / 10; /* r < 0.1 * window  <=>  r < ceil(window / 10) */
	h->log_max = log2_ge1(1.0 + (double)cfg->window * (double)(1ull << cfg->depth));

	uint64_t rng = cfg->seed;
	for (uint32_t t = 0; t < cfg->trees; t++) {
		double lo[DIMS_MAX], hi[DIMS_MAX];
		for (uint32_t q = 0; q < cfg->dims; q++) {
			double s = next_unit(&rng);
			double range = 2.0 * (s > 1.0 - s ? s : 1.0 - s);
			lo[q] = s - range;
			hi[q] = s + range;
		}
		build(h, t, 1, 0, lo, hi, &rng);
	}
	return h;
}

void hstree_free(struct hstree *h)
{
	if (!h)
		return;
	free(h->nodes);
	free(h->latest);
	free(h);
}

size_t hstree_memory(const struct hstree *h)
{
	return sizeof *h + (size_t)h->per_tree * h->cfg.trees * sizeof *h->nodes +
	       (size_t)(h->per_tree / 2) * h->cfg.trees * sizeof *h->latest;
}

static double normalise(const struct hstree *h, uint64_t raw)
{
	double s = 1.0 - log2_ge1(1.0 + (double)raw / h->cfg.trees) / h->log_max;
	return s < 0.0 ? 0.0 : s > 1.0 ? 1.0 : s;
}

/* 0 = left, 1 = right; NaN goes right */
static uint32_t side(const struct hs_node *nd, const double *x)
{
	return !(x[nd->rd >> DIM_SHIFT] < (double)nd->split);
}

/* r from latest at the leaves and from the children above them; latest = 0 */
static void swap_windows(struct hstree *h)
{
	uint32_t per = h->per_tree, leaves = per / 2;
	for (uint32_t t = 0; t < h->cfg.trees; t++) {
		struct hs_node *nd = h->nodes + (size_t)t * per;
		uint32_t *l = h->latest + (size_t)t * leaves;
		for (uint32_t j = 0; j < leaves; j++) {
			nd[leaves + j].rd = l[j];
			l[j] = 0;
		}
		for (uint32_t i = leaves - 1; i >= 1; i--)
			nd[i].rd = (nd[i].rd & ~R_MASK) | ((nd[2 * i].rd & R_MASK) + (nd[2 * i + 1].rd & R_MASK));
	}
	h->count = 0;
	h->filled = true;
	h->swaps++;
}

/*
 * The walks: per tree from the root to a leaf, the score's mass taken at the
 * first node with r < limit (or at the leaf) without branching. A walk is a
 * chain of dependent loads (the node, then the feature it names) and the
 * trees do not depend on each other, so LANES trees go down level by level
 * together and their chains overlap: 1.6x faster than tree after tree, and
 * faster than stopping at the scored node.
 */
#define LANES 8

/* trees [t, t + n), n <= LANES; adds 1 to each one's leaf in latest unless NULL */
static inline uint64_t walk(const struct hstree *h, uint32_t t, uint32_t n, const double *x,
			    uint32_t *latest)
{
	uint32_t per = h->per_tree, leaves = per / 2, depth = h->cfg.depth, limit = h->limit;
	const struct hs_node *nd = h->nodes + (size_t)t * per;
	uint32_t i[LANES];
	uint64_t m[LANES];
	bool done[LANES];
	for (uint32_t g = 0; g < n; g++) {
		i[g] = 1;
		m[g] = 0;
		done[g] = false;
	}
	for (uint32_t k = 0; k < depth; k++) {
		for (uint32_t g = 0; g < n; g++) {
			const struct hs_node *c = &nd[(size_t)g * per + i[g]];
			uint32_t r = c->rd & R_MASK;
			bool end = !done[g] && r < limit;
			m[g] = end ? (uint64_t)r << k : m[g];
			done[g] = done[g] || end;
			i[g] = 2 * i[g] + side(c, x);
		}
	}
	uint64_t raw = 0;
	for (uint32_t g = 0; g < n; g++) {
		raw += done[g] ? m[g] : (uint64_t)(nd[(size_t)g * per + i[g]].rd & R_MASK) << depth;
		if (latest)
			latest[(size_t)(t + g) * leaves + (i[g] - leaves)]++;
	}
	return raw;
}

static uint64_t walk_all(const struct hstree *h, const double *x, uint32_t *latest)
{
	uint64_t raw = 0;
	uint32_t t = 0, trees = h->cfg.trees;
	for (; t + LANES <= trees; t += LANES)
		raw += walk(h, t, LANES, x, latest);
	if (t < trees)
		raw += walk(h, t, trees - t, x, latest);
	return raw;
}

double hstree_score(const struct hstree *h, const double *x)
{
	return h->filled ? normalise(h, walk_all(h, x, NULL)) : 0.0;
}

double hstree_score_learn(struct hstree *h, const double *x)
{
	uint64_t raw = walk_all(h, x, h->latest);
	double score = h->filled ? normalise(h, raw) : 0.0;
	h->learned++;
	if (++h->count == h->cfg.window)
		swap_windows(h);
	return score;
}

/*
 * Saved state, all fields little-endian:
 *
 *    0  u32 magic "HSTR"        4  u32 version (1)
 *    8  u32 dims               12  u32 trees
 *   16  u32 depth              20  u32 window
 *   24  u64 seed
 *   32  u32 points in the latest window
 *   36  u32 filled (0/1)
 *   40  per tree, per leaf (left to right): u32 r, u32 l
 *
 * The splits are not saved: they follow from the seed, which must match
 * along with the shape (and the version pins the construction); internal
 * masses are sums of leaves. Each tree's leaves must add up to the window
 * (r; 0 before the first swap) and to the points since (l).
 */
static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define CHUNK_LEAVES 512u
#define SAVE_LEAF 8u

int hstree_save(const struct hstree *h, FILE *out)
{
	uint8_t buf[CHUNK_LEAVES * SAVE_LEAF];
	put_u32(buf, SAVE_MAGIC);
	put_u32(buf + 4, SAVE_VERSION);
	put_u32(buf + 8, h->cfg.dims);
	put_u32(buf + 12, h->cfg.trees);
	put_u32(buf + 16, h->cfg.depth);
	put_u32(buf + 20, h->cfg.window);
	put_u32(buf + 24, (uint32_t)h->cfg.seed);
	put_u32(buf + 28, (uint32_t)(h->cfg.seed >> 32));
	put_u32(buf + 32, h->count);
	put_u32(buf + 36, h->filled ? 1u : 0u);
	if (fwrite(buf, 1, SAVE_HEADER, out) != SAVE_HEADER)
		return -1;
	uint32_t leaves = h->per_tree / 2;
	for (uint32_t t = 0; t < h->cfg.trees; t++) {
		const struct hs_node *leaf = h->nodes + (size_t)t * h->per_tree + leaves;
		const uint32_t *l = h->latest + (size_t)t * leaves;
		for (uint32_t j = 0; j < leaves; j += CHUNK_LEAVES) {
			uint32_t k = leaves - j < CHUNK_LEAVES ? leaves - j : CHUNK_LEAVES;
			for (uint32_t m = 0; m < k; m++) {
				put_u32(buf + m * SAVE_LEAF, leaf[j + m].rd & R_MASK);
				put_u32(buf + m * SAVE_LEAF + 4, l[j + m]);
			}
			if (fwrite(buf, SAVE_LEAF, k, out) != k)
				return -1;
		}
	}
	return 0;
}

/* All or nothing: on -1 the trees are as they were. */
int hstree_load(struct hstree *h, FILE *in)
{
	uint8_t buf[CHUNK_LEAVES * SAVE_LEAF];
	if (fread(buf, 1, SAVE_HEADER, in) != SAVE_HEADER)
		return -1;
	uint64_t seed = get_u32(buf + 24) | (uint64_t)get_u32(buf + 28) << 32;
	uint32_t count = get_u32(buf + 32), filled = get_u32(buf + 36);
	if (get_u32(buf) != SAVE_MAGIC || get_u32(buf + 4) != SAVE_VERSION ||
	    get_u32(buf + 8) != h->cfg.dims || get_u32(buf + 12) != h->cfg.trees ||
	    get_u32(buf + 16) != h->cfg.depth || get_u32(buf + 20) != h->cfg.window ||
	    seed != h->cfg.seed || count >= h->cfg.window || filled > 1)
		return -1;

	uint32_t leaves = h->per_tree / 2;
	size_t n = (size_t)leaves * h->cfg.trees;
	uint32_t *mass = malloc(n * 2 * sizeof *mass); /* r, l a leaf */
	if (!mass)
		return -1;
	uint32_t want_r = filled ? h->cfg.window : 0;
	for (uint32_t t = 0; t < h->cfg.trees; t++) {
		uint32_t *m = mass + (size_t)t * leaves * 2;
		uint64_t sum_r = 0, sum_l = 0;
		for (uint32_t j = 0; j < leaves; j += CHUNK_LEAVES) {
			uint32_t k = leaves - j < CHUNK_LEAVES ? leaves - j : CHUNK_LEAVES;
			if (fread(buf, SAVE_LEAF, k, in) != k)
				goto fail;
			for (uint32_t i = 0; i < k; i++) {
				m[2 * (j + i)] = get_u32(buf + i * SAVE_LEAF);
				m[2 * (j + i) + 1] = get_u32(buf + i * SAVE_LEAF + 4);
				sum_r += m[2 * (j + i)];
				sum_l += m[2 * (j + i) + 1];
			}
		}
		if (sum_r != want_r || sum_l != count)
			goto fail;
	}
	for (uint32_t t = 0; t < h->cfg.trees; t++) {
		struct hs_node *nd = h->nodes + (size_t)t * h->per_tree;
		const uint32_t *m = mass + (size_t)t * leaves * 2;
		for (uint32_t j = 0; j < leaves; j++) {
			nd[leaves + j].rd = m[2 * j];
			h->latest[(size_t)t * leaves + j] = m[2 * j + 1];
		}
		for (uint32_t i = leaves - 1; i >= 1; i--)
			nd[i].rd = (nd[i].rd & ~R_MASK) | ((nd[2 * i].rd & R_MASK) + (nd[2 * i + 1].rd & R_MASK));
	}
	free(mass);
	h->count = count;
	h->filled = filled != 0;
	return 0;
fail:
	free(mass);
	return -1;
}

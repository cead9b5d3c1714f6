/*
 * hstree.h - Half-Space Trees (Tan, Ting and Liu, "Fast Anomaly Detection
 * for Streaming Data", IJCAI 2011): a streaming multivariate anomaly scorer
 * with fixed memory. Features are scaled to [0, 1] by the caller. Mass is
 * learned in a reference window and replaced by the latest window each time
 * a window fills; scores come from the reference window. Deterministic for a
 * given seed.
 */
#ifndef TAPIR_HSTREE_H
#define TAPIR_HSTREE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hstree_config {
	uint32_t dims;          /* features per point (<= 32) */
	uint32_t trees;         /* e.g. 25 */
	uint32_t depth;         /* e.g. 10 */
	uint32_t window;        /* points per window, e.g. 256 */
	uint64_t seed;
};

struct hstree;

struct hstree *hstree_new(const struct hstree_config *cfg);
void hstree_free(struct hstree *h);

/*
 * Scores a point against the reference mass (0 = ordinary .. 1 = isolated;
 * normalised so scores are comparable across configurations), then learns it.
 * Before the first window has filled, returns 0.
 */
double hstree_score_learn(struct hstree *h, const double *x);

/* Scores without learning (for anomalous points the caller keeps out of the model). */
double hstree_score(const struct hstree *h, const double *x);

size_t hstree_memory(const struct hstree *h);
int hstree_save(const struct hstree *h, FILE *out);
int hstree_load(struct hstree *h, FILE *in);

#endif

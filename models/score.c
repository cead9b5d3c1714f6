/*
 * score.c - calibration: from a detector's tail probability to one score and
 * a severity, the identity's decaying risk, and the histograms behind
 * percentile baselines and the learned models' empirical tails.
 *
 * Each detector states p, the probability of seeing what it saw (or more)
 * under the baseline it compares with. Surprise s = -log10(p), capped at 15.
 * The alert's total surprise adds half the learned models' surprise on the
 * same event and a quarter of the identity's risk (the surprise of its
 * earlier alerts, halving every 24 h), so an alert on an identity already
 * misbehaving scores higher. score = 1 - exp(-z / 3):
 *   z = 2 -> 0.49, 3 -> 0.63, 5 -> 0.81, 9 -> 0.95.
 * Severity: critical >= 0.95, high >= 0.75, medium >= 0.45, else low.
 */
#include "engine_int.h"

double score_of(double z)
{
	if (!(z > 0))
		return 0;
	double s = 1.0 - exp(-z / 3.0);
	return s > 1 ? 1 : s;
}

enum alert_severity score_severity(double score)
{
	if (score >= 0.95)
		return ALERT_CRITICAL;
	if (score >= 0.75)
		return ALERT_HIGH;
	if (score >= 0.45)
		return ALERT_MEDIUM;
	return ALERT_LOW;
}

/* The identity's risk decayed to now_s. */
double score_risk(struct ident *id, uint32_t now_s)
{
	if (id->risk > 0 && now_s > id->risk_s)
		id->risk *= (float)exp2(-(double)(now_s - id->risk_s) / 86400.0);
	if (now_s > id->risk_s)
		id->risk_s = now_s;
	return id->risk;
}

/*
 * Tail of a count against a "usual" peak: a Pareto tail of index alpha,
 * P(X >= observed) = (usual / observed)^alpha. Heavier than Poisson on
 * purpose: human activity is bursty.
 */
double pareto_p(double observed, double usual, double alpha)
{
	if (usual < 1)
		usual = 1;
	if (observed <= usual)
		return 1;
	return pow(usual / observed, alpha);
}

/* ---------------------------------------------------------------- histograms */

/* 1 + floor(2 log2 x) from the bits of x: no libm on the event path. */
static int hist_bin(double x)
{
	if (!(x >= 1))
		return 0;
	uint64_t u;
	memcpy(&u, &x, sizeof u);
	int ex = (int)((u >> 52) & 0x7ff) - 1023;    /* floor(log2 x) */
	uint64_t mant = u & ((1ull << 52) - 1);        /* x / 2^ex = 1.mant */
	int half = mant >= 0x6a09e667f3bcdull;         /* 1.mant >= sqrt(2) */
	int b = 1 + 2 * ex + half;
	return b >= EN_HIST_BINS ? EN_HIST_BINS - 1 : b;
}

void hist_add(struct hist *h, double x)
{
	h->n[hist_bin(x)]++;
	if (++h->total >= (1u << 20)) {
		uint32_t t = 0;
		for (int i = 0; i < EN_HIST_BINS; i++) {
			h->n[i] >>= 1;
			t += h->n[i];
		}
		h->total = t;
	}
}

double hist_quantile(const struct hist *h, double q)
{
	if (!h->total)
		return 0;
	double target = q * h->total, cum = 0;
	for (int b = 0; b < EN_HIST_BINS; b++) {
		cum += h->n[b];
		if (cum >= target)
			return b == 0 ? 1.0 : exp2(b / 2.0);
	}
	return exp2((EN_HIST_BINS - 1) / 2.0);
}

void shist_add(struct shist *h, int bin)
{
	if (bin < 0)
		bin = 0;
	if (bin >= EN_SHIST_BINS)
		bin = EN_SHIST_BINS - 1;
	h->n[bin]++;
	h->total++;
}

/*
 * The lowest bin whose tail is below p (EN_SHIST_BINS when none), recomputed
 * every 4096 scores: scores in lower bins need no tail at all.
 */
int shist_cut(struct shist *h, double p)
{
	if (h->cut_at && h->total < h->cut_at)
		return h->cut;
	uint64_t c = 0;
	int b = EN_SHIST_BINS;
	while (b > 0 && (double)(c + h->n[b - 1] + 1) / (double)(h->total + 1) < p)
		c += h->n[--b];
	h->cut = b;
	h->cut_at = h->total + 4096;
	return b;
}

/* (scores in bins >= bin + 1) / (total + 1): never 0, conservative. */
double shist_tail(const struct shist *h, int bin)
{
	if (bin < 0)
		bin = 0;
	if (bin >= EN_SHIST_BINS)
		bin = EN_SHIST_BINS - 1;
	uint64_t c = 0;
	for (int b = bin; b < EN_SHIST_BINS; b++)
		c += h->n[b];
	return (double)(c + 1) / (double)(h->total + 1);
}

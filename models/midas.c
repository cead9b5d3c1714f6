/*
 * midas.c - burst scoring of edge streams with two count-min sketches, in
 * event time: MIDAS-R (Bhatia, Hooi, Yoon, Shin and Faloutsos, "MIDAS:
 * Microcluster-Based Detector of Anomalies in Edge Streams", AAAI 2020) with
 * the filtering of MIDAS-F (Bhatia, Liu, Hooi, Yoon, Shin and Faloutsos,
 * "Real-Time Anomaly Detection in Edge Streams", ACM TKDD 16(4), 2022), so
 * that anomalous buckets do not become the baseline.
 *
 * One table of rows x cols cells; row r hashes a key to column h_r(key):
 *
 *     cell { total: decayed count of the closed buckets (f64),
 *            cur:   count in the open bucket (u32, saturating),
 *            hot:   some key of this cell scored above absorb_max in the
 *                   open bucket }
 *
 *     a = min_r cur[r][h_r(key)]          the key's count in the open bucket
 *     S = min_r total[r][h_r(key)]        its decayed count before it
 *     W = sum_{j>=1} decay^(j-1)          decayed number of closed buckets
 *
 * With s = S + a and t = W + 1 (decay 1 gives MIDAS's s and t exactly), the
 * score is the chi-square statistic of the open bucket against the mean s/t:
 *
 *     score = (a - s/t)^2 * t^2 / (s * (t - 1)) = (a*t - s)^2 / (s * W)
 *
 * It is 0 before the first bucket has closed (W = 0) and, unlike MIDAS, when
 * a <= s/t: only bursts score. (The two-sided statistic would make the first
 * requests of every bucket of a busy edge "anomalous", because a starts at 1
 * each bucket and is compared with a whole bucket's mean.)
 *
 * Closing a bucket, per cell:
 *
 *     total = total * decay + cur          when the cell is not hot
 *     total = total * decay + total / W    when it is (MIDAS-F: the bucket
 *                                           counts as the cell's mean)
 *
 * Choice for anomalous buckets: a key whose score exceeded absorb_max marks
 * its cell in every row hot, and a hot cell merges its own past mean instead
 * of its count. That keeps the cell's mean total/W exactly where it was (a
 * long burst keeps scoring at the same level, and the old rate scores low
 * again when the burst ends), where merging nothing would drag the mean
 * toward 0 and make the return to normal look like a burst. A key sharing a
 * hot cell with a burst loses that bucket in that row only; the minimum
 * over rows mostly reads another row. A key whose very first bucket already
 * scores above absorb_max (a new edge at a high rate) has mean 0 and stays
 * unlearned while it keeps that rate: that is the contract ("not absorbed").
 *
 * Buckets close lazily, on the first event of a later bucket: one pass over
 * the table whatever the gap, the empty buckets applied in closed form
 * (totals * decay^(k-1), W * decay^(k-1) + (1 - decay^(k-1)) / (1 - decay)).
 * Events older than the open bucket (time going back, as across shards)
 * count in the open bucket.
 *
 * No libm: decay^k by squaring, so results are the same bits everywhere.
 */
#include "midas.h"

#include <stdlib.h>
#include <string.h>

#define ROWS_MAX 16u          /* hash functions: 4 is typical, 16 is already wasteful */
#define COLS_MAX (1u << 24)   /* 16M cells a row, 256 MiB a row at 16 bytes a cell */
#define TINY 1e-30            /* totals below this are 0 (no subnormal arithmetic) */

#define SAVE_MAGIC 0x5344494du /* "MIDS" in little-endian order */
#define SAVE_VERSION 1u
#define SAVE_HEADER 56u
#define SAVE_CELL 16u

struct cell {
	double total;
	uint32_t cur;
	uint32_t hot;
};

struct midas {
	struct midas_config cfg;
	uint64_t row_seed[ROWS_MAX];
	bool started;             /* an event has been seen: bucket is valid */
	uint64_t bucket;          /* open bucket: event time / bucket_us */
	double weight;            /* W: decayed number of closed buckets */
	struct cell *cells;       /* [rows * cols], row-major */
	/* Counters (no accessor in midas.h; read them in a debugger). */
	uint64_t events;
	uint64_t late;            /* events older than the open bucket */
	uint64_t saturated;       /* increments lost at cur == UINT32_MAX */
	uint64_t closes;          /* passes over the table */
};

/* splitmix64's output function (Steele, Lea and Flood, OOPSLA 2014). */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* d^n by squaring: exact bits on any IEEE 754 machine, O(log n). */
static double pow_u64(double d, uint64_t n)
{
	double r = 1.0;
	while (n && r != 0.0) {
		if (n & 1)
			r *= d;
		d *= d;
		n >>= 1;
	}
	return r;
}

struct midas *midas_new(const struct midas_config *cfg)
{
	if (!cfg || cfg->rows == 0 || cfg->rows > ROWS_MAX || cfg->cols == 0 ||
	    cfg->cols > COLS_MAX || cfg->bucket_us == 0 || !(cfg->decay > 0.0 && cfg->decay <= 1.0) ||
	    cfg->absorb_max != cfg->absorb_max)
		return NULL;
	struct midas *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->cfg = *cfg;
	/* Zeroed by writing, now: a cell read before its page was ever written maps
	 * the shared zero page, and the first write after that (an event, on the
	 * merge thread) faults again and flushes every core's TLB. */
	size_t bytes = (size_t)cfg->rows * cfg->cols * sizeof *m->cells;
	m->cells = malloc(bytes);
	if (!m->cells) {
		free(m);
		return NULL;
	}
	explicit_bzero(m->cells, bytes); /* a memset here would be folded back into calloc */
	uint64_t s = cfg->seed;
	for (uint32_t r = 0; r < cfg->rows; r++) {
		s += 0x9e3779b97f4a7c15ull;
		m->row_seed[r] = mix64(s);
	}
	return m;
}

void midas_free(struct midas *m)
{
	if (!m)
		return;
	free(m->cells);
	free(m);
}

size_t midas_memory(const struct midas *m)
{
	return sizeof *m + (size_t)m->cfg.rows * m->cfg.cols * sizeof *m->cells;
}

/* Closes the open bucket and the k - 1 empty ones after it (k >= 1). */
static void close_buckets(struct midas *m, uint64_t k)
{
	double d = m->cfg.decay;
	double dk = pow_u64(d, k - 1);
	double hot_factor = d + (m->weight > 0.0 ? 1.0 / m->weight : 0.0);
	size_t n = (size_t)m->cfg.rows * m->cfg.cols;
	for (size_t i = 0; i < n; i++) {
		struct cell *c = &m->cells[i];
		double t = c->hot ? c->total * hot_factor : c->total * d + c->cur;
		t *= dk;
		c->total = t < TINY ? 0.0 : t;
		c->cur = 0;
		c->hot = 0;
	}
	/* W' = (W d + 1) d^(k-1) + sum_{j<k-1} d^j */
	double geo = d == 1.0 ? (double)(k - 1) : (1.0 - dk) / (1.0 - d);
	m->weight = (m->weight * d + 1.0) * dk + geo;
	m->closes++;
}

/* Row r's cell for key. */
static struct cell *cell_of(const struct midas *m, uint32_t r, uint64_t key)
{
	uint64_t h = mix64(key ^ m->row_seed[r]);
	uint32_t col = (uint32_t)(((h >> 32) * m->cfg.cols) >> 32); /* Lemire's fastrange */
	return &m->cells[(size_t)r * m->cfg.cols + col];
}

void midas_prefetch(struct midas *m, uint64_t key)
{
	for (uint32_t r = 0; r < m->cfg.rows; r++)
		__builtin_prefetch(cell_of(m, r, key), 1);
}

double midas_observe(struct midas *m, uint64_t key, uint64_t now)
{
	uint64_t b = now / m->cfg.bucket_us;
	if (!m->started) {
		m->started = true;
		m->bucket = b;
	} else if (b > m->bucket) {
		close_buckets(m, b - m->bucket);
		m->bucket = b;
	} else if (b < m->bucket) {
		m->late++;
	}
	m->events++;

	uint32_t rows = m->cfg.rows;
	struct cell *at[ROWS_MAX];
	uint32_t a = UINT32_MAX;
	double past = 0.0;
	for (uint32_t r = 0; r < rows; r++) {
		struct cell *c = cell_of(m, r, key);
		at[r] = c;
		if (c->cur < UINT32_MAX)
			c->cur++;
		else
			m->saturated++;
		if (c->cur < a)
			a = c->cur;
		if (r == 0 || c->total < past)
			past = c->total;
	}

	double w = m->weight;
	if (w <= 0.0)
		return 0.0;
	double s = past + a, t = w + 1.0;
	double x = (double)a * t - s;
	if (x <= 0.0)
		return 0.0;
	double score = x * x / (s * w);
	if (score > m->cfg.absorb_max)
		for (uint32_t r = 0; r < rows; r++)
			at[r]->hot = 1;
	return score;
}

/*
 * Saved state, all fields little-endian:
 *
 *    0  u32 magic "MIDS"        4  u32 version (1)
 *    8  u32 rows               12  u32 cols
 *   16  u64 bucket_us          24  u64 seed
 *   32  u64 open bucket        40  f64 W (IEEE 754 bits)
 *   48  u32 started (0/1)      52  u32 0
 *   56  rows * cols cells, row-major: f64 total, u32 cur, u32 hot (0/1)
 *
 * rows, cols, bucket_us and seed must match the loading sketch (the cells
 * mean nothing under other hashes or buckets); decay and absorb_max are
 * taken from its configuration.
 */
static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_f64(uint8_t *p, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put_u64(p, v);
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static double get_f64(const uint8_t *p)
{
	uint64_t v = get_u64(p);
	double d;
	memcpy(&d, &v, sizeof d);
	return d;
}

/* finite and >= 0 (false for NaN) */
static bool ok_count(double d)
{
	return d >= 0.0 && d <= 1.7976931348623157e308;
}

#define CHUNK_CELLS 256u

int midas_save(const struct midas *m, FILE *out)
{
	uint8_t buf[CHUNK_CELLS * SAVE_CELL];
	put_u32(buf, SAVE_MAGIC);
	put_u32(buf + 4, SAVE_VERSION);
	put_u32(buf + 8, m->cfg.rows);
	put_u32(buf + 12, m->cfg.cols);
	put_u64(buf + 16, m->cfg.bucket_us);
	put_u64(buf + 24, m->cfg.seed);
	put_u64(buf + 32, m->bucket);
	put_f64(buf + 40, m->weight);
	put_u32(buf + 48, m->started ? 1u : 0u);
	put_u32(buf + 52, 0);
	if (fwrite(buf, 1, SAVE_HEADER, out) != SAVE_HEADER)
		return -1;
	size_t n = (size_t)m->cfg.rows * m->cfg.cols;
	for (size_t i = 0; i < n; i += CHUNK_CELLS) {
		size_t k = n - i < CHUNK_CELLS ? n - i : CHUNK_CELLS;
		for (size_t j = 0; j < k; j++) {
			const struct cell *c = &m->cells[i + j];
			uint8_t *p = buf + j * SAVE_CELL;
			put_f64(p, c->total);
			put_u32(p + 8, c->cur);
			put_u32(p + 12, c->hot);
		}
		if (fwrite(buf, SAVE_CELL, k, out) != k)
			return -1;
	}
	return 0;
}

/* All or nothing: on -1 the sketch is as it was. */
int midas_load(struct midas *m, FILE *in)
{
	uint8_t buf[CHUNK_CELLS * SAVE_CELL];
	if (fread(buf, 1, SAVE_HEADER, in) != SAVE_HEADER)
		return -1;
	if (get_u32(buf) != SAVE_MAGIC || get_u32(buf + 4) != SAVE_VERSION ||
	    get_u32(buf + 8) != m->cfg.rows || get_u32(buf + 12) != m->cfg.cols ||
	    get_u64(buf + 16) != m->cfg.bucket_us || get_u64(buf + 24) != m->cfg.seed)
		return -1;
	uint64_t bucket = get_u64(buf + 32);
	double weight = get_f64(buf + 40);
	uint32_t started = get_u32(buf + 48);
	if (!ok_count(weight) || started > 1 || get_u32(buf + 52) != 0)
		return -1;

	size_t n = (size_t)m->cfg.rows * m->cfg.cols;
	struct cell *cells = malloc(n * sizeof *cells);
	if (!cells)
		return -1;
	for (size_t i = 0; i < n; i += CHUNK_CELLS) {
		size_t k = n - i < CHUNK_CELLS ? n - i : CHUNK_CELLS;
		if (fread(buf, SAVE_CELL, k, in) != k)
			goto fail;
		for (size_t j = 0; j < k; j++) {
			const uint8_t *p = buf + j * SAVE_CELL;
			struct cell *c = &cells[i + j];
			c->total = get_f64(p);
			c->cur = get_u32(p + 8);
			c->hot = get_u32(p + 12);
			if (!ok_count(c->total) || c->hot > 1)
				goto fail;
		}
	}
	free(m->cells);
	m->cells = cells;
	m->started = started != 0;
	m->bucket = bucket;
	m->weight = weight;
	return 0;
fail:
	free(cells);
	return -1;
}

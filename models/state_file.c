/*
 * state_file.c - engine_save / engine_load: everything learned, in one
 * versioned, checksummed binary file.
 *
 *   offset  field
 *   0       "TAPIRENG"                 magic (8 bytes)
 *   8       u32 version (1)            u32 0x01020304 (byte order of the writer)
 *   16      u32 sizes of the records: ident, cold, group, pitem, rseen, supp, engine_stats,
 *           engine_counters, shist (so a file from another build is refused, not misread)
 *   52      u64 seed                   the sketches' hashes depend on it
 *   60      u32 table sizes: identities cap, cold, pitems, routes, suppression
 *   80      the engine's scalars, counters and score histograms
 *           identities: u32 count, u32 clock hand, the records in slot order
 *           cold, pitems, routes, suppression: u32 count, then (u32 slot, record)
 *           groups: u32 count, the records
 *           midas x3, hstree: u64 length, the module's own saved bytes
 *   end-16  u64 FNV-1a 64 of every byte before it, "TAPIREND"
 *
 * Records are written as they are in memory (the header's sizes and byte
 * order guard that). Slots are kept, so that eviction decisions after a
 * load are the ones an uninterrupted run would make: save -> load ->
 * continue gives the same alerts. When the configuration's table sizes
 * differ from the file's, records are re-inserted instead (same data,
 * possibly other evictions later); hot identities past a smaller cap become
 * cold records.
 *
 * Loading reads the whole file, checks length, magic, checksum and every
 * count and index before changing anything: a truncated or corrupted file
 * fails with a one-line reason and leaves the engine as it was.
 */
#include "engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define SF_MAGIC "TAPIRENG"
#define SF_END "TAPIREND"
#define SF_VERSION 1u
#define SF_ORDER 0x01020304u
#define SF_MAX_BYTES (64ull << 30)

/* ---------------------------------------------------------------- writing */

struct sw {
	FILE *f;
	uint64_t h;
	bool err;
};

static void sw_put(struct sw *w, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = w->h;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	w->h = h;
	if (!w->err && n && fwrite(p, 1, n, w->f) != n)
		w->err = true;
}

static void sw_u32(struct sw *w, uint32_t v)
{
	sw_put(w, &v, 4);
}

static void sw_u64(struct sw *w, uint64_t v)
{
	sw_put(w, &v, 8);
}

typedef int (*save_fn)(const void *obj, FILE *out);

static int save_midas(const void *m, FILE *out)
{
	return midas_save(m, out);
}

static int save_hst(const void *h, FILE *out)
{
	return hstree_save(h, out);
}

/* A module's own bytes, length-prefixed. */
static void sw_blob(struct sw *w, const void *obj, save_fn fn)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m) {
		w->err = true;
		return;
	}
	int rc = fn(obj, m);
	if (fclose(m) != 0 || rc != 0) {
		w->err = true;
		free(buf);
		return;
	}
	sw_u64(w, len);
	sw_put(w, buf, len);
	free(buf);
}

static void sw_header(struct sw *w, const struct engine *e)
{
	sw_put(w, SF_MAGIC, 8);
	sw_u32(w, SF_VERSION);
	sw_u32(w, SF_ORDER);
	uint32_t sizes[9] = {
		sizeof(struct ident),        sizeof(struct cold), sizeof(struct group),
		sizeof(struct pitem),        sizeof(struct rseen), sizeof(struct supp),
		sizeof(struct engine_stats), sizeof(struct engine_counters), sizeof(struct shist),
	};
	sw_put(w, sizes, sizeof sizes);
	sw_u64(w, e->cfg.seed);
	sw_u32(w, e->cap_ids);
	sw_u32(w, e->cold_mask + 1);
	sw_u32(w, e->pitems_mask + 1);
	sw_u32(w, e->routes_mask + 1);
	sw_u32(w, e->supp_mask + 1);
}

#define SW_TABLE(w, arr, size, type)                                        \
	do {                                                                \
		uint32_t n_ = 0;                                            \
		for (uint32_t i_ = 0; i_ < (size); i_++)                     \
			n_ += (arr)[i_].key != 0;                           \
		sw_u32((w), n_);                                            \
		for (uint32_t i_ = 0; i_ < (size); i_++) {                   \
			if (!(arr)[i_].key)                                 \
				continue;                                   \
			sw_u32((w), i_);                                    \
			sw_put((w), &(arr)[i_], sizeof(type));              \
		}                                                           \
	} while (0)

int engine_save(const struct engine *e, FILE *out)
{
	struct sw w = {.f = out, .h = 0xcbf29ce484222325ull};
	sw_header(&w, e);
	sw_u64(&w, e->first_us);
	sw_u64(&w, e->watermark_us);
	sw_u64(&w, e->h_start_us);
	sw_put(&w, &e->h_acc, sizeof e->h_acc);
	sw_u64(&w, e->h_ev_gaps);
	sw_put(&w, &e->st, sizeof e->st);
	sw_put(&w, &e->ct, sizeof e->ct);
	sw_u64(&w, e->alert_seq);
	sw_u64(&w, e->id_days);
	sw_u64(&w, e->mv_points);
	sw_u64(&w, e->n_routes);
	sw_put(&w, e->burst_h, sizeof e->burst_h);
	sw_put(&w, &e->mv_h, sizeof e->mv_h);

	sw_u32(&w, e->n_ids);
	sw_u32(&w, e->hand);
	sw_put(&w, e->ids, (size_t)e->n_ids * sizeof *e->ids);
	SW_TABLE(&w, e->cold, e->cold_mask + 1, struct cold);
	SW_TABLE(&w, e->pitems, e->pitems_mask + 1, struct pitem);
	SW_TABLE(&w, e->routes, e->routes_mask + 1, struct rseen);
	SW_TABLE(&w, e->supp, e->supp_mask + 1, struct supp);
	sw_u32(&w, e->n_groups);
	sw_put(&w, e->groups, (size_t)e->n_groups * sizeof *e->groups);

	sw_blob(&w, e->m_route, save_midas);
	sw_blob(&w, e->m_pfx, save_midas);
	sw_blob(&w, e->m_err, save_midas);
	sw_blob(&w, e->hst, save_hst);

	uint64_t sum = w.h;
	sw_put(&w, &sum, 8);
	sw_put(&w, SF_END, 8);
	if (fflush(out) != 0)
		w.err = true;
	return w.err ? -1 : 0;
}

/* ---------------------------------------------------------------- reading */

struct sr {
	const unsigned char *p;
	size_t n, off;
	bool bad;
};

static const void *sr_take(struct sr *r, size_t n)
{
	if (r->bad || n > r->n - r->off) {
		r->bad = true;
		return NULL;
	}
	const void *p = r->p + r->off;
	r->off += n;
	return p;
}

static void sr_get(struct sr *r, void *dst, size_t n)
{
	const void *p = sr_take(r, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

static uint32_t sr_u32(struct sr *r)
{
	uint32_t v;
	sr_get(r, &v, 4);
	return v;
}

static uint64_t sr_u64(struct sr *r)
{
	uint64_t v;
	sr_get(r, &v, 8);
	return v;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, what);
	return -1;
}

/* The whole stream into memory. */
static unsigned char *slurp(FILE *in, size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	unsigned char *b = malloc(cap);
	if (!b)
		return NULL;
	for (;;) {
		if (n == cap) {
			if (cap >= SF_MAX_BYTES)
				break;
			unsigned char *nb = realloc(b, cap * 2);
			if (!nb) {
				free(b);
				return NULL;
			}
			b = nb;
			cap *= 2;
		}
		size_t got = fread(b + n, 1, cap - n, in);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(in)) {
		free(b);
		return NULL;
	}
	*len = n;
	return b;
}

/* A table section: count, then (slot, record) pairs; checked against `size`
 * slots and `rec` bytes a record; returns the section start or NULL. */
static const unsigned char *sr_table(struct sr *r, uint32_t size, size_t rec, uint32_t *count)
{
	*count = sr_u32(r);
	if (r->bad || *count > size) {
		r->bad = true;
		return NULL;
	}
	const unsigned char *start = r->p + r->off;
	for (uint32_t i = 0; i < *count; i++) {
		uint32_t slot = sr_u32(r);
		uint64_t key;
		const unsigned char *rp = sr_take(r, rec);
		if (r->bad || slot >= size) {
			r->bad = true;
			return NULL;
		}
		memcpy(&key, rp, 8);
		if (!key) {
			r->bad = true;
			return NULL;
		}
	}
	return start;
}

typedef int (*load_fn)(void *obj, FILE *in);

static int load_midas(void *m, FILE *in)
{
	return midas_load(m, in);
}

static int load_hst(void *h, FILE *in)
{
	return hstree_load(h, in);
}

static int sr_blob(struct sr *r, void *obj, load_fn fn)
{
	uint64_t len = sr_u64(r);
	if (r->bad || len > r->n - r->off)
		return -1;
	const void *p = sr_take(r, (size_t)len);
	FILE *m = fmemopen((void *)p, (size_t)len, "rb");
	if (!m)
		return -1;
	int rc = fn(obj, m);
	/* the module must have read its bytes exactly */
	if (rc == 0 && (uint64_t)ftell(m) != len)
		rc = -1;
	fclose(m);
	return rc;
}

/* Re-inserts a (slot, record) section by key into a table of another size. */
static void put_slot(void *table, uint32_t size, uint32_t slot, size_t rec, const void *src,
		     bool same)
{
	(void)size;
	if (same)
		memcpy((char *)table + (size_t)slot * rec, src, rec);
}

int engine_load(struct engine *e, FILE *in, char *err, size_t errlen)
{
	size_t len = 0;
	unsigned char *buf = slurp(in, &len);
	if (!buf)
		return fail(err, errlen, "state: cannot read: %s", strerror(errno ? errno : EIO));
	int rc = -1;
	struct midas *mr = NULL, *mp = NULL, *me = NULL;
	struct hstree *hs = NULL;
	if (len < 80 + 16 || memcmp(buf, SF_MAGIC, 8) != 0) {
		rc = fail(err, errlen, "state: %s", len < 8 ? "file too short" : "not a tapir engine state file");
		goto out;
	}
	if (memcmp(buf + len - 8, SF_END, 8) != 0) {
		rc = fail(err, errlen, "state: %s", "truncated (no end marker)");
		goto out;
	}
	uint64_t h = 0xcbf29ce484222325ull, sum;
	for (size_t i = 0; i < len - 16; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ull;
	}
	memcpy(&sum, buf + len - 16, 8);
	if (h != sum) {
		rc = fail(err, errlen, "state: %s", "checksum mismatch (corrupted file)");
		goto out;
	}
	struct sr r = {.p = buf, .n = len - 16, .off = 8};
	uint32_t version = sr_u32(&r), order = sr_u32(&r);
	if (version != SF_VERSION) {
		rc = fail(err, errlen, "state: %s", "unsupported version");
		goto out;
	}
	uint32_t sizes[9], want[9] = {
		sizeof(struct ident),        sizeof(struct cold), sizeof(struct group),
		sizeof(struct pitem),        sizeof(struct rseen), sizeof(struct supp),
		sizeof(struct engine_stats), sizeof(struct engine_counters), sizeof(struct shist),
	};
	sr_get(&r, sizes, sizeof sizes);
	if (order != SF_ORDER || memcmp(sizes, want, sizeof want) != 0) {
		rc = fail(err, errlen, "state: %s", "written by another build or machine (record layout differs)");
		goto out;
	}
	uint64_t seed = sr_u64(&r);
	if (seed != e->cfg.seed) {
		rc = fail(err, errlen, "state: %s", "saved with another seed");
		goto out;
	}
	uint32_t cap_ids = sr_u32(&r), cold_n = sr_u32(&r), pitems_n = sr_u32(&r),
		 routes_n = sr_u32(&r), supp_n = sr_u32(&r);
	bool same = cap_ids == e->cap_ids && cold_n == e->cold_mask + 1 &&
		    pitems_n == e->pitems_mask + 1 && routes_n == e->routes_mask + 1 &&
		    supp_n == e->supp_mask + 1;
	if ((cold_n & (cold_n - 1)) || (pitems_n & (pitems_n - 1)) || (routes_n & (routes_n - 1)) ||
	    (supp_n & (supp_n - 1)) || !cold_n || !pitems_n || !routes_n || !supp_n) {
		rc = fail(err, errlen, "state: %s", "bad table sizes");
		goto out;
	}
	/* Scalars */
	uint64_t first_us = sr_u64(&r), watermark_us = sr_u64(&r), h_start_us = sr_u64(&r);
	struct engine_health h_acc;
	sr_get(&r, &h_acc, sizeof h_acc);
	uint64_t h_ev_gaps = sr_u64(&r);
	struct engine_stats st;
	struct engine_counters ct;
	sr_get(&r, &st, sizeof st);
	sr_get(&r, &ct, sizeof ct);
	uint64_t alert_seq = sr_u64(&r), id_days = sr_u64(&r), mv_points = sr_u64(&r),
		 n_routes = sr_u64(&r);
	struct shist burst_h[3], mv_h;
	sr_get(&r, burst_h, sizeof burst_h);
	sr_get(&r, &mv_h, sizeof mv_h);
	/* Sections: checked first, applied after. */
	uint32_t n_ids = sr_u32(&r), hand = sr_u32(&r);
	if (r.bad || n_ids > cap_ids) {
		rc = fail(err, errlen, "state: %s", "truncated or bad identity count");
		goto out;
	}
	const unsigned char *ids = sr_take(&r, (size_t)n_ids * sizeof(struct ident));
	uint32_t c_cold, c_pit, c_rt, c_sup, n_groups;
	const unsigned char *s_cold = sr_table(&r, cold_n, sizeof(struct cold), &c_cold);
	const unsigned char *s_pit = sr_table(&r, pitems_n, sizeof(struct pitem), &c_pit);
	const unsigned char *s_rt = sr_table(&r, routes_n, sizeof(struct rseen), &c_rt);
	const unsigned char *s_sup = sr_table(&r, supp_n, sizeof(struct supp), &c_sup);
	n_groups = sr_u32(&r);
	if (r.bad || n_groups < GRP_FIRST_ROLE || n_groups > EN_GROUPS_MAX) {
		rc = fail(err, errlen, "state: %s", "truncated or bad section counts");
		goto out;
	}
	const unsigned char *groups = sr_take(&r, (size_t)n_groups * sizeof(struct group));
	if (r.bad || !ids || !s_cold || !s_pit || !s_rt || !s_sup || !groups) {
		rc = fail(err, errlen, "state: %s", "truncated sections");
		goto out;
	}
	for (uint32_t i = 0; i < n_ids; i++) {
		struct ident id;
		memcpy(&id, ids + (size_t)i * sizeof id, sizeof id);
		if (!id.key || id.group >= n_groups || id.kind > ID_COOKIE) {
			rc = fail(err, errlen, "state: %s", "bad identity record");
			goto out;
		}
	}
	/* The learned models, into fresh instances. */
	{
		struct engine tmp;
		memset(&tmp, 0, sizeof tmp);
		tmp.cfg = e->cfg;
		if (learned_init(&tmp) < 0) {
			learned_free(&tmp);
			rc = fail(err, errlen, "state: %s", "out of memory");
			goto out;
		}
		mr = tmp.m_route;
		mp = tmp.m_pfx;
		me = tmp.m_err;
		hs = tmp.hst;
	}
	if (sr_blob(&r, mr, load_midas) < 0 || sr_blob(&r, mp, load_midas) < 0 ||
	    sr_blob(&r, me, load_midas) < 0 || sr_blob(&r, hs, load_hst) < 0) {
		rc = fail(err, errlen, "state: %s", "bad burst or multivariate model section");
		goto out;
	}
	if (r.off != r.n) {
		rc = fail(err, errlen, "state: %s", "trailing bytes before the checksum");
		goto out;
	}

	/* Apply. */
	e->first_us = first_us;
	e->watermark_us = watermark_us;
	e->h_start_us = h_start_us;
	e->h_acc = h_acc;
	e->h_ev_gaps = h_ev_gaps;
	uint64_t mem = e->mem;
	e->st = st;
	e->ct = ct;
	e->alert_seq = alert_seq;
	e->id_days = id_days;
	e->mv_points = mv_points;
	e->n_routes = n_routes;
	memcpy(e->burst_h, burst_h, sizeof burst_h);
	e->mv_h = mv_h;
	midas_free(e->m_route);
	midas_free(e->m_pfx);
	midas_free(e->m_err);
	hstree_free(e->hst);
	e->m_route = mr;
	e->m_pfx = mp;
	e->m_err = me;
	e->hst = hs;
	mr = mp = me = NULL;
	hs = NULL;

	memset(e->cold, 0, (size_t)(e->cold_mask + 1) * sizeof *e->cold);
	memset(e->pitems, 0, (size_t)(e->pitems_mask + 1) * sizeof *e->pitems);
	memset(e->routes, 0, (size_t)(e->routes_mask + 1) * sizeof *e->routes);
	memset(e->supp, 0, (size_t)(e->supp_mask + 1) * sizeof *e->supp);
	memset(e->groups, 0, EN_GROUPS_MAX * sizeof *e->groups);
	memset(e->gidx, 0, (size_t)(e->gidx_mask + 1) * sizeof *e->gidx);

	memcpy(e->groups, groups, (size_t)n_groups * sizeof *e->groups);
	e->n_groups = n_groups;
	for (uint32_t g = 0; g < n_groups; g++) {
		uint32_t i = (uint32_t)eh_mix(e->groups[g].key) & e->gidx_mask;
		while (e->gidx[i])
			i = (i + 1) & e->gidx_mask;
		e->gidx[i] = g + 1;
	}

	/* Cold records before the hot ones (hot ones past a smaller cap go cold). */
	e->ct.cold = 0;
	for (uint32_t i = 0; i < c_cold; i++) {
		uint32_t slot;
		struct cold c;
		memcpy(&slot, s_cold + (size_t)i * (4 + sizeof c), 4);
		memcpy(&c, s_cold + (size_t)i * (4 + sizeof c) + 4, sizeof c);
		if (same) {
			put_slot(e->cold, cold_n, slot, sizeof c, &c, true);
			e->ct.cold++;
		} else {
			struct cold *d = cold_slot(e, c.key, true);
			*d = c;
		}
	}
	uint32_t keep = n_ids < e->cap_ids ? n_ids : e->cap_ids;
	memcpy(e->ids, ids, (size_t)keep * sizeof *e->ids);
	e->n_ids = keep;
	e->hand = same ? hand : 0;
	for (uint32_t i = keep; i < n_ids; i++) {
		struct ident id;
		memcpy(&id, ids + (size_t)i * sizeof id, sizeof id);
		struct cold *c = cold_slot(e, id.key, true);
		c->first_seen_us = id.first_seen_us;
		c->last_us = id.last_us;
		c->max_gap_s = id.max_gap_s;
		c->n_events = id.n_events;
		c->group = id.group;
		c->kind = id.kind;
		c->active_days = id.active_days;
	}
	ids_reindex(e);
	for (uint32_t i = 0; i < c_pit; i++) {
		uint32_t slot;
		struct pitem p;
		memcpy(&slot, s_pit + (size_t)i * (4 + sizeof p), 4);
		memcpy(&p, s_pit + (size_t)i * (4 + sizeof p) + 4, sizeof p);
		if (same) {
			put_slot(e->pitems, pitems_n, slot, sizeof p, &p, true);
			continue;
		}
		uint32_t m = e->pitems_mask, hh = (uint32_t)p.key & m;
		for (uint32_t k = 0; k < EN_PROBE; k++)
			if (!e->pitems[(hh + k) & m].key) {
				e->pitems[(hh + k) & m] = p;
				break;
			}
	}
	for (uint32_t i = 0; i < c_rt; i++) {
		uint32_t slot;
		struct rseen q;
		memcpy(&slot, s_rt + (size_t)i * (4 + sizeof q), 4);
		memcpy(&q, s_rt + (size_t)i * (4 + sizeof q) + 4, sizeof q);
		if (same) {
			put_slot(e->routes, routes_n, slot, sizeof q, &q, true);
			continue;
		}
		uint32_t m = e->routes_mask, hh = (uint32_t)eh_mix(q.key) & m;
		for (uint32_t k = 0; k < EN_PROBE; k++)
			if (!e->routes[(hh + k) & m].key) {
				e->routes[(hh + k) & m] = q;
				break;
			}
	}
	for (uint32_t i = 0; i < c_sup; i++) {
		uint32_t slot;
		struct supp s;
		memcpy(&slot, s_sup + (size_t)i * (4 + sizeof s), 4);
		memcpy(&s, s_sup + (size_t)i * (4 + sizeof s) + 4, sizeof s);
		if (same) {
			put_slot(e->supp, supp_n, slot, sizeof s, &s, true);
			continue;
		}
		uint32_t m = e->supp_mask, hh = (uint32_t)eh_mix(s.key) & m;
		for (uint32_t k = 0; k < EN_PROBE; k++)
			if (!e->supp[(hh + k) & m].key) {
				e->supp[(hh + k) & m] = s;
				break;
			}
	}
	e->mem = mem;
	e->lt_lo = e->lt_hi = 0;
	rc = 0;
out:
	midas_free(mr);
	midas_free(mp);
	midas_free(me);
	hstree_free(hs);
	free(buf);
	return rc;
}

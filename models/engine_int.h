/*
 * engine_int.h - the anomaly engine's private types, shared by its files
 * (engine.c, identity_state.c, profile.c, peers.c, detect_*.c, score.c,
 * suppress.c, glob.c, state_file.c). Nothing here is part of the interface:
 * engine.h is.
 *
 * Time: every timestamp is packet time. Per-identity times are kept in whole
 * seconds (uint32_t, good until 2106) or days (uint16_t); the few that need
 * more are in µs. Windows are 10-minute buckets aligned to the epoch (bucket
 * id = ts / 600 s); the last twelve make the 2-hour request window, the last
 * six the 1-hour byte window. Nothing decays on a timer: peaks, risk and
 * group histograms decay lazily when they are touched, so a replay gives the
 * same numbers whatever the gaps between events.
 *
 * Memory: one struct ident per hot identity (exactly 1 KiB, 64-byte aligned,
 * checked at compile time; the fields every event touches first, so that
 * prof_prefetch() can start their loads together), one struct cold (40
 * bytes) per demoted identity, fixed-size open-addressing tables for groups'
 * item counts, routes and suppression, all allocated by engine_new() through
 * emem_calloc() and counted: nothing is allocated per event.
 */
#ifndef TAPIR_ENGINE_INT_H
#define TAPIR_ENGINE_INT_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "engine_counters.h"
#include "hstree.h"
#include "midas.h"

/* ------------------------------------------------------------------ detectors */

enum det {
	DET_NEW_ORIGIN,
	DET_TOKEN_SHARING,
	DET_RATE_SPIKE,
	DET_VOLUME_SPIKE,
	DET_OFFHOURS,
	DET_ENUMERATION,
	DET_PRIVILEGE_PROBE,
	DET_NEW_ROUTE,
	DET_SHADOW_ENDPOINT,
	DET_DESTRUCTIVE,
	DET_DORMANT,
	DET_TOKEN_MISUSE,
	DET_AGENT_CHANGE,
	DET_BLIND_SPOT,
	DET_BURST,
	DET_MULTIVARIATE,
	DET__COUNT
};

/* ------------------------------------------------------------------ sizes */

#define EN_BUCKET_S 600u     /* one window bucket: 10 minutes of packet time */
#define EN_RING 12           /* request buckets kept: the 2-hour window */
#define EN_BRING 6           /* byte buckets kept: the 1-hour window */
#define EN_SLOTS 48          /* seasonal slots: 24 hours x {business day, other day} */
#define EN_HOW 168           /* hours of the week */
#define EN_PFX 5             /* client prefixes remembered per identity */
#define EN_AGENTS 4          /* client software families per identity */
#define EN_ADDRS 4           /* recent client addresses (token sharing) */
#define EN_TRACKERS 3        /* (route) enumeration trackers per identity */
#define EN_PROBES 3          /* denied routes outside the profile remembered (24 h) */
#define EN_ROUTE_LIST 10     /* first routes listed per identity */
#define EN_BLOOM_BYTES 128   /* routes used: blocked Bloom filter, 2 x 512 bits, 3 hashes */
#define EN_HIST_BINS 40      /* log histograms: half-octave bins */
#define EN_SHIST_BINS 128    /* score histograms of the learned models */
#define EN_GROUPS_MAX 4096   /* peer groups; past it identities join their kind's group */
#define EN_ROUTES_CAP 65536  /* distinct routes tracked for first appearance */
#define EN_MV_DIMS 10        /* multivariate features */
#define EN_PROBE 16          /* open-addressing probe window */
#define EN_BUDGET 1e-4       /* learned models: alerts per identity-day and stream */

/* Peer groups with fixed indices. */
#define GRP_GLOBAL 0         /* every identity */
#define GRP_KIND0 1          /* 1 + kind: one group per identity kind (6) */
#define GRP_FIRST_ROLE 7

/* Item types counted per group (peer rarity). */
enum item_type { IT_ROUTE = 1, IT_PREFIX = 2, IT_AGENT = 3 };

/* ------------------------------------------------------------------ hashing */

static inline uint64_t eh_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* The last n < 8 bytes as a little-endian number, a byte at a time (eh_tail's reference). */
static inline uint64_t eh_tail_bytes(const unsigned char *b, size_t n)
{
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)b[i] << (8 * i);
	return w;
}

/* The same number without a loop: two overlapping loads (or three bytes) OR-ed. */
static inline uint64_t eh_tail(const unsigned char *b, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (n >= 4) {
		uint32_t lo, hi;
		memcpy(&lo, b, 4);
		memcpy(&hi, b + n - 4, 4);
		return (uint64_t)lo | (uint64_t)hi << (8 * (n - 4));
	}
	if (n)
		return (uint64_t)b[0] | (uint64_t)b[n / 2] << (8 * (n / 2)) |
		       (uint64_t)b[n - 1] << (8 * (n - 1));
	return 0;
#else
	return eh_tail_bytes(b, n);
#endif
}

/* A fast 64-bit hash of bytes (8 at a time), seeded. Not cryptographic. */
static inline uint64_t eh_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ull);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, b, 8);
		h = eh_mix(h ^ w) + 0x9e3779b97f4a7c15ull;
		b += 8;
		n -= 8;
	}
	return eh_mix(h ^ eh_tail(b, n) ^ 0x5851f42d4c957f2dull);
}

static inline uint64_t eh_str(const char *s, uint64_t seed)
{
	return eh_bytes(s, strlen(s), seed);
}

static inline uint64_t eh_pair(uint64_t a, uint64_t b)
{
	return eh_mix(a ^ eh_mix(b + 0x632be59bd9b4e019ull));
}

/* Never 0 (0 marks an empty slot in every table). */
static inline uint64_t eh_nz(uint64_t h)
{
	return h ? h : 1;
}

static inline uint32_t eh_nz32(uint64_t h)
{
	uint32_t v = (uint32_t)(h ^ (h >> 32));
	return v ? v : 1;
}

/* ------------------------------------------------------------------ histograms */

/* Counts of values in half-octave bins: bin 0 holds x < 1, bin b >= 1 holds
 * [2^((b-1)/2), 2^(b/2)). Halved when the total passes 2^20 (slow forgetting). */
struct hist {
	uint32_t total;
	uint32_t n[EN_HIST_BINS];
};

void hist_add(struct hist *h, double x);
/* Upper edge of the bin holding quantile q (0 when empty). */
double hist_quantile(const struct hist *h, double q);

/* Score histograms of the learned models, for empirical tail probabilities. */
struct shist {
	uint64_t total;
	uint64_t n[EN_SHIST_BINS];
	uint64_t cut_at;         /* shist_cut's cache: valid while total < cut_at */
	int cut;
	int pad;
};

/* ------------------------------------------------------------------ identities */

/* ident.flags */
#define IF_HAD_OK 0x02       /* has had a 2xx answer */
#define IF_BUCKET_ANOM 0x04  /* the current bucket raised an alert: it does not train */
#define IF_MATURE 0x10       /* counted in its groups' mature members */
#define IF_BGROUP 0x20       /* no claims: placed in a behavioural group */

/* Enumeration of one route: distinct object ids (linear counting over 256 bits)
 * in a 1-hour window and its current 10-minute sub-window, and walks. */
struct enum_tr {
	uint32_t route;      /* eh_nz32(hash of method and route); 0 = free */
	uint32_t start_s;    /* window start */
	uint16_t sub_off;    /* sub-window start, seconds after start_s */
	uint16_t last_off;   /* last use, seconds after start_s */
	uint16_t sub_b0;     /* bits set when the sub-window began */
	uint16_t seq_run;    /* current walk: steps of one id, one direction */
	uint16_t seq_best;   /* longest walk in this window */
	int8_t seq_dir;      /* +1 / -1 / 0 */
	uint8_t alerted;     /* this window raised an alert: it does not train */
	int64_t last_id;     /* last numeric id (-1: none) */
	int64_t head_id;     /* the walk's latest id (-1: none) */
	uint64_t bits[4];
};

/*
 * A hot identity. Everything is fixed size: windows, baselines, small sets,
 * Bloom filter, enumeration trackers. Keep it <= 1 KiB (checked below).
 */
struct ident {
	/* Cache line 0: what every event reads and writes. */
	uint64_t key;            /* eh of (kind, id); never 0 */
	uint64_t last_us;        /* latest event time */
	uint64_t learn_end_us;   /* deviation alerts from here on */
	uint32_t bucket;         /* current bucket id */
	uint32_t n_events;       /* saturating */
	uint16_t group;          /* role (or kind) group index */
	uint8_t kind;            /* enum ev_identity_kind */
	uint8_t flags;           /* IF_* */
	uint32_t max_gap_s;      /* longest silence between events seen */
	uint32_t n_buckets;      /* clean buckets trained */
	uint32_t n_idle;         /* empty buckets inside sessions (gaps under an hour) */
	uint16_t ring_anom;      /* bit (bucket % EN_RING): that bucket raised an alert */
	uint16_t err_cur;        /* 4xx/5xx in the current bucket */
	uint16_t new_cur;        /* novel items (route, prefix, agent) in the current bucket */
	uint16_t n_routes;       /* routes added to the Bloom filter (saturating) */
	uint16_t writes[2];      /* [0] current bucket, [1] previous one */
	uint16_t denied[2];

	/* Lines 1-2: the windows (rings of the last buckets at [bucket % size]). */
	uint32_t req[EN_RING];
	uint64_t routes_bits;    /* distinct routes in the current bucket, 64-bit sketch */
	float wrecent;           /* writes, decayed with a 1-hour time constant */
	uint32_t wrecent_s;
	float bytes[EN_BRING];
	uint64_t droutes_bits[2];/* distinct denied routes: current, previous bucket */

	/* Baselines (trained by clean closed buckets; peaks halve every 14 days). */
	float peak_req10, peak_req60, peak_req120, peak_bytes10, peak_bytes60;
	float reqs_total, writes_total; /* for the write share */
	float snap_req60, snap_req120, snap_bytes60; /* the peaks when the day began */
	uint16_t peak_writes10, peak_denied10, peak_droutes, peak_routes10;
	uint16_t peak_enum10, peak_enum60, peak_seq;
	uint8_t max_conc;        /* most client addresses at once (5 min) */
	uint8_t n_pfx_ever;      /* distinct prefixes ever added (saturating) */
	uint8_t n_agent_ever;
	uint8_t active_days;     /* distinct local days with events (saturating) */
	uint8_t addr_novel;      /* bit i: addr[i] came from a prefix new to the identity */
	uint16_t decay_day;      /* day the peaks were last decayed (days since the epoch) */
	uint16_t last_day;       /* last local day counted in active_days */
	uint32_t how_hour;       /* last absolute hour counted in how[] */
	uint64_t first_seen_us;  /* first event ever (survives demotion): credential age */
	float risk;              /* sum of alert surprise, halves every 24 h */
	uint32_t risk_s;

	/* Small sets, replaced least recently used (read by every event). */
	uint32_t pfx[EN_PFX];
	uint16_t pfx_day[EN_PFX];      /* last day used (days since the epoch) */
	uint16_t pfx16[EN_PFX];        /* hash of the enclosing /16 (IPv4) or /32 (IPv6) */
	uint32_t agent[EN_AGENTS];
	uint16_t agent_day[EN_AGENTS];
	uint32_t addr[EN_ADDRS], addr_first[EN_ADDRS], addr_last[EN_ADDRS];
	uint16_t addr_day[EN_ADDRS];   /* day the address was first seen */

	/* Routes used: a blocked Bloom filter (one 64-byte block a lookup). */
	uint8_t bloom[EN_BLOOM_BYTES] __attribute__((aligned(64)));

	struct enum_tr tr[EN_TRACKERS];

	/* Read rarely: when a bucket closes, an hour begins, a probe or a group. */
	uint16_t slot_req[EN_SLOTS];   /* seasonal EWMA of requests per active bucket (lq_enc) */
	uint8_t slot_bytes[EN_SLOTS];  /* same for bytes (lq8_enc: 19% steps) */
	uint8_t how[EN_HOW / 2];       /* active hours per hour of week, 4-bit saturating counts */
	uint32_t probe_r[EN_PROBES], probe_t[EN_PROBES]; /* denied routes outside the profile */
	uint32_t routes[EN_ROUTE_LIST];/* the first routes used (for behavioural peer groups) */
} __attribute__((aligned(64)));

_Static_assert(sizeof(struct ident) <= 1024, "hot identity record over 1 KiB");

/* What a demoted identity keeps: enough for dormancy and credential age. */
struct cold {
	uint64_t key;            /* 0 = empty */
	uint64_t first_seen_us;
	uint64_t last_us;
	uint32_t max_gap_s;
	uint32_t n_events;
	uint16_t group;
	uint8_t kind;
	uint8_t active_days;
	uint32_t pad;
};

/* ------------------------------------------------------------------ peer groups */

struct group {
	uint64_t key;            /* 0 = unused */
	uint32_t members;        /* identities that joined it */
	uint32_t mature;         /* ... of which past their learning period */
	uint32_t conc_members;   /* members seen at more than one address at once */
	uint32_t pfx_firsts;     /* distinct prefixes its members brought */
	uint8_t kind;
	uint8_t pad[7];
	uint64_t first_us;       /* first event of its earliest member */
	uint64_t member_hours;   /* identity-hours of activity */
	uint32_t how[EN_HOW];    /* identity-hours per hour of week */
	struct hist req10, bytes10_k, writes10, denied10, droutes10, enum10, enum60, seq;
	char label[48];          /* roles or scope as seen first, for evidence */
};

/* (group, item) -> members that used it. */
struct pitem {
	uint64_t key;
	uint32_t count;
	uint32_t pad;
};

/* Routes (template, any method) and what their answers showed. */
#define RS_ANSWERED 0x01     /* answered 2xx/3xx at least once (first_s: when first) */
#define RS_PUBLIC 0x02       /* answered 2xx/3xx to a request without credentials */
#define RS_CHECKS 0x04       /* answered 401 or 403: it checks credentials */
struct rseen {
	uint64_t key;
	uint32_t first_s;
	uint32_t flags;
	float size_max;          /* largest response of a clean event */
	uint32_t n_sized;        /* clean responses counted */
};

/* Suppression: (identity, detector, route/item) -> until. */
struct supp {
	uint64_t key;
	uint64_t until_us;
};

/* Local time of an instant, in the configured business-hours zone. */
struct ltime {
	uint32_t day;            /* local days since the epoch */
	uint8_t wday;            /* 0 = Sunday */
	uint8_t hour;
	uint16_t minute;         /* minutes after local midnight */
	uint16_t how;            /* wday * 24 + hour */
	uint8_t slot;            /* seasonal slot */
	bool business;           /* inside business hours */
	int32_t offset_min;
};

/* Glob patterns for api.sensitive, copied. */
struct glob_rule {
	char method[32];
	char *glob;
};


struct engine {
	struct engine_config cfg;
	struct glob_rule *sens;
	size_t n_sens;
	uint64_t mem;

	/* Hot identities: slots 0..n_ids-1, an index (open addressing, slot + 1),
	 * and a clock hand for demotion. */
	struct ident *ids;
	uint32_t n_ids, cap_ids;
	uint32_t *idx;
	uint32_t idx_mask;
	uint32_t hand;

	struct cold *cold;
	uint32_t cold_mask;

	struct group *groups;
	uint32_t n_groups;
	uint32_t *gidx;
	uint32_t gidx_mask;

	struct pitem *pitems;
	uint32_t pitems_mask;

	struct rseen *routes;
	uint32_t routes_mask;
	uint64_t n_routes;

	struct supp *supp;
	uint32_t supp_mask;

	struct midas *m_route, *m_pfx, *m_err;
	struct hstree *hst;
	struct shist burst_h[3];
	struct shist mv_h;

	uint64_t first_us;           /* first event the engine saw (0: none yet) */
	uint64_t watermark_us;       /* latest packet time seen */
	uint64_t lt_lo, lt_hi;       /* utc offset cache: [lo, hi) */
	int32_t lt_off;

	/* blind_spot: sensor health accumulated since the window began */
	uint64_t h_start_us;
	struct engine_health h_acc;
	uint64_t h_ev_gaps;          /* events flagged gap in the window */

	struct engine_stats st;
	struct engine_counters ct;
	uint64_t alert_seq;
	double budget;               /* learned models' alerts per identity-day per stream (EN_BUDGET) */
	uint64_t id_days;            /* (identity, local day) pairs with activity */
	uint64_t mv_points;          /* buckets the multivariate model learned */
	double lin_est[257];         /* distinct ids for b of 256 bits set (enumeration) */

	struct alert a;              /* the alert being built */

	/* peers_key's last scopes and their keys: few scopes, many requests each
	 * (a slot by the scope's length and ends; "" never matches: scope "" has no key). */
	struct {
		char scope[JWT_SCOPE_MAX];
		uint64_t key;
	} pk_memo[4];
	/* agent_family's recent User-Agents (a slot by length and ends; empty while
	 * h is 0), each with its family and that family's hash */
	struct engine_ua_memo {
		char ua[EV_UA_MAX];
		char name[48];
		uint32_t h;
	} ua_memo[8];
	/* The last client address's prefix, wide prefix and address hashes (client_prefix) */
	uint8_t ip_memo[16];
	bool ip_memo_set;
	uint16_t ip_memo_pfx16;
	uint32_t ip_memo_pfx, ip_memo_addr;
};

/* ------------------------------------------------------------------ one event */

struct ectx {
	struct engine *e;
	const struct api_event *ev;
	const char *route;
	enum routes_verdict verdict;
	engine_alert_fn fn;
	void *fctx;

	uint64_t key;                /* identity key (0: anonymous) */
	struct ident *id;            /* NULL: anonymous or not admitted */
	uint64_t now;                /* event time, never before the identity's latest (µs) */
	uint32_t now_s;
	uint64_t rkey;               /* (method, route) */
	uint64_t fkey;               /* (method, route family): novelty of routes */
	uint64_t route_h;            /* route family alone (the route table's key) */
	uint32_t pfx, addr, agent;   /* client prefix, client address, agent family hashes */
	uint16_t pfx16;              /* the prefix's /16 (/32) */
	const uint8_t *ip;           /* origin_ip when present, else client_ip */
	char agent_name[48];
	struct ltime lt;
	int status;
	bool learning;               /* the identity is in its learning period */
	bool anomalous;              /* a detector fired: the event does not train */
	bool promoted;               /* came back from a cold record on this event */
	bool is_write, is_denied, is_ok;
	bool shadow_fired;
	int conc;                    /* client addresses in use at once, interleaved */
	bool route_first;             /* the route had never been seen answered before */
	bool new_route, new_pfx, new_agent;  /* novel for the identity */
	uint64_t gap_s;              /* silence before this event */
	double learned_s;            /* surprise of the learned models on this event */
	double mv_score;             /* last multivariate score computed (or -1) */
	double ms[3];                /* MIDAS scores: (identity, route), (identity, prefix), (route, 4xx) */
	struct cold was;             /* the cold record (when promoted) */
};

/* ------------------------------------------------------------------ modules */

/* engine.c */
void *emem_calloc(struct engine *e, size_t n, size_t size);
void *emem_calloc64(struct engine *e, size_t n, size_t size);
void emem_free64(void *p, size_t n, size_t size); /* what emem_calloc64(e, n, size) gave */
void lt_get(struct engine *e, uint64_t ts_us, struct ltime *lt);
const char *ectx_who(const struct ectx *x);
uint64_t route_family(const char *route, uint64_t seed);

/* identity_state.c */
int ids_init(struct engine *e);
void ids_free(struct engine *e);
struct ident *ids_find(struct engine *e, uint64_t key);
void ids_prefetch_slot(const struct engine *e, uint64_t key);
/* Creates a hot record (demoting one at the cap); fills *was and returns
 * with *promoted set when the key had a cold record. */
struct ident *ids_create(struct engine *e, uint64_t key, uint64_t now, struct cold *was,
			 bool *promoted);
void ids_reindex(struct engine *e);
struct cold *cold_slot(struct engine *e, uint64_t key, bool create);

/* profile.c */
uint16_t lq_enc(double x);
double lq_dec(uint16_t q);
uint8_t lq8_enc(double x);
double lq8_dec(uint8_t q);
void prof_roll(struct ectx *x);
void prof_count(struct ectx *x);
void prof_train(struct ectx *x);
void prof_train_items(struct ectx *x, bool to_peers);
double prof_lambda(const struct ident *id, int slot);
bool prof_bloom_has(const struct ident *id, uint64_t h);
void prof_prefetch(const struct ident *id, uint64_t route_key);
void prof_bloom_add(struct ident *id, uint64_t h);
int prof_how(const struct ident *id, int how);
int prof_how_near(const struct ident *id, int how);
double prof_c10(const struct ident *id, uint32_t now_s, uint32_t *c60);
/* Ring buckets (bit per bucket) that already raised an alert, the current one included. */
uint16_t prof_anomalous_buckets(const struct ident *id);
uint32_t prof_c120(const struct ident *id, int *active);
void prof_hour_clean(const struct ident *id, uint32_t *c60, double *b60);
double prof_b10(const struct ident *id, uint32_t now_s, double *b60);
double prof_w10(const struct ident *id, uint32_t now_s);
double prof_d10(const struct ident *id, uint32_t now_s);
int prof_set_find(const uint32_t *set, int n, uint32_t h);
int prof_conc(const struct ident *id, uint32_t now_s);

/* peers.c */
int peers_init(struct engine *e);
uint64_t peers_key(struct engine *e, const struct api_event *ev);
uint16_t peers_join(struct engine *e, uint64_t key, uint8_t kind, const struct api_event *ev);
void peers_member(struct engine *e, struct ident *id, int delta);
void peers_matured(struct engine *e, struct ident *id);
void peers_behaviour(struct engine *e, struct ident *id);
struct group *peers_pick(struct engine *e, const struct ident *id, uint32_t min_members);
uint32_t peers_count(struct engine *e, const struct group *g, enum item_type t, uint64_t item);
void peers_add(struct engine *e, const struct ident *id, enum item_type t, uint64_t item);
void peers_bucket(struct engine *e, const struct ident *id, double req, double bytes,
		  double writes, double denied, double droutes);
void peers_enum(struct engine *e, const struct ident *id, double sub, double hour, double seq);
void peers_hour(struct engine *e, const struct ident *id, int how);
bool peers_mature(const struct engine *e, const struct group *g);
double peers_how_share(const struct group *g, int how);

/* glob.c */
bool glob_match(const char *glob, const char *path);
bool glob_sensitive(const struct engine *e, const char *method, const char *path);

/* detect_access.c */
struct rseen *route_entry(struct engine *e, uint64_t key, bool create);

/* suppress.c */
bool supp_check(struct engine *e, uint64_t key, uint64_t now, uint64_t span);

/* score.c */
double score_of(double surprise);
enum alert_severity score_severity(double score);
double score_risk(struct ident *id, uint32_t now_s);
void shist_add(struct shist *h, int bin);
double shist_tail(const struct shist *h, int bin);
int shist_cut(struct shist *h, double p);
double pareto_p(double observed, double usual, double alpha);

/* alerts (engine.c) */
struct alert *alert_begin(struct ectx *x, enum det d, uint64_t item);
struct alert *alert_begin_for(struct ectx *x, uint64_t who, enum det d, uint64_t item);
void alert_emit(struct ectx *x, enum det d, double p);
void alert_emit_health(struct engine *e, enum det d, double p, engine_alert_fn fn, void *ctx);
size_t json_esc(char *dst, size_t cap, const char *s);

/* detectors */
void det_token_misuse(struct ectx *x);
void det_dormant(struct ectx *x);
void det_offhours(struct ectx *x);
void det_new_origin(struct ectx *x);
void det_token_sharing(struct ectx *x);
void det_agent_change(struct ectx *x);
void det_new_route(struct ectx *x);
void det_shadow_endpoint(struct ectx *x);
void det_privilege_probe(struct ectx *x);
void det_enumeration(struct ectx *x);
void det_rates(struct ectx *x);
void det_destructive(struct ectx *x);
void det_burst(struct ectx *x);
void det_multivariate(struct ectx *x);
double learned_mv_tail(struct ectx *x, double *score);
void learned_bucket_close(struct engine *e, struct ident *id, const double *f);
void mv_features(const struct ident *id, int slot, int how, double *f);
int learned_init(struct engine *e);
void learned_free(struct engine *e);
void det_blind_spot(struct engine *e, uint64_t now, const struct engine_health *h,
		    engine_alert_fn fn, void *ctx);
void det_blind_spot_flush(struct engine *e, uint64_t now, const struct engine_health *h,
			  engine_alert_fn fn, void *ctx);
void learned_prefetch(const struct ectx *x);
void learned_observe(struct ectx *x);

#endif

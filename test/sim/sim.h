/*
 * sim.h - tapir-sim: the scenario test bench's traffic simulator.
 *
 * tapir-sim writes what a SPAN port in front of an API server would see over
 * days: a population of identities (JWT users with roles, service accounts
 * with API keys, Basic-auth legacy users, browser sessions with cookies,
 * partners with opaque tokens) working in their own time zones from their
 * usual networks with their usual software, over keep-alive TCP with real
 * handshakes, HTTP/1.1 and HTTP/2 (HPACK by libnghttp2's deflater). Into it
 * it injects labelled insider scenarios and writes the ground truth beside
 * the capture. Everything is a function of the seed.
 *
 * The pipeline, one file each:
 *   population.c  identities and their normal days            -> struct conn plans
 *   scenarios.c   insider scenarios (planned before normal traffic, so that
 *                 a victim's normal activity can make room for them)
 *   api.c         the simulated API: routes, headers, bodies, statuses
 *   http1.c       one connection's exchanges as HTTP/1.1 bytes  -> tcp
 *   http2.c       one connection's exchanges as HTTP/2 frames   -> tcp
 *   pcapw.c       TCP (handshake, seq/ack, MSS, slow start, delayed ACKs,
 *                 FIN/RST), IPv4/IPv6, Ethernet, and the time-ordered
 *                 packet queue in front of libpcap's pcap_dump
 *   tapir-sim.c   arguments, the run, identities.jsonl, truth.jsonl
 *   util.c        PRNG, time formats, base64, fingerprints, JSON strings
 *
 * Test data only: the keys, tokens and addresses are made up.
 */
#ifndef TAPIR_SIM_H
#define TAPIR_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define US_PER_S 1000000ULL
#define MIN_US (60 * US_PER_S)
#define HOUR_US (3600 * US_PER_S)
#define DAY_US (86400 * US_PER_S)

#define SIM_MAX_DAYS 30
#define SIM_MAX_IDENTITIES 5000
#define SIM_MAX_PER_KIND 8     /* scenarios of each kind in one run */

/* The capture starts on Tuesday 2026-11-03 00:00:00 UTC (no DST change for
 * any simulated zone in the weeks after it). */
#define SIM_T0 (1793664000ULL * US_PER_S)
#define SIM_T0_WDAY 2 /* tm_wday of SIM_T0: Tuesday */

/* The server and the ingress proxy (trusted_proxies in config/eval.yaml). */
#define API_HOST "api.example.com"
#define API_PORT 8080

/* ---------------------------------------------------------------- util.c */

struct rng {
	uint64_t s[4];
};

/* xoshiro256** seeded through splitmix64 from (seed, stream). */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
uint32_t rng_below(struct rng *r, uint32_t n);       /* 0..n-1 (n > 0) */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi); /* lo..hi inclusive */
double rng_unit(struct rng *r);                      /* [0, 1) */
double rng_normal(struct rng *r);                    /* N(0, 1) */
double rng_exp(struct rng *r, double mean);
double rng_lognormal(struct rng *r, double median, double sigma);
uint32_t rng_poisson(struct rng *r, double lambda);
bool rng_chance(struct rng *r, double p);
int rng_weighted(struct rng *r, const double *w, int n); /* index by weight */
uint64_t mix64(uint64_t x);                          /* splitmix64 finaliser */

void fmt_rfc3339(char *out, size_t n, uint64_t us);  /* 2026-11-03T08:00:00.000000Z */
void fmt_rfc3339_s(char *out, size_t n, uint64_t us); /* 2026-11-03T08:00:00Z */
void fmt_http_date(char *out, size_t n, uint64_t us); /* Tue, 03 Nov 2026 08:00:00 GMT */
size_t b64_encode(char *out, const void *in, size_t n, bool url); /* NUL-terminated */
/* "sha256:" + 16 hex digits of SHA-256(s): tapir's fingerprint of an opaque credential. */
void fingerprint(const char *s, char out[24]);
void json_str(FILE *f, const char *s);               /* a JSON string, quoted and escaped */
bool hmac_sha256(const char *key, const char *msg, uint8_t out[32], unsigned *len);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* ---------------------------------------------------------------- addresses */

struct addr {
	uint8_t v6;       /* 0: IPv4 in b[0..3] */
	uint8_t b[16];
};

enum pfx_kind { PFX_OFFICE, PFX_VPN, PFX_HOME, PFX_DC, PFX_PARTNER, PFX_FOREIGN };

struct prefix {
	struct addr base; /* host bits zero */
	uint8_t len;      /* 24 (IPv4) or 64 (IPv6) */
	uint8_t kind;     /* enum pfx_kind */
};

void addr_fmt(const struct addr *a, char *out, size_t n);
void prefix_fmt(const struct prefix *p, char *out, size_t n);
void prefix_host(const struct prefix *p, uint64_t host, struct addr *out);
bool addr_eq(const struct addr *a, const struct addr *b);

/* ---------------------------------------------------------------- api.c */

enum route {
	R_ME, R_PRODUCTS, R_PRODUCT, R_SEARCH,
	R_CUSTOMERS, R_CUSTOMER, R_CUSTOMER_PATCH, R_CUSTOMER_DELETE, R_CUSTOMER_ORDERS,
	R_ORDERS, R_ORDER, R_ORDER_POST, R_ORDER_DELETE,
	R_PAYMENTS, R_PAYMENT, R_REFUND, R_INVOICES, R_INVOICE,
	R_REPORT, R_EXPORT,
	R_TICKETS, R_TICKET, R_TICKET_COMMENT,
	R_ADMIN_USERS, R_ADMIN_USER, R_ADMIN_ROLES, R_ADMIN_AUDIT, R_ADMIN_KEYS,
	R_LEGACY_REPORT, R_HEALTH, R_EVENTS_POST, R_INVENTORY, R_INVENTORY_PUT,
	R_SHADOW, /* obj indexes api_shadow_paths: undocumented routes */
	R_COUNT
};

struct route_def {
	const char *method;
	const char *fmt;       /* path, %u = obj; NULL for R_SHADOW */
	uint16_t status;       /* usual success status */
	uint32_t resp_median;  /* response body bytes */
	double resp_sigma;     /* lognormal spread */
	uint16_t req_len;      /* request body bytes (0: none) */
	uint16_t proc_ms;      /* median server time */
	uint32_t obj_lo, obj_hi; /* object ids */
};

extern const struct route_def api_routes[R_COUNT];
extern const char *const api_shadow_paths[];
extern const size_t api_n_shadow_paths;

/* Query string variants (struct req.qv). */
enum qv { QV_NONE, QV_PAGE, QV_SEARCH, QV_BULK, QV_SINCE, QV_PERIOD, QV_CSV };

/* One request/response exchange, as planned. */
struct req {
	uint64_t ts;        /* when the client wants to send it (µs since the epoch) */
	uint32_t obj;       /* object id, or a name/path index */
	uint32_t resp_len;  /* response body bytes */
	uint16_t req_len;   /* request body bytes */
	uint16_t status;
	uint16_t proc_ms;
	uint8_t route;      /* enum route */
	uint8_t qv;         /* enum qv */
	uint8_t flags;      /* RQ_* */
};
#define RQ_ALT_CRED 0x01  /* sent with the connection's cred_alt */

/* Fills a request for `route` at `ts`: object id, sizes, status and server
 * time drawn from the route's distributions (404 sometimes for object GETs). */
void api_req(struct rng *r, struct req *q, enum route route, uint64_t ts);

enum proto { P_H1, P_H2 };
enum cred_kind { CK_NONE, CK_AUTHZ, CK_APIKEY, CK_COOKIE };

/* One planned TCP connection: who, from where, with what, and its requests
 * (world.reqs[first .. first+n)). */
struct conn {
	uint64_t start;         /* ts of its first request */
	uint32_t first, n;
	int32_t ident;          /* index in world.ids */
	int32_t scenario;       /* index in world.sc, -1: normal traffic */
	struct addr client;     /* the client (behind the proxy when CF_PROXY) */
	uint32_t rtt_us;        /* round trip client <-> capture point */
	uint32_t bw_mbps;       /* client's downstream rate */
	uint16_t mss;
	uint16_t agent;         /* index in agents[] */
	uint8_t proto;          /* enum proto */
	uint8_t flags;          /* CF_* */
	uint8_t ttl;            /* client's IP TTL as seen at the sensor */
	uint8_t cred_kind;      /* enum cred_kind */
	const char *cred;       /* Authorization value, API key, or Cookie header value */
	const char *cred_alt;   /* for RQ_ALT_CRED requests (an expired token in the morning) */
};
#define CF_PROXY 0x01          /* through the ingress proxy, X-Forwarded-For names client */
#define CF_CLIENT_CLOSES 0x02  /* the client closes after its last response */
#define CF_RST 0x04            /* ... with a RST */

/* Request and response header lists, HTTP/1 spelling (http2.c lower-cases). */
#define MSG_MAX_HDRS 24
struct msg {
	int n;
	const char *name[MSG_MAX_HDRS];
	const char *value[MSG_MAX_HDRS];
	char buf[4096];
	size_t used;
};

struct world;
/* The request line's target (path and query) into path; the headers into m. */
void api_request(const struct world *w, const struct conn *c, const struct req *q,
		 uint64_t ts, bool h2, char *path, size_t pathcap, struct msg *m);
/* Response headers for q answered at ts; chunked: Transfer-Encoding instead of
 * Content-Length (HTTP/1.1 only). */
void api_response(const struct conn *c, const struct req *q, uint64_t ts, bool h2, bool chunked,
		  struct msg *m);
/* len bytes of JSON-ish body into out (valid JSON when len >= 16). */
void api_body(uint8_t *out, size_t len, uint32_t seed);
/* Bytes [off, off+len) of the body api_body would make for total bytes. */
void api_body_slice(uint8_t *out, size_t total, size_t off, size_t len, uint32_t seed);
const char *api_reason(int status);
void api_template(enum route route, char *out, size_t n);

/* ---------------------------------------------------------------- agents */

enum agent_family {
	AF_CHROME, AF_FIREFOX, AF_SAFARI, AF_EDGE, AF_CURL, AF_PYTHON, AF_POSTMAN, AF_HTTPIE,
	AF_GO, AF_OKHTTP, AF_JAVA, AF_AXIOS, AF_EXCEL, AF_PARTNER, AF_PROBE
};
struct agent {
	const char *ua;
	uint8_t family;  /* enum agent_family */
	uint8_t browser; /* a web browser (sends Accept-Language, Origin, Referer) */
	int8_t upgrade;  /* index of the next version of the same family, -1 none */
};
extern const struct agent agents[];
extern const size_t n_agents;
int agent_find(const char *prefix); /* first agent whose UA starts with prefix */

/* ---------------------------------------------------------------- population */

enum id_kind { IK_JWT, IK_COOKIE, IK_BASIC, IK_APIKEY, IK_BEARER };
enum role {
	RO_SUPPORT, RO_SALES, RO_FINANCE, RO_ANALYST, RO_ENGINEER, RO_ADMIN, RO_AUDITOR,
	RO_LEGACY, RO_BATCH,
	RO_SVC_MONITOR, RO_SVC_BILLING, RO_SVC_CRM, RO_SVC_EVENTS, RO_SVC_INVENTORY,
	RO_SVC_INDEXER, RO_SVC_REPORTS, RO_SVC_NOTIFIER,
	RO_PARTNER,
	RO_COUNT
};
enum sched { SC_OFFICE, SC_CRON, SC_SERVICE, SC_PARTNER, SC_DORMANT };

struct tz {
	const char *name;   /* IANA */
	int offset_min;     /* east of UTC in November 2026 */
	int region;         /* 0 Europe, 1 Americas, 2 Asia */
	int office;         /* index of the office in that zone */
};
extern const struct tz tzs[];
extern const size_t n_tzs;

#define ID_PFX_MAX 4
#define ID_AGENT_MAX 3
#define SUPPRESS_MAX 4

struct ident {
	enum id_kind kind;
	enum role role;
	enum sched sched;
	char name[48];        /* JWT sub, Basic user, service or partner name */
	char id[48];          /* the identity id tapir reports */
	int tz;
	int start_min, end_min; /* usual local working window (minutes after midnight) */
	double daily_pv;      /* page views (or batches) on a working day */
	double h2_share;      /* share of days/connections over HTTP/2 */
	bool via_proxy;       /* browser traffic through the ingress proxy */
	struct prefix pfx[ID_PFX_MAX];
	double pfx_w[ID_PFX_MAX];
	uint32_t pfx_host[ID_PFX_MAX]; /* sticky host number in each prefix */
	int n_pfx;
	int agent[ID_AGENT_MAX];
	double agent_w[ID_AGENT_MAX];
	int n_agent;
	int upgrade_day;      /* browser update from this day (-1: none) */
	uint32_t vacation;    /* bit d: day d off */
	uint32_t weekend;     /* bit d: a short session on weekend day d */
	int dormant_day;      /* SC_DORMANT: the one early day it is active */
	uint32_t rtt_us[ID_PFX_MAX];
	uint32_t bw_mbps[ID_PFX_MAX];
	uint16_t mss[ID_PFX_MAX];
	uint8_t hops[ID_PFX_MAX];    /* routers between the client and the sensor */
	int cli_agent;        /* a command-line tool some days (engineers), -1 */
	int lunch_min;
	char secret[80];      /* API key, cookie value, bearer token, Basic password */
	char cred[640];       /* the header value for non-JWT kinds */
	char *token[SIM_MAX_DAYS + 1]; /* JWT: Authorization value per local day (index d+1, d >= -1) */
	uint64_t token_iat[SIM_MAX_DAYS + 1];
	int scenario;         /* the scenario it is the victim of, -1 */
	uint64_t suppress_from[SUPPRESS_MAX], suppress_to[SUPPRESS_MAX];
	int n_suppress;       /* windows with no normal traffic (a scenario takes over) */
	/* filled as traffic is generated */
	uint64_t first_ts, last_ts;
	uint32_t nreq;
	uint32_t day_reqs[SIM_MAX_DAYS];
};

/* ---------------------------------------------------------------- scenarios */

enum sc_kind {
	SK_NEW_ORIGIN, SK_TOKEN_SHARING, SK_RATE_SPIKE, SK_VOLUME_SPIKE, SK_OFFHOURS,
	SK_ENUMERATION, SK_PRIVILEGE_PROBE, SK_NEW_ROUTE, SK_SHADOW_ENDPOINT, SK_DESTRUCTIVE,
	SK_DORMANT, SK_TOKEN_MISUSE, SK_AGENT_CHANGE, SK_BLIND_SPOT,
	SK_COUNT
};
extern const char *const sc_kind_names[SK_COUNT];

struct scenario {
	enum sc_kind kind;
	bool blatant;
	int ident;            /* victim, -1 for blind_spot */
	uint64_t start, end;  /* planned; start/end of its requests once generated */
	uint64_t plan_at;     /* planned anchor time */
	int variant;
	char note[640];
	uint32_t drop_per_mille; /* blind_spot: share of packets the mirror port loses */
	uint32_t nreq;
};

/* ---------------------------------------------------------------- the world */

struct world {
	uint64_t seed;
	int days;
	int n_ids;
	bool demo;
	uint64_t t0, t_end;       /* the capture's span */
	uint64_t learning_us;     /* detection.learning_period of the config it goes with */
	int per_kind;             /* scenarios per kind */
	struct ident *ids;
	struct req *reqs;
	size_t n_reqs, cap_reqs;
	struct conn *conns;
	size_t n_conns, cap_conns;
	struct scenario sc[SK_COUNT * SIM_MAX_PER_KIND];
	int n_sc;
	const char *jwt_secret;
	struct rng rng;           /* planning stream */
	char **owned;             /* strings made on the way (scenario tokens), freed with the world */
	size_t n_owned, cap_owned;
};

/* Takes ownership of s (freed by world_free) and returns it. */
char *world_keep(struct world *w, char *s);
void world_free(struct world *w);

/* A growable list of requests. */
struct reqv {
	struct req *v;
	size_t n, cap;
};
struct req *reqv_add(struct reqv *v);     /* a zeroed slot at the end */
void reqv_sort(struct reqv *v);           /* by ts, stable */

/* Appends a connection and its requests (copied). */
void world_add_conn(struct world *w, const struct conn *c, const struct req *q, size_t n);

/* Splits one client's requests (sorted by ts) into connections the way a
 * client and a keep-alive server would (idle timeout, requests per
 * connection, lifetime), each a copy of tmpl, and adds them. */
void emit_activity(struct world *w, const struct conn *tmpl, struct req *q, size_t n);

/* population.c */
void population_make(struct world *w);
void population_traffic(struct world *w);      /* normal traffic of everyone */
void ident_day_window(const struct world *w, int i, int d, uint64_t *from, uint64_t *to);
bool ident_works(const struct world *w, int i, int d);
int ident_local_day(const struct world *w, int i, uint64_t ts);
int ident_origin(const struct world *w, int i, int d, struct rng *r); /* prefix index for day d */
void ident_transport(const struct world *w, int i, int d, int pfx, struct rng *r, struct conn *c);
const char *ident_token(struct world *w, int i, int d);
bool ident_suppressed(const struct ident *id, uint64_t ts);
/* One page view of the identity's role at ts: its requests into q (<= 8). */
size_t role_page(struct rng *r, enum role role, uint64_t ts, struct req *q);
bool role_uses(enum role role, enum route route);
char *jwt_make(const char *secret, const char *alg, const char *sub, enum role role,
	       uint64_t iat, uint64_t exp, uint64_t nbf, const char *jti, bool admin_claim);
const char *role_name(enum role r);
const char *kind_name(enum id_kind k);
const char *sched_name(enum sched s);

/* scenarios.c */
void scenarios_plan(struct world *w);         /* before population_traffic */
void scenarios_traffic(struct world *w);      /* after it */
void scenarios_write_truth(const struct world *w, FILE *f);

/* ---------------------------------------------------------------- pcapw.c */

struct sink;
struct sink_stats {
	uint64_t packets, bytes, dropped;
};
struct sink *sink_open(const char *path);
/* The mirror port loses per_mille/1000 of the packets in [from, to). */
void sink_add_drop(struct sink *s, uint64_t from, uint64_t to, uint32_t per_mille);
/* Queues one frame; frames leave in timestamp order. */
void sink_push(struct sink *s, uint64_t ts, const uint8_t *frame, size_t len);
/* Writes every queued frame older than ts (no frame older than ts comes later). */
void sink_flush_before(struct sink *s, uint64_t ts);
void sink_close(struct sink *s, struct sink_stats *st);

enum { C2S = 0, S2C = 1 };

struct seglog {
	uint64_t ts;
	uint32_t end;  /* sequence number after the segment */
};

struct tcpc {
	struct sink *sink;
	struct addr ip[2];       /* [C2S] client, [S2C] server: the source of each direction */
	uint16_t port[2];
	uint32_t isn[2], nxt[2]; /* initial and next sequence number per direction */
	uint32_t last_ack[2];    /* last ack number sent by each direction */
	bool fin[2];             /* direction has sent FIN */
	uint64_t busy[2];        /* direction's link busy until */
	uint64_t last_tx[2];
	uint32_t rtt_us;
	uint32_t ser_us[2];      /* serialisation time of one full segment */
	uint16_t mss;
	uint32_t cwnd;           /* server's congestion window (segments) */
	uint16_t ipid[2];
	uint8_t ttl[2];
	struct seglog *log[2];
	size_t nlog[2], caplog[2];
	uint64_t due[2][64];       /* times each direction owes an ACK, sorted */
	size_t ndue[2];
	uint32_t unacked_segs;   /* server segments since the client's last ACK */
};

void tcp_init(struct tcpc *c, struct sink *s, const struct addr *cli, uint16_t cport,
	      const struct addr *srv, uint16_t sport, uint32_t rtt_us, uint32_t bw_mbps,
	      uint16_t mss, uint8_t cli_ttl, uint32_t isn_c, uint32_t isn_s);
/* SYN at t; returns when the client can send (its ACK of the SYN-ACK). */
uint64_t tcp_open(struct tcpc *c, uint64_t t);
/* Sends bytes from dir at t (or when its link is free); returns the capture
 * time of the last segment. Calls must come in nondecreasing t. */
uint64_t tcp_send(struct tcpc *c, int dir, uint64_t t, const uint8_t *p, size_t n);
/* dir owes the other side an ACK at t (sent then if it acknowledges anything new). */
void tcp_ack_at(struct tcpc *c, int dir, uint64_t t);
/* dir closes at t (FIN handshake, or RST); frees the logs. */
void tcp_close(struct tcpc *c, int dir, uint64_t t, bool rst);

/* http1.c, http2.c: render one connection into the sink. */
void render_h1(struct world *w, struct sink *s, const struct conn *c, uint16_t cport);
void render_h2(struct world *w, struct sink *s, const struct conn *c, uint16_t cport);
/* The server address a client talks to (IPv6 clients reach its IPv6 address). */
void server_addr(const struct addr *client, struct addr *out);
/* The address the sensor sees as the client (the proxy for CF_PROXY). */
void wire_client(const struct conn *c, struct addr *out);

#endif

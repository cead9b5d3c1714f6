/*
 * config.h - tapir.yaml -> plain typed settings.
 *
 * The configuration file is YAML with one mapping per section (sensor,
 * capture, flows, reassembly, ip_fragments, http, output, api, identity,
 * policy, detection); config/tapir.yaml documents every key with its default. Every
 * key is optional. Unknown keys, wrong types, duplicate keys and values out of
 * range are errors, reported as one line that names the file, the line and
 * column (1-based) and the key path:
 *
 *   tapir.yaml:7:17: flows.idle_timeout: bad duration "5 minutes" (use e.g. 30s, 5m, 2h, 7d)
 *
 * This module knows nothing of the daemon: it fills the structs below and
 * sensor/main.c maps them onto each module's limits. Sizes are bytes, durations
 * are microseconds (the unit of packet time), times of day are minutes.
 */
#ifndef TAPIR_CONFIG_H
#define TAPIR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MUST_CHECK __attribute__((warn_unused_result))

/* Where IANA time zone names are looked up (policy.business_hours.timezone). */
#define CONFIG_ZONEINFO_DIR "/usr/share/zoneinfo"
/* Most api.sensitive entries accepted. */
#define CONFIG_SENSITIVE_MAX 4096

enum config_log {
	CONFIG_LOG_STDERR,          /* messages on standard error */
	CONFIG_LOG_SYSLOG,          /* messages to syslog, facility daemon */
};

struct config_sensor {
	char name[64];              /* 1-63 of [A-Za-z0-9._-]; the "sensor" field of alerts */
	char user[33];              /* live capture: drop to this user once open; "" = stay */
	enum config_log log;
	uint32_t workers;           /* 0..64 sensor worker threads (flows sharded by hash); 0 = no threads */
};

struct config_capture {
	char interface[64];         /* "" = none (then -i or -r must say) */
	char filter[4096];          /* BPF filter; "" = none */
	uint32_t snaplen;           /* bytes kept per packet */
	uint64_t buffer;            /* kernel capture buffer, bytes */
	bool promiscuous;
};

struct config_flows {
	uint32_t max;               /* flows tracked at once */
	uint64_t idle_timeout_us;   /* an open flow with no packet for this long ends */
	uint64_t closed_timeout_us; /* kept after FIN both ways or RST, for late segments */
};

struct config_reassembly {
	uint64_t memcap;            /* all out-of-order bytes held, all flows */
	uint64_t max_held_per_direction;
	uint32_t max_held_segments; /* out-of-order segments held per direction */
};

struct config_ip_fragments {
	uint64_t memcap;            /* bytes of fragments held */
	uint32_t max_datagrams;     /* datagrams being assembled at once */
	uint64_t timeout_us;        /* an incomplete datagram is dropped after this */
};

struct config_http {
	uint64_t max_head;          /* request or response line + headers */
	uint64_t max_line;          /* one chunk-size or trailer line */
	uint64_t max_resync;        /* bytes skipped looking for the next message after garbage */
	uint32_t max_pending;       /* requests awaiting a response per connection */
	uint64_t memcap;            /* all HTTP state: parsers' buffers, requests awaiting responses */
};

struct config_http2 {
	uint64_t max_header_list;   /* decoded header fields kept per block */
	uint32_t max_continuations; /* CONTINUATION frames in one header block */
	uint64_t max_table_size;    /* HPACK dynamic table an encoder may use */
	uint64_t max_memory;        /* per connection, HPACK tables included */
	uint32_t max_streams;       /* streams tracked per connection */
};

struct config_redis {
	char url[1024];             /* redis://, rediss:// or unix:; "" = no Redis (may hold a password) */
	char channel[256];          /* PUBLISH channel */
	char stream[256];           /* XADD stream */
	uint64_t stream_maxlen;     /* XADD MAXLEN ~ */
	char events_stream[256];    /* every API event XADDed here; "" = not sent */
	uint64_t events_maxlen;
	char audit_heads[256];      /* signed audit tree heads XADDed here; "" = not sent */
	uint64_t heartbeat_us;      /* tapir:sensor:<name> hash refreshed this often */
	uint64_t connect_timeout_us;
	uint64_t command_timeout_us;
	uint64_t reconnect_max_us;  /* backoff cap between reconnection attempts */
	uint64_t drain_timeout_us;  /* at exit: how long to keep delivering the spool */
};

struct config_spool {
	char dir[4096];             /* alerts wait here while Redis is away; "" = in memory only */
	uint64_t max_size;          /* bytes on disk at most */
};

struct config_output {
	char events[4096];          /* JSON lines of API events; "" = none, "-" = stdout */
	char alerts[4096];          /* JSON lines of alerts; "" = not set, "-" = stdout */
	struct config_redis redis;
	struct config_spool spool;
};

// One api.sensitive entry: "/admin/**" or "GET /v1/customers/**".
struct config_sensitive {
	char method[32];            /* "" = any method */
	char *glob;                 /* starts with '/', no spaces; matching is the consumer's */
};

struct config_api {
	struct config_sensitive *sensitive; /* n_sensitive entries, or NULL */
	size_t n_sensitive;
	char openapi[4096];         /* path as written (relative to the working directory); "" = none */
};

/* identity.*: list caps. */
#define CONFIG_ID_NAMES_MAX 16     /* api_key_headers, session_cookies (IDENTITY_NAMES_MAX) */
#define CONFIG_ID_NAME_MAX 63      /* bytes of one header or cookie name */
#define CONFIG_JWT_KEYS_MAX 64     /* jwt_keys entries */
#define CONFIG_PROXIES_MAX 1024    /* trusted_proxies entries */

/* Header or cookie names, RFC 9110 tokens, no two equal ignoring case; earlier = preferred. */
struct config_names {
	char name[CONFIG_ID_NAMES_MAX][CONFIG_ID_NAME_MAX + 1];
	uint8_t n;
};

enum config_key_format {
	CONFIG_KEY_PEM,             /* PUBLIC KEY or CERTIFICATE PEM: RSA, EC P-256, Ed25519 */
	CONFIG_KEY_JWKS,            /* RFC 7517 JWKS; kid and alg from each key */
	CONFIG_KEY_HMAC,            /* the shared secret of HS256/384/512 */
};

// One identity.jwt_keys entry: {file: PATH, format: pem|jwks|hmac, kid: K, alg: A}.
struct config_jwt_key {
	char file[4096];            /* path as written (relative to the working directory) */
	enum config_key_format format;
	char kid[128];              /* pem, hmac: "" = fits any token's kid */
	char alg[8];                /* pem, hmac: "" = every alg the key's type allows;
				       else HS256 HS384 HS512 (hmac) or RS256 ES256 EdDSA (pem) */
};

/* One identity.trusted_proxies entry, parsed. */
struct config_cidr {
	uint8_t addr[16];           /* network address, host bits zero; IPv4 as ::ffff:a.b.c.d */
	uint8_t prefix;             /* 0..128; an IPv4 /n is stored as 96 + n */
};

struct config_identity {
	struct config_names api_key_headers;  /* default X-API-Key, Api-Key */
	struct config_names session_cookies;  /* default session, sessionid, sid, JSESSIONID,
						 PHPSESSID, connect.sid */
	struct config_jwt_key *jwt_keys;      /* n_jwt_keys entries, or NULL */
	size_t n_jwt_keys;
	struct config_cidr *trusted_proxies;  /* n_trusted_proxies entries, or NULL */
	size_t n_trusted_proxies;
};

struct config_business_hours {
	uint8_t days;               /* bit d set: struct tm tm_wday d is a business day (0 = Sunday) */
	uint16_t start_min;         /* minutes after local midnight, start < end */
	uint16_t end_min;
	char timezone[64];          /* "UTC" or an IANA name present under CONFIG_ZONEINFO_DIR */
};

struct config_policy {
	struct config_business_hours business_hours;
	uint64_t key_max_age_us;    /* credentials older than this are flagged */
};

struct config_detection {
	uint64_t learning_period_us; /* per identity, traffic time before deviation alerts */
	uint64_t suppress_us;        /* repeats per (identity, detector, route) held back this long */
	uint32_t max_identities;     /* identities with full (hot) state; the rest keep a cold record */
};

struct tapir_config {
	struct config_sensor sensor;
	struct config_capture capture;
	struct config_flows flows;
	struct config_reassembly reassembly;
	struct config_ip_fragments ip_fragments;
	struct config_http http;
	struct config_http2 http2;
	struct config_output output;
	struct config_api api;
	struct config_identity identity;
	struct config_policy policy;
	struct config_detection detection;
};

/*
 * Fills *c with the defaults (those written in config/tapir.yaml). Allocates
 * nothing. Strings are NUL-terminated arrays, "" when unset.
 */
void config_defaults(struct tapir_config *c);

/*
 * Loads `path` over the settings already in *c (normally the defaults): only
 * the keys present in the file change. Returns 0, or -1 with *c unchanged and
 * a one-line message in err:
 *   "PATH:LINE:COL: KEY.PATH: what is wrong"   (a YAML syntax error names no key)
 *   "PATH: cannot read: <strerror>"            (missing, unreadable, a directory)
 * An empty file (or one holding only comments) is valid and changes nothing.
 * The only allocations are api.sensitive (the array and each glob),
 * identity.jwt_keys and identity.trusted_proxies (the arrays), malloc'd and
 * owned by *c: release with config_free().
 */
int config_load(struct tapir_config *c, const char *path, char *err,
		size_t errlen) CONFIG_MUST_CHECK;

/* Frees api.sensitive, identity.jwt_keys and identity.trusted_proxies and empties them.
 * Safe to call twice. */
void config_free(struct tapir_config *c);

/*
 * "64MiB" -> 67108864. An unsigned decimal integer with an optional unit:
 * B; K, KB, KiB; M, MB, MiB; G, GB, GiB. Every unit is binary (K = KB = KiB =
 * 1024). A bare integer is bytes. No spaces, signs or fractions. Returns 0, or
 * -1 when malformed or larger than UINT64_MAX.
 */
int config_parse_size(const char *s, uint64_t *out) CONFIG_MUST_CHECK;

/*
 * "5m" -> 300000000 (microseconds). An unsigned decimal integer followed by
 * exactly one unit: ms, s, m (minutes), h, d. A unit is required: a bare
 * number is rejected. Returns 0, or -1 when malformed or too large.
 */
int config_parse_duration(const char *s, uint64_t *out_us) CONFIG_MUST_CHECK;

/* True when addr (16 bytes, IPv4 as ::ffff:a.b.c.d) is inside the network. */
bool config_cidr_match(const struct config_cidr *net, const uint8_t addr[16]);

#endif

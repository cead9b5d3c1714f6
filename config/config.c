/*
 * config.c - the configuration file: YAML -> struct tapir_config.
 *
 * The file is read whole (at most FILE_MAX bytes, readfile.c) and composed
 * into a node tree with libyaml's document API (YAML 1.1 syntax, yamldoc.c).
 * The tree is then walked against the key tables below: each table lists the
 * keys a mapping may hold, each key its type, its place in the struct and its
 * range. Walking stops at the first problem and reports it as
 * "FILE:LINE:COL: KEY.PATH: what is wrong", the position being the 1-based
 * start of the offending node.
 *
 * Typing is strict, because a configuration mistake on a sensor is silent
 * until the incident it missed:
 *   - integers and booleans are plain scalars: `snaplen: "1500"` is a string;
 *     integers are unsigned decimal digits; booleans are true or false only
 *     (not yes/no/on/off);
 *   - sizes are "64MiB", "512K", "4096": units B, K/KB/KiB, M/MB/MiB, G/GB/GiB,
 *     all 1024-based;
 *   - durations need a unit: ms, s, m, h, d;
 *   - an empty value is only accepted for a mapping (a section whose keys are
 *     all commented out), where it means "keep the defaults";
 *   - header and cookie names are RFC 9110 tokens, never listed twice (even
 *     in another case); CIDRs are ADDRESS[/PREFIX], IPv4 or IPv6, with no
 *     host bit set past the prefix;
 *   - anchors and aliases are resolved by libyaml and accepted (an error in an
 *     aliased value points at the anchored node); merge keys (<<) and tags
 *     (!!int, !vault) are not supported;
 *   - one document per file.
 * The load works on a copy: *c changes only when the whole file is valid.
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "readfile.h"
#include "yamldoc.h"

#define KiB 1024ull
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)
#define MSEC 1000ull
#define SEC (1000ull * MSEC)
#define MIN (60ull * SEC)
#define HOUR (60ull * MIN)
#define DAY (24ull * HOUR)

/* A configuration file is a page of text; the cap stops a wrong path (a
 * capture, a log) from being read into memory whole. */
#define FILE_MAX (1u << 20)
/* Longest api.sensitive glob. */
#define GLOB_MAX 1023
/* Most keys one mapping may hold (the top level has 10). */
#define KEYS_MAX 12
/* Buffer for one user value quoted into a message (40 bytes, escaped). */
#define QUOTE_SIZE 200

enum kind {
	K_MAP,       /* a nested mapping of `sub` keys, then `after` */
	K_U32,       /* decimal integer in [min, max] into uint32_t */
	K_U64,       /* decimal integer in [min, max] into uint64_t */
	K_SIZE,      /* config_parse_size in [min, max] into uint64_t */
	K_DUR,       /* config_parse_duration in [min, max] into uint64_t */
	K_BOOL,      /* true or false into bool */
	K_STR,       /* 1..max bytes into char[max + 1] */
	K_HHMM,      /* "HH:MM" into uint16_t minutes */
	K_DAYS,      /* sequence of mon..sun into a uint8_t tm_wday mask */
	K_SENSITIVE, /* sequence of "[METHOD ]/glob" into struct config_api */
	K_NAMES,     /* sequence of header (or, F_COOKIE, cookie) names into struct config_names */
	K_JWT_KEYS,  /* sequence of {file, format, kid, alg} into struct config_identity */
	K_CIDRS,     /* sequence of ADDRESS[/PREFIX] into struct config_identity */
	K_LOG,       /* stderr or syslog into enum config_log */
};

#define F_MULTILINE 1u /* tabs and line breaks allowed (BPF filters) */
#define F_COOKIE 2u    /* K_NAMES: cookie names, not header names */

struct ctx;
typedef int (*check_fn)(struct ctx *c, const yaml_node_t *n, const char *s);
typedef int (*after_fn)(struct ctx *c, const yaml_node_t *map,
			const yaml_node_t *const vals[KEYS_MAX]);

struct key {
	const char *name;
	enum kind kind;
	size_t off;            /* offsetof(struct tapir_config, field) */
	uint64_t min, max;     /* value range; for strings, max length */
	const struct key *sub; /* K_MAP: its keys, ending with {0} */
	after_fn after;        /* K_MAP: checks across its keys */
	check_fn check;        /* K_STR: further validation */
	unsigned flags;
};

struct ctx {
	struct yamldoc d;                /* the file, its document, the key path, the message */
	struct tapir_config *cfg;        /* the copy being filled */
	const struct tapir_config *orig; /* what the caller had; owns its pointers */
};

/* ---- nodes ---- */

static const char *default_tag(yaml_node_type_t t)
{
	return t == YAML_MAPPING_NODE    ? YAML_DEFAULT_MAPPING_TAG
	       : t == YAML_SEQUENCE_NODE ? YAML_DEFAULT_SEQUENCE_TAG
					 : YAML_DEFAULT_SCALAR_TAG;
}

/*
 * Checks that n is a node of `type` (`what` names it for the message).
 * Returns 0 when it is, 1 when n is empty/null (the caller decides), -1 when
 * it failed (message set).
 */
static int expect(struct ctx *c, const yaml_node_t *n, yaml_node_type_t type, const char *what)
{
	char q[QUOTE_SIZE];

	if (n->tag && strcmp((const char *)n->tag, default_tag(n->type)) != 0)
		return yamldoc_fail(&c->d, n, "YAML tags are not supported (found %s)",
				    yamldoc_quote(&c->d, q, sizeof q, (const char *)n->tag,
						  strlen((const char *)n->tag)));
	if (yamldoc_is_null(n))
		return 1;
	if (n->type != type)
		return yamldoc_fail(&c->d, n, "expected %s, got %s", what,
				    yamldoc_describe(&c->d, n, q, sizeof q));
	if (type == YAML_SCALAR_NODE && strlen(yamldoc_text(n)) != n->data.scalar.length)
		return yamldoc_fail(&c->d, n, "contains a NUL character");
	return 0;
}

/* Like expect() for a scalar, but an empty value is an error too. */
static int expect_scalar(struct ctx *c, const yaml_node_t *n, const char *what)
{
	int rc = expect(c, n, YAML_SCALAR_NODE, what);

	if (rc == 1)
		return yamldoc_fail(&c->d, n, "missing value (expected %s)", what);
	return rc;
}

/* Checks n is a sequence of at most k->max items; 0, or -1 with the message set. */
static int expect_list(struct ctx *c, const struct key *k, const yaml_node_t *n, const char *what,
		       size_t *count)
{
	int rc = expect(c, n, YAML_SEQUENCE_NODE, what);

	if (rc == 1)
		return yamldoc_fail(&c->d, n, "missing value (expected %s)", what);
	if (rc < 0)
		return -1;
	*count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (*count > k->max)
		return yamldoc_fail(&c->d, n, "too many entries (%zu, at most %llu)", *count,
				    (unsigned long long)k->max);
	return 0;
}

/* "sensor, capture, ...": the names of keys, for a message. */
static const char *key_list(char *buf, size_t cap, const struct key *keys)
{
	size_t n = 0;

	buf[0] = '\0';
	for (; keys->name && n < cap; keys++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", keys->name);
	return buf;
}

/* A key name goes into the path as written when it is plain, else quoted. */
static const char *key_label(const struct ctx *c, char *buf, size_t cap, const char *s,
			     size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return yamldoc_quote(&c->d, buf, cap, s, len);
	if (len == 0 || len > 40)
		return yamldoc_quote(&c->d, buf, cap, s, len);
	return s;
}

/*
 * Reads the key kn of a mapping pair against `keys`. Returns its index, with
 * the key path extended by its name and seen[index] set to kn; -1 with the
 * message set when kn is not a key name, not one of keys, or a repeat.
 */
static int find_key(struct ctx *c, const yaml_node_t *kn, const struct key *keys,
		    const yaml_node_t **seen)
{
	char label[QUOTE_SIZE], buf[QUOTE_SIZE * 2];
	const char *name;
	size_t i, len;
	int rc;

	rc = expect(c, kn, YAML_SCALAR_NODE, "a key name");
	if (rc < 0)
		return -1;
	if (rc == 1)
		return yamldoc_fail(&c->d, kn, "expected a key name, got nothing");
	name = yamldoc_text(kn);
	len = kn->data.scalar.length;
	for (i = 0; keys[i].name; i++)
		if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
			break;
	if (!keys[i].name) {
		yamldoc_path_key(&c->d, key_label(c, label, sizeof label, name, len));
		return yamldoc_fail(&c->d, kn, "unknown key (expected one of: %s)",
				    key_list(buf, sizeof buf, keys));
	}
	yamldoc_path_key(&c->d, keys[i].name);
	if (seen[i])
		return yamldoc_fail(&c->d, kn, "duplicate key (first at line %zu)",
				    seen[i]->start_mark.line + 1);
	seen[i] = kn;
	return (int)i;
}

static void *field(struct ctx *c, const struct key *k)
{
	return (char *)c->cfg + k->off;
}

/* ---- number formats ---- */

/* Reads decimal digits at *sp (at least one) into *out. */
static int scan_u64(const char **sp, uint64_t *out)
{
	const char *p = *sp;
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*sp = p;
	*out = v;
	return 0;
}

struct unit {
	const char *name;
	uint64_t mult;
};

static int scan_with_unit(const char *s, const struct unit *units, size_t n, uint64_t *out)
{
	const char *p = s;
	uint64_t v;
	size_t i;

	if (!s || scan_u64(&p, &v) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(p, units[i].name) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult)
			return -1;
		*out = v * units[i].mult;
		return 0;
	}
	return -1;
}

int config_parse_size(const char *s, uint64_t *out)
{
	static const struct unit units[] = {
		{"", 1},      {"B", 1},      {"K", KiB},   {"KB", KiB}, {"KiB", KiB},
		{"M", MiB},   {"MB", MiB},   {"MiB", MiB}, {"G", GiB},  {"GB", GiB},
		{"GiB", GiB},
	};
	return scan_with_unit(s, units, sizeof units / sizeof units[0], out);
}

int config_parse_duration(const char *s, uint64_t *out_us)
{
	static const struct unit units[] = {
		{"ms", MSEC}, {"s", SEC}, {"m", MIN}, {"h", HOUR}, {"d", DAY},
	};
	return scan_with_unit(s, units, sizeof units / sizeof units[0], out_us);
}

static int parse_uint(const char *s, uint64_t *out)
{
	const char *p = s;

	if (scan_u64(&p, out) != 0 || *p != '\0')
		return -1;
	return 0;
}

/* The largest exact unit: 65536 -> "64KiB", 300 -> "300". */
static const char *fmt_size(char *buf, size_t cap, uint64_t v)
{
	if (v && v % GiB == 0)
		snprintf(buf, cap, "%lluGiB", (unsigned long long)(v / GiB));
	else if (v && v % MiB == 0)
		snprintf(buf, cap, "%lluMiB", (unsigned long long)(v / MiB));
	else if (v && v % KiB == 0)
		snprintf(buf, cap, "%lluKiB", (unsigned long long)(v / KiB));
	else
		snprintf(buf, cap, "%llu", (unsigned long long)v);
	return buf;
}

static const char *fmt_duration(char *buf, size_t cap, uint64_t us)
{
	static const struct unit units[] = {
		{"d", DAY}, {"h", HOUR}, {"m", MIN}, {"s", SEC}, {"ms", MSEC},
	};
	size_t i;

	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (us % units[i].mult == 0) {
			snprintf(buf, cap, "%llu%s", (unsigned long long)(us / units[i].mult),
				 units[i].name);
			return buf;
		}
	}
	snprintf(buf, cap, "%lluus", (unsigned long long)us);
	return buf;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* ---- value checks (check_fn) ---- */

static int check_name(struct ctx *c, const yaml_node_t *n, const char *s)
{
	char q[QUOTE_SIZE];
	const char *p;

	for (p = s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')
			continue;
		return yamldoc_fail(&c->d, n, "bad name %s (1-63 of A-Z a-z 0-9 . _ -)",
				    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
	}
	return 0;
}

/* A user name as useradd(8) accepts it; whether it exists is checked at start-up. */
static int check_user(struct ctx *c, const yaml_node_t *n, const char *s)
{
	char q[QUOTE_SIZE];
	const char *p;

	for (p = s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || (*p == '-' && p != s))
			continue;
		return yamldoc_fail(&c->d, n, "bad user name %s (1-32 of A-Z a-z 0-9 . _ -, "
				    "not starting with -)",
				    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
	}
	return 0;
}

/* The URL may hold a password: it is never echoed. */
static int check_redis_url(struct ctx *c, const yaml_node_t *n, const char *s)
{
	static const char *const schemes[] = {"redis://", "rediss://", "unix:"};
	size_t i;

	for (i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		size_t len = strlen(schemes[i]);
		if (strncmp(s, schemes[i], len) == 0 && s[len] && !strpbrk(s, " \t\r\n"))
			return 0;
	}
	return yamldoc_fail(&c->d, n,
			    "bad Redis URL (use redis://[:password@]host[:port][/db], "
			    "rediss://... or unix:/path/to/socket)");
}

/* NAME is [A-Za-z0-9_+-]+ components joined by '/': no "..", no absolute path. */
static bool zone_name_ok(const char *s)
{
	bool start = true;

	for (; *s; s++) {
		if (*s == '/') {
			if (start)
				return false;
			start = true;
			continue;
		}
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '+' || *s == '-'))
			return false;
		start = false;
	}
	return !start;
}

/* True when CONFIG_ZONEINFO_DIR/NAME is a compiled zone (starts with "TZif"). */
static bool zone_file_ok(const char *name)
{
	char path[sizeof CONFIG_ZONEINFO_DIR + 64];
	char magic[4];
	ssize_t got;
	int fd;

	if ((size_t)snprintf(path, sizeof path, "%s/%s", CONFIG_ZONEINFO_DIR, name) >= sizeof path)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return false;
	got = read(fd, magic, sizeof magic);
	close(fd);
	return got == (ssize_t)sizeof magic && memcmp(magic, "TZif", 4) == 0;
}

static int check_timezone(struct ctx *c, const yaml_node_t *n, const char *s)
{
	char q[QUOTE_SIZE];

	if (strcmp(s, "UTC") == 0 || (zone_name_ok(s) && zone_file_ok(s)))
		return 0;
	return yamldoc_fail(&c->d, n,
			    "unknown time zone %s (use UTC or a name under %s, e.g. Europe/Paris)",
			    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)), CONFIG_ZONEINFO_DIR);
}

/* ---- the key tables ---- */

#define OFF(m) offsetof(struct tapir_config, m)
#define CAP(m) (sizeof(((struct tapir_config *)0)->m) - 1)

static const struct key sensor_keys[] = {
	{.name = "name", .kind = K_STR, .off = OFF(sensor.name), .max = CAP(sensor.name),
	 .check = check_name},
	{.name = "user", .kind = K_STR, .off = OFF(sensor.user), .max = CAP(sensor.user),
	 .check = check_user},
	{.name = "log", .kind = K_LOG, .off = OFF(sensor.log)},
	{.name = "workers", .kind = K_U32, .off = OFF(sensor.workers), .min = 0, .max = 64},
	{0},
};

static const struct key capture_keys[] = {
	{.name = "interface", .kind = K_STR, .off = OFF(capture.interface),
	 .max = CAP(capture.interface)},
	{.name = "filter", .kind = K_STR, .off = OFF(capture.filter), .max = CAP(capture.filter),
	 .flags = F_MULTILINE},
	{.name = "snaplen", .kind = K_U32, .off = OFF(capture.snaplen), .min = 64, .max = 262144},
	{.name = "buffer", .kind = K_SIZE, .off = OFF(capture.buffer), .min = MiB, .max = 4 * GiB},
	{.name = "promiscuous", .kind = K_BOOL, .off = OFF(capture.promiscuous)},
	{0},
};

static const struct key flows_keys[] = {
	{.name = "max", .kind = K_U32, .off = OFF(flows.max), .min = 1, .max = 16777216},
	{.name = "idle_timeout", .kind = K_DUR, .off = OFF(flows.idle_timeout_us), .min = SEC,
	 .max = 7 * DAY},
	{.name = "closed_timeout", .kind = K_DUR, .off = OFF(flows.closed_timeout_us), .min = 0,
	 .max = HOUR},
	{0},
};

static const struct key reassembly_keys[] = {
	{.name = "memcap", .kind = K_SIZE, .off = OFF(reassembly.memcap), .min = 64 * KiB,
	 .max = 64 * GiB},
	{.name = "max_held_per_direction", .kind = K_SIZE,
	 .off = OFF(reassembly.max_held_per_direction), .min = KiB, .max = GiB},
	{.name = "max_held_segments", .kind = K_U32, .off = OFF(reassembly.max_held_segments),
	 .min = 1, .max = 1000000},
	{0},
};

static const struct key ip_fragments_keys[] = {
	{.name = "memcap", .kind = K_SIZE, .off = OFF(ip_fragments.memcap), .min = 64 * KiB,
	 .max = 4 * GiB},
	{.name = "max_datagrams", .kind = K_U32, .off = OFF(ip_fragments.max_datagrams), .min = 1,
	 .max = 1000000},
	{.name = "timeout", .kind = K_DUR, .off = OFF(ip_fragments.timeout_us), .min = SEC,
	 .max = 10 * MIN},
	{0},
};

static const struct key http_keys[] = {
	{.name = "max_head", .kind = K_SIZE, .off = OFF(http.max_head), .min = KiB,
	 .max = 16 * MiB},
	{.name = "max_line", .kind = K_SIZE, .off = OFF(http.max_line), .min = 256, .max = MiB},
	{.name = "max_resync", .kind = K_SIZE, .off = OFF(http.max_resync), .min = 0, .max = GiB},
	{.name = "max_pending", .kind = K_U32, .off = OFF(http.max_pending), .min = 1,
	 .max = 65536},
	{.name = "memcap", .kind = K_SIZE, .off = OFF(http.memcap), .min = MiB, .max = 64 * GiB},
	{0},
};

static const struct key http2_keys[] = {
	{.name = "max_header_list", .kind = K_SIZE, .off = OFF(http2.max_header_list),
	 .min = KiB, .max = 16 * MiB},
	{.name = "max_continuations", .kind = K_U32, .off = OFF(http2.max_continuations), .min = 1,
	 .max = 10000},
	{.name = "max_table_size", .kind = K_SIZE, .off = OFF(http2.max_table_size), .min = 0,
	 .max = 16 * MiB},
	{.name = "max_memory", .kind = K_SIZE, .off = OFF(http2.max_memory), .min = 64 * KiB,
	 .max = GiB},
	{.name = "max_streams", .kind = K_U32, .off = OFF(http2.max_streams), .min = 1,
	 .max = 65536},
	{0},
};

static const struct key redis_keys[] = {
	{.name = "url", .kind = K_STR, .off = OFF(output.redis.url), .max = CAP(output.redis.url),
	 .check = check_redis_url},
	{.name = "channel", .kind = K_STR, .off = OFF(output.redis.channel),
	 .max = CAP(output.redis.channel)},
	{.name = "stream", .kind = K_STR, .off = OFF(output.redis.stream),
	 .max = CAP(output.redis.stream)},
	{.name = "stream_maxlen", .kind = K_U64, .off = OFF(output.redis.stream_maxlen), .min = 1,
	 .max = 1000000000},
	{.name = "events_stream", .kind = K_STR, .off = OFF(output.redis.events_stream),
	 .max = CAP(output.redis.events_stream)},
	{.name = "events_maxlen", .kind = K_U64, .off = OFF(output.redis.events_maxlen), .min = 1,
	 .max = 1000000000},
	{.name = "audit_heads", .kind = K_STR, .off = OFF(output.redis.audit_heads),
	 .max = CAP(output.redis.audit_heads)},
	{.name = "heartbeat", .kind = K_DUR, .off = OFF(output.redis.heartbeat_us), .min = SEC,
	 .max = HOUR},
	{.name = "connect_timeout", .kind = K_DUR, .off = OFF(output.redis.connect_timeout_us),
	 .min = 10 * MSEC, .max = MIN},
	{.name = "command_timeout", .kind = K_DUR, .off = OFF(output.redis.command_timeout_us),
	 .min = 10 * MSEC, .max = MIN},
	{.name = "reconnect_max", .kind = K_DUR, .off = OFF(output.redis.reconnect_max_us),
	 .min = 100 * MSEC, .max = HOUR},
	{.name = "drain_timeout", .kind = K_DUR, .off = OFF(output.redis.drain_timeout_us),
	 .min = 0, .max = HOUR},
	{0},
};

static const struct key spool_keys[] = {
	{.name = "dir", .kind = K_STR, .off = OFF(output.spool.dir), .max = CAP(output.spool.dir)},
	{.name = "max_size", .kind = K_SIZE, .off = OFF(output.spool.max_size), .min = MiB,
	 .max = 1024 * GiB},
	{0},
};

static const struct key output_keys[] = {
	{.name = "events", .kind = K_STR, .off = OFF(output.events), .max = CAP(output.events)},
	{.name = "alerts", .kind = K_STR, .off = OFF(output.alerts), .max = CAP(output.alerts)},
	{.name = "redis", .kind = K_MAP, .sub = redis_keys},
	{.name = "spool", .kind = K_MAP, .sub = spool_keys},
	{0},
};

static const struct key api_keys[] = {
	{.name = "sensitive", .kind = K_SENSITIVE, .max = CONFIG_SENSITIVE_MAX},
	{.name = "openapi", .kind = K_STR, .off = OFF(api.openapi), .max = CAP(api.openapi)},
	{0},
};

static const struct key identity_keys[] = {
	{.name = "api_key_headers", .kind = K_NAMES, .off = OFF(identity.api_key_headers),
	 .max = CONFIG_ID_NAMES_MAX},
	{.name = "session_cookies", .kind = K_NAMES, .off = OFF(identity.session_cookies),
	 .max = CONFIG_ID_NAMES_MAX, .flags = F_COOKIE},
	{.name = "jwt_keys", .kind = K_JWT_KEYS, .max = CONFIG_JWT_KEYS_MAX},
	{.name = "trusted_proxies", .kind = K_CIDRS, .max = CONFIG_PROXIES_MAX},
	{0},
};

/* Indexes into business_hours_keys, for the cross-key check. */
enum { BH_DAYS, BH_START, BH_END, BH_TIMEZONE };

static int business_hours_after(struct ctx *c, const yaml_node_t *map,
				const yaml_node_t *const vals[KEYS_MAX])
{
	const struct config_business_hours *bh = &c->cfg->policy.business_hours;
	const yaml_node_t *at = vals[BH_END] ? vals[BH_END] : vals[BH_START] ? vals[BH_START] : map;

	if (bh->end_min > bh->start_min)
		return 0;
	yamldoc_path_key(&c->d, vals[BH_END] || !vals[BH_START] ? "end" : "start");
	return yamldoc_fail(&c->d, at,
			    "end %02u:%02u is not after start %02u:%02u (hours cannot wrap past midnight)",
			    bh->end_min / 60u, bh->end_min % 60u, bh->start_min / 60u,
			    bh->start_min % 60u);
}

static const struct key business_hours_keys[] = {
	[BH_DAYS] = {.name = "days", .kind = K_DAYS, .off = OFF(policy.business_hours.days)},
	[BH_START] = {.name = "start", .kind = K_HHMM, .off = OFF(policy.business_hours.start_min)},
	[BH_END] = {.name = "end", .kind = K_HHMM, .off = OFF(policy.business_hours.end_min)},
	[BH_TIMEZONE] = {.name = "timezone", .kind = K_STR, .off = OFF(policy.business_hours.timezone),
			 .max = CAP(policy.business_hours.timezone), .check = check_timezone},
	{0},
};

static const struct key policy_keys[] = {
	{.name = "business_hours", .kind = K_MAP, .sub = business_hours_keys,
	 .after = business_hours_after},
	{.name = "key_max_age", .kind = K_DUR, .off = OFF(policy.key_max_age_us), .min = HOUR,
	 .max = 3650 * DAY},
	{0},
};

static const struct key detection_keys[] = {
	{.name = "learning_period", .kind = K_DUR, .off = OFF(detection.learning_period_us),
	 .min = 0, .max = 365 * DAY},
	{.name = "suppress", .kind = K_DUR, .off = OFF(detection.suppress_us), .min = 0,
	 .max = 30 * DAY},
	{.name = "max_identities", .kind = K_U32, .off = OFF(detection.max_identities), .min = 16,
	 .max = 16777216},
	{0},
};

static const struct key top_keys[] = {
	{.name = "sensor", .kind = K_MAP, .sub = sensor_keys},
	{.name = "capture", .kind = K_MAP, .sub = capture_keys},
	{.name = "flows", .kind = K_MAP, .sub = flows_keys},
	{.name = "reassembly", .kind = K_MAP, .sub = reassembly_keys},
	{.name = "ip_fragments", .kind = K_MAP, .sub = ip_fragments_keys},
	{.name = "http", .kind = K_MAP, .sub = http_keys},
	{.name = "http2", .kind = K_MAP, .sub = http2_keys},
	{.name = "output", .kind = K_MAP, .sub = output_keys},
	{.name = "api", .kind = K_MAP, .sub = api_keys},
	{.name = "identity", .kind = K_MAP, .sub = identity_keys},
	{.name = "policy", .kind = K_MAP, .sub = policy_keys},
	{.name = "detection", .kind = K_MAP, .sub = detection_keys},
	{0},
};

#define FITS(t) _Static_assert(sizeof t / sizeof t[0] - 1 <= KEYS_MAX, #t " has too many keys")
FITS(sensor_keys);
FITS(capture_keys);
FITS(flows_keys);
FITS(reassembly_keys);
FITS(ip_fragments_keys);
FITS(http_keys);
FITS(http2_keys);
FITS(redis_keys);
FITS(spool_keys);
FITS(output_keys);
FITS(api_keys);
FITS(identity_keys);
FITS(business_hours_keys);
FITS(policy_keys);
FITS(detection_keys);
FITS(top_keys);

/* ---- setters ---- */

static int set_string(struct ctx *c, const struct key *k, const yaml_node_t *n, const char *s)
{
	size_t len = n->data.scalar.length, i;

	if (len == 0)
		return yamldoc_fail(&c->d, n, "must not be empty");
	if (len > k->max)
		return yamldoc_fail(&c->d, n, "too long (%zu bytes, at most %llu)", len,
				    (unsigned long long)k->max);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((k->flags & F_MULTILINE) && (ch == '\t' || ch == '\n' || ch == '\r'))
			continue;
		if (ch < 0x20 || ch == 0x7f)
			return yamldoc_fail(&c->d, n, "contains a control character (byte %zu)",
					    i + 1);
	}
	if (k->check && k->check(c, n, s) != 0)
		return -1;
	memcpy(field(c, k), s, len + 1);
	return 0;
}

static int set_hhmm(struct ctx *c, const struct key *k, const yaml_node_t *n, const char *s)
{
	char q[QUOTE_SIZE];
	unsigned h, m;

	if (strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' ||
	    s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
		goto bad;
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
	if (h > 23 || m > 59)
		goto bad;
	*(uint16_t *)field(c, k) = (uint16_t)(h * 60 + m);
	return 0;
bad:
	return yamldoc_fail(&c->d, n, "bad time %s (use HH:MM on a 24-hour clock, e.g. \"08:00\")",
			    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
}

static int set_days(struct ctx *c, const struct key *k, const yaml_node_t *n)
{
	/* Index = struct tm tm_wday. */
	static const char *const names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
	size_t base = c->d.pathlen, i;
	const yaml_node_item_t *it;
	char q[QUOTE_SIZE];
	uint8_t mask = 0;
	int rc;

	rc = expect(c, n, YAML_SEQUENCE_NODE, "a sequence of days");
	if (rc == 1)
		return yamldoc_fail(&c->d, n, "missing value (expected a sequence of days)");
	if (rc < 0)
		return -1;
	if (n->data.sequence.items.top == n->data.sequence.items.start)
		return yamldoc_fail(&c->d, n,
				    "no day listed (use some of mon, tue, wed, thu, fri, sat, sun)");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		const yaml_node_t *d = yamldoc_node(&c->d, *it);
		const char *s;

		yamldoc_path_index(&c->d, (size_t)(it - n->data.sequence.items.start));
		if (expect_scalar(c, d, "a day") != 0)
			return -1;
		s = yamldoc_text(d);
		for (i = 0; i < 7; i++)
			if (strcmp(s, names[i]) == 0)
				break;
		if (i == 7)
			return yamldoc_fail(&c->d, d,
					    "bad day %s (use mon, tue, wed, thu, fri, sat, sun)",
					    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
		if (mask & (1u << i))
			return yamldoc_fail(&c->d, d, "\"%s\" is listed twice", s);
		mask |= (uint8_t)(1u << i);
		yamldoc_path_pop(&c->d, base);
	}
	*(uint8_t *)field(c, k) = mask;
	return 0;
}

// "GET /v1/customers/**" or "/admin/**" into *out (glob malloc'd).
static int parse_sensitive(struct ctx *c, const yaml_node_t *n, const char *s,
			   struct config_sensitive *out)
{
	const char *glob = s, *sp = strchr(s, ' '), *p;
	char q[QUOTE_SIZE];

	out->method[0] = '\0';
	if (s[0] != '/' && sp) {
		size_t mlen = (size_t)(sp - s), i;
		bool ok = mlen >= 1 && mlen < sizeof out->method && s[0] >= 'A' && s[0] <= 'Z';
		for (i = 1; ok && i < mlen; i++)
			ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
			     s[i] == '-' || s[i] == '_';
		if (!ok)
			return yamldoc_fail(&c->d, n,
					    "bad method %s (use an uppercase method such as GET, "
					    "or none for any method)",
					    yamldoc_quote(&c->d, q, sizeof q, s, mlen));
		memcpy(out->method, s, mlen);
		out->method[mlen] = '\0';
		glob = sp + 1;
	}
	if (glob[0] != '/')
		return yamldoc_fail(&c->d, n, "bad path glob %s (must start with /)",
				    yamldoc_quote(&c->d, q, sizeof q, glob, strlen(glob)));
	for (p = glob; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return yamldoc_fail(&c->d, n,
					    "bad path glob %s (no spaces or control characters)",
					    yamldoc_quote(&c->d, q, sizeof q, glob, strlen(glob)));
	if (strlen(glob) > GLOB_MAX)
		return yamldoc_fail(&c->d, n, "path glob too long (at most %d bytes)", GLOB_MAX);
	out->glob = strdup(glob);
	if (!out->glob)
		return yamldoc_fail(&c->d, n, "out of memory");
	return 0;
}

static void free_sensitive(struct config_sensitive *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i].glob);
	free(list);
}

static int set_sensitive(struct ctx *c, const struct key *k, const yaml_node_t *n)
{
	struct config_api *api = &c->cfg->api;
	size_t base = c->d.pathlen, count;
	const yaml_node_item_t *it;

	if (expect_list(c, k, n, "a sequence of path globs", &count) != 0)
		return -1;
	/* The new list goes into the copy at once, so any failure frees it. */
	if (api->sensitive != c->orig->api.sensitive)
		free_sensitive(api->sensitive, api->n_sensitive);
	api->sensitive = NULL;
	api->n_sensitive = 0;
	if (count == 0)
		return 0;
	api->sensitive = calloc(count, sizeof api->sensitive[0]);
	if (!api->sensitive)
		return yamldoc_fail(&c->d, n, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		const yaml_node_t *e = yamldoc_node(&c->d, *it);

		yamldoc_path_index(&c->d, (size_t)(it - n->data.sequence.items.start));
		if (expect_scalar(c, e, "a path glob") != 0)
			return -1;
		if (parse_sensitive(c, e, yamldoc_text(e), &api->sensitive[api->n_sensitive]) != 0)
			return -1;
		api->n_sensitive++;
		yamldoc_path_pop(&c->d, base);
	}
	return 0;
}

/* ---- identity ---- */

/* tchar of RFC 9110 5.6.2: what a header (and a cookie, RFC 6265 4.1.1) name is made of. */
static bool is_tchar(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int set_names(struct ctx *c, const struct key *k, const yaml_node_t *n)
{
	const bool cookie = k->flags & F_COOKIE;
	const char *noun = cookie ? "cookie name" : "header name";
	struct config_names names;
	size_t base = c->d.pathlen, count, i, j, len;
	const yaml_node_item_t *it;
	char q[QUOTE_SIZE];

	if (expect_list(c, k, n, cookie ? "a sequence of cookie names" : "a sequence of header names",
			&count) != 0)
		return -1;
	memset(&names, 0, sizeof names);
	for (it = n->data.sequence.items.start, i = 0; it < n->data.sequence.items.top; it++, i++) {
		const yaml_node_t *e = yamldoc_node(&c->d, *it);
		const char *s;

		yamldoc_path_index(&c->d, i);
		if (expect_scalar(c, e, cookie ? "a cookie name" : "a header name") != 0)
			return -1;
		s = yamldoc_text(e);
		len = e->data.scalar.length;
		if (len == 0)
			return yamldoc_fail(&c->d, e, "must not be empty");
		if (len > CONFIG_ID_NAME_MAX)
			return yamldoc_fail(&c->d, e, "%s too long (%zu bytes, at most %d)", noun,
					    len, CONFIG_ID_NAME_MAX);
		for (j = 0; j < len; j++)
			if (!is_tchar((unsigned char)s[j]))
				return yamldoc_fail(&c->d, e,
						    "bad %s %s (letters, digits and !#$%%&'*+-.^_`|~ only)",
						    noun,
						    yamldoc_quote(&c->d, q, sizeof q, s, len));
		if (!cookie && (strcasecmp(s, "Authorization") == 0 || strcasecmp(s, "Cookie") == 0))
			return yamldoc_fail(&c->d, e,
					    "%s is read as a credential already (list API-key headers only)",
					    yamldoc_quote(&c->d, q, sizeof q, s, len));
		for (j = 0; j < i; j++)
			if (strcasecmp(names.name[j], s) == 0)
				return yamldoc_fail(&c->d, e,
						    "%s is listed twice (names match ignoring case)",
						    yamldoc_quote(&c->d, q, sizeof q, s, len));
		memcpy(names.name[i], s, len + 1);
		yamldoc_path_pop(&c->d, base);
	}
	names.n = (uint8_t)count;
	*(struct config_names *)field(c, k) = names;
	return 0;
}

static const char *const key_formats[] = {[CONFIG_KEY_PEM] = "pem", [CONFIG_KEY_JWKS] = "jwks",
					   [CONFIG_KEY_HMAC] = "hmac"};
static const char *const jwt_algs[] = {"HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"};

/* The keys of a jwt_keys entry (read by parse_jwt_key, not walk_map). */
enum { JK_FILE, JK_FORMAT, JK_KID, JK_ALG, JK_COUNT };
static const struct key jwt_key_keys[JK_COUNT + 1] = {
	[JK_FILE] = {.name = "file"}, [JK_FORMAT] = {.name = "format"},
	[JK_KID] = {.name = "kid"},   [JK_ALG] = {.name = "alg"},
};

/* A scalar value of a jwt_keys entry: 1..max bytes, no control character. */
static int jwt_key_text(struct ctx *c, const yaml_node_t *v, size_t max)
{
	const char *s = yamldoc_text(v);
	size_t len = v->data.scalar.length, i;

	if (len == 0)
		return yamldoc_fail(&c->d, v, "must not be empty");
	if (len > max)
		return yamldoc_fail(&c->d, v, "too long (%zu bytes, at most %zu)", len, max);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return yamldoc_fail(&c->d, v, "contains a control character (byte %zu)",
					    i + 1);
	return 0;
}

// {file: PATH, format: pem|jwks|hmac, kid: K, alg: A} into *out.
static int parse_jwt_key(struct ctx *c, const yaml_node_t *n, struct config_jwt_key *out)
{
	static const char *const what = "a mapping {file: PATH, format: pem|jwks|hmac}";
	const yaml_node_t *seen[JK_COUNT] = {0}, *val[JK_COUNT] = {0};
	const yaml_node_pair_t *p;
	size_t base = c->d.pathlen, i;
	char q[QUOTE_SIZE];
	int rc;

	rc = expect(c, n, YAML_MAPPING_NODE, what);
	if (rc == 1)
		return yamldoc_fail(&c->d, n, "missing value (expected %s)", what);
	if (rc < 0)
		return -1;
	memset(out, 0, sizeof *out);
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *vn = yamldoc_node(&c->d, p->value);
		const char *s;
		size_t len;

		rc = find_key(c, yamldoc_node(&c->d, p->key), jwt_key_keys, seen);
		if (rc < 0)
			return -1;
		i = (size_t)rc;
		val[i] = vn;
		if (expect_scalar(c, vn, i == JK_FILE ? "a file path" : "a string") != 0)
			return -1;
		s = yamldoc_text(vn);
		len = vn->data.scalar.length;
		switch (i) {
		case JK_FILE:
			if (jwt_key_text(c, vn, sizeof out->file - 1) != 0)
				return -1;
			memcpy(out->file, s, len + 1);
			break;
		case JK_FORMAT: {
			size_t f;
			for (f = 0; f < sizeof key_formats / sizeof key_formats[0]; f++)
				if (strcmp(s, key_formats[f]) == 0)
					break;
			if (f == sizeof key_formats / sizeof key_formats[0])
				return yamldoc_fail(&c->d, vn,
						    "bad format %s (use pem, jwks or hmac)",
						    yamldoc_quote(&c->d, q, sizeof q, s, len));
			out->format = (enum config_key_format)f;
			break;
		}
		case JK_KID:
			if (jwt_key_text(c, vn, sizeof out->kid - 1) != 0)
				return -1;
			memcpy(out->kid, s, len + 1);
			break;
		default: {
			size_t a;
			for (a = 0; a < sizeof jwt_algs / sizeof jwt_algs[0]; a++)
				if (strcmp(s, jwt_algs[a]) == 0)
					break;
			if (a == sizeof jwt_algs / sizeof jwt_algs[0])
				return yamldoc_fail(&c->d, vn,
						    "bad algorithm %s (use HS256, HS384, HS512, RS256, "
						    "ES256 or EdDSA)",
						    yamldoc_quote(&c->d, q, sizeof q, s, len));
			memcpy(out->alg, s, len + 1);
			break;
		}
		}
		yamldoc_path_pop(&c->d, base);
	}
	if (!seen[JK_FILE])
		return yamldoc_fail(&c->d, n, "missing file (add file: PATH)");
	if (!seen[JK_FORMAT])
		return yamldoc_fail(&c->d, n, "missing format (add format: pem, jwks or hmac)");
	if (out->format == CONFIG_KEY_JWKS && (seen[JK_KID] || seen[JK_ALG])) {
		i = seen[JK_KID] ? JK_KID : JK_ALG;
		yamldoc_path_key(&c->d, jwt_key_keys[i].name);
		return yamldoc_fail(&c->d, seen[i],
				    "not for format jwks (each key of a JWKS has its own %s)",
				    jwt_key_keys[i].name);
	}
	if (seen[JK_ALG]) {
		bool hs = strncmp(out->alg, "HS", 2) == 0;
		yamldoc_path_key(&c->d, "alg");
		if (out->format == CONFIG_KEY_HMAC && !hs)
			return yamldoc_fail(&c->d, val[JK_ALG],
					    "%s does not fit format hmac (use HS256, HS384 or HS512)",
					    out->alg);
		if (out->format == CONFIG_KEY_PEM && hs)
			return yamldoc_fail(&c->d, val[JK_ALG],
					    "%s needs format hmac (a PEM key verifies RS256, ES256 "
					    "or EdDSA)",
					    out->alg);
		yamldoc_path_pop(&c->d, base);
	}
	return 0;
}

static int set_jwt_keys(struct ctx *c, const struct key *k, const yaml_node_t *n)
{
	struct config_identity *id = &c->cfg->identity;
	size_t base = c->d.pathlen, count;
	const yaml_node_item_t *it;

	if (expect_list(c, k, n, "a sequence of key files", &count) != 0)
		return -1;
	/* The new list goes into the copy at once, so any failure frees it. */
	if (id->jwt_keys != c->orig->identity.jwt_keys)
		free(id->jwt_keys);
	id->jwt_keys = NULL;
	id->n_jwt_keys = 0;
	if (count == 0)
		return 0;
	id->jwt_keys = calloc(count, sizeof id->jwt_keys[0]);
	if (!id->jwt_keys)
		return yamldoc_fail(&c->d, n, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yamldoc_path_index(&c->d, (size_t)(it - n->data.sequence.items.start));
		if (parse_jwt_key(c, yamldoc_node(&c->d, *it), &id->jwt_keys[id->n_jwt_keys]) != 0)
			return -1;
		id->n_jwt_keys++;
		yamldoc_path_pop(&c->d, base);
	}
	return 0;
}

/* "10.0.0.0/8", "fd00::/8", "192.0.2.7" (a host) into *out. */
static int parse_cidr(struct ctx *c, const yaml_node_t *n, const char *s, struct config_cidr *out)
{
	const char *slash = strchr(s, '/'), *p;
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	char addr[INET6_ADDRSTRLEN + 1], q[QUOTE_SIZE], net[INET6_ADDRSTRLEN];
	unsigned max, prefix, i;
	struct in_addr a4;
	bool v4;

	if (alen == 0 || alen >= sizeof addr)
		goto bad;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		v4 = true;
		out->addr[10] = out->addr[11] = 0xff;
		memcpy(out->addr + 12, &a4, 4);
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		v4 = false;
	} else {
		goto bad;
	}
	max = v4 ? 32 : 128;
	prefix = max;
	if (slash) {
		prefix = 0;
		for (p = slash + 1; *p >= '0' && *p <= '9' && prefix <= 128; p++)
			prefix = prefix * 10 + (unsigned)(*p - '0');
		if (p == slash + 1 || *p)
			goto bad;
		if (prefix > max)
			return yamldoc_fail(&c->d, n, "prefix /%s is too long for %s (at most /%u)",
					    slash + 1, v4 ? "IPv4" : "IPv6", max);
	}
	out->prefix = (uint8_t)(v4 ? 96 + prefix : prefix);
	for (i = out->prefix; i < 128; i++) {
		if (!(out->addr[i / 8] & (0x80u >> (i % 8))))
			continue;
		/* Say which network was probably meant. */
		for (; i < 128; i++)
			out->addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
		inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? (const void *)(out->addr + 12) : out->addr, net,
			  sizeof net);
		return yamldoc_fail(&c->d, n, "%s has host bits set (the network is %s/%u)",
				    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)), net, prefix);
	}
	return 0;
bad:
	return yamldoc_fail(&c->d, n,
			    "bad CIDR %s (use an IPv4 or IPv6 address with an optional /prefix, e.g. "
			    "10.0.0.0/8 or fd00::/8)",
			    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
}

static int set_cidrs(struct ctx *c, const struct key *k, const yaml_node_t *n)
{
	struct config_identity *id = &c->cfg->identity;
	size_t base = c->d.pathlen, count, i, j;
	const yaml_node_item_t *it;
	char q[QUOTE_SIZE];

	if (expect_list(c, k, n, "a sequence of CIDRs", &count) != 0)
		return -1;
	if (id->trusted_proxies != c->orig->identity.trusted_proxies)
		free(id->trusted_proxies);
	id->trusted_proxies = NULL;
	id->n_trusted_proxies = 0;
	if (count == 0)
		return 0;
	id->trusted_proxies = calloc(count, sizeof id->trusted_proxies[0]);
	if (!id->trusted_proxies)
		return yamldoc_fail(&c->d, n, "out of memory");
	for (it = n->data.sequence.items.start, i = 0; it < n->data.sequence.items.top; it++, i++) {
		const yaml_node_t *e = yamldoc_node(&c->d, *it);
		struct config_cidr *cidr = &id->trusted_proxies[i];

		yamldoc_path_index(&c->d, i);
		if (expect_scalar(c, e, "a CIDR") != 0)
			return -1;
		if (parse_cidr(c, e, yamldoc_text(e), cidr) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (id->trusted_proxies[j].prefix == cidr->prefix &&
			    memcmp(id->trusted_proxies[j].addr, cidr->addr, 16) == 0)
				return yamldoc_fail(&c->d, e, "%s is the same network as entry %zu",
						    yamldoc_quote(&c->d, q, sizeof q, yamldoc_text(e),
								  e->data.scalar.length), j);
		id->n_trusted_proxies++;
		yamldoc_path_pop(&c->d, base);
	}
	return 0;
}

bool config_cidr_match(const struct config_cidr *net, const uint8_t addr[16])
{
	unsigned full = net->prefix / 8, rest = net->prefix % 8;

	if (net->prefix > 128 || memcmp(net->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((net->addr[full] ^ addr[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

static int set_number(struct ctx *c, const struct key *k, const yaml_node_t *n, const char *s)
{
	char q[QUOTE_SIZE], lo[32], hi[32];
	uint64_t v;

	switch (k->kind) {
	case K_SIZE:
		if (config_parse_size(s, &v) != 0)
			return yamldoc_fail(&c->d, n,
					    "bad size %s (use e.g. 512K, 64MiB, 1GiB; units are 1024-based)",
					    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
		fmt_size(lo, sizeof lo, k->min);
		fmt_size(hi, sizeof hi, k->max);
		break;
	case K_DUR:
		if (config_parse_duration(s, &v) != 0)
			return yamldoc_fail(&c->d, n,
					    "bad duration %s%s (use e.g. 30s, 5m, 2h, 7d)",
					    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)),
					    all_digits(s) ? ": a unit is required" : "");
		fmt_duration(lo, sizeof lo, k->min);
		fmt_duration(hi, sizeof hi, k->max);
		break;
	default:
		if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			return yamldoc_fail(&c->d, n,
					    "expected an integer, got the quoted string %s",
					    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
		if (parse_uint(s, &v) != 0)
			return yamldoc_fail(&c->d, n, "bad integer %s",
					    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
		snprintf(lo, sizeof lo, "%llu", (unsigned long long)k->min);
		snprintf(hi, sizeof hi, "%llu", (unsigned long long)k->max);
		break;
	}
	if (v < k->min || v > k->max)
		return yamldoc_fail(&c->d, n, "%s is out of range (%s..%s)", s, lo, hi);
	if (k->kind == K_U32)
		*(uint32_t *)field(c, k) = (uint32_t)v;
	else
		*(uint64_t *)field(c, k) = v;
	return 0;
}

static int set_bool(struct ctx *c, const struct key *k, const yaml_node_t *n, const char *s)
{
	char q[QUOTE_SIZE];

	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return yamldoc_fail(&c->d, n, "expected true or false, got the quoted string %s",
				    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
	if (strcmp(s, "true") == 0)
		*(bool *)field(c, k) = true;
	else if (strcmp(s, "false") == 0)
		*(bool *)field(c, k) = false;
	else
		return yamldoc_fail(&c->d, n, "bad boolean %s (use true or false)",
				    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
	return 0;
}

static int set_log(struct ctx *c, const struct key *k, const yaml_node_t *n, const char *s)
{
	char q[QUOTE_SIZE];

	if (strcmp(s, "stderr") == 0)
		*(enum config_log *)field(c, k) = CONFIG_LOG_STDERR;
	else if (strcmp(s, "syslog") == 0)
		*(enum config_log *)field(c, k) = CONFIG_LOG_SYSLOG;
	else
		return yamldoc_fail(&c->d, n, "bad log destination %s (use stderr or syslog)",
				    yamldoc_quote(&c->d, q, sizeof q, s, strlen(s)));
	return 0;
}

static const char *what_of(enum kind kind)
{
	switch (kind) {
	case K_U32:
	case K_U64:
		return "an integer";
	case K_SIZE:
		return "a size";
	case K_DUR:
		return "a duration";
	case K_BOOL:
		return "true or false";
	case K_HHMM:
		return "a time of day";
	case K_LOG:
		return "stderr or syslog";
	default:
		return "a string";
	}
}

static int walk_map(struct ctx *c, const yaml_node_t *map, const struct key *keys, after_fn after);

static int walk_value(struct ctx *c, const struct key *k, const yaml_node_t *n)
{
	const char *s;

	switch (k->kind) {
	case K_MAP:
		return walk_map(c, n, k->sub, k->after);
	case K_DAYS:
		return set_days(c, k, n);
	case K_SENSITIVE:
		return set_sensitive(c, k, n);
	case K_NAMES:
		return set_names(c, k, n);
	case K_JWT_KEYS:
		return set_jwt_keys(c, k, n);
	case K_CIDRS:
		return set_cidrs(c, k, n);
	default:
		break;
	}
	if (expect_scalar(c, n, what_of(k->kind)) != 0)
		return -1;
	s = yamldoc_text(n);
	switch (k->kind) {
	case K_BOOL:
		return set_bool(c, k, n, s);
	case K_STR:
		return set_string(c, k, n, s);
	case K_LOG:
		return set_log(c, k, n, s);
	case K_HHMM:
		return set_hhmm(c, k, n, s);
	default:
		return set_number(c, k, n, s);
	}
}

/* Reads a mapping of `keys`; an empty value is an empty mapping. */
static int walk_map(struct ctx *c, const yaml_node_t *map, const struct key *keys, after_fn after)
{
	const yaml_node_t *seen_key[KEYS_MAX] = {0}, *seen_val[KEYS_MAX] = {0};
	const yaml_node_pair_t *p;
	size_t base = c->d.pathlen;
	int rc;

	rc = expect(c, map, YAML_MAPPING_NODE, "a mapping");
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const yaml_node_t *vn = yamldoc_node(&c->d, p->value);

		rc = find_key(c, yamldoc_node(&c->d, p->key), keys, seen_key);
		if (rc < 0)
			return -1;
		seen_val[rc] = vn;
		if (walk_value(c, &keys[rc], vn) != 0)
			return -1;
		yamldoc_path_pop(&c->d, base);
	}
	return after ? after(c, map, seen_val) : 0;
}

/* ---- the file ---- */

/* Frees what `dead` owns and `live` does not share. */
static void release_replaced(struct tapir_config *dead, const struct tapir_config *live)
{
	if (dead->api.sensitive != live->api.sensitive)
		free_sensitive(dead->api.sensitive, dead->api.n_sensitive);
	if (dead->identity.jwt_keys != live->identity.jwt_keys)
		free(dead->identity.jwt_keys);
	if (dead->identity.trusted_proxies != live->identity.trusted_proxies)
		free(dead->identity.trusted_proxies);
}

void config_defaults(struct tapir_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->sensor.name, sizeof c->sensor.name, "tapir");
	c->sensor.workers = 0;
	c->capture.snaplen = 262144;
	c->capture.buffer = 64 * MiB;
	c->capture.promiscuous = true;
	c->flows.max = 262144;
	c->flows.idle_timeout_us = 5 * MIN;
	c->flows.closed_timeout_us = 10 * SEC;
	c->reassembly.memcap = 256 * MiB;
	c->reassembly.max_held_per_direction = MiB;
	c->reassembly.max_held_segments = 2048;
	c->ip_fragments.memcap = 32 * MiB;
	c->ip_fragments.max_datagrams = 8192;
	c->ip_fragments.timeout_us = 30 * SEC;
	c->http.max_head = 64 * KiB;
	c->http.max_line = 4 * KiB;
	c->http.max_resync = 64 * KiB;
	c->http.max_pending = 64;
	c->http.memcap = 128 * MiB;
	c->http2.max_header_list = 64 * KiB;
	c->http2.max_continuations = 32;
	c->http2.max_table_size = 64 * KiB;
	c->http2.max_memory = 512 * KiB;
	c->http2.max_streams = 128;
	snprintf(c->output.redis.channel, sizeof c->output.redis.channel, "tapir:alerts");
	snprintf(c->output.redis.stream, sizeof c->output.redis.stream, "tapir:alerts:stream");
	c->output.redis.stream_maxlen = 100000;
	c->output.redis.events_maxlen = 1000000;
	snprintf(c->output.redis.audit_heads, sizeof c->output.redis.audit_heads,
		 "tapir:audit:heads");
	c->output.redis.heartbeat_us = 5 * SEC;
	c->output.redis.connect_timeout_us = 2 * SEC;
	c->output.redis.command_timeout_us = 2 * SEC;
	c->output.redis.reconnect_max_us = 30 * SEC;
	c->output.redis.drain_timeout_us = 10 * SEC;
	c->output.spool.max_size = 256 * MiB;
	c->policy.business_hours.days = 0x3e; /* mon..fri: tm_wday 1..5 */
	c->policy.business_hours.start_min = 8 * 60;
	c->policy.business_hours.end_min = 18 * 60;
	snprintf(c->policy.business_hours.timezone, sizeof c->policy.business_hours.timezone, "UTC");
	static const char *const api_key_headers[] = {"X-API-Key", "Api-Key"};
	static const char *const session_cookies[] = {"session",    "sessionid", "sid",
						      "JSESSIONID", "PHPSESSID", "connect.sid"};
	for (size_t i = 0; i < sizeof api_key_headers / sizeof api_key_headers[0]; i++)
		snprintf(c->identity.api_key_headers.name[c->identity.api_key_headers.n++],
			 CONFIG_ID_NAME_MAX + 1, "%s", api_key_headers[i]);
	for (size_t i = 0; i < sizeof session_cookies / sizeof session_cookies[0]; i++)
		snprintf(c->identity.session_cookies.name[c->identity.session_cookies.n++],
			 CONFIG_ID_NAME_MAX + 1, "%s", session_cookies[i]);
	c->policy.key_max_age_us = 90 * DAY;
	c->detection.learning_period_us = 3 * DAY;
	c->detection.suppress_us = 3600ull * 1000000;
	c->detection.max_identities = 100000;
}

int config_load(struct tapir_config *cfg, const char *path, char *err, size_t errlen)
{
	struct tapir_config tmp = *cfg;
	struct ctx c = {.d = {.file = path, .err = err, .errlen = errlen,
			      .flags = YAMLDOC_C_ESCAPES | YAMLDOC_TAB_HINT},
			.cfg = &tmp, .orig = cfg};
	const yaml_node_t *root;
	char *text = NULL;
	char what[QUOTE_SIZE];
	size_t len = 0;
	int rc;

	rc = readfile_whole(path, FILE_MAX, &text, &len, err, errlen);
	if (rc == 1 && err && errlen)
		snprintf(err, errlen, "%s: cannot read: larger than %u KiB, not a configuration file",
			 path, FILE_MAX / 1024);
	if (rc != 0)
		return -1;
	if (yamldoc_parse(&c.d, text, len) != 0)
		goto fail;
	root = yaml_document_get_root_node(&c.d.doc);
	if (root && root->type != YAML_MAPPING_NODE && !yamldoc_is_null(root)) {
		yamldoc_fail(&c.d, root, "expected a mapping of sections at the top level, got %s",
			     yamldoc_describe(&c.d, root, what, sizeof what));
		goto fail;
	}
	if (root && walk_map(&c, root, top_keys, NULL) != 0)
		goto fail;
	/* A second document would be silently ignored: refuse it. */
	if (yamldoc_next(&c.d) != 0)
		goto fail;
	if (yaml_document_get_root_node(&c.d.doc)) {
		yamldoc_error(&c.d, c.d.doc.start_mark, "", "only one YAML document is allowed");
		goto fail;
	}
	yamldoc_cleanup(&c.d);
	free(text);
	release_replaced(cfg, &tmp);
	*cfg = tmp;
	return 0;
fail:
	yamldoc_cleanup(&c.d);
	free(text);
	release_replaced(&tmp, cfg);
	return -1;
}

void config_free(struct tapir_config *c)
{
	free_sensitive(c->api.sensitive, c->api.n_sensitive);
	c->api.sensitive = NULL;
	c->api.n_sensitive = 0;
	free(c->identity.jwt_keys);
	c->identity.jwt_keys = NULL;
	c->identity.n_jwt_keys = 0;
	free(c->identity.trusted_proxies);
	c->identity.trusted_proxies = NULL;
	c->identity.n_trusted_proxies = 0;
}

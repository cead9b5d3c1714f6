/*
 * routes.c - route templates learned from request paths, the OpenAPI
 * templates that override them, and the per-route inventory.
 *
 * Two trees map a path to the node its template ends at:
 *
 *   spec tree (from routes_add_spec, static after start-up)
 *     snode: literal children in one hash table keyed by (parent, text);
 *            templated children ("{id}", "{name}.json") in a list, most
 *            literal characters first. Matching is depth-first, literal
 *            first, with a step cap (OpenAPI 3.1 "Path Templating Matching").
 *
 *   learned trees (from traffic, one per host, fixed pool of nodes)
 *     rnode: up to ROUTES_CHILD_MAX literal children in a sorted array
 *            (binary search: an attacker choosing segments cannot make a
 *            lookup slower), one child slot per class ({id} ... {rest}).
 *
 *       root(api.example.com) --"v1"--> n1 --"users"--> n2 --{id}--> n3  GET, PUT
 *                                                          \--"me"--> n4  GET
 *       host_root[h] finds a host's root; the host table is open addressing
 *       with a probe cap.
 *
 * A position switching to {param} moves its literal children (but the
 * pinned ones) into its {param} child: subtrees are merged key by key,
 * inventory entries of the same method are added together, and freed nodes
 * go back to the pool. Merging never allocates: a child that has no twin is
 * re-parented, the first one becomes the {param} node itself.
 *
 * Inventory entries (rentry) hang off the node a template ends at, one per
 * method. Distinct identities are counted exactly up to ROUTES_IDS_EXACT
 * (64-bit hashes) and then by a HyperLogLog of 128 one-byte registers in
 * the same 128 bytes (Flajolet et al. 2007; ~9% standard error).
 */
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum seg_class {
	SEG_LITERAL,
	SEG_EMPTY, /* "" between two slashes or after a trailing one: structure, not a value */
	SEG_ID,
	SEG_UUID,
	SEG_HEX,
	SEG_TOKEN,
	SEG_EMAIL,
	SEG_DATE,
	SEG_PARAM,
	SEG_REST,
	SEG__COUNT
};
#define N_CLS (SEG__COUNT - 1)
#define SLOT(c) ((c) - 1)
#define KIND_ROOT SEG__COUNT /* a host's root node */

static const char *const class_names[SEG__COUNT] = {
	NULL, "", "{id}", "{uuid}", "{hex}", "{token}", "{email}", "{date}", "{param}", "{rest}",
};

#define ROOT 1 /* the spec tree's root */
#define NF_PARAM 0x01 /* values no longer stored: the literals left are pinned */
#define NF_FREE 0x02

struct rnode {
	uint64_t hits;      /* requests that reached this node */
	uint64_t lit_hits;  /* ... whose next segment was a literal */
	uint32_t first_entry;
	uint16_t parent;    /* next free node while NF_FREE; 0 for a root */
	uint16_t host;      /* a root: its host (table index + 1, 0 = none) */
	uint16_t cls[N_CLS];
	uint16_t lit[ROUTES_CHILD_MAX]; /* sorted by (seg bytes, length) */
	uint8_t n_lit;
	uint8_t kind;       /* enum seg_class of this node's own segment */
	uint8_t flags;
	uint8_t seg_len;
	char seg[ROUTES_LITERAL_MAX + 1];
};

#define HLL_REGS 128
#define HLL_BITS 7

struct sketch {
	uint8_t n_exact;
	bool hll;
	union {
		uint64_t exact[ROUTES_IDS_EXACT];
		uint8_t reg[HLL_REGS];
	} u;
};

struct rentry {
	uint32_t next;      /* same node's next entry; next free one when free */
	uint8_t method;
	uint16_t host;      /* host table index + 1, 0 = none */
	uint64_t first_us, last_us, requests, unauth;
	uint64_t status[RS__COUNT];
	struct sketch ids;
};

struct snode {
	uint32_t parent;
	uint32_t first_pattern;  /* templated children, most literal characters first */
	uint32_t next_pattern;
	uint32_t first_entry;
	uint32_t doc_mask;       /* methods the spec lists here */
	uint32_t dep_mask;       /* ... as deprecated */
	bool any, any_dep;       /* listed for every method */
	bool end;                /* a template ends here */
	bool pattern;
	uint32_t lit_chars;      /* pattern: literal characters, for ordering */
	uint32_t seg_len;
	char *seg;               /* literal text, or the compiled pattern */
	char *tmpl;              /* when end: the template as first given */
};

/* Compiled pattern bytes: {name} is "one character, then any run". */
#define PAT_ONE '\x01'
#define PAT_ANY '\x02'
/* Nodes visited by one spec match at most (a spec is trusted, but its
 * shape is not bounded: many overlapping templates could backtrack). */
#define SPEC_STEPS_MAX 4096
/* Host table probes at most per lookup. */
#define HOST_PROBES 64

#define M_GET 0
#define M_HEAD 1
#define M_OTHER (ROUTES_METHODS_MAX - 1)
static const char *const std_methods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
					  "CONNECT", "OPTIONS", "TRACE", "PATCH"};
#define N_STD (sizeof std_methods / sizeof std_methods[0])

struct routes {
	struct routes_limits lim;
	struct routes_stats st;

	struct rnode *nodes;      /* [max_nodes + 1], 0 unused */
	uint16_t free_node;
	struct rentry *entries;   /* [max_entries + 1], 0 unused */
	uint32_t free_entry;

	char (*host_names)[EV_HOST_MAX]; /* [max_hosts] */
	uint16_t *host_slots;     /* open addressing: index + 1, 0 = empty */
	uint32_t host_mask;
	uint16_t *host_root;      /* [max_hosts + 1]: learned tree root of host h, 0 = none yet */
	/* host_find's last host as asked (its first EV_HOST_MAX - 1 bytes) and its
	 * index + 1; 0: none. Hosts are never removed, so a found one stays right. */
	char last_host[EV_HOST_MAX];
	uint16_t last_host_h;

	char methods[ROUTES_METHODS_MAX][EV_METHOD_MAX];
	unsigned n_methods;

	struct snode *snodes;     /* [n_snodes], 0 unused, 1 the root when any */
	uint32_t n_snodes, cap_snodes;
	uint32_t *shash;          /* literal spec children: snode index, 0 = empty */
	uint32_t shash_mask;
	bool spec_loaded;
};

struct seg {
	const char *p;
	size_t len;
};

/* ---- small helpers ---- */

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* MurmurHash3's 64-bit finalizer: spreads FNV's bits for the HyperLogLog. */
static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static int seg_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

struct tbuf {
	char *p;
	size_t cap, len;
};

static void tb_put(struct tbuf *b, const char *s, size_t n)
{
	if (b->cap == 0)
		return;
	size_t room = b->cap - 1 - b->len;
	if (n > room)
		n = room;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void tb_str(struct tbuf *b, const char *s)
{
	tb_put(b, s, strlen(s));
}

const char *routes_verdict_name(enum routes_verdict v)
{
	switch (v) {
	case ROUTES_DOCUMENTED: return "documented";
	case ROUTES_ZOMBIE: return "zombie";
	case ROUTES_SHADOW: return "shadow";
	case ROUTES_NO_SPEC: break;
	}
	return "no_spec";
}

void routes_limits_default(struct routes_limits *l)
{
	l->max_nodes = 16384;
	l->max_entries = 16384;
	l->max_hosts = 256;
	l->max_depth = 16;
	l->param_min_distinct = 8;
	l->param_once_pct = 75;
	l->pin_min_hits = 16;
	l->pin_share = 8;
	l->max_spec_ops = 65536;
}

/* ---- segment classes ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_lower(c) || is_upper(c);
}

static bool is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return false;
	}
	return true;
}

static unsigned two_digits(const char *s)
{
	return (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
}

/* YYYY-MM-DD, optionally followed by 'T' and a time ("T09:00:00Z", "T09%3A00"). */
static bool is_date(const char *s, size_t n)
{
	static const char shape[] = "dddd-dd-dd";
	if (n < 10)
		return false;
	for (size_t i = 0; i < 10; i++)
		if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != '-')
			return false;
	unsigned month = two_digits(s + 5), day = two_digits(s + 8);
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return false;
	if (n == 10)
		return true;
	if (s[10] != 'T' && s[10] != 't')
		return false;
	for (size_t i = 11; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != ':' && s[i] != '.' && s[i] != '+' && s[i] != '-' &&
		    s[i] != '%')
			return false;
	return n > 11;
}

/* local@domain.tld, the '@' possibly written %40. */
static bool is_email(const char *s, size_t n)
{
	size_t at = n, skip = 1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '@') {
			at = i;
			break;
		}
		if (s[i] == '%' && i + 2 < n && s[i + 1] == '4' && s[i + 2] == '0') {
			at = i;
			skip = 3;
			break;
		}
	}
	if (at == 0 || at == n)
		return false;
	for (size_t i = 0; i < at; i++)
		if (!is_alnum(s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '%' && s[i] != '+' &&
		    s[i] != '-')
			return false;
	const char *d = s + at + skip;
	size_t dn = n - at - skip;
	size_t dot = 0, label = 0;
	for (size_t i = 0; i < dn; i++) {
		if (d[i] == '.') {
			if (label == 0)
				return false;
			dot = i;
			label = 0;
		} else if (is_alnum(d[i]) || d[i] == '-') {
			label++;
		} else {
			return false;
		}
	}
	return dot > 0 && label >= 2;
}

/*
 * An opaque token: >= 16 characters of [A-Za-z0-9_=~-] that look random,
 * not like words: letters and digits interleaved (two or more changes
 * between adjacent letters and digits: "a1b2...", base64url ids), or mixed
 * case changing at least every other letter with two capitals side by side
 * somewhere (base64 without digits). "my-first-post-2023" (one change) and
 * "GetUserProfileSettings" (CamelCase: capitals never adjacent) stay
 * literal, and so does anything with a '.' ("logo-40x20.png") but a JWT.
 */
static bool is_token(const char *s, size_t n)
{
	size_t letters = 0, digits = 0, ld = 0, cs = 0, uu = 0;
	bool lower = false, upper = false;
	if (n < 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (is_digit(c))
			digits++;
		else if (is_lower(c))
			letters++, lower = true;
		else if (is_upper(c))
			letters++, upper = true;
		else if (c != '_' && c != '=' && c != '~' && c != '-')
			return false;
		if (i == 0 || !is_alnum(c) || !is_alnum(s[i - 1]))
			continue;
		char p = s[i - 1];
		if (is_digit(p) != is_digit(c))
			ld++;
		else if (!is_digit(c) && is_upper(p) != is_upper(c))
			cs++;
		else if (is_upper(p) && is_upper(c))
			uu++;
	}
	if (letters && digits && ld >= 2)
		return true;
	return !digits && lower && upper && uu > 0 && cs * 2 >= letters;
}

/* header.payload.signature, base64url, the first two at least 8 long (RFC 7519). */
static bool is_jwt(const char *s, size_t n)
{
	size_t part = 0, len[3] = {0};
	if (n < 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (++part > 2)
				return false;
		} else if (is_alnum(s[i]) || s[i] == '_' || s[i] == '-') {
			len[part]++;
		} else {
			return false;
		}
	}
	return part == 2 && len[0] >= 8 && len[1] >= 8;
}

/* Per byte, what classify counts and looks for: C_DIGIT '0'-'9', C_HEX a hex
 * digit, C_AT '@' or '%', C_DOT '.', C_BRACE '{' or '}' (0 from 0x80 on). */
enum { C_DIGIT = 1, C_HEX = 2, C_AT = 4, C_DOT = 8, C_BRACE = 16 };
static const uint8_t byte_class[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0,
	4, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 16, 0, 0,
};

/* The segment's class; *brace: it holds '{' or '}'. */
static enum seg_class classify(const char *s, size_t n, bool *brace)
{
	size_t digits = 0, hex = 0;
	unsigned any = 0;
	*brace = false;
	if (n == 0)
		return SEG_EMPTY;
	for (size_t i = 0; i < n; i++) {
		unsigned f = byte_class[(unsigned char)s[i]];
		digits += f & C_DIGIT;
		hex += (f & C_HEX) >> 1;
		any |= f;
	}
	bool at = any & C_AT, dot = any & C_DOT;
	*brace = any & C_BRACE;
	if (digits == n)
		return SEG_ID;
	if (is_uuid(s, n))
		return SEG_UUID;
	if (digits >= 8 && is_date(s, n))
		return SEG_DATE;
	if (hex == n && n >= 8 && digits > 0)
		return SEG_HEX;
	if (at && is_email(s, n))
		return SEG_EMAIL;
	if (n >= 16 && (dot ? is_jwt(s, n) : is_token(s, n)))
		return SEG_TOKEN;
	return SEG_LITERAL;
}

/* classify(), and a literal that cannot be kept as one is {param}. */
static enum seg_class classify_kept(struct routes *t, const struct seg *g)
{
	bool brace;
	enum seg_class c = classify(g->p, g->len, &brace);
	if (c == SEG_LITERAL && (g->len > ROUTES_LITERAL_MAX || brace)) {
		t->st.literal_too_long++;
		return SEG_PARAM;
	}
	return c;
}

/* ---- methods and hosts ---- */

/* Index of `m` in the method table, adding it when there is room (spec: may fail). */
static int method_index(struct routes *t, const char *m, bool must)
{
	unsigned i;
	for (i = 0; i < t->n_methods; i++)
		if (strcmp(t->methods[i], m) == 0)
			return (int)i;
	if (t->n_methods < M_OTHER && strlen(m) < EV_METHOD_MAX) {
		memcpy(t->methods[t->n_methods], m, strlen(m) + 1);
		return (int)t->n_methods++;
	}
	if (must)
		return -1;
	t->st.methods_full++;
	return M_OTHER;
}

/*
 * Index + 1 of `host` (compared lower-cased) in the host table, adding it
 * when `create`; 0 when it is not there (or the table is full: counted).
 */
static uint16_t host_find_slow(struct routes *t, const char *host, bool create);

static uint16_t host_find(struct routes *t, const char *host, bool create)
{
	/* Requests come in runs on one host: the same answer, without lower-casing and hashing it. */
	if (t->last_host_h && strncmp(host, t->last_host, EV_HOST_MAX - 1) == 0)
		return t->last_host_h;
	uint16_t h = host_find_slow(t, host, create);
	if (h) {
		size_t n = strnlen(host, EV_HOST_MAX - 1);
		memcpy(t->last_host, host, n);
		t->last_host[n] = '\0';
		t->last_host_h = h;
	}
	return h;
}

static uint16_t host_find_slow(struct routes *t, const char *host, bool create)
{
	char low[EV_HOST_MAX];
	uint64_t hash = FNV_INIT;
	size_t n;
	for (n = 0; n < EV_HOST_MAX - 1 && host[n]; n++) {
		low[n] = is_upper(host[n]) ? (char)(host[n] + 32) : host[n];
		hash = (hash ^ (unsigned char)low[n]) * 0x100000001b3ull;
	}
	low[n] = '\0';
	if (!t->host_slots)
		return 0;
	uint32_t at = (uint32_t)fmix64(hash) & t->host_mask;
	for (unsigned probe = 0; probe < HOST_PROBES; probe++, at = (at + 1) & t->host_mask) {
		uint16_t h = t->host_slots[at];
		if (h == 0) {
			if (!create)
				return 0;
			if (t->st.hosts >= t->lim.max_hosts)
				break;
			memcpy(t->host_names[t->st.hosts], low, n + 1);
			t->host_slots[at] = (uint16_t)++t->st.hosts;
			return t->host_slots[at];
		}
		if (strcmp(t->host_names[h - 1], low) == 0)
			return h;
	}
	t->st.hosts_full++;
	return 0;
}

/* ---- identity sketch ---- */

static void hll_add(uint8_t *reg, uint64_t h)
{
	unsigned idx = (unsigned)(h >> (64 - HLL_BITS));
	uint64_t w = h << HLL_BITS;
	uint8_t rank = w ? (uint8_t)(__builtin_clzll(w) + 1) : (uint8_t)(64 - HLL_BITS + 1);
	if (rank > reg[idx])
		reg[idx] = rank;
}

static void sketch_to_hll(struct sketch *k)
{
	uint64_t ex[ROUTES_IDS_EXACT];
	unsigned n = k->n_exact;
	memcpy(ex, k->u.exact, sizeof ex);
	memset(k->u.reg, 0, sizeof k->u.reg);
	for (unsigned i = 0; i < n; i++)
		hll_add(k->u.reg, ex[i]);
	k->hll = true;
}

static void sketch_add(struct sketch *k, uint64_t h)
{
	if (!k->hll) {
		for (unsigned i = 0; i < k->n_exact; i++)
			if (k->u.exact[i] == h)
				return;
		if (k->n_exact < ROUTES_IDS_EXACT) {
			k->u.exact[k->n_exact++] = h;
			return;
		}
		sketch_to_hll(k);
	}
	hll_add(k->u.reg, h);
}

static void sketch_merge(struct sketch *d, const struct sketch *s)
{
	if (!s->hll) {
		for (unsigned i = 0; i < s->n_exact; i++)
			sketch_add(d, s->u.exact[i]);
		return;
	}
	if (!d->hll)
		sketch_to_hll(d);
	for (unsigned i = 0; i < HLL_REGS; i++)
		if (s->u.reg[i] > d->u.reg[i])
			d->u.reg[i] = s->u.reg[i];
}

/* 128 * ln(128 / V) for V = 1..128: linear counting without libm. */
static const double lin_count[HLL_REGS] = {
	621.059874, 532.337035, 480.437501, 443.614196, 415.051821, 391.714662,
	371.983375, 354.891356, 339.815128, 326.328982, 314.129279, 302.991823,
	292.746356, 283.260536, 274.429448, 266.168517, 258.408566, 251.092289,
	244.171684, 237.606143, 231.361002, 225.406440, 219.716614, 214.268983,
	209.043768, 204.023517, 199.192755, 194.537696, 190.046008, 185.706609,
	181.509512, 177.445678, 173.506906, 169.685727, 165.975322, 162.369450,
	158.862381, 155.448845, 152.123983, 148.883304, 145.722649, 142.638163,
	139.626259, 136.683601, 133.807075, 130.993775, 128.240981, 125.546144,
	122.906876, 120.320929, 117.786193, 115.300678, 112.862509, 110.469916,
	108.121226, 105.814857, 103.549311, 101.323168, 99.135081,  96.983770,
	94.868019,  92.786672,  90.738629,  88.722839,  86.738303,  84.784067,
	82.859218,  80.962888,  79.094241,  77.252483,  75.436850,  73.646611,
	71.881065,  70.139542,  68.421395,  66.726006,  65.052780,  63.401144,
	61.770549,  60.160465,  58.570382,  56.999810,  55.448276,  53.915324,
	52.400513,  50.903420,  49.423635,  47.960762,  46.514418,  45.084236,
	43.669857,  42.270936,  40.887139,  39.518142,  38.163632,  36.823305,
	35.496869,  34.184037,  32.884533,  31.598090,  30.324448,  29.063354,
	27.814563,  26.577839,  25.352949,  24.139670,  22.937783,  21.747077,
	20.567345,  19.398387,  18.240008,  17.092018,  15.954233,  14.826472,
	13.708561,  12.600329,  11.501610,  10.412242,  9.332067,   8.260931,
	7.198684,   6.145180,   5.100276,   4.063833,   3.035715,   2.015790,
	1.003927,   0.000000,
};

static uint64_t sketch_count(const struct sketch *k)
{
	if (!k->hll)
		return k->n_exact;
	double sum = 0, e;
	unsigned zeros = 0;
	for (unsigned i = 0; i < HLL_REGS; i++) {
		sum += 1.0 / (double)(1ull << k->u.reg[i]);
		zeros += k->u.reg[i] == 0;
	}
	e = 0.7213 / (1 + 1.079 / HLL_REGS) * HLL_REGS * HLL_REGS / sum;
	if (e <= 2.5 * HLL_REGS && zeros)
		e = lin_count[zeros - 1];
	uint64_t r = (uint64_t)(e + 0.5);
	/* More than ROUTES_IDS_EXACT were seen for certain. */
	return r > ROUTES_IDS_EXACT ? r : ROUTES_IDS_EXACT + 1;
}

static uint64_t identity_hash(const struct api_event *ev)
{
	unsigned char kind = (unsigned char)ev->identity.kind;
	uint64_t h = fnv1a(FNV_INIT, &kind, 1);
	for (size_t i = 0; i < EV_ID_MAX && ev->identity.id[i]; i++)
		h = (h ^ (unsigned char)ev->identity.id[i]) * 0x100000001b3ull;
	return fmix64(h);
}

/* ---- inventory entries ---- */

static enum routes_status status_class(int st)
{
	if (st == 0)
		return RS_NULL;
	if (st >= 100 && st <= 599)
		return (enum routes_status)(st / 100 - 1);
	return RS_OTHER;
}

static struct rentry *entry_get(struct routes *t, uint32_t *head, uint8_t m, uint16_t host)
{
	for (uint32_t i = *head; i; i = t->entries[i].next)
		if (t->entries[i].method == m && t->entries[i].host == host)
			return &t->entries[i];
	uint32_t i = t->free_entry;
	if (!i) {
		t->st.entries_full++;
		return NULL;
	}
	struct rentry *e = &t->entries[i];
	t->free_entry = e->next;
	memset(e, 0, sizeof *e);
	e->method = m;
	e->host = host;
	e->next = *head;
	*head = i;
	t->st.entries++;
	return e;
}

static void entry_release(struct routes *t, uint32_t i)
{
	memset(&t->entries[i], 0, sizeof t->entries[i]);
	t->entries[i].next = t->free_entry;
	t->free_entry = i;
	t->st.entries--;
}

static void entry_count(struct rentry *e, const struct api_event *ev)
{
	if (e->requests == 0 || ev->ts_us < e->first_us)
		e->first_us = ev->ts_us;
	if (ev->ts_us > e->last_us)
		e->last_us = ev->ts_us;
	e->requests++;
	e->status[status_class(ev->status)]++;
	if (ev->identity.kind == ID_NONE)
		e->unauth++;
	else
		sketch_add(&e->ids, identity_hash(ev));
}

static void entry_combine(struct rentry *d, const struct rentry *s)
{
	if (s->requests && (d->requests == 0 || s->first_us < d->first_us))
		d->first_us = s->first_us;
	if (s->last_us > d->last_us)
		d->last_us = s->last_us;
	d->requests += s->requests;
	d->unauth += s->unauth;
	for (unsigned i = 0; i < RS__COUNT; i++)
		d->status[i] += s->status[i];
	sketch_merge(&d->ids, &s->ids);
}

/* ---- learned tree ---- */

static uint16_t node_alloc(struct routes *t, uint16_t parent, enum seg_class kind, const char *s,
			   size_t len)
{
	uint16_t i = t->free_node;
	if (!i) {
		t->st.nodes_full++;
		return 0;
	}
	struct rnode *n = &t->nodes[i];
	t->free_node = n->parent;
	memset(n, 0, sizeof *n);
	n->parent = parent;
	n->kind = (uint8_t)kind;
	if (kind == SEG_LITERAL && len) {
		memcpy(n->seg, s, len);
		n->seg_len = (uint8_t)len;
	}
	t->st.nodes++;
	return i;
}

static void node_release(struct routes *t, uint16_t i)
{
	struct rnode *n = &t->nodes[i];
	memset(n, 0, sizeof *n);
	n->flags = NF_FREE;
	n->parent = t->free_node;
	t->free_node = i;
	t->st.nodes--;
}

/* The literal child of n equal to s, or 0; *pos is where it is or would go. */
static uint16_t lit_find(const struct routes *t, const struct rnode *n, const char *s, size_t len,
			 size_t *pos)
{
	size_t lo = 0, hi = n->n_lit;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct rnode *c = &t->nodes[n->lit[mid]];
		int r = seg_cmp(c->seg, c->seg_len, s, len);
		if (r == 0) {
			*pos = mid;
			return n->lit[mid];
		}
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

static void lit_insert(struct rnode *n, size_t pos, uint16_t ci)
{
	memmove(&n->lit[pos + 1], &n->lit[pos], (n->n_lit - pos) * sizeof n->lit[0]);
	n->lit[pos] = ci;
	n->n_lit++;
}

static void merge(struct routes *t, uint16_t di, uint16_t si);

/* Literal node ci, detached, joins ni's {param} child (or becomes it). */
static void into_param(struct routes *t, uint16_t ni, uint16_t ci)
{
	struct rnode *n = &t->nodes[ni], *c = &t->nodes[ci];
	uint16_t p = n->cls[SLOT(SEG_PARAM)];
	if (p) {
		merge(t, p, ci);
		return;
	}
	c->kind = SEG_PARAM;
	c->seg_len = 0;
	c->seg[0] = '\0';
	c->parent = ni;
	n->cls[SLOT(SEG_PARAM)] = ci;
}

/* Position ni stops storing literal values: all but the pinned go to {param}. */
static void to_param(struct routes *t, uint16_t ni)
{
	struct rnode *n = &t->nodes[ni];
	uint16_t lits[ROUTES_CHILD_MAX];
	unsigned nl = n->n_lit;
	uint64_t floor = n->lit_hits / t->lim.pin_share;

	memcpy(lits, n->lit, nl * sizeof lits[0]);
	n->n_lit = 0;
	n->flags |= NF_PARAM;
	t->st.params_made++;
	for (unsigned k = 0; k < nl; k++) {
		const struct rnode *c = &t->nodes[lits[k]];
		if (c->hits >= t->lim.pin_min_hits && c->hits >= floor)
			n->lit[n->n_lit++] = lits[k]; /* stays sorted */
		else
			into_param(t, ni, lits[k]);
	}
}

/* Literal node ci, detached from its old parent, goes under di. */
static void adopt(struct routes *t, uint16_t di, uint16_t ci)
{
	struct rnode *d = &t->nodes[di], *c = &t->nodes[ci];
	size_t pos;
	uint16_t twin = lit_find(t, d, c->seg, c->seg_len, &pos);

	if (twin) {
		merge(t, twin, ci);
		return;
	}
	if (!(d->flags & NF_PARAM) && d->n_lit >= ROUTES_CHILD_MAX)
		to_param(t, di);
	if (d->flags & NF_PARAM) {
		into_param(t, di, ci);
		return;
	}
	c->parent = di;
	lit_insert(d, pos, ci);
}

/* Folds the subtree at si into the one at di (the same position), frees si. */
static void merge(struct routes *t, uint16_t di, uint16_t si)
{
	struct rnode *d = &t->nodes[di], *s = &t->nodes[si];
	uint16_t lits[ROUTES_CHILD_MAX];
	unsigned nl = s->n_lit;
	bool s_param = s->flags & NF_PARAM;

	d->hits += s->hits;
	d->lit_hits += s->lit_hits;
	for (uint32_t i = s->first_entry, next; i; i = next) {
		struct rentry *e = &t->entries[i];
		next = e->next;
		struct rentry *twin = NULL;
		for (uint32_t j = d->first_entry; j; j = t->entries[j].next)
			if (t->entries[j].method == e->method && t->entries[j].host == e->host)
				twin = &t->entries[j];
		if (twin) {
			entry_combine(twin, e);
			entry_release(t, i);
		} else {
			e->next = d->first_entry;
			d->first_entry = i;
		}
	}
	s->first_entry = 0;
	for (unsigned k = 0; k < N_CLS; k++) {
		uint16_t sc = s->cls[k];
		if (!sc)
			continue;
		s->cls[k] = 0;
		if (d->cls[k]) {
			merge(t, d->cls[k], sc);
		} else {
			d->cls[k] = sc;
			t->nodes[sc].parent = di;
		}
	}
	memcpy(lits, s->lit, nl * sizeof lits[0]);
	s->n_lit = 0;
	for (unsigned k = 0; k < nl; k++)
		adopt(t, di, lits[k]);
	node_release(t, si);
	t->st.nodes_merged++;
	/* The position varied under one of the parents merged: it varies here. */
	if (s_param && !(d->flags & NF_PARAM))
		to_param(t, di);
}

static uint16_t class_child(struct routes *t, uint16_t ni, enum seg_class c, bool create)
{
	uint16_t ci = t->nodes[ni].cls[SLOT(c)];
	if (!ci && create) {
		ci = node_alloc(t, ni, c, NULL, 0);
		t->nodes[ni].cls[SLOT(c)] = ci;
	}
	return ci;
}

/*
 * The child of ni for a literal segment not yet there: a new literal, or
 * {param} when the position has just shown that it varies. 0 when no node
 * is free.
 */
static uint16_t lit_add(struct routes *t, uint16_t ni, const struct seg *g, size_t pos)
{
	struct rnode *n = &t->nodes[ni];
	if (n->n_lit >= ROUTES_CHILD_MAX) {
		to_param(t, ni);
		return class_child(t, ni, SEG_PARAM, true);
	}
	uint16_t ci = node_alloc(t, ni, SEG_LITERAL, g->p, g->len);
	if (!ci)
		return 0;
	lit_insert(n, pos, ci);
	if (n->n_lit > t->lim.param_min_distinct) {
		unsigned once = 0;
		for (unsigned k = 0; k < n->n_lit; k++)
			once += t->nodes[n->lit[k]].hits <= 1; /* the new one has 0 */
		if (once * 100 >= n->n_lit * t->lim.param_once_pct) {
			to_param(t, ni);
			return class_child(t, ni, SEG_PARAM, true);
		}
	}
	return ci;
}

static void render_node(struct tbuf *b, const struct rnode *n)
{
	tb_put(b, "/", 1);
	if (n->kind == SEG_LITERAL)
		tb_put(b, n->seg, n->seg_len);
	else
		tb_str(b, class_names[n->kind]);
}

/* ---- spec tree ---- */

static uint64_t shash_key(uint32_t parent, const char *s, size_t n)
{
	return fmix64(fnv1a(FNV_INIT ^ parent, s, n));
}

static uint32_t spec_lit_find(const struct routes *t, uint32_t parent, const char *s, size_t n)
{
	if (!t->shash)
		return 0;
	uint32_t at = (uint32_t)shash_key(parent, s, n) & t->shash_mask;
	for (;; at = (at + 1) & t->shash_mask) {
		uint32_t i = t->shash[at];
		if (!i)
			return 0;
		const struct snode *c = &t->snodes[i];
		if (c->parent == parent && !c->pattern && seg_cmp(c->seg, c->seg_len, s, n) == 0)
			return i;
	}
}

static void shash_put(struct routes *t, uint32_t i)
{
	const struct snode *c = &t->snodes[i];
	uint32_t at = (uint32_t)shash_key(c->parent, c->seg, c->seg_len) & t->shash_mask;
	while (t->shash[at])
		at = (at + 1) & t->shash_mask;
	t->shash[at] = i;
}

/* Keeps the literal hash at most half full. */
static int shash_reserve(struct routes *t, uint32_t want)
{
	uint32_t cap = t->shash ? t->shash_mask + 1 : 0;
	if ((uint64_t)want * 2 <= cap)
		return 0;
	uint32_t ncap = cap ? cap : 64;
	while ((uint64_t)want * 2 > ncap)
		ncap *= 2;
	uint32_t *nh = calloc(ncap, sizeof *nh);
	if (!nh)
		return -1;
	free(t->shash);
	t->st.memory += (uint64_t)(ncap - cap) * sizeof *nh;
	t->shash = nh;
	t->shash_mask = ncap - 1;
	for (uint32_t i = 2; i < t->n_snodes; i++)
		if (!t->snodes[i].pattern)
			shash_put(t, i);
	return 0;
}

/* A new spec node's index, or 0 when out of memory (index 0 is never used). */
static uint32_t snode_new(struct routes *t)
{
	if (t->n_snodes == 0)
		t->n_snodes = ROOT; /* 0 unused; the first node made is the root */
	if (t->n_snodes >= t->cap_snodes) {
		uint32_t ncap = t->cap_snodes ? t->cap_snodes * 2 : 64;
		struct snode *ns = realloc(t->snodes, ncap * sizeof *ns);
		if (!ns)
			return 0;
		t->st.memory += (uint64_t)(ncap - t->cap_snodes) * sizeof *ns;
		t->snodes = ns;
		t->cap_snodes = ncap;
	}
	memset(&t->snodes[t->n_snodes], 0, sizeof t->snodes[0]);
	return t->n_snodes++;
}

static char *dup_mem(struct routes *t, const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	t->st.memory += n + 1;
	return p;
}

/* Glob match: PAT_ONE is any one character, PAT_ANY any run (two-pointer, O(n*m)). */
static bool pat_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
	while (si < sn) {
		if (pi < pn && p[pi] == PAT_ANY) {
			star = pi++;
			mark = si;
		} else if (pi < pn && (p[pi] == PAT_ONE || p[pi] == s[si])) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == PAT_ANY)
		pi++;
	return pi == pn;
}

static uint32_t spec_match_at(const struct routes *t, uint32_t ni, const struct seg *g, size_t n,
			      unsigned *steps)
{
	if (++*steps > SPEC_STEPS_MAX)
		return 0;
	const struct snode *nd = &t->snodes[ni];
	if (n == 0)
		return nd->end ? ni : 0;
	uint32_t c = spec_lit_find(t, ni, g->p, g->len), r;
	if (c && (r = spec_match_at(t, c, g + 1, n - 1, steps)) != 0)
		return r;
	for (c = nd->first_pattern; c; c = t->snodes[c].next_pattern) {
		const struct snode *pc = &t->snodes[c];
		if (pat_match(pc->seg, pc->seg_len, g->p, g->len) &&
		    (r = spec_match_at(t, c, g + 1, n - 1, steps)) != 0)
			return r;
	}
	return 0;
}

static uint32_t spec_match(struct routes *t, const struct seg *g, size_t n)
{
	unsigned steps = 0;
	uint32_t r = spec_match_at(t, ROOT, g, n, &steps);
	/* "/v1/users/" answers for "/v1/users" when only that is in the spec. */
	if (!r && n > 1 && g[n - 1].len == 0 && steps <= SPEC_STEPS_MAX)
		r = spec_match_at(t, ROOT, g, n - 1, &steps);
	if (steps > SPEC_STEPS_MAX)
		t->st.spec_steps_capped++;
	return r;
}

static enum routes_verdict spec_verdict(const struct snode *s, unsigned m)
{
	uint32_t bit = 1u << m;
	if (!(s->doc_mask & bit) && m == M_HEAD && (s->doc_mask & (1u << M_GET)))
		bit = 1u << M_GET; /* RFC 9110 9.3.2: HEAD is GET without the content */
	if (s->doc_mask & bit)
		return (s->dep_mask & bit) ? ROUTES_ZOMBIE : ROUTES_DOCUMENTED;
	if (s->any)
		return s->any_dep ? ROUTES_ZOMBIE : ROUTES_DOCUMENTED;
	return ROUTES_SHADOW;
}

/* Splits "/a/b" into segments; at most max, *more set when there were more. */
static size_t split(const char *path, struct seg *out, size_t max, bool *more)
{
	const char *s = path + 1;
	size_t n = 0;
	*more = false;
	for (;;) {
		const char *e = strchr(s, '/');
		if (n == max) {
			*more = true;
			return n;
		}
		out[n].p = s;
		out[n].len = e ? (size_t)(e - s) : strlen(s);
		n++;
		if (!e)
			return n;
		s = e + 1;
	}
}

/*
 * Checks one template segment and compiles it: a literal as it is, a
 * templated one into PAT_ONE/PAT_ANY and literal bytes. Returns 0 or -1
 * with a reason.
 */
static int compile_seg(const struct seg *g, char *out, size_t *outlen, bool *pattern,
		       uint32_t *lit_chars, const char **why)
{
	size_t o = 0;
	*pattern = false;
	*lit_chars = 0;
	for (size_t i = 0; i < g->len; i++) {
		char c = g->p[i];
		if (c == '}') {
			*why = "'}' without '{'";
			return -1;
		}
		if (c != '{') {
			out[o++] = c;
			(*lit_chars)++;
			continue;
		}
		const char *close = memchr(g->p + i, '}', g->len - i);
		if (!close) {
			*why = "'{' without '}'";
			return -1;
		}
		size_t name = (size_t)(close - (g->p + i)) - 1;
		if (name == 0) {
			*why = "empty parameter name {}";
			return -1;
		}
		if (memchr(g->p + i + 1, '{', name)) {
			*why = "'{' inside a parameter name";
			return -1;
		}
		out[o++] = PAT_ONE;
		out[o++] = PAT_ANY;
		*pattern = true;
		i += name + 1;
	}
	*outlen = o;
	return 0;
}

static uint32_t spec_child(struct routes *t, uint32_t parent, const char *cs, size_t clen,
			   bool pattern, uint32_t lit_chars)
{
	uint32_t i;
	if (!pattern) {
		if ((i = spec_lit_find(t, parent, cs, clen)) != 0)
			return i;
	} else {
		for (i = t->snodes[parent].first_pattern; i; i = t->snodes[i].next_pattern)
			if (seg_cmp(t->snodes[i].seg, t->snodes[i].seg_len, cs, clen) == 0)
				return i;
	}
	if (!pattern && shash_reserve(t, t->n_snodes + 1) != 0)
		return 0;
	char *copy = dup_mem(t, cs, clen);
	if (!copy || (i = snode_new(t)) == 0) {
		free(copy);
		return 0;
	}
	struct snode *c = &t->snodes[i];
	c->parent = parent;
	c->pattern = pattern;
	c->lit_chars = lit_chars;
	c->seg = copy;
	c->seg_len = (uint32_t)clen;
	if (!pattern) {
		shash_put(t, i);
		return i;
	}
	/* Most literal characters first, then byte order: "{id}.json" before "{id}". */
	uint32_t *link = &t->snodes[parent].first_pattern;
	while (*link) {
		const struct snode *o = &t->snodes[*link];
		if (o->lit_chars < lit_chars ||
		    (o->lit_chars == lit_chars && seg_cmp(o->seg, o->seg_len, cs, clen) > 0))
			break;
		link = &t->snodes[*link].next_pattern;
	}
	c->next_pattern = *link;
	*link = i;
	return i;
}

/* What is wrong with a spec template, or NULL. */
static const char *template_problem(const char *tmpl)
{
	struct seg g[ROUTES_DEPTH_MAX];
	char comp[ROUTES_SPEC_TEMPLATE_MAX * 2];
	size_t n, len = strlen(tmpl), clen;
	bool more, pattern;
	uint32_t lit_chars;
	const char *why = NULL;

	if (tmpl[0] != '/')
		return "a path template must start with '/'";
	if (len > ROUTES_SPEC_TEMPLATE_MAX)
		return "template longer than 1024 bytes";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)tmpl[i] < 0x20 || tmpl[i] == 0x7f)
			return "control character in template";
	n = split(tmpl, g, ROUTES_DEPTH_MAX, &more);
	if (more)
		return "template deeper than 32 segments";
	for (size_t i = 0; i < n; i++)
		if (compile_seg(&g[i], comp, &clen, &pattern, &lit_chars, &why) != 0)
			return why;
	return NULL;
}

int routes_check_template(const char *tmpl, char *err, size_t errlen)
{
	const char *why = template_problem(tmpl);
	if (!why)
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return -1;
}

int routes_add_spec(struct routes *t, const char *method, const char *tmpl, bool deprecated,
		    char *err, size_t errlen)
{
	struct seg g[ROUTES_DEPTH_MAX];
	char comp[ROUTES_SPEC_TEMPLATE_MAX * 2];
	size_t n, len = strlen(tmpl), clen;
	bool more, pattern;
	uint32_t lit_chars, node;
	const char *why = template_problem(tmpl);
	int m = -1;

	if (why) {
		if (err && errlen)
			snprintf(err, errlen, "\"%.200s\": %s", tmpl, why);
		return -1;
	}
	n = split(tmpl, g, ROUTES_DEPTH_MAX, &more);
	if (t->st.spec_ops >= t->lim.max_spec_ops) {
		if (err && errlen)
			snprintf(err, errlen, "too many operations (limit %u)", t->lim.max_spec_ops);
		return -1;
	}
	if (method && (m = method_index(t, method, true)) < 0) {
		if (err && errlen)
			snprintf(err, errlen, "too many distinct methods (limit %d)", M_OTHER);
		return -1;
	}
	if (t->n_snodes == 0 && snode_new(t) != ROOT)
		goto oom;
	node = ROOT;
	for (size_t i = 0; i < n; i++) {
		(void)compile_seg(&g[i], comp, &clen, &pattern, &lit_chars, &why);
		node = spec_child(t, node, comp, clen, pattern, lit_chars);
		if (!node)
			goto oom;
	}
	struct snode *s = &t->snodes[node];
	if (!s->end) {
		if (!(s->tmpl = dup_mem(t, tmpl, len)))
			goto oom;
		s->end = true;
	}
	if (m < 0) {
		s->any = true;
		s->any_dep |= deprecated;
	} else {
		s->doc_mask |= 1u << m;
		if (deprecated)
			s->dep_mask |= 1u << m;
	}
	t->st.spec_ops++;
	t->spec_loaded = true;
	return 0;
oom:
	if (err && errlen)
		snprintf(err, errlen, "out of memory");
	return -1;
}

void routes_set_spec(struct routes *t)
{
	t->spec_loaded = true;
}

/* ---- the table ---- */

struct routes *routes_new(const struct routes_limits *lim)
{
	if (lim->max_nodes < 2 || lim->max_nodes > 65535 || lim->max_entries < 1 ||
	    lim->max_entries > (1u << 26) || lim->max_hosts > 65534 || lim->max_depth < 1 ||
	    lim->max_depth > ROUTES_DEPTH_MAX || lim->param_min_distinct < 1 ||
	    lim->param_min_distinct >= ROUTES_CHILD_MAX || lim->param_once_pct > 100 ||
	    lim->pin_min_hits < 1 ||
	    lim->pin_share < 1)
		return NULL;
	struct routes *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->lim = *lim;
	t->st.memory = sizeof *t;
	t->nodes = calloc((size_t)lim->max_nodes + 1, sizeof *t->nodes);
	t->entries = calloc((size_t)lim->max_entries + 1, sizeof *t->entries);
	t->host_root = calloc((size_t)lim->max_hosts + 1, sizeof *t->host_root);
	if (!t->nodes || !t->entries || !t->host_root)
		goto fail;
	t->st.memory += ((size_t)lim->max_nodes + 1) * sizeof *t->nodes +
			((size_t)lim->max_entries + 1) * sizeof *t->entries +
			((size_t)lim->max_hosts + 1) * sizeof *t->host_root;
	if (lim->max_hosts) {
		uint32_t cap = 16;
		while (cap < 2 * lim->max_hosts)
			cap *= 2;
		t->host_names = calloc(lim->max_hosts, sizeof *t->host_names);
		t->host_slots = calloc(cap, sizeof *t->host_slots);
		if (!t->host_names || !t->host_slots)
			goto fail;
		t->host_mask = cap - 1;
		t->st.memory += (size_t)lim->max_hosts * sizeof *t->host_names +
				cap * sizeof *t->host_slots;
	}
	/* Free lists in index order, so that the same input uses the same nodes. */
	for (uint32_t i = 1; i <= lim->max_nodes; i++) {
		t->nodes[i].flags = NF_FREE;
		t->nodes[i].parent = (uint16_t)(i < lim->max_nodes ? i + 1 : 0);
	}
	t->free_node = 1;
	for (uint32_t i = 1; i <= lim->max_entries; i++)
		t->entries[i].next = i < lim->max_entries ? i + 1 : 0;
	t->free_entry = 1;
	for (unsigned i = 0; i < N_STD; i++)
		memcpy(t->methods[i], std_methods[i], strlen(std_methods[i]) + 1);
	t->n_methods = N_STD;
	memcpy(t->methods[M_OTHER], "OTHER", 6);
	return t;
fail:
	routes_free(t);
	return NULL;
}

void routes_free(struct routes *t)
{
	if (!t)
		return;
	for (uint32_t i = ROOT; i < t->n_snodes; i++) {
		free(t->snodes[i].seg);
		free(t->snodes[i].tmpl);
	}
	free(t->snodes);
	free(t->shash);
	free(t->host_names);
	free(t->host_slots);
	free(t->host_root);
	free(t->entries);
	free(t->nodes);
	free(t);
}

static void render_by_class(struct routes *t, struct tbuf *b, const struct seg *g)
{
	enum seg_class c = classify_kept(t, g);
	tb_put(b, "/", 1);
	if (c == SEG_LITERAL)
		tb_put(b, g->p, g->len);
	else
		tb_str(b, class_names[c]);
}

/* Is the route behind this status known to exist? (see routes.h, Evidence) */
static bool status_is_evidence(int status)
{
	switch (status) {
	case 401: case 404: case 407: case 414: case 421: case 431:
		return false;
	default:
		return true;
	}
}

/* The learned tree's root for the request's host, made on evidence; 0 when none. */
static uint16_t host_tree(struct routes *t, const struct api_event *ev, bool evidence,
			  uint16_t *host)
{
	*host = 0;
	if (ev->has_host && ev->host[0]) {
		*host = host_find(t, ev->host, evidence);
		/* Unknown without evidence: nothing learned for it. A full table
		 * puts the host with the requests that carry none. */
		if (!*host && !evidence && t->st.hosts < t->lim.max_hosts)
			return 0;
	}
	uint16_t r = t->host_root[*host];
	if (!r && evidence) {
		r = node_alloc(t, 0, (enum seg_class)KIND_ROOT, NULL, 0);
		if (r) {
			t->nodes[r].host = *host;
			t->host_root[*host] = r;
		}
	}
	return r;
}

enum routes_verdict routes_observe(struct routes *t, const struct api_event *ev, char *route,
				   size_t cap)
{
	struct tbuf b = {route, cap, 0};
	struct seg g[ROUTES_DEPTH_MAX];
	enum routes_verdict unknown = t->spec_loaded ? ROUTES_SHADOW : ROUTES_NO_SPEC;
	const char *path = ev->path[0] ? ev->path : "/";
	bool more;
	uint16_t host;

	if (cap)
		route[0] = '\0';
	t->st.observed++;
	if (path[0] != '/') {
		/* asterisk-form (OPTIONS *) or authority-form (CONNECT host:port) */
		tb_str(&b, strcmp(path, "*") == 0 ? "*" : "{authority}");
		t->st.unrouted++;
		return unknown;
	}
	size_t n = split(path, g, ROUTES_DEPTH_MAX, &more);
	unsigned m = (unsigned)method_index(t, ev->method, false);

	if (t->n_snodes > ROOT && !more) {
		uint32_t si = spec_match(t, g, n);
		if (si) {
			struct snode *s = &t->snodes[si];
			if (ev->has_host && ev->host[0])
				host = host_find(t, ev->host, true);
			else
				host = 0;
			struct rentry *e = entry_get(t, &s->first_entry, (uint8_t)m, host);
			tb_str(&b, s->tmpl);
			if (e) {
				entry_count(e, ev);
				t->st.spec_matched++;
			} else {
				t->st.unrouted++;
			}
			return spec_verdict(s, m);
		}
	}

	bool folded = more || n > t->lim.max_depth;
	size_t limit = folded ? t->lim.max_depth - 1 : n, i = 0;
	bool evidence = status_is_evidence(ev->status);
	uint16_t ni = host_tree(t, ev, evidence, &host);

	if (folded)
		t->st.depth_folded++;
	if (ni)
		t->nodes[ni].hits++;
	for (; ni && i < limit; i++) {
		struct rnode *nd = &t->nodes[ni];
		enum seg_class c = classify_kept(t, &g[i]);
		uint16_t ci = 0;
		if (c == SEG_LITERAL) {
			size_t pos;
			nd->lit_hits++;
			ci = lit_find(t, nd, g[i].p, g[i].len, &pos);
			if (!ci && (nd->flags & NF_PARAM))
				c = SEG_PARAM;
			else if (!ci && evidence)
				ci = lit_add(t, ni, &g[i], pos);
		}
		if (c != SEG_LITERAL)
			ci = class_child(t, ni, c, evidence);
		if (!ci)
			break;
		render_node(&b, &t->nodes[ci]);
		ni = ci;
		t->nodes[ni].hits++;
	}
	bool stored = ni && i == limit;
	for (; i < limit; i++)
		render_by_class(t, &b, &g[i]);
	if (folded) {
		tb_str(&b, "/{rest}");
		if (stored) {
			uint16_t ci = class_child(t, ni, SEG_REST, evidence);
			if (ci) {
				ni = ci;
				t->nodes[ni].hits++;
			}
			stored = ci != 0;
		}
	}
	struct rentry *e = stored ? entry_get(t, &t->nodes[ni].first_entry, (uint8_t)m, host) : NULL;
	if (e) {
		entry_count(e, ev);
		t->st.learned++;
	} else {
		t->st.unrouted++;
	}
	return unknown;
}

/* ---- walking the inventory ---- */

/* One inventory entry with what it is sorted by. */
struct witem {
	const char *tmpl;
	const char *host;  /* NULL: none */
	const char *method;
	bool spec;
	uint32_t node;     /* rnode or snode index */
	const struct rentry *e;
};

static int str_or_null_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : b ? -1 : 0;
	return strcmp(a, b);
}

static int witem_cmp(const void *a, const void *b)
{
	const struct witem *x = a, *y = b;
	int r = strcmp(x->tmpl, y->tmpl);
	if (!r)
		r = str_or_null_cmp(x->host, y->host);
	if (!r && x->spec != y->spec)
		r = x->spec ? -1 : 1;
	if (!r)
		r = x->node < y->node ? -1 : x->node > y->node;
	if (!r)
		r = strcmp(x->method, y->method);
	return r;
}

static bool same_route(const struct witem *x, const struct witem *y)
{
	return x->spec == y->spec && x->node == y->node && x->e->host == y->e->host;
}

static char *learned_template(const struct routes *t, uint16_t ni)
{
	uint16_t chain[ROUTES_DEPTH_MAX + 1];
	size_t depth = 0;
	char buf[ROUTES_ROUTE_MAX];
	struct tbuf b = {buf, sizeof buf, 0};

	for (uint16_t i = ni; i && t->nodes[i].kind != KIND_ROOT && depth < ROUTES_DEPTH_MAX + 1;
	     i = t->nodes[i].parent)
		chain[depth++] = i;
	buf[0] = '\0';
	while (depth)
		render_node(&b, &t->nodes[chain[--depth]]);
	return strdup(buf);
}

static enum routes_verdict item_verdict(const struct routes *t, const struct witem *it)
{
	if (it->spec)
		return spec_verdict(&t->snodes[it->node], it->e->method);
	return t->spec_loaded ? ROUTES_SHADOW : ROUTES_NO_SPEC;
}

/* Calls fn for the route made of items[0..n). */
static int walk_route(const struct routes *t, const struct witem *items, size_t n,
		      routes_walk_fn fn, void *ctx)
{
	struct routes_op ops[ROUTES_METHODS_MAX];
	struct routes_route r;
	struct sketch all = {0};
	bool shadow = false, zombie = false, documented = false;

	memset(&r, 0, sizeof r);
	r.route = items[0].tmpl;
	r.host = items[0].host;
	r.from_spec = items[0].spec;
	for (size_t k = 0; k < n; k++) {
		const struct rentry *e = items[k].e;
		struct routes_op *o = &ops[k];
		o->method = items[k].method;
		o->first_us = e->first_us;
		o->last_us = e->last_us;
		o->requests = e->requests;
		o->unauthenticated = e->unauth;
		o->identities = sketch_count(&e->ids);
		memcpy(o->status, e->status, sizeof o->status);
		o->verdict = item_verdict(t, &items[k]);
		if (k == 0 || o->first_us < r.first_us)
			r.first_us = o->first_us;
		if (o->last_us > r.last_us)
			r.last_us = o->last_us;
		r.requests += o->requests;
		r.unauthenticated += o->unauthenticated;
		for (unsigned s = 0; s < RS__COUNT; s++)
			r.status[s] += o->status[s];
		sketch_merge(&all, &e->ids);
		shadow |= o->verdict == ROUTES_SHADOW;
		zombie |= o->verdict == ROUTES_ZOMBIE;
		documented |= o->verdict == ROUTES_DOCUMENTED;
	}
	r.ops = ops;
	r.n_ops = n;
	r.identities = sketch_count(&all);
	r.verdict = shadow ? ROUTES_SHADOW
		    : zombie ? ROUTES_ZOMBIE
		    : documented ? ROUTES_DOCUMENTED
				 : ROUTES_NO_SPEC;
	return fn(ctx, &r);
}

int routes_walk(const struct routes *t, routes_walk_fn fn, void *ctx)
{
	size_t n = 0, i, j;
	char **tmpls = calloc((size_t)t->lim.max_nodes + 1, sizeof *tmpls);
	struct witem *items = calloc(t->st.entries ? t->st.entries : 1, sizeof *items);
	int rc = -1;

	if (!tmpls || !items)
		goto out;
	for (i = 1; i <= t->lim.max_nodes; i++) {
		for (uint32_t k = t->nodes[i].first_entry; k; k = t->entries[k].next) {
			const struct rentry *e = &t->entries[k];
			if (!e->requests || n == t->st.entries)
				continue;
			if (!tmpls[i] && !(tmpls[i] = learned_template(t, (uint16_t)i)))
				goto out;
			items[n++] = (struct witem){tmpls[i], e->host ? t->host_names[e->host - 1] : NULL,
						    t->methods[e->method], false, (uint32_t)i, e};
		}
	}
	for (i = ROOT; i < t->n_snodes; i++) {
		for (uint32_t k = t->snodes[i].first_entry; k; k = t->entries[k].next) {
			const struct rentry *e = &t->entries[k];
			if (!e->requests || n == t->st.entries)
				continue;
			items[n++] = (struct witem){t->snodes[i].tmpl,
						    e->host ? t->host_names[e->host - 1] : NULL,
						    t->methods[e->method], true, (uint32_t)i, e};
		}
	}
	qsort(items, n, sizeof items[0], witem_cmp);
	rc = 0;
	for (i = 0; i < n && rc == 0; i = j) {
		for (j = i + 1; j < n && j - i < ROUTES_METHODS_MAX && same_route(&items[i], &items[j]);
		     j++)
			;
		rc = walk_route(t, items + i, j - i, fn, ctx);
	}
out:
	if (tmpls)
		for (i = 0; i <= t->lim.max_nodes; i++)
			free(tmpls[i]);
	free(tmpls);
	free(items);
	return rc;
}

void routes_get_stats(const struct routes *t, struct routes_stats *s)
{
	*s = t->st;
}

/*
 * routes.h - route templates and the API inventory, learned from traffic.
 *
 * Every request's path becomes a route template ("/v1/users/42" ->
 * "/v1/users/{id}") and is counted in the inventory entry of its
 * (template, method): first/last seen, requests, distinct identities,
 * status mix, and a verdict against the OpenAPI spec when one is loaded.
 *
 * Templates: the path is split on '/' and each segment is classified:
 *   digits only                                  {id}      42
 *   8-4-4-4-12 hex                               {uuid}    3f2a...-...
 *   >= 8 hex digits, at least one digit          {hex}     5fc521982b
 *   >= 16 of [A-Za-z0-9_=~-], letters and digits
 *     interleaved, or mixed case at high density,
 *     or a JWT (three base64url parts)           {token}   dGhpc19pc19hX3Q0a2Vu
 *   local@domain.tld (also %40)                  {email}   alice@example.com
 *   YYYY-MM-DD, optionally with a time           {date}    2026-11-28
 *   empty (a trailing '/', "//")                 ""        /v1/users/
 *   anything else                                a literal ("users", "me")
 * Literals are kept in a tree of positions (parent -> child values), so that
 * a position whose literal values really vary becomes {param}. It does when
 * a new value arrives and the position then holds more than
 * `param_min_distinct` (8) distinct values of which at least
 * `param_once_pct` (75%) were seen only once (ids, user names: each new
 * request brings a new value), or more than ROUTES_CHILD_MAX (32) values
 * whatever their counts. Resource names repeat (/v1/users, /v1/orders):
 * a dozen of them stay literal. Its values are then merged into one
 * {param} child (their subtrees and inventory entries too) and it stores no
 * new value. Values that carry a large share of the position's traffic at
 * that moment (>= `pin_min_hits` requests and >= 1/`pin_share` of them)
 * stay literal: /v1/users/me next to /v1/users/{param}. Templates given
 * before the switch keep their literal (a stream cannot look ahead); the
 * inventory holds the merged route only.
 * A literal longer than ROUTES_LITERAL_MAX, or holding '{' or '}', is
 * {param} at once; a path deeper than `max_depth` segments ends in {rest}.
 *
 * Evidence: only a request the server answered as an existing route (any
 * status, or none seen, but 401, 404, 407, 414, 421 and 431, which servers
 * give before or instead of routing) adds hosts and positions to the tree.
 * Others follow the positions already there and are counted where the
 * whole path is known; where it is not (scanners: /.env, /wp-login.php
 * answered 404, or 401 before routing) they get a template by class alone
 * and are not in the inventory (stats.unrouted).
 *
 * Spec: routes_add_spec() templates ("/v1/users/{userId}", from OpenAPI)
 * take precedence: a path that matches one gets that template, parameter
 * names kept, and never enters the learned tree. Literal segments win over
 * templated ones ("/users/me" before "/users/{id}", OpenAPI 3 "Path
 * Templating Matching"); a {name} matches one non-empty segment or part of
 * one ("/files/{name}.json"); a trailing '/' in the request is ignored
 * when only the path without it matches.
 *
 * Hosts: each host (the Host header or :authority, lower-cased, port kept)
 * has its own learned tree and its own inventory entries, so that the
 * services behind one sensor do not mix their positions (/docs of one and
 * /v1 of another are not values of one position). A host is remembered on
 * evidence only, at most max_hosts of them; requests without a Host, and
 * those of hosts beyond the cap, share one tree (host null). Spec templates
 * match the path whatever the host.
 *
 * Verdicts, per (route, method):
 *   documented  the spec lists this method on this path (HEAD is implied
 *               by GET, a path added with method NULL covers every method)
 *   zombie      the spec lists it as deprecated, and it is used
 *   shadow      a spec is loaded and does not list it (path or method)
 *   no_spec     no spec is loaded
 * A route's verdict is its worst operation's: shadow, then zombie, then
 * documented.
 *
 * Memory: every pool is allocated by routes_new() (nodes, entries, hosts);
 * routes_observe() never allocates. Spec routes are allocated as they are
 * added (at start-up). Each cap has a counter in routes_stats. Same input,
 * same templates and inventory: no random seed, no clock, no iteration over
 * anything unordered.
 */
#ifndef TAPIR_ROUTES_H
#define TAPIR_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../decoders/event.h"

#define ROUTES_MUST_CHECK __attribute__((warn_unused_result))

/* Literal values tracked per position; one more makes the position {param}. */
#define ROUTES_CHILD_MAX 32
/* Longest literal segment kept as a literal (longer ones are {param}). */
#define ROUTES_LITERAL_MAX 63
/* Most segments ever templated (max_depth is at most this). */
#define ROUTES_DEPTH_MAX 32
/* Longest spec template accepted by routes_add_spec(). */
#define ROUTES_SPEC_TEMPLATE_MAX 1024
/* A route buffer this large never truncates a template. */
#define ROUTES_ROUTE_MAX (ROUTES_DEPTH_MAX * (ROUTES_LITERAL_MAX + 1) + 64)
/* Methods told apart (9 standard ones, then the first others seen, then "OTHER"). */
#define ROUTES_METHODS_MAX 32
/* Identities counted exactly per entry before the HyperLogLog takes over. */
#define ROUTES_IDS_EXACT 16

enum routes_verdict {
	ROUTES_NO_SPEC,
	ROUTES_DOCUMENTED,
	ROUTES_ZOMBIE,
	ROUTES_SHADOW,
};

/* "no_spec", "documented", "zombie", "shadow". */
const char *routes_verdict_name(enum routes_verdict v);

struct routes_limits {
	uint32_t max_nodes;          /* learned tree positions, 2..65535 */
	uint32_t max_entries;        /* inventory entries (route x method), learned and spec */
	uint32_t max_hosts;          /* distinct Host values remembered, 0..65534 */
	uint32_t max_depth;          /* segments templated; deeper ones end in {rest}; 1..32 */
	uint32_t param_min_distinct; /* more distinct values than this may make {param}; < 32 */
	uint32_t param_once_pct;     /* ... when at least this % of them were seen only once */
	uint32_t pin_min_hits;       /* at the switch, a value seen at least this often */
	uint32_t pin_share;          /* ... and carrying >= 1/pin_share of the position stays */
	uint32_t max_spec_ops;       /* routes_add_spec() calls kept */
};

/*
 * The defaults, and why: 16384 positions and 16384 entries (176 and 232
 * bytes each: 6.5 MiB in all) hold a large API many times over (GitHub's
 * REST API documents about 900 paths), leaving room for shadow ones; 256
 * hosts is more services than one sensor port sees; 16 segments is deeper
 * than APIs go (deeper paths are file trees: their tail is {rest}); 8 / 75%
 * / 16 / 8 for {param} and pinning (see the top of this file; a dozen
 * resource names stay literal, a ninth user name that arrives with mostly
 * one-off siblings switches); 65536 spec operations (the largest public
 * specs have a few thousand).
 */
void routes_limits_default(struct routes_limits *l);

struct routes_stats {
	uint64_t observed;        /* routes_observe() calls = spec_matched + learned + unrouted */
	uint64_t spec_matched;    /* ... counted in a spec route */
	uint64_t learned;         /* ... counted in a learned route */
	uint64_t unrouted;        /* ... not counted: no evidence for an unknown path, or a cap */
	uint64_t nodes;           /* learned positions in use (hosts' roots included) */
	uint64_t nodes_full;      /* a position was needed and the pool was empty */
	uint64_t entries;         /* inventory entries in use */
	uint64_t entries_full;    /* an entry was needed and the pool was empty */
	uint64_t params_made;     /* positions turned into {param} */
	uint64_t nodes_merged;    /* positions folded into another by a {param} switch */
	uint64_t depth_folded;    /* paths deeper than max_depth */
	uint64_t literal_too_long;/* segments made {param} for their length or braces */
	uint64_t hosts;           /* distinct hosts remembered */
	uint64_t hosts_full;      /* a host was not remembered (table full): counted as none */
	uint64_t methods_full;    /* requests whose method was counted as OTHER */
	uint64_t spec_ops;        /* spec (method, template) pairs loaded */
	uint64_t spec_steps_capped; /* spec matches abandoned at the step cap */
	uint64_t memory;          /* bytes owned */
};

struct routes;

/*
 * Returns a new table with every pool allocated, or NULL when out of memory
 * or a limit is out of range (then *lim is not usable as it is).
 */
struct routes *routes_new(const struct routes_limits *lim);

void routes_free(struct routes *t);

/*
 * Adds a spec operation: `method` ("GET"; NULL for every method) on
 * `tmpl`, a path template starting with '/' whose {name} parts stand for
 * one segment or part of one. `deprecated` marks it as to be retired.
 * Adding the same (method, template) again ORs `deprecated`. Also marks a
 * spec as loaded (see routes_set_spec). Call before the first
 * routes_observe(). Returns 0, or -1 with a one-line reason in err: bad
 * template (empty {}, unbalanced braces, a control character, longer than
 * ROUTES_SPEC_TEMPLATE_MAX or deeper than ROUTES_DEPTH_MAX), max_spec_ops
 * reached, out of memory.
 */
int routes_add_spec(struct routes *t, const char *method, const char *tmpl, bool deprecated,
		    char *err, size_t errlen) ROUTES_MUST_CHECK;

/* Checks a template as routes_add_spec() does: 0, or -1 with the reason in err. */
int routes_check_template(const char *tmpl, char *err, size_t errlen) ROUTES_MUST_CHECK;

/*
 * Marks a spec as loaded even when it lists no path: from then on learned
 * routes are "shadow" rather than "no_spec".
 */
void routes_set_spec(struct routes *t);

/*
 * One request: writes its route template into route[cap] (NUL-terminated;
 * cut when cap < ROUTES_ROUTE_MAX and the template is longer) and counts it
 * in the inventory. Uses ev->method, host, path, status, identity.kind,
 * identity.id and ts_us (the packet time: first/last seen). Returns the
 * verdict of the request's (route, method). Never allocates. A path that
 * does not start with '/' gets "*" (OPTIONS *) or "{authority}" (CONNECT)
 * and is not counted.
 */
enum routes_verdict routes_observe(struct routes *t, const struct api_event *ev, char *route,
				   size_t cap);

/* Status classes in routes_op.status and routes_route.status. */
enum routes_status { RS_1XX, RS_2XX, RS_3XX, RS_4XX, RS_5XX, RS_NULL, RS_OTHER, RS__COUNT };

/* One (route, method) of the inventory. */
struct routes_op {
	const char *method;
	uint64_t first_us, last_us; /* packet times */
	uint64_t requests;
	uint64_t unauthenticated;   /* requests with identity kind none */
	uint64_t identities;        /* distinct identities: exact up to 16, then estimated */
	uint64_t status[RS__COUNT];
	enum routes_verdict verdict;
};

/* One route of the inventory (host, template), with its operations sorted by method name. */
struct routes_route {
	const char *host;           /* lower-cased; NULL: no Host header (or hosts over the cap) */
	const char *route;          /* the template */
	bool from_spec;             /* the template is the spec's */
	const struct routes_op *ops;
	size_t n_ops;
	/* All operations together: */
	uint64_t first_us, last_us, requests, unauthenticated, identities;
	uint64_t status[RS__COUNT];
	enum routes_verdict verdict;
};

/* Returns 0 to go on, anything else to stop the walk (routes_walk returns it). */
typedef int (*routes_walk_fn)(void *ctx, const struct routes_route *r);

/*
 * Calls fn for every route with at least one request, sorted by template,
 * then host (byte order; null first), operations sorted by method. Pointers
 * live for the call.
 * Allocates (for the sort): returns 0, fn's nonzero, or -1 when out of memory.
 */
int routes_walk(const struct routes *t, routes_walk_fn fn, void *ctx) ROUTES_MUST_CHECK;

void routes_get_stats(const struct routes *t, struct routes_stats *s);

#endif

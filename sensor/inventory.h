/*
 * inventory.h - the API inventory (models/routes.h) as JSON lines: one
 * route, that is one (host, template), per line, sorted by template then
 * host, its operations sorted by method:
 *
 *   {"type":"route","host":"api.example.com","route":"/v1/users/{id}",
 *    "source":"learned","methods":["DELETE","GET"],
 *    "first_seen":"2026-11-28T09:15:02.123456Z","last_seen":"...Z",
 *    "requests":120,"identities":7,"unauthenticated":2,
 *    "status":{"1xx":0,"2xx":110,"3xx":0,"4xx":10,"5xx":0,"null":0},
 *    "verdict":"shadow",
 *    "operations":[{"method":"DELETE","first_seen":"...","last_seen":"...",
 *      "requests":3,"identities":1,"unauthenticated":0,"status":{...},
 *      "verdict":"shadow"}, ...]}
 *
 * host is null for requests without a Host header; source is "spec" when
 * the template is the OpenAPI document's, else "learned"; identities counts
 * distinct identities (exact up to 16, then estimated within ~10%);
 * unauthenticated counts requests with identity kind none; status has an
 * "other" member too when a status outside 100-599 was seen; verdict is
 * documented, zombie, shadow or no_spec (models/routes.h), the route's
 * being its worst operation's.
 */
#ifndef TAPIR_INVENTORY_H
#define TAPIR_INVENTORY_H

#include <stddef.h>
#include <stdio.h>

#define INVENTORY_MUST_CHECK __attribute__((warn_unused_result))

/* Longest line (a route with every method seen, a long host and template). */
#define INVENTORY_LINE_MAX 65536

struct routes;
struct routes_route;

/*
 * Writes the inventory to `path` atomically: into "PATH.tmp.PID" in the
 * same directory, flushed and fsync'd, then renamed over PATH, so that a
 * reader sees the old inventory or the new one, never half of one. "-"
 * writes to stdout (no rename). Returns 0, or -1 with one line in err:
 *   "--inventory PATH: <what failed>: <strerror>"
 * Not async-signal-safe: on SIGUSR1 the daemon sets a flag and calls this
 * from its loop.
 */
int inventory_write(const struct routes *t, const char *path, char *err,
		    size_t errlen) INVENTORY_MUST_CHECK;

/* The inventory lines to an open stream. Returns 0, or -1 (errno set) on a
 * write error or when out of memory. */
int inventory_write_stream(const struct routes *t, FILE *out) INVENTORY_MUST_CHECK;

/* One route as one line of JSON with its '\n' into buf; the length, or 0
 * when it did not fit (cap >= INVENTORY_LINE_MAX always fits). */
size_t inventory_line(const struct routes_route *r, char *buf, size_t cap);

/* The route table's counters as the JSON member "routes":{...} (no braces
 * around it, no comma before it), for --stats. */
void inventory_stats_json(const struct routes *t, FILE *out);

#endif

/*
 * forwarded.h - the client behind trusted proxies, from X-Forwarded-For and
 * Forwarded (RFC 7239) headers.
 *
 * Only a trusted proxy's word counts: starting from the packet's source, while
 * the current hop is a trusted proxy, step to the address it says it received
 * the request from (the rightmost entry not yet used). The first address that
 * is not a trusted proxy is the client. Anyone can write these headers, so an
 * untrusted source's headers are ignored, and entries left of the first
 * untrusted hop are never believed.
 */
#ifndef TAPIR_FORWARDED_H
#define TAPIR_FORWARDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address block; IPv4 as ::ffff:a.b.c.d with prefix 96 + n. */
struct cidr {
	uint8_t addr[16];
	uint8_t prefix; /* 0..128 */
};

bool cidr_contains(const struct cidr *c, const uint8_t a[16]);

/* Parses "10.0.0.0/8", "2001:db8::/32" or a bare address; returns 0 or -1. */
int cidr_parse(const char *s, struct cidr *out);

/*
 * Resolves the client. `xff` and `fwd` are the header values (NULL when
 * absent; when both are present Forwarded is used). Returns true and sets
 * `out` when the client differs from `peer`.
 */
bool forwarded_resolve(const uint8_t peer[16], const struct cidr *trusted, size_t n_trusted,
		       const char *xff, size_t xff_len, const char *fwd, size_t fwd_len,
		       uint8_t out[16]);

#endif

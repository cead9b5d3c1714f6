/*
 * base64.h - base64 and base64url text -> bytes (RFC 4648 4 and 5).
 *
 * For credentials: HTTP Basic (base64, RFC 7617 2), the three parts of a JWS
 * (base64url, RFC 7515 2) and the members of a JWK (base64url, RFC 7517,
 * RFC 7518 6). Pure functions: the caller gives the output buffer and its
 * size, and nothing is allocated.
 */
#ifndef TAPIR_BASE64_H
#define TAPIR_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value (0..63) of one character of the base64 (url: base64url) alphabet, or -1. */
int base64_value(unsigned char c, bool url);

/*
 * Decodes base64 (url: base64url) text in[0..n) into out[0..cap). Padding is
 * optional; '=' only at the end, at most two. Returns the decoded length, or
 * -1 when the text is malformed or decodes to more than cap bytes (checked
 * before anything is written).
 */
long base64_decode(const char *in, size_t n, bool url, uint8_t *out, size_t cap);

#endif

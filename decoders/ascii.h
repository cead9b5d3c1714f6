/*
 * ascii.h - case-insensitive comparison of field names (RFC 9110 5.1: field
 * names are case-insensitive ASCII tokens).
 *
 * The same result as strncasecmp in the C locale, which is the only one tapir
 * runs in, without the locale lookup per byte: header names are compared a
 * dozen times per request, and __strncasecmp_l was a percent of the replay.
 */
#ifndef TAPIR_ASCII_H
#define TAPIR_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline unsigned char ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* a[0..n) and b[0..n) equal but for ASCII case (no NUL handling: n is exact). */
static inline bool ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

/* n (<= 8) bytes as a word, zero-padded: a constant n makes it one load. */
static inline uint64_t ascii_word(const char *p, size_t n)
{
	uint64_t w = 0;
	memcpy(&w, p, n);
	return w;
}

/*
 * a[0..n) equal to the literal `lit` but for ASCII case, eight bytes at a
 * time. `lit` holds only lower-case letters and bytes below 0x40 (digits,
 * '-', ':', '/'; all our field names and prefixes). Exact: where lit has a
 * letter L, a byte b passes (b | 0x20) == L only for L and its upper case;
 * elsewhere the mask is 0 and b must equal lit's byte.
 */
static inline bool ascii_ieq_lit(const char *a, const char *lit, size_t n)
{
	const uint64_t letter = 0x4040404040404040ull; /* the bit lower-case letters have */
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t l = ascii_word(lit + i, 8);
		if ((ascii_word(a + i, 8) | (l & letter) >> 1) != l)
			return false;
	}
	if (i < n) {
		uint64_t l = ascii_word(lit + i, n - i);
		if ((ascii_word(a + i, n - i) | (l & letter) >> 1) != l)
			return false;
	}
	return true;
}

/* name[0..nlen) is the lower-case literal `lit`, case aside; the length settles most. */
#define ASCII_NAME_IS(name, nlen, lit) \
	((nlen) == sizeof(lit) - 1 && ascii_ieq_lit(name, lit, sizeof(lit) - 1))

#endif

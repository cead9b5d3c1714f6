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

/* Bytes of `a` equal those of `l`, where l holds a lower-case literal's bytes. */
static inline bool ascii_word_ieq(uint64_t a, uint64_t l)
{
	const uint64_t letter = 0x4040404040404040ull; /* the bit lower-case letters have */
	return (a | (l & letter) >> 1) == l;
}

static inline uint64_t ascii_load8(const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

static inline uint64_t ascii_load4(const char *p)
{
	uint32_t w;
	memcpy(&w, p, 4);
	return w;
}

static inline uint64_t ascii_load2(const char *p)
{
	uint16_t w;
	memcpy(&w, p, 2);
	return w;
}

/*
 * a[0..n) equal to the literal `lit` but for ASCII case, eight bytes at a
 * time. `lit` holds only lower-case letters and bytes below 0x40 (digits,
 * '-', ':', '/'; all our field names and prefixes). Exact: where lit has a
 * letter L, a byte b passes (b | 0x20) == L only for L and its upper case;
 * elsewhere the mask is 0 and b must equal lit's byte. A tail is compared as
 * loads that end at n and overlap bytes already found equal, never as a copy
 * into a zeroed word (that stalls on store forwarding).
 */
static inline bool ascii_ieq_lit(const char *a, const char *lit, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		if (!ascii_word_ieq(ascii_load8(a + i), ascii_load8(lit + i)))
			return false;
	if (i == n)
		return true;
	if (n >= 8)
		return ascii_word_ieq(ascii_load8(a + n - 8), ascii_load8(lit + n - 8));
	if (n >= 4)
		return ascii_word_ieq(ascii_load4(a), ascii_load4(lit)) &&
		       ascii_word_ieq(ascii_load4(a + n - 4), ascii_load4(lit + n - 4));
	if (n >= 2)
		return ascii_word_ieq(ascii_load2(a), ascii_load2(lit)) &&
		       ascii_word_ieq(ascii_load2(a + n - 2), ascii_load2(lit + n - 2));
	return ascii_word_ieq((unsigned char)a[0], (unsigned char)lit[0]);
}

/* name[0..nlen) is the lower-case literal `lit`, case aside; the length settles most. */
#define ASCII_NAME_IS(name, nlen, lit) \
	((nlen) == sizeof(lit) - 1 && ascii_ieq_lit(name, lit, sizeof(lit) - 1))

#endif

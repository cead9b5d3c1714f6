/*
 * base64.c - base64 and base64url decoding (RFC 4648 4 and 5).
 *
 * Every 4 characters carry 3 bytes; a last group of 2 or 3 characters
 * carries 1 or 2 (a lone last character carries no whole byte: malformed).
 * The bits left over at the end are ignored, as most decoders do.
 *
 *   chars   Q       U       J       D
 *   bits    010000  010100  001001  000011
 *   bytes   01000001 01000010 01000011          "ABC"
 */
#include "base64.h"

int base64_value(unsigned char c, bool url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t n, bool url, uint8_t *out, size_t cap)
{
	size_t i, o = 0, want;
	uint32_t acc = 0;
	int bits = 0;

	if (n >= 1 && in[n - 1] == '=')
		n--;
	if (n >= 1 && in[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	want = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
	if (want > cap)
		return -1;
	for (i = 0; i < n; i++) {
		int v = base64_value((unsigned char)in[i], url);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)o;
}

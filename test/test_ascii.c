/*
 * test_ascii.c - decoders/ascii.h compares exactly as strncasecmp does in the
 * C locale (what it replaced): every literal the sensor matches, against
 * every byte value at every position, and against random bytes.
 */
#include "unit.h"

#include <strings.h>

#include "../decoders/ascii.h"

static const char *const lits[] = {
	"authorization", "x-forwarded-for", "forwarded", "host", "user-agent", "content-type",
	"cookie", "http://", "https://", "h2c", "application/grpc", "a", "0123456789-:/", "h2",
	"grpc-",
};

static void test_every_byte(void)
{
	char s[64];
	for (size_t k = 0; k < sizeof lits / sizeof lits[0]; k++) {
		const char *lit = lits[k];
		size_t n = strlen(lit);
		for (size_t i = 0; i < n; i++) {
			for (int c = 0; c < 256; c++) {
				memcpy(s, lit, n);
				s[i] = (char)c;
				int want = strncasecmp(s, lit, n) == 0;
				CHECK_EQ(ascii_ieq_lit(s, lit, n), want);
				CHECK_EQ(ascii_ieq(s, lit, n), want);
				CHECK_EQ(ASCII_NAME_IS(s, n, "authorization"),
					 n == 13 && strncasecmp(s, "authorization", 13) == 0);
				/* upper case everywhere else: still the same answer */
				for (size_t j = 0; j < n; j++)
					if (j != i)
						s[j] = (char)(s[j] >= 'a' && s[j] <= 'z' ? s[j] - 32 : s[j]);
				want = strncasecmp(s, lit, n) == 0;
				CHECK_EQ(ascii_ieq_lit(s, lit, n), want);
				CHECK_EQ(ascii_ieq(s, lit, n), want);
			}
		}
	}
}

static void test_random(void)
{
	uint64_t r = 0x2545f4914f6cdd1dull;
	char s[32], t[32];
	for (int i = 0; i < 200000; i++) {
		size_t n = 1 + (size_t)(r % 31);
		for (size_t j = 0; j < n; j++) {
			r ^= r << 13;
			r ^= r >> 7;
			r ^= r << 17;
			/* mostly letters in either case, so that equal strings come up */
			s[j] = r % 4 ? "aAbB-:/0"[r % 8] : (char)(r >> 8);
			t[j] = r % 5 ? "aAbB-:/0"[(r >> 3) % 8] : (char)(r >> 16);
			s[j] = s[j] ? s[j] : 1; /* field names hold no NUL; strncasecmp stops at one */
			t[j] = t[j] ? t[j] : 1;
		}
		CHECK_EQ(ascii_ieq(s, t, n), strncasecmp(s, t, n) == 0);
	}
}

int main(void)
{
	RUN(test_every_byte);
	RUN(test_random);
	return unit_done("test_ascii");
}

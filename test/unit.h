/*
 * unit.h - the smallest test harness that does the job.
 *
 * Each test_<module>.c is its own program: TEST functions run through RUN();
 * a test passes when no CHECK in it failed. unit_done() prints the closing line
 * "<program>: N passed, N failed" and returns the exit status.
 */
#ifndef TAPIR_UNIT_H
#define TAPIR_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_failed_checks;
static int unit_passed, unit_failed;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
				#cond);                                              \
			unit_failed_checks++;                                        \
		}                                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);        \
		if (unit_a_ != unit_b_) {                                            \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", \
				__FILE__, __LINE__, #a, unit_a_, #b, unit_b_);       \
			unit_failed_checks++;                                        \
		}                                                                    \
	} while (0)

#define CHECK_STR(a, b)                                                              \
	do {                                                                         \
		const char *unit_a_ = (a), *unit_b_ = (b);                           \
		if (!unit_a_ || !unit_b_ || strcmp(unit_a_, unit_b_) != 0) {         \
			fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, unit_a_ ? unit_a_ : "(null)",    \
				unit_b_ ? unit_b_ : "(null)");                       \
			unit_failed_checks++;                                        \
		}                                                                    \
	} while (0)

#define RUN(fn)                                                                      \
	do {                                                                         \
		int unit_before_ = unit_failed_checks;                               \
		fn();                                                                \
		if (unit_failed_checks == unit_before_)                              \
			unit_passed++;                                               \
		else {                                                               \
			unit_failed++;                                               \
			fprintf(stderr, "FAIL %s\n", #fn);                           \
		}                                                                    \
	} while (0)

static inline int unit_done(const char *prog)
{
	printf("%s: %d passed, %d failed\n", prog, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif

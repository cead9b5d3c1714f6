/*
 * fuzz_input.h - reading a fuzz input as a little structured program.
 *
 * Every harness turns the fuzzer's bytes into operations (frames, segments,
 * stream pieces, header fields). A read past the end returns zeros / an empty
 * slice, so every input is valid and truncating one only shortens the program.
 * Header-only: each harness is one translation unit.
 */
#ifndef TAPIR_FUZZ_INPUT_H
#define TAPIR_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A harness's own assertion: the sanitizers' kind of failure, with a reason. */
#define FZ_CHECK(cond)                                                          \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz: broken: %s\n", #cond);           \
			abort();                                                \
		}                                                               \
	} while (0)

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline size_t fz_left(const struct fz *in)
{
	return in->n;
}

static inline uint8_t fz_u8(struct fz *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static inline uint16_t fz_u16(struct fz *in)
{
	uint16_t hi = fz_u8(in);
	return (uint16_t)(hi << 8 | fz_u8(in));
}

static inline uint32_t fz_u32(struct fz *in)
{
	uint32_t hi = fz_u16(in);
	return hi << 16 | fz_u16(in);
}

/* Up to `want` bytes; *got says how many there were. */
static inline const uint8_t *fz_bytes(struct fz *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;
	*got = want < in->n ? want : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

/*
 * Stream records, shared by the HTTP/1 and HTTP/2 harnesses (and written by
 * make-corpus.py): one control byte, a 16-bit big-endian length, then that
 * many data bytes (none for a gap or a FIN).
 */
#define FZ_REC_SIDE 0x01 /* 0 = client, 1 = server */
#define FZ_REC_GAP 0x02  /* `len` bytes of this side are missing */
#define FZ_REC_FIN 0x04  /* this side finished (no data) */

struct fz_rec {
	uint8_t ctl;
	uint16_t len;
	const uint8_t *data;
	size_t got;
};

/* Returns 0 at the end of the input. */
static inline int fz_rec_next(struct fz *in, struct fz_rec *r)
{
	if (!fz_left(in))
		return 0;
	r->ctl = fz_u8(in);
	r->len = fz_u16(in);
	r->data = NULL;
	r->got = 0;
	if (!(r->ctl & (FZ_REC_GAP | FZ_REC_FIN)))
		r->data = fz_bytes(in, r->len, &r->got);
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

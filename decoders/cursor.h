/*
 * cursor.h - bounds-checked reader over untrusted bytes.
 *
 * Every fetch checks the remaining length; a fetch past the end returns 0 and
 * sets the sticky `overrun` flag, so a decoder reads a whole header and checks
 * the flag once (tcpdump's GET_BE_U_2 habit). Never cast a struct onto wire bytes.
 */
#ifndef TAPIR_CURSOR_H
#define TAPIR_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool overrun;
};

static inline void cur_init(struct cursor *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
	c->overrun = false;
}

static inline size_t cur_left(const struct cursor *c)
{
	return c->overrun ? 0 : c->len - c->off;
}

static inline bool cur_has(struct cursor *c, size_t n)
{
	if (c->overrun || c->len - c->off < n) {
		c->overrun = true;
		return false;
	}
	return true;
}

static inline uint8_t cur_u8(struct cursor *c)
{
	if (!cur_has(c, 1))
		return 0;
	return c->p[c->off++];
}

static inline uint16_t cur_be16(struct cursor *c)
{
	if (!cur_has(c, 2))
		return 0;
	uint16_t v = (uint16_t)((uint16_t)c->p[c->off] << 8 | c->p[c->off + 1]);
	c->off += 2;
	return v;
}

static inline uint16_t cur_le16(struct cursor *c)
{
	if (!cur_has(c, 2))
		return 0;
	uint16_t v = (uint16_t)((uint16_t)c->p[c->off + 1] << 8 | c->p[c->off]);
	c->off += 2;
	return v;
}

static inline uint32_t cur_be32(struct cursor *c)
{
	if (!cur_has(c, 4))
		return 0;
	const uint8_t *b = c->p + c->off;
	c->off += 4;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline uint32_t cur_le32(struct cursor *c)
{
	if (!cur_has(c, 4))
		return 0;
	const uint8_t *b = c->p + c->off;
	c->off += 4;
	return (uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 | (uint32_t)b[1] << 8 | b[0];
}

/* Returns a pointer to the next n bytes and advances, or NULL (and overrun). */
static inline const uint8_t *cur_take(struct cursor *c, size_t n)
{
	if (!cur_has(c, n))
		return NULL;
	const uint8_t *r = c->p + c->off;
	c->off += n;
	return r;
}

static inline void cur_skip(struct cursor *c, size_t n)
{
	(void)cur_take(c, n);
}

#endif

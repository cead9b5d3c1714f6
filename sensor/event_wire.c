/*
 * event_wire.c - api_event <-> bytes (event_wire.h). The struct in order,
 * with the path moved to the end and cut at its NUL, and the JWT claims left
 * out when the identity has none (they are most of the struct's size):
 *
 *   +-------------+-----------------+-----------------+------------+--------+
 *   | up to .path | .path's end to  | claims, only if | after the  | path,  |
 *   |             | identity.claims | has_claims      | claims     | NUL'd  |
 *   +-------------+-----------------+-----------------+------------+--------+
 */
#include "event_wire.h"

#include <stddef.h>
#include <string.h>

#define A_END offsetof(struct api_event, path)
#define B_AT (A_END + EV_PATH_MAX)
#define B_END offsetof(struct api_event, identity.claims)
#define C_END (B_END + sizeof(struct jwt_claims))
#define D_END sizeof(struct api_event)
#define FIXED (A_END + (B_END - B_AT) + (D_END - C_END))

_Static_assert(offsetof(struct api_event, identity.has_claims) >= B_AT &&
		       offsetof(struct api_event, identity.has_claims) < B_END,
	       "has_claims is read before the claims");

static size_t path_len(const struct api_event *ev)
{
	return strnlen(ev->path, EV_PATH_MAX - 1);
}

size_t event_wire_size(const struct api_event *ev)
{
	return FIXED + (ev->identity.has_claims ? C_END - B_END : 0) + path_len(ev) + 1;
}

void event_wire_put(const struct api_event *ev, uint8_t *dst)
{
	const uint8_t *src = (const uint8_t *)ev;
	memcpy(dst, src, A_END);
	dst += A_END;
	memcpy(dst, src + B_AT, B_END - B_AT);
	dst += B_END - B_AT;
	if (ev->identity.has_claims) {
		memcpy(dst, src + B_END, C_END - B_END);
		dst += C_END - B_END;
	}
	memcpy(dst, src + C_END, D_END - C_END);
	dst += D_END - C_END;
	size_t n = path_len(ev);
	memcpy(dst, ev->path, n);
	dst[n] = '\0';
}

int event_wire_get(struct api_event *ev, const uint8_t *src, size_t len)
{
	uint8_t *dst = (uint8_t *)ev;
	if (len < FIXED + 1)
		return -1;
	memcpy(dst, src, A_END);
	src += A_END;
	memcpy(dst + B_AT, src, B_END - B_AT);
	src += B_END - B_AT;
	size_t rest = len - FIXED;
	if (ev->identity.has_claims) {
		if (rest < C_END - B_END + 1)
			return -1;
		memcpy(dst + B_END, src, C_END - B_END);
		src += C_END - B_END;
		rest -= C_END - B_END;
	} else {
		memset(dst + B_END, 0, C_END - B_END);
	}
	memcpy(dst + C_END, src, D_END - C_END);
	src += D_END - C_END;
	if (rest > EV_PATH_MAX || src[rest - 1] != '\0')
		return -1;
	memcpy(ev->path, src, rest);
	return 0;
}

/*
 * identity_json.h - struct identity as the value of an event's or alert's
 * "identity" member (../shared/INTERFACE.md "Identity"):
 *
 *   {"kind":"jwt","id":"alice",
 *    "claims":{"iss":"https://idp","aud":"api","scope":"read write",
 *              "roles":["admin"],"iat":1764320000,"exp":1764323600,"nbf":1764320000,
 *              "jti":"j-1","alg":"RS256","kid":"k1"},
 *    "flags":["expired","verified"]}
 *   {"kind":"none","id":null}
 *
 * "claims" only for a JWT (kind jwt, or bearer for a JWT without "sub"), with
 * only the claims the token had; "flags" only when one is set, in ID_FLAG_*
 * order. Nothing else is written: never a token, password, key or cookie value
 * (struct identity holds none).
 */
#ifndef TAPIR_IDENTITY_JSON_H
#define TAPIR_IDENTITY_JSON_H

#include "../decoders/identity.h"
#include "jsonw.h"

/*
 * The most bytes identity_json writes: every string at its field size with
 * every byte escaped as \u00XX (6 bytes), plus names and punctuation.
 */
#define IDENTITY_JSON_MAX                                                              \
	(6 * (EV_ID_MAX + JWT_ISS_MAX + JWT_AUD_MAX + JWT_SCOPE_MAX + JWT_ROLES_MAX +  \
	      JWT_JTI_MAX + JWT_ALG_MAX + JWT_KID_MAX) +                               \
	 3 * JWT_ROLES_MAX + 512)

/* Writes the value (an object) at w's current position: after jw_key(w, "identity"). */
void identity_json(struct jsonw *w, const struct identity *id);

/*
 * The JSON of recently written identities. Every event of one credential
 * carries the same identity, and its JSON (a dozen escaped strings and
 * numbers) is the same text each time: a slot keeps the identity it was
 * written from and the text, and is reused only for an identity equal to it
 * in every byte that identity_json reads, so the output is exactly
 * identity_json's. Direct-mapped by a hash of kind, flags and id; a text
 * longer than IDENTITY_JSON_MEMO_TEXT is not kept. 1024 slots of 2.7 KiB
 * (few identities share one: a few hundred active credentials thrashed 256),
 * of which a lookup touches a few lines and only slots in use are ever
 * touched; a zeroed struct is empty. One owner, one thread.
 */
#define IDENTITY_JSON_MEMO_SLOTS 1024
#define IDENTITY_JSON_MEMO_TEXT 640

struct identity_json_memo {
	struct identity_json_slot {
		uint32_t len; /* 0: empty */
		struct identity id;
		char text[IDENTITY_JSON_MEMO_TEXT];
	} slot[IDENTITY_JSON_MEMO_SLOTS];
};

/* identity_json through m (NULL: identity_json itself). */
void identity_json_memo(struct jsonw *w, const struct identity *id, struct identity_json_memo *m);

#endif

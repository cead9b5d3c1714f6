/*
 * idcache.h - the identities of recently seen Authorization values, so that a
 * token sent again (keep-alive connections, HTTP/2 streams, the same client
 * on many connections) is decoded and its signature verified once, not once
 * per request.
 *
 * What is cached is what identity_offer_header does with one Authorization
 * field: nothing (no usable credential), or "replace the identity with this
 * one". That depends only on the field's bytes and on the verify callback
 * (the configured keys), so a hit gives byte-identical output; the owner
 * clears the cache whenever the keys change (idcache_clear).
 *
 * Fixed memory: IDCACHE_SLOTS entries, 8-way set-associative by a hash of
 * the value (LRU within a set), hits compared on the exact bytes. A value longer than IDCACHE_VALUE_MAX is
 * not cached (decoded every time, as before). The cached values are
 * credentials: they stay in this process's memory only and are wiped when
 * replaced or freed. One owner, one thread (one per worker).
 */
#ifndef TAPIR_IDCACHE_H
#define TAPIR_IDCACHE_H

#include <stddef.h>

#include "../decoders/identity.h"

/*
 * 1024 slots of a 2 KiB identity and room for a 3 KiB value: 5 MiB, one
 * allocation per worker, its pages touched only as slots fill. Real traffic
 * reuses a few hundred tokens per minute per sensor; JWTs are 0.3-2.5 KiB
 * (Azure AD's are the long ones).
 */
#define IDCACHE_SLOTS 1024
#define IDCACHE_VALUE_MAX 3072

struct idcache;

/* A new, empty cache (NULL without memory). Free with idcache_free. */
struct idcache *idcache_new(void);
void idcache_free(struct idcache *c);

/* Forgets every entry (the verify keys changed). */
void idcache_clear(struct idcache *c);

/*
 * What offering Authorization value[0..vlen) did last time: returns NULL when
 * not cached; else the resulting identity (valid until the next call), whose
 * `source` is IDSRC_NONE when the value carried no usable credential.
 */
const struct identity *idcache_find(struct idcache *c, const char *value, size_t vlen);

/* Remembers `result` (what offering value to an empty identity gave). */
void idcache_store(struct idcache *c, const char *value, size_t vlen,
		   const struct identity *result);

#endif

/*
 * openapi.h - the documented API: an OpenAPI 3 document (YAML, or JSON,
 * which YAML reads too) -> spec routes of a route table (models/routes.h).
 *
 * Every operation paths./P.{get,put,post,delete,patch,head,options,trace}
 * becomes routes_add_spec(t, METHOD, BASE + P, deprecated), for every base
 * path of the servers that apply to it (the operation's `servers`, else the
 * path item's, else the document's; none means "/"). A server URL gives its
 * path: "https://api.example.com/v1" and "/v1" both give "/v1", server
 * variables taking their `default`. A path item with no operation (empty,
 * or only a $ref) documents the path for every method.
 *
 * Checked: the document is a mapping with `openapi: 3.x` (Swagger 2.0 is
 * refused), `paths` is a mapping (required by 3.0, optional in 3.1) whose
 * keys start with '/' (or "x-"), path items and operations are mappings,
 * `deprecated` is true or false, `servers` is a list of mappings with a
 * string `url` whose {variables} have defaults, and each template is one
 * routes_add_spec() accepts. Everything else is not looked at.
 */
#ifndef TAPIR_OPENAPI_H
#define TAPIR_OPENAPI_H

#include <stddef.h>

#define OPENAPI_MUST_CHECK __attribute__((warn_unused_result))

/* Largest document read (a big spec is a few MB). */
#define OPENAPI_FILE_MAX (64u << 20)

struct routes;

/*
 * Loads the document at `path` into t and marks a spec as loaded. Returns
 * 0 (with *n_ops, when not NULL, the number of routes_add_spec() calls), or
 * -1 with one line in err:
 *   "PATH:LINE:COL: KEY.PATH: what is wrong"   (LINE:COL 1-based)
 *   "PATH: cannot read: <strerror>"
 * A document that fails its checks adds nothing; one that fails while being
 * added (a routes cap, out of memory) may leave some operations in t: the
 * caller gives up on t (start-up exits 2).
 */
int openapi_load(struct routes *t, const char *path, size_t *n_ops, char *err,
		 size_t errlen) OPENAPI_MUST_CHECK;

/* The same from text in memory; `name` is used in messages. */
int openapi_load_text(struct routes *t, const char *name, const char *text, size_t len,
		      size_t *n_ops, char *err, size_t errlen) OPENAPI_MUST_CHECK;

#endif

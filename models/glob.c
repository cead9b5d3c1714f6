/*
 * glob.c - api.sensitive patterns: an optional method, then a path glob in
 * which "*" matches within one path segment and "**" matches across
 * segments (any run of characters, '/' included). Everything else is
 * literal. Matching is backtracking with a step cap (10,000 steps, about a
 * microsecond), so a pathological pattern cannot stall the event path: past
 * the cap the path does not match.
 */
#include "engine_int.h"

struct gm {
	unsigned steps;
};

static bool gm_match(struct gm *m, const char *g, const char *p)
{
	while (*g) {
		if (++m->steps > 10000)
			return false;
		if (g[0] == '*' && g[1] == '*') {
			g += 2;
			while (*g == '*')
				g++;
			if (!*g)
				return true;
			for (const char *q = p;; q++) {
				if (gm_match(m, g, q))
					return true;
				if (!*q || m->steps > 10000)
					return false;
			}
		}
		if (g[0] == '*') {
			g++;
			for (const char *q = p;; q++) {
				if (gm_match(m, g, q))
					return true;
				if (!*q || *q == '/' || m->steps > 10000)
					return false;
			}
		}
		if (*p != *g)
			return false;
		p++;
		g++;
	}
	return *p == '\0';
}

bool glob_match(const char *glob, const char *path)
{
	struct gm m = {0};
	return gm_match(&m, glob, path);
}

bool glob_sensitive(const struct engine *e, const char *method, const char *path)
{
	for (size_t i = 0; i < e->n_sens; i++) {
		const struct glob_rule *r = &e->sens[i];
		if (r->method[0] && strcmp(r->method, method) != 0)
			continue;
		if (glob_match(r->glob, path))
			return true;
	}
	return false;
}

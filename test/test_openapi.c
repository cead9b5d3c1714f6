/*
 * test_openapi.c - OpenAPI 3 documents (YAML and the same as JSON) into
 * spec routes: servers base paths, parameters, deprecated operations, and
 * bad documents with their exact one-line errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/routes.h"
#include "../sensor/openapi.h"
#include "unit.h"

static char dir[] = "/tmp/tapir-openapi-XXXXXX";
static char file[256];
static struct api_event ev;
static char route[ROUTES_ROUTE_MAX];

static const char *write_doc(const char *name, const char *text)
{
	snprintf(file, sizeof file, "%s/%s", dir, name);
	FILE *f = fopen(file, "w");
	if (!f)
		return file;
	fputs(text, f);
	fclose(f);
	return file;
}

static struct routes *table(void)
{
	struct routes_limits lim;
	routes_limits_default(&lim);
	return routes_new(&lim);
}

static enum routes_verdict req(struct routes *t, const char *method, const char *path)
{
	memset(&ev, 0, sizeof ev);
	snprintf(ev.method, sizeof ev.method, "%s", method);
	snprintf(ev.host, sizeof ev.host, "api.example.com");
	ev.has_host = true;
	snprintf(ev.path, sizeof ev.path, "%s", path);
	ev.status = 200;
	ev.ts_us = 1795856400000000ull;
	return routes_observe(t, &ev, route, sizeof route);
}

/* A shop API as people write them: servers with a base path, shared
 * parameters, a deprecated operation, a path-level server override,
 * components and extensions that are not looked at. */
static const char spec_yaml[] =
	"openapi: 3.0.3\n"
	"info:\n"
	"  title: Shop API\n"
	"  version: 1.4.0\n"
	"  description: |\n"
	"    Orders, users and payments.\n"
	"servers:\n"
	"  - url: https://api.example.com/v1\n"
	"    description: production\n"
	"  - url: /v1/\n"
	"    description: same base, relative\n"
	"paths:\n"
	"  /users:\n"
	"    get:\n"
	"      summary: List users\n"
	"      parameters:\n"
	"        - {name: page, in: query, schema: {type: integer}}\n"
	"      responses: {'200': {description: ok}}\n"
	"    post:\n"
	"      requestBody: {$ref: '#/components/requestBodies/User'}\n"
	"      responses: {'201': {description: created}}\n"
	"  /users/{userId}:\n"
	"    parameters:\n"
	"      - name: userId\n"
	"        in: path\n"
	"        required: true\n"
	"        schema: {type: string}\n"
	"    get:\n"
	"      responses: {'200': {description: ok}}\n"
	"    delete:\n"
	"      deprecated: true\n"
	"      responses: {'204': {description: gone}}\n"
	"  /users/me:\n"
	"    get:\n"
	"      responses: {'200': {description: ok}}\n"
	"  /orders/{orderId}/items/{itemId}:\n"
	"    get:\n"
	"      deprecated: false\n"
	"      responses: {'200': {description: ok}}\n"
	"  /reports/{day}.csv:\n"
	"    get:\n"
	"      responses: {'200': {description: ok}}\n"
	"  /legacy/report:\n"
	"    get:\n"
	"      deprecated: true\n"
	"      responses: {'200': {description: ok}}\n"
	"  /health:\n"
	"    servers:\n"
	"      - url: '{scheme}://api.example.com/{basePath}'\n"
	"        variables:\n"
	"          scheme: {default: https, enum: [http, https]}\n"
	"          basePath: {default: ops}\n"
	"    get:\n"
	"      responses: {'200': {description: ok}}\n"
	"  /webhooks/{hookId}:\n"
	"    $ref: 'webhooks.yaml#/hook'\n"
	"  x-internal-note: not a path\n"
	"components:\n"
	"  requestBodies:\n"
	"    User:\n"
	"      content: {application/json: {schema: {type: object}}}\n";

/* The same document in JSON, pretty-printed with tabs, with an emoji written
 * as a surrogate pair (which JSON allows and YAML does not). */
static const char spec_json[] =
	"{\n"
	"\t\"openapi\": \"3.0.3\",\n"
	"\t\"info\": {\"title\": \"Shop API \\ud83d\\uded2\", \"version\": \"1.4.0\"},\n"
	"\t\"servers\": [\n"
	"\t\t{\"url\": \"https://api.example.com/v1\"},\n"
	"\t\t{\"url\": \"/v1/\"}\n"
	"\t],\n"
	"\t\"paths\": {\n"
	"\t\t\"/users\": {\"get\": {\"responses\": {\"200\": {\"description\": \"ok\"}}},\n"
	"\t\t\t\"post\": {\"responses\": {\"201\": {\"description\": \"created\"}}}},\n"
	"\t\t\"/users/{userId}\": {\n"
	"\t\t\t\"parameters\": [{\"name\": \"userId\", \"in\": \"path\", \"required\": true}],\n"
	"\t\t\t\"get\": {\"responses\": {\"200\": {\"description\": \"ok \\ud83d\\ude00\"}}},\n"
	"\t\t\t\"delete\": {\"deprecated\": true, \"responses\": {}}\n"
	"\t\t},\n"
	"\t\t\"/users/me\": {\"get\": {\"responses\": {}}},\n"
	"\t\t\"/orders/{orderId}/items/{itemId}\": {\"get\": {\"deprecated\": false}},\n"
	"\t\t\"/reports/{day}.csv\": {\"get\": {}},\n"
	"\t\t\"/legacy/report\": {\"get\": {\"deprecated\":true}},\n"
	"\t\t\"/health\": {\n"
	"\t\t\t\"servers\": [{\"url\": \"{scheme}://api.example.com/{basePath}\",\n"
	"\t\t\t\t\"variables\": {\"scheme\": {\"default\": \"https\"}, \"basePath\": {\"default\": \"ops\"}}}],\n"
	"\t\t\t\"get\": {}\n"
	"\t\t},\n"
	"\t\t\"/webhooks/{hookId}\": {\"$ref\": \"webhooks.yaml#/hook\"},\n"
	"\t\t\"x-internal-note\": \"not a path\"\n"
	"\t}\n"
	"}\n";

static void check_shop(struct routes *t)
{
	CHECK_EQ(req(t, "GET", "/v1/users"), ROUTES_DOCUMENTED);
	CHECK_STR(route, "/v1/users");
	CHECK_EQ(req(t, "POST", "/v1/users"), ROUTES_DOCUMENTED);
	CHECK_EQ(req(t, "GET", "/v1/users/42"), ROUTES_DOCUMENTED);
	CHECK_STR(route, "/v1/users/{userId}");
	CHECK_EQ(req(t, "GET", "/v1/users/alice"), ROUTES_DOCUMENTED);
	CHECK_STR(route, "/v1/users/{userId}");
	CHECK_EQ(req(t, "GET", "/v1/users/me"), ROUTES_DOCUMENTED);
	CHECK_STR(route, "/v1/users/me");
	CHECK_EQ(req(t, "DELETE", "/v1/users/42"), ROUTES_ZOMBIE);
	CHECK_STR(route, "/v1/users/{userId}");
	CHECK_EQ(req(t, "PUT", "/v1/users/42"), ROUTES_SHADOW);
	CHECK_EQ(req(t, "GET", "/v1/orders/7/items/3"), ROUTES_DOCUMENTED);
	CHECK_STR(route, "/v1/orders/{orderId}/items/{itemId}");
	CHECK_EQ(req(t, "GET", "/v1/reports/2026-11-28.csv"), ROUTES_DOCUMENTED);
	CHECK_STR(route, "/v1/reports/{day}.csv");
	CHECK_EQ(req(t, "GET", "/v1/legacy/report"), ROUTES_ZOMBIE);
	CHECK_EQ(req(t, "GET", "/ops/health"), ROUTES_DOCUMENTED);
	CHECK_STR(route, "/ops/health");
	CHECK_EQ(req(t, "GET", "/v1/health"), ROUTES_SHADOW); /* the path's own server wins */
	CHECK_EQ(req(t, "POST", "/v1/webhooks/9"), ROUTES_DOCUMENTED); /* $ref: every method */
	CHECK_STR(route, "/v1/webhooks/{hookId}");
	CHECK_EQ(req(t, "GET", "/users/42"), ROUTES_SHADOW); /* outside the base path */
	CHECK_STR(route, "/users/{id}");
	CHECK_EQ(req(t, "GET", "/v1/admin/export"), ROUTES_SHADOW);
	CHECK_STR(route, "/v1/admin/export");
}

static void test_yaml_spec(void)
{
	struct routes *t = table();
	char err[512] = "";
	size_t n = 0;
	CHECK_EQ(openapi_load(t, write_doc("shop.yaml", spec_yaml), &n, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_EQ(n, 10); /* 9 operations and one path item without any */
	check_shop(t);
	routes_free(t);
}

static void test_json_spec(void)
{
	struct routes *t = table();
	char err[512] = "";
	size_t n = 0;
	CHECK_EQ(openapi_load(t, write_doc("shop.json", spec_json), &n, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_EQ(n, 10);
	check_shop(t);
	routes_free(t);
}

static void test_openapi_31_without_paths(void)
{
	struct routes *t = table();
	char err[512] = "";
	size_t n = 99;
	CHECK_EQ(openapi_load(t, write_doc("hooks.yaml",
					   "openapi: 3.1.0\n"
					   "info: {title: hooks only, version: '1'}\n"
					   "webhooks: {}\n"),
			      &n, err, sizeof err), 0);
	CHECK_EQ(n, 0);
	/* A spec is loaded: whatever is used is undocumented. */
	CHECK_EQ(req(t, "GET", "/anything"), ROUTES_SHADOW);
	routes_free(t);
}

static void test_server_urls(void)
{
	struct routes *t = table();
	char err[512] = "";
	size_t n;
	CHECK_EQ(openapi_load(t, write_doc("servers.yaml",
					   "openapi: \"3.0.0\"\n"
					   "servers:\n"
					   "  - url: http://localhost:8080\n"
					   "  - url: //cdn.example.com/api/v2/?x=1\n"
					   "  - url: v3\n"
					   "paths:\n"
					   "  /a: {get: {}}\n"
					   "  /b:\n"
					   "    get:\n"
					   "      servers: [{url: 'https://other.example.com/special'}]\n"),
			      &n, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_EQ(n, 4);
	CHECK_EQ(req(t, "GET", "/a"), ROUTES_DOCUMENTED);
	CHECK_EQ(req(t, "GET", "/api/v2/a"), ROUTES_DOCUMENTED);
	CHECK_EQ(req(t, "GET", "/v3/a"), ROUTES_DOCUMENTED);
	CHECK_EQ(req(t, "GET", "/special/b"), ROUTES_DOCUMENTED);
	CHECK_EQ(req(t, "GET", "/b"), ROUTES_SHADOW);
	routes_free(t);
}

struct bad {
	const char *name;
	const char *text;
	const char *error; /* after "FILE:" */
};

static const struct bad bad_docs[] = {
	{"swagger", "swagger: \"2.0\"\ninfo: {title: x}\npaths: {}\n",
	 "1:10: swagger: not OpenAPI 3 but Swagger/OpenAPI 2 (found \"2.0\"): convert it"},
	{"old-version", "openapi: 2.0\npaths: {}\n",
	 "1:10: openapi: not OpenAPI 3 (found \"2.0\")"},
	{"version-map", "openapi: {v: 3}\npaths: {}\n",
	 "1:10: openapi: not OpenAPI 3 (found a mapping)"},
	{"no-version", "info: {title: x}\npaths: {}\n", "1:1: not OpenAPI 3: no \"openapi\" key"},
	{"not-a-mapping", "- openapi\n- 3.0.0\n",
	 "1:1: expected an OpenAPI 3 document (a mapping), got a sequence"},
	{"scalar", "hello\n", "1:1: expected an OpenAPI 3 document (a mapping), got \"hello\""},
	{"empty", "", "1:1: empty document: expected an OpenAPI 3 document"},
	{"no-paths-30", "openapi: 3.0.1\ninfo: {title: x}\n",
	 "1:1: no \"paths\" key (OpenAPI 3.0 requires one)"},
	{"paths-seq", "openapi: 3.0.1\npaths:\n  - /users\n",
	 "3:3: paths: expected a mapping of paths, got a sequence"},
	{"path-no-slash", "openapi: 3.0.1\npaths:\n  /ok: {}\n  users: {get: {}}\n",
	 "4:3: paths: \"users\": a path must start with '/'"},
	{"path-brace", "openapi: 3.0.1\npaths:\n  /users/{id: {get: {}}\n",
	 "3:3: paths: \"/users/{id\": '{' without '}'"},
	{"path-item-seq", "openapi: 3.0.1\npaths:\n  /users: [get]\n",
	 "3:11: paths./users: expected a path item (a mapping), got a sequence"},
	{"op-scalar", "openapi: 3.0.1\npaths:\n  /users:\n    get: list\n",
	 "4:10: paths./users.get: expected an operation (a mapping), got \"list\""},
	{"deprecated-yes", "openapi: 3.0.1\npaths:\n  /users:\n    get:\n      deprecated: yes\n",
	 "5:19: paths./users.get.deprecated: expected true or false, got \"yes\""},
	{"deprecated-str", "openapi: 3.0.1\npaths:\n  /u:\n    get: {deprecated: \"true\"}\n",
	 "4:23: paths./u.get.deprecated: expected true or false, got \"true\""},
	{"servers-map", "openapi: 3.0.1\nservers: {url: /v1}\npaths: {}\n",
	 "2:10: servers: expected a sequence of servers, got a mapping"},
	{"server-no-url", "openapi: 3.0.1\nservers:\n  - description: prod\npaths: {}\n",
	 "3:5: servers[0]: a server needs a url"},
	{"server-url-num", "openapi: 3.0.1\nservers:\n  - url: /v1\n  - url: [x]\npaths: {}\n",
	 "4:10: servers[1].url: expected a URL string, got a sequence"},
	{"server-var", "openapi: 3.0.1\nservers:\n  - url: 'https://h/{base}'\npaths: {}\n",
	 "3:10: servers[0].url: server variable \"base\" has no default"},
	{"op-server-bad",
	 "openapi: 3.0.1\npaths:\n  /a:\n    get:\n      servers: [{url: '/x/{v'}]\n",
	 "5:23: paths./a.get.servers[0].url: '{' without '}'"},
	{"yaml-syntax", "openapi: 3.0.1\npaths:\n  /a: {get: {}\n",
	 "4:1: YAML syntax error: did not find expected ',' or '}', while parsing a flow mapping at line 3"},
	{"yaml-tab", "openapi: 3.0.1\npaths:\n\t/a: {}\n",
	 "3:1: YAML syntax error: found character that cannot start any token, while scanning for the next token at line 3"},
	{"json-syntax", "{\"openapi\": \"3.0.0\",\n \"paths\": {\"/a\": {}}\n",
	 "3:1: YAML syntax error: did not find expected ',' or '}', while parsing a flow mapping at line 1"},
	{"json-deprecated", "{\"openapi\": \"3.0.0\",\n \"paths\": {\"/a\": {\"get\": {\"deprecated\": 1}}}}\n",
	 "2:41: paths./a.get.deprecated: expected true or false, got \"1\""},
};

static void test_bad_documents(void)
{
	char err[512], want[768], name[64];
	for (size_t i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
		struct routes *t = table();
		snprintf(name, sizeof name, "%s.yaml", bad_docs[i].name);
		const char *path = write_doc(name, bad_docs[i].text);
		err[0] = '\0';
		CHECK_EQ(openapi_load(t, path, NULL, err, sizeof err), -1);
		snprintf(want, sizeof want, "%s:%s", path, bad_docs[i].error);
		CHECK_STR(err, want);
		CHECK(strchr(err, '\n') == NULL);
		/* nothing was added */
		struct routes_stats s;
		routes_get_stats(t, &s);
		CHECK_EQ(s.spec_ops, 0);
		CHECK_EQ(req(t, "GET", "/a"), ROUTES_NO_SPEC);
		routes_free(t);
	}
}

static void test_unreadable(void)
{
	struct routes *t = table();
	char err[512], want[512], path[300];
	snprintf(path, sizeof path, "%s/missing.yaml", dir);
	CHECK_EQ(openapi_load(t, path, NULL, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot read: No such file or directory", path);
	CHECK_STR(err, want);
	CHECK_EQ(openapi_load(t, dir, NULL, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: cannot read: Is a directory", dir);
	CHECK_STR(err, want);
	routes_free(t);
}

static void test_routes_cap_reported(void)
{
	struct routes_limits lim;
	routes_limits_default(&lim);
	lim.max_spec_ops = 2;
	struct routes *t = routes_new(&lim);
	char err[512], want[512];
	const char *path = write_doc("three.yaml", "openapi: 3.0.0\n"
						   "paths:\n"
						   "  /a: {get: {}}\n"
						   "  /b: {get: {}}\n"
						   "  /c:\n"
						   "    get: {}\n");
	CHECK_EQ(openapi_load(t, path, NULL, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s:6:10: paths./c.get: too many operations (limit 2)", path);
	CHECK_STR(err, want);
	routes_free(t);
}

static void test_text_and_surrogates(void)
{
	/* A lone surrogate becomes U+FFFD; columns after the pair stay put. */
	static const char doc[] = "{\"openapi\": \"3.0.0\", \"x\": \"\\ud83d\\ude00\\udc00\", \"paths\": 5}";
	struct routes *t = table();
	char err[512];
	CHECK_EQ(openapi_load_text(t, "mem.json", doc, sizeof doc - 1, NULL, err, sizeof err), -1);
	CHECK_STR(err, "mem.json:1:58: paths: expected a mapping of paths, got \"5\"");
	/* With a byte order mark and leading blank lines, the pair is still read. */
	static const char bom[] = "\xEF\xBB\xBF\n\n{\"openapi\": \"3.1.0\", \"info\": {\"title\": "
				  "\"\\ud83d\\ude00\"}, \"paths\": {\"/a/{b}\": {\"get\": {}}}}";
	size_t n = 0;
	CHECK_EQ(openapi_load_text(t, "bom.json", bom, sizeof bom - 1, &n, err, sizeof err), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(req(t, "GET", "/a/1"), ROUTES_DOCUMENTED);
	CHECK_STR(route, "/a/{b}");
	routes_free(t);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_yaml_spec);
	RUN(test_json_spec);
	RUN(test_openapi_31_without_paths);
	RUN(test_server_urls);
	RUN(test_bad_documents);
	RUN(test_unreadable);
	RUN(test_routes_cap_reported);
	RUN(test_text_and_surrogates);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return unit_done("test_openapi");
}

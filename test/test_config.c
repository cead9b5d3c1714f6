/*
 * test_config.c - the configuration loader against its contract: defaults,
 * the shipped example, every type of value, and bad files that must fail with
 * exactly one line naming file, line, column and key. Run from the repo root.
 */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "../config/config.h"

#define MiB (1024ull * 1024)
#define SEC 1000000ull

/* Writes `text` to a new file in /tmp; its name goes to path[32]. */
static void write_tmp(const char *text, char path[32])
{
	int fd;
	size_t len = strlen(text);

	snprintf(path, 32, "/tmp/test_config_XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(write(fd, text, len), (long long)len);
	close(fd);
}

/* config_defaults + config_load of `text`; the temp file's name in path. */
static int load_text(struct tapir_config *c, const char *text, char path[32], char *err,
		     size_t errlen)
{
	int rc;

	config_defaults(c);
	write_tmp(text, path);
	err[0] = '\0';
	rc = config_load(c, path, err, errlen);
	unlink(path);
	return rc;
}

/* Every field of a and b equal; each difference is reported. */
static void check_same(const struct tapir_config *a, const struct tapir_config *b)
{
	size_t i;

	CHECK_STR(a->sensor.name, b->sensor.name);
	CHECK_STR(a->sensor.user, b->sensor.user);
	CHECK_EQ(a->sensor.log, b->sensor.log);
	CHECK_EQ(a->sensor.workers, b->sensor.workers);
	CHECK_STR(a->capture.interface, b->capture.interface);
	CHECK_STR(a->capture.filter, b->capture.filter);
	CHECK_EQ(a->capture.snaplen, b->capture.snaplen);
	CHECK_EQ(a->capture.buffer, b->capture.buffer);
	CHECK_EQ(a->capture.promiscuous, b->capture.promiscuous);
	CHECK_EQ(a->flows.max, b->flows.max);
	CHECK_EQ(a->flows.idle_timeout_us, b->flows.idle_timeout_us);
	CHECK_EQ(a->flows.closed_timeout_us, b->flows.closed_timeout_us);
	CHECK_EQ(a->reassembly.memcap, b->reassembly.memcap);
	CHECK_EQ(a->reassembly.max_held_per_direction, b->reassembly.max_held_per_direction);
	CHECK_EQ(a->reassembly.max_held_segments, b->reassembly.max_held_segments);
	CHECK_EQ(a->ip_fragments.memcap, b->ip_fragments.memcap);
	CHECK_EQ(a->ip_fragments.max_datagrams, b->ip_fragments.max_datagrams);
	CHECK_EQ(a->ip_fragments.timeout_us, b->ip_fragments.timeout_us);
	CHECK_EQ(a->http.max_head, b->http.max_head);
	CHECK_EQ(a->http.max_line, b->http.max_line);
	CHECK_EQ(a->http.max_resync, b->http.max_resync);
	CHECK_EQ(a->http.max_pending, b->http.max_pending);
	CHECK_EQ(a->http.memcap, b->http.memcap);
	CHECK_EQ(a->detection.suppress_us, b->detection.suppress_us);
	CHECK_EQ(a->detection.max_identities, b->detection.max_identities);
	CHECK_EQ(a->http2.max_header_list, b->http2.max_header_list);
	CHECK_EQ(a->http2.max_continuations, b->http2.max_continuations);
	CHECK_EQ(a->http2.max_table_size, b->http2.max_table_size);
	CHECK_EQ(a->http2.max_memory, b->http2.max_memory);
	CHECK_EQ(a->http2.max_streams, b->http2.max_streams);
	CHECK_STR(a->output.events, b->output.events);
	CHECK_STR(a->output.alerts, b->output.alerts);
	CHECK_STR(a->output.redis.url, b->output.redis.url);
	CHECK_STR(a->output.redis.channel, b->output.redis.channel);
	CHECK_STR(a->output.redis.stream, b->output.redis.stream);
	CHECK_EQ(a->output.redis.stream_maxlen, b->output.redis.stream_maxlen);
	CHECK_EQ(a->api.n_sensitive, b->api.n_sensitive);
	for (i = 0; i < a->api.n_sensitive && i < b->api.n_sensitive; i++) {
		CHECK_STR(a->api.sensitive[i].method, b->api.sensitive[i].method);
		CHECK_STR(a->api.sensitive[i].glob, b->api.sensitive[i].glob);
	}
	CHECK_STR(a->api.openapi, b->api.openapi);
	CHECK_EQ(a->identity.api_key_headers.n, b->identity.api_key_headers.n);
	for (i = 0; i < a->identity.api_key_headers.n && i < b->identity.api_key_headers.n; i++)
		CHECK_STR(a->identity.api_key_headers.name[i], b->identity.api_key_headers.name[i]);
	CHECK_EQ(a->identity.session_cookies.n, b->identity.session_cookies.n);
	for (i = 0; i < a->identity.session_cookies.n && i < b->identity.session_cookies.n; i++)
		CHECK_STR(a->identity.session_cookies.name[i], b->identity.session_cookies.name[i]);
	CHECK_EQ(a->identity.n_jwt_keys, b->identity.n_jwt_keys);
	for (i = 0; i < a->identity.n_jwt_keys && i < b->identity.n_jwt_keys; i++) {
		CHECK_STR(a->identity.jwt_keys[i].file, b->identity.jwt_keys[i].file);
		CHECK_EQ(a->identity.jwt_keys[i].format, b->identity.jwt_keys[i].format);
		CHECK_STR(a->identity.jwt_keys[i].kid, b->identity.jwt_keys[i].kid);
		CHECK_STR(a->identity.jwt_keys[i].alg, b->identity.jwt_keys[i].alg);
	}
	CHECK_EQ(a->identity.n_trusted_proxies, b->identity.n_trusted_proxies);
	for (i = 0; i < a->identity.n_trusted_proxies && i < b->identity.n_trusted_proxies; i++) {
		CHECK(memcmp(a->identity.trusted_proxies[i].addr, b->identity.trusted_proxies[i].addr,
			     16) == 0);
		CHECK_EQ(a->identity.trusted_proxies[i].prefix, b->identity.trusted_proxies[i].prefix);
	}
	CHECK_EQ(a->policy.business_hours.days, b->policy.business_hours.days);
	CHECK_EQ(a->policy.business_hours.start_min, b->policy.business_hours.start_min);
	CHECK_EQ(a->policy.business_hours.end_min, b->policy.business_hours.end_min);
	CHECK_STR(a->policy.business_hours.timezone, b->policy.business_hours.timezone);
	CHECK_EQ(a->policy.key_max_age_us, b->policy.key_max_age_us);
	CHECK_EQ(a->detection.learning_period_us, b->detection.learning_period_us);
}

static void test_defaults(void)
{
	struct tapir_config c;

	config_defaults(&c);
	CHECK_STR(c.sensor.name, "tapir");
	CHECK_EQ(c.sensor.workers, 0);
	CHECK_STR(c.capture.interface, "");
	CHECK_STR(c.capture.filter, "");
	CHECK_EQ(c.capture.snaplen, 262144);
	CHECK_EQ(c.capture.buffer, 64 * MiB);
	CHECK_EQ(c.capture.promiscuous, 1);
	CHECK_EQ(c.flows.max, 262144);
	CHECK_EQ(c.flows.idle_timeout_us, 300 * SEC);
	CHECK_EQ(c.flows.closed_timeout_us, 10 * SEC);
	CHECK_EQ(c.reassembly.memcap, 256 * MiB);
	CHECK_EQ(c.reassembly.max_held_per_direction, MiB);
	CHECK_EQ(c.reassembly.max_held_segments, 2048);
	CHECK_EQ(c.ip_fragments.memcap, 32 * MiB);
	CHECK_EQ(c.ip_fragments.max_datagrams, 8192);
	CHECK_EQ(c.ip_fragments.timeout_us, 30 * SEC);
	CHECK_EQ(c.http.max_head, 65536);
	CHECK_EQ(c.http.max_line, 4096);
	CHECK_EQ(c.http.max_resync, 65536);
	CHECK_EQ(c.http.max_pending, 64);
	CHECK_STR(c.output.events, "");
	CHECK_STR(c.output.alerts, "");
	CHECK_STR(c.output.redis.url, "");
	CHECK_STR(c.output.redis.channel, "tapir:alerts");
	CHECK_STR(c.output.redis.stream, "tapir:alerts:stream");
	CHECK_EQ(c.output.redis.stream_maxlen, 100000);
	CHECK(c.api.sensitive == NULL);
	CHECK_EQ(c.api.n_sensitive, 0);
	CHECK_STR(c.api.openapi, "");
	CHECK_EQ(c.identity.api_key_headers.n, 2);
	CHECK_STR(c.identity.api_key_headers.name[0], "X-API-Key");
	CHECK_STR(c.identity.api_key_headers.name[1], "Api-Key");
	CHECK_EQ(c.identity.session_cookies.n, 6);
	CHECK_STR(c.identity.session_cookies.name[0], "session");
	CHECK_STR(c.identity.session_cookies.name[1], "sessionid");
	CHECK_STR(c.identity.session_cookies.name[2], "sid");
	CHECK_STR(c.identity.session_cookies.name[3], "JSESSIONID");
	CHECK_STR(c.identity.session_cookies.name[4], "PHPSESSID");
	CHECK_STR(c.identity.session_cookies.name[5], "connect.sid");
	CHECK(c.identity.jwt_keys == NULL);
	CHECK_EQ(c.identity.n_jwt_keys, 0);
	CHECK(c.identity.trusted_proxies == NULL);
	CHECK_EQ(c.identity.n_trusted_proxies, 0);
	CHECK_EQ(c.policy.business_hours.days, 0x3e); /* tm_wday 1..5 = mon..fri */
	CHECK_EQ(c.policy.business_hours.start_min, 480);
	CHECK_EQ(c.policy.business_hours.end_min, 1080);
	CHECK_STR(c.policy.business_hours.timezone, "UTC");
	CHECK_EQ(c.policy.key_max_age_us, 90ull * 86400 * SEC);
	CHECK_EQ(c.detection.learning_period_us, 3ull * 86400 * SEC);
	config_free(&c);
	config_free(&c);
}

static void test_example_file_is_the_defaults(void)
{
	struct tapir_config c, d;
	char err[512] = "";

	config_defaults(&c);
	config_defaults(&d);
	CHECK_EQ(config_load(&c, "config/tapir.yaml", err, sizeof err), 0);
	CHECK_STR(err, "");
	check_same(&c, &d);
	config_free(&c);
}

/* The daemon keys: sensor.user and sensor.log. */
static void test_daemon_keys(void)
{
	struct tapir_config c;
	char path[32], err[512];

	config_defaults(&c);
	CHECK_STR(c.sensor.user, "");
	CHECK_EQ(c.sensor.log, CONFIG_LOG_STDERR);
	CHECK_EQ(load_text(&c, "sensor:\n  user: tapir-sensor_1.x\n  log: syslog\n", path, err,
			   sizeof err),
		 0);
	CHECK_STR(err, "");
	CHECK_STR(c.sensor.user, "tapir-sensor_1.x");
	CHECK_EQ(c.sensor.log, CONFIG_LOG_SYSLOG);
	config_free(&c);
	CHECK_EQ(load_text(&c, "sensor:\n  log: stderr\n", path, err, sizeof err), 0);
	CHECK_EQ(c.sensor.log, CONFIG_LOG_STDERR);
	config_free(&c);
}

/* The configuration shown in INTERFACE.md. */
static void test_interface_example(void)
{
	struct tapir_config c;
	char path[32], err[512];

	CHECK_EQ(load_text(&c,
			   "sensor:\n"
			   "  name: tap-1\n"
			   "api:\n"
			   "  sensitive: [\"/admin/**\", \"GET /v1/customers/**\"]   # path globs\n"
			   "  openapi: config/openapi.yaml\n"
			   "policy:\n"
			   "  business_hours: {days: [mon, tue, wed, thu, fri], start: \"08:00\", end: "
			   "\"18:00\", timezone: \"UTC\"}\n"
			   "detection:\n"
			   "  learning_period: 3d     # per identity\n"
			   "output:\n"
			   "  redis: {url: \"redis://127.0.0.1:6379/0\", channel: \"tapir:alerts\", stream: "
			   "\"tapir:alerts:stream\"}\n",
			   path, err, sizeof err),
		 0);
	CHECK_STR(err, "");
	CHECK_STR(c.sensor.name, "tap-1");
	CHECK_EQ(c.api.n_sensitive, 2);
	CHECK_STR(c.output.redis.url, "redis://127.0.0.1:6379/0");
	CHECK_EQ(c.policy.business_hours.days, 0x3e);
	config_free(&c);
}

static void test_empty_files(void)
{
	static const char *const texts[] = {
		"", "\n", "# only a comment\n", "---\n", "---\n...\n", "~\n", "capture:\noutput:\n  redis:\n",
		"api: {}\npolicy: {business_hours: {}}\n",
	};
	struct tapir_config c, d;
	char path[32], err[512];
	size_t i;

	config_defaults(&d);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		int rc = load_text(&c, texts[i], path, err, sizeof err);
		CHECK_EQ(rc, 0);
		if (rc)
			fprintf(stderr, "  text %zu: %s\n", i, err);
		check_same(&c, &d);
		config_free(&c);
	}
}

static const char every_key[] =
	"sensor:\n"
	"  name: tap-1.dc_2\n"
	"  workers: 4\n"
	"capture:\n"
	"  interface: eth1\n"
	"  filter: \"tcp port 80\"\n"
	"  snaplen: 1514\n"
	"  buffer: 2MiB\n"
	"  promiscuous: false\n"
	"flows:\n"
	"  max: 1000\n"
	"  idle_timeout: 90s\n"
	"  closed_timeout: 0s\n"
	"reassembly:\n"
	"  memcap: 1GiB\n"
	"  max_held_per_direction: 64KB\n"
	"  max_held_segments: 10\n"
	"ip_fragments:\n"
	"  memcap: 1M\n"
	"  max_datagrams: 77\n"
	"  timeout: 1500ms\n"
	"http:\n"
	"  max_head: 8KiB\n"
	"  max_line: 256\n"
	"  max_resync: 0\n"
	"  max_pending: 65536\n"
	"output:\n"
	"  events: /var/log/tapir/events.jsonl\n"
	"  alerts: \"-\"\n"
	"  redis:\n"
	"    url: \"redis://:pw@10.0.0.9:6380/2\"\n"
	"    channel: soc:alerts\n"
	"    stream: soc:stream\n"
	"    stream_maxlen: 5000\n"
	"api:\n"
	"  sensitive:\n"
	"    - /admin/**\n"
	"    - \"GET /v1/customers/**\"\n"
	"    - M-SEARCH /*\n"
	"  openapi: config/openapi.yaml\n"
	"identity:\n"
	"  api_key_headers: [X-Tenant-Key, \"x-auth_token.v2\"]\n"
	"  session_cookies:\n"
	"    - __Host-session\n"
	"  jwt_keys:\n"
	"    - {file: /etc/tapir/jwks.json, format: jwks}\n"
	"    - file: keys/legacy.pem\n"
	"      format: pem\n"
	"      kid: legacy-2023\n"
	"      alg: ES256\n"
	"    - {file: \"keys/hs secret\", format: hmac, alg: HS512}\n"
	"  trusted_proxies: [10.0.0.0/8, \"fd00::/8\", 192.0.2.10, 2001:db8::1]\n"
	"policy:\n"
	"  business_hours: {days: [sun, sat, wed], start: \"00:00\", end: 23:59, timezone: Europe/Paris}\n"
	"  key_max_age: 2h\n"
	"detection:\n"
	"  learning_period: 0s\n";

static void test_every_key(void)
{
	struct tapir_config c;
	char path[32], err[512];

	CHECK_EQ(load_text(&c, every_key, path, err, sizeof err), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.sensor.name, "tap-1.dc_2");
	CHECK_EQ(c.sensor.workers, 4);
	CHECK_STR(c.capture.interface, "eth1");
	CHECK_STR(c.capture.filter, "tcp port 80");
	CHECK_EQ(c.capture.snaplen, 1514);
	CHECK_EQ(c.capture.buffer, 2 * MiB);
	CHECK_EQ(c.capture.promiscuous, 0);
	CHECK_EQ(c.flows.max, 1000);
	CHECK_EQ(c.flows.idle_timeout_us, 90 * SEC);
	CHECK_EQ(c.flows.closed_timeout_us, 0);
	CHECK_EQ(c.reassembly.memcap, 1024 * MiB);
	CHECK_EQ(c.reassembly.max_held_per_direction, 65536);
	CHECK_EQ(c.reassembly.max_held_segments, 10);
	CHECK_EQ(c.ip_fragments.memcap, MiB);
	CHECK_EQ(c.ip_fragments.max_datagrams, 77);
	CHECK_EQ(c.ip_fragments.timeout_us, 1500000);
	CHECK_EQ(c.http.max_head, 8192);
	CHECK_EQ(c.http.max_line, 256);
	CHECK_EQ(c.http.max_resync, 0);
	CHECK_EQ(c.http.max_pending, 65536);
	CHECK_STR(c.output.events, "/var/log/tapir/events.jsonl");
	CHECK_STR(c.output.alerts, "-");
	CHECK_STR(c.output.redis.url, "redis://:pw@10.0.0.9:6380/2");
	CHECK_STR(c.output.redis.channel, "soc:alerts");
	CHECK_STR(c.output.redis.stream, "soc:stream");
	CHECK_EQ(c.output.redis.stream_maxlen, 5000);
	CHECK_EQ(c.api.n_sensitive, 3);
	if (c.api.n_sensitive == 3) {
		CHECK_STR(c.api.sensitive[0].method, "");
		CHECK_STR(c.api.sensitive[0].glob, "/admin/**");
		CHECK_STR(c.api.sensitive[1].method, "GET");
		CHECK_STR(c.api.sensitive[1].glob, "/v1/customers/**");
		CHECK_STR(c.api.sensitive[2].method, "M-SEARCH");
		CHECK_STR(c.api.sensitive[2].glob, "/*");
	}
	CHECK_STR(c.api.openapi, "config/openapi.yaml");
	CHECK_EQ(c.identity.api_key_headers.n, 2);
	CHECK_STR(c.identity.api_key_headers.name[0], "X-Tenant-Key");
	CHECK_STR(c.identity.api_key_headers.name[1], "x-auth_token.v2");
	CHECK_EQ(c.identity.session_cookies.n, 1);
	CHECK_STR(c.identity.session_cookies.name[0], "__Host-session");
	CHECK_EQ(c.identity.n_jwt_keys, 3);
	if (c.identity.n_jwt_keys == 3) {
		CHECK_STR(c.identity.jwt_keys[0].file, "/etc/tapir/jwks.json");
		CHECK_EQ(c.identity.jwt_keys[0].format, CONFIG_KEY_JWKS);
		CHECK_STR(c.identity.jwt_keys[0].kid, "");
		CHECK_STR(c.identity.jwt_keys[0].alg, "");
		CHECK_STR(c.identity.jwt_keys[1].file, "keys/legacy.pem");
		CHECK_EQ(c.identity.jwt_keys[1].format, CONFIG_KEY_PEM);
		CHECK_STR(c.identity.jwt_keys[1].kid, "legacy-2023");
		CHECK_STR(c.identity.jwt_keys[1].alg, "ES256");
		CHECK_STR(c.identity.jwt_keys[2].file, "keys/hs secret");
		CHECK_EQ(c.identity.jwt_keys[2].format, CONFIG_KEY_HMAC);
		CHECK_STR(c.identity.jwt_keys[2].alg, "HS512");
	}
	CHECK_EQ(c.identity.n_trusted_proxies, 4);
	if (c.identity.n_trusted_proxies == 4) {
		static const uint8_t ten[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0};
		static const uint8_t fd[16] = {0xfd};
		static const uint8_t host[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10};
		static const uint8_t db8[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
		CHECK(memcmp(c.identity.trusted_proxies[0].addr, ten, 16) == 0);
		CHECK_EQ(c.identity.trusted_proxies[0].prefix, 104);
		CHECK(memcmp(c.identity.trusted_proxies[1].addr, fd, 16) == 0);
		CHECK_EQ(c.identity.trusted_proxies[1].prefix, 8);
		CHECK(memcmp(c.identity.trusted_proxies[2].addr, host, 16) == 0);
		CHECK_EQ(c.identity.trusted_proxies[2].prefix, 128);
		CHECK(memcmp(c.identity.trusted_proxies[3].addr, db8, 16) == 0);
		CHECK_EQ(c.identity.trusted_proxies[3].prefix, 128);
	}
	CHECK_EQ(c.policy.business_hours.days, (1 << 0) | (1 << 6) | (1 << 3));
	CHECK_EQ(c.policy.business_hours.start_min, 0);
	CHECK_EQ(c.policy.business_hours.end_min, 23 * 60 + 59);
	CHECK_STR(c.policy.business_hours.timezone, "Europe/Paris");
	CHECK_EQ(c.policy.key_max_age_us, 7200 * SEC);
	CHECK_EQ(c.detection.learning_period_us, 0);
	config_free(&c);
}

static void test_parse_size(void)
{
	static const struct {
		const char *s;
		unsigned long long v;
	} good[] = {
		{"0", 0},           {"4096", 4096},        {"1B", 1},
		{"512K", 512 << 10}, {"2KB", 2048},         {"3KiB", 3072},
		{"64M", 64 * MiB},  {"64MB", 64 * MiB},    {"64MiB", 64 * MiB},
		{"1G", 1024 * MiB}, {"2GB", 2048 * MiB},   {"4GiB", 4096 * MiB},
		{"007K", 7 << 10},  {"18446744073709551615", 18446744073709551615ull},
	};
	static const char *const bad[] = {
		"", "K", "1.5M", "-1", "+1", "1 MiB", " 1", "1 ", "1m", "1k", "1T", "1MiBs",
		"0x10", "1_000", "18446744073709551616", "17179869184G", "MiB",
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = 12345;
		CHECK_EQ(config_parse_size(good[i].s, &v), 0);
		CHECK_EQ(v, good[i].v);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 12345;
		if (config_parse_size(bad[i], &v) != -1)
			fprintf(stderr, "  accepted size \"%s\"\n", bad[i]);
		CHECK_EQ(v, 12345);
	}
}

static void test_parse_duration(void)
{
	static const struct {
		const char *s;
		unsigned long long us;
	} good[] = {
		{"0s", 0},        {"1ms", 1000},            {"500ms", 500000}, {"30s", 30 * SEC},
		{"5m", 300 * SEC}, {"2h", 7200 * SEC},      {"7d", 604800 * SEC},
		{"0ms", 0},       {"213503982d", 213503982ull * 86400 * SEC},
	};
	static const char *const bad[] = {
		"", "300", "s", "5 m", "5min", "5M", "5S", "1.5h", "-1s", "+1s", "5m30s", "1w",
		"5ms ", "213503983d", "99999999999999999999s",
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		v = 12345;
		CHECK_EQ(config_parse_duration(good[i].s, &v), 0);
		CHECK_EQ(v, good[i].us);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = 12345;
		if (config_parse_duration(bad[i], &v) != -1)
			fprintf(stderr, "  accepted duration \"%s\"\n", bad[i]);
		CHECK_EQ(v, 12345);
	}
}

static void test_range_edges(void)
{
	struct tapir_config c;
	char path[32], err[512];

	CHECK_EQ(load_text(&c,
			   "capture: {snaplen: 64, buffer: 4GiB}\n"
			   "flows: {max: 16777216, idle_timeout: 7d, closed_timeout: 1h}\n"
			   "reassembly: {memcap: 64GiB, max_held_per_direction: 1KiB, max_held_segments: 1000000}\n"
			   "http: {max_head: 16MiB, max_line: 1MiB, max_resync: 1GiB, max_pending: 1}\n",
			   path, err, sizeof err),
		 0);
	CHECK_STR(err, "");
	CHECK_EQ(c.capture.snaplen, 64);
	CHECK_EQ(c.capture.buffer, 4096 * MiB);
	CHECK_EQ(c.flows.max, 16777216);
	CHECK_EQ(c.flows.idle_timeout_us, 604800 * SEC);
	CHECK_EQ(c.reassembly.memcap, 65536 * MiB);
	CHECK_EQ(c.http.max_resync, 1024 * MiB);
	config_free(&c);
}

static void test_bools(void)
{
	struct tapir_config c;
	char path[32], err[512];

	CHECK_EQ(load_text(&c, "capture: {promiscuous: false}\n", path, err, sizeof err), 0);
	CHECK_EQ(c.capture.promiscuous, 0);
	CHECK_EQ(load_text(&c, "capture: {promiscuous: true}\n", path, err, sizeof err), 0);
	CHECK_EQ(c.capture.promiscuous, 1);
}

/* Anchors and aliases are resolved by libyaml and accepted. */
static void test_aliases(void)
{
	struct tapir_config c;
	char path[32], err[512];

	CHECK_EQ(load_text(&c,
			   "http: {max_head: &big 1MiB}\n"
			   "reassembly: {max_held_per_direction: *big}\n"
			   "api: {sensitive: &s [\"/admin/**\"]}\n",
			   path, err, sizeof err),
		 0);
	CHECK_STR(err, "");
	CHECK_EQ(c.http.max_head, MiB);
	CHECK_EQ(c.reassembly.max_held_per_direction, MiB);
	CHECK_EQ(c.api.n_sensitive, 1);
	config_free(&c);
}

/* A folded BPF filter may span lines; its line breaks are kept. */
static void test_multiline_filter(void)
{
	struct tapir_config c;
	char path[32], err[512];

	CHECK_EQ(load_text(&c, "capture:\n  filter: |\n    tcp port 80\n    or tcp port 8080\n", path,
			   err, sizeof err),
		 0);
	CHECK_STR(err, "");
	CHECK_STR(c.capture.filter, "tcp port 80\nor tcp port 8080\n");
}

static void test_time_zones(void)
{
	static const char *const good[] = {"UTC", "Europe/Paris", "America/New_York", "Etc/GMT+5"};
	struct tapir_config c;
	char text[256], path[32], err[512];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text, "policy: {business_hours: {timezone: \"%s\"}}\n", good[i]);
		CHECK_EQ(load_text(&c, text, path, err, sizeof err), 0);
		CHECK_STR(err, "");
		CHECK_STR(c.policy.business_hours.timezone, good[i]);
	}
}

static void test_redis_urls(void)
{
	static const char *const good[] = {"redis://127.0.0.1", "rediss://cache.internal:6380/1",
					   "unix:/run/redis.sock", "redis://:secret@h:1/0"};
	struct tapir_config c;
	char text[256], path[32], err[512];
	size_t i;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		snprintf(text, sizeof text, "output: {redis: {url: \"%s\"}}\n", good[i]);
		CHECK_EQ(load_text(&c, text, path, err, sizeof err), 0);
		CHECK_STR(c.output.redis.url, good[i]);
	}
	/* A bad URL is never echoed: it may hold a password. */
	CHECK_EQ(load_text(&c, "output: {redis: {url: \"http://:hunter2@h\"}}\n", path, err,
			   sizeof err),
		 -1);
	CHECK(strstr(err, "hunter2") == NULL);
}

/* Each file must fail with exactly `msg` after "PATH". */
static const struct {
	const char *yaml;
	const char *msg;
} bad[] = {
	/* unknown keys */
	{"sensors:\n  name: x\n",
	 ":1:1: sensors: unknown key (expected one of: sensor, capture, flows, reassembly, "
	 "ip_fragments, http, http2, output, api, identity, policy, detection)"},
	{"capture:\n  snaplenn: 100\n",
	 ":2:3: capture.snaplenn: unknown key (expected one of: interface, filter, snaplen, buffer, "
	 "promiscuous)"},
	{"output:\n  redis:\n    urll: redis://x\n",
	 ":3:5: output.redis.urll: unknown key (expected one of: url, channel, stream, stream_maxlen, "
	 "events_stream, events_maxlen, audit_heads, heartbeat, connect_timeout, command_timeout, "
	 "reconnect_max, drain_timeout)"},
	{"capture:\n  <<: {snaplen: 100}\n",
	 ":2:3: capture.\"<<\": unknown key (expected one of: interface, filter, snaplen, buffer, "
	 "promiscuous)"},
	/* wrong types */
	{"capture: eth0\n", ":1:10: capture: expected a mapping, got \"eth0\""},
	{"capture:\n  - snaplen: 100\n", ":2:3: capture: expected a mapping, got a sequence"},
	{"capture:\n  snaplen: {a: 1}\n", ":2:12: capture.snaplen: expected an integer, got a mapping"},
	{"capture:\n  snaplen:\n", ":2:11: capture.snaplen: missing value (expected an integer)"},
	{"capture:\n  snaplen: \"1500\"\n",
	 ":2:12: capture.snaplen: expected an integer, got the quoted string \"1500\""},
	{"capture:\n  snaplen: 1500.0\n", ":2:12: capture.snaplen: bad integer \"1500.0\""},
	{"capture:\n  snaplen: -1\n", ":2:12: capture.snaplen: bad integer \"-1\""},
	{"api:\n  sensitive: /admin\n",
	 ":2:14: api.sensitive: expected a sequence of path globs, got \"/admin\""},
	{"api:\n  sensitive: [[/a]]\n",
	 ":2:15: api.sensitive[0]: expected a path glob, got a sequence"},
	{"- capture\n", ":1:1: expected a mapping of sections at the top level, got a sequence"},
	{"hello\n", ":1:1: expected a mapping of sections at the top level, got \"hello\""},
	{"? [a]\n: 1\n", ":1:3: expected a key name, got a sequence"},
	{"capture: !vault {snaplen: 100}\n",
	 ":1:10: capture: YAML tags are not supported (found \"!vault\")"},
	{"capture: {snaplen: !!int 100}\n",
	 ":1:20: capture.snaplen: YAML tags are not supported (found \"tag:yaml.org,2002:int\")"},
	/* sizes and durations */
	{"capture:\n  buffer: 64 megs\n",
	 ":2:11: capture.buffer: bad size \"64 megs\" (use e.g. 512K, 64MiB, 1GiB; units are "
	 "1024-based)"},
	{"capture:\n  buffer: 1T\n",
	 ":2:11: capture.buffer: bad size \"1T\" (use e.g. 512K, 64MiB, 1GiB; units are 1024-based)"},
	{"flows:\n  idle_timeout: 5 minutes\n",
	 ":2:17: flows.idle_timeout: bad duration \"5 minutes\" (use e.g. 30s, 5m, 2h, 7d)"},
	{"flows:\n  idle_timeout: 300\n",
	 ":2:17: flows.idle_timeout: bad duration \"300\": a unit is required (use e.g. 30s, 5m, 2h, "
	 "7d)"},
	/* ranges */
	{"capture:\n  snaplen: 63\n", ":2:12: capture.snaplen: 63 is out of range (64..262144)"},
	{"capture:\n  snaplen: 99999999999999999999\n",
	 ":2:12: capture.snaplen: bad integer \"99999999999999999999\""},
	{"capture: {buffer: 512K}\n", ":1:19: capture.buffer: 512K is out of range (1MiB..4GiB)"},
	{"flows: {idle_timeout: 8d}\n", ":1:23: flows.idle_timeout: 8d is out of range (1s..7d)"},
	{"flows: {idle_timeout: 999ms}\n",
	 ":1:23: flows.idle_timeout: 999ms is out of range (1s..7d)"},
	{"flows: {max: 0}\n", ":1:14: flows.max: 0 is out of range (1..16777216)"},
	{"http: {max_line: 255}\n", ":1:18: http.max_line: 255 is out of range (256..1MiB)"},
	{"reassembly: {memcap: 65GiB}\n",
	 ":1:22: reassembly.memcap: 65GiB is out of range (64KiB..64GiB)"},
	{"sensor: {workers: -1}\n", ":1:19: sensor.workers: bad integer \"-1\""},
	{"sensor: {workers: 65}\n", ":1:19: sensor.workers: 65 is out of range (0..64)"},
	{"output: {redis: {stream_maxlen: 0}}\n",
	 ":1:33: output.redis.stream_maxlen: 0 is out of range (1..1000000000)"},
	{"output: {redis: {heartbeat: 10ms}}\n",
	 ":1:29: output.redis.heartbeat: 10ms is out of range (1s..1h)"},
	{"output: {spool: {max_size: 1KiB}}\n",
	 ":1:28: output.spool.max_size: 1KiB is out of range (1MiB..1024GiB)"},
	{"output: {spool: {dirr: /x}}\n",
	 ":1:18: output.spool.dirr: unknown key (expected one of: dir, max_size)"},
	/* booleans */
	{"capture:\n  promiscuous: yes\n",
	 ":2:16: capture.promiscuous: bad boolean \"yes\" (use true or false)"},
	{"capture:\n  promiscuous: \"true\"\n",
	 ":2:16: capture.promiscuous: expected true or false, got the quoted string \"true\""},
	/* strings */
	{"sensor:\n  name: tap 1\n",
	 ":2:9: sensor.name: bad name \"tap 1\" (1-63 of A-Z a-z 0-9 . _ -)"},
	{"sensor:\n  name: \"\"\n", ":2:9: sensor.name: must not be empty"},
	{"sensor:\n  user: -x\n",
	 ":2:9: sensor.user: bad user name \"-x\" (1-32 of A-Z a-z 0-9 . _ -, not starting with -)"},
	{"sensor:\n  user: a b\n",
	 ":2:9: sensor.user: bad user name \"a b\" (1-32 of A-Z a-z 0-9 . _ -, not starting with -)"},
	{"sensor:\n  user: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	 ":2:9: sensor.user: too long (33 bytes, at most 32)"},
	{"sensor:\n  log: journal\n",
	 ":2:8: sensor.log: bad log destination \"journal\" (use stderr or syslog)"},
	{"sensor:\n  log: [syslog]\n", ":2:8: sensor.log: expected stderr or syslog, got a sequence"},
	{"sensor:\n  name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	 ":2:9: sensor.name: too long (64 bytes, at most 63)"},
	{"sensor:\n  name: \"a\\nb\"\n", ":2:9: sensor.name: contains a control character (byte 2)"},
	{"sensor:\n  name: \"a\\0b\"\n", ":2:9: sensor.name: contains a NUL character"},
	{"output:\n  redis:\n    url: http://localhost:6379\n",
	 ":3:10: output.redis.url: bad Redis URL (use redis://[:password@]host[:port][/db], "
	 "rediss://... or unix:/path/to/socket)"},
	{"output: {redis: {url: \"redis://\"}}\n",
	 ":1:23: output.redis.url: bad Redis URL (use redis://[:password@]host[:port][/db], "
	 "rediss://... or unix:/path/to/socket)"},
	/* api.sensitive */
	{"api:\n  sensitive:\n    - /admin/**\n    - admin/**\n",
	 ":4:7: api.sensitive[1]: bad path glob \"admin/**\" (must start with /)"},
	{"api:\n  sensitive: [\"get /v1/**\"]\n",
	 ":2:15: api.sensitive[0]: bad method \"get\" (use an uppercase method such as GET, or none "
	 "for any method)"},
	{"api:\n  sensitive: [\"GET  /v1\"]\n",
	 ":2:15: api.sensitive[0]: bad path glob \" /v1\" (must start with /)"},
	{"api:\n  sensitive: [\"/v1/a b\"]\n",
	 ":2:15: api.sensitive[0]: bad path glob \"/v1/a b\" (no spaces or control characters)"},
	{"api:\n  sensitive: [\"/ok\", ~]\n",
	 ":2:22: api.sensitive[1]: missing value (expected a path glob)"},
	/* business hours */
	{"policy:\n  business_hours:\n    days: [mon, tues]\n",
	 ":3:17: policy.business_hours.days[1]: bad day \"tues\" (use mon, tue, wed, thu, fri, sat, "
	 "sun)"},
	{"policy:\n  business_hours:\n    days: [Mon]\n",
	 ":3:12: policy.business_hours.days[0]: bad day \"Mon\" (use mon, tue, wed, thu, fri, sat, "
	 "sun)"},
	{"policy:\n  business_hours:\n    days: [mon, tue, mon]\n",
	 ":3:22: policy.business_hours.days[2]: \"mon\" is listed twice"},
	{"policy:\n  business_hours:\n    days: []\n",
	 ":3:11: policy.business_hours.days: no day listed (use some of mon, tue, wed, thu, fri, sat, "
	 "sun)"},
	{"policy:\n  business_hours:\n    days: mon\n",
	 ":3:11: policy.business_hours.days: expected a sequence of days, got \"mon\""},
	{"policy:\n  business_hours:\n    start: \"18:00\"\n    end: \"08:00\"\n",
	 ":4:10: policy.business_hours.end: end 08:00 is not after start 18:00 (hours cannot wrap "
	 "past midnight)"},
	{"policy:\n  business_hours:\n    start: \"18:00\"\n",
	 ":3:12: policy.business_hours.start: end 18:00 is not after start 18:00 (hours cannot wrap "
	 "past midnight)"},
	{"policy:\n  business_hours:\n    start: 8am\n",
	 ":3:12: policy.business_hours.start: bad time \"8am\" (use HH:MM on a 24-hour clock, e.g. "
	 "\"08:00\")"},
	{"policy:\n  business_hours:\n    end: \"24:00\"\n",
	 ":3:10: policy.business_hours.end: bad time \"24:00\" (use HH:MM on a 24-hour clock, e.g. "
	 "\"08:00\")"},
	{"policy:\n  business_hours:\n    timezone: Mars/Olympus\n",
	 ":3:15: policy.business_hours.timezone: unknown time zone \"Mars/Olympus\" (use UTC or a "
	 "name under /usr/share/zoneinfo, e.g. Europe/Paris)"},
	{"policy: {business_hours: {timezone: ../../../etc/passwd}}\n",
	 ":1:37: policy.business_hours.timezone: unknown time zone \"../../../etc/passwd\" (use UTC or "
	 "a name under /usr/share/zoneinfo, e.g. Europe/Paris)"},
	{"policy: {business_hours: {timezone: zone.tab}}\n",
	 ":1:37: policy.business_hours.timezone: unknown time zone \"zone.tab\" (use UTC or a name "
	 "under /usr/share/zoneinfo, e.g. Europe/Paris)"},
	{"policy: {business_hours: {timezone: utc}}\n",
	 ":1:37: policy.business_hours.timezone: unknown time zone \"utc\" (use UTC or a name under "
	 "/usr/share/zoneinfo, e.g. Europe/Paris)"},
	/* identity: names */
	{"identity:\n  api_key_headers: X-API-Key\n",
	 ":2:20: identity.api_key_headers: expected a sequence of header names, got \"X-API-Key\""},
	{"identity:\n  api_key_headers:\n",
	 ":2:19: identity.api_key_headers: missing value (expected a sequence of header names)"},
	{"identity:\n  api_key_headers: [X-API-Key, {a: 1}]\n",
	 ":2:32: identity.api_key_headers[1]: expected a header name, got a mapping"},
	{"identity:\n  api_key_headers: [\"X API Key\"]\n",
	 ":2:21: identity.api_key_headers[0]: bad header name \"X API Key\" (letters, digits and "
	 "!#$%&'*+-.^_`|~ only)"},
	{"identity:\n  api_key_headers: [\"X-Key:\"]\n",
	 ":2:21: identity.api_key_headers[0]: bad header name \"X-Key:\" (letters, digits and "
	 "!#$%&'*+-.^_`|~ only)"},
	{"identity:\n  api_key_headers: [\"\"]\n",
	 ":2:21: identity.api_key_headers[0]: must not be empty"},
	{"identity:\n  api_key_headers: [X-API-Key, Api-Key, x-api-key]\n",
	 ":2:41: identity.api_key_headers[2]: \"x-api-key\" is listed twice (names match ignoring "
	 "case)"},
	{"identity:\n  api_key_headers: [authorization]\n",
	 ":2:21: identity.api_key_headers[0]: \"authorization\" is read as a credential already "
	 "(list API-key headers only)"},
	{"identity:\n  api_key_headers: [Cookie]\n",
	 ":2:21: identity.api_key_headers[0]: \"Cookie\" is read as a credential already (list "
	 "API-key headers only)"},
	{"identity:\n  api_key_headers: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q]\n",
	 ":2:20: identity.api_key_headers: too many entries (17, at most 16)"},
	{"identity:\n  session_cookies: [aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n",
	 ":2:21: identity.session_cookies[0]: cookie name too long (64 bytes, at most 63)"},
	{"identity:\n  session_cookies: [\"sid=\"]\n",
	 ":2:21: identity.session_cookies[0]: bad cookie name \"sid=\" (letters, digits and "
	 "!#$%&'*+-.^_`|~ only)"},
	{"identity:\n  session_cookies: [sid, SID]\n",
	 ":2:26: identity.session_cookies[1]: \"SID\" is listed twice (names match ignoring case)"},
	{"identity:\n  session_cookie: [sid]\n",
	 ":2:3: identity.session_cookie: unknown key (expected one of: api_key_headers, "
	 "session_cookies, jwt_keys, trusted_proxies)"},
	/* identity: jwt_keys */
	{"identity:\n  jwt_keys: keys/a.pem\n",
	 ":2:13: identity.jwt_keys: expected a sequence of key files, got \"keys/a.pem\""},
	{"identity:\n  jwt_keys: [keys/a.pem]\n",
	 ":2:14: identity.jwt_keys[0]: expected a mapping {file: PATH, format: pem|jwks|hmac}, got "
	 "\"keys/a.pem\""},
	{"identity:\n  jwt_keys: [~]\n",
	 ":2:14: identity.jwt_keys[0]: missing value (expected a mapping {file: PATH, format: "
	 "pem|jwks|hmac})"},
	{"identity:\n  jwt_keys:\n    - {format: pem}\n",
	 ":3:7: identity.jwt_keys[0]: missing file (add file: PATH)"},
	{"identity:\n  jwt_keys:\n    - {file: a.pem}\n",
	 ":3:7: identity.jwt_keys[0]: missing format (add format: pem, jwks or hmac)"},
	{"identity:\n  jwt_keys:\n    - {file: a.pem, format: pem}\n    - {file: b.der, format: der}\n",
	 ":4:29: identity.jwt_keys[1].format: bad format \"der\" (use pem, jwks or hmac)"},
	{"identity:\n  jwt_keys:\n    - {file: a.pem, format: PEM}\n",
	 ":3:29: identity.jwt_keys[0].format: bad format \"PEM\" (use pem, jwks or hmac)"},
	{"identity:\n  jwt_keys:\n    - {file: a.pem, format: pem, alg: RS512}\n",
	 ":3:39: identity.jwt_keys[0].alg: bad algorithm \"RS512\" (use HS256, HS384, HS512, RS256, "
	 "ES256 or EdDSA)"},
	{"identity:\n  jwt_keys:\n    - {file: a.pem, format: pem, alg: none}\n",
	 ":3:39: identity.jwt_keys[0].alg: bad algorithm \"none\" (use HS256, HS384, HS512, RS256, "
	 "ES256 or EdDSA)"},
	{"identity:\n  jwt_keys:\n    - {file: a.pem, format: pem, alg: HS256}\n",
	 ":3:39: identity.jwt_keys[0].alg: HS256 needs format hmac (a PEM key verifies RS256, ES256 "
	 "or EdDSA)"},
	{"identity:\n  jwt_keys:\n    - {file: s, format: hmac, alg: RS256}\n",
	 ":3:36: identity.jwt_keys[0].alg: RS256 does not fit format hmac (use HS256, HS384 or "
	 "HS512)"},
	{"identity:\n  jwt_keys:\n    - {file: j, format: jwks, kid: k1}\n",
	 ":3:31: identity.jwt_keys[0].kid: not for format jwks (each key of a JWKS has its own kid)"},
	{"identity:\n  jwt_keys:\n    - {alg: RS256, file: j, format: jwks}\n",
	 ":3:8: identity.jwt_keys[0].alg: not for format jwks (each key of a JWKS has its own alg)"},
	{"identity:\n  jwt_keys:\n    - {file: a.pem, format: pem, path: x}\n",
	 ":3:34: identity.jwt_keys[0].path: unknown key (expected one of: file, format, kid, alg)"},
	{"identity:\n  jwt_keys:\n    - {file: a.pem, format: pem, file: b.pem}\n",
	 ":3:34: identity.jwt_keys[0].file: duplicate key (first at line 3)"},
	{"identity:\n  jwt_keys:\n    - {file: \"\", format: pem}\n",
	 ":3:14: identity.jwt_keys[0].file: must not be empty"},
	{"identity:\n  jwt_keys:\n    - {file: [a], format: pem}\n",
	 ":3:14: identity.jwt_keys[0].file: expected a file path, got a sequence"},
	{"identity:\n  jwt_keys:\n    - {file: a, format: pem, kid: \"k\\t1\"}\n",
	 ":3:35: identity.jwt_keys[0].kid: contains a control character (byte 2)"},
	/* identity: trusted_proxies */
	{"identity:\n  trusted_proxies: 10.0.0.0/8\n",
	 ":2:20: identity.trusted_proxies: expected a sequence of CIDRs, got \"10.0.0.0/8\""},
	{"identity:\n  trusted_proxies: [10.0.0/8]\n",
	 ":2:21: identity.trusted_proxies[0]: bad CIDR \"10.0.0/8\" (use an IPv4 or IPv6 address "
	 "with an optional /prefix, e.g. 10.0.0.0/8 or fd00::/8)"},
	{"identity:\n  trusted_proxies: [10.0.0.0/]\n",
	 ":2:21: identity.trusted_proxies[0]: bad CIDR \"10.0.0.0/\" (use an IPv4 or IPv6 address "
	 "with an optional /prefix, e.g. 10.0.0.0/8 or fd00::/8)"},
	{"identity:\n  trusted_proxies: [10.0.0.0/-8]\n",
	 ":2:21: identity.trusted_proxies[0]: bad CIDR \"10.0.0.0/-8\" (use an IPv4 or IPv6 address "
	 "with an optional /prefix, e.g. 10.0.0.0/8 or fd00::/8)"},
	{"identity:\n  trusted_proxies: [proxy.internal]\n",
	 ":2:21: identity.trusted_proxies[0]: bad CIDR \"proxy.internal\" (use an IPv4 or IPv6 "
	 "address with an optional /prefix, e.g. 10.0.0.0/8 or fd00::/8)"},
	{"identity:\n  trusted_proxies: [\"fe80::1%eth0\"]\n",
	 ":2:21: identity.trusted_proxies[0]: bad CIDR \"fe80::1%eth0\" (use an IPv4 or IPv6 address "
	 "with an optional /prefix, e.g. 10.0.0.0/8 or fd00::/8)"},
	{"identity:\n  trusted_proxies: [10.0.0.0/33]\n",
	 ":2:21: identity.trusted_proxies[0]: prefix /33 is too long for IPv4 (at most /32)"},
	{"identity:\n  trusted_proxies: [\"fd00::/129\"]\n",
	 ":2:21: identity.trusted_proxies[0]: prefix /129 is too long for IPv6 (at most /128)"},
	{"identity:\n  trusted_proxies: [10.1.2.3/8]\n",
	 ":2:21: identity.trusted_proxies[0]: \"10.1.2.3/8\" has host bits set (the network is "
	 "10.0.0.0/8)"},
	{"identity:\n  trusted_proxies: [\"2001:db8::1/32\"]\n",
	 ":2:21: identity.trusted_proxies[0]: \"2001:db8::1/32\" has host bits set (the network is "
	 "2001:db8::/32)"},
	{"identity:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 192.0.2.1\n    - 10.0.0.0/08\n",
	 ":5:7: identity.trusted_proxies[2]: \"10.0.0.0/08\" is the same network as entry 0"},
	{"identity:\n  trusted_proxies: [10.0.0.0/8, ~]\n",
	 ":2:33: identity.trusted_proxies[1]: missing value (expected a CIDR)"},
	/* duplicates */
	{"capture:\n  snaplen: 100\n  snaplen: 200\n",
	 ":3:3: capture.snaplen: duplicate key (first at line 2)"},
	{"sensor: {name: a}\ncapture: {}\nsensor: {name: b}\n",
	 ":3:1: sensor: duplicate key (first at line 1)"},
	/* YAML syntax */
	{"capture:\n\tsnaplen: 100\n",
	 ":2:1: YAML syntax error: found character that cannot start any token, while scanning for "
	 "the next token at line 2 (a tab: indent with spaces)"},
	{"capture: {snaplen: 100\n",
	 ":2:1: YAML syntax error: did not find expected ',' or '}', while parsing a flow mapping at "
	 "line 1"},
	{"capture:\n  snaplen: *nowhere\n", ":2:12: YAML syntax error: found undefined alias"},
	{"sensor: {name: a}\n---\nsensor: {name: b}\n", ":2:1: only one YAML document is allowed"},
	{"sensor: {name: \"\xff\"}\n",
	 ":1:17: YAML syntax error: invalid leading UTF-8 octet"},
};

static void test_bad_configs(void)
{
	struct tapir_config c;
	char path[32], err[512], want[1024];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = load_text(&c, bad[i].yaml, path, err, sizeof err);
		snprintf(want, sizeof want, "%s%s", path, bad[i].msg);
		CHECK_EQ(rc, -1);
		CHECK_STR(err, want);
		CHECK(strchr(err, '\n') == NULL);
		config_free(&c);
	}
}

/* User text in a message is escaped and cut, so the message stays one line. */
static void test_message_is_one_line(void)
{
	struct tapir_config c;
	char path[32], err[512], want[512];

	CHECK_EQ(load_text(&c, "capture: {buffer: \"1\\n2\\t3\\x01\\\"\"}\n", path, err, sizeof err), -1);
	snprintf(want, sizeof want,
		 "%s:1:19: capture.buffer: bad size \"1\\n2\\t3\\x01\\\"\" (use e.g. 512K, 64MiB, 1GiB; "
		 "units are 1024-based)",
		 path);
	CHECK_STR(err, want);
	CHECK_EQ(load_text(&c,
			   "capture: {buffer: 0123456789012345678901234567890123456789012345678901234567890123456789}\n",
			   path, err, sizeof err),
		 -1);
	snprintf(want, sizeof want,
		 "%s:1:19: capture.buffer: bad size \"0123456789012345678901234567890123456789...\" "
		 "(use e.g. 512K, 64MiB, 1GiB; units are 1024-based)",
		 path);
	CHECK_STR(err, want);
	/* A small buffer truncates, still terminated. */
	CHECK_EQ(load_text(&c, "capture: {snaplen: 1}\n", path, err, 8), -1);
	CHECK_EQ(strlen(err), 7);
}

static void test_unreadable(void)
{
	struct tapir_config c;
	char err[512];

	config_defaults(&c);
	CHECK_EQ(config_load(&c, "/nonexistent/tapir.yaml", err, sizeof err), -1);
	CHECK_STR(err, "/nonexistent/tapir.yaml: cannot read: No such file or directory");
	CHECK_EQ(config_load(&c, "/tmp", err, sizeof err), -1);
	CHECK_STR(err, "/tmp: cannot read: Is a directory");
}

/* A failed load leaves the configuration as it was; a good one replaces lists. */
static void test_load_is_all_or_nothing(void)
{
	struct tapir_config c, before;
	char path[32], err[512];

	CHECK_EQ(load_text(&c, "api: {sensitive: [\"/a/**\", \"POST /b\"]}\nsensor: {name: one}\n",
			   path, err, sizeof err),
		 0);
	before = c;
	write_tmp("sensor: {name: two}\napi: {sensitive: [\"/c\", bad]}\n", path);
	CHECK_EQ(config_load(&c, path, err, sizeof err), -1);
	unlink(path);
	CHECK_STR(c.sensor.name, "one");
	CHECK(c.api.sensitive == before.api.sensitive);
	CHECK_EQ(c.api.n_sensitive, 2);
	CHECK_STR(c.api.sensitive[1].method, "POST");
	CHECK_STR(c.api.sensitive[1].glob, "/b");

	/* Only the keys in the second file change; its list replaces the first. */
	write_tmp("api: {sensitive: [\"DELETE /**\"]}\n", path);
	CHECK_EQ(config_load(&c, path, err, sizeof err), 0);
	unlink(path);
	CHECK_STR(c.sensor.name, "one");
	CHECK_EQ(c.api.n_sensitive, 1);
	CHECK_STR(c.api.sensitive[0].method, "DELETE");
	CHECK_STR(c.api.sensitive[0].glob, "/**");

	write_tmp("api: {sensitive: []}\n", path);
	CHECK_EQ(config_load(&c, path, err, sizeof err), 0);
	unlink(path);
	CHECK(c.api.sensitive == NULL);
	CHECK_EQ(c.api.n_sensitive, 0);
	config_free(&c);
}

static void test_cidr_match(void)
{
	struct tapir_config c;
	char path[32], err[512];
	static const uint8_t v4in[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 200, 3, 4};
	static const uint8_t v4out[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 11, 0, 0, 1};
	static const uint8_t v4edge[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 172, 31, 255, 255};
	static const uint8_t v4past[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 172, 32, 0, 0};
	static const uint8_t v6in[16] = {0xfd, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9};
	static const uint8_t v6out[16] = {0xfe, 0x80};
	static const uint8_t host[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t host2[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

	CHECK_EQ(load_text(&c,
			   "identity:\n  trusted_proxies: [10.0.0.0/8, 172.16.0.0/12, \"fd00::/8\", "
			   "\"2001:db8::1\", 0.0.0.0/0]\n",
			   path, err, sizeof err),
		 0);
	CHECK_STR(err, "");
	CHECK_EQ(c.identity.n_trusted_proxies, 5);
	if (c.identity.n_trusted_proxies == 5) {
		const struct config_cidr *t = c.identity.trusted_proxies;
		CHECK(config_cidr_match(&t[0], v4in));
		CHECK(!config_cidr_match(&t[0], v4out));
		CHECK(config_cidr_match(&t[1], v4edge));
		CHECK(!config_cidr_match(&t[1], v4past));
		CHECK(config_cidr_match(&t[2], v6in));
		CHECK(!config_cidr_match(&t[2], v6out));
		CHECK(!config_cidr_match(&t[0], v6in)); /* IPv4 networks hold only IPv4 addresses */
		CHECK(config_cidr_match(&t[3], host));
		CHECK(!config_cidr_match(&t[3], host2));
		CHECK(config_cidr_match(&t[4], v4out)); /* 0.0.0.0/0: every IPv4 address ... */
		CHECK(!config_cidr_match(&t[4], v6in)); /* ... and no IPv6 one */
		CHECK_EQ(t[4].prefix, 96);
	}
	config_free(&c);
}

/* The identity lists are replaced whole, and kept when a later load fails. */
static void test_identity_lists(void)
{
	struct tapir_config c, before;
	char path[32], err[512];

	CHECK_EQ(load_text(&c,
			   "identity:\n  jwt_keys: [{file: a.pem, format: pem}]\n"
			   "  trusted_proxies: [10.0.0.0/8]\n  api_key_headers: []\n"
			   "  session_cookies: [__Secure-sid]\n",
			   path, err, sizeof err),
		 0);
	CHECK_STR(err, "");
	CHECK_EQ(c.identity.api_key_headers.n, 0);
	CHECK_EQ(c.identity.session_cookies.n, 1);
	before = c;
	write_tmp("identity:\n  jwt_keys: [{file: b.pem, format: pem}, {file: c}]\n"
		  "  trusted_proxies: [fd00::/8]\n",
		  path);
	CHECK_EQ(config_load(&c, path, err, sizeof err), -1);
	unlink(path);
	CHECK(c.identity.jwt_keys == before.identity.jwt_keys);
	CHECK_EQ(c.identity.n_jwt_keys, 1);
	CHECK_STR(c.identity.jwt_keys[0].file, "a.pem");
	CHECK(c.identity.trusted_proxies == before.identity.trusted_proxies);
	write_tmp("identity:\n  trusted_proxies: [10.0.0.0/8, 10.0.0.0/9]\n  jwt_keys: [{file: x, format: pem}]\n"
		  "  jwt_keys: []\n",
		  path);
	CHECK_EQ(config_load(&c, path, err, sizeof err), -1); /* duplicate key, after both lists */
	unlink(path);
	CHECK_EQ(c.identity.n_trusted_proxies, 1);

	write_tmp("identity:\n  trusted_proxies: [\"::/0\", 192.0.2.0/24]\n", path);
	CHECK_EQ(config_load(&c, path, err, sizeof err), 0);
	unlink(path);
	CHECK_EQ(c.identity.n_trusted_proxies, 2);
	CHECK_EQ(c.identity.trusted_proxies[0].prefix, 0);
	CHECK_EQ(c.identity.trusted_proxies[1].prefix, 120);
	CHECK_EQ(c.identity.n_jwt_keys, 1); /* not in this file: unchanged */

	write_tmp("identity: {jwt_keys: [], trusted_proxies: []}\n", path);
	CHECK_EQ(config_load(&c, path, err, sizeof err), 0);
	unlink(path);
	CHECK(c.identity.jwt_keys == NULL);
	CHECK(c.identity.trusted_proxies == NULL);
	config_free(&c);
	config_free(&c);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_example_file_is_the_defaults);
	RUN(test_interface_example);
	RUN(test_daemon_keys);
	RUN(test_empty_files);
	RUN(test_every_key);
	RUN(test_parse_size);
	RUN(test_parse_duration);
	RUN(test_range_edges);
	RUN(test_bools);
	RUN(test_aliases);
	RUN(test_multiline_filter);
	RUN(test_time_zones);
	RUN(test_redis_urls);
	RUN(test_bad_configs);
	RUN(test_message_is_one_line);
	RUN(test_unreadable);
	RUN(test_load_is_all_or_nothing);
	RUN(test_cidr_match);
	RUN(test_identity_lists);
	return unit_done("test_config");
}

/*
 * test_delivery.c - the pieces of Redis delivery that need no server: the
 * URL parser, the spool (order, restart, torn tail, damage, cap, compaction,
 * lock) and the delivery thread's behaviour with Redis unreachable (spooling,
 * the near-full warning, what is left at stop). test/redis.sh does the rest
 * against real redis-server processes.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sensor/delivery.h"
#include "../sensor/redis_url.h"
#include "../sensor/spool.h"
#include "unit.h"

static char dir[] = "/tmp/tapir-test-spool-XXXXXX";

static void test_urls(void)
{
	struct redis_target t;
	char err[256];
	CHECK_EQ(redis_url_parse("redis://127.0.0.1", &t, err, sizeof err), 0);
	CHECK_STR(t.host, "127.0.0.1");
	CHECK_EQ(t.port, 6379);
	CHECK_EQ(t.db, 0);
	CHECK_STR(t.password, "");
	CHECK_EQ(redis_url_parse("redis://:p%40ss@cache.internal:6380/2", &t, err, sizeof err), 0);
	CHECK_STR(t.host, "cache.internal");
	CHECK_EQ(t.port, 6380);
	CHECK_EQ(t.db, 2);
	CHECK_STR(t.user, "");
	CHECK_STR(t.password, "p@ss");
	CHECK_EQ(redis_url_parse("redis://tapir:pw@[::1]:7000/15", &t, err, sizeof err), 0);
	CHECK_STR(t.host, "::1");
	CHECK_EQ(t.port, 7000);
	CHECK_STR(t.user, "tapir");
	CHECK_STR(t.password, "pw");
	char where[300];
	CHECK_STR(redis_target_where(&t, where, sizeof where), "[::1]:7000");
	CHECK_EQ(redis_url_parse("unix:/run/redis.sock?db=4", &t, err, sizeof err), 0);
	CHECK_STR(t.unix_path, "/run/redis.sock");
	CHECK_EQ(t.db, 4);
	CHECK_EQ(redis_url_parse("unix://u:pw@/run/r.sock", &t, err, sizeof err), 0);
	CHECK_STR(t.unix_path, "/run/r.sock");
	CHECK_STR(t.user, "u");
	static const char *const bad[] = {
		"http://x", "redis://", "redis://h:0", "redis://h:65536", "redis://h:12x",
		"redis://h/abc", "redis://pw@h", "redis://:%zz@h", "redis://[::1", "unix:rel/path",
		"unix:/p?x=1", "rediss://h",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CHECK_EQ(redis_url_parse(bad[i], &t, err, sizeof err), -1);
		CHECK(err[0] != '\0');
	}
	/* The password never shows in the reason. */
	CHECK_EQ(redis_url_parse("redis://:hunter2@h:99999", &t, err, sizeof err), -1);
	CHECK(strstr(err, "hunter2") == NULL);
}

/* Reads everything waiting into out (lines joined by '|'); returns the count. */
static int drain_all(struct spool *s, char *out, size_t cap, uint64_t *end)
{
	uint64_t pos = spool_read_start(s);
	enum spool_kind k;
	const char *data;
	size_t len;
	int n = 0;
	out[0] = '\0';
	while (spool_read(s, &pos, &k, &data, &len) == 1) {
		strncat(out, data, cap - strlen(out) - 2);
		strcat(out, "|");
		n++;
	}
	*end = pos;
	return n;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void test_spool_order_and_restart(void)
{
	char err[256], got[4096], p[512];
	uint64_t end;
	struct spool *s = spool_open(dir, 1 << 20, err, sizeof err);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(spool_append(s, SPOOL_ALERT, "a1", 2), 0);
	CHECK_EQ(spool_append(s, SPOOL_HEAD, "h1", 2), 0);
	CHECK_EQ(spool_append(s, SPOOL_ALERT, "a2", 2), 0);
	CHECK_EQ(spool_pending(s), 3);
	/* A second tapir may not use the same spool. */
	CHECK(spool_open(dir, 1 << 20, err, sizeof err) == NULL);
	CHECK(strstr(err, "in use") != NULL);
	CHECK_EQ(drain_all(s, got, sizeof got, &end), 3);
	CHECK_STR(got, "a1|h1|a2|");
	/* Deliver the first one only, then "crash" (close) and reopen. */
	uint64_t pos = spool_read_start(s);
	enum spool_kind k;
	const char *data;
	size_t len;
	CHECK_EQ(spool_read(s, &pos, &k, &data, &len), 1);
	CHECK_EQ(spool_commit(s, pos, 1), 0);
	spool_close(s);
	s = spool_open(dir, 1 << 20, err, sizeof err);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(spool_pending(s), 2);
	CHECK_EQ(drain_all(s, got, sizeof got, &end), 2);
	CHECK_STR(got, "h1|a2|");
	/* All delivered: the file empties. */
	CHECK_EQ(spool_commit(s, end, 2), 0);
	struct spool_stats st;
	spool_get_stats(s, &st);
	CHECK_EQ(st.file_bytes, 0);
	CHECK_EQ(st.records, 0);
	CHECK_EQ(st.delivered, 2); /* this handle's: counters start at each open */
	spool_close(s);
	path_of(p, sizeof p, "alerts.spool");
	struct stat sb;
	CHECK_EQ(stat(p, &sb), 0);
	CHECK_EQ(sb.st_size, 0);
}

static void test_spool_torn_and_damaged(void)
{
	char err[256], got[4096], p[512];
	uint64_t end;
	struct spool *s = spool_open(dir, 1 << 20, err, sizeof err);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(spool_append(s, SPOOL_ALERT, "first", 5), 0);
	CHECK_EQ(spool_append(s, SPOOL_ALERT, "second", 6), 0);
	CHECK_EQ(spool_append(s, SPOOL_ALERT, "third", 5), 0);
	spool_close(s);
	path_of(p, sizeof p, "alerts.spool");
	int fd = open(p, O_RDWR);
	CHECK(fd >= 0);
	/* Flip a payload byte of "second" (offset 13 + 5 + 13 + 1) and add half a record. */
	CHECK_EQ(pwrite(fd, "X", 1, 13 + 5 + 13 + 1), 1);
	off_t size = lseek(fd, 0, SEEK_END);
	CHECK_EQ(pwrite(fd, "TSP1\x40\0\0\0", 8, size), 8);
	close(fd);
	s = spool_open(dir, 1 << 20, err, sizeof err);
	CHECK(s != NULL);
	if (!s)
		return;
	struct spool_stats st;
	spool_get_stats(s, &st);
	CHECK_EQ(st.torn_bytes, 8);
	CHECK_EQ(st.damaged, 1);
	CHECK_EQ(spool_pending(s), 2);
	CHECK_EQ(drain_all(s, got, sizeof got, &end), 2);
	CHECK_STR(got, "first|third|");
	CHECK_EQ(spool_commit(s, end, 2), 0);
	spool_close(s);
}

static void test_spool_cap_and_compaction(void)
{
	char err[256], rec[1000], got[4096];
	uint64_t end;
	memset(rec, 'x', sizeof rec);
	struct spool *s = spool_open(dir, 4 * (13 + sizeof rec), err, sizeof err);
	CHECK(s != NULL);
	if (!s)
		return;
	for (int i = 0; i < 4; i++) {
		rec[0] = (char)('0' + i);
		CHECK_EQ(spool_append(s, SPOOL_ALERT, rec, sizeof rec), 0);
	}
	CHECK_EQ(spool_append(s, SPOOL_ALERT, rec, sizeof rec), 1); /* full: refused */
	/* Deliver two; the next append compacts and fits. */
	uint64_t pos = spool_read_start(s);
	enum spool_kind k;
	const char *data;
	size_t len;
	CHECK_EQ(spool_read(s, &pos, &k, &data, &len), 1);
	CHECK_EQ(spool_read(s, &pos, &k, &data, &len), 1);
	CHECK_EQ(spool_commit(s, pos, 2), 0);
	rec[0] = '4';
	CHECK_EQ(spool_append(s, SPOOL_ALERT, rec, sizeof rec), 0);
	struct spool_stats st;
	spool_get_stats(s, &st);
	CHECK_EQ(st.refused, 1);
	CHECK_EQ(st.records, 3);
	CHECK_EQ(st.file_bytes, 3 * (13 + sizeof rec));
	CHECK_EQ(drain_all(s, got, sizeof got, &end), 3);
	CHECK(got[0] == '2' && got[sizeof rec + 1] == '3' && got[2 * (sizeof rec + 1)] == '4');
	spool_close(s);
	/* Compaction kept the order across a restart. */
	s = spool_open(dir, 4 * (13 + sizeof rec), err, sizeof err);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(drain_all(s, got, sizeof got, &end), 3);
	CHECK(got[0] == '2');
	CHECK_EQ(spool_commit(s, end, 3), 0);
	spool_close(s);
}

static void test_memory_spool(void)
{
	char err[256], got[256];
	uint64_t end;
	struct spool *s = spool_open(NULL, 1 << 20, err, sizeof err);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(spool_append(s, SPOOL_ALERT, "m1", 2), 0);
	CHECK_EQ(spool_append(s, SPOOL_ALERT, "m2", 2), 0);
	CHECK_EQ(drain_all(s, got, sizeof got, &end), 2);
	CHECK_STR(got, "m1|m2|");
	spool_close(s);
}

/* Redis unreachable (a port nothing listens on): everything spools; the warning fires. */
static void test_delivery_unreachable(void)
{
	char err[256], msg[1024], sub[512];
	snprintf(sub, sizeof sub, "%s/d", dir);
	struct delivery_config c = {
		.sensor_name = "t", .channel = "c", .stream = "s", .stream_maxlen = 10,
		.events_stream = "e", .events_maxlen = 10, .heads_stream = "h",
		.spool_dir = sub, .spool_max = 64 * 1024,
		.connect_ms = 100, .command_ms = 100, .heartbeat_ms = 1000,
		.backoff_max_ms = 200, .drain_ms = 300,
	};
	CHECK_EQ(redis_url_parse("redis://127.0.0.1:1", &c.target, err, sizeof err), 0);
	int status = -1;
	struct delivery *d = delivery_start(&c, &status, err, sizeof err);
	CHECK(d != NULL);
	CHECK_EQ(status, 0);
	if (!d)
		return;
	CHECK_EQ(delivery_launch(d, err, sizeof err), 0);
	char alert[1000];
	memset(alert, 'a', sizeof alert);
	for (int i = 0; i < 80; i++)
		delivery_alert(d, alert, sizeof alert);
	delivery_event(d, "{}", 2);
	bool warned = false;
	for (int i = 0; i < 100 && !warned; i++) {
		warned = delivery_spool_warning(d, msg, sizeof msg);
		usleep(20000);
	}
	CHECK(warned);
	CHECK(strstr(msg, "spool") != NULL);
	CHECK(!delivery_spool_warning(d, msg, sizeof msg)); /* once per crossing */
	struct delivery_stats st;
	delivery_stop(d, &st, msg, sizeof msg);
	CHECK_EQ(st.alerts_delivered, 0);
	CHECK_EQ(st.spooled + st.spool_refused, 80);
	CHECK(st.spool_refused > 0); /* 80 KB do not fit under 64 KiB */
	CHECK_EQ(st.events_dropped, 1);
	CHECK(st.connected == false);
	CHECK(strstr(msg, "wait in the spool") != NULL);
	/* The next start finds them. */
	status = -1;
	d = delivery_start(&c, &status, err, sizeof err);
	CHECK(d != NULL);
	if (!d)
		return;
	delivery_stop(d, &st, msg, sizeof msg);
	CHECK(st.spool_records > 50);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_urls);
	RUN(test_spool_order_and_restart);
	RUN(test_spool_torn_and_damaged);
	RUN(test_spool_cap_and_compaction);
	RUN(test_memory_spool);
	RUN(test_delivery_unreachable);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return unit_done("test_delivery");
}

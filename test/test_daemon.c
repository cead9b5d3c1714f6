/*
 * test_daemon.c - the pure parts of the daemon modules: the progress line's
 * text (progress.c), the syslog priority of a message line (logsink.c), the
 * user lookup of the privilege drop (privdrop.c). The live behaviour (the
 * drop, syslog delivery, the line on a pty) is tested by test/daemon.sh.
 */
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "../sensor/logsink.h"
#include "../sensor/privdrop.h"
#include "../sensor/progress.h"
#include "unit.h"

static void test_progress_format(void)
{
	char b[160];
	/* 300 MB of 900 MB in 2 s: 150 MB/s, 600 MB left = 4 s. */
	progress_format(b, sizeof b, 300000000, 900000000, 2.0);
	CHECK_STR(b, "tapir: 300.0 MB of 900.0 MB  33%  150.0 MB/s  0:04 left");
	/* 0.3 GB of 1 GB in 2 s: 700 MB left = 4.67 s -> 0:05. */
	progress_format(b, sizeof b, 300000000, 1000000000, 2.0);
	CHECK_STR(b, "tapir: 0.3 GB of 1.0 GB  30%  150.0 MB/s  0:05 left");
	/* Large files in GB; minutes of time left. */
	progress_format(b, sizeof b, 12000000000ull, 48000000000ull, 120.0);
	CHECK_STR(b, "tapir: 12.0 GB of 48.0 GB  25%  100.0 MB/s  6:00 left");
	/* Nothing read yet: no rate, no estimate. */
	progress_format(b, sizeof b, 0, 5000000, 0.0);
	CHECK_STR(b, "tapir: 0.0 MB of 5.0 MB  0%");
	/* Past the size (the file grew): capped at 100%, no negative time. */
	progress_format(b, sizeof b, 6000000, 5000000, 1.0);
	CHECK_STR(b, "tapir: 5.0 MB of 5.0 MB  100%  5.0 MB/s  0:00 left");
	/* An empty file. */
	progress_format(b, sizeof b, 0, 0, 1.0);
	CHECK_STR(b, "tapir: 0.0 MB of 0.0 MB  100%");
}

static void test_progress_due(void)
{
	FILE *f = tmpfile();
	CHECK(f != NULL);
	if (!f)
		return;
	struct progress *p = progress_new(f, 100);
	CHECK(p != NULL);
	if (!p) {
		fclose(f);
		return;
	}
	CHECK(progress_due(p)); /* the first call: a short replay still shows a line */
	progress_draw(p, 50);
	int due = 0;
	for (int i = 0; i < 1000; i++)
		due += progress_due(p); /* within 250 ms of the draw: none due */
	CHECK_EQ(due, 0);
	progress_end(p);
	char buf[256] = "";
	rewind(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	CHECK_STR(buf, "\rtapir: 0.0 MB of 0.0 MB  50%\033[K\r\033[K");
	fclose(f);
}

static void test_logsink_priority(void)
{
	CHECK_EQ(logsink_priority("warning: --user nobody: not running as root"), LOG_WARNING);
	CHECK_EQ(logsink_priority("--state /x: cannot write: No such file or directory"), LOG_ERR);
	CHECK_EQ(logsink_priority("reload failed, keeping the running configuration: x"), LOG_ERR);
	CHECK_EQ(logsink_priority("--user: no such user \"x\""), LOG_ERR);
	CHECK_EQ(logsink_priority("capturing on eth1"), LOG_NOTICE);
	CHECK_EQ(logsink_priority("reloaded /etc/tapir/tapir.yaml"), LOG_NOTICE);
	/* The counters' key names (audit_errors, ...) do not make them an error. */
	CHECK_EQ(logsink_priority("{\"type\":\"stats\",\"audit_errors\":0}"), LOG_NOTICE);
}

static void test_privdrop_prepare(void)
{
	struct privdrop p;
	char err[256] = "";
	CHECK_EQ(privdrop_prepare(&p, "tapir-no-such-user", "sensor.user", err, sizeof err), 2);
	CHECK_STR(err, "sensor.user: no such user \"tapir-no-such-user\"");
	CHECK_EQ(privdrop_prepare(&p, "root", "--user", err, sizeof err), 2);
	CHECK_STR(err, "--user: user \"root\" has uid 0, which drops no privilege");
	if (privdrop_prepare(&p, "nobody", "--user", err, sizeof err) == 0) {
		CHECK_STR(p.name, "nobody");
		CHECK(p.uid != 0);
		CHECK_EQ(p.needed, getuid() == 0 || geteuid() == 0);
	}
}

int main(void)
{
	RUN(test_progress_format);
	RUN(test_progress_due);
	RUN(test_logsink_priority);
	RUN(test_privdrop_prepare);
	return unit_done("test_daemon");
}

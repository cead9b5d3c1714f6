/*
 * logsink.c - standard error -> syslog(3) through a pipe and one thread.
 *
 * The pipe's write end becomes fd 2 (dup2), so every fprintf(stderr, ...)
 * in the program, and the sanitizers' reports, arrive at the reader. Lines
 * longer than LINE_MAX_BYTES are sent in pieces. Stopping restores the saved
 * descriptor over fd 2, which closes the last write end: the reader sees end
 * of file, sends the rest and returns.
 */
#include "logsink.h"
#include "privdrop.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

/* A --stats object is a few KiB; syslog daemons take 8 KiB (rsyslog's default). */
#define LINE_MAX_BYTES 8000

struct logsink {
	int saved_fd;   /* the original standard error */
	int read_fd;
	pthread_t thread;
	char line[LINE_MAX_BYTES + 1];
	size_t len;
};

static bool has_word(const char *line, const char *w)
{
	return strcasestr(line, w) != NULL;
}

int logsink_priority(const char *line)
{
	static const char *const errors[] = {"error", "cannot", "can't", "failed", "could not",
					     "out of memory", "not writable", "no such", "bad "};
	if (line[0] == '{')
		return LOG_NOTICE; /* a JSON object (counters): its key names are not words */
	if (has_word(line, "warning"))
		return LOG_WARNING;
	for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
		if (has_word(line, errors[i]))
			return LOG_ERR;
	return LOG_NOTICE;
}

static void send_line(struct logsink *s)
{
	if (s->len == 0)
		return;
	s->line[s->len] = '\0';
	const char *msg = s->line;
	if (strncmp(msg, "tapir: ", 7) == 0)
		msg += 7;
	syslog(logsink_priority(msg), "%s", msg);
	s->len = 0;
}

static void *reader(void *arg)
{
	struct logsink *s = arg;
	char buf[4096];
	/* Capabilities belong to each thread. A tapir that is not root but was
	 * started with some (systemd's AmbientCapabilities=) gives them up in the
	 * main thread once the capture is open (privdrop.c); this thread, started
	 * before that, needs none at all, so it gives them up at once. Not as
	 * root: there the main thread's setuid(2) reaches every thread, and it
	 * would fail in a thread that had already lost CAP_SETUID. */
	if (getuid() != 0 && geteuid() != 0) {
		char err[160];
		if (privdrop_caps(err, sizeof err) != 0)
			syslog(LOG_WARNING, "syslog thread: %s", err);
	}
	for (;;) {
		ssize_t n = read(s->read_fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				send_line(s);
				continue;
			}
			if (s->len == LINE_MAX_BYTES)
				send_line(s);
			s->line[s->len++] = buf[i];
		}
	}
	send_line(s); /* a last line without its newline */
	return NULL;
}

struct logsink *logsink_start(char *err, size_t errlen)
{
	struct logsink *s = calloc(1, sizeof *s);
	int fds[2] = {-1, -1};
	if (!s) {
		snprintf(err, errlen, "sensor.log: out of memory");
		return NULL;
	}
	s->saved_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (s->saved_fd < 0 || pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "sensor.log: cannot make the syslog pipe: %s", strerror(errno));
		goto fail;
	}
	s->read_fd = fds[0];
	openlog("tapir", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	fflush(stderr);
	if (dup2(fds[1], 2) < 0) {
		snprintf(err, errlen, "sensor.log: cannot redirect standard error: %s",
			 strerror(errno));
		goto fail;
	}
	close(fds[1]);
	fds[1] = -1;
	int rc = pthread_create(&s->thread, NULL, reader, s);
	if (rc != 0) {
		dup2(s->saved_fd, 2);
		snprintf(err, errlen, "sensor.log: cannot start the syslog thread: %s", strerror(rc));
		goto fail;
	}
	return s;
fail:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (s->saved_fd >= 0)
		close(s->saved_fd);
	closelog();
	free(s);
	return NULL;
}

void logsink_stop(struct logsink *s)
{
	if (!s)
		return;
	fflush(stderr);
	dup2(s->saved_fd, 2); /* closes the pipe's last write end: the reader ends */
	close(s->saved_fd);
	pthread_join(s->thread, NULL);
	close(s->read_fd);
	closelog();
	free(s);
}

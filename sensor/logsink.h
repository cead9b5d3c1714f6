/*
 * logsink.h - tapir's messages to syslog (sensor.log: syslog, --syslog).
 *
 * tapir writes every message as one line on standard error
 * ("tapir: ...\n"), from many files. Rather than give each of them a logger,
 * the sink replaces file descriptor 2 with a pipe whose reader thread sends
 * each line to syslog(3) (facility daemon, ident "tapir", with the pid), the
 * priority read off the line: a warning -> LOG_WARNING, an error (cannot,
 * failed, error, ...) -> LOG_ERR, anything else (and the --stats JSON
 * object) -> LOG_NOTICE. The "tapir: "
 * prefix is dropped, syslog adds the ident. The syslog socket is connected at
 * start (LOG_NDELAY), so it outlives a later privilege drop or chroot.
 */
#ifndef TAPIR_LOGSINK_H
#define TAPIR_LOGSINK_H

#include <stddef.h>

struct logsink;

/*
 * Starts routing standard error to syslog. Returns the sink (owned by the
 * caller, end it with logsink_stop), or NULL with a message in err and
 * standard error unchanged.
 */
struct logsink *logsink_start(char *err, size_t errlen);

/* Sends what is still buffered, puts the original standard error back, closes the log. */
void logsink_stop(struct logsink *s);

/* The syslog priority (LOG_ERR, LOG_WARNING, LOG_NOTICE) of one message line. */
int logsink_priority(const char *line);

#endif

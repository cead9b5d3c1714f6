/*
 * readfile.c - a whole file into memory, up to a size cap (readfile.h).
 *
 * The buffer starts at 4 KiB and doubles, always one byte ahead for the NUL;
 * the cap is checked after each read, so at most about twice `max` bytes are
 * ever held before a file is refused.
 */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void discard(char *buf, size_t len)
{
	if (buf) {
		explicit_bzero(buf, len);
		free(buf);
	}
}

int readfile_whole(const char *path, size_t max, char **out, size_t *outlen, char *err,
		   size_t errlen)
{
	size_t len = 0, cap = 4096;
	char *buf = NULL, *grown;
	int fd, e = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	for (;;) {
		ssize_t got;
		if (!buf || len + 1 >= cap) {
			if (buf)
				cap *= 2;
			grown = realloc(buf, cap);
			if (!grown) {
				e = ENOMEM;
				goto fail;
			}
			buf = grown;
		}
		got = read(fd, buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e = errno;
			goto fail;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > max) {
			close(fd);
			discard(buf, len);
			return 1;
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
	if (fd >= 0)
		close(fd);
	discard(buf, len);
	return -1;
}

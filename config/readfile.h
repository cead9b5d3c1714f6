/*
 * readfile.h - a whole file into memory, up to a size cap.
 *
 * For the files read once at start-up: the configuration (config.c), an
 * OpenAPI document and JWT key files (sensor/). Each caller has a cap that
 * says how large its kind of file can be, so a wrong path (a capture, a log)
 * is refused instead of read into memory whole.
 */
#ifndef TAPIR_READFILE_H
#define TAPIR_READFILE_H

#include <stddef.h>

#define READFILE_MUST_CHECK __attribute__((warn_unused_result))

/*
 * Reads the file at `path` into *out (malloc'd and NUL-terminated, owned by
 * the caller) and its length, without the NUL, into *outlen. Returns
 *    0  read;
 *    1  the file holds more than `max` bytes: nothing is returned and err is
 *       left alone, for the caller to say what its files are;
 *   -1  "PATH: cannot read: <strerror>" in err (missing, unreadable, a
 *       directory, out of memory).
 * err may be NULL. What was read of a refused file is wiped before it is
 * freed (a key file holds a secret).
 */
int readfile_whole(const char *path, size_t max, char **out, size_t *outlen, char *err,
		   size_t errlen) READFILE_MUST_CHECK;

#endif

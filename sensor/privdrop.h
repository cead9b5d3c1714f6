/*
 * privdrop.h - give up root once the capture and the outputs are open
 * (sensor.user, --user).
 *
 * The order, as tcpdump -Z does it: look the user up before anything is
 * opened (an unknown user is a configuration error), open the interface and
 * every file as root, then privdrop_apply(). Only a process running as root
 * switches; any other process keeps its identity and the caller says so
 * (tcpdump ignores -Z silently when not root; tapir warns), but still gives
 * up the capabilities it was started with (privdrop_caps()).
 *
 * What the unprivileged user must still be able to do, checked by
 * privdrop_check_dir() right after the drop so that a mistake shows at start
 * and not hours later at exit: create files in the audit directory (new
 * segments, index files) and in the directories of --state and --inventory
 * (both are written beside and renamed over, which needs write permission on
 * the directory, not on the file). Files already open (--events, --alerts,
 * the audit segment in use) keep working through their descriptors.
 */
#ifndef TAPIR_PRIVDROP_H
#define TAPIR_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct privdrop {
	char name[33];
	uid_t uid;
	gid_t gid;
	bool needed;   /* running as root: privdrop_apply() will switch */
};

/*
 * Looks up `user`; `key` names where it came from ("sensor.user", "--user")
 * for the message. Returns 0 (p->needed false when not running as root), or
 * 2 with "KEY: no such user "NAME"" (or a user of uid 0, which would drop
 * nothing) in err.
 */
int privdrop_prepare(struct privdrop *p, const char *user, const char *key, char *err,
		     size_t errlen);

/*
 * Supplementary groups of the user, its group, its uid (real, effective and
 * saved), no new privileges. Then verifies that root cannot be regained
 * (setuid(0) fails) and that no capability is left. Returns 0, or 1 with err.
 */
int privdrop_apply(const struct privdrop *p, char *err, size_t errlen);

/*
 * Not root, but given capabilities (systemd AmbientCapabilities=, setcap):
 * gives them all up (permitted, effective, inheritable, ambient) and sets
 * no_new_privs. Returns 0, or 1 with err.
 */
int privdrop_caps(char *err, size_t errlen);

/*
 * After the drop: may this process create and rename files in the directory
 * of `path` (is_dir false) or in `path` itself (is_dir true)? Returns 0, or 2
 * with "FLAG PATH: directory DIR is not writable by user NAME" in err.
 */
int privdrop_check_dir(const struct privdrop *p, const char *flag, const char *path, bool is_dir,
		       char *err, size_t errlen);

/*
 * The whole step, once everything that needs root is open: as root,
 * privdrop_apply() then privdrop_check_dir() on the audit directory and the
 * directories of the state and inventory files (each may be NULL); not root,
 * privdrop_caps(). Returns 0, or the exit status (1, or 2 for a directory the
 * user cannot write) with err.
 */
int privdrop_finish(const struct privdrop *p, const char *audit_dir, const char *state_path,
		    const char *inventory_path, char *err, size_t errlen);

#endif

/*
 * privdrop.c - switch from root to sensor.user after the capture is open.
 *
 * setgroups(2)/initgroups(3) first (the supplementary groups, while we may
 * still set them), then setgid, then setuid: root's setuid(2) sets the real,
 * effective and saved uid together, and a switch from uid 0 to another uid
 * clears the permitted, effective and ambient capability sets
 * (capabilities(7), "Effect of user ID changes on capabilities"). Both are
 * verified afterwards rather than trusted: setuid(0) must fail and capget(2)
 * must report nothing permitted or effective. PR_SET_NO_NEW_PRIVS stops any
 * later exec from gaining privileges back through set-uid files.
 */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int privdrop_prepare(struct privdrop *p, const char *user, const char *key, char *err,
		     size_t errlen)
{
	memset(p, 0, sizeof *p);
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		if (errno && errno != ENOENT && errno != ESRCH)
			snprintf(err, errlen, "%s: cannot look up user \"%s\": %s", key, user,
				 strerror(errno));
		else
			snprintf(err, errlen, "%s: no such user \"%s\"", key, user);
		return 2;
	}
	if (pw->pw_uid == 0) {
		/* Root by another name: dropping to it would drop nothing. */
		snprintf(err, errlen, "%s: user \"%s\" has uid 0, which drops no privilege", key,
			 user);
		return 2;
	}
	snprintf(p->name, sizeof p->name, "%s", pw->pw_name);
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	p->needed = getuid() == 0 || geteuid() == 0;
	return 0;
}

/* True when the process holds no permitted or effective capability. */
static bool no_capabilities(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof d);
	if (syscall(SYS_capget, &h, d) != 0)
		return false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (d[i].permitted || d[i].effective)
			return false;
	return true;
}

int privdrop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	memset(d, 0, sizeof d);
	/* Lowering is always allowed; the ambient set goes first (it must stay within). */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 ||
	    syscall(SYS_capset, &h, d) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "cannot give up capabilities: %s", strerror(errno));
		return 1;
	}
	if (!no_capabilities()) {
		snprintf(err, errlen, "capabilities are still held after giving them up");
		return 1;
	}
	return 0;
}

int privdrop_apply(const struct privdrop *p, char *err, size_t errlen)
{
	if (initgroups(p->name, p->gid) != 0) {
		snprintf(err, errlen, "sensor.user %s: cannot set its groups: %s", p->name,
			 strerror(errno));
		return 1;
	}
	if (setgid(p->gid) != 0 || setuid(p->uid) != 0) {
		snprintf(err, errlen, "sensor.user %s: cannot switch to uid %u gid %u: %s", p->name,
			 (unsigned)p->uid, (unsigned)p->gid, strerror(errno));
		return 1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(err, errlen, "sensor.user %s: cannot set no_new_privs: %s", p->name,
			 strerror(errno));
		return 1;
	}
	if (setuid(0) == 0 || geteuid() == 0 || (getegid() == 0 && p->gid != 0)) {
		snprintf(err, errlen, "sensor.user %s: root privileges are still available "
			 "after the switch", p->name);
		return 1;
	}
	if (!no_capabilities()) {
		snprintf(err, errlen, "sensor.user %s: capabilities are still held after the switch",
			 p->name);
		return 1;
	}
	return 0;
}

int privdrop_check_dir(const struct privdrop *p, const char *flag, const char *path, bool is_dir,
		       char *err, size_t errlen)
{
	char buf[4096];
	snprintf(buf, sizeof buf, "%s", path);
	const char *dir = is_dir ? buf : dirname(buf);
	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	snprintf(err, errlen, "%s %s: directory %s is not writable by user %s (%s): "
		 "give it to that user or choose another place", flag, path, dir, p->name,
		 strerror(errno));
	return 2;
}

int privdrop_finish(const struct privdrop *p, const char *audit_dir, const char *state_path,
		    const char *inventory_path, char *err, size_t errlen)
{
	if (!p->needed)
		return privdrop_caps(err, errlen);
	int rc = privdrop_apply(p, err, errlen);
	if (rc == 0 && audit_dir)
		rc = privdrop_check_dir(p, "--audit", audit_dir, true, err, errlen);
	if (rc == 0 && state_path)
		rc = privdrop_check_dir(p, "--state", state_path, false, err, errlen);
	if (rc == 0 && inventory_path)
		rc = privdrop_check_dir(p, "--inventory", inventory_path, false, err, errlen);
	return rc;
}

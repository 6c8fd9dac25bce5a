/*
 * Capability and credential changes through the raw capset(2)/prctl(2)
 * interface: two small operations do not justify another library. The
 * bounding set can only be lowered while CAP_SETPCAP is held (it is not
 * under systemd's CapabilityBoundingSet=, which already lowered it), so a
 * refused PR_CAPBSET_DROP is not an error; no_new_privs makes the
 * bounding set moot anyway, since nothing is exec'd after it.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "tund/priv/privdrop.h"

int privdrop_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return errno ? -errno : -ENOENT;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* Sets permitted and effective to keep (a CAP_* number, or -1 for none);
 * inheritable and ambient to nothing. */
static int caps_set(int keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (keep >= 0) {
		d[keep / 32].permitted = 1u << (keep % 32);
		d[keep / 32].effective = 1u << (keep % 32);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

/* Up to 63: a kernel may know capabilities these headers do not (EINVAL
 * for numbers it does not know). */
static void bounding_drop(int keep)
{
	for (int c = 0; c < 64; c++)
		if (c != keep && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno == EPERM)
			return;
}

int privdrop_all(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	const char *step;
	int rc;

	bounding_drop(-1);
	if (uid != (uid_t)-1) {
		step = "setgroups";
		if (setgroups(0, NULL) < 0)
			goto fail;
		step = "setresgid";
		if (setresgid(gid, gid, gid) < 0)
			goto fail;
		step = "setresuid";
		if (setresuid(uid, uid, uid) < 0)
			goto fail;
	}
	step = "capset";
	if ((rc = caps_set(-1)) < 0) {
		errno = -rc;
		goto fail;
	}
	step = "no_new_privs";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	step = "dumpable";
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		goto fail;
	/* Set last: a credential change clears the parent-death signal. */
	step = "parent-death signal";
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0)
		goto fail;
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "dropping privileges: %s: %s", step, strerror(errno));
	return rc;
}

int privdrop_keep_netadmin(char *err, size_t errlen)
{
	int rc;

	bounding_drop(CAP_NET_ADMIN);
	/* Started without CAP_NET_ADMIN (by hand, as a user): keep nothing;
	 * q2qctl up will then say what the kernel refused. */
	if ((rc = caps_set(CAP_NET_ADMIN)) == -EPERM)
		rc = caps_set(-1);
	if (rc < 0) {
		snprintf(err, errlen, "keeping only CAP_NET_ADMIN: capset: %s", strerror(-rc));
		return rc;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		rc = -errno;
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return rc;
	}
	return 0;
}

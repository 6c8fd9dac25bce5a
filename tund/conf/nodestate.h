/*
 * The node's state file in state_dir/node/: the identity it enrolled as
 * and its authority's address, as the node last saved them. Only
 * nodestate.c knows how the file looks on disk (JSON, as nodes enrolled
 * by earlier versions wrote it); the node sees the plain struct.
 */
#ifndef Q2Q_NODESTATE_H
#define Q2Q_NODESTATE_H

#include <stddef.h>

#include "identity/name.h"

struct nodestate {
	char identity[ID_NAME_MAX + 1];	/* "" if the file had none */
	char authority[64];		/* "192.0.2.10:8788", as given at enrollment */
};

/* Reads the file in dir: 0, or -errno with err saying which file and why
 * (-ENOENT: there is none; -EINVAL: it does not hold an authority). */
int nodestate_load(const char *dir, struct nodestate *out, char *err, size_t errlen);
/* Replaces the file in dir atomically (mode 0600): 0 or -errno. */
int nodestate_save(const char *dir, const struct nodestate *st);

#endif

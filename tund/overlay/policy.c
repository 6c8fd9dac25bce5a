/*
 * The callee decides (DESIGN.md): our refuse list, by identity or by
 * domain. A pure lookup, so the broker path and the handshake path give
 * the same answer.
 */
#include <string.h>

#include "tund/conf/config.h"
#include "tund/overlay/policy.h"

int policy_allows(const struct config *cfg, const char *identity)
{
	const char *at = strchr(identity, '@');

	for (int i = 0; i < cfg->n_refuse; i++) {
		const char *r = cfg->refuse[i];
		if (strcmp(r, identity) == 0 || (r[0] == '*' && at && strcmp(r + 1, at) == 0))
			return 0;
	}
	return 1;
}

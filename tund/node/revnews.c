/*
 * revnews.h: a page follows on from where the node is when its rev_since
 * is no later than what the node has (pages may overlap, never leave a
 * gap); then the node is where the page's cursor says, which after an
 * authority's registry was replaced may be lower than before. A page
 * from beyond means news was missed (the node was away when it was
 * pushed): ask from where we are.
 */
#include <errno.h>
#include <string.h>

#include "tund/node/revnews.h"

#define REVNEWS_SERIAL_MAX 40

int revnews_entry(const uint8_t *p, size_t n, char serial[41], int64_t *not_after)
{
	uint64_t na = 0;

	if (n < 9 || n > 8 + REVNEWS_SERIAL_MAX)
		return -EINVAL;
	for (int k = 0; k < 8; k++)
		na = na << 8 | p[k];
	if (na > INT64_MAX)
		return -EINVAL;
	for (size_t i = 8; i < n; i++) {
		uint8_t c = p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return -EINVAL;
	}
	memcpy(serial, p + 8, n - 8);
	serial[n - 8] = 0;
	*not_after = (int64_t)na;
	return 0;
}

enum revnews_step revnews_page(struct revnews *rn, uint64_t since, uint64_t cursor, int more)
{
	if (since > rn->have) {
		if (rn->asking)
			return REVNEWS_WAIT;
		rn->asking = 1;
		return REVNEWS_ASK;
	}
	rn->have = cursor;
	rn->asking = more != 0;
	return more ? REVNEWS_ASK : REVNEWS_CURRENT;
}

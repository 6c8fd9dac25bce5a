/*
 * Underlay against overlay ranges (see clash.h). Kept apart from the
 * interface listing so each case has a unit test without root.
 */
#include <string.h>
#include <sys/socket.h>

#include "routing/clash.h"

static int bits_equal(const uint8_t *a, const uint8_t *b, int plen)
{
	int bytes = plen / 8, rest = plen % 8;

	if (memcmp(a, b, (size_t)bytes) != 0)
		return 0;
	return rest == 0 || ((a[bytes] ^ b[bytes]) & (0xff << (8 - rest))) == 0;
}

int clash_overlap(const struct clash_pfx *a, const struct clash_pfx *b)
{
	int plen = a->plen < b->plen ? a->plen : b->plen;

	return a->family == b->family && bits_equal(a->addr, b->addr, plen);
}

enum clash_kind clash_find(const struct clash_pfx *under, int n, const struct clash_pfx *ranges,
			   int nr, const struct clash_pfx *own, int no, int exempt, int *which,
			   int *range)
{
	for (int i = 0; i < n; i++) {
		int alen = under[i].family == AF_INET ? 4 : 16;

		for (int j = 0; j < no; j++) {
			if (own[j].family == under[i].family &&
			    memcmp(own[j].addr, under[i].addr, (size_t)alen) == 0) {
				*which = i;
				*range = -1;
				return CLASH_SAME_ADDR;
			}
		}
		if (exempt)
			continue;
		for (int j = 0; j < nr; j++) {
			if (clash_overlap(&under[i], &ranges[j])) {
				*which = i;
				*range = j;
				return CLASH_OVERLAP;
			}
		}
	}
	return CLASH_NONE;
}

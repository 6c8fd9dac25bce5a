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

static const struct clash_pfx pool_space[] = {
	{ AF_INET, { 100, 64, 0, 0 }, 10 },
	{ AF_INET, { 198, 18, 0, 0 }, 15 },
	{ AF_INET, { 10, 0, 0, 0 }, 8 },
	{ AF_INET, { 172, 16, 0, 0 }, 12 },
	{ AF_INET, { 192, 168, 0, 0 }, 16 },
};

int clash_pool_space(const uint8_t addr[4], int plen)
{
	for (size_t i = 0; i < sizeof(pool_space) / sizeof(pool_space[0]); i++)
		if (plen >= pool_space[i].plen && bits_equal(addr, pool_space[i].addr, pool_space[i].plen))
			return 1;
	return 0;
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

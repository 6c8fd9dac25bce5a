/* The node's side of revocation news (tund/node/revnews.c): entries are
 * read exactly or refused; pages move the cursor only when they follow on
 * from it, a gap makes the node ask once, an authority whose registry was
 * replaced is followed down, and "up to date" is said only at the end. */
#include <errno.h>
#include <string.h>

#include "tests/unit/harness.h"
#include "tund/node/revnews.h"

static void test_entry(void)
{
	uint8_t e[64] = { 0, 0, 0, 0, 0x69, 0x00, 0x00, 0x01 };
	char serial[41];
	int64_t na = 0;

	memcpy(e + 8, "0A1b", 4);
	CHECK_INT(revnews_entry(e, 12, serial, &na), 0);
	CHECK_STR(serial, "0A1b");
	CHECK_INT(na, 0x69000001);
	CHECK_INT(revnews_entry(e, 8, serial, &na), -EINVAL);		/* no serial */
	memset(e + 8, 'f', 41);
	CHECK_INT(revnews_entry(e, 48, serial, &na), 0);		/* 40 digits */
	CHECK_INT(revnews_entry(e, 49, serial, &na), -EINVAL);	/* 41 */
	e[9] = 'g';
	CHECK_INT(revnews_entry(e, 12, serial, &na), -EINVAL);
	e[9] = 0;
	CHECK_INT(revnews_entry(e, 12, serial, &na), -EINVAL);	/* a NUL inside */
	e[9] = 'f';
	e[0] = 0x80;							/* beyond int64 */
	CHECK_INT(revnews_entry(e, 12, serial, &na), -EINVAL);
}

static void test_pages(void)
{
	struct revnews rn = { 0 };

	/* Coming up: asked from 0, three pages. */
	rn.asking = 1;
	CHECK_INT(revnews_page(&rn, 0, 256, 1), REVNEWS_ASK);
	CHECK_INT((int)rn.have, 256);
	CHECK_INT(revnews_page(&rn, 256, 512, 1), REVNEWS_ASK);
	CHECK_INT(revnews_page(&rn, 512, 600, 0), REVNEWS_CURRENT);
	CHECK_INT((int)rn.have, 600);
	CHECK_INT(rn.asking, 0);
	/* A push that follows on. */
	CHECK_INT(revnews_page(&rn, 600, 601, 0), REVNEWS_CURRENT);
	CHECK_INT((int)rn.have, 601);
	/* One from beyond: something was missed; ask once, then wait. */
	CHECK_INT(revnews_page(&rn, 700, 701, 0), REVNEWS_ASK);
	CHECK_INT((int)rn.have, 601);
	CHECK_INT(revnews_page(&rn, 701, 702, 0), REVNEWS_WAIT);
	CHECK_INT((int)rn.have, 601);
	/* The answer from 601 brings us to the head. */
	CHECK_INT(revnews_page(&rn, 601, 702, 0), REVNEWS_CURRENT);
	CHECK_INT((int)rn.have, 702);
	/* An old page again (overlap) changes nothing but the cursor it gives. */
	CHECK_INT(revnews_page(&rn, 702, 702, 0), REVNEWS_CURRENT);
	/* A replaced registry answers from 0 with a lower head: followed. */
	CHECK_INT(revnews_page(&rn, 0, 5, 0), REVNEWS_CURRENT);
	CHECK_INT((int)rn.have, 5);
}

int main(void)
{
	RUN(test_entry);
	RUN(test_pages);
	return HARNESS_END();
}

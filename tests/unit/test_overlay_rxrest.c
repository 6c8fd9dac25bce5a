/* When the data port rests (tund/overlay/rxrest.c): only after a call
 * that drained the socket and held strays alone, and never within
 * RXREST_QUIET_MS of authenticated data. */
#include "tests/unit/harness.h"
#include "tund/overlay/rxrest.h"

#define T0 7000000ull

static const struct rxrest_call flood = { .datagrams = 3, .strays = 3, .drained = 1 };

static void test_rests_on_strays_alone(void)
{
	struct rxrest r = { 0 };

	CHECK_INT(rxrest_after(&r, &flood, T0), RXREST_MS);
	CHECK_INT(rxrest_after(&r, &flood, T0 + 1), RXREST_MS);
	CHECK_INT(r.rests, 2);
}

static void test_not_after_anything_else(void)
{
	struct rxrest r = { 0 };
	struct rxrest_call c = flood;

	c.strays = 2;		/* a HELLO among them */
	CHECK_INT(rxrest_after(&r, &c, T0), 0);
	c = flood;
	c.drained = 0;		/* more waiting: read on */
	CHECK_INT(rxrest_after(&r, &c, T0), 0);
	c = flood;
	c.datagrams = c.strays = 0;	/* woken for nothing */
	CHECK_INT(rxrest_after(&r, &c, T0), 0);
	CHECK_INT(r.rests, 0);
}

static void test_not_while_data_flows(void)
{
	struct rxrest r = { 0 };
	struct rxrest_call data = { .datagrams = 5, .strays = 4, .authenticated = 1, .drained = 1 };

	CHECK_INT(rxrest_after(&r, &data, T0), 0);
	CHECK_INT(r.auth_ms, T0);
	CHECK_INT(rxrest_after(&r, &flood, T0 + 1), 0);
	CHECK_INT(rxrest_after(&r, &flood, T0 + RXREST_QUIET_MS - 1), 0);
	CHECK_INT(rxrest_after(&r, &flood, T0 + RXREST_QUIET_MS), RXREST_MS);
	/* Data again: awake at once. */
	CHECK_INT(rxrest_after(&r, &data, T0 + RXREST_QUIET_MS + 1), 0);
	CHECK_INT(rxrest_after(&r, &flood, T0 + RXREST_QUIET_MS + 2), 0);
	CHECK_INT(r.rests, 1);
}

int main(void)
{
	RUN(test_rests_on_strays_alone);
	RUN(test_not_after_anything_else);
	RUN(test_not_while_data_flows);
	return HARNESS_END();
}

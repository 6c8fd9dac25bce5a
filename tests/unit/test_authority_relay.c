/*
 * The relay's judgement (tund/authority/relay.c): our own nodes relay to
 * each other as before; another domain's node only with one of ours it
 * was introduced to here, either way round; two foreign nodes never; and
 * each sender within its byte and packet budget, refilled with time.
 * A differential check runs the buckets against a naive per-millisecond
 * model.
 */
#include <stdlib.h>

#include "tests/unit/harness.h"
#include "tund/authority/relay.h"

struct node {
	struct relay_node n;
	struct relay_end e;
};

static void node_init(struct node *x, uint32_t id, int foreign)
{
	relay_node_init(&x->n, 1000);
	x->e = (struct relay_end){ &x->n, id, foreign };
}

static void test_own_domain_as_before(void)
{
	struct node a, b;

	node_init(&a, 1, 0);
	node_init(&b, 2, 0);
	CHECK_INT(relay_judge(&a.e, &b.e, 100, 1000), RELAY_FORWARD);
	CHECK_INT(relay_judge(&b.e, &a.e, 100, 1000), RELAY_FORWARD);
	CHECK_INT(relay_judge(&a.e, &a.e, 100, 1000), RELAY_SELF);
}

static void test_foreign_needs_an_introduction(void)
{
	struct node ours, theirs, other, stranger;

	node_init(&ours, 10, 0);
	node_init(&theirs, 20, 1);
	node_init(&other, 30, 0);
	node_init(&stranger, 40, 1);
	CHECK_INT(relay_judge(&theirs.e, &ours.e, 100, 1000), RELAY_NOT_INTRODUCED);
	CHECK_INT(relay_judge(&ours.e, &theirs.e, 100, 1000), RELAY_NOT_INTRODUCED);
	relay_introduced(&theirs.e, &ours.e);
	CHECK_INT(relay_judge(&theirs.e, &ours.e, 100, 1000), RELAY_FORWARD);
	CHECK_INT(relay_judge(&ours.e, &theirs.e, 100, 1000), RELAY_FORWARD);
	/* The introduction is for that pair alone. */
	CHECK_INT(relay_judge(&theirs.e, &other.e, 100, 1000), RELAY_NOT_INTRODUCED);
	CHECK_INT(relay_judge(&other.e, &theirs.e, 100, 1000), RELAY_NOT_INTRODUCED);
	/* Two foreign nodes never, introduced or not. */
	relay_introduced(&theirs.e, &stranger.e);
	CHECK_INT(relay_judge(&theirs.e, &stranger.e, 100, 1000), RELAY_STRANGERS);
	CHECK_INT(relay_judge(&stranger.e, &theirs.e, 100, 1000), RELAY_STRANGERS);
}

static void test_ring_keeps_either_end(void)
{
	struct node server, callers[RELAY_PEERS + 1];

	node_init(&server, 1, 0);
	for (int i = 0; i <= RELAY_PEERS; i++) {
		node_init(&callers[i], (uint32_t)(100 + i), 1);
		relay_introduced(&callers[i].e, &server.e);
	}
	/* The server's ring moved past the first caller; the caller's own
	 * record still holds the pair. */
	CHECK_INT(relay_judge(&callers[0].e, &server.e, 100, 1000), RELAY_FORWARD);
	CHECK_INT(relay_judge(&server.e, &callers[0].e, 100, 1000), RELAY_FORWARD);
	/* An introduction made twice takes one place. */
	relay_introduced(&callers[RELAY_PEERS].e, &server.e);
	CHECK_INT(callers[RELAY_PEERS].n.next, 1);
}

static void test_rate_bounds_the_sender(void)
{
	struct node a, b;
	uint64_t sent = 0, now = 1000;

	node_init(&a, 1, 0);
	node_init(&b, 2, 0);
	/* Within one millisecond: the burst, then nothing. */
	while (relay_judge(&a.e, &b.e, 1400, now) == RELAY_FORWARD)
		sent += 1400;
	CHECK(sent <= (uint64_t)RELAY_BYTES_PER_S * RELAY_BURST_MS / 1000);
	CHECK(sent + 1400 > (uint64_t)RELAY_BYTES_PER_S * RELAY_BURST_MS / 1000);
	CHECK_INT(relay_judge(&a.e, &b.e, 1400, now), RELAY_OVER_RATE);
	/* The other direction has its own budget. */
	CHECK_INT(relay_judge(&b.e, &a.e, 1400, now), RELAY_FORWARD);
	/* A second later, a burst's worth again, never more. */
	now += 1000;
	sent = 0;
	while (relay_judge(&a.e, &b.e, 1400, now) == RELAY_FORWARD)
		sent += 1400;
	CHECK(sent <= (uint64_t)RELAY_BYTES_PER_S * RELAY_BURST_MS / 1000);
	/* Small datagrams hit the packet bound first. */
	now += 1000;
	sent = 0;
	while (relay_judge(&a.e, &b.e, 40, now) == RELAY_FORWARD)
		sent++;
	CHECK_INT(sent, (uint64_t)RELAY_PKTS_PER_S * RELAY_BURST_MS / 1000);
	/* A clock that goes back refills nothing. */
	CHECK_INT(relay_judge(&a.e, &b.e, 40, now - 500), RELAY_OVER_RATE);
	CHECK_INT(relay_judge(&a.e, &b.e, 40, now), RELAY_OVER_RATE);
}

/* Against a model that refills per millisecond in floating point: over
 * ten simulated seconds of random sizes and gaps, the same bytes pass
 * (the model's float rounding aside). */
static void test_bucket_vs_naive(void)
{
	struct node a, b;
	double bytes = (double)RELAY_BYTES_PER_S * RELAY_BURST_MS / 1000;
	double pkts = (double)RELAY_PKTS_PER_S * RELAY_BURST_MS / 1000;
	uint64_t now = 1000, ours = 0, model = 0;

	srand(7);
	node_init(&a, 1, 0);
	node_init(&b, 2, 0);
	while (now < 11000) {
		size_t len = 40 + (size_t)(rand() % 1400);
		uint64_t gap = (uint64_t)(rand() % 3);

		for (uint64_t t = 0; t < gap; t++) {
			bytes += RELAY_BYTES_PER_S / 1000.0;
			pkts += RELAY_PKTS_PER_S / 1000.0;
		}
		if (bytes > (double)RELAY_BYTES_PER_S * RELAY_BURST_MS / 1000)
			bytes = (double)RELAY_BYTES_PER_S * RELAY_BURST_MS / 1000;
		if (pkts > (double)RELAY_PKTS_PER_S * RELAY_BURST_MS / 1000)
			pkts = (double)RELAY_PKTS_PER_S * RELAY_BURST_MS / 1000;
		now += gap;
		if (bytes >= (double)len && pkts >= 1) {
			bytes -= (double)len;
			pkts -= 1;
			model += len;
		}
		if (relay_judge(&a.e, &b.e, len, now) == RELAY_FORWARD)
			ours += len;
	}
	CHECK(ours + 1440 >= model && model + 1440 >= ours);
	CHECK(ours > 0);
}

static void test_names(void)
{
	CHECK_STR(relay_verdict_name(RELAY_OVER_RATE), "over_rate");
	CHECK_STR(relay_verdict_name(RELAY_NOT_INTRODUCED), "not_introduced");
	CHECK_STR(relay_verdict_name((enum relay_verdict)99), "?");
}

int main(void)
{
	RUN(test_own_domain_as_before);
	RUN(test_foreign_needs_an_introduction);
	RUN(test_ring_keeps_either_end);
	RUN(test_rate_bounds_the_sender);
	RUN(test_bucket_vs_naive);
	RUN(test_names);
	return HARNESS_END();
}

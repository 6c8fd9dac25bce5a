/* The bound of a send slot (tund/overlay/datapath.c): a relayed datagram
 * is written AW_RELAY_HDR bytes into its UDP_BUF_SIZE slot, so with the
 * largest mtu the config allows (9000, which the overlay clamps to what a
 * direct slot holds) a full-size packet must be refused for the relay
 * rather than sealed past the slot's end. */
#include <stdint.h>
#include <string.h>

#include "netstack/aead.h"
#include "netstack/authwire.h"
#include "netstack/udp.h"
#include "netstack/wire.h"
#include "tests/unit/harness.h"
#include "tund/overlay/datapath.h"

/* As overlay.c clamps cfg->mtu. */
static size_t clamped_mtu(size_t cfg_mtu)
{
	return cfg_mtu > UDP_BUF_SIZE - DATAPATH_OVERHEAD ? UDP_BUF_SIZE - DATAPATH_OVERHEAD : cfg_mtu;
}

static void test_bound_at_mtu_9000(void)
{
	size_t mtu = clamped_mtu(9000);
	size_t relay_max = UDP_BUF_SIZE - AW_RELAY_HDR - DATAPATH_OVERHEAD;

	CHECK_INT(datapath_slot_fits(mtu, 0), 1);
	CHECK_INT(datapath_slot_fits(mtu + 1, 0), 0);
	CHECK_INT(datapath_slot_fits(mtu, 1), 0);
	CHECK_INT(relay_max, 1980);
	CHECK_INT(datapath_slot_fits(relay_max, 1), 1);
	CHECK_INT(datapath_slot_fits(relay_max + 1, 1), 0);	/* 1981: the overflow */
	CHECK_INT(datapath_slot_fits(1280, 1), 1);
	CHECK_INT(datapath_slot_fits(0, 1), 1);		/* a keepalive */
}

/* The largest relayed packet the bound lets through, sealed the way the
 * data path does (DATA at slot + AW_RELAY_HDR, then the RELAY header in
 * front), stays inside its slot: the next slot's bytes are untouched. */
static void test_largest_relayed_stays_in_slot(void)
{
	static uint8_t slots[2][UDP_BUF_SIZE];
	static uint8_t pt[UDP_BUF_SIZE];
	static const uint8_t k[32] = { 7 }, relay_key[AW_KEY_LEN] = { 9 };
	size_t len = 0;
	uint8_t *b = slots[0] + AW_RELAY_HDR;
	struct aw_relay r = { .sender_id = 1, .target_id = 2, .counter = 3 };
	struct aead *a = NULL;

	while (datapath_slot_fits(len + 1, 1))
		len++;
	memset(slots[1], 0xa5, sizeof(slots[1]));
	wire_build_data_header(5, 0, b, WIRE_DATA_HDR_LEN);
	CHECK_INT(aead_new(AEAD_CHACHA20_POLY1305, k, &a), 0);
	CHECK_INT(aead_seal(a, 0, b, WIRE_DATA_HDR_LEN, pt, len, b + WIRE_DATA_HDR_LEN), 0);
	aead_free(a);
	CHECK_INT(aw_seal_relay(AW_RELAY, &r, WIRE_DATA_HDR_LEN + len + AEAD_TAG_LEN, relay_key,
	    slots[0], UDP_BUF_SIZE), UDP_BUF_SIZE);
	for (size_t i = 0; i < sizeof(slots[1]); i++)
		if (slots[1][i] != 0xa5) {
			H_FAIL("next slot written at byte %zu", i);
			break;
		}
}

int main(void)
{
	RUN(test_bound_at_mtu_9000);
	RUN(test_largest_relayed_stays_in_slot);
	return HARNESS_END();
}

/*
 * The firewall's place in the overlay. The decisions are fw.c's; here the
 * packet meets the peer's authenticated identity, drops are counted per
 * peer, an optional ICMP "administratively prohibited" goes back through
 * the peer's session (at most FIREWALL_REJECTS_PER_S, so a peer cannot
 * make us send as fast as it sends), and the rules come in from the
 * authority link and the config.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

#include "routing/icmp.h"
#include "tund/base/log.h"
#include "tund/overlay/datapath.h"
#include "tund/overlay/firewall.h"
#include "tund/overlay/overlay_int.h"
#include "tund/policy/fw.h"
#include "tund/policy/polmsg.h"

#define FIREWALL_REJECTS_PER_S 10

int firewall_up(struct overlay *o)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = now_ms();	/* the seed spreads flows; it guards no secret */
	o->fw = fw_new(o->identity, seed);
	if (!o->fw)
		return -ENOMEM;
	firewall_reload(o);
	return 0;
}

void firewall_down(struct overlay *o)
{
	fw_free(o->fw);
	o->fw = NULL;
}

void firewall_reload(struct overlay *o)
{
	const struct pol_set *ps = &o->cfg->policy;

	if (fw_set(o->fw, FW_LOCAL, ps, 0, now_ms()) < 0) {
		log_warnx("policy: out of memory; keeping the previous local rules");
		return;
	}
	if (ps->present)
		log_info("policy: %d local rule(s) in force, %d naming %s", ps->n_rules,
		    o->fw->layer[FW_LOCAL].n_mine, o->identity);
}

void firewall_authority(struct overlay *o, const struct msg_reader *r)
{
	static struct pol_set ps;	/* ~100 KB: not on the stack */
	const char *why = "";
	uint32_t gen;

	if (pol_msg_parse(r, &ps, &gen, &why) < 0) {
		log_warnx("policy from the authority refused: %s; keeping the rules in force", why);
		return;
	}
	if (fw_set(o->fw, FW_AUTH, &ps, gen, now_ms()) < 0) {
		log_warnx("policy: out of memory; keeping the authority's previous rules");
		return;
	}
	if (ps.present)
		log_info("policy: the authority's generation %u in force, %d rule(s) for %s", gen,
		    o->fw->layer[FW_AUTH].n_mine, o->identity);
	else
		log_info("policy: the authority sets no policy");
}

static void firewall_reject(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len)
{
	uint8_t out[ICMP_ERROR_MAX];
	uint64_t now = now_ms();
	int n;

	if (now - o->fw_reject_at >= 1000) {
		o->fw_reject_at = now;
		o->fw_rejects = 0;
	}
	if (o->fw_rejects >= FIREWALL_REJECTS_PER_S)
		return;
	n = icmp_prohibited(pkt, len, out, sizeof(out));
	if (n <= 0)
		return;
	o->fw_rejects++;
	datapath_send(o, p, out, (size_t)n);
}

int firewall_rx(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len)
{
	if (fw_inbound(o->fw, p->identity, pkt, len, now_ms()))
		return 1;
	p->fw_denied++;
	if (o->cfg->policy_reject)
		firewall_reject(o, p, pkt, len);
	return 0;
}

void firewall_tx(struct overlay *o, struct peer *p, const uint8_t *pkt, size_t len)
{
	fw_outbound(o->fw, p->identity, pkt, len, now_ms());
}

const struct fw *firewall_state(const struct overlay *o)
{
	return o ? o->fw : NULL;
}

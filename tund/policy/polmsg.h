/*
 * MSG_POLICY (tund/link/proto.h): a policy set on the authority link.
 *
 *   T_POL_STATE u32   1: enforce what follows; 0: no policy (all allowed)
 *   T_POL_GEN   u32   the authority's generation (shown, not trusted)
 *   T_POL_GROUP       u8 name_len, name, u16 n, n x (u16 len, member)
 *   T_POL_RULE        u16 origin, u32 line,
 *                     u8 n_from, n_from x (u16 len, selector),
 *                     u8 n_to,   n_to   x (u16 len, selector),
 *                     u8 n_allow, n_allow x (u8 proto, u16 lo, u16 hi)
 *
 * Integers big-endian. The reader checks every byte: lengths, counts
 * within polset.h's limits, every string as the config checks it, ports
 * as a rule may write them, groups named by rules defined, no trailing
 * bytes. Pure, nothing allocated.
 */
#ifndef Q2Q_POLMSG_H
#define Q2Q_POLMSG_H

#include <stddef.h>
#include <stdint.h>

struct msg_reader;
struct pol_set;

/* The whole frame for s into buf: its length, or -ENOSPC. */
int pol_msg_build(const struct pol_set *s, uint32_t gen, uint8_t *buf, size_t cap);
/* The body of a MSG_POLICY into *out: 0, or -EINVAL with why. */
int pol_msg_parse(const struct msg_reader *r, struct pol_set *out, uint32_t *gen, const char **why);

#endif

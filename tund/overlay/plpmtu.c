/*
 * The probe state machine of plpmtu.h. Rounds send several sizes at once
 * rather than one at a time: a search from 1280 to 1500 then takes three
 * rounds instead of eight, which matters when every failed round costs a
 * PLPMTU_WAIT_MS wait on a path that drops what is too big without a word.
 */
#include <errno.h>
#include <string.h>

#include "tund/overlay/plpmtu.h"

static void plpmtu_search(struct plpmtu *s, uint64_t now)
{
	s->state = PLPMTU_SEARCH;
	s->hi = s->max;
	s->n = 0;
	s->next_ms = now;
}

void plpmtu_start(struct plpmtu *s, int max, uint64_t now)
{
	s->max = max;
	s->mtu = max < PLPMTU_BASE ? max : PLPMTU_BASE;
	s->misses = 0;
	s->round++;
	plpmtu_search(s, now);
}

void plpmtu_set_max(struct plpmtu *s, int max, uint64_t now)
{
	if (max == s->max)
		return;
	s->max = max;
	if (s->mtu > max)
		s->mtu = max;
	s->round++;
	plpmtu_search(s, now);
}

static void plpmtu_done(struct plpmtu *s, uint64_t now)
{
	s->state = PLPMTU_DONE;
	s->n = 0;
	s->misses = 0;
	s->next_ms = now + PLPMTU_CONFIRM_MS;
	s->raise_ms = now + PLPMTU_RAISE_MS;
}

/* Sizes spread over (mtu, hi], ascending, hi last and always included. */
static void plpmtu_round(struct plpmtu *s, uint64_t now)
{
	int d = s->hi - s->mtu, last = s->mtu;

	s->n = 0;
	for (int j = 1; j <= PLPMTU_PROBES; j++) {
		int v = s->mtu + (int)((long)d * j / PLPMTU_PROBES);

		if (v > last)
			s->size[s->n++] = last = v;
	}
	s->round++;
	s->tries = 0;
	s->confirm = 0;
	s->acked = 0;
}

/* The round is over: what went unanswered is too big (a confirmation's
 * silence counts towards a black hole instead). */
static void plpmtu_conclude(struct plpmtu *s, uint64_t now)
{
	if (s->confirm) {
		s->n = 0;
		if (s->acked) {
			s->misses = 0;
		} else if (++s->misses >= PLPMTU_MISSES) {
			/* The path no longer carries what it did: back to what
			 * any path carries, and look again below the old figure. */
			int old = s->mtu;

			s->mtu = s->max < PLPMTU_BASE ? s->max : PLPMTU_BASE;
			s->misses = 0;
			plpmtu_search(s, now);
			s->hi = old - 1 > s->mtu ? old - 1 : s->mtu;
			return;
		}
		s->next_ms = now + PLPMTU_CONFIRM_MS;
		return;
	}
	for (int i = 0; i < s->n; i++)
		if (!(s->acked & (1u << i)) && s->size[i] > s->mtu && s->size[i] - 1 < s->hi)
			s->hi = s->size[i] - 1;
	s->n = 0;
	if (s->hi < s->mtu)
		s->hi = s->mtu;
	if (s->hi - s->mtu < PLPMTU_STEP)
		plpmtu_done(s, now);
	else
		s->next_ms = now;
}

static int plpmtu_emit(struct plpmtu *s, uint64_t now, int sizes[PLPMTU_PROBES], uint32_t *round)
{
	int k = 0;

	for (int i = 0; i < s->n; i++)
		if (!(s->acked & (1u << i)))
			sizes[k++] = s->size[i];
	s->tries++;
	s->wait_ms = now + PLPMTU_WAIT_MS;
	*round = s->round;
	return k;
}

int plpmtu_poll(struct plpmtu *s, uint64_t now, int active, int sizes[PLPMTU_PROBES],
    uint32_t *round)
{
	if (s->n) {
		if (now < s->wait_ms)
			return 0;
		if (!s->confirm && s->tries < PLPMTU_TRIES)
			return plpmtu_emit(s, now, sizes, round);
		plpmtu_conclude(s, now);
	}
	if (s->state == PLPMTU_SEARCH) {
		if (s->hi - s->mtu < PLPMTU_STEP) {
			plpmtu_done(s, now);
			return 0;
		}
		if (now < s->next_ms)
			return 0;
		plpmtu_round(s, now);
		return plpmtu_emit(s, now, sizes, round);
	}
	if (s->mtu < s->max && now >= s->raise_ms) {
		plpmtu_search(s, now);
		plpmtu_round(s, now);
		return plpmtu_emit(s, now, sizes, round);
	}
	if (now < s->next_ms)
		return 0;
	s->next_ms = now + PLPMTU_CONFIRM_MS;
	if (!active || s->mtu <= PLPMTU_BASE)
		return 0;
	s->round++;
	s->n = 1;
	s->size[0] = s->mtu;
	s->tries = 0;
	s->confirm = 1;
	s->acked = 0;
	return plpmtu_emit(s, now, sizes, round);
}

int plpmtu_ack(struct plpmtu *s, uint32_t round, int size, uint64_t now)
{
	int i, old = s->mtu;

	if (!s->n || round != s->round)
		return 0;
	for (i = 0; i < s->n; i++)
		if (s->size[i] == size)
			break;
	if (i == s->n)
		return 0;
	s->acked |= 1u << i;
	if (!s->confirm && size > s->mtu)
		s->mtu = size;
	/* The largest of the round passed: the smaller ones would too. */
	if (i == s->n - 1)
		plpmtu_conclude(s, now);
	return s->mtu != old;
}

uint64_t plpmtu_next(const struct plpmtu *s, uint64_t next)
{
	uint64_t t;

	if (s->n)
		t = s->wait_ms;
	else if (s->state == PLPMTU_SEARCH)
		t = s->next_ms;
	else
		t = s->mtu < s->max && s->raise_ms < s->next_ms ? s->raise_ms : s->next_ms;
	return t < next ? t : next;
}

/* ---------------------------------------------------------- messages */

int plpmtu_msg_build(uint8_t type, uint32_t round, int size, uint8_t *buf, size_t len)
{
	if ((type != PLPMTU_MSG_PROBE && type != PLPMTU_MSG_ACK) || len < PLPMTU_MSG_LEN ||
	    (type == PLPMTU_MSG_ACK && len != PLPMTU_MSG_LEN) || size < 1 || size > 0xffff)
		return -EINVAL;
	memset(buf, 0, len);
	buf[0] = type;
	for (int i = 0; i < 4; i++)
		buf[4 + i] = (uint8_t)(round >> (8 * i));
	buf[8] = (uint8_t)size;
	buf[9] = (uint8_t)(size >> 8);
	return (int)len;
}

int plpmtu_msg_parse(const uint8_t *m, size_t len, uint32_t *round, int *size)
{
	uint8_t acc = 0;

	if (len < PLPMTU_MSG_LEN || (m[0] != PLPMTU_MSG_PROBE && m[0] != PLPMTU_MSG_ACK) ||
	    (m[0] == PLPMTU_MSG_ACK && len != PLPMTU_MSG_LEN))
		return -EINVAL;
	acc = m[1] | m[2] | m[3] | m[10] | m[11];
	for (size_t i = PLPMTU_MSG_LEN; i < len; i++)
		acc |= m[i];
	*round = (uint32_t)m[4] | (uint32_t)m[5] << 8 | (uint32_t)m[6] << 16 | (uint32_t)m[7] << 24;
	*size = m[8] | m[9] << 8;
	if (acc || *size == 0)
		return -EINVAL;
	return m[0];
}

/*
 * Whether a datagram from the gateway is a NAT-PMP answer (RFC 6886 3.2,
 * 3.3) of the size its opcode says, before libnatpmp reads it: the
 * library copies fields from a 16-byte buffer whatever the datagram's
 * length, so a short answer would leave it reading bytes nobody sent.
 * Pure.
 */
#ifndef Q2Q_PMP_H
#define Q2Q_PMP_H

#include <stddef.h>
#include <stdint.h>

#define PMP_OP_ADDR	128	/* answer to "what is the public address" */
#define PMP_OP_UDP	129	/* answer to a UDP mapping request */
#define PMP_ANSWER_MAX	16

/* 0 if b is an answer with opcode op of the right length; else -EPROTO
 * with why. An error answer (result code not 0) may stop after the
 * result and epoch (8 bytes). */
int pmp_answer_check(const uint8_t *b, size_t len, int op, char *why, size_t whylen);

#endif

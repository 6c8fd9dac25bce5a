/*
 * The PCP MAP request and its answer (RFC 6887, sections 7 and 11), as
 * bytes. A node asks its gateway (UDP 5351) to forward an external port
 * to its own UDP port; the answer says which external address and port it
 * got and for how long. Debian has no PCP client library, and the part we
 * need is two fixed 60-byte formats. Pure: bytes in, struct out.
 */
#ifndef Q2Q_PCP_H
#define Q2Q_PCP_H

#include <stddef.h>
#include <stdint.h>

#define PCP_PORT		5351
#define PCP_MAP_LEN		60	/* a MAP request or answer without options */
#define PCP_MAX_LEN		1100	/* RFC 6887 section 7 */
#define PCP_NONCE_LEN		12

/* Result codes (RFC 6887 section 7.4) we name in logs. */
enum {
	PCP_SUCCESS = 0,
	PCP_UNSUPP_VERSION = 1,
	PCP_NOT_AUTHORIZED = 2,
	PCP_MALFORMED_REQUEST = 3,
	PCP_UNSUPP_OPCODE = 4,
	PCP_UNSUPP_OPTION = 5,
	PCP_MALFORMED_OPTION = 6,
	PCP_NETWORK_FAILURE = 7,
	PCP_NO_RESOURCES = 8,
	PCP_UNSUPP_PROTOCOL = 9,
	PCP_USER_EX_QUOTA = 10,
	PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_ADDRESS_MISMATCH = 12,
	PCP_EXCESSIVE_REMOTE_PEERS = 13,
};

/* One UDP mapping: addresses are 16 bytes, IPv4 as ::ffff:a.b.c.d. */
struct pcp_map {
	uint8_t nonce[PCP_NONCE_LEN];
	uint8_t client[16];	/* request: our address towards the gateway */
	uint16_t internal_port;
	uint16_t external_port;	/* request: suggestion (0: any); answer: granted */
	uint8_t external[16];	/* request: suggestion (::ffff:0.0.0.0: any); answer: granted */
	uint32_t lifetime;	/* seconds; 0 in a request deletes the mapping */
};

/* Writes a MAP request for UDP into buf (cap >= PCP_MAP_LEN): its length,
 * or -ENOSPC. */
int pcp_map_build(const struct pcp_map *m, uint8_t *buf, size_t cap);

struct pcp_answer {
	int result;		/* PCP_* result code */
	int has_body;		/* the MAP body was there (error answers may lack it) */
	uint32_t epoch;
	struct pcp_map map;	/* nonce, ports, external address, lifetime */
};

/* Reads a MAP answer. 0, or -EPROTO with why (naming the field) when it
 * is not a PCP version 2 MAP answer for UDP; an answer with a non-zero
 * result code is still 0 (the caller reads a->result). Options after the
 * MAP body are skipped by their lengths, which must fit. */
int pcp_answer_parse(const uint8_t *b, size_t len, struct pcp_answer *a, char *why, size_t whylen);

/* Reads an unsolicited ANNOUNCE (RFC 6887 14.1.3): a gateway that
 * (re)started says so, with its epoch time. 0, or -EPROTO with why. */
int pcp_announce_parse(const uint8_t *b, size_t len, uint32_t *epoch, char *why, size_t whylen);

/* What the gateway's epoch times said so far (RFC 6887 8.5): its time and
 * ours (ms, monotonic) at the last answer. Zeroed: none yet. */
struct pcp_epoch {
	int have;
	uint32_t server;
	uint64_t client_ms;
};

/* An answer or ANNOUNCE said epoch time server when our clock read
 * client_ms: 1 if that fits the last one, 0 if the gateway must have lost
 * its state (it restarted): its time went back by more than a second, or
 * ran at a pace ours did not, beyond 1/16 and 2 s either way. The first
 * is taken as it is. Either way it is the one the next is checked against. */
int pcp_epoch_check(struct pcp_epoch *e, uint32_t server, uint64_t client_ms);

/* Words for a result code ("not authorized", ...); static storage. */
const char *pcp_result_name(int result);

#endif

/*
 * Who may connect to us: the config's refuse list ("user@domain" or
 * "*@domain"), asked when the authority brokers a caller and again when a
 * responder handshake completes. Read live: a reload changes the list.
 */
#ifndef Q2Q_POLICY_H
#define Q2Q_POLICY_H

struct config;

/* 1 if identity may connect to us, 0 if the config refuses it. */
int policy_allows(const struct config *cfg, const char *identity);

#endif

/*
 * PKCS#10 certificate requests. A node proves possession of its key by
 * signing a request whose subject CN is the identity it asks for; the
 * authority takes only the public key and the name from it and decides all
 * bindings itself, so requests carry no extensions and any attributes a
 * foreign client adds are ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "identity/cert.h"
#include "identity/key.h"
#include "identity/x509.h"

#define CSR_TBS_MAX 1024

int cert_csr_make(const struct id_key *k, const char *identity,
		  uint8_t **der, size_t *len)
{
	uint8_t tbs[CSR_TBS_MAX], spki[KEY_SPKI_MAX];
	size_t spki_len = 0, m;
	struct der_w w;
	int rc;

	*der = NULL;
	*len = 0;
	rc = id_parse_user(identity, NULL, NULL, 0);
	if (rc)
		return rc;
	rc = key_spki(k, spki, sizeof(spki), &spki_len);
	if (rc)
		return rc;
	der_w_init(&w, tbs, sizeof(tbs));
	m = der_begin(&w, DER_SEQUENCE);
	der_put(&w, DER_INTEGER, "\0", 1);              /* version 1 */
	x509_put_name(&w, identity);
	der_raw(&w, spki, spki_len);
	der_put(&w, DER_CTX | DER_CONSTRUCTED | 0, NULL, 0);   /* no attributes */
	der_end(&w, m);
	if (w.err)
		return w.err;
	return x509_sign(k, tbs, w.len, der, len);
}

int x509_csr_read(const uint8_t *der, size_t len,
		  char identity[ID_NAME_MAX + 1], const uint8_t **spki,
		  size_t *spki_len, char *err, size_t errlen)
{
	const uint8_t *tbs_tlv, *sig;
	size_t tbs_len, sig_len;
	struct der_r r, cri, ver;
	char cn[ID_NAME_MAX + 1], e[160];
	int rc;

	if (len > CERT_DER_MAX ||
	    x509_split_signed(der, len, &tbs_tlv, &tbs_len, &sig, &sig_len))
		return x509_err(-EBADMSG, err, errlen,
				"CSR is not a DER ECDSA-SHA256 request");
	der_r_init(&r, tbs_tlv, tbs_len);
	if (der_get(&r, DER_SEQUENCE, &cri, NULL, NULL) ||
	    der_get(&cri, DER_INTEGER, &ver, NULL, NULL) ||
	    ver.left != 1 || ver.p[0] != 0 ||
	    x509_get_name_cn(&cri, cn) ||
	    der_get(&cri, DER_SEQUENCE, NULL, spki, spki_len) ||
	    der_get(&cri, DER_CTX | DER_CONSTRUCTED | 0, NULL, NULL, NULL) ||
	    cri.left)
		return x509_err(-EBADMSG, err, errlen, "malformed CSR");
	rc = key_verify_spki(*spki, *spki_len, tbs_tlv, tbs_len, sig, sig_len);
	if (rc)
		return x509_err(rc, err, errlen,
				rc == -EKEYREJECTED ?
				"CSR signature does not verify" :
				"CSR public key is not ECDSA P-256");
	if (id_parse_user(cn, NULL, e, sizeof(e)))
		return x509_err(-EINVAL, err, errlen, "CSR subject %s", e);
	memcpy(identity, cn, strlen(cn) + 1);
	return 0;
}

int cert_csr_parse(const uint8_t *der, size_t len,
		   char identity[ID_NAME_MAX + 1], char *err, size_t errlen)
{
	const uint8_t *spki;
	size_t spki_len;

	return x509_csr_read(der, len, identity, &spki, &spki_len, err, errlen);
}

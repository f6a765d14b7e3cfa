/* pycrypt.c — adapter.decrypt_parameter: titanfe's secret parameters
 * (titanfe-protocol.md §14) with OpenSSL libcrypto.
 *
 *   key   = PBKDF2-HMAC-SHA1(UTF-8 secret key, salt = UTF-8 flow uid, 4096, 32)
 *   blob  = hex decoded parameter = nonce[12] || ciphertext || tag[16]
 *   plain = AES-256-GCM decrypt, and unlike the original the tag IS
 *           verified (§19 item 1): a wrong key or a changed byte is an
 *           error, never garbage.
 */
#include "pyujo.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_LEN 12
#define TAG_LEN 16
#define PBKDF2_ITERATIONS 4096

int pycrypt_derive_key(const char *secret, const char *salt, uint8_t key[TITAN_SECRET_KEY_LEN])
{
	return PKCS5_PBKDF2_HMAC(secret, (int)strlen(secret), (const unsigned char *)salt, (int)strlen(salt),
				 PBKDF2_ITERATIONS, EVP_sha1(), TITAN_SECRET_KEY_LEN, key) == 1
		       ? 0
		       : -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Hex to bytes; ASCII whitespace between byte pairs is ignored (as
 * Python's bytes.fromhex). Returns the length or -1. */
static long unhex(const char *hex, size_t n, uint8_t *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		char c = hex[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			i++;
			continue;
		}
		if (i + 1 >= n) return -1;
		int hi = hexval(c), lo = hexval(hex[i + 1]);
		if (hi < 0 || lo < 0) return -1;
		out[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return (long)o;
}

int pycrypt_decrypt_hex(const uint8_t key[TITAN_SECRET_KEY_LEN], const char *hex, size_t hexlen, char **out,
			size_t *outlen, const char **why)
{
	*out = NULL;
	*outlen = 0;
	if (hexlen > (size_t)64 * 1024 * 1024) {
		*why = "the encrypted parameter is too long";
		return -1;
	}
	uint8_t *blob = malloc(hexlen / 2 + 1);
	char *plain = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	int rc = -1;
	if (!blob) {
		*why = "out of memory";
		return -1;
	}
	long n = unhex(hex, hexlen, blob);
	if (n < 0) {
		*why = "the encrypted parameter is not a hex string";
		goto out;
	}
	if (n < NONCE_LEN + TAG_LEN) {
		*why = "the encrypted parameter is too short (needs a 12-byte nonce and a 16-byte tag)";
		goto out;
	}
	size_t ctlen = (size_t)n - NONCE_LEN - TAG_LEN;
	plain = malloc(ctlen + 1);
	ctx = EVP_CIPHER_CTX_new();
	if (!plain || !ctx) {
		*why = "out of memory";
		goto out;
	}
	int len = 0, fin = 0;
	/* IV length before key and IV (the two-step init). */
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, blob) != 1 ||
	    (ctlen && EVP_DecryptUpdate(ctx, (unsigned char *)plain, &len, blob + NONCE_LEN, (int)ctlen) != 1) ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, blob + NONCE_LEN + ctlen) != 1) {
		*why = "AES-GCM decryption failed";
		goto out;
	}
	if (EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + len, &fin) != 1) {
		*why = "the authentication tag does not match (wrong secret key or flow uid, or altered data)";
		goto out;
	}
	plain[len + fin] = '\0';
	*out = plain;
	*outlen = (size_t)(len + fin);
	plain = NULL;
	rc = 0;
out:
	if (plain) {
		OPENSSL_cleanse(plain, ctlen);
		free(plain);
	}
	EVP_CIPHER_CTX_free(ctx);
	free(blob);
	return rc;
}

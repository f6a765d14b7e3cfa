/* pyujo.h — internals of the embedded-Python half of titan-run-brick,
 * shared by brick.c (interpreter, brick calls, the _titan module),
 * pyujo.c (ujotypes-compatible classes, UJO bytes <-> Python) and
 * pycrypt.c (adapter.decrypt_parameter). Needs Python.h: include this
 * header first in those files. Nothing outside this directory's py*.c
 * and brick.c includes it.
 */
#ifndef TITAN_RUN_BRICK_PYUJO_H
#define TITAN_RUN_BRICK_PYUJO_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ujo.h"

/* A METH_VARARGS|METH_KEYWORDS or METH_FASTCALL function in a
 * PyMethodDef without -Wcast-function-type complaining. */
#define PY_FN(f) ((PyCFunction)(void (*)(void))(f))

/* ---- pyujo.c ---------------------------------------------------------- */

/* Add the ujotypes base classes (UjoBase, the scalar classes, UjoListBase,
 * UjoMapBase, UJO_VARIANT_NONE) and the conversion functions to the _titan
 * module. Returns 0, or -1 with an exception set. */
int pyujo_add_to_module(PyObject *m);

/* One bare UJO value (a packet payload) to Python: ujotypes objects
 * (containers are decoded lazily, on first access) or, with plain, dict /
 * list / str / int / float / bool / None / datetime. The bytes are copied
 * when needed: the result never points into p. NULL with an exception on
 * invalid data or a type ujotypes cannot represent. */
PyObject *pyujo_decode_bare(const uint8_t *p, size_t len, bool plain);

/* A Python value to one bare UJO value in out (reset first), by
 * titanfe's python_to_ujo rules (ujo-format.md §9.1); Ujo objects are
 * written as they are. 0, or -1 with an exception set. */
int pyujo_encode_bare(PyObject *o, struct ujo_buf *out);

/* Drop the decoder's caches (before Py_FinalizeEx). */
void pyujo_clear_caches(void);

/* ---- pycrypt.c ---------------------------------------------------------- */

/* titanfe's secret parameters (titanfe-protocol.md §14): key =
 * PBKDF2-HMAC-SHA1(secret, salt = flow uid, 4096, 32 bytes). */
#define TITAN_SECRET_KEY_LEN 32
int pycrypt_derive_key(const char *secret, const char *salt, uint8_t key[TITAN_SECRET_KEY_LEN]);

/* Decrypt hex(nonce[12] || ciphertext || tag[16]) with AES-256-GCM and
 * verify the tag. Returns 0 with a malloc'd NUL-terminated plaintext in
 * *out (length *outlen), or -1 with a static reason in *why. */
int pycrypt_decrypt_hex(const uint8_t key[TITAN_SECRET_KEY_LEN], const char *hex, size_t hexlen, char **out,
			size_t *outlen, const char **why);

#endif

/* pyujo.c — UJO values for Python bricks, in C.
 *
 * The classes a titanfe brick sees (the ujotypes API, ujo-format.md §8,
 * titanfe-protocol.md §11) are C types of the _titan module; ujotypes.py
 * re-exports them and derives UjoList / UjoMap from UjoListBase /
 * UjoMapBase plus collections.abc.MutableSequence / MutableMapping (for
 * the mixin methods and isinstance checks), then registers those
 * subclasses here so that decoding creates them.
 *
 * Value model (as ujotypes-py):
 *  - a scalar (UjoNone, UjoBool, UjoInt8..UjoUInt64, UjoFloat16/32/64,
 *    UjoStringC, UjoStringUTF8, UjoTimestamp) is immutable; .value is the
 *    Python value; equal when the classes are the same and the values are
 *    equal (UjoInt64(1) != UjoInt8(1) != 1); hashable (map keys);
 *  - UjoList holds Ujo objects, UjoMap maps Ujo keys to Ujo values; keys
 *    are typed (UjoStringUTF8("a") and UjoStringC("a") are different).
 *    Beyond ujotypes-py, plain Python keys and values are accepted and
 *    converted with python_to_ujo (m["key"] looks up UjoStringUTF8("key"),
 *    titanfe's key type).
 *
 * Containers decoded from bytes are lazy: they keep a reference to the
 * bytes and their range, and build their items on first access. A
 * container that was never touched is written back by copying its bytes
 * (a passthrough brick costs one copy, not a decode and an encode).
 * Nothing can change a container without materialising it first, so the
 * raw bytes are always current while they are kept.
 */
#include "pyujo.h"

#include <datetime.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Kinds of scalars                                                    */

enum kind {
	K_NONE, K_BOOL, K_I8, K_I16, K_I32, K_I64, K_U8, K_U16, K_U32, K_U64,
	K_F16, K_F32, K_F64, K_STRC, K_STRU, K_TS, NKINDS
};

static const struct kinfo {
	const char *tp_name, *doc;
	uint8_t type, sub;
} kinfo[NKINDS] = {
	[K_NONE] = {"ujotypes.UjoNone", "UJO none (no value). UJO_VARIANT_NONE is the shared instance.", UJO_NONE, 0},
	[K_BOOL] = {"ujotypes.UjoBool", "UjoBool(value: bool)", UJO_BOOL, 0},
	[K_I8] = {"ujotypes.UjoInt8", "UjoInt8(value: int), -128..127", UJO_I8, 0},
	[K_I16] = {"ujotypes.UjoInt16", "UjoInt16(value: int)", UJO_I16, 0},
	[K_I32] = {"ujotypes.UjoInt32", "UjoInt32(value: int)", UJO_I32, 0},
	[K_I64] = {"ujotypes.UjoInt64", "UjoInt64(value: int)", UJO_I64, 0},
	[K_U8] = {"ujotypes.UjoUInt8", "UjoUInt8(value: int), 0..255", UJO_U8, 0},
	[K_U16] = {"ujotypes.UjoUInt16", "UjoUInt16(value: int)", UJO_U16, 0},
	[K_U32] = {"ujotypes.UjoUInt32", "UjoUInt32(value: int)", UJO_U32, 0},
	[K_U64] = {"ujotypes.UjoUInt64", "UjoUInt64(value: int)", UJO_U64, 0},
	[K_F16] = {"ujotypes.UjoFloat16", "UjoFloat16(value: float), truncated as libujo-c does", UJO_F16, 0},
	[K_F32] = {"ujotypes.UjoFloat32", "UjoFloat32(value: float)", UJO_F32, 0},
	[K_F64] = {"ujotypes.UjoFloat64", "UjoFloat64(value: float)", UJO_F64, 0},
	[K_STRC] = {"ujotypes.UjoStringC", "UjoStringC(value: str), cut at the first NUL", UJO_STRING, UJO_STR_C},
	[K_STRU] = {"ujotypes.UjoStringUTF8", "UjoStringUTF8(value: str | bytes)", UJO_STRING, UJO_STR_UTF8},
	[K_TS] = {"ujotypes.UjoTimestamp", "UjoTimestamp(value: datetime), millisecond precision, no time zone",
		  UJO_TIMESTAMP, 0},
};

typedef struct {
	PyObject_HEAD
	PyObject *value; /* the Python value (.value) */
	union {
		int64_t i;
		uint64_t u;
		uint16_t h; /* float16 bits */
		uint32_t f; /* float32 bits */
	} v;
	uint8_t kind;
} UScalar;

typedef struct {
	PyObject_HEAD
	PyObject *items; /* list (UjoList) / dict (UjoMap) of Ujo objects; NULL while raw */
	PyObject *owner; /* bytes holding raw[0..rawlen), while raw */
	const uint8_t *raw;
	Py_ssize_t rawlen;
} UCont;

static PyTypeObject UjoBase_Type, UjoListBase_Type, UjoMapBase_Type;
static PyTypeObject scalar_types[NKINDS];
static PyTypeObject *list_cls = &UjoListBase_Type, *map_cls = &UjoMapBase_Type; /* registered subclasses */
static PyObject *none_obj;                                                           /* UJO_VARIANT_NONE */
static PyObject *abc_sequence, *abc_mapping;

#define IS_UJO(o) PyObject_TypeCheck((o), &UjoBase_Type)
#define IS_LIST(o) PyObject_TypeCheck((o), &UjoListBase_Type)
#define IS_MAP(o) PyObject_TypeCheck((o), &UjoMapBase_Type)
#define IS_CONT(o) (IS_LIST(o) || IS_MAP(o))

/* What o is, exact classes first (PyObject_TypeCheck walks the MRO of the
 * ABC-derived UjoList / UjoMap). */
enum cls { C_OTHER, C_SCALAR, C_LIST, C_MAP };

static inline enum cls classify(PyObject *o)
{
	PyTypeObject *t = Py_TYPE(o);
	if (t >= &scalar_types[0] && t < &scalar_types[NKINDS]) return C_SCALAR;
	if (t == map_cls) return C_MAP;
	if (t == list_cls) return C_LIST;
	if (t == &PyUnicode_Type || t == &PyLong_Type || t == &PyDict_Type || t == &PyList_Type ||
	    t == &PyFloat_Type || t == &PyBool_Type || o == Py_None)
		return C_OTHER;
	if (!PyType_IsSubtype(t, &UjoBase_Type)) return C_OTHER;
	return IS_MAP(o) ? C_MAP : IS_LIST(o) ? C_LIST : C_SCALAR;
}

#define MAX_DEPTH UJO_MAX_DEPTH

static PyObject *depth_error(void)
{
	PyErr_Format(PyExc_ValueError, "UJO values cannot nest deeper than %d levels (or the value contains itself)",
		     MAX_DEPTH);
	return NULL;
}

static PyObject *ujo_error(int rc)
{
	if (rc == UJO_E_NOMEM) return PyErr_NoMemory();
	PyErr_Format(PyExc_ValueError, "invalid UJO data: %s", ujo_strerror(rc));
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */

static PyObject *scalar_alloc(enum kind k)
{
	UScalar *s = PyObject_New(UScalar, &scalar_types[k]);
	if (s) {
		s->value = NULL;
		s->v.u = 0;
		s->kind = (uint8_t)k;
	}
	return (PyObject *)s;
}

/* A scalar from a decoded value. Steals nothing. */
static PyObject *scalar_from_value(const struct ujo_value *v, bool plain);

static const char *type_label(const struct ujo_value *v)
{
	if (v->type == UJO_STRING) {
		static const char *const subs[] = {"cstring", "utf8", "utf16", "utf32"};
		return v->subtype < 4 ? subs[v->subtype] : "string";
	}
	const char *n = ujo_type_name(v->type);
	return n ? n : "unknown";
}

static PyObject *py_datetime(const struct ujo_datetime *t)
{
	return PyDateTime_FromDateAndTime(t->year, t->month, t->day, t->hour, t->minute, t->second,
					  (int)t->msec * 1000);
}

static PyObject *py_str(const struct ujo_value *v)
{
	return PyUnicode_DecodeUTF8((const char *)v->data, (Py_ssize_t)v->len, "strict");
}

/* The Python value of a decoded atomic (plain), or NULL + exception. */
static PyObject *plain_atomic(const struct ujo_value *v)
{
	switch (v->type) {
	case UJO_NONE: return Py_NewRef(Py_None);
	case UJO_BOOL: return PyBool_FromLong(v->v.b);
	case UJO_I8: case UJO_I16: case UJO_I32: case UJO_I64: return PyLong_FromLongLong(v->v.i);
	case UJO_U8: case UJO_U16: case UJO_U32: case UJO_U64: return PyLong_FromUnsignedLongLong(v->v.u);
	case UJO_F16: case UJO_F32: case UJO_F64: return PyFloat_FromDouble(v->v.f);
	case UJO_STRING:
		if (v->subtype == UJO_STR_C || v->subtype == UJO_STR_UTF8) return py_str(v);
		break;
	case UJO_TIMESTAMP: return py_datetime(&v->v.dt);
	default: break;
	}
	PyErr_Format(PyExc_ValueError, "UJO type %s is not supported by ujotypes (handle type not supported)",
		     type_label(v));
	return NULL;
}

static PyObject *scalar_from_value(const struct ujo_value *v, bool plain)
{
	if (plain) return plain_atomic(v);
	enum kind k;
	switch (v->type) {
	case UJO_NONE: return Py_NewRef(none_obj);
	case UJO_BOOL: k = K_BOOL; break;
	case UJO_I8: k = K_I8; break;
	case UJO_I16: k = K_I16; break;
	case UJO_I32: k = K_I32; break;
	case UJO_I64: k = K_I64; break;
	case UJO_U8: k = K_U8; break;
	case UJO_U16: k = K_U16; break;
	case UJO_U32: k = K_U32; break;
	case UJO_U64: k = K_U64; break;
	case UJO_F16: k = K_F16; break;
	case UJO_F32: k = K_F32; break;
	case UJO_F64: k = K_F64; break;
	case UJO_STRING: k = v->subtype == UJO_STR_C ? K_STRC : K_STRU; break;
	case UJO_TIMESTAMP: k = K_TS; break;
	default: return plain_atomic(v); /* raises */
	}
	PyObject *val = plain_atomic(v);
	if (!val) return NULL;
	UScalar *s = (UScalar *)scalar_alloc(k);
	if (!s) {
		Py_DECREF(val);
		return NULL;
	}
	s->value = val;
	if (k >= K_I8 && k <= K_I64) s->v.i = v->v.i;
	else if (k >= K_U8 && k <= K_U64) s->v.u = v->v.u;
	else if (k == K_F16) s->v.h = v->f16;
	else if (k == K_F32) s->v.f = v->f32;
	return (PyObject *)s;
}

/* Build a scalar of kind k from a Python value (constructor rules). */
static PyObject *scalar_from_py(PyTypeObject *type, enum kind k, PyObject *value)
{
	UScalar *s = (UScalar *)type->tp_alloc(type, 0);
	if (!s) return NULL;
	s->kind = (uint8_t)k;
	const char *name = kinfo[k].tp_name + sizeof "ujotypes." - 1;
	switch (k) {
	case K_NONE:
		if (value != Py_None) goto bad_type;
		s->value = Py_NewRef(Py_None);
		break;
	case K_BOOL:
		if (!PyLong_Check(value)) goto bad_type; /* bool, or an int */
		s->value = PyBool_FromLong(PyObject_IsTrue(value));
		break;
	case K_I8: case K_I16: case K_I32: case K_I64: {
		if (!PyLong_Check(value)) goto bad_type;
		int ovf;
		long long x = PyLong_AsLongLongAndOverflow(value, &ovf);
		if (x == -1 && PyErr_Occurred()) goto fail;
		static const long long lo[] = {INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN};
		static const long long hi[] = {INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX};
		if (ovf || x < lo[k - K_I8] || x > hi[k - K_I8]) goto range;
		s->v.i = x;
		s->value = PyLong_FromLongLong(x);
		break;
	}
	case K_U8: case K_U16: case K_U32: case K_U64: {
		if (!PyLong_Check(value)) goto bad_type;
		unsigned long long x = PyLong_AsUnsignedLongLong(value);
		if (x == (unsigned long long)-1 && PyErr_Occurred()) {
			if (!PyErr_ExceptionMatches(PyExc_OverflowError)) goto fail;
			PyErr_Clear();
			goto range;
		}
		static const unsigned long long hi[] = {UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX};
		if (x > hi[k - K_U8]) goto range;
		s->v.u = x;
		s->value = PyLong_FromUnsignedLongLong(x);
		break;
	}
	case K_F16: case K_F32: case K_F64: {
		if (!PyFloat_Check(value) && !(PyLong_Check(value) && !PyBool_Check(value))) goto bad_type;
		double d = PyFloat_AsDouble(value);
		if (d == -1.0 && PyErr_Occurred()) goto fail;
		if (k == K_F16) {
			uint16_t h;
			if (ujo_f32_to_f16((float)d, &h) != 0) goto range;
			s->v.h = h;
			d = ujo_f16_to_f32(h);
		} else if (k == K_F32) {
			float f = (float)d;
			memcpy(&s->v.f, &f, 4);
			d = f;
		}
		s->value = PyFloat_FromDouble(d);
		break;
	}
	case K_STRC: {
		if (!PyUnicode_Check(value)) goto bad_type;
		Py_ssize_t n = PyUnicode_GetLength(value), cut = PyUnicode_FindChar(value, 0, 0, n, 1);
		if (cut == -2) goto fail;
		s->value = cut >= 0 ? PyUnicode_Substring(value, 0, cut) : PyUnicode_FromObject(value);
		break;
	}
	case K_STRU:
		if (PyBytes_Check(value))
			s->value = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(value), PyBytes_GET_SIZE(value), "strict");
		else if (PyUnicode_Check(value))
			s->value = PyUnicode_FromObject(value);
		else
			goto bad_type;
		break;
	case K_TS: {
		if (!PyDateTime_Check(value)) goto bad_type;
		s->value = PyDateTime_FromDateAndTime(
			PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value), PyDateTime_GET_DAY(value),
			PyDateTime_DATE_GET_HOUR(value), PyDateTime_DATE_GET_MINUTE(value),
			PyDateTime_DATE_GET_SECOND(value), PyDateTime_DATE_GET_MICROSECOND(value) / 1000 * 1000);
		break;
	}
	default: break;
	}
	if (!s->value) goto fail;
	return (PyObject *)s;
bad_type:
	PyErr_Format(PyExc_TypeError, "%s doesn't accept values of type %.100s", name, Py_TYPE(value)->tp_name);
	goto fail;
range:
	PyErr_Format(PyExc_OverflowError, "value out of range for %s: %R", name, value);
fail:
	Py_DECREF(s);
	return NULL;
}

static enum kind kind_of_type(PyTypeObject *t)
{
	for (; t; t = t->tp_base)
		if (t >= &scalar_types[0] && t < &scalar_types[NKINDS]) return (enum kind)(t - scalar_types);
	return NKINDS;
}

static PyObject *scalar_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	enum kind k = kind_of_type(type);
	PyObject *value = Py_None, *handle = Py_None, *owner = Py_False;
	if (k == K_NONE) {
		static char *kw0[] = {"variant_handle", "owner", NULL};
		if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OO:UjoNone", kw0, &handle, &owner)) return NULL;
		if (type == &scalar_types[K_NONE] && none_obj) return Py_NewRef(none_obj);
	} else {
		static char *kw[] = {"value", "variant_handle", "owner", NULL};
		if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOO", kw, &value, &handle, &owner)) return NULL;
	}
	if (handle != Py_None) {
		PyErr_SetString(PyExc_TypeError, "ujotypes variant handles are not supported by titan-run-brick");
		return NULL;
	}
	if (k == K_NONE) return scalar_from_py(type, k, Py_None);
	if (value == Py_None) {
		PyErr_Format(PyExc_TypeError, "%s() needs a value", type->tp_name);
		return NULL;
	}
	return scalar_from_py(type, k, value);
}

static void scalar_dealloc(PyObject *self)
{
	Py_XDECREF(((UScalar *)self)->value);
	Py_TYPE(self)->tp_free(self);
}

static Py_hash_t scalar_hash(PyObject *self)
{
	UScalar *s = (UScalar *)self;
	Py_hash_t h = PyObject_Hash(s->value);
	if (h == -1) return -1;
	h ^= (Py_hash_t)(s->kind + 1) * 1000003;
	return h == -1 ? -2 : h;
}

static PyObject *scalar_richcompare(PyObject *a, PyObject *b, int op)
{
	if (op != Py_EQ && op != Py_NE) return Py_NewRef(Py_NotImplemented);
	if (Py_TYPE(a) != Py_TYPE(b)) return PyBool_FromLong(op == Py_NE);
	if (a == b) return PyBool_FromLong(op == Py_EQ);
	return PyObject_RichCompare(((UScalar *)a)->value, ((UScalar *)b)->value, op);
}

static const char *short_name(PyTypeObject *t)
{
	const char *d = strrchr(t->tp_name, '.');
	return d ? d + 1 : t->tp_name;
}

static PyObject *scalar_repr(PyObject *self)
{
	UScalar *s = (UScalar *)self;
	if (s->kind == K_NONE) return PyUnicode_FromFormat("%s()", short_name(Py_TYPE(self)));
	return PyUnicode_FromFormat("%s(%R)", short_name(Py_TYPE(self)), s->value);
}

static PyObject *scalar_value(PyObject *self, void *closure)
{
	(void)closure;
	return Py_NewRef(((UScalar *)self)->value);
}

static PyObject *scalar_type(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromLong(kinfo[((UScalar *)self)->kind].type);
}

static PyObject *scalar_subtype(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromLong(kinfo[((UScalar *)self)->kind].sub);
}

static PyObject *return_self(PyObject *self, PyObject *unused)
{
	(void)unused;
	return Py_NewRef(self);
}

static PyObject *scalar_reduce(PyObject *self, PyObject *unused)
{
	(void)unused;
	UScalar *s = (UScalar *)self;
	if (s->kind == K_NONE) return Py_BuildValue("(O())", (PyObject *)Py_TYPE(self));
	return Py_BuildValue("(O(O))", (PyObject *)Py_TYPE(self), s->value);
}

static PyGetSetDef scalar_getset[] = {
	{"value", scalar_value, NULL, "the Python value", NULL},
	{"type", scalar_type, NULL, "UJO type code (as on the wire)", NULL},
	{"subtype", scalar_subtype, NULL, "UJO subtype (strings: 0 C, 1 UTF-8)", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef scalar_methods[] = {
	{"__copy__", return_self, METH_NOARGS, NULL},
	{"__deepcopy__", return_self, METH_O, NULL},
	{"__reduce__", scalar_reduce, METH_NOARGS, NULL},
	{NULL, NULL, 0, NULL},
};

/* ------------------------------------------------------------------ */
/* UjoBase                                                             */

static PyObject *base_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	(void)args;
	(void)kwds;
	PyErr_Format(PyExc_TypeError, "%s cannot be instantiated", type->tp_name);
	return NULL;
}

static PyObject *base_str(PyObject *self)
{
	PyObject *v = PyObject_GetAttrString(self, "value");
	if (!v) return NULL;
	PyObject *s = PyObject_Str(v);
	Py_DECREF(v);
	return s;
}

static PyTypeObject UjoBase_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "ujotypes.UjoBase",
	.tp_basicsize = sizeof(PyObject),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "Base class of all UJO values.",
	.tp_new = base_new,
	.tp_str = base_str,
};

/* ------------------------------------------------------------------ */
/* Decoding                                                            */

static PyObject *cont_new_raw(bool map, PyObject *owner, const uint8_t *raw, size_t rawlen)
{
	PyTypeObject *t = map ? map_cls : list_cls;
	UCont *c = (UCont *)t->tp_alloc(t, 0);
	if (!c) return NULL;
	c->owner = Py_NewRef(owner);
	c->raw = raw;
	c->rawlen = (Py_ssize_t)rawlen;
	return (PyObject *)c;
}

/* Map keys repeat from packet to packet: short UTF-8 keys are kept in a
 * small direct-mapped cache, as UjoStringUTF8 objects (ujotypes mode) or
 * str (plain mode). Both are immutable, so sharing them is invisible,
 * and a cached str keeps its hash. */
#define KCACHE_SLOTS 512
#define KCACHE_MAXLEN 32

static struct kcache {
	PyObject *obj;
	uint8_t len;
	uint8_t bytes[KCACHE_MAXLEN];
} kcache[2][KCACHE_SLOTS];

static PyObject *dec_key(const struct ujo_value *v, bool plain)
{
	if (v->type != UJO_STRING || v->subtype != UJO_STR_UTF8 || v->len > KCACHE_MAXLEN)
		return scalar_from_value(v, plain);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < v->len; i++) h = (h ^ v->data[i]) * 16777619u;
	struct kcache *e = &kcache[plain][(h ^ (h >> 15)) & (KCACHE_SLOTS - 1)];
	if (e->obj && e->len == v->len && memcmp(e->bytes, v->data, v->len) == 0) return Py_NewRef(e->obj);
	PyObject *o = scalar_from_value(v, plain);
	if (o) {
		Py_XSETREF(e->obj, Py_NewRef(o));
		e->len = (uint8_t)v->len;
		memcpy(e->bytes, v->data, v->len);
	}
	return o;
}

void pyujo_clear_caches(void)
{
	for (int p = 0; p < 2; p++)
		for (int i = 0; i < KCACHE_SLOTS; i++) Py_CLEAR(kcache[p][i].obj);
}

/* The value v just returned by r (a container: read all of it). In
 * ujotypes mode containers become lazy objects over owner's bytes. */
static PyObject *dec_value(struct ujo_reader *r, const struct ujo_value *v, bool plain, PyObject *owner)
{
	if (v->type != UJO_LIST && v->type != UJO_MAP) {
		if (v->type == UJO_TABLE) {
			PyErr_SetString(PyExc_ValueError,
					"UJO type table is not supported by ujotypes (handle type not supported)");
			return NULL;
		}
		return scalar_from_value(v, plain);
	}
	if (!plain) {
		const uint8_t *raw;
		size_t rawlen;
		int rc = ujo_r_skip(r, v, &raw, &rawlen);
		if (rc < 0) return ujo_error(rc);
		return cont_new_raw(v->type == UJO_MAP, owner, raw, rawlen);
	}
	bool map = v->type == UJO_MAP;
	PyObject *out = map ? PyDict_New() : PyList_New(0);
	if (!out) return NULL;
	struct ujo_value it;
	int rc;
	while ((rc = ujo_r_next(r, &it)) == 1 && it.type != UJO_END) {
		PyObject *x = map ? dec_key(&it, true) : dec_value(r, &it, true, owner);
		if (!x) goto fail;
		if (!map) {
			rc = PyList_Append(out, x);
			Py_DECREF(x);
			if (rc < 0) goto fail;
			continue;
		}
		struct ujo_value iv;
		rc = ujo_r_next(r, &iv);
		if (rc != 1) {
			Py_DECREF(x);
			ujo_error(rc < 0 ? rc : UJO_E_TRUNCATED);
			goto fail;
		}
		PyObject *y = dec_value(r, &iv, true, owner);
		if (!y) {
			Py_DECREF(x);
			goto fail;
		}
		rc = PyDict_SetItem(out, x, y);
		Py_DECREF(x);
		Py_DECREF(y);
		if (rc < 0) goto fail;
	}
	if (rc < 0) {
		ujo_error(rc);
		goto fail;
	}
	return out;
fail:
	Py_DECREF(out);
	return NULL;
}

/* Build the items of a lazy container. Building may run Python code (a
 * garbage collection), so another thread could materialise c meanwhile:
 * hold the bytes, and keep the first result. */
static int cont_materialize(UCont *c)
{
	if (c->items) return 0;
	bool map = IS_MAP(c);
	PyObject *owner = Py_NewRef(c->owner);
	PyObject *items = map ? PyDict_New() : PyList_New(0);
	if (!items) {
		Py_DECREF(owner);
		return -1;
	}
	struct ujo_reader r;
	struct ujo_value v, it;
	ujo_r_init_bare(&r, c->raw, (size_t)c->rawlen);
	int rc = ujo_r_next(&r, &v);
	if (rc != 1 || v.type != (map ? UJO_MAP : UJO_LIST)) {
		ujo_error(rc < 0 ? rc : UJO_E_STATE);
		goto fail;
	}
	while ((rc = ujo_r_next(&r, &it)) == 1 && it.type != UJO_END) {
		PyObject *x = map ? dec_key(&it, false) : dec_value(&r, &it, false, owner);
		if (!x) goto fail;
		if (!map) {
			rc = PyList_Append(items, x);
			Py_DECREF(x);
			if (rc < 0) goto fail;
			continue;
		}
		struct ujo_value iv;
		rc = ujo_r_next(&r, &iv);
		PyObject *y = rc == 1 ? dec_value(&r, &iv, false, owner) : NULL;
		if (!y) {
			if (rc != 1) ujo_error(rc < 0 ? rc : UJO_E_TRUNCATED);
			Py_DECREF(x);
			goto fail;
		}
		rc = PyDict_SetItem(items, x, y);
		Py_DECREF(x);
		Py_DECREF(y);
		if (rc < 0) goto fail;
	}
	if (rc < 0) {
		ujo_error(rc);
		goto fail;
	}
	Py_DECREF(owner);
	if (c->items) { /* another thread was faster */
		Py_DECREF(items);
		return 0;
	}
	c->items = items;
	c->raw = NULL;
	c->rawlen = 0;
	Py_CLEAR(c->owner);
	return 0;
fail:
	Py_DECREF(items);
	Py_DECREF(owner);
	return -1;
}

#define MATERIALIZE(c, fail)                                                                  \
	do {                                                                                  \
		if (!((UCont *)(c))->items && cont_materialize((UCont *)(c)) < 0) return fail; \
	} while (0)

/* Decode a complete value (document after its header, or bare) from
 * buf[0..len). owner: bytes object holding buf, or NULL to make a copy
 * when a lazy container needs one. */
static PyObject *decode_buf(const uint8_t *buf, size_t len, bool document, bool plain, PyObject *owner)
{
	struct ujo_reader r;
	struct ujo_value v;
	int rc = document ? ujo_r_init(&r, buf, len) : ujo_r_init_bare(&r, buf, len);
	if (rc < 0) return ujo_error(rc);
	rc = ujo_r_next(&r, &v);
	if (rc != 1) return ujo_error(rc < 0 ? rc : UJO_E_TRUNCATED);
	PyObject *copy = NULL, *res;
	if (!plain && (v.type == UJO_LIST || v.type == UJO_MAP)) {
		if (!owner) {
			/* Validate first, then copy and re-point into the copy. */
			const uint8_t *raw;
			size_t rawlen;
			rc = ujo_r_skip(&r, &v, &raw, &rawlen);
			if (rc == 0 && (rc = ujo_r_next(&r, &v)) > 0) rc = UJO_E_TRAILING;
			if (rc < 0) return ujo_error(rc);
			copy = PyBytes_FromStringAndSize((const char *)raw, (Py_ssize_t)rawlen);
			if (!copy) return NULL;
			res = cont_new_raw(raw[0] == UJO_MAP, copy, (const uint8_t *)PyBytes_AS_STRING(copy), rawlen);
			Py_DECREF(copy);
			return res;
		}
	}
	res = dec_value(&r, &v, plain, owner);
	if (!res) return NULL;
	rc = ujo_r_next(&r, &v);
	if (rc != 0) {
		Py_DECREF(res);
		return ujo_error(rc < 0 ? rc : UJO_E_TRAILING);
	}
	return res;
}

PyObject *pyujo_decode_bare(const uint8_t *p, size_t len, bool plain)
{
	return decode_buf(p, len, false, plain, NULL);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                            */

static int werr(int rc)
{
	if (rc == UJO_E_NOMEM) PyErr_NoMemory();
	else if (rc == UJO_E_PLACE) PyErr_SetString(PyExc_TypeError, "a UJO map key must be an atomic value, not a list or map");
	else if (rc == UJO_E_VALUE) PyErr_Format(PyExc_ValueError, "value cannot be written as UJO: %s", ujo_strerror(rc));
	else PyErr_Format(PyExc_ValueError, "cannot write UJO: %s", ujo_strerror(rc));
	return -1;
}

#define W(call)                                  \
	do {                                     \
		int rc_ = (call);                \
		if (rc_ < 0) return werr(rc_);   \
	} while (0)

static int enc_obj(struct ujo_writer *w, PyObject *o, int depth, bool key);

static int enc_timestamp(struct ujo_writer *w, PyObject *o)
{
	struct ujo_datetime t = {
		.year = (int16_t)PyDateTime_GET_YEAR(o),
		.month = (uint8_t)PyDateTime_GET_MONTH(o),
		.day = (uint8_t)PyDateTime_GET_DAY(o),
		.hour = (uint8_t)PyDateTime_DATE_GET_HOUR(o),
		.minute = (uint8_t)PyDateTime_DATE_GET_MINUTE(o),
		.second = (uint8_t)PyDateTime_DATE_GET_SECOND(o),
		.msec = (uint16_t)(PyDateTime_DATE_GET_MICROSECOND(o) / 1000),
	};
	W(ujo_w_timestamp(w, &t));
	return 0;
}

static int enc_str(struct ujo_writer *w, PyObject *o, bool cstr)
{
	Py_ssize_t n;
	const char *s = PyUnicode_AsUTF8AndSize(o, &n);
	if (!s) return -1;
	if (cstr) W(ujo_w_cstr(w, s));
	else W(ujo_w_utf8(w, s, (size_t)n));
	return 0;
}

static int enc_scalar(struct ujo_writer *w, UScalar *s)
{
	switch (s->kind) {
	case K_NONE: W(ujo_w_none(w)); break;
	case K_BOOL: W(ujo_w_bool(w, s->value == Py_True)); break;
	case K_I8: W(ujo_w_i8(w, (int8_t)s->v.i)); break;
	case K_I16: W(ujo_w_i16(w, (int16_t)s->v.i)); break;
	case K_I32: W(ujo_w_i32(w, (int32_t)s->v.i)); break;
	case K_I64: W(ujo_w_i64(w, s->v.i)); break;
	case K_U8: W(ujo_w_u8(w, (uint8_t)s->v.u)); break;
	case K_U16: W(ujo_w_u16(w, (uint16_t)s->v.u)); break;
	case K_U32: W(ujo_w_u32(w, (uint32_t)s->v.u)); break;
	case K_U64: W(ujo_w_u64(w, s->v.u)); break;
	case K_F16: W(ujo_w_f16_bits(w, s->v.h)); break;
	case K_F32: W(ujo_w_f32_bits(w, s->v.f)); break;
	case K_F64: W(ujo_w_f64(w, PyFloat_AS_DOUBLE(s->value))); break;
	case K_STRC: return enc_str(w, s->value, true);
	case K_STRU: return enc_str(w, s->value, false);
	case K_TS: return enc_timestamp(w, s->value);
	default: PyErr_SetString(PyExc_SystemError, "bad UJO scalar"); return -1;
	}
	return 0;
}

static int not_a_key(void)
{
	PyErr_SetString(PyExc_TypeError, "a UJO map key must be an atomic value, not a list or map");
	return -1;
}

/* Items of a sequence (fast list/tuple), then the end. */
static int enc_seq_items(struct ujo_writer *w, PyObject *seq, int depth)
{
	for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
		PyObject *x = Py_NewRef(PySequence_Fast_GET_ITEM(seq, i));
		int rc = enc_obj(w, x, depth + 1, false);
		Py_DECREF(x);
		if (rc < 0) return -1;
	}
	W(ujo_w_end(w));
	return 0;
}

static int enc_dict_items(struct ujo_writer *w, PyObject *d, int depth)
{
	Py_ssize_t pos = 0;
	PyObject *k, *v;
	while (PyDict_Next(d, &pos, &k, &v)) {
		Py_INCREF(k);
		Py_INCREF(v);
		int rc = enc_obj(w, k, depth + 1, true);
		if (rc == 0) rc = enc_obj(w, v, depth + 1, false);
		Py_DECREF(k);
		Py_DECREF(v);
		if (rc < 0) return -1;
	}
	W(ujo_w_end(w));
	return 0;
}

static int enc_obj(struct ujo_writer *w, PyObject *o, int depth, bool key)
{
	if (depth >= MAX_DEPTH) {
		depth_error();
		return -1;
	}
	/* Ujo objects as they are */
	enum cls cl = classify(o);
	if (cl == C_SCALAR) return enc_scalar(w, (UScalar *)o);
	if (cl != C_OTHER) {
		UCont *c = (UCont *)o;
		if (key) return not_a_key();
		if (!c->items) {
			W(ujo_w_raw(w, c->raw, (size_t)c->rawlen));
			return 0;
		}
		if (cl == C_MAP) {
			W(ujo_w_map(w));
			return enc_dict_items(w, c->items, depth);
		}
		W(ujo_w_list(w));
		return enc_seq_items(w, c->items, depth);
	}
	/* titanfe python_to_ujo, in its order */
	if (o == Py_None) {
		W(ujo_w_none(w));
		return 0;
	}
	if (PyBool_Check(o)) {
		W(ujo_w_bool(w, o == Py_True));
		return 0;
	}
	if (PyLong_Check(o)) {
		int ovf;
		long long x = PyLong_AsLongLongAndOverflow(o, &ovf);
		if (x == -1 && PyErr_Occurred()) return -1;
		if (ovf) {
			PyErr_SetString(PyExc_OverflowError,
					"Python int out of range for UJO int64 (use UjoUInt64 for values up to 2**64-1)");
			return -1;
		}
		W(ujo_w_i64(w, x));
		return 0;
	}
	if (PyFloat_Check(o)) {
		W(ujo_w_f64(w, PyFloat_AS_DOUBLE(o)));
		return 0;
	}
	if (PyUnicode_Check(o)) return enc_str(w, o, false);
	if (PyDateTime_Check(o)) return enc_timestamp(w, o);
	/* containers */
	if (PyList_Check(o) || PyTuple_Check(o)) {
		if (key) return not_a_key();
		PyObject *seq = PySequence_Fast(o, "not a sequence");
		if (!seq) return -1;
		int rc = ujo_w_list(w);
		rc = rc < 0 ? werr(rc) : enc_seq_items(w, seq, depth);
		Py_DECREF(seq);
		return rc;
	}
	if (PyDict_CheckExact(o)) {
		if (key) return not_a_key();
		W(ujo_w_map(w));
		return enc_dict_items(w, o, depth);
	}
	if (PyBytes_Check(o) || PyByteArray_Check(o)) { /* Sequences of ints in titanfe */
		if (key) return not_a_key();
		W(ujo_w_list(w));
		bool isb = PyBytes_Check(o);
		for (Py_ssize_t i = 0; i < (isb ? PyBytes_GET_SIZE(o) : PyByteArray_GET_SIZE(o)); i++)
			W(ujo_w_i64(w, (uint8_t)(isb ? PyBytes_AS_STRING(o) : PyByteArray_AS_STRING(o))[i]));
		W(ujo_w_end(w));
		return 0;
	}
	int is = PySet_Check(o) ? 1 : PyObject_IsInstance(o, abc_sequence);
	if (is < 0) return -1;
	if (is) {
		if (key) return not_a_key();
		PyObject *seq = PySequence_Fast(o, "not iterable");
		if (!seq) return -1;
		int rc = ujo_w_list(w);
		rc = rc < 0 ? werr(rc) : enc_seq_items(w, seq, depth);
		Py_DECREF(seq);
		return rc;
	}
	is = PyDict_Check(o) ? 1 : PyObject_IsInstance(o, abc_mapping);
	if (is < 0) return -1;
	if (is) {
		if (key) return not_a_key();
		PyObject *items = PyMapping_Items(o);
		if (!items) return -1;
		int rc = ujo_w_map(w);
		if (rc < 0) rc = werr(rc);
		for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(items); i++) {
			PyObject *kv = PyList_GET_ITEM(items, i);
			if (!PyTuple_Check(kv) || PyTuple_GET_SIZE(kv) != 2) {
				PyErr_SetString(PyExc_TypeError, "mapping items() must give (key, value) pairs");
				rc = -1;
				break;
			}
			rc = enc_obj(w, PyTuple_GET_ITEM(kv, 0), depth + 1, true);
			if (rc == 0) rc = enc_obj(w, PyTuple_GET_ITEM(kv, 1), depth + 1, false);
		}
		if (rc == 0 && (rc = ujo_w_end(w)) < 0) rc = werr(rc);
		Py_DECREF(items);
		return rc;
	}
	PyErr_Format(PyExc_NotImplementedError,
		     "cannot convert a value of type %.100s to UJO (python_to_ujo takes None, bool, int, float, str, "
		     "datetime, sequences, sets, mappings and Ujo objects)",
		     Py_TYPE(o)->tp_name);
	return -1;
}

int pyujo_encode_bare(PyObject *o, struct ujo_buf *out)
{
	struct ujo_writer w;
	ujo_buf_reset(out);
	ujo_w_init_bare(&w, out);
	if (enc_obj(&w, o, 0, false) < 0) return -1;
	int rc = ujo_w_finish(&w);
	if (rc < 0) return werr(rc);
	return 0;
}

/* Python value (or Ujo object) -> Ujo object (python_to_ujo). key: the
 * result must be atomic. */
static PyObject *to_ujo(PyObject *o, bool key)
{
	enum cls cl = classify(o);
	if (cl != C_OTHER) {
		if (key && cl != C_SCALAR) {
			not_a_key();
			return NULL;
		}
		return Py_NewRef(o);
	}
	if (o == Py_None) return Py_NewRef(none_obj);
	if (PyUnicode_CheckExact(o)) return scalar_from_py(&scalar_types[K_STRU], K_STRU, o);
	if (PyBool_Check(o)) return scalar_from_py(&scalar_types[K_BOOL], K_BOOL, o);
	if (PyLong_CheckExact(o)) {
		PyObject *r = scalar_from_py(&scalar_types[K_I64], K_I64, o);
		if (!r && PyErr_ExceptionMatches(PyExc_OverflowError)) {
			PyErr_Clear();
			PyErr_SetString(PyExc_OverflowError, "Python int out of range for UJO int64");
		}
		return r;
	}
	if (PyFloat_CheckExact(o)) return scalar_from_py(&scalar_types[K_F64], K_F64, o);
	struct ujo_buf b;
	ujo_buf_init(&b);
	PyObject *r = NULL;
	if (pyujo_encode_bare(o, &b) == 0) {
		if (key && (b.data[0] == UJO_LIST || b.data[0] == UJO_MAP)) not_a_key();
		else r = decode_buf(b.data, b.len, false, false, NULL);
	}
	ujo_buf_free(&b);
	return r;
}

/* Ujo object -> plain Python (ujo_to_python / .value / as_pyobject). */
static PyObject *to_plain(PyObject *o, int depth)
{
	if (depth >= MAX_DEPTH) return depth_error();
	enum cls cl = classify(o);
	if (cl == C_SCALAR) return Py_NewRef(((UScalar *)o)->value);
	if (cl == C_OTHER) return Py_NewRef(o); /* not a Ujo object: as it is */
	UCont *c = (UCont *)o;
	if (!c->items) return decode_buf(c->raw, (size_t)c->rawlen, false, true, NULL);
	if (cl == C_LIST) {
		Py_ssize_t n = PyList_GET_SIZE(c->items);
		PyObject *l = PyList_New(n);
		if (!l) return NULL;
		for (Py_ssize_t i = 0; i < n && i < PyList_GET_SIZE(c->items); i++) {
			PyObject *x = to_plain(PyList_GET_ITEM(c->items, i), depth + 1);
			if (!x) {
				Py_DECREF(l);
				return NULL;
			}
			PyList_SET_ITEM(l, i, x);
		}
		return l;
	}
	PyObject *d = PyDict_New();
	if (!d) return NULL;
	Py_ssize_t pos = 0;
	PyObject *k, *v;
	while (PyDict_Next(c->items, &pos, &k, &v)) {
		PyObject *pk = to_plain(k, depth + 1), *pv = pk ? to_plain(v, depth + 1) : NULL;
		int rc = pv ? PyDict_SetItem(d, pk, pv) : -1;
		Py_XDECREF(pk);
		Py_XDECREF(pv);
		if (rc < 0) {
			Py_DECREF(d);
			return NULL;
		}
	}
	return d;
}

/* ------------------------------------------------------------------ */
/* Containers: shared                                                  */

static int cont_traverse(PyObject *self, visitproc visit, void *arg)
{
	UCont *c = (UCont *)self;
	Py_VISIT(c->items);
	Py_VISIT(c->owner);
	return 0;
}

static int cont_clear(PyObject *self)
{
	UCont *c = (UCont *)self;
	Py_CLEAR(c->items);
	Py_CLEAR(c->owner);
	c->raw = NULL;
	c->rawlen = 0;
	return 0;
}

static void cont_dealloc(PyObject *self)
{
	PyObject_GC_UnTrack(self);
	cont_clear(self);
	Py_TYPE(self)->tp_free(self);
}

static PyObject *cont_value(PyObject *self, void *closure)
{
	(void)closure;
	return to_plain(self, 0);
}

static PyObject *cont_as_pyobject(PyObject *self, PyObject *unused)
{
	(void)unused;
	return to_plain(self, 0);
}

static PyObject *cont_type(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromLong(IS_MAP(self) ? UJO_MAP : UJO_LIST);
}

static PyObject *zero(PyObject *self, void *closure)
{
	(void)self;
	(void)closure;
	return PyLong_FromLong(0);
}

static PyObject *doc_bytes(PyObject *o)
{
	struct ujo_buf b;
	struct ujo_writer w;
	ujo_buf_init(&b);
	ujo_w_init(&w, &b);
	PyObject *r = NULL;
	if (enc_obj(&w, o, 0, false) == 0) {
		int rc = ujo_w_finish(&w);
		if (rc < 0) werr(rc);
		else r = PyBytes_FromStringAndSize((const char *)b.data, (Py_ssize_t)b.len);
	}
	ujo_buf_free(&b);
	return r;
}

static PyObject *cont_bytes(PyObject *self, PyObject *unused)
{
	(void)unused;
	return doc_bytes(self);
}

static Py_ssize_t cont_len(PyObject *self)
{
	MATERIALIZE(self, -1);
	PyObject *it = ((UCont *)self)->items;
	return PyList_Check(it) ? PyList_GET_SIZE(it) : PyDict_GET_SIZE(it);
}

static PyObject *cont_richcompare(PyObject *a, PyObject *b, int op)
{
	if (op != Py_EQ && op != Py_NE) return Py_NewRef(Py_NotImplemented);
	if (Py_TYPE(a) != Py_TYPE(b)) return PyBool_FromLong(op == Py_NE);
	if (a == b) return PyBool_FromLong(op == Py_EQ);
	UCont *x = (UCont *)a, *y = (UCont *)b;
	if (!x->items && !y->items && x->rawlen == y->rawlen && memcmp(x->raw, y->raw, (size_t)x->rawlen) == 0)
		return PyBool_FromLong(op == Py_EQ);
	MATERIALIZE(a, NULL);
	MATERIALIZE(b, NULL);
	return PyObject_RichCompare(x->items, y->items, op);
}

static PyObject *cont_iter(PyObject *self)
{
	MATERIALIZE(self, NULL);
	return PyObject_GetIter(((UCont *)self)->items);
}

static PyObject *cont_new(PyTypeObject *type, PyObject *args, PyObject *kwds, bool map)
{
	PyObject *init = NULL, *handle = Py_None, *owner = Py_None;
	static char *kw[] = {"items", "variant_handle", "owner", NULL};
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "|OOO", kw, &init, &handle, &owner)) return NULL;
	if (handle != Py_None) {
		PyErr_SetString(PyExc_TypeError, "ujotypes variant handles are not supported by titan-run-brick");
		return NULL;
	}
	UCont *c = (UCont *)type->tp_alloc(type, 0);
	if (!c) return NULL;
	c->items = map ? PyDict_New() : PyList_New(0);
	if (!c->items) goto fail;
	if (init && init != Py_None) {
		PyObject *src = to_ujo(init, false);
		if (!src) goto fail;
		if (!(map ? IS_MAP(src) : IS_LIST(src))) {
			PyErr_Format(PyExc_TypeError, "%s() takes %s", short_name(type), map ? "a mapping" : "a sequence");
			Py_DECREF(src);
			goto fail;
		}
		if (cont_materialize((UCont *)src) < 0) {
			Py_DECREF(src);
			goto fail;
		}
		PyObject *items = ((UCont *)src)->items;
		int rc = map ? PyDict_Update(c->items, items) : PyList_SetSlice(c->items, 0, 0, items);
		Py_DECREF(src);
		if (rc < 0) goto fail;
	}
	return (PyObject *)c;
fail:
	Py_DECREF(c);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* UjoListBase                                                         */

static PyObject *list_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	return cont_new(type, args, kwds, false);
}

static PyObject *list_from_items(PyObject *items)
{
	UCont *c = (UCont *)list_cls->tp_alloc(list_cls, 0);
	if (!c) {
		Py_DECREF(items);
		return NULL;
	}
	c->items = items;
	return (PyObject *)c;
}

static PyObject *list_subscript(PyObject *self, PyObject *key)
{
	MATERIALIZE(self, NULL);
	PyObject *items = ((UCont *)self)->items;
	if (PySlice_Check(key)) {
		PyObject *part = PyObject_GetItem(items, key);
		return part ? list_from_items(part) : NULL;
	}
	return PyObject_GetItem(items, key);
}

/* A list of converted items from any iterable. */
static PyObject *converted_list(PyObject *value)
{
	PyObject *seq = PySequence_Fast(value, "can only assign an iterable");
	if (!seq) return NULL;
	Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
	PyObject *l = PyList_New(n);
	for (Py_ssize_t i = 0; l && i < n; i++) {
		PyObject *x = to_ujo(PySequence_Fast_GET_ITEM(seq, i), false);
		if (!x) Py_CLEAR(l);
		else PyList_SET_ITEM(l, i, x);
	}
	Py_DECREF(seq);
	return l;
}

static int list_ass_subscript(PyObject *self, PyObject *key, PyObject *value)
{
	MATERIALIZE(self, -1);
	PyObject *items = ((UCont *)self)->items;
	if (!value) return PyObject_DelItem(items, key);
	PyObject *conv = PySlice_Check(key) ? converted_list(value) : to_ujo(value, false);
	if (!conv) return -1;
	int rc = PyObject_SetItem(items, key, conv);
	Py_DECREF(conv);
	return rc;
}

static int list_contains(PyObject *self, PyObject *value)
{
	MATERIALIZE(self, -1);
	PyObject *conv = to_ujo(value, false);
	if (!conv) {
		PyErr_Clear(); /* not convertible: not in the list */
		return 0;
	}
	int rc = PySequence_Contains(((UCont *)self)->items, conv);
	Py_DECREF(conv);
	return rc;
}

static PyObject *list_append(PyObject *self, PyObject *value)
{
	MATERIALIZE(self, NULL);
	PyObject *conv = to_ujo(value, false);
	if (!conv) return NULL;
	int rc = PyList_Append(((UCont *)self)->items, conv);
	Py_DECREF(conv);
	if (rc < 0) return NULL;
	return Py_NewRef(Py_None);
}

static PyObject *list_insert(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (nargs != 2) {
		PyErr_SetString(PyExc_TypeError, "insert(index, value)");
		return NULL;
	}
	Py_ssize_t i = PyNumber_AsSsize_t(args[0], PyExc_IndexError);
	if (i == -1 && PyErr_Occurred()) return NULL;
	MATERIALIZE(self, NULL);
	PyObject *conv = to_ujo(args[1], false);
	if (!conv) return NULL;
	int rc = PyList_Insert(((UCont *)self)->items, i, conv);
	Py_DECREF(conv);
	if (rc < 0) return NULL;
	return Py_NewRef(Py_None);
}

/* count(value) and index(value[, start[, stop]]) of the underlying list,
 * with value converted. */
static PyObject *list_delegate(PyObject *self, const char *meth, PyObject *const *args, Py_ssize_t nargs)
{
	if (nargs < 1) {
		PyErr_Format(PyExc_TypeError, "%s() needs a value", meth);
		return NULL;
	}
	MATERIALIZE(self, NULL);
	PyObject *conv = to_ujo(args[0], false);
	if (!conv) return NULL;
	PyObject *name = PyUnicode_FromString(meth);
	PyObject *r = NULL;
	if (name) {
		PyObject *a[4] = {((UCont *)self)->items, conv, nargs > 1 ? args[1] : NULL, nargs > 2 ? args[2] : NULL};
		size_t n = (size_t)(nargs > 3 ? 3 : nargs) + 1;
		for (size_t i = 2; i < n; i++)
			if (a[i] == Py_None) n = i; /* index(v, start, None) */
		r = PyObject_VectorcallMethod(name, a, n, NULL);
		Py_DECREF(name);
	}
	Py_DECREF(conv);
	return r;
}

static PyObject *list_count(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	return list_delegate(self, "count", args, nargs);
}

static PyObject *list_index(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	return list_delegate(self, "index", args, nargs);
}

static PyMappingMethods list_as_mapping = {
	.mp_length = cont_len,
	.mp_subscript = list_subscript,
	.mp_ass_subscript = list_ass_subscript,
};

static PySequenceMethods list_as_sequence = {
	.sq_length = cont_len,
	.sq_contains = list_contains,
};

static PyGetSetDef cont_getset[] = {
	{"value", cont_value, NULL, "the Python value (list or dict, recursively)", NULL},
	{"type", cont_type, NULL, "UJO type code (as on the wire)", NULL},
	{"subtype", zero, NULL, "0", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef list_methods[] = {
	{"append", list_append, METH_O, "append(value): value is a Ujo object or converted with python_to_ujo"},
	{"insert", PY_FN(list_insert), METH_FASTCALL, "insert(index, value)"},
	{"count", PY_FN(list_count), METH_FASTCALL, "count(value): items of the same type and value"},
	{"index", PY_FN(list_index), METH_FASTCALL, "index(value[, start[, stop]])"},
	{"as_pyobject", cont_as_pyobject, METH_NOARGS, "the Python list"},
	{"__bytes__", cont_bytes, METH_NOARGS, "the UJO document (write_buffer)"},
	{NULL, NULL, 0, NULL},
};

static PyTypeObject UjoListBase_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "_titan.UjoListBase",
	.tp_basicsize = sizeof(UCont),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "C core of ujotypes.UjoList.",
	.tp_base = &UjoBase_Type,
	.tp_new = list_new,
	.tp_dealloc = cont_dealloc,
	.tp_traverse = cont_traverse,
	.tp_clear = cont_clear,
	.tp_hash = PyObject_HashNotImplemented,
	.tp_richcompare = cont_richcompare,
	.tp_iter = cont_iter,
	.tp_as_mapping = &list_as_mapping,
	.tp_as_sequence = &list_as_sequence,
	.tp_methods = list_methods,
	.tp_getset = cont_getset,
};

/* ------------------------------------------------------------------ */
/* UjoMapBase                                                          */

static PyObject *map_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	return cont_new(type, args, kwds, true);
}

/* Look key up; NULL without an exception when absent. */
static PyObject *map_lookup(PyObject *self, PyObject *key, int *err)
{
	*err = 0;
	if (!((UCont *)self)->items && cont_materialize((UCont *)self) < 0) {
		*err = 1;
		return NULL;
	}
	PyObject *k = to_ujo(key, true);
	if (!k) {
		/* A key that cannot be a UJO key is simply not there. */
		if (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_OverflowError) ||
		    PyErr_ExceptionMatches(PyExc_NotImplementedError) || PyErr_ExceptionMatches(PyExc_ValueError))
			PyErr_Clear();
		else
			*err = 1;
		return NULL;
	}
	PyObject *v = PyDict_GetItemWithError(((UCont *)self)->items, k);
	Py_DECREF(k);
	if (!v && PyErr_Occurred()) *err = 1;
	return v; /* borrowed */
}

static PyObject *map_subscript(PyObject *self, PyObject *key)
{
	int err;
	PyObject *v = map_lookup(self, key, &err);
	if (v) return Py_NewRef(v);
	if (!err) PyErr_SetObject(PyExc_KeyError, key);
	return NULL;
}

static int map_ass_subscript(PyObject *self, PyObject *key, PyObject *value)
{
	MATERIALIZE(self, -1);
	PyObject *items = ((UCont *)self)->items;
	PyObject *k = to_ujo(key, true);
	if (!k) return -1;
	int rc;
	if (!value) {
		rc = PyDict_DelItem(items, k);
		if (rc < 0 && PyErr_ExceptionMatches(PyExc_KeyError)) {
			PyErr_Clear();
			PyErr_SetObject(PyExc_KeyError, key);
		}
	} else {
		PyObject *v = to_ujo(value, false);
		rc = v ? PyDict_SetItem(items, k, v) : -1;
		Py_XDECREF(v);
	}
	Py_DECREF(k);
	return rc;
}

static int map_contains(PyObject *self, PyObject *key)
{
	int err;
	PyObject *v = map_lookup(self, key, &err);
	return err ? -1 : v != NULL;
}

static PyObject *map_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	if (nargs < 1 || nargs > 2) {
		PyErr_SetString(PyExc_TypeError, "get(key[, default])");
		return NULL;
	}
	int err;
	PyObject *v = map_lookup(self, args[0], &err);
	if (err) return NULL;
	return Py_NewRef(v ? v : nargs > 1 ? args[1] : Py_None);
}

static PyObject *map_view(PyObject *self, const char *meth)
{
	MATERIALIZE(self, NULL);
	return PyObject_CallMethod(((UCont *)self)->items, meth, NULL);
}

static PyObject *map_keys(PyObject *self, PyObject *unused)
{
	(void)unused;
	return map_view(self, "keys");
}

static PyObject *map_values(PyObject *self, PyObject *unused)
{
	(void)unused;
	return map_view(self, "values");
}

static PyObject *map_items(PyObject *self, PyObject *unused)
{
	(void)unused;
	return map_view(self, "items");
}

static PyMappingMethods map_as_mapping = {
	.mp_length = cont_len,
	.mp_subscript = map_subscript,
	.mp_ass_subscript = map_ass_subscript,
};

static PySequenceMethods map_as_sequence = {
	.sq_contains = map_contains,
};

static PyMethodDef map_methods[] = {
	{"get", PY_FN(map_get), METH_FASTCALL, "get(key[, default])"},
	{"keys", map_keys, METH_NOARGS, "the keys (Ujo objects)"},
	{"values", map_values, METH_NOARGS, "the values (Ujo objects)"},
	{"items", map_items, METH_NOARGS, "(key, value) pairs of Ujo objects"},
	{"as_pyobject", cont_as_pyobject, METH_NOARGS, "the Python dict {key.value: value}"},
	{"__bytes__", cont_bytes, METH_NOARGS, "the UJO document (write_buffer)"},
	{NULL, NULL, 0, NULL},
};

static PyTypeObject UjoMapBase_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "_titan.UjoMapBase",
	.tp_basicsize = sizeof(UCont),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "C core of ujotypes.UjoMap.",
	.tp_base = &UjoBase_Type,
	.tp_new = map_new,
	.tp_dealloc = cont_dealloc,
	.tp_traverse = cont_traverse,
	.tp_clear = cont_clear,
	.tp_hash = PyObject_HashNotImplemented,
	.tp_richcompare = cont_richcompare,
	.tp_iter = cont_iter,
	.tp_as_mapping = &map_as_mapping,
	.tp_as_sequence = &map_as_sequence,
	.tp_methods = map_methods,
	.tp_getset = cont_getset,
};

/* ------------------------------------------------------------------ */
/* Module functions                                                    */

static int get_buffer(PyObject *o, Py_buffer *view)
{
	return PyObject_GetBuffer(o, view, PyBUF_SIMPLE);
}

/* read_buffer(data) -> Ujo object of a UJO document */
static PyObject *m_read_buffer(PyObject *mod, PyObject *arg)
{
	(void)mod;
	if (PyBytes_CheckExact(arg))
		return decode_buf((const uint8_t *)PyBytes_AS_STRING(arg), (size_t)PyBytes_GET_SIZE(arg), true, false,
				  arg);
	Py_buffer view;
	if (get_buffer(arg, &view) < 0) return NULL;
	PyObject *r = decode_buf(view.buf, (size_t)view.len, true, false, NULL);
	PyBuffer_Release(&view);
	return r;
}

/* write_buffer(variant) -> bytes: a UjoList or UjoMap as a UJO document */
static PyObject *m_write_buffer(PyObject *mod, PyObject *arg)
{
	(void)mod;
	if (!IS_CONT(arg)) {
		PyErr_Format(PyExc_TypeError, "write_buffer needs a UjoList or UjoMap, not %.100s", Py_TYPE(arg)->tp_name);
		return NULL;
	}
	return doc_bytes(arg);
}

static PyObject *m_ujo_to_python(PyObject *mod, PyObject *arg)
{
	(void)mod;
	return to_plain(arg, 0);
}

static PyObject *m_python_to_ujo(PyObject *mod, PyObject *arg)
{
	(void)mod;
	return to_ujo(arg, false);
}

/* py_to_ujo_bytes(obj): a Mapping or Sequence as a UJO document */
static PyObject *m_py_to_ujo_bytes(PyObject *mod, PyObject *arg)
{
	(void)mod;
	int ok = IS_CONT(arg) || PyDict_Check(arg) || PyList_Check(arg) || PyTuple_Check(arg);
	if (!ok && (ok = PyObject_IsInstance(arg, abc_mapping)) == 0) ok = PyObject_IsInstance(arg, abc_sequence);
	if (ok < 0) return NULL;
	if (!ok || PyUnicode_Check(arg)) {
		PyErr_SetString(PyExc_TypeError, "can only turn mapping or sequence to ujo bytes");
		return NULL;
	}
	return doc_bytes(arg); /* bytes: a list of ints, as titanfe */
}

/* ujo_bytes_to_py(data): a UJO document as plain Python */
static PyObject *m_ujo_bytes_to_py(PyObject *mod, PyObject *arg)
{
	(void)mod;
	Py_buffer view;
	if (get_buffer(arg, &view) < 0) return NULL;
	PyObject *r = decode_buf(view.buf, (size_t)view.len, true, true, NULL);
	PyBuffer_Release(&view);
	return r;
}

/* decode(data, plain=False): one bare UJO value */
static PyObject *m_decode(PyObject *mod, PyObject *args, PyObject *kwds)
{
	(void)mod;
	Py_buffer view;
	int plain = 0;
	static char *kw[] = {"data", "plain", NULL};
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "y*|p:decode", kw, &view, &plain)) return NULL;
	PyObject *r = pyujo_decode_bare(view.buf, (size_t)view.len, plain);
	PyBuffer_Release(&view);
	return r;
}

/* encode(value): one bare UJO value */
static PyObject *m_encode(PyObject *mod, PyObject *arg)
{
	(void)mod;
	struct ujo_buf b;
	ujo_buf_init(&b);
	PyObject *r = NULL;
	if (pyujo_encode_bare(arg, &b) == 0) r = PyBytes_FromStringAndSize((const char *)b.data, (Py_ssize_t)b.len);
	ujo_buf_free(&b);
	return r;
}

/* is_raw(container): True while a decoded container was not touched (tests) */
static PyObject *m_is_raw(PyObject *mod, PyObject *arg)
{
	(void)mod;
	return PyBool_FromLong(IS_CONT(arg) && ((UCont *)arg)->items == NULL);
}

/* _register(UjoList, UjoMap): the classes decoding creates */
static PyObject *m_register(PyObject *mod, PyObject *args)
{
	(void)mod;
	PyObject *l, *m;
	if (!PyArg_ParseTuple(args, "O!O!:_register", &PyType_Type, &l, &PyType_Type, &m)) return NULL;
	if (!PyType_IsSubtype((PyTypeObject *)l, &UjoListBase_Type) || !PyType_IsSubtype((PyTypeObject *)m, &UjoMapBase_Type)) {
		PyErr_SetString(PyExc_TypeError, "_register(UjoList, UjoMap) needs subclasses of UjoListBase, UjoMapBase");
		return NULL;
	}
	if (((PyTypeObject *)l)->tp_basicsize != UjoListBase_Type.tp_basicsize ||
	    ((PyTypeObject *)m)->tp_basicsize != UjoMapBase_Type.tp_basicsize) {
		PyErr_SetString(PyExc_TypeError, "_register: the classes must define __slots__ = ()");
		return NULL;
	}
	Py_INCREF(l);
	Py_INCREF(m);
	if (list_cls != &UjoListBase_Type) Py_DECREF(list_cls);
	if (map_cls != &UjoMapBase_Type) Py_DECREF(map_cls);
	list_cls = (PyTypeObject *)l;
	map_cls = (PyTypeObject *)m;
	return Py_NewRef(Py_None);
}

static PyMethodDef ujo_functions[] = {
	{"read_buffer", m_read_buffer, METH_O, "read_buffer(data) -> UjoList | UjoMap of a UJO document"},
	{"write_buffer", m_write_buffer, METH_O, "write_buffer(variant) -> bytes of a UJO document"},
	{"ujo_to_python", m_ujo_to_python, METH_O, "ujo_to_python(variant) -> plain Python value"},
	{"python_to_ujo", m_python_to_ujo, METH_O, "python_to_ujo(value) -> Ujo object (titanfe rules)"},
	{"py_to_ujo_bytes", m_py_to_ujo_bytes, METH_O, "py_to_ujo_bytes(mapping_or_sequence) -> UJO document"},
	{"ujo_bytes_to_py", m_ujo_bytes_to_py, METH_O, "ujo_bytes_to_py(data) -> plain Python value"},
	{"decode", PY_FN(m_decode), METH_VARARGS | METH_KEYWORDS, "decode(bare_value, plain=False)"},
	{"encode", m_encode, METH_O, "encode(value) -> bytes of one bare UJO value"},
	{"is_raw", m_is_raw, METH_O, "is_raw(container) -> True while not decoded yet"},
	{"_register", m_register, METH_VARARGS, NULL},
	{NULL, NULL, 0, NULL},
};

static int add_int_attr(PyTypeObject *t, const char *name, long v)
{
	PyObject *o = PyLong_FromLong(v);
	if (!o) return -1;
	int rc = PyDict_SetItemString(t->tp_dict, name, o);
	Py_DECREF(o);
	return rc;
}

int pyujo_add_to_module(PyObject *m)
{
	PyDateTime_IMPORT;
	if (!PyDateTimeAPI) return -1;
	PyObject *abc = PyImport_ImportModule("collections.abc");
	if (!abc) return -1;
	abc_sequence = PyObject_GetAttrString(abc, "Sequence");
	abc_mapping = PyObject_GetAttrString(abc, "Mapping");
	Py_DECREF(abc);
	if (!abc_sequence || !abc_mapping) return -1;

	if (PyType_Ready(&UjoBase_Type) < 0) return -1;
	if (add_int_attr(&UjoBase_Type, "variant_type", 0) < 0 || add_int_attr(&UjoBase_Type, "variant_subtype", 0) < 0)
		return -1;
	if (PyModule_AddObjectRef(m, "UjoBase", (PyObject *)&UjoBase_Type) < 0) return -1;
	for (int k = 0; k < NKINDS; k++) {
		PyTypeObject *t = &scalar_types[k];
		*t = (PyTypeObject){
			PyVarObject_HEAD_INIT(NULL, 0)
			.tp_name = kinfo[k].tp_name,
			.tp_basicsize = sizeof(UScalar),
			.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
			.tp_doc = kinfo[k].doc,
			.tp_base = &UjoBase_Type,
			.tp_new = scalar_new,
			.tp_dealloc = scalar_dealloc,
			.tp_hash = scalar_hash,
			.tp_richcompare = scalar_richcompare,
			.tp_repr = scalar_repr,
			.tp_getset = scalar_getset,
			.tp_methods = scalar_methods,
		};
		if (PyType_Ready(t) < 0) return -1;
		if (add_int_attr(t, "variant_type", kinfo[k].type) < 0 ||
		    add_int_attr(t, "variant_subtype", kinfo[k].sub) < 0)
			return -1;
		PyType_Modified(t);
		if (PyModule_AddObjectRef(m, short_name(t), (PyObject *)t) < 0) return -1;
	}
	PyTypeObject *conts[] = {&UjoListBase_Type, &UjoMapBase_Type};
	for (int i = 0; i < 2; i++) {
		if (PyType_Ready(conts[i]) < 0) return -1;
		if (add_int_attr(conts[i], "variant_type", i ? UJO_MAP : UJO_LIST) < 0) return -1;
		PyType_Modified(conts[i]);
		if (PyModule_AddObjectRef(m, short_name(conts[i]), (PyObject *)conts[i]) < 0) return -1;
	}
	none_obj = scalar_from_py(&scalar_types[K_NONE], K_NONE, Py_None);
	if (!none_obj || PyModule_AddObjectRef(m, "UJO_VARIANT_NONE", none_obj) < 0) return -1;
	return PyModule_AddFunctions(m, ujo_functions);
}

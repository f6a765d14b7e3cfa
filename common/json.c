/* json.c — YAML to cJSON and typed look-ups. The rules are in json.h. */
#include "json.h"
#include "err.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

struct conv {
	yaml_document_t *doc;
	const char *name;
	size_t nodes;
	char *err;
	size_t errlen;
};

#define MARK(n) (unsigned long)(n)->start_mark.line + 1, (unsigned long)(n)->start_mark.column + 1

static cJSON *node_error(struct conv *c, const yaml_node_t *n, const char *what)
{
	err_set(c->err, c->errlen, "%s:%lu:%lu: %s", c->name, MARK(n), what);
	return NULL;
}

/* --- scalars ---------------------------------------------------------- */

static bool is_null_text(const char *s)
{
	return *s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static int bool_text(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
		return 1;
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
		return 0;
	return -1;
}

/* Integers: [-+]?[0-9]+, 0x[0-9a-fA-F]+, 0o[0-7]+. */
static bool int_text(const char *s, double *out)
{
	int base = 10;
	const char *p = s;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		p = s + 2;
	} else if (*p == '-' || *p == '+') {
		p++;
	}
	if (*p == '\0')
		return false;
	for (const char *q = p; *q; q++) {
		int ok = base == 16 ? strchr("0123456789abcdefABCDEF", *q) != NULL
				    : (*q >= '0' && *q < (base == 8 ? '8' : ':'));
		if (!ok)
			return false;
	}
	errno = 0;
	*out = base == 10 ? (double)strtoll(s, NULL, 10) : (double)strtoull(p, NULL, base);
	return errno == 0;
}

/* Floats: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_text(const char *s, double *out)
{
	const char *p = s;
	bool digits = false;
	if (*p == '-' || *p == '+')
		p++;
	while (*p >= '0' && *p <= '9')
		p++, digits = true;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits = true;
	if (!digits)
		return false;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return false;
	*out = strtod(s, NULL);
	return isfinite(*out);
}

static cJSON *scalar(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cJSON_CreateString(s);
	double d;
	int b;
	if (is_null_text(s))
		return cJSON_CreateNull();
	if ((b = bool_text(s)) >= 0)
		return cJSON_CreateBool(b);
	if (int_text(s, &d) || float_text(s, &d))
		return cJSON_CreateNumber(d);
	return cJSON_CreateString(s);
}

/* --- containers --------------------------------------------------------- */

static cJSON *convert(struct conv *c, const yaml_node_t *n, unsigned depth);

static cJSON *sequence(struct conv *c, const yaml_node_t *n, unsigned depth)
{
	cJSON *arr = cJSON_CreateArray();
	for (yaml_node_item_t *i = n->data.sequence.items.start; arr && i < n->data.sequence.items.top; i++) {
		cJSON *v = convert(c, yaml_document_get_node(c->doc, *i), depth + 1);
		if (v == NULL) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, v);
	}
	return arr;
}

static int cmp_keys(const void *a, const void *b)
{
	const yaml_node_t *x = *(const yaml_node_t *const *)a, *y = *(const yaml_node_t *const *)b;
	int r = strcasecmp((const char *)x->data.scalar.value, (const char *)y->data.scalar.value);
	/* Tie-break by position so the message names the later key. */
	return r ? r : (x->start_mark.index > y->start_mark.index) - (x->start_mark.index < y->start_mark.index);
}

/* Keys must be scalars, not "<<", and unique ignoring case (the look-ups
 * ignore case, so "Name" and "name" would be ambiguous). Sorting keeps
 * this O(n log n) for hostile documents. */
static cJSON *check_keys(struct conv *c, const yaml_node_t *n)
{
	size_t count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	const yaml_node_t **keys = calloc(count ? count : 1, sizeof *keys);
	if (keys == NULL)
		return node_error(c, n, "out of memory");
	size_t k = 0;
	cJSON *ok = (cJSON *)n; /* any non-NULL marker */
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		if (kn == NULL || kn->type != YAML_SCALAR_NODE) {
			ok = node_error(c, kn ? kn : n, "a mapping key must be a plain value");
			goto out;
		}
		if (strcmp((const char *)kn->data.scalar.value, "<<") == 0) {
			ok = node_error(c, kn, "merge keys (<<) are not supported");
			goto out;
		}
		keys[k++] = kn;
	}
	qsort(keys, k, sizeof *keys, cmp_keys);
	for (size_t i = 1; i < k; i++)
		if (strcasecmp((const char *)keys[i - 1]->data.scalar.value, (const char *)keys[i]->data.scalar.value) == 0) {
			char what[160];
			snprintf(what, sizeof what, "key '%.80s' given twice (also at line %lu)",
				(const char *)keys[i]->data.scalar.value, (unsigned long)keys[i - 1]->start_mark.line + 1);
			ok = node_error(c, keys[i], what);
			goto out;
		}
out:
	free(keys);
	return ok;
}

static cJSON *mapping(struct conv *c, const yaml_node_t *n, unsigned depth)
{
	if (check_keys(c, n) == NULL)
		return NULL;
	cJSON *obj = cJSON_CreateObject();
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; obj && p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		cJSON *v = convert(c, yaml_document_get_node(c->doc, p->value), depth + 1);
		if (v == NULL) {
			cJSON_Delete(obj);
			return NULL;
		}
		cJSON_AddItemToObject(obj, (const char *)kn->data.scalar.value, v);
	}
	return obj;
}

static cJSON *convert(struct conv *c, const yaml_node_t *n, unsigned depth)
{
	if (n == NULL) {
		err_set(c->err, c->errlen, "%s: broken document", c->name);
		return NULL;
	}
	if (depth > JSON_YAML_MAX_DEPTH)
		return node_error(c, n, "nested too deeply");
	if (++c->nodes > JSON_YAML_MAX_NODES)
		return node_error(c, n, "document too large (too many values)");
	cJSON *r = NULL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		r = scalar(n);
		break;
	case YAML_SEQUENCE_NODE:
		return sequence(c, n, depth);
	case YAML_MAPPING_NODE:
		return mapping(c, n, depth);
	default:
		return node_error(c, n, "empty node");
	}
	return r ? r : node_error(c, n, "out of memory");
}

/* --- documents -------------------------------------------------------------- */

static cJSON *parse_error(const yaml_parser_t *p, const char *name, char *err, size_t errlen)
{
	err_set(err, errlen, "%s:%lu:%lu: %s%s%s", name, (unsigned long)p->problem_mark.line + 1,
		(unsigned long)p->problem_mark.column + 1, p->problem ? p->problem : "syntax error",
		p->context ? " " : "", p->context ? p->context : "");
	return NULL;
}

cJSON *json_from_yaml(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
	yaml_parser_t p;
	yaml_document_t doc, more;
	cJSON *r = NULL;
	if (!yaml_parser_initialize(&p)) {
		err_set(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	if (!yaml_parser_load(&p, &doc)) {
		parse_error(&p, name, err, errlen);
		yaml_parser_delete(&p);
		return NULL;
	}
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	struct conv c = {.doc = &doc, .name = name, .err = err, .errlen = errlen};
	r = root ? convert(&c, root, 0) : cJSON_CreateNull();
	if (r != NULL && root != NULL) {
		/* Only one document: a second one would be silently ignored. */
		if (!yaml_parser_load(&p, &more)) {
			parse_error(&p, name, err, errlen);
			cJSON_Delete(r);
			r = NULL;
		} else {
			if (yaml_document_get_root_node(&more) != NULL) {
				err_set(err, errlen, "%s:%lu:1: more than one YAML document", name,
					(unsigned long)yaml_document_get_root_node(&more)->start_mark.line + 1);
				cJSON_Delete(r);
				r = NULL;
			}
			yaml_document_delete(&more);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&p);
	return r;
}

/* --- look-ups ------------------------------------------------------------------ */

const cJSON *json_item(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItem(obj, key) : NULL;
}

const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *it = json_item(obj, key);
	return cJSON_IsString(it) ? it->valuestring : NULL;
}

const char *json_scalar_text(const cJSON *it, char *buf, size_t n)
{
	if (cJSON_IsString(it))
		return it->valuestring;
	if (cJSON_IsBool(it))
		return cJSON_IsTrue(it) ? "true" : "false";
	if (!cJSON_IsNumber(it) || n == 0)
		return NULL;
	double d = it->valuedouble;
	if (d == floor(d) && fabs(d) < 1e15)
		snprintf(buf, n, "%.0f", d);
	else
		snprintf(buf, n, "%.17g", d);
	return buf;
}

bool json_int(const cJSON *it, long long min, long long max, long long *out)
{
	if (!cJSON_IsNumber(it))
		return false;
	double d = it->valuedouble;
	if (d != floor(d) || d < (double)min || d > (double)max)
		return false;
	*out = (long long)d;
	return true;
}

char *json_print(const cJSON *it)
{
	return it ? cJSON_PrintUnformatted(it) : NULL;
}

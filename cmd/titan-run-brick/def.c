/* def.c — the Grid Manager's brick instance description
 * (titanfe-protocol.md §6), parsed once at start-up.
 *
 * Unlike the original (hard [] look-ups: any missing key is a crash,
 * §19 items 24, 25), every required key that is missing is a clear error
 * naming it, and optional ones take the original's documented defaults.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* A string member; def when missing or null; error when another type. */
static int get_str(const cJSON *o, const char *key, const char *def, char **out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v)) {
		if (!def) return fail(err, errlen, "brick definition: Configuration.%s is missing", key);
		*out = strdup(def);
	} else if (cJSON_IsString(v)) {
		*out = strdup(v->valuestring);
	} else if (cJSON_IsNumber(v)) { /* ids sometimes arrive as numbers */
		char num[32];
		snprintf(num, sizeof num, "%.17g", v->valuedouble);
		*out = strdup(num);
	} else {
		return fail(err, errlen, "brick definition: %s is not a string", key);
	}
	return *out ? 0 : fail(err, errlen, "out of memory");
}

static int get_num(const cJSON *o, const char *key, double def, double lo, double hi, double *out, char *err,
		   size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v || cJSON_IsNull(v)) *out = def;
	else if (cJSON_IsNumber(v)) *out = v->valuedouble;
	else return fail(err, errlen, "brick definition: %s is not a number", key);
	if (*out < lo || *out > hi) return fail(err, errlen, "brick definition: %s=%g out of range %g..%g", key, *out, lo, hi);
	return 0;
}

/* Python truthiness of a JSON value: null, false, 0, "", [] and {} are false. */
static bool truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v)) return false;
	if (cJSON_IsNumber(v)) return v->valuedouble != 0;
	if (cJSON_IsString(v)) return v->valuestring[0] != 0;
	if (cJSON_IsArray(v) || cJSON_IsObject(v)) return v->child != NULL;
	return true;
}

static int parse_group(struct rb_group_def *g, const cJSON *c, const char *port, char *err, size_t errlen)
{
	double level;
	if (!cJSON_IsObject(c)) return fail(err, errlen, "brick definition: Outbound.%s has a consumer that is not an object", port);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "InstanceID");
	if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) > TITAN_MAX_NAME)
		return fail(err, errlen, "brick definition: Outbound.%s: a consumer has no InstanceID", port);
	if (get_num(c, "autoscale_queue_level", 0, 0, 1e9, &level, err, errlen)) return -1;
	g->instance_id = strdup(id->valuestring);
	g->autoscale_queue_level = (int)level;
	g->desc = c;
	return g->instance_id ? 0 : fail(err, errlen, "out of memory");
}

static int parse_outbound(struct rb_def *d, const cJSON *out, char *err, size_t errlen)
{
	if (!out || cJSON_IsNull(out)) return 0;
	if (!cJSON_IsObject(out)) return fail(err, errlen, "brick definition: Outbound is not an object");
	d->n_ports = (size_t)cJSON_GetArraySize(out);
	d->ports = calloc(d->n_ports ? d->n_ports : 1, sizeof *d->ports);
	if (!d->ports) return fail(err, errlen, "out of memory");
	size_t i = 0;
	for (const cJSON *p = out->child; p; p = p->next, i++) {
		struct rb_port_def *pd = &d->ports[i];
		if (strlen(p->string) > TITAN_MAX_NAME) return fail(err, errlen, "brick definition: Outbound port name too long");
		pd->name = strdup(p->string);
		if (!pd->name) return fail(err, errlen, "out of memory");
		if (cJSON_IsNull(p)) continue;
		if (!cJSON_IsArray(p)) return fail(err, errlen, "brick definition: Outbound.%s is not a list", p->string);
		pd->n_groups = (size_t)cJSON_GetArraySize(p);
		pd->groups = calloc(pd->n_groups ? pd->n_groups : 1, sizeof *pd->groups);
		if (!pd->groups) return fail(err, errlen, "out of memory");
		size_t k = 0;
		for (const cJSON *c = p->child; c; c = c->next, k++)
			if (parse_group(&pd->groups[k], c, p->string, err, errlen)) return -1;
	}
	return 0;
}

static int parse_config(struct rb_def *d, const cJSON *cfg, char *err, size_t errlen)
{
	double n;
	if (!cJSON_IsObject(cfg)) return fail(err, errlen, "brick definition: Configuration is missing or not an object");
	if (get_str(cfg, "instanceId", NULL, &d->instance_id, err, errlen)) return -1;
	if (get_str(cfg, "brick", NULL, &d->brick, err, errlen)) return -1;
	if (get_str(cfg, "name", d->instance_id, &d->name, err, errlen)) return -1;
	if (get_str(cfg, "id", d->brick, &d->brick_id, err, errlen)) return -1;
	if (get_str(cfg, "family", "General", &d->family, err, errlen)) return -1;
	if (strlen(d->instance_id) > TITAN_MAX_NAME || !d->instance_id[0])
		return fail(err, errlen, "brick definition: Configuration.instanceId is empty or too long");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(cfg, "parameters");
	if (params && !cJSON_IsNull(params) && !cJSON_IsObject(params))
		return fail(err, errlen, "brick definition: Configuration.parameters is not an object");
	d->params_json = params && !cJSON_IsNull(params) ? cJSON_PrintUnformatted(params) : strdup("{}");
	if (!d->params_json) return fail(err, errlen, "out of memory");
	if (get_num(cfg, "autoscale_max_instances", 1, 0, 1e6, &n, err, errlen)) return -1;
	d->autoscale_max_instances = (int)n;
	if (get_num(cfg, "autoscale_queue_level", 25, 0, 1e9, &n, err, errlen)) return -1;
	d->autoscale_queue_level = (int)n;
	return get_num(cfg, "exit_after_idle_seconds", 0, 0, 1e9, &d->exit_after_idle, err, errlen);
}

int rb_def_parse(struct rb_def *d, const char *json, size_t len, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	const char *end = NULL;
	d->root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (!d->root) return fail(err, errlen, "brick definition: not valid JSON near byte %zu", end ? (size_t)(end - json) : 0);
	while (end < json + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')) end++;
	if (end < json + len) return fail(err, errlen, "brick definition: unexpected text after the JSON object at byte %zu", (size_t)(end - json));
	const cJSON *top = d->root;
	const cJSON *wrapped = cJSON_GetObjectItemCaseSensitive(top, "brick");
	if (cJSON_IsObject(wrapped) && !cJSON_GetObjectItemCaseSensitive(top, "Configuration")) top = wrapped;
	if (!cJSON_IsObject(top)) return fail(err, errlen, "brick definition: not a JSON object");
	if (parse_config(d, cJSON_GetObjectItemCaseSensitive(top, "Configuration"), err, errlen)) return -1;
	if (get_str(top, "FlowID", "", &d->flow_id, err, errlen)) return -1;
	if (get_str(top, "FlowName", "", &d->flow_name, err, errlen)) return -1;
	d->is_inlet = !truthy(cJSON_GetObjectItemCaseSensitive(top, "Inbound"));
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(top, "Outbound");
	d->is_outlet = !truthy(out);
	return parse_outbound(d, out, err, errlen);
}

void rb_def_free(struct rb_def *d)
{
	for (size_t i = 0; i < d->n_ports; i++) {
		for (size_t k = 0; k < d->ports[i].n_groups; k++) free(d->ports[i].groups[k].instance_id);
		free(d->ports[i].groups);
		free(d->ports[i].name);
	}
	free(d->ports);
	free(d->instance_id);
	free(d->name);
	free(d->brick);
	free(d->brick_id);
	free(d->family);
	free(d->params_json);
	free(d->flow_id);
	free(d->flow_name);
	cJSON_Delete(d->root);
	memset(d, 0, sizeof *d);
}

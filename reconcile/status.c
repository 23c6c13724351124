/*
 * status.c - a MailDomain's status object (status.h): the three conditions, their
 * reasons and messages, transition times kept while a status holds, capped findings.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "reconcile/status.h"

void zw_rfc3339(char *out, size_t outsz, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const cJSON *find_condition(const cJSON *status, const char *type)
{
	const cJSON *conds = status ? cJSON_GetObjectItemCaseSensitive(status, "conditions") : NULL, *c;
	cJSON_ArrayForEach(c, conds)
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "type");
		if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0)
			return c;
	}
	return NULL;
}

const char *zw_status_condition(const cJSON *status, const char *type)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(find_condition(status, type), "status");
	return cJSON_IsString(s) ? s->valuestring : NULL;
}

struct cond {
	const char *type, *status, *reason;
	char message[1024];
};

static int add_condition(cJSON *list, const struct cond *c, long long gen, const cJSON *prev, const char *now)
{
	const cJSON *old = find_condition(prev, c->type);
	const cJSON *os = cJSON_GetObjectItemCaseSensitive(old, "status");
	const cJSON *ot = cJSON_GetObjectItemCaseSensitive(old, "lastTransitionTime");
	/* the transition time moves only when the status flips */
	const char *when = cJSON_IsString(os) && strcmp(os->valuestring, c->status) == 0 && cJSON_IsString(ot)
				   ? ot->valuestring
				   : now;
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(list, o))
		return -1;
	return !cJSON_AddStringToObject(o, "type", c->type) ||
			       !cJSON_AddStringToObject(o, "status", c->status) ||
			       !cJSON_AddNumberToObject(o, "observedGeneration", (double)gen) ||
			       !cJSON_AddStringToObject(o, "lastTransitionTime", when) ||
			       !cJSON_AddStringToObject(o, "reason", c->reason) ||
			       !cJSON_AddStringToObject(o, "message", c->message)
		       ? -1
		       : 0;
}

static void set(struct cond *c, const char *status, const char *reason, const char *fmt, const char *arg)
{
	c->status = status;
	c->reason = reason;
	snprintf(c->message, sizeof(c->message), fmt, arg ? arg : "");
}

cJSON *zw_status_build(const struct zw_status_input *in, const cJSON *prev, const char *now)
{
	struct cond deleg = {.type = "Delegated"}, sync = {.type = "InSync"}, ready = {.type = "Ready"};
	size_t serious = 0, n = in->findings ? in->findings->n : 0;
	const struct zw_finding *first = NULL;
	for (size_t i = 0; i < n; i++)
		if (in->findings->v[i].sev >= ZW_SEV_ERROR && serious++ == 0)
			first = &in->findings->v[i];

	if (in->invalid) {
		set(&deleg, "Unknown", "InvalidSpec", "%s", in->invalid);
		set(&sync, "Unknown", "InvalidSpec", "%s", in->invalid);
	} else if (in->provider_error) {
		set(&deleg, "Unknown", "ProviderError", "%s", in->provider_error);
		set(&sync, "False", "ProviderError", "%s", in->provider_error);
	} else if (in->not_delegated) {
		set(&deleg, "False", "NotDelegated", "%s", in->not_delegated);
		set(&sync, "False", "NotDelegated",
		    "nothing is written until the parent delegates to the provider%s", NULL);
	} else {
		set(&deleg, "True", "Delegated", "the parent delegates to the provider's servers%s", NULL);
		if (in->pending) {
			char msg[128];
			snprintf(msg, sizeof(msg), "%zu change%s pending%s", in->pending,
				 in->pending == 1 ? "" : "s",
				 in->dry_run ? " (dry run: nothing is written)" : "");
			set(&sync, "False", "ChangesPending", "%s", msg);
		} else if (in->verify_timed_out) {
			set(&sync, "False", "VerifyPending",
			    "the changes are applied but not yet visible on every delegated server%s", NULL);
		} else {
			set(&sync, "True", "RecordsInSync", "the provider holds every declared record%s",
			    NULL);
		}
	}
	if (in->deleting) {
		if (in->provider_error)
			set(&ready, "False", "Deleting", "the resource is being deleted; cleanup failed: %s",
			    in->provider_error);
		else
			set(&ready, "False", "Deleting", "the resource is being deleted%s", NULL);
	} else if (strcmp(deleg.status, "True") != 0) {
		ready.status = "False";
		ready.reason = deleg.reason;
		memcpy(ready.message, deleg.message, sizeof(ready.message));
	} else if (strcmp(sync.status, "True") != 0) {
		ready.status = "False";
		ready.reason = sync.reason;
		memcpy(ready.message, sync.message, sizeof(ready.message));
	} else if (serious) {
		ready.status = "False";
		ready.reason = "FindingsPresent";
		snprintf(ready.message, sizeof(ready.message),
			 "%zu finding%s at error or above; first: %s %s", serious, serious == 1 ? "" : "s",
			 first->cls->id, first->message ? first->message : "");
	} else {
		set(&ready, "True", "RecordsInSync", "in sync, delegated, no finding at error or above%s",
		    NULL);
	}

	cJSON *st = cJSON_CreateObject(), *conds = NULL, *fl = NULL;
	if (!st || !cJSON_AddNumberToObject(st, "observedGeneration", (double)in->generation) ||
	    !(conds = cJSON_AddArrayToObject(st, "conditions")))
		goto oom;
	if (add_condition(conds, &ready, in->generation, prev, now) ||
	    add_condition(conds, &deleg, in->generation, prev, now) ||
	    add_condition(conds, &sync, in->generation, prev, now))
		goto oom;
	if (!(fl = cJSON_AddArrayToObject(st, "findings")))
		goto oom;
	for (size_t i = 0; i < n && i < ZW_STATUS_MAX_FINDINGS; i++) {
		const struct zw_finding *f = &in->findings->v[i];
		cJSON *o = cJSON_CreateObject();
		if (!o || !cJSON_AddItemToArray(fl, o) || !cJSON_AddStringToObject(o, "id", f->cls->id) ||
		    !cJSON_AddStringToObject(o, "code", f->cls->code) ||
		    !cJSON_AddStringToObject(o, "severity", zw_severity_name(f->sev)) ||
		    (f->name && !cJSON_AddStringToObject(o, "name", f->name)) ||
		    (f->message && f->message[0] && !cJSON_AddStringToObject(o, "message", f->message)))
			goto oom;
	}
	if (!cJSON_AddNumberToObject(st, "findingsCount", (double)n) ||
	    !cJSON_AddNumberToObject(st, "pendingChanges", (double)in->pending))
		goto oom;
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(prev, "lastApplyTime");
	const char *when = in->last_apply_time	  ? in->last_apply_time
			   : cJSON_IsString(last) ? last->valuestring
						  : NULL;
	if (when && !cJSON_AddStringToObject(st, "lastApplyTime", when))
		goto oom;
	return st;
oom:
	cJSON_Delete(st);
	return NULL;
}

/*
 * route53.c - the Route 53 provider (API 2013-04-01, REST-XML, SigV4 us-east-1/route53).
 *
 * find_zone: ListHostedZonesByName from the domain up; private zones are skipped; two
 *   public zones of one name are ambiguous (DL-09): the error lists each id with its
 *   name servers, and route53.hostedZoneId picks one. nameservers: GetHostedZone's
 *   DelegationSet (cached from find_zone when it already asked). list:
 *   ListResourceRecordSets, 300 per page, failing when a page does not advance. apply:
 *   one atomic ChangeBatch when it fits (<= 1000 records, <= 32 000 value characters,
 *   UPSERT counted twice), else batches split by name, each reported on its changes.
 *   CREATE -> CREATE, UPDATE -> UPSERT of the whole rrset (foreign values included: the
 *   plan's `after` carries them), DELETE -> DELETE of exactly what the plan saw.
 *
 * Credentials, in botocore's order: the environment, web identity (STS
 * AssumeRoleWithWebIdentity, unsigned, refreshed five minutes before expiry, the token
 * file re-read each time), the shared files. With route53.assumeRoleArn, STS AssumeRole
 * (signed with those, service sts, the region's endpoint) gives the credentials that
 * sign the Route 53 calls, renewed the same way. The secret key and the session token are
 * registered with the core's redaction before any request and never written anywhere.
 * Endpoints: AWS_ENDPOINT_URL_ROUTE_53, AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL.
 *
 * Waiting for INSYNC is optional: the waitInsync setting (--wait-insync), else
 * $ZONEWARDEN_ROUTE53_WAIT_INSYNC (seconds, 0 or unset:
 * no wait) makes apply poll GetChange every $ZONEWARDEN_ROUTE53_INSYNC_INTERVAL seconds
 * (10) after each batch whose ChangeInfo is still PENDING, until INSYNC or the time is up
 * (a warning, not a failure). The environment is the interim switch until the ABI
 * carries a --wait-insync setting.
 *
 * Retries are the core's: this file only classifies (Throttling and
 * PriorRequestNotComplete, both HTTP 400, are rate errors; InvalidChangeBatch a
 * conflict; 5xx and dropped connections the core's transient). A batch of UPSERTs only
 * is marked replay-safe.
 *
 * Tests only: $ZW_R53_CAPTURE_DIR, when set, receives every request (POST bodies as
 * PID-NNNN-OPERATION.xml, GET URLs as PID-NNNN-OPERATION.get, STS calls as an empty
 * PID-NNNN-AssumeRoleWithWebIdentity.sts) so the tests can check each body against
 * botocore's model and count the calls; $ZW_R53_TEST_REFRESH_BEFORE (seconds) moves the
 * web identity refresh margin so a test can see the credentials renewed.
 *
 * Opt-in delegation fix (r53_fix_delegation): Route 53 Domains UpdateDomainNameservers
 * (JSON 1.1, SigV4 service route53domains, X-Amz-Target signed) sets the registration's
 * name servers to the hosted zone's DelegationSet: the ABI's fix_delegation, called by
 * apply when the MailDomain says fixDelegation: true or --fix-delegation is given.
 *
 * Owns: its state (struct r53), freed in r53_close. One state serves one thread at a
 * time (the name-server cache, the credentials and their renewal live in it).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "providers/route53/r53.h"

#define PAGE		300
#define MAX_PAGES	100000
#define MAX_ZONES	100
#define MAX_NS		16
#define REFRESH_BEFORE	300 /* seconds before expiry when web identity credentials are renewed */
#define MAX_FILE	(256 * 1024)
#define INSYNC_INTERVAL 10 /* seconds between GetChange polls (botocore's waiter: 30) */

struct r53 {
	const struct zw_prov_host *host;
	const struct zw_prov_http *http;
	char endpoint[512];
	char sts_endpoint[512];
	char domains_endpoint[512];
	char account[192];
	char zone_id[64];	  /* route53.hostedZoneId */
	struct r53_creds creds;	  /* the chain's */
	struct r53_creds assumed; /* route53.assumeRoleArn's, when set: these sign Route 53 calls */
	char assume_arn[512];
	char sts_region[64];
	int web; /* credentials come from web identity: refresh them */
	char role_arn[512], token_file[1024], session_name[128];
	char capture[512];
	unsigned captured;
	long refresh_before;  /* seconds; REFRESH_BEFORE but in tests */
	long wait_insync;     /* seconds to wait for INSYNC after a batch; 0: do not */
	long insync_interval; /* seconds between GetChange polls */
	char ns_zone[64];     /* the zone whose name servers are cached */
	char ns[MAX_NS][256];
	size_t nns;
};

static const struct zw_prov_option r53_options[] = {
	{"region", ZW_POPT_STRING, NULL, 0, 0, 0},
	{"assumeRoleArn", ZW_POPT_STRING, NULL, 0, 0, 0},
	{"hostedZoneId", ZW_POPT_STRING, NULL, 0, 0, 0},
	{"waitInsync", ZW_POPT_INT, NULL, 0, 3600, 0}, /* seconds; also --wait-insync */
	{NULL, ZW_POPT_STRING, NULL, 0, 0, 0},
};

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* The whole file into b (bounded); ENOTFOUND when it does not exist. */
static int read_file(struct r53_buf *b, const char *path)
{
	char chunk[4096];
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? ZW_PROV_ENOTFOUND : ZW_PROV_EIO;
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (r53_buf_add(b, chunk, n))
			break;
	int bad = ferror(f);
	fclose(f);
	if (b->oom)
		return ZW_PROV_ENOMEM;
	if (bad)
		return ZW_PROV_EIO;
	return r53_buf_add(b, "", 0);
}

/* ---- one API call ------------------------------------------------------------------------ */

/* A Route 53 error code -> the ABI's code; anything else keeps the status mapping. */
static const struct {
	const char *code;
	int err;
} error_codes[] = {
	{"Throttling", ZW_PROV_ERATE},
	{"ThrottlingException", ZW_PROV_ERATE},
	{"RequestLimitExceeded", ZW_PROV_ERATE},
	{"PriorRequestNotComplete", ZW_PROV_ERATE},
	{"InvalidChangeBatch", ZW_PROV_ECONFLICT},
	{"NoSuchHostedZone", ZW_PROV_ENOTFOUND},
	{"NoSuchChange", ZW_PROV_ENOTFOUND},
	{"InvalidInput", ZW_PROV_EINVAL},
	{"AccessDenied", ZW_PROV_EAUTH},
	{"SignatureDoesNotMatch", ZW_PROV_EAUTH},
	{"InvalidClientTokenId", ZW_PROV_EAUTH},
	{"ExpiredToken", ZW_PROV_EAUTH},
	{"InvalidIdentityToken", ZW_PROV_EAUTH},
};

static int classify(void *cctx, const struct zw_prov_http_resp *resp, uint64_t *retry_after_ms)
{
	const struct r53 *r = cctx;
	char code[128], msg[16];
	(void)retry_after_ms;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	if (resp->status >= 400 && resp->status < 500) {
		r53_parse_error(code, sizeof(code), msg, sizeof(msg), resp->body, resp->body_len);
		for (size_t i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++)
			if (strcmp(code, error_codes[i].code) == 0)
				return error_codes[i].err;
	}
	return r->http->status_error(resp->status);
}

static void capture(struct r53 *r, const char *op, const char *url, const char *body, size_t len)
{
	char path[640];
	if (!r->capture[0])
		return;
	snprintf(path, sizeof(path), "%s/%ld-%04u-%s.%s", r->capture, (long)getpid(), ++r->captured, op,
		 body  ? "xml"
		 : url ? "get"
		       : "sts");
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	if (body)
		fwrite(body, 1, len, f);
	else if (url)
		fprintf(f, "%s\n", url);
	fclose(f);
}

static int fresh(struct r53 *r, struct zw_prov_error *err);

/* Sign and send one request; on failure err says "OPERATION: Code: Message". The caller
 * releases resp. */
static int call(struct r53 *r, const char *method, const char *op, const char *url, const char *body,
		size_t len, int replay_safe, struct zw_prov_http_resp *resp, struct zw_prov_error *err)
{
	char amzdate[17], auth[1024], h_date[64], h_auth[1100], h_token[4200];
	const char *headers[4];
	size_t nh = 0;
	int rc;
	memset(resp, 0, sizeof(*resp));
	resp->body = "";
	if ((rc = fresh(r, err)))
		return rc;
	const struct r53_creds *k = r->assume_arn[0] ? &r->assumed : &r->creds;
	r53_amzdate(amzdate, time(NULL));
	struct r53_sigreq sr = {method,	 url,	    body,     len,	   "text/xml", amzdate,
				k->akid, k->secret, k->token, "us-east-1", "route53",  NULL};
	if (r53_sigv4(auth, sizeof(auth), &sr))
		return zw_prov_fail(err, ZW_PROV_EINVAL, "%s: cannot sign the request", op);
	snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", amzdate);
	snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
	headers[nh++] = h_date;
	headers[nh++] = h_auth;
	if (body && len)
		headers[nh++] = "Content-Type: text/xml";
	if (k->token[0]) {
		snprintf(h_token, sizeof(h_token), "X-Amz-Security-Token: %s", k->token);
		headers[nh++] = h_token;
	}
	capture(r, op, url, body, len);
	struct zw_prov_http_req req = {method, url,	   headers,	nh,	  body,
				       len,    r->account, replay_safe, classify, r};
	rc = r->http->request(r->http->ctx, &req, resp, err);
	memset(h_token, 0, sizeof(h_token));
	if (rc && resp->status) {
		char code[128], msg[400];
		r53_parse_error(code, sizeof(code), msg, sizeof(msg), resp->body, resp->body_len);
		zw_prov_fail(err, rc, "%s: %s%s%s (http %ld, %u attempt%s)", op, code[0] ? code : "error",
			     msg[0] ? ": " : "", msg, resp->status, resp->attempts,
			     resp->attempts == 1 ? "" : "s");
	} else if (rc) {
		char inner[sizeof(err->msg)];
		snprintf(inner, sizeof(inner), "%s", err->msg);
		zw_prov_fail(err, rc, "%s: %s", op, inner);
	}
	return rc;
}

/* ---- credentials ------------------------------------------------------------------------- */

static int register_secrets(struct r53 *r, const struct r53_creds *c, struct zw_prov_error *err)
{
	int rc = r->http->secret(r->http->ctx, c->secret, err);
	if (rc == 0 && c->token[0])
		rc = r->http->secret(r->http->ctx, c->token, err);
	return rc;
}

/* AssumeRoleWithWebIdentity (unsigned, form body), the token file read afresh. */
static int sts_refresh(struct r53 *r, struct zw_prov_error *err)
{
	struct r53_buf token, body;
	struct zw_prov_http_resp resp;
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded"};
	int rc;
	r53_buf_init(&token, r->host, 64 * 1024);
	r53_buf_init(&body, r->host, 256 * 1024);
	memset(&resp, 0, sizeof(resp));
	if ((rc = read_file(&token, r->token_file))) {
		zw_prov_fail(err, rc == ZW_PROV_ENOMEM ? rc : ZW_PROV_EAUTH,
			     "web identity: cannot read the token file %s", r->token_file);
		rc = err->code;
		goto out;
	}
	while (token.len && (token.p[token.len - 1] == '\n' || token.p[token.len - 1] == '\r' ||
			     token.p[token.len - 1] == ' '))
		token.p[--token.len] = '\0';
	if (!token.len) {
		rc = zw_prov_fail(err, ZW_PROV_EAUTH, "web identity: the token file %s is empty",
				  r->token_file);
		goto out;
	}
	if ((rc = r->http->secret(r->http->ctx, token.p, err)))
		goto out;
	r53_buf_adds(&body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=");
	r53_uri_encode(&body, r->role_arn);
	r53_buf_adds(&body, "&RoleSessionName=");
	r53_uri_encode(&body, r->session_name);
	r53_buf_adds(&body, "&WebIdentityToken=");
	if (r53_uri_encode(&body, token.p) || body.oom) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "web identity: out of memory");
		goto out;
	}
	struct zw_prov_http_req req = {"POST",	 r->sts_endpoint, headers, 1,	 body.p,
				       body.len, "sts",		  0,	   NULL, NULL};
	capture(r, "AssumeRoleWithWebIdentity", NULL, NULL, 0);
	if ((rc = r->http->request(r->http->ctx, &req, &resp, err))) {
		char code[128], msg[300];
		r53_parse_error(code, sizeof(code), msg, sizeof(msg), resp.body, resp.body_len);
		if (resp.status)
			zw_prov_fail(err, rc,
				     "web identity: sts assumerolewithwebidentity for %s: %s %s (http %ld)",
				     r->role_arn, code, msg, resp.status);
		goto out;
	}
	struct r53_creds c = {0};
	if ((rc = r53_parse_sts(&c, resp.body, resp.body_len, err)))
		goto out;
	snprintf(c.source, sizeof(c.source), "web identity");
	r->creds = c;
	rc = register_secrets(r, &r->creds, err);
out:
	if (resp.impl)
		r->http->release(r->http->ctx, &resp);
	if (token.p)
		memset(token.p, 0, token.len);
	r53_buf_free(&token);
	r53_buf_free(&body);
	return rc;
}

/* STS AssumeRole (route53.assumeRoleArn), signed with the chain's credentials; the
 * Route 53 calls are then signed with the role's. */
static int assume_role(struct r53 *r, struct zw_prov_error *err)
{
	struct r53_buf body;
	struct zw_prov_http_resp resp;
	char amzdate[17], auth[1024], h_date[64], h_auth[1100], h_token[4200];
	const char *headers[4] = {"Content-Type: application/x-www-form-urlencoded", h_date, h_auth, h_token};
	const struct r53_creds *b = &r->creds;
	int rc;
	memset(&resp, 0, sizeof(resp));
	r53_buf_init(&body, r->host, 8192);
	r53_buf_adds(&body, "Action=AssumeRole&Version=2011-06-15&RoleArn=");
	r53_uri_encode(&body, r->assume_arn);
	r53_buf_adds(&body, "&RoleSessionName=zonewarden&DurationSeconds=3600");
	if (body.oom) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "assume role: out of memory");
		goto out;
	}
	r53_amzdate(amzdate, time(NULL));
	struct r53_sigreq sr = {"POST",
				r->sts_endpoint,
				body.p,
				body.len,
				"application/x-www-form-urlencoded",
				amzdate,
				b->akid,
				b->secret,
				b->token,
				r->sts_region,
				"sts",
				NULL};
	if (r53_sigv4(auth, sizeof(auth), &sr)) {
		rc = zw_prov_fail(err, ZW_PROV_EINVAL, "assume role: cannot sign the request");
		goto out;
	}
	snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", amzdate);
	snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
	snprintf(h_token, sizeof(h_token), "X-Amz-Security-Token: %s", b->token);
	struct zw_prov_http_req req = {
		"POST", r->sts_endpoint, headers, b->token[0] ? 4 : 3, body.p, body.len, "sts", 0, NULL,
		NULL};
	capture(r, "AssumeRole", NULL, NULL, 0);
	rc = r->http->request(r->http->ctx, &req, &resp, err);
	memset(h_token, 0, sizeof(h_token));
	if (rc) {
		char code[128], msg[300];
		r53_parse_error(code, sizeof(code), msg, sizeof(msg), resp.body, resp.body_len);
		if (resp.status)
			zw_prov_fail(err, rc, "assume role %.200s: sts: %s %s (http %ld)", r->assume_arn,
				     code, msg, resp.status);
		goto out;
	}
	struct r53_creds c = {0};
	if ((rc = r53_parse_sts(&c, resp.body, resp.body_len, err)))
		goto out;
	snprintf(c.source, sizeof(c.source), "assumed role");
	r->assumed = c;
	rc = register_secrets(r, &r->assumed, err);
out:
	if (resp.impl)
		r->http->release(r->http->ctx, &resp);
	r53_buf_free(&body);
	return rc;
}

/* Credentials that expire (web identity, an assumed role) renewed before they do. */
static int fresh(struct r53 *r, struct zw_prov_error *err)
{
	time_t now = time(NULL);
	int rc;
	if (r->web && now + r->refresh_before >= r->creds.expires && (rc = sts_refresh(r, err)))
		return rc;
	if (r->assume_arn[0] && now + r->refresh_before >= r->assumed.expires && (rc = assume_role(r, err)))
		return rc;
	return 0;
}

/* The chain: environment, web identity (environment or profile), shared files. */
static int load_creds(struct r53 *r, struct zw_prov_error *err)
{
	const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
	const char *home = env("HOME");
	const char *profile = env("AWS_PROFILE") ? env("AWS_PROFILE") : env("AWS_DEFAULT_PROFILE");
	char cpath[1024], fpath[1024];
	struct r53_buf cred, conf;
	int rc = 0;
	if (!profile)
		profile = "default";
	if (ak && sk) {
		if (strlen(ak) >= sizeof(r->creds.akid) || strlen(sk) >= sizeof(r->creds.secret) ||
		    (env("AWS_SESSION_TOKEN") && strlen(env("AWS_SESSION_TOKEN")) >= sizeof(r->creds.token)))
			return zw_prov_fail(err, ZW_PROV_EAUTH,
					    "the aws credentials in the environment are too long");
		snprintf(r->creds.akid, sizeof(r->creds.akid), "%s", ak);
		snprintf(r->creds.secret, sizeof(r->creds.secret), "%s", sk);
		snprintf(r->creds.token, sizeof(r->creds.token), "%s",
			 env("AWS_SESSION_TOKEN") ? env("AWS_SESSION_TOKEN") : "");
		snprintf(r->creds.source, sizeof(r->creds.source), "environment");
		return register_secrets(r, &r->creds, err);
	}
	snprintf(cpath, sizeof(cpath), "%s%s",
		 env("AWS_SHARED_CREDENTIALS_FILE") ? env("AWS_SHARED_CREDENTIALS_FILE")
		 : home				    ? home
						    : "",
		 env("AWS_SHARED_CREDENTIALS_FILE") ? "" : "/.aws/credentials");
	snprintf(fpath, sizeof(fpath), "%s%s",
		 env("AWS_CONFIG_FILE") ? env("AWS_CONFIG_FILE")
		 : home			? home
					: "",
		 env("AWS_CONFIG_FILE") ? "" : "/.aws/config");
	r53_buf_init(&cred, r->host, MAX_FILE);
	r53_buf_init(&conf, r->host, MAX_FILE);
	int rc1 = read_file(&cred, cpath), rc2 = read_file(&conf, fpath);
	if (rc1 == ZW_PROV_ENOMEM || rc2 == ZW_PROV_ENOMEM) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		goto out;
	}
	const char *role = env("AWS_ROLE_ARN"), *tfile = env("AWS_WEB_IDENTITY_TOKEN_FILE");
	char prole[512] = "", pfile[1024] = "", section[192];
	snprintf(section, sizeof(section), "%s%s", strcmp(profile, "default") ? "profile " : "", profile);
	if (!(role && tfile) && rc2 == 0 &&
	    r53_ini_get(prole, sizeof(prole), conf.p, section, "role_arn") == 0 &&
	    r53_ini_get(pfile, sizeof(pfile), conf.p, section, "web_identity_token_file") == 0) {
		role = prole;
		tfile = pfile;
	}
	if (role && tfile) {
		r->web = 1;
		snprintf(r->role_arn, sizeof(r->role_arn), "%s", role);
		snprintf(r->token_file, sizeof(r->token_file), "%s", tfile);
		snprintf(r->session_name, sizeof(r->session_name), "%s",
			 env("AWS_ROLE_SESSION_NAME") ? env("AWS_ROLE_SESSION_NAME") : "zonewarden");
		rc = sts_refresh(r, err);
		goto out;
	}
	if (r53_creds_from_ini(&r->creds, rc1 == 0 ? cred.p : NULL, rc2 == 0 ? conf.p : NULL, profile) == 0) {
		rc = register_secrets(r, &r->creds, err);
		goto out;
	}
	rc = zw_prov_fail(
		err, ZW_PROV_EAUTH,
		"no aws credentials: tried the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), web "
		"identity "
		"(AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) and the shared files %.200s and %.200s "
		"(profile %.60s)",
		cpath, fpath, profile);
out:
	if (cred.p)
		memset(cred.p, 0, cred.len);
	r53_buf_free(&cred);
	r53_buf_free(&conf);
	return rc;
}

/* ---- open and close ---------------------------------------------------------------------- */

static void endpoint_of(char *out, size_t outsz, const char *specific, const char *def)
{
	const char *v = env(specific)		  ? env(specific)
			: env("AWS_ENDPOINT_URL") ? env("AWS_ENDPOINT_URL")
						  : def;
	snprintf(out, outsz, "%s", v);
	size_t n = strlen(out);
	while (n > 0 && out[n - 1] == '/')
		out[--n] = '\0';
}

static int r53_open(void **state, const struct zw_prov_host *host, const struct zw_prov_settings *s,
		    struct zw_prov_error *err)
{
	const char *zone = s->get(s, "hostedZoneId"), *region = s->get(s, "region");
	char sts_def[128];
	int rc;
	*state = NULL;
	if (!host->http)
		return zw_prov_fail(err, ZW_PROV_EUNSUPPORTED, "the core lends no http client");
	struct r53 *r = host->alloc(sizeof(*r));
	if (!r)
		return zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
	memset(r, 0, sizeof(*r));
	r->host = host;
	r->http = host->http;
	if (!region)
		region = env("AWS_REGION") ? env("AWS_REGION") : env("AWS_DEFAULT_REGION");
	snprintf(r->sts_region, sizeof(r->sts_region), "%.60s", region ? region : "us-east-1");
	if (s->get(s, "assumeRoleArn"))
		snprintf(r->assume_arn, sizeof(r->assume_arn), "%s", s->get(s, "assumeRoleArn"));
	if (region)
		snprintf(sts_def, sizeof(sts_def), "https://sts.%.60s.amazonaws.com", region);
	else
		snprintf(sts_def, sizeof(sts_def), "https://sts.amazonaws.com");
	endpoint_of(r->endpoint, sizeof(r->endpoint), "AWS_ENDPOINT_URL_ROUTE_53",
		    "https://route53.amazonaws.com");
	endpoint_of(r->sts_endpoint, sizeof(r->sts_endpoint), "AWS_ENDPOINT_URL_STS", sts_def);
	endpoint_of(r->domains_endpoint, sizeof(r->domains_endpoint), "AWS_ENDPOINT_URL_ROUTE_53_DOMAINS",
		    "https://route53domains.us-east-1.amazonaws.com");
	size_t n = strlen(r->sts_endpoint);
	if (n + 1 < sizeof(r->sts_endpoint)) {
		r->sts_endpoint[n] = '/';
		r->sts_endpoint[n + 1] = '\0';
	}
	if (zone) {
		const char *slash = strrchr(zone, '/');
		snprintf(r->zone_id, sizeof(r->zone_id), "%s", slash ? slash + 1 : zone);
	}
	if (env("ZW_R53_CAPTURE_DIR"))
		snprintf(r->capture, sizeof(r->capture), "%s", env("ZW_R53_CAPTURE_DIR"));
	r->wait_insync = s->get(s, "waitInsync") ? strtol(s->get(s, "waitInsync"), NULL, 10)
			 : env("ZONEWARDEN_ROUTE53_WAIT_INSYNC")
				 ? strtol(env("ZONEWARDEN_ROUTE53_WAIT_INSYNC"), NULL, 10)
				 : 0;
	r->insync_interval = env("ZONEWARDEN_ROUTE53_INSYNC_INTERVAL")
				     ? strtol(env("ZONEWARDEN_ROUTE53_INSYNC_INTERVAL"), NULL, 10)
				     : INSYNC_INTERVAL;
	if (r->insync_interval < 0 || r->insync_interval > 300)
		r->insync_interval = INSYNC_INTERVAL;
	r->refresh_before = env("ZW_R53_TEST_REFRESH_BEFORE")
				    ? strtol(env("ZW_R53_TEST_REFRESH_BEFORE"), NULL, 10)
				    : REFRESH_BEFORE;
	if ((rc = load_creds(r, err)) || (r->assume_arn[0] && (rc = assume_role(r, err))))
		goto bad;
	snprintf(r->account, sizeof(r->account), "route53:%.160s",
		 r->assume_arn[0] ? r->assume_arn
		 : r->web	  ? r->role_arn
				  : r->creds.akid);
	/* Route 53's account bucket refills at 10/s; stay at half of it */
	if ((rc = r->http->budget(r->http->ctx, r->account, 5, 1000, 10, err)))
		goto bad;
	*state = r;
	return 0;
bad:
	memset(&r->creds, 0, sizeof(r->creds));
	memset(&r->assumed, 0, sizeof(r->assumed));
	host->free(r);
	return rc;
}

static void r53_close(void *state)
{
	struct r53 *r = state;
	if (!r)
		return;
	memset(&r->creds, 0, sizeof(r->creds));
	memset(&r->assumed, 0, sizeof(r->assumed));
	r->host->free(r);
}

/* ---- zones ------------------------------------------------------------------------------- */

/* GetHostedZone: the zone and its DelegationSet, cached for nameservers. */
static int get_zone(struct r53 *r, const char *id, struct r53_zone *z, struct zw_prov_error *err)
{
	char url[700];
	struct zw_prov_http_resp resp;
	snprintf(url, sizeof(url), "%s/2013-04-01/hostedzone/%s", r->endpoint, id);
	int rc = call(r, "GET", "GetHostedZone", url, NULL, 0, 0, &resp, err);
	if (rc == 0 && r53_parse_hosted_zone(z, r->ns, MAX_NS, &r->nns, resp.body, resp.body_len))
		rc = zw_prov_fail(err, ZW_PROV_EIO, "GetHostedZone %s: the answer is not a hosted zone", id);
	if (rc == 0)
		snprintf(r->ns_zone, sizeof(r->ns_zone), "%s", id);
	r->http->release(r->http->ctx, &resp);
	return rc;
}

/* DL-09: several public zones of one name; say which name servers each one has. */
static int ambiguous(struct r53 *r, const char *name, const struct r53_zone *v, size_t n,
		     struct zw_prov_error *err)
{
	char list[420] = "";
	size_t o = 0;
	for (size_t i = 0; i < n && o < sizeof(list) - 1; i++) {
		struct r53_zone z;
		int rc = get_zone(r, v[i].id, &z, err);
		if (rc)
			return rc;
		int k = snprintf(list + o, sizeof(list) - o, "%s%s (", i ? ", " : "", v[i].id);
		o = k < 0 || (size_t)k >= sizeof(list) - o ? sizeof(list) - 1 : o + (size_t)k;
		for (size_t j = 0; j < r->nns && o < sizeof(list) - 1; j++) {
			k = snprintf(list + o, sizeof(list) - o, "%s%s", j ? " " : "", r->ns[j]);
			o = k < 0 || (size_t)k >= sizeof(list) - o ? sizeof(list) - 1 : o + (size_t)k;
		}
		if (o < sizeof(list) - 1) {
			list[o++] = ')';
			list[o] = '\0';
		}
	}
	r->ns_zone[0] = '\0';
	return zw_prov_fail(
		err, ZW_PROV_ECONFLICT,
		"%zu public hosted zones are named %s: %s; set route53.hostedZoneId to the one the parent "
		"delegates to (DL-09)",
		n, name, list);
}

static int r53_find_zone(void *state, const char *domain, int (*emit)(void *, const char *, const char *),
			 void *ctx, struct zw_prov_error *err)
{
	struct r53 *r = state;
	struct r53_zone found[MAX_ZONES], pub[MAX_ZONES];
	char name[300], url[1400];
	size_t privates = 0;
	int rc;
	if (r->zone_id[0]) {
		struct r53_zone z;
		if ((rc = get_zone(r, r->zone_id, &z, err)))
			return rc;
		return emit(ctx, z.name, z.id);
	}
	if (r53_name_decode(name, sizeof(name), domain))
		return zw_prov_fail(err, ZW_PROV_EINVAL, "invalid domain '%.200s'", domain);
	for (const char *cand = name; *cand && strcmp(cand, ".") != 0;) {
		struct r53_buf q;
		struct zw_prov_http_resp resp;
		size_t n = 0, npub = 0;
		int truncated = 0;
		r53_buf_init(&q, r->host, 1024);
		r53_buf_addf(&q, "%s/2013-04-01/hostedzonesbyname?dnsname=", r->endpoint);
		r53_uri_encode(&q, cand);
		r53_buf_addf(&q, "&maxitems=%d", MAX_ZONES);
		if (q.oom) {
			r53_buf_free(&q);
			return zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		}
		snprintf(url, sizeof(url), "%s", q.p);
		r53_buf_free(&q);
		if ((rc = call(r, "GET", "ListHostedZonesByName", url, NULL, 0, 0, &resp, err))) {
			r->http->release(r->http->ctx, &resp);
			return rc;
		}
		rc = r53_parse_zones(found, MAX_ZONES, &n, &truncated, resp.body, resp.body_len);
		r->http->release(r->http->ctx, &resp);
		if (rc)
			return zw_prov_fail(err, ZW_PROV_EIO,
					    "ListHostedZonesByName: the answer is not a zone list");
		for (size_t i = 0; i < n; i++) {
			if (strcmp(found[i].name, cand) != 0)
				continue;
			if (found[i].private_zone)
				privates++;
			else
				pub[npub++] = found[i];
		}
		if (npub == 1)
			return emit(ctx, pub[0].name, pub[0].id);
		if (npub > 1)
			return ambiguous(r, cand, pub, npub, err);
		const char *dot = strchr(cand, '.');
		cand = dot ? dot + 1 : "";
	}
	return zw_prov_fail(err, ZW_PROV_ENOTFOUND, "no public hosted zone holds %.200s%s", name,
			    privates ? " (private zones are skipped)" : "");
}

static int r53_nameservers(void *state, const char *zone_id, int (*emit)(void *, const char *), void *ctx,
			   struct zw_prov_error *err)
{
	struct r53 *r = state;
	int rc;
	if (strcmp(r->ns_zone, zone_id) != 0) {
		struct r53_zone z;
		if ((rc = get_zone(r, zone_id, &z, err)))
			return rc;
	}
	if (r->nns == 0)
		return zw_prov_fail(err, ZW_PROV_ENOTFOUND, "hosted zone %s has no delegation set", zone_id);
	for (size_t i = 0; i < r->nns; i++)
		if ((rc = emit(ctx, r->ns[i])))
			return rc;
	return 0;
}

/* ---- list -------------------------------------------------------------------------------- */

struct list_ctx {
	struct r53 *r;
	int (*emit)(void *, const struct zw_prov_rrset *);
	void *ctx;
	struct zw_prov_error *err;
	size_t count;
};

static int is_name_type(uint16_t t)
{
	return t == 2 || t == 5 || t == 12; /* NS CNAME PTR: a single name */
}

static int take_set(void *vctx, const struct r53_set *s)
{
	struct list_ctx *lc = vctx;
	const struct zw_prov_host *h = lc->r->host;
	struct r53_buf data, lens, names;
	int rc = 0;
	lc->count++;
	/* aliases have no values; SOA is the provider's; unknown types are not ours */
	if (s->alias || s->type == 0 || s->type == 6 || s->nvalues == 0)
		return 0;
	struct zw_prov_rdata *rd = h->alloc(s->nvalues * sizeof(*rd));
	size_t *offs = h->alloc(2 * s->nvalues * sizeof(size_t));
	r53_buf_init(&data, h, 8u * 1024 * 1024);
	r53_buf_init(&lens, h, 8u * 1024 * 1024);
	r53_buf_init(&names, h, 8u * 1024 * 1024);
	if (!rd || !offs) {
		rc = zw_prov_fail(lc->err, ZW_PROV_ENOMEM, "out of memory");
		goto out;
	}
	memset(rd, 0, s->nvalues * sizeof(*rd));
	for (size_t i = 0; i < s->nvalues && rc == 0; i++) {
		if (s->type == 16 || s->type == 99) {
			size_t d0 = data.len, l0 = lens.len / sizeof(size_t);
			rc = r53_txt_decode(&data, &lens, s->values[i]);
			if (rc == ZW_PROV_EINVAL)
				zw_prov_fail(
					lc->err, rc,
					"%s TXT: a value Route 53 lists is not a quoted string list: %.100s",
					s->name, s->values[i]);
			rd[i].len = data.len - d0;
			rd[i].n = lens.len / sizeof(size_t) - l0;
			offs[2 * i] = d0;
			offs[2 * i + 1] = l0;
		} else {
			size_t n0 = names.len, vl = strlen(s->values[i]);
			if (is_name_type(s->type)) {
				for (size_t k = 0; k < vl; k++) {
					char c = s->values[i][k];
					c = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
					r53_buf_add(&names, &c, 1);
				}
				if (vl && s->values[i][vl - 1] != '.')
					r53_buf_add(&names, ".", 1);
			} else {
				r53_buf_add(&names, s->values[i], vl);
			}
			r53_buf_add(&names, "", 1); /* the terminating NUL stays */
			offs[2 * i] = n0;
			if (names.oom)
				rc = zw_prov_fail(lc->err, ZW_PROV_ENOMEM, "out of memory");
		}
	}
	if (rc == ZW_PROV_ENOMEM && !lc->err->msg[0])
		zw_prov_fail(lc->err, rc, "out of memory");
	if (rc == 0) {
		for (size_t i = 0; i < s->nvalues; i++) {
			if (s->type == 16 || s->type == 99) {
				rd[i].data = data.p ? data.p + offs[2 * i] : "";
				rd[i].lens = lens.p ? (const size_t *)(void *)lens.p + offs[2 * i + 1] : NULL;
			} else {
				rd[i].text = names.p + offs[2 * i];
			}
		}
		struct zw_prov_rrset set = {s->name, s->type, s->ttl, rd, s->nvalues};
		if ((rc = lc->emit(lc->ctx, &set)) && !lc->err->msg[0])
			zw_prov_fail(lc->err, rc, "cannot take the rrset %s", s->name);
	}
out:
	if (rd)
		h->free(rd);
	if (offs)
		h->free(offs);
	r53_buf_free(&data);
	r53_buf_free(&lens);
	r53_buf_free(&names);
	return rc;
}

static int r53_list(void *state, const char *zone_id, int (*emit)(void *, const struct zw_prov_rrset *),
		    void *ctx, struct zw_prov_error *err)
{
	struct r53 *r = state;
	struct list_ctx lc = {r, emit, ctx, err, 0};
	struct r53_next at = {0}, next;
	int rc = 0;
	for (unsigned page = 0; page < MAX_PAGES; page++) {
		struct r53_buf q;
		struct zw_prov_http_resp resp;
		r53_buf_init(&q, r->host, 4096);
		r53_buf_addf(&q, "%s/2013-04-01/hostedzone/%s/rrset?maxitems=%d", r->endpoint, zone_id, PAGE);
		if (at.has_next) {
			r53_buf_adds(&q, "&name=");
			r53_uri_encode(&q, at.name);
			r53_buf_adds(&q, "&type=");
			r53_uri_encode(&q, at.type);
			if (at.identifier[0]) {
				r53_buf_adds(&q, "&identifier=");
				r53_uri_encode(&q, at.identifier);
			}
		}
		if (q.oom) {
			r53_buf_free(&q);
			return zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		}
		rc = call(r, "GET", "ListResourceRecordSets", q.p, NULL, 0, 0, &resp, err);
		r53_buf_free(&q);
		if (rc == 0)
			rc = r53_parse_rrsets(resp.body, resp.body_len, take_set, &lc, &next, err);
		r->http->release(r->http->ctx, &resp);
		if (rc)
			return rc;
		if (!next.has_next)
			return 0;
		if (at.has_next && strcmp(next.name, at.name) == 0 && strcmp(next.type, at.type) == 0 &&
		    strcmp(next.identifier, at.identifier) == 0)
			return zw_prov_fail(
				err, ZW_PROV_EIO,
				"ListResourceRecordSets of %s repeats the page at %.200s %s: the listing "
				"does not "
				"advance",
				zone_id, next.name, next.type);
		at = next;
	}
	return zw_prov_fail(err, ZW_PROV_EIO, "ListResourceRecordSets of %s: over %d pages", zone_id,
			    MAX_PAGES);
}

/* ---- apply ------------------------------------------------------------------------------- */

struct order {
	const char *name;
	size_t idx;
};

static int cmp_order(const void *a, const void *b)
{
	const struct order *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static void set_result(struct zw_prov_change *c, enum zw_prov_result res, const char *msg)
{
	c->result = res;
	snprintf(c->message, sizeof(c->message), "%s", msg);
}

static void sleep_s(long s)
{
	struct timespec ts = {s, 0};
	while (s > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* GetChange until INSYNC (CATALOGUE step 6: verify after INSYNC), at most wait_insync
 * seconds; not reaching it is a warning, never a failure: the change was accepted. */
static void wait_insync(struct r53 *r, const char *change)
{
	char url[700], id[128], status[32] = "", fields[256];
	time_t deadline = time(NULL) + r->wait_insync;
	snprintf(url, sizeof(url), "%s/2013-04-01/change/%s", r->endpoint, change);
	for (;;) {
		struct zw_prov_http_resp resp;
		struct zw_prov_error e = {0};
		sleep_s(r->insync_interval);
		int rc = call(r, "GET", "GetChange", url, NULL, 0, 0, &resp, &e);
		if (rc == 0)
			r53_parse_change_info(id, sizeof(id), status, sizeof(status), resp.body,
					      resp.body_len);
		r->http->release(r->http->ctx, &resp);
		if (rc == 0 && strcmp(status, "INSYNC") == 0)
			return;
		if (time(NULL) + r->insync_interval > deadline)
			break;
	}
	snprintf(fields, sizeof(fields), "change=%.100s status=%.20s waited_s=%ld", change,
		 status[0] ? status : "?", r->wait_insync);
	if (r->host->log)
		r->host->log(r->host->ctx, ZW_PLOG_WARN, "route53 change not insync", fields);
}

/* One batch: POST it and write its result on each of its changes. */
static int send_batch(struct r53 *r, const char *zone_id, const struct r53_change *rc53, const size_t *idx,
		      size_t n, struct zw_prov_change *changes, unsigned batch, unsigned batches,
		      struct zw_prov_error *err)
{
	struct r53_buf body;
	struct r53_change *v = r->host->alloc((n ? n : 1) * sizeof(*v));
	struct zw_prov_http_resp resp;
	char url[700];
	int rc, upserts_only = 1;
	memset(&resp, 0, sizeof(resp));
	r53_buf_init(&body, r->host, 64u * 1024 * 1024);
	if (!v) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		v[i] = rc53[idx[i]];
		upserts_only &= v[i].action == R53_UPSERT;
	}
	if ((rc = r53_batch_xml(&body, v, n))) {
		zw_prov_fail(err, rc, "batch %u/%u: cannot build the request", batch, batches);
		goto done;
	}
	snprintf(url, sizeof(url), "%s/2013-04-01/hostedzone/%s/rrset/", r->endpoint, zone_id);
	rc = call(r, "POST", "ChangeResourceRecordSets", url, body.p, body.len, upserts_only, &resp, err);
	char change[128] = "", status[32] = "";
	if (rc == 0)
		r53_parse_change_info(change, sizeof(change), status, sizeof(status), resp.body,
				      resp.body_len);
	r->http->release(r->http->ctx, &resp);
	if (rc == 0 && r->wait_insync > 0 && change[0] && strcmp(status, "INSYNC") != 0)
		wait_insync(r, change);
	if (rc) {
		char inner[sizeof(err->msg)];
		snprintf(inner, sizeof(inner), "%s", err->msg);
		zw_prov_fail(err, rc, "batch %u/%u: %s", batch, batches, inner);
	}
done:
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			set_result(&changes[idx[i]], ZW_PROV_APPLIED, "");
		else if (rc == ZW_PROV_ERATE || rc == ZW_PROV_ETRANSIENT || rc == ZW_PROV_ENOMEM)
			set_result(&changes[idx[i]], ZW_PROV_RETRYABLE, err->msg);
		else
			set_result(&changes[idx[i]], ZW_PROV_PERMANENT, err->msg);
	}
	if (v)
		r->host->free(v);
	r53_buf_free(&body);
	return rc;
}

/* Pack the name groups of ord[0..m) (sorted by name) into batches under the per-request
 * limits, a name's changes always together: bat[x] is the batch of ord[x], or -1 when
 * its name's changes alone exceed one request. Returns the number of batches. */
static unsigned pack(const struct r53_change *c, const struct order *ord, size_t m, long *bat)
{
	unsigned nb = 0;
	size_t rrs = 0, chars = 0;
	for (size_t g = 0, ge; g < m; g = ge) {
		size_t grr = 0, gch = 0;
		for (ge = g; ge < m && strcmp(ord[ge].name, ord[g].name) == 0; ge++) {
			size_t a, b;
			r53_change_cost(&c[ord[ge].idx], &a, &b);
			grr += a;
			gch += b;
		}
		long id = -1;
		if (grr <= R53_MAX_RRS && gch <= R53_MAX_CHARS) {
			if (nb == 0 || rrs + grr > R53_MAX_RRS || chars + gch > R53_MAX_CHARS) {
				nb++;
				rrs = chars = 0;
			}
			rrs += grr;
			chars += gch;
			id = (long)nb - 1;
		}
		for (size_t x = g; x < ge; x++)
			bat[x] = id;
	}
	return nb;
}

static int r53_apply(void *state, const char *zone_id, struct zw_prov_change *changes, size_t n,
		     struct zw_prov_error *err)
{
	struct r53 *r = state;
	const struct zw_prov_host *h = r->host;
	struct r53_buf vals;
	size_t nvals = 0;
	int rc = 0, first = 0;
	struct zw_prov_error e = {0};
	for (size_t i = 0; i < n; i++) {
		const struct zw_prov_rrset *s =
			changes[i].op == ZW_PROV_DELETE ? changes[i].before : changes[i].after;
		nvals += s ? s->nrd : 0;
		set_result(&changes[i], ZW_PROV_NOT_APPLIED, "");
	}
	struct r53_change *c = h->alloc((n ? n : 1) * sizeof(*c));
	const char **vp = h->alloc((nvals ? nvals : 1) * sizeof(*vp));
	size_t *voff = h->alloc((nvals ? nvals : 1) * sizeof(*voff));
	struct order *ord = h->alloc((n ? n : 1) * sizeof(*ord));
	size_t *idx = h->alloc((n ? n : 1) * sizeof(*idx));
	size_t *noff = h->alloc((n ? n : 1) * sizeof(*noff));
	long *bat = h->alloc((n ? n : 1) * sizeof(*bat));
	r53_buf_init(&vals, h, 256u * 1024 * 1024);
	if (!c || !vp || !voff || !ord || !idx || !noff || !bat) {
		rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
		goto out;
	}
	/* encode every change's name and values into one buffer (offsets, then pointers) */
	size_t at = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		static const enum r53_action actions[] = {[ZW_PROV_CREATE] = R53_CREATE,
							  [ZW_PROV_UPDATE] = R53_UPSERT,
							  [ZW_PROV_DELETE] = R53_DELETE};
		const struct zw_prov_rrset *s =
			changes[i].op == ZW_PROV_DELETE ? changes[i].before : changes[i].after;
		char name[1100];
		if (!s || !s->nrd || !r53_type_name(s->type) ||
		    r53_name_encode(name, sizeof(name), s->name)) {
			set_result(&changes[i], ZW_PROV_PERMANENT,
				   "route53 cannot write this rrset (name, type or values)");
			c[i] = (struct r53_change){R53_CREATE, NULL, 0, 0, NULL, 0};
			continue;
		}
		noff[i] = vals.len;
		r53_buf_add(&vals, name, strlen(name) + 1);
		c[i] = (struct r53_change){actions[changes[i].op], s->name, s->type, s->ttl, NULL, s->nrd};
		for (size_t j = 0; j < s->nrd; j++) {
			voff[at + j] = vals.len;
			if (s->type == 16 || s->type == 99)
				r53_txt_encode(&vals, s->rd[j].data, s->rd[j].lens, s->rd[j].n);
			else
				r53_buf_adds(&vals, s->rd[j].text ? s->rd[j].text : "");
			r53_buf_add(&vals, "", 1);
		}
		at += s->nrd;
		if (vals.oom)
			rc = zw_prov_fail(err, ZW_PROV_ENOMEM, "out of memory");
	}
	if (rc)
		goto out;
	at = 0;
	for (size_t i = 0; i < n; i++) {
		if (!c[i].name)
			continue;
		for (size_t j = 0; j < c[i].nvalues; j++)
			vp[at + j] = vals.p + voff[at + j];
		c[i].name = vals.p + noff[i];
		c[i].values = vp + at;
		at += c[i].nvalues;
	}
	/* group by name (stable), pack the groups into batches under the limits */
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (c[i].name)
			ord[m++] = (struct order){c[i].name, i};
	qsort(ord, m, sizeof(*ord), cmp_order);
	unsigned nb = pack(c, ord, m, bat);
	for (size_t x = 0; x < m; x++) {
		if (bat[x] >= 0)
			continue;
		set_result(&changes[ord[x].idx], ZW_PROV_PERMANENT,
			   "the changes of this name exceed one request (1000 records, 32000 characters)");
		if (!first)
			first = zw_prov_fail(err, ZW_PROV_EINVAL, "changes of %.200s exceed one request",
					     ord[x].name);
	}
	int stop = 0;
	for (unsigned b = 0; b < nb; b++) {
		size_t k = 0;
		for (size_t x = 0; x < m; x++)
			if (bat[x] == (long)b)
				idx[k++] = ord[x].idx;
		if (stop) {
			for (size_t x = 0; x < k; x++)
				set_result(&changes[idx[x]], ZW_PROV_NOT_APPLIED,
					   "not sent: an earlier batch failed and the next run plans again");
			continue;
		}
		int brc = send_batch(r, zone_id, c, idx, k, changes, b + 1, nb, &e);
		if (brc && !first) {
			first = brc;
			*err = e;
		}
		/* rate, transport and credential failures would repeat: stop; a refused batch
		 * (conflict, invalid) says nothing about the others */
		stop = brc == ZW_PROV_ERATE || brc == ZW_PROV_ETRANSIENT || brc == ZW_PROV_EAUTH ||
		       brc == ZW_PROV_ENOMEM;
	}
	if (first && !rc)
		rc = first;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (changes[i].result != ZW_PROV_APPLIED)
			rc = zw_prov_fail(err, ZW_PROV_EINVAL, "%s", changes[i].message);
out:
	if (rc == ZW_PROV_ENOMEM)
		for (size_t i = 0; i < n; i++)
			if (changes[i].result == ZW_PROV_NOT_APPLIED)
				set_result(&changes[i], ZW_PROV_NOT_APPLIED, "out of memory");
	if (c)
		h->free(c);
	if (vp)
		h->free(vp);
	if (voff)
		h->free(voff);
	if (ord)
		h->free(ord);
	if (idx)
		h->free(idx);
	if (noff)
		h->free(noff);
	if (bat)
		h->free(bat);
	r53_buf_free(&vals);
	return rc;
}

/* ---- Route 53 Domains: the opt-in delegation fix ---------------------------------------- */

/* A JSON 1.1 error ({"__type": "...", "message": "..."}) -> the ABI's code. */
static int classify_json(void *cctx, const struct zw_prov_http_resp *resp, uint64_t *retry_after_ms)
{
	const struct r53 *r = cctx;
	(void)retry_after_ms;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	int rc = r->http->status_error(resp->status);
	cJSON *j = resp->status >= 400 && resp->status < 500
			   ? cJSON_ParseWithLength(resp->body, resp->body_len)
			   : NULL;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
	if (cJSON_IsString(t)) {
		const char *type =
			strrchr(t->valuestring, '#') ? strrchr(t->valuestring, '#') + 1 : t->valuestring;
		for (size_t i = 0; i < sizeof(error_codes) / sizeof(error_codes[0]); i++)
			if (strcmp(type, error_codes[i].code) == 0)
				rc = error_codes[i].err;
	}
	cJSON_Delete(j);
	return rc;
}

int r53_domains_body(struct r53_buf *out, const char *domain, const char (*ns)[256], size_t n)
{
	cJSON *root = cJSON_CreateObject(), *list = NULL;
	char name[256];
	int rc = ZW_PROV_ENOMEM;
	snprintf(name, sizeof(name), "%s", domain);
	if (name[0] && name[strlen(name) - 1] == '.')
		name[strlen(name) - 1] = '\0';
	if (!root || !cJSON_AddStringToObject(root, "DomainName", name) ||
	    !(list = cJSON_AddArrayToObject(root, "Nameservers")))
		goto out;
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		snprintf(name, sizeof(name), "%s", ns[i]);
		if (name[0] && name[strlen(name) - 1] == '.')
			name[strlen(name) - 1] = '\0';
		if (!o)
			goto out;
		if (!cJSON_AddItemToArray(list, o)) {
			cJSON_Delete(o);
			goto out;
		}
		if (!cJSON_AddStringToObject(o, "Name", name)) /* o is the root's now */
			goto out;
	}
	char *text = cJSON_PrintUnformatted(root);
	if (text) {
		rc = r53_buf_adds(out, text);
		cJSON_free(text);
	}
out:
	cJSON_Delete(root);
	return rc;
}

int r53_fix_delegation(void *state, const char *domain, const char *zone_id, char *operation, size_t opsz,
		       struct zw_prov_error *err)
{
	static const char target[] = "Route53Domains_v20140515.UpdateDomainNameservers";
	struct r53 *r = state;
	struct r53_buf body;
	struct zw_prov_http_resp resp;
	char url[600], amzdate[17], auth[1024], h_date[64], h_auth[1100], h_token[4200], h_target[96];
	const char *headers[5] = {"Content-Type: application/x-amz-json-1.1", h_target, h_date, h_auth,
				  h_token};
	int rc;
	operation[0] = '\0';
	memset(&resp, 0, sizeof(resp));
	r53_buf_init(&body, r->host, 64 * 1024);
	if (strcmp(r->ns_zone, zone_id) != 0) {
		struct r53_zone z;
		if ((rc = get_zone(r, zone_id, &z, err)))
			goto out;
	}
	if (r->nns == 0) {
		rc = zw_prov_fail(err, ZW_PROV_ENOTFOUND, "hosted zone %s has no delegation set", zone_id);
		goto out;
	}
	if ((rc = fresh(r, err)))
		goto out;
	if ((rc = r53_domains_body(&body, domain, (const char(*)[256])r->ns, r->nns))) {
		zw_prov_fail(err, rc, "UpdateDomainNameservers: out of memory");
		goto out;
	}
	const struct r53_creds *k = r->assume_arn[0] ? &r->assumed : &r->creds;
	snprintf(url, sizeof(url), "%s/", r->domains_endpoint);
	r53_amzdate(amzdate, time(NULL));
	struct r53_sigreq sr = {"POST",		  url,	   body.p,    body.len, "application/x-amz-json-1.1",
				amzdate,	  k->akid, k->secret, k->token, "us-east-1",
				"route53domains", target};
	if (r53_sigv4(auth, sizeof(auth), &sr)) {
		rc = zw_prov_fail(err, ZW_PROV_EINVAL, "UpdateDomainNameservers: cannot sign the request");
		goto out;
	}
	snprintf(h_target, sizeof(h_target), "X-Amz-Target: %s", target);
	snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", amzdate);
	snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
	snprintf(h_token, sizeof(h_token), "X-Amz-Security-Token: %s", k->token);
	/* setting the list again is harmless: safe to resend */
	struct zw_prov_http_req req = {"POST",	 url,	     headers, k->token[0] ? 5 : 4, body.p,
				       body.len, r->account, 1,	      classify_json,	   r};
	capture(r, "UpdateDomainNameservers", NULL, body.p, body.len);
	rc = r->http->request(r->http->ctx, &req, &resp, err);
	memset(h_token, 0, sizeof(h_token));
	cJSON *j = resp.status ? cJSON_ParseWithLength(resp.body, resp.body_len) : NULL;
	if (rc) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
		if (resp.status)
			zw_prov_fail(err, rc, "UpdateDomainNameservers %.200s: %s%s%.200s (http %ld)", domain,
				     cJSON_IsString(t) ? t->valuestring : "error",
				     cJSON_IsString(m) ? ": " : "", cJSON_IsString(m) ? m->valuestring : "",
				     resp.status);
	} else {
		const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "OperationId");
		snprintf(operation, opsz, "%s", cJSON_IsString(op) ? op->valuestring : "");
	}
	cJSON_Delete(j);
out:
	if (resp.impl)
		r->http->release(r->http->ctx, &resp);
	r53_buf_free(&body);
	return rc;
}

const struct zw_provider zw_provider_route53 = {
	.abi = ZW_PROVIDER_ABI,
	.name = "route53",
	.options = r53_options,
	.open = r53_open,
	.close = r53_close,
	.find_zone = r53_find_zone,
	.nameservers = r53_nameservers,
	.list = r53_list,
	.apply = r53_apply,
	.fix_delegation = r53_fix_delegation,
};

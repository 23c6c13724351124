/*
 * creds.c - the pure parts of the AWS credential chain: the shared ini files
 * (~/.aws/credentials and ~/.aws/config, botocore's layout). Reading the files, the
 * environment and STS are route53.c's. No allocation: values land in fixed buffers.
 *
 * Layout: the credentials file names sections after the profile ("[default]",
 * "[prod]"); the config file writes "[default]" and "[profile prod]".
 */
#include <stdio.h>
#include <string.h>

#include "providers/route53/r53.h"

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static const char *trim_end(const char *start, const char *end)
{
	while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	return end;
}

static int same(const char *a, const char *aend, const char *b)
{
	size_t n = strlen(b);
	return (size_t)(aend - a) == n && memcmp(a, b, n) == 0;
}

int r53_ini_get(char *out, size_t outsz, const char *text, const char *section, const char *key)
{
	int in = 0;
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
		const char *s = skip_space(p, end), *e = trim_end(s, end);
		if (s < e && *s == '[') {
			const char *close = e[-1] == ']' ? e - 1 : NULL;
			if (close) {
				const char *a = skip_space(s + 1, close), *b = trim_end(a, close);
				in = same(a, b, section);
			} else {
				in = 0;
			}
		} else if (in && s < e && *s != '#' && *s != ';') {
			const char *eq = memchr(s, '=', (size_t)(e - s));
			if (eq && same(s, trim_end(s, eq), key)) {
				const char *v = skip_space(eq + 1, e);
				size_t n = (size_t)(e - v);
				if (n >= outsz)
					return ZW_PROV_EINVAL;
				memcpy(out, v, n);
				out[n] = '\0';
				return 0;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return ZW_PROV_ENOTFOUND;
}

/* Both keys from one section, or ENOTFOUND; the token is optional. */
static int from_section(struct r53_creds *c, const char *text, const char *section)
{
	if (!text || r53_ini_get(c->akid, sizeof(c->akid), text, section, "aws_access_key_id") ||
	    r53_ini_get(c->secret, sizeof(c->secret), text, section, "aws_secret_access_key") ||
	    !c->akid[0] || !c->secret[0]) {
		c->akid[0] = c->secret[0] = '\0';
		return ZW_PROV_ENOTFOUND;
	}
	if (r53_ini_get(c->token, sizeof(c->token), text, section, "aws_session_token"))
		c->token[0] = '\0';
	return 0;
}

int r53_creds_from_ini(struct r53_creds *c, const char *credentials, const char *config, const char *profile)
{
	char section[192];
	c->expires = 0;
	if (from_section(c, credentials, profile) == 0) {
		snprintf(c->source, sizeof(c->source), "shared credentials file [%.40s]", profile);
		return 0;
	}
	if (strcmp(profile, "default") == 0)
		snprintf(section, sizeof(section), "default");
	else
		snprintf(section, sizeof(section), "profile %s", profile);
	if (from_section(c, config, section) == 0) {
		snprintf(c->source, sizeof(c->source), "shared config file [%.40s]", section);
		return 0;
	}
	return ZW_PROV_ENOTFOUND;
}

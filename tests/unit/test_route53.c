/*
 * test_route53.c - unit tests of the Route 53 provider (providers/route53/): SigV4
 * known-answer vectors made with botocore's SigV4Auth at a fixed time
 * (tests/tools/sigv4-vectors.py; sigv4_curl.py matches it byte for byte), TXT quoting,
 * escaping and splitting at 255, \ooo name decoding, both error shapes, the ChangeBatch
 * body, the shared ini files, STS credentials, and the provider itself over a fake HTTP
 * table: zone choice among public and private twins, pagination with a repeated page,
 * batching at 1000 records / 32 000 characters with UPSERT counted twice, the optional
 * INSYNC wait (GetChange, bounded), retry
 * classification, and every allocation failing in turn. With $ZW_R53_UNIT_BODIES set,
 * every request body the provider builds here is also written to that folder, where
 * tests/integration/route53.test checks each one with tests/tools/r53-xml-check.py.
 */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "providers/route53/r53.h"
#include "reconcile/http.h"

extern const struct zw_provider zw_provider_route53;

static void *h_alloc(size_t n)
{
	return zw_malloc(n);
}
static void *h_realloc(void *p, size_t n)
{
	return zw_realloc(p, n);
}
static void h_free(void *p)
{
	zw_free(p);
}

static struct zw_prov_host host = {ZW_PROVIDER_ABI, NULL, h_alloc, h_realloc, h_free, NULL, NULL};

/* ---- SigV4 --------------------------------------------------------------------------------- */

#define AK  "AKIDEXAMPLE"
#define SK  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOK "FQoGZXIvYXdzEXAMPLETOKEN//+=="
#define BODY                                                                                                 \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ChangeResourceRecordSetsRequest "                        \
	"xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><ChangeBatch><Changes/></ChangeBatch>"      \
	"</ChangeResourceRecordSetsRequest>"

static const struct {
	const char *method, *url, *body, *token, *auth;
} vectors[] = {
	{"GET",
	 "https://route53.amazonaws.com/2013-04-01/hostedzone/Z123/"
	 "rrset?name=_dmarc.example.com.&type=TXT&maxitems=100",
	 NULL, NULL,
	 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/route53/aws4_request, "
	 "SignedHeaders=host;x-amz-date, "
	 "Signature=a4ab12f5f5b0247b5bebe6f124422d21d0ffad2a14285259c6e5e334283d6af6"},
	{"POST", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z123/rrset/", BODY, NULL,
	 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/route53/aws4_request, "
	 "SignedHeaders=content-type;host;x-amz-date, "
	 "Signature=2f17b61bdbde1751796a90751987ed7e266cd4cabe7b50b4b5a6a0d4c2bfb83a"},
	{"GET", "http://127.0.0.1:5055/2013-04-01/hostedzonesbyname?dnsname=example.com.&maxitems=100", NULL,
	 NULL,
	 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/route53/aws4_request, "
	 "SignedHeaders=host;x-amz-date, "
	 "Signature=a8ae112baffae56de8edd1cdc737cd2af5b38b30237be00de7ab2d5e30ad00c2"},
	{"GET",
	 "https://route53.amazonaws.com/2013-04-01/hostedzone/Z123/"
	 "rrset?maxitems=300&name=%5C052.example.com.&type=A",
	 NULL, TOK,
	 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/route53/aws4_request, "
	 "SignedHeaders=host;x-amz-date;x-amz-security-token, "
	 "Signature=6b4e3de250a0b5b09dfd725c0fd6510dafda7f5ecc9b9fb6413189efd53b5155"},
	{"POST", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z123/rrset/", BODY, TOK,
	 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/route53/aws4_request, "
	 "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
	 "Signature=e0fb01a3780603531cb4f5d31270c56c7179059dfcc18361690dbe4e38e3d534"},
	{"GET", "https://route53.amazonaws.com/2013-04-01/hostedzone/Z0123456789ABC", NULL, NULL,
	 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/route53/aws4_request, "
	 "SignedHeaders=host;x-amz-date, "
	 "Signature=e50846c11cd74c0be9a3404a428f755d915504ba359e5efcff77d66f138228ad"},
};

#define DOMAINS_BODY                                                                                         \
	"{\"DomainName\":\"example.com\",\"Nameservers\":[{\"Name\":\"ns-2048.awsdns-64.com\"},{\"Name\":"   \
	"\"ns-2049.awsdns-65.net\"}]}"

static void sigv4_known_answers(void **state)
{
	(void)state;
	char auth[1024], date[17];
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		struct r53_sigreq r = {vectors[i].method,
				       vectors[i].url,
				       vectors[i].body,
				       vectors[i].body ? strlen(vectors[i].body) : 0,
				       "text/xml",
				       "20261123T102030Z",
				       AK,
				       SK,
				       vectors[i].token,
				       "us-east-1",
				       "route53",
				       NULL};
		assert_int_equal(r53_sigv4(auth, sizeof(auth), &r), 0);
		assert_string_equal(auth, vectors[i].auth);
	}
	/* the query order does not matter: it is sorted */
	struct r53_sigreq r = {"GET",
			       "https://route53.amazonaws.com/2013-04-01/hostedzone/Z123/"
			       "rrset?maxitems=100&type=TXT&name=_dmarc.example.com.",
			       NULL,
			       0,
			       "text/xml",
			       "20261123T102030Z",
			       AK,
			       SK,
			       NULL,
			       "us-east-1",
			       "route53",
			       NULL};
	assert_int_equal(r53_sigv4(auth, sizeof(auth), &r), 0);
	assert_string_equal(auth, vectors[0].auth);
	/* Route 53 Domains (JSON 1.1): X-Amz-Target signed as botocore does */
	struct r53_sigreq d = {"POST",
			       "https://route53domains.us-east-1.amazonaws.com/",
			       DOMAINS_BODY,
			       strlen(DOMAINS_BODY),
			       "application/x-amz-json-1.1",
			       "20261123T102030Z",
			       AK,
			       SK,
			       NULL,
			       "us-east-1",
			       "route53domains",
			       "Route53Domains_v20140515.UpdateDomainNameservers"};
	assert_int_equal(r53_sigv4(auth, sizeof(auth), &d), 0);
	assert_string_equal(
		auth,
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/route53domains/aws4_request, "
		"SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
		"Signature=aa8c81217495f98950c955e5709e9df3a0c04dc911c0c08862c41819d0bb2421");
	/* a bad URL and a too small output are errors */
	r.url = "route53.amazonaws.com/x";
	assert_int_equal(r53_sigv4(auth, sizeof(auth), &r), ZW_PROV_EINVAL);
	r.url = vectors[0].url;
	assert_int_equal(r53_sigv4(auth, 40, &r), ZW_PROV_EINVAL);
	r53_amzdate(date, 1795429230);
	assert_string_equal(date, "20261123T102030Z");
}

/* ---- TXT ---------------------------------------------------------------------------------- */

static void txt_encode_cases(void **state)
{
	(void)state;
	struct r53_buf b;
	size_t l1[] = {16};
	r53_buf_init(&b, &host, 1 << 20);
	assert_int_equal(r53_txt_encode(&b, "v=DMARC1; p=none", l1, 1), 0);
	assert_string_equal(b.p, "\"v=DMARC1; p=none\"");
	r53_buf_free(&b);

	/* quotes, backslashes, a control octet, UTF-8 octets, DEL */
	const char raw[] = "a\"b\\c\td\xc3\xa9\x7f";
	size_t l2[] = {sizeof(raw) - 1};
	assert_int_equal(r53_txt_encode(&b, raw, l2, 1), 0);
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\011d\\303\\251\\177\"");
	r53_buf_free(&b);

	/* two strings, and one of 300 octets split at 255 */
	char big[300];
	memset(big, 'k', sizeof(big));
	size_t l3[] = {300};
	assert_int_equal(r53_txt_encode(&b, big, l3, 1), 0);
	assert_int_equal(b.len, 1 + 255 + 1 + 1 + 1 + 45 + 1);
	assert_memory_equal(b.p + 255 + 1, "\" \"kkk", 6);
	r53_buf_free(&b);
	size_t l4[] = {3, 0, 2};
	assert_int_equal(r53_txt_encode(&b, "abcde", l4, 3), 0);
	assert_string_equal(b.p, "\"abc\" \"\" \"de\"");
	r53_buf_free(&b);
	assert_int_equal(r53_txt_encode(&b, "", NULL, 0), 0);
	assert_string_equal(b.p, "\"\"");
	r53_buf_free(&b);
	/* the bound */
	r53_buf_init(&b, &host, 10);
	assert_int_equal(r53_txt_encode(&b, big, l3, 1), ZW_PROV_ENOMEM);
	r53_buf_free(&b);
}

static int decode(const char *value, const char *want, const size_t *wlens, size_t wn)
{
	struct r53_buf d, l;
	r53_buf_init(&d, &host, 1 << 20);
	r53_buf_init(&l, &host, 1 << 20);
	int rc = r53_txt_decode(&d, &l, value);
	if (rc == 0 && want) {
		size_t total = 0;
		assert_int_equal(l.len / sizeof(size_t), wn);
		for (size_t i = 0; i < wn; i++) {
			assert_int_equal(((size_t *)(void *)l.p)[i], wlens[i]);
			total += wlens[i];
		}
		assert_int_equal(d.len, total);
		if (total)
			assert_memory_equal(d.p, want, total);
	}
	r53_buf_free(&d);
	r53_buf_free(&l);
	return rc;
}

static void txt_decode_cases(void **state)
{
	(void)state;
	size_t one[] = {16};
	assert_int_equal(decode("\"v=DMARC1; p=none\"", "v=DMARC1; p=none", one, 1), 0);
	size_t two[] = {3, 2};
	assert_int_equal(decode("\"abc\" \"de\"", "abcde", two, 2), 0);
	size_t esc[] = {8};
	assert_int_equal(decode("\"a\\\"b\\\\c\\011\\303\\251\"", "a\"b\\c\t\xc3\xa9", esc, 1), 0);
	size_t star[] = {1};
	assert_int_equal(decode("\"\\052\"", "*", star, 1), 0);
	size_t bare[] = {6, 4};
	assert_int_equal(decode("v=spf1 -all", "v=spf1-all", bare, 2), 0);
	size_t empty[] = {0};
	assert_int_equal(decode("\"\"", "", empty, 1), 0);
	assert_int_equal(decode("\"unterminated", NULL, NULL, 0), ZW_PROV_EINVAL);
	assert_int_equal(decode("\"ends with \\", NULL, NULL, 0), ZW_PROV_EINVAL);
	char big[300];
	big[0] = '"';
	memset(big + 1, 'x', 256);
	big[257] = '"';
	big[258] = '\0';
	assert_int_equal(decode(big, NULL, NULL, 0), ZW_PROV_EINVAL);
	/* what encode writes, decode reads back */
	struct r53_buf b;
	const char raw[] = "x\"\\\x01\xff y";
	size_t l[] = {sizeof(raw) - 1};
	r53_buf_init(&b, &host, 1 << 20);
	assert_int_equal(r53_txt_encode(&b, raw, l, 1), 0);
	assert_int_equal(decode(b.p, raw, l, 1), 0);
	r53_buf_free(&b);
}

static void names_decode(void **state)
{
	(void)state;
	char out[300];
	assert_int_equal(r53_name_decode(out, sizeof(out), "\\052.example.com."), 0);
	assert_string_equal(out, "*.example.com.");
	assert_int_equal(r53_name_decode(out, sizeof(out), "_DMARC.Example.COM"), 0);
	assert_string_equal(out, "_dmarc.example.com.");
	assert_int_equal(r53_name_decode(out, sizeof(out), "a\\011b.example.com."), 0);
	assert_string_equal(out, "a\\009b.example.com.");
	assert_int_equal(r53_name_decode(out, sizeof(out), "a\\056b.example.com."), 0);
	assert_string_equal(out, "a\\046b.example.com.");
	assert_int_equal(r53_name_decode(out, sizeof(out), "bad\\"), ZW_PROV_EINVAL);
	assert_int_equal(r53_name_decode(out, 8, "example.com."), ZW_PROV_EINVAL);
	assert_int_equal(r53_name_decode(out, sizeof(out), "."), 0);
	assert_string_equal(out, ".");
	/* and back to Route 53's octal form */
	assert_int_equal(r53_name_encode(out, sizeof(out), "*.example.com."), 0);
	assert_string_equal(out, "*.example.com.");
	assert_int_equal(r53_name_encode(out, sizeof(out), "a\\009b.example.com."), 0);
	assert_string_equal(out, "a\\011b.example.com.");
	assert_int_equal(r53_name_encode(out, sizeof(out), "a\\046b\\.c.example.com."), 0);
	assert_string_equal(out, "a\\056b\\056c.example.com.");
	assert_int_equal(r53_name_encode(out, sizeof(out), "\\256.example."), ZW_PROV_EINVAL);
	assert_int_equal(r53_name_encode(out, sizeof(out), "bad\\"), ZW_PROV_EINVAL);
	char round[300];
	assert_int_equal(r53_name_decode(round, sizeof(round), "x\\177\\052y.example.com."), 0);
	assert_int_equal(r53_name_encode(out, sizeof(out), round), 0);
	assert_string_equal(out, "x\\177*y.example.com.");
	assert_int_equal(r53_type_number("TXT"), 16);
	assert_int_equal(r53_type_number("CAA"), 257);
	assert_int_equal(r53_type_number("ALIAS"), 0);
	assert_string_equal(r53_type_name(5), "CNAME");
	assert_null(r53_type_name(250));
}

/* ---- errors and responses ------------------------------------------------------------------- */

static void error_shapes(void **state)
{
	(void)state;
	char code[64], msg[256];
	const char *er =
		"<?xml version=\"1.0\"?>\n<ErrorResponse "
		"xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
		"<Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate\nexceeded</Message></Error>"
		"<RequestId>r1</RequestId></ErrorResponse>";
	r53_parse_error(code, sizeof(code), msg, sizeof(msg), er, strlen(er));
	assert_string_equal(code, "Throttling");
	assert_string_equal(msg, "Rate exceeded");
	const char *icb = "<?xml version=\"1.0\"?>\n<InvalidChangeBatch "
			  "xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">"
			  "<Messages><Message>Tried to create resource record set [name='x.example.com.', "
			  "type='A'] but it "
			  "already exists</Message><Message>Tried to delete resource record set "
			  "[name='y.example.com.', "
			  "type='TXT'] but it was not "
			  "found</Message></Messages><RequestId>r2</RequestId></InvalidChangeBatch>";
	r53_parse_error(code, sizeof(code), msg, sizeof(msg), icb, strlen(icb));
	assert_string_equal(code, "InvalidChangeBatch");
	assert_string_equal(
		msg, "Tried to create resource record set [name='x.example.com.', type='A'] but it already "
		     "exists; Tried to delete resource record set [name='y.example.com.', type='TXT'] but it "
		     "was not found");
	r53_parse_error(code, sizeof(code), msg, sizeof(msg), "not xml", 7);
	assert_string_equal(code, "");
	assert_string_equal(msg, "");
	r53_parse_error(code, sizeof(code), msg, sizeof(msg), "", 0);
	assert_string_equal(code, "");
}

static void responses(void **state)
{
	(void)state;
	struct r53_zone z[4];
	size_t n;
	int trunc;
	const char *lz =
		"<ListHostedZonesByNameResponse "
		"xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><HostedZones>"
		"<HostedZone><Id>/hostedzone/ZPRIV</Id><Name>example.com.</Name><Config><PrivateZone>true"
		"</PrivateZone></Config></HostedZone><HostedZone><Id>/hostedzone/ZPUB</Id><Name>Example.com."
		"</Name><Config><PrivateZone>false</PrivateZone></Config></HostedZone></HostedZones>"
		"<IsTruncated>false</IsTruncated></ListHostedZonesByNameResponse>";
	assert_int_equal(r53_parse_zones(z, 4, &n, &trunc, lz, strlen(lz)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(z[0].id, "ZPRIV");
	assert_int_equal(z[0].private_zone, 1);
	assert_string_equal(z[1].name, "example.com.");
	assert_int_equal(z[1].private_zone, 0);
	assert_int_equal(trunc, 0);
	assert_int_equal(r53_parse_zones(z, 4, &n, &trunc, "<x/>", 4), ZW_PROV_EIO);

	char ns[4][256];
	const char *gz =
		"<GetHostedZoneResponse><HostedZone><Id>/hostedzone/ZPUB</Id><Name>example.com.</Name></"
		"HostedZone>"
		"<DelegationSet><NameServers><NameServer>ns-2048.awsdns-64.com</NameServer><NameServer>"
		"NS-2049.awsdns-65.net</NameServer></NameServers></DelegationSet></GetHostedZoneResponse>";
	assert_int_equal(r53_parse_hosted_zone(z, ns, 4, &n, gz, strlen(gz)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ns[0], "ns-2048.awsdns-64.com.");
	assert_string_equal(ns[1], "ns-2049.awsdns-65.net.");

	char id[64], status[32];
	const char *ci =
		"<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/C2682N5HXP0BZ4</Id><Status>INSYNC"
		"</Status></ChangeInfo></ChangeResourceRecordSetsResponse>";
	assert_int_equal(r53_parse_change_info(id, sizeof(id), status, sizeof(status), ci, strlen(ci)), 0);
	assert_string_equal(id, "C2682N5HXP0BZ4");
	assert_string_equal(status, "INSYNC");

	struct r53_creds c = {0};
	struct zw_prov_error err = {0};
	const char *sts = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
			  "<AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>s3cr3t</"
			  "SecretAccessKey><SessionToken>tok"
			  "</SessionToken><Expiration>2026-11-23T12:00:00.123Z</Expiration></Credentials>"
			  "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
	assert_int_equal(r53_parse_sts(&c, sts, strlen(sts), &err), 0);
	assert_string_equal(c.akid, "ASIAEXAMPLE");
	assert_string_equal(c.secret, "s3cr3t");
	assert_string_equal(c.token, "tok");
	assert_int_equal(c.expires, 1795435200);
	assert_int_equal(r53_parse_sts(&c, "<ErrorResponse/>", 16, &err), ZW_PROV_EAUTH);
	assert_int_equal(r53_parse_time("2026-13-01T00:00:00Z"), -1);
}

/* ---- the ChangeBatch ------------------------------------------------------------------------ */

static void batch_body(void **state)
{
	(void)state;
	struct r53_buf b;
	const char *v1[] = {"\"v=DMARC1; p=none\""}, *v2[] = {"a&b<c>.example.net."};
	struct r53_change c[] = {{R53_UPSERT, "_dmarc.example.com.", 16, 300, v1, 1},
				 {R53_DELETE, "x.example.com.", 5, 60, v2, 1}};
	r53_buf_init(&b, &host, 1 << 20);
	assert_int_equal(r53_batch_xml(&b, c, 2), 0);
	assert_string_equal(
		b.p,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ChangeResourceRecordSetsRequest "
		"xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/"
		"\"><ChangeBatch><Changes><Change><Action>UPSERT"
		"</Action><ResourceRecordSet><Name>_dmarc.example.com.</Name><Type>TXT</Type><TTL>300</TTL>"
		"<ResourceRecords><ResourceRecord><Value>\"v=DMARC1; p=none\"</Value></ResourceRecord>"
		"</ResourceRecords></ResourceRecordSet></Change><Change><Action>DELETE</"
		"Action><ResourceRecordSet>"
		"<Name>x.example.com.</Name><Type>CNAME</Type><TTL>60</"
		"TTL><ResourceRecords><ResourceRecord><Value>"
		"a&amp;b&lt;c&gt;.example.net.</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>"
		"</Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>\n");
	r53_buf_free(&b);
	size_t rrs, chars;
	r53_change_cost(&c[0], &rrs, &chars);
	assert_int_equal(rrs, 2);
	assert_int_equal(chars, 2 * strlen(v1[0]));
	r53_change_cost(&c[1], &rrs, &chars);
	assert_int_equal(rrs, 1);
	assert_int_equal(chars, strlen(v2[0]));
	c[0].type = 250;
	assert_int_equal(r53_batch_xml(&b, c, 1), ZW_PROV_EINVAL);
	r53_buf_free(&b);
}

/* ---- credentials ---------------------------------------------------------------------------- */

static void shared_files(void **state)
{
	(void)state;
	const char *cred =
		"# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key=sdefault\n\n"
		"[prod]\r\n  aws_access_key_id=AKIDPROD \r\naws_secret_access_key = sprod\naws_session_token "
		"= tprod\n";
	const char *conf = "[default]\nregion = eu-west-1\n[profile ops]\naws_access_key_id = AKIDOPS\n"
			   "aws_secret_access_key = sops\n[profile irsa]\nrole_arn = arn:aws:iam::1:role/x\n";
	char v[64];
	struct r53_creds c = {0};
	assert_int_equal(r53_ini_get(v, sizeof(v), conf, "default", "region"), 0);
	assert_string_equal(v, "eu-west-1");
	assert_int_equal(r53_ini_get(v, sizeof(v), conf, "profile irsa", "role_arn"), 0);
	assert_string_equal(v, "arn:aws:iam::1:role/x");
	assert_int_equal(r53_ini_get(v, sizeof(v), conf, "profile irsa", "region"), ZW_PROV_ENOTFOUND);
	assert_int_equal(r53_ini_get(v, 4, conf, "default", "region"), ZW_PROV_EINVAL);
	assert_int_equal(r53_creds_from_ini(&c, cred, conf, "default"), 0);
	assert_string_equal(c.akid, "AKIDDEFAULT");
	assert_string_equal(c.secret, "sdefault");
	assert_string_equal(c.token, "");
	assert_int_equal(r53_creds_from_ini(&c, cred, conf, "prod"), 0);
	assert_string_equal(c.akid, "AKIDPROD");
	assert_string_equal(c.token, "tprod");
	assert_int_equal(r53_creds_from_ini(&c, cred, conf, "ops"), 0);
	assert_string_equal(c.akid, "AKIDOPS");
	assert_string_equal(c.source, "shared config file [profile ops]");
	assert_int_equal(r53_creds_from_ini(&c, cred, conf, "irsa"), ZW_PROV_ENOTFOUND);
	assert_int_equal(r53_creds_from_ini(&c, NULL, NULL, "default"), ZW_PROV_ENOTFOUND);
}

/* ---- the provider over a fake HTTP table ----------------------------------------------------- */

#define MAX_SEEN 64

struct fake {
	/* canned answers in order; the last repeats */
	struct {
		long status;
		const char *body;
	} answers[8];
	size_t nanswers, next;
	char *urls[MAX_SEEN];
	char *bodies[MAX_SEEN];
	char *auth[MAX_SEEN]; /* the Authorization header, when any */
	int replay_safe[MAX_SEEN];
	size_t seen;
	int classified; /* what the classifier said for the last answer */
};

static struct fake fake;

static int f_request(void *ctx, const struct zw_prov_http_req *req, struct zw_prov_http_resp *resp,
		     struct zw_prov_error *err)
{
	struct fake *f = ctx;
	size_t a = f->next < f->nanswers ? f->next++ : f->nanswers - 1;
	memset(resp, 0, sizeof(*resp));
	if (f->seen < MAX_SEEN) {
		f->urls[f->seen] = strdup(req->url);
		f->bodies[f->seen] = req->body ? strndup(req->body, req->body_len) : NULL;
		f->replay_safe[f->seen] = req->replay_safe;
		for (size_t h = 0; h < req->nheaders; h++)
			if (strncmp(req->headers[h], "Authorization: ", 15) == 0)
				f->auth[f->seen] = strdup(req->headers[h] + 15);
		f->seen++;
	}
	/* tests/integration/route53.test checks every body with botocore's model */
	static unsigned nbody;
	const char *dir = getenv("ZW_R53_UNIT_BODIES");
	if (dir && req->body && strstr(req->url, "/rrset/")) {
		char path[512];
		snprintf(path, sizeof(path), "%s/unit-%04u-ChangeResourceRecordSets.xml", dir, ++nbody);
		FILE *out = fopen(path, "w");
		if (out) {
			fwrite(req->body, 1, req->body_len, out);
			fclose(out);
		}
	}
	resp->status = f->answers[a].status;
	resp->body = f->answers[a].body;
	resp->body_len = strlen(resp->body);
	resp->attempts = 1;
	uint64_t ra = 0;
	int rc = req->classify ? req->classify(req->classify_ctx, resp, &ra)
			       : (resp->status < 300 ? 0 : ZW_PROV_EINVAL);
	f->classified = rc;
	if (rc) {
		err->code = rc;
		snprintf(err->msg, sizeof(err->msg), "fake failure");
	}
	return rc;
}

static void f_release(void *ctx, struct zw_prov_http_resp *resp)
{
	(void)ctx;
	memset(resp, 0, sizeof(*resp));
}

static int f_status(long status)
{
	return status >= 200 && status < 300 ? 0 : status >= 500 ? ZW_PROV_ETRANSIENT : ZW_PROV_EINVAL;
}

static int f_budget(void *ctx, const char *account, unsigned n, uint64_t period_ms, unsigned burst,
		    struct zw_prov_error *err)
{
	(void)ctx, (void)account, (void)n, (void)period_ms, (void)burst, (void)err;
	return 0;
}

static int f_secret(void *ctx, const char *secret, struct zw_prov_error *err)
{
	(void)ctx, (void)secret, (void)err;
	return 0;
}

static const struct zw_prov_http fake_http = {&fake,	f_request, f_release, NULL,
					      f_status, f_budget,  f_secret};

static void fake_reset(void)
{
	for (size_t i = 0; i < fake.seen; i++) {
		free(fake.urls[i]);
		free(fake.bodies[i]);
		free(fake.auth[i]);
	}
	memset(&fake, 0, sizeof(fake));
}

static void fake_answer(long status, const char *body)
{
	fake.answers[fake.nanswers].status = status;
	fake.answers[fake.nanswers++].body = body;
}

static const char *zone_setting, *assume_setting;

static const char *s_get(const struct zw_prov_settings *s, const char *name)
{
	(void)s;
	if (strcmp(name, "assumeRoleArn") == 0)
		return assume_setting;
	return strcmp(name, "hostedZoneId") == 0 ? zone_setting : NULL;
}

static const struct zw_prov_settings settings = {s_get, NULL};

static struct zw_prov_host phost = {ZW_PROVIDER_ABI, NULL, h_alloc, h_realloc, h_free, NULL, &fake_http};

static void *open_provider(void)
{
	void *st = NULL;
	struct zw_prov_error err = {0};
	setenv("AWS_ACCESS_KEY_ID", "AKIDTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("ZW_R53_CAPTURE_DIR");
	setenv("AWS_ENDPOINT_URL_ROUTE_53", "http://r53.test/", 1);
	assert_int_equal(zw_provider_route53.open(&st, &phost, &settings, &err), 0);
	return st;
}

static char found_apex[256], found_id[64];
static int on_zone(void *ctx, const char *apex, const char *id)
{
	(void)ctx;
	snprintf(found_apex, sizeof(found_apex), "%s", apex);
	snprintf(found_id, sizeof(found_id), "%s", id);
	return 0;
}

static char nslist[512];
static int on_ns(void *ctx, const char *ns)
{
	(void)ctx;
	size_t o = strlen(nslist);
	snprintf(nslist + o, sizeof(nslist) - o, "%s ", ns);
	return 0;
}

#define ZONES_HEAD "<ListHostedZonesByNameResponse><HostedZones>"
#define ZONES_TAIL "</HostedZones><IsTruncated>false</IsTruncated></ListHostedZonesByNameResponse>"
#define HZ(id, name, priv)                                                                                   \
	"<HostedZone><Id>/hostedzone/" id "</Id><Name>" name "</Name><Config><PrivateZone>" priv             \
	"</PrivateZone></Config></HostedZone>"
#define GZ(id, ns1)                                                                                          \
	"<GetHostedZoneResponse><HostedZone><Id>/hostedzone/" id                                             \
	"</Id><Name>example.com.</Name></HostedZone>"                                                        \
	"<DelegationSet><NameServers><NameServer>" ns1 "</NameServer></NameServers></DelegationSet>"         \
	"</GetHostedZoneResponse>"

static void zone_choice(void **state)
{
	(void)state;
	struct zw_prov_error err = {0};
	fake_reset();
	/* mail.example.com: nothing of that name; then example.com with a private twin first,
	 * and a zone that only sorts next */
	fake_answer(200, ZONES_HEAD HZ("ZOTHER", "other.mail.example.com.", "false") ZONES_TAIL);
	fake_answer(200, ZONES_HEAD HZ("ZPRIV", "example.com.", "true") HZ("ZPUB", "example.com.", "false")
				 ZONES_TAIL);
	fake_answer(200, GZ("ZPUB", "ns-1.awsdns-01.org"));
	void *st = open_provider();
	assert_int_equal(zw_provider_route53.find_zone(st, "mail.example.com", on_zone, NULL, &err), 0);
	assert_string_equal(found_apex, "example.com.");
	assert_string_equal(found_id, "ZPUB");
	assert_string_equal(
		fake.urls[0],
		"http://r53.test/2013-04-01/hostedzonesbyname?dnsname=mail.example.com.&maxitems=100");
	assert_string_equal(fake.urls[1],
			    "http://r53.test/2013-04-01/hostedzonesbyname?dnsname=example.com.&maxitems=100");
	nslist[0] = '\0';
	assert_int_equal(zw_provider_route53.nameservers(st, "ZPUB", on_ns, NULL, &err), 0);
	assert_string_equal(nslist, "ns-1.awsdns-01.org. ");
	assert_string_equal(fake.urls[2], "http://r53.test/2013-04-01/hostedzone/ZPUB");
	/* asked again: from the cache */
	assert_int_equal(zw_provider_route53.nameservers(st, "ZPUB", on_ns, NULL, &err), 0);
	assert_int_equal(fake.seen, 3);
	zw_provider_route53.close(st);

	/* two public twins: DL-09, each id with its name servers */
	fake_reset();
	fake_answer(200, ZONES_HEAD HZ("ZA", "example.com.", "false") HZ("ZB", "example.com.", "false")
				 ZONES_TAIL);
	fake_answer(200, GZ("ZA", "ns-1.awsdns-01.org"));
	fake_answer(200, GZ("ZB", "ns-9.awsdns-09.net"));
	st = open_provider();
	assert_int_equal(zw_provider_route53.find_zone(st, "example.com.", on_zone, NULL, &err),
			 ZW_PROV_ECONFLICT);
	assert_string_equal(err.msg,
			    "2 public hosted zones are named example.com.: ZA (ns-1.awsdns-01.org.), ZB "
			    "(ns-9.awsdns-09.net.); set route53.hostedZoneId to the one the parent delegates "
			    "to (DL-09)");
	zw_provider_route53.close(st);

	/* only a private zone: not found */
	fake_reset();
	fake_answer(200, ZONES_HEAD HZ("ZPRIV", "example.com.", "true") ZONES_TAIL);
	fake_answer(200, ZONES_HEAD ZONES_TAIL);
	st = open_provider();
	assert_int_equal(zw_provider_route53.find_zone(st, "example.com", on_zone, NULL, &err),
			 ZW_PROV_ENOTFOUND);
	assert_string_equal(err.msg, "no public hosted zone holds example.com. (private zones are skipped)");
	zw_provider_route53.close(st);

	/* hostedZoneId set: GetHostedZone only */
	fake_reset();
	fake_answer(200, GZ("ZSET", "ns-1.awsdns-01.org"));
	zone_setting = "/hostedzone/ZSET";
	st = open_provider();
	assert_int_equal(zw_provider_route53.find_zone(st, "example.com", on_zone, NULL, &err), 0);
	assert_string_equal(found_id, "ZSET");
	assert_int_equal(fake.seen, 1);
	zone_setting = NULL;
	zw_provider_route53.close(st);
	fake_reset();
}

struct got {
	char text[4096];
	size_t sets;
};

static int on_rrset(void *ctx, const struct zw_prov_rrset *s)
{
	struct got *g = ctx;
	size_t o = strlen(g->text);
	g->sets++;
	o += (size_t)snprintf(g->text + o, sizeof(g->text) - o, "%s %u %u:", s->name, s->type, s->ttl);
	for (size_t i = 0; i < s->nrd; i++) {
		if (s->rd[i].text) {
			o += (size_t)snprintf(g->text + o, sizeof(g->text) - o, " [%s]", s->rd[i].text);
			continue;
		}
		size_t off = 0;
		o += (size_t)snprintf(g->text + o, sizeof(g->text) - o, " [");
		for (size_t j = 0; j < s->rd[i].n; j++) {
			o += (size_t)snprintf(g->text + o, sizeof(g->text) - o, "%s<%.*s>", j ? "," : "",
					      (int)s->rd[i].lens[j], s->rd[i].data + off);
			off += s->rd[i].lens[j];
		}
		o += (size_t)snprintf(g->text + o, sizeof(g->text) - o, "]");
	}
	snprintf(g->text + o, sizeof(g->text) - o, "\n");
	return 0;
}

#define PAGE1                                                                                                \
	"<ListResourceRecordSetsResponse><ResourceRecordSets>"                                               \
	"<ResourceRecordSet><Name>example.com.</Name><Type>SOA</Type><TTL>900</TTL><ResourceRecords>"        \
	"<ResourceRecord><Value>{'Value': "                                                                  \
	"'x'}</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>"                                \
	"<ResourceRecordSet><Name>example.com.</Name><Type>TXT</Type><TTL>300</TTL><ResourceRecords>"        \
	"<ResourceRecord><Value>\"v=spf1 -all\"</Value></ResourceRecord><ResourceRecord><Value>\"a\" "       \
	"\"b\\\"c\""                                                                                         \
	"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet>"                                    \
	"</ResourceRecordSets><IsTruncated>true</IsTruncated><NextRecordName>\\052.example.com.</"           \
	"NextRecordName>"                                                                                    \
	"<NextRecordType>CNAME</NextRecordType><MaxItems>300</MaxItems></ListResourceRecordSetsResponse>"
#define PAGE2                                                                                                \
	"<ListResourceRecordSetsResponse><ResourceRecordSets>"                                               \
	"<ResourceRecordSet><Name>\\052.example.com.</Name><Type>CNAME</Type><TTL>60</TTL><ResourceRecords>" \
	"<ResourceRecord><Value>Target.Example.net</Value></ResourceRecord></ResourceRecords></"             \
	"ResourceRecordSet>"                                                                                 \
	"<ResourceRecordSet><Name>www.example.com.</Name><Type>A</Type><AliasTarget><HostedZoneId>Z</"       \
	"HostedZoneId>"                                                                                      \
	"<DNSName>x.</DNSName><EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget></"            \
	"ResourceRecordSet>"                                                                                 \
	"</ResourceRecordSets><IsTruncated>false</IsTruncated><MaxItems>300</MaxItems>"                      \
	"</ListResourceRecordSetsResponse>"

static void list_pages(void **state)
{
	(void)state;
	struct zw_prov_error err = {0};
	struct got g = {"", 0};
	fake_reset();
	fake_answer(200, PAGE1);
	fake_answer(200, PAGE2);
	void *st = open_provider();
	assert_int_equal(zw_provider_route53.list(st, "ZPUB", on_rrset, &g, &err), 0);
	assert_string_equal(g.text, "example.com. 16 300: [<v=spf1 -all>] [<a>,<b\"c>]\n"
				    "*.example.com. 5 60: [target.example.net.]\n");
	assert_int_equal(fake.seen, 2);
	assert_string_equal(fake.urls[0], "http://r53.test/2013-04-01/hostedzone/ZPUB/rrset?maxitems=300");
	assert_string_equal(fake.urls[1], "http://r53.test/2013-04-01/hostedzone/ZPUB/"
					  "rrset?maxitems=300&name=%5C052.example.com.&type=CNAME");
	zw_provider_route53.close(st);

	/* a server that repeats a page: the listing stops with an error, not forever */
	fake_reset();
	fake_answer(200, PAGE1);
	st = open_provider();
	memset(&g, 0, sizeof(g));
	assert_int_equal(zw_provider_route53.list(st, "ZPUB", on_rrset, &g, &err), ZW_PROV_EIO);
	assert_string_equal(err.msg,
			    "ListResourceRecordSets of ZPUB repeats the page at \\052.example.com. CNAME: "
			    "the listing does not advance");
	assert_int_equal(fake.seen, 2);
	zw_provider_route53.close(st);

	/* NoSuchHostedZone */
	fake_reset();
	fake_answer(404, "<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchHostedZone</Code><Message>No "
			 "hosted zone "
			 "found with ID: ZX</Message></Error></ErrorResponse>");
	st = open_provider();
	assert_int_equal(zw_provider_route53.list(st, "ZX", on_rrset, &g, &err), ZW_PROV_ENOTFOUND);
	assert_string_equal(
		err.msg, "ListResourceRecordSets: NoSuchHostedZone: No hosted zone found with ID: ZX (http "
			 "404, 1 attempt)");
	zw_provider_route53.close(st);
	fake_reset();
}

#define CHANGED                                                                                              \
	"<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/C1</Id><Status>PENDING</Status></"        \
	"ChangeInfo>"                                                                                        \
	"</ChangeResourceRecordSetsResponse>"

/* n TXT changes, one value each, at distinct names; op for all */
struct plan {
	struct zw_prov_change *ch;
	struct zw_prov_rrset *sets;
	struct zw_prov_rdata *rd;
	char (*names)[64];
	size_t lens[1];
};

static void plan_make(struct plan *p, size_t n, enum zw_prov_op op, size_t vlen)
{
	static char value[4096];
	memset(value, 'v', sizeof(value));
	p->ch = calloc(n, sizeof(*p->ch));
	p->sets = calloc(n, sizeof(*p->sets));
	p->rd = calloc(n, sizeof(*p->rd));
	p->names = calloc(n, sizeof(*p->names));
	p->lens[0] = vlen;
	for (size_t i = 0; i < n; i++) {
		snprintf(p->names[i], sizeof(p->names[i]), "n%05zu.example.com.", i);
		p->rd[i] = (struct zw_prov_rdata){value, vlen, p->lens, 1, NULL};
		p->sets[i] = (struct zw_prov_rrset){p->names[i], 16, 300, &p->rd[i], 1};
		p->ch[i].op = op;
		if (op == ZW_PROV_DELETE)
			p->ch[i].before = &p->sets[i];
		else
			p->ch[i].after = &p->sets[i];
	}
}

static void plan_free(struct plan *p)
{
	free(p->ch);
	free(p->sets);
	free(p->rd);
	free(p->names);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static void apply_batches(void **state)
{
	(void)state;
	struct zw_prov_error err = {0};
	struct plan p;
	void *st;

	/* 500 UPSERTs fit one request (1000 records counted twice); 501 do not */
	fake_reset();
	fake_answer(200, CHANGED);
	st = open_provider();
	plan_make(&p, 500, ZW_PROV_UPDATE, 10);
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 500, &err), 0);
	assert_int_equal(fake.seen, 1);
	assert_int_equal(fake.replay_safe[0], 1);
	assert_int_equal(count(fake.bodies[0], "<Action>UPSERT</Action>"), 500);
	assert_string_equal(fake.urls[0], "http://r53.test/2013-04-01/hostedzone/ZPUB/rrset/");
	assert_int_equal(p.ch[499].result, ZW_PROV_APPLIED);
	plan_free(&p);
	fake_reset();
	fake_answer(200, CHANGED);
	plan_make(&p, 501, ZW_PROV_UPDATE, 10);
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 501, &err), 0);
	assert_int_equal(fake.seen, 2);
	assert_int_equal(count(fake.bodies[0], "<Change>"), 500);
	assert_int_equal(count(fake.bodies[1], "<Change>"), 1);
	plan_free(&p);

	/* 2 500 CREATEs: three requests of 1000, 1000, 500; not replay-safe */
	fake_reset();
	fake_answer(200, CHANGED);
	plan_make(&p, 2500, ZW_PROV_CREATE, 5);
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 2500, &err), 0);
	assert_int_equal(fake.seen, 3);
	assert_int_equal(count(fake.bodies[0], "<Change>"), 1000);
	assert_int_equal(count(fake.bodies[2], "<Change>"), 500);
	assert_int_equal(fake.replay_safe[0], 0);
	plan_free(&p);

	/* the 32 000 character limit: values of 1000 octets (1002 characters quoted) */
	fake_reset();
	fake_answer(200, CHANGED);
	plan_make(&p, 40, ZW_PROV_CREATE, 1000);
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 40, &err), 0);
	assert_int_equal(fake.seen, 2);
	assert_int_equal(count(fake.bodies[0], "<Change>"),
			 31); /* 31 * 1008 chars ("..." "..." "..." "...") */
	assert_int_equal(count(fake.bodies[1], "<Change>"), 9);
	plan_free(&p);

	/* InvalidChangeBatch in Route 53's own shape: permanent, the message on each change */
	fake_reset();
	fake_answer(
		400,
		"<InvalidChangeBatch "
		"xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\"><Messages><Message>"
		"Tried to create resource record set [name='n00000.example.com.', type='TXT'] but it already "
		"exists</Message></Messages><RequestId>x</RequestId></InvalidChangeBatch>");
	plan_make(&p, 2, ZW_PROV_CREATE, 5);
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 2, &err), ZW_PROV_ECONFLICT);
	assert_int_equal(fake.classified, ZW_PROV_ECONFLICT);
	assert_int_equal(p.ch[0].result, ZW_PROV_PERMANENT);
	assert_int_equal(p.ch[1].result, ZW_PROV_PERMANENT);
	assert_string_equal(
		err.msg,
		"batch 1/1: ChangeResourceRecordSets: InvalidChangeBatch: Tried to create resource "
		"record set [name='n00000.example.com.', type='TXT'] but it already exists (http 400, "
		"1 attempt)");
	assert_string_equal(p.ch[1].message, err.msg);
	plan_free(&p);

	/* Throttling and PriorRequestNotComplete (HTTP 400) are rate errors: retryable */
	fake_reset();
	fake_answer(400,
		    "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded"
		    "</Message></Error></ErrorResponse>");
	plan_make(&p, 1, ZW_PROV_CREATE, 5);
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 1, &err), ZW_PROV_ERATE);
	assert_int_equal(p.ch[0].result, ZW_PROV_RETRYABLE);
	fake_reset();
	fake_answer(400,
		    "<ErrorResponse><Error><Code>PriorRequestNotComplete</Code><Message>x</Message></Error>"
		    "</ErrorResponse>");
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 1, &err), ZW_PROV_ERATE);
	fake_reset();
	fake_answer(500, "");
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 1, &err), ZW_PROV_ETRANSIENT);
	assert_int_equal(p.ch[0].result, ZW_PROV_RETRYABLE);
	fake_reset();
	fake_answer(400, "<ErrorResponse><Error><Code>InvalidInput</Code><Message>bad</Message></Error></"
			 "ErrorResponse>");
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 1, &err), ZW_PROV_EINVAL);
	assert_int_equal(p.ch[0].result, ZW_PROV_PERMANENT);
	plan_free(&p);

	/* a throttled first batch stops the rest: not sent, and said so */
	fake_reset();
	fake_answer(400,
		    "<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
		    "</ErrorResponse>");
	plan_make(&p, 501, ZW_PROV_UPDATE, 10);
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 501, &err), ZW_PROV_ERATE);
	assert_int_equal(fake.seen, 1);
	assert_int_equal(p.ch[0].result, ZW_PROV_RETRYABLE);
	assert_int_equal(p.ch[500].result, ZW_PROV_NOT_APPLIED);
	assert_string_equal(p.ch[500].message,
			    "not sent: an earlier batch failed and the next run plans again");
	plan_free(&p);

	/* one name whose changes alone exceed a request: that name refused, the others sent */
	fake_reset();
	fake_answer(200, CHANGED);
	plan_make(&p, 3, ZW_PROV_UPDATE, 10);
	struct zw_prov_rdata *many = calloc(501, sizeof(*many));
	for (size_t i = 0; i < 501; i++)
		many[i] = p.rd[1];
	p.sets[1].rd = many;
	p.sets[1].nrd = 501; /* 501 values, UPSERT: 1002 records */
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 3, &err), ZW_PROV_EINVAL);
	assert_int_equal(fake.seen, 1);
	assert_int_equal(count(fake.bodies[0], "<Change>"), 2);
	assert_int_equal(p.ch[0].result, ZW_PROV_APPLIED);
	assert_int_equal(p.ch[1].result, ZW_PROV_PERMANENT);
	assert_int_equal(p.ch[2].result, ZW_PROV_APPLIED);
	assert_string_equal(err.msg, "changes of n00001.example.com. exceed one request");
	free(many);
	plan_free(&p);
	zw_provider_route53.close(st);
	fake_reset();
}

#define INSYNC                                                                                               \
	"<GetChangeResponse><ChangeInfo><Id>C1</Id><Status>INSYNC</Status></ChangeInfo></GetChangeResponse>"
#define PENDING                                                                                              \
	"<GetChangeResponse><ChangeInfo><Id>C1</Id><Status>PENDING</Status></ChangeInfo></"                  \
	"GetChangeResponse>"

/* Optional INSYNC wait: GetChange polled until INSYNC, bounded; never when the answer is
 * INSYNC already (moto) or the wait is off. */
static void insync_wait(void **state)
{
	(void)state;
	struct zw_prov_error err = {0};
	struct plan p;
	setenv("ZONEWARDEN_ROUTE53_WAIT_INSYNC", "30", 1);
	setenv("ZONEWARDEN_ROUTE53_INSYNC_INTERVAL", "0", 1);
	fake_reset();
	fake_answer(200, CHANGED);
	fake_answer(200, PENDING);
	fake_answer(200, INSYNC);
	void *st = open_provider();
	plan_make(&p, 2, ZW_PROV_CREATE, 5);
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 2, &err), 0);
	assert_int_equal(fake.seen, 3);
	assert_string_equal(fake.urls[1], "http://r53.test/2013-04-01/change/C1");
	assert_string_equal(fake.urls[2], "http://r53.test/2013-04-01/change/C1");
	assert_int_equal(p.ch[0].result, ZW_PROV_APPLIED);
	zw_provider_route53.close(st);
	/* already INSYNC in the ChangeInfo: no GetChange */
	fake_reset();
	fake_answer(200,
		    "<ChangeResourceRecordSetsResponse><ChangeInfo><Id>/change/C2</Id><Status>INSYNC</Status>"
		    "</ChangeInfo></ChangeResourceRecordSetsResponse>");
	st = open_provider();
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 2, &err), 0);
	assert_int_equal(fake.seen, 1);
	zw_provider_route53.close(st);
	/* never INSYNC: bounded by the wait, and still applied */
	setenv("ZONEWARDEN_ROUTE53_WAIT_INSYNC", "1", 1);
	setenv("ZONEWARDEN_ROUTE53_INSYNC_INTERVAL", "1", 1);
	fake_reset();
	fake_answer(200, CHANGED);
	fake_answer(200, PENDING);
	st = open_provider();
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 2, &err), 0);
	assert_true(fake.seen >= 2 && fake.seen <= 3);
	assert_int_equal(p.ch[1].result, ZW_PROV_APPLIED);
	zw_provider_route53.close(st);
	/* off: no GetChange even when PENDING */
	unsetenv("ZONEWARDEN_ROUTE53_WAIT_INSYNC");
	unsetenv("ZONEWARDEN_ROUTE53_INSYNC_INTERVAL");
	fake_reset();
	fake_answer(200, CHANGED);
	st = open_provider();
	assert_int_equal(zw_provider_route53.apply(st, "ZPUB", p.ch, 2, &err), 0);
	assert_int_equal(fake.seen, 1);
	zw_provider_route53.close(st);
	plan_free(&p);
	fake_reset();
}

/* route53.assumeRoleArn: STS AssumeRole signed with the chain's key (service sts), then
 * Route 53 signed with the role's credentials. */
static void assume_role(void **state)
{
	(void)state;
	struct zw_prov_error err = {0};
	fake_reset();
	fake_answer(
		200,
		"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAROLE</AccessKeyId>"
		"<SecretAccessKey>rolesecret</SecretAccessKey><SessionToken>roletoken</"
		"SessionToken><Expiration>"
		"2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>");
	fake_answer(200, GZ("ZSET", "ns-1.awsdns-01.org"));
	setenv("AWS_ENDPOINT_URL_STS", "http://sts.test", 1);
	assume_setting = "arn:aws:iam::123456789012:role/dns";
	zone_setting = "ZSET";
	void *st = open_provider();
	assert_int_equal(zw_provider_route53.find_zone(st, "example.com", on_zone, NULL, &err), 0);
	assert_int_equal(fake.seen, 2);
	assert_string_equal(fake.urls[0], "http://sts.test/");
	assert_string_equal(fake.bodies[0],
			    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%"
			    "3Arole%2Fdns&RoleSessionName=zonewarden&DurationSeconds=3600");
	assert_non_null(strstr(fake.auth[0], "Credential=AKIDTEST/"));
	assert_non_null(strstr(fake.auth[0], "/us-east-1/sts/aws4_request"));
	assert_non_null(strstr(fake.auth[1], "Credential=ASIAROLE/"));
	assert_non_null(strstr(fake.auth[1], "SignedHeaders=host;x-amz-date;x-amz-security-token"));
	zw_provider_route53.close(st);
	/* a refusal is one line naming the role */
	fake_reset();
	fake_answer(403,
		    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed"
		    "</Message></Error></ErrorResponse>");
	st = NULL;
	assert_int_equal(zw_provider_route53.open(&st, &phost, &settings, &err), ZW_PROV_EINVAL);
	assert_string_equal(
		err.msg,
		"assume role arn:aws:iam::123456789012:role/dns: sts: AccessDenied not allowed (http 403)");
	assume_setting = zone_setting = NULL;
	unsetenv("AWS_ENDPOINT_URL_STS");
	fake_reset();
}

/* The opt-in delegation fix: UpdateDomainNameservers with the zone's DelegationSet. */
static void fix_delegation(void **state)
{
	(void)state;
	struct zw_prov_error err = {0};
	struct r53_buf b;
	char ns[2][256] = {"ns-2048.awsdns-64.com.", "ns-2049.awsdns-65.net."}, op[64];
	r53_buf_init(&b, &host, 1 << 16);
	assert_int_equal(r53_domains_body(&b, "example.com.", (const char(*)[256])ns, 2), 0);
	assert_string_equal(b.p, DOMAINS_BODY);
	r53_buf_free(&b);

	fake_reset();
	fake_answer(200, GZ("ZPUB", "ns-2048.awsdns-64.com"));
	fake_answer(200, "{\"OperationId\":\"op-123\"}");
	setenv("AWS_ENDPOINT_URL_ROUTE_53_DOMAINS", "http://domains.test", 1);
	void *st = open_provider();
	assert_int_equal(r53_fix_delegation(st, "example.com.", "ZPUB", op, sizeof(op), &err), 0);
	assert_string_equal(op, "op-123");
	assert_int_equal(fake.seen, 2);
	assert_string_equal(fake.urls[1], "http://domains.test/");
	assert_string_equal(
		fake.bodies[1],
		"{\"DomainName\":\"example.com\",\"Nameservers\":[{\"Name\":\"ns-2048.awsdns-64.com\"}]}");
	assert_int_equal(fake.replay_safe[1], 1);
	assert_non_null(strstr(fake.auth[1], "/us-east-1/route53domains/aws4_request, "
					     "SignedHeaders=content-type;host;x-amz-date;x-amz-target,"));
	/* a JSON error in one line; throttling is a rate error */
	fake_reset();
	fake_answer(400, "{\"__type\":\"TLDRulesViolation\",\"message\":\"not for this tld\"}");
	assert_int_equal(r53_fix_delegation(st, "example.com.", "ZPUB", op, sizeof(op), &err),
			 ZW_PROV_EINVAL);
	assert_string_equal(
		err.msg,
		"UpdateDomainNameservers example.com.: TLDRulesViolation: not for this tld (http 400)");
	fake_reset();
	fake_answer(400, "{\"__type\":\"com.amazonaws#ThrottlingException\",\"message\":\"slow down\"}");
	assert_int_equal(r53_fix_delegation(st, "example.com.", "ZPUB", op, sizeof(op), &err), ZW_PROV_ERATE);
	zw_provider_route53.close(st);
	unsetenv("AWS_ENDPOINT_URL_ROUTE_53_DOMAINS");
	fake_reset();
}

/* ---- against moto: the core's real HTTP client under the ABI's table -------------------- */

struct wrap {
	zw_prov_http_classify_fn fn;
	void *ctx;
};

static void resp_view(struct zw_prov_http_resp *out, struct zw_http_resp *r)
{
	out->status = r->status;
	out->body = r->body.p ? r->body.p : "";
	out->body_len = r->body.len;
	out->attempts = r->attempts;
	out->retry_after_ms = r->retry_after_ms;
	out->impl = r;
}

static int real_classify(void *ctx, const struct zw_http_resp *r, uint64_t *retry_after_ms)
{
	const struct wrap *w = ctx;
	struct zw_prov_http_resp v;
	resp_view(&v, (struct zw_http_resp *)r);
	return w->fn(w->ctx, &v, retry_after_ms);
}

static int real_request(void *ctx, const struct zw_prov_http_req *req, struct zw_prov_http_resp *resp,
			struct zw_prov_error *err)
{
	struct zw_http_resp *r = calloc(1, sizeof(*r));
	struct wrap w = {req->classify, req->classify_ctx};
	struct zw_error e = {0};
	*r = (struct zw_http_resp)ZW_HTTP_RESP_INIT;
	struct zw_http_req hr = {req->method,
				 req->url,
				 req->headers,
				 req->nheaders,
				 req->body,
				 req->body_len,
				 req->account,
				 req->replay_safe,
				 req->classify ? real_classify : NULL,
				 &w};
	int rc = zw_http_do(ctx, &hr, r, &e);
	resp_view(resp, r);
	if (rc) {
		err->code = rc;
		snprintf(err->msg, sizeof(err->msg), "%s", e.msg);
	}
	return rc;
}

static void real_release(void *ctx, struct zw_prov_http_resp *resp)
{
	(void)ctx;
	if (resp->impl) {
		zw_http_resp_free(resp->impl);
		free(resp->impl);
	}
	memset(resp, 0, sizeof(*resp));
}

static int real_budget(void *ctx, const char *account, unsigned n, uint64_t period_ms, unsigned burst,
		       struct zw_prov_error *err)
{
	struct zw_http_rate rate = {n, period_ms, burst};
	struct zw_error e = {0};
	(void)err;
	return zw_http_budget_set(ctx, account, &rate, &e);
}

static int real_secret(void *ctx, const char *secret, struct zw_prov_error *err)
{
	struct zw_error e = {0};
	(void)err;
	return zw_http_secret_add(ctx, secret, &e);
}

/* With $ZW_R53_MOTO (moto's URL), $ZW_R53_MOTO_ZONE and $ZW_R53_MOTO_DOMAIN set by
 * tests/integration/route53.test: UpdateDomainNameservers on moto's Route 53 Domains
 * for a registered domain; the script then reads the registration's name servers. */
static void moto_fix_delegation(void **state)
{
	(void)state;
	const char *url = getenv("ZW_R53_MOTO"), *zone = getenv("ZW_R53_MOTO_ZONE");
	const char *domain = getenv("ZW_R53_MOTO_DOMAIN");
	if (!url || !zone || !domain)
		fail_msg("ZW_R53_MOTO, ZW_R53_MOTO_ZONE and ZW_R53_MOTO_DOMAIN must be set (route53.test)");
	struct zw_http_client *c = NULL;
	struct zw_http_opts o;
	struct zw_error e = {0};
	struct zw_prov_error err = {0};
	char op[128];
	zw_http_opts_init(&o);
	assert_int_equal(zw_http_client_new(&c, &o, &e), 0);
	struct zw_prov_http table = {c,		  real_request, real_release, NULL, zw_http_status_error,
				     real_budget, real_secret};
	struct zw_prov_host h = {ZW_PROVIDER_ABI, NULL, h_alloc, h_realloc, h_free, NULL, &table};
	setenv("AWS_ENDPOINT_URL_ROUTE_53", url, 1);
	setenv("AWS_ENDPOINT_URL_ROUTE_53_DOMAINS", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDMOTO", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "motosecret", 1);
	void *st = NULL;
	assert_int_equal(zw_provider_route53.open(&st, &h, &settings, &err), 0);
	if (r53_fix_delegation(st, domain, zone, op, sizeof(op), &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(strlen(op) > 0);
	zw_provider_route53.close(st);
	zw_http_client_free(c);
	unsetenv("AWS_ENDPOINT_URL_ROUTE_53_DOMAINS");
}

/* Every allocation of open, find_zone, nameservers, list, apply and the delegation fix
 * failing in turn: an error, never a crash or leak. */
static int alloc_run(void)
{
	struct zw_prov_error err = {0};
	struct got g = {"", 0};
	struct plan p;
	void *st = NULL;
	fake.next = 0;
	char op[64];
	int rc = zw_provider_route53.open(&st, &phost, &settings, &err);
	if (rc)
		return rc;
	if ((rc = zw_provider_route53.find_zone(st, "example.com", on_zone, NULL, &err)) == 0 &&
	    (rc = zw_provider_route53.nameservers(st, "ZPUB", on_ns, NULL, &err)) == 0)
		rc = zw_provider_route53.list(st, "ZPUB", on_rrset, &g, &err);
	if (rc == 0) {
		plan_make(&p, 3, ZW_PROV_UPDATE, 300);
		rc = zw_provider_route53.apply(st, "ZPUB", p.ch, 3, &err);
		plan_free(&p);
	}
	if (rc == 0)
		rc = r53_fix_delegation(st, "example.com", "ZPUB", op, sizeof(op), &err);
	zw_provider_route53.close(st);
	return rc;
}

static void allocation_failures(void **state)
{
	(void)state;
	fake_reset();
	fake_answer(200, ZONES_HEAD HZ("ZPUB", "example.com.", "false") ZONES_TAIL);
	fake_answer(200, GZ("ZPUB", "ns-1.awsdns-01.org"));
	fake_answer(200, PAGE1);
	fake_answer(200, PAGE2);
	fake_answer(200, CHANGED);
	fake_answer(200, "{\"OperationId\":\"op-1\"}");
	void *st = open_provider(); /* sets the environment */
	zw_provider_route53.close(st);
	ZW_FOR_EACH_ALLOC_FAILURE(alloc_run());
	fake_reset();
}

static void missing_credentials(void **state)
{
	(void)state;
	void *st = NULL;
	struct zw_prov_error err = {0};
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_ROLE_ARN");
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_DEFAULT_PROFILE");
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
	assert_int_equal(zw_provider_route53.open(&st, &phost, &settings, &err), ZW_PROV_EAUTH);
	assert_string_equal(
		err.msg,
		"no aws credentials: tried the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), "
		"web identity (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) and the shared files "
		"/nonexistent/credentials and /nonexistent/config (profile default)");
	assert_null(st);
	/* a profile from the shared files */
	char path[] = "/tmp/zw-r53-cred-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "[team]\naws_access_key_id = AKIDTEAM\naws_secret_access_key = steam\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
	setenv("AWS_PROFILE", "team", 1);
	fake_reset();
	fake_answer(200, GZ("ZSET", "ns-1.awsdns-01.org"));
	zone_setting = "ZSET";
	assert_int_equal(zw_provider_route53.open(&st, &phost, &settings, &err), 0);
	assert_int_equal(zw_provider_route53.find_zone(st, "example.com", on_zone, NULL, &err), 0);
	assert_int_equal(fake.seen, 1);
	zone_setting = NULL;
	zw_provider_route53.close(st);
	unlink(path);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	fake_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sigv4_known_answers), cmocka_unit_test(txt_encode_cases),
		cmocka_unit_test(txt_decode_cases),    cmocka_unit_test(names_decode),
		cmocka_unit_test(error_shapes),	       cmocka_unit_test(responses),
		cmocka_unit_test(batch_body),	       cmocka_unit_test(shared_files),
		cmocka_unit_test(zone_choice),	       cmocka_unit_test(list_pages),
		cmocka_unit_test(apply_batches),       cmocka_unit_test(insync_wait),
		cmocka_unit_test(assume_role),	       cmocka_unit_test(fix_delegation),
		cmocka_unit_test(allocation_failures), cmocka_unit_test(missing_credentials),
	};
	/* against moto, run by tests/integration/route53.test: a group of its own, so the
	 * plain unit run has nothing to skip */
	const struct CMUnitTest moto[] = {
		cmocka_unit_test(moto_fix_delegation),
	};
	if (getenv("ZW_R53_MOTO"))
		return cmocka_run_group_tests_name("route53-moto", moto, NULL, NULL);
	return cmocka_run_group_tests_name("route53", tests, NULL, NULL);
}

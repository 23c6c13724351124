#!/usr/bin/env python3
"""sigv4-vectors.py - the SigV4 known-answer vectors of tests/unit/test_route53.c, made
with botocore's SigV4Auth (the oracle sigv4_curl.py matches byte for byte) at the fixed
time 2026-11-23T10:20:30Z. Run with the python3 that has botocore; prints one
Authorization value per case, in the order of the C table."""
import datetime
from unittest import mock
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AK = 'AKIDEXAMPLE'
SK = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
TOK = 'FQoGZXIvYXdzEXAMPLETOKEN//+=='
BODY = ('<?xml version="1.0" encoding="UTF-8"?><ChangeResourceRecordSetsRequest '
        'xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><ChangeBatch><Changes/></ChangeBatch>'
        '</ChangeResourceRecordSetsRequest>')
R53 = 'https://route53.amazonaws.com/2013-04-01'
CASES = [
    ('GET', R53 + '/hostedzone/Z123/rrset?name=_dmarc.example.com.&type=TXT&maxitems=100', None, None),
    ('POST', R53 + '/hostedzone/Z123/rrset/', BODY, None),
    ('GET', 'http://127.0.0.1:5055/2013-04-01/hostedzonesbyname?dnsname=example.com.&maxitems=100', None, None),
    ('GET', R53 + '/hostedzone/Z123/rrset?maxitems=300&name=%5C052.example.com.&type=A', None, TOK),
    ('POST', R53 + '/hostedzone/Z123/rrset/', BODY, TOK),
    ('GET', R53 + '/hostedzone/Z0123456789ABC', None, None),
]
FIXED = datetime.datetime(2026, 11, 23, 10, 20, 30)
for method, url, body, token in CASES:
    req = AWSRequest(method=method, url=url, data=(body or '').encode(),
                     headers={'Content-Type': 'text/xml'} if body else {})
    with mock.patch('botocore.auth.get_current_datetime', return_value=FIXED):
        SigV4Auth(Credentials(AK, SK, token), 'route53', 'us-east-1').add_auth(req)
    print(req.headers['Authorization'])

# Route 53 Domains (JSON 1.1): X-Amz-Target is signed too
DOMAINS_BODY = ('{"DomainName":"example.com","Nameservers":[{"Name":"ns-2048.awsdns-64.com"},'
                '{"Name":"ns-2049.awsdns-65.net"}]}')
req = AWSRequest(method='POST', url='https://route53domains.us-east-1.amazonaws.com/', data=DOMAINS_BODY.encode(),
                 headers={'Content-Type': 'application/x-amz-json-1.1',
                          'X-Amz-Target': 'Route53Domains_v20140515.UpdateDomainNameservers'})
with mock.patch('botocore.auth.get_current_datetime', return_value=FIXED):
    SigV4Auth(Credentials(AK, SK), 'route53domains', 'us-east-1').add_auth(req)
print(req.headers['Authorization'])

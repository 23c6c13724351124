#!/usr/bin/env python3
"""r53_helper.py - the Route 53 side of tests/integration/route53.test and bench/route53,
on moto through boto3 (run it with the python3 that has boto3; AWS_ENDPOINT_URL_ROUTE_53
points at moto).

  create NAME [private]        create a hosted zone, print its bare id
  seed ZONEID APEX N           the mistakes of the loop plus N filler A records
  change ZONEID ACTION NAME TYPE TTL VALUE...   one change (the "someone else" writer)
  register DOMAIN              register DOMAIN at moto's Route 53 Domains
  domain-ns DOMAIN             the registration's name servers, sorted, one line
  dump ZONEID                  every rrset, one line each: NAME TYPE TTL VALUE|VALUE (sorted)
  mirror ZONEID APEX ZONEFILE SOCKET   forever: copy the listing into a Knot zone file and
                               reload it when it changed (SPEC §12: moto serves no DNS);
                               every $MIRROR_INTERVAL seconds (0.3)

TXT values come back from Route 53 with octal \\ooo escapes; the zone file wants decimal
\\DDD, so the mirror decodes to bytes and re-encodes."""
import os
import subprocess
import sys
import time

import boto3


def client():
    return boto3.client("route53", region_name="us-east-1",
                        endpoint_url=os.environ.get("AWS_ENDPOINT_URL_ROUTE_53"))


def rrsets(c, zid):
    out = []
    for page in c.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zid):
        out.extend(page["ResourceRecordSets"])
    return out


def txt_bytes(value):
    """Route 53 TXT value -> list of byte strings (quoted strings, \\" \\\\ \\ooo)."""
    out, i, v = [], 0, value.encode()
    while i < len(v):
        while i < len(v) and v[i:i + 1] in (b" ", b"\t"):
            i += 1
        if i >= len(v):
            break
        quoted = v[i:i + 1] == b'"'
        if quoted:
            i += 1
        s = bytearray()
        while i < len(v) and (v[i:i + 1] != b'"' if quoted else v[i:i + 1] not in (b" ", b"\t")):
            ch = v[i:i + 1]
            i += 1
            if ch == b"\\":
                if v[i:i + 3].isdigit() and all(48 <= b <= 55 for b in v[i:i + 3]):
                    s.append(int(v[i:i + 3], 8))
                    i += 3
                    continue
                ch = v[i:i + 1]
                i += 1
            s += ch
        if quoted:
            i += 1
        out.append(bytes(s))
    return out


def zone_txt(strings):
    parts = []
    for s in strings:
        t = ""
        for b in s:
            if b in (0x22, 0x5C):
                t += "\\" + chr(b)
            elif b < 0x20 or b >= 0x7F:
                t += "\\%03d" % b
            else:
                t += chr(b)
        parts.append('"' + t + '"')
    return " ".join(parts)


def name_of(n):
    return n.replace("\\052", "*").lower()


def render(sets, apex, serial):
    lines = ["$ORIGIN .", "$TTL 300",
             f"{apex} 300 SOA ns-2048.awsdns-64.com. awsdns-hostmaster.amazon.com. {serial} 7200 900 1209600 86400"]
    for s in sets:
        if s["Type"] == "SOA" or "ResourceRecords" not in s:
            continue
        for r in s["ResourceRecords"]:
            v = r["Value"]
            if s["Type"] in ("TXT", "SPF"):
                v = zone_txt(txt_bytes(v))
            elif s["Type"] in ("NS", "CNAME", "PTR") and not v.endswith("."):
                v += "."
            lines.append(f"{name_of(s['Name'])} {s['TTL']} {s['Type']} {v}")
    return "\n".join(lines) + "\n"


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    c = client()
    if cmd == "create":
        kw = {"Name": a[0], "CallerReference": f"{a[0]}-{time.time()}"}
        if len(a) > 1 and a[1] == "private":
            kw["HostedZoneConfig"] = {"PrivateZone": True, "Comment": "private twin"}
            kw["VPC"] = {"VPCRegion": "us-east-1", "VPCId": "vpc-12345678"}
        print(c.create_hosted_zone(**kw)["HostedZone"]["Id"].split("/")[-1])
    elif cmd == "seed":
        zid, apex, n = a[0], a[1], int(a[2])
        ch = [("A", "www", ["192.0.2.10"]), ("A", "mail", ["192.0.2.25"]), ("MX", "", ["10 mail." + apex]),
              ("TXT", "", ['"google-site-verification=rXOxyZounnZasA8Z7oaD3c14JdjS9aKSWvsR1EbUSIQ"',
                           '"v=spf1 include:_spf.mail.esp.test -all"',
                           '"v=spf1 include:_spf.office.esp.test ~all"']),
              ("TXT", "_dmarc", ['"v=DMARC1; p=none"']),
              ("A", "*", ["192.0.2.99"])]
        changes = [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": (f"{p}.{apex}" if p else apex), "Type": t, "TTL": 300,
            "ResourceRecords": [{"Value": v} for v in vals]}} for t, p, vals in ch]
        changes += [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": f"host{i:04d}.{apex}", "Type": "A", "TTL": 300,
            "ResourceRecords": [{"Value": f"198.51.100.{i % 250 + 1}"}]}} for i in range(n)]
        for i in range(0, len(changes), 400):
            c.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": changes[i:i + 400]})
    elif cmd == "change":
        zid, action, name, typ, ttl, vals = a[0], a[1], a[2], a[3], int(a[4]), a[5:]
        c.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{
            "Action": action, "ResourceRecordSet": {"Name": name, "Type": typ, "TTL": ttl,
                                                    "ResourceRecords": [{"Value": v} for v in vals]}}]})
    elif cmd == "register":
        d = boto3.client("route53domains", region_name="us-east-1",
                         endpoint_url=os.environ.get("AWS_ENDPOINT_URL_ROUTE_53"))
        contact = {"FirstName": "Zone", "LastName": "Warden", "ContactType": "PERSON", "AddressLine1": "1 Test St",
                   "City": "Testville", "State": "NY", "CountryCode": "US", "ZipCode": "10001",
                   "PhoneNumber": "+1.5555550100", "Email": "hostmaster@example.test"}
        d.register_domain(DomainName=a[0], DurationInYears=2, AdminContact=contact, RegistrantContact=contact,
                          TechContact=contact)
    elif cmd == "domain-ns":
        d = boto3.client("route53domains", region_name="us-east-1",
                         endpoint_url=os.environ.get("AWS_ENDPOINT_URL_ROUTE_53"))
        print(" ".join(sorted(n["Name"] for n in d.get_domain_detail(DomainName=a[0])["Nameservers"])))
    elif cmd == "dump":
        lines = []
        for s in rrsets(c, a[0]):
            if s["Type"] in ("SOA", "NS"):
                continue
            vals = sorted(r["Value"] for r in s.get("ResourceRecords", []))
            lines.append(f"{name_of(s['Name'])} {s['Type']} {s.get('TTL')} {'|'.join(vals)}")
        print("\n".join(sorted(lines)))
    elif cmd == "mirror":
        zid, apex, path, sock = a
        last, serial = None, int(time.time()) % 1000000000
        while True:
            try:
                body = render(rrsets(c, zid), apex, 0)
                if body != last:
                    serial += 1
                    with open(path + ".tmp", "w") as f:
                        f.write(body.replace(" 0 7200 900", f" {serial} 7200 900", 1))
                    os.replace(path + ".tmp", path)
                    subprocess.run(["knotc", "-s", sock, "zone-reload", apex],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                    last = body
            except Exception as e:  # moto restarting, a torn listing: the next round retries
                sys.stderr.write(f"mirror: {e}\n")
            time.sleep(float(os.environ.get("MIRROR_INTERVAL", "0.3")))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()

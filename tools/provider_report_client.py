#!/usr/bin/env python3
# This file is part of the eldercare platform. See LICENSE.
"""Reference client of the providers' encrypted reporting interface
(elder_security, standard §7.5.2): encrypt (SM4-GCM), sign (SM2 or
HMAC-SM3) and POST one service record.

    python tools/provider_report_client.py \\
        --url http://localhost:8000/eldercare/elder/provider/v1/reports \\
        --key-id pk_0123456789abcdef --sm4-key <32 hex> \\
        --sm2-private-key <64 hex> --sm2-public-key <128 hex> \\
        record.json

or ``--hmac-secret <hex>`` instead of the SM2 keys when the credential uses
HMAC-SM3. record.json holds one record::

    {"record_id": "S-2025-000123", "kind": "service.visit",
     "occurred_at": "2025-01-31T09:30:00+08:00", "data": {...}}

The answer is printed as JSON; the exit status is 0 for 200/201.
Only gmssl-pyx is needed (pip install gmssl-pyx).
"""
import argparse
import base64
import json
import secrets
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import gmssl_pyx

SM2_SIGNER_ID = b'1234567812345678'


def string_to_sign(path, key_id, timestamp, nonce, body):
    return '\n'.join([
            'POST', path, key_id, str(timestamp), nonce,
            gmssl_pyx.sm3_hash(body).hex(),
            ]).encode('utf-8')


def build_request(path, key_id, sm4_key, record, sm2_private_key=None,
        sm2_public_key=None, hmac_secret=None, timestamp=None, nonce=None):
    """Return (headers, body) of the push of record (a dict).

    path is the path of the URL (/<database>/elder/provider/v1/reports);
    keys are bytes or hexadecimal strings."""
    def raw(value):
        return bytes.fromhex(value) if isinstance(value, str) else value
    if timestamp is None:
        timestamp = int(time.time())
    if nonce is None:
        nonce = secrets.token_urlsafe(18)
    plaintext = json.dumps(record, ensure_ascii=False).encode('utf-8')
    iv = secrets.token_bytes(12)
    aad = ('%s\n%s\n%s' % (key_id, timestamp, nonce)).encode('utf-8')
    ciphertext, tag = gmssl_pyx.sm4_gcm_encrypt(
        raw(sm4_key), iv, aad, plaintext)
    body = json.dumps({
            'iv': base64.b64encode(iv).decode('ascii'),
            'ciphertext': base64.b64encode(ciphertext).decode('ascii'),
            'tag': base64.b64encode(tag).decode('ascii'),
            }).encode('utf-8')
    message = string_to_sign(path, key_id, timestamp, nonce, body)
    if hmac_secret is not None:
        signature = gmssl_pyx.sm3_hmac(raw(hmac_secret), message)
    else:
        public_key = gmssl_pyx.normalize_sm2_public_key(
            raw(sm2_public_key))
        signature = gmssl_pyx.sm2_sign(
            raw(sm2_private_key), public_key, message, SM2_SIGNER_ID)
    headers = {
        'Content-Type': 'application/json',
        'X-Key-Id': key_id,
        'X-Timestamp': str(timestamp),
        'X-Nonce': nonce,
        'X-Signature': base64.b64encode(signature).decode('ascii'),
        }
    return headers, body


def post(url, record, **keys):
    "POST record to url; return (HTTP status, answer dict)"
    if urllib.parse.urlsplit(url).scheme not in {'http', 'https'}:
        raise ValueError(f'not an http(s) URL: {url}')
    path = urllib.parse.urlsplit(url).path
    headers, body = build_request(path, record=record, **keys)
    request = urllib.request.Request(  # noqa: S310 (URL checked to be http(s) / built from a local test server)
        url, data=body, headers=headers, method='POST')
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (URL checked to be http(s) / built from a local test server)
            return response.status, json.loads(response.read() or b'{}')
    except urllib.error.HTTPError as error:
        content = error.read()
        try:
            return error.code, json.loads(content)
        except ValueError:
            return error.code, {'error': content.decode('utf-8', 'replace')}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--key-id', required=True)
    parser.add_argument('--sm4-key', required=True, help="32 hex digits")
    parser.add_argument('--sm2-private-key', help="64 hex digits")
    parser.add_argument('--sm2-public-key', help="128 hex digits")
    parser.add_argument('--hmac-secret', help="hex")
    parser.add_argument('record', type=argparse.FileType('rb'),
        help="JSON file of the record ('-' for stdin)")
    args = parser.parse_args(argv)
    if not args.hmac_secret and not (
            args.sm2_private_key and args.sm2_public_key):
        parser.error("give --hmac-secret or both SM2 keys")
    record = json.load(args.record)
    status, answer = post(
        args.url, record, key_id=args.key_id, sm4_key=args.sm4_key,
        sm2_private_key=args.sm2_private_key,
        sm2_public_key=args.sm2_public_key,
        hmac_secret=args.hmac_secret)
    print(json.dumps(
            dict(answer, http_status=status), ensure_ascii=False, indent=2))
    return 0 if status in {200, 201} else 1


if __name__ == '__main__':
    sys.exit(main())

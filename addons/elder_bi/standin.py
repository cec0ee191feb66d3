# This file is part of the eldercare platform. See LICENSE.
"""A local stand-in of the receiving platform of the level above, for tests
and the demo (the Ministry's platform cannot be reached from here).

    python -m trytond.modules.elder_bi.standin --port 8130 \
        --sm4-key HEX --sender-public-key HEX [--fail-first N]

It checks what a receiver must check — key id, timestamp window, nonce
never reused, SM2 signature of the string to sign, SM4-GCM decryption —
keeps the records by record id and version, and answers a receipt signed
with its own SM2 key: 201 for a new record or version, 200 with the same
receipt for a record id and version it already holds (idempotence). ``GET
/receipts`` lists what it holds (reconciliation). ``fail_first`` answers 503
to the first N requests (retry tests)."""
import argparse
import base64
import binascii
import datetime as dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gmssl_pyx

from trytond.modules.elder_security.reporting import (
    SM2_SIGNER_ID, aad, string_to_sign)


class StandIn:
    def __init__(self, sm4_key, key_id, sender_public_key, host='127.0.0.1',
            port=0, fail_first=0, window=300):
        self.sm4_key = bytes.fromhex(sm4_key)
        self.key_id = key_id
        self.sender_public_key = gmssl_pyx.normalize_sm2_public_key(
            bytes.fromhex(sender_public_key))
        self.public_key, self.private_key = gmssl_pyx.sm2_key_generate()
        self.fail_first = fail_first
        self.window = window
        self.records = {}    # record_id → {'version', 'receipt', 'data'}
        self.nonces = set()
        self.requests = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.url = 'http://%s:%s/national/v1/records' % (
            host, self.server.server_address[1])
        self.thread = None

    @property
    def public_key_hex(self):
        return self.public_key.hex()

    def start(self):
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def receipt(self, record_id, version):
        receipt = {'receipt_id': 'R' + uuid.uuid4().hex,
            'record_id': record_id, 'version': version,
            'received_at': dt.datetime.utcnow().replace(
                microsecond=0).isoformat() + 'Z'}
        message = '\n'.join([receipt['receipt_id'], record_id, version,
                receipt['received_at']]).encode('utf-8')
        receipt['signature'] = base64.b64encode(gmssl_pyx.sm2_sign(
                self.private_key, self.public_key, message,
                SM2_SIGNER_ID)).decode('ascii')
        return receipt

    def accept(self, path, headers, body):
        "Return (status, answer) for a POST"
        with self.lock:
            self.requests += 1
            if self.requests <= self.fail_first:
                return 503, {'error': 'unavailable'}
        if headers.get('X-Key-Id') != self.key_id:
            return 401, {'error': 'unknown key'}
        try:
            timestamp = int(headers.get('X-Timestamp', ''))
            signature = base64.b64decode(headers.get('X-Signature', ''))
        except (ValueError, binascii.Error):
            return 401, {'error': 'bad headers'}
        if abs(time.time() - timestamp) > self.window:
            return 401, {'error': 'stale timestamp'}
        nonce = headers.get('X-Nonce', '')
        message = string_to_sign(path, self.key_id, timestamp, nonce, body)
        if not gmssl_pyx.sm2_verify(self.sender_public_key, message,
                signature, SM2_SIGNER_ID):
            return 401, {'error': 'bad signature'}
        with self.lock:
            if nonce in self.nonces:
                return 409, {'error': 'replayed nonce'}
            self.nonces.add(nonce)
        try:
            envelope = json.loads(body)
            plaintext = gmssl_pyx.sm4_gcm_decrypt(self.sm4_key,
                base64.b64decode(envelope['iv']),
                aad(self.key_id, timestamp, nonce),
                base64.b64decode(envelope['ciphertext']),
                base64.b64decode(envelope['tag']))
            record = json.loads(plaintext)
            record_id, version = record['record_id'], record['version']
        except Exception:
            return 400, {'error': 'undecipherable'}
        with self.lock:
            held = self.records.get(record_id)
            if held and held['version'] == version:
                return 200, held['receipt']
            receipt = self.receipt(record_id, version)
            self.records[record_id] = {'version': version,
                'receipt': receipt, 'data': record.get('data')}
            return 201, receipt

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def _answer(self, status, data):
                body = json.dumps(data, ensure_ascii=False).encode('utf-8')
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length)
                status, answer = standin.accept(
                    self.path, self.headers, body)
                self._answer(status, answer)

            def do_GET(self):
                if self.path.endswith('/receipts'):
                    with standin.lock:
                        return self._answer(200, {'receipts': {
                                    k: {'version': v['version'],
                                        'receipt_id': v['receipt'][
                                            'receipt_id']}
                                    for k, v in standin.records.items()}})
                self._answer(404, {'error': 'not found'})
        return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, default=8130)
    parser.add_argument('--key-id', default='demo-upload')
    parser.add_argument('--sm4-key', required=True)
    parser.add_argument('--sender-public-key', required=True)
    parser.add_argument('--fail-first', type=int, default=0)
    args = parser.parse_args(argv)
    standin = StandIn(args.sm4_key, args.key_id, args.sender_public_key,
        port=args.port, fail_first=args.fail_first)
    print('receiver %s public key %s' % (standin.url, standin.public_key_hex),
        flush=True)
    try:
        standin.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()

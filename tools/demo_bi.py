#!/usr/bin/env python3
"""Load the demonstration set-up of elder_bi (analytics, reports, data
exchange) into an eldercare database.

Called by tools/demo.py (``load(pool, seed)`` inside its transaction), or
on its own:

    TRYTOND_CONFIG=trytond.conf python tools/demo_bi.py -d eldercare

- the analytics configuration: the monthly report of 呼和浩特市;
- the ``operator`` login in the analytics managers' group;
- the upload target 内蒙古自治区养老服务平台（本地模拟）: a fresh SM2 key pair of
  this platform and SM4 key, its keys and the stand-in's address written to
  ``var/bi-standin.json`` (mode 0600) so that

      .venv/bin/python -m trytond.modules.elder_bi.standin --port 8130 \\
          --sm4-key <sm4_key> --sender-public-key <public_key>

  receives the uploads (the printed receiver public key goes into the
  target's 上级平台公钥 to verify receipts);
- the elder_basic data set queued for the target (上报记录).

The figures of the big screen come from the analytics service
(``python -m trytond.modules.elder_bi.sync serve -d eldercare``), which
syncs the demo data within its first interval.
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STANDIN_PORT = 8130


def log(message):
    print(f'[demo] {message}', file=sys.stderr, flush=True)


def load(pool, seed=2026):
    import gmssl_pyx
    Configuration = pool.get('bi.configuration')
    Region = pool.get('elder.region')
    Target = pool.get('bi.upload.target')
    Record = pool.get('bi.upload.record')
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if Target.search([]):
        log('elder_bi demo already loaded')
        return
    city, = Region.search([('code', '=', '150100')])
    config = Configuration(1)
    config.report_region = city
    config.save()
    operators = User.search([('login', '=', 'operator')])
    if operators:
        User.write(operators, {'groups': [('add', [
                            ModelData.get_id('elder_bi', 'group_bi_manager')])]})
    public, private = gmssl_pyx.sm2_key_generate()
    sm4 = gmssl_pyx.rand_bytes(16).hex()
    url = 'http://127.0.0.1:%s/national/v1/records' % STANDIN_PORT
    target, = Target.create([{
                'name': '内蒙古自治区养老服务平台（本地模拟）',
                'url': url, 'platform_code': '150100', 'key_id': 'demo-upload',
                'sm4_key': sm4, 'sm2_private_key': private.hex(),
                'sm2_public_key': public.hex(), 'retry_base': 60,
                'max_attempts': 8}])
    path = ROOT / 'var' / 'bi-standin.json'
    path.parent.mkdir(exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as file:
        json.dump({'url': url, 'port': STANDIN_PORT, 'key_id': 'demo-upload',
                'sm4_key': sm4, 'public_key': public.hex()}, file)
    queued = Record.queue(target, 'elder_basic')
    log(f'elder_bi: upload target, {len(queued)} records queued, '
        f'stand-in keys in {path.relative_to(ROOT)}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--seed', type=int, default=2026)
    args = parser.parse_args()
    from trytond import config
    config.update_etc()
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(args.database)
    pool.init()
    with Transaction().start(args.database, 0) as transaction:
        load(pool, args.seed)
        transaction.commit()


if __name__ == '__main__':
    main()

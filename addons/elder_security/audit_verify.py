# This file is part of the eldercare platform. See LICENSE.
"""Verify the audit hash chain of a database (exit status 1 if broken).

    python -m trytond.modules.elder_security.audit_verify -c trytond.conf -d DB
"""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', dest='config')
    parser.add_argument('-d', '--database', dest='database', required=True)
    args = parser.parse_args(argv)
    from trytond import config
    config.update_etc(args.config)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool(args.database)
    pool.init()
    with Transaction().start(args.database, 0, readonly=True):
        Event = pool.get('security.audit.event')
        Chain = pool.get('security.audit.chain')
        problems = Event.verify()
        state = Chain.state()
    for problem in problems:
        print(problem)
    print('head %s %s anchor %s %s: %s' % (
            state['head_seq'], state['head_hash'], state['anchor_seq'],
            state['anchor_hash'], 'BROKEN' if problems else 'OK'))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())

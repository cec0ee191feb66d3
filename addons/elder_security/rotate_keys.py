# This file is part of the eldercare platform. See LICENSE.
"""Re-encrypt the personal data with the active key of [elder_security]
key_file; --new-key ID first adds a new key and makes it active.

    python -m trytond.modules.elder_security.rotate_keys -c trytond.conf \\
        -d DB [--new-key k2]
"""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', dest='config')
    parser.add_argument('-d', '--database', dest='database', required=True)
    parser.add_argument('--new-key', dest='new_key')
    args = parser.parse_args(argv)
    from trytond import config
    config.update_etc(args.config)
    from trytond.modules.elder_security.crypto import rotate
    count = rotate(args.database, new_key_id=args.new_key)
    print('%s values re-encrypted' % count)
    return 0


if __name__ == '__main__':
    sys.exit(main())

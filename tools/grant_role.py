"""Give a user one of the platform's groups as the installation's root account.

Usage (with TRYTOND_CONFIG, and TRYTOND_DATABASE__URI when the config file
has no [database] uri):

    python tools/grant_role.py --database eldercare --login zhangsan \\
        --group elder_security.group_security_admin

Separation of duties (三权分立) lets only the security administrator assign
groups from the web client, so a fresh production database needs its first
security administrator designated here, like trytond-admin sets the first
password. The grant goes through the ORM, so it is audited and the "one
administrator group per user" rule still applies.
"""
import argparse
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--login', required=True)
    parser.add_argument(
        '--group', required=True, help="module.xml_id of a res.group")
    args = parser.parse_args()

    from trytond import config
    config.update_etc()
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    module, _, xml_id = args.group.partition('.')
    Pool(args.database).init()
    with Transaction().start(args.database, 0) as transaction:
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        users = User.search([('login', '=', args.login)])
        if not users:
            sys.exit(f'no user with login {args.login!r}')
        group_id = ModelData.get_id(module, xml_id)
        User.write(users, {'groups': [('add', [group_id])]})
        transaction.commit()
    print(f'{args.login}: added to {args.group}')


if __name__ == '__main__':
    main()

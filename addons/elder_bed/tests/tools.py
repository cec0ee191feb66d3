# This file is part of the eldercare platform. See LICENSE.
"Helpers of the elder_bed tests (and of elder_renovation's)."
import datetime as dt
from decimal import Decimal

from trytond.modules.elder_base.tests.tools import create_provider, region
from trytond.modules.elder_service.tests.tools import (
    HOME, XINCHENG, HUIMIN, active_provider, create_practitioner, home_elder,
    item)
from trytond.pool import Pool
from trytond.transaction import Transaction

__all__ = ['HOME', 'XINCHENG', 'HUIMIN', 'region', 'home_elder', 'item',
    'active_provider', 'create_practitioner', 'create_user', 'as_user',
    'category', 'family_bed_policy', 'organisations', 'create_device']


def create_user(login, *groups, **values):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    ids = [ModelData.get_id(*g.split('.')) for g in groups]
    user, = User.create([{
                'login': login, 'name': login,
                'groups': [('add', ids)], **values}])
    return user


class as_user:
    "Run as the user through the client's checks (model access, rules)"

    def __init__(self, user):
        self.user = user

    def __enter__(self):
        transaction = Transaction()
        self._u = transaction.set_user(self.user.id)
        self._c = transaction.set_context(_check_access=True)
        self._u.__enter__()
        self._c.__enter__()

    def __exit__(self, *exc):
        self._c.__exit__(*exc)
        self._u.__exit__(*exc)


def category(code):
    Category = Pool().get('elder.category')
    record, = Category.search([('code', '=', code)])
    return record


def family_bed_policy(amount=Decimal('900.00'), benefit='family_bed',
        categories=('disabled',), min_level=None, min_age=None,
        region_code='150100'):
    "A policy of the entitlement engine: the categories make one eligible"
    Policy = Pool().get('elder.entitlement.policy')
    policy, = Policy.create([{
                'name': benefit,
                'region': region(region_code).id,
                'start_date': dt.date(2020, 1, 1),
                'benefit': benefit,
                'kind': 'level_age_category',
                'monthly_amount': amount,
                'min_level': min_level,
                'min_age': min_age,
                'categories': [('add', [category(c).id
                            for c in categories])],
                }])
    return policy


def organisations():
    "The three institution roles: assessment/design, service, acceptance"
    designer = create_provider('青城评估设计中心', XINCHENG)
    provider = active_provider(
        '青城居家养老服务中心', XINCHENG, [XINCHENG])
    acceptor = create_provider('内蒙古第三方验收评估所', XINCHENG)
    return designer, provider, acceptor


def create_device(category, identifier, provider=None):
    pool = Pool()
    Device = pool.get('device.device')
    Type = pool.get('device.type')
    type_, = Type.search([('category', '=', category)], limit=1)
    device, = Device.create([{
                'type': type_.id,
                'protocol': 'mqtt',
                'identifier': identifier,
                'provider': provider.id if provider else None,
                }])
    return device


def in_transaction(database, func, user=1):
    """Run func() in its own committed transaction (scenarios), restarting
    it with the table locks it asks for, as the RPC dispatcher does"""
    from trytond.transaction import TransactionError
    extras = {}
    while True:
        try:
            with Transaction().start(database, user, **extras):
                return func()
        except TransactionError as e:
            e.fix(extras)

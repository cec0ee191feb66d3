# This file is part of the eldercare platform. See LICENSE.
"Helpers of the elder_settlement tests: a company with the subsidy accounts "
"and services walked to the confirmed state on given days."
import datetime as dt
from decimal import Decimal

from trytond.modules.elder_service.tests.tools import (
    HOME, XINCHENG, active_provider, create_order, create_practitioner,
    create_user, home_elder)
from trytond.pool import Pool
from trytond.transaction import Transaction

__all__ = ['HOME', 'XINCHENG', 'active_provider', 'create_practitioner',
    'create_user', 'home_elder', 'company', 'serve', 'entitle',
    'last_month']


def last_month(day=1):
    "A day of the previous month"
    today = dt.date.today()
    first = today.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=day)


def company(year=None):
    """The operating civil-affairs body with CNY, the subsidy chart, fiscal
    years and the settlement configuration"""
    pool = Pool()
    Currency = pool.get('currency.currency')
    Party = pool.get('party.party')
    Company = pool.get('company.company')
    User = pool.get('res.user')
    from trytond.modules.elder_settlement import accounting_setup
    currency, = Currency.create([{
                'name': '人民币', 'code': 'CNY', 'symbol': '¥',
                'rounding': Decimal('0.01'), 'digits': 2}])
    party, = Party.create([{'name': '呼和浩特市民政局'}])
    record, = Company.create([{'party': party.id, 'currency': currency.id}])
    User.write([User(Transaction().user)], {
            'companies': [('add', [record.id])], 'company': record.id})
    today = dt.date.today()
    for y in sorted({last_month().year, today.year}):
        accounting_setup.setup(record, y)
    return record


def entitle(elder, amount=None, hours=None, start=None):
    "An active home-service subsidy entitlement"
    Entitlement = Pool().get('elder.entitlement')
    entitlement, = Entitlement.create([{
                'elder': elder.id,
                'benefit': 'home_service_subsidy',
                'start_date': start or last_month(1) - dt.timedelta(days=60),
                'monthly_amount': amount,
                'monthly_hours': hours,
                }])
    return entitlement


def serve(elder, practitioner, item_code, day, hour=9, minutes=None,
        rating=5):
    """An order of the item on the day, dispatched, visited by the
    practitioner for minutes (the standard duration by default) and
    confirmed with the rating"""
    pool = Pool()
    Order = pool.get('service.order')
    order = create_order(elder, item_code, requested_date=day,
        time_from=dt.time(hour), time_to=dt.time(hour + 2))
    Order.submit([order])
    order.provider = practitioner.provider
    order.save()
    Order.dispatch([order])
    Order.accept([order])
    order.practitioner = practitioner
    order.save()
    Order.assign([order])
    start = dt.datetime.combine(day, dt.time(hour, 5))
    minutes = order.item.duration if minutes is None else minutes
    Order.checkin(order, HOME[0], HOME[1], 10.0, start,
        b'before' if order.item.photo_before else None)
    Order.checkout(order, HOME[0], HOME[1], 10.0,
        start + dt.timedelta(minutes=minutes),
        b'after' if order.item.photo_after else None,
        b'signature' if order.item.signature else None)
    order = Order(order.id)
    if order.state == 'completed' and rating:
        Order.confirm_service(order, rating, None, '家属')
    return Order(order.id)


def migrate_entitlement(config, elder, amount=None, hours=None, start=None):
    """Write a home-service subsidy entitlement in force since start (the
    first of the previous month by default), as the migration of a subsidy
    list kept before the platform does (scenarios: the entitlement engine of
    elder_assess only writes entitlements from the day it runs). Opens its
    own transaction on the proteus configuration's database."""
    with Transaction().start(config.database_name, 0) as transaction:
        entitlement, = Pool().get('elder.entitlement').create([{
                    'elder': int(elder),
                    'benefit': 'home_service_subsidy',
                    'start_date': start or last_month(1),
                    'monthly_amount': amount,
                    'monthly_hours': hours,
                    'facts': '{"source": "migrated subsidy list"}',
                    }])
        transaction.commit()
        return entitlement.id

# This file is part of the eldercare platform. See LICENSE.
"Helpers shared by the tests of elder_community."
import datetime as dt
from decimal import Decimal

from trytond.modules.elder_base.tests.tools import citizen_id, region
from trytond.modules.elder_service.tests.tools import (  # noqa: F401
    HOME, HUIMIN, XINCHENG, active_provider, create_order,
    create_practitioner, create_user, home_elder, item)
from trytond.pool import Pool
from trytond.transaction import Transaction


def as_user(user):
    "The transaction as the user with access checks on"
    transaction = Transaction()
    return transaction.set_user(user.id), transaction.set_context(
        _check_access=True)


def day_care(name='新城区示例日间照料中心', region_code=XINCHENG, operator=None,
        seats=30, **values):
    Facility = Pool().get('community.facility')
    facility, = Facility.create([{
                'name': name,
                'kind': 'day_care',
                'region': region(region_code).id,
                'address': '新华大街1号',
                'seats': seats,
                'meal_service': True,
                'operator': operator.id if operator else None,
                **values}])
    Facility.open([facility])
    return facility


def enrol(facility, elder, card, meals=True):
    Member = Pool().get('community.facility.member')
    member, = Member.create([{
                'facility': facility.id,
                'elder': elder.id,
                'card_number': card,
                'meals': meals,
                }])
    return member


def volunteer(name, serial, region_code=XINCHENG, activate=True, **values):
    Volunteer = Pool().get('volunteer.volunteer')
    record, = Volunteer.create([{
                'name': name,
                'id_number': citizen_id(region_code, '19900101', serial),
                'phone': '13900139000',
                'region': region(region_code).id,
                **values}])
    if activate:
        Volunteer.activate([record])
    return record


def earn(record, hours):
    "Approved hours for the volunteer"
    Hours = Pool().get('volunteer.hours')
    entry, = Hours.create([{
                'volunteer': record.id,
                'date': dt.date.today(),
                'hours': Decimal(hours),
                'description': '探访独居老人',
                }])
    Hours.approve([entry])
    return entry


def at(minutes, days=1):
    "A time days ago, minutes after 09:00"
    day = dt.date.today() - dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(9)) + dt.timedelta(
        minutes=minutes)


def serve(order, practitioner, rating=None):
    "Accept, assign, visit and (with a rating) confirm and close the order"
    Order = Pool().get('service.order')
    if order.state == 'dispatched':
        Order.accept([order])
    order.practitioner = practitioner
    order.save()
    Order.assign([order])
    Order.checkin(order, HOME[0], HOME[1], 10, at(0))
    Order.checkout(order, HOME[0], HOME[1], 10, at(45))
    if rating:
        Order.confirm_service(order, rating, by='family')
        Order.close([order])
    return order

# This file is part of the eldercare platform. See LICENSE.
"Helpers of the elder_meal tests."
import datetime as dt
from decimal import Decimal

from trytond.modules.elder_base.tests.tools import (
    citizen_id, create_elder, region)
from trytond.modules.elder_service.tests.tools import (
    HOME, XINCHENG, active_provider, create_practitioner, create_user)
from trytond.pool import Pool

__all__ = ['HOME', 'XINCHENG', 'active_provider', 'create_practitioner',
    'create_user', 'meal_point', 'publish_menu', 'meal_policy', 'diner',
    'at', 'citizen_id', 'HUIMIN', 'last_month', 'monday_before']
HUIMIN = '150103'
POINT_POSITION = (Decimal('40.852000'), Decimal('111.702000'))


def at(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute))


def meal_point(provider, code, region_code=XINCHENG, staff=(), **values):
    "A canteen open 07:00–09:00, 11:00–13:30 and 17:00–19:00"
    Point = Pool().get('meal.point')
    values.setdefault('latitude', POINT_POSITION[0])
    values.setdefault('longitude', POINT_POSITION[1])
    values.setdefault('delivery', True)
    values.setdefault('delivery_radius', Decimal('3'))
    values.setdefault('licence_number', 'JY11501020000001')
    values.setdefault('licence_expiry', dt.date.today() + dt.timedelta(
            days=365))
    point, = Point.create([{
                'name': '长者食堂%s' % code, 'code': code,
                'provider': provider.id, 'region': region(region_code).id,
                'address': '新华大街88号', 'capacity': 60,
                'staff': [('add', [u.id for u in staff])],
                'periods': [('create', [
                            {'meal_period': 'breakfast',
                                'start': dt.time(7), 'end': dt.time(9)},
                            {'meal_period': 'lunch',
                                'start': dt.time(11), 'end': dt.time(13, 30)},
                            {'meal_period': 'dinner',
                                'start': dt.time(17), 'end': dt.time(19)},
                            ])],
                **values}])
    return point


def publish_menu(point, start, prices=(('breakfast', '5.00'),
            ('lunch', '15.00'), ('dinner', '12.00')), kind='weekly'):
    """A published menu of the point from start (a Monday for weekly) with
    one dish per meal period at the prices; returns {period: offer}"""
    pool = Pool()
    Dish = pool.get('meal.dish')
    Menu = pool.get('meal.menu')
    Tag = pool.get('meal.tag')
    soft, low_salt = Tag.search([('code', 'in', ['soft', 'low_salt'])],
        order=[('code', 'DESC')])
    lines = []
    for period, price in prices:
        dish, = Dish.create([{
                    'point': point.id, 'name': '%s套餐' % period,
                    'price': Decimal(price),
                    'tags': [('add', [soft.id, low_salt.id])]}])
        lines.append({'meal_period': period, 'dish': dish.id,
                'price': Decimal(price)})
    menu, = Menu.create([{'point': point.id, 'kind': kind,
                'start_date': start, 'lines': [('create', lines)]}])
    Menu.publish([menu])
    return {l.meal_period: l for l in menu.lines}


def meal_policy(name, amount, daily_cap=None, monthly_cap=None,
        min_age=None, max_age=None, categories=(), sequence=10,
        region_code='150100', start=None):
    pool = Pool()
    Policy = pool.get('elder.entitlement.policy')
    Category = pool.get('elder.category')
    cats = Category.search([('code', 'in', list(categories))]) if (
        categories) else []
    policy, = Policy.create([{
                'name': name, 'region': region(region_code).id,
                'start_date': start or dt.date(2020, 1, 1),
                'kind': 'age_band', 'benefit': 'meal_subsidy',
                'meal_amount': Decimal(amount),
                'meal_daily_cap': (Decimal(daily_cap) if daily_cap
                    else None),
                'monthly_amount': (Decimal(monthly_cap) if monthly_cap
                    else None),
                'min_age': min_age, 'max_age': max_age,
                'categories': [('add', [c.id for c in cats])],
                'sequence': sequence}])
    return policy


def diner(name, serial, birth='19400315', region_code=XINCHENG, **values):
    "An older person of 新城区 living near the canteen, evaluated"
    Entitlement = Pool().get('elder.entitlement')
    values.setdefault('latitude', Decimal('40.850000'))
    values.setdefault('longitude', Decimal('111.700000'))
    elder = create_elder(name, citizen_id(region_code, birth, serial),
        region_code, **values)
    # entitled from the first day of last month (the meals of the tests)
    Entitlement.write(Entitlement.search([('elder', '=', elder.id)]),
        {'start_date': last_month(1)})
    return elder


def last_month(day=1):
    "A day of the previous month"
    first = dt.date.today().replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=day)


def monday_before(day):
    return day - dt.timedelta(days=day.weekday())

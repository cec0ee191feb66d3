# This file is part of the eldercare platform. See LICENSE.
"Helpers shared by the tests of elder_service and the modules above it."
import datetime as dt
from decimal import Decimal

from trytond.modules.elder_base.tests.tools import (
    citizen_id, create_elder, create_provider, region)
from trytond.pool import Pool

XINCHENG, HUIMIN = '150102', '150103'
# 新城区 and 回民区 of Hohhot
HOME = (Decimal('40.850000'), Decimal('111.700000'))


def service_type(code):
    ServiceType = Pool().get('elder.service.type')
    record, = ServiceType.search([('code', '=', code)])
    return record


def item(code):
    Item = Pool().get('service.item')
    record, = Item.search([('code', '=', code)])
    return record


def create_user(login, group, **values):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    module, name = group.split('.')
    user, = User.create([{
                'login': login,
                'name': login,
                'groups': [('add', [ModelData.get_id(module, name)])],
                **values}])
    return user


def active_provider(name, region_code, areas, types=('01', '02', '03', '04',
            '05', '06'), **values):
    "Create an enabled provider serving the areas with the service types"
    pool = Pool()
    Provider = pool.get('elder.provider')
    provider = create_provider(
        name, region_code,
        service_areas=[('add', [region(a).id for a in areas])],
        service_types=[('add', [service_type(t).id for t in types])],
        **values)
    Provider.write([provider], {'state': 'active'})
    return provider


def create_practitioner(name, serial, provider, **values):
    Practitioner = Pool().get('elder.practitioner')
    values.setdefault('kind', 'caregiver')
    values.setdefault('skill_level', '3')
    practitioner, = Practitioner.create([{
                'name': name,
                'id_number': citizen_id('150102', '19800101', serial),
                'phone': '13800138000',
                'provider': provider.id,
                **values}])
    return practitioner


def home_elder(name='巴特尔', serial=12, region_code=XINCHENG, position=HOME,
        **values):
    return create_elder(
        name, citizen_id(region_code, '19400315', serial), region_code,
        latitude=position[0] if position else None,
        longitude=position[1] if position else None,
        address='海拉尔东路某小区3号楼2单元401', **values)


def create_order(elder, item_code='SC0301', **values):
    Order = Pool().get('service.order')
    order, = Order.create([{
                'elder': elder.id,
                'item': item(item_code).id,
                'requested_date': dt.date.today(),
                **values}])
    return order


def offset(position, north_m=0, east_m=0):
    "Return the position moved by metres to the north and the east"
    import math
    lat, lon = position
    dlat = north_m / 111320
    dlon = east_m / (111320 * math.cos(math.radians(float(lat))))
    return (lat + Decimal(str(round(dlat, 6))),
        lon + Decimal(str(round(dlon, 6))))

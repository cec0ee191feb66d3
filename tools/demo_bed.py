#!/usr/bin/env python3
"""Load a demonstration family elderly-care bed (elder_bed) into an
eldercare database.

Called by tools/demo.py after the service, device and assessment loaders
(``load(pool, seed)`` inside its transaction), or on its own:

    TRYTOND_CONFIG=trytond.conf python tools/demo_bed.py -d eldercare

It adds the policy 新城区家庭养老床位（失能老年人） (category 失能, 800 yuan a
bed-month), the assessment/design body 青城家庭养老床位评估设计中心（示例） and the
acceptance body 内蒙古养老服务第三方评估所（示例） with the logins
``bed_designer`` and ``bed_acceptor``, and walks one bed through the real
workflow for an older person of 新城区 with the category 失能: applied by ``operator``, eligibility checked
by ``supervisor``, planned by ``bed_designer`` (visits on Monday, Wednesday
and Friday; bed sensor, SOS button, smoke sensor, door sensor and
blood-pressure meter), set up by ``provider_admin`` (青城, the devices
bound and installed through elder_device), accepted by ``bed_acceptor``:
the bed is live, its devices active (their alarms reach ``agent``) and its
service plan has generated the visits. A second bed waits for the
eligibility check. A database that already has beds is left alone.
"""
import argparse
import datetime as dt
import sys
from decimal import Decimal

from stdnum.cn import uscc

DEMO_PASSWORD = 'Demo@2026!elder'  # noqa: S105 (demo password, documented, demo data only)
XINCHENG = '150102'
DEVICES = [('bed', '卧室床垫下'), ('sos_button', '床头'), ('smoke', '厨房'),
    ('door', '入户门'), ('blood_pressure', '客厅')]


def log(message):
    print(message, file=sys.stderr)


def _as(user):
    from trytond.transaction import Transaction
    return Transaction().set_user(user.id)


def load(pool, seed=2026):
    "Create the demo beds in the caller's transaction (as root)"
    Bed = pool.get('bed.bed')
    BedDevice = pool.get('bed.device')
    Provider = pool.get('elder.provider')
    Region = pool.get('elder.region')
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    Item = pool.get('service.item')
    Device = pool.get('device.device')
    Type = pool.get('device.type')

    if Bed.search([], limit=1):
        log('family beds already present: nothing to do')
        return {}
    xincheng, = Region.search([('code', '=', XINCHENG)])
    # 新城区 extends the city's family-bed policy (ability level 3–4, from
    # elder_assess's demo) to its older people with the category 失能
    Policy = pool.get('elder.entitlement.policy')
    Category = pool.get('elder.category')
    Elder = pool.get('elder.elder')
    disabled, = Category.search([('code', '=', 'disabled')])
    Policy.create([{
                'name': '新城区家庭养老床位（失能老年人）',
                'region': xincheng.id, 'start_date': dt.date(2025, 1, 1),
                'benefit': 'family_bed', 'kind': 'level_age_category',
                'categories': [('add', [disabled.id])],
                'monthly_amount': Decimal('800.00'), 'sequence': 60,
                }])
    entitled = Elder.search([
            ('state', '=', 'active'),
            ('region', 'child_of', [xincheng.id], 'parent'),
            ('categories', '=', disabled.id),
            ], order=[('id', 'ASC')], limit=2)
    provider = Provider.search([
            ('state', '=', 'active'),
            ('service_areas', 'child_of', [xincheng.id], 'parent'),
            ], order=[('id', 'ASC')], limit=1)
    users = {u.login: u for u in User.search([('login', 'in', [
                        'operator', 'supervisor', 'provider_admin'])])}
    if not entitled or not provider or len(users) < 3:
        log('no entitled older person, provider or demo users in 新城区: '
            'no family bed')
        return {}
    provider, = provider

    def organisation(name, serial):
        body = '52150102MJ%07d' % serial
        record, = Provider.create([{
                    'name': name,
                    'credit_code': body + uscc.calc_check_digit(body),
                    'region': xincheng.id,
                    }])
        return record
    designer = organisation('青城家庭养老床位评估设计中心（示例）', 1301)
    acceptor = organisation('内蒙古养老服务第三方评估所（示例）', 1302)
    designer_user, acceptor_user = User.create([{
                'login': login, 'name': name, 'password': DEMO_PASSWORD,
                'elder_provider': org.id,
                'groups': [('add', [ModelData.get_id('elder_bed', group)])],
                } for login, name, org, group in [
                ('bed_designer', '乌兰', designer, 'group_bed_designer'),
                ('bed_acceptor', '孟和', acceptor, 'group_bed_acceptor'),
                ]])
    provider_user = users['provider_admin']
    if provider_user.elder_provider != provider:
        provider = provider_user.elder_provider

    elder = entitled[0]
    with _as(users['operator']):
        bed, = Bed.create([{
                    'elder': elder.id, 'channel': 'community',
                    'applicant': '社区网格员', 'designer': designer.id}])
        Bed.apply([bed])
    with _as(users['supervisor']):
        Bed.approve([bed])
    visit, = Item.search([('code', '=', 'SC0301')], limit=1)
    with _as(designer_user):
        bed = Bed(bed.id)
        bed.home_assessment = ('老人卧床为主，白天子女上班独自在家；卫生间无扶手，'
            '夜间如厕有跌倒风险；患高血压，需每日监测血压。')
        bed.care_level = bed.level or '3'
        bed.provider = provider
        bed.acceptor = acceptor
        bed.adaptations = '卫生间加装扶手一处'
        bed.services = [{
                'item': visit.id, 'monday': True, 'wednesday': True,
                'friday': True, 'time_from': dt.time(9),
                'time_to': dt.time(10)}]
        bed.devices = [{'category': c, 'place': p} for c, p in DEVICES]
        bed.save()
        Bed.submit_plan([bed])
    stock = {}
    for category, _ in DEVICES:
        type_, = Type.search([('category', '=', category)], limit=1)
        device, = Device.create([{
                    'type': type_.id, 'protocol': 'zigbee',
                    'identifier': 'jc-%s-%s' % (bed.number, category),
                    'model': '示例设备', 'provider': provider.id}])
        stock[category] = device
    with _as(provider_user):
        bed = Bed(bed.id)
        Bed.start_setup([bed])
        lines = list(bed.devices)
        for line in lines:
            line.device = stock[line.category]
        BedDevice.save(lines)
        bed = Bed(bed.id)
        bed.adaptations_done = True
        bed.save()
        Bed.complete_setup([bed])
    with _as(acceptor_user):
        Bed.go_live([Bed(bed.id)])
    bed = Bed(bed.id)
    log(f'family bed {bed.number}: {bed.state}, '
        f'{len(bed.services[0].plan.orders)} visits planned')
    if len(entitled) > 1:
        with _as(users['operator']):
            second, = Bed.create([{
                        'elder': entitled[1].id, 'channel': 'elder',
                        'applicant': '女儿', 'designer': designer.id}])
            Bed.apply([second])
    return {'beds': Bed.search_count([])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--database', '-d', required=True)
    parser.add_argument('--seed', type=int, default=2026)
    args = parser.parse_args()

    from trytond import config
    config.update_etc()
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    Pool(args.database).init()
    extras = {}
    while True:
        try:
            with Transaction().start(args.database, 0,
                    context={'language': 'zh_CN'}, **extras) as transaction:
                load(Pool(), args.seed)
                transaction.commit()
        except TransactionError as error:
            error.fix(extras)
            continue
        break
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Load a demonstration home ageing-friendly renovation (elder_renovation)
into an eldercare database.

Called by tools/demo.py after the assessment and settlement loaders
(``load(pool, seed)`` inside its transaction), or on its own:

    TRYTOND_CONFIG=trytond.conf python tools/demo_renovation.py -d eldercare

It adds the policy 呼和浩特市独居、高龄老年人居家适老化改造 (category 独居 or
80 years and over), the design body 青城适老化评估设计中心（示例）, the
construction provider 青城适老化工程有限公司（示例） and the acceptance body
内蒙古适老化改造第三方验收所（示例）, with the logins ``ren_designer``,
``ren_builder`` and ``ren_acceptor``, and walks one renovation in 新城区
through the real workflow: applied by ``operator``, checked by
``supervisor``, planned within the 3 000 yuan cap by ``ren_designer``,
confirmed by the older person, built by ``ren_builder`` with photos,
accepted by ``ren_acceptor`` (checklist, photos, satisfaction). The
acceptance is dated in the last complete month so that, with
elder_settlement, the month's settlement puts its subsidy in the
constructor's statement, which is sent, accepted, approved by
``supervisor_xc`` and ``finance`` and paid. A second home is at the plan
stage. A database that already has renovations is left alone.
"""
import argparse
import datetime as dt
import sys
from decimal import Decimal

from stdnum.cn import uscc

DEMO_PASSWORD = 'Demo@2026!elder'  # noqa: S105 (demo password, documented, demo data only)
XINCHENG, HOHHOT = '150102', '150100'
PLAN = [('GB01', '卫生间马桶旁', 2), ('AS01', '卫生间地面', 4),
    ('TS01', '卫生间', 1), ('TR01', '卧室门口', 1), ('LT01', '卧室至卫生间', 3),
    ('SC01', '淋浴区', 1)]
# A tiny valid PNG (1×1, grey) stands for the site photos
PNG = bytes.fromhex(
    '89504e470d0a1a0a0000000d4948445200000001000000010800000000'
    '3a7e9b550000000a49444154789c6360000000020001e221bc33000000'
    '0049454e44ae426082')


def log(message):
    print(message, file=sys.stderr)


def _as(user):
    from trytond.transaction import Transaction
    return Transaction().set_user(user.id)


def load(pool, seed=2026):
    "Create the demo renovations in the caller's transaction (as root)"
    Project = pool.get('renovation.project')
    Item = pool.get('renovation.item')
    Photo = pool.get('renovation.photo')
    Check = pool.get('renovation.check')
    Policy = pool.get('elder.entitlement.policy')
    Category = pool.get('elder.category')
    Elder = pool.get('elder.elder')
    Provider = pool.get('elder.provider')
    Region = pool.get('elder.region')
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')

    if Project.search([], limit=1):
        log('renovations already present: nothing to do')
        return {}
    users = {u.login: u for u in User.search([('login', 'in', [
                        'operator', 'supervisor', 'supervisor_xc',
                        'finance'])])}
    if len(users) < 2:
        log('no demo users: no renovation')
        return {}
    xincheng, = Region.search([('code', '=', XINCHENG)])
    hohhot, = Region.search([('code', '=', HOHHOT)])
    alone, = Category.search([('code', '=', 'alone')])
    Policy.create([{
                'name': '呼和浩特市独居、高龄老年人居家适老化改造',
                'region': hohhot.id, 'start_date': dt.date(2025, 1, 1),
                'benefit': 'renovation', 'kind': 'level_age_category',
                'min_age': 80, 'categories': [('add', [alone.id])],
                'sequence': 50,
                }])
    elders = Elder.search([
            ('state', '=', 'active'),
            ('region', 'child_of', [xincheng.id], 'parent'),
            ('categories', '=', alone.id),
            ('family_beds', '=', None) if 'family_beds' in Elder._fields
            else ('id', '!=', -1),
            ], order=[('id', 'ASC')], limit=2)
    if not elders:
        log('no older person living alone in 新城区: no renovation')
        return {}

    def organisation(name, serial):
        body = '91150102MA%07d' % serial
        record, = Provider.create([{
                    'name': name,
                    'credit_code': body + uscc.calc_check_digit(body),
                    'region': xincheng.id,
                    }])
        return record
    designer = organisation('青城适老化评估设计中心（示例）', 1401)
    builder = organisation('青城适老化工程有限公司（示例）', 1402)
    acceptor = organisation('内蒙古适老化改造第三方验收所（示例）', 1403)
    Provider.write([builder], {'state': 'active'})
    ren_users = User.create([{
                'login': login, 'name': name, 'password': DEMO_PASSWORD,
                'elder_provider': org.id,
                'groups': [('add', [ModelData.get_id(*group.split('.'))])],
                } for login, name, org, group in [
                ('ren_designer', '萨仁', designer,
                    'elder_renovation.group_renovation_designer'),
                ('ren_builder', '李国庆', builder,
                    'elder_base.group_provider_admin'),
                ('ren_acceptor', '额尔敦', acceptor,
                    'elder_renovation.group_renovation_acceptor'),
                ]])
    by_login = {u.login: u for u in ren_users}

    def walk_to_plan(elder, plan):
        with _as(users['operator']):
            project, = Project.create([{
                        'elder': elder.id, 'channel': 'elder',
                        'applicant': '儿子', 'designer': designer.id}])
            Project.apply([project])
        with _as(users['supervisor']):
            Project.approve([project])
        with _as(by_login['ren_designer']):
            project = Project(project.id)
            project.findings = ('独居，卫生间地面湿滑且无扶手，卧室门口有门槛，'
                '夜间如厕照明不足，洗澡时站立困难。')
            project.constructor = builder
            project.acceptor = acceptor
            project.lines = [{
                    'item': Item.search([('code', '=', code)])[0].id,
                    'location': location, 'quantity': Decimal(quantity)}
                for code, location, quantity in plan]
            project.save()
            Project.submit_plan([project])
        return Project(project.id)

    project = walk_to_plan(elders[0], PLAN)
    with _as(by_login['ren_designer']):
        project.confirmed_by_name = elders[0].name
        project.save()
        Project.confirm([project])

    def photos(stage):
        Photo.create([{'project': project.id, 'stage': stage, 'image': PNG,
                    'description': '示例照片'}])
    with _as(by_login['ren_builder']):
        photos('before')
        Project.start_construction([Project(project.id)])
        photos('during')
        photos('after')
        Project.complete_construction([Project(project.id)])
    with _as(by_login['ren_acceptor']):
        project = Project(project.id)
        Check.write(list(project.checks), {'passed': True})
        photos('acceptance')
        project.satisfaction = '5'
        project.acceptance_note = '改造项目与方案一致，安装牢固，老人满意。'
        project.save()
        Project.accept([Project(project.id)])
    project = Project(project.id)
    log(f'renovation {project.number}: {project.state}, '
        f'subsidy {project.subsidy_amount}')
    _settle(pool, project, users)
    if len(elders) > 1:
        walk_to_plan(elders[1], PLAN[:3])
    return {'renovations': Project.search_count([])}


def _settle(pool, project, users):
    """With elder_settlement: date the acceptance in the last complete month
    and settle that month; the constructor's new statement goes through the
    approvals and is paid"""
    try:
        Statement = pool.get('settlement.statement')
    except KeyError:
        return
    Project = pool.get('renovation.project')
    Config = pool.get('settlement.configuration')
    if not Config(1).company or 'supervisor_xc' not in users \
            or 'finance' not in users:
        log('settlement not set up: the renovation subsidy waits')
        return
    from trytond.transaction import Transaction
    today = dt.date.today()
    last = today.replace(day=1) - dt.timedelta(days=1)
    Project.write([project], {'accepted_date': last})
    with Transaction().set_context(company=Config(1).company.id):
        Statement.settle(last)
        statements = Statement.search([
                ('provider', '=', project.constructor.id),
                ('state', '=', 'draft')])
        if not statements:
            return
        Statement.send(statements)
        Statement.accept(statements)
        with _as(users['supervisor_xc']):
            Statement.check(statements)
        with _as(users['finance']):
            Statement.approve(statements)
        Statement.pay(statements)
    log(f'renovation subsidy settled: {Project(project.id).settlement_state}')


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

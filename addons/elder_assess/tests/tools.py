# This file is part of the eldercare platform. See LICENSE.
"Helpers shared by the tests of elder_assess."
import datetime as dt

from trytond.modules.elder_assess import scoring
from trytond.modules.elder_base.tests.tools import (
    citizen_id, create_elder, create_provider, region)
from trytond.pool import Pool

XINCHENG, HUIMIN, HOHHOT = '150102', '150103', '150100'


def answers_for(total):
    """Answers of the 26 items whose scores add up to total (0–90): items
    are filled to their maximum in order, the last one partly"""
    answers = {}
    left = total
    for item in scoring.ITEMS:
        score = min(item['max'], left)
        # scores of an item are contiguous from 0 to its maximum
        answers[item['field']] = str(score)
        left -= score
    assert left == 0, total
    return answers


def create_user(login, *groups, **values):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    ids = []
    for group in groups:
        module, name = group.split('.')
        ids.append(ModelData.get_id(module, name))
    user, = User.create([{
                'login': login, 'name': login,
                'groups': [('add', ids)], **values}])
    return user


def assessment_agency(name='青城老年人能力评估中心', region_code=XINCHENG):
    return create_provider(name, region_code)


def create_assessor(name, serial, provider, certified=True, user=None,
        expiry=None):
    Practitioner = Pool().get('elder.practitioner')
    values = {
        'name': name,
        'id_number': citizen_id('150102', '19800101', serial),
        'phone': '13800138%03d' % serial,
        'provider': provider.id,
        'kind': 'assessor',
        'user': user.id if user else None,
        }
    if certified:
        values['certificates'] = [('create', [{
                        'name': '老年人能力评估师',
                        'number': 'PGS%06d' % serial,
                        'issue_date': dt.date(2020, 1, 1),
                        'expiry_date': expiry or dt.date(2099, 12, 31),
                        }])]
    practitioner, = Practitioner.create([values])
    return practitioner


def an_elder(name='巴特尔', serial=12, birth='19400315',
        region_code=XINCHENG, **values):
    return create_elder(
        name, citizen_id(region_code, birth, serial), region_code, **values)


def category(code):
    Category = Pool().get('elder.category')
    record, = Category.search([('code', '=', code)])
    return record


__all__ = ['region', 'answers_for', 'create_user', 'assessment_agency',
    'create_assessor', 'an_elder', 'category']

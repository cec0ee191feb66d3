# This file is part of the eldercare platform. See LICENSE.
"What a user may NOT see or do: record rules and groups of elder_base."
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from .tools import citizen_id, create_elder, create_provider, region

XINCHENG, HUIMIN = '150102', '150103'


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


def create_practitioner(name, id_number, provider, **values):
    Practitioner = Pool().get('elder.practitioner')
    practitioner, = Practitioner.create([{
                'name': name,
                'id_number': id_number,
                'phone': '13800138000',
                'provider': provider.id,
                **values}])
    return practitioner


class ElderBaseAccessTestCase(ModuleTestCase):
    "Test elder_base data scope"
    module = 'elder_base'

    def _two_districts(self):
        "One older person in 新城区 and one in 回民区"
        xc = create_elder('新城老人', citizen_id('150102', '19450101', 2), XINCHENG)
        hm = create_elder('回民老人', citizen_id('150103', '19460202', 2), HUIMIN)
        return xc, hm

    @with_transaction()
    def test_supervisor_sees_only_own_region(self):
        "A supervisor of 新城区 cannot read 回民区's older people"
        pool = Pool()
        Elder = pool.get('elder.elder')
        xc, hm = self._two_districts()
        user = create_user(
            'sup_xc', 'elder_base.group_supervisor',
            elder_region=region(XINCHENG).id)

        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Elder.search([]), [xc])
            with self.assertRaises(AccessError):
                Elder.read([hm.id], ['name'])
            with self.assertRaises(AccessError):
                Elder.write([Elder(hm.id)], {'note': 'x'})

    @with_transaction()
    def test_city_supervisor_sees_districts_below(self):
        "A supervisor of 呼和浩特市 sees every district below it"
        pool = Pool()
        Elder = pool.get('elder.elder')
        xc, hm = self._two_districts()
        user = create_user(
            'sup_city', 'elder_base.group_supervisor',
            elder_region=region('150100').id)

        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(set(Elder.search([])), {xc, hm})

    @with_transaction()
    def test_user_without_scope_sees_nothing(self):
        "A supervisor whose region scope is not set sees no older person"
        pool = Pool()
        Elder = pool.get('elder.elder')
        self._two_districts()
        user = create_user('sup_none', 'elder_base.group_supervisor')

        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Elder.search([]), [])

    @with_transaction()
    def test_scope_change_applies_at_once(self):
        "Moving a user to another region changes what they see at once"
        pool = Pool()
        Elder = pool.get('elder.elder')
        User = pool.get('res.user')
        xc, hm = self._two_districts()
        user = create_user(
            'sup_move', 'elder_base.group_supervisor',
            elder_region=region(XINCHENG).id)
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Elder.search([]), [xc])
        User.write([user], {'elder_region': region(HUIMIN).id})
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Elder.search([]), [hm])

    @with_transaction()
    def test_supervisor_sees_providers_serving_the_region(self):
        """A district supervisor sees the providers registered in or serving
        the district (their orders there name them), and their staff; not
        those of a district they neither sit in nor serve"""
        pool = Pool()
        Provider = pool.get('elder.provider')
        Practitioner = pool.get('elder.practitioner')
        serving = create_provider('甲服务中心', XINCHENG)
        Provider.write([serving], {
                'service_areas': [('add', [region(HUIMIN).id])]})
        local = create_provider('乙服务中心', HUIMIN)
        elsewhere = create_provider('丙服务中心', XINCHENG)
        staff = create_practitioner(
            '王护理', citizen_id('150102', '19800101', 1), serving)
        other = create_practitioner(
            '李护理', citizen_id('150102', '19810101', 1), elsewhere)
        user = create_user('sup_hm', 'elder_base.group_supervisor',
            elder_region=region(HUIMIN).id)

        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(set(Provider.search([])), {serving, local})
            self.assertEqual(Practitioner.search([]), [staff])
            self.assertEqual(Provider.read([serving.id], ['name'])[0]['name'],
                '甲服务中心')
            with self.assertRaises(AccessError):
                Provider.read([elsewhere.id], ['name'])
            with self.assertRaises(AccessError):
                Practitioner.read([other.id], ['name'])

    @with_transaction()
    def test_provider_cannot_read_other_provider_staff(self):
        "A provider administrator cannot read another provider's staff"
        pool = Pool()
        Practitioner = pool.get('elder.practitioner')
        Provider = pool.get('elder.provider')
        Certificate = pool.get('elder.practitioner.certificate')
        mine = create_provider('甲服务中心', XINCHENG)
        other = create_provider('乙服务中心', HUIMIN)
        own_staff = create_practitioner('王护理', citizen_id('150102', '19800101', 1), mine)
        other_staff = create_practitioner(
            '李护理', citizen_id('150103', '19810101', 1), other,
            certificates=[('create', [{
                            'name': '养老护理员职业技能等级证书',
                            'number': 'Y-1'}])])
        user = create_user(
            'padmin', 'elder_base.group_provider_admin',
            elder_provider=mine.id)

        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Practitioner.search([]), [own_staff])
            self.assertEqual(Provider.search([]), [mine])
            self.assertEqual(Certificate.search([]), [])
            with self.assertRaises(AccessError):
                Practitioner.read([other_staff.id], ['name', 'phone'])
            with self.assertRaises(AccessError):
                Certificate.read(
                    [other_staff.certificates[0].id], ['number'])
            with self.assertRaises(AccessError):
                Practitioner.create([{
                            'name': '冒名',
                            'id_number': citizen_id('150102', '19820202', 1),
                            'phone': '13800138001',
                            'provider': other.id,
                            }])

    @with_transaction()
    def test_provider_cannot_move_its_region(self):
        "A provider administrator may not change the provider's region"
        pool = Pool()
        Provider = pool.get('elder.provider')
        mine = create_provider('甲服务中心', XINCHENG)
        user = create_user(
            'padmin', 'elder_base.group_provider_admin',
            elder_provider=mine.id)

        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            Provider.write([Provider(mine.id)], {'phone': '13800138000'})
            with self.assertRaises(AccessError):
                Provider.write(
                    [Provider(mine.id)], {'region': region(HUIMIN).id})
        self.assertEqual(Provider(mine.id).region, region(XINCHENG))

    @with_transaction()
    def test_provider_cannot_read_elders(self):
        "Provider users have no access to older people's records in the base"
        pool = Pool()
        Elder = pool.get('elder.elder')
        self._two_districts()
        provider = create_provider('甲服务中心', XINCHENG)
        user = create_user(
            'padmin', 'elder_base.group_provider_admin',
            elder_provider=provider.id)

        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessError):
                Elder.search([])

    @with_transaction()
    def test_caregiver_sees_only_own_record(self):
        "A caregiver sees their own practitioner record only"
        pool = Pool()
        Practitioner = pool.get('elder.practitioner')
        provider = create_provider('甲服务中心', XINCHENG)
        user = create_user(
            'carer', 'elder_base.group_caregiver',
            elder_provider=provider.id)
        me = create_practitioner(
            '王护理', citizen_id('150102', '19800101', 1), provider, user=user.id)
        create_practitioner('李护理', citizen_id('150103', '19810101', 1), provider)

        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Practitioner.search([]), [me])
            with self.assertRaises(AccessError):
                Practitioner.write([Practitioner(me.id)], {'phone': '13900139000'})

    @with_transaction()
    def test_finance_cannot_change_elders(self):
        "Finance reads older people in its region but cannot change them"
        pool = Pool()
        Elder = pool.get('elder.elder')
        xc, _ = self._two_districts()
        user = create_user(
            'fin', 'elder_base.group_finance',
            elder_region=region(XINCHENG).id)

        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Elder.search([]), [xc])
            with self.assertRaises(AccessError):
                Elder.write([Elder(xc.id)], {'note': 'x'})

    @with_transaction()
    def test_only_supervisor_enables_provider(self):
        "Only a region supervisor may press the provider's Enable button"
        pool = Pool()
        Provider = pool.get('elder.provider')
        provider = create_provider('甲服务中心', XINCHENG)
        Provider.review([provider])
        Provider.agree([provider])
        Provider.train([provider])
        operator = create_user(
            'op', 'elder_base.group_operator',
            elder_region=region('150100').id)
        supervisor = create_user(
            'sup', 'elder_base.group_supervisor',
            elder_region=region('150100').id)

        with Transaction().set_user(operator.id), \
                Transaction().set_context(_check_access=True):
            with self.assertRaises(AccessButtonError):
                Provider.enable([Provider(provider.id)])
        with Transaction().set_user(supervisor.id), \
                Transaction().set_context(_check_access=True):
            Provider.enable([Provider(provider.id)])
        self.assertEqual(Provider(provider.id).state, 'active')


del ModuleTestCase

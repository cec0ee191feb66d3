# This file is part of the eldercare platform. See LICENSE.
"What a user may NOT see or do in the community module."
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.elder_base.tests.tools import region
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from .tools import (
    HUIMIN, XINCHENG, active_provider, as_user, create_user, day_care, earn,
    enrol, home_elder, volunteer)


class ElderCommunityAccessTestCase(ModuleTestCase):
    "Test elder_community data scope"
    module = 'elder_community'

    def _cases(self):
        pool = Pool()
        Case = pool.get('social.case')
        hohhot = region('150100')
        worker_a = create_user('sw_a', 'elder_community.group_social_worker',
            elder_region=region(XINCHENG).id)
        worker_b = create_user('sw_b', 'elder_community.group_social_worker',
            elder_region=region(XINCHENG).id)
        supervisor = create_user('sup', 'elder_base.group_supervisor',
            elder_region=hohhot.id)
        supervisor_hm = create_user('sup_hm', 'elder_base.group_supervisor',
            elder_region=region(HUIMIN).id)
        staff = create_user('staff', 'elder_community.group_community_staff',
            elder_region=hohhot.id)
        case_a, case_b = Case.create([{
                    'elder': home_elder('独居甲', 12).id,
                    'case_type': 'living_alone',
                    'social_worker': worker_a.id,
                    'situation': '独居'},
                {'elder': home_elder('失独乙', 22).id, 'case_type': 'shidu',
                    'social_worker': worker_b.id}])
        return locals()

    @with_transaction()
    def test_social_worker_caseload(self):
        "A social worker sees and changes only their own cases"
        pool = Pool()
        Case = pool.get('social.case')
        w = self._cases()
        case_a, case_b = w['case_a'], w['case_b']
        user, ctx = as_user(w['worker_a'])
        with user, ctx:
            self.assertEqual(Case.search([]), [case_a])
            with self.assertRaises(AccessError):
                Case.read([case_b.id], ['number'])
            with self.assertRaises(AccessError):
                Case.write([Case(case_b.id)], {'next_visit': None})
            with self.assertRaises(AccessError):
                Case.create([{'elder': w['case_b'].elder.id,
                            'case_type': 'other',
                            'social_worker': w['worker_b'].id}])
            # Assessments follow the case
            Assessment = pool.get('social.case.assessment')
            with self.assertRaises(AccessError):
                Assessment.create([{'case': case_b.id, 'physical': 3,
                            'mental': 3, 'social_support': 3,
                            'economic': 3, 'safety': 3, 'needs': 'x'}])
            own, = Case.create([{'elder': case_a.elder.id,
                        'case_type': 'bereaved'}])
            self.assertEqual(own.social_worker, w['worker_a'])
            # A social worker does not reopen a closed case
            with self.assertRaises(AccessButtonError):
                Case.reopen([Case(case_a.id)])

    @with_transaction()
    def test_case_supervision(self):
        "Supervisors read the cases of their region only; staff none"
        pool = Pool()
        Case = pool.get('social.case')
        w = self._cases()
        user, ctx = as_user(w['supervisor'])
        with user, ctx:
            self.assertEqual(len(Case.search([])), 2)
            with self.assertRaises(AccessError):
                Case.write([Case(w['case_a'].id)], {'next_visit': None})
        user, ctx = as_user(w['supervisor_hm'])
        with user, ctx:
            self.assertEqual(Case.search([]), [])
        user, ctx = as_user(w['staff'])
        with user, ctx:
            with self.assertRaises(AccessError):
                Case.search([])

    @with_transaction()
    def test_provider_sees_own_facility(self):
        "Provider staff see and record only at their provider's facility"
        pool = Pool()
        Facility = pool.get('community.facility')
        Attendance = pool.get('community.attendance')
        a = active_provider('甲服务中心', XINCHENG, [XINCHENG])
        b = active_provider('乙服务中心', HUIMIN, [HUIMIN])
        mine = day_care('甲日间照料中心', operator=a)
        theirs = day_care('乙日间照料中心', HUIMIN, operator=b)
        elder = home_elder()
        enrol(mine, elder, 'A-1')
        visit = Attendance.check_in(theirs, home_elder('其其格', 22))
        # Refused attempts below leave their row in this test transaction
        # (a request's transaction is rolled back): one older person each.
        strangers = [home_elder('乌云', 32), home_elder('那顺', 42)]
        admin_a = create_user('padmin_a', 'elder_base.group_provider_admin',
            elder_provider=a.id)
        carer_a = create_user('carer_a', 'elder_base.group_caregiver',
            elder_provider=a.id)
        for login, stranger in zip([admin_a, carer_a], strangers):
            user, ctx = as_user(login)
            with user, ctx:
                self.assertEqual(Facility.search([]), [mine])
                with self.assertRaises(AccessError):
                    Facility.read([theirs.id], ['name'])
                self.assertEqual(Attendance.search([]), [])
                with self.assertRaises(AccessError):
                    Attendance.read([visit.id], ['state'])
                with self.assertRaises(AccessError):
                    Attendance.check_in(theirs.id, stranger.id)
        user, ctx = as_user(carer_a)
        with user, ctx:
            record = Attendance.check_in(mine.id, method='card', card='A-1')
            self.assertEqual(record.elder, elder)
            with self.assertRaises(AccessError):
                Facility.write([Facility(mine.id)], {'seats': 99})

    @with_transaction()
    def test_region_scope_of_community_roles(self):
        "Community staff and coordinators see their region only"
        pool = Pool()
        Facility = pool.get('community.facility')
        Volunteer = pool.get('volunteer.volunteer')
        Entry = pool.get('timebank.entry')
        Inspection = pool.get('community.inspection')
        xc = day_care('新城中心')
        hm = day_care('回民中心', HUIMIN)
        vol_xc = volunteer('新城志愿者', 1)
        vol_hm = volunteer('回民志愿者', 2, HUIMIN)
        earn(vol_xc, 2)
        staff = create_user('staff_xc',
            'elder_community.group_community_staff',
            elder_region=region(XINCHENG).id)
        coordinator = create_user('coord_xc',
            'elder_community.group_volunteer_coordinator',
            elder_region=region(XINCHENG).id)
        user, ctx = as_user(staff)
        with user, ctx:
            self.assertEqual(Facility.search([]), [xc])
            with self.assertRaises(AccessError):
                Facility.read([hm.id], ['name'])
            with self.assertRaises(AccessError):
                Inspection.create([{'facility': xc.id}])
            with self.assertRaises(AccessError):
                Volunteer.search([])
        user, ctx = as_user(coordinator)
        with user, ctx:
            self.assertEqual(Volunteer.search([]), [vol_xc])
            with self.assertRaises(AccessError):
                Volunteer.read([vol_hm.id], ['name'])
            self.assertEqual(len(Entry.search([])), 1)
            # The ledger is written by the time bank only
            with self.assertRaises(AccessError):
                Entry.create([{'account': vol_xc.account.id,
                            'kind': 'earn', 'hours': Decimal(9),
                            'origin': 'volunteer.hours,1'}])
            # ID numbers come masked
            row, = Volunteer.read([vol_xc.id], ['id_number'])
            self.assertIn('*', row['id_number'])


del ModuleTestCase

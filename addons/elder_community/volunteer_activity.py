# This file is part of the eldercare platform. See LICENSE.
"""Volunteer activities with sign-up and check-in, and the hours served,
approved by a coordinator into the time bank. An activity may be a visit
to an older person living alone, recorded on their social work case."""
import datetime as dt
from decimal import ROUND_DOWN, Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .attendance import METHODS
from .common import lock_rows, refuse_duplicate
from .exceptions import RegistrationError, TimeBankError

KINDS = [
    ('visit', "Visit to an older person living alone"),
    ('day_care', "Day-care help"),
    ('companion', "Companionship"),
    ('errand', "Errands"),
    ('event', "Community event"),
    ('training', "Training"),
    ('other', "Other"),
    ]
STATES = [
    ('draft', "Draft"),
    ('open', "Open for Sign-up"),
    ('done', "Done"),
    ('cancelled', "Cancelled"),
    ]
SIGNUP_STATES = [
    ('signed', "Signed Up"),
    ('checked_in', "Checked In"),
    ('checked_out', "Checked Out"),
    ('absent', "Absent"),
    ('cancelled', "Cancelled"),
    ]
HOURS_STATES = [
    ('draft', "Draft"),
    ('approved', "Approved"),
    ('rejected', "Rejected"),
    ]


def half_hours(minutes):
    "Minutes served → hours, rounded down to the half hour"
    return (Decimal(minutes) / 30).quantize(
        Decimal(1), rounding=ROUND_DOWN) / 2


class VolunteerActivity(Workflow, ModelSQL, ModelView):
    "Volunteer activity"
    __name__ = 'volunteer.activity'
    _sensitivity = {'elder': 'personal', 'case': 'sensitive'}
    _states = {'readonly': Eval('state') != 'draft'}
    name = fields.Char("Name", required=True, states=_states)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False,
        states=_states)
    region = fields.Many2One('elder.region', "Region", required=True,
        ondelete='RESTRICT', states=_states)
    facility = fields.Many2One('community.facility', "Facility",
        ondelete='RESTRICT', states=_states)
    elder = fields.Many2One('elder.elder', "Older Person Visited",
        ondelete='RESTRICT', states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('kind') == 'visit',
            'invisible': Eval('kind') != 'visit',
            })
    case = fields.Many2One('social.case', "Social Work Case",
        ondelete='RESTRICT',
        domain=[If(Eval('elder'), ('elder', '=', Eval('elder', -1)), ())],
        states={
            'readonly': Eval('state') != 'draft',
            'invisible': Eval('kind') != 'visit',
            },
        help="The visit is recorded as an intervention of the case.")
    start = fields.DateTime("Start", required=True, states=_states)
    end = fields.DateTime("End", required=True, states=_states,
        domain=[If(Eval('start') & Eval('end'),
                ('end', '>=', Eval('start')), ())])
    capacity = fields.Integer("Places",
        domain=[If(Eval('capacity'), ('capacity', '>', 0), ())],
        states={'readonly': Eval('state').in_(['done', 'cancelled'])})
    skills = fields.Many2Many('volunteer.activity-volunteer.skill',
        'activity', 'skill', "Skills Needed", states=_states)
    description = fields.Text("Description")
    coordinator = fields.Many2One('res.user', "Coordinator",
        ondelete='RESTRICT')
    signups = fields.One2Many('volunteer.signup', 'activity', "Sign-ups",
        states={'readonly': Eval('state').in_(['done', 'cancelled'])})
    signed = fields.Function(fields.Integer("Signed Up"), 'get_signed')
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.region, Index.Range()), (t.start, Index.Range())))
        cls._order = [('start', 'DESC'), ('id', 'DESC')]
        cls.__rpc__['sign_up'] = RPC(readonly=False, result=int)
        cls._transitions |= {
            ('draft', 'open'),
            ('open', 'done'),
            ('draft', 'cancelled'),
            ('open', 'cancelled'),
            }
        buttons = {
            'open': ['draft'],
            'do': ['open'],
            'cancel': ['draft', 'open'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_kind():
        return 'visit'

    @staticmethod
    def default_coordinator():
        return Transaction().user

    def get_signed(self, name):
        return len([s for s in self.signups
                if s.state in {'signed', 'checked_in', 'checked_out'}])

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def open(cls, activities):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, activities):
        """Close the activity: who never came is absent, who is still
        checked in is checked out at the end; a visit on a case becomes an
        intervention of the case"""
        pool = Pool()
        Signup = pool.get('volunteer.signup')
        Intervention = pool.get('social.case.intervention')
        for activity in activities:
            Signup.write([s for s in activity.signups
                    if s.state == 'signed'], {'state': 'absent'})
            for signup in activity.signups:
                if signup.state == 'checked_in':
                    Signup.check_out(signup, when=min(
                            activity.end, dt.datetime.now()))
            if activity.kind == 'visit' and activity.case:
                served = [s for s in activity.signups
                    if s.state == 'checked_out']
                values = [{
                        'case': activity.case.id,
                        'date': s.checkin_time,
                        'kind': 'volunteer_visit',
                        'volunteer': s.volunteer.id,
                        'minutes': s.minutes,
                        'note': activity.description or activity.name,
                        } for s in served]
                with Transaction().set_context(_check_access=False):
                    Intervention.create(values)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, activities):
        pool = Pool()
        Signup = pool.get('volunteer.signup')
        Signup.write([s for a in activities for s in a.signups
                if s.state == 'signed'], {'state': 'cancelled'})

    @classmethod
    def sign_up(cls, activity, volunteer):
        """Sign the volunteer up; refused when not open, full, inactive or
        twice (the activity row is locked: two sign-ups for the last place
        do not both pass)"""
        pool = Pool()
        Signup = pool.get('volunteer.signup')
        Volunteer = pool.get('volunteer.volunteer')
        volunteer = Volunteer(int(volunteer))
        lock_rows(cls, [int(activity)])
        activity = cls(int(activity))
        if activity.state != 'open':
            raise RegistrationError(gettext(
                    'elder_community.msg_activity_not_open',
                    activity=activity.rec_name))
        if volunteer.state != 'active':
            raise RegistrationError(gettext(
                    'elder_community.msg_volunteer_not_active',
                    volunteer=volunteer.rec_name))
        if activity.capacity and activity.signed >= activity.capacity:
            raise RegistrationError(gettext(
                    'elder_community.msg_activity_full',
                    activity=activity.rec_name))
        refuse_duplicate(Signup, [
                ('activity', '=', activity.id),
                ('volunteer', '=', volunteer.id),
                ], 'msg_signup_unique', RegistrationError)
        signup, = Signup.create([{
                    'activity': activity.id,
                    'volunteer': volunteer.id,
                    }])
        return signup


class ActivitySkill(ModelSQL):
    "Volunteer activity - Skill"
    __name__ = 'volunteer.activity-volunteer.skill'
    activity = fields.Many2One('volunteer.activity', "Activity",
        required=True, ondelete='CASCADE')
    skill = fields.Many2One('volunteer.skill', "Skill", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('activity')


class Signup(Workflow, ModelSQL, ModelView):
    "Volunteer sign-up and check-in"
    __name__ = 'volunteer.signup'
    activity = fields.Many2One('volunteer.activity', "Activity",
        required=True, ondelete='CASCADE')
    volunteer = fields.Many2One('volunteer.volunteer', "Volunteer",
        required=True, ondelete='RESTRICT',
        domain=[('state', '=', 'active')])
    checkin_time = fields.Timestamp("Check-in Time", readonly=True)
    checkin_method = fields.Selection([(None, "")] + METHODS,
        "Check-in Method", readonly=True)
    checkout_time = fields.Timestamp("Check-out Time", readonly=True)
    minutes = fields.Function(fields.Integer("Minutes"), 'get_minutes')
    hours = fields.One2Many('volunteer.hours', 'signup', "Hours",
        readonly=True)
    state = fields.Selection(SIGNUP_STATES, "State", required=True,
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('activity')
        t = cls.__table__()
        cls._sql_constraints += [
            ('volunteer_uniq', Unique(t, t.activity, t.volunteer),
                'elder_community.msg_signup_unique'),
            ]
        cls._transitions |= {
            ('signed', 'checked_in'),
            ('checked_in', 'checked_out'),
            ('signed', 'cancelled'),
            ('signed', 'absent'),
            }
        cls._buttons.update({
                'check_in_button': {
                    'invisible': Eval('state') != 'signed',
                    'depends': ['state'],
                    },
                'check_out_button': {
                    'invisible': Eval('state') != 'checked_in',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'signed',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'signed'

    def get_rec_name(self, name):
        return '%s – %s' % (self.volunteer.rec_name, self.activity.rec_name)

    def get_minutes(self, name):
        if self.checkin_time and self.checkout_time:
            return int((self.checkout_time - self.checkin_time
                    ).total_seconds() // 60)

    @classmethod
    def check_in(cls, signup, method='manual', when=None):
        if signup.state != 'signed' or signup.activity.state != 'open':
            raise RegistrationError(gettext(
                    'elder_community.msg_signup_checkin',
                    signup=signup.rec_name))
        when = when or dt.datetime.now().replace(microsecond=0)
        cls.write([signup], {
                'checkin_time': when,
                'checkin_method': method,
                'state': 'checked_in',
                })

    @classmethod
    def check_out(cls, signup, when=None):
        """Check out and record the hours served (a draft for the
        coordinator to approve)"""
        pool = Pool()
        Hours = pool.get('volunteer.hours')
        Configuration = pool.get('community.configuration')
        if signup.state != 'checked_in':
            raise RegistrationError(gettext(
                    'elder_community.msg_signup_checkout',
                    signup=signup.rec_name))
        when = when or dt.datetime.now().replace(microsecond=0)
        if when < signup.checkin_time:
            raise RegistrationError(gettext(
                    'elder_community.msg_attendance_before_checkin'))
        cls.write([signup], {'checkout_time': when, 'state': 'checked_out'})
        hours = min(half_hours(signup.minutes),
            Configuration(1).volunteer_max_hours)
        if hours > 0:
            Hours.create([{
                        'volunteer': signup.volunteer.id,
                        'signup': signup.id,
                        'activity': signup.activity.id,
                        'date': signup.checkin_time.date(),
                        'hours': hours,
                        }])

    @classmethod
    @ModelView.button
    def check_in_button(cls, signups):
        for signup in signups:
            cls.check_in(signup)

    @classmethod
    @ModelView.button
    def check_out_button(cls, signups):
        for signup in signups:
            cls.check_out(signup)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, signups):
        pass


class Hours(Workflow, ModelSQL, ModelView):
    "Volunteer hours served"
    __name__ = 'volunteer.hours'
    _draft = {'readonly': Eval('state') != 'draft'}
    volunteer = fields.Many2One('volunteer.volunteer', "Volunteer",
        required=True, ondelete='RESTRICT', states=_draft)
    signup = fields.Many2One('volunteer.signup', "Sign-up", readonly=True,
        ondelete='RESTRICT')
    activity = fields.Many2One('volunteer.activity', "Activity",
        ondelete='RESTRICT', states=_draft)
    date = fields.Date("Date", required=True, states=_draft)
    hours = fields.Numeric("Hours", digits=(4, 1), required=True,
        domain=[('hours', '>', 0), ('hours', '<=', 24)], states=_draft)
    description = fields.Char("Description", states=_draft)
    approved_by = fields.Many2One('res.user', "Approved By", readonly=True)
    state = fields.Selection(HOURS_STATES, "State", required=True,
        readonly=True)
    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('signup_uniq', Unique(t, t.signup),
                'elder_community.msg_hours_signup_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.volunteer, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'approved'),
            ('draft', 'rejected'),
            }
        for button in ['approve', 'reject']:
            cls._buttons[button] = {
                'invisible': Eval('state') != 'draft',
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'draft'

    def get_rec_name(self, name):
        return '%s %s %s' % (self.volunteer.rec_name, self.date, self.hours)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode == 'delete':
            for record in records:
                if record.state == 'approved':
                    raise TimeBankError(gettext(
                            'elder_community.msg_timebank_immutable'))

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, records):
        "Approved hours are earned in the volunteer's time-bank account"
        pool = Pool()
        Account = pool.get('timebank.account')
        lock_rows(cls, [r.id for r in records])
        for record in records:
            if record.volunteer.state != 'active':
                raise TimeBankError(gettext(
                        'elder_community.msg_volunteer_not_active',
                        volunteer=record.volunteer.rec_name))
            account = Account.of(record.volunteer)
            Account.post(account, 'earn', record.hours, record)
        cls.write(records, {'approved_by': Transaction().user})

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, records):
        pass

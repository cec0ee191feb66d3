# This file is part of the eldercare platform. See LICENSE.
"Activities and programmes of a facility with the older people's sign-ups."
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.rpc import RPC

from .common import lock_rows, refuse_duplicate
from .exceptions import RegistrationError

KINDS = [
    ('culture', "Culture and recreation"),
    ('fitness', "Fitness and rehabilitation"),
    ('health', "Health talk or check-up"),
    ('learning', "Learning"),
    ('meal', "Meal"),
    ('festival', "Festival"),
    ('other', "Other"),
    ]
STATES = [
    ('draft', "Draft"),
    ('open', "Open for Sign-up"),
    ('done', "Done"),
    ('cancelled', "Cancelled"),
    ]
REGISTRATION_STATES = [
    ('registered', "Registered"),
    ('attended', "Attended"),
    ('absent', "Absent"),
    ('cancelled', "Cancelled"),
    ]


class Activity(Workflow, ModelSQL, ModelView):
    "Facility activity or programme"
    __name__ = 'community.activity'
    _states = {'readonly': Eval('state') != 'draft'}
    facility = fields.Many2One(
        'community.facility', "Facility", required=True, ondelete='CASCADE',
        states=_states)
    name = fields.Char("Name", required=True, states=_states)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False,
        states=_states)
    start = fields.DateTime("Start", required=True, states=_states)
    end = fields.DateTime("End", required=True, states=_states,
        domain=[If(Eval('start') & Eval('end'),
                ('end', '>=', Eval('start')), ())])
    capacity = fields.Integer("Places",
        domain=[If(Eval('capacity'), ('capacity', '>', 0), ())],
        states={'readonly': Eval('state').in_(['done', 'cancelled'])},
        help="Leave empty for no limit.")
    description = fields.Text("Description")
    registrations = fields.One2Many(
        'community.activity.registration', 'activity', "Sign-ups",
        states={'readonly': Eval('state') != 'open'})
    registered = fields.Function(fields.Integer("Signed Up"), 'get_counts')
    attended = fields.Function(fields.Integer("Attended"), 'get_counts')
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.facility, Index.Range()), (t.start, Index.Range())))
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
        return 'culture'

    @classmethod
    def get_counts(cls, activities, names):
        result = {n: {} for n in names}
        for activity in activities:
            states = [r.state for r in activity.registrations]
            if 'registered' in names:
                result['registered'][activity.id] = sum(
                    s in {'registered', 'attended', 'absent'} for s in states)
            if 'attended' in names:
                result['attended'][activity.id] = states.count('attended')
        return result

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def open(cls, activities):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, activities):
        "Who did not come is marked absent"
        pool = Pool()
        Registration = pool.get('community.activity.registration')
        Registration.write([r for a in activities for r in a.registrations
                if r.state == 'registered'], {'state': 'absent'})

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, activities):
        pool = Pool()
        Registration = pool.get('community.activity.registration')
        Registration.write([r for a in activities for r in a.registrations
                if r.state == 'registered'], {'state': 'cancelled'})

    @classmethod
    def sign_up(cls, activity, elder):
        """Sign the older person up; refused when full, closed or twice.

        The activity row is locked so that two sign-ups for the last place
        cannot both pass."""
        pool = Pool()
        Registration = pool.get('community.activity.registration')
        Elder = pool.get('elder.elder')
        elder = Elder(int(elder))
        lock_rows(cls, [int(activity)])
        activity = cls(int(activity))
        if activity.state != 'open':
            raise RegistrationError(gettext(
                    'elder_community.msg_activity_not_open',
                    activity=activity.rec_name))
        if activity.capacity and activity.registered >= activity.capacity:
            raise RegistrationError(gettext(
                    'elder_community.msg_activity_full',
                    activity=activity.rec_name))
        refuse_duplicate(Registration, [
                ('activity', '=', activity.id),
                ('elder', '=', elder.id),
                ], 'msg_registration_unique', RegistrationError)
        registration, = Registration.create([{
                    'activity': activity.id,
                    'elder': elder.id,
                    }])
        return registration


class Registration(Workflow, ModelSQL, ModelView):
    "Sign-up of an older person to an activity"
    __name__ = 'community.activity.registration'
    activity = fields.Many2One(
        'community.activity', "Activity", required=True, ondelete='CASCADE')
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='RESTRICT',
        domain=[('state', '=', 'active')])
    state = fields.Selection(
        REGISTRATION_STATES, "State", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('activity')
        t = cls.__table__()
        cls._sql_constraints += [
            ('elder_uniq', Unique(t, t.activity, t.elder),
                'elder_community.msg_registration_unique'),
            ]
        cls._transitions |= {
            ('registered', 'attended'),
            ('registered', 'cancelled'),
            ('absent', 'attended'),
            }
        cls._buttons.update({
                'attend': {
                    'invisible': ~Eval('state').in_(['registered', 'absent']),
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'registered',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'registered'

    @classmethod
    @ModelView.button
    @Workflow.transition('attended')
    def attend(cls, registrations):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, registrations):
        pass

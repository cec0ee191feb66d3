# This file is part of the eldercare platform. See LICENSE.
"""Social work (社会工作管理): cases of older people in difficulty, needs
assessment, service plan, interventions and visits, referrals to other
departments and closing. A social worker sees only their own caseload."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Workflow, fields, sequence_ordered)
from trytond.modules.elder_base.elder import encrypted
from trytond.modules.elder_security.crypto import EncryptedMixin
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .common import next_number
from .exceptions import CaseError

CASE_TYPES = [
    ('living_alone', "Living alone"),
    ('bereaved', "Bereaved"),
    ('abuse_risk', "Risk of abuse"),
    ('neglect_risk', "Risk of neglect"),
    ('shidu', "Lost their only child (失独)"),
    ('other', "Other difficulty"),
    ]
SOURCES = [
    ('community', "Community visit"),
    ('hotline', "Hotline"),
    ('family', "Family or neighbour"),
    ('volunteer', "Volunteer visit"),
    ('police', "Police"),
    ('hospital', "Hospital"),
    ('self', "The older person"),
    ('other', "Other"),
    ]
RISKS = [
    (None, ""),
    ('low', "Low"),
    ('medium', "Medium"),
    ('high', "High"),
    ]
STATES = [
    ('intake', "Intake"),
    ('assessed', "Assessed"),
    ('planned', "Planned"),
    ('in_progress', "In Progress"),
    ('closed', "Closed"),
    ]
CLOSING_REASONS = [
    (None, ""),
    ('achieved', "Goals achieved"),
    ('other_service', "Needs met by another service"),
    ('moved', "Moved away"),
    ('deceased', "Deceased"),
    ('refused', "Refused further help"),
    ('transferred', "Transferred to another agency"),
    ]
INTERVENTION_KINDS = [
    ('home_visit', "Home visit"),
    ('phone', "Phone call"),
    ('counselling', "Counselling"),
    ('resource', "Linking resources"),
    ('volunteer_visit', "Volunteer visit"),
    ('group', "Group activity"),
    ('other', "Other"),
    ]
DEPARTMENTS = [
    ('civil_affairs', "Civil affairs"),
    ('health', "Health commission or hospital"),
    ('police', "Public security"),
    ('justice', "Court or legal aid"),
    ('women', "Women's federation"),
    ('disabled', "Disabled persons' federation"),
    ('human_resources', "Human resources and social security"),
    ('community', "Community committee"),
    ('other', "Other"),
    ]
REFERRAL_STATES = [
    ('sent', "Sent"),
    ('accepted', "Accepted"),
    ('completed', "Completed"),
    ('declined', "Declined"),
    ]


class Case(EncryptedMixin, Workflow, ModelSQL, ModelView):
    "Social work case (社会工作个案)"
    __name__ = 'social.case'
    _sensitivity = {
        'elder': 'sensitive', 'case_type': 'sensitive',
        'risk_level': 'sensitive', 'source': 'sensitive',
        'plan_summary': 'sensitive', 'closing_summary': 'sensitive',
        'closing_reason': 'sensitive', 'assessments': 'sensitive',
        'goals': 'sensitive', 'interventions': 'sensitive',
        'referrals': 'sensitive'}
    _encrypted_fields = {'situation': None}
    _open = {'readonly': Eval('state') == 'closed'}

    number = fields.Char("Number", readonly=True)
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='RESTRICT',
        states={'readonly': Eval('state') != 'intake'})
    region = fields.Function(fields.Many2One('elder.region', "Region"),
        'get_region', searcher='search_region')
    case_type = fields.Selection(CASE_TYPES, "Case Type", required=True,
        sort=False, states=_open)
    source = fields.Selection(SOURCES, "Source", required=True, sort=False,
        states=_open)
    social_worker = fields.Many2One(
        'res.user', "Social Worker", required=True, ondelete='RESTRICT',
        states=_open, help="The case belongs to this worker's caseload.")
    opened_date = fields.Date("Opened On", required=True, states=_open)
    situation = encrypted(fields.Text("Situation", states=_open,
            help="What brought the case: stored encrypted."))
    situation_enc = fields.Text("Situation (Encrypted)", readonly=True)
    risk_level = fields.Selection(RISKS, "Risk Level", readonly=True,
        sort=False, help="From the latest needs assessment.")
    assessments = fields.One2Many(
        'social.case.assessment', 'case', "Needs Assessments", states=_open)
    plan_summary = fields.Text("Service Plan", states=_open)
    plan_date = fields.Date("Plan Agreed On", readonly=True)
    goals = fields.One2Many('social.case.goal', 'case', "Goals",
        states=_open)
    interventions = fields.One2Many(
        'social.case.intervention', 'case', "Interventions and Visits",
        states=_open)
    referrals = fields.One2Many(
        'social.case.referral', 'case', "Referrals", states=_open)
    next_visit = fields.Date("Next Visit", states=_open)
    visit_overdue = fields.Function(
        fields.Boolean("Visit Overdue"), 'get_visit_overdue',
        searcher='search_visit_overdue')
    closing_reason = fields.Selection(CLOSING_REASONS, "Closing Reason",
        sort=False, states={
            'readonly': Eval('state') == 'closed',
            'required': Eval('state') == 'closed',
            })
    closing_summary = fields.Text("Closing Summary", states={
            'readonly': Eval('state') == 'closed',
            'required': Eval('state') == 'closed',
            })
    closed_date = fields.Date("Closed On", readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    del _open

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.social_worker, Index.Range())),
                Index(t, (t.elder, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('opened_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('intake', 'assessed'),
            ('assessed', 'planned'),
            ('planned', 'in_progress'),
            ('intake', 'closed'),
            ('assessed', 'closed'),
            ('planned', 'closed'),
            ('in_progress', 'closed'),
            ('closed', 'in_progress'),
            }
        buttons = {
            'assess': ['intake'],
            'plan': ['assessed'],
            'start': ['planned'],
            'close': ['intake', 'assessed', 'planned', 'in_progress'],
            'reopen': ['closed'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'intake'

    @staticmethod
    def default_source():
        return 'community'

    @staticmethod
    def default_social_worker():
        return Transaction().user

    @classmethod
    def default_opened_date(cls):
        return Pool().get('ir.date').today()

    def get_region(self, name):
        return self.elder.region.id

    @classmethod
    def search_region(cls, name, clause):
        return [('elder.region' + clause[0][len(name):],) + tuple(clause[1:])]

    def get_visit_overdue(self, name):
        today = Pool().get('ir.date').today()
        return bool(self.state != 'closed' and self.next_visit
            and self.next_visit < today)

    @classmethod
    def search_visit_overdue(cls, name, clause):
        today = Pool().get('ir.date').today()
        _, operator, value = clause
        overdue = [('state', '!=', 'closed'), ('next_visit', '<', today)]
        if (operator == '=') == bool(value):
            return overdue
        return ['OR', ('state', '=', 'closed'), ('next_visit', '=', None),
            ('next_visit', '>=', today)]

    def get_rec_name(self, name):
        return '%s %s' % (self.number or '', self.elder.rec_name)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            values['number'] = next_number('sequence_case')
        return values

    @classmethod
    def copy(cls, cases, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'plan_date', 'closed_date', 'closing_reason',
                'closing_summary', 'risk_level']:
            default.setdefault(name, None)
        for name in ['assessments', 'interventions', 'referrals', 'goals']:
            default.setdefault(name, [])
        default.setdefault('state', 'intake')
        return super().copy(cases, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('assessed')
    def assess(cls, cases):
        for case in cases:
            if not case.assessments:
                raise CaseError(gettext(
                        'elder_community.msg_case_assessment_required',
                        case=case.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('planned')
    def plan(cls, cases):
        today = Pool().get('ir.date').today()
        for case in cases:
            if not case.goals or not case.plan_summary:
                raise CaseError(gettext(
                        'elder_community.msg_case_plan_required',
                        case=case.rec_name))
        cls.write(cases, {'plan_date': today})

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    def start(cls, cases):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, cases):
        today = Pool().get('ir.date').today()
        for case in cases:
            if not case.closing_reason or not case.closing_summary:
                raise CaseError(gettext(
                        'elder_community.msg_case_closing_required',
                        case=case.rec_name))
            pending = [r for r in case.referrals
                if r.state in {'sent', 'accepted'}]
            if pending:
                raise CaseError(gettext(
                        'elder_community.msg_case_referral_pending',
                        case=case.rec_name,
                        referral=pending[0].rec_name))
        cls.write(cases, {'closed_date': today})

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    def reopen(cls, cases):
        cls.write(cases, {
                'closed_date': None,
                'closing_reason': None,
                'closing_summary': None,
                })


class Assessment(EncryptedMixin, ModelSQL, ModelView):
    "Needs assessment of a social work case"
    __name__ = 'social.case.assessment'
    _sensitivity = {
        'physical': 'sensitive', 'mental': 'sensitive',
        'social_support': 'sensitive', 'economic': 'sensitive',
        'safety': 'sensitive', 'needs': 'sensitive',
        'risk_level': 'sensitive'}
    _encrypted_fields = {'findings': None}
    case = fields.Many2One('social.case', "Case", required=True,
        ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    assessor = fields.Many2One('res.user', "Assessor", readonly=True)
    physical = fields.Integer("Physical Condition", required=True,
        domain=[('physical', '>=', 1), ('physical', '<=', 5)],
        help="1 (severe need) to 5 (no need).")
    mental = fields.Integer("Mental and Emotional", required=True,
        domain=[('mental', '>=', 1), ('mental', '<=', 5)],
        help="1 (severe need) to 5 (no need).")
    social_support = fields.Integer("Family and Social Support",
        required=True,
        domain=[('social_support', '>=', 1), ('social_support', '<=', 5)],
        help="1 (severe need) to 5 (no need).")
    economic = fields.Integer("Economic Situation", required=True,
        domain=[('economic', '>=', 1), ('economic', '<=', 5)],
        help="1 (severe need) to 5 (no need).")
    safety = fields.Integer("Safety", required=True,
        domain=[('safety', '>=', 1), ('safety', '<=', 5)],
        help="1 (in danger) to 5 (safe): abuse, neglect, home hazards.")
    needs = fields.Text("Needs Identified", required=True)
    findings = encrypted(fields.Text("Findings",
            help="Stored encrypted."))
    findings_enc = fields.Text("Findings (Encrypted)", readonly=True)
    risk_level = fields.Selection(RISKS, "Risk Level", readonly=True,
        sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('case')
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    def compute_risk(self):
        "High when safety ≤ 2 or any dimension is 1; medium when avg ≤ 3"
        scores = [self.physical, self.mental, self.social_support,
            self.economic, self.safety]
        if any(s is None for s in scores):
            return None
        if self.safety <= 2 or min(scores) == 1:
            return 'high'
        if sum(scores) / len(scores) <= 3:
            return 'medium'
        return 'low'

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values.setdefault('assessor', Transaction().user)
        return values

    @classmethod
    def on_modification(cls, mode, assessments, field_names=None):
        pool = Pool()
        Case = pool.get('social.case')
        super().on_modification(mode, assessments, field_names=field_names)
        if mode == 'delete':
            return
        for assessment in assessments:
            risk = assessment.compute_risk()
            if assessment.risk_level != risk:
                cls.write([assessment], {'risk_level': risk})
        # The case carries the risk of its latest assessment.
        for case in {a.case for a in assessments}:
            latest = cls.search([('case', '=', case.id)],
                order=[('date', 'DESC'), ('id', 'DESC')], limit=1)
            risk = latest[0].risk_level if latest else None
            if case.risk_level != risk:
                Case.write([case], {'risk_level': risk})


class Goal(sequence_ordered(), ModelSQL, ModelView):
    "Goal of a social work service plan"
    __name__ = 'social.case.goal'
    _sensitivity = {'goal': 'sensitive', 'measures': 'sensitive'}
    case = fields.Many2One('social.case', "Case", required=True,
        ondelete='CASCADE')
    goal = fields.Char("Goal", required=True)
    measures = fields.Text("Measures")
    due_date = fields.Date("Due Date")
    achieved = fields.Boolean("Achieved")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('case')


class Intervention(EncryptedMixin, ModelSQL, ModelView):
    "Intervention or visit of a social work case"
    __name__ = 'social.case.intervention'
    _sensitivity = {'kind': 'sensitive'}
    _encrypted_fields = {'note': None}
    case = fields.Many2One('social.case', "Case", required=True,
        ondelete='CASCADE')
    date = fields.DateTime("Date", required=True)
    kind = fields.Selection(INTERVENTION_KINDS, "Kind", required=True,
        sort=False)
    performer = fields.Many2One('res.user', "Performed By",
        ondelete='RESTRICT')
    volunteer = fields.Many2One('volunteer.volunteer', "Volunteer",
        ondelete='RESTRICT',
        states={'required': Eval('kind') == 'volunteer_visit'})
    minutes = fields.Integer("Minutes",
        domain=[If(Eval('minutes'), ('minutes', '>', 0), ())])
    note = encrypted(fields.Text("Note", help="Stored encrypted."))
    note_enc = fields.Text("Note (Encrypted)", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('case')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.case, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_kind():
        return 'home_visit'

    @staticmethod
    def default_performer():
        return Transaction().user

    @classmethod
    def default_date(cls):
        return dt.datetime.now().replace(microsecond=0)


class Referral(Workflow, ModelSQL, ModelView):
    "Referral of a social work case to another department"
    __name__ = 'social.case.referral'
    _sensitivity = {'reason': 'sensitive', 'feedback': 'sensitive'}
    case = fields.Many2One('social.case', "Case", required=True,
        ondelete='CASCADE')
    date = fields.Date("Date", required=True,
        states={'readonly': Eval('state') != 'sent'})
    department = fields.Selection(DEPARTMENTS, "Department", required=True,
        sort=False, states={'readonly': Eval('state') != 'sent'})
    organisation = fields.Char("Organisation",
        states={'readonly': Eval('state') != 'sent'})
    reason = fields.Text("Reason", required=True,
        states={'readonly': Eval('state') != 'sent'})
    feedback = fields.Text("Feedback",
        states={'readonly': Eval('state').in_(['completed', 'declined'])})
    state = fields.Selection(REFERRAL_STATES, "State", required=True,
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('case')
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('sent', 'accepted'),
            ('sent', 'declined'),
            ('accepted', 'completed'),
            ('accepted', 'declined'),
            }
        buttons = {
            'accept': ['sent'],
            'complete': ['accepted'],
            'decline': ['sent', 'accepted'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'sent'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        return '%s %s' % (self.organisation or '', self.date)

    @classmethod
    @ModelView.button
    @Workflow.transition('accepted')
    def accept(cls, referrals):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('completed')
    def complete(cls, referrals):
        for referral in referrals:
            if not referral.feedback:
                raise CaseError(gettext(
                        'elder_community.msg_referral_feedback',
                        referral=referral.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('declined')
    def decline(cls, referrals):
        pass

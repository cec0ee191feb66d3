# This file is part of the eldercare platform. See LICENSE.
"""Training plans (培训, standard §6.3 and §7.2.3): the platform's training
of providers (信息平台管理、使用操作、服务流程) and the providers' own courses;
completing a plan writes the training records of the practitioners."""
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If

from .exceptions import CommunityValidationError

TRAINING_KINDS = [
    ('platform', "Platform training (§6.3)"),
    ('skills', "Care skills"),
    ('safety', "Safety and emergency"),
    ('ethics', "Ethics and rights of older people"),
    ('induction', "Induction"),
    ('other', "Other"),
    ]
STATES = [
    ('draft', "Draft"),
    ('planned', "Planned"),
    ('done', "Done"),
    ('cancelled', "Cancelled"),
    ]


class TrainingPlan(Workflow, ModelSQL, ModelView):
    "Training plan"
    __name__ = 'practitioner.training.plan'
    _states = {'readonly': Eval('state').in_(['done', 'cancelled'])}
    name = fields.Char("Course", required=True, states=_states)
    kind = fields.Selection(TRAINING_KINDS, "Kind", required=True,
        sort=False, states=_states)
    provider = fields.Many2One(
        'elder.provider', "Provider", ondelete='RESTRICT', states=_states,
        help="The provider that trains its own staff; empty for a training "
        "the platform operator organises.")
    organiser = fields.Char("Organiser", states=_states)
    date = fields.Date("Date", required=True, states=_states)
    hours = fields.Numeric("Hours", digits=(4, 1), required=True,
        domain=[('hours', '>', 0)], states=_states)
    topics = fields.Text("Topics", states=_states,
        help="For the platform training: platform management, operation of "
        "the platform and the service process (§6.3).")
    providers = fields.Many2Many(
        'practitioner.training.plan-elder.provider', 'plan', 'provider',
        "Providers Trained", states=_states,
        help="Platform training: the providers whose onboarding training "
        "this is (their platform training date is set when it is done).")
    participants = fields.One2Many(
        'practitioner.training.participant', 'plan', "Participants",
        states=_states)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'planned'),
            ('planned', 'done'),
            ('draft', 'cancelled'),
            ('planned', 'cancelled'),
            ('planned', 'draft'),
            }
        buttons = {
            'plan': ['draft'],
            'do': ['planned'],
            'cancel': ['draft', 'planned'],
            'draft': ['planned'],
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
        return 'skills'

    @classmethod
    def default_provider(cls):
        return Pool().get('res.user').get_elder_provider()

    @classmethod
    def validate_fields(cls, plans, field_names):
        super().validate_fields(plans, field_names)
        for plan in plans:
            if plan.provider:
                for participant in plan.participants:
                    if participant.practitioner.provider != plan.provider:
                        raise CommunityValidationError(gettext(
                                'elder_community.msg_training_other_provider',
                                practitioner=participant.practitioner.rec_name,
                                provider=plan.provider.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('planned')
    def plan(cls, plans):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, plans):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, plans):
        """Write a training record for every participant who attended;
        platform training sets the trained providers' training date"""
        pool = Pool()
        Training = pool.get('elder.practitioner.training')
        Provider = pool.get('elder.provider')
        values = []
        for plan in plans:
            for participant in plan.participants:
                if not participant.attended:
                    continue
                values.append({
                        'practitioner': participant.practitioner.id,
                        'date': plan.date,
                        'course': plan.name,
                        'hours': plan.hours,
                        'organiser': plan.organiser or (
                            plan.provider.rec_name if plan.provider else None),
                        'passed': participant.passed,
                        'plan': plan.id,
                        'kind': plan.kind,
                        })
            if plan.kind == 'platform':
                providers = [p for p in plan.providers if not p.training_date]
                if providers:
                    Provider.write(providers, {'training_date': plan.date})
        Training.create(values)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, plans):
        pass


class TrainingPlanProvider(ModelSQL):
    "Training plan - Provider"
    __name__ = 'practitioner.training.plan-elder.provider'
    plan = fields.Many2One(
        'practitioner.training.plan', "Plan", required=True,
        ondelete='CASCADE')
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('plan')


class TrainingParticipant(ModelSQL, ModelView):
    "Participant of a training plan"
    __name__ = 'practitioner.training.participant'
    plan = fields.Many2One(
        'practitioner.training.plan', "Plan", required=True,
        ondelete='CASCADE')
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", required=True,
        ondelete='CASCADE',
        domain=[If(Bool(Eval('_parent_plan', {}).get('provider')),
                ('provider', '=', Eval('_parent_plan', {}).get('provider')),
                ())])
    attended = fields.Boolean("Attended")
    passed = fields.Boolean("Passed")
    score = fields.Integer("Score",
        domain=[If(Eval('score', None) != None,  # noqa: E711
                [('score', '>=', 0), ('score', '<=', 100)], [])])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('plan')
        t = cls.__table__()
        cls._sql_constraints += [
            ('practitioner_uniq', Unique(t, t.plan, t.practitioner),
                'elder_community.msg_participant_unique'),
            ]

    @staticmethod
    def default_attended():
        return True

    @staticmethod
    def default_passed():
        return True

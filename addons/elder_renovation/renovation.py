# This file is part of the eldercare platform. See LICENSE.
"""Home ageing-friendly renovation (居家适老化改造): application and
eligibility (entitlement engine, benefit ``renovation``), on-site
assessment and plan from the catalogue under the subsidy cap per home by the
assessment/design body, the older person's confirmation, construction by
the contracted provider with photos, acceptance by a third party,
subsidy, warranty with defects and return visits."""
import datetime as dt
import json
import secrets
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import (
    RenovationError, RenovationValidationError, SeparationError)

CENT = Decimal('0.01')
UNITS = [
    ('piece', "Piece"),
    ('set', "Set"),
    ('metre', "Metre"),
    ('square_metre', "Square metre"),
    ('place', "Place"),
    ]
CATEGORIES = [
    ('safety', "Safety aids"),
    ('bathroom', "Bathroom"),
    ('floor', "Floor and passage"),
    ('lighting', "Lighting"),
    ('bedroom', "Bedroom"),
    ('smart', "Smart devices"),
    ('other', "Other"),
    ]
STATES = [
    ('draft', "Draft"),
    ('applied', "Applied"),
    ('approved', "Eligible"),
    ('designed', "Plan Made"),
    ('confirmed', "Confirmed by the Older Person"),
    ('construction', "Under Construction"),
    ('constructed', "Construction Completed"),
    ('accepted', "Accepted"),
    ('rejected', "Rejected"),
    ('cancelled', "Cancelled"),
    ]
CHANNELS = [
    ('elder', "Older person or family"),
    ('community', "Community"),
    ('assessment', "From an assessment"),
    ]
STAGE_DAYS = {
    'applied': 'approve_days',
    'approved': 'assess_days',
    'designed': 'confirm_days',
    'confirmed': 'construction_days',
    'construction': 'construction_days',
    'constructed': 'acceptance_days',
    }
OPEN_STATES = ['draft', 'applied', 'approved', 'designed', 'confirmed',
    'construction', 'constructed']
PHOTO_STAGES = [
    ('before', "Before construction"),
    ('during', "During construction"),
    ('after', "After construction"),
    ('acceptance', "Acceptance"),
    ]
SATISFACTION = [
    (None, ""),
    ('5', "Very satisfied"),
    ('4', "Satisfied"),
    ('3', "Neutral"),
    ('2', "Dissatisfied"),
    ('1', "Very dissatisfied"),
    ]


def _money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class Item(DeactivableMixin, ModelSQL, ModelView):
    "Renovation catalogue item (适老化改造项目)"
    __name__ = 'renovation.item'
    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, translate=True)
    category = fields.Selection(CATEGORIES, "Category", required=True)
    unit = fields.Selection(UNITS, "Unit", required=True)
    unit_string = unit.translated('unit')
    unit_price = fields.Numeric(
        "Unit Price", digits=(16, 2), required=True,
        domain=[('unit_price', '>=', 0)], help="Yuan (CNY).")
    description = fields.Text("Description", translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code),
                'elder_renovation.msg_item_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    def get_rec_name(self, name):
        return '%s %s' % (self.code, self.name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('code', operator, operand, *extra),
            ('name', operator, operand, *extra),
            ]


class Project(Workflow, ModelSQL, ModelView):
    "Home ageing-friendly renovation (居家适老化改造)"
    __name__ = 'renovation.project'
    _sensitivity = {
        'elder': 'personal', 'applicant': 'personal',
        'applicant_phone': 'personal', 'eligibility': 'sensitive',
        'entitlement': 'sensitive', 'assessment': 'sensitive',
        'findings': 'sensitive', 'confirmed_by_name': 'personal',
        'elder_signature': 'personal', 'satisfaction': 'personal',
        'acceptance_note': 'personal', 'subsidy_amount': 'sensitive',
        'photos': 'personal',
        # random, printed on the documents' QR code
        'verify_token': 'internal',
        }

    _draft = {'readonly': Eval('state') != 'draft'}
    _open = {'readonly': ~Eval('state').in_(['draft', 'applied'])}
    _design = {'readonly': Eval('state') != 'approved'}

    number = fields.Char("Number", readonly=True)
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='RESTRICT',
        states=_draft, domain=[('state', '=', 'active')])
    region = fields.Many2One(
        'elder.region', "Region", readonly=True, ondelete='RESTRICT')
    channel = fields.Selection(
        CHANNELS, "Application Channel", required=True, states=_draft)
    channel_string = channel.translated('channel')
    applicant = fields.Char("Applicant", states=_draft)
    applicant_phone = fields.Char("Applicant Phone", states=_draft)
    assessment = fields.Many2One(
        'elder.assessment', "Assessment", ondelete='RESTRICT', states=_open,
        domain=[('elder', '=', Eval('elder', -1))])
    applied_date = fields.Date("Application Date", readonly=True)
    designer = fields.Many2One(
        'elder.provider', "Assessment and Design Body", ondelete='RESTRICT',
        states=_open,
        help="Institution role 1: assesses the home and designs the plan.")
    constructor = fields.Many2One(
        'elder.provider', "Construction Provider", ondelete='RESTRICT',
        states={'readonly': ~Eval('state').in_(
                ['draft', 'applied', 'approved'])},
        help="Institution role 2: carries out the renovation.")
    acceptor = fields.Many2One(
        'elder.provider', "Acceptance Body", ondelete='RESTRICT',
        states={'readonly': ~Eval('state').in_(
                ['draft', 'applied', 'approved', 'designed', 'confirmed'])},
        help="Institution role 3: a third party that accepts the work; "
        "never the construction provider.")
    entitlement = fields.Many2One(
        'elder.entitlement', "Entitlement", readonly=True,
        ondelete='RESTRICT')
    eligibility = fields.Text("Eligibility", readonly=True)
    subsidy_cap = fields.Numeric(
        "Subsidy Cap", digits=(16, 2), readonly=True,
        help="The most the programme pays for one home (yuan).")
    reject_note = fields.Char(
        "Rejection Reason", states={'readonly': Eval('state') != 'applied'})

    findings = fields.Text("On-site Assessment", states=_design,
        help="What the home visit found: risks, the older person's "
        "abilities and needs.")
    lines = fields.One2Many(
        'renovation.line', 'project', "Renovation Plan", states=_design)
    total_amount = fields.Function(
        fields.Numeric("Plan Total", digits=(16, 2)), 'get_total_amount')
    design_date = fields.Date("Plan Date", readonly=True)
    confirmed_by_name = fields.Char(
        "Confirmed By", states={'readonly': Eval('state') != 'designed'},
        help="The older person or guardian who agreed to the plan.")
    elder_signature = fields.Binary(
        "Signature", states={'readonly': Eval('state') != 'designed'})
    confirmed_date = fields.Date("Confirmed On", readonly=True)
    construction_start = fields.Date("Construction Started", readonly=True)
    construction_end = fields.Date("Construction Completed", readonly=True)
    photos = fields.One2Many('renovation.photo', 'project', "Photos",
        states={'readonly': ~Eval('state').in_(
                ['confirmed', 'construction', 'constructed'])})
    checks = fields.One2Many('renovation.check', 'project',
        "Acceptance Checklist",
        states={'readonly': Eval('state') != 'constructed'})
    satisfaction = fields.Selection(
        SATISFACTION, "Older Person's Satisfaction", sort=False,
        states={'readonly': Eval('state') != 'constructed'})
    acceptance_note = fields.Text("Acceptance Note",
        states={'readonly': Eval('state') != 'constructed'})
    accepted_by = fields.Many2One('res.user', "Accepted By", readonly=True)
    accepted_date = fields.Date("Accepted On", readonly=True)
    subsidy_amount = fields.Numeric(
        "Subsidy", digits=(16, 2), readonly=True,
        help="Fixed at acceptance: the accepted plan's total.")
    warranty_end = fields.Date("Warranty Until", readonly=True)
    in_warranty = fields.Function(
        fields.Boolean("In Warranty"), 'get_in_warranty')
    defects = fields.One2Many('renovation.defect', 'project', "Defects",
        states={'readonly': Eval('state') != 'accepted'})
    visits = fields.One2Many('renovation.visit', 'project', "Return Visits",
        states={'readonly': Eval('state') != 'accepted'})
    deadline = fields.Date("Stage Deadline", readonly=True)
    overdue = fields.Boolean("Overdue", readonly=True)
    verify_token = fields.Char("Verification Token", readonly=True)
    history = fields.Text("History", readonly=True)
    counter = fields.Function(fields.Integer("Homes"), 'get_counter')
    state = fields.Selection(STATES, "State", readonly=True, required=True,
        sort=False)
    state_string = state.translated('state')

    del _draft, _open, _design

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_uniq', Unique(t, t.number),
                'elder_renovation.msg_project_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.elder, Index.Range())),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.verify_token, Index.Equality())),
                })
        cls._order = [('number', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'applied'),
            ('applied', 'approved'),
            ('applied', 'rejected'),
            ('approved', 'designed'),
            ('designed', 'approved'),
            ('designed', 'confirmed'),
            ('designed', 'cancelled'),
            ('confirmed', 'construction'),
            ('construction', 'constructed'),
            ('constructed', 'construction'),
            ('constructed', 'accepted'),
            }
        buttons = {
            'apply': ['draft'],
            'approve': ['applied'],
            'reject': ['applied'],
            'submit_plan': ['approved'],
            'revise_plan': ['designed'],
            'confirm': ['designed'],
            'cancel': ['designed'],
            'start_construction': ['confirmed'],
            'complete_construction': ['construction'],
            'send_back': ['constructed'],
            'accept': ['constructed'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }
        cls._buttons['reject']['readonly'] = ~Eval('reject_note')
        cls._buttons['reject']['depends'].append('reject_note')
        cls._buttons['confirm']['readonly'] = ~Eval('confirmed_by_name')
        cls._buttons['confirm']['depends'].append('confirmed_by_name')

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_channel():
        return 'elder'

    @staticmethod
    def default_overdue():
        return False

    def get_rec_name(self, name):
        return '%s %s' % (self.number or '', self.elder.rec_name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('number', operator, operand, *extra),
            ('elder.name', operator, operand, *extra),
            ]

    def get_counter(self, name):
        return 1

    def get_total_amount(self, name):
        return _money(sum((l.amount or 0) for l in self.lines))

    def get_in_warranty(self, name):
        today = Pool().get('ir.date').today()
        return bool(self.warranty_end and today <= self.warranty_end)

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Elder = pool.get('elder.elder')
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        values = super().preprocess_values(mode, values)
        if values.get('elder'):
            with without_check_access():
                values['region'] = Elder(values['elder']).region.id
        if mode == 'create' and not values.get('number'):
            values['number'] = Sequence(ModelData.get_id(
                    'elder_renovation', 'sequence_project')).get()
        return values

    @classmethod
    def validate_fields(cls, projects, field_names):
        super().validate_fields(projects, field_names)
        if field_names is None or {'constructor', 'acceptor'} & field_names:
            for project in projects:
                project.check_roles()

    def check_roles(self):
        if (self.constructor and self.acceptor
                and self.constructor == self.acceptor):
            raise RenovationValidationError(gettext(
                    'elder_renovation.msg_acceptor_is_constructor',
                    project=self.rec_name,
                    constructor=self.constructor.rec_name))

    @classmethod
    def check_modification(cls, mode, projects, values=None, external=False):
        super().check_modification(
            mode, projects, values=values, external=external)
        if external and mode == 'write' and 'history' in values:
            raise RenovationError(gettext(
                    'elder_renovation.msg_project_computed'))
        if external and mode == 'write':
            locked = {'designer', 'constructor', 'acceptor', 'elder'} \
                & set(values)
            for project in projects:
                if locked and project.state not in {
                        'draft', 'applied', 'approved'}:
                    raise RenovationError(gettext(
                            'elder_renovation.msg_organisations_locked',
                            project=project.rec_name))
        if mode == 'delete':
            for project in projects:
                if project.state not in {'draft', 'rejected', 'cancelled'}:
                    raise RenovationError(gettext(
                            'elder_renovation.msg_project_delete',
                            project=project.rec_name))

    @classmethod
    def copy(cls, projects, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'entitlement', 'eligibility', 'subsidy_cap',
                'design_date', 'confirmed_date', 'confirmed_by_name',
                'elder_signature', 'construction_start', 'construction_end',
                'accepted_by', 'accepted_date', 'subsidy_amount',
                'warranty_end', 'deadline', 'verify_token', 'history',
                'applied_date', 'satisfaction']:
            default.setdefault(name, None)
        for name in ['photos', 'checks', 'defects', 'visits']:
            default.setdefault(name, [])
        default.setdefault('overdue', False)
        return super().copy(projects, default=default)

    # --- helpers -----------------------------------------------------------

    def _require(self, *names):
        for name in names:
            if not getattr(self, name):
                raise RenovationError(gettext(
                        'elder_renovation.msg_field_required',
                        project=self.rec_name,
                        field=self.__class__.fields_get(
                            [name])[name]['string']))

    def _logged(self, action, note=None):
        history = json.loads(self.history) if self.history else []
        history.append({
                'at': dt.datetime.now().replace(microsecond=0).isoformat(),
                'user': Transaction().user, 'action': action, 'note': note})
        return json.dumps(history, ensure_ascii=False)

    @classmethod
    def _log(cls, projects, action, note=None):
        for project in projects:
            project.history = project._logged(action, note)
        with without_check_access():
            cls.save(projects)

    @classmethod
    def _set_deadline(cls, projects, state):
        pool = Pool()
        Configuration = pool.get('renovation.configuration')
        Date = pool.get('ir.date')
        name = STAGE_DAYS.get(state)
        deadline = None
        if name:
            with without_check_access():
                days = getattr(Configuration(1), name)
            deadline = Date.today() + dt.timedelta(days=days)
        cls.write(projects, {'deadline': deadline, 'overdue': False})

    @classmethod
    def _photos(cls, project, stage):
        return [p for p in project.photos if p.stage == stage]

    # --- workflow ----------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('applied')
    def apply(cls, projects):
        pool = Pool()
        Date = pool.get('ir.date')
        for project in projects:
            if project.elder.state != 'active':
                raise RenovationError(gettext(
                        'elder_renovation.msg_elder_not_active',
                        elder=project.elder.rec_name))
            others = cls.search([
                    ('elder', '=', project.elder.id),
                    ('state', 'in', OPEN_STATES + ['accepted']),
                    ('state', '!=', 'draft'),
                    ('id', '!=', project.id),
                    ])
            if others:
                raise RenovationError(gettext(
                        'elder_renovation.msg_project_already',
                        elder=project.elder.rec_name,
                        project=others[0].number))
        cls.write(projects, {'applied_date': Date.today()})
        cls._log(projects, 'apply')
        cls._set_deadline(projects, 'applied')

    @classmethod
    def eligibility_of(cls, elder, date=None):
        """Evaluate the older person's entitlements (categories, age,
        assessment level) and return the renovation entitlement, or None"""
        pool = Pool()
        Entitlement = pool.get('elder.entitlement')
        Date = pool.get('ir.date')
        date = date or Date.today()
        with without_check_access():
            Entitlement.evaluate([elder], date)
            active = Entitlement.active(elder, date, benefit='renovation')
        return active[0] if active else None

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, projects):
        pool = Pool()
        Configuration = pool.get('renovation.configuration')
        with without_check_access():
            cap = Configuration(1).subsidy_cap
        for project in projects:
            project._require('designer')
            entitlement = cls.eligibility_of(project.elder)
            if not entitlement:
                raise RenovationError(gettext(
                        'elder_renovation.msg_not_eligible',
                        elder=project.elder.rec_name))
            with without_check_access():
                project.entitlement = entitlement
                project.eligibility = entitlement.facts
            project.subsidy_cap = cap
        cls.save(projects)
        cls._log(projects, 'approve')
        cls._set_deadline(projects, 'approved')

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, projects):
        for project in projects:
            project._require('reject_note')
        cls._log(projects, 'reject', projects[0].reject_note
            if projects else None)
        cls.write(projects, {'deadline': None, 'overdue': False})

    def check_cap(self):
        "The plan may not cost more than the subsidy cap of the home"
        total = self.get_total_amount(None)
        if self.subsidy_cap is not None and total > self.subsidy_cap:
            raise RenovationError(gettext(
                    'elder_renovation.msg_plan_over_cap',
                    project=self.rec_name, total=total,
                    cap=self.subsidy_cap,
                    excess=_money(total - self.subsidy_cap)))

    @classmethod
    @ModelView.button
    @Workflow.transition('designed')
    def submit_plan(cls, projects):
        pool = Pool()
        Date = pool.get('ir.date')
        projects = cls.browse(projects)
        for project in projects:
            project._require('findings', 'constructor', 'acceptor')
            if not project.lines:
                raise RenovationError(gettext(
                        'elder_renovation.msg_plan_empty',
                        project=project.rec_name))
            project.check_roles()
            project.check_cap()
            project.design_date = Date.today()
            project.verify_token = secrets.token_urlsafe(18)
        cls.save(projects)
        cls._log(projects, 'submit_plan')
        cls._set_deadline(projects, 'designed')

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def revise_plan(cls, projects):
        cls.write(projects, {'verify_token': None})
        cls._log(projects, 'revise_plan')
        cls._set_deadline(projects, 'approved')

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    def confirm(cls, projects):
        "The older person (or guardian) agrees to the plan"
        pool = Pool()
        Date = pool.get('ir.date')
        for project in projects:
            project._require('confirmed_by_name')
        cls.write(projects, {'confirmed_date': Date.today()})
        cls._log(projects, 'confirm')
        cls._set_deadline(projects, 'confirmed')

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, projects):
        "The older person declines the plan"
        cls.write(projects, {'deadline': None, 'overdue': False})
        cls._log(projects, 'cancel')

    @classmethod
    @ModelView.button
    @Workflow.transition('construction')
    def start_construction(cls, projects):
        pool = Pool()
        Date = pool.get('ir.date')
        for project in cls.browse(projects):
            if not cls._photos(project, 'before'):
                raise RenovationError(gettext(
                        'elder_renovation.msg_photo_required',
                        project=project.rec_name,
                        stage=dict(PHOTO_STAGES)['before']))
        cls.write(projects, {'construction_start': Date.today()})
        cls._log(projects, 'start_construction')
        cls._set_deadline(projects, 'construction')

    @classmethod
    @ModelView.button
    @Workflow.transition('constructed')
    def complete_construction(cls, projects):
        "Construction done: the after photos and a checklist to accept"
        pool = Pool()
        Date = pool.get('ir.date')
        Check = pool.get('renovation.check')
        projects = cls.browse(projects)
        for project in projects:
            for stage in ['during', 'after']:
                if not cls._photos(project, stage):
                    raise RenovationError(gettext(
                            'elder_renovation.msg_photo_required',
                            project=project.rec_name,
                            stage=dict(PHOTO_STAGES)[stage]))
        with without_check_access():
            to_create = []
            for project in projects:
                checked = {c.line.id for c in project.checks if c.line}
                to_create += [{'project': project.id, 'line': l.id}
                    for l in project.lines if l.id not in checked]
            if to_create:
                Check.create(to_create)
        cls.write(projects, {'construction_end': Date.today()})
        cls._log(projects, 'complete_construction')
        cls._set_deadline(projects, 'constructed')

    @classmethod
    def check_acceptor(cls, projects):
        """Role separation: the construction provider never accepts its own
        work, whatever the user's groups"""
        pool = Pool()
        User = pool.get('res.user')
        provider = User.get_elder_provider()
        for project in projects:
            if provider and project.constructor \
                    and provider == project.constructor.id:
                raise SeparationError(gettext(
                        'elder_renovation.msg_constructor_accepts',
                        project=project.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('construction')
    def send_back(cls, projects):
        cls.check_acceptor(projects)
        cls._log(projects, 'send_back', projects[0].acceptance_note
            if projects else None)
        cls._set_deadline(projects, 'construction')

    @classmethod
    @ModelView.button
    @Workflow.transition('accepted')
    def accept(cls, projects):
        """Third-party acceptance: every checklist item passed, acceptance
        photos, the older person's satisfaction; fixes the subsidy, starts
        the warranty and plans the return visit"""
        pool = Pool()
        Date = pool.get('ir.date')
        Configuration = pool.get('renovation.configuration')
        Visit = pool.get('renovation.visit')
        cls.check_acceptor(projects)
        today = Date.today()
        with without_check_access():
            config = Configuration(1)
        projects = cls.browse(projects)
        for project in projects:
            if not project.checks or not all(
                    c.passed for c in project.checks):
                raise RenovationError(gettext(
                        'elder_renovation.msg_checks_not_passed',
                        project=project.rec_name))
            if not cls._photos(project, 'acceptance'):
                raise RenovationError(gettext(
                        'elder_renovation.msg_photo_required',
                        project=project.rec_name,
                        stage=dict(PHOTO_STAGES)['acceptance']))
            project._require('satisfaction')
            project.check_cap()
            project.accepted_by = Transaction().user
            project.accepted_date = today
            project.subsidy_amount = project.get_total_amount(None)
            project.warranty_end = today + relativedelta(
                months=config.warranty_months)
            project.deadline = None
            project.overdue = False
            project.verify_token = project.verify_token \
                or secrets.token_urlsafe(18)
        cls.save(projects)
        with without_check_access():
            Visit.create([{
                        'project': p.id,
                        'planned_date': today + dt.timedelta(
                            days=config.return_visit_days),
                        } for p in projects])
        cls._log(projects, 'accept')

    # --- deadlines ---------------------------------------------------------

    @classmethod
    def cron_overdue(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        Notification = pool.get('res.notification')
        today = Date.today()
        with without_check_access():
            projects = cls.search([
                    ('deadline', '<', today),
                    ('overdue', '=', False),
                    ('state', 'in', list(STAGE_DAYS)),
                    ])
            if not projects:
                return []
            cls.write(projects, {'overdue': True})
            values = []
            for project in projects:
                for user in responsible_users(
                        project.region, cls._stage_org(project)):
                    values.append({
                            'user': user.id,
                            'label': gettext(
                                'elder_renovation.msg_overdue_title',
                                project=project.number),
                            'description': gettext(
                                'elder_renovation.msg_overdue_body',
                                project=project.rec_name,
                                state=project.state_string,
                                deadline=project.deadline),
                            'model': cls.__name__,
                            'records': json.dumps([project.id]),
                            })
            if values:
                Notification.create(values)
        return projects

    @staticmethod
    def _stage_org(project):
        if project.state in {'approved', 'designed'}:
            return project.designer
        if project.state in {'confirmed', 'construction'}:
            return project.constructor
        if project.state == 'constructed':
            return project.acceptor
        return None


def responsible_users(region, provider):
    """Supervisors whose region scope covers the region, and the users of
    the organisation responsible for the stage"""
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    group = ModelData.get_id('elder_base', 'group_supervisor')
    path = set()
    current = region
    while current:
        path.add(current.id)
        current = current.parent
    users = [u for u in User.search([('groups', '=', group)])
        if u.elder_region and u.elder_region.id in path]
    if provider:
        users += [u for u in User.search([
                    ('elder_provider', '=', provider.id)])
            if u not in users]
    return users


def check_organisation(projects, field, message):
    """External changes only by the users of the organisation holding the
    role on the project (field: constructor or acceptor), or by
    administrators without an organisation"""
    pool = Pool()
    User = pool.get('res.user')
    provider = User.get_elder_provider()
    if not provider:
        return
    for project in projects:
        org = getattr(project, field)
        if not org or org.id != provider:
            raise SeparationError(gettext(message, project=project.rec_name))


class Line(ModelSQL, ModelView):
    "Renovation plan line"
    __name__ = 'renovation.line'
    _sensitivity = {'location': 'personal'}
    project = fields.Many2One(
        'renovation.project', "Renovation", required=True,
        ondelete='CASCADE')
    item = fields.Many2One(
        'renovation.item', "Item", required=True, ondelete='RESTRICT')
    location = fields.Char("Location", help="Where in the home.")
    quantity = fields.Numeric(
        "Quantity", digits=(16, 2), required=True,
        domain=[('quantity', '>', 0)])
    unit = fields.Function(
        fields.Selection(UNITS, "Unit"), 'on_change_with_unit')
    unit_price = fields.Numeric(
        "Unit Price", digits=(16, 2), readonly=True,
        help="Copied from the catalogue when the line is created.")
    amount = fields.Function(
        fields.Numeric("Amount", digits=(16, 2)), 'on_change_with_amount')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('project')

    @staticmethod
    def default_quantity():
        return Decimal(1)

    @fields.depends('item')
    def on_change_with_unit(self, name=None):
        return self.item.unit if self.item else None

    @fields.depends('item', 'unit_price')
    def on_change_item(self):
        if self.item:
            self.unit_price = self.item.unit_price

    @fields.depends('quantity', 'unit_price', 'item')
    def on_change_with_amount(self, name=None):
        price = self.unit_price if self.unit_price is not None else (
            self.item.unit_price if self.item else None)
        if price is None or self.quantity is None:
            return None
        return _money(price * self.quantity)

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Item = pool.get('renovation.item')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('item') \
                and values.get('unit_price') is None:
            values['unit_price'] = Item(values['item']).unit_price
        return values


class Photo(ModelSQL, ModelView):
    "Renovation photo"
    __name__ = 'renovation.photo'
    _sensitivity = {'image': 'personal'}
    project = fields.Many2One(
        'renovation.project', "Renovation", required=True,
        ondelete='CASCADE')
    stage = fields.Selection(PHOTO_STAGES, "Stage", required=True)
    line = fields.Many2One(
        'renovation.line', "Plan Line", ondelete='SET NULL',
        domain=[('project', '=', Eval('project', -1))])
    image = fields.Binary("Photo", required=True, file_id='image_id')
    image_id = fields.Char("Photo ID", readonly=True)
    description = fields.Char("Description")
    taken_at = fields.Timestamp("Taken At")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('project')

    @classmethod
    def default_taken_at(cls):
        return dt.datetime.now().replace(microsecond=0)

    @classmethod
    def check_modification(cls, mode, photos, values=None, external=False):
        """Site photos are the constructor's; acceptance photos the
        acceptance body's"""
        pool = Pool()
        Project = pool.get('renovation.project')
        super().check_modification(
            mode, photos, values=values, external=external)
        if not external:
            return
        for photo in photos:
            stage = (values or {}).get('stage', photo.stage)
            project = Project(values['project']) if values \
                and values.get('project') else photo.project
            check_organisation([project],
                'acceptor' if stage == 'acceptance' else 'constructor',
                'elder_renovation.msg_photo_organisation')


class Check(ModelSQL, ModelView):
    "Renovation acceptance checklist item"
    __name__ = 'renovation.check'
    project = fields.Many2One(
        'renovation.project', "Renovation", required=True,
        ondelete='CASCADE')
    line = fields.Many2One(
        'renovation.line', "Plan Line", ondelete='CASCADE',
        domain=[('project', '=', Eval('project', -1))])
    passed = fields.Boolean("Passed")
    note = fields.Char("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('project')

    @staticmethod
    def default_passed():
        return False

    @classmethod
    def check_modification(cls, mode, checks, values=None, external=False):
        "The checklist is the acceptance body's"
        super().check_modification(
            mode, checks, values=values, external=external)
        if external:
            check_organisation([c.project for c in checks], 'acceptor',
                'elder_renovation.msg_check_organisation')


class Defect(Workflow, ModelSQL, ModelView):
    "Renovation defect report (质保期报修)"
    __name__ = 'renovation.defect'
    project = fields.Many2One(
        'renovation.project', "Renovation", required=True,
        ondelete='CASCADE', states={'readonly': Eval('state') != 'open'})
    reported_date = fields.Date("Reported On", required=True,
        states={'readonly': Eval('state') != 'open'})
    description = fields.Text("Description", required=True,
        states={'readonly': Eval('state') != 'open'})
    in_warranty = fields.Boolean("In Warranty", readonly=True,
        help="Reported on or before the end of the warranty: the "
        "construction provider repairs it free of charge.")
    resolution = fields.Text("Resolution",
        states={'readonly': Eval('state') != 'open'})
    fixed_date = fields.Date("Fixed On", readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('fixed', "Fixed"),
            ], "State", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('project')
        cls._transitions |= {('open', 'fixed')}
        cls._buttons.update({
                'fix': {
                    'invisible': Eval('state') != 'open',
                    'readonly': ~Eval('resolution'),
                    'depends': ['state', 'resolution'],
                    },
                })

    @staticmethod
    def default_state():
        return 'open'

    @classmethod
    def default_reported_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Project = pool.get('renovation.project')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('project'):
            with without_check_access():
                project = Project(values['project'])
                if project.state != 'accepted':
                    raise RenovationError(gettext(
                            'elder_renovation.msg_defect_not_accepted',
                            project=project.rec_name))
                date = values.get('reported_date') or \
                    pool.get('ir.date').today()
                values['in_warranty'] = bool(project.warranty_end
                    and date <= project.warranty_end)
        return values

    @classmethod
    @ModelView.button
    @Workflow.transition('fixed')
    def fix(cls, defects):
        pool = Pool()
        Date = pool.get('ir.date')
        for defect in defects:
            if not defect.resolution:
                raise RenovationError(gettext(
                        'elder_renovation.msg_defect_resolution',
                        project=defect.project.rec_name))
        cls.write(defects, {'fixed_date': Date.today()})


class Visit(Workflow, ModelSQL, ModelView):
    "Renovation return visit (回访)"
    __name__ = 'renovation.visit'
    project = fields.Many2One(
        'renovation.project', "Renovation", required=True,
        ondelete='CASCADE', readonly=True)
    planned_date = fields.Date("Planned On", required=True,
        states={'readonly': Eval('state') != 'planned'})
    visited_date = fields.Date("Visited On", readonly=True)
    outcome = fields.Selection([
            (None, ""),
            ('good', "Working well"),
            ('problem', "Problem found"),
            ('not_reached', "Not reached"),
            ], "Outcome", states={'readonly': Eval('state') != 'planned'})
    satisfaction = fields.Selection(
        SATISFACTION, "Satisfaction", sort=False,
        states={'readonly': Eval('state') != 'planned'})
    notes = fields.Text("Notes",
        states={'readonly': Eval('state') != 'planned'})
    state = fields.Selection([
            ('planned', "Planned"),
            ('done', "Done"),
            ], "State", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('project')
        cls._order = [('planned_date', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {('planned', 'done')}
        cls._buttons.update({
                'done': {
                    'invisible': Eval('state') != 'planned',
                    'readonly': ~Eval('outcome'),
                    'depends': ['state', 'outcome'],
                    },
                })

    @staticmethod
    def default_state():
        return 'planned'

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, visits):
        pool = Pool()
        Date = pool.get('ir.date')
        for visit in visits:
            if not visit.outcome:
                raise RenovationError(gettext(
                        'elder_renovation.msg_visit_outcome'))
        cls.write(visits, {'visited_date': Date.today()})

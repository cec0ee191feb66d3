# This file is part of the eldercare platform. See LICENSE.
"""Family elderly-care beds (家庭养老床位): application, eligibility through
the entitlement engine (benefit ``family_bed``), home assessment and bed
plan by the assessment/design body, setup by the service provider (devices
installed and bound through elder_device), acceptance by a third party,
go-live with recurring service plans (elder_service), suspension and
termination."""
import datetime as dt
import json
import secrets

from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, without_check_access

from trytond.modules.elder_assess.entitlement import LEVELS
from trytond.modules.elder_device.device import CATEGORIES, SERVICE_STATES

from .exceptions import BedError, BedValidationError, SeparationError

STATES = [
    ('draft', "Draft"),
    ('applied', "Applied"),
    ('approved', "Eligible"),
    ('planned', "Bed Plan Made"),
    ('setup', "Setting Up"),
    ('installed', "Set Up, Awaiting Acceptance"),
    ('live', "In Service"),
    ('suspended', "Suspended"),
    ('terminated', "Terminated"),
    ('rejected', "Rejected"),
    ]
CHANNELS = [
    ('elder', "Older person or family"),
    ('community', "Community"),
    ('assessment', "From an assessment"),
    ]
SUSPEND_REASONS = [
    (None, ""),
    ('hospital', "Hospitalisation"),
    ('away', "Temporarily away"),
    ('other', "Other"),
    ]
END_REASONS = [
    (None, ""),
    ('hospital', "Hospitalisation"),
    ('moved', "Moved away"),
    ('deceased', "Deceased"),
    ('voluntary', "Withdrawn at the older person's request"),
    ('not_eligible', "No longer eligible"),
    ('other', "Other"),
    ]
# Stages with a deadline (configuration field of the number of days)
STAGE_DAYS = {
    'applied': 'approve_days',
    'approved': 'plan_days',
    'planned': 'setup_days',
    'setup': 'setup_days',
    'installed': 'acceptance_days',
    }
OPEN_STATES = ['draft', 'applied', 'approved', 'planned', 'setup',
    'installed', 'live', 'suspended']
# States in which the bed is "in service" for the bed-month subsidy
LIVE_STATES = {'live'}
WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday',
    'saturday', 'sunday']


def _now():
    return dt.datetime.now().replace(microsecond=0)


class Bed(Workflow, ModelSQL, ModelView):
    "Family elderly-care bed (家庭养老床位)"
    __name__ = 'bed.bed'
    _sensitivity = {
        'elder': 'personal', 'level': 'sensitive', 'care_level': 'sensitive',
        'eligibility': 'sensitive', 'entitlement': 'sensitive',
        'assessment': 'sensitive', 'home_assessment': 'sensitive',
        'adaptations': 'personal', 'applicant': 'personal',
        'applicant_phone': 'personal', 'suspend_note': 'personal',
        'end_note': 'personal', 'monthly_subsidy': 'sensitive',
        # random, printed on the bed plan's QR code: verifies, reveals
        # nothing (the route shows a masked name)
        'verify_token': 'internal',
        }

    _draft = {'readonly': Eval('state') != 'draft'}
    _open = {'readonly': ~Eval('state').in_(['draft', 'applied'])}
    _plan = {'readonly': ~Eval('state').in_(['approved'])}
    _setup = {'readonly': ~Eval('state').in_(['planned', 'setup'])}

    number = fields.Char("Number", readonly=True)
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='RESTRICT',
        states=_draft, domain=[('state', '=', 'active')])
    region = fields.Many2One(
        'elder.region', "Region", readonly=True, ondelete='RESTRICT',
        help="The older person's residence region: it decides which "
        "supervisors see the bed.")
    channel = fields.Selection(
        CHANNELS, "Application Channel", required=True, states=_draft)
    channel_string = channel.translated('channel')
    applicant = fields.Char("Applicant", states=_draft,
        help="Who applied: the older person, a family member or the "
        "community worker.")
    applicant_phone = fields.Char("Applicant Phone", states=_draft)
    assessment = fields.Many2One(
        'elder.assessment', "Assessment", ondelete='RESTRICT', states=_open,
        domain=[('elder', '=', Eval('elder', -1))],
        help="The ability assessment the application comes from.")
    applied_date = fields.Date("Application Date", readonly=True)

    designer = fields.Many2One(
        'elder.provider', "Assessment and Design Body", ondelete='RESTRICT',
        states=_open,
        help="Institution role 1: assesses the home and makes the bed plan.")
    provider = fields.Many2One(
        'elder.provider', "Service Provider", ondelete='RESTRICT',
        states={'readonly': ~Eval('state').in_(
                ['draft', 'applied', 'approved'])},
        help="Institution role 2: sets up the bed and serves it.")
    acceptor = fields.Many2One(
        'elder.provider', "Acceptance Body", ondelete='RESTRICT',
        states={'readonly': ~Eval('state').in_(
                ['draft', 'applied', 'approved', 'planned'])},
        help="Institution role 3: accepts the setup; never the service "
        "provider.")

    entitlement = fields.Many2One(
        'elder.entitlement', "Entitlement", readonly=True,
        ondelete='RESTRICT')
    level = fields.Selection(LEVELS, "Ability Level", readonly=True)
    eligibility = fields.Text("Eligibility", readonly=True,
        help="The facts and policy that made the older person eligible.")
    monthly_subsidy = fields.Numeric(
        "Monthly Subsidy", digits=(16, 2), readonly=True,
        help="Yuan per bed-month, from the family-bed entitlement (or the "
        "configured default).")

    home_assessment = fields.Text("Home Assessment", states=_plan,
        help="The home visit's findings: living conditions, risks, needs.")
    care_level = fields.Selection(
        LEVELS, "Care Level", states=_plan, sort=False)
    services = fields.One2Many(
        'bed.service', 'bed', "Service Package", states=_plan)
    devices = fields.One2Many(
        'bed.device', 'bed', "Devices", states={
            'readonly': ~Eval('state').in_(['approved', 'planned', 'setup'])})
    adaptations = fields.Text(
        "Home Adaptations", states=_plan,
        help="Adaptations of the home the setup needs (leave empty if "
        "none).")
    adaptations_done = fields.Boolean(
        "Adaptations Done", states=_setup)
    plan_date = fields.Date("Plan Date", readonly=True)
    setup_date = fields.Date("Setup Completed On", readonly=True)
    accepted_by = fields.Many2One('res.user', "Accepted By", readonly=True)
    acceptance_note = fields.Text(
        "Acceptance Note",
        states={'readonly': Eval('state') != 'installed'})
    live_date = fields.Date("In Service Since", readonly=True)
    suspend_reason = fields.Selection(
        SUSPEND_REASONS, "Suspension Reason",
        states={'readonly': Eval('state') != 'live'})
    suspend_note = fields.Char(
        "Suspension Note", states={'readonly': Eval('state') != 'live'})
    end_reason = fields.Selection(
        END_REASONS, "Termination Reason",
        states={'readonly': ~Eval('state').in_(['live', 'suspended'])})
    end_note = fields.Char(
        "Termination Note",
        states={'readonly': ~Eval('state').in_(['live', 'suspended'])})
    end_date = fields.Date("Terminated On", readonly=True)
    reject_note = fields.Char(
        "Rejection Reason",
        states={'readonly': Eval('state') != 'applied'})

    deadline = fields.Date("Stage Deadline", readonly=True)
    overdue = fields.Boolean("Overdue", readonly=True)
    verify_token = fields.Char("Verification Token", readonly=True)
    events = fields.One2Many('bed.event', 'bed', "History", readonly=True)
    months = fields.One2Many('bed.month', 'bed', "Monthly Reviews",
        readonly=True)
    alarms = fields.Function(
        fields.Many2Many('device.alarm', None, None, "Alarms"), 'get_alarms')
    alarm_count = fields.Function(
        fields.Integer("Alarms"), 'get_alarm_counts')
    open_alarm_count = fields.Function(
        fields.Integer("Open Alarms"), 'get_alarm_counts')
    counter = fields.Function(fields.Integer("Beds"), 'get_counter')
    state = fields.Selection(STATES, "State", readonly=True, required=True,
        sort=False)
    state_string = state.translated('state')

    del _draft, _open, _plan, _setup

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_uniq', Unique(t, t.number),
                'elder_bed.msg_bed_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.elder, Index.Range())),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.provider, Index.Range())),
                Index(t, (t.verify_token, Index.Equality())),
                })
        cls._order = [('number', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'applied'),
            ('applied', 'approved'),
            ('applied', 'rejected'),
            ('approved', 'planned'),
            ('planned', 'setup'),
            ('setup', 'installed'),
            ('installed', 'setup'),
            ('installed', 'live'),
            ('live', 'suspended'),
            ('suspended', 'live'),
            ('live', 'terminated'),
            ('suspended', 'terminated'),
            }
        buttons = {
            'apply': ['draft'],
            'approve': ['applied'],
            'reject': ['applied'],
            'submit_plan': ['approved'],
            'start_setup': ['planned'],
            'complete_setup': ['setup'],
            'send_back': ['installed'],
            'go_live': ['installed'],
            'suspend': ['live'],
            'resume': ['suspended'],
            'terminate': ['live', 'suspended'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }
        cls._buttons['suspend']['readonly'] = ~Eval('suspend_reason')
        cls._buttons['suspend']['depends'].append('suspend_reason')
        cls._buttons['terminate']['readonly'] = ~Eval('end_reason')
        cls._buttons['terminate']['depends'].append('end_reason')
        cls._buttons['reject']['readonly'] = ~Eval('reject_note')
        cls._buttons['reject']['depends'].append('reject_note')

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_channel():
        return 'elder'

    @staticmethod
    def default_overdue():
        return False

    @staticmethod
    def default_adaptations_done():
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

    @fields.depends('elder')
    def on_change_elder(self):
        self.region = self.elder.region if self.elder else None

    @fields.depends('assessment', 'channel')
    def on_change_assessment(self):
        if self.assessment:
            self.channel = 'assessment'

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
                    'elder_bed', 'sequence_bed')).get()
        return values

    @classmethod
    def validate_fields(cls, beds, field_names):
        super().validate_fields(beds, field_names)
        if field_names is None or {
                'provider', 'acceptor', 'designer'} & field_names:
            for bed in beds:
                bed.check_roles()

    def check_roles(self):
        "The acceptance body is never the service provider"
        if self.provider and self.acceptor and self.provider == self.acceptor:
            raise BedValidationError(gettext(
                    'elder_bed.msg_acceptor_is_provider',
                    bed=self.rec_name, provider=self.provider.rec_name))

    @classmethod
    def check_modification(cls, mode, beds, values=None, external=False):
        super().check_modification(
            mode, beds, values=values, external=external)
        if external and mode == 'write':
            # the organisations are chosen before the setup starts; after
            # that nobody (a provider least) reassigns them by hand
            locked = {'designer', 'provider', 'acceptor', 'elder'} & set(values)
            for bed in beds:
                if locked and bed.state not in {'draft', 'applied', 'approved'}:
                    raise BedError(gettext(
                            'elder_bed.msg_bed_organisations_locked',
                            bed=bed.rec_name))
        if mode == 'delete':
            for bed in beds:
                if bed.state not in {'draft', 'rejected'}:
                    raise BedError(gettext(
                            'elder_bed.msg_bed_delete', bed=bed.rec_name))

    @classmethod
    def copy(cls, beds, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'entitlement', 'level', 'eligibility',
                'monthly_subsidy', 'plan_date', 'setup_date', 'accepted_by',
                'live_date', 'end_date', 'end_reason', 'suspend_reason',
                'deadline', 'verify_token', 'applied_date']:
            default.setdefault(name, None)
        for name in ['events', 'months', 'devices']:
            default.setdefault(name, [])
        default.setdefault('overdue', False)
        return super().copy(beds, default=default)

    # --- monitoring ------------------------------------------------------

    def _device_ids(self):
        return [l.device.id for l in self.devices if l.device]

    def get_alarms(self, name):
        Alarm = Pool().get('device.alarm')
        ids = self._device_ids()
        if not ids:
            return []
        with without_check_access():
            return [a.id for a in Alarm.search([('device', 'in', ids)])]

    @classmethod
    def get_alarm_counts(cls, beds, names):
        pool = Pool()
        Alarm = pool.get('device.alarm')
        Line = pool.get('bed.device')
        alarm = Alarm.__table__()
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        ids = [b.id for b in beds]
        result = {n: {i: 0 for i in ids} for n in names}
        query = line.join(alarm, condition=alarm.device == line.device)
        if 'alarm_count' in names:
            cursor.execute(*query.select(line.bed, Count(alarm.id),
                    where=line.bed.in_(ids), group_by=[line.bed]))
            result['alarm_count'].update(dict(cursor))
        if 'open_alarm_count' in names:
            cursor.execute(*query.select(line.bed, Count(alarm.id),
                    where=line.bed.in_(ids) & (alarm.state != 'closed'),
                    group_by=[line.bed]))
            result['open_alarm_count'].update(dict(cursor))
        return result

    # --- workflow helpers ------------------------------------------------

    @classmethod
    def _log(cls, beds, to_state, note=None, date=None):
        pool = Pool()
        Event = pool.get('bed.event')
        Date = pool.get('ir.date')
        date = date or Date.today()
        with without_check_access():
            Event.create([{
                        'bed': b.id,
                        'date': date,
                        'at': _now(),
                        'user': Transaction().user or None,
                        'from_state': b.state,
                        'to_state': to_state,
                        'note': note,
                        } for b in beds])

    @classmethod
    def _set_deadline(cls, beds, state):
        pool = Pool()
        Configuration = pool.get('bed.configuration')
        Date = pool.get('ir.date')
        name = STAGE_DAYS.get(state)
        deadline = None
        if name:
            days = getattr(Configuration(1), name)
            deadline = Date.today() + dt.timedelta(days=days)
        cls.write(beds, {'deadline': deadline, 'overdue': False})

    @staticmethod
    def _user_provider():
        pool = Pool()
        User = pool.get('res.user')
        return User.get_elder_provider()

    def _check_requires(self, *names):
        for name in names:
            if not getattr(self, name):
                raise BedError(gettext(
                        'elder_bed.msg_bed_field_required', bed=self.rec_name,
                        field=self.__class__.fields_get(
                            [name])[name]['string']))

    # --- workflow ----------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('applied')
    def apply(cls, beds):
        pool = Pool()
        Date = pool.get('ir.date')
        for bed in beds:
            if bed.elder.state != 'active':
                raise BedError(gettext('elder_bed.msg_elder_not_active',
                        elder=bed.elder.rec_name))
            others = cls.search([
                    ('elder', '=', bed.elder.id),
                    ('state', 'in', OPEN_STATES),
                    ('state', '!=', 'draft'),
                    ('id', '!=', bed.id),
                    ])
            if others:
                raise BedError(gettext('elder_bed.msg_bed_already',
                        elder=bed.elder.rec_name, bed=others[0].number))
        cls._log(beds, 'applied')
        cls.write(beds, {'applied_date': Date.today()})
        cls._set_deadline(beds, 'applied')

    @classmethod
    def eligibility_of(cls, elder, date=None):
        """Evaluate the entitlements of the older person and return the
        family-bed entitlement in force on date, or None"""
        pool = Pool()
        Entitlement = pool.get('elder.entitlement')
        Date = pool.get('ir.date')
        date = date or Date.today()
        with without_check_access():
            Entitlement.evaluate([elder], date)
            active = Entitlement.active(elder, date, benefit='family_bed')
        return active[0] if active else None

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, beds):
        "Eligibility check: the family-bed entitlement of the engine"
        pool = Pool()
        Configuration = pool.get('bed.configuration')
        config = Configuration(1)
        for bed in beds:
            bed._check_requires('designer')
            entitlement = cls.eligibility_of(bed.elder)
            if not entitlement:
                raise BedError(gettext('elder_bed.msg_not_eligible',
                        elder=bed.elder.rec_name))
            with without_check_access():
                bed.entitlement = entitlement
                bed.level = entitlement.level
                bed.eligibility = entitlement.facts
                bed.monthly_subsidy = (entitlement.monthly_amount
                    if entitlement.monthly_amount is not None
                    else config.monthly_subsidy)
        cls.save(beds)
        cls._log(beds, 'approved')
        cls._set_deadline(beds, 'approved')

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, beds):
        for bed in beds:
            bed._check_requires('reject_note')
        cls._log(beds, 'rejected', beds[0].reject_note if beds else None)
        cls.write(beds, {'deadline': None, 'overdue': False})

    @classmethod
    @ModelView.button
    @Workflow.transition('planned')
    def submit_plan(cls, beds):
        "The assessment/design body hands in the home assessment and plan"
        pool = Pool()
        Date = pool.get('ir.date')
        for bed in beds:
            bed._check_requires(
                'home_assessment', 'care_level', 'provider', 'acceptor')
            if not bed.services:
                raise BedError(gettext('elder_bed.msg_plan_no_service',
                        bed=bed.rec_name))
            if not bed.devices:
                raise BedError(gettext('elder_bed.msg_plan_no_device',
                        bed=bed.rec_name))
            for service in bed.services:
                if not any(getattr(service, d) for d in WEEKDAYS):
                    raise BedError(gettext('elder_bed.msg_service_no_day',
                            bed=bed.rec_name, item=service.item.rec_name))
            bed.check_roles()
        cls.write(beds, {
                'plan_date': Date.today(),
                'verify_token': None,
                })
        for bed in beds:
            bed.verify_token = secrets.token_urlsafe(18)
        cls.save(beds)
        cls._log(beds, 'planned')
        cls._set_deadline(beds, 'planned')

    @classmethod
    @ModelView.button
    @Workflow.transition('setup')
    def start_setup(cls, beds):
        cls._log(beds, 'setup')
        cls._set_deadline(beds, 'setup')

    @classmethod
    @ModelView.button
    @Workflow.transition('installed')
    def complete_setup(cls, beds):
        """The provider installed the devices: each planned device is bound
        to the older person and installed through elder_device"""
        pool = Pool()
        Device = pool.get('device.device')
        Date = pool.get('ir.date')
        for bed in cls.browse(beds):  # what is stored, not unsaved edits
            if bed.adaptations and not bed.adaptations_done:
                raise BedError(gettext('elder_bed.msg_adaptations_pending',
                        bed=bed.rec_name))
            to_install = []
            with without_check_access():
                for line in bed.devices:
                    device = line.device
                    if not device:
                        raise BedError(gettext(
                                'elder_bed.msg_device_missing',
                                bed=bed.rec_name,
                                category=line.category_string))
                    if device.category != line.category:
                        raise BedError(gettext(
                                'elder_bed.msg_device_category',
                                bed=bed.rec_name, device=device.rec_name,
                                category=line.category_string))
                    if device.elder and device.elder != bed.elder:
                        raise BedError(gettext(
                                'elder_bed.msg_device_other_elder',
                                device=device.rec_name))
                    if device.state == 'in_stock':
                        if device.to_collect:
                            raise BedError(gettext(
                                    'elder_bed.msg_device_other_elder',
                                    device=device.rec_name))
                        Device.write([device], {
                                'elder': bed.elder.id,
                                'place': line.place or device.place,
                                'provider': bed.provider.id,
                                })
                        to_install.append(device)
                    elif device.state not in SERVICE_STATES:
                        raise BedError(gettext(
                                'elder_bed.msg_device_state',
                                device=device.rec_name))
                if to_install:
                    Device.install(Device.browse(to_install))
        cls.write(beds, {'setup_date': Date.today()})
        cls._log(beds, 'installed')
        cls._set_deadline(beds, 'installed')

    @classmethod
    @ModelView.button
    @Workflow.transition('setup')
    def send_back(cls, beds):
        "The acceptance body sends the setup back to the provider"
        cls.check_acceptor(beds)
        cls._log(beds, 'setup', beds[0].acceptance_note if beds else None)
        cls._set_deadline(beds, 'setup')

    @classmethod
    def check_acceptor(cls, beds):
        """Role separation: the service provider never accepts its own
        setup, whatever the user's groups"""
        provider = cls._user_provider()
        for bed in beds:
            if provider and bed.provider and provider == bed.provider.id:
                raise SeparationError(gettext(
                        'elder_bed.msg_provider_accepts',
                        bed=bed.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('live')
    def go_live(cls, beds):
        """Acceptance: the devices go into service, the service package
        becomes running service plans that generate the orders"""
        pool = Pool()
        Device = pool.get('device.device')
        Date = pool.get('ir.date')
        cls.check_acceptor(beds)
        today = Date.today()
        with without_check_access():
            devices = [l.device for b in beds for l in b.devices
                if l.device and l.device.state == 'installed']
            if devices:
                Device.activate(devices)
        cls.write(beds, {
                'live_date': today, 'accepted_by': Transaction().user,
                'deadline': None, 'overdue': False})
        cls._log(beds, 'live')
        cls._start_plans(beds, today)

    @classmethod
    def _start_plans(cls, beds, date):
        pool = Pool()
        Plan = pool.get('service.plan')
        Service = pool.get('bed.service')
        with without_check_access():
            to_run = []
            for bed in beds:
                for service in bed.services:
                    if service.plan:
                        if service.plan.state != 'running':
                            to_run.append(service.plan)
                        continue
                    plan, = Plan.create([{
                                'elder': bed.elder.id,
                                'item': service.item.id,
                                'provider': bed.provider.id,
                                'start_date': date,
                                'time_from': service.time_from,
                                'time_to': service.time_to,
                                'note': gettext('elder_bed.msg_plan_note',
                                    bed=bed.number),
                                **{d: bool(getattr(service, d))
                                    for d in WEEKDAYS},
                                }])
                    Service.write([service], {'plan': plan.id})
                    to_run.append(plan)
            if to_run:
                Plan.run(to_run)
                Plan.generate_orders(to_run)

    @classmethod
    def _stop_plans(cls, beds, reason):
        """Stop the bed's service plans and cancel their orders not yet
        served"""
        pool = Pool()
        Plan = pool.get('service.plan')
        Order = pool.get('service.order')
        from trytond.modules.elder_service.order import CANCELLABLE
        with without_check_access():
            plans = [s.plan for b in beds for s in b.services if s.plan]
            running = [p for p in plans if p.state == 'running']
            if running:
                Plan.stop(running)
            if plans:
                orders = Order.search([
                        ('plan', 'in', [p.id for p in plans]),
                        ('state', 'in', CANCELLABLE),
                        ])
                if orders:
                    Order.write(orders, {'cancel_reason': reason})
                    Order.cancel(orders)

    @classmethod
    @ModelView.button
    @Workflow.transition('suspended')
    def suspend(cls, beds):
        for bed in beds:
            bed._check_requires('suspend_reason')
        for bed in beds:
            note = gettext('elder_bed.msg_suspended',
                bed=bed.number, reason=bed.suspend_reason_string)
            cls._stop_plans([bed], note)
            cls._log([bed], 'suspended', bed.suspend_note or note)

    suspend_reason_string = suspend_reason.translated('suspend_reason')
    end_reason_string = end_reason.translated('end_reason')

    @classmethod
    @ModelView.button
    @Workflow.transition('live')
    def resume(cls, beds):
        pool = Pool()
        Date = pool.get('ir.date')
        cls._log(beds, 'live')
        cls.write(beds, {'suspend_reason': None, 'suspend_note': None})
        cls._start_plans(beds, Date.today())

    @classmethod
    @ModelView.button
    @Workflow.transition('terminated')
    def terminate(cls, beds, date=None):
        pool = Pool()
        Date = pool.get('ir.date')
        Device = pool.get('device.device')
        date = date or Date.today()
        for bed in beds:
            bed._check_requires('end_reason')
        for bed in beds:
            note = gettext('elder_bed.msg_terminated',
                bed=bed.number, reason=bed.end_reason_string)
            cls._stop_plans([bed], note)
            cls._log([bed], 'terminated', bed.end_note or note, date=date)
            if bed.end_reason != 'deceased':
                # the deceased's devices are stopped by elder_device
                with without_check_access():
                    devices = [l.device for l in bed.devices if l.device
                        and l.device.state in {'installed', 'active'}
                        and l.device.elder == bed.elder]
                    if devices:
                        # Device.uninstall writes the older person empty
                        # before the state, which the required older
                        # person of an installed device refuses: one write
                        Device.log_event(devices, 'in_stock', note)
                        Device.write(devices, {
                                'state': 'in_stock', 'elder': None,
                                'region': None, 'installed_date': None})
        cls.write(beds, {'end_date': date, 'deadline': None,
                'overdue': False})

    @classmethod
    def stop_for_elder(cls, elders, reason, date):
        """Terminate the beds of older people who died or moved away
        (elder_base's events)"""
        with without_check_access():
            beds = cls.search([
                    ('elder', 'in', [e.id for e in elders]),
                    ('state', 'in', OPEN_STATES),
                    ])
            running = [b for b in beds if b.state in {'live', 'suspended'}]
            other = [b for b in beds if b not in running]
            if running:
                cls.write(running, {'end_reason': reason})
                cls.terminate(running, date)
            if other:
                cls._stop_plans(other, reason)
                cls._log(other, 'rejected', gettext(
                        'elder_bed.msg_closed_before_live',
                        reason=dict(END_REASONS)[reason]), date=date)
                cls.write(other, {
                        'state': 'rejected', 'reject_note': gettext(
                            'elder_bed.msg_closed_before_live',
                            reason=dict(END_REASONS)[reason]),
                        'deadline': None, 'overdue': False})

    # --- deadlines ---------------------------------------------------------

    @classmethod
    def cron_overdue(cls):
        "Flag the beds whose stage deadline passed and notify"
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        with without_check_access():
            beds = cls.search([
                    ('deadline', '<', today),
                    ('overdue', '=', False),
                    ('state', 'in', list(STAGE_DAYS)),
                    ])
            if beds:
                cls.write(beds, {'overdue': True})
                cls.notify_overdue(beds)
        return beds

    @classmethod
    def notify_overdue(cls, beds):
        """Tell the supervisors of the region and the users of the
        organisation responsible for the stage"""
        pool = Pool()
        Notification = pool.get('res.notification')
        values = []
        for bed in beds:
            for user in responsible_users(bed.region, cls._stage_org(bed)):
                values.append({
                        'user': user.id,
                        'label': gettext('elder_bed.msg_overdue_title',
                            bed=bed.number),
                        'description': gettext('elder_bed.msg_overdue_body',
                            bed=bed.rec_name, state=bed.state_string,
                            deadline=bed.deadline),
                        'model': cls.__name__,
                        'records': json.dumps([bed.id]),
                        })
        if values:
            Notification.create(values)

    @staticmethod
    def _stage_org(bed):
        if bed.state == 'approved':
            return bed.designer
        if bed.state in {'planned', 'setup'}:
            return bed.provider
        if bed.state == 'installed':
            return bed.acceptor
        return None


def responsible_users(region, provider):
    """Supervisors whose region scope covers the region, and the users of
    the provider (any group)"""
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    group = ModelData.get_id('elder_base', 'group_supervisor')
    users = []
    path = set()
    current = region
    while current:
        path.add(current.id)
        current = current.parent
    for user in User.search([('groups', '=', group)]):
        if user.elder_region and user.elder_region.id in path:
            users.append(user)
    if provider:
        users += [u for u in User.search([
                    ('elder_provider', '=', provider.id)])
            if u not in users]
    return users


class Service(ModelSQL, ModelView):
    "Service of a family bed's package"
    __name__ = 'bed.service'
    bed = fields.Many2One(
        'bed.bed', "Bed", required=True, ondelete='CASCADE')
    item = fields.Many2One(
        'service.item', "Service Item", required=True, ondelete='RESTRICT')
    monday = fields.Boolean("Monday")
    tuesday = fields.Boolean("Tuesday")
    wednesday = fields.Boolean("Wednesday")
    thursday = fields.Boolean("Thursday")
    friday = fields.Boolean("Friday")
    saturday = fields.Boolean("Saturday")
    sunday = fields.Boolean("Sunday")
    time_from = fields.Time("From")
    time_to = fields.Time("To",
        domain=[If(Eval('time_from') & Eval('time_to'),
                ('time_to', '>=', Eval('time_from')), ())])
    visits_per_week = fields.Function(
        fields.Integer("Visits per Week"), 'on_change_with_visits_per_week')
    plan = fields.Many2One(
        'service.plan', "Service Plan", readonly=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('bed')

    @fields.depends(*WEEKDAYS)
    def on_change_with_visits_per_week(self, name=None):
        return sum(1 for d in WEEKDAYS if getattr(self, d))


class BedDevice(ModelSQL, ModelView):
    "Device of a family bed"
    __name__ = 'bed.device'
    bed = fields.Many2One(
        'bed.bed', "Bed", required=True, ondelete='CASCADE')
    category = fields.Selection(
        CATEGORIES, "Category", required=True,
        help="What the bed plan asks for: bed sensor, SOS button, smoke or "
        "gas sensor, door sensor, vital-signs meter …")
    category_string = category.translated('category')
    place = fields.Char("Place", help="Where in the home.")
    device = fields.Many2One(
        'device.device', "Device", ondelete='RESTRICT',
        domain=[If(Bool(Eval('category')),
                ('type.category', '=', Eval('category')), ())],
        help="The device the provider installs (set during setup).")
    device_state = fields.Function(
        fields.Selection('get_device_states', "Device Status"),
        'get_device_state')
    online = fields.Function(fields.Boolean("Online"), 'get_device_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('bed')

    @classmethod
    def get_device_states(cls):
        Device = Pool().get('device.device')
        return [(None, '')] + Device.fields_get(['state'])['state'][
            'selection']

    @classmethod
    def get_device_state(cls, lines, names):
        result = {n: {l.id: None for l in lines} for n in names}
        with without_check_access():
            for line in cls.browse(lines):
                if not line.device:
                    continue
                if 'device_state' in names:
                    result['device_state'][line.id] = line.device.state
                if 'online' in names:
                    result['online'][line.id] = line.device.online
        return result


class Event(ModelSQL, ModelView):
    "Family bed history"
    __name__ = 'bed.event'
    bed = fields.Many2One(
        'bed.bed', "Bed", required=True, ondelete='CASCADE', readonly=True)
    date = fields.Date("Date", required=True, readonly=True,
        help="The day the change takes effect (bed-month subsidy).")
    at = fields.Timestamp("Recorded At", readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)
    from_state = fields.Selection(STATES, "From", readonly=True)
    to_state = fields.Selection(STATES, "To", readonly=True)
    note = fields.Char("Note", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('bed')
        cls._order = [('at', 'ASC'), ('id', 'ASC')]

    @classmethod
    def check_modification(cls, mode, events, values=None, external=False):
        "The history is written by the workflow only"
        super().check_modification(
            mode, events, values=values, external=external)
        if external:
            raise BedError(gettext('elder_bed.msg_event_readonly'))

# This file is part of the eldercare platform. See LICENSE.
"""Maintenance of the devices (standard §7.3): repair tickets with the
on-site deadline of §7.3.6, free repair or replacement within the service
period (§7.3.7) and return visits (§7.3.5)."""
import datetime as dt
import json

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, without_check_access

from . import rules
from .exceptions import DeviceValidationError

SOURCES = [
    ('device', "Device Fault"),
    ('alarm', "Fault Alarm"),
    ('hotline', "Hotline"),
    ('family', "Family"),
    ('provider', "Provider"),
    ('operator', "Operator"),
    ]
STATES = [
    ('reported', "Reported"),
    ('assigned', "Assigned"),
    ('on_site', "On Site"),
    ('resolved', "Resolved"),
    ('closed', "Closed"),
    ]
RESOLUTIONS = [
    (None, ""),
    ('repaired', "Repaired"),
    ('replaced', "Replaced"),
    ('no_fault', "No Fault Found"),
    ]
ESCALATIONS = [
    (None, ""),
    ('warning', "Deadline Near"),
    ('lapsed', "Deadline Lapsed"),
    ]
# Tickets whose technician has not yet arrived: the SLA clock runs
WAITING = ('reported', 'assigned')
OUTCOMES = [
    (None, ""),
    ('working', "Working, Satisfied"),
    ('problem', "Problem Remains"),
    ('unreachable', "Not Reached"),
    ]


def now():
    "Naive UTC now; the context key maintenance_now freezes it (tests)"
    frozen = Transaction().context.get('maintenance_now')
    if frozen:
        return frozen
    return dt.datetime.utcnow().replace(microsecond=0)


@rules.register('fault')
class FaultRule:
    "The device reports its own fault (fault flag or error code)"

    def __call__(self, event, values, limits):
        code = values.get('error_code')
        if rules._true(values.get('fault')) or (
                code not in (None, '', 0, '0')):
            yield rules.Signal('fault', rules.NORMAL,
                'device fault%s' % (' %s' % code if code not in (
                            None, '') else ''))


class Alarm(metaclass=PoolMeta):
    __name__ = 'device.alarm'
    repairs = fields.One2Many('device.repair', 'alarm', "Repairs",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        if ('fault', "Device Fault") not in cls.kind.selection:
            cls.kind.selection.append(('fault', "Device Fault"))

    @classmethod
    def raise_signals(cls, signals):
        "A fault alarm opens a repair ticket"
        pool = Pool()
        Repair = pool.get('device.repair')
        alarms = super().raise_signals(signals)
        faults = [a for a in alarms if a.kind == 'fault']
        if faults:
            Repair.from_alarms(faults)
        return alarms


class Device(metaclass=PoolMeta):
    __name__ = 'device.device'
    warranty_end = fields.Date(
        "Service Period End",
        help="Until this date repair and replacement are free "
        "(standard 7.3.7).")
    repairs = fields.One2Many(
        'device.repair', 'device', "Repairs", readonly=True)

    @classmethod
    def report_fault(cls, devices):
        "Reporting a fault opens a repair ticket"
        pool = Pool()
        Repair = pool.get('device.repair')
        super().report_fault(devices)
        devices = [d for d in cls.browse([d.id for d in devices])
            if d.state == 'fault']
        if devices:
            Repair.report(devices, 'device')


class Repair(Workflow, ModelSQL, ModelView):
    "Device Repair"
    __name__ = 'device.repair'
    _states = {'readonly': Eval('state') != 'reported'}

    device = fields.Many2One(
        'device.device', "Device", required=True, ondelete='RESTRICT',
        states=_states)
    elder = fields.Many2One(
        'elder.elder', "Older Person", ondelete='RESTRICT', readonly=True)
    region = fields.Many2One(
        'elder.region', "Region", ondelete='RESTRICT', readonly=True)
    provider = fields.Many2One(
        'elder.provider', "Maintainer", ondelete='RESTRICT', readonly=True)
    source = fields.Selection(
        SOURCES, "Source", required=True, states=_states)
    alarm = fields.Many2One(
        'device.alarm', "Alarm", ondelete='RESTRICT', readonly=True)
    description = fields.Text(
        "Fault", states={'readonly': Eval('state').in_(
                ['resolved', 'closed'])})
    reported_at = fields.Timestamp("Reported At", required=True,
        readonly=True)
    reported_by = fields.Many2One('res.user', "Reported By", readonly=True)
    deadline = fields.Timestamp(
        "On-site Deadline", required=True, readonly=True,
        help="The technician must be on site by then (standard 7.3.6).")
    technician = fields.Many2One(
        'elder.practitioner', "Technician", ondelete='RESTRICT',
        domain=[
            ('kind', '=', 'technician'),
            If(Bool(Eval('provider')),
                ('provider', '=', Eval('provider', -1)), ()),
            ],
        states={
            'readonly': ~Eval('state').in_(['reported', 'assigned']),
            'required': Eval('state').in_(['assigned', 'on_site']),
            })
    assigned_at = fields.Timestamp("Assigned At", readonly=True)
    arrived_at = fields.Timestamp("Arrived At", readonly=True)
    sla_met = fields.Function(
        fields.Boolean("On Time"), 'get_sla_met')
    escalation = fields.Selection(
        ESCALATIONS, "Escalation", readonly=True)
    escalated_at = fields.Timestamp("Escalated At", readonly=True)
    resolution = fields.Selection(
        RESOLUTIONS, "Resolution",
        states={
            'readonly': Eval('state') != 'on_site',
            'required': Eval('state').in_(['resolved', 'closed']),
            })
    replacement = fields.Many2One(
        'device.device', "Replacement", ondelete='RESTRICT',
        domain=[If(Eval('state') == 'on_site',
                [('state', '=', 'in_stock'), ('to_collect', '=', False)],
                [])],
        states={
            'readonly': Eval('state') != 'on_site',
            'invisible': Eval('resolution') != 'replaced',
            'required': (Eval('resolution') == 'replaced')
            & Eval('state').in_(['resolved', 'closed']),
            })
    resolved_at = fields.Timestamp("Resolved At", readonly=True)
    free = fields.Boolean(
        "Free", readonly=True,
        help="Within the service period of the device (standard 7.3.7).")
    cost = fields.Numeric(
        "Cost", digits=(16, 2),
        states={
            'readonly': Eval('state') != 'on_site',
            'invisible': Eval('free', False),
            })
    closed_at = fields.Timestamp("Closed At", readonly=True)
    notes = fields.Text(
        "Notes", states={'readonly': Eval('state') == 'closed'})
    return_visits = fields.One2Many(
        'device.return_visit', 'repair', "Return Visits", readonly=True)
    state = fields.Selection(STATES, "Status", required=True, readonly=True)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.device, Index.Equality())),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.provider, Index.Equality())),
                Index(t, (t.deadline, Index.Range()),
                    where=t.state.in_(list(WAITING))),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('deadline', 'ASC'), ('id', 'DESC')]
        cls._transitions |= {
            ('reported', 'assigned'),
            ('assigned', 'assigned'),
            ('reported', 'on_site'),
            ('assigned', 'on_site'),
            ('on_site', 'resolved'),
            ('resolved', 'closed'),
            }
        cls._buttons.update({
                'assign': {
                    'invisible': ~Eval('state').in_(list(WAITING)),
                    'readonly': ~Eval('technician'),
                    'depends': ['state', 'technician'],
                    },
                'arrive': {
                    'invisible': ~Eval('state').in_(list(WAITING)),
                    'readonly': ~Eval('technician'),
                    'icon': 'tryton-forward',
                    'depends': ['state', 'technician'],
                    },
                'resolve': {
                    'invisible': Eval('state') != 'on_site',
                    'readonly': ~Eval('resolution'),
                    'icon': 'tryton-ok',
                    'depends': ['state', 'resolution'],
                    },
                'close': {
                    'invisible': Eval('state') != 'resolved',
                    'icon': 'tryton-close',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'reported'

    @staticmethod
    def default_source():
        return 'operator'

    @staticmethod
    def default_free():
        return False

    def get_rec_name(self, name):
        return '%s %s' % (self.device.rec_name, self.reported_at or '')

    def get_sla_met(self, name):
        if self.arrived_at:
            return self.arrived_at <= self.deadline
        if self.deadline and now() > self.deadline:
            return False
        return None

    @classmethod
    def _device_values(cls, device):
        return {
            'device': device.id,
            'elder': device.elder.id if device.elder else None,
            'region': device.region.id if device.region else None,
            'provider': device.provider.id if device.provider else None,
            }

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Device = pool.get('device.device')
        Configuration = pool.get('device.configuration')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            reported = values.setdefault('reported_at', now())
            values.setdefault('reported_by', Transaction().user or None)
            if not values.get('deadline'):
                with without_check_access():
                    hours = Configuration(1).repair_sla_hours
                values['deadline'] = reported + dt.timedelta(hours=hours)
        if values.get('device'):
            with without_check_access():
                values.update(cls._device_values(Device(values['device'])))
        return values

    @classmethod
    def validate_fields(cls, repairs, field_names):
        super().validate_fields(repairs, field_names)
        if field_names and not ({'technician', 'provider'} & field_names):
            return
        for repair in repairs:
            technician = repair.technician
            if technician and (technician.kind != 'technician' or (
                        repair.provider
                        and technician.provider != repair.provider)):
                raise DeviceValidationError(gettext(
                        'elder_device.msg_repair_technician',
                        technician=technician.rec_name,
                        repair=repair.rec_name))

    @classmethod
    def report(cls, devices, source, description=None, alarm=None):
        """Open a repair ticket for each device unless one is already open
        (the hotline and the family report through this). Returns the
        tickets, the existing ones included."""
        pool = Pool()
        Device = pool.get('device.device')
        devices = Device.browse([int(d) for d in devices])
        with without_check_access():
            existing = {r.device.id: r for r in cls.search([
                        ('device', 'in', [d.id for d in devices]),
                        ('state', 'in', ['reported', 'assigned', 'on_site']),
                        ])}
            to_create = []
            for device in devices:
                if device.id in existing:
                    continue
                to_create.append({
                        'device': device.id,
                        'source': source,
                        'description': description,
                        'alarm': alarm.id if alarm else None,
                        })
            repairs = cls.create(to_create) if to_create else []
        if repairs:
            cls.notify(repairs, 'elder_device.msg_repair_new_title')
        return list(existing.values()) + repairs

    @classmethod
    def from_alarms(cls, alarms):
        for alarm in alarms:
            cls.report([alarm.device], 'alarm', alarm.description, alarm)

    @classmethod
    @ModelView.button
    @Workflow.transition('assigned')
    def assign(cls, repairs):
        for repair in repairs:
            if not repair.technician:
                raise DeviceValidationError(gettext(
                        'elder_device.msg_repair_no_technician',
                        repair=repair.rec_name))
        cls.write(repairs, {'assigned_at': now()})

    @classmethod
    @ModelView.button
    @Workflow.transition('on_site')
    def arrive(cls, repairs):
        pool = Pool()
        Device = pool.get('device.device')
        for repair in repairs:
            if not repair.technician:
                raise DeviceValidationError(gettext(
                        'elder_device.msg_repair_no_technician',
                        repair=repair.rec_name))
        time = now()
        for repair in repairs:
            values = {'arrived_at': time}
            if not repair.assigned_at:
                values['assigned_at'] = time
            cls.write([repair], values)
        with without_check_access():
            faulty = [r.device for r in repairs if r.device.state == 'fault']
            if faulty:
                Device.repair(faulty)

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    def resolve(cls, repairs):
        pool = Pool()
        Device = pool.get('device.device')
        Date = pool.get('ir.date')
        ReturnVisit = pool.get('device.return_visit')
        today = Date.today()
        time = now()
        for repair in repairs:
            if not repair.resolution:
                raise DeviceValidationError(gettext(
                        'elder_device.msg_repair_no_resolution',
                        repair=repair.rec_name))
            if repair.resolution == 'replaced' and not repair.replacement:
                raise DeviceValidationError(gettext(
                        'elder_device.msg_repair_no_replacement',
                        repair=repair.rec_name))
        for repair in repairs:
            device = repair.device
            free = bool(device.warranty_end and today <= device.warranty_end)
            values = {'resolved_at': time, 'free': free}
            if free:
                values['cost'] = None
            cls.write([repair], values)
            with without_check_access():
                cls._resolve_device(repair)
        ReturnVisit.plan(repairs)

    @classmethod
    def _resolve_device(cls, repair):
        pool = Pool()
        Device = pool.get('device.device')
        device = repair.device
        if repair.resolution == 'replaced':
            new = repair.replacement
            Device.write([new], {
                    'elder': device.elder.id if device.elder else None,
                    'place': device.place,
                    'provider': (device.provider.id if device.provider
                        else None),
                    'warranty_end': new.warranty_end or device.warranty_end,
                    })
            if new.elder:
                Device.install([new])
                Device.activate([new])
            if device.state in {'fault', 'under_repair'}:
                Device.retire([device])
        elif device.state in {'fault', 'under_repair'}:
            Device.activate([device])

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, repairs):
        cls.write(repairs, {'closed_at': now()})

    # --- SLA -----------------------------------------------------------

    @classmethod
    def escalate(cls):
        """Schedule: tickets whose technician has not arrived and whose
        deadline is near (fewer than the warning hours left) or lapsed are
        flagged and notified to the maintainer's administrators and the
        supervisors of the region, once per level."""
        pool = Pool()
        Configuration = pool.get('device.configuration')
        config = Configuration(1)
        time = now()
        warn_limit = time + dt.timedelta(hours=config.repair_warning_hours)
        lapsed = cls.search([
                ('state', 'in', list(WAITING)),
                ('deadline', '<', time),
                ['OR',
                    ('escalation', '=', None),
                    ('escalation', '=', 'warning'),
                    ],
                ])
        warning = cls.search([
                ('state', 'in', list(WAITING)),
                ('deadline', '>=', time),
                ('deadline', '<', warn_limit),
                ('escalation', '=', None),
                ])
        if lapsed:
            cls.write(lapsed, {'escalation': 'lapsed', 'escalated_at': time})
            cls.notify(lapsed, 'elder_device.msg_repair_lapsed_title',
                supervisors=True)
        if warning:
            cls.write(warning, {
                    'escalation': 'warning', 'escalated_at': time})
            cls.notify(warning, 'elder_device.msg_repair_warning_title',
                supervisors=True)
        return lapsed, warning

    @classmethod
    def recipients(cls, repair, supervisors=False):
        """Users told about the ticket: the maintainer's provider
        administrators, and with supervisors the supervisors whose region
        scope covers the older person's region."""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        users = []
        if repair.provider:
            users += User.search([
                    ('groups', '=', ModelData.get_id(
                            'elder_base', 'group_provider_admin')),
                    ('elder_provider', '=', repair.provider.id),
                    ])
        if supervisors:
            regions, region = [], repair.region
            while region and region.id not in regions:
                regions.append(region.id)
                region = region.parent
            if regions:
                users += User.search([
                        ('groups', '=', ModelData.get_id(
                                'elder_base', 'group_supervisor')),
                        ('elder_region', 'in', regions),
                        ])
        return list(dict.fromkeys(users))

    @classmethod
    @without_check_access
    def notify(cls, repairs, message, supervisors=False):
        pool = Pool()
        Notification = pool.get('res.notification')
        values = []
        for repair in repairs:
            label = gettext(message, device=repair.device.rec_name,
                deadline=repair.deadline)
            for user in cls.recipients(repair, supervisors=supervisors):
                values.append({
                        'user': user.id,
                        'label': label,
                        'description': repair.description or '',
                        'icon': 'tryton-warning',
                        'model': cls.__name__,
                        'records': json.dumps([repair.id]),
                        })
        if values:
            Notification.create(values)


class ReturnVisit(Workflow, ModelSQL, ModelView):
    "Device Return Visit"
    __name__ = 'device.return_visit'
    repair = fields.Many2One(
        'device.repair', "Repair", ondelete='CASCADE', readonly=True)
    device = fields.Many2One(
        'device.device', "Device", required=True, ondelete='RESTRICT',
        states={'readonly': Eval('state') != 'planned'})
    elder = fields.Many2One(
        'elder.elder', "Older Person", ondelete='RESTRICT', readonly=True)
    region = fields.Many2One(
        'elder.region', "Region", ondelete='RESTRICT', readonly=True)
    provider = fields.Many2One(
        'elder.provider', "Maintainer", ondelete='RESTRICT', readonly=True)
    date = fields.Date(
        "Planned Date", required=True,
        states={'readonly': Eval('state') != 'planned'})
    visited_at = fields.Timestamp("Visited At", readonly=True)
    visited_by = fields.Many2One('res.user', "Visited By", readonly=True)
    outcome = fields.Selection(
        OUTCOMES, "Outcome",
        states={
            'readonly': Eval('state') != 'planned',
            'required': Eval('state') == 'done',
            })
    notes = fields.Text(
        "Notes", states={'readonly': Eval('state') != 'planned'})
    state = fields.Selection([
            ('planned', "Planned"),
            ('done', "Done"),
            ], "Status", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.date, Index.Range()),
                    where=t.state == 'planned'),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.provider, Index.Equality())),
                })
        cls._order = [('date', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {('planned', 'done')}
        cls._buttons.update({
                'do': {
                    'invisible': Eval('state') != 'planned',
                    'readonly': ~Eval('outcome'),
                    'icon': 'tryton-ok',
                    'depends': ['state', 'outcome'],
                    },
                })

    @staticmethod
    def default_state():
        return 'planned'

    def get_rec_name(self, name):
        return '%s %s' % (self.device.rec_name, self.date)

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Device = pool.get('device.device')
        Repair = pool.get('device.repair')
        values = super().preprocess_values(mode, values)
        if values.get('device'):
            with without_check_access():
                values.update({k: v for k, v in Repair._device_values(
                            Device(values['device'])).items()
                        if k != 'device'})
        return values

    @classmethod
    def plan(cls, repairs):
        "Plan the return visit after each repair (standard 7.3.5)"
        pool = Pool()
        Configuration = pool.get('device.configuration')
        Date = pool.get('ir.date')
        with without_check_access():
            days = Configuration(1).return_visit_days
        date = Date.today() + dt.timedelta(days=days)
        with without_check_access():
            return cls.create([{
                        'repair': r.id,
                        'device': (r.replacement.id if r.resolution == 'replaced'
                            and r.replacement else r.device.id),
                        'date': date,
                        } for r in repairs])

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, visits):
        for visit in visits:
            if not visit.outcome:
                raise DeviceValidationError(gettext(
                        'elder_device.msg_return_visit_outcome',
                        visit=visit.rec_name))
        cls.write(visits, {
                'visited_at': now(), 'visited_by': Transaction().user or None})


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('device.repair|escalate', "Escalate Device Repairs"))

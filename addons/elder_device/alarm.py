# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
import json
import logging

from trytond.bus import notify
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.modules.elder_base.rec_name import read_columns
from trytond.transaction import Transaction, without_check_access

from .exceptions import DeviceValidationError

logger = logging.getLogger(__name__)

KINDS = [
    ('sos', "SOS"),
    ('fall', "Fall"),
    ('smoke', "Smoke"),
    ('gas', "Gas"),
    ('water', "Water Leak"),
    ('vitals', "Abnormal Vital Signs"),
    ('low_battery', "Low Battery"),
    ('offline', "Offline"),
    ('inactivity', "Inactivity"),
    ]
PRIORITIES = [
    ('1', "Critical"),
    ('2', "High"),
    ('3', "Normal"),
    ('4', "Low"),
    ]
STATES = [
    ('open', "Open"),
    ('acknowledged', "Acknowledged"),
    ('closed', "Closed"),
    ]


class Alarm(Workflow, ModelSQL, ModelView):
    "Device Alarm"
    __name__ = 'device.alarm'
    device = fields.Many2One(
        'device.device', "Device", required=True, ondelete='RESTRICT',
        readonly=True)
    elder = fields.Many2One(
        'elder.elder', "Older Person", ondelete='RESTRICT', readonly=True)
    region = fields.Many2One(
        'elder.region', "Region", ondelete='RESTRICT', readonly=True)
    provider = fields.Many2One(
        'elder.provider', "Maintainer", ondelete='RESTRICT', readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    priority = fields.Selection(
        PRIORITIES, "Priority", required=True, readonly=True, sort=False)
    description = fields.Char("Description", readonly=True)
    state = fields.Selection(STATES, "Status", required=True, readonly=True)
    first_occurrence = fields.Timestamp(
        "First Occurrence", required=True, readonly=True)
    last_occurrence = fields.Timestamp(
        "Last Occurrence", required=True, readonly=True)
    repeat_count = fields.Integer(
        "Occurrences", required=True, readonly=True,
        help="How many times the device raised it while it was open.")
    acknowledged_by = fields.Many2One(
        'res.user', "Acknowledged By", readonly=True)
    acknowledged_at = fields.Timestamp("Acknowledged At", readonly=True)
    closed_by = fields.Many2One('res.user', "Closed By", readonly=True)
    closed_at = fields.Timestamp("Closed At", readonly=True)
    notes = fields.Text(
        "Notes", states={'readonly': Eval('state') == 'closed'},
        help="What was done: calls, visits, outcome.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.device, Index.Equality()),
                    (t.kind, Index.Equality()),
                    where=t.state != 'closed'),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.elder, Index.Equality())),
                Index(t, (t.last_occurrence, Index.Range())),
                })
        cls._order = [
            ('state', 'DESC'), ('priority', 'ASC'),
            ('last_occurrence', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'acknowledged'),
            ('open', 'closed'),
            ('acknowledged', 'closed'),
            }
        cls._buttons.update({
                'acknowledge': {
                    'invisible': Eval('state') != 'open',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') == 'closed',
                    'icon': 'tryton-close',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'open'

    @staticmethod
    def default_repeat_count():
        return 1

    @classmethod
    def get_rec_name(cls, alarms, name):
        "'<kind> <device>': one query for the alarms, the devices' at once"
        Device = Pool().get('device.device')
        kinds = dict(cls.fields_get(['kind'])['kind']['selection'])
        rows = read_columns(cls, [a.id for a in alarms], 'kind', 'device')
        with without_check_access():
            devices = {d.id: d.rec_name for d in Device.browse(
                    list({d for _, d in rows.values()}))}
        return {a.id: '%s %s' % (kinds.get(rows[a.id][0], rows[a.id][0]),
                devices[rows[a.id][1]]) for a in alarms}

    @classmethod
    def _now(cls):
        return dt.datetime.utcnow().replace(microsecond=0)

    @classmethod
    @ModelView.button
    @Workflow.transition('acknowledged')
    def acknowledge(cls, alarms):
        cls.write(alarms, {
                'acknowledged_by': Transaction().user,
                'acknowledged_at': cls._now(),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, alarms):
        for alarm in alarms:
            if not (alarm.notes or '').strip():
                raise DeviceValidationError(gettext(
                        'elder_device.msg_alarm_close_notes',
                        alarm=alarm.rec_name))
        now = cls._now()
        user = Transaction().user
        to_ack = [a for a in alarms if not a.acknowledged_at]
        if to_ack:
            cls.write(to_ack, {'acknowledged_by': user, 'acknowledged_at': now})
        cls.write(alarms, {'closed_by': user, 'closed_at': now})

    @classmethod
    def close_for_death(cls, alarms):
        "Close the alarms of a deceased older person (no user action)"
        now = cls._now()
        note = gettext('elder_device.msg_alarm_closed_death')
        for alarm in alarms:
            cls.write([alarm], {
                    'state': 'closed', 'closed_at': now,
                    'closed_by': Transaction().user or None,
                    'notes': '\n'.join(filter(None, [alarm.notes, note])),
                    })

    # --- raising -------------------------------------------------------

    @classmethod
    @without_check_access
    def raise_signals(cls, signals):
        """Turn (device, rules.Signal, time) into alarms.

        A signal of a kind that already has an alarm open (or acknowledged)
        on the device, whose last occurrence is within the device type's
        repeat window, counts as a repeat of it; any other creates an alarm
        and notifies the on-duty agents. Returns the new alarms."""
        open_alarms = {}
        devices = {d for d, _, _ in signals}
        for alarm in cls.search([
                    ('device', 'in', [d.id for d in devices]),
                    ('state', '!=', 'closed'),
                    ], order=[('last_occurrence', 'ASC')]):
            open_alarms[alarm.device.id, alarm.kind] = alarm
        new_values, repeats = {}, {}
        for device, signal, time in signals:
            window = dt.timedelta(minutes=device.type.dedup_window or 0)
            key = (device.id, signal.kind)
            alarm = open_alarms.get(key)
            if alarm and time - alarm.last_occurrence <= window:
                count, last = repeats.get(alarm, (alarm.repeat_count, time))
                repeats[alarm] = (count + 1, max(last, time))
                continue
            if key in new_values and (
                    time - new_values[key]['last_occurrence'] <= window):
                new_values[key]['repeat_count'] += 1
                new_values[key]['last_occurrence'] = max(
                    time, new_values[key]['last_occurrence'])
                continue
            if key in new_values:
                # Too far apart in one batch: keep the first, start another
                key = key + (time,)
            new_values[key] = {
                'device': device.id,
                'elder': device.elder.id if device.elder else None,
                'region': device.region.id if device.region else None,
                'provider': device.provider.id if device.provider else None,
                'kind': signal.kind,
                'priority': str(signal.priority),
                'description': signal.description,
                'first_occurrence': time,
                'last_occurrence': time,
                'repeat_count': 1,
                }
        for alarm, (count, last) in repeats.items():
            cls.write([alarm], {
                    'repeat_count': count,
                    'last_occurrence': max(last, alarm.last_occurrence),
                    })
        alarms = cls.create(list(new_values.values())) if new_values else []
        if alarms:
            cls.notify_agents(alarms)
        return alarms

    @classmethod
    def on_duty_agents(cls, alarm):
        """The call-center agents to notify for the alarm: active users of
        the agent group whose region scope covers the older person's region.
        A duty roster (elder_callcenter) narrows this by overriding it."""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        regions, region = [], alarm.region
        while region and region.id not in regions:  # the region and above
            regions.append(region.id)
            region = region.parent
        if not regions:
            return []
        return User.search([
                ('groups', '=', ModelData.get_id('elder_base', 'group_agent')),
                ('elder_region', 'in', regions),
                ])

    @classmethod
    @without_check_access
    def notify_agents(cls, alarms):
        """Notify the on-duty agents of new alarms: a res.notification
        (sao's notification menu, pushed over the bus at the commit) and a
        bus pop-up. The text says what the agent needs to act: the older
        person (title), the home address, the emergency contacts with
        their phones and the last position a device reported. The
        disclosure of these personal data is audited."""
        pool = Pool()
        Notification = pool.get('res.notification')
        Event = pool.get('security.audit.event')
        values = []
        for alarm in alarms:
            agents = cls.on_duty_agents(alarm)
            if not agents:
                continue
            title = gettext('elder_device.msg_alarm_title',
                alarm=alarm.rec_name,
                elder=alarm.elder.rec_name if alarm.elder else '')
            body = alarm.notification_body()
            for user in agents:
                values.append({
                        'user': user.id,
                        'label': title,
                        'description': body,
                        'icon': 'tryton-warning',
                        'model': cls.__name__,
                        'records': json.dumps([alarm.id]),
                        })
                # A pop-up in the agent's open clients (PostgreSQL NOTIFY,
                # sent when the transaction commits)
                notify(title, body, priority=int(alarm.priority), user=user.id)
            if alarm.elder:
                Event.log('full_view', object=alarm.elder,
                    field='address,contacts,position', details={
                        'reason': 'alarm notification',
                        'alarm': alarm.id,
                        'users': [u.id for u in agents]})
        if values:
            Notification.create(values)

    def notification_body(self):
        "Address; emergency contacts; last position; the alarm's description"
        unknown = gettext('elder_device.msg_alarm_unknown')
        elder = self.elder
        address, contacts = unknown, unknown
        if elder:
            address = ' '.join(filter(None, [
                        elder.region.rec_name if elder.region else None,
                        elder.address])) or unknown
            people = sorted(elder.contacts, key=lambda c: (
                    not c.is_emergency, not c.is_guardian))
            relationships = dict(
                elder.contacts[0].fields_get(['relationship'])[
                    'relationship']['selection']) if people else {}
            contacts = '，'.join(
                '%s（%s）%s' % (c.name,
                    relationships.get(c.relationship, c.relationship),
                    c.phone or '')
                for c in people[:3]) or unknown
        return gettext('elder_device.msg_alarm_body',
            address=address, contacts=contacts,
            position=self.last_position() or unknown,
            description=self.description or '')

    def last_position(self):
        """'latitude, longitude (local time)' of the latest position any
        device of the older person reported, else None"""
        pool = Pool()
        Telemetry = pool.get('device.telemetry')
        Device = pool.get('device.device')
        if self.elder:
            devices = Device.search([('elder', '=', self.elder.id)])
        else:
            devices = [self.device]
        if not devices:
            return None
        for row in Telemetry.search([
                    ('device', 'in', [d.id for d in devices]),
                    ('kind', 'in', ['position', 'alarm', 'state']),
                    ], order=[('ts', 'DESC'), ('id', 'DESC')], limit=50):
            data = row.values or {}
            latitude, longitude = data.get('latitude'), data.get('longitude')
            if isinstance(latitude, (int, float)) and isinstance(
                    longitude, (int, float)):
                try:
                    from trytond.modules.elder_security.audit import (
                        audit_timezone)
                    zone = audit_timezone()
                except ImportError:
                    zone = dt.timezone.utc
                when = row.ts.replace(tzinfo=dt.timezone.utc).astimezone(
                    zone)
                return gettext('elder_device.msg_alarm_position',
                    latitude='%.5f' % latitude,
                    longitude='%.5f' % longitude,
                    time=when.strftime('%m-%d %H:%M'))
        return None

    @classmethod
    @without_check_access
    def notify_maintainers(cls, devices, note):
        """Tell the maintainers of the devices (their provider
        administrators) that a device needs their attention"""
        pool = Pool()
        User = pool.get('res.user')
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        group = ModelData.get_id('elder_base', 'group_provider_admin')
        values = []
        for device in devices:
            if not device.provider:
                continue
            for user in User.search([
                        ('groups', '=', group),
                        ('elder_provider', '=', device.provider.id),
                        ]):
                values.append({
                        'user': user.id,
                        'label': gettext('elder_device.msg_maintenance_title',
                            device=device.rec_name),
                        'description': note,
                        'model': 'device.device',
                        'records': json.dumps([device.id]),
                        })
        if values:
            Notification.create(values)

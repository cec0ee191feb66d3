# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
import json
from collections import defaultdict

from sql import Conflict

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from . import rules
from .exceptions import DeviceValidationError

CATEGORIES = [
    ('sos_button', "SOS Button"),
    ('watch', "Watch / Bracelet"),
    ('fall_detector', "Fall Detector"),
    ('smoke', "Smoke Sensor"),
    ('gas', "Gas Sensor"),
    ('water_leak', "Water-leak Sensor"),
    ('door', "Door Sensor"),
    ('presence', "Presence Sensor"),
    ('bed', "Bed Sensor"),
    ('blood_pressure', "Blood-pressure Meter"),
    ('glucose', "Glucose Meter"),
    ('gateway', "Gateway"),
    ]
# Categories whose silence means the older person did not move
ACTIVITY_CATEGORIES = {'door', 'presence', 'bed'}
PROTOCOLS = [
    ('mqtt', "MQTT"),
    ('zigbee', "Zigbee"),
    ('nbiot_onenet', "NB-IoT (OneNET)"),
    ('nbiot_ctwing', "NB-IoT (CTWing)"),
    ('ble', "Bluetooth LE"),
    ('lora', "LoRaWAN"),
    ('tcp_watch', "TCP (watch protocol)"),
    ('udp', "UDP"),
    ('http', "HTTP"),
    ]
STATES = [
    ('in_stock', "In Stock"),
    ('installed', "Installed"),
    ('active', "Active"),
    ('fault', "Fault"),
    ('under_repair', "Under Repair"),
    ('retired', "Retired"),
    ]
# States in which the device watches over an older person
SERVICE_STATES = ('installed', 'active', 'fault')
# A device is offline after this many heartbeat intervals without a message
OFFLINE_FACTOR = 2
LIMIT_FIELDS = [
    'heart_rate_min', 'heart_rate_max', 'spo2_min', 'systolic_max',
    'diastolic_max', 'glucose_max', 'inactivity_hours', 'low_battery']


def _limit_fields(help_suffix):
    return {
        'heart_rate_min': fields.Integer(
            "Heart Rate Min", help="Beats per minute" + help_suffix),
        'heart_rate_max': fields.Integer(
            "Heart Rate Max", help="Beats per minute" + help_suffix),
        'spo2_min': fields.Integer("SpO2 Min", help="%" + help_suffix),
        'systolic_max': fields.Integer(
            "Systolic Max", help="mmHg" + help_suffix),
        'diastolic_max': fields.Integer(
            "Diastolic Max", help="mmHg" + help_suffix),
        'glucose_max': fields.Float(
            "Glucose Max", digits=(3, 1), help="mmol/L" + help_suffix),
        'inactivity_hours': fields.Integer(
            "Inactivity Hours",
            help="Raise an alarm when the presence, door and bed sensors "
            "see no activity for this many hours" + help_suffix),
        }


def to_utc(value):
    "Naive UTC datetime (trytond's convention) from an aware or naive one"
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


class DeviceType(DeactivableMixin, ModelSQL, ModelView):
    "Device Type"
    __name__ = 'device.type'
    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, translate=True)
    category = fields.Selection(CATEGORIES, "Category", required=True)
    heartbeat_interval = fields.Integer(
        "Heartbeat Interval", required=True,
        help="Minutes between two messages of a working device; after "
        "twice this without a message the device is offline.")
    dedup_window = fields.Integer(
        "Repeat Window", required=True,
        help="Minutes during which a repeated alarm of the same kind counts "
        "as a repeat of the open alarm instead of a new one.")
    low_battery = fields.Integer(
        "Low Battery", help="Battery level (%) that raises an alarm.")
    locals().update(_limit_fields(" (default for the older people)."))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code), 'elder_device.msg_type_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    @staticmethod
    def default_heartbeat_interval():
        return 60

    @staticmethod
    def default_dedup_window():
        return 10

    @staticmethod
    def default_low_battery():
        return 20


class Device(Workflow, ModelSQL, ModelView):
    "Device"
    __name__ = 'device.device'
    _states = {'readonly': Eval('state') == 'retired'}

    type = fields.Many2One(
        'device.type', "Type", required=True, ondelete='RESTRICT',
        states=_states)
    category = fields.Function(
        fields.Selection(CATEGORIES, "Category"), 'on_change_with_category')
    protocol = fields.Selection(
        PROTOCOLS, "Protocol", required=True, states=_states)
    identifier = fields.Char(
        "Identifier", required=True, strip=True, states=_states,
        help="What the device sends to identify itself: IMEI, devEUI, "
        "serial number, or the Zigbee IEEE address. Unique per protocol.")
    serial_number = fields.Char("Serial Number", strip=True, states=_states)
    sim = fields.Char(
        "SIM", strip=True, states=_states, help="ICCID or number of the SIM.")
    model = fields.Char("Model", states=_states)
    firmware = fields.Char("Firmware", states=_states)
    elder = fields.Many2One(
        'elder.elder', "Older Person", ondelete='RESTRICT',
        states={
            'readonly': ~Eval('state').in_(['in_stock', 'installed']),
            'required': Eval('state').in_(['installed', 'active']),
            })
    region = fields.Many2One(
        'elder.region', "Region", ondelete='RESTRICT', readonly=True,
        help="The region of the older person: it decides who sees the "
        "device and its alarms.")
    place = fields.Char(
        "Place", states=_states,
        help="Where the device is in the home (bedroom, kitchen, …).")
    provider = fields.Many2One(
        'elder.provider', "Maintainer", ondelete='RESTRICT', states=_states,
        help="The provider that installs and maintains the device.")
    installed_date = fields.Date("Installed On", readonly=True)
    state = fields.Selection(STATES, "Status", readonly=True, required=True)
    to_collect = fields.Boolean(
        "To Collect", readonly=True,
        help="The device must be collected from the home (service stopped).")
    last_seen = fields.Timestamp("Last Seen", readonly=True)
    last_activity = fields.Timestamp(
        "Last Activity", readonly=True,
        help="Last time the sensor saw the older person move.")
    battery = fields.Integer("Battery", readonly=True)
    online = fields.Function(
        fields.Boolean("Online"), 'get_online', searcher='search_online')
    offline_alarmed = fields.Boolean("Offline Alarm Raised", readonly=True)
    inactivity_alarmed = fields.Boolean(
        "Inactivity Alarm Raised", readonly=True)
    events = fields.One2Many(
        'device.device.event', 'device', "History", readonly=True)
    note = fields.Text("Note")

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('identifier_uniq', Unique(t, t.protocol, t.identifier),
                'elder_device.msg_device_identifier_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.elder, Index.Equality())),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.provider, Index.Equality())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.last_seen, Index.Range())),
                })
        cls._order = [('identifier', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('in_stock', 'installed'),
            ('installed', 'active'),
            ('installed', 'in_stock'),
            ('installed', 'fault'),
            ('active', 'fault'),
            ('active', 'in_stock'),
            ('fault', 'under_repair'),
            ('fault', 'active'),
            ('under_repair', 'active'),
            ('under_repair', 'in_stock'),
            ('in_stock', 'retired'),
            ('fault', 'retired'),
            ('under_repair', 'retired'),
            }
        cls._buttons.update({
                'install': {
                    'invisible': Eval('state') != 'in_stock',
                    'readonly': ~Eval('elder') | Eval('to_collect', False),
                    'depends': ['state', 'elder', 'to_collect'],
                    },
                'activate': {
                    'invisible': ~Eval('state').in_(
                        ['installed', 'fault', 'under_repair']),
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'report_fault': {
                    'invisible': ~Eval('state').in_(['installed', 'active']),
                    'icon': 'tryton-warning',
                    'depends': ['state'],
                    },
                'repair': {
                    'invisible': Eval('state') != 'fault',
                    'depends': ['state'],
                    },
                'uninstall': {
                    'invisible': ~Eval('state').in_(
                        ['installed', 'active', 'under_repair']),
                    'depends': ['state'],
                    },
                'collect': {
                    'invisible': ~Eval('to_collect', False),
                    'depends': ['to_collect'],
                    },
                'retire': {
                    'invisible': ~Eval('state').in_(
                        ['in_stock', 'fault', 'under_repair']),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'in_stock'

    @staticmethod
    def default_protocol():
        return 'mqtt'

    @staticmethod
    def default_to_collect():
        return False

    @staticmethod
    def default_offline_alarmed():
        return False

    @staticmethod
    def default_inactivity_alarmed():
        return False

    @fields.depends('type')
    def on_change_with_category(self, name=None):
        return self.type.category if self.type else None

    def get_rec_name(self, name):
        if self.type:
            return '%s %s' % (self.type.rec_name, self.identifier)
        return self.identifier

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith('!') or operator.startswith(
            'not ') else 'OR'
        return [bool_op,
            ('identifier', operator, operand, *extra),
            ('serial_number', operator, operand, *extra),
            ('sim', operator, operand, *extra),
            ]

    @classmethod
    def _now(cls):
        return dt.datetime.utcnow().replace(microsecond=0)

    def get_online(self, name):
        if not self.last_seen or not self.type:
            return False
        limit = dt.timedelta(
            minutes=self.type.heartbeat_interval * OFFLINE_FACTOR)
        return self.last_seen >= self._now() - limit

    @classmethod
    def search_online(cls, name, clause):
        pool = Pool()
        Type = pool.get('device.type')
        _, operator, value = clause
        if operator not in {'=', '!='}:
            return []
        wanted = (operator == '=') == bool(value)
        domain = ['OR']
        now = cls._now()
        for type_ in Type.search([], order=[]):
            domain.append([
                    ('type', '=', type_.id),
                    ('last_seen', '>=', now - dt.timedelta(
                            minutes=type_.heartbeat_interval
                            * OFFLINE_FACTOR)),
                    ])
        if len(domain) == 1:
            domain = [('id', '=', -1)]
        if wanted:
            return domain
        return [('id', 'not in', [d.id for d in cls.search(domain)])]

    @fields.depends('elder')
    def on_change_elder(self):
        self.region = self.elder.region if self.elder else None

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Elder = pool.get('elder.elder')
        values = super().preprocess_values(mode, values)
        if values.get('protocol') in {'lora'} and values.get('identifier'):
            # devEUI: hexadecimal, ChirpStack sends it in lower case
            values['identifier'] = values['identifier'].lower()
        if 'elder' in values:
            values['region'] = (
                Elder(values['elder']).region.id if values['elder'] else None)
        return values

    @classmethod
    def copy(cls, devices, default=None):
        default = default.copy() if default is not None else {}
        for name in ['identifier', 'serial_number', 'sim', 'elder',
                'installed_date', 'last_seen', 'last_activity', 'battery',
                'events']:
            default.setdefault(name, None)
        default.setdefault('to_collect', False)
        return super().copy(devices, default=default)

    @classmethod
    @without_check_access
    def log_event(cls, devices, to_state, note=None):
        "Record who moved the devices to which state, when and why"
        pool = Pool()
        Event = pool.get('device.device.event')
        user = Transaction().user or None
        now = cls._now()
        Event.create([{
                    'device': d.id,
                    'date': now,
                    'user': user,
                    'from_state': d.state,
                    'to_state': to_state,
                    'note': note,
                    } for d in devices])

    @classmethod
    @ModelView.button
    @Workflow.transition('installed')
    def install(cls, devices):
        pool = Pool()
        Date = pool.get('ir.date')
        for device in devices:
            if not device.elder:
                raise DeviceValidationError(gettext(
                        'elder_device.msg_device_install_no_elder',
                        device=device.rec_name))
            if device.elder.state != 'active':
                raise DeviceValidationError(gettext(
                        'elder_device.msg_device_install_inactive_elder',
                        device=device.rec_name, elder=device.elder.rec_name))
        cls.log_event(devices, 'installed')
        cls.write(devices, {'installed_date': Date.today()})

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, devices):
        cls.log_event(devices, 'active')

    @classmethod
    @ModelView.button
    @Workflow.transition('fault')
    def report_fault(cls, devices):
        cls.log_event(devices, 'fault')

    @classmethod
    @ModelView.button
    @Workflow.transition('under_repair')
    def repair(cls, devices):
        cls.log_event(devices, 'under_repair')

    @classmethod
    @ModelView.button
    @Workflow.transition('in_stock')
    def uninstall(cls, devices):
        cls.log_event(devices, 'in_stock')
        cls.write(devices, {
                'elder': None, 'region': None, 'installed_date': None})

    @classmethod
    @ModelView.button
    @Workflow.transition('retired')
    def retire(cls, devices):
        cls.log_event(devices, 'retired')

    @classmethod
    @ModelView.button
    def collect(cls, devices):
        "The device was collected from the home of a deceased older person"
        devices = [d for d in devices if d.to_collect]
        cls.log_event(devices, 'in_stock', gettext('elder_device.msg_collected'))
        cls.write(devices, {
                'to_collect': False, 'elder': None, 'region': None,
                'installed_date': None})

    @classmethod
    def stop_for_death(cls, devices, date):
        """Stop the devices of a deceased older person (§7.3.4): back to stock
        pending collection (the elder stays so the maintainer knows where),
        the event log says why and the maintainer is notified."""
        pool = Pool()
        Alarm = pool.get('device.alarm')
        note = gettext('elder_device.msg_stopped_death', date=date)
        cls.log_event(devices, 'in_stock', note)
        # Not a Workflow transition: from any state but retired
        cls.write(devices, {'state': 'in_stock', 'to_collect': True})
        Alarm.notify_maintainers(devices, note)

    # --- ingestion -----------------------------------------------------

    @classmethod
    def ingest(cls, events):
        """Store normalised events and raise their alarms, idempotently.

        events: dicts with protocol, device_key, time (datetime), kind,
        values (dict), raw (str) and message_id. Returns one status per
        event: 'new', 'duplicate' (device + message id already stored) or
        'unknown_device'. Runs in the caller's transaction; the caller
        commits (and only then acknowledges the messages)."""
        pool = Pool()
        Telemetry = pool.get('device.telemetry')
        Alarm = pool.get('device.alarm')
        Threshold = pool.get('device.threshold')
        transaction = Transaction()
        cursor = transaction.connection.cursor()

        statuses = [None] * len(events)
        by_key = {}
        identifiers = sorted({
                str(e['device_key']) for e in events if e.get('device_key')})
        for i in range(0, len(identifiers), 1000):
            sub = identifiers[i:i + 1000]
            for device in cls.search([('identifier', 'in', sub)], order=[]):
                by_key[device.protocol, device.identifier] = device

        rows, pending = [], []
        now = cls._now()
        for i, event in enumerate(events):
            device = by_key.get((event.get('protocol'), event.get('device_key')))
            if device is None:
                statuses[i] = 'unknown_device'
                continue
            time = to_utc(event.get('time')) or now
            event['time'] = time
            raw = event.get('raw')
            if isinstance(raw, bytes):
                raw = raw.decode('utf-8', 'replace')
            elif raw is not None and not isinstance(raw, str):
                raw = json.dumps(raw, ensure_ascii=False)
            rows.append([
                    device.id, time, event.get('kind') or 'state',
                    json.dumps(event.get('values') or {},
                        ensure_ascii=False, default=str),
                    raw, str(event['message_id']), 0, now])
            pending.append((i, device))

        inserted = set()
        table = Telemetry.__table__()
        for start in range(0, len(rows), 500):
            chunk = rows[start:start + 500]
            cursor.execute(*table.insert(
                    [table.device, table.ts, table.kind, table.values,
                        table.raw, table.message_id, table.create_uid,
                        table.create_date],
                    chunk,
                    on_conflict=Conflict(
                        table, indexed_columns=[
                            table.device, table.message_id]),
                    returning=[table.device, table.message_id]))
            inserted.update(tuple(r) for r in cursor)

        new_by_device = defaultdict(list)
        for i, device in pending:
            key = (device.id, str(events[i]['message_id']))
            if key in inserted:
                inserted.discard(key)  # a 2nd copy in the batch: duplicate
                statuses[i] = 'new'
                new_by_device[device].append(events[i])
            else:
                statuses[i] = 'duplicate'

        # One write for the whole batch: a write per device empties the
        # record cache and made every next device reload the whole batch
        # (cost growing with the square of the devices in a batch).
        # In id order, so that concurrent bridge workers lock device rows in
        # the same order and do not deadlock.
        writes = []
        for device, device_events in sorted(
                new_by_device.items(), key=lambda item: item[0].id):
            device_events.sort(key=lambda e: e['time'])
            values = device._values_from_events(device_events)
            if values:
                writes.extend(([device], values))
        if writes:
            cls.write(*writes)
        signals = []
        serving = [d for d in new_by_device
            if d.state in SERVICE_STATES and not d.to_collect]
        limits_of = Threshold.limits_for_devices(serving)
        for device in serving:
            limits = limits_of[device]
            for event in new_by_device[device]:
                for signal in rules.evaluate(event, limits):
                    signals.append((device, signal, event['time']))
        if signals:
            Alarm.raise_signals(signals)
        return statuses

    def _values_from_events(self, events):
        "The device values that the events (in time order) update"
        values = {}
        messages = [e for e in events if e.get('kind') != 'availability']
        if messages:
            last = max(e['time'] for e in messages)
            if not self.last_seen or last > self.last_seen:
                values['last_seen'] = last
                values['offline_alarmed'] = False
        for event in events:
            data = event.get('values') or {}
            battery = data.get('battery')
            if isinstance(battery, (int, float)) and not isinstance(
                    battery, bool):
                values['battery'] = int(battery)
            if rules._true(data.get('occupancy')) or rules._true(
                    data.get('motion')) or 'contact' in data or (
                    event.get('kind') in {'activity', 'vitals'}):
                if not self.last_activity or event['time'] > self.last_activity:
                    values['last_activity'] = event['time']
                    values['inactivity_alarmed'] = False
        return values

    # --- schedules -----------------------------------------------------

    @classmethod
    def check_connections(cls):
        """Raise offline alarms for devices silent for too long, and
        inactivity alarms for activity sensors that saw no movement."""
        pool = Pool()
        Type = pool.get('device.type')
        Alarm = pool.get('device.alarm')
        Threshold = pool.get('device.threshold')
        now = cls._now()
        signals, offline, inactive = [], [], []
        for type_ in Type.search([]):
            limit = now - dt.timedelta(
                minutes=type_.heartbeat_interval * OFFLINE_FACTOR)
            for device in cls.search([
                        ('type', '=', type_.id),
                        ('state', 'in', SERVICE_STATES),
                        ('to_collect', '=', False),
                        ('offline_alarmed', '=', False),
                        ('last_seen', '<', limit),
                        ]):
                offline.append(device)
                signals.append((device, rules.Signal(
                            'offline', rules.NORMAL,
                            'last seen %s UTC' % device.last_seen), now))
        for device in cls.search([
                    ('type.category', 'in', list(ACTIVITY_CATEGORIES)),
                    ('state', 'in', SERVICE_STATES),
                    ('to_collect', '=', False),
                    ('elder', '!=', None),
                    ('inactivity_alarmed', '=', False),
                    ('last_activity', '<', now - dt.timedelta(hours=1)),
                    ]):
            hours = Threshold.limits_for(device)['inactivity_hours']
            if hours and device.last_activity < now - dt.timedelta(
                    hours=hours):
                inactive.append(device)
                signals.append((device, rules.Signal(
                            'inactivity', rules.HIGH,
                            'no activity for %s h' % hours), now))
        if offline:
            cls.write(offline, {'offline_alarmed': True})
        if inactive:
            cls.write(inactive, {'inactivity_alarmed': True})
        if signals:
            Alarm.raise_signals(signals)


class DeviceEvent(ModelSQL, ModelView):
    "Device History"
    __name__ = 'device.device.event'
    device = fields.Many2One(
        'device.device', "Device", required=True, ondelete='CASCADE',
        readonly=True)
    date = fields.Timestamp("Date", required=True, readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)
    from_state = fields.Selection(STATES, "From", readonly=True)
    to_state = fields.Selection(STATES, "To", readonly=True)
    note = fields.Text("Note", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.device, Index.Equality())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]


class Threshold(ModelSQL, ModelView):
    "Alarm Thresholds of an Older Person"
    __name__ = 'device.threshold'
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='CASCADE')
    region = fields.Function(
        fields.Many2One('elder.region', "Region"), 'get_region',
        searcher='search_region')
    locals().update(_limit_fields(
            " (empty: the default of the device type)."))
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('elder_uniq', Unique(t, t.elder),
                'elder_device.msg_threshold_elder_unique'),
            ]

    def get_rec_name(self, name):
        return self.elder.rec_name

    def get_region(self, name):
        return self.elder.region.id if self.elder.region else None

    @classmethod
    def search_region(cls, name, clause):
        return [('elder.region',) + tuple(clause[1:])]

    @classmethod
    def validate_fields(cls, thresholds, field_names):
        super().validate_fields(thresholds, field_names)
        for threshold in thresholds:
            for low, high in [('heart_rate_min', 'heart_rate_max')]:
                lv, hv = getattr(threshold, low), getattr(threshold, high)
                if lv is not None and hv is not None and lv >= hv:
                    raise DeviceValidationError(gettext(
                            'elder_device.msg_threshold_range',
                            elder=threshold.elder.rec_name))
            if threshold.spo2_min is not None and not (
                    0 < threshold.spo2_min <= 100):
                raise DeviceValidationError(gettext(
                        'elder_device.msg_threshold_spo2',
                        elder=threshold.elder.rec_name))

    @classmethod
    def limits_for(cls, device):
        """The limits that apply to the device: the older person's, else the
        device type's default, else the platform's default"""
        return cls.limits_for_devices([device])[device]

    @classmethod
    def limits_for_devices(cls, devices):
        "limits_for of several devices, with one search for the thresholds"
        elder_ids = {d.elder.id for d in devices if d.elder}
        by_elder = {}
        if elder_ids:
            for threshold in cls.search([('elder', 'in', list(elder_ids))]):
                by_elder.setdefault(threshold.elder.id, threshold)
        result = {}
        for device in devices:
            limits = dict(rules.DEFAULT_LIMITS)
            for name in LIMIT_FIELDS:
                value = getattr(device.type, name, None)
                if value is not None:
                    limits[name] = value
            threshold = by_elder.get(device.elder.id) if device.elder else None
            if threshold:
                for name in LIMIT_FIELDS:
                    value = getattr(threshold, name, None)
                    if value is not None:
                        limits[name] = value
            result[device] = limits
        return result


class Telemetry(ModelSQL, ModelView):
    """Device Telemetry

    Written in bulk by the bridge (Device.ingest), never through the
    client; a device + message id is stored once. The ts column has a BRIN
    index: rows arrive in time order, and a BRIN index stays tiny where a
    B-tree over millions of rows would not."""
    __name__ = 'device.telemetry'
    device = fields.Many2One(
        'device.device', "Device", required=True, ondelete='CASCADE',
        readonly=True)
    ts = fields.Timestamp("Time", required=True, readonly=True)
    kind = fields.Char("Kind", readonly=True)
    values = fields.Dict(None, "Values", readonly=True)
    values_text = fields.Function(fields.Text("Values"), 'get_values_text')
    raw = fields.Text("Raw Payload", readonly=True)
    message_id = fields.Char("Message ID", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('device_message_uniq', Unique(t, t.device, t.message_id),
                'elder_device.msg_telemetry_unique'),
            ]
        cls._order = [('ts', 'DESC'), ('id', 'DESC')]

    @classmethod
    def __register__(cls, module):
        super().__register__(module)
        transaction = Transaction()
        if transaction.database.name and \
                Transaction().database.__class__.__module__.endswith(
                    'postgresql.database'):
            table = cls._table
            cursor = transaction.connection.cursor()
            cursor.execute(
                f'CREATE INDEX IF NOT EXISTS "{table}_ts_brin" '
                f'ON "{table}" USING brin (ts)')

    def get_values_text(self, name):
        return json.dumps(self.values or {}, ensure_ascii=False,
            sort_keys=True)

    @classmethod
    def check_xml_record(cls, records, values):
        return True

# This file is part of the eldercare platform. See LICENSE.
import datetime as dt
import json
from collections import defaultdict, namedtuple

from sql import Conflict

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.modules.elder_base.rec_name import read_columns
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


# The columns of a device that Device.ingest reads (no record instantiated)
_DeviceRow = namedtuple('_DeviceRow', [
        'id', 'protocol', 'identifier', 'state', 'to_collect', 'type',
        'elder'])


# Device.ingest's statements on PostgreSQL (arrays of the batch's rows)
_INSERT_TELEMETRY = (
    'INSERT INTO "device_telemetry" '
    '(device, ts, kind, "values", raw, message_id, create_uid, create_date) '
    'SELECT v.device, v.ts, v.kind, v.vals, v.raw, v.message_id, %s, %s '
    'FROM jsonb_to_recordset(%s::jsonb) AS v (device integer, '
    'ts timestamp, kind varchar, vals jsonb, raw text, message_id varchar) '
    'ON CONFLICT (device, message_id) DO NOTHING '
    'RETURNING device, message_id')
# Commutative: GREATEST, so that the order in which concurrent workers
# commit does not matter; offline / inactivity alarms re-armed when the
# device speaks again
_UPDATE_STATE = (
    'UPDATE "device_device" AS d SET '
    'last_seen = GREATEST(d.last_seen, v.last_seen), '
    'offline_alarmed = CASE WHEN v.last_seen > d.last_seen '
    'OR (d.last_seen IS NULL AND v.last_seen IS NOT NULL) '
    'THEN FALSE ELSE d.offline_alarmed END, '
    'battery = COALESCE(v.battery, d.battery), '
    'last_activity = GREATEST(d.last_activity, v.last_activity), '
    'inactivity_alarmed = CASE WHEN v.last_activity > d.last_activity '
    'OR (d.last_activity IS NULL AND v.last_activity IS NOT NULL) '
    'THEN FALSE ELSE d.inactivity_alarmed END, '
    'write_date = %s, write_uid = %s '
    'FROM jsonb_to_recordset(%s::jsonb) AS v (id integer, '
    'last_seen timestamp, battery integer, last_activity timestamp) '
    'WHERE d.id = v.id')


def _iso(value):
    return value.isoformat() if value is not None else None


def _is_postgresql():
    return Transaction().database.__class__.__module__.endswith(
        'postgresql.database')


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

    @classmethod
    def get_rec_name(cls, devices, name):
        "'<type> <identifier>': one query for the devices, one for the types"
        Type = Pool().get('device.type')
        rows = read_columns(cls, [d.id for d in devices], 'type', 'identifier')
        with without_check_access():
            types = {t.id: t.rec_name for t in Type.browse(
                    list({t for t, _ in rows.values() if t}))}
        return {d.id: ('%s %s' % (types[rows[d.id][0]], rows[d.id][1])
                if rows[d.id][0] else rows[d.id][1]) for d in devices}

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
        commits (and only then acknowledges the messages).

        The hot path of the bridge, so it works on rows, not records: one
        SELECT of the devices, one INSERT … ON CONFLICT DO NOTHING RETURNING
        per 500 rows, one UPDATE … FROM (VALUES …) of the devices' state,
        one search of the thresholds; records are instantiated only for the
        devices that raise a signal (Alarm.raise_signals)."""
        pool = Pool()
        Telemetry = pool.get('device.telemetry')
        Alarm = pool.get('device.alarm')
        Threshold = pool.get('device.threshold')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()

        statuses = [None] * len(events)
        by_key = {}
        identifiers = sorted({
                str(e['device_key']) for e in events if e.get('device_key')})
        for sub in grouped_slice(identifiers, 1000):
            cursor.execute(*table.select(
                    table.id, table.protocol, table.identifier, table.state,
                    table.to_collect, table.type, table.elder,
                    where=table.identifier.in_(list(sub))))
            for row in cursor:
                by_key[row[1], row[2]] = _DeviceRow(*row)

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
            rows.append((device.id, time, event.get('kind') or 'state',
                    event.get('values') or {}, raw, str(event['message_id'])))
            pending.append((i, device))

        inserted = set()
        telemetry = Telemetry.__table__()
        for start in range(0, len(rows), 1000):
            chunk = rows[start:start + 1000]
            if _is_postgresql():
                # The rows as one JSON parameter: a short statement whatever
                # the number of rows (psycopg parses a statement with
                # thousands of placeholders at every call) and one
                # json.dumps instead of adapting every value
                cursor.execute(_INSERT_TELEMETRY, [transaction.user, now,
                        json.dumps([{
                                    'device': r[0], 'ts': r[1].isoformat(),
                                    'kind': r[2], 'vals': r[3], 'raw': r[4],
                                    'message_id': r[5]} for r in chunk],
                            ensure_ascii=False, default=str)])
            else:
                cursor.execute(*telemetry.insert(
                        [telemetry.device, telemetry.ts, telemetry.kind,
                            telemetry.values, telemetry.raw,
                            telemetry.message_id, telemetry.create_uid,
                            telemetry.create_date],
                        [[r[0], r[1], r[2], json.dumps(r[3],
                                        ensure_ascii=False, default=str),
                                r[4], r[5], transaction.user, now]
                            for r in chunk],
                        on_conflict=Conflict(
                            telemetry, indexed_columns=[
                                telemetry.device, telemetry.message_id]),
                        returning=[telemetry.device, telemetry.message_id]))
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
        if not new_by_device:
            return statuses

        for device_events in new_by_device.values():
            device_events.sort(key=lambda e: e['time'])

        serving = [d for d in new_by_device
            if d.state in SERVICE_STATES and not d.to_collect]
        limits_of = Threshold.limits_for_keys(
            {(d.type, d.elder) for d in serving})
        signals = []
        for device in serving:
            limits = limits_of[device.type, device.elder]
            for event in new_by_device[device]:
                for signal in rules.evaluate(event, limits):
                    signals.append((device.id, signal, event['time']))
        if signals:
            records = {d.id: d for d in cls.browse(
                    sorted({d for d, _, _ in signals}))}
            Alarm.raise_signals(
                [(records[d], s, t) for d, s, t in signals])
        # Last: the device rows stay locked until the commit, so that
        # concurrent workers wait on each other as little as possible
        cls._update_state(new_by_device)
        return statuses

    @staticmethod
    def _state_from_events(events):
        """The state the events (in time order) give their device: last
        message, battery and activity times; None when they say nothing"""
        state = {'last_seen': None, 'battery': None, 'last_activity': None}
        for event in events:
            data = event.get('values') or {}
            if event.get('kind') != 'availability':
                state['last_seen'] = max(
                    filter(None, [state['last_seen'], event['time']]))
            battery = data.get('battery')
            if isinstance(battery, (int, float)) and not isinstance(
                    battery, bool):
                state['battery'] = int(battery)
            if rules._true(data.get('occupancy')) or rules._true(
                    data.get('motion')) or 'contact' in data or (
                    event.get('kind') in {'activity', 'vitals'}):
                state['last_activity'] = max(
                    filter(None, [state['last_activity'], event['time']]))
        return state

    @classmethod
    def _update_state(cls, events_by_device):
        """Write the devices' last_seen, battery and last_activity from
        their new events. On PostgreSQL one UPDATE … FROM (VALUES …), in id
        order (concurrent bridge workers lock the rows in the same order)
        and commutative (GREATEST: the result does not depend on which
        worker commits first); an offline / inactivity alarm is re-armed
        when the device speaks again."""
        transaction = Transaction()
        states = sorted(
            (d.id, cls._state_from_events(e))
            for d, e in events_by_device.items())
        states = [(i, s) for i, s in states if any(
                v is not None for v in s.values())]
        if not states:
            return
        if not _is_postgresql():
            cls._update_state_orm(states)
            return
        cursor = transaction.connection.cursor()
        now = cls._now()
        for chunk in grouped_slice(states, 1000):
            chunk = list(chunk)
            cursor.execute(_UPDATE_STATE, [now, transaction.user,
                    json.dumps([{
                                'id': i,
                                'last_seen': _iso(s['last_seen']),
                                'battery': s['battery'],
                                'last_activity': _iso(s['last_activity']),
                                } for i, s in chunk])])
        # as ModelStorage.write does: the records instantiated before must
        # not keep the old values
        transaction.counter += 1
        for cache in transaction.cache.values():
            if cls.__name__ in cache:
                for device_id, _ in states:
                    cache[cls.__name__].pop(device_id, None)

    @classmethod
    def _update_state_orm(cls, states):
        "_update_state through the ORM (databases other than PostgreSQL)"
        devices = {d.id: d for d in cls.browse([i for i, _ in states])}
        writes = []
        for device_id, state in states:
            device = devices[device_id]
            values = {}
            if state['last_seen'] and (not device.last_seen
                    or state['last_seen'] > device.last_seen):
                values.update(last_seen=state['last_seen'],
                    offline_alarmed=False)
            if state['battery'] is not None:
                values['battery'] = state['battery']
            if state['last_activity'] and (not device.last_activity
                    or state['last_activity'] > device.last_activity):
                values.update(last_activity=state['last_activity'],
                    inactivity_alarmed=False)
            if values:
                writes.extend(([device], values))
        if writes:
            cls.write(*writes)

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
        keys = {d: (d.type.id, d.elder.id if d.elder else None)
            for d in devices}
        limits = cls.limits_for_keys(set(keys.values()))
        return {d: limits[k] for d, k in keys.items()}

    @classmethod
    def limits_for_keys(cls, keys):
        """The limits of (device type id, older person id or None) pairs:
        the older person's thresholds, else the type's defaults, else the
        platform's. One read of the types and one of the thresholds."""
        pool = Pool()
        Type = pool.get('device.type')
        keys = set(keys)
        type_ids = sorted({t for t, _ in keys if t is not None})
        elder_ids = sorted({e for _, e in keys if e is not None})
        types = {r['id']: r for r in Type.read(type_ids,
                [f for f in LIMIT_FIELDS if f in Type._fields])} \
            if type_ids else {}
        by_elder = {}
        for sub in grouped_slice(elder_ids, 1000):
            for threshold in cls.search_read(
                    [('elder', 'in', list(sub))],
                    order=[('id', 'ASC')], fields_names=['elder']
                    + [f for f in LIMIT_FIELDS if f in cls._fields]):
                by_elder.setdefault(threshold['elder'], threshold)
        result = {}
        for type_id, elder_id in keys:
            limits = dict(rules.DEFAULT_LIMITS)
            for source in [types.get(type_id), by_elder.get(elder_id)]:
                for name in LIMIT_FIELDS:
                    value = (source or {}).get(name)
                    if value is not None:
                        limits[name] = value
            result[type_id, elder_id] = limits
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

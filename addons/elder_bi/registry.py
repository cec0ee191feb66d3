# This file is part of the eldercare platform. See LICENSE.
"""The tables that the analytics store keeps, declared in one registry.

A ``SyncTable`` names a Tryton model, the ClickHouse table that mirrors it
and its columns: ClickHouse name, ClickHouse type and the PostgreSQL
expression over the model's table (alias ``t``) and optional joins. The sync
engine (sync.py) knows nothing of any table: it reads the registry.

A table is synced only when its model is in the pool of the database (the
module that defines it is activated) and its source columns exist; so
elder_bi depends on elder_base alone and lists the other modules as
``extras_depend``. A module — landed or to come — adds its tables with
``register(SyncTable(...))`` (from its own code, inside a ``try: import``
since nothing depends on elder_bi), without touching the engine.

Personal data: the store keeps ids, codes, states, dates and amounts, never
names, ID numbers, phones, addresses or health texts (those stay encrypted in
PostgreSQL); figures link back to the records in the web client, where the
access and record rules apply.

Watermarks (see sync.py):
``updated``  ``COALESCE(write_date, create_date)``; the row's version is that
             time in microseconds, so a later change replaces the row
             (ReplacingMergeTree); deletes arrive as tombstones.
``id``       append-only tables (telemetry): the watermark is the highest
             id in the store.

``stream=True`` (telemetry): an ``AFTER INSERT`` statement trigger sends
``NOTIFY elder_bi_sync, '<table>'`` and the analytics service syncs the
table within about a second instead of waiting for its poll.

A column with ``materialized`` (``from_json``) is computed by the store on
insert, e.g. ``heart_rate`` from ``payload.heart_rate``: the queries read a
typed column, not a path of the dynamic JSON.
"""
from dataclasses import dataclass, field

UPDATED = 'COALESCE(t.write_date, t.create_date)'


@dataclass
class Column:
    name: str
    type: str
    source: str
    # a ClickHouse expression: the column is computed by the store on insert
    # (MATERIALIZED, e.g. a typed copy of a JSON path), not read from
    # PostgreSQL
    materialized: str = ''


@dataclass
class SyncTable:
    name: str            # ClickHouse table
    model: str           # Tryton model (must be in the pool)
    table: str           # PostgreSQL table of the model
    columns: list
    joins: str = ''
    watermark: str = 'updated'   # or 'id'
    order_by: str = 'id'
    partition_by: str = ''
    shard_key: str = 'id'   # cluster: Distributed sharding expression
    deletes: bool = True     # tombstones by trigger
    stream: bool = False     # NOTIFY on insert: synced within a second
    batch: int = 20000
    description: str = ''
    source_columns: list = field(default_factory=list)  # checked to exist

    def synced_columns(self):
        "The columns read from PostgreSQL (not computed by the store)"
        return [c for c in self.columns if not c.materialized]

    def select_sql(self):
        cols = ', '.join(
            '%s AS "%s"' % (c.source, c.name) for c in self.synced_columns())
        return cols


def C(name, type_, source=None):
    return Column(name, type_, source or 't."%s"' % name)


def ts(name, source=None):
    return C(name, "Nullable(DateTime64(6, 'UTC'))", source)


def money(name, source=None):
    return C(name, 'Nullable(Decimal(16, 2))', source)


def ref(name, source=None):
    return C(name, 'Nullable(UInt32)', source)


def text(name, source=None):
    return C(name, 'Nullable(String)', source)


def low(name, source=None):
    return C(name, 'LowCardinality(Nullable(String))', source)


def from_json(name, column='payload', type_='Float32'):
    """A typed copy of a hot path of a JSON column, computed by the store
    on insert (NULL when the value is missing or not a number): read as a
    plain column instead of a path of the dynamic JSON"""
    return Column(name, 'Nullable(%s)' % type_, None,
        materialized="accurateCastOrNull(%s.%s, '%s')" % (
            column, name, type_))


# The telemetry values that the supervision queries read (elder_device's
# vitals rule and the device state)
HOT_TELEMETRY = ['heart_rate', 'spo2', 'systolic', 'diastolic', 'glucose',
    'battery']

TABLES = {}


def register(table):
    "Add (or replace) a table of the store"
    TABLES[table.name] = table
    return table


# --- elder_base ------------------------------------------------------------
register(SyncTable('regions', 'elder.region', 'elder_region', [
            C('code', 'String'), C('name', 'String'), low('level'),
            ref('parent'), C('path', 'String', "COALESCE(t.path, '')"),
            C('active', 'UInt8', 'COALESCE(t.active, FALSE)::int'),
            ], description="行政区划"))
register(SyncTable('categories', 'elder.category', 'elder_category', [
            C('code', 'String'), C('name', 'String'),
            ], description="老年人类别"))
register(SyncTable('elders', 'elder.elder', 'elder_elder', [
            ref('region'), low('state'), low('sex'),
            C('birth_date', 'Nullable(Date32)'), low('living_situation'),
            C('death_date', 'Nullable(Date32)'),
            ts('created', 't.create_date'),
            ], shard_key='id', description="老年人（无身份信息）"))
register(SyncTable('elder_categories', 'elder.elder-elder.category',
        '"elder_elder-elder_category"', [
            ref('elder'), ref('category'),
            ], shard_key='elder', description="老年人类别关系"))
register(SyncTable('providers', 'elder.provider', 'elder_provider', [
            C('code', 'Nullable(String)'), C('name', 'String'),
            ref('region'), low('state'),
            ], description="服务机构"))
register(SyncTable('attachments', 'ir.attachment', 'ir_attachment', [
            low('resource_model', "split_part(t.resource, ',', 1)"),
            C('resource_id', 'Nullable(UInt32)',
                "NULLIF(split_part(t.resource, ',', 2), '')::int"),
            C('name', 'String'), low('type'),
            text('file_id'), text('link'), ts('created', 't.create_date'),
            ], description="非结构化证据（照片、录音）的元数据"))

# --- elder_service -----------------------------------------------------------
register(SyncTable('orders', 'service.order', 'service_order', [
            C('number', 'Nullable(String)'), ref('elder'), ref('provider'),
            ref('item'), ref('service_type', 'i.service_type'),
            ref('practitioner'), low('channel'), low('state'),
            C('requested_date', 'Nullable(Date32)'),
            ts('dispatched_at'), ts('checkin_time'), ts('checkout_time'),
            C('duration', 'Nullable(Int32)'),
            C('flagged', 'UInt8', 'COALESCE(t.flagged, FALSE)::int'),
            C('rating', 'Nullable(Int16)'),
            money('price'), money('quantity'),
            ts('created', 't.create_date'),
            ], joins='LEFT JOIN service_item i ON i.id = t.item',
        shard_key='elder', description="服务工单"))
register(SyncTable('service_types', 'elder.service.type',
        'elder_service_type', [
            C('code', 'String'), C('name', 'String'),
            ], description="服务类型"))

# --- elder_device --------------------------------------------------------------
register(SyncTable('devices', 'device.device', 'device_device', [
            ref('type'), low('category', 'dt.category'), ref('elder'),
            ref('region'), ref('provider'), low('state'), low('protocol'),
            ts('last_seen'), C('battery', 'Nullable(Int16)'),
            C('heartbeat_minutes', 'Nullable(Int32)',
                'dt.heartbeat_interval'),
            ], joins='LEFT JOIN device_type dt ON dt.id = t.type',
        description="智能设备"))
register(SyncTable('telemetry', 'device.telemetry', 'device_telemetry', [
            C('device', 'UInt32'), C('ts', "DateTime64(6, 'UTC')"), low('kind'),
            C('payload', 'JSON', "COALESCE(t.values, '{}'::jsonb)::text"),
            text('raw'), text('message_id'),
            ] + [from_json(n) for n in HOT_TELEMETRY],
        watermark='id', order_by='(device, ts, id)',
        partition_by='toYYYYMM(ts)', shard_key='device', deletes=False,
        stream=True, batch=50000,
        description="设备遥测（原始报文为 JSON）"))
register(SyncTable('alarms', 'device.alarm', 'device_alarm', [
            ref('device'), ref('elder'), ref('region'), ref('provider'),
            low('kind'), low('priority'), low('state'),
            ts('first_occurrence'), ts('last_occurrence'),
            ts('acknowledged_at'), ts('closed_at'),
            C('repeat_count', 'Nullable(Int32)'),
            ], shard_key='elder', description="设备告警"))

# --- elder_callcenter ------------------------------------------------------------
register(SyncTable('calls', 'call.call', 'call_call', [
            low('source'), low('direction'), low('state'), low('outcome'),
            ref('region'), ref('elder'), ref('agent'), ref('queue'),
            ts('offered_at'), ts('answer_at'), ts('end_at'),
            C('wait_seconds', 'Nullable(Float64)'),
            C('talk_seconds', 'Nullable(Float64)'),
            low('anomaly'), text('recording'),
            ], description="呼叫记录（录音以引用保存）"))
register(SyncTable('alarm_handlings', 'call.alarm.handling',
        'call_alarm_handling', [
            ref('alarm'), ref('elder'), ref('region'), low('kind'),
            low('priority'), low('state'), ts('raised_at'),
            ts('sla_deadline'), ts('accepted_at'), ts('first_contact_at'),
            ts('dispatched_at'), ts('closed_at'), low('outcome'),
            ], description="告警处置"))

# --- elder_assess ------------------------------------------------------------------
register(SyncTable('assessments', 'elder.assessment', 'elder_assessment', [
            ref('elder'), low('state'), low('level'),
            C('total', 'Nullable(Int32)'),
            C('assessment_date', 'Nullable(Date32)'),
            C('effective_date', 'Nullable(Date32)'),
            ], shard_key='elder', description="能力评估"))
register(SyncTable('entitlements', 'elder.entitlement', 'elder_entitlement', [
            ref('elder'), ref('policy'), low('benefit'), low('state'),
            low('level'), money('monthly_amount'), money('monthly_hours'),
            C('start_date', 'Nullable(Date32)'),
            C('end_date', 'Nullable(Date32)'),
            ], shard_key='elder', description="待遇资格"))

# --- elder_settlement ----------------------------------------------------------------
register(SyncTable('settlement_lines', 'settlement.line', 'settlement_line', [
            ref('order', 't."order"'), ref('elder'), ref('provider'),
            ref('region'), ref('district'), ref('service_type'),
            C('service_date', 'Nullable(Date32)'),
            C('service_month', 'Nullable(Date32)'),
            money('amount'), money('subsidy_amount'),
            money('self_pay_amount'), low('state'),
            ], shard_key='elder', description="结算明细（补贴资金）"))
register(SyncTable('budgets', 'settlement.budget', 'settlement_budget', [
            ref('region'), C('year', 'Int32'), money('amount'),
            ], description="补贴预算"))
register(SyncTable('evaluations', 'provider.evaluation',
        'provider_evaluation', [
            ref('campaign'), ref('provider'),
            C('start_date', 'Nullable(Date32)', 'c.start_date'),
            C('end_date', 'Nullable(Date32)', 'c.end_date'),
            C('visits', 'Nullable(Int32)'), C('on_time', 'Nullable(Int32)'),
            C('complaints', 'Nullable(Int32)'),
            C('rating', 'Nullable(Decimal(5, 2))'),
            C('score', 'Nullable(Decimal(7, 2))'),
            C('rank', 'Nullable(Int32)'), text('grade', 'g.code'),
            ], joins='LEFT JOIN provider_evaluation_campaign c '
        'ON c.id = t.campaign LEFT JOIN provider_evaluation_grade g '
        'ON g.id = t.grade', description="服务机构考核评价"))

# --- modules still being built: synced when they are activated ------------------------
register(SyncTable('meal_orders', 'meal.order', 'meal_order', [
            ref('elder'), ref('region'), ref('point'),
            C('date', 'Nullable(Date32)'), low('state'), low('service_mode'),
            money('price'), money('subsidy_amount'), ts('served_at'),
            ], shard_key='elder', description="助餐订单"))
register(SyncTable('beds', 'bed.bed', 'bed_bed', [
            ref('elder'), ref('region'), ref('provider'), low('state'),
            low('level'), C('live_date', 'Nullable(Date32)'),
            C('end_date', 'Nullable(Date32)'),
            ], shard_key='elder', description="家庭养老床位"))
register(SyncTable('renovations', 'renovation.project',
        'renovation_project', [
            ref('elder'), ref('region'), ref('provider'), low('state'),
            money('amount', 't.total_amount'),
            ], shard_key='elder', description="居家适老化改造"))

# This file is part of the eldercare platform. See LICENSE.
"Service orders (服务工单): from the request to the closed, rated visit."
import datetime as dt
import json
from decimal import Decimal

from sql import Null
from sql.functions import CurrentTimestamp

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.model.fields import SQL_OPERATORS
from trytond.modules.elder_base.elder import encrypted
from trytond.modules.elder_base.rec_name import read_columns
from trytond.modules.elder_security.crypto import IN_MAX, EncryptedMixin
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .dispatch import explain, facts
from .exceptions import AssignError, DispatchError, OrderValidationError, \
    VisitError
from .geo import has_position, haversine

STATES = [
    ('draft', "Draft"),
    ('submitted', "Submitted"),
    ('dispatched', "Dispatched"),
    ('accepted', "Accepted"),
    ('on_the_way', "On the Way"),
    ('in_service', "In Service"),
    ('completed', "Completed"),
    ('confirmed', "Confirmed"),
    ('closed', "Closed"),
    ('cancelled', "Cancelled"),
    ]
CHANNELS = [
    ('call_center', "Call center"),
    ('family', "Family / mini program"),
    ('provider', "Provider"),
    ('plan', "Service plan"),
    ]
ACTIONS = [
    ('submit', "Submit"),
    ('dispatch', "Dispatch"),
    ('dispatch_failed', "No provider found"),
    ('reject', "Reject"),
    ('timeout', "Acceptance timeout"),
    ('accept', "Accept"),
    ('assign', "Assign"),
    ('reassign', "Reassign"),
    ('depart', "On the way"),
    ('checkin', "Check-in"),
    ('checkout', "Check-out"),
    ('confirm', "Confirm"),
    ('close', "Close"),
    ('cancel', "Cancel"),
    ('review', "Review anomalies"),
    ]
ANOMALIES = [
    ('geofence', "Outside the geofence"),
    ('no_reference', "No reference position"),
    ('double_checkin', "Double check-in"),
    ('short_duration', "Duration far below standard"),
    ('overlap', "Overlapping visits"),
    ('travel', "Impossible travel"),
    ('missing_evidence', "Missing evidence"),
    ('steps_missing', "Required steps not done"),
    ('face', "Face verification failed"),
    ]
CANCELLABLE = ['draft', 'submitted', 'dispatched', 'accepted', 'on_the_way']
DONE_STATES = ['completed', 'confirmed', 'closed', 'cancelled']


def _now():
    return dt.datetime.now().replace(microsecond=0)


class Order(EncryptedMixin, Workflow, ModelSQL, ModelView):
    "Service order (服务工单)"
    __name__ = 'service.order'
    _sensitivity = {'request_key': 'internal'}
    # The address and the visit positions are personal data (precise
    # location): stored encrypted like the older person's (elder_security).
    _encrypted_fields = {
        'address': None,
        'checkin_latitude': None,
        'checkin_longitude': None,
        'checkout_latitude': None,
        'checkout_longitude': None,
        }

    _draft = {'readonly': Eval('state') != 'draft'}
    _before_dispatch = {
        'readonly': ~Eval('state').in_(['draft', 'submitted'])}

    number = fields.Char("Number", readonly=True)
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='RESTRICT',
        states=_draft, domain=[('state', '=', 'active')])
    item = fields.Many2One(
        'service.item', "Service Item", required=True, ondelete='RESTRICT',
        states=_draft)
    service_type = fields.Function(
        fields.Many2One('elder.service.type', "Service Type"),
        'on_change_with_service_type', searcher='search_service_type')
    channel = fields.Selection(
        CHANNELS, "Channel", required=True, sort=False, states=_draft)
    plan = fields.Many2One(
        'service.plan', "Service Plan", readonly=True, ondelete='RESTRICT')
    requested_date = fields.Date(
        "Requested Date", required=True, states=_before_dispatch)
    time_from = fields.Time("From", states=_before_dispatch)
    time_to = fields.Time(
        "To", states=_before_dispatch,
        domain=[If(Eval('time_from') & Eval('time_to'),
                ('time_to', '>=', Eval('time_from')), ())])
    address = encrypted(fields.Char(
            "Address", states=_before_dispatch,
            help="Copied from the older person's residence when the order "
            "is created."))
    address_enc = fields.Char("Address (Encrypted)", readonly=True)
    note = fields.Text("Note")
    quantity = fields.Numeric(
        "Quantity", digits=(16, 2), required=True,
        domain=[('quantity', '>', 0)], states=_before_dispatch)
    price = fields.Numeric(
        "Unit Price", digits=(16, 2), readonly=True)
    amount = fields.Function(
        fields.Numeric("Amount", digits=(16, 2)), 'get_amount')
    # a copy of the older person's region (kept in step by create, write
    # and elder.elder's write): the record rules and the lists by region
    # filter orders on it without visiting every older person
    region = fields.Many2One(
        'elder.region', "Region", readonly=True, ondelete='RESTRICT')

    provider = fields.Many2One(
        'elder.provider', "Provider", ondelete='RESTRICT',
        states=_before_dispatch,
        help="Set it to dispatch by hand; leave it empty for the automatic "
        "dispatch.")
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", ondelete='RESTRICT',
        domain=[If(Bool(Eval('provider')),
                ('provider', '=', Eval('provider', -1)), ()),
            ('state', '=', 'active')],
        # Continuity of care: who served this older person comes first.
        search_context={'service_elder': Eval('elder', -1)},
        search_order=[('served_count', 'DESC'), ('name', 'ASC')],
        states={
            'readonly': ~Eval('state').in_(
                ['dispatched', 'accepted', 'on_the_way']),
            })
    previous_practitioner = fields.Function(
        fields.Many2One('elder.practitioner', "Proposed Practitioner",
            help="The provider's practitioner who last served the older "
            "person, still active there and qualified for the item: "
            "proposed for continuity of care. Assign takes them when no "
            "practitioner is chosen."),
        'get_previous_practitioner')
    continuity = fields.Function(
        fields.Char("Continuity of Care",
            help="Why the practitioner is proposed."),
        'get_continuity')
    dispatched_at = fields.Timestamp("Dispatched At", readonly=True)
    dispatch_explanation = fields.Text(
        "Dispatch Data", readonly=True,
        help="The automatic dispatch's candidates and scores as JSON.")
    dispatch_summary = fields.Function(
        fields.Text("Dispatch Explanation"), 'get_dispatch_summary')

    checkin_time = fields.Timestamp("Check-in Time", readonly=True)
    checkin_latitude = encrypted(fields.Numeric(
            "Check-in Latitude", digits=(3, 6), readonly=True))
    checkin_latitude_enc = fields.Char(
        "Check-in Latitude (Encrypted)", readonly=True)
    checkin_longitude = encrypted(fields.Numeric(
            "Check-in Longitude", digits=(3, 6), readonly=True))
    checkin_longitude_enc = fields.Char(
        "Check-in Longitude (Encrypted)", readonly=True)
    checkin_accuracy = fields.Float("Check-in Accuracy", readonly=True)
    checkin_distance = fields.Float(
        "Check-in Distance", readonly=True,
        help="Metres from the older person's home.")
    checkout_time = fields.Timestamp("Check-out Time", readonly=True)
    checkout_latitude = encrypted(fields.Numeric(
            "Check-out Latitude", digits=(3, 6), readonly=True))
    checkout_latitude_enc = fields.Char(
        "Check-out Latitude (Encrypted)", readonly=True)
    checkout_longitude = encrypted(fields.Numeric(
            "Check-out Longitude", digits=(3, 6), readonly=True))
    checkout_longitude_enc = fields.Char(
        "Check-out Longitude (Encrypted)", readonly=True)
    checkout_accuracy = fields.Float("Check-out Accuracy", readonly=True)
    checkout_distance = fields.Float("Check-out Distance", readonly=True)
    duration = fields.Integer(
        "Duration", readonly=True, help="Minutes on site.")
    steps = fields.One2Many(
        'service.order.step', 'order', "Steps",
        states={'readonly': Eval('state').in_(DONE_STATES)})
    anomalies = fields.One2Many(
        'service.order.anomaly', 'order', "Anomalies", readonly=True)
    flagged = fields.Boolean(
        "Flagged", readonly=True,
        help="An anomaly of the visit waits for review.")

    rating = fields.Integer(
        "Rating", domain=[If(Eval('rating'),
                [('rating', '>=', 1), ('rating', '<=', 5)], [])],
        states={'readonly': Eval('state') != 'completed'},
        help="1 (very poor) to 5 (very good), given by the older person or "
        "the family.")
    rating_comment = fields.Text(
        "Rating Comment", states={'readonly': Eval('state') != 'completed'})
    confirmed_by = fields.Char("Confirmed By", readonly=True)
    web_user = fields.Many2One(
        'web.user', "Family Account", readonly=True, ondelete='RESTRICT',
        help="The family member's account that placed the order through the "
        "family API (mini program).")
    request_key = fields.Char(
        "Request Key", readonly=True, strip=False,
        help="The family app's idempotency key: a second submission with the "
        "same key returns the first order.")
    cancel_reason = fields.Char(
        "Cancellation Reason",
        states={'readonly': ~Eval('state').in_(CANCELLABLE)})
    events = fields.One2Many(
        'service.order.event', 'order', "History", readonly=True)
    complaints = fields.One2Many(
        'service.complaint', 'order', "Complaints", readonly=True)
    counter = fields.Function(
        fields.Integer("Orders", help="1 for every order: what graphs sum."),
        'get_counter')
    overdue = fields.Function(
        fields.Boolean("Overdue"), 'get_overdue', searcher='search_overdue')
    state = fields.Selection(STATES, "State", readonly=True, required=True,
        sort=False)
    state_string = state.translated('state')
    state_name = fields.Function(
        fields.Char("State", help="The translated state (graphs)."),
        'get_state_name')

    del _draft, _before_dispatch

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('plan_date_uniq', Unique(t, t.plan, t.requested_date),
                'elder_service.msg_order_plan_date_unique'),
            ('web_user_request_uniq',
                Unique(t, t.web_user, t.request_key),
                'elder_service.msg_order_request_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.provider, Index.Range()),
                    (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.practitioner, Index.Range()),
                    (t.requested_date, Index.Range())),
                # a region's orders by date: the record rules' filter of
                # the lists, their counts and the statistics
                Index(t, (t.region, Index.Range()),
                    (t.requested_date, Index.Range())),
                Index(t, (t.region, Index.Range()),
                    (t.state, Index.Equality(cardinality='low')),
                    (t.requested_date, Index.Range())),
                Index(t, (t.elder, Index.Range())),
                Index(t, (t.web_user, Index.Range()),
                    (t.request_key, Index.Equality())),
                Index(t, (t.requested_date, Index.Range())),
                })
        cls._order = [('requested_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'dispatched'),
            ('dispatched', 'submitted'),
            ('dispatched', 'accepted'),
            ('accepted', 'on_the_way'),
            ('on_the_way', 'accepted'),
            ('accepted', 'in_service'),
            ('on_the_way', 'in_service'),
            ('in_service', 'completed'),
            ('completed', 'confirmed'),
            ('completed', 'closed'),
            ('confirmed', 'closed'),
            } | {(s, 'cancelled') for s in CANCELLABLE}
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'dispatch': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'accept': {
                    'invisible': Eval('state') != 'dispatched',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'dispatched',
                    'depends': ['state'],
                    },
                'assign': {
                    'invisible': ~Eval('state').in_(
                        ['accepted', 'on_the_way']),
                    'readonly': ~Eval('practitioner')
                    & ~Eval('previous_practitioner'),
                    'depends': ['state', 'practitioner',
                        'previous_practitioner'],
                    },
                'depart': {
                    'invisible': Eval('state') != 'accepted',
                    'readonly': ~Eval('practitioner'),
                    'depends': ['state', 'practitioner'],
                    },
                'confirm': {
                    'invisible': Eval('state') != 'completed',
                    'readonly': ~Eval('rating'),
                    'depends': ['state', 'rating'],
                    },
                'close': {
                    'invisible': ~Eval('state').in_(
                        ['completed', 'confirmed']),
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(CANCELLABLE),
                    'depends': ['state'],
                    },
                'review': {
                    'invisible': ~Eval('flagged'),
                    'depends': ['flagged'],
                    },
                })
        cls.__rpc__.update({
                'checkin': RPC(readonly=False, instantiate=0),
                'checkout': RPC(readonly=False, instantiate=0),
                })

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_channel():
        return 'call_center'

    @staticmethod
    def default_quantity():
        return Decimal(1)

    @staticmethod
    def default_flagged():
        return False

    @classmethod
    def default_requested_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('item')
    def on_change_with_service_type(self, name=None):
        return self.item.service_type if self.item else None

    @classmethod
    def search_service_type(cls, name, clause):
        return [('item.service_type',) + tuple(clause[1:])]

    @classmethod
    def __register__(cls, module):
        pool = Pool()
        Elder = pool.get('elder.elder')
        super().__register__(module)
        # the region was computed from the older person before it was kept
        table = cls.__table__()
        elder = Elder.__table__()
        Transaction().connection.cursor().execute(*table.update(
                [table.region],
                [elder.select(elder.region, where=elder.id == table.elder)],
                where=table.region == Null))

    @classmethod
    def create(cls, vlist):
        vlist = [v.copy() for v in vlist]
        cls._set_region(vlist)
        return super().create(vlist)

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        args = []
        for orders, values in zip(actions, actions):
            if 'elder' in values:
                values = values.copy()
                cls._set_region([values])
            args.extend((orders, values))
        super().write(*args)

    @classmethod
    def _set_region(cls, vlist):
        "The region of the values' older person, read in one query"
        Elder = Pool().get('elder.elder')
        regions = read_columns(
            Elder, {v['elder'] for v in vlist if v.get('elder')}, 'region')
        for values in vlist:
            if 'elder' in values:
                values['region'] = regions.get(values['elder'], (None,))[0]

    @classmethod
    def update_region(cls, elder_ids):
        "Copy the region of these older people (who moved) to their orders"
        Elder = Pool().get('elder.elder')
        table = cls.__table__()
        elder = Elder.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        order_ids = []
        for sub_ids in grouped_slice(elder_ids, IN_MAX):
            cursor.execute(*table.update([table.region],
                    [elder.select(elder.region,
                            where=elder.id == table.elder)],
                    where=SQL_OPERATORS['in'](table.elder, list(sub_ids)),
                    returning=[table.id]))
            order_ids.extend(r[0] for r in cursor)
        # the orders' cached values are stale now (as ModelSQL.write does)
        transaction.counter += 1
        for cache in transaction.cache.values():
            if cls.__name__ in cache:
                for id_ in order_ids:
                    cache[cls.__name__].pop(id_, None)

    @fields.depends('elder')
    def on_change_elder(self):
        if self.elder:
            self.address = self.elder.address
            self.region = self.elder.region
        else:
            self.region = None

    def get_amount(self, name):
        price = self.price if self.price is not None else (
            self.item.price if self.item else None)
        if price is None or self.quantity is None:
            return None
        return (price * self.quantity).quantize(Decimal('0.01'))

    def _served_before(self):
        """The provider's visits to the older person by practitioners still
        active at the provider and qualified for the item, newest first:
        [(practitioner, checkout time)]"""
        if not self.provider or not self.elder or not self.item:
            return []
        with without_check_access():
            previous = self.search([
                    ('elder', '=', self.elder.id),
                    ('provider', '=', self.provider.id),
                    ('practitioner', '!=', None),
                    ('practitioner.state', '=', 'active'),
                    ('practitioner.provider', '=', self.provider.id),
                    ('state', 'in', ['completed', 'confirmed', 'closed']),
                    ('id', '!=', self.id or -1),
                    ], order=[('checkout_time', 'DESC NULLS LAST'),
                    ('id', 'DESC')])
            return [(o.practitioner, o.checkout_time) for o in previous
                if self.item.qualifies(o.practitioner)]

    def get_previous_practitioner(self, name):
        served = self._served_before()
        return served[0][0].id if served else None

    def get_continuity(self, name):
        served = self._served_before()
        if not served:
            return gettext('elder_service.msg_continuity_none') \
                if self.provider else None
        practitioner, last = served[0]
        visits = sum(1 for p, _ in served if p == practitioner)
        with without_check_access():
            return gettext('elder_service.msg_continuity_proposed',
                practitioner=practitioner.name, visits=visits,
                last=last.strftime('%Y-%m-%d') if last else '—')

    def get_dispatch_summary(self, name):
        return explain(self.dispatch_explanation)

    @classmethod
    def get_state_name(cls, orders, name):
        "state_string of the orders, with one query (graphs read 1000s)"
        field = cls._fields['state']
        selection = field.get_selection(cls, 'state', None)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        names = {}
        for sub_ids in grouped_slice([o.id for o in orders], IN_MAX):
            cursor.execute(*table.select(
                    table.id, table.state,
                    where=SQL_OPERATORS['in'](table.id, list(sub_ids))))
            for id_, state in cursor:
                names[id_] = field.get_selection_string(selection, state)
        return names

    @classmethod
    def get_counter(cls, orders, name):
        return {o.id: 1 for o in orders}

    def get_overdue(self, name):
        today = Pool().get('ir.date').today()
        return (self.state not in DONE_STATES
            and self.requested_date < today)

    @classmethod
    def search_overdue(cls, name, clause):
        today = Pool().get('ir.date').today()
        _, operator, value = clause
        overdue = [('requested_date', '<', today),
            ('state', 'not in', DONE_STATES)]
        if (operator == '=') == bool(value):
            return overdue
        return ['OR', ('requested_date', '>=', today),
            ('state', 'in', DONE_STATES)]

    @classmethod
    def get_rec_name(cls, orders, name):
        "'<number> <older person> <item>', read for all the orders at once"
        pool = Pool()
        Elder = pool.get('elder.elder')
        Item = pool.get('service.item')
        rows = read_columns(
            cls, [o.id for o in orders], 'number', 'elder', 'item')
        with without_check_access():
            elders = {e['id']: e['rec_name'] for e in Elder.read(
                    list({r[1] for r in rows.values()}), ['rec_name'])}
            items = {i['id']: i['name'] for i in Item.read(
                    list({r[2] for r in rows.values()}), ['name'])}
        return {o.id: '%s %s %s' % (
                rows[o.id][0] or '', elders[rows[o.id][1]],
                items[rows[o.id][2]]) for o in orders}

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('number', operator, operand, *extra),
            ('elder.name', operator, operand, *extra),
            ]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        Elder = pool.get('elder.elder')
        Item = pool.get('service.item')
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            if not values.get('number'):
                values['number'] = Sequence(ModelData.get_id(
                        'elder_service', 'sequence_order')).get()
            if values.get('elder') and not values.get('address'):
                with without_check_access():
                    values['address'] = Elder(values['elder']).address
            if values.get('item') and values.get('price') is None:
                values['price'] = Item(values['item']).price
        return values

    @classmethod
    def validate_fields(cls, orders, field_names):
        super().validate_fields(orders, field_names)
        if field_names is None or {'elder', 'item'} & field_names:
            for order in orders:
                if not order.item.offered_in(order.elder.region):
                    raise OrderValidationError(gettext(
                            'elder_service.msg_item_not_offered',
                            item=order.item.rec_name,
                            region=order.elder.region.rec_name))
        if field_names is None or {
                'practitioner', 'provider', 'item'} & field_names:
            for order in orders:
                if order.practitioner:
                    order.check_practitioner()

    def check_practitioner(self):
        practitioner = self.practitioner
        if practitioner.provider != self.provider:
            raise AssignError(gettext(
                    'elder_service.msg_practitioner_other_provider',
                    practitioner=practitioner.rec_name,
                    provider=self.provider.rec_name if self.provider else ''))
        if practitioner.state != 'active':
            raise AssignError(gettext(
                    'elder_service.msg_practitioner_not_active',
                    practitioner=practitioner.rec_name))
        if not self.item.qualifies(practitioner):
            raise AssignError(gettext(
                    'elder_service.msg_practitioner_not_qualified',
                    practitioner=practitioner.rec_name,
                    item=self.item.rec_name))

    @classmethod
    def copy(cls, orders, default=None):
        default = default.copy() if default is not None else {}
        for name in [
                'number', 'plan', 'provider', 'practitioner', 'dispatched_at',
                'dispatch_explanation', 'checkin_time', 'checkin_accuracy',
                'checkin_distance', 'checkout_time', 'checkout_accuracy',
                'checkout_distance', 'duration',
                'rating', 'rating_comment', 'confirmed_by', 'cancel_reason',
                'price', 'web_user', 'request_key']:
            default.setdefault(name, None)
        for name in ['steps', 'anomalies', 'events', 'complaints']:
            default.setdefault(name, [])
        default.setdefault('flagged', False)
        # Ciphertexts are bound to the record id: encrypt the copies anew.
        for name in cls._encrypted_fields:
            default.setdefault(name + '_enc', None)
        copies = super().copy(orders, default=default)
        if 'address' not in default:
            for order, copy in zip(orders, copies):
                copy.address = order.address
            cls.save(copies)
        return copies

    @classmethod
    def check_modification(cls, mode, orders, values=None, external=False):
        super().check_modification(
            mode, orders, values=values, external=external)
        if mode == 'delete':
            for order in orders:
                if order.state not in {'draft', 'cancelled'}:
                    raise AccessError(gettext(
                            'elder_service.msg_order_delete_draft',
                            order=order.rec_name))

    # --- history -----------------------------------------------------------

    @classmethod
    def _log(cls, orders, action, to_state=None, note=None, **values):
        pool = Pool()
        Event = pool.get('service.order.event')
        now = _now()
        transaction = Transaction()
        user = transaction.user
        rows = [{
                    'order': o.id,
                    'date': now,
                    'user': user,
                    'action': action,
                    'from_state': o.state,
                    'to_state': to_state or o.state,
                    'provider': values.get(
                        'provider', o.provider and o.provider.id),
                    'practitioner': values.get(
                        'practitioner', o.practitioner and o.practitioner.id),
                    'note': note or Transaction().context.get(
                        'service_actor'),
                    } for o in orders]
        if transaction.check_access or not rows:
            Event.create(rows)
            return
        # Server code (the visits run without access checks): the rows are
        # built here, valid by construction, so they are inserted as
        # ModelSQL.create would insert them, without its validation.
        table = Event.__table__()
        names = sorted(rows[0])
        cursor = transaction.connection.cursor()
        cursor.execute(*table.insert(
                [table.create_uid, table.create_date]
                + [getattr(table, n) for n in names],
                [[user, CurrentTimestamp()]
                    + [Event._fields[n].sql_format(r[n]) for n in names]
                    for r in rows]))
        transaction.counter += 1  # as create: the orders' caches refresh

    # --- workflow ----------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, orders):
        pool = Pool()
        Step = pool.get('service.order.step')
        steps = []
        for order in orders:
            if not order.steps:
                steps.extend({
                        'order': order.id,
                        'step': s.id,
                        'name': s.name,
                        'required': s.required,
                        } for s in order.item.steps)
        Step.create(steps)
        cls._log(orders, 'submit', 'submitted')

    @classmethod
    @ModelView.button
    def dispatch(cls, orders):
        "Dispatch to the provider set by hand or choose one by the policy"
        cls.dispatch_orders([o for o in orders if o.state == 'submitted'])

    @classmethod
    def dispatch_orders(cls, orders):
        pool = Pool()
        Configuration = pool.get('service.configuration')
        policy = Configuration(1).dispatch_policy
        for order in orders:
            if order.provider:
                order._check_manual_dispatch()
                order.dispatch_explanation = json.dumps({
                        'manual': True,
                        'provider': order.provider.id,
                        'name': order.provider.rec_name,
                        'at': _now().isoformat(),
                        }, ensure_ascii=False)
            else:
                if not policy:
                    raise DispatchError(gettext(
                            'elder_service.msg_no_dispatch_policy'))
                chosen, explanation = policy.dispatch(order)
                order.dispatch_explanation = json.dumps(
                    explanation, ensure_ascii=False, indent=1)
                order.provider = chosen
            order.save()
            if order.provider:
                cls._dispatched([order])
            elif not order.events or order.events[-1].action != (
                    'dispatch_failed'):
                # The scheduler retries: log a failure once, not every run.
                cls._log([order], 'dispatch_failed')

    def _check_manual_dispatch(self):
        for fact in facts(self):
            if fact['provider'] == self.provider:
                reasons = [r for r in fact['excluded'] if r != 'declined']
                break
        else:
            reasons = ['out_of_area', 'type_not_offered']
        if reasons:
            raise DispatchError(gettext(
                    'elder_service.msg_manual_dispatch_refused',
                    provider=self.provider.rec_name,
                    reasons=', '.join(gettext(
                            'elder_service.msg_dispatch_excluded_%s' % r)
                        for r in reasons)))

    @classmethod
    @Workflow.transition('dispatched')
    def _dispatched(cls, orders):
        cls._log(orders, 'dispatch', 'dispatched')
        cls.write(orders, {'dispatched_at': _now()})

    @classmethod
    @ModelView.button
    @Workflow.transition('accepted')
    def accept(cls, orders):
        cls._log(orders, 'accept', 'accepted')

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def reject(cls, orders):
        "The provider declines: the order goes back for another dispatch"
        cls._log(orders, 'reject', 'submitted')
        cls.write(orders, {
                'provider': None, 'practitioner': None,
                'dispatched_at': None})

    @classmethod
    @ModelView.button
    def assign(cls, orders):
        "Record the assignment of the practitioner (again after a change)"
        pool = Pool()
        Event = pool.get('service.order.event')
        back = []
        for order in orders:
            note = None
            if not order.practitioner and order.previous_practitioner:
                # Continuity of care: the proposed practitioner
                note = order.continuity
                order.practitioner = order.previous_practitioner
                order.save()
            if not order.practitioner:
                raise AssignError(gettext(
                        'elder_service.msg_no_practitioner',
                        order=order.rec_name))
            order.check_practitioner()
            previous = Event.search([
                    ('order', '=', order.id),
                    ('action', 'in', ['assign', 'reassign']),
                    ], order=[('id', 'DESC')], limit=1)
            if previous and previous[0].practitioner == order.practitioner:
                continue
            cls._log([order], 'reassign' if previous else 'assign',
                note=note)
            if order.state == 'on_the_way':
                back.append(order)
        cls._reassigned(back)

    @classmethod
    @Workflow.transition('accepted')
    def _reassigned(cls, orders):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('on_the_way')
    def depart(cls, orders):
        for order in orders:
            if not order.practitioner:
                raise AssignError(gettext(
                        'elder_service.msg_no_practitioner',
                        order=order.rec_name))
        cls._log(orders, 'depart', 'on_the_way')

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    def confirm(cls, orders):
        for order in orders:
            if not order.rating:
                raise OrderValidationError(gettext(
                        'elder_service.msg_rating_required',
                        order=order.rec_name))
        cls._log(orders, 'confirm', 'confirmed')

    @classmethod
    def confirm_service(cls, order, rating, comment=None, by=None):
        """Confirm a completed visit with the rating (1–5) of the older person
        or the family: the hook of the family app"""
        if order.state != 'completed':
            raise VisitError(gettext(
                    'elder_service.msg_confirm_not_completed',
                    order=order.rec_name))
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise OrderValidationError(gettext(
                    'elder_service.msg_rating_range', rating=rating))
        cls.write([order], {
                'rating': rating, 'rating_comment': comment,
                'confirmed_by': by})
        cls.confirm([order])

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, orders):
        cls._log(orders, 'close', 'closed')

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, orders):
        cls._log(orders, 'cancel', 'cancelled')

    @classmethod
    @ModelView.button
    def review(cls, orders):
        "Mark the anomalies as reviewed by a supervisor or an operator"
        pool = Pool()
        Anomaly = pool.get('service.order.anomaly')
        cls._log(orders, 'review')
        Anomaly.write(
            [a for o in orders for a in o.anomalies if not a.reviewed],
            {'reviewed': True, 'reviewed_by': Transaction().user})
        cls.write(orders, {'flagged': False})

    # --- visit -------------------------------------------------------------

    def _check_worker(self):
        "The caller of a visit method must be the assigned practitioner"
        transaction = Transaction()
        if transaction.user == 0 or not transaction.check_access:
            return
        if (not self.practitioner or not self.practitioner.user
                or self.practitioner.user.id != transaction.user):
            raise AccessError(gettext(
                    'elder_service.msg_not_your_order',
                    order=self.number))

    @classmethod
    def _one(cls, order):
        if isinstance(order, (list, tuple)):
            order, = order
        if isinstance(order, int):
            order = cls(order)
        return order

    @classmethod
    def _config(cls):
        return Pool().get('service.configuration')(1)

    def _position_check(self, lat, lon, accuracy, config):
        "Return the distance to the home and the anomalies of a position"
        elder = self.elder
        anomalies = []
        if not has_position(elder):
            return None, [('no_reference', gettext(
                        'elder_service.msg_anomaly_no_reference'))]
        distance = haversine(elder.latitude, elder.longitude, lat, lon)
        limit = config.value('geofence_tolerance') + (accuracy or 0)
        if distance > limit:
            anomalies.append(('geofence', gettext(
                        'elder_service.msg_anomaly_geofence',
                        distance=round(distance), limit=round(limit))))
        return round(distance, 1), anomalies

    @classmethod
    def _add_anomalies(cls, order, anomalies, when):
        pool = Pool()
        Anomaly = pool.get('service.order.anomaly')
        if not anomalies:
            return
        Anomaly.create([{
                    'order': order.id,
                    'kind': kind,
                    'detail': detail,
                    'date': when,
                    } for kind, detail in anomalies])
        cls.write([order], {'flagged': True})

    @classmethod
    def _attach(cls, order, name, data):
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        if not data:
            return None
        attachment, = Attachment.create([{
                    'name': name,
                    'resource': str(order),
                    'type': 'data',
                    'data': data,
                    }])
        return attachment

    @classmethod
    def checkin(cls, order, latitude, longitude, accuracy=None,
            timestamp=None, photo=None):
        """Check the practitioner in at the older person's home.

        Anomalies (outside the geofence, overlapping visits, impossible
        travel from the previous visit, a second check-in) are recorded and
        flag the order for review; they do not stop the visit. Returns the
        list of anomaly kinds."""
        order = cls._one(order)
        order._check_worker()
        with without_check_access():
            return cls._checkin(
                cls(order.id), latitude, longitude, accuracy, timestamp, photo)

    @classmethod
    def _checkin(cls, order, latitude, longitude, accuracy, timestamp, photo):
        config = cls._config()
        when = _visit_time(timestamp)
        latitude, longitude = _coordinates(latitude, longitude)
        if order.checkin_time:
            anomalies = [('double_checkin', gettext(
                        'elder_service.msg_anomaly_double_checkin',
                        first=order.checkin_time, second=when))]
            cls._add_anomalies(order, anomalies, when)
            return [k for k, _ in anomalies]
        if order.state not in {'accepted', 'on_the_way'}:
            raise VisitError(gettext(
                    'elder_service.msg_checkin_state',
                    order=order.number,
                    state=order.state_string))
        if not order.practitioner:
            raise AssignError(gettext(
                    'elder_service.msg_no_practitioner', order=order.number))
        distance, anomalies = order._position_check(
            latitude, longitude, accuracy, config)
        anomalies += order._worker_conflicts(
            when, latitude, longitude, config)
        reason = cls._verify_face(order, photo)
        if reason:
            anomalies.append(('face', gettext(
                        'elder_service.msg_anomaly_face', reason=reason)))
        order.checkin_time = when
        order.checkin_latitude = latitude
        order.checkin_longitude = longitude
        order.checkin_accuracy = accuracy
        order.checkin_distance = distance
        order.save()
        cls._attach(order, 'checkin-%s.jpg' % when.strftime('%Y%m%d%H%M%S'),
            photo)
        cls._log([order], 'checkin', 'in_service')
        cls._in_service([order])
        cls._add_anomalies(order, anomalies, when)
        return [k for k, _ in anomalies]

    @classmethod
    def _verify_face(cls, order, photo):
        """Verify the face of the practitioner on the check-in photo.

        The hook of face verification: it returns None when the check
        passes or is not done, or the reason of a failure, which flags the
        order with a 'face' anomaly without stopping the visit. elder_face
        overrides it to compare the photo with the face enrolled for
        order.practitioner (1:1); an override may also raise a UserError to
        refuse the check-in. It runs without access checks, before anything
        of the check-in is saved. elder_service does no check."""
        return None

    def _worker_conflicts(self, when, latitude, longitude, config):
        "Anomalies from the practitioner's other visits"
        anomalies = []
        others = self.search([
                ('practitioner', '=', self.practitioner.id),
                ('id', '!=', self.id),
                ('checkin_time', '!=', None),
                ('checkin_time', '<=', when),
                ], order=[('checkin_time', 'DESC')], limit=5)
        for other in others:
            if other.checkout_time is None or other.checkout_time > when:
                anomalies.append(('overlap', gettext(
                            'elder_service.msg_anomaly_overlap',
                            other=other.number)))
                break
        previous = [o for o in others if o.checkout_time
            and o.checkout_time <= when and o.checkout_latitude is not None]
        if previous:
            prev = max(previous, key=lambda o: o.checkout_time)
            km = haversine(prev.checkout_latitude, prev.checkout_longitude,
                latitude, longitude) / 1000
            hours = (when - prev.checkout_time).total_seconds() / 3600
            limit = config.value('max_travel_speed')
            if km > 0.5 and (hours <= 0 or km / hours > limit):
                speed = round(km / hours) if hours > 0 else '∞'
                anomalies.append(('travel', gettext(
                            'elder_service.msg_anomaly_travel',
                            other=prev.number, km=round(km, 1),
                            speed=speed, limit=limit)))
        return anomalies

    @classmethod
    @Workflow.transition('in_service')
    def _in_service(cls, orders):
        pass

    @classmethod
    def checkout(cls, order, latitude, longitude, accuracy=None,
            timestamp=None, photo=None, signature=None, steps=None):
        """Check the practitioner out and complete the visit.

        steps is the list of ids of the order's steps that were done (all of
        them when None). A check-out without check-in, or before it, is
        refused. A short visit, missing evidence or required steps, or a
        position outside the geofence flag the order. Returns the list of
        anomaly kinds."""
        order = cls._one(order)
        order._check_worker()
        with without_check_access():
            return cls._checkout(cls(order.id), latitude, longitude,
                accuracy, timestamp, photo, signature, steps)

    @classmethod
    def _checkout(cls, order, latitude, longitude, accuracy, timestamp,
            photo, signature, steps):
        pool = Pool()
        Step = pool.get('service.order.step')
        Attachment = pool.get('ir.attachment')
        config = cls._config()
        when = _visit_time(timestamp)
        latitude, longitude = _coordinates(latitude, longitude)
        if not order.checkin_time or order.state != 'in_service':
            raise VisitError(gettext(
                    'elder_service.msg_checkout_without_checkin',
                    order=order.number))
        if when < order.checkin_time:
            raise VisitError(gettext(
                    'elder_service.msg_checkout_before_checkin',
                    order=order.number, checkin=order.checkin_time,
                    checkout=when))
        distance, anomalies = order._position_check(
            latitude, longitude, accuracy, config)
        anomalies = [a for a in anomalies if a[0] != 'no_reference']
        if distance is None:
            anomalies = []
        minutes = int((when - order.checkin_time).total_seconds() // 60)
        ratio = config.value('min_duration_ratio')
        if minutes < order.item.duration * ratio:
            anomalies.append(('short_duration', gettext(
                        'elder_service.msg_anomaly_short_duration',
                        minutes=minutes, standard=order.item.duration)))
        done = [s for s in order.steps
            if steps is None or s.id in set(steps)]
        Step.write(done, {'done': True, 'done_at': when})
        missing = [s.name for s in order.steps
            if s.required and s not in done]
        if missing:
            anomalies.append(('steps_missing', gettext(
                        'elder_service.msg_anomaly_steps_missing',
                        steps=', '.join(missing))))
        stamp = when.strftime('%Y%m%d%H%M%S')
        cls._attach(order, 'checkout-%s.jpg' % stamp, photo)
        cls._attach(order, 'signature-%s.png' % stamp, signature)
        photos = Attachment.search([('resource', '=', str(order))])
        names = {a.name.split('-')[0] for a in photos}
        lacking = []
        if order.item.photo_before and 'checkin' not in names:
            lacking.append(gettext('elder_service.msg_evidence_photo_before'))
        if order.item.photo_after and 'checkout' not in names:
            lacking.append(gettext('elder_service.msg_evidence_photo_after'))
        if order.item.signature and 'signature' not in names:
            lacking.append(gettext('elder_service.msg_evidence_signature'))
        if lacking:
            anomalies.append(('missing_evidence', gettext(
                        'elder_service.msg_anomaly_missing_evidence',
                        evidence=', '.join(lacking))))
        order.checkout_time = when
        order.checkout_latitude = latitude
        order.checkout_longitude = longitude
        order.checkout_accuracy = accuracy
        order.checkout_distance = distance
        order.duration = minutes
        if order.item.unit == 'hour':
            order.quantity = max(
                Decimal(minutes) / 60, Decimal('0.01')).quantize(
                Decimal('0.01'))
        order.save()
        cls._log([order], 'checkout', 'completed')
        cls._completed([order])
        cls._add_anomalies(order, anomalies, when)
        return [k for k, _ in anomalies]

    @classmethod
    @Workflow.transition('completed')
    def _completed(cls, orders):
        pass

    # --- scheduler ---------------------------------------------------------

    @classmethod
    def cron_dispatch(cls):
        """Send back the orders not accepted in time, then dispatch the
        submitted orders when automatic dispatch is on"""
        config = cls._config()
        limit = _now() - dt.timedelta(
            minutes=config.value('acceptance_timeout'))
        late = cls.search([
                ('state', '=', 'dispatched'),
                ('dispatched_at', '<', limit),
                ])
        if late:
            cls._timeout(late)
        if config.auto_dispatch:
            orders = cls.search([
                    ('state', '=', 'submitted'),
                    ('provider', '=', None),
                    ], order=[('requested_date', 'ASC'), ('id', 'ASC')])
            # Orders nobody could take stay submitted: do not retry the
            # same failure every run, only when something changed since.
            cls.dispatch_orders(orders)

    @classmethod
    @Workflow.transition('submitted')
    def _timeout(cls, orders):
        cls._log(orders, 'timeout', 'submitted')
        cls.write(orders, {
                'provider': None, 'practitioner': None,
                'dispatched_at': None})


# How far ahead of the server's clock a device's timestamp may be.
CLOCK_SKEW = dt.timedelta(minutes=5)


def _visit_time(timestamp):
    "Return the time of a visit event: the device's, never in the future"
    now = _now()
    if timestamp is None:
        return now
    if not isinstance(timestamp, dt.datetime):
        raise VisitError(gettext('elder_service.msg_invalid_timestamp'))
    if timestamp > now + CLOCK_SKEW:
        raise VisitError(gettext(
                'elder_service.msg_future_timestamp', timestamp=timestamp))
    return timestamp.replace(microsecond=0)


def _coordinates(latitude, longitude):
    try:
        latitude = Decimal(str(latitude)).quantize(Decimal('0.000001'))
        longitude = Decimal(str(longitude)).quantize(Decimal('0.000001'))
    except Exception:
        raise VisitError(gettext('elder_service.msg_invalid_position'))
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise VisitError(gettext('elder_service.msg_invalid_position'))
    return latitude, longitude


class OrderStep(ModelSQL, ModelView):
    "Step of a service order"
    __name__ = 'service.order.step'
    order = fields.Many2One(
        'service.order', "Order", required=True, ondelete='CASCADE')
    step = fields.Many2One(
        'service.item.step', "Catalog Step", ondelete='SET NULL',
        readonly=True)
    name = fields.Char("Step", required=True)
    required = fields.Boolean("Required", readonly=True)
    done = fields.Boolean("Done")
    done_at = fields.Timestamp("Done At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')
        cls._order = [('id', 'ASC')]


class OrderAnomaly(ModelSQL, ModelView):
    "Anomaly of a visit (异常)"
    __name__ = 'service.order.anomaly'
    order = fields.Many2One(
        'service.order', "Order", required=True, ondelete='CASCADE')
    kind = fields.Selection(ANOMALIES, "Kind", required=True, sort=False)
    detail = fields.Char("Detail")
    date = fields.Timestamp("Date", required=True)
    reviewed = fields.Boolean("Reviewed", readonly=True)
    reviewed_by = fields.Many2One('res.user', "Reviewed By", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @staticmethod
    def default_reviewed():
        return False


class OrderEvent(ModelSQL, ModelView):
    "Event in the history of a service order"
    __name__ = 'service.order.event'
    order = fields.Many2One(
        'service.order', "Order", required=True, ondelete='CASCADE')
    date = fields.Timestamp("Date", required=True)
    user = fields.Many2One('res.user', "User", ondelete='SET NULL')
    action = fields.Selection(ACTIONS, "Action", required=True)
    from_state = fields.Selection(STATES, "From State")
    to_state = fields.Selection(STATES, "To State")
    provider = fields.Many2One(
        'elder.provider', "Provider", ondelete='SET NULL')
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", ondelete='SET NULL')
    note = fields.Char("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('order')
        cls._order = [('date', 'ASC'), ('id', 'ASC')]
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.order, Index.Range())))

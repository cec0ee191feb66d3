# This file is part of the eldercare platform. See LICENSE.
"""Credit (诚信) management: credit records of providers and practitioners
from events, a score with its explanation, and the penalty that lowers a
provider's dispatch score.

How records turn into a score is a policy (``credit.policy``) whose ``kind``
selects a strategy class registered in ``STRATEGIES``: a region adds its own
scheme with ``@register_strategy('kind')`` and a selection entry, without
touching the engine (the pattern of elder_service's dispatch policies)."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import CreditError

EVENTS = [
    ('complaint_upheld', "Complaint upheld"),
    ('anomaly_confirmed', "Service anomaly confirmed"),
    ('evaluation_failed', "Evaluation failed"),
    ('dispute_at_fault', "Dispute lost (at fault)"),
    ('violation', "Other violation"),
    ('commendation', "Commendation"),
    ('repair', "Credit repair"),
    ]
NEGATIVE_EVENTS = {
    'complaint_upheld', 'anomaly_confirmed', 'evaluation_failed',
    'dispute_at_fault', 'violation'}
LEVELS = [
    (None, ""),
    ('A', "A (trustworthy)"),
    ('B', "B (good)"),
    ('C', "C (watch)"),
    ('D', "D (dishonest)"),
    ]
STRATEGIES = {}


def register_strategy(kind):
    "Register a credit strategy class under the policy kind"
    def decorator(cls):
        STRATEGIES[kind] = cls
        return cls
    return decorator


def _origin_label(record):
    "The number of the origin (complaint TS…, dispute JF…) or its name"
    origin = record.origin
    if origin is None:
        return record.description or ''
    return getattr(origin, 'number', None) or origin.rec_name


class Strategy:
    "Turns the credit records of a subject into a score"

    def __init__(self, policy):
        self.policy = policy

    def points(self, event):
        "The points an event is worth by default"
        raise NotImplementedError

    def evaluate(self, records, listed, date):
        """Return {'score', 'level', 'penalty', 'lines'}: lines are
        (message id, values) pairs the explanation is written from"""
        raise NotImplementedError


@register_strategy('points')
class PointsStrategy(Strategy):
    """A base score plus the points of the valid records of the window
    (deductions negative, commendations and repairs positive), between 0
    and the base; levels by thresholds; the dispatch penalty is the share
    of the base score lost or the level's penalty, whichever is heavier,
    and the heaviest while the subject is on the published dishonest
    list."""

    def points(self, event):
        return getattr(self.policy, 'points_' + event) or 0

    def evaluate(self, records, listed, date):
        p = self.policy
        since = date - dt.timedelta(days=30 * p.window_months)
        score = p.base_score
        lines = [('msg_credit_line_base', {'score': p.base_score,
                    'months': p.window_months})]
        for record in sorted(records, key=lambda r: (r.date, r.id)):
            if record.state != 'valid' or not (since <= record.date <= date):
                continue
            score += record.points
            lines.append(('msg_credit_line_record', {
                        'date': record.date,
                        'event': record.event_string,
                        'points': '%+d' % record.points,
                        'origin': _origin_label(record),
                        }))
        score = max(0, min(p.base_score, score))
        if score >= p.level_a:
            level, penalty = 'A', 0
        elif score >= p.level_b:
            level, penalty = 'B', p.penalty_b
        elif score >= p.level_c:
            level, penalty = 'C', p.penalty_c
        else:
            level, penalty = 'D', p.penalty_d
        # Every deduction counts in dispatch, not only a change of level.
        penalty = max(penalty, (p.base_score - score) / p.base_score)
        if listed:
            level, penalty = 'D', max(penalty, p.penalty_listed)
            lines.append(('msg_credit_line_listed', {}))
        penalty = round(penalty, 2)
        lines.append(('msg_credit_line_total', {
                    'score': score, 'level': level, 'penalty': penalty}))
        return {
            'score': score, 'level': level, 'penalty': float(penalty),
            'lines': lines}


class Policy(DeactivableMixin, ModelSQL, ModelView):
    "Credit policy (信用评价规则)"
    __name__ = 'credit.policy'
    name = fields.Char("Name", required=True, translate=True)
    kind = fields.Selection([
            ('points', "Points from a base score"),
            ], "Kind", required=True, sort=False,
        help="The strategy that turns credit records into a score.")
    base_score = fields.Integer("Base Score", required=True)
    window_months = fields.Integer("Window", required=True,
        domain=[('window_months', '>', 0)],
        help="Months a credit record counts for.")
    points_complaint_upheld = fields.Integer("Complaint Upheld")
    points_anomaly_confirmed = fields.Integer("Anomaly Confirmed")
    points_evaluation_failed = fields.Integer("Evaluation Failed")
    points_dispute_at_fault = fields.Integer("Dispute Lost")
    points_violation = fields.Integer("Other Violation")
    points_commendation = fields.Integer("Commendation")
    points_repair = fields.Integer("Credit Repair")
    level_a = fields.Integer("Level A From", required=True)
    level_b = fields.Integer("Level B From", required=True)
    level_c = fields.Integer("Level C From", required=True)
    penalty_b = fields.Float("Penalty at B", required=True,
        domain=[('penalty_b', '>=', 0), ('penalty_b', '<=', 1)])
    penalty_c = fields.Float("Penalty at C", required=True,
        domain=[('penalty_c', '>=', 0), ('penalty_c', '<=', 1)])
    penalty_d = fields.Float("Penalty at D", required=True,
        domain=[('penalty_d', '>=', 0), ('penalty_d', '<=', 1)])
    penalty_listed = fields.Float("Penalty when Listed", required=True,
        domain=[('penalty_listed', '>=', 0), ('penalty_listed', '<=', 1)],
        help="Dispatch penalty while on the published dishonest list.")
    listing_threshold = fields.Integer("Listing Threshold", required=True,
        help="A score below it proposes the subject for the dishonest list.")
    publication_days = fields.Integer("Publication Days", required=True,
        domain=[('publication_days', '>', 0)],
        help="Days a published listing stays public unless repaired.")
    repair_min_days = fields.Integer("Days Before Repair", required=True,
        domain=[('repair_min_days', '>=', 0)],
        help="Days after publication before a repair may be approved; no "
        "new deduction may be recorded in that time.")

    @staticmethod
    def default_kind():
        return 'points'

    def strategy(self):
        return STRATEGIES[self.kind](self)

    @classmethod
    def get(cls):
        "The configured policy"
        pool = Pool()
        Configuration = pool.get('community.configuration')
        policy = Configuration(1).credit_policy
        if not policy:
            raise CreditError(gettext('elder_community.msg_credit_no_policy'))
        return policy


class Record(Workflow, ModelSQL, ModelView):
    "Credit record (信用记录)"
    __name__ = 'credit.record'
    _states = {'readonly': Eval('id', -1) >= 0}
    provider = fields.Many2One(
        'elder.provider', "Provider", ondelete='RESTRICT', states={
            'readonly': Eval('id', -1) >= 0,
            'required': ~Bool(Eval('practitioner')),
            'invisible': Bool(Eval('practitioner')),
            })
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", ondelete='RESTRICT', states={
            'readonly': Eval('id', -1) >= 0,
            'required': ~Bool(Eval('provider')),
            'invisible': Bool(Eval('provider')),
            })
    subject = fields.Char("Subject", readonly=True,
        help="The provider or practitioner as model,id.")
    event = fields.Selection(EVENTS, "Event", required=True, sort=False,
        states=_states)
    event_string = event.translated('event')
    points = fields.Integer("Points", states=_states,
        help="Negative for deductions; empty takes the policy's points.")
    date = fields.Date("Date", required=True, states=_states)
    origin = fields.Reference("Origin", selection='get_origins',
        readonly=True)
    description = fields.Text("Description", states=_states)
    revoke_reason = fields.Char("Revocation Reason",
        states={'readonly': Eval('state') != 'valid'})
    user = fields.Many2One('res.user', "Recorded By", readonly=True)
    state = fields.Selection([
            ('valid', "Valid"),
            ('revoked', "Revoked"),
            ], "State", required=True, readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            # An event of an origin counts once for a subject.
            ('origin_uniq', Unique(t, t.subject, t.event, t.origin),
                'elder_community.msg_credit_record_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.provider, Index.Range()), (t.date, Index.Range())),
                Index(t, (t.practitioner, Index.Range()),
                    (t.date, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('valid', 'revoked')}
        cls._buttons.update({
                'revoke': {
                    'invisible': Eval('state') != 'valid',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'valid'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def _get_origins(cls):
        """The models whose records give rise to credit records; a module
        that records events (e.g. the provider evaluation of settlement)
        extends this list"""
        return ['service.complaint', 'service.order.anomaly',
            'practitioner.appraisal', 'cs.dispute', 'cs.feedback',
            'credit.listing']

    @classmethod
    def get_origins(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        models = cls._get_origins()
        return [(None, '')] + [(m, Model.get_name(m)) for m in models]

    def get_rec_name(self, name):
        subject = self.provider or self.practitioner
        return '%s %s %s' % (
            subject.rec_name if subject else '', self.event_string,
            self.date)

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            if values.get('provider'):
                values['subject'] = 'elder.provider,%s' % values['provider']
            elif values.get('practitioner'):
                values['subject'] = (
                    'elder.practitioner,%s' % values['practitioner'])
            if values.get('points') is None and values.get('event'):
                values['points'] = Policy.get().strategy().points(
                    values['event'])
            values.setdefault('user', Transaction().user)
        return values

    @classmethod
    def validate_fields(cls, records, field_names):
        super().validate_fields(records, field_names)
        for record in records:
            if bool(record.provider) == bool(record.practitioner):
                raise CreditError(gettext(
                        'elder_community.msg_credit_one_subject'))
            negative = record.event in NEGATIVE_EVENTS
            if (negative and record.points > 0) or (
                    not negative and record.points < 0):
                raise CreditError(gettext(
                        'elder_community.msg_credit_points_sign',
                        event=record.event_string))

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode == 'delete':
            raise CreditError(gettext('elder_community.msg_credit_delete'))
        if mode == 'write' and set(values) - {'state', 'revoke_reason'}:
            raise CreditError(gettext('elder_community.msg_credit_immutable'))

    @classmethod
    @ModelView.button
    @Workflow.transition('revoked')
    def revoke(cls, records):
        for record in records:
            if not record.revoke_reason:
                raise CreditError(gettext(
                        'elder_community.msg_credit_revoke_reason'))

    @classmethod
    @without_check_access
    def record_event(cls, subject, event, origin=None, date=None,
            description=None, points=None):
        """Record a credit event of a provider or practitioner; the API
        other modules call (the provider evaluation of elder_settlement
        records 'evaluation_failed' with its evaluation as origin).

        Idempotent: a valid record of the same subject, event and origin is
        returned instead of a second one."""
        values = {
            'event': event,
            'date': date or Pool().get('ir.date').today(),
            'description': description,
            'points': points,
            }
        if subject.__name__ == 'elder.provider':
            values['provider'] = subject.id
            key = 'elder.provider,%s' % subject.id
        else:
            values['practitioner'] = subject.id
            key = 'elder.practitioner,%s' % subject.id
        if origin is not None:
            values['origin'] = str(origin)
            existing = cls.search([
                    ('subject', '=', key),
                    ('event', '=', event),
                    ('origin', '=', str(origin)),
                    ])
            if existing:
                record, = existing
                if record.state == 'revoked':
                    cls.write([record], {'state': 'valid',
                            'revoke_reason': None})
                return record
        record, = cls.create([values])
        return record

    @classmethod
    @without_check_access
    def revoke_origin(cls, origin, reason):
        "Revoke the valid records an origin gave rise to (it was reopened)"
        records = cls.search([
                ('origin', '=', str(origin)),
                ('state', '=', 'valid'),
                ])
        if records:
            cls.write(records, {'revoke_reason': reason})
            cls.revoke(records)
        return records


class CreditMixin:
    "The credit fields of providers and practitioners"
    __slots__ = ()
    credit_score = fields.Function(
        fields.Integer("Credit Score"), 'get_credit')
    credit_level = fields.Function(
        fields.Selection(LEVELS, "Credit Level"), 'get_credit')
    credit_explanation = fields.Function(
        fields.Text("Credit Explanation"), 'get_credit')
    credit_listed = fields.Function(
        fields.Boolean("On the Dishonest List"), 'get_credit')

    def credit(self, date=None):
        """{'score', 'level', 'penalty', 'listed', 'lines', 'explanation'}
        of the subject on date: what dispatch and the provider evaluation
        read"""
        pool = Pool()
        Record = pool.get('credit.record')
        Listing = pool.get('credit.listing')
        date = date or pool.get('ir.date').today()
        key = '%s,%s' % (self.__name__, self.id)
        with Transaction().set_context(_check_access=False):
            records = Record.search([('subject', '=', key)])
            listed = Listing.is_listed(self, date)
        result = Policy.get().strategy().evaluate(records, listed, date)
        result['listed'] = listed
        result['explanation'] = '\n'.join(
            gettext('elder_community.' + msg, **values)
            for msg, values in result['lines'])
        return result

    @classmethod
    def get_credit(cls, subjects, names):
        result = {n: {} for n in names}
        for subject in subjects:
            credit = subject.credit()
            values = {
                'credit_score': credit['score'],
                'credit_level': credit['level'],
                'credit_explanation': credit['explanation'],
                'credit_listed': credit['listed'],
                }
            for name in names:
                result[name][subject.id] = values[name]
        return result


class Provider(CreditMixin, metaclass=PoolMeta):
    __name__ = 'elder.provider'
    credit_records = fields.One2Many(
        'credit.record', 'provider', "Credit Records", readonly=True)

    def dispatch_penalty(self):
        "The heaviest of the credit penalty and the others (evaluation)"
        return max(self.credit()['penalty'], super().dispatch_penalty())


class Practitioner(CreditMixin, metaclass=PoolMeta):
    __name__ = 'elder.practitioner'
    credit_records = fields.One2Many(
        'credit.record', 'practitioner', "Credit Records", readonly=True)

# This file is part of the eldercare platform. See LICENSE.
"""Provider evaluation (服务机构考核评价, standard §7.8): periodic evaluation
from the service data, weighted per a configurable scheme into a score and a
grade; the grades feed dispatch (elder.provider.penalty) and lead to
warnings, rectification, suspension or termination."""
import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .exceptions import EvaluationError

CRITERIA = [
    ('volume', "Service count"),
    ('on_time', "On-time rate"),
    ('duration', "Duration compliance"),
    ('anomaly', "Visits without anomalies"),
    ('satisfaction', "Satisfaction"),
    ('complaint', "Substantiated complaints"),
    ('resolution', "Complaint resolution"),
    ('certificate', "Practitioners' certificates"),
    ]
ACTIONS = [
    ('none', "None"),
    ('warning', "Warning"),
    ('rectification', "Rectification"),
    ('suspension', "Suspension"),
    ('termination', "Termination of the agreement"),
    ]
DONE = ['completed', 'confirmed', 'closed']
RESOLVED = ['resolved', 'closed']
# A substantiated complaint rate of 1/COMPLAINT_SCALE of the visits scores 0.
COMPLAINT_SCALE = 10
HUNDRED = Decimal(100)
STRATEGIES = {}


def register_strategy(kind):
    "Register an evaluation strategy class under a scheme kind"
    def decorator(cls):
        STRATEGIES[kind] = cls
        return cls
    return decorator


def _ratio(numerator, denominator, empty=Decimal(1)):
    if not denominator:
        return empty
    return Decimal(numerator) / Decimal(denominator)


@register_strategy('weighted')
class WeightedStrategy:
    """Score = 100 × Σ weight × sub-score / Σ weight, each sub-score in
    [0, 1]; rounded half up to 0.01"""

    def __init__(self, scheme):
        self.scheme = scheme

    def sub_scores(self, m):
        s = self.scheme
        visits = m['visits']
        return {
            'volume': min(Decimal(1), _ratio(
                    visits, s.target_visits, Decimal(1))),
            'on_time': _ratio(m['on_time'], visits),
            'duration': _ratio(m['duration_ok'], visits),
            'anomaly': Decimal(1) - _ratio(
                m['with_anomaly'], visits, Decimal(0)),
            'satisfaction': (Decimal(str(m['rating'])) / 5
                if m['rating'] is not None else Decimal('0.6')),
            'complaint': max(Decimal(0), Decimal(1) - COMPLAINT_SCALE
                * _ratio(m['substantiated'], visits,
                    Decimal(1) if m['substantiated'] else Decimal(0))),
            'resolution': _ratio(m['resolved'], m['complaints']),
            'certificate': _ratio(m['certified'], m['practitioners'],
                Decimal(0)),
            }

    def score(self, metrics):
        "Return (score, sub-scores, notes)"
        subs = self.sub_scores(metrics)
        weights = self.scheme.weights()
        total = sum(weights.values())
        if not total:
            raise EvaluationError(gettext(
                    'elder_settlement.msg_scheme_no_weight',
                    scheme=self.scheme.rec_name))
        value = HUNDRED * sum(weights[c] * subs[c] for c in weights) / total
        return (value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP),
            subs, [])


@register_strategy('weighted_veto')
class WeightedVetoStrategy(WeightedStrategy):
    """The weighted score, capped at the scheme's veto cap when a
    substantiated complaint is unresolved at the end of the period (一票否决)"""

    def score(self, metrics):
        value, subs, notes = super().score(metrics)
        if metrics['unresolved_substantiated'] and self.scheme.veto_cap is not None:
            if value > self.scheme.veto_cap:
                value = Decimal(self.scheme.veto_cap).quantize(
                    Decimal('0.01'))
                notes.append('veto')
        return value, subs, notes


class Scheme(DeactivableMixin, ModelSQL, ModelView):
    "Evaluation scheme (考核方案)"
    __name__ = 'provider.evaluation.scheme'

    name = fields.Char("Name", required=True, translate=True)
    kind = fields.Selection([
            ('weighted', "Weighted score"),
            ('weighted_veto', "Weighted score with veto"),
            ], "Strategy", required=True,
        help="The registered strategy class that computes the score.")
    target_visits = fields.Integer(
        "Target Visits", required=True, domain=[('target_visits', '>', 0)],
        help="Visits in the period that earn the full service-count score.")
    duration_ratio = fields.Numeric(
        "Duration Ratio", digits=(3, 2), required=True,
        domain=[('duration_ratio', '>', 0)],
        help="A visit lasting at least this share of the item's standard "
        "duration complies.")
    veto_cap = fields.Numeric(
        "Veto Cap", digits=(5, 2),
        states={'invisible': Eval('kind') != 'weighted_veto'},
        help="Highest score when the veto applies.")
    weight_volume = fields.Numeric("Weight: Service Count", digits=(5, 2))
    weight_on_time = fields.Numeric("Weight: On Time", digits=(5, 2))
    weight_duration = fields.Numeric("Weight: Duration", digits=(5, 2))
    weight_anomaly = fields.Numeric("Weight: Anomalies", digits=(5, 2))
    weight_satisfaction = fields.Numeric(
        "Weight: Satisfaction", digits=(5, 2))
    weight_complaint = fields.Numeric("Weight: Complaints", digits=(5, 2))
    weight_resolution = fields.Numeric(
        "Weight: Complaint Resolution", digits=(5, 2))
    weight_certificate = fields.Numeric(
        "Weight: Certificates", digits=(5, 2))
    grades = fields.One2Many(
        'provider.evaluation.grade', 'scheme', "Grades")

    @staticmethod
    def default_kind():
        return 'weighted'

    @staticmethod
    def default_target_visits():
        return 30

    @staticmethod
    def default_duration_ratio():
        return Decimal('0.9')

    def weights(self):
        return {c: Decimal(getattr(self, 'weight_' + c) or 0)
            for c, _ in CRITERIA}

    def strategy(self):
        return STRATEGIES[self.kind](self)

    def grade_for(self, score):
        "The grade of the highest minimum the score reaches"
        for grade in sorted(self.grades, key=lambda g: g.min_score,
                reverse=True):
            if score >= grade.min_score:
                return grade
        return None


class Grade(ModelSQL, ModelView):
    "Evaluation grade (考核等级)"
    __name__ = 'provider.evaluation.grade'
    scheme = fields.Many2One(
        'provider.evaluation.scheme', "Scheme", required=True,
        ondelete='CASCADE')
    code = fields.Char("Code", required=True)
    name = fields.Char("Name", required=True, translate=True)
    min_score = fields.Numeric(
        "Minimum Score", digits=(5, 2), required=True,
        domain=[('min_score', '>=', 0), ('min_score', '<=', 100)])
    penalty = fields.Numeric(
        "Dispatch Penalty", digits=(3, 2), required=True,
        domain=[('penalty', '>=', 0), ('penalty', '<=', 1)],
        help="Written to the provider: lowers its dispatch score.")
    action = fields.Selection(ACTIONS, "Action", required=True, sort=False)
    passing = fields.Boolean("Passing")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.__access__.add('scheme')
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.scheme, t.code),
                'elder_settlement.msg_grade_code_unique'),
            ]
        cls._order = [('min_score', 'DESC'), ('id', 'ASC')]

    @staticmethod
    def default_action():
        return 'none'

    @staticmethod
    def default_penalty():
        return Decimal(0)

    def get_rec_name(self, name):
        return '%s %s' % (self.code, self.name)


class Campaign(Workflow, ModelSQL, ModelView):
    "Provider evaluation campaign (考核评价批次)"
    __name__ = 'provider.evaluation.campaign'

    name = fields.Char("Name", required=True,
        states={'readonly': Eval('state') != 'draft'})
    scheme = fields.Many2One(
        'provider.evaluation.scheme', "Scheme", required=True,
        ondelete='RESTRICT', states={'readonly': Eval('state') != 'draft'})
    start_date = fields.Date("Start Date", required=True,
        states={'readonly': Eval('state') != 'draft'})
    end_date = fields.Date("End Date", required=True,
        domain=[If(Eval('start_date') & Eval('end_date'),
                ('end_date', '>=', Eval('start_date')), ())],
        states={'readonly': Eval('state') != 'draft'})
    region = fields.Many2One(
        'elder.region', "Region", required=True, ondelete='RESTRICT',
        states={'readonly': Eval('state') != 'draft'},
        help="Providers registered in this region and below are evaluated.")
    evaluations = fields.One2Many(
        'provider.evaluation', 'campaign', "Evaluations (Ranking)",
        readonly=True)
    applied_by = fields.Many2One('res.user', "Applied By", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('computed', "Computed"),
            ('applied', "Applied"),
            ], "State", readonly=True, required=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('end_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'computed'), ('computed', 'computed'),
            ('computed', 'applied')}
        cls._buttons.update({
                'compute': {
                    'invisible': ~Eval('state').in_(['draft', 'computed']),
                    'depends': ['state'],
                    },
                'apply': {
                    'invisible': Eval('state') != 'computed',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'draft'

    @classmethod
    def default_scheme(cls):
        Config = Pool().get('settlement.configuration')
        scheme = Config(1).evaluation_scheme
        return scheme.id if scheme else None

    @classmethod
    @ModelView.button
    @Workflow.transition('computed')
    def compute(cls, campaigns):
        "Evaluate every enabled or suspended provider of the region"
        pool = Pool()
        Provider = pool.get('elder.provider')
        Evaluation = pool.get('provider.evaluation')
        for campaign in campaigns:
            Evaluation.delete(list(campaign.evaluations))
            providers = Provider.search([
                    ('region', 'child_of', [campaign.region.id], 'parent'),
                    ('state', 'in', ['active', 'suspended']),
                    ], order=[('id', 'ASC')])
            evaluations = Evaluation.create([{
                        'campaign': campaign.id,
                        'provider': p.id,
                        } for p in providers])
            Evaluation.compute(evaluations)
            ranked = sorted(evaluations,
                key=lambda e: (-e.score, e.provider.id))
            for rank, evaluation in enumerate(ranked, 1):
                evaluation.rank = rank
            Evaluation.save(ranked)

    @classmethod
    @ModelView.button
    @Workflow.transition('applied')
    def apply(cls, campaigns):
        "Apply the grades: dispatch penalties and the actions"
        Evaluation = Pool().get('provider.evaluation')
        for campaign in campaigns:
            Evaluation.apply(list(campaign.evaluations))
        cls.write(campaigns, {'applied_by': Transaction().user})


class Evaluation(ModelSQL, ModelView):
    "Provider evaluation (服务机构考核评价)"
    __name__ = 'provider.evaluation'

    campaign = fields.Many2One(
        'provider.evaluation.campaign', "Campaign", required=True,
        ondelete='CASCADE', readonly=True)
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, readonly=True,
        ondelete='RESTRICT')
    start_date = fields.Function(
        fields.Date("Start Date"), 'get_campaign_field')
    end_date = fields.Function(fields.Date("End Date"), 'get_campaign_field')
    visits = fields.Integer("Visits", readonly=True)
    on_time = fields.Integer("On Time", readonly=True)
    duration_ok = fields.Integer("Duration Compliant", readonly=True)
    with_anomaly = fields.Integer("With Anomalies", readonly=True)
    rating = fields.Numeric("Average Rating", digits=(3, 2), readonly=True)
    complaints = fields.Integer("Complaints", readonly=True)
    substantiated = fields.Integer("Substantiated", readonly=True)
    resolved = fields.Integer("Resolved", readonly=True)
    practitioners = fields.Integer("Active Practitioners", readonly=True)
    certified = fields.Integer(
        "With Valid Certificate", readonly=True)
    score = fields.Numeric("Score", digits=(5, 2), readonly=True)
    grade = fields.Many2One(
        'provider.evaluation.grade', "Grade", readonly=True,
        ondelete='RESTRICT')
    rank = fields.Integer("Rank", readonly=True)
    details = fields.Text("Details", readonly=True,
        help="Sub-scores and weights as JSON.")
    details_summary = fields.Function(
        fields.Text("Score Breakdown"), 'get_details_summary')
    applied = fields.Boolean("Applied", readonly=True)
    rectifications = fields.One2Many(
        'provider.rectification', 'evaluation', "Rectifications",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('campaign_provider_uniq', Unique(t, t.campaign, t.provider),
                'elder_settlement.msg_evaluation_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.provider, Index.Range())))
        cls._order = [('campaign', 'DESC'), ('rank', 'ASC'), ('id', 'ASC')]

    @staticmethod
    def default_applied():
        return False

    def get_campaign_field(self, name):
        return getattr(self.campaign, name)

    def get_rec_name(self, name):
        return '%s %s' % (self.campaign.name, self.provider.rec_name)

    def get_details_summary(self, name):
        if not self.details:
            return None
        details = json.loads(self.details)
        labels = dict(CRITERIA)
        lines = []
        for criterion, _ in CRITERIA:
            if criterion not in details['sub_scores']:
                continue
            lines.append('%s: %s × %s' % (
                    gettext('elder_settlement.msg_criterion_' + criterion)
                    if criterion in labels else criterion,
                    details['sub_scores'][criterion],
                    details['weights'][criterion]))
        if 'veto' in details.get('notes', []):
            lines.append(gettext('elder_settlement.msg_veto_applied'))
        return '\n'.join(lines)

    @classmethod
    def metrics(cls, provider, start, end, scheme):
        "Measure the provider's services whose visit ended in the period"
        pool = Pool()
        Order = pool.get('service.order')
        Complaint = pool.get('service.complaint')
        Practitioner = pool.get('elder.practitioner')
        begin = dt.datetime.combine(start, dt.time())
        finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
        orders = Order.search([
                ('provider', '=', provider.id),
                ('state', 'in', DONE),
                ('checkout_time', '>=', begin),
                ('checkout_time', '<', finish),
                ])
        on_time = duration_ok = with_anomaly = 0
        ratings = []
        for order in orders:
            deadline = dt.datetime.combine(
                order.requested_date, order.time_to or dt.time(23, 59, 59))
            if order.checkin_time and order.checkin_time <= deadline:
                on_time += 1
            standard = Decimal(order.item.duration) * scheme.duration_ratio
            if order.duration is not None and order.duration >= standard:
                duration_ok += 1
            if order.anomalies:
                with_anomaly += 1
            if order.rating:
                ratings.append(order.rating)
        complaints = Complaint.search([
                ('order.provider', '=', provider.id),
                ('date', '>=', begin),
                ('date', '<', finish),
                ])
        substantiated = [c for c in complaints if c.substantiated]
        practitioners = Practitioner.search([
                ('provider', '=', provider.id),
                ('state', '=', 'active'),
                ])
        certified = [p for p in practitioners if any(
                    not c.expiry_date or c.expiry_date >= end
                    for c in p.certificates)]
        rating = (Decimal(sum(ratings)) / len(ratings)).quantize(
            Decimal('0.01'), rounding=ROUND_HALF_UP) if ratings else None
        return {
            'visits': len(orders),
            'on_time': on_time,
            'duration_ok': duration_ok,
            'with_anomaly': with_anomaly,
            'rating': rating,
            'complaints': len(complaints),
            'substantiated': len(substantiated),
            'resolved': len([c for c in complaints if c.state in RESOLVED]),
            'unresolved_substantiated': len([c for c in substantiated
                    if c.state not in RESOLVED]),
            'practitioners': len(practitioners),
            'certified': len(certified),
            }

    @classmethod
    def compute(cls, evaluations):
        for evaluation in evaluations:
            campaign = evaluation.campaign
            scheme = campaign.scheme
            metrics = cls.metrics(evaluation.provider, campaign.start_date,
                campaign.end_date, scheme)
            score, subs, notes = scheme.strategy().score(metrics)
            grade = scheme.grade_for(score)
            for name in ['visits', 'on_time', 'duration_ok', 'with_anomaly',
                    'rating', 'complaints', 'substantiated', 'resolved',
                    'practitioners', 'certified']:
                setattr(evaluation, name, metrics[name])
            evaluation.score = score
            evaluation.grade = grade
            evaluation.details = json.dumps({
                    'strategy': scheme.kind,
                    'sub_scores': {k: str(v.quantize(Decimal('0.0001')))
                        for k, v in subs.items()},
                    'weights': {k: str(v)
                        for k, v in scheme.weights().items()},
                    'notes': notes,
                    }, sort_keys=True)
        cls.save(evaluations)

    @classmethod
    def apply(cls, evaluations):
        """Write the grade's dispatch penalty on the provider and take the
        grade's action: a warning or a rectification task, suspension, or
        the end of the agreement (elder_base's provider workflow)"""
        pool = Pool()
        Provider = pool.get('elder.provider')
        Rectification = pool.get('provider.rectification')
        Date = pool.get('ir.date')
        today = Date.today()
        tasks = []
        for evaluation in evaluations:
            if evaluation.applied or not evaluation.grade:
                continue
            grade = evaluation.grade
            provider = evaluation.provider
            Provider.write([provider], {'penalty': grade.penalty})
            if grade.action != 'none':
                tasks.append({
                        'provider': provider.id,
                        'evaluation': evaluation.id,
                        'kind': grade.action,
                        'deadline': (today + dt.timedelta(days=30)
                            if grade.action == 'rectification' else None),
                        'description': gettext(
                            'elder_settlement.msg_rectification_text',
                            campaign=evaluation.campaign.name,
                            score=evaluation.score,
                            grade=grade.rec_name),
                        })
            if grade.action == 'suspension' and provider.state == 'active':
                Provider.suspend([provider])
            elif grade.action == 'termination' and provider.state in {
                    'active', 'suspended'}:
                Provider.exit([provider])
        Rectification.create(tasks)
        cls.write([e for e in evaluations if e.grade], {'applied': True})


class Rectification(Workflow, ModelSQL, ModelView):
    "Warning or rectification task of a provider (告诫/整改)"
    __name__ = 'provider.rectification'

    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, readonly=True,
        ondelete='RESTRICT')
    evaluation = fields.Many2One(
        'provider.evaluation', "Evaluation", readonly=True,
        ondelete='SET NULL')
    kind = fields.Selection(ACTIONS, "Kind", required=True, readonly=True)
    description = fields.Text("Description", readonly=True)
    deadline = fields.Date("Deadline", readonly=True)
    provider_report = fields.Text(
        "Provider Report", states={'readonly': Eval('state') != 'open'},
        help="What the provider did about it.")
    verified_by = fields.Many2One('res.user', "Verified By", readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('submitted', "Submitted"),
            ('closed', "Closed"),
            ], "State", readonly=True, required=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('open', 'submitted'), ('submitted', 'open'),
            ('submitted', 'closed')}
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'open',
                    'readonly': ~Eval('provider_report'),
                    'depends': ['state', 'provider_report'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'open'

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if external and mode == 'write' and set(values) - {'provider_report'}:
            raise EvaluationError(gettext(
                    'elder_settlement.msg_rectification_computed'))

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    def submit(cls, records):
        for record in records:
            if not record.provider_report:
                raise EvaluationError(gettext(
                        'elder_settlement.msg_rectification_report'))

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reject(cls, records):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, records):
        cls.write(records, {'verified_by': Transaction().user})

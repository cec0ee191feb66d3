# This file is part of the eldercare platform. See LICENSE.
"""Performance appraisal of practitioners (绩效考核, standard §7.2.4) from
the service data of the period: orders served, ratings, upheld complaints,
confirmed visit anomalies and training."""
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .exceptions import CommunityValidationError

GRADES = [
    (None, ""),
    ('excellent', "Excellent"),
    ('good', "Good"),
    ('pass', "Pass"),
    ('fail', "Fail"),
    ]
STATES = [
    ('draft', "Draft"),
    ('computed', "Computed"),
    ('confirmed', "Confirmed"),
    ]
SERVED = ('completed', 'confirmed', 'closed')
# Lower bounds of the grades on the 0-100 score.
GRADE_BOUNDS = [(90, 'excellent'), (75, 'good'), (60, 'pass'), (0, 'fail')]


def grade_of(score):
    for bound, grade in GRADE_BOUNDS:
        if score >= bound:
            return grade


class Appraisal(Workflow, ModelSQL, ModelView):
    "Practitioner performance appraisal"
    __name__ = 'practitioner.appraisal'
    _states = {'readonly': Eval('state') != 'draft'}
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", required=True,
        ondelete='CASCADE', states=_states)
    provider = fields.Function(fields.Many2One(
            'elder.provider', "Provider"), 'get_provider',
        searcher='search_provider')
    date_from = fields.Date("From", required=True, states=_states)
    date_to = fields.Date("To", required=True, states=_states,
        domain=[If(Eval('date_from') & Eval('date_to'),
                ('date_to', '>=', Eval('date_from')), ())])
    orders = fields.Integer("Orders Served", readonly=True)
    minutes = fields.Integer("Service Minutes", readonly=True)
    rating = fields.Float("Average Rating", digits=(3, 2), readonly=True)
    complaints = fields.Integer("Upheld Complaints", readonly=True)
    anomalies = fields.Integer("Confirmed Anomalies", readonly=True)
    training_hours = fields.Numeric("Training Hours", digits=(6, 1),
        readonly=True)
    score = fields.Numeric("Score", digits=(5, 1), readonly=True)
    grade = fields.Selection(GRADES, "Grade", readonly=True, sort=False)
    explanation = fields.Text("Explanation", readonly=True)
    comment = fields.Text("Appraiser's Comment",
        states={'readonly': Eval('state') == 'confirmed'})
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.practitioner, Index.Range())))
        cls._order = [('date_to', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'computed'),
            ('computed', 'draft'),
            ('computed', 'confirmed'),
            }
        buttons = {
            'compute': ['draft'],
            'draft': ['computed'],
            'confirm': ['computed'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'draft'

    def get_provider(self, name):
        return self.practitioner.provider.id

    @classmethod
    def search_provider(cls, name, clause):
        return [('practitioner.provider' + clause[0][len(name):],)
            + tuple(clause[1:])]

    def get_rec_name(self, name):
        return '%s %s – %s' % (
            self.practitioner.rec_name, self.date_from, self.date_to)

    def facts(self):
        "The service data of the practitioner in the period"
        pool = Pool()
        Order = pool.get('service.order')
        Complaint = pool.get('service.complaint')
        Anomaly = pool.get('service.order.anomaly')
        period = [
            ('practitioner', '=', self.practitioner.id),
            ('requested_date', '>=', self.date_from),
            ('requested_date', '<=', self.date_to),
            ]
        with Transaction().set_context(_check_access=False):
            orders = Order.search(period + [('state', 'in', SERVED)])
            ratings = [o.rating for o in orders if o.rating]
            complaints = Complaint.search_count([
                    ('order.practitioner', '=', self.practitioner.id),
                    ('order.requested_date', '>=', self.date_from),
                    ('order.requested_date', '<=', self.date_to),
                    ('substantiated', '=', True),
                    ('state', 'in', ['resolved', 'closed']),
                    ])
            anomalies = Anomaly.search_count([
                    ('order.practitioner', '=', self.practitioner.id),
                    ('order.requested_date', '>=', self.date_from),
                    ('order.requested_date', '<=', self.date_to),
                    ('confirmed', '=', True),
                    ])
        hours = sum((t.hours or 0) for t in self.practitioner.trainings
            if t.passed and self.date_from <= t.date <= self.date_to)
        return {
            'orders': len(orders),
            'minutes': sum(o.duration or 0 for o in orders),
            'rating': (round(sum(ratings) / len(ratings), 2)
                if ratings else None),
            'complaints': complaints,
            'anomalies': anomalies,
            'training_hours': hours,
            }

    def score_facts(self, facts):
        """Return (score 0-100, explanation lines) from the facts with the
        configured weights"""
        pool = Pool()
        Configuration = pool.get('community.configuration')
        config = Configuration(1)
        months = max(1, round(
                ((self.date_to - self.date_from).days + 1) / 30))
        target = config.appraisal_target_orders * months
        level = self.practitioner.qualification_level
        required = float(level.min_training_hours) * months / 12 if (
            level and level.min_training_hours) else 0
        parts = {
            'rating': (facts['rating'] / 5 if facts['rating'] is not None
                else 0.6),
            'volume': min(1.0, facts['orders'] / target),
            'quality': max(0.0, 1 - 0.25 * facts['complaints']
                - 0.1 * facts['anomalies']),
            'training': (min(1.0, float(facts['training_hours']) / required)
                if required else 1.0),
            }
        weights = {
            'rating': config.weight_rating, 'volume': config.weight_volume,
            'quality': config.weight_quality,
            'training': config.weight_training,
            }
        total_weight = sum(weights.values()) or 1
        score = 100 * sum(weights[k] * parts[k] for k in parts) / total_weight
        lines = [gettext('elder_community.msg_appraisal_' + k,
                value=round(parts[k] * 100), weight=weights[k])
            for k in parts]
        return round(score, 1), lines

    @classmethod
    @ModelView.button
    @Workflow.transition('computed')
    def compute(cls, appraisals):
        for appraisal in appraisals:
            facts = appraisal.facts()
            score, lines = appraisal.score_facts(facts)
            lines.insert(0, gettext('elder_community.msg_appraisal_facts',
                    **{k: ('—' if v is None else v)
                        for k, v in facts.items()}))
            cls.write([appraisal], {
                    **facts,
                    'score': Decimal(str(score)),
                    'grade': grade_of(score),
                    'explanation': '\n'.join(lines),
                    })

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, appraisals):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('confirmed')
    def confirm(cls, appraisals):
        "A failed appraisal is a credit event of the practitioner"
        pool = Pool()
        Record = pool.get('credit.record')
        for appraisal in appraisals:
            if appraisal.grade == 'fail':
                Record.record_event(appraisal.practitioner, 'evaluation_failed',
                    origin=appraisal, date=appraisal.date_to,
                    description=gettext(
                        'elder_community.msg_credit_appraisal_failed',
                        appraisal=appraisal.rec_name))

    @classmethod
    def validate_fields(cls, appraisals, field_names):
        super().validate_fields(appraisals, field_names)
        for appraisal in appraisals:
            if (appraisal.date_from and appraisal.date_to
                    and appraisal.date_to < appraisal.date_from):
                raise CommunityValidationError(gettext(
                        'elder_community.msg_period_invalid'))


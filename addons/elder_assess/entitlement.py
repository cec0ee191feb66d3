# This file is part of the eldercare platform. See LICENSE.
"""Entitlement policies and entitlements (免申即享).

A policy (``elder.entitlement.policy``) is a configuration record: a region
(it applies to the region and every region below it), a period, a benefit
with its monthly amount and hours, and a ``kind`` that selects the strategy
class deciding eligibility from the facts about an older person. Strategies
are registered with ``@register_strategy(kind)`` (the pattern of
elder_service's dispatch policies): a region adds one without touching the
engine.

``Entitlement.evaluate(elders, date)`` is the engine: it gathers the facts
(age on the date, categories, the level of the effective assessment,
residence region, status), finds for each benefit the first matching policy
by sequence, and creates, changes (ends the old one the day before, starts
a new one) or ends the entitlements, recording the facts and the policy as
JSON. It runs when an assessment takes effect, when the categories or the
residence of an older person change, on death and moving away, and daily
from the scheduler (birthdays crossing an age threshold, policy periods).
"""
import datetime as dt
import json

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import without_check_access

from . import scoring
from .exceptions import PolicyError

BENEFITS = [
    ('home_service_subsidy', "Home-service subsidy"),
    ('family_bed', "Family elderly-care bed"),
    ('meal_subsidy', "Meal-assistance subsidy"),
    ('care_allowance', "Care allowance for disabled older people"),
    ('age_allowance', "Advanced-age allowance"),
    ('renovation', "Home ageing-friendly renovation"),
    ('emergency_device', "Emergency-call device"),
    ]
LEVELS = [(None, "")] + [(c, en) for c, en, _, _ in scoring.LEVELS]
END_REASONS = [
    (None, ""),
    ('changed', "Replaced by a new entitlement"),
    ('not_eligible', "No longer eligible"),
    ('deceased', "Deceased"),
    ('moved', "Moved away"),
    ('policy_ended', "Policy ended"),
    ]
STRATEGIES = {}


def register_strategy(kind):
    "Register a strategy class under the policy kind"
    def decorator(cls):
        STRATEGIES[kind] = cls
        return cls
    return decorator


class Strategy:
    "Decides whether an older person's facts match a policy"

    def __init__(self, policy):
        self.policy = policy

    def match(self, facts):
        """Return (matched, explanation): explanation is a dict of the
        conditions and whether each held"""
        raise NotImplementedError


@register_strategy('level_age_category')
class LevelAgeCategory(Strategy):
    """level in [min_level, max_level] AND (age >= min_age OR has any of the
    categories); an empty bound or list is no condition. With both an age
    and categories the two are alternatives; with one of them it is
    required."""

    def match(self, facts):
        p = self.policy
        checks = {}
        level = facts.get('level')
        if p.min_level is not None or p.max_level is not None:
            ok = level is not None
            if ok and p.min_level is not None:
                ok = int(level) >= int(p.min_level)
            if ok and p.max_level is not None:
                ok = int(level) <= int(p.max_level)
            checks['level'] = ok
        alternatives = []
        if p.min_age is not None:
            age = facts.get('age')
            checks['age'] = age is not None and age >= p.min_age
            alternatives.append(checks['age'])
        if p.categories:
            codes = {c.code for c in p.categories}
            checks['categories'] = bool(codes & set(facts['categories']))
            alternatives.append(checks['categories'])
        matched = checks.get('level', True) and (
            any(alternatives) if alternatives else True)
        return matched, checks


class Policy(DeactivableMixin, sequence_ordered(), ModelSQL, ModelView):
    "Entitlement policy (待遇政策)"
    __name__ = 'elder.entitlement.policy'
    # a threshold of the policy, not anybody's age
    _sensitivity = {'min_age': 'internal'}

    name = fields.Char("Name", required=True, translate=True)
    region = fields.Many2One(
        'elder.region', "Region", required=True, ondelete='RESTRICT',
        help="The policy applies to older people living in this region "
        "and the regions below it.")
    start_date = fields.Date("Start Date", required=True)
    end_date = fields.Date(
        "End Date",
        domain=[If(Eval('end_date') & Eval('start_date'),
                ('end_date', '>=', Eval('start_date')), ())])
    kind = fields.Selection([
            ('level_age_category', "Level, age or category"),
            ], "Kind", required=True, sort=False,
        help="The strategy that decides eligibility.")
    benefit = fields.Selection(BENEFITS, "Benefit", required=True,
        sort=False)
    monthly_amount = fields.Numeric(
        "Monthly Amount", digits=(16, 2),
        domain=['OR', ('monthly_amount', '=', None),
            ('monthly_amount', '>=', 0)],
        help="Yuan (CNY) per month.")
    monthly_hours = fields.Numeric(
        "Monthly Hours", digits=(16, 2),
        domain=['OR', ('monthly_hours', '=', None),
            ('monthly_hours', '>=', 0)],
        help="Hours of service per month.")
    min_level = fields.Selection(
        LEVELS, "Minimum Level", sort=False,
        states={'invisible': Eval('kind') != 'level_age_category'},
        help="Lowest ability level (0 intact … 4 complete loss); empty: no "
        "lower bound.")
    max_level = fields.Selection(
        LEVELS, "Maximum Level", sort=False,
        states={'invisible': Eval('kind') != 'level_age_category'},
        help="Highest ability level; empty: no upper bound. With neither "
        "bound, no assessment is needed.")
    min_age = fields.Integer(
        "Minimum Age", domain=['OR', ('min_age', '=', None),
            ('min_age', '>=', 0)],
        states={'invisible': Eval('kind') != 'level_age_category'},
        help="Eligible from this age on (or by a category below).")
    categories = fields.Many2Many(
        'elder.entitlement.policy-elder.category', 'policy', 'category',
        "Categories",
        states={'invisible': Eval('kind') != 'level_age_category'},
        help="Eligible with any of these categories (or by age above).")
    description = fields.Text("Description", translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(1, ('start_date', 'DESC'))

    @staticmethod
    def default_kind():
        return 'level_age_category'

    @classmethod
    def validate_fields(cls, policies, field_names):
        super().validate_fields(policies, field_names)
        for policy in policies:
            if (policy.min_level is not None and policy.max_level is not None
                    and int(policy.min_level) > int(policy.max_level)):
                raise PolicyError(gettext(
                        'elder_assess.msg_policy_levels',
                        policy=policy.rec_name))
            if policy.kind not in STRATEGIES:
                raise PolicyError(gettext(
                        'elder_assess.msg_policy_kind',
                        policy=policy.rec_name, kind=policy.kind))

    def get_strategy(self):
        return STRATEGIES[self.kind](self)

    def applies(self, facts, date):
        "Whether the policy is in force on date where the older person lives"
        if self.start_date > date:
            return False
        if self.end_date and self.end_date < date:
            return False
        return self.region.id in facts['region_path']

    def summary(self):
        return {
            'id': self.id, 'name': self.name, 'kind': self.kind,
            'region': self.region.code, 'benefit': self.benefit,
            'start_date': self.start_date, 'end_date': self.end_date,
            'monthly_amount': self.monthly_amount,
            'monthly_hours': self.monthly_hours,
            'min_level': self.min_level, 'max_level': self.max_level,
            'min_age': self.min_age,
            'categories': sorted(c.code for c in self.categories),
            }


class PolicyCategory(ModelSQL):
    "Entitlement policy - Category"
    __name__ = 'elder.entitlement.policy-elder.category'
    policy = fields.Many2One(
        'elder.entitlement.policy', "Policy", required=True,
        ondelete='CASCADE')
    category = fields.Many2One(
        'elder.category', "Category", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('policy')


class Entitlement(ModelSQL, ModelView):
    "Entitlement (享受待遇)"
    __name__ = 'elder.entitlement'
    _sensitivity = {
        'elder': 'personal', 'facts': 'sensitive', 'assessment': 'sensitive',
        'monthly_amount': 'sensitive', 'monthly_hours': 'sensitive',
        'benefit': 'sensitive', 'policy': 'sensitive',
        'end_reason': 'personal', 'level': 'sensitive',
        }

    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, readonly=True,
        ondelete='RESTRICT')
    policy = fields.Many2One(
        'elder.entitlement.policy', "Policy", readonly=True,
        ondelete='RESTRICT')
    benefit = fields.Selection(
        BENEFITS, "Benefit", required=True, readonly=True, sort=False)
    start_date = fields.Date("Start Date", required=True, readonly=True)
    end_date = fields.Date("End Date", readonly=True)
    state = fields.Selection([
            ('active', "Active"),
            ('ended', "Ended"),
            ], "State", required=True, readonly=True)
    monthly_amount = fields.Numeric(
        "Monthly Amount", digits=(16, 2), readonly=True)
    monthly_hours = fields.Numeric(
        "Monthly Hours", digits=(16, 2), readonly=True)
    assessment = fields.Many2One(
        'elder.assessment', "Assessment", readonly=True, ondelete='RESTRICT')
    level = fields.Selection(LEVELS, "Level", readonly=True)
    facts = fields.Text(
        "Facts", readonly=True,
        help="The facts and the policy that produced the entitlement "
        "(JSON).")
    end_reason = fields.Selection(
        END_REASONS, "End Reason", readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.elder, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_state():
        return 'active'

    def get_rec_name(self, name):
        benefits = dict(self.fields_get(['benefit'])['benefit']['selection'])
        return '%s - %s' % (self.elder.rec_name,
            benefits.get(self.benefit, self.benefit))

    @classmethod
    def active(cls, elder, date, benefit=None):
        "Return the entitlements of the older person in force on date"
        domain = [
            ('elder', '=', int(elder)),
            ('start_date', '<=', date),
            ['OR', ('end_date', '=', None), ('end_date', '>=', date)],
            ]
        if benefit:
            domain.append(('benefit', '=', benefit))
        return cls.search(domain, order=[('benefit', 'ASC'), ('id', 'ASC')])

    @classmethod
    def facts_of(cls, elders, date):
        "Return {elder id: facts} on date"
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        effective = {}
        for assessment in Assessment.search([
                    ('elder', 'in', [e.id for e in elders]),
                    ('state', '=', 'effective'),
                    ('effective_date', '<=', date),
                    ], order=[('effective_date', 'ASC'), ('id', 'ASC')]):
            effective[assessment.elder.id] = assessment
        result = {}
        for elder in elders:
            assessment = effective.get(elder.id)
            age = None
            if elder.birth_date:
                age = date.year - elder.birth_date.year - (
                    (date.month, date.day)
                    < (elder.birth_date.month, elder.birth_date.day))
            path = []
            region = elder.region
            while region:
                path.append(region.id)
                region = region.parent
            result[elder.id] = {
                'date': date,
                'elder': elder.id,
                'state': elder.state,
                'age': age,
                'categories': sorted(c.code for c in elder.categories),
                'region': elder.region.code if elder.region else None,
                'region_path': path,
                'level': assessment.level if assessment else None,
                'assessment': assessment.id if assessment else None,
                'assessment_number': assessment.number if assessment
                else None,
                }
        return result

    @classmethod
    def evaluate(cls, elders, date=None):
        """(Re)compute the entitlements of the older people on date (today
        by default). Returns the created entitlements."""
        pool = Pool()
        Date = pool.get('ir.date')
        Policy = pool.get('elder.entitlement.policy')
        Elder = pool.get('elder.elder')
        if date is None:
            date = Date.today()
        with without_check_access():
            elders = Elder.browse([int(e) for e in elders])
            if not elders:
                return []
            policies = Policy.search([
                    ('start_date', '<=', date),
                    ['OR', ('end_date', '=', None), ('end_date', '>=', date)],
                    ], order=[('sequence', 'ASC NULLS LAST'), ('id', 'ASC')])
            all_facts = cls.facts_of(elders, date)
            current = {}
            for entitlement in cls.search([
                        ('elder', 'in', [e.id for e in elders]),
                        ('state', '=', 'active'),
                        ]):
                current.setdefault(
                    (entitlement.elder.id, entitlement.benefit), []).append(
                    entitlement)
            to_create, to_end = [], []
            for elder in elders:
                facts = all_facts[elder.id]
                wanted = {}
                if elder.state == 'active':
                    for policy in policies:
                        if (policy.benefit in wanted
                                or not policy.applies(facts, date)):
                            continue
                        matched, checks = policy.get_strategy().match(facts)
                        if matched:
                            wanted[policy.benefit] = (policy, checks)
                benefits = {b for (e, b) in current if e == elder.id}
                for benefit in benefits | set(wanted):
                    olds = current.get((elder.id, benefit), [])
                    new = wanted.get(benefit)
                    keep = [o for o in olds
                        if new and cls._same(o, new[0], facts)]
                    for old in olds:
                        if old in keep[:1]:
                            continue
                        to_end.append((old, cls._end_values(
                                    old, elder, facts, date, new)))
                    if new and not keep:
                        to_create.append(cls._new_values(
                                elder, new[0], new[1], facts, date))
            for entitlement, values in to_end:
                cls.write([entitlement], values)
            return cls.create(to_create) if to_create else []

    @classmethod
    def _same(cls, entitlement, policy, facts):
        return (entitlement.policy == policy
            and entitlement.monthly_amount == policy.monthly_amount
            and entitlement.monthly_hours == policy.monthly_hours
            and (entitlement.assessment.id if entitlement.assessment
                else None) == facts['assessment'])

    @classmethod
    def _end_values(cls, entitlement, elder, facts, date, new):
        if elder.state == 'deceased':
            reason = 'deceased'
            end = elder.death_date or date
        elif elder.state == 'moved':
            # no longer a resident from the day of the move
            reason = 'moved'
            end = (elder.moved_date or date) - dt.timedelta(days=1)
        else:
            end = date - dt.timedelta(days=1)
            policy = entitlement.policy
            if new:
                reason = 'changed'
            elif policy and (not policy.active or policy.start_date > date
                    or (policy.end_date and policy.end_date < date)):
                reason = 'policy_ended'
                if policy.end_date and policy.end_date < date:
                    end = policy.end_date
            else:
                reason = 'not_eligible'
        # An entitlement replaced on the day it started keeps an empty
        # period (end before start): it was never in force.
        end = max(end, entitlement.start_date - dt.timedelta(days=1))
        return {'state': 'ended', 'end_date': end, 'end_reason': reason}

    @classmethod
    def _new_values(cls, elder, policy, checks, facts, date):
        record = {k: v for k, v in facts.items() if k != 'region_path'}
        record['policy'] = policy.summary()
        record['checks'] = checks
        return {
            'elder': elder.id,
            'policy': policy.id,
            'benefit': policy.benefit,
            'start_date': date,
            'monthly_amount': policy.monthly_amount,
            'monthly_hours': policy.monthly_hours,
            'assessment': facts['assessment'],
            'level': facts['level'],
            'facts': json.dumps(
                record, ensure_ascii=False, indent=2, sort_keys=True,
                default=str),
            'state': 'active',
            }

    @classmethod
    def cron_evaluate(cls):
        cls.evaluate_all()

    @classmethod
    def evaluate_all(cls, date=None):
        "Scheduler: every active older person and every active entitlement"
        pool = Pool()
        Elder = pool.get('elder.elder')
        with without_check_access():
            ids = {e.id for e in Elder.search([('state', '=', 'active')])}
            ids |= {e.elder.id for e in cls.search(
                    [('state', '=', 'active')])}
        created = []
        ids = sorted(ids)
        for i in range(0, len(ids), 500):
            created += cls.evaluate(ids[i:i + 500], date)
        return created


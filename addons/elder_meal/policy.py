# This file is part of the eldercare platform. See LICENSE.
"""Meal-subsidy policies on the entitlement engine of elder_assess.

A region's meal-subsidy policy is an ``elder.entitlement.policy`` with the
benefit ``meal_subsidy`` (already a benefit of the engine); this module adds
the per-meal amount and the daily cap (the monthly cap is the policy's
monthly amount), and the strategy ``age_band``: age in [min_age, max_age]
and, when given, the ability level bounds and any of the categories — all
required together, so a region writes its tiers as several policies
ordered by sequence (the engine takes the first that matches per benefit),
e.g. 特困/低保 10 yuan, then 80+ 8 yuan, then 60–79 3 yuan.

The engine records the per-meal amount and the daily cap on the
entitlement, so a change of the policy's amounts gives a new entitlement
from that day on (the old one ends the day before, as for monthly
amounts).
"""
from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.elder_assess.entitlement import (
    Strategy, register_strategy)
from trytond.pool import PoolMeta
from trytond.pyson import Eval

from .exceptions import MealPointError


@register_strategy('age_band')
class AgeBand(Strategy):
    """min_age <= age <= max_age AND level in [min_level, max_level] AND has
    any of the categories; an empty bound or list is no condition"""

    def match(self, facts):
        p = self.policy
        checks = {}
        age = facts.get('age')
        if p.min_age is not None or p.max_age is not None:
            ok = age is not None
            if ok and p.min_age is not None:
                ok = age >= p.min_age
            if ok and p.max_age is not None:
                ok = age <= p.max_age
            checks['age'] = ok
        level = facts.get('level')
        if p.min_level is not None or p.max_level is not None:
            ok = level is not None
            if ok and p.min_level is not None:
                ok = int(level) >= int(p.min_level)
            if ok and p.max_level is not None:
                ok = int(level) <= int(p.max_level)
            checks['level'] = ok
        if p.categories:
            codes = {c.code for c in p.categories}
            checks['categories'] = bool(codes & set(facts['categories']))
        return all(checks.values()), checks


class Policy(metaclass=PoolMeta):
    __name__ = 'elder.entitlement.policy'
    _sensitivity = {'max_age': 'internal'}

    max_age = fields.Integer(
        "Maximum Age",
        domain=['OR', ('max_age', '=', None), ('max_age', '>=', 0)],
        states={'invisible': Eval('kind') != 'age_band'},
        help="Eligible up to this age included; empty: no upper bound.")
    meal_amount = fields.Numeric(
        "Subsidy per Meal", digits=(16, 2),
        domain=['OR', ('meal_amount', '=', None), ('meal_amount', '>=', 0)],
        states={
            'invisible': Eval('benefit') != 'meal_subsidy',
            'required': Eval('benefit') == 'meal_subsidy',
            },
        help="Yuan (CNY) the subsidy pays of one meal; the older person "
        "pays the rest. The monthly amount is the monthly cap.")
    meal_daily_cap = fields.Numeric(
        "Daily Cap", digits=(16, 2),
        domain=['OR', ('meal_daily_cap', '=', None),
            ('meal_daily_cap', '>=', 0)],
        states={'invisible': Eval('benefit') != 'meal_subsidy'},
        help="Most subsidy a person gets in one day (yuan); empty: none.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.kind.selection.append(('age_band', "Age band (meal subsidy)"))
        for name in ['min_level', 'max_level', 'min_age', 'categories']:
            field = getattr(cls, name)
            field.states = field.states.copy()
            field.states['invisible'] = ~Eval('kind').in_(
                ['level_age_category', 'age_band'])

    @classmethod
    def validate_fields(cls, policies, field_names):
        super().validate_fields(policies, field_names)
        for policy in policies:
            if (policy.min_age is not None and policy.max_age is not None
                    and policy.min_age > policy.max_age):
                raise MealPointError(gettext(
                        'elder_meal.msg_policy_ages', policy=policy.rec_name))

    def summary(self):
        result = super().summary()
        result.update({
                'max_age': self.max_age,
                'meal_amount': self.meal_amount,
                'meal_daily_cap': self.meal_daily_cap,
                })
        return result


class Entitlement(metaclass=PoolMeta):
    __name__ = 'elder.entitlement'
    _sensitivity = {'meal_amount': 'sensitive', 'meal_daily_cap': 'sensitive'}

    meal_amount = fields.Numeric(
        "Subsidy per Meal", digits=(16, 2), readonly=True)
    meal_daily_cap = fields.Numeric(
        "Daily Cap", digits=(16, 2), readonly=True)

    @classmethod
    def _same(cls, entitlement, policy, facts):
        return (super()._same(entitlement, policy, facts)
            and entitlement.meal_amount == policy.meal_amount
            and entitlement.meal_daily_cap == policy.meal_daily_cap)

    @classmethod
    def _new_values(cls, elder, policy, checks, facts, date):
        values = super()._new_values(elder, policy, checks, facts, date)
        values['meal_amount'] = policy.meal_amount
        values['meal_daily_cap'] = policy.meal_daily_cap
        return values

    @classmethod
    def meal_subsidy(cls, elder, date):
        """The meal-subsidy entitlement of the older person in force on date
        (with a per-meal amount), or None"""
        for entitlement in cls.active(elder, date, benefit='meal_subsidy'):
            if entitlement.meal_amount is not None:
                return entitlement
        return None

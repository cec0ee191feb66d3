# This file is part of the eldercare platform. See LICENSE.
"""Pricing of a completed service and its split between the subsidy and the
older person's own payment. Pure functions on Decimals, so the rules can be
tested table-driven and read in one place.

Rounding rules (人民币 to the fen, 0.01 yuan; hours to 0.01 h):

1. amount = unit price × quantity, rounded half up to 0.01.
2. A money quota: subsidy = min(amount, remaining), exact (both are already
   in fen).
3. An hour quota: the service's hours are the quantity for per-hour items
   and the item's standard duration × quantity / 60 otherwise, rounded half
   up to 0.01 h. When they fit the remaining hours the whole amount is
   subsidised; otherwise subsidy = amount × remaining / hours, rounded half
   up to 0.01 yuan, and the subsidised hours are the remaining hours.
4. Both quotas on one entitlement: the smaller subsidy of the two applies
   (and its hours).
5. self-pay = amount − subsidy, computed last, so subsidy + self-pay always
   equals the amount to the fen.
"""
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal('0.01')
ZERO = Decimal('0.00')


def money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def hours(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def amount_of(unit_price, quantity):
    "Rule 1"
    return money(Decimal(unit_price) * Decimal(quantity))


def hours_of(unit, quantity, standard_minutes):
    "The hours a service counts against an hour quota (rule 3)"
    if unit == 'hour':
        return hours(quantity)
    return hours(Decimal(standard_minutes or 0) * Decimal(quantity) / 60)


def split(amount, service_hours, monthly_amount=None, used_amount=ZERO,
        monthly_hours=None, used_hours=ZERO):
    """Split the amount of a service under a monthly quota

    Return (subsidy, subsidy_hours, self_pay, basis) where basis is
    'full' (all subsidised), 'partial' (the quota ran out on this service),
    'over_quota' (nothing left) or 'not_entitled' (no quota at all)."""
    amount = money(amount)
    service_hours = hours(service_hours)
    if monthly_amount is None and monthly_hours is None:
        return ZERO, ZERO, amount, 'not_entitled'
    candidates = []
    if monthly_amount is not None:
        remaining = max(money(monthly_amount) - money(used_amount), ZERO)
        subsidy = min(amount, remaining)
        candidates.append((subsidy, service_hours if subsidy == amount
                else (hours(service_hours * subsidy / amount)
                    if amount else ZERO)))
    if monthly_hours is not None:
        remaining_h = max(hours(monthly_hours) - hours(used_hours), ZERO)
        if service_hours <= remaining_h:
            candidates.append((amount, service_hours))
        else:
            candidates.append((
                    money(amount * remaining_h / service_hours)
                    if service_hours else ZERO,
                    remaining_h))
    subsidy, subsidy_hours = min(candidates, key=lambda c: (c[0], c[1]))
    self_pay = amount - subsidy
    if subsidy == amount:
        basis = 'full'
    elif subsidy == ZERO:
        basis = 'over_quota'
    else:
        basis = 'partial'
    return subsidy, subsidy_hours, self_pay, basis

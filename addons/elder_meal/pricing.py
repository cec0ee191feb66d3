# This file is part of the eldercare platform. See LICENSE.
"""Split of a meal's price between the subsidy and the older person's own
payment. Pure functions on Decimals (table-driven tests in test_module).

Rules (人民币 to the fen, half up):

1. Only the first served meal of a meal period (breakfast, lunch, dinner)
   of a day is subsidised, wherever it is served (basis ``second_meal``
   for the others; the database refuses a second subsidised row).
2. Without an active meal-subsidy entitlement on the date: no subsidy
   (``not_entitled``).
3. subsidy = min(price, per-meal amount, daily cap − subsidy already given
   that day, monthly cap − subsidy already given that month); an empty cap
   is no cap; never below 0.
4. Basis: ``full`` when the per-meal amount (or the whole price, if lower)
   is given, ``capped`` when a cap reduced it, ``over_cap`` when a cap left
   nothing.
5. self-pay = price − subsidy, computed last: the two always add up.
"""
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal('0.01')
ZERO = Decimal('0.00')


def money(value):
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def split(price, per_meal=None, daily_cap=None, daily_used=ZERO,
        monthly_cap=None, monthly_used=ZERO, entitled=True,
        first_of_period=True):
    "Return (subsidy, self_pay, basis) for a meal of price"
    price = money(price)
    if price < 0:
        raise ValueError('negative price')
    if not first_of_period:
        return ZERO, price, 'second_meal'
    if not entitled or per_meal is None:
        return ZERO, price, 'not_entitled'
    wanted = min(price, money(per_meal))
    subsidy = wanted
    if daily_cap is not None:
        subsidy = min(subsidy, money(daily_cap) - money(daily_used))
    if monthly_cap is not None:
        subsidy = min(subsidy, money(monthly_cap) - money(monthly_used))
    subsidy = max(subsidy, ZERO)
    if subsidy == wanted:
        basis = 'full'
    elif subsidy > 0:
        basis = 'capped'
    else:
        basis = 'over_cap'
    return money(subsidy), price - money(subsidy), basis

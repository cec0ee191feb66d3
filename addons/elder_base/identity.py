# This file is part of the eldercare platform. See LICENSE.
"Checks of Chinese identity numbers and phone numbers to their standards."
import datetime as dt

import phonenumbers
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

# GB 11643: the 17th digit is odd for men, even for women; codes of GB/T 2261.1.
SEX_MALE = '1'
SEX_FEMALE = '2'


# GB 11643 check: weights of the 17 digits, sum mod 11 indexes this string.
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = '10X98765432'
# First two digits: provinces of GB/T 2260 (71 Taiwan, 81/82 HK/Macau IDs).
_PROVINCES = {
    '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34',
    '35', '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52',
    '53', '54', '61', '62', '63', '64', '65', '71', '81', '82', '83'}


def ric_check_character(body):
    "Return the GB 11643 check character of the first 17 digits"
    total = sum(int(d) * w for d, w in zip(body, _RIC_WEIGHTS))
    return _RIC_CHECK[total % 11]


def parse_citizen_id(number):
    """Return (number, birth date, sex code) of a valid GB 11643 ID.

    Raise ValueError when the length, the province, the birth date or the
    check character is wrong. The county code is not checked against a
    table: IDs keep the code of the county that issued them even after
    counties are merged or renamed."""
    number = (number or '').strip().upper().replace(' ', '')
    if len(number) != 18:
        # 15-digit IDs were replaced by 2013; the platform takes 18 only.
        raise ValueError('length')
    body, check = number[:17], number[17]
    if not body.isdigit() or check not in '0123456789X':
        raise ValueError('format')
    if body[:2] not in _PROVINCES:
        raise ValueError('province')
    try:
        birth_date = dt.date(int(body[6:10]), int(body[10:12]),
            int(body[12:14]))
    except ValueError as exc:
        raise ValueError('birth date') from exc
    if not dt.date(1890, 1, 1) <= birth_date <= dt.date.today():
        raise ValueError('birth date')
    if ric_check_character(body) != check:
        raise ValueError('check character')
    sex = SEX_MALE if int(body[16]) % 2 else SEX_FEMALE
    return number, birth_date, sex


def validate_credit_code(code):
    "Return the compact GB 32100 unified social credit code or raise."
    try:
        return uscc.validate((code or '').strip().upper())
    except StdnumError as exc:
        raise ValueError(str(exc)) from exc


def normalize_phone(phone):
    """Return a mainland phone number in national digits or raise.

    Mobiles must be 11 digits starting with 1[3-9]; landlines keep their
    area code (0471-1234567 → 04711234567)."""
    raw = (phone or '').strip()
    try:
        parsed = phonenumbers.parse(raw, 'CN')
    except phonenumbers.NumberParseException as exc:
        raise ValueError(str(exc)) from exc
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        raise ValueError('invalid number')
    national = str(parsed.national_number)
    if national.startswith('1'):
        return national
    return '0' + national

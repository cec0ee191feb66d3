# This file is part of the eldercare platform. See LICENSE.
"Helpers shared by the tests of elder_base and the modules above it."
from stdnum.cn import uscc

from trytond.modules.elder_base.identity import ric_check_character
from trytond.pool import Pool


def citizen_id(region_code, birth, serial):
    "Return a valid GB 11643 ID: region code, birth YYYYMMDD, 3-digit serial"
    body = '%s%s%03d' % (region_code, birth, serial)
    return body + ric_check_character(body)


def region(code):
    Region = Pool().get('elder.region')
    record, = Region.search([('code', '=', code)])
    return record


def credit_code(serial):
    "Return a valid GB 32100 code built from a serial number"
    body = '91150102MA%07d' % serial
    return body + uscc.calc_check_digit(body)


def create_elder(name, id_number, region_code, **values):
    Elder = Pool().get('elder.elder')
    elder, = Elder.create([{
                'name': name,
                'id_number': id_number,
                'region': region(region_code).id,
                **values}])
    return elder


def create_provider(name, region_code, credit_code=None, **values):
    Provider = Pool().get('elder.provider')
    if credit_code is None:
        credit_code = globals()['credit_code'](abs(hash(name)) % 10 ** 7)
    provider, = Provider.create([{
                'name': name,
                'credit_code': credit_code,
                'region': region(region_code).id,
                **values}])
    return provider

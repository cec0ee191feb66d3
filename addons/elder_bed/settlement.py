# This file is part of the eldercare platform. See LICENSE.
"""Bed-month subsidies through elder_settlement (registered only when
elder_settlement is activated).

An approved monthly review (``bed.month``) becomes one settlement line
(``settlement.line`` with ``bed_month`` set and no service order) of the
programme service type ``FB`` 家庭养老床位, priced by the review itself
(the subsidy is the whole amount, no self-pay). The line then follows the
settlement path unchanged: monthly statement of the provider and district,
provider review, supervisor and finance approval, supplier invoice on the
expense account 5002 家庭养老床位补贴支出, payment.

This glue stays small on purpose; see README.rst ("Settlement") for the
generic extension point proposed to elder_settlement that replaces it.
"""
from trytond.model import Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

PROGRAMME_CODE = 'FB'
ACCOUNT_CODE = '5002'


def programme_type():
    ServiceType = Pool().get('elder.service.type')
    with without_check_access():
        types = ServiceType.search([
                ('code', '=', PROGRAMME_CODE),
                ('active', 'in', [True, False]),
                ])
    return types[0] if types else None


class Line(metaclass=PoolMeta):
    __name__ = 'settlement.line'
    bed_month = fields.Many2One(
        'bed.month', "Family Bed Month", readonly=True, ondelete='RESTRICT',
        help="The family bed's monthly review whose subsidy the line pays.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # programme lines settle no service order
        cls.order.required = False
        cls.item.required = False
        t = cls.__table__()
        cls._sql_constraints += [
            ('bed_month_uniq', Unique(t, t.bed_month),
                'elder_bed.msg_line_bed_month_unique'),
            ]

    def get_rec_name(self, name):
        if self.bed_month:
            return self.bed_month.rec_name
        return super().get_rec_name(name)

    def compute_price(self):
        if self.bed_month:
            values = self.bed_month.settlement_values()
            values['basis'] = 'full'
            return values
        return super().compute_price()

    @classmethod
    def collect(cls, until):
        pool = Pool()
        Month = pool.get('bed.month')
        from trytond.modules.elder_settlement.line import district_of
        priced = super().collect(until)
        service_type = programme_type()
        months = Month.to_settle(until)
        if not months or not service_type:
            return priced
        done = {l.bed_month.id for l in cls.search([
                    ('bed_month', 'in', [m.id for m in months]),
                    ])}
        values = []
        for month in months:
            if month.id in done:
                continue
            line = month.settlement_values()
            line.update({
                    'bed_month': month.id,
                    'district': district_of(month.region).id,
                    'service_type': service_type.id,
                    'basis': 'full',
                    'state': 'pending',
                    })
            values.append(line)
        return priced + (cls.create(values) if values else [])

    @classmethod
    def include(cls, lines):
        mine = [l for l in lines if l.bed_month]
        for line in mine:
            cls.write([line], {'state': 'pending', **line.compute_price()})
        others = [l for l in lines if not l.bed_month]
        if others:
            super().include(others)


class Configuration(metaclass=PoolMeta):
    __name__ = 'settlement.configuration'

    def account_for(self, service_type):
        "The programme's expense account (5002) unless one is configured"
        pool = Pool()
        Account = pool.get('account.account')
        if (service_type and service_type.code == PROGRAMME_CODE
                and self.company
                and not any(l.service_type == service_type
                    for l in self.type_accounts)):
            accounts = Account.search([
                    ('company', '=', self.company.id),
                    ('code', '=', ACCOUNT_CODE),
                    ])
            if accounts:
                return accounts[0]
        return super().account_for(service_type)


class Month(metaclass=PoolMeta):
    __name__ = 'bed.month'
    settlement_lines = fields.One2Many(
        'settlement.line', 'bed_month', "Settlement", readonly=True)
    settlement_state = fields.Function(
        fields.Selection([
                (None, ""),
                ('pending', "Pending"),
                ('statement', "In Statement"),
                ('paid', "Paid"),
                ('excluded', "Excluded"),
                ], "Settlement"), 'get_settlement_state')

    def get_settlement_state(self, name):
        with without_check_access():
            for line in self.settlement_lines:
                if line.state == 'statement' and line.statement \
                        and line.statement.state == 'paid':
                    return 'paid'
                if line.state in {'pending', 'held'}:
                    return 'pending'
                return line.state
        return None

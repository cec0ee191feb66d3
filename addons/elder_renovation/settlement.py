# This file is part of the eldercare platform. See LICENSE.
"""Renovation subsidies through elder_settlement (registered only when
elder_settlement is activated).

An accepted renovation becomes one settlement line (``settlement.line``
with ``renovation`` set and no service order) of the programme service type
``HR`` 居家适老化改造, dated on the acceptance, for the construction
provider: the statement of its month, the approvals, the supplier invoice
on the expense account 5003 居家适老化改造补贴支出 and the payment are
elder_settlement's. See README.rst ("Settlement") for the generic extension
point proposed to elder_settlement that replaces this glue.
"""
import datetime as dt
from decimal import Decimal

from trytond.model import Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

PROGRAMME_CODE = 'HR'
ACCOUNT_CODE = '5003'


def programme_type():
    ServiceType = Pool().get('elder.service.type')
    with without_check_access():
        types = ServiceType.search([
                ('code', '=', PROGRAMME_CODE),
                ('active', 'in', [True, False]),
                ])
    return types[0] if types else None


def line_values(project):
    "The settlement line of an accepted renovation"
    date = project.accepted_date
    return {
        'elder': project.elder.id,
        'provider': project.constructor.id,
        'region': project.region.id,
        'service_date': date,
        'service_month': date.replace(day=1),
        'quantity': Decimal(1),
        'unit_price': project.subsidy_amount,
        'amount': project.subsidy_amount,
        'subsidy_amount': project.subsidy_amount,
        'self_pay_amount': Decimal('0.00'),
        'basis': 'full',
        'priced_at': dt.datetime.now().replace(microsecond=0),
        }


class Line(metaclass=PoolMeta):
    __name__ = 'settlement.line'
    renovation = fields.Many2One(
        'renovation.project', "Home Renovation", readonly=True,
        ondelete='RESTRICT',
        help="The accepted renovation whose subsidy the line pays.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.order.required = False
        cls.item.required = False
        t = cls.__table__()
        cls._sql_constraints += [
            ('renovation_uniq', Unique(t, t.renovation),
                'elder_renovation.msg_line_renovation_unique'),
            ]

    def get_rec_name(self, name):
        if self.renovation:
            return self.renovation.rec_name
        return super().get_rec_name(name)

    def compute_price(self):
        if self.renovation:
            return line_values(self.renovation)
        return super().compute_price()

    @classmethod
    def collect(cls, until):
        pool = Pool()
        Project = pool.get('renovation.project')
        from trytond.modules.elder_settlement.line import district_of
        priced = super().collect(until)
        service_type = programme_type()
        if not service_type:
            return priced
        projects = Project.search([
                ('state', '=', 'accepted'),
                ('subsidy_amount', '>', 0),
                ('accepted_date', '<=', until),
                ('settlement_lines', '=', None),
                ])
        values = []
        for project in projects:
            line = line_values(project)
            line.update({
                    'renovation': project.id,
                    'district': district_of(project.region).id,
                    'service_type': service_type.id,
                    'state': 'pending',
                    })
            values.append(line)
        return priced + (cls.create(values) if values else [])

    @classmethod
    def include(cls, lines):
        mine = [l for l in lines if l.renovation]
        for line in mine:
            cls.write([line], {'state': 'pending', **line.compute_price()})
        others = [l for l in lines if not l.renovation]
        if others:
            super().include(others)


class Configuration(metaclass=PoolMeta):
    __name__ = 'settlement.configuration'

    def account_for(self, service_type):
        "The programme's expense account (5003) unless one is configured"
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


class Project(metaclass=PoolMeta):
    __name__ = 'renovation.project'
    settlement_lines = fields.One2Many(
        'settlement.line', 'renovation', "Settlement", readonly=True)
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

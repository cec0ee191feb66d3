# This file is part of the eldercare platform. See LICENSE.
"Code tables of national standards used across the platform."
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields


class _CodeMixin(DeactivableMixin, ModelSQL, ModelView):
    __slots__ = ()
    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code), 'elder_base.msg_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ]


class Ethnicity(_CodeMixin):
    "Ethnicity (GB/T 3304)"
    __name__ = 'elder.ethnicity'


class ElderCategory(_CodeMixin):
    "Category of older person"
    __name__ = 'elder.category'
    description = fields.Text("Description", translate=True)


class ServiceType(_CodeMixin):
    "Home-visit service type (GB/T 43153)"
    __name__ = 'elder.service.type'
    description = fields.Text("Description", translate=True)

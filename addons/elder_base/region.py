# This file is part of the eldercare platform. See LICENSE.
from sql.conditionals import Coalesce

from trytond import backend
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields, tree)
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .rec_name import read_columns

LEVELS = [
    ('province', "Province"),
    ('city', "League/City"),
    ('county', "Banner/County/District"),
    ('town', "Sub-district/Town"),
    ('community', "Community/Village"),
    ]


class Region(DeactivableMixin, tree(separator=' / '), ModelSQL, ModelView):
    "Administrative region (GB/T 2260)"
    __name__ = 'elder.region'

    code = fields.Char(
        "Code", required=True, strip=True,
        help="GB/T 2260 code (6 digits) or the 9/12-digit statistical code "
        "of a sub-district or community.")
    name = fields.Char("Name", required=True, strip=True)
    level = fields.Selection(LEVELS, "Level", required=True, sort=False)
    parent = fields.Many2One(
        'elder.region', "Parent", path='path', ondelete='RESTRICT',
        domain=[('id', '!=', Eval('id', -1))])
    path = fields.Char("Path", readonly=True)
    childs = fields.One2Many('elder.region', 'parent', "Children")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code), 'elder_base.msg_region_code_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.path, Index.Similarity(begin=True))))
        # The record rules' child_of filters on COALESCE(path, '') LIKE
        # '<path>%': with this index PostgreSQL keeps statistics of the
        # expression and estimates the regions of a scope (48 of 60, not 1),
        # so a supervisor's order list scans the orders by date instead of
        # every order of every older person of the scope (483 → 15 ms).
        cls._sql_indexes.add(Index(t,
                (Coalesce(t.path, ''), Index.Similarity(begin=True))))
        cls._order.insert(0, ('code', 'ASC'))

    @classmethod
    def _update_sql_indexes(cls, concurrently=False):
        super()._update_sql_indexes(concurrently=concurrently)
        if backend.name == 'postgresql':
            # statistics of the COALESCE(path, '') index (a small table
            # that autovacuum may never analyse again)
            Transaction().connection.cursor().execute(
                'ANALYZE "%s"' % cls._table)

    @classmethod
    def get_rec_name(cls, regions, name):
        """'<province> / <city> / … / <name>': the names of every ancestor
        of the regions read in one query from their paths (the tree's
        getter walks parent by parent, record by record)"""
        paths = {id_: [int(i) for i in (path or '').split('/') if i]
            for id_, (path,) in read_columns(
                cls, [r.id for r in regions], 'path').items()}
        ancestors = {i for path in paths.values() for i in path}
        names = {id_: name for id_, (name,) in read_columns(
                cls, ancestors, 'name').items()}
        result = {}
        for region in regions:
            path = paths.get(region.id)
            if path and path[-1] == region.id and all(
                    i in names for i in path):
                result[region.id] = ' / '.join(names[i] for i in path)
            else:  # path not computed yet: the tree's walk
                result[region.id] = super(Region, region).get_rec_name(name)
        return result

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ]

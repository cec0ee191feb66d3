# This file is part of the eldercare platform. See LICENSE.
"""Dishes with nutrition tags for older people, and the daily or weekly
menus of a meal point, published to families and the mini program."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, If

from .exceptions import MenuError
from .point import MEAL_PERIODS

WEEKDAYS = [
    (None, ""),
    ('0', "Monday"), ('1', "Tuesday"), ('2', "Wednesday"),
    ('3', "Thursday"), ('4', "Friday"), ('5', "Saturday"), ('6', "Sunday"),
    ]


class Tag(DeactivableMixin, ModelSQL, ModelView):
    "Nutrition Tag"
    __name__ = 'meal.tag'
    code = fields.Char("Code", required=True)
    name = fields.Char("Name", required=True, translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code), 'elder_meal.msg_tag_code'),
            ]


class Dish(DeactivableMixin, ModelSQL, ModelView):
    "Dish (菜品)"
    __name__ = 'meal.dish'
    point = fields.Many2One('meal.point', "Meal Point", required=True,
        ondelete='CASCADE')
    name = fields.Char("Name", required=True)
    description = fields.Text("Description")
    price = fields.Numeric("Price", digits=(16, 2), required=True,
        domain=[('price', '>=', 0)], help="Yuan (CNY) for one portion.")
    tags = fields.Many2Many('meal.dish-meal.tag', 'dish', 'tag',
        "Nutrition Tags")
    energy = fields.Integer("Energy (kcal)",
        domain=['OR', ('energy', '=', None), ('energy', '>=', 0)])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('point')


class DishTag(ModelSQL):
    "Dish - Nutrition Tag"
    __name__ = 'meal.dish-meal.tag'
    dish = fields.Many2One('meal.dish', "Dish", required=True,
        ondelete='CASCADE')
    tag = fields.Many2One('meal.tag', "Tag", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('dish')


class Menu(Workflow, ModelSQL, ModelView):
    "Menu (菜单)"
    __name__ = 'meal.menu'
    _states = {'readonly': Eval('state') != 'draft'}
    point = fields.Many2One('meal.point', "Meal Point", required=True,
        ondelete='CASCADE', states=_states)
    kind = fields.Selection([
            ('daily', "Daily"),
            ('weekly', "Weekly"),
            ], "Kind", required=True, states=_states)
    start_date = fields.Date("From", required=True, states=_states,
        domain=[If(Eval('kind') == 'weekly',
                ('start_date', '!=', None), ())])
    end_date = fields.Function(fields.Date("To"), 'on_change_with_end_date',
        searcher='search_end_date')
    lines = fields.One2Many('meal.menu.line', 'menu', "Offers",
        states=_states)
    state = fields.Selection([
            ('draft', "Draft"),
            ('published', "Published"),
            ('withdrawn', "Withdrawn"),
            ], "State", readonly=True, required=True)
    published_at = fields.Timestamp("Published At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.__access__.add('point')
        cls._sql_indexes.add(Index(t, (t.point, Index.Range()),
                (t.start_date, Index.Range())))
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'published'),
            ('published', 'withdrawn'), ('withdrawn', 'draft')}
        cls._buttons.update({
                'publish': {'invisible': Eval('state') != 'draft',
                    'depends': ['state']},
                'withdraw': {'invisible': Eval('state') != 'published',
                    'depends': ['state']},
                'draft': {'invisible': Eval('state') != 'withdrawn',
                    'depends': ['state']},
                })

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_kind():
        return 'daily'

    @fields.depends('kind', 'start_date')
    def on_change_with_end_date(self, name=None):
        if not self.start_date:
            return None
        if self.kind == 'weekly':
            return self.start_date + dt.timedelta(days=6)
        return self.start_date

    @classmethod
    def search_end_date(cls, name, clause):
        # end = start (daily) or start + 6 (weekly)
        _, operator, value = clause
        if operator not in {'>=', '>'}:
            return [('start_date', operator, value)]
        return ['OR',
            [('kind', '=', 'daily'), ('start_date', operator, value)],
            [('kind', '=', 'weekly'),
                ('start_date', operator, value - dt.timedelta(days=6))]]

    def get_rec_name(self, name):
        return '%s %s' % (self.point.rec_name, self.start_date)

    @classmethod
    def validate_fields(cls, menus, field_names):
        super().validate_fields(menus, field_names)
        for menu in menus:
            if menu.kind == 'weekly' and menu.start_date.weekday() != 0:
                raise MenuError(gettext(
                        'elder_meal.msg_menu_monday', menu=menu.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('published')
    def publish(cls, menus):
        "Publish: families and the mini program see it"
        for menu in menus:
            if not menu.lines:
                raise MenuError(gettext(
                        'elder_meal.msg_menu_empty', menu=menu.rec_name))
            for line in menu.lines:
                if not menu.point.serves(line.meal_period):
                    raise MenuError(gettext(
                            'elder_meal.msg_menu_period',
                            menu=menu.rec_name, dish=line.dish.name))
            overlapping = cls.search([
                    ('id', '!=', menu.id),
                    ('point', '=', menu.point.id),
                    ('state', '=', 'published'),
                    ('start_date', '<=', menu.end_date),
                    ('end_date', '>=', menu.start_date),
                    ])
            if overlapping:
                raise MenuError(gettext(
                        'elder_meal.msg_menu_overlap', menu=menu.rec_name,
                        other=overlapping[0].rec_name))
        cls.write(menus, {'published_at': dt.datetime.now().replace(
                    microsecond=0)})

    @classmethod
    @ModelView.button
    @Workflow.transition('withdrawn')
    def withdraw(cls, menus):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, menus):
        pass

    @classmethod
    def offers(cls, point, date, meal_period=None):
        "The published offers (menu lines) of the point on date"
        Line = Pool().get('meal.menu.line')
        domain = [
            ('menu.point', '=', point.id),
            ('menu.state', '=', 'published'),
            ('menu.start_date', '<=', date),
            ('menu.start_date', '>=', date - dt.timedelta(days=6)),
            ]
        if meal_period:
            domain.append(('meal_period', '=', meal_period))
        result = []
        for line in Line.search(domain, order=[('sequence', 'ASC'),
                    ('id', 'ASC')]):
            if line.menu.end_date < date:
                continue
            if line.menu.kind == 'weekly' and line.weekday not in (
                    None, str(date.weekday())):
                continue
            result.append(line)
        return result


class MenuLine(ModelSQL, ModelView):
    "Menu Offer"
    __name__ = 'meal.menu.line'
    menu = fields.Many2One('meal.menu', "Menu", required=True,
        ondelete='CASCADE')
    sequence = fields.Integer("Sequence")
    weekday = fields.Selection(WEEKDAYS, "Weekday", sort=False,
        help="Weekly menus: the day of the offer; empty: every day.")
    meal_period = fields.Selection(MEAL_PERIODS, "Meal Period",
        required=True)
    dish = fields.Many2One('meal.dish', "Dish", required=True,
        ondelete='RESTRICT',
        domain=[('point', '=', Eval('_parent_menu.point', -1))])
    price = fields.Numeric("Price", digits=(16, 2), required=True,
        domain=[('price', '>=', 0)],
        help="What one meal costs before the subsidy.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('menu')
        cls._order = [('sequence', 'ASC'), ('id', 'ASC')]

    @fields.depends('dish', 'price')
    def on_change_dish(self):
        if self.dish and self.price is None:
            self.price = self.dish.price

    def get_rec_name(self, name):
        return '%s %s' % (self.dish.name, self.price)

    def as_json(self):
        return {
            'id': self.id,
            'meal_period': self.meal_period,
            'weekday': int(self.weekday) if self.weekday else None,
            'dish': self.dish.name,
            'description': self.dish.description,
            'price': str(self.price),
            'energy': self.dish.energy,
            'tags': [{'code': t.code, 'name': t.name}
                for t in self.dish.tags],
            }

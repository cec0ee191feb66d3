# This file is part of the eldercare platform. See LICENSE.
"Service catalog (服务项目): what a provider may be sent to do, at what price."
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields,
    sequence_ordered)
from trytond.modules.elder_base.practitioner import KINDS, SKILL_LEVELS

UNITS = [
    ('visit', "Per visit"),
    ('hour', "Per hour"),
    ('item', "Per item"),
    ]


class Item(DeactivableMixin, ModelSQL, ModelView):
    "Service item (服务项目)"
    __name__ = 'service.item'
    # Flags of the catalog, not photos (tests/test_sensitivity.py)
    _sensitivity = {'photo_before': 'public', 'photo_after': 'public'}

    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, translate=True)
    service_type = fields.Many2One(
        'elder.service.type', "Service Type", required=True,
        ondelete='RESTRICT',
        help="The national home-visit service type (01 生活照料 … 06 精神慰藉).")
    unit = fields.Selection(UNITS, "Unit", required=True, sort=False)
    unit_string = unit.translated('unit')
    duration = fields.Integer(
        "Standard Duration", required=True,
        domain=[('duration', '>', 0)],
        help="Standard time on site, in minutes.")
    price = fields.Numeric(
        "Price", digits=(16, 2), required=True,
        domain=[('price', '>=', 0)],
        help="Price per unit paid for the government-purchased service.")
    practitioner_kind = fields.Selection(
        [(None, "")] + KINDS, "Practitioner Kind", sort=False,
        help="Leave empty when any kind of practitioner may do it.")
    skill_level = fields.Selection(
        SKILL_LEVELS, "Minimum Skill Level", sort=False,
        help="Level 5 is the lowest, level 1 the highest.")
    steps = fields.One2Many('service.item.step', 'item', "Steps")
    photo_before = fields.Boolean("Photo Before")
    photo_after = fields.Boolean("Photo After")
    signature = fields.Boolean("Signature")
    regions = fields.Many2Many(
        'service.item-elder.region', 'item', 'region', "Regions",
        help="Where the item is offered, with the regions below them. "
        "Empty means everywhere.")
    description = fields.Text("Description", translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code),
                'elder_service.msg_item_code_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.service_type, Index.Range())))
        cls._order.insert(0, ('code', 'ASC'))

    @staticmethod
    def default_unit():
        return 'visit'

    @staticmethod
    def default_duration():
        return 60

    def get_rec_name(self, name):
        return '[%s] %s' % (self.code, self.name)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('name', operator, operand, *extra),
            ('code', operator, operand, *extra),
            ]

    def offered_in(self, region):
        "Tell whether the item is offered in the region"
        if not self.regions:
            return True
        return bool(
            set(region_ancestors(region)) & {r.id for r in self.regions})

    def qualifies(self, practitioner):
        "Tell whether the practitioner has the kind and level the item needs"
        if (self.practitioner_kind
                and practitioner.kind != self.practitioner_kind):
            return False
        if self.skill_level:
            # Level 1 is the highest: a lower number is a higher level.
            if (not practitioner.skill_level
                    or int(practitioner.skill_level) > int(self.skill_level)):
                return False
        return True


def region_ancestors(region):
    "Return the ids of the region and of every region above it, nearest first"
    ids = []
    while region:
        ids.append(region.id)
        region = region.parent
    return ids


class ItemStep(sequence_ordered(), ModelSQL, ModelView):
    "Step of a service item (服务步骤)"
    __name__ = 'service.item.step'
    item = fields.Many2One(
        'service.item', "Item", required=True, ondelete='CASCADE')
    name = fields.Char("Step", required=True, translate=True)
    required = fields.Boolean("Required")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('item')

    @staticmethod
    def default_required():
        return True


class ItemRegion(ModelSQL):
    "Service item - Region"
    __name__ = 'service.item-elder.region'
    item = fields.Many2One(
        'service.item', "Item", required=True, ondelete='CASCADE')
    region = fields.Many2One(
        'elder.region', "Region", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('item')

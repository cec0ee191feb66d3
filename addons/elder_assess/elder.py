# This file is part of the eldercare platform. See LICENSE.
"""What elder_assess adds to the older person: the assessments, the level
in effect, the entitlements, the change-of-condition report, and the hooks
that re-evaluate entitlements (categories, residence, death, moving away)."""
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import without_check_access

from .assessment import LEVEL_SELECTION


class Elder(metaclass=PoolMeta):
    __name__ = 'elder.elder'
    _sensitivity = {
        'assessments': 'sensitive', 'assessment': 'sensitive',
        'assessment_level': 'sensitive', 'assessment_due': 'sensitive',
        'assessment_condition_date': 'sensitive',
        'entitlements': 'sensitive',
        }

    assessments = fields.One2Many(
        'elder.assessment', 'elder', "Assessments", readonly=True)
    assessment = fields.Function(fields.Many2One(
            'elder.assessment', "Assessment in Effect"), 'get_assessment')
    assessment_level = fields.Function(fields.Selection(
            LEVEL_SELECTION, "Ability Level"), 'get_assessment',
        searcher='search_assessment_level')
    assessment_due = fields.Function(fields.Date(
            "Re-assessment Due"), 'get_assessment')
    assessment_condition_date = fields.Date(
        "Change of Condition Reported", readonly=True,
        help="Set by Report Change of Condition: the scheduler creates an "
        "immediate assessment request and clears it.")
    entitlements = fields.One2Many(
        'elder.entitlement', 'elder', "Entitlements", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'report_condition_change': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def get_assessment(cls, elders, names):
        pool = Pool()
        Assessment = pool.get('elder.assessment')
        result = {n: {e.id: None for e in elders} for n in names}
        for assessment in Assessment.search([
                    ('elder', 'in', [e.id for e in elders]),
                    ('state', '=', 'effective'),
                    ], order=[('effective_date', 'ASC'), ('id', 'ASC')]):
            eid = assessment.elder.id
            if 'assessment' in names:
                result['assessment'][eid] = assessment.id
            if 'assessment_level' in names:
                result['assessment_level'][eid] = assessment.level
            if 'assessment_due' in names:
                result['assessment_due'][eid] = assessment.next_due_date
        return result

    @classmethod
    def search_assessment_level(cls, name, clause):
        _, operator, value = clause[:3]
        return [('assessments', 'where', [
                    ('state', '=', 'effective'),
                    ('level', operator, value),
                    ])]

    @classmethod
    @ModelView.button
    def report_condition_change(cls, elders):
        "The condition changed: an immediate assessment becomes due"
        pool = Pool()
        Date = pool.get('ir.date')
        cls.write(elders, {'assessment_condition_date': Date.today()})

    @classmethod
    def _entitlement_evaluate(cls, elders, date=None):
        Entitlement = Pool().get('elder.entitlement')
        Entitlement.evaluate(elders, date)

    @classmethod
    def deceased(cls, elders, date):
        "Death ends the entitlements on the date of death"
        super().deceased(elders, date)
        cls._entitlement_evaluate(elders, date)

    @classmethod
    def move_away(cls, elders):
        super().move_away(elders)
        cls._entitlement_evaluate(elders)

    @classmethod
    def reactivate(cls, elders):
        super().reactivate(elders)
        cls._entitlement_evaluate(elders)

    @classmethod
    def on_modification(cls, mode, elders, field_names=None):
        super().on_modification(mode, elders, field_names=field_names)
        if mode == 'create' or (mode == 'write' and field_names and (
                    {'region', 'id_number', 'birth_date'} & field_names)):
            cls._entitlement_evaluate(elders)

    @classmethod
    def copy(cls, elders, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('assessments', None)
        default.setdefault('entitlements', None)
        default.setdefault('assessment_condition_date', None)
        return super().copy(elders, default=default)


class ElderCategoryRel(metaclass=PoolMeta):
    __name__ = 'elder.elder-elder.category'

    @classmethod
    def on_modification(cls, mode, relations, field_names=None):
        super().on_modification(mode, relations, field_names=field_names)
        if mode in {'create', 'write'}:
            Pool().get('elder.elder')._entitlement_evaluate(
                list({r.elder for r in relations}))

    @classmethod
    def on_delete(cls, relations):
        callbacks = super().on_delete(relations)
        elder_ids = list({r.elder.id for r in relations})
        Elder = Pool().get('elder.elder')

        def evaluate():
            with without_check_access():
                elders = Elder.search([('id', 'in', elder_ids)])
            Elder._entitlement_evaluate(elders)
        callbacks.append(evaluate)
        return callbacks

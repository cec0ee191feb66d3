# This file is part of the eldercare platform. See LICENSE.
"Inspections and ratings of facilities."
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .exceptions import CommunityValidationError
from .facility import GRADES

KINDS = [
    ('routine', "Routine inspection"),
    ('annual', "Annual rating"),
    ('spot', "Unannounced check"),
    ('safety', "Fire and food safety"),
    ]
STATES = [
    ('draft', "Draft"),
    ('done', "Done"),
    ('cancelled', "Cancelled"),
    ]
# Score (0-100) → grade; the lower bounds of 5, 4, 3 and 2 stars.
GRADE_BOUNDS = [(90, '5'), (80, '4'), (70, '3'), (60, '2'), (0, '1')]


def grade_of(score):
    for bound, grade in GRADE_BOUNDS:
        if score >= bound:
            return grade


class Inspection(Workflow, ModelSQL, ModelView):
    "Facility inspection and rating"
    __name__ = 'community.inspection'
    _states = {'readonly': Eval('state') != 'draft'}
    facility = fields.Many2One(
        'community.facility', "Facility", required=True, ondelete='CASCADE',
        states=_states)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False,
        states=_states)
    date = fields.Date("Date", required=True, states=_states)
    inspector = fields.Many2One('res.user', "Inspector", readonly=True)
    safety_score = fields.Integer("Safety", states=_states,
        domain=[If(Eval('safety_score', None) != None,  # noqa: E711
                [('safety_score', '>=', 0), ('safety_score', '<=', 25)], [])],
        help="0-25: fire safety, food hygiene, accessibility.")
    service_score = fields.Integer("Services", states=_states,
        domain=[If(Eval('service_score', None) != None,  # noqa: E711
                [('service_score', '>=', 0), ('service_score', '<=', 25)],
                [])],
        help="0-25: programmes, meals, care delivered as published.")
    management_score = fields.Integer("Management", states=_states,
        domain=[If(Eval('management_score', None) != None,  # noqa: E711
                [('management_score', '>=', 0),
                    ('management_score', '<=', 25)], [])],
        help="0-25: records, staff, licences, attendance kept.")
    satisfaction_score = fields.Integer("Satisfaction", states=_states,
        domain=[If(Eval('satisfaction_score', None) != None,  # noqa: E711
                [('satisfaction_score', '>=', 0),
                    ('satisfaction_score', '<=', 25)], [])],
        help="0-25: survey of the older people and families.")
    score = fields.Integer("Score", readonly=True)
    grade = fields.Selection(GRADES, "Rating", readonly=True, sort=False)
    findings = fields.Text("Findings", states=_states)
    rectification = fields.Text("Rectification Required", states=_states)
    rectification_deadline = fields.Date("Rectification Deadline",
        states=_states)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.facility, Index.Range()), (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'done'),
            ('draft', 'cancelled'),
            }
        cls._buttons.update({
                'do': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_kind():
        return 'routine'

    @classmethod
    def default_date(cls):
        from trytond.pool import Pool
        return Pool().get('ir.date').today()

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, inspections):
        "Total the four parts into the score and the star rating"
        for inspection in inspections:
            parts = [inspection.safety_score, inspection.service_score,
                inspection.management_score, inspection.satisfaction_score]
            if any(p is None for p in parts):
                raise CommunityValidationError(gettext(
                        'elder_community.msg_inspection_incomplete',
                        facility=inspection.facility.rec_name))
            score = sum(parts)
            cls.write([inspection], {
                    'score': score,
                    'grade': grade_of(score),
                    'inspector': Transaction().user,
                    })

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, inspections):
        pass

# This file is part of the eldercare platform. See LICENSE.
"""Ability assessments to GB/T 42195-2022 (老年人能力评估).

Parts A (basic information), B (the 26 scored items) and C (the report)
of the standard on one record, ``elder.assessment``, with its workflow::

    requested → scheduled → assessed → reviewed → published → effective
    assessed → scheduled                 (the reviewer sends it back)
    published → objected                 (an objection is upheld: a
                                          re-assessment request is created)
    requested, scheduled → cancelled
    effective → superseded               (a newer assessment took effect)

The scores, the preliminary level, the adjustments and the final level are
computed from the answers (``scoring.py``), never typed; ``level`` and
``total`` are stored when the assessment is completed.
"""
import datetime as dt
import secrets

from dateutil.relativedelta import relativedelta
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.elder_base.elder import encrypted
from trytond.modules.elder_security.crypto import EncryptedMixin
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, without_check_access

from . import scoring
from .configuration import get_configuration
from .exceptions import (
    AssessmentError, InvalidOptionError, SeparationError)

REASONS = [
    ('first', "First assessment"),
    ('routine', "Routine assessment"),
    ('immediate', "Immediate assessment (change of condition)"),
    ('reassessment', "Re-assessment (result in doubt)"),
    ('other', "Other"),
    ]
CHANNELS = [
    ('family', "Older person or family"),
    ('community', "Community"),
    ('hotline', "Hotline"),
    ('automatic', "Automatic (due)"),
    ]
STATES = [
    ('requested', "Requested"),
    ('scheduled', "Scheduled"),
    ('assessed', "Assessed"),
    ('reviewed', "Reviewed"),
    ('published', "Published"),
    ('effective', "Effective"),
    ('objected', "Objected"),
    ('superseded', "Superseded"),
    ('cancelled', "Cancelled"),
    ]
OPEN_STATES = ['requested', 'scheduled', 'assessed', 'reviewed', 'published']
LEVEL_SELECTION = [(None, "")] + [(c, en) for c, en, _, _ in scoring.LEVELS]
INFORMANTS = [
    (None, ""),
    ('self', "The older person"),
    ('spouse', "Spouse"),
    ('child', "Child"),
    ('relative', "Other relative"),
    ('carer', "Employed carer"),
    ('other', "Other"),
    ]
PRESSURE_INJURIES = [
    (None, ""),
    ('none', "None"),
    ('1', "Stage I"),
    ('2', "Stage II"),
    ('3', "Stage III"),
    ('4', "Stage IV"),
    ('unstageable', "Unstageable"),
    ]
PAINS = [
    (None, ""),
    ('none', "No pain"),
    ('mild', "Mild pain"),
    ('moderate', "Moderate pain (bearable)"),
    ('severe', "Severe pain (unbearable)"),
    ('unknown', "Unknown or cannot be judged"),
    ]
RISK_FIELDS = [
    'risk_falls', 'risk_wandering', 'risk_choking', 'risk_self_harm',
    'risk_other']
HEALTH_FIELDS = [
    'pressure_injury', 'pain', 'swallowing_difficulty', 'malnutrition',
    'airway_ineffective', 'coma', 'wounds', 'special_care', 'health_other']
RESULT_FIELDS = [
    'score_b1', 'score_b2', 'score_b3', 'score_b4', 'total_score',
    'preliminary_level', 'adjustments', 'final_level']


def _option_selection(item):
    return [(None, "")] + [
        (str(s), "%s points: %s" % (s, en)) for s, en, _ in item['options']]


def qualified(practitioner, date):
    """Whether the practitioner may sign an assessment on date as the
    qualified assessor: an active assessor with a certificate valid on
    that date"""
    if not practitioner or practitioner.kind != 'assessor':
        return False
    if practitioner.state != 'active':
        return False
    for certificate in practitioner.certificates:
        if certificate.issue_date and certificate.issue_date > date:
            continue
        if certificate.expiry_date and certificate.expiry_date < date:
            continue
        return True
    return False


class Assessment(EncryptedMixin, Workflow, ModelSQL, ModelView):
    "Ability assessment (老年人能力评估)"
    __name__ = 'elder.assessment'
    _rec_name = 'number'
    _encrypted_fields = {
        'informant_phone': 'phone',
        'health_other': None,
        'wounds': None,
        'special_care': None,
        }
    # Health information of the older person (GB/T 35273 个人敏感信息);
    # informant and signatures are personal.
    _sensitivity = {
        **{f: 'sensitive' for f in scoring.ITEM_FIELDS},
        **{f: 'sensitive' for f in RISK_FIELDS},
        **{f: 'sensitive' for f in HEALTH_FIELDS},
        **{f: 'sensitive' for f in RESULT_FIELDS},
        'risk_events': 'sensitive', 'level': 'sensitive',
        'total': 'sensitive', 'adjustment_codes': 'sensitive',
        'diagnoses': 'sensitive', 'medications': 'sensitive',
        'elder': 'personal', 'informant_name': 'personal',
        'informant_relationship': 'personal', 'informant_phone': 'personal',
        'assessor1_signature': 'personal', 'assessor2_signature': 'personal',
        'note': 'personal', 'verify_token': 'internal',
        'origin': 'sensitive', 'reassessments': 'sensitive',
        'assessment_date': 'sensitive',
        'objections': 'personal', 'next_due_date': 'sensitive',
        }
    _answer_states = {
        'readonly': ~Eval('state').in_(['requested', 'scheduled']),
        }
    _states = {'readonly': Eval('state') != 'requested'}

    number = fields.Char("Number", readonly=True)
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='RESTRICT',
        states=_states)
    region = fields.Function(
        fields.Many2One('elder.region', "Region"), 'get_region',
        searcher='search_region')
    reason = fields.Selection(
        REASONS, "Reason", required=True, sort=False, states=_answer_states,
        help="A.1.3 评估原因.")
    reason_other = fields.Char(
        "Other Reason", states={
            'invisible': Eval('reason') != 'other',
            'required': Eval('reason') == 'other',
            'readonly': _answer_states['readonly'],
            })
    channel = fields.Selection(
        CHANNELS, "Requested By", required=True, sort=False, states=_states)
    request_date = fields.Date("Request Date", required=True, states=_states)
    scheduled_date = fields.Date(
        "Scheduled Date", states={
            'readonly': ~Eval('state').in_(['requested', 'scheduled']),
            'required': Eval('state') == 'scheduled',
            })
    assessment_date = fields.Date(
        "Assessment Date", states=_answer_states,
        help="A.1.2 评估基准日期; the day of the visit (today by default).")
    origin = fields.Many2One(
        'elder.assessment', "Origin", readonly=True, ondelete='RESTRICT',
        help="The assessment whose objection or due date led to this "
        "request.")
    reassessments = fields.One2Many(
        'elder.assessment', 'origin', "Re-assessments", readonly=True)

    assessor1 = fields.Many2One(
        'elder.practitioner', "First Assessor", ondelete='RESTRICT',
        domain=[('kind', '=', 'assessor')], states={
            'readonly': _answer_states['readonly'],
            'required': Eval('state') == 'scheduled',
            })
    assessor2 = fields.Many2One(
        'elder.practitioner', "Second Assessor", ondelete='RESTRICT',
        domain=[('kind', '=', 'assessor'),
            ('id', '!=', Eval('assessor1', -1))],
        states={
            'readonly': _answer_states['readonly'],
            'required': Eval('state') == 'scheduled',
            })
    assessor1_signature = fields.Binary(
        "First Assessor Signature", states=_answer_states,
        help="Image of the handwritten signature (PNG or JPEG).")
    assessor2_signature = fields.Binary(
        "Second Assessor Signature", states=_answer_states)

    # A.2 care-risk events in the last 30 days
    risk_falls = fields.Integer(
        "Falls", states=_answer_states, domain=[('risk_falls', '>=', 0)])
    risk_wandering = fields.Integer(
        "Wandering", states=_answer_states,
        domain=[('risk_wandering', '>=', 0)])
    risk_choking = fields.Integer(
        "Choking", states=_answer_states, domain=[('risk_choking', '>=', 0)])
    risk_self_harm = fields.Integer(
        "Suicide or Self-harm", states=_answer_states,
        domain=[('risk_self_harm', '>=', 0)])
    risk_other = fields.Integer(
        "Other Care-risk Events", states=_answer_states,
        domain=[('risk_other', '>=', 0)])
    risk_events = fields.Function(
        fields.Integer("Care-risk Events (30 days)"),
        'on_change_with_risk_events')

    # A.3 informant
    informant_name = fields.Char("Informant", states=_answer_states)
    informant_relationship = fields.Selection(
        INFORMANTS, "Relationship to the Older Person", sort=False,
        states=_answer_states)
    informant_phone = encrypted(fields.Char(
            "Informant Phone", states=_answer_states))
    informant_phone_enc = fields.Char(
        "Informant Phone (Encrypted)", readonly=True)

    # A.4 diagnoses and medication
    diagnoses = fields.One2Many(
        'elder.assessment.diagnosis', 'assessment', "Diagnoses (ICD-10)",
        states=_answer_states)
    medications = fields.One2Many(
        'elder.assessment.medication', 'assessment', "Medication",
        states=_answer_states)

    # A.5 health conditions
    pressure_injury = fields.Selection(
        PRESSURE_INJURIES, "Pressure Injury", sort=False,
        states=_answer_states)
    pain = fields.Selection(PAINS, "Pain", sort=False, states=_answer_states)
    swallowing_difficulty = fields.Boolean(
        "Swallowing Difficulty", states=_answer_states)
    malnutrition = fields.Boolean(
        "Malnutrition (Low BMI)", states=_answer_states)
    airway_ineffective = fields.Boolean(
        "Ineffective Airway Clearance", states=_answer_states)
    coma = fields.Boolean(
        "Coma", states=_answer_states,
        help="A person in a coma is rated complete loss of ability directly.")
    wounds = encrypted(fields.Char("Wounds", states=_answer_states))
    wounds_enc = fields.Char("Wounds (Encrypted)", readonly=True)
    special_care = encrypted(fields.Char(
            "Special Care", states=_answer_states,
            help="Feeding tube, catheter, tracheotomy, stoma, ventilator, "
            "dialysis …"))
    special_care_enc = fields.Char("Special Care (Encrypted)", readonly=True)
    health_other = encrypted(fields.Text(
            "Other Health Conditions", states=_answer_states))
    health_other_enc = fields.Text(
        "Other Health Conditions (Encrypted)", readonly=True)

    # C: results, computed
    score_b1 = fields.Function(
        fields.Integer("Self-care"), 'on_change_with_score_b1')
    score_b2 = fields.Function(
        fields.Integer("Basic Mobility"), 'on_change_with_score_b2')
    score_b3 = fields.Function(
        fields.Integer("Mental State"), 'on_change_with_score_b3')
    score_b4 = fields.Function(
        fields.Integer("Perception and Social Participation"),
        'on_change_with_score_b4')
    total_score = fields.Function(
        fields.Integer("Total Score"), 'on_change_with_total_score')
    preliminary_level = fields.Function(
        fields.Selection(LEVEL_SELECTION, "Preliminary Level"),
        'on_change_with_preliminary_level')
    adjustments = fields.Function(
        fields.Text("Basis for Changing the Level"),
        'on_change_with_adjustments')
    final_level = fields.Function(
        fields.Selection(LEVEL_SELECTION, "Final Level"),
        'on_change_with_final_level')
    # stored when the assessment is completed
    level = fields.Selection(
        LEVEL_SELECTION, "Level", readonly=True,
        help="The final level, stored when the assessment was completed.")
    total = fields.Integer("Total", readonly=True)
    adjustment_codes = fields.Char("Adjustments Applied", readonly=True)

    assessed_by = fields.Many2One(
        'res.user', "Completed By", readonly=True, ondelete='RESTRICT')
    reviewed_by = fields.Many2One(
        'res.user', "Reviewed By", readonly=True, ondelete='RESTRICT')
    reviewed_date = fields.Date("Review Date", readonly=True)
    review_note = fields.Text("Review Note", states={
            'readonly': Eval('state') != 'assessed',
            })
    published_date = fields.Date("Published On", readonly=True)
    effective_on = fields.Date(
        "Takes Effect On", readonly=True,
        help="The end of the objection period: the result takes effect on "
        "this day unless an objection is upheld.")
    effective_date = fields.Date("Effective Date", readonly=True)
    next_due_date = fields.Date(
        "Next Assessment Due", readonly=True,
        help="Routine re-assessment date (effective date plus the "
        "configured interval).")
    objections = fields.One2Many(
        'elder.assessment.objection', 'assessment', "Objections",
        states={'readonly': Eval('state') != 'published'})
    verify_token = fields.Char("Verification Token", readonly=True)
    state = fields.Selection(STATES, "State", readonly=True, required=True)
    note = fields.Text("Note")

    del _answer_states, _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_uniq', Unique(t, t.number),
                'elder_assess.msg_assessment_number_unique'),
            ('verify_token_uniq', Unique(t, t.verify_token),
                'elder_assess.msg_assessment_token_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.elder, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.verify_token, Index.Equality())),
                })
        cls._order = [('request_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('requested', 'scheduled'),
            ('scheduled', 'assessed'),
            ('assessed', 'scheduled'),
            ('assessed', 'reviewed'),
            ('reviewed', 'published'),
            ('published', 'effective'),
            ('published', 'objected'),
            ('requested', 'cancelled'),
            ('scheduled', 'cancelled'),
            ('effective', 'superseded'),
            }
        cls._buttons.update({
                'schedule': {
                    'invisible': Eval('state') != 'requested',
                    'depends': ['state'],
                    },
                'complete': {
                    'invisible': Eval('state') != 'scheduled',
                    'depends': ['state'],
                    },
                'send_back': {
                    'invisible': Eval('state') != 'assessed',
                    'depends': ['state'],
                    },
                'review': {
                    'invisible': Eval('state') != 'assessed',
                    'depends': ['state'],
                    },
                'publish': {
                    'invisible': Eval('state') != 'reviewed',
                    'depends': ['state'],
                    },
                'make_effective': {
                    'invisible': Eval('state') != 'published',
                    'depends': ['state'],
                    },
                'uphold_objection': {
                    'invisible': Eval('state') != 'published',
                    'readonly': ~Bool(Eval('objections', [-1])),
                    'depends': ['state', 'objections'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['requested', 'scheduled']),
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'requested'

    @staticmethod
    def default_reason():
        return 'first'

    @staticmethod
    def default_channel():
        return 'family'

    @classmethod
    def default_request_date(cls):
        return Pool().get('ir.date').today()

    @staticmethod
    def default_coma():
        return False

    def get_region(self, name):
        return self.elder.region.id if self.elder else None

    @classmethod
    def search_region(cls, name, clause):
        return [('elder.region' + clause[0][len(name):], *clause[1:])]

    # --- results ------------------------------------------------------------

    def _answers(self):
        return {f: getattr(self, f, None) for f in scoring.ITEM_FIELDS}

    def _diagnosis_codes(self):
        codes = []
        for line in (getattr(self, 'diagnoses', None) or []):
            try:
                codes.append(scoring.normalize_icd10(line.code))
            except (ValueError, AttributeError):
                pass
        return codes

    def compute_result(self):
        """Return the scoring of the answers (see scoring.score); dimension
        sums of the answered items only and no level while incomplete"""
        answers = self._answers()
        try:
            return scoring.score(
                answers, coma=bool(getattr(self, 'coma', False)),
                diagnoses=self._diagnosis_codes(),
                risk_events=self.on_change_with_risk_events())
        except (KeyError, scoring.InvalidOption):
            dims = {d[0]: None for d in scoring.DIMENSIONS}
            for field, value in answers.items():
                try:
                    score = scoring.check_answer(field, value)
                except scoring.InvalidOption:
                    continue
                dim = scoring.ITEM_BY_FIELD[field]['dimension']
                dims[dim] = (dims[dim] or 0) + score
            return {
                'dimensions': dims, 'total': None, 'preliminary': None,
                'adjustments': [], 'final': None}

    _result_depends = (scoring.ITEM_FIELDS + RISK_FIELDS
        + ['coma', 'diagnoses'])

    @fields.depends(*RISK_FIELDS)
    def on_change_with_risk_events(self, name=None):
        return sum(getattr(self, f, None) or 0 for f in RISK_FIELDS)

    @fields.depends(*_result_depends)
    def on_change_with_score_b1(self, name=None):
        return self.compute_result()['dimensions']['b1']

    @fields.depends(*_result_depends)
    def on_change_with_score_b2(self, name=None):
        return self.compute_result()['dimensions']['b2']

    @fields.depends(*_result_depends)
    def on_change_with_score_b3(self, name=None):
        return self.compute_result()['dimensions']['b3']

    @fields.depends(*_result_depends)
    def on_change_with_score_b4(self, name=None):
        return self.compute_result()['dimensions']['b4']

    @fields.depends(*_result_depends)
    def on_change_with_total_score(self, name=None):
        return self.compute_result()['total']

    @fields.depends(*_result_depends)
    def on_change_with_preliminary_level(self, name=None):
        level = self.compute_result()['preliminary']
        return None if level is None else str(level)

    @fields.depends(*_result_depends)
    def on_change_with_final_level(self, name=None):
        level = self.compute_result()['final']
        return None if level is None else str(level)

    @fields.depends(*_result_depends)
    def on_change_with_adjustments(self, name=None):
        return '\n'.join(
            gettext('elder_assess.msg_adjustment_%s' % code)
            for code in self.compute_result()['adjustments'])

    # --- validation -----------------------------------------------------------

    @classmethod
    def _validate(cls, records, field_names=None):
        # Before the framework's generic selection check, so the user reads
        # which item and which options (GB/T 42195) are concerned.
        fields_ = scoring.ITEM_FIELDS if field_names is None else [
            f for f in scoring.ITEM_FIELDS if f in field_names]
        for record in records:
            for field in fields_:
                value = getattr(record, field)
                if value in (None, ''):
                    continue
                try:
                    scoring.check_answer(field, value)
                except scoring.InvalidOption:
                    item = scoring.ITEM_BY_FIELD[field]
                    raise InvalidOptionError(gettext(
                            'elder_assess.msg_invalid_option',
                            item=cls.__names__(field)['field'],
                            number=item['number'], value=value,
                            options=', '.join(
                                str(o[0]) for o in item['options'])))
        super()._validate(records, field_names=field_names)

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            values['number'] = Sequence(ModelData.get_id(
                    'elder_assess', 'sequence_assessment')).get()
        return values

    @classmethod
    def check_modification(cls, mode, assessments, values=None,
            external=False):
        super().check_modification(
            mode, assessments, values=values, external=external)
        if mode == 'delete':
            for assessment in assessments:
                if assessment.state not in {'requested', 'cancelled'}:
                    raise AssessmentError(gettext(
                            'elder_assess.msg_assessment_delete',
                            assessment=assessment.rec_name))

    @classmethod
    def copy(cls, assessments, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'level', 'total', 'adjustment_codes',
                'assessed_by', 'reviewed_by', 'reviewed_date',
                'published_date', 'effective_on', 'effective_date',
                'next_due_date', 'verify_token', 'origin',
                'assessor1_signature', 'assessor2_signature']:
            default.setdefault(name, None)
        default.setdefault('objections', None)
        default.setdefault('reassessments', None)
        default.setdefault('state', 'requested')
        return super().copy(assessments, default=default)

    # --- workflow -------------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('scheduled')
    def schedule(cls, assessments):
        for assessment in assessments:
            if not assessment.scheduled_date:
                raise AssessmentError(gettext(
                        'elder_assess.msg_schedule_date',
                        assessment=assessment.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('assessed')
    def complete(cls, assessments):
        "The two assessors have scored every item"
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        to_write = []
        for assessment in assessments:
            date = assessment.assessment_date or today
            if date > today:
                raise AssessmentError(gettext(
                        'elder_assess.msg_assessment_date_future',
                        assessment=assessment.rec_name))
            assessment.check_assessors(date)
            missing = [
                cls.__names__(f)['field'] for f in scoring.ITEM_FIELDS
                if getattr(assessment, f) in (None, '')]
            if missing:
                raise AssessmentError(gettext(
                        'elder_assess.msg_items_missing',
                        assessment=assessment.rec_name,
                        items=', '.join(missing)))
            result = assessment.compute_result()
            to_write.extend([[assessment], {
                        'assessment_date': date,
                        'level': str(result['final']),
                        'total': result['total'],
                        'adjustment_codes': ','.join(result['adjustments']),
                        'assessed_by': Transaction().user or None,
                        }])
        if to_write:
            cls.write(*to_write)

    def check_assessors(self, date):
        "Two different active assessors, at least one qualified on date"
        if (not self.assessor1 or not self.assessor2
                or self.assessor1 == self.assessor2):
            raise AssessmentError(gettext(
                    'elder_assess.msg_two_assessors',
                    assessment=self.rec_name))
        for assessor in (self.assessor1, self.assessor2):
            if assessor.state != 'active' or assessor.kind != 'assessor':
                raise AssessmentError(gettext(
                        'elder_assess.msg_assessor_inactive',
                        assessment=self.rec_name,
                        assessor=assessor.rec_name))
        if not (qualified(self.assessor1, date)
                or qualified(self.assessor2, date)):
            raise AssessmentError(gettext(
                    'elder_assess.msg_no_qualified_assessor',
                    assessment=self.rec_name, date=date))

    @classmethod
    @ModelView.button
    @Workflow.transition('scheduled')
    def send_back(cls, assessments):
        "The reviewer returns the assessment to the assessors"
        cls._check_not_own(assessments)
        cls.write(assessments, {
                'level': None, 'total': None, 'adjustment_codes': None,
                'assessed_by': None,
                })

    @classmethod
    def _check_not_own(cls, assessments):
        "Separation of duties: no one reviews an assessment they made"
        user_id = Transaction().user
        if not user_id:
            return
        for assessment in assessments:
            makers = {
                a.user.id for a in (assessment.assessor1, assessment.assessor2)
                if a and a.user}
            if assessment.assessed_by:
                makers.add(assessment.assessed_by.id)
            if user_id in makers:
                raise SeparationError(gettext(
                        'elder_assess.msg_review_own',
                        assessment=assessment.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('reviewed')
    def review(cls, assessments):
        pool = Pool()
        Date = pool.get('ir.date')
        cls._check_not_own(assessments)
        for assessment in assessments:
            # the answers cannot change after completion (readonly states),
            # but a direct write could: the stored result must still hold.
            result = assessment.compute_result()
            if (assessment.level != str(result['final'])
                    or assessment.total != result['total']):
                raise AssessmentError(gettext(
                        'elder_assess.msg_result_changed',
                        assessment=assessment.rec_name))
        cls.write(assessments, {
                'reviewed_by': Transaction().user or None,
                'reviewed_date': Date.today(),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('published')
    def publish(cls, assessments):
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        days = get_configuration().objection_days
        for assessment in assessments:
            assessment.published_date = today
            assessment.effective_on = today + dt.timedelta(days=days)
            assessment.verify_token = (
                assessment.verify_token or secrets.token_urlsafe(18))
        cls.save(assessments)

    @classmethod
    @ModelView.button
    def make_effective(cls, assessments):
        """The objection period is over without an open objection: the
        result takes effect, the previous one is superseded and the
        entitlements follow (免申即享: nobody applies)"""
        pool = Pool()
        Date = pool.get('ir.date')
        Entitlement = pool.get('elder.entitlement')
        today = Date.today()
        assessments = [a for a in assessments if a.state == 'published']
        for assessment in assessments:
            if assessment.effective_on and assessment.effective_on > today:
                raise AssessmentError(gettext(
                        'elder_assess.msg_objection_period',
                        assessment=assessment.rec_name,
                        date=assessment.effective_on))
            if any(o.state == 'open' for o in assessment.objections):
                raise AssessmentError(gettext(
                        'elder_assess.msg_objection_open',
                        assessment=assessment.rec_name))
        if not assessments:
            return
        cls._take_effect(assessments)
        # One effective assessment per older person: the latest.
        elders = {a.elder for a in assessments}
        effective = cls.search([
                ('elder', 'in', [e.id for e in elders]),
                ('state', '=', 'effective'),
                ], order=[('effective_date', 'DESC'), ('id', 'DESC')])
        seen, older = set(), []
        for assessment in effective:
            if assessment.elder in seen:
                older.append(assessment)
            seen.add(assessment.elder)
        if older:
            cls.supersede(older)
        for elder in elders:
            date = max(a.effective_date for a in assessments
                if a.elder == elder)
            Entitlement.evaluate([elder], date)

    @classmethod
    @Workflow.transition('effective')
    def _take_effect(cls, assessments):
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        months = get_configuration().periodic_months
        for assessment in assessments:
            date = assessment.effective_on or today
            assessment.effective_date = date
            assessment.next_due_date = date + relativedelta(months=months)
        cls.save(assessments)

    @classmethod
    @Workflow.transition('superseded')
    def supersede(cls, assessments):
        "A newer assessment of the older person took effect"
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('objected')
    def uphold_objection(cls, assessments):
        """An objection is upheld: the result does not take effect and a
        re-assessment is requested"""
        pool = Pool()
        Date = pool.get('ir.date')
        Objection = pool.get('elder.assessment.objection')
        today = Date.today()
        open_ = []
        requests = []
        for assessment in assessments:
            lines = [o for o in assessment.objections if o.state == 'open']
            if not lines:
                raise AssessmentError(gettext(
                        'elder_assess.msg_no_objection',
                        assessment=assessment.rec_name))
            open_.extend(lines)
            requests.append({
                    'elder': assessment.elder.id,
                    'reason': 'reassessment',
                    'channel': 'family',
                    'request_date': today,
                    'origin': assessment.id,
                    })
        Objection.write(open_, {'state': 'upheld'})
        with without_check_access():
            cls.create(requests)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, assessments):
        pass

    # --- scheduler ------------------------------------------------------------

    @classmethod
    def cron_take_effect(cls):
        cls.take_effect_due()

    @classmethod
    def cron_create_requests(cls):
        cls.create_due_requests()

    @classmethod
    def take_effect_due(cls, date=None):
        "Make effective the published results whose objection period ended"
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        assessments = cls.search([
                ('state', '=', 'published'),
                ('effective_on', '<=', date),
                ])
        ready = [a for a in assessments
            if not any(o.state == 'open' for o in a.objections)]
        if ready:
            cls.make_effective(ready)
        return ready

    @classmethod
    def create_due_requests(cls, date=None):
        """Create the requests of the re-assessments that are due: routine
        (the effective assessment's next due date is within the lead time)
        and immediate (a change of condition was reported)"""
        pool = Pool()
        Date = pool.get('ir.date')
        Elder = pool.get('elder.elder')
        if date is None:
            date = Date.today()
        lead = get_configuration().due_lead_days
        busy = {a.elder.id for a in cls.search(
                [('state', 'in', OPEN_STATES)])}
        requests = {}
        changed = Elder.search([
                ('state', '=', 'active'),
                ('assessment_condition_date', '!=', None),
                ('assessment_condition_date', '<=', date),
                ])
        for elder in changed:
            if elder.id not in busy:
                requests[elder.id] = {
                    'elder': elder.id, 'reason': 'immediate',
                    'channel': 'automatic', 'request_date': date,
                    'origin': elder.assessment.id if elder.assessment
                    else None,
                    }
        due = cls.search([
                ('state', '=', 'effective'),
                ('next_due_date', '<=', date + dt.timedelta(days=lead)),
                ('elder.state', '=', 'active'),
                ])
        for assessment in due:
            elder_id = assessment.elder.id
            if elder_id in busy or elder_id in requests:
                continue
            requests[elder_id] = {
                'elder': elder_id, 'reason': 'routine',
                'channel': 'automatic', 'request_date': date,
                'origin': assessment.id,
                }
        created = cls.create(list(requests.values())) if requests else []
        if changed:
            Elder.write(changed, {'assessment_condition_date': None})
        return created


class Diagnosis(EncryptedMixin, ModelSQL, ModelView):
    "Assessment diagnosis (ICD-10)"
    __name__ = 'elder.assessment.diagnosis'
    _rec_name = 'code'
    _encrypted_fields = {'code': None, 'name': None}
    _encrypted_indexed = {'code': 'icd10'}
    _sensitivity = {'code': 'sensitive', 'name': 'sensitive',
        'group': 'sensitive', 'assessment': 'sensitive'}

    assessment = fields.Many2One(
        'elder.assessment', "Assessment", required=True, ondelete='CASCADE')
    code = encrypted(fields.Char(
            "ICD-10 Code", required=True,
            help="For example F01.1 (vascular dementia) or I63.9."),
        index=True)
    code_enc = fields.Char("ICD-10 Code (Encrypted)", readonly=True)
    code_bidx = fields.Char("ICD-10 Code (Index)", readonly=True)
    name = encrypted(fields.Char("Diagnosis"))
    name_enc = fields.Char("Diagnosis (Encrypted)", readonly=True)
    group = fields.Function(fields.Selection([
                (None, ""),
                ('dementia', "Dementia (F00–F03)"),
                ('mental', "Other mental or behavioural disorder (F04–F99)"),
                ], "Adjustment Group"), 'on_change_with_group')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('assessment')

    @classmethod
    def encrypted_normalize(cls, name, value):
        value = super().encrypted_normalize(name, value)
        if name == 'code' and isinstance(value, str):
            value = value.upper().replace(' ', '')
        return value

    def get_rec_name(self, name):
        return ' '.join(filter(None, [self.code, self.name]))

    @fields.depends('code')
    def on_change_with_group(self, name=None):
        try:
            return scoring.icd10_group(scoring.normalize_icd10(self.code))
        except ValueError:
            return None

    @classmethod
    def validate_fields(cls, diagnoses, field_names):
        super().validate_fields(diagnoses, field_names)
        if field_names is None or 'code' in field_names:
            for diagnosis in diagnoses:
                try:
                    scoring.normalize_icd10(diagnosis.code)
                except ValueError:
                    raise InvalidOptionError(gettext(
                            'elder_assess.msg_invalid_icd10',
                            code=diagnosis.code))

    @classmethod
    def check_modification(cls, mode, diagnoses, values=None,
            external=False):
        super().check_modification(
            mode, diagnoses, values=values, external=external)
        _check_open(diagnoses)


class Medication(EncryptedMixin, ModelSQL, ModelView):
    "Assessment medication"
    __name__ = 'elder.assessment.medication'
    _encrypted_fields = {'name': None, 'dosage': None}
    _encrypted_indexed = {'name': 'medicine'}
    _sensitivity = {'name': 'sensitive', 'dosage': 'sensitive',
        'route': 'sensitive', 'frequency': 'sensitive',
        'assessment': 'sensitive'}

    assessment = fields.Many2One(
        'elder.assessment', "Assessment", required=True, ondelete='CASCADE')
    name = encrypted(fields.Char("Medicine", required=True), index=True)
    name_bidx = fields.Char("Medicine (Index)", readonly=True)
    name_enc = fields.Char("Medicine (Encrypted)", readonly=True)
    route = fields.Char("Route")
    dosage = encrypted(fields.Char("Dosage"))
    dosage_enc = fields.Char("Dosage (Encrypted)", readonly=True)
    frequency = fields.Char("Frequency")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('assessment')

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def check_modification(cls, mode, medications, values=None,
            external=False):
        super().check_modification(
            mode, medications, values=values, external=external)
        _check_open(medications)


def _check_open(lines):
    "Lines of part A change only while the assessment is not completed"
    for line in lines:
        if line.assessment.state not in {'requested', 'scheduled'}:
            raise AssessmentError(gettext(
                    'elder_assess.msg_assessment_closed',
                    assessment=line.assessment.rec_name))


OBJECTION_STATES = [
    ('open', "Open"),
    ('upheld', "Upheld"),
    ('rejected', "Rejected"),
    ]


class Objection(ModelSQL, ModelView):
    "Objection to a published assessment"
    __name__ = 'elder.assessment.objection'
    _sensitivity = {'raised_by': 'personal', 'reason': 'personal',
        'answer': 'personal', 'assessment': 'sensitive'}

    assessment = fields.Many2One(
        'elder.assessment', "Assessment", required=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    raised_by = fields.Char("Raised By", required=True)
    reason = fields.Text("Reason", required=True)
    answer = fields.Text("Answer")
    state = fields.Selection(OBJECTION_STATES, "State", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('assessment')

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @staticmethod
    def default_state():
        return 'open'

    @classmethod
    def check_modification(cls, mode, objections, values=None,
            external=False):
        super().check_modification(
            mode, objections, values=values, external=external)
        if mode == 'create':
            for objection in objections:
                if objection.assessment.state != 'published':
                    raise AssessmentError(gettext(
                            'elder_assess.msg_objection_not_published',
                            assessment=objection.assessment.rec_name))

    @classmethod
    def validate_fields(cls, objections, field_names):
        super().validate_fields(objections, field_names)
        for objection in objections:
            if (objection.state == 'rejected' and not objection.answer):
                raise AssessmentError(gettext(
                        'elder_assess.msg_objection_answer'))
            if (objection.assessment.effective_on
                    and objection.date >= objection.assessment.effective_on
                    and objection.state == 'open'):
                raise AssessmentError(gettext(
                        'elder_assess.msg_objection_late',
                        date=objection.assessment.effective_on))


def _add_item_fields():
    "The 26 items of part B as Selection fields of the assessment"
    for item in scoring.ITEMS:
        setattr(Assessment, item['field'], fields.Selection(
                _option_selection(item), item['en'], sort=False,
                help=item['number'], states={
                    'readonly': ~Eval('state').in_(['requested', 'scheduled']),
                    }))


_add_item_fields()


# This file is part of the eldercare platform. See LICENSE.
"""Face enrolment (identity side) and templates (biometric side).

face.enrolment links a person (elder or practitioner, through the party) to
a random pseudonymous key; face.template holds only that key and the
encrypted embedding — no name, no ID number, no reference to a party or to
the enrolment row — so the template table read alone identifies nobody.
"""
import base64
import datetime
import secrets

import numpy as np

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.elder_security.crypto import EncryptedMixin
from trytond.modules.elder_security.separation import audit_log
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .engine import FaceEngine, MODEL_VERSION
from .exceptions import EnrolmentError, FaceQualityError, LivenessError

STATES = [
    ('draft', "Draft"),
    ('enrolled', "Enrolled"),
    ('deleted', "Deleted"),
    ]
SUBJECTS = [
    ('elder', "Older Person"),
    ('practitioner', "Practitioner"),
    ]
DELETION_REASONS = [
    (None, ""),
    ('withdrawal', "Consent Withdrawn"),
    ('death', "Death"),
    ('left', "Practitioner Left"),
    ('request', "On Request"),
    ]
MAX_IMAGES = 5


def encode_embedding(embedding):
    data = np.asarray(embedding, dtype='<f4').reshape(128).tobytes()
    return base64.b64encode(data).decode('ascii')


def decode_embedding(text):
    return np.frombuffer(base64.b64decode(text), dtype='<f4').reshape(128)


def reason_text(code):
    "The translated text of a quality / decision reason code"
    if not code:
        return ''
    return gettext('elder_face.msg_reason_%s' % code)


class Enrolment(Workflow, ModelSQL, ModelView):
    "Face Enrolment (人脸注册)"
    __name__ = 'face.enrolment'
    _sensitivity = {
        'elder': 'personal', 'practitioner': 'personal', 'party': 'personal',
        'region': 'personal', 'pseudonym': 'sensitive',
        'consent': 'personal', 'subject_name': 'personal',
        }
    _readonly = {'readonly': Eval('state') != 'draft'}

    subject = fields.Selection(SUBJECTS, "Subject", required=True,
        states=_readonly, sort=False)
    elder = fields.Many2One('elder.elder', "Older Person", ondelete='RESTRICT',
        states={'required': Eval('subject') == 'elder',
            'invisible': Eval('subject') != 'elder',
            'readonly': _readonly['readonly']})
    practitioner = fields.Many2One('elder.practitioner', "Practitioner",
        ondelete='RESTRICT',
        states={'required': Eval('subject') == 'practitioner',
            'invisible': Eval('subject') != 'practitioner',
            'readonly': _readonly['readonly']})
    party = fields.Many2One('party.party', "Person", readonly=True,
        ondelete='RESTRICT')
    subject_name = fields.Function(fields.Char("Name"), 'get_subject_name')
    region = fields.Many2One('elder.region', "Region", readonly=True,
        ondelete='RESTRICT')
    pseudonym = fields.Char("Pseudonymous Key", readonly=True,
        help="Random key linking the templates to this enrolment.")
    consent = fields.Many2One('security.consent', "Biometric Consent",
        readonly=True, ondelete='RESTRICT')
    state = fields.Selection(STATES, "Status", readonly=True, required=True)
    enrolled_at = fields.Timestamp("Enrolled At", readonly=True)
    enrolled_by = fields.Many2One('res.user', "Enrolled By", readonly=True,
        ondelete='SET NULL')
    model_version = fields.Char("Model Version", readonly=True)
    template_count = fields.Function(
        fields.Integer("Templates"), 'get_template_count')
    deleted_at = fields.Timestamp("Templates Deleted At", readonly=True)
    deletion_reason = fields.Selection(DELETION_REASONS, "Deletion Reason",
        readonly=True, sort=False)
    del _readonly

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('pseudonym_uniq', Unique(t, t.pseudonym),
                'elder_face.msg_pseudonym_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.party, Index.Range())),
                Index(t, (t.pseudonym, Index.Equality())),
                })
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'enrolled'),
            ('enrolled', 'enrolled'),
            ('enrolled', 'deleted'),
            ('deleted', 'enrolled'),
            ('draft', 'deleted'),
            }
        cls._buttons.update({
                'enrol': {
                    'invisible': Eval('state') == 'deleted',
                    'depends': ['state'],
                    },
                'delete_templates': {
                    'invisible': Eval('state') != 'enrolled',
                    'depends': ['state'],
                    },
                're_enrol': {
                    'invisible': Eval('state') != 'deleted',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'draft'

    @staticmethod
    def default_subject():
        return 'elder'

    def get_rec_name(self, name):
        return self.subject_name or self.pseudonym or str(self.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value, *_ = clause
        return ['OR',
            ('elder.name', operator, value),
            ('practitioner.name', operator, value)]

    def get_subject_name(self, name):
        with without_check_access():
            if self.elder:
                return self.elder.name
            if self.practitioner:
                return self.practitioner.name

    @classmethod
    def get_template_count(cls, enrolments, name):
        Template = Pool().get('face.template')
        counts = {e.id: 0 for e in enrolments}
        by_key = {e.pseudonym: e.id for e in enrolments if e.pseudonym}
        with without_check_access():
            for template in Template.search(
                    [('pseudonym', 'in', list(by_key))]):
                counts[by_key[template.pseudonym]] += 1
        return counts

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        pool = Pool()
        Elder = pool.get('elder.elder')
        Practitioner = pool.get('elder.practitioner')
        if mode == 'create':
            values.setdefault('pseudonym', secrets.token_hex(16))
        with without_check_access():
            if values.get('elder'):
                elder = Elder(values['elder'])
                values['party'] = elder.party.id
                values['region'] = elder.region.id if elder.region else None
            elif values.get('practitioner'):
                practitioner = Practitioner(values['practitioner'])
                values['party'] = practitioner.party.id
                provider = practitioner.provider
                region = getattr(provider, 'region', None)
                values['region'] = region.id if region else None
        return values

    @classmethod
    def validate_fields(cls, enrolments, field_names):
        super().validate_fields(enrolments, field_names)
        for enrolment in enrolments:
            if bool(enrolment.elder) == bool(enrolment.practitioner):
                raise EnrolmentError(gettext('elder_face.msg_one_subject'))
        if field_names is None or 'party' in field_names:
            for enrolment in enrolments:
                others = cls.search([
                        ('party', '=', enrolment.party.id),
                        ('id', '!=', enrolment.id),
                        ], limit=1)
                if others:
                    raise EnrolmentError(gettext(
                            'elder_face.msg_one_enrolment',
                            name=enrolment.subject_name))

    @classmethod
    def check_modification(cls, mode, enrolments, values=None,
            external=False):
        super().check_modification(
            mode, enrolments, values=values, external=external)
        if mode == 'delete':
            for enrolment in enrolments:
                if enrolment.state == 'enrolled':
                    raise AccessError(gettext(
                            'elder_face.msg_delete_enrolled',
                            name=enrolment.rec_name))

    @classmethod
    def on_delete(cls, enrolments):
        callback = super().on_delete(enrolments)
        keys = [e.pseudonym for e in enrolments if e.pseudonym]

        def delete_templates():
            Pool().get('face.template').delete_keys(keys)
        return callback + [delete_templates]

    @classmethod
    def copy(cls, enrolments, default=None):
        if enrolments:
            # one enrolment per person, and a key is never shared
            raise AccessError(gettext('elder_face.msg_no_copy'))
        return super().copy(enrolments, default=default)

    @classmethod
    @ModelView.button_action('elder_face.wizard_enrol')
    def enrol(cls, enrolments):
        pass

    @classmethod
    @ModelView.button_action('elder_face.wizard_enrol')
    def re_enrol(cls, enrolments):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('deleted')
    def delete_templates(cls, enrolments):
        cls.remove_templates(enrolments, 'request')

    @classmethod
    def for_party(cls, party, enrolled=True):
        "The enrolment of party (enrolled only by default) or None"
        domain = [('party', '=', getattr(party, 'id', party))]
        if enrolled:
            domain.append(('state', '=', 'enrolled'))
        with without_check_access():
            enrolments = cls.search(domain, limit=1)
        return enrolments[0] if enrolments else None

    @classmethod
    def remove_templates(cls, enrolments, reason):
        """Delete the templates (and kept images) of enrolments; the
        enrolment stays as the record that it existed and why it ended"""
        pool = Pool()
        Template = pool.get('face.template')
        Attachment = pool.get('ir.attachment')
        with without_check_access():
            enrolments = cls.browse(enrolments)
            Template.delete_keys([e.pseudonym for e in enrolments])
            attachments = Attachment.search([
                    ('resource', 'in', [str(e) for e in enrolments])])
            if attachments:
                Attachment.delete(attachments)
            cls.write(enrolments, {
                    'state': 'deleted',
                    'deleted_at': datetime.datetime.now(),
                    'deletion_reason': reason,
                    })
        for enrolment in enrolments:
            audit_log('face_template_deletion', enrolment, details={
                    'reason': reason, 'subject': enrolment.subject})

    @classmethod
    def remove_for_parties(cls, parties, reason):
        party_ids = [getattr(p, 'id', p) for p in parties]
        with without_check_access():
            enrolments = cls.search([
                    ('party', 'in', party_ids),
                    ('state', 'in', ['enrolled', 'draft']),
                    ])
        if enrolments:
            cls.remove_templates(enrolments, reason)
        return enrolments

    @classmethod
    def register_images(cls, enrolment, images, check_liveness=True):
        """Enrol (or re-enrol) enrolment with images (bytes): every image
        must show one face of sufficient quality judged live; the previous
        templates are replaced. Raises a translated error and changes
        nothing on any bad image."""
        pool = Pool()
        Consent = pool.get('security.consent')
        Config = pool.get('face.configuration')
        Template = pool.get('face.template')
        Attempt = pool.get('face.attempt')
        Attachment = pool.get('ir.attachment')
        enrolment = cls(int(enrolment))
        images = [i for i in images if i]
        if not images:
            raise EnrolmentError(gettext('elder_face.msg_no_image'))
        if len(images) > MAX_IMAGES:
            raise EnrolmentError(gettext(
                    'elder_face.msg_too_many_images', count=MAX_IMAGES))
        if enrolment.subject == 'elder' and enrolment.elder.state == 'deceased':
            raise EnrolmentError(gettext(
                    'elder_face.msg_enrol_deceased',
                    name=enrolment.subject_name))
        # consent first: without it nothing of the image is processed
        consent = Consent.require(enrolment.party, 'biometrics')
        config = Config(1)
        engine = FaceEngine.get()
        options = config.quality_options()
        embeddings = []
        for number, image in enumerate(images, 1):
            analysis = engine.analyse(image, options)
            if analysis.reasons:
                raise FaceQualityError(gettext(
                        'elder_face.msg_enrol_quality', number=number,
                        reason=reason_text(analysis.reasons[0])))
            if check_liveness:
                result = Attempt.check_liveness(
                    config, analysis.image, analysis.face.box)
                if not result.live:
                    Attempt.record({
                            'mode': 'enrol', 'source': 'enrolment',
                            'claimed': enrolment.id,
                            'decision': 'rejected',
                            'reason': 'not_live' if result.verdict == 'spoof'
                            else 'liveness_error',
                            }, result)
                    raise LivenessError(gettext(
                            'elder_face.msg_enrol_not_live', number=number,
                            score=result.score if result.score is not None
                            else '-', provider=result.provider or '-'))
            embeddings.append(analysis.embedding)
        with without_check_access():
            Template.delete_keys([enrolment.pseudonym])
            Template.create([{
                        'pseudonym': enrolment.pseudonym,
                        'embedding': encode_embedding(e),
                        'model_version': MODEL_VERSION,
                        } for e in embeddings])
            if config.keep_images:
                Attachment.delete(Attachment.search([
                            ('resource', '=', str(enrolment))]))
                Attachment.create([{
                            'name': 'face-%s-%s.img' % (
                                enrolment.pseudonym[:8], n),
                            'resource': str(enrolment),
                            'type': 'data',
                            'data': image,
                            } for n, image in enumerate(images, 1)])
            cls.write([enrolment], {
                    'state': 'enrolled',
                    'consent': consent.id,
                    'enrolled_at': datetime.datetime.now(),
                    'enrolled_by': Transaction().user or None,
                    'model_version': MODEL_VERSION,
                    'deleted_at': None,
                    'deletion_reason': None,
                    })
        audit_log('face_enrolment', enrolment, details={
                'subject': enrolment.subject, 'templates': len(embeddings),
                'images_kept': bool(config.keep_images)})
        return enrolment

    def templates(self):
        "(N, 128) array of the enrolment's embeddings"
        Template = Pool().get('face.template')
        return Template.embeddings_of([self.pseudonym]).get(
            self.pseudonym, np.zeros((0, 128), dtype=np.float32))


class Template(EncryptedMixin, ModelSQL):
    "Face Template (人脸特征模板)"
    __name__ = 'face.template'
    # Deliberately no link to a party or to the enrolment row: only the
    # pseudonymous key (see the module docstring).
    _sensitivity = {'pseudonym': 'sensitive', 'embedding': 'sensitive',
        'model_version': 'internal'}
    _encrypted_fields = {'embedding': None}
    pseudonym = fields.Char("Pseudonymous Key", required=True)
    embedding = fields.Function(fields.Char("Embedding"),
        'get_encrypted', setter='set_encrypted')
    embedding_enc = fields.Char("Embedding (Encrypted)", readonly=True)
    model_version = fields.Char("Model Version", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.pseudonym, Index.Equality())))

    @classmethod
    def delete_keys(cls, keys):
        keys = [k for k in keys if k]
        if not keys:
            return
        with without_check_access():
            templates = cls.search([('pseudonym', 'in', keys)])
            if templates:
                cls.delete(templates)

    @classmethod
    def embeddings_of(cls, keys):
        "{pseudonym: (n, 128) float32 array} of the templates of keys"
        result = {}
        with without_check_access():
            templates = cls.search([
                    ('pseudonym', 'in', list(keys)),
                    ('model_version', '=', MODEL_VERSION),
                    ], order=[('id', 'ASC')])
            values = cls.get_encrypted(templates, ['embedding'])['embedding']
        for template in templates:
            result.setdefault(template.pseudonym, []).append(
                decode_embedding(values[template.id]))
        return {k: np.vstack(v) for k, v in result.items()}


class EnrolStart(ModelView):
    "Enrol Face"
    __name__ = 'face.enrol.start'
    image1 = fields.Binary("Photo 1", required=True)
    image2 = fields.Binary("Photo 2")
    image3 = fields.Binary("Photo 3")


class Enrol(Wizard):
    "Enrol Face"
    __name__ = 'face.enrol'
    start = StateView('face.enrol.start', 'elder_face.enrol_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Enrol", 'enrol', 'tryton-ok', default=True),
            ])
    enrol = StateTransition()

    def transition_enrol(self):
        Enrolment = Pool().get('face.enrolment')
        images = [self.start.image1, self.start.image2, self.start.image3]
        Enrolment.register_images(self.record, images)
        return 'end'

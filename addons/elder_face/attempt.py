# This file is part of the eldercare platform. See LICENSE.
"""Verification and identification attempts: the log of every face match.

Every attempt (1:1 verification, 1:N identification, rejected enrolment
image) is a face.attempt row with the distance, the liveness score, verdict,
provider and model hash, and the decision with its reason; and an audit
event (elder_security) is written for it.
"""
import datetime

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.modules.elder_security.separation import audit_log
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from .engine import FaceEngine, Gallery, verify
from .engine.liveness import ERROR, LivenessResult, ProviderError
from .enrolment import reason_text

MODES = [
    ('verify', "Verification (1:1)"),
    ('identify', "Identification (1:N)"),
    ('enrol', "Enrolment"),
    ]
SOURCES = [
    ('checkin', "Worker Check-in"),
    ('worker', "Worker App"),
    ('canteen', "Canteen Terminal"),
    ('enrolment', "Enrolment"),
    ('api', "Other"),
    ]
DECISIONS = [
    ('accepted', "Accepted"),
    ('rejected', "Rejected"),
    ]
VERDICTS = [
    (None, ""),
    ('live', "Live"),
    ('spoof', "Spoof"),
    ('error', "Not Checked"),
    ]
# Reasons of a rejection (quality codes come from the engine)
REASONS = [
    (None, ""),
    ('no_face', "No Face"),
    ('several_faces', "Several Faces"),
    ('face_too_small', "Face Too Small"),
    ('blurred', "Blurred"),
    ('pose', "Face Turned Away"),
    ('too_dark', "Too Dark"),
    ('too_bright', "Over-exposed"),
    ('bad_image', "Unreadable Image"),
    ('not_live', "Not Live"),
    ('liveness_error', "Liveness Not Checked"),
    ('not_enrolled', "Not Enrolled"),
    ('no_match', "Different Person"),
    ('ambiguous', "Ambiguous Match"),
    ('no_consent', "No Biometric Consent"),
    ]


class Attempt(ModelSQL, ModelView):
    "Face Recognition Attempt (人脸识别记录)"
    __name__ = 'face.attempt'
    _sensitivity = {
        'claimed': 'personal', 'matched': 'personal',
        'liveness_score': 'sensitive', 'distance': 'sensitive',
        'second_distance': 'sensitive', 'user': 'internal',
        'reference': 'internal',
        }
    date = fields.Timestamp("Date", readonly=True, required=True)
    mode = fields.Selection(MODES, "Mode", readonly=True, required=True)
    source = fields.Selection(SOURCES, "Source", readonly=True, required=True)
    user = fields.Many2One('res.user', "User", readonly=True,
        ondelete='SET NULL')
    claimed = fields.Many2One('face.enrolment', "Claimed Person",
        readonly=True, ondelete='SET NULL')
    matched = fields.Many2One('face.enrolment', "Matched Person",
        readonly=True, ondelete='SET NULL')
    gallery = fields.Many2One('face.gallery', "Gallery", readonly=True,
        ondelete='SET NULL')
    reference = fields.Char("Reference", readonly=True,
        help="The record the attempt was made for, e.g. a service order.")
    distance = fields.Float("Distance", digits=(1, 4), readonly=True)
    second_distance = fields.Float("Second Distance", digits=(1, 4),
        readonly=True)
    threshold = fields.Float("Threshold", digits=(1, 4), readonly=True)
    margin = fields.Float("Margin", digits=(1, 4), readonly=True)
    liveness_score = fields.Float("Liveness Score", digits=(1, 4),
        readonly=True)
    liveness_verdict = fields.Selection(VERDICTS, "Liveness", readonly=True)
    liveness_provider = fields.Char("Liveness Provider", readonly=True)
    liveness_model = fields.Char("Liveness Model SHA-256", readonly=True)
    decision = fields.Selection(DECISIONS, "Decision", readonly=True,
        required=True)
    reason = fields.Selection(REASONS, "Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.date, Index.Range(order='DESC'))),
                Index(t, (t.claimed, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def check_modification(cls, mode, attempts, values=None, external=False):
        super().check_modification(
            mode, attempts, values=values, external=external)
        # the log is evidence: written by the server only, never changed
        if external or mode in {'write', 'delete'} and (
                Transaction().check_access):
            raise AccessError(gettext('elder_face.msg_attempt_readonly'))

    @property
    def reason_text(self):
        return reason_text(self.reason)

    @classmethod
    def check_liveness(cls, config, image, box):
        """Run the configured provider: a LivenessResult, with verdict
        'error' when there is no provider or it cannot start"""
        provider = config.liveness_provider
        if not provider:
            return LivenessResult(None, ERROR, None, None,
                {'error': 'no liveness provider configured'})
        try:
            engine_provider = provider.get_engine_provider()
        except (ProviderError, TimeoutError, OSError) as exc:
            return LivenessResult(None, ERROR, provider.kind, None,
                {'error': str(exc)[:200]})
        try:
            return engine_provider.check(image, box)
        except (ProviderError, TimeoutError, OSError) as exc:
            return LivenessResult(None, ERROR, provider.kind,
                engine_provider.model_hash, {'error': str(exc)[:200]})

    @classmethod
    def record(cls, values, liveness=None):
        "Create the attempt (without access checks) and audit it"
        values = dict(values)
        values.setdefault('date', datetime.datetime.now())
        values.setdefault('user', Transaction().user or None)
        if liveness is not None:
            values.update({
                    'liveness_score': liveness.score,
                    'liveness_verdict': liveness.verdict,
                    'liveness_provider': liveness.provider,
                    'liveness_model': liveness.model_hash,
                    })
        with without_check_access():
            attempt, = cls.create([values])
        audit_log('face_%s' % values['mode'], attempt,
            result='success' if values['decision'] == 'accepted'
            else 'failure',
            details={'source': values.get('source'),
                'decision': values['decision'],
                'reason': values.get('reason'),
                'reference': values.get('reference'),
                'liveness': values.get('liveness_verdict')})
        return attempt

    @classmethod
    def _analyse(cls, config, image):
        "(analysis, liveness result, reason code or None)"
        engine = FaceEngine.get()
        analysis = engine.analyse(image, config.quality_options())
        if analysis.reasons:
            return analysis, None, analysis.reasons[0]
        liveness = cls.check_liveness(
            config, analysis.image, analysis.face.box)
        reason = None
        if config.require_liveness and not liveness.live:
            reason = 'not_live' if liveness.verdict == 'spoof' else (
                'liveness_error')
        return analysis, liveness, reason

    @classmethod
    def verify(cls, enrolment, image, source='api', reference=None):
        """1:1: is the person on image the enrolled person? Returns the
        recorded attempt (decision and reason)."""
        pool = Pool()
        Config = pool.get('face.configuration')
        Consent = pool.get('security.consent')
        config = Config(1)
        values = {
            'mode': 'verify', 'source': source, 'reference': reference,
            'claimed': enrolment.id if enrolment else None,
            'threshold': config.threshold,
            }
        analysis, liveness, liveness_reason = cls._analyse(config, image)
        # precedence: photo quality, enrolment, liveness, match
        reason = liveness_reason if analysis.reasons else None
        if not reason:
            if not enrolment or enrolment.state != 'enrolled':
                reason = 'not_enrolled'
            elif not Consent.has(enrolment.party, 'biometrics'):
                reason = 'no_consent'
        if not analysis.reasons and not reason:
            templates = enrolment.templates()
            reason = liveness_reason
            if len(templates):
                result = verify(analysis.embedding, templates,
                    config.threshold)
                values['distance'] = round(result.distance, 4)
                if not result.match and not reason:
                    reason = 'no_match'
            elif not reason:
                reason = 'not_enrolled'
        values['decision'] = 'rejected' if reason else 'accepted'
        values['reason'] = reason
        if values['decision'] == 'accepted':
            values['matched'] = enrolment.id
        return cls.record(values, liveness)

    @classmethod
    def identify(cls, gallery, image, source='canteen', reference=None):
        """1:N within the enrolled members of gallery. Returns the
        recorded attempt; attempt.matched is the person on acceptance."""
        pool = Pool()
        Config = pool.get('face.configuration')
        Template = pool.get('face.template')
        Consent = pool.get('security.consent')
        config = Config(1)
        values = {
            'mode': 'identify', 'source': source, 'reference': reference,
            'gallery': gallery.id, 'threshold': config.threshold,
            'margin': config.margin,
            }
        analysis, liveness, reason = cls._analyse(config, image)
        if not reason or reason in {'not_live', 'liveness_error'}:
            with without_check_access():
                members = [m for m in gallery.members
                    if m.state == 'enrolled'
                    and Consent.has(m.party, 'biometrics')]
            by_key = {m.pseudonym: m for m in members}
            embeddings = Template.embeddings_of(list(by_key))
            labels, rows = [], []
            for key, matrix in embeddings.items():
                labels.extend([key] * len(matrix))
                rows.extend(matrix)
            result = Gallery(labels, rows).identify(
                analysis.embedding, config.threshold, config.margin)
            if result.decision != 'empty':
                values['distance'] = round(result.distance, 4)
                if result.second is not None:
                    values['second_distance'] = round(
                        result.second_distance, 4)
            if not reason:
                if result.decision == 'match':
                    values['matched'] = by_key[result.label].id
                elif result.decision == 'ambiguous':
                    reason = 'ambiguous'
                elif result.decision == 'empty':
                    reason = 'not_enrolled'
                else:
                    reason = 'no_match'
        values['decision'] = 'rejected' if reason else 'accepted'
        values['reason'] = reason
        return cls.record(values, liveness)

    def as_json(self):
        "What the routes answer (no template, no image)"
        return {
            'attempt': self.id,
            'decision': self.decision,
            'reason': self.reason,
            'message': self.reason_text,
            'distance': self.distance,
            'threshold': self.threshold,
            'liveness': {
                'score': self.liveness_score,
                'verdict': self.liveness_verdict,
                'provider': self.liveness_provider,
                'model_sha256': self.liveness_model,
                },
            }

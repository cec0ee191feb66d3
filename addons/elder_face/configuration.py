# This file is part of the eldercare platform. See LICENSE.
"Configuration of face recognition and the liveness providers"
import json

from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval

from .engine import liveness as engine_liveness
from .engine.core import QualityOptions
from .engine.match import DEFAULT_MARGIN, DEFAULT_THRESHOLD
from .exceptions import ProviderConfigError

KINDS = [
    ('human', "Human (antispoof + liveness, Node)"),
    ('onnx', "ONNX Model (operator supplied)"),
    ]
CHECKIN_SUBJECTS = [
    ('elder', "The Older Person"),
    ('practitioner', "The Practitioner"),
    ]
CHECKIN_FAILURES = [
    ('flag', "Flag the Order"),
    ('refuse', "Refuse the Check-in"),
    ]


class LivenessProvider(ModelSQL, ModelView):
    "Liveness Provider (活体检测提供方)"
    __name__ = 'face.liveness.provider'
    name = fields.Char("Name", required=True)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False,
        help="The implementation registered in the face engine.")
    threshold = fields.Float("Live Threshold", required=True,
        domain=[('threshold', '>=', 0), ('threshold', '<=', 1)],
        help="Scores at or above it are live.")
    model_path = fields.Char("Model File",
        states={'required': Eval('kind') == 'onnx',
            'invisible': Eval('kind') != 'onnx'})
    model_sha256 = fields.Char("Model SHA-256", size=64,
        states={'required': Eval('kind') == 'onnx',
            'invisible': Eval('kind') != 'onnx'},
        help="The provider refuses to start when the file differs.")
    options = fields.Text("Options",
        help='JSON options of the provider, e.g. {"layout": "nchw", '
        '"live_index": 1, "mean": 0.5, "std": 0.5}.')
    active = fields.Boolean("Active")

    @staticmethod
    def default_active():
        return True

    @staticmethod
    def default_threshold():
        return 0.5

    @staticmethod
    def default_kind():
        return 'human'

    @classmethod
    def validate(cls, providers):
        super().validate(providers)
        for provider in providers:
            provider.provider_options()

    def provider_options(self):
        try:
            options = json.loads(self.options or '{}')
            if not isinstance(options, dict):
                raise ValueError
        except ValueError:
            raise ProviderConfigError(gettext(
                    'elder_face.msg_provider_options', provider=self.name))
        options['threshold'] = self.threshold
        if self.kind == 'onnx':
            options['path'] = self.model_path
            options['sha256'] = (self.model_sha256 or '').strip().lower()
        return options

    def get_engine_provider(self):
        """The running provider of the engine; raises ProviderError when it
        cannot start (missing files, hash mismatch)"""
        return engine_liveness.get_provider(self.kind, **self.provider_options())


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Face Recognition Configuration (人脸识别配置)"
    __name__ = 'face.configuration'
    # thresholds of the method, no data about a person
    _sensitivity = {
        'threshold': 'internal', 'margin': 'internal',
        'liveness_provider': 'internal', 'require_liveness': 'internal',
        'keep_images': 'internal', 'min_face_size': 'internal',
        'min_sharpness': 'internal', 'max_yaw': 'internal',
        'checkin_subject': 'internal', 'checkin_failure': 'internal',
        }
    threshold = fields.Float("Verification Threshold", required=True,
        digits=(1, 3),
        domain=[('threshold', '>', 0), ('threshold', '<', 2)],
        help="Largest embedding distance accepted as the same person.")
    margin = fields.Float("Identification Margin", required=True,
        digits=(1, 3), domain=[('margin', '>=', 0)],
        help="1:N: the second person must be at least this much farther.")
    liveness_provider = fields.Many2One(
        'face.liveness.provider', "Liveness Provider", ondelete='RESTRICT')
    require_liveness = fields.Boolean("Require Liveness",
        help="Refuse a match when the image is not judged live.")
    keep_images = fields.Boolean("Keep Enrolment Images",
        help="Keep the enrolment photos as attachments for audit; "
        "otherwise only the templates are kept.")
    min_face_size = fields.Integer("Minimum Face Size (px)", required=True)
    min_sharpness = fields.Float("Minimum Sharpness", required=True)
    max_yaw = fields.Float("Maximum Head Turn", required=True, digits=(1, 2))
    checkin_subject = fields.Selection(CHECKIN_SUBJECTS,
        "Check-in Verifies", required=True,
        help="Whose face the worker app's check-in photo must show.")
    checkin_failure = fields.Selection(CHECKIN_FAILURES,
        "On Failed Check-in Verification", required=True)

    @staticmethod
    def default_threshold():
        return DEFAULT_THRESHOLD

    @staticmethod
    def default_margin():
        return DEFAULT_MARGIN

    @staticmethod
    def default_require_liveness():
        return True

    @staticmethod
    def default_keep_images():
        return False

    @staticmethod
    def default_min_face_size():
        return QualityOptions.min_face_size

    @staticmethod
    def default_min_sharpness():
        return QualityOptions.min_sharpness

    @staticmethod
    def default_max_yaw():
        return QualityOptions.max_yaw

    @staticmethod
    def default_checkin_subject():
        return 'elder'

    @staticmethod
    def default_checkin_failure():
        return 'flag'

    @classmethod
    def default_liveness_provider(cls):
        try:
            return Pool().get('ir.model.data').get_id(
                'elder_face', 'liveness_provider_human')
        except KeyError:
            return None

    def quality_options(self):
        return QualityOptions(
            min_face_size=self.min_face_size,
            min_sharpness=self.min_sharpness,
            max_yaw=self.max_yaw)

    @classmethod
    def write(cls, *args):
        from trytond.modules.elder_security.separation import audit_log
        super().write(*args)
        actions = iter(args)
        for records, values in zip(actions, actions):
            for record in records:
                audit_log('config_change', record, details={
                        k: str(v) for k, v in values.items()})

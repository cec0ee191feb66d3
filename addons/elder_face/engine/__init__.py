# This file is part of the eldercare platform. See LICENSE.
"""Face engine of elder_face: plain Python, usable without the server.

    from trytond.modules.elder_face.engine import FaceEngine, Gallery, verify
    engine = FaceEngine.get()
    analysis = engine.analyse(open('face.jpg', 'rb').read())
    if analysis.reasons: ...            # quality reasons (codes)
    result = verify(analysis.embedding, templates, threshold=0.6)
"""
from .core import (  # noqa: F401
    MODEL_VERSION, REASONS, Analysis, Face, FaceEngine, QualityOptions,
    load_image)
from .liveness import (  # noqa: F401
    ERROR, LIVE, SPOOF, LivenessResult, Provider, ProviderError,
    get_provider, provider_kinds, register_provider)
from .match import (  # noqa: F401
    DEFAULT_MARGIN, DEFAULT_THRESHOLD, Gallery, Identification, Verification,
    distances, verify)

# This file is part of the eldercare platform. See LICENSE.
"""Silent (passive) liveness: one image, no gesture asked of the person.

A provider implements ``check(image, face) -> LivenessResult(score,
verdict, provider, model_hash, detail)`` where image is an RGB uint8 array
and face the (left, top, right, bottom) box of the face to judge (or None).
Verdicts: 'live', 'spoof', or 'error' (the image could not be checked).
Only 'live' is live: a failure or an impossible check is never live.

Providers are registered by kind (``register_provider``) and chosen by the
module configuration, so an operator adds one without touching the engine:

- ``human``: npm @vladmandic/human 3.3.6 — its antispoof and liveness models
  on the tfjs wasm backend in a Node subprocess (liveness/liveness.js),
  offline; the model files are pinned by SHA-256 (HUMAN_MODEL_SHA256) and a
  changed file refuses to start.
- ``onnx``: an operator-supplied ONNX model (path + SHA-256 pinned; a
  mismatch refuses to start) through onnxruntime on the CPU.
"""
import base64
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess  # noqa: S404 (the Node worker of the human provider)
import threading

import numpy as np

LIVE = 'live'
SPOOF = 'spoof'
ERROR = 'error'

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIVENESS_DIR = os.path.join(HERE, 'liveness')
HUMAN_VERSION = '3.3.6'
# SHA-256 of the model files of @vladmandic/human 3.3.6 that take part in
# the verdict (face detector, mesh for the crop, antispoof, liveness)
HUMAN_MODEL_SHA256 = {
    'antispoof.json':
        '7fd698ae1cebabbcad79d3b8b448587b0365eb7911987418231bdcf36583112a',
    'antispoof.bin':
        '4490fecb2becdb6869edc7e60f5e59962be013a8def8719b1373afb0f905c094',
    'liveness.json':
        '9e51c8acf83b80abbf329b2735309ab5c90611c66905ade8b1bd130d473df9c8',
    'liveness.bin':
        'fc6a6b6b3b9721bdb8bff67a457a15b7cbfd81715cfb27f3e65b757e81dd663e',
    'blazeface.json':
        'cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f',
    'blazeface.bin':
        'dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72',
    'facemesh.json':
        'b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7',
    'facemesh.bin':
        '3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b',
    }


class ProviderError(Exception):
    "The provider cannot start (missing files, hash mismatch, no runtime)"


@dataclasses.dataclass
class LivenessResult:
    score: float            # 0..1, higher = more likely live; None on error
    verdict: str            # 'live', 'spoof' or 'error'
    provider: str           # kind of the provider
    model_hash: str         # SHA-256 identifying the model(s) used
    detail: dict = dataclasses.field(default_factory=dict)

    @property
    def live(self):
        return self.verdict == LIVE

    def as_dict(self):
        return dataclasses.asdict(self)


def sha256_file(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, 'rb') as file:
        for block in iter(lambda: file.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def combined_hash(hashes):
    "One SHA-256 naming a set of files: over 'name=sha256' lines, sorted"
    text = ''.join('%s=%s\n' % (k, v) for k, v in sorted(hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


_PROVIDERS = {}


def register_provider(kind, cls=None):
    "Register a provider class for kind (usable as a decorator)"
    def decorator(cls):
        _PROVIDERS[kind] = cls
        cls.kind = kind
        return cls
    return decorator(cls) if cls is not None else decorator


def provider_kinds():
    return sorted(_PROVIDERS)


_CACHE = {}
_CACHE_LOCK = threading.Lock()


def get_provider(kind, **options):
    """The provider of kind with options, started once per process and
    option set; raises ProviderError when it cannot start"""
    if kind not in _PROVIDERS:
        raise ProviderError("unknown liveness provider %r" % kind)
    key = (kind, tuple(sorted((k, str(v)) for k, v in options.items())))
    with _CACHE_LOCK:
        provider = _CACHE.get(key)
        # a forked process (gunicorn worker) starts its own provider: the
        # parent's pipes to a Node worker must not be shared
        if provider is not None and provider.pid != os.getpid():
            provider = None
        if provider is None or not provider.alive():
            provider = _PROVIDERS[kind](**options)
            _CACHE[key] = provider
        return provider


def close_providers():
    with _CACHE_LOCK:
        for provider in _CACHE.values():
            provider.close()
        _CACHE.clear()


class Provider:
    kind = None

    def __init__(self, threshold=0.5, **options):
        self.threshold = float(threshold)
        self.model_hash = None
        self.pid = os.getpid()

    def alive(self):
        return True

    def close(self):
        pass

    def check(self, image, face=None):
        "Never raises for a bad image: returns an 'error' verdict instead"
        try:
            score, detail = self._score(image, face)
        except ProviderError:
            raise
        except Exception as exc:
            return LivenessResult(None, ERROR, self.kind, self.model_hash,
                {'error': str(exc)[:200]})
        if score is None or not np.isfinite(score):
            return LivenessResult(None, ERROR, self.kind, self.model_hash,
                detail)
        verdict = LIVE if score >= self.threshold else SPOOF
        return LivenessResult(round(float(score), 4), verdict, self.kind,
            self.model_hash, detail)

    def _score(self, image, face):
        raise NotImplementedError


def _crop(image, face, margin=0.6):
    if face is None:
        return image
    from .core import crop_around
    return crop_around(image, face, margin)[0]


@register_provider('human')
class HumanProvider(Provider):
    """@vladmandic/human antispoof + liveness in a Node subprocess.

    The score is min(real, live) of the largest face human finds in the crop
    around the face; no face found there is an 'error' (never live)."""

    def __init__(self, threshold=0.5, node=None, directory=None,
            timeout=30, **options):
        super().__init__(threshold)
        self.directory = directory or LIVENESS_DIR
        self.node = node or shutil.which('node')
        self.timeout = float(timeout)
        if not self.node:
            raise ProviderError("Node.js is not installed")
        models = os.path.join(self.directory, 'node_modules', '@vladmandic',
            'human', 'models')
        hashes = {}
        for name, expected in HUMAN_MODEL_SHA256.items():
            path = os.path.join(models, name)
            if not os.path.exists(path):
                raise ProviderError(
                    "human model %s is missing: run the install step "
                    "(python -m trytond.modules.elder_face.install_liveness)" % name)
            hashes[name] = sha256_file(path)
            if hashes[name] != expected:
                raise ProviderError(
                    "human model %s does not match its pinned SHA-256" % name)
        self.model_hash = combined_hash(hashes)
        self._lock = threading.Lock()
        self._next = 0
        self._process = None
        self._start()

    def _start(self):
        env = {'PATH': os.environ.get('PATH', ''),
            'NODE_OPTIONS': '--max-old-space-size=512'}
        self._process = subprocess.Popen(  # noqa: S603 (fixed argv)
            [self.node, os.path.join(self.directory, 'liveness.js')],
            cwd=self.directory, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env, text=True, bufsize=1)
        line = self._readline()
        try:
            ready = json.loads(line or '{}')
        except ValueError:
            ready = {}
        if not ready.get('ready'):
            self.close()
            raise ProviderError(
                "human liveness worker did not start: %s"
                % ready.get('error', line))
        self.version = ready.get('version')
        self.backend = ready.get('backend')

    def _readline(self):
        result = []

        def read():
            result.append(self._process.stdout.readline())
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(self.timeout)
        if not result:
            self.close()
            raise TimeoutError("human liveness worker timed out")
        return result[0]

    def alive(self):
        return self._process is not None and self._process.poll() is None

    def close(self):
        process, self._process = self._process, None
        if process and process.poll() is None:
            try:
                process.stdin.close()
                process.wait(5)
            except Exception:
                process.kill()

    def _score(self, image, face):
        crop = np.ascontiguousarray(_crop(image, face))
        height, width = crop.shape[:2]
        with self._lock:
            if not self.alive():
                self._start()
            self._next += 1
            request = {'id': self._next, 'width': int(width),
                'height': int(height),
                'rgb': base64.b64encode(crop.tobytes()).decode('ascii')}
            self._process.stdin.write(json.dumps(request) + '\n')
            self._process.stdin.flush()
            answer = json.loads(self._readline() or '{}')
        if answer.get('error'):
            raise RuntimeError(answer['error'])
        detail = {k: answer.get(k) for k in ('faces', 'real', 'live')}
        if not answer.get('faces'):
            detail['error'] = 'no face found by the liveness model'
            return None, detail
        return answer.get('score'), detail


@register_provider('onnx')
class OnnxProvider(Provider):
    """An operator-supplied ONNX anti-spoofing model, pinned by SHA-256.

    Input: the face crop resized to the model's input size, RGB, NCHW
    (``layout='nhwc'`` for NHWC), scaled as (pixel / 255 - mean) / std.
    Output: ``output_index`` selects the output; with one value it is the
    probability of live (``apply_sigmoid`` for a logit), with several
    values it is softmaxed and ``live_index`` is the live class."""

    def __init__(self, path=None, sha256=None, threshold=0.5, layout='nchw',
            mean=0.0, std=1.0, live_index=1, output_index=0,
            apply_sigmoid=False, margin=0.6, **options):
        super().__init__(threshold)
        if not path or not os.path.isfile(path):
            raise ProviderError("ONNX model file not found: %s" % path)
        if not sha256:
            raise ProviderError("the ONNX model's SHA-256 must be pinned")
        actual = sha256_file(path)
        if actual != str(sha256).strip().lower():
            raise ProviderError(
                "ONNX model %s does not match its pinned SHA-256 "
                "(expected %s, found %s)" % (path, sha256, actual))
        try:
            import onnxruntime
        except ImportError as exc:
            raise ProviderError("onnxruntime is not installed") from exc
        self.model_hash = actual
        self.layout = layout
        self.mean = float(mean)
        self.std = float(std) or 1.0
        self.live_index = int(live_index)
        self.output_index = int(output_index)
        self.apply_sigmoid = str(apply_sigmoid).lower() in {'1', 'true'}
        self.margin = float(margin)
        session_options = onnxruntime.SessionOptions()
        session_options.intra_op_num_threads = 1
        session_options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            path, session_options, providers=['CPUExecutionProvider'])
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        shape = model_input.shape
        if layout == 'nhwc':
            self.size = (shape[2], shape[1])
        else:
            self.size = (shape[3], shape[2])
        if not all(isinstance(s, int) for s in self.size):
            self.size = (128, 128)
        self._lock = threading.Lock()

    def _score(self, image, face):
        from PIL import Image
        crop = _crop(image, face, self.margin)
        resized = np.asarray(Image.fromarray(crop).resize(
                self.size, Image.BILINEAR), dtype=np.float32)
        x = (resized / 255.0 - self.mean) / self.std
        if self.layout != 'nhwc':
            x = x.transpose(2, 0, 1)
        x = x[None].astype(np.float32)
        with self._lock:
            outputs = self.session.run(None, {self.input_name: x})
        out = np.asarray(outputs[self.output_index], dtype=np.float64).ravel()
        if out.size == 1:
            value = out[0]
            if self.apply_sigmoid:
                value = 1 / (1 + np.exp(-value))
            score = float(value)
        else:
            e = np.exp(out - out.max())
            score = float((e / e.sum())[self.live_index])
        return score, {'raw': [round(float(v), 4) for v in out[:4]]}

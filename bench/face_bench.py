"""Face benchmarks (issue 11, item 5): no database needed.

    .venv/bin/python bench/face_bench.py [--faces DIR] [--rounds 2]
        [--sizes 1000,100000] [--probes 200] [--no-liveness] [--json out]

1. Per-image latency on this CPU of each stage on the labelled images of
   --faces (default ../shared/data/faces/dev): HOG detection, 5-point
   alignment (shape + 150×150 chip), quality checks, 128-d embedding, and
   the human liveness provider (Node subprocess, wasm) on the face crop;
   median and p95 over every image × rounds, after one warm-up image.
2. 1:N identification time (engine.match.Gallery.identify: one vectorised
   numpy distance over the (N, 128) float32 matrix + per-person minimum +
   top-2) for N = 1,000 and 100,000 templates (one per person), median and
   p95 over --probes probes; plus the time to build the gallery and to
   decrypt N templates with SM4-GCM (elder_security's Keyring, in-memory
   key), which the module does before each 1:N search.

Synthetic templates: dev-set embeddings plus Gaussian noise (same norm
range as real ones); the timing does not depend on the values.
The load average is printed before and after (2 cores shared by others).
"""
import argparse
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FACES = ROOT.parent / 'shared' / 'data' / 'faces' / 'dev'


def summary(values):
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return {'median_ms': round(1000 * statistics.median(values), 2),
        'p95_ms': round(1000 * p95, 2), 'n': len(values)}


def load():
    return '%.2f %.2f %.2f' % os.getloadavg()


def stage_latency(faces, rounds, liveness, camera=False):
    import dlib
    from trytond.modules.elder_face.engine.core import (
        FaceEngine, QualityOptions, load_image)
    from trytond.modules.elder_face.engine.evaluate import labelled_images
    engine = FaceEngine.get()
    options = QualityOptions()
    provider = None
    if liveness:
        from trytond.modules.elder_face.engine.liveness import get_provider
        started = time.perf_counter()
        provider = get_provider('human')
        provider_start = time.perf_counter() - started
    images = [load_image(p) for _, p in labelled_images(faces)]
    if camera:
        # a 640x480 camera frame with the face at 2x (300 px) on a grey wall
        from PIL import Image
        frames = []
        for image in images:
            frame = np.full((480, 640, 3), 120, np.uint8)
            big = np.asarray(Image.fromarray(image).resize((300, 300)))
            frame[90:390, 170:470] = big
            frames.append(frame)
        images = frames
    times = {k: [] for k in ['detect', 'align', 'quality', 'embed',
            'detect_align_embed', 'liveness', 'total']}
    missed = 0
    engine.analyse(images[0], options)  # warm-up
    if provider:
        provider.check(images[0], None)
    for _ in range(rounds):
        for image in images:
            t0 = time.perf_counter()
            detections = engine.detect(
                image, 1 if max(image.shape[:2]) < 400 else 0)
            t1 = time.perf_counter()
            if not detections:
                missed += 1
                continue
            rect = detections[0][0]
            shape = engine.shape_predictor(image, rect)
            chip = dlib.get_face_chip(image, shape, size=150, padding=0.25)
            t2 = time.perf_counter()
            from trytond.modules.elder_face.engine.core import Face
            face = Face(box=(rect.left(), rect.top(), rect.right(),
                    rect.bottom()), landmarks=[(shape.part(i).x,
                        shape.part(i).y) for i in range(5)],
                detector_score=detections[0][1])
            engine._quality(face, chip, options)
            t3 = time.perf_counter()
            engine.recognition.compute_face_descriptor(chip)
            t4 = time.perf_counter()
            if provider:
                provider.check(image, face.box)
            t5 = time.perf_counter()
            times['detect'].append(t1 - t0)
            times['align'].append(t2 - t1)
            times['quality'].append(t3 - t2)
            times['embed'].append(t4 - t3)
            times['detect_align_embed'].append(t4 - t0)
            if provider:
                times['liveness'].append(t5 - t4)
            times['total'].append(t5 - t0)
    result = {k: summary(v) for k, v in times.items() if v}
    result['image_size'] = '%sx%s' % images[0].shape[1::-1]
    result['no_face_detected'] = missed
    if provider:
        result['liveness_worker_start_s'] = round(provider_start, 2)
        provider.close()
    return result


def search_timing(sizes, probes, faces):
    from trytond.modules.elder_face.engine.core import FaceEngine, load_image
    from trytond.modules.elder_face.engine.evaluate import labelled_images
    from trytond.modules.elder_face.engine.match import Gallery
    from trytond.modules.elder_face.enrolment import (
        decode_embedding, encode_embedding)
    from trytond.modules.elder_security.crypto import Keyring
    engine = FaceEngine.get()
    base = np.asarray([engine.analyse(load_image(p)).embedding
            for _, p in labelled_images(faces)[:10]], dtype=np.float32)
    rng = np.random.default_rng(2026)
    keyring = Keyring({'active': 'k1', 'keys': {'k1': secrets.token_hex(16)},
            'index_key': secrets.token_hex(32)})
    results = {}
    for size in sizes:
        templates = (base[rng.integers(0, len(base), size)]
            + rng.normal(0, 0.05, (size, 128)).astype(np.float32))
        labels = ['%032x' % i for i in range(size)]
        t0 = time.perf_counter()
        gallery = Gallery(labels, templates)
        build = time.perf_counter() - t0
        queries = templates[rng.integers(0, size, probes)] + rng.normal(
            0, 0.02, (probes, 128)).astype(np.float32)
        timings = []
        for q in queries:
            t = time.perf_counter()
            gallery.identify(q, 0.6, 0.05)
            timings.append(time.perf_counter() - t)
        # decrypting the templates the module reads before a search
        sample = min(size, 2000)
        tokens = [keyring.encrypt(encode_embedding(t), 'face.template.'
                'embedding:%s' % i) for i, t in enumerate(templates[:sample])]
        t = time.perf_counter()
        for i, token in enumerate(tokens):
            decode_embedding(keyring.decrypt(
                    token, 'face.template.embedding:%s' % i))
        decrypt = (time.perf_counter() - t) / sample * size
        results[size] = dict(summary(timings),
            build_gallery_ms=round(1000 * build, 1),
            decrypt_all_ms=round(1000 * decrypt, 1),
            matrix_mb=round(gallery.matrix.nbytes / 2 ** 20, 1))
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--faces', default=str(DEFAULT_FACES))
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--sizes', default='1000,100000')
    parser.add_argument('--probes', type=int, default=200)
    parser.add_argument('--no-liveness', action='store_true')
    parser.add_argument('--json')
    args = parser.parse_args(argv)
    out = {'load_before': load(), 'cpu': os.cpu_count(),
        'numpy': np.__version__}
    out['stages'] = stage_latency(args.faces, args.rounds,
        not args.no_liveness)
    out['stages_camera_640x480'] = stage_latency(args.faces, 1,
        not args.no_liveness, camera=True)
    out['search'] = search_timing(
        [int(s) for s in args.sizes.split(',')], args.probes, args.faces)
    out['load_after'] = load()
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())

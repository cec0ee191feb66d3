# This file is part of the eldercare platform. See LICENSE.
"""Evaluate face verification, identification and liveness on folders.

    python -m trytond.modules.elder_face.engine.evaluate FACES \\
        [--threshold 0.6] [--margin 0.05] [--enrol 2] \\
        [--genuine DIR] [--spoof DIR] [--simulate-spoof] \\
        [--liveness human|onnx|none] [--onnx-path P --onnx-sha256 H] \\
        [--report report.md]

FACES is a folder of labelled images ``<identity>/<image>``.

- Verification: every pair of images; genuine pairs (same identity) and
  impostor pairs. At the threshold: accuracy, FAR (impostor pairs accepted)
  and FRR (genuine pairs rejected). ROC (FAR, FRR over thresholds), EER.
- Identification (open set): each identity is enrolled with its first
  ``--enrol`` images (sorted names), the others are probes. Top-1 = the
  nearest person is the right one; accepted-correct = the decision
  (threshold + margin) names the right person; misidentification = it names
  a wrong one. Non-enrolled: for each identity, a gallery of all the OTHER
  identities is searched with all its images; false accept = a match is
  returned for a person who is not in the gallery.
- Liveness: FRR = genuine images not judged live (including 'error'), FAR =
  spoof images judged live. ``--genuine`` defaults to FACES; spoofs come
  from ``--spoof`` (``<any>/<image>`` or flat) or, with
  ``--simulate-spoof``, from the genuine images through engine.spoof
  (simulated print and screen-replay attacks, reported as such).

Images the engine refuses (quality reasons) are counted and left out of
the verification and identification figures; they are listed in the report.
"""
import argparse
import datetime
import json
import os
import platform
import sys
import time

import numpy as np

from .core import MODEL_VERSION, FaceEngine, QualityOptions, load_image
from .match import DEFAULT_MARGIN, DEFAULT_THRESHOLD, Gallery

EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp')


def labelled_images(folder):
    "[(identity, path)] of folder/<identity>/<image>, sorted"
    result = []
    for identity in sorted(os.listdir(folder)):
        directory = os.path.join(folder, identity)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            if name.lower().endswith(EXTENSIONS):
                result.append((identity, os.path.join(directory, name)))
    return result


def all_images(folder):
    "Every image under folder (recursively), sorted"
    result = []
    for root, _, files in os.walk(folder):
        for name in files:
            if name.lower().endswith(EXTENSIONS):
                result.append(os.path.join(root, name))
    return sorted(result)


def embed(items, engine, options):
    "(labels, paths, embeddings, refused [(path, reasons)], seconds/image)"
    labels, paths, embeddings, refused = [], [], [], []
    start = time.perf_counter()
    for label, path in items:
        analysis = engine.analyse(path, options)
        if analysis.reasons:
            refused.append((path, analysis.reasons))
            continue
        labels.append(label)
        paths.append(path)
        embeddings.append(analysis.embedding)
    elapsed = (time.perf_counter() - start) / max(len(items), 1)
    return (labels, paths, np.asarray(embeddings, dtype=np.float32)
        .reshape(-1, 128), refused, elapsed)


def pair_distances(labels, embeddings):
    "(genuine distances, impostor distances) over every pair"
    labels = np.asarray(labels)
    diff = embeddings[:, None, :] - embeddings[None, :, :]
    d = np.sqrt((diff ** 2).sum(axis=2))
    iu = np.triu_indices(len(labels), 1)
    same = (labels[:, None] == labels[None, :])[iu]
    return d[iu][same], d[iu][~same]


def rates(genuine, impostor, threshold):
    far = float((impostor <= threshold).mean()) if len(impostor) else 0.0
    frr = float((genuine > threshold).mean()) if len(genuine) else 0.0
    correct = (genuine <= threshold).sum() + (impostor > threshold).sum()
    total = len(genuine) + len(impostor)
    return {'threshold': round(float(threshold), 4), 'far': far, 'frr': frr,
        'accuracy': float(correct / total) if total else 0.0}


def roc(genuine, impostor, steps=None):
    "[{threshold, far, frr, accuracy}] over the thresholds, and the EER"
    values = np.concatenate([genuine, impostor])
    if steps is None:
        steps = np.unique(np.round(np.concatenate([
                        values, np.linspace(0.2, 1.2, 51)]), 4))
    curve = [rates(genuine, impostor, t) for t in sorted(steps)]
    # EER: where FAR crosses FRR (linear interpolation between points)
    eer, eer_threshold = None, None
    for a, b in zip(curve, curve[1:]):
        da = a['far'] - a['frr']
        db = b['far'] - b['frr']
        if da == 0:
            eer, eer_threshold = a['far'], a['threshold']
            break
        if da < 0 <= db:
            w = -da / (db - da)
            eer = a['far'] + w * (b['far'] - a['far'])
            eer_threshold = a['threshold'] + w * (
                b['threshold'] - a['threshold'])
            break
    auc = None
    if len(genuine) and len(impostor):
        # probability that a genuine pair is closer than an impostor pair
        g = np.sort(genuine)
        auc = float(np.searchsorted(g, impostor, side='left').sum()
            / (len(genuine) * len(impostor)))
    return curve, eer, eer_threshold, auc


def identification(labels, embeddings, enrol, threshold, margin):
    labels = np.asarray(labels)
    people = sorted(set(labels))
    gallery_idx, probe_idx = [], []
    for person in people:
        idx = list(np.where(labels == person)[0])
        gallery_idx += idx[:enrol]
        probe_idx += idx[enrol:]
    gallery = Gallery(labels[gallery_idx], embeddings[gallery_idx])
    top1 = accepted = wrong = 0
    for i in probe_idx:
        result = gallery.identify(embeddings[i], threshold, margin)
        top1 += result.best == labels[i]
        accepted += result.decision == 'match' and result.label == labels[i]
        wrong += result.decision == 'match' and result.label != labels[i]
    n = len(probe_idx)
    # non-enrolled people: search each identity in a gallery without it
    false_accepts = trials = 0
    for person in people:
        others = [i for i in gallery_idx if labels[i] != person]
        if not others:
            continue
        gallery = Gallery(labels[others], embeddings[others])
        for i in np.where(labels == person)[0]:
            trials += 1
            result = gallery.identify(embeddings[i], threshold, margin)
            false_accepts += result.decision == 'match'
    return {
        'people': len(people), 'enrolled_images_per_person': enrol,
        'probes': n,
        'top1': top1 / n if n else None,
        'accepted_correct': accepted / n if n else None,
        'misidentified': wrong / n if n else None,
        'non_enrolled_trials': trials,
        'non_enrolled_false_accept': (
            false_accepts / trials if trials else None),
        }


def liveness_eval(provider, engine, options, genuine, spoof):
    def run(paths):
        rows = []
        for path in paths:
            image = path if isinstance(path, np.ndarray) else load_image(path)
            analysis = engine.analyse(image, options, embed=False)
            box = analysis.faces[0].box if analysis.faces else None
            result = provider.check(image, box)
            rows.append((result.verdict, result.score))
        return rows
    start = time.perf_counter()
    g = run(genuine)
    s = run(spoof)
    per_image = (time.perf_counter() - start) / max(len(g) + len(s), 1)
    return {
        'provider': provider.kind, 'model_sha256': provider.model_hash,
        'threshold': provider.threshold,
        'genuine': len(g), 'spoof': len(s),
        'frr': sum(v != 'live' for v, _ in g) / len(g) if g else None,
        'far': sum(v == 'live' for v, _ in s) / len(s) if s else None,
        'genuine_errors': sum(v == 'error' for v, _ in g),
        'spoof_errors': sum(v == 'error' for v, _ in s),
        'genuine_scores': [sc for _, sc in g],
        'spoof_scores': [sc for _, sc in s],
        'seconds_per_image': per_image,
        }


def pct(value):
    return '-' if value is None else '%.2f %%' % (100 * value)


def report_markdown(result):
    v = result['verification']
    lines = [
        '# Face evaluation report',
        '',
        '- date: %s' % result['date'],
        '- faces: `%s` (%s identities, %s images, %s refused by quality)'
        % (result['faces'], result['identities'], result['images'],
            len(result['refused'])),
        '- model: %s; threshold %.3f, margin %.3f'
        % (MODEL_VERSION, result['threshold'], result['margin']),
        '- machine: %s, load %s' % (result['machine'], result['load']),
        '',
        '## Verification (1:1, every pair)',
        '',
        '| pairs genuine / impostor | accuracy | FAR | FRR | EER (at) | AUC |',
        '| --- | --- | --- | --- | --- | --- |',
        '| %s / %s | %s | %s | %s | %s (%s) | %s |' % (
            v['genuine_pairs'], v['impostor_pairs'],
            pct(v['at_threshold']['accuracy']), pct(v['at_threshold']['far']),
            pct(v['at_threshold']['frr']), pct(v['eer']),
            '-' if v['eer_threshold'] is None
            else '%.3f' % v['eer_threshold'],
            '-' if v['auc'] is None else '%.4f' % v['auc']),
        '',
        'Genuine distances: min %.3f, mean %.3f, max %.3f; impostor: min '
        '%.3f, mean %.3f, max %.3f.' % tuple(v['distance_summary']),
        '',
        '| threshold | FAR | FRR | accuracy |',
        '| --- | --- | --- | --- |',
        ]
    for point in v['roc_table']:
        lines.append('| %.2f | %s | %s | %s |' % (
                point['threshold'], pct(point['far']), pct(point['frr']),
                pct(point['accuracy'])))
    i = result['identification']
    lines += [
        '',
        '## Identification (1:N, open set)',
        '',
        '| people | probes | top-1 | accepted correct | misidentified '
        '| non-enrolled false accept (trials) |',
        '| --- | --- | --- | --- | --- | --- |',
        '| %s | %s | %s | %s | %s | %s (%s) |' % (
            i['people'], i['probes'], pct(i['top1']),
            pct(i['accepted_correct']), pct(i['misidentified']),
            pct(i['non_enrolled_false_accept']), i['non_enrolled_trials']),
        ]
    live = result.get('liveness')
    if live:
        lines += [
            '',
            '## Liveness (%s)' % live['provider'],
            '',
            '- model SHA-256: `%s`, threshold %.2f' % (
                live['model_sha256'], live['threshold']),
            '- spoofs: %s' % result['spoof_source'],
            '',
            '| genuine | spoof | FRR (genuine not live) | FAR (spoof live) '
            '| errors genuine / spoof |',
            '| --- | --- | --- | --- | --- |',
            '| %s | %s | %s | %s | %s / %s |' % (
                live['genuine'], live['spoof'], pct(live['frr']),
                pct(live['far']), live['genuine_errors'],
                live['spoof_errors']),
            ]
    lines += ['', '## Timing', '',
        '- detect + align + quality + embed: %.1f ms per image'
        % (1000 * result['seconds_per_image'])]
    if live:
        lines.append('- liveness (detection for the box + provider): '
            '%.1f ms per image' % (1000 * live['seconds_per_image']))
    if result['refused']:
        lines += ['', '## Refused images', '']
        lines += ['- `%s`: %s' % (os.path.relpath(p, result['faces']),
                ', '.join(r)) for p, r in result['refused']]
    lines += ['', 'A development set measures the method, not the '
        'deployment: see the caveats in the module README.', '']
    return '\n'.join(lines)


def evaluate(faces, threshold=DEFAULT_THRESHOLD, margin=DEFAULT_MARGIN,
        enrol=2, liveness=None, genuine=None, spoof=None,
        simulate_spoof=False, options=None):
    engine = FaceEngine.get()
    options = options or QualityOptions()
    items = labelled_images(faces)
    labels, paths, embeddings, refused, per_image = embed(
        items, engine, options)
    gen, imp = pair_distances(labels, embeddings)
    curve, eer, eer_threshold, auc = roc(gen, imp)
    table = [rates(gen, imp, t) for t in
        (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)]
    load = os.getloadavg() if hasattr(os, 'getloadavg') else None
    result = {
        'date': datetime.datetime.now().isoformat(timespec='seconds'),
        'faces': os.path.abspath(faces),
        'identities': len(set(labels)), 'images': len(items),
        'refused': refused,
        'threshold': threshold, 'margin': margin,
        'machine': '%s, %s CPU' % (platform.processor() or platform.machine(),
            os.cpu_count()),
        'load': '%.2f %.2f %.2f' % load if load else '-',
        'seconds_per_image': per_image,
        'verification': {
            'genuine_pairs': int(len(gen)), 'impostor_pairs': int(len(imp)),
            'at_threshold': rates(gen, imp, threshold),
            'eer': eer, 'eer_threshold': eer_threshold, 'auc': auc,
            'distance_summary': [
                float(gen.min()), float(gen.mean()), float(gen.max()),
                float(imp.min()), float(imp.mean()), float(imp.max())]
            if len(gen) and len(imp) else [0] * 6,
            'roc_table': table,
            'roc': curve,
            },
        'identification': identification(
            labels, embeddings, enrol, threshold, margin),
        }
    if liveness is not None:
        genuine_paths = all_images(genuine or faces)
        if spoof:
            spoof_images = all_images(spoof)
            result['spoof_source'] = '`%s`' % os.path.abspath(spoof)
        elif simulate_spoof:
            from . import spoof as spoof_module
            spoof_images = []
            for n, path in enumerate(genuine_paths):
                image = load_image(path)
                for attack in spoof_module.ATTACKS.values():
                    spoof_images.append(attack(image, seed=n))
            result['spoof_source'] = ('SIMULATED from the genuine images '
                '(engine/spoof.py: print and screen replay), not real attacks')
        else:
            spoof_images = []
            result['spoof_source'] = 'none given'
        result['liveness'] = liveness_eval(
            liveness, engine, options, genuine_paths, spoof_images)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Evaluate face verification, identification and "
        "liveness on labelled folders")
    parser.add_argument('faces', help="folder of <identity>/<image>")
    parser.add_argument('--threshold', type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument('--margin', type=float, default=DEFAULT_MARGIN)
    parser.add_argument('--enrol', type=int, default=2,
        help="images per identity enrolled for identification")
    parser.add_argument('--liveness', default='human',
        help="provider kind, or 'none'")
    parser.add_argument('--liveness-threshold', type=float, default=0.5)
    parser.add_argument('--onnx-path')
    parser.add_argument('--onnx-sha256')
    parser.add_argument('--genuine', help="folder of genuine images "
        "(default: the faces folder)")
    parser.add_argument('--spoof', help="folder of spoof images")
    parser.add_argument('--simulate-spoof', action='store_true',
        help="make print and screen-replay simulations of the genuine images")
    parser.add_argument('--report', default='face-report.md',
        help="Markdown report to write (a .json is written beside it)")
    args = parser.parse_args(argv)
    provider = None
    if args.liveness != 'none':
        from .liveness import get_provider
        options = {'threshold': args.liveness_threshold}
        if args.liveness == 'onnx':
            options.update(path=args.onnx_path, sha256=args.onnx_sha256)
        provider = get_provider(args.liveness, **options)
    result = evaluate(args.faces, args.threshold, args.margin, args.enrol,
        provider, args.genuine, args.spoof, args.simulate_spoof)
    text = report_markdown(result)
    with open(args.report, 'w') as file:
        file.write(text)
    data = dict(result)
    data['verification'] = dict(data['verification'])
    with open(os.path.splitext(args.report)[0] + '.json', 'w') as file:
        json.dump(data, file, indent=1, default=float)
    if provider is not None:
        provider.close()
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())

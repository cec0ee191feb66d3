# This file is part of the eldercare platform. See LICENSE.
"""Simulated presentation attacks made from genuine images (for tests and
for the liveness evaluation when no real spoof set is at hand).

- print_attack: the photo printed on paper and photographed again: a
  smaller print held in front of a background, reduced dynamic range, paper
  tint, halftone dots, slight perspective and blur, JPEG re-compression.
- screen_replay: the photo shown on a phone screen and photographed: the
  screen's bezel, a gamma/colour cast, moiré from the pixel grid, glare.

They are simulations: a real attack (a real print, a real screen, a mask)
looks different, and a model that rejects these is not proven against real
attacks. Deterministic for a given seed.
"""
import io

import numpy as np


def _jpeg(array, quality):
    from PIL import Image
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, 'JPEG', quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert('RGB'))


def _perspective(image, rng, strength=0.06):
    from PIL import Image
    h, w = image.shape[:2]
    d = strength * np.array([w, h])
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    dst = src + rng.uniform(-1, 1, size=(4, 2)) * d
    # coefficients mapping output to input (PIL's convention)
    matrix = []
    for (x, y), (u, v) in zip(dst, src):
        matrix.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        matrix.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    coeffs = np.linalg.solve(np.array(matrix), src.reshape(8))
    out = Image.fromarray(image).transform(
        (w, h), Image.PERSPECTIVE, tuple(coeffs), Image.BILINEAR,
        fillcolor=(128, 128, 128))
    return np.asarray(out)


def _on_background(image, rng, scale, border_colour, border=0.04):
    "Place the (shrunk) picture with a border on a noisy background"
    from PIL import Image
    h, w = image.shape[:2]
    small = np.asarray(Image.fromarray(image).resize(
            (max(1, int(w * scale)), max(1, int(h * scale))), Image.BILINEAR))
    sh, sw = small.shape[:2]
    b = max(2, int(border * w))
    framed = np.empty((sh + 2 * b, sw + 2 * b, 3), dtype=np.uint8)
    framed[:] = border_colour
    framed[b:b + sh, b:b + sw] = small
    background = rng.normal(100, 25, size=(h, w, 3))
    background += np.linspace(-30, 30, w)[None, :, None]
    background = np.clip(background, 0, 255).astype(np.uint8)
    fh, fw = framed.shape[:2]
    y = (h - fh) // 2 + int(rng.integers(-2, 3))
    x = (w - fw) // 2 + int(rng.integers(-2, 3))
    y, x = max(0, y), max(0, x)
    background[y:y + fh, x:x + fw] = framed[:h - y, :w - x]
    return background


def print_attack(image, seed=0):
    "A photo of a printed photo of image (RGB uint8)"
    from PIL import Image, ImageFilter
    rng = np.random.default_rng(seed)
    img = np.asarray(image, dtype=np.float64)
    # paper: compressed dynamic range and a warm tint
    img = 40 + img * 0.72
    img *= np.array([1.04, 1.0, 0.9])
    # halftone dots
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    img += (10 * np.sin(xx * 1.9) * np.sin(yy * 1.9))[:, :, None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    img = _on_background(img, rng, 0.9, (235, 232, 220))
    img = _perspective(img, rng)
    img = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(0.8)))
    return _jpeg(img, 70)


def screen_replay(image, seed=0):
    "A photo of image shown on a phone screen (RGB uint8)"
    from PIL import Image, ImageFilter
    rng = np.random.default_rng(seed)
    img = np.asarray(image, dtype=np.float64) / 255.0
    img = img ** 0.8                        # screen gamma
    img = img * np.array([0.92, 0.98, 1.08])  # blue cast
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    moire = 0.06 * np.sin(0.9 * xx + 0.35 * yy) * np.sin(0.2 * xx - 0.8 * yy)
    img = img + moire[:, :, None]
    glare = 0.25 * np.exp(-(((xx - 0.75 * w) ** 2 + (yy - 0.2 * h) ** 2)
            / (2 * (0.2 * w) ** 2)))
    img = img + glare[:, :, None]
    img = np.clip(img * 255, 0, 255).astype(np.uint8)
    img = _on_background(img, rng, 0.88, (15, 15, 18), border=0.05)
    img = _perspective(img, rng, 0.04)
    img = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(0.6)))
    return _jpeg(img, 75)


ATTACKS = {'print': print_attack, 'screen': screen_replay}

# This file is part of the eldercare platform. See LICENSE.
"""Install step of elder_face's liveness provider (npm packages).

    python -m trytond.modules.elder_face.install_liveness [--check]

runs ``npm ci --omit=dev`` in addons/elder_face/liveness (exact versions of
package-lock.json: @vladmandic/human 3.3.6 with its models, tfjs 4.22.0
core, converter and wasm backend), then checks the model files against
their pinned SHA-256 and starts the worker once. Only this step uses the
network (the npm registry); the provider never downloads anything."""
import argparse
import os
import shutil
import subprocess  # noqa: S404 (npm and node, fixed argv)
import sys

from .engine.liveness import (
    HUMAN_MODEL_SHA256, LIVENESS_DIR, ProviderError, get_provider)


def installed():
    models = os.path.join(
        LIVENESS_DIR, 'node_modules', '@vladmandic', 'human', 'models')
    return all(os.path.exists(os.path.join(models, n))
        for n in HUMAN_MODEL_SHA256)


def install(force=False, quiet=False):
    "Install the npm packages when missing; return True when usable"
    if installed() and not force:
        return check(quiet)
    npm = shutil.which('npm')
    if not npm:
        print("npm not found: the human liveness provider is not installed",
            file=sys.stderr)
        return False
    command = [npm, 'ci', '--omit=dev', '--no-audit', '--no-fund']
    if quiet:
        command.append('--silent')
    subprocess.run(command, cwd=LIVENESS_DIR, check=True)  # noqa: S603
    return check(quiet)


def check(quiet=False):
    try:
        provider = get_provider('human')
    except (ProviderError, TimeoutError) as exc:
        print("human liveness provider: %s" % exc, file=sys.stderr)
        return False
    if not quiet:
        print("human liveness provider ready: human %s, %s backend, "
            "models %s" % (provider.version, provider.backend,
                provider.model_hash[:16]))
    provider.close()
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
        help="only check the installed provider")
    parser.add_argument('--force', action='store_true',
        help="reinstall even when installed")
    parser.add_argument('--quiet', action='store_true')
    args = parser.parse_args(argv)
    ok = check(args.quiet) if args.check else install(args.force, args.quiet)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())

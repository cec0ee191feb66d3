# This file is part of the eldercare platform. See LICENSE.
"""Install step of the big screen's assets (npm packages).

    python -m trytond.modules.elder_bi.install_assets [--check]

runs ``npm ci --omit=dev`` in addons/elder_bi/screen (the exact versions of
package-lock.json: echarts 6.1.0 with zrender and tslib); the screen serves
``node_modules/echarts/dist/echarts.min.js`` itself and loads nothing from
another site."""
import argparse
import shutil
import subprocess  # noqa: S404 (npm, fixed argv)
import sys

from .routes import ECHARTS, SCREEN


def installed():
    return ECHARTS.is_file()


def install(force=False, quiet=False):
    "Install the npm packages when missing; return True when usable"
    if installed() and not force:
        return True
    npm = shutil.which('npm')
    if not npm:
        print("npm not found: the big screen's charts are not installed",
            file=sys.stderr)
        return False
    command = [npm, 'ci', '--omit=dev', '--no-audit', '--no-fund']
    if quiet:
        command.append('--silent')
    subprocess.run(command, cwd=SCREEN, check=True)  # noqa: S603 (npm, fixed argv)
    return installed()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true',
        help="only report whether the assets are installed")
    parser.add_argument('--force', action='store_true')
    args = parser.parse_args(argv)
    if args.check:
        ok = installed()
    else:
        ok = install(force=args.force)
    print('echarts %s' % ('installed' if ok else 'missing'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())

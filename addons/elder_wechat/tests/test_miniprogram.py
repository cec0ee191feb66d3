# This file is part of the eldercare platform. See LICENSE.
"""The mini program's own tests (miniprogram/): the API typings checked
with tsc and the pages and components rendered with miniprogram-simulate
under jest (npm test). The setup installs them with ``npm ci`` in
miniprogram/."""
import os
import shutil
import subprocess
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
        '..'))
MINIPROGRAM = os.path.join(ROOT, 'miniprogram')


class MiniProgramTestCase(unittest.TestCase):
    "npm test in miniprogram/"

    def test_npm_test(self):
        npm = shutil.which('npm')
        self.assertTrue(npm, 'npm is not installed')
        self.assertTrue(
            os.path.isdir(os.path.join(MINIPROGRAM, 'node_modules', 'jest')),
            'run `npm ci` in miniprogram/ first')
        process = subprocess.run(  # noqa: S603 (our own test command)
            [npm, 'test', '--', '--ci'], cwd=MINIPROGRAM,
            capture_output=True, text=True, timeout=600)
        output = process.stdout + process.stderr
        self.assertEqual(process.returncode, 0, output[-4000:])
        self.assertRegex(output, r'Tests:\s+\d+ passed, \d+ total')
        self.assertNotRegex(output, r'Tests:.*failed')

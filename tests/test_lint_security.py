"""ruff's S rules (flake8-bandit), syntax errors and undefined names over the
project's code (security issue item 9); ruff.toml at the repository root
says what is checked. A false positive gets `# noqa: S<nnn> (reason)`."""
import subprocess  # noqa: S404 (runs the venv's ruff, fixed arguments)
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_security_rules():
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        pytest.fail('ruff missing: pip install -r requirements-test.txt '
            '(./elder.sh test does it)', pytrace=False)
    result = subprocess.run(  # noqa: S603 (fixed argument list, no shell)
        [find_ruff_bin(), 'check', '--no-cache', '--output-format',
            'concise', '--config', str(ROOT / 'ruff.toml'), '.'],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={'PATH': str(Path(sys.prefix) / 'bin')})
    assert result.returncode == 0, (
        'ruff (ruff.toml: S = bandit rules) found problems; fix them, or '
        'for a false positive add "# noqa: S<nnn> (reason)":\n'
        + result.stdout + result.stderr)

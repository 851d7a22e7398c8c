"""Shared pytest configuration: the repository root and the notebook test flags."""
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def pytest_addoption(parser):
    parser.addoption('--nb-flags', default='',
                     help="space-separated notebook test flags to run that are skipped by default "
                          "(from settings.ini tst_flags: 'slow gpu data'), e.g. --nb-flags slow")

@pytest.fixture(scope='session')
def root() -> Path: return ROOT

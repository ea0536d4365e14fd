"""Shared pytest set-up: make the collection importable as ansible_collections.virtops.devices."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

sys.path.insert(0, harness.collection_path())


@pytest.fixture
def run_module():
    """Run one of the collection's modules through ansible-playbook; returns the result dict."""
    return harness.run_module

"""Shared pytest set-up: make the collection importable as ansible_collections.virtops.devices."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import xdist_groups  # noqa: E402

sys.path.insert(0, harness.collection_path())


@pytest.fixture
def run_module():
    """Run one of the collection's modules through ansible-playbook; returns the result dict."""
    return harness.run_module


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    using_libvirt = {item.location[0] for item in items
                     if item.get_closest_marker('libvirt') or item.get_closest_marker('guest')}
    for item in items:
        group = xdist_groups.xdist_group_of(item.location[0], using_libvirt)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))

"""L1: iommu_grub in check mode on an offline Debian tree that lacks the grub tool.

Check mode runs no tool, so a tree without update-grub/grub-mkconfig is planned all the
same (with a warning); the real run still refuses, naming the missing tool.
"""

import os
import sys

import harness

sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'boot'))

import boot_trees as bt  # noqa: E402


def _debian_tree_without_tool(dest):
    spec = bt.TREES['debian12']
    for path, text in spec['files'].items():
        bt.write(dest, path, text)
    for path in spec.get('dirs', []):
        os.makedirs(bt.host(dest, path), exist_ok=True)
    return str(dest)


def test_check_mode_plans_without_the_tool(run_module, tmp_path):
    root = _debian_tree_without_tool(tmp_path / 'debian12')
    before = bt.snapshot(root)
    result = run_module('iommu_grub', {'root': root, 'args': ['intel_iommu=on', 'iommu=pt']}, check=True)
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] is True
    assert result['setup'] == 'debian'
    assert '/etc/default/grub.d/99-virtops-iommu.cfg' in result['files_changed']
    assert any('update-grub' in w for w in result.get('warnings', []))
    assert bt.snapshot(root) == before


def test_real_run_still_refuses_without_the_tool(run_module, tmp_path):
    root = _debian_tree_without_tool(tmp_path / 'debian12')
    before = bt.snapshot(root)
    result = run_module('iommu_grub', {'root': root, 'args': ['intel_iommu=on']})
    assert result.get('failed')
    assert 'update-grub' in result['msg'] and 'grub2-common' in result['msg']
    assert bt.snapshot(root) == before

"""L1: the iommu_host role on offline Debian trees (iommu_host_root) holding symbolic links on the
paths the role writes itself (issue 8, tree confinement).

- an absolute link (``etc/modprobe.d/virtops-vfio.conf`` -> ``<sentinel>/etc/modprobe.d/virtops-vfio.conf``,
  or the directory ``etc/modules-load.d`` -> ``<sentinel>/etc/modules-load.d``) would, followed on this
  machine, write into the sentinel directory outside the tree: the role refuses it, naming the link,
  before anything is written - the tree (every file, mode, owner and link) and the sentinel stay as
  they were;
- a relative link that stays inside the tree is written through: the target inside the tree gets the
  content and the link is kept.
"""

import os
import sys

import pytest

import harness
import treesnap

sys.path.insert(0, os.path.join(harness.TOP, 'tests', 'fixtures', 'boot'))

import boot_trees as bt  # noqa: E402
import playbook_runs as runner  # noqa: E402

BASE = {'iommu_host_vendor': 'intel', 'iommu_host_verify': False, 'iommu_host_vfio_pci_ids': ['10de:1b80']}
SKIP = ('usr', 'proc', 'dev', 'sys')


def link(root, path, target):
    full = bt.host(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    if os.path.lexists(full):
        os.remove(full) if not os.path.isdir(full) or os.path.islink(full) else os.rmdir(full)
    os.symlink(target, full)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    top = str(tmp_path_factory.mktemp('iommu-links'))
    sentinel = os.path.join(top, 'sentinel')
    os.makedirs(os.path.join(sentinel, 'etc', 'modprobe.d'))
    os.makedirs(os.path.join(sentinel, 'etc', 'modules-load.d'))
    trees, stack = {}, []
    for name in ('abs_file', 'abs_dir', 'inside'):
        context = bt.mounted_tree('debian12', os.path.join(top, name))
        trees[name] = context.__enter__()
        stack.append(context)
    try:
        link(trees['abs_file'], '/etc/modprobe.d/virtops-vfio.conf',
             sentinel + '/etc/modprobe.d/virtops-vfio.conf')
        link(trees['abs_dir'], '/etc/modules-load.d', sentinel + '/etc/modules-load.d')
        bt.write(trees['inside'], '/srv/vfio/virtops-vfio.conf', '# old\n')
        link(trees['inside'], '/etc/modprobe.d/virtops-vfio.conf', '../../srv/vfio/virtops-vfio.conf')
        before = dict((name, treesnap.snapshot(root, skip=SKIP)) for name, root in trees.items())
        sentinel_before = treesnap.snapshot(sentinel)
        results = runner.run_scenarios(dict(
            (name, {'role': 'iommu_host', 'passes': [{'vars': dict(BASE, iommu_host_root=root)}]})
            for name, root in trees.items()))
        after = dict((name, treesnap.snapshot(root, skip=SKIP)) for name, root in trees.items())
        yield {'results': results, 'trees': trees, 'before': before, 'after': after,
               'sentinel': (sentinel_before, treesnap.snapshot(sentinel)), 'top': sentinel}
    finally:
        for context in reversed(stack):
            context.__exit__(None, None, None)


@pytest.mark.parametrize('name, path', [('abs_file', '/etc/modprobe.d/virtops-vfio.conf'),
                                        ('abs_dir', '/etc/modules-load.d')])
def test_absolute_link_leaving_the_tree_is_refused_before_any_write(runs, name, path):
    result = runs['results'][name][0]
    assert result['failure'], result
    assert '%s is a symbolic link to %s' % (path, runs['top'] + path) in result['failure']
    assert 'leaves the tree' in result['failure'] and 'Nothing was written' in result['failure']
    assert treesnap.changes(runs['before'][name], runs['after'][name]) == []
    sentinel_before, sentinel_after = runs['sentinel']
    assert sentinel_after == sentinel_before
    assert os.listdir(runs['top'] + '/etc/modprobe.d') == [] and os.listdir(runs['top'] + '/etc/modules-load.d') == []


def test_link_inside_the_tree_is_written_through_and_kept(runs):
    result = runs['results']['inside'][0]
    assert result['failure'] is None, result['failure']
    root = runs['trees']['inside']
    conf = bt.host(root, '/etc/modprobe.d/virtops-vfio.conf')
    assert os.path.islink(conf) and os.readlink(conf) == '../../srv/vfio/virtops-vfio.conf'
    with open(bt.host(root, '/srv/vfio/virtops-vfio.conf')) as handle:
        assert 'options vfio-pci ids=10de:1b80\n' in handle.read()

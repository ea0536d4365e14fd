"""L0: /etc/fstab for the new bus, in the runbook's two passes and on odd fstabs."""

import os
import sys

from ansible_collections.virtops.devices.plugins.module_utils._guest import _fstab

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'fixtures', 'guests'))
import trees  # noqa: E402


def test_seed001_first_pass_device_names():
    after, problems, notes = _fstab.rewrite_fstab(trees.SEED001_FSTAB_BEFORE, 'device', 'xen',
                                                  trees.SEED001_FILESYSTEMS)
    assert after == trees.SEED001_FSTAB_AFTER
    assert problems == [] and notes == []


def test_seed001_first_pass_is_idempotent():
    after, _p, _n = _fstab.rewrite_fstab(trees.SEED001_FSTAB_AFTER, 'device', 'xen', trees.SEED001_FILESYSTEMS)
    assert after == trees.SEED001_FSTAB_AFTER


def test_seed001_second_pass_back_to_labels():
    after, problems, _n = _fstab.rewrite_fstab(trees.SEED001_FSTAB_AFTER, 'label', 'xen')
    assert after == trees.SEED001_FSTAB_FINAL
    assert problems == []
    again, _p, _n = _fstab.rewrite_fstab(after, 'label', 'xen')
    assert again == after


def test_device_mode_keeps_labels_whose_device_is_unknown():
    after, problems, notes = _fstab.rewrite_fstab(trees.SEED001_FSTAB_BEFORE, 'device', 'xen')
    assert after == trees.SEED001_FSTAB_BEFORE
    assert problems == []
    assert len(notes) == 2 and 'LABEL=/ kept' in notes[0]


def test_odd_lines_untouched_and_tabs_kept():
    after, problems, _n = _fstab.rewrite_fstab(trees.RHEL6_FSTAB, 'uuid', 'virtio', trees.RHEL6_FILESYSTEMS)
    assert problems == []
    before_lines, after_lines = trees.RHEL6_FSTAB.splitlines(), after.splitlines()
    assert len(before_lines) == len(after_lines)
    changed = [(b, a) for b, a in zip(before_lines, after_lines) if b != a]
    assert changed == [
        ('/dev/sda3\tswap\tswap\tdefaults\t0 0',
         'UUID=0a1b2c3d-0000-4000-8000-00000000aaaa\tswap\tswap\tdefaults\t0 0'),
        ('/dev/sdb1               /srv/data               xfs     noatime,nodev   0 2',
         'UUID=0a1b2c3d-0000-4000-8000-00000000bbbb /srv/data               xfs     noatime,nodev   0 2'),
    ]


def test_device_mode_on_odd_fstab_renames_only_disks():
    after, problems, _n = _fstab.rewrite_fstab(trees.RHEL6_FSTAB, 'device', 'virtio')
    assert problems == []
    assert '/dev/vda3\tswap\tswap\tdefaults\t0 0\n' in after
    assert '/dev/vdb1               /srv/data' in after
    for kept in ('/srv/data/www           /var/www', 'nfs01:/export/home', '/swapfile               none',
                 'UUID=5c1f0d3e-7a61-4f1f-9b0e-2f1c3a7d9e10 /boot', '/dev/mapper/VolGroup-lv_root /',
                 '# Created by anaconda'):
        assert kept in after


def test_label_mode_uses_labels_and_fails_on_unknown():
    after, problems, _n = _fstab.rewrite_fstab(trees.RHEL6_FSTAB, 'label', 'virtio', trees.RHEL6_FILESYSTEMS)
    assert 'LABEL=data              /srv/data' in after
    assert len(problems) == 1 and '/dev/sda3' in problems[0] and 'no LABEL known' in problems[0]


def test_keep_mode_changes_nothing():
    assert _fstab.rewrite_fstab(trees.RHEL6_FSTAB, 'keep', 'virtio') == (trees.RHEL6_FSTAB, [], [])


def test_bus_links_renamed_when_resolved_else_problem():
    text = ('/dev/disk/by-path/pci-0000:00:01.1-ata-1-part1 /data ext4 defaults 0 2\n'
            '/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part2 /var ext4 defaults 0 2\n'
            '/dev/disk/by-uuid/5c1f0d3e /boot ext4 defaults 0 2\n')
    links = {'/dev/disk/by-path/pci-0000:00:01.1-ata-1-part1': '/dev/sda1'}
    after, problems, _n = _fstab.rewrite_fstab(text, 'device', 'virtio', links=links)
    assert after.splitlines()[0].startswith('/dev/vda1 ')
    assert after.splitlines()[2] == '/dev/disk/by-uuid/5c1f0d3e /boot ext4 defaults 0 2'
    assert len(problems) == 1 and 'by-id/ata-QEMU' in problems[0] and 'old bus' in problems[0]


def test_blkid_export_parsing_and_lookup():
    fs = _fstab.parse_blkid_export('DEVNAME=/dev/hda1\nLABEL=/\nUUID=abc\nTYPE=ext3\n\n'
                                   'DEVNAME=/dev/hda2\nLABEL=SWAP-hda2\nTYPE=swap\n')
    assert fs[0] == {'device': '/dev/hda1', 'uuid': 'abc', 'label': '/', 'type': 'ext3'}
    assert _fstab.id_of_device(fs, '/dev/xvda1', 'uuid', 'xen') == 'abc'
    assert _fstab.device_of_id(fs, 'LABEL=SWAP-hda2') == '/dev/hda2'
    assert _fstab.rename_source('/dev/hda1', 'label', 'xen', fs) == 'LABEL=/'
    assert _fstab.rename_source('/dev/hdb1', 'label', 'xen', fs) is None
    assert _fstab.rename_source('LABEL=/', 'device', 'xen', fs) == 'LABEL=/'


def test_replace_first_field_keeps_columns():
    assert _fstab.replace_first_field('LABEL=/                 /  ext3\n', '/dev/xvda1') == \
        '/dev/xvda1              /  ext3\n'
    assert _fstab.replace_first_field('/dev/sda1 /  ext3\n', 'UUID=0a1b2c3d') == 'UUID=0a1b2c3d /  ext3\n'


def test_crypttab_source_renamed_uuid_and_mapper_untouched():
    text = ('# <target name> <source device> <key file> <options>\n'
            'cr_home  /dev/sda4   none  luks\n'
            'cr_swap\t/dev/sda3\t/dev/urandom\tswap\n'
            'cr_data  UUID=6f1c-aa  none  luks\n')
    after, problems = _fstab.rewrite_crypttab(text, 'device', 'virtio')
    assert problems == []
    assert after == text.replace('/dev/sda4', '/dev/vda4').replace('/dev/sda3', '/dev/vda3')
    after, problems = _fstab.rewrite_crypttab(text, 'uuid', 'virtio', trees.RHEL6_FILESYSTEMS)
    assert 'cr_swap\tUUID=0a1b2c3d-0000-4000-8000-00000000aaaa\t/dev/urandom\tswap\n' in after
    assert len(problems) == 1 and '/dev/sda4' in problems[0]


def test_emulated_boot_sources_in_generated_configs():
    cfg = ("linux /vmlinuz-3.10 root=/dev/mapper/rhel-root ro resume=/dev/sda2 rhgb\n"
           "linux /vmlinuz-3.10 root=UUID=1234 resume=/dev/sda2\n"
           'GRUB_CMDLINE_LINUX="root=/dev/hda1 quiet"\n')
    assert _fstab.emulated_boot_sources(cfg) == ['/dev/sda2', '/dev/hda1']
    assert _fstab.emulated_boot_sources('linux /vmlinuz root=/dev/vda1 resume=/dev/xvda2') == []


def test_writers_never_emit_a_field_that_splits_or_adds_a_line():
    """Belt and braces: whatever a caller forgot to validate, no whitespace/newline reaches fstab."""
    fstab = 'LABEL=/   /   ext3   defaults   1 1\n/dev/hda2   swap   swap   defaults   0 0\n'
    for bad in ('1234-ABCD\n/dev/sdb1 / ext3 defaults 0 0', 'my data', 'x"y'):
        for mode, key in (('uuid', 'uuid'), ('label', 'label')):
            try:
                _fstab.rewrite_fstab(fstab, mode, 'xen', [{'device': '/dev/hda2', key: bad}])
            except ValueError as exc:
                assert 'refusing to write' in str(exc)
            else:
                raise AssertionError('%r was written' % bad)
    for bad in ('', '#x', 'a\tb', 'a\\b'):
        try:
            _fstab.replace_first_field('/dev/hda2 swap swap defaults 0 0\n', bad)
        except ValueError:
            continue
        raise AssertionError('%r was written' % bad)
    assert _fstab.check_field('UUID=1234-ABCD') == 'UUID=1234-ABCD'


def test_crypttab_writer_refuses_a_field_with_a_newline():
    try:
        _fstab.rewrite_crypttab('luks-home /dev/hda3 none\n', 'uuid', 'xen',
                                [{'device': '/dev/hda3', 'uuid': 'ab\ncd'}])
    except ValueError as exc:
        assert 'refusing to write' in str(exc)
    else:
        raise AssertionError('written')

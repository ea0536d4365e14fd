"""L0: the roles' input filter applies the modules' grammars (plugins/filter/refused_values.py)."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtops.devices.plugins.filter.refused_values import FilterModule, GRAMMARS

refused_values = FilterModule().filters()['refused_values']


def test_good_values_give_no_message():
    checks = [
        {'option': 'args', 'grammar': 'kernel_arg[]', 'value': ['intel_iommu=on', 'iommu=pt']},
        {'option': 'ids', 'grammar': 'pci_id[]', 'value': ['10de:1b80']},
        {'option': 'root', 'grammar': 'tree_path', 'value': '/mnt/guest'},
        {'option': 'kernel', 'grammar': 'kernel_versions', 'value': ['all']},
        {'option': 'map', 'grammar': 'disk_map_virtio', 'value': {'hdc': 'vdb'}},
        {'option': 'map', 'grammar': 'disk_map_xen', 'value': {'/dev/hda': 'xvda'}},
        {'option': 'timeout', 'grammar': 'seconds', 'value': '900'},
        {'option': 'domain', 'grammar': 'domain_name', 'value': 'web01.example.com'},
    ]
    assert refused_values(checks) == []


def test_every_bad_item_of_a_list_is_named():
    messages = refused_values([{'option': 'args', 'grammar': 'kernel_arg[]',
                                'value': ['ok=1', 'a;reboot', 'quiet splash']}])
    assert len(messages) == 2
    assert messages[0].startswith("args[1]: 'a;reboot' is not allowed: one kernel argument")
    assert messages[1].startswith("args[2]: 'quiet splash' is not allowed")


@pytest.mark.parametrize('grammar, value, words', [
    ('seconds', -1, 'a whole number from 1 to 86400'),
    ('seconds', 'x', 'a whole number'),
    ('disk_map_virtio', {'hdc': 'xvdb'}, 'map.hdc'),
    ('disk_map_xen', 'hdc=xvdb', 'a dict'),
    ('domain_name', '-F', "not starting with '-'"),
    ('xen_target', '/etc/xen/../g,w', 'without'),
    ('kernel_versions', ['all', '6.1.0-1-amd64'], 'map'),
    ('kernel_arg[]', 'intel_iommu=on', 'a list'),
    ('pci_id[]', ['10de:1b80 x'], 'vendor:device'),
])
def test_bad_values_are_refused_naming_the_option(grammar, value, words):
    messages = refused_values([{'option': 'map', 'grammar': grammar, 'value': value}])
    assert len(messages) == 1 and messages[0].startswith('map') and words in messages[0], messages


def test_an_unknown_grammar_is_an_error_not_a_pass():
    with pytest.raises(AnsibleFilterError, match='unknown grammar'):
        refused_values([{'option': 'x', 'grammar': 'nosuch', 'value': 'y'}])
    assert 'nosuch' not in GRAMMARS

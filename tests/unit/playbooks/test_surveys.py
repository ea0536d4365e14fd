"""L0: every job-template playbook has an AWX survey spec that agrees with its input rules.

``playbooks/surveys/<playbook>.json`` (AWX's survey format) against the playbook's
``validate_argument_spec`` tasks and its roles' argument specs: types, required, choices and defaults
(the rules: tests/awx_survey.py). A failure names the file and what to change.
"""

import json
import os

import pytest

import awx_survey  # tests/awx_survey.py (tests/conftest.py puts tests/ on sys.path)

PLAYBOOKS = awx_survey.playbook_names()


def test_there_are_playbooks():
    assert 'hotplug_disk' in PLAYBOOKS and len(PLAYBOOKS) >= 4


@pytest.mark.parametrize('name', PLAYBOOKS)
def test_the_survey_agrees_with_the_playbook(name):
    found = awx_survey.problems(name)
    assert not found, '\n'.join(found)


def test_every_survey_belongs_to_a_playbook():
    orphans = sorted(n for n in os.listdir(awx_survey.SURVEYS) if n[:-len('.json')] not in PLAYBOOKS)
    assert orphans == [], 'playbooks/surveys/ has surveys of no playbook: %s' % ', '.join(orphans)


# --- the checker itself, on a made-up playbook ---------------------------------------------------------

BOOK = """---
- name: A job
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Validate
      ansible.builtin.validate_argument_spec:
        argument_spec:
          job_name: {type: str, required: true}
          job_mode: {type: str, choices: [a, b], default: a}
          job_force: {type: bool, default: false}
          job_count: {type: int, default: 3}
          job_items: {type: list, elements: dict, required: true}
"""

GOOD = {'name': 'A job', 'description': 'job_items: extra variables', 'spec': [
    {'question_name': 'Name', 'variable': 'job_name', 'type': 'text', 'required': True, 'min': 1, 'max': 64},
    {'question_name': 'Mode', 'variable': 'job_mode', 'type': 'multiplechoice', 'required': False,
     'choices': ['a', 'b'], 'default': 'a'},
    {'question_name': 'Force', 'variable': 'job_force', 'type': 'multiplechoice', 'required': False,
     'choices': ['true', 'false'], 'default': 'false'},
    {'question_name': 'Count', 'variable': 'job_count', 'type': 'integer', 'required': False,
     'min': 1, 'max': 9, 'default': 3},
]}


@pytest.fixture
def job(tmp_path, monkeypatch):
    (tmp_path / 'surveys').mkdir()
    (tmp_path / 'job.yml').write_text(BOOK)
    monkeypatch.setattr(awx_survey, 'PLAYBOOKS', str(tmp_path))
    monkeypatch.setattr(awx_survey, 'SURVEYS', str(tmp_path / 'surveys'))
    monkeypatch.setattr(awx_survey, 'TOP', str(tmp_path))

    def check(survey):
        if survey is not None:
            (tmp_path / 'surveys' / 'job.json').write_text(json.dumps(survey))
        return awx_survey.problems('job')
    return check


def changed(**edits):
    survey = json.loads(json.dumps(GOOD))
    for variable, fields in edits.items():
        question = [q for q in survey['spec'] if q['variable'] == variable][0]
        for key, value in fields.items():
            if value is None:
                question.pop(key, None)
            else:
                question[key] = value
    return survey


def test_a_survey_that_agrees_passes(job):
    assert job(GOOD) == []


def test_a_missing_survey_says_which_file_and_questions(job):
    found = job(None)
    assert found == ['playbooks/job.yml has no survey: write surveys/job.json (AWX survey format) asking for '
                     'job_count (int), job_force (bool), job_mode (str), job_name (str, required)']


@pytest.mark.parametrize('edits, message', [
    ({'job_force': {'type': 'text', 'choices': None}}, 'job_force (the playbook\'s spec): a bool is asked as multiplechoice'),
    ({'job_force': {'default': 'true'}}, "job_force (the playbook's spec): default 'true', the spec says 'false'"),
    ({'job_name': {'required': False}}, 'job_name (the playbook\'s spec): required is False in the survey, True in the spec'),
    ({'job_name': {'default': ''}}, "job_name (the playbook's spec): the spec has no default: leave 'default' out"),
    ({'job_mode': {'choices': ['a', 'b', 'c']}}, "choices ['a', 'b', 'c'], the spec says ['a', 'b']"),
    ({'job_mode': {'default': 'c'}}, "default 'c' is not one of the choices"),
    ({'job_count': {'type': 'text'}}, 'job_count (the playbook\'s spec): type int is asked as integer, not text'),
    ({'job_count': {'default': 30}}, 'default 30 is not within 1..9'),
    ({'job_name': {'type': 'checkbox'}}, "type 'checkbox' is not one of text"),
])
def test_each_disagreement_is_named(job, edits, message):
    found = job(changed(**edits))
    assert any(message in f for f in found), found


def test_an_unasked_option_an_unknown_variable_and_a_dict_list_are_named(job):
    survey = changed()
    survey['description'] = ''
    survey['spec'] = [q for q in survey['spec'] if q['variable'] != 'job_count']
    survey['spec'].append({'question_name': 'X', 'variable': 'job_other', 'type': 'text', 'required': False})
    found = '\n'.join(job(survey))
    assert 'surveys/job.json: does not ask for job_count' in found
    assert 'job_other is asked but is no input of playbooks/job.yml' in found
    assert 'the required job_items (list) cannot come from a survey: name it in the description' in found

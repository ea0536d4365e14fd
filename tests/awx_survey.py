"""AWX survey specs of the job-template playbooks, checked against the playbooks' own input rules.

Every ``playbooks/<name>.yml`` has ``playbooks/surveys/<name>.json`` in AWX's survey format (what
``/api/v2/job_templates/<id>/survey_spec/`` takes): ``name``, ``description`` and ``spec``, a list of
questions with ``question_name``, ``variable``, ``type``, ``required``, ``default`` and, by type,
``choices`` or ``min``/``max``.

A playbook's inputs are the options of its ``validate_argument_spec`` tasks plus the ``main`` entry
point of every role of this collection it includes (``include_role``/``import_role``/``roles:``),
whose argument specs Ansible checks on entry, or whose ``meta/argument_specs.yml`` a
``validate_argument_spec`` task reads in a loop over role names. The agreement rules (``problems``):

- every question's variable is one of those inputs, asked in the form AWX can give it: ``str`` and
  ``path`` and ``raw`` as ``text``/``textarea``/``password`` (``multiplechoice`` when the option has
  choices), ``bool`` as ``multiplechoice`` between ``true`` and ``false``, ``int`` as ``integer``,
  ``float`` as ``float``, a list of plain values as text (comma-separated: only for the playbook's own
  options, which it splits itself) or ``multiselect`` when it has choices;
- ``required`` and the choices are the option's, and the default is the option's default as AWX would
  send it; when the option has none (or a Jinja expression) the question has no ``default`` key, so
  that AWX sends nothing for a blank answer (an empty string would reach the playbook as a value);
- every option of the playbook's own spec that a survey can carry is asked, and so is every required
  role option; a required option no survey can carry (a list of dicts, a dict) is named in the
  survey's ``description``, to be set in the job template's extra variables.
"""

import json
import os

import yaml

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAYBOOKS = os.path.join(TOP, 'playbooks')
SURVEYS = os.path.join(PLAYBOOKS, 'surveys')
ROLES = os.path.join(TOP, 'roles')
COLLECTION = 'virtops.devices.'

QUESTION_TYPES = ('text', 'textarea', 'password', 'integer', 'float', 'multiplechoice', 'multiselect')
TEXT_TYPES = ('text', 'textarea', 'password')
SCALAR_SPEC_TYPES = ('str', 'path', 'raw', 'bool', 'int', 'float')
VALIDATE_ACTIONS = ('ansible.builtin.validate_argument_spec', 'validate_argument_spec')
ROLE_ACTIONS = ('ansible.builtin.include_role', 'ansible.builtin.import_role', 'include_role', 'import_role')


def playbook_names():
    """Return the names (without ``.yml``) of the job-template playbooks in ``playbooks/``."""
    return sorted(n[:-4] for n in os.listdir(PLAYBOOKS) if n.endswith('.yml'))


def survey_path(name):
    return os.path.join(SURVEYS, name + '.json')


def load_survey(name):
    with open(survey_path(name)) as handle:
        return json.load(handle)


def _tasks(items):
    """Yield every task of a task list, descending into blocks."""
    for item in items or []:
        if not isinstance(item, dict):
            continue
        if 'block' in item:
            for key in ('block', 'rescue', 'always'):
                yield from _tasks(item.get(key))
        else:
            yield item


def _role_options(role):
    role = role[len(COLLECTION):] if role.startswith(COLLECTION) else role
    path = os.path.join(ROLES, role, 'meta', 'argument_specs.yml')
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        specs = yaml.safe_load(handle)['argument_specs']
    return dict(specs.get('main', {}).get('options', {}))


def playbook_inputs(name):
    """Return ``(own, roles)``: option name -> option, from the playbook's specs and its roles' specs."""
    with open(os.path.join(PLAYBOOKS, name + '.yml')) as handle:
        plays = yaml.safe_load(handle) or []
    own, roles = {}, {}
    for play in plays:
        for role in play.get('roles', []) or []:
            roles.update(_role_options(role if isinstance(role, str) else role.get('role', role.get('name', ''))))
        for key in ('pre_tasks', 'tasks', 'post_tasks', 'handlers'):
            for task in _tasks(play.get(key)):
                for action in VALIDATE_ACTIONS:
                    if action in task:
                        spec = (task[action] or {}).get('argument_spec', {})
                        if isinstance(spec, str):
                            # a role's spec read from roles/<item>/meta/argument_specs.yml in a loop
                            if 'argument_specs.yml' in spec:
                                for role in task.get('loop') or []:
                                    roles.update(_role_options(role))
                            continue
                        own.update(spec)
                for action in ROLE_ACTIONS:
                    if action in task:
                        roles.update(_role_options(task[action]['name']))
    return own, roles


def carried_by_survey(option, own):
    """Whether an AWX survey can give this option (see the module docstring)."""
    kind = option.get('type', 'str')
    if kind in SCALAR_SPEC_TYPES:
        return True
    if kind == 'list' and option.get('elements', 'str') in ('str', 'path', 'int'):
        return own or bool(option.get('choices'))
    return False


def _templated(value):
    return isinstance(value, str) and '{{' in value


def expected_default(option):
    """The default AWX should send for this option ('' when none)."""
    if 'default' not in option or option['default'] is None or _templated(option['default']):
        return ''
    value = option['default']
    kind = option.get('type', 'str')
    if kind == 'bool':
        return 'true' if value else 'false'
    if kind in ('int', 'float'):
        return value
    if kind == 'list':
        if option.get('choices'):
            return list(value)
        return ','.join(str(v) for v in value)
    return str(value)


def _choices(question):
    choices = question.get('choices', [])
    if isinstance(choices, str):
        choices = [c for c in choices.split('\n') if c]
    return [str(c) for c in choices]


def format_problems(survey):
    """Return what makes ``survey`` something AWX would refuse."""
    found = []
    for key, kind in (('name', str), ('description', str), ('spec', list)):
        if not isinstance(survey.get(key), kind):
            found.append('top level: %r must be a %s' % (key, kind.__name__))
    seen = set()
    for number, question in enumerate(survey.get('spec') or []):
        where = 'question %d (%s)' % (number, question.get('variable', '?'))
        for key in ('question_name', 'variable', 'type', 'required'):
            if key not in question:
                found.append('%s: no %r' % (where, key))
        if question.get('variable') in seen:
            found.append('%s: variable asked twice' % where)
        seen.add(question.get('variable'))
        kind = question.get('type')
        if kind not in QUESTION_TYPES:
            found.append('%s: type %r is not one of %s' % (where, kind, ', '.join(QUESTION_TYPES)))
        if not isinstance(question.get('required'), bool):
            found.append('%s: required must be true or false' % where)
        default = question.get('default', '')
        if kind in ('multiplechoice', 'multiselect'):
            choices = _choices(question)
            if not choices:
                found.append('%s: %s needs choices' % (where, kind))
            picked = default if isinstance(default, list) else [d for d in str(default).split('\n') if d]
            if kind == 'multiplechoice' and len(picked) > 1:
                found.append('%s: a multiplechoice default is one choice' % where)
            for value in picked:
                if value not in choices:
                    found.append('%s: default %r is not one of the choices %s' % (where, value, choices))
        if kind in TEXT_TYPES + ('integer', 'float'):
            low, high = question.get('min'), question.get('max')
            if kind in TEXT_TYPES and default != '' and low is not None and high is not None \
                    and not low <= len(str(default)) <= high:
                found.append('%s: default is not %s to %s characters long' % (where, low, high))
            if kind in ('integer', 'float') and default != '' and low is not None and high is not None \
                    and not low <= default <= high:
                found.append('%s: default %r is not within %s..%s' % (where, default, low, high))
    return found


def question_problems(question, option, own):
    """Return how ``question`` disagrees with the option it asks for."""
    where = '%s (%s)' % (question['variable'], 'the playbook\'s spec' if own else 'a role\'s argument spec')
    found = []
    kind = option.get('type', 'str')
    qtype = question.get('type')
    choices = [str(c) for c in option.get('choices', [])]
    if not carried_by_survey(option, own):
        return ['%s: type %s cannot come from a survey; set it in the job template\'s extra variables' % (where, kind)]
    if kind == 'bool':
        if qtype != 'multiplechoice' or sorted(_choices(question)) != ['false', 'true']:
            found.append('%s: a bool is asked as multiplechoice with the choices true and false' % where)
    elif kind in ('int', 'float'):
        want = {'int': 'integer', 'float': 'float'}[kind]
        if qtype != want:
            found.append('%s: type %s is asked as %s, not %s' % (where, kind, want, qtype))
    elif kind == 'list':
        if choices:
            if qtype != 'multiselect':
                found.append('%s: a list with choices is asked as multiselect, not %s' % (where, qtype))
        elif qtype not in TEXT_TYPES:
            found.append('%s: a list is asked as comma-separated text, not %s' % (where, qtype))
    elif choices:
        if qtype != 'multiplechoice':
            found.append('%s: an option with choices is asked as multiplechoice, not %s' % (where, qtype))
    elif qtype not in TEXT_TYPES:
        found.append('%s: type %s is asked as text, not %s' % (where, kind, qtype))
    if choices and sorted(_choices(question)) != sorted(choices):
        found.append('%s: choices %s, the spec says %s' % (where, _choices(question), choices))
    if question.get('required') != bool(option.get('required', False)):
        found.append('%s: required is %s in the survey, %s in the spec'
                     % (where, question.get('required'), bool(option.get('required', False))))
    want = expected_default(option)
    has_default = 'default' in option and option['default'] is not None and not _templated(option['default'])
    if not has_default and question.get('default', '') == '' and 'default' in question:
        found.append("%s: the spec has no default: leave 'default' out, so that a blank answer sends nothing" % where)
    have = question.get('default', '')
    if isinstance(want, list) and isinstance(have, str):
        have = [d for d in have.split('\n') if d]
    if have != want:
        found.append('%s: default %r, the spec says %r' % (where, have, want))
    return found


def problems(name):
    """Return every disagreement between ``playbooks/<name>.yml`` and its survey, as sentences."""
    own, roles = playbook_inputs(name)
    rel = os.path.relpath(survey_path(name), TOP)
    must = sorted(k for k, o in own.items() if carried_by_survey(o, True))
    must += sorted(k for k, o in roles.items() if o.get('required') and k not in own and carried_by_survey(o, False))
    if not os.path.exists(survey_path(name)):
        return ['playbooks/%s.yml has no survey: write %s (AWX survey format) asking for %s'
                % (name, rel, ', '.join('%s (%s%s)' % (k, (own.get(k) or roles[k]).get('type', 'str'),
                                                       ', required' if (own.get(k) or roles[k]).get('required') else '')
                                        for k in must) or 'nothing: an empty spec list')]
    survey = load_survey(name)
    found = ['%s: %s' % (rel, p) for p in format_problems(survey)]
    asked = {}
    for question in survey.get('spec') or []:
        variable = question.get('variable')
        asked[variable] = question
        option = own.get(variable, roles.get(variable))
        if option is None:
            found.append('%s: %s is asked but is no input of playbooks/%s.yml (not in its validate_argument_spec '
                         'nor its roles\' argument specs)' % (rel, variable, name))
            continue
        found.extend('%s: %s' % (rel, p) for p in question_problems(question, option, variable in own))
    missing = [k for k in must if k not in asked]
    if missing:
        found.append('%s: does not ask for %s' % (rel, ', '.join(missing)))
    for key, option in sorted(dict(roles, **own).items()):
        if option.get('required') and not carried_by_survey(option, key in own) \
                and key not in survey.get('description', ''):
            found.append('%s: the required %s (%s) cannot come from a survey: name it in the description'
                         % (rel, key, option.get('type')))
    return found

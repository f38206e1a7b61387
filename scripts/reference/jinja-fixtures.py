#!/usr/bin/env python3
"""Expected chat-template renderings for the CartridgeTemplate tests.

Produces Tests/CartridgeTemplateTests/Fixtures/jinja-expected.json: for each template in
Tests/CartridgeTemplateTests/Fixtures/templates/*.jinja and for a list of small snippets, the
context given and what Python jinja2 renders (or the error it raises), with jinja2 configured
the way Hugging Face `transformers` configures it for `apply_chat_template`:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the loopcontrols
extension, a `{% generation %}` passthrough tag, and the `raise_exception`, `strftime_now`
globals and the `tojson` filter as transformers defines them.

Run from the repository root (needs `pip install jinja2`, tested with 3.1.6):
    python3 scripts/reference/jinja-fixtures.py
"""

import datetime
import json
import pathlib
import sys

import jinja2
from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "CartridgeTemplateTests" / "Fixtures"

# strftime_now reads the clock; cases that use it pin the time (seconds since the epoch, UTC).
FIXED_TIME = 1721952000  # 2024-07-26 00:00:00 UTC
_current_time = None


class GenerationTag(Extension):
    """transformers' AssistantTracker, reduced to what rendering needs: the body, unchanged."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    if _current_time is None:
        return datetime.datetime.now().strftime(format)
    return datetime.datetime.fromtimestamp(_current_time, datetime.timezone.utc).strftime(format)


def environment():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = environment()


def run(source, context, fixed_time=None):
    """One case: the rendering, or the phase and message of the error."""
    global _current_time
    case = {"context": context}
    if fixed_time is not None:
        case["fixedTime"] = fixed_time
    try:
        template = ENV.from_string(source)
    except TemplateError as error:
        case["error"] = {"phase": "parse", "type": type(error).__name__, "message": str(error.message)}
        return case
    _current_time = fixed_time
    try:
        case["output"] = template.render(**context)
    except Exception as error:  # jinja2 lets Python's TypeError etc. through
        case["error"] = {"phase": "render", "type": type(error).__name__, "message": str(error)}
    finally:
        _current_time = None
    return case


def msg(role, content, **extra):
    return {"role": role, "content": content, **extra}


UNICODE = "Héllo wörld 👋🏽 日本語 — “quotes” ‘single’ and a\ttab, ß→SS, İ"
JINJA_LOOKING = "{{ x }} {% if true %}y{% endif %} {# not a comment #} {%- raw %}"
PADDED = "  \n padded content with trailing spaces and newline  \n\n"

TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}


def conversations():
    """(name, messages, add_generation_prompt) shared by every template."""
    return [
        ("system_user", [msg("system", "You are terse."), msg("user", "Hi!")], True),
        ("user_only", [msg("user", "What is the capital of France?")], True),
        ("user_only_no_prompt", [msg("user", "What is the capital of France?")], False),
        ("multi_turn", [msg("user", "Hello"), msg("assistant", "Hi, how can I help?"), msg("user", "Tell me a joke.")], True),
        ("multi_turn_system", [msg("system", "Be kind."), msg("user", "Hello"), msg("assistant", "Hi there."),
                               msg("user", "Bye"), msg("assistant", "Goodbye!")], False),
        ("unicode", [msg("user", UNICODE)], True),
        ("jinja_looking", [msg("user", JINJA_LOOKING), msg("assistant", "{{ messages }}"), msg("user", "{% endfor %}")], True),
        ("padded", [msg("user", PADDED), msg("assistant", "\n answer \n"), msg("user", "\t")], True),
        ("empty_content", [msg("user", "")], True),
    ]


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}

TOOL_CALL = {"type": "function", "function": {"name": "get_current_weather", "arguments": {"location": "Paris, France", "unit": "celsius"}}}


def template_cases(name):
    cases = []
    for case_name, messages, prompt in conversations():
        context = {"messages": messages, "add_generation_prompt": prompt, **TOKENS}
        if name.startswith("llama"):
            context["date_string"] = "03 Dec 2026"
        cases.append((case_name, context, None))
    if name == "gemma2":
        cases.append(("alternation_error", {"messages": [msg("user", "a"), msg("user", "b")], "add_generation_prompt": True, **TOKENS}, None))
    if name.startswith("llama"):
        tool_messages = [
            msg("system", "You can check the weather."),
            msg("user", "What's the weather in Paris?"),
            {"role": "assistant", "tool_calls": [TOOL_CALL]},
            msg("tool", {"temperature": 21.5, "unit": "celsius", "sky": "clear"}),
            msg("ipython", "plain tool text"),
        ]
        cases.append(("tools_in_user_message", {"messages": tool_messages, "tools": [WEATHER_TOOL], "add_generation_prompt": True,
                                                "date_string": "26 Jul 2024", **TOKENS}, None))
        cases.append(("tools_in_system", {"messages": tool_messages, "tools": [WEATHER_TOOL], "tools_in_user_message": False,
                                          "add_generation_prompt": True, "date_string": "26 Jul 2024", **TOKENS}, None))
        cases.append(("no_first_user_message", {"messages": [msg("system", "s")], "tools": [WEATHER_TOOL],
                                                "add_generation_prompt": True, **TOKENS}, None))
        cases.append(("two_tool_calls", {"messages": [msg("user", "x"), {"role": "assistant", "tool_calls": [TOOL_CALL, TOOL_CALL]}],
                                         "date_string": "1 Jan 2025", **TOKENS}, None))
        cases.append(("default_date", {"messages": [msg("user", "When is today?")], "add_generation_prompt": True, **TOKENS}, FIXED_TIME))
    if name == "llama3.1":
        cases.append(("builtin_tools", {
            "messages": [msg("user", "Search the news"),
                         {"role": "assistant", "tool_calls": [{"function": {"name": "brave_search", "arguments": {"query": "news today"}}}]},
                         msg("ipython", "[results]")],
            "builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"], "add_generation_prompt": True,
            "date_string": "26 Jul 2024", **TOKENS}, None))
    if name in ("qwen2.5", "qwen3"):
        cases.append(("tools", {
            "messages": [msg("system", "You are a weather bot."), msg("user", "Weather in Paris and Lyon?"),
                         {"role": "assistant", "content": "Let me check.", "tool_calls": [TOOL_CALL, {"function": {"name": "get_current_weather", "arguments": {"location": "Lyon"}}}]},
                         msg("tool", "21 degrees"), msg("tool", "19 degrees"), msg("user", "Thanks")],
            "tools": [WEATHER_TOOL], "add_generation_prompt": True, **TOKENS}, None))
        cases.append(("tools_no_system", {
            "messages": [msg("user", "Weather?"), {"role": "assistant", "content": "", "tool_calls": [TOOL_CALL]}, msg("tool", "sunny")],
            "tools": [WEATHER_TOOL], "add_generation_prompt": False, **TOKENS}, None))
        cases.append(("late_system", {"messages": [msg("user", "a"), msg("system", "late"), msg("assistant", "b")], "add_generation_prompt": True, **TOKENS}, None))
    if name == "qwen3":
        thinking = [msg("user", "2+2?"), msg("assistant", "<think>\nadd\n</think>\n\n4"), msg("user", "and 3+3?"),
                    msg("assistant", "<think>sum</think>6"), msg("user", "thanks")]
        cases.append(("thinking_history", {"messages": thinking, "add_generation_prompt": True, **TOKENS}, None))
        cases.append(("thinking_disabled", {"messages": thinking[:1], "add_generation_prompt": True, "enable_thinking": False, **TOKENS}, None))
        cases.append(("reasoning_content", {"messages": [msg("user", "q"), msg("assistant", "a", reasoning_content="because"), msg("user", "q2")],
                                            "add_generation_prompt": True, **TOKENS}, None))
    if name == "gemma3":
        cases.append(("structured_content", {"messages": [
            {"role": "system", "content": [{"type": "text", "text": "Sys text"}]},
            {"role": "user", "content": [{"type": "text", "text": "Look:"}, {"type": "image"}, {"type": "text", "text": " what?"}]}],
            "add_generation_prompt": True, **TOKENS}, None))
    return cases


# Small cases for the expression language and whitespace control. (name, source, context)
SNIPPETS = [
    # whitespace control, trim_blocks, lstrip_blocks
    ("trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("lstrip_blocks", "  {% if true %}\n  x\n  {% endif %}\n  {{ 'v' }}\n", {}),
    ("lstrip_not_variables", "  {{ 'a' }}\n  {% if true %}b{% endif %}", {}),
    ("minus_both_sides", "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n  c", {}),
    ("minus_variable", "a \n {{- 'b' -}} \n c", {}),
    ("plus_disables_lstrip", "  {%+ if true %}x{% endif %}", {}),
    ("plus_disables_trim", "{% if true +%}\nx{% endif %}", {}),
    ("comment_trim", "a\n  {# comment #}\nb\n{#- c -#}  \n  d", {}),
    ("lstrip_mid_line", "text  {% if true %}x{% endif %}", {}),
    ("trailing_newline_dropped", "line\n", {}),
    ("crlf_normalized", "a\r\nb\rc{% if true %}\r\nd{% endif %}", {}),
    ("raw_block", "{% raw %}{{ not evaluated }}{% endraw %}", {}),
    ("raw_block_whitespace", "x\n  {% raw %}\n  {{ a }}\n  {% endraw %}\ny", {}),
    ("nested_blocks_indent", "{% for i in [1, 2] %}\n    {% if i > 1 %}\n        big {{ i }}\n    {% else %}\n        small {{ i }}\n    {% endif %}\n{% endfor %}\n", {}),
    ("string_with_delimiters", "{{ '}}' ~ \"%}\" ~ '{{' }}", {}),
    ("dict_in_output", "{{ {'a': {'b': 1}} }}", {}),
    # literals and printing
    ("print_types", "{{ 1 }} {{ 1.5 }} {{ 2.0 }} {{ 1e20 }} {{ 0.00001 }} {{ 123456789.125 }} {{ none }} {{ true }} {{ False }}", {}),
    ("print_containers", "{{ [1, 'a', none, true, 1.5, [2]] }} {{ {'k': 'v', 'n': 1} }} {{ 'it\\'s' }} {{ [\"it's\", 'a\"b', 'x\\ny'] }}", {}),
    ("string_escapes", "{{ 'a\\tb\\\\c\\x41\\u00e9\\101\\q' }}", {}),
    ("adjacent_strings", "{{ 'a' 'b' \"c\" }}", {}),
    ("numbers_underscore", "{{ 1_000 + 2 }} {{ 1.5e3 }}", {}),
    # arithmetic
    ("arithmetic", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 6 * 7 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1.5 + 1 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ 7.5 // 2 }}", {}),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 * 3 ~ 4 }} {{ (1 + 2) ~ (3 + 4) }} {{ not true or true }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}", {}),
    ("string_ops", "{{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ 'x' ~ 1 ~ none ~ true ~ undefined_var }} {{ [1] + [2, 3] }}", {}),
    ("concat_binds_tighter_than_plus", "{{ 1 + 2 ~ 3 }}", {}),
    ("concat_type_error", "{{ 'x' + 1 }}", {}),
    ("division_by_zero", "{{ 1 / 0 }}", {}),
    # comparisons and logic
    ("comparisons", "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 'a' != 'a' }} {{ none == none }} {{ undefined_var == none }}", {}),
    ("in_operator", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }} {{ 'x' in undefined_var }}", {}),
    ("and_or_values", "{{ 0 or 'fallback' }} {{ 'a' and 'b' }} {{ '' and 'b' }} {{ none or [] }}", {}),
    ("conditional_expression", "{{ 'yes' if 1 > 0 else 'no' }} {{ 'yes' if 0 }}|{{ 'a' if false else 'b' if true else 'c' }}", {}),
    # attribute / item access
    ("attribute_and_item", "{{ m.role }} {{ m['content'] }} {{ m.missing }}|{{ m['missing'] }}|{{ items[0] }} {{ items[-1] }} {{ items[5] }}|{{ 'abc'[1] }}", {"m": {"role": "user", "content": "hi"}, "items": [1, 2, 3]}),
    ("dict_method_shadows_key", "{{ d['items'] }} {{ d.get('x') }} {{ d.get('missing', 'dflt') }} {{ d.get('missing') }}", {"d": {"items": "key-value", "x": 1}}),
    ("slices", "{{ l[1:] }} {{ l[:2] }} {{ l[::-1] }} {{ l[-2:] }} {{ l[::2] }} {{ l[1:-1] }} {{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ l[10:] }} {{ l[3:0:-1] }}", {"l": [1, 2, 3, 4, 5]}),
    ("undefined_attribute_error", "{{ nothing.attr }}", {}),
    ("undefined_nested_error", "{{ m.missing.deeper }}", {"m": {"role": "user"}}),
    ("undefined_item_error", "{{ nothing['x'] }}", {}),
    ("undefined_add_error", "{{ nothing + 1 }}", {}),
    ("undefined_prints_empty", "[{{ nothing }}][{{ nothing | default('d') }}][{{ nothing | length }}][{{ nothing is defined }}][{% for x in nothing %}x{% else %}empty{% endfor %}]", {}),
    # for loops
    ("loop_variables", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }};{% endfor %}", {}),
    ("loop_filter_else", "{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }} {% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}", {}),
    ("loop_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d | items %}{{ k }}:{{ v }},{% endfor %}{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", {"d": {"b": 2, "a": 1}}),
    ("loop_dict_keys", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"z": 1, "y": 2}}),
    ("loop_scoping", "{% set count = 0 %}{% for i in range(3) %}{{ count }}{% set count = count + 1 %}{{ count }}{% endfor %}{{ count }}", {}),
    ("loop_break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("loop_prev_next_cycle", "{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.cycle('a', 'b') }} {% endfor %}", {}),
    ("nested_loops", "{% for a in [1, 2] %}{% for b in [3, 4] %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("range_variants", "{{ range(3) | list }} {{ range(1, 4) | list }} {{ range(10, 0, -3) | list }}", {}),
    # set and namespace
    ("set_simple", "{% set x = 5 %}{% set y = x * 2 %}{{ y }}{% set a, b = 1, 2 %}{{ a }}{{ b }}", {}),
    ("set_in_if_leaks", "{% if true %}{% set z = 3 %}{% endif %}{{ z }}", {}),
    ("set_block", "{% set body %}Hello {{ name }}!{% endset %}[{{ body }}]{% set shout | upper %}quiet{% endset %}{{ shout }}", {"name": "Bob"}),
    ("namespace", "{% set ns = namespace(found=false, n=0) %}{% for x in [1, 2, 3] %}{% if x == 2 %}{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.found }} {{ ns.n }}", {}),
    ("tuple_print", "{% set t = (1, 'a') %}{{ t[1] }} {{ t | length }} {{ t }} {{ (1,) }} {{ () }} {{ t + (2,) }} {{ t == (1, 'a') }} {{ t == [1, 'a'] }} {{ t | tojson }} {{ t[::-1] }}", {}),
    ("set_tuple_unpack", "{% set a, b = 'xy' %}{{ b }}{{ a }}{% for x, y in [('p', 'q')] %}{{ y }}{{ x }}{% endfor %}", {}),
    # macros
    ("macro", "{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', greeting='Hi') }} {{ greet('Cy', 'Yo') }}", {}),
    ("macro_call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}", {}),
    ("macro_whitespace", "{% macro item(x) %}\n  - {{ x }}\n{% endmacro %}\n{% for i in [1, 2] %}\n{{ item(i) }}\n{% endfor %}", {}),
    ("macro_sees_later_top_level_set", "{% set x = 0 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 1 %}{{ m() }}", {}),
    ("macro_in_loop_closure", "{% for i in [1, 2] %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}", {}),
    ("loop_set_shadows_per_iteration", "{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}", {}),
    ("nested_loop_index", "{% for i in [1, 2] %}{% for j in [3] %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}", {}),
    ("operator_corners", "{{ -1 ** 2 }} {{ 2 ** 3 ** 2 }} {{ not 1 == 2 }} {{ 1 in [1] == true }} {{ 1 ~ 2 | string }} {{ 'a' is string and 'b' }} {{ 'abc' | length is number }} {{ {'a': 1}.a }}", {}),
    ("loop_minus_trim", "{%- for m in ms -%}\n  [{{ m }}]\n{%- endfor %}", {"ms": [1, 2]}),
    # filters
    ("filter_strings", "{{ '  pad  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'Mixed' | upper }}|{{ 'Mixed' | lower }}|{{ 'hello WORLD' | capitalize }}|{{ 'hello big-world (x)' | title }}|{{ 'aaa' | replace('a', 'b', 2) }}", {}),
    ("filter_length_first_last", "{{ [1, 2, 3] | length }} {{ 'héllo' | length }} {{ {'a': 1} | count }} {{ [4, 5] | first }} {{ [4, 5] | last }} {{ 'xyz' | first }} {{ [] | first }}|", {}),
    ("filter_join", "{{ [1, 2, 3] | join(', ') }} {{ ['a', 'b'] | join }} {{ users | join(', ', attribute='name') }}", {"users": [{"name": "x"}, {"name": "y"}]}),
    ("filter_default", "{{ missing | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ none | d('n') }} {{ 0 | default(5, boolean=true) }}", {}),
    ("filter_conversions", "{{ '42' | int + 1 }} {{ '3.7' | int }} {{ 'abc' | int }} {{ 'abc' | int(7) }} {{ 3.9 | int }} {{ 5 | string ~ 'x' }} {{ '2.5' | float }} {{ 'abc' | list }} {{ {'a': 1, 'b': 2} | list }} {{ none | string }}", {}),
    ("filter_items", "{% for k, v in {'x': 1, 'y': [2]} | items %}{{ k }}{{ v }}{% endfor %}", {}),
    ("filter_select", "{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ msgs | rejectattr('role', 'eq', 'user') | list | length }} {{ [1, 2, 3, 4] | select('odd') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ msgs | selectattr('tool_calls') | list | length }} {{ msgs | selectattr('role', 'in', ['system', 'tool']) | map(attribute='role') | join(',') }}", {"msgs": [{"role": "system", "content": "s"}, {"role": "user", "content": "u1"}, {"role": "assistant", "content": "a", "tool_calls": [1]}, {"role": "user", "content": "u2"}]}),
    ("filter_map", "{{ ['a', 'b'] | map('upper') | join }} {{ users | map(attribute='age', default=0) | list }} {{ users | map(attribute='name') | join('+') }}", {"users": [{"name": "x", "age": 3}, {"name": "y"}]}),
    ("filter_indent", "{{ 'a\\nb\\n\\nc' | indent }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(width='> ', blank=true) }}|{{ 'x\\n' | indent(first=true) }}", {}),
    ("filter_tojson", "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ [] | tojson(indent=4) }}|{{ {} | tojson }}|{{ 'a\"b\\n\\u00e9\\x01' | tojson }}|{{ d | tojson(sort_keys=true) }}|{{ [1, 2.5, none, true] | tojson(separators=[',', ':']) }}", {"d": {"z": [1, {"y": None}], "a": "x", "f": 1.0, "n": -2}}),
    ("filter_tojson_unicode", "{{ s | tojson }}", {"s": "日本 👋 \u2028 \t"}),
    ("filter_misc", "{{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ [3, 1, 2] | sort | list }} {{ ['b', 'A', 'c'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ [1, 2, 2, 1] | unique | list }} {{ [1, 5, 3] | max }} {{ [4, 2] | min }} {{ [1, 2, 3] | sum }} {{ [1, 2] | reverse | list }} {{ 'abc' | reverse }} {{ '<a href=\"x\">&' | e }} {{ 'x' | safe }}", {}),
    ("filter_chain_precedence", "{{ 'a' + ' b ' | trim + 'c' }} {{ -1 | abs }} {{ [1, 2] | length * 2 }}", {}),
    # tests
    ("tests", "{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ [] is sequence }} {{ 1 is number }} {{ 1.5 is number }} {{ true is true }} {{ 1 is true }} {{ false is false }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' is equalto 'a' }} {{ 'a' is eq 'b' }} {{ 2 is in [1, 2] }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ x is not none }} {{ 2 is gt 1 }} {{ 2 is le 1 }}", {"x": 1}),
    ("test_precedence", "{{ not x is defined }} {{ x is defined and y is not defined }} {{ 'a' if x is number else 'b' }}", {"x": 1}),
    # string methods
    ("string_methods", "{{ '  a b  '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b\\tc\\n'.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'hello'.startswith('he') }}|{{ 'hello'.endswith(('x', 'lo')) }}|{{ 'Hello'.upper() }}{{ 'Hello'.lower() }}|{{ 'hello wORLD'.title() }}|{{ 'aXa'.replace('a', 'b') }}|{{ ', '.join(['x', 'y']) }}|{{ 'banana'.count('a') }}|{{ 'banana'.find('n') }}|{{ 'hello world'.capitalize() }}", {}),
    ("dict_methods", "{{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %}", {"d": {"b": 1, "a": [2]}}),
    ("message_content_strip", "{% for m in messages %}{{ m['content'].strip() }}|{{ m.content | trim }}|{% endfor %}", {"messages": [{"role": "user", "content": "  spaced \n"}]}),
    # raise_exception and globals
    ("raise_exception", "before{{ raise_exception('Custom failure: ' ~ 42) }}", {}),
    ("strftime_now", "{{ strftime_now('%d %b %Y %H:%M') }} {{ strftime_now is defined }}", {}, FIXED_TIME),
    ("generation_tag", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}", {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}),
    ("filter_block", "{% filter upper %}shout {{ 'this' }}{% endfilter %}", {}),
    ("dict_literal_ordering", "{% set d = {'b': 1, 'a': 2, 'b': 3} %}{{ d }} {{ d | tojson }}", {}),
    ("bool_int_arith", "{{ true + 1 }} {{ false * 3 }} {{ 1 == true }}", {}),
    ("none_attribute", "{{ none.x }}|{{ n.x is defined }}", {"n": None}),
    ("unicode_text_and_slices", "{{ s[0] }}{{ s[-1] }} {{ s | length }} {{ s[1:3] }} {{ s | upper }}", {"s": "ñ日本👋"}),
]

# Constructs CartridgeTemplate rejects when the template is parsed (jinja2 fails too, mostly at compile time).
PARSE_ERRORS = [
    ("unknown_filter", "{{ x | frobnicate }}", {}),
    ("unknown_test", "{% if x is frobnicated %}{% endif %}", {}),
    ("unknown_tag", "{% include 'other.html' %}", {}),
    ("unclosed_for", "{% for x in y %}body", {}),
    ("unclosed_if", "line1\n{% if x %}\nbody\n", {}),
    ("unclosed_variable", "{{ x ", {}),
    ("unclosed_comment", "{# never closed", {}),
    ("unclosed_string", "{{ 'abc }}", {}),
    ("stray_endif", "{% endif %}", {}),
    ("bad_token", "{{ x $ y }}", {}),
]


def main():
    out = {
        "generator": "scripts/reference/jinja-fixtures.py",
        "jinja2": jinja2.__version__,
        "python": sys.version.split()[0],
        "templates": [],
        "snippets": [],
        "parseErrors": [],
    }
    for path in sorted((FIXTURES / "templates").glob("*.jinja")):
        name = path.stem
        source = path.read_text(encoding="utf-8")
        entry = {"name": name, "file": path.name, "cases": []}
        for case_name, context, fixed in template_cases(name):
            case = run(source, context, fixed)
            case["name"] = case_name
            entry["cases"].append(case)
        out["templates"].append(entry)
    for snippet in SNIPPETS:
        name, source, context = snippet[:3]
        fixed = snippet[3] if len(snippet) > 3 else None
        case = run(source, context, fixed)
        case["name"] = name
        case["source"] = source
        out["snippets"].append(case)
    for name, source, context in PARSE_ERRORS:
        case = run(source, context)
        assert "error" in case, (name, case)  # jinja2 defers some (tests inside `if`) to render time
        case["name"] = name
        case["source"] = source
        out["parseErrors"].append(case)
    target = FIXTURES / "jinja-expected.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    total = sum(len(t["cases"]) for t in out["templates"]) + len(out["snippets"]) + len(out["parseErrors"])
    print(f"wrote {target.relative_to(ROOT)}: {total} cases")


if __name__ == "__main__":
    main()

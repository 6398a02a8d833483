"""Reading a rules file's YAML defensively: every problem is `FILE:LINE: message`, never a hang or traceback.

A rules file is data an operator edits by hand, so it is read with bounds: a size limit (a 50 MB file
would take minutes and gigabytes), a nesting limit (PyYAML composes recursively), a limit on how far
anchors and aliases may multiply the document ("billion laughs": 570 bytes expanding to 10^9 values),
only the standard YAML tags (`!!python/object` and friends are refused), keys that are plain values, and
dates and numbers that exist (2012-02-30 and 20-digit integers are reported, not raised).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import SafeConstructor

MAX_BYTES = 1_000_000  # the sample province's rules are about 23 kB
MAX_DEPTH = 40  # the deepest rules structure is about 6 levels
MAX_VALUES = 100_000  # values after expanding aliases; the sample has a few thousand
MAX_INTEGER = 10**9
_STANDARD = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(_STANDARD + t for t in ("str", "int", "float", "bool", "null", "timestamp", "seq",
                                                  "map", "merge"))


class YamlProblem(Exception):
    """The file cannot be used; `problems` are (line, message) pairs."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(m for _, m in problems))
        self.problems = problems


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting deeper than MAX_DEPTH and remembers where aliases are used."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self.alias_lines: list[int] = []

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.alias_lines.append(self.peek_event().start_mark.line + 1)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ComposerError(None, None, f"nesting deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


def check_size(path: Path) -> None:
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise YamlProblem([(1, f"the file is {size / 1e6:.1f} MB; a rules file may be at most "
                               f"{MAX_BYTES / 1e6:.0f} MB")])


def _fast_compose(text: str) -> yaml.Node | None:
    """The node tree by libyaml (twenty times faster than PyYAML's own parser, which the bot's start-up
    felt), or None when libyaml is missing or the text has any problem: then the careful path below reads
    it again and reports the problem in its own words."""
    loader_class = getattr(yaml, "CSafeLoader", None)
    if loader_class is None:
        return None
    try:
        depth = 0
        for event in yaml.parse(text, Loader=loader_class):  # events come one by one: no recursion
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return None
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        loader = loader_class(text)
        try:
            return loader.get_single_node()  # type: ignore[no-any-return]
        finally:
            loader.dispose()
    except (yaml.YAMLError, RecursionError, ValueError):
        return None


def parse(text: str) -> tuple[yaml.Node, Any, list[tuple[int, str]]]:
    """The node tree (it keeps line numbers), the plain data and the duplicate keys of a rules file.

    Raises YamlProblem when the data cannot be read; duplicate keys are returned, so that the caller
    can report them together with the problems of meaning.
    """
    root = _fast_compose(text)
    if root is not None and _expanded_size(root, {}) <= MAX_VALUES and not _node_problems(root):
        try:
            return root, SafeConstructor().construct_document(root), []
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            pass  # reported in the careful path's words below
    loader = _BoundedLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        message = f"YAML syntax error: {exc.problem or exc.context}"
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            message += f" ({exc.context} on line {exc.context_mark.line + 1})"
        raise YamlProblem([(line, message)]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise YamlProblem([(1, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if root is None:
        raise YamlProblem([(1, "the file is empty")])
    if _expanded_size(root, {}) > MAX_VALUES:
        line = loader.alias_lines[0] if loader.alias_lines else 1
        raise YamlProblem([(line, f"aliases (*name) expand the file to more than {MAX_VALUES} values; "
                                  "repeat the data instead of multiplying it")])
    problems = _node_problems(root)
    duplicates = [p for p in problems if p[1].startswith("duplicate key")]
    if len(duplicates) < len(problems):
        raise YamlProblem(problems)
    try:
        data = SafeConstructor().construct_document(root)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        raise YamlProblem([(root.start_mark.line + 1, f"cannot read the YAML: {exc}")]) from None
    return root, data, duplicates


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many values the node stands for once aliases are expanded (linear time: shared nodes memoised)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 1  # a recursive alias counts once instead of looping
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, memo) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[id(node)] = min(size, MAX_VALUES + 1)
    return memo[id(node)]


def _node_problems(root: yaml.Node) -> list[tuple[int, str]]:
    """Foreign tags, keys that are lists or mappings, impossible dates, huge numbers, duplicate keys."""
    found: list[tuple[int, str]] = []
    seen: set[int] = set()
    stack = [root]
    constructor = SafeConstructor()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        line = node.start_mark.line + 1
        if node.tag not in ALLOWED_TAGS:
            shown = "!!" + node.tag.removeprefix(_STANDARD) if node.tag.startswith(_STANDARD) else node.tag
            found.append((line, f"the tag '{shown}' is not allowed in a rules file"))
            continue
        if isinstance(node, yaml.ScalarNode):
            found += _scalar_problem(constructor, node, line)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                key_line = key.start_mark.line + 1
                if not isinstance(key, yaml.ScalarNode):
                    found.append((key_line, "a key must be a plain word, not a list or a mapping"))
                    continue
                if key.value in keys:
                    found.append((key_line, f"duplicate key '{key.value}'"))
                keys.add(key.value)
                stack.append(value)
    return sorted(found)


def _scalar_problem(constructor: SafeConstructor, node: yaml.ScalarNode, line: int) -> list[tuple[int, str]]:
    if node.tag == _STANDARD + "timestamp":
        try:
            constructor.construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            return [(line, f"'{node.value}' is not a real date ({exc})")]
    elif node.tag == _STANDARD + "int":
        digits = node.value.replace("_", "").lstrip("+-")
        if len(digits) > 12:
            return [(line, f"the number {node.value[:20]}{'…' if len(node.value) > 20 else ''} is too large")]
        try:
            number = constructor.construct_yaml_int(node)
        except ValueError:
            return [(line, f"'{node.value}' is not a number")]
        if abs(number) > MAX_INTEGER:
            return [(line, f"the number {node.value} is too large (at most {MAX_INTEGER})")]
    return []

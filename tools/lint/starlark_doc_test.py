"""Every rule attribute that users set (a key not starting with `_`) carries `doc=`, and
every public rule (a name not starting with `_`) has a `doc` of its own.

Reads every .bzl file of the source tree as Python syntax (Starlark's is a subset) and
looks at each `rule(...)`, `repository_rule(...)` and `aspect(...)` call: its `attrs`
must be a dict literal, a module-level name bound to one, or `dict(...)`/`|`/`+` of
those, so that the check sees every attribute.
"""

from __future__ import annotations

import ast
import os
import pathlib

import pytest

RULE_FUNCTIONS = {"rule", "repository_rule", "aspect"}
SKIP_DIRS = {".git", "third_party"}


def source_tree() -> pathlib.Path:
    marker = pathlib.Path(os.environ["TEST_SRCDIR"]) / os.environ["TEST_WORKSPACE"] / "WORKSPACE"
    return marker.resolve().parent


def bzl_files(root: pathlib.Path) -> list[pathlib.Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("bazel-"))
        found += [pathlib.Path(dirpath, f) for f in sorted(filenames) if f.endswith(".bzl")]
    return found


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _resolve(node: ast.expr, names: dict[str, ast.expr]) -> ast.expr:
    while isinstance(node, ast.Name) and node.id in names:
        node = names[node.id]
    return node


def _attr_entries(node: ast.expr, names: dict[str, ast.expr]) -> list[tuple[str, ast.expr]] | None:
    """(key, value) of every attribute in an `attrs` expression; None if it cannot be read."""
    node = _resolve(node, names)
    if isinstance(node, ast.Dict):
        if any(k is None or not (isinstance(k, ast.Constant) and isinstance(k.value, str)) for k in node.keys):
            return None
        return [(k.value, v) for k, v in zip(node.keys, node.values)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.Add)):
        left, right = _attr_entries(node.left, names), _attr_entries(node.right, names)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        entries = []
        for arg in node.args:
            part = _attr_entries(arg, names)
            if part is None:
                return None
            entries += part
        for k in node.keywords:
            part = _attr_entries(k.value, names) if k.arg is None else [(k.arg, k.value)]
            if part is None:
                return None
            entries += part
        return entries
    return None


def problems(source: str, filename: str = "<bzl>") -> list[str]:
    """The attributes without `doc=` (and public rules without `doc`) in one .bzl text."""
    tree = ast.parse(source, filename)
    names = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            names[stmt.targets[0].id] = stmt.value
    rule_names = {id(v): k for k, v in names.items()}
    found = []
    for call in ast.walk(tree):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in RULE_FUNCTIONS):
            continue
        rule = rule_names.get(id(call), "%s() on line %d" % (call.func.id, call.lineno))
        where = "%s:%d: %s" % (filename, call.lineno, rule)
        if not rule.startswith("_") and _keyword(call, "doc") is None:
            found.append("%s: the rule has no doc" % where)
        attrs = _keyword(call, "attrs")
        if attrs is None:
            continue
        entries = _attr_entries(attrs, names)
        if entries is None:
            found.append("%s: attrs is not a dict literal (or a name, dict() or | of them): cannot check it" % where)
            continue
        for key, value in entries:
            if key.startswith("_"):
                continue
            value = _resolve(value, names)
            is_attr = (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                       and isinstance(value.func.value, ast.Name) and value.func.value.id == "attr")
            if not is_attr or _keyword(value, "doc") is None:
                found.append("%s: attribute %r has no doc=" % (where, key))
    return found


def test_every_public_rule_attribute_has_doc():
    root = source_tree()
    files = bzl_files(root)
    assert any(f.name == "verilog.bzl" for f in files), f"no .bzl files found under {root}"
    found = []
    for f in files:
        found += problems(f.read_text(), str(f.relative_to(root)))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("attrs, expected", [
    ('{"srcs": attr.label_list(doc = "x"), "_tool": attr.label()}', []),
    ('{"srcs": attr.label_list()}', ["attribute 'srcs' has no doc="]),
    ('_ATTRS', ["attribute 'n' has no doc="]),
    ('dict(_ATTRS, extra = attr.string(doc = "x"))', ["attribute 'n' has no doc="]),
    ('{"a": attr.int(doc = "x")} | {"b": attr.int()}', ["attribute 'b' has no doc="]),
    ('make_attrs()', ["cannot check it"]),
])
def test_the_check_finds_attributes_without_doc(attrs, expected):
    source = '_ATTRS = {"n": attr.int()}\nmy_rule = rule(implementation = _impl, doc = "d", attrs = %s)\n' % attrs
    found = problems(source, "x.bzl")
    assert len(found) == len(expected), found
    for line, want in zip(found, expected):
        assert line.startswith("x.bzl:2: my_rule: ") and want in line, line


def test_a_public_rule_without_doc_is_named_and_a_private_one_is_not():
    found = problems('a = rule(implementation = _i)\n_b = repository_rule(implementation = _i)\n', "x.bzl")
    assert found == ["x.bzl:1: a: the rule has no doc"]

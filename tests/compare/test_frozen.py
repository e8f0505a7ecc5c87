"""compare.frozen against the standard library: the same classes made by ``dataclasses`` and by
``compare.frozen`` behave alike (construction, defaults, errors, repr text, equality, hashing,
immutability, ``__post_init__``, inheritance), and a warm-path module never imports dataclasses."""
from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys

import pytest

from scopecheck.compare import frozen


def _classes(dc, fld):
    """The same four classes, made by ``dc``/``fld`` (dataclasses or compare.frozen)."""

    @dc(frozen=True)
    class Point:
        """A point."""

        x: int
        y: int = 0
        tags: tuple = ()
        note: str = fld(default="", repr=False)
        extra: list = fld(default_factory=list, repr=False)

    @dc(frozen=True)
    class Checked:
        value: int

        def __post_init__(self):
            if self.value < 0:
                raise ValueError(f"negative: {self.value}")

    @dc(frozen=True)
    class Own:
        size: int
        value: int

        def __eq__(self, other):
            return isinstance(other, Own) and self.value == other.value

        def __hash__(self):
            return hash(self.value)

        def __repr__(self):
            return f"Own<{self.value}>"

    class Plain:  # a plain base: its annotations are not fields (as in compare.haystack._Files)
        ignored: int

        def twice(self):
            return 2 * self.a  # type: ignore[attr-defined]

    @dc(frozen=True)
    class Base(Plain):
        a: int
        b: str = "b"

    @dc(frozen=True)
    class Child(Base):
        c: float = 1.5

    return Point, Checked, Own, Base, Child


STD = _classes(dataclasses.dataclass, dataclasses.field)
OURS = _classes(frozen.dataclass, frozen.field)


def _outcome(fn):
    """What calling ``fn`` gives: ('ok', value) or (exception type family, message)."""
    try:
        return "ok", fn()
    except AttributeError as e:  # dataclasses.FrozenInstanceError and ours are both AttributeErrors
        return "AttributeError", str(e)
    except (TypeError, ValueError) as e:
        return type(e).__name__, str(e)


CALLS = [
    ("positional", lambda P, *_: repr(P(1, 2, (3,), "n", [4]))),
    ("the first fields by position", lambda *cls: (repr(cls[4](1)), repr(cls[4](1, "x")), vars(cls[4](1)))),
    ("the first fields by position, a factory", lambda P, *_: (repr(P(1, 2)), vars(P(1, 2)))),
    ("positional and keywords", lambda *cls: (repr(cls[4](1, c=3.0)), vars(cls[4](1, c=3.0)))),
    ("positional, then the rest by name", lambda *cls: (repr(cls[4](1, "x", c=2.0)), vars(cls[4](1, "x", c=2.0)))),
    ("positional, the rest by name out of order", lambda *cls: vars(cls[4](1, c=2.0, b="x"))),
    ("every field by name", lambda *cls: vars(cls[4](a=0, b="y", c=2.0))),
    ("every field by name, out of order", lambda *cls: vars(cls[4](c=2.0, b="y", a=0))),
    ("keywords", lambda P, *_: repr(P(y=5, x=1))),
    ("defaults", lambda P, *_: repr(P(1))),
    ("factory gives a new list each time", lambda P, *_: P(1).extra is not P(1).extra and P(1).extra == []),
    ("missing", lambda P, *_: P()),
    ("missing keyword-only call", lambda P, *_: P(y=1)),
    ("too many", lambda P, *_: P(1, 2, (), "", [], 6)),
    ("too many, all required", lambda _, C, *__: C(1, 2)),
    ("unknown keyword", lambda P, *_: P(1, z=2)),
    ("twice", lambda P, *_: P(1, x=2)),
    ("equal", lambda P, *_: P(1, 2) == P(1, 2) and P(1, 2) != P(2, 1)),
    ("not equal to a tuple", lambda P, *_: P(1, 2) == (1, 2, (), "", [])),
    ("hash of equal values", lambda P, *_: hash(P(1, 2, (3,))) == hash(P(1, 2, (3,)))),
    ("hash needs hashable fields", lambda P, *_: hash(P(1, 2, (), "", [1]))),
    ("assign", lambda P, *_: setattr(P(1), "x", 2)),
    ("assign new name", lambda P, *_: setattr(P(1), "other", 2)),
    ("delete", lambda P, *_: delattr(P(1), "x")),
    ("vars in field order", lambda P, *_: list(vars(P(y=2, x=1)))),
    ("match args", lambda P, *_: P.__match_args__),
    ("class default", lambda P, *_: (P.y, P.tags, P.note, hasattr(P, "extra"))),
    ("docstring kept", lambda P, *_: P.__doc__),
    ("post init runs", lambda _, C, *__: C(-1)),
    ("post init passes", lambda _, C, *__: repr(C(3))),
    ("own methods kept", lambda _, __, own, *___: (repr(own(1, 2)), own(1, 2) == own(9, 2), hash(own(1, 2)) == hash(2))),
    ("inherited fields", lambda *cls: repr(cls[4](1, "x", 2.5))),
    ("inherited order", lambda *cls: cls[4].__match_args__),
    ("plain base's methods", lambda *cls: cls[4](4).twice()),
    ("base and child never equal", lambda *cls: cls[3](1) == cls[4](1)),
    ("copy", lambda P, *_: repr(copy.copy(P(1, 2))) + repr(copy.deepcopy(P(1, 2)))),
]


@pytest.mark.parametrize("name, call", CALLS, ids=[c[0] for c in CALLS])
def test_same_behaviour_as_dataclasses(name, call):
    std, ours = _outcome(lambda: call(*STD)), _outcome(lambda: call(*OURS))
    assert ours == std, (name, ours, std)


def test_pickles():
    from scopecheck.compare.hashing import DHash
    from scopecheck.compare.haystack import Entry

    e = Entry(path="/a.png", dhash=DHash(8, 5), flat=False, sha256="s", pixel_sha256=None, thumb=b"t")
    back = pickle.loads(pickle.dumps(e))
    assert back == e and repr(back) == repr(e) and hash(back.dhash) == hash(e.dhash)


def test_replace_and_refusals():
    P = OURS[0]
    p = P(1, 2, note="n")
    assert repr(frozen.replace(p, y=7)) == repr(P(1, 7, note="n")) and frozen.replace(p).note == "n"
    with pytest.raises(TypeError):
        frozen.replace(p, z=1)
    with pytest.raises(TypeError):
        frozen.replace(object())
    for options in ({}, {"frozen": True, "order": True}, {"frozen": True, "eq": False}):
        with pytest.raises(TypeError):
            frozen.dataclass(**options)
    with pytest.raises(ValueError, match="mutable default"):
        frozen.dataclass(frozen=True)(type("Bad", (), {"__annotations__": {"x": "list"}, "x": []}))
    with pytest.raises(TypeError, match="follows default"):
        frozen.dataclass(frozen=True)(type("Bad", (), {"__annotations__": {"x": "int", "y": "int"}, "x": 1}))
    with pytest.raises(TypeError, match="not supported"):
        frozen.dataclass(frozen=True)(type("Bad", (), {"__annotations__": {"x": "ClassVar[int]"}}))


def test_a_warm_search_module_never_imports_dataclasses():
    code = ("import sys; import scopecheck.commands.search, scopecheck.compare.search; "
            "print(sorted(m for m in ('dataclasses', 'inspect', 'typing') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

"""``@dataclass(frozen=True)`` for the classes a warm search creates, without :mod:`dataclasses`.

The standard decorator writes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``,
``__setattr__`` and ``__delattr__`` as source text and compiles each with ``exec``, and its module
imports :mod:`inspect` (with ``ast``, ``dis`` and ``tokenize``). Measured with callgrind: importing
it costs 41 M instructions and each class 3.8 M; the 17 classes a ``search`` of two warm indexes
defines took 94 M of its 336 M instructions (28 %), more than Python's own start-up.

Here the same methods are closures over the field names, made once and shared (no ``exec``). For
the type checker these names *are* the standard ones (``TYPE_CHECKING`` below), so constructors are
checked as before. What is supported is what those classes use, and anything else is refused, not
silently ignored: ``frozen=True`` (``eq=True``, ``order=False``, ``repr=True``), defaults and
``field(default=..., default_factory=..., repr=...)``, ``__post_init__``, methods the class defines
itself (kept, as the standard decorator keeps them), fields inherited from another such class.
The behaviour is the standard one, checked side by side in ``tests/compare/test_frozen.py``:
same ``repr`` text, equality and hash from the field tuple, ``TypeError`` for missing or unknown
arguments, an ``AttributeError`` subclass on assignment, ``__match_args__``. Not provided:
``dataclasses.fields``/``asdict``/``replace`` on these classes (use :func:`replace` here).
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from dataclasses import (
        FrozenInstanceError as FrozenInstanceError,
        dataclass as dataclass,
        field as field,
        replace as replace,
    )
else:
    class FrozenInstanceError(AttributeError):
        """Assignment to a field of a frozen value (as :class:`dataclasses.FrozenInstanceError`)."""

    class _Missing:
        def __repr__(self):
            return "<missing>"

    _MISSING = _Missing()

    class _Field:
        __slots__ = ("default", "default_factory", "repr")

        def __init__(self, default, default_factory, repr):
            if default is not _MISSING and default_factory is not _MISSING:
                raise ValueError("cannot specify both default and default_factory")
            self.default, self.default_factory, self.repr = default, default_factory, repr

    def field(*, default=_MISSING, default_factory=_MISSING, repr=True):
        """A field's default (or factory) and whether ``repr`` shows it."""
        return _Field(default, default_factory, repr)

    _SPEC = "__frozen_fields__"  # on each class: ((name, _Field), ...) in definition order

    def _fields_of(cls) -> list:
        """Fields from the nearest base made here (as dataclasses: plain bases' annotations are not
        fields), then the class's own annotations; a redefined name keeps its first place."""
        fields: dict = {}
        for base in reversed(cls.__mro__[1:]):
            for name, f in base.__dict__.get(_SPEC, ()):
                fields[name] = f
        for name, ann in cls.__dict__.get("__annotations__", {}).items():
            text = ann if isinstance(ann, str) else getattr(ann, "__name__", "")
            if text.startswith(("ClassVar", "typing.ClassVar", "InitVar", "dataclasses.InitVar", "KW_ONLY")):
                raise TypeError(f"{cls.__qualname__}.{name}: {text} is not supported here; use dataclasses")
            value = cls.__dict__.get(name, _MISSING)
            f = value if isinstance(value, _Field) else _Field(value, _MISSING, True)
            if f.default is not _MISSING and type(f.default).__hash__ is None:  # as dataclasses: list, dict, set
                raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use "
                                 "default_factory")
            if isinstance(value, _Field):  # the class attribute becomes the plain default (or goes)
                if f.default is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, f.default)
            fields[name] = f
        seen_default = None
        for name, f in fields.items():
            if f.default is _MISSING and f.default_factory is _MISSING:
                if seen_default is not None:
                    raise TypeError(f"non-default argument {name!r} follows default argument")
            else:
                seen_default = name
        return list(fields.items())

    def _make_init(qualname: str, names: tuple, fields: list, post_init: bool):
        n = len(names)
        me = f"{qualname}.__init__()"  # as Python names the function in its TypeErrors
        known = frozenset(names)
        defaults = [(name, f.default, f.default_factory) for name, f in fields
                    if f.default is not _MISSING or f.default_factory is not _MISSING]
        required = n - len(defaults)  # the fields with defaults are the last ones (checked above)
        plain = tuple((name, default) for name, default, _ in defaults) if all(
            default is not _MISSING for _, default, _ in defaults) else ()

        def values_of(args, kwargs) -> dict:
            if len(args) > n:
                takes = f"{n + 1}" if required == n else f"from {required + 1} to {n + 1}"
                raise TypeError(f"{me} takes {takes} positional argument{'s' if n else ''} but {len(args) + 1} "
                                "were given")
            values = dict(zip(names, args))
            for key, value in kwargs.items():
                if key in values:
                    raise TypeError(f"{me} got multiple values for argument {key!r}")
                if key not in known:
                    raise TypeError(f"{me} got an unexpected keyword argument {key!r}")
                values[key] = value
            if len(values) < n:
                for name, default, factory in defaults:
                    if name not in values:
                        values[name] = factory() if default is _MISSING else default
                if len(values) < n:
                    missing = [name for name in names if name not in values]
                    raise TypeError(f"{me} missing {len(missing)} required positional argument"
                                    f"{'s' if len(missing) > 1 else ''}: {', '.join(map(repr, missing))}")
            if kwargs:  # the instance's __dict__ in field order, as the standard __init__ leaves it
                values = {name: values[name] for name in names}
            return values

        def __init__(self, *args, **kwargs):
            if not kwargs and len(args) == n:  # every field by position
                self.__dict__.update(zip(names, args))
            elif not args and tuple(kwargs) == names:  # every field by name, in order
                self.__dict__.update(kwargs)
            elif not kwargs and required <= len(args) < n and plain:  # the first fields by position
                d = self.__dict__
                d.update(zip(names, args))
                d.update(plain[len(args) - required:])
            else:
                self.__dict__.update(values_of(args, kwargs))
            if post_init:
                self.__post_init__()

        return __init__

    def _make_methods(cls, names: tuple, fields: list) -> dict:
        shown = tuple(name for name, f in fields if f.repr)

        def __repr__(self):
            return (f"{self.__class__.__qualname__}("
                    f"{', '.join(f'{name}={self.__dict__[name]!r}' for name in shown)})")

        def __eq__(self, other):
            if other.__class__ is not self.__class__:
                return NotImplemented
            d, o = self.__dict__, other.__dict__
            return tuple(d[name] for name in names) == tuple(o[name] for name in names)

        def __hash__(self):
            d = self.__dict__
            return hash(tuple(d[name] for name in names))

        def __setattr__(self, name, value):
            if type(self) is cls or name in names:
                raise FrozenInstanceError(f"cannot assign to field {name!r}")
            super(cls, self).__setattr__(name, value)

        def __delattr__(self, name):
            if type(self) is cls or name in names:
                raise FrozenInstanceError(f"cannot delete field {name!r}")
            super(cls, self).__delattr__(name)

        return {"__repr__": __repr__, "__eq__": __eq__, "__hash__": __hash__, "__setattr__": __setattr__,
                "__delattr__": __delattr__}

    def _process(cls):
        for name in ("__setattr__", "__delattr__"):
            if name in cls.__dict__:
                raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}")
        fields = _fields_of(cls)
        names = tuple(name for name, _ in fields)
        setattr(cls, _SPEC, tuple(fields))
        own = cls.__dict__
        # as dataclasses: a class that defines __eq__ but not __hash__ has __hash__ = None set by
        # Python, which does not count as defining it
        explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
        methods = _make_methods(cls, names, fields)
        methods["__init__"] = _make_init(cls.__qualname__, names, fields, hasattr(cls, "__post_init__"))
        for name, fn in methods.items():
            if name == "__hash__" and explicit_hash:
                continue
            if name in own and name not in ("__setattr__", "__delattr__", "__hash__"):
                continue  # the class's own __init__, __repr__ or __eq__ stays
            fn.__qualname__ = f"{cls.__qualname__}.{name}"
            setattr(cls, name, fn)
        if "__match_args__" not in own:
            cls.__match_args__ = names
        if cls.__doc__ is None:
            sig = ", ".join(name if f.default is _MISSING else f"{name}={f.default!r}" for name, f in fields)
            cls.__doc__ = f"{cls.__name__}({sig})"
        return cls

    def dataclass(cls=None, /, *, frozen=False, eq=True, order=False, repr=True):
        """``@dataclass(frozen=True)`` (see the module's docstring); other options are refused."""
        if not frozen or not eq or order or not repr:
            raise TypeError("compare.frozen makes frozen value classes only (frozen=True, eq=True, "
                            "order=False, repr=True); use dataclasses for anything else")
        return _process if cls is None else _process(cls)

    def replace(obj, /, **changes):
        """A copy of ``obj`` with ``changes`` (as :func:`dataclasses.replace`)."""
        spec = getattr(type(obj), _SPEC, None)
        if spec is None:
            raise TypeError("replace() should be called on a compare.frozen value class instance")
        values = {name: obj.__dict__[name] for name, _ in spec}
        for key in changes:
            if key not in values:
                raise TypeError(f"__init__() got an unexpected keyword argument {key!r}")
        values.update(changes)
        return type(obj)(**values)

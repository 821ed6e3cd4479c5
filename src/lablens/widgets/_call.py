"""``ApiCall``: one ``Api`` call that both runs itself and renders itself as Python source.

A widget never writes a call twice (once to make it, once as the code it shows): it builds an
``ApiCall`` and asks it for both, so what ``widget.code`` shows and what the widget ran cannot
differ. A call is a receiver expression (``api``, or a variable such as ``project``) and a chain
of steps, each a method call or an index::

    call = api_call("runs", "alice/mnist", filters={"state": "FINISHED"})
    call = call.then("histories", keys=["loss"], samples=500, format="long")
    call.source()   # "api.runs('alice/mnist', filters={'state': 'FINISHED'}).histories(...)"
    call.run(api)   # the DataFrame that source gives, run against this Api

Arguments render with ``repr``. A keyword argument given as ``None`` is left out of the source
and of the call alike, so a widget can pass an unset option without spelling a default; one given
as ``NONE`` is passed as ``None`` and shown (``samples=None``: every point, where the method's
default would sample).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lablens.api import Api

__all__ = ["NONE", "ApiCall", "Step", "api_call", "api_source", "kernel_code"]


class _SaidNone:
    """``None`` as a keyword argument that is kept: the call passes ``None`` and its source
    shows ``=None``, instead of leaving the method's default."""

    def __repr__(self) -> str:
        return "None"


#: Give a keyword argument as ``NONE`` to pass (and show) ``None`` rather than drop it.
NONE = _SaidNone()


@dataclass(frozen=True)
class Step:
    """One link of a call chain: ``.method(*args, **kwargs)``, or ``[key]`` when ``method`` is
    empty (``key`` in ``args[0]``)."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()

    def source(self) -> str:
        """This step as Python source, appended to its receiver's."""
        if not self.method:
            return f"[{_index_source(self.args[0])}]"
        parts = [repr(a) for a in self.args]
        parts += [f"{k}={v!r}" for k, v in self.kwargs]
        return f".{self.method}({', '.join(parts)})"

    def run(self, target: Any) -> Any:
        """Apply this step to ``target``."""
        if not self.method:
            return target[self.args[0]]
        kwargs = {k: None if v is NONE else v for k, v in self.kwargs}
        return getattr(target, self.method)(*self.args, **kwargs)


def _index_source(key: Any) -> str:
    if isinstance(key, slice):
        if key.step is not None:
            return f"{_bound(key.start)}:{_bound(key.stop)}:{key.step!r}"
        return f"{_bound(key.start)}:{_bound(key.stop)}"
    return repr(key)


def _bound(value: Any) -> str:
    return "" if value is None else repr(value)


@dataclass(frozen=True)
class ApiCall:
    """A receiver and a chain of method calls and indexes on it.

    Immutable: ``then`` and ``[...]`` give a longer call and leave this one as it is, so a widget
    can keep a base call (``api.runs(...)``) and chain different ends onto it.

    Args:
        receiver: the Python expression the chain starts from; ``run`` takes its value.
        steps: the chain.

    Example:
        >>> call = ApiCall("api").then("artifact", "alice/mnist/mlp:v3").then("files")[:500]
        >>> call.source()
        "api.artifact('alice/mnist/mlp:v3').files()[:500]"
    """

    receiver: str = "api"
    steps: tuple[Step, ...] = ()

    def then(self, method: str, *args: Any, **kwargs: Any) -> ApiCall:
        """This call followed by ``.method(*args, **kwargs)`` (``None`` keywords left out;
        ``NONE`` ones passed as ``None``)."""
        if not method:
            raise ValueError("a method call needs a method name")
        kept = tuple((k, v) for k, v in kwargs.items() if v is not None)
        return ApiCall(self.receiver, (*self.steps, Step(method, args, kept)))

    def __getitem__(self, key: Any) -> ApiCall:
        """This call followed by ``[key]`` (an index or a slice)."""
        return ApiCall(self.receiver, (*self.steps, Step("", (key,))))

    def source(self) -> str:
        """The call as a Python expression."""
        return self.receiver + "".join(step.source() for step in self.steps)

    def assign(self, name: str) -> str:
        """The call as a statement, ``name = <source>``."""
        return f"{name} = {self.source()}"

    def run(self, receiver: Any) -> Any:
        """Run the chain on ``receiver``, the value of the receiver expression (an ``Api`` for
        ``api``), and return what the last step returns."""
        value = receiver
        for step in self.steps:
            value = step.run(value)
        return value

    def run_after(self, head: ApiCall, value: Any) -> Any:
        """Run the steps of this call that follow ``head``, on ``value``, what ``head`` returned.

        A widget that holds an intermediate result (an artifact, a paginator) goes on from it
        without asking the server again, and the source still shows the whole chain.

        Raises:
            ValueError: this call does not start with ``head``.
        """
        n = len(head.steps)
        if head.receiver != self.receiver or self.steps[:n] != head.steps:
            raise ValueError(f"{self.source()} does not start with {head.source()}")
        return ApiCall(self.receiver, self.steps[n:]).run(value)

    def __str__(self) -> str:
        return self.source()


def api_call(method: str, *args: Any, **kwargs: Any) -> ApiCall:
    """``api.method(*args, **kwargs)``: the first link of a call on the ``Api`` named ``api``."""
    return ApiCall("api").then(method, *args, **kwargs)


def api_source(api: Api) -> str:
    """The statement that makes an ``Api`` like ``api`` in a fresh kernel:
    ``api = lablens.Api(host='http://...')``.

    The key is never written: ``lablens.Api`` finds it as this one did, in ``LABLENS_API_KEY``
    or the credentials stored for the host. An ``Api`` that found the local server on its own
    is ``lablens.Api()``, which finds it again after it restarts on another port.
    """
    args = [] if getattr(api, "_local", False) else [f"host={api.host!r}"]
    overrides = {k: api.settings[k] for k in ("entity", "project") if api.settings.get(k)}
    if overrides:
        args.append(f"overrides={overrides!r}")
    return f"api = lablens.Api({', '.join(args)})"


def kernel_code(api: Api, source: str) -> str:
    """``source`` (code using a variable ``api``) as code a fresh kernel runs: its imports and
    ``import lablens`` first, then the ``Api``, then the rest.

    Example:
        >>> print(kernel_code(api, "df = api.runs('alice/mnist').to_pandas()"))
        import lablens
        <BLANKLINE>
        api = lablens.Api(host='http://127.0.0.1:8123')
        df = api.runs('alice/mnist').to_pandas()
    """
    lines = source.splitlines()
    imports: list[str] = []
    while lines and (not lines[0].strip() or lines[0].startswith(("import ", "from "))):
        line = lines.pop(0)
        if line.strip():
            imports.append(line)
    head = sorted({*imports, "import lablens"}, key=lambda line: line.split()[1])
    return "\n".join(head) + "\n\n" + api_source(api) + "\n" + "\n".join(lines)

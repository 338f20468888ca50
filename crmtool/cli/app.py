"""The Typer app, its global options and the error handling that keeps tracebacks from users."""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from rich.console import Console
from typer.core import TyperGroup

from .. import __version__
from ..config import Config, load_config, with_dealer
from ..errors import CrmError, ExitCode
from ..period import parse_date_arg
from .argv import hoist

if TYPE_CHECKING:  # the click whose Context Typer's group receives (Typer vendors one)
    from typer._click.core import Context

_typer_click: ModuleType
try:  # Typer vendors its own click: its standalone mode (and CliRunner) catch only that one
    from typer._click import exceptions as _typer_click
except ImportError:  # pragma: no cover - a Typer that uses click itself
    _typer_click = click.exceptions
# both classes have click's ClickException shape (message, exit_code, show)
_CLICK_ERRORS: tuple[type[click.ClickException], ...] = tuple(
    dict.fromkeys((_typer_click.ClickException, click.ClickException))
)
# click's own control flow (--help, Ctrl-C at a prompt): never an "unexpected" error
_CLICK_FLOW: tuple[type[Exception], ...] = tuple(
    dict.fromkeys(
        (*_CLICK_ERRORS, typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort)
    )
)


class UserError(*_CLICK_ERRORS):  # type: ignore[misc]  # bases computed: vendored + real click
    """A failure on its way out: one line on stderr and a meaningful exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        try:
            click.echo(f"crmtool: error: {self.message}", err=True)
        except OSError:  # stderr gone: nothing more to say
            pass


class Group(TyperGroup):
    """Runs a command and turns every failure into a one-line message, never a traceback
    (CRMTOOL_DEBUG=1 shows the traceback of an unexpected error). The global options are
    accepted anywhere on the command line (crmtool.cli.argv)."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if ctx.parent is None:
            hoisted = hoist(self, ctx, list(args))
            args = hoisted.args
            ctx.meta["crmtool.path"] = hoisted.path
            self.typed_path = ["crmtool", *hoisted.path]  # for the hint of a usage error
        return super().parse_args(ctx, args)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's usage errors as one line with a hint, instead of its four-line block."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            rv = super().main(
                args, prog_name or "crmtool", complete_var, False, windows_expand_args, **extra
            )
        except SystemExit as e:  # Click's exit 1 when --help meets a closed pipe
            if isinstance(e.__context__, BrokenPipeError):
                _quiet_broken_pipe()
            raise
        except _CLICK_ERRORS as e:
            _show(e, getattr(self, "typed_path", ["crmtool"]))
            sys.exit(e.exit_code)
        except (typer.Abort, click.exceptions.Abort) as e:
            if _is_interrupt(e):  # Ctrl-C before a command runs (Click makes it Abort)
                _show(UserError("interrupted", ExitCode.INTERRUPTED))
                sys.exit(ExitCode.INTERRUPTED)
            _show(UserError("aborted", ExitCode.FAILED))
            sys.exit(ExitCode.FAILED)
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except CrmError as e:
            if _is_interrupt(e):  # an error the interrupt caused on its way out
                raise UserError("interrupted", ExitCode.INTERRUPTED) from None
            raise UserError(str(e), int(e.exit_code)) from None
        except KeyboardInterrupt:
            raise UserError("interrupted", ExitCode.INTERRUPTED) from None
        except _CLICK_FLOW:
            raise
        except SystemExit as e:  # rich's Console exits 1 when the reader of stdout went away
            if isinstance(e.__context__, BrokenPipeError):
                _quiet_broken_pipe()
            raise
        except OSError as e:
            if _is_interrupt(e):
                raise UserError("interrupted", ExitCode.INTERRUPTED) from None
            if isinstance(e, BrokenPipeError) or e.errno == errno.EPIPE:
                _quiet_broken_pipe()
            if os.environ.get("CRMTOOL_DEBUG"):
                raise
            where = f": {e.filename}" if e.filename else ""
            raise UserError(f"{e.strerror or e}{where}", ExitCode.FAILED) from None
        except Exception as e:
            if _is_interrupt(e):  # DuckDB turns Ctrl-C inside a query into its own error
                raise UserError("interrupted", ExitCode.INTERRUPTED) from None
            if os.environ.get("CRMTOOL_DEBUG"):
                raise
            first = (str(e).strip().splitlines() or [""])[0]
            raise UserError(
                f"unexpected {type(e).__name__}: {first} (set CRMTOOL_DEBUG=1 for details)",
                ExitCode.FAILED,
            ) from None


def _show(e: click.ClickException, path: list[str] | None = None) -> None:
    """One line on stderr: crmtool's own errors as they are, Click's usage errors with the
    command path and a hint (`try 'crmtool segment --help'`)."""
    if isinstance(e, UserError) or type(e).__name__ == "NoArgsIsHelpError":
        e.show()  # our one line; or the help of a group called without a command
        return
    message = e.format_message() if hasattr(e, "format_message") else str(e)
    message = " ".join(message.split()).rstrip(".")
    sub = getattr(e, "ctx", None)
    where = sub.command_path if sub is not None else " ".join(path or ["crmtool"])
    if getattr(e, "exit_code", None) == ExitCode.USAGE:
        message += f" (try '{where} --help')"
    try:
        click.echo(f"crmtool: error: {message}", err=True)
    except OSError:
        pass


app = typer.Typer(
    name="crmtool",
    cls=Group,
    help="After-sales CRM analytics for car dealerships: load DMS / I-CROP exports, then "
    "value tiers, segments, churn, call lists and monthly reports.\n\n"
    "Examples:\n\n"
    "  crmtool demo\n\n"
    "  crmtool load exports/ && crmtool summary --period 2021-10\n\n"
    "  crmtool segment --tier A,B --format csv | head",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class State:
    """Global options, shared by every command through the Typer context."""

    db: str | None = None
    config_path: str | None = None
    as_of: date | None = None
    quiet: bool = False
    wait: float = 0.0
    dealer: str | None = None  # --dealer: one own dealer of a group
    engine: str = "duckdb"  # --engine: where the rules run (docs/rules.md §22 "Spark")
    spark_master: str | None = None
    spark_database: str | None = None
    spark_catalog: str | None = None
    _config: Config | None = field(default=None, repr=False)
    _warned: set[str] = field(default_factory=set, repr=False, compare=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = with_dealer(load_config(self.config_path), self.dealer)
        return self._config

    def say(self, message: str) -> None:
        """A message for the user on stderr (suppressed by --quiet)."""
        if not self.quiet:
            err.print(message, markup=False)

    def warn(self, message: str) -> None:
        """`crmtool: warning: …` on stderr, once per message, also with --quiet: something
        about the answer the user must know (docs/rules.md §18)."""
        if message in self._warned:
            return
        self._warned.add(message)
        try:
            click.echo(f"crmtool: warning: {message}", err=True)
        except OSError:
            pass


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, State) else State()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"crmtool {__version__}")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database file (default $CRMTOOL_DB or ./crmtool.duckdb)."),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option("--config", help="Config file (default $CRMTOOL_CONFIG or ./crmtool.toml)."),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The day the numbers are computed for (YYYY-MM-DD)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No messages on stderr.")] = False,
    wait: Annotated[
        float,
        typer.Option("--wait", help="Wait up to SECONDS for a database another process holds."),
    ] = 0.0,
    dealer: Annotated[
        str | None,
        typer.Option(
            "--dealer",
            metavar="CODE",
            help="Only this own dealer of a dealer group (one of the config's own_dealers).",
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            metavar="ENGINE",
            help="Where the rules run: duckdb (the store, default) or spark (a maker's tables).",
        ),
    ] = "duckdb",
    spark_master: Annotated[
        str | None,
        typer.Option("--spark-master", metavar="URL", help="Spark master (default local[*])."),
    ] = None,
    spark_database: Annotated[
        str | None,
        typer.Option(
            "--spark-database", metavar="NAME", help="Spark catalog database of the tables."
        ),
    ] = None,
    catalog: Annotated[
        str | None,
        typer.Option(
            "--catalog",
            metavar="NAME",
            help="Spark catalog of that database (e.g. iceberg, spark_catalog for Hive).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    if engine not in ("duckdb", "spark"):
        raise typer.BadParameter("must be duckdb or spark", param_hint="--engine")
    ctx.obj = State(
        db=db,
        config_path=config,
        as_of=parse_date_arg(as_of, "as-of") if as_of else None,
        quiet=quiet,
        wait=wait,
        dealer=dealer,
        engine=engine,
        spark_master=spark_master,
        spark_database=spark_database,
        spark_catalog=catalog,
    )


def main(argv: list[str] | None = None) -> None:
    """Console entry point. Errors are handled in Group.invoke; SIGTERM acts like Ctrl-C, so
    transactions roll back and temporary files are removed."""
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    if hasattr(signal, "SIGHUP"):  # the terminal closed: clean up as for Ctrl-C
        signal.signal(signal.SIGHUP, _raise_interrupt)
    try:
        app(args=argv)
    except KeyboardInterrupt:  # between commands, e.g. while parsing arguments
        sys.exit(ExitCode.INTERRUPTED)


def _is_interrupt(e: BaseException) -> bool:
    """Whether ``e`` is, or was raised while handling, an interrupt: KeyboardInterrupt,
    DuckDB's InterruptException or the RuntimeError 'Query interrupted' of its fetchers. A
    Ctrl-C inside a query aborts the transaction, so the next statement (a cleanup DROP, the
    rollback) fails with "Current transaction is aborted"; that error carries the interrupt
    in its context chain."""
    import duckdb

    if _signalled:
        return True
    seen: set[int] = set()
    stack: list[BaseException | None] = [e]
    while stack:
        x = stack.pop()
        if x is None or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, KeyboardInterrupt | duckdb.InterruptException) or (
            isinstance(x, RuntimeError) and str(x).strip() == "Query interrupted"
        ):
            return True
        stack += [x.__cause__, x.__context__]
    return False


_signalled = False  # a SIGINT / SIGTERM arrived: whatever error follows is its consequence


def _raise_interrupt(signum: int, frame: object) -> None:
    """Ctrl-C, and SIGTERM handled like it: transactions roll back, temp files are removed.
    Remembered, because DuckDB may wrap the interrupt into another error (e.g. a failed
    rollback, or a bind error while it counts a registered frame's rows)."""
    global _signalled
    _signalled = True
    raise KeyboardInterrupt


def _quiet_broken_pipe() -> None:
    """`crmtool ... | head`: the reader went away; exit quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    sys.exit(ExitCode.OK)

"""The `csm` command line: parse options, call the library, render, map errors to exit codes.

Heavy modules (pandas, openpyxl, the renderers) are imported inside the
commands so `csm --help` stays instant.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import typer

from cs_metrics.render import FORMATS  # light: each renderer is imported only when used

app = typer.Typer(
    name="csm",
    help="Customer-success KPIs and explainable health scores from the spreadsheets you export.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Check and explain config files.", no_args_is_help=True)
app.add_typer(config_app, name="config")

BINARY_FORMATS = ("xlsx",)
SUFFIX_FORMATS = {".json": "json", ".csv": "csv", ".md": "md", ".markdown": "md",
                  ".html": "html", ".htm": "html", ".xlsx": "xlsx", ".txt": "table"}

# ---------------------------------------------------------------- options
SourceArg = typer.Argument(None, help="A folder of exports, one workbook, or one file.",
                           show_default=False)
AccountsOpt = typer.Option(None, "--accounts", help="Accounts (CRM) file.")
TicketsOpt = typer.Option(None, "--tickets", help="Tickets (help desk) file.")
SurveysOpt = typer.Option(None, "--surveys", help="Survey responses file.")
BillingOpt = typer.Option(None, "--billing", help="Billing (invoices/subscriptions) file.")
UsageOpt = typer.Option(None, "--usage", help="Product usage file.")
ConfigOpt = typer.Option(None, "--config", "-c", help="YAML config laid over the defaults.")
AsOfOpt = typer.Option(None, "--as-of", help="Report date: YYYY-MM-DD or 'today' "
                       "(default: latest date in the data, clamped to today).")
PeriodOpt = typer.Option("month", "--period", "-p", help="month | quarter | year | Nd (e.g. 30d).")
ByOpt = typer.Option(None, "--by", help="Group KPIs by an accounts column (segment, plan, owner...).")
DebugOpt = typer.Option(False, "--debug", help="Show a traceback on internal errors.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress or notes on stderr.")
OverridesOpt = typer.Option(None, "--overrides", help="CSV of health overrides (account_id, band/score, reason, expires).")


class _State:
    debug = False
    quiet = False


def _err(msg: str) -> None:
    typer.echo(msg, err=True)


def _run(fn: Callable[[], int | None]) -> None:
    """Run a command body; the one place that turns errors into messages and exit codes."""
    from cs_metrics.errors import CsmError, ExitCode, format_issues

    try:
        code = fn() or 0
    except CsmError as e:
        _err(f"error: {e.message}")
        shown = [i for i in e.issues if str(i) not in e.message]
        if shown:
            _err(format_issues(shown))
        raise typer.Exit(int(e.exit_code)) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # noqa: BLE001 - the last line of defence
        if _State.debug:
            raise
        _err(f"internal error: {type(e).__name__}: {e}\nre-run with --debug for the traceback, "
             "and please report it.")
        raise typer.Exit(int(ExitCode.DATA_ERROR)) from None
    raise typer.Exit(int(code))


def _explicit(accounts, tickets, surveys, billing, usage) -> dict[str, Path]:
    pairs = {"accounts": accounts, "tickets": tickets, "surveys": surveys,
             "billing": billing, "usage": usage}
    return {k: Path(v) for k, v in pairs.items() if v is not None}


def _progress():
    """A stderr progress callback on a terminal, else None (cron, pipes)."""
    if _State.quiet or not sys.stderr.isatty():
        return None

    def say(msg: str) -> None:
        sys.stderr.write(f"\r\033[K{msg}")
        sys.stderr.flush()

    return say


def _load(source, explicit, config_path):
    from cs_metrics.config import load_config
    from cs_metrics.errors import UsageError
    from cs_metrics.loading import load

    if source is None and not explicit:
        source = Path(".")
    if config_path is None and source is not None and (Path(source) / "csm.yaml").is_file():
        config_path = Path(source) / "csm.yaml"  # a csm.yaml next to the data, like a project file
    config = load_config(config_path)
    progress = _progress()
    if source is not None and not Path(source).exists():
        raise UsageError(f"no such file or folder: {source}")
    bundle = load(source, explicit=explicit, config=config, progress=progress)
    if progress:
        sys.stderr.write("\r\033[K")
    return bundle, config


def _resolve_format(fmt: Optional[str], output: Optional[Path]) -> str:
    from cs_metrics.errors import UsageError

    if fmt is None and output is not None:
        fmt = SUFFIX_FORMATS.get(output.suffix.lower())
        if fmt is None:
            raise UsageError(f"cannot infer the format from {output.name!r}: use --format "
                             f"({', '.join(FORMATS)})")
    if fmt is None:
        fmt = "table"
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if fmt in BINARY_FORMATS and output is None:
        raise UsageError(f"--format {fmt} writes a binary file: give -o FILE")
    return fmt


def _emit(data: str | bytes, output: Optional[Path]) -> None:
    """Write to -o atomically, else to stdout (data only on stdout)."""
    if output is not None:
        from cs_metrics.render.files import write_atomic

        write_atomic(output, data)
        if not _State.quiet:
            _err(f"wrote {output}")
        return
    if isinstance(data, bytes):
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data if data.endswith("\n") else data + "\n")
    sys.stdout.flush()


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


# ---------------------------------------------------------------- commands
@app.command()
def report(
    source: Optional[Path] = SourceArg,
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="table | json | csv | md | html | xlsx"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here (format from the suffix)."),
    table: str = typer.Option("kpis", "--table", help="CSV only: kpis | health | issues."),
    fail_on: list[str] = typer.Option([], "--fail-on", help="Exit 3 when e.g. 'accounts_at_risk > 5' holds (repeatable)."),
    as_of: Optional[str] = AsOfOpt,
    period: str = PeriodOpt,
    by: Optional[str] = ByOpt,
    config: Optional[Path] = ConfigOpt,
    overrides: Optional[Path] = OverridesOpt,
    history: Optional[Path] = typer.Option(None, "--history", help="Append a dated health snapshot to this folder."),
    accounts: Optional[Path] = AccountsOpt,
    tickets: Optional[Path] = TicketsOpt,
    surveys: Optional[Path] = SurveysOpt,
    billing: Optional[Path] = BillingOpt,
    usage: Optional[Path] = UsageOpt,
    quiet: bool = QuietOpt,
    debug: bool = DebugOpt,
) -> None:
    """Load, compute the KPI table and health scores, and render the whole report."""
    _State.debug, _State.quiet = debug, quiet

    def body() -> int:
        from cs_metrics.alerts import evaluate_rules, parse_rules
        from cs_metrics.analysis import analyse
        from cs_metrics.render import render
        from cs_metrics.report import build_report

        rules = parse_rules(fail_on)
        f = _resolve_format(fmt, output)
        bundle, cfg = _load(source, _explicit(accounts, tickets, surveys, billing, usage), config)
        analysis = analyse(bundle, cfg, as_of=as_of, period=period, by=by,
                           overrides_path=overrides, history_dir=history)
        rep = build_report(analysis)
        _emit(render(rep, f, table=table, color=_color() and output is None), output)
        hits = evaluate_rules(rules, rep, warn=None if quiet else _err)
        for h in hits:
            _err(f"alert: {h}")
        return 3 if hits else 0

    _run(body)


@app.command()
def validate(
    source: Optional[Path] = SourceArg,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
    config: Optional[Path] = ConfigOpt,
    accounts: Optional[Path] = AccountsOpt,
    tickets: Optional[Path] = TicketsOpt,
    surveys: Optional[Path] = SurveysOpt,
    billing: Optional[Path] = BillingOpt,
    usage: Optional[Path] = UsageOpt,
    quiet: bool = QuietOpt,
    debug: bool = DebugOpt,
) -> None:
    """Show what was loaded (datasets, rows, columns and how they matched) and the data-quality report."""
    _State.debug, _State.quiet = debug, quiet

    def body() -> int:
        from cs_metrics.render.views import render_data_quality

        if fmt not in ("table", "json"):
            from cs_metrics.errors import UsageError

            raise UsageError(f"unknown format {fmt!r}: expected table or json")
        bundle, _ = _load(source, _explicit(accounts, tickets, surveys, billing, usage), config)
        _emit(render_data_quality(bundle, fmt, color=_color()), None)
        return 0

    _run(body)


@app.command()
def kpis(
    source: Optional[Path] = SourceArg,
    list_: bool = typer.Option(False, "--list", help="Print the KPI catalogue with definitions."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | md"),
    as_of: Optional[str] = AsOfOpt,
    period: str = PeriodOpt,
    by: Optional[str] = ByOpt,
    config: Optional[Path] = ConfigOpt,
    accounts: Optional[Path] = AccountsOpt,
    tickets: Optional[Path] = TicketsOpt,
    surveys: Optional[Path] = SurveysOpt,
    billing: Optional[Path] = BillingOpt,
    usage: Optional[Path] = UsageOpt,
    quiet: bool = QuietOpt,
    debug: bool = DebugOpt,
) -> None:
    """The KPI table: value, previous window, change and n (or --list the catalogue)."""
    _State.debug, _State.quiet = debug, quiet

    def body() -> int:
        from cs_metrics.render.views import render_catalogue, render_kpis

        if list_:
            _emit(render_catalogue(fmt, color=_color()), None)
            return 0
        from cs_metrics.analysis import analyse

        bundle, cfg = _load(source, _explicit(accounts, tickets, surveys, billing, usage), config)
        a = analyse(bundle, cfg, as_of=as_of, period=period, by=by)
        _emit(render_kpis(a, fmt, color=_color()), None)
        return 0

    _run(body)


@app.command()
def health(
    source: Optional[Path] = SourceArg,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv | md"),
    band: Optional[str] = typer.Option(None, "--band", help="Only accounts in this band."),
    top: Optional[int] = typer.Option(None, "--top", help="Only the N riskiest accounts."),
    by: Optional[str] = typer.Option(None, "--by", help="Summarise bands by an accounts column."),
    as_of: Optional[str] = AsOfOpt,
    period: str = PeriodOpt,
    config: Optional[Path] = ConfigOpt,
    overrides: Optional[Path] = OverridesOpt,
    history: Optional[Path] = typer.Option(None, "--history", help="Append a dated snapshot to this folder."),
    accounts: Optional[Path] = AccountsOpt,
    tickets: Optional[Path] = TicketsOpt,
    surveys: Optional[Path] = SurveysOpt,
    billing: Optional[Path] = BillingOpt,
    usage: Optional[Path] = UsageOpt,
    quiet: bool = QuietOpt,
    debug: bool = DebugOpt,
) -> None:
    """Accounts sorted by risk: score, band, change, ARR and the top negative driver."""
    _State.debug, _State.quiet = debug, quiet

    def body() -> int:
        from cs_metrics.analysis import analyse
        from cs_metrics.errors import UsageError
        from cs_metrics.render.views import render_health

        bundle, cfg = _load(source, _explicit(accounts, tickets, surveys, billing, usage), config)
        if not bundle.has("accounts"):
            raise UsageError("health scores need an accounts dataset")
        a = analyse(bundle, cfg, as_of=as_of, period=period, overrides_path=overrides,
                    history_dir=history)
        _emit(render_health(a, fmt, band=band, top=top, by=by, color=_color()), None)
        return 0

    _run(body)


@app.command()
def explain(
    account: str = typer.Argument(..., help="Account id (or exact name)."),
    source: Optional[Path] = SourceArg,
    fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
    as_of: Optional[str] = AsOfOpt,
    period: str = PeriodOpt,
    config: Optional[Path] = ConfigOpt,
    overrides: Optional[Path] = OverridesOpt,
    accounts: Optional[Path] = AccountsOpt,
    tickets: Optional[Path] = TicketsOpt,
    surveys: Optional[Path] = SurveysOpt,
    billing: Optional[Path] = BillingOpt,
    usage: Optional[Path] = UsageOpt,
    quiet: bool = QuietOpt,
    debug: bool = DebugOpt,
) -> None:
    """Why an account has its score: every measure's value, score, weight and contribution."""
    _State.debug, _State.quiet = debug, quiet

    def body() -> int:
        from cs_metrics import health as hm
        from cs_metrics.analysis import analyse
        from cs_metrics.errors import UsageError
        from cs_metrics.render.views import render_explain

        bundle, cfg = _load(source, _explicit(accounts, tickets, surveys, billing, usage), config)
        if not bundle.has("accounts"):
            raise UsageError("explain needs an accounts dataset")
        a = analyse(bundle, cfg, as_of=as_of, period=period, overrides_path=overrides)
        account_id = _find_account(bundle, account)
        if account_id not in a.scores.table.index:
            raise UsageError(f"account {account!r} is not a customer on {a.as_of.date()} "
                             "(not created yet, or churned)")
        detail = hm.explain(a.scores, account_id)
        prev = a.previous_scores
        if prev is not None and account_id in prev.table.index:
            detail["previous_score"] = _num(prev.table.loc[account_id, "score"])
        detail["as_of"] = a.as_of.date().isoformat()
        _emit(render_explain(detail, fmt, color=_color()), None)
        return 0

    _run(body)


def _num(x: Any) -> Any:
    from cs_metrics.results import clean_number

    return clean_number(x)


def _find_account(bundle, ref: str) -> str:
    from cs_metrics.errors import UsageError

    acc = bundle.frame("accounts")
    ids = acc["account_id"].astype(str)
    if (ids == ref).any():
        return ref
    low = ref.strip().lower()
    hit = acc.loc[ids.str.lower() == low, "account_id"]
    if len(hit) == 1:
        return str(hit.iloc[0])
    if "name" in acc.columns:
        hit = acc.loc[acc["name"].astype(str).str.strip().str.lower() == low, "account_id"]
        if len(hit) == 1:
            return str(hit.iloc[0])
        if len(hit) > 1:
            raise UsageError(f"{ref!r} names {len(hit)} accounts: use the account id "
                             f"({', '.join(map(str, hit.head(5)))})")
    import difflib

    pool = list(ids) + (list(acc["name"].dropna().astype(str)) if "name" in acc.columns else [])
    close = difflib.get_close_matches(ref, pool, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UsageError(f"no account {ref!r}.{hint}")


@app.command()
def backtest(
    source: Optional[Path] = SourceArg,
    as_of: str = typer.Option(..., "--as-of", help="Score as of this date (YYYY-MM-DD)."),
    horizon: str = typer.Option("90d", "--horizon", help="Churn horizon after --as-of, e.g. 90d."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
    period: str = PeriodOpt,
    config: Optional[Path] = ConfigOpt,
    overrides: Optional[Path] = OverridesOpt,
    accounts: Optional[Path] = AccountsOpt,
    tickets: Optional[Path] = TicketsOpt,
    surveys: Optional[Path] = SurveysOpt,
    billing: Optional[Path] = BillingOpt,
    usage: Optional[Path] = UsageOpt,
    quiet: bool = QuietOpt,
    debug: bool = DebugOpt,
) -> None:
    """How well the scores as of a past date predicted who churned after it (ROC AUC, per band)."""
    _State.debug, _State.quiet = debug, quiet

    def body() -> int:
        from cs_metrics.analysis import run_backtest
        from cs_metrics.render.views import render_backtest

        bundle, cfg = _load(source, _explicit(accounts, tickets, surveys, billing, usage), config)
        result = run_backtest(bundle, cfg, as_of=as_of, horizon=horizon, period=period,
                              overrides_path=overrides)
        result["currency"] = cfg["currency"]["base"]
        _emit(render_backtest(result, fmt, color=_color()), None)
        return 0

    _run(body)


@app.command()
def trend(
    source: Optional[Path] = SourceArg,
    periods: int = typer.Option(12, "--periods", "-n", min=1, max=120, help="How many periods."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | csv"),
    kpi: list[str] = typer.Option([], "--kpi", help="Only these KPI ids (repeatable)."),
    as_of: Optional[str] = AsOfOpt,
    period: str = PeriodOpt,
    config: Optional[Path] = ConfigOpt,
    accounts: Optional[Path] = AccountsOpt,
    tickets: Optional[Path] = TicketsOpt,
    surveys: Optional[Path] = SurveysOpt,
    billing: Optional[Path] = BillingOpt,
    usage: Optional[Path] = UsageOpt,
    quiet: bool = QuietOpt,
    debug: bool = DebugOpt,
) -> None:
    """The KPI table for each of the last N periods (MRR movements, NPS... over time)."""
    _State.debug, _State.quiet = debug, quiet

    def body() -> int:
        from cs_metrics.analysis import resolve_as_of
        from cs_metrics.metrics.engine import compute_trend
        from cs_metrics.render.views import render_trend
        from cs_metrics.timeframe import parse_period

        bundle, cfg = _load(source, _explicit(accounts, tickets, surveys, billing, usage), config)
        R = resolve_as_of(bundle, as_of)
        series = compute_trend(bundle, cfg, R, parse_period(period), periods, kpi_ids=kpi or None)
        _emit(render_trend(series, fmt, currency=cfg["currency"]["base"],
                           color=_color()), None)
        return 0

    _run(body)


@app.command()
def sample(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the sample exports into."),
    accounts: int = typer.Option(300, "--accounts", min=1, help="Number of accounts."),
    seed: int = typer.Option(7, "--seed", help="Random seed (same seed, same files)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Last day of the history (default 2026-10-31)."),
    debug: bool = DebugOpt,
) -> None:
    """Write a realistic set of exports (CRM, help desk, surveys, billing, usage) of any size."""
    _State.debug = debug

    def body() -> int:
        from cs_metrics.sample import write_sample
        from cs_metrics.timeframe import to_day

        kw: dict[str, Any] = {"accounts": accounts, "seed": seed}
        if as_of:
            kw["as_of"] = to_day(as_of).date()
        files = write_sample(out, **kw)
        for name, path in files.items():
            _err(f"{name:9} {path}")
        return 0

    _run(body)


@app.command()
def init(
    directory: Path = typer.Argument(..., help="Folder with your exports."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to write (default DIR/csm.yaml)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    debug: bool = DebugOpt,
) -> None:
    """Write a starter config mapping the columns found in DIR's files, for you to edit."""
    _State.debug = debug

    def body() -> int:
        from cs_metrics.errors import UsageError
        from cs_metrics.init import starter_config
        from cs_metrics.render.files import write_atomic

        target = output or (directory / "csm.yaml")
        if target.exists() and not force:
            raise UsageError(f"{target} exists: use --force to overwrite")
        write_atomic(target, starter_config(directory))
        _err(f"wrote {target}: edit it, then run csm config check {target}")
        return 0

    _run(body)


@config_app.command("check")
def config_check(
    file: Path = typer.Argument(..., help="YAML config to check."),
    debug: bool = DebugOpt,
) -> None:
    """Validate a config: YAML syntax, structure, then meaning; all problems at once (exit 2)."""
    _State.debug = debug

    def body() -> int:
        from cs_metrics.config import check_config
        from cs_metrics.errors import ExitCode, UsageError

        if not file.is_file():
            raise UsageError(f"no such file: {file}")
        issues = check_config(file)
        errors = [i for i in issues if i.level == "error"]
        for i in issues:
            typer.echo(f"{i.level}: {i}")
        if errors:
            _err(f"{file}: {len(errors)} error(s)")
            return int(ExitCode.USAGE_ERROR)
        typer.echo(f"{file}: ok")
        return 0

    _run(body)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

"""Reading data files: one entry point for the command line, the report and scripts.

:func:`read_table` turns a file into a pandas DataFrame, whatever the format an analyst already
has: CSV/TSV (separator and decimal mark detected, as European spreadsheets export them),
Parquet, Excel, Stata ``.dta``, SAS ``.sas7bdat``/``.xpt`` and SPSS ``.sav``. Value labels become
pandas categories and dates stored as Stata/SAS/SPSS day counts become dates, so the estimators
see the labels and dates the analyst saw in their own package. Every failure is a one-line
:class:`~causalips.errors.DataError`.

The module is the data-in layer: it imports nothing of causalips but the errors, and the scale
work will add DuckDB/Spark/polars/pyarrow sources here behind the same call.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from .errors import DataError

#: suffixes read as delimited text
TEXT_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
STATA_SUFFIXES = (".dta",)
SAS_SUFFIXES = (".sas7bdat", ".xpt", ".xport")
SPSS_SUFFIXES = (".sav", ".zsav")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
PARQUET_SUFFIXES = (".parquet", ".pq")
SUPPORTED = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".xls", ".dta", ".sas7bdat", ".xpt",
             ".sav")

#: separators tried when none is given, in order of preference on a tie
_SEPARATORS = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d{1,3}(\.\d{3})*,\d+\s*$|^\s*[-+]?\d+,\d+\s*$")
_SAMPLE_BYTES = 64 * 1024


def read_table(path: str | Path, *, sep: str | None = None, decimal: str | None = None,
               sheet: str | int | None = None, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a data file into a DataFrame (one row per record), with one-line errors.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.tsv``/``.txt`` (optionally ``.gz``), ``.parquet``, ``.xlsx``/``.xls``,
        Stata ``.dta``, SAS ``.sas7bdat``/``.xpt``, SPSS ``.sav``.
    sep, decimal : str, optional
        For text files: the column separator and the decimal mark. Detected when not given
        (``;`` with decimal commas, as spreadsheets in much of Europe export, tab for ``.tsv``).
    sheet : str or int, optional
        Excel sheet name or 0-based position (default: the first sheet).
    encoding : str
        Text encoding of delimited files (default UTF-8; a byte-order mark is accepted).

    Returns
    -------
    pandas.DataFrame
        Value-labelled variables (Stata, SPSS, SAS formats) as categories; date-formatted
        variables as ``datetime64``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from causalips.io import read_table
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = f.write_text("team;rate\\nNorth;0,25\\nSouth;0,5\\n", encoding="utf-8")
    >>> read_table(f)
        team  rate
    0  North  0.25
    1  South  0.50
    """
    p = Path(path)
    if not p.exists():
        raise DataError(f"file not found: {path}")
    if p.is_dir():
        raise DataError(f"{path} is a folder; give a data file")
    reader = _reader_for(_inner_suffix(p))
    if reader is None:
        raise DataError(f"unsupported file type {p.suffix!r} for {p.name}; use one of "
                        + ", ".join(SUPPORTED))
    try:
        if reader is _read_text:
            return _read_text(p, sep=sep, decimal=decimal, encoding=encoding)
        if reader is _read_excel:
            return _read_excel(p, sheet)
        return reader(p)
    except DataError:
        raise
    except UnicodeDecodeError as exc:
        raise DataError(f"{p.name} is not {encoding} text (byte {exc.object[exc.start]:#04x} at "
                        f"position {exc.start}); give its encoding, e.g. encoding='cp1252' "
                        "(--encoding cp1252)") from None
    except Exception as exc:  # readers fail in many types; report them in one line
        first = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise DataError(f"could not read {p.name}: {first}") from None


def _inner_suffix(path: Path) -> str:
    """The format suffix, looking through a ``.gz`` ("a.csv.gz" -> ".csv"; "a.gz" -> "")."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        return suffixes[-2] if len(suffixes) > 1 else ""
    return suffixes[-1] if suffixes else ""


def _reader_for(suffix: str):
    table = {**dict.fromkeys(TEXT_SUFFIXES + ("",), _read_text),
             **dict.fromkeys(PARQUET_SUFFIXES, _read_parquet),
             **dict.fromkeys(EXCEL_SUFFIXES, _read_excel),
             **dict.fromkeys(STATA_SUFFIXES, _read_stata),
             **dict.fromkeys(SAS_SUFFIXES, _read_sas),
             **dict.fromkeys(SPSS_SUFFIXES, _read_spss)}
    return table.get(suffix)


# -- delimited text -------------------------------------------------------------------------
def _sample_lines(path: Path, encoding: str) -> list[str]:
    import gzip

    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rt", encoding=_bom_aware(encoding), newline="") as handle:
        text = handle.read(_SAMPLE_BYTES)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[:-1] if len(lines) > 2 and len(text) == _SAMPLE_BYTES else lines


def _bom_aware(encoding: str) -> str:
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def detect_separator(lines: list[str], suffix: str = "") -> str:
    """The separator that splits every sampled line into the same number (> 1) of fields.

    Among consistent candidates the one giving the most fields wins; ``.tsv`` files use tab.
    """
    if suffix in (".tsv", ".tab"):
        return "\t"
    best, best_fields = ",", 1
    for candidate in _SEPARATORS:
        widths = {len(row) for row in csv.reader(lines[:50], delimiter=candidate)}
        if len(widths) == 1 and (width := widths.pop()) > best_fields:
            best, best_fields = candidate, width
    return best


def detect_decimal(lines: list[str], sep: str) -> str:
    """``","`` when fields look like decimal-comma numbers (only possible if sep is not ",")."""
    if sep == ",":
        return "."
    fields = [f for row in csv.reader(lines[1:50], delimiter=sep) for f in row]
    return "," if any(_DECIMAL_COMMA.match(f) for f in fields) else "."


def _read_text(path: Path, *, sep, decimal, encoding) -> pd.DataFrame:
    lines = _sample_lines(path, encoding)
    if not lines:
        raise DataError(f"{path.name} is empty")
    sep = detect_separator(lines, _inner_suffix(path)) if sep is None else _check_sep(sep)
    decimal = detect_decimal(lines, sep) if decimal is None else decimal
    if decimal not in (".", ","):
        raise DataError(f"decimal mark must be '.' or ','; got {decimal!r} (--decimal)")
    if decimal == sep:
        raise DataError(f"the separator and the decimal mark are both {sep!r}; set --sep or "
                        "--decimal")
    relation = scan_table(path, sep=sep, decimal=decimal, encoding=encoding)
    frame = relation.df() if relation is not None else None
    if frame is None:  # decimal commas with "." thousands marks, other encodings: pandas' reader
        frame = pd.read_csv(path, sep=sep, decimal=decimal, thousands="." if decimal == ","
                            else None, encoding=_bom_aware(encoding))
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        others = [s for s in _SEPARATORS if s != sep and s in header]
        if others:
            shown = others[0].replace("\t", "\\t")
            raise DataError(
                f"{path.name} was read as one column ({_clip(header)!r}) with separator "
                f"{sep.replace(chr(9), chr(92) + 't')!r}; its header contains {shown!r}: "
                f"give the separator, e.g. --sep '{shown}' (sep='{shown}')")
    return frame


#: the texts pandas reads as missing, so DuckDB and pandas see the same missing values
NA_TEXT = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
           "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]


def scan_table(path: str | Path, *, sep: str | None = None, decimal: str | None = None,
               encoding: str = "utf-8"):
    """The file as a DuckDB relation, read in place and lazily, or ``None`` where
    :func:`read_table`'s pandas readers decide.

    The engine reads Parquet (a file or a glob) and UTF-8 delimited text with '.' decimals
    (the separator detected as :func:`read_table` detects it, missing values as pandas reads
    them). Decimal commas with '.' thousands marks, other encodings, a text file DuckDB's
    sniffer reads with columns other than its header's, and Excel/Stata/SAS/SPSS are left to
    :func:`read_table`, whose messages explain what is wrong with such a file.
    """
    from .engine import connection

    text = str(path)
    con = connection()
    if any(ch in text for ch in "*?[") and text.lower().endswith(PARQUET_SUFFIXES):
        return con.read_parquet(text)
    p = Path(path)
    if not p.is_file():
        return None
    suffix = _inner_suffix(p)
    if suffix in PARQUET_SUFFIXES:
        return con.read_parquet(text)
    if suffix not in TEXT_SUFFIXES or _bom_aware(encoding) != "utf-8-sig":
        return None
    lines = _sample_lines(p, encoding)
    sep = detect_separator(lines, suffix) if sep is None else _check_sep(sep)
    decimal = detect_decimal(lines, sep) if decimal is None else decimal
    if len(lines) < 2 or decimal != "." or sep not in lines[0]:
        return None  # empty, decimal commas, or one column: read_table says what to do
    try:
        relation = con.read_csv(text, sep=sep, header=True, na_values=NA_TEXT)
    except Exception:  # noqa: BLE001 - DuckDB's sniffer refused it: pandas' messages explain
        return None
    header = [h.lstrip("\ufeff") for h in next(csv.reader(lines[:1], delimiter=sep))]
    return relation if list(relation.columns) == header else None


def _check_sep(sep: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    sep = named.get(sep, sep)
    if len(sep) != 1:
        raise DataError(f"separator must be one character (or tab/comma/semicolon/pipe); got "
                        f"{sep!r} (--sep)")
    return sep


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# -- binary formats ---------------------------------------------------------------------------
def _read_parquet(path: Path) -> pd.DataFrame:
    return scan_table(path).df()


def _read_excel(path: Path, sheet=None) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=0 if sheet is None else sheet)


def _read_stata(path: Path) -> pd.DataFrame:
    """Stata: %td/%tc dates as datetimes, value labels as (unordered) categories."""
    try:
        return pd.read_stata(path, convert_categoricals=True, convert_dates=True,
                             order_categoricals=False)
    except ValueError as exc:
        if "not unique" not in str(exc):
            raise
        message = _first_line(exc)
    # two codes share a label: merging them silently would change the data
    raise DataError(f"{path.name}: a value label is used for two codes ({message}); make the "
                    "labels unique in Stata (label define ..., modify)")


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _pyreadstat():
    try:
        import pyreadstat
    except ImportError:  # pragma: no cover - a declared dependency
        raise DataError("reading SAS/SPSS files needs the pyreadstat package "
                        "(pip install pyreadstat)") from None
    return pyreadstat


def _labelled(frame: pd.DataFrame, meta) -> pd.DataFrame:
    """Apply value labels as categories (ordered by code, unlabelled codes kept as codes)."""
    labels = getattr(meta, "variable_value_labels", None) or {}
    for column, mapping in labels.items():
        if column not in frame.columns or not mapping:
            continue
        codes = frame[column]
        order = [mapping[k] for k in sorted(mapping)]
        mapped = codes.map(lambda v, m=mapping: m.get(v, v) if pd.notna(v) else v)
        extra = [v for v in pd.unique(mapped.dropna()) if v not in order]
        frame[column] = pd.Categorical(mapped, categories=list(dict.fromkeys(order + extra)))
    return frame


def _read_sas(path: Path) -> pd.DataFrame:
    """SAS: pyreadstat reads both XPORT versions (pandas only v5) and applies date formats."""
    pyreadstat = _pyreadstat()
    if path.suffix.lower() == ".sas7bdat":
        frame, meta = pyreadstat.read_sas7bdat(str(path), dates_as_pandas_datetime=True)
    else:
        frame, meta = pyreadstat.read_xport(str(path), dates_as_pandas_datetime=True)
    return _labelled(frame, meta)


def _read_spss(path: Path) -> pd.DataFrame:
    pyreadstat = _pyreadstat()
    frame, meta = pyreadstat.read_sav(str(path), dates_as_pandas_datetime=True)
    return _labelled(frame, meta)


__all__ = ["read_table", "detect_separator", "detect_decimal", "SUPPORTED"]

"""What a spreadsheet must not run: one escaping for every CSV and XLSX we write (reports, ExportChat)."""

# A cell starting with one of these is read as a formula by Excel, LibreOffice or Google Sheets (tab and CR
# too: some strip them first). Text we did not write (customers', agents') may start with anything.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """`text`, prefixed with `'` if a spreadsheet would run it as a formula; numbers (-5, +27) stay as they are."""
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False

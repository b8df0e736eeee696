"""A reference CSV with a quote left open (issue 26, part 4): one error naming the line where it opened.

Before, the csv module read every line after such a quote into one cell: "2 rows loaded, 1
problems", the rows after it gone, and the errors that followed named lines that were fine.
"""

from __future__ import annotations

from engine.calibration.plan import reference_lines
from engine.references.readers.csv_export import parse_reference_text

HEADER = "file,title,bpm,key\n"
ROWS = [f"s{i}.wav,Song {i},{100 + i},Am\n" for i in range(1, 21)]  # lines 2-21


def with_line(number: int, text: str, rows: list[str] | None = None) -> str:
    rows = list(rows or ROWS)
    rows[number - 2] = text
    return HEADER + "".join(rows)


def test_a_quote_never_closed_is_one_error_on_its_line_and_every_row_loads():
    loaded = parse_reference_text(with_line(4, 's3.wav,"Song 3 unclosed,103,Am\n'), "refs.csv")
    assert [str(e) for e in loaded.errors] == [
        'refs.csv: line 4: a quote (") opens here and is never closed: it would swallow the 17 lines after it '
        "into one cell, so it was read as a plain character (close or remove it)"
    ]
    assert len(loaded.rows) == 20
    assert [(r.line, r.file, r.title, r.bpm) for r in loaded.rows[2:4]] == [
        (4, "s3.wav", "Song 3 unclosed", 103.0),
        (5, "s4.wav", "Song 4", 104.0),
    ]
    assert loaded.rows[-1].line == 21
    assert reference_lines(loaded, quiet=False) == ["reference: 20 rows loaded, 1 problem:", f"  {loaded.errors[0]}"]


def test_a_quote_closed_lines_later_names_both_lines_and_windows_line_ends_count_the_same():
    rows = list(ROWS)
    rows[7] = 's8.wav,Song 8 (7" edit),108,Am\n'  # line 9: the stray quote that closed it
    text = with_line(4, 's3.wav,"Song 3 (12,103,Am\n', rows).replace("\n", "\r\n")
    loaded = parse_reference_text(text, "refs.csv")
    assert len(loaded.errors) == 1 and "line 4: " in str(loaded.errors[0])
    assert "is closed only on line 9: it would swallow the 5 lines after it" in str(loaded.errors[0])
    assert len(loaded.rows) == 20 and loaded.rows[7].title == 'Song 8 (7" edit)'


def test_a_quoted_cell_with_a_line_break_is_still_one_cell():
    loaded = parse_reference_text('file,comment,bpm\na.wav,"two\nlines, one cell",120\nb.wav,x,100\n', "refs.csv")
    assert loaded.errors == []
    assert [(r.line, r.file, r.bpm) for r in loaded.rows] == [(2, "a.wav", 120.0), (4, "b.wav", 100.0)]


def test_a_quote_left_open_on_the_last_line_is_named_too():
    loaded = parse_reference_text(with_line(21, 's20.wav,"Song 20,120,Am\n'), "refs.csv")
    assert [str(e) for e in loaded.errors] == [
        'refs.csv: line 21: a quote (") opens here and is never closed, so it was read as a plain character '
        "(close or remove it)"
    ]
    assert (loaded.rows[-1].line, loaded.rows[-1].title, loaded.rows[-1].bpm) == (21, "Song 20", 120.0)

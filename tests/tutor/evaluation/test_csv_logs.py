"""The CSV loader of ``bench model --train/--test``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.evaluation.csv_logs import CsvLogError, load_csv_logs

TRAIN = """user_id,item_id,correct,skills,timestamp,grade,duration_ms,n_options
a,q1,1,alg;geo,100,3,1500,4
b,q2,0,geo,50,1,900,4
a,q2,0,,200,1,2000,4
"""
TEST = """user_id,item_id,correct,skills,timestamp,grade,duration_ms,n_options
c,q1,1,alg,10,4,100,0
c,q9,1,new,20,2,100,0
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_files(tmp_path: Path) -> None:
    data = load_csv_logs(_write(tmp_path, "tr.csv", TRAIN), _write(tmp_path, "te.csv", TEST))
    assert data.timestamped
    assert [u.user for u in data.train] == ["a", "b"]
    a = data.train[0]
    assert a.correct.tolist() == [1, 0]
    assert a.skills[0] == (0, 1) and a.skills[1] == ()
    assert a.timestamps is not None and a.timestamps.tolist() == [100.0, 200.0]
    assert a.grades is not None and a.grades.tolist() == [3, 1]
    c = data.test[0]
    # item ids are shared between the files: q1 keeps its id, q9 is new
    assert c.items[0] == a.items[0]
    assert c.items[1] not in set(a.items.tolist()) | set(data.train[1].items.tolist())
    assert c.n_options is not None and c.n_options.tolist() == [0, 0]


def test_minimal_columns(tmp_path: Path) -> None:
    text = "user_id,item_id,correct\nx,1,1\nx,2,0\n"
    data = load_csv_logs(
        _write(tmp_path, "a.csv", text),
        _write(tmp_path, "b.csv", "user_id,item_id,correct\ny,1,0\n"),
    )
    assert not data.timestamped
    assert data.train[0].timestamps is None and data.train[0].skills == ((), ())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("user_id,item_id\nx,1\n", "line 1: header lacks required column(s) ['correct']"),
        ("user_id,item_id,correct,colour\nx,1,1,red\n", "unknown column(s) ['colour']"),
        ("user_id,item_id,correct\nx,1,1\nx,2,yes\n", "line 3, column 'correct': expected 0 or 1"),
        ("user_id,item_id,correct,timestamp\nx,1,1,abc\n", "line 2, column 'timestamp'"),
        (
            "user_id,item_id,correct,timestamp\nx,1,1,100\nx,2,1,50\n",
            "line 3, column 'timestamp': earlier than",
        ),
        ("user_id,item_id,correct,grade\nx,1,1,1\n", "line 2, column 'grade': grade 1 contradicts"),
        ("user_id,item_id,correct,grade\nx,1,1,7\n", "line 2, column 'grade': expected 1-4"),
        ("user_id,item_id,correct\nx,1\n", "line 2: expected 3 fields"),
        ("user_id,item_id,correct\n,1,1\n", "line 2, column 'user_id': empty"),
        ("", "line 1: empty file"),
        ("user_id,item_id,correct\n", "no data rows"),
    ],
)
def test_bad_train_file(tmp_path: Path, text: str, message: str) -> None:
    bad = _write(tmp_path, "bad.csv", text)
    good = _write(tmp_path, "good.csv", "user_id,item_id,correct\nz,1,1\n")
    with pytest.raises(CsvLogError) as err:
        load_csv_logs(bad, good)
    assert message in str(err.value)
    assert "bad.csv" in str(err.value)


def test_same_user_in_both_files(tmp_path: Path) -> None:
    one = _write(tmp_path, "one.csv", "user_id,item_id,correct\nz,1,1\n")
    two = _write(tmp_path, "two.csv", "user_id,item_id,correct\nz,2,1\n")
    with pytest.raises(CsvLogError, match="split must be by learner"):
        load_csv_logs(one, two)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CsvLogError, match="cannot open"):
        load_csv_logs(tmp_path / "nope.csv", tmp_path / "nope2.csv")

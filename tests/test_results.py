"""What read_digits returns: lines, numbers and digits, their text and JSON."""

import json

from digitnet import DigitRead, Line, Number, Reading


def _digit(label, left, top=0, flagged=False, p=0.9):
    return DigitRead(label, p, [(label, p)], (left, top, left + 20, top + 40), flagged)


def _page():
    first = Line(
        (
            Number((_digit(3, 0), _digit(2, 24, flagged=True, p=0.4))),
            Number((_digit(7, 100, top=4),)),
        )
    )
    second = Line((Number((_digit(1, 10, top=60), _digit(0, 34, top=58))),))
    return Reading((first, second))


def test_text_joins_numbers_with_spaces_and_lines_with_newlines():
    reading = _page()
    assert reading.text == "32 7\n10"
    assert reading.marked() == "3? 7\n10"
    assert reading.marked("_") == "3_ 7\n10"
    assert [d.label for d in reading.digits] == [3, 2, 7, 1, 0]
    assert reading.flagged == (1,)


def test_boxes_are_the_union_of_their_digits():
    line = _page().lines[0]
    assert line.numbers[0].box == (0, 0, 44, 40)
    assert line.box == (0, 0, 120, 44)


def test_json_keeps_the_structure():
    data = json.loads(json.dumps(_page().to_dict()))
    assert data["text"] == "32 7\n10"
    assert data["flagged"] == [1]
    assert [line["text"] for line in data["lines"]] == ["32 7", "10"]
    number = data["lines"][0]["numbers"][0]
    assert number["text"] == "32"
    assert number["box"] == [0, 0, 44, 40]
    assert number["digits"][1] == {
        "label": 2,
        "probability": 0.4,
        "top3": [[2, 0.4]],
        "box": [24, 0, 44, 40],
        "flagged": True,
        "count_probability": 1.0,
    }

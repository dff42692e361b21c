"""Tests for posewarper_mm.utils.validation (shared user-file checks)."""
import math

import pytest

from posewarper_mm.errors import InputFileError, OutputLocationError
from posewarper_mm.utils import (check_box, check_flag, check_number,
                                 check_numbers, check_optional_number,
                                 prepare_output_dir, prepare_output_file)

WHERE = 'a.json: detection at index 3'


@pytest.mark.parametrize('value, problem', [(math.nan, 'finite'),
                                            (math.inf, 'finite'),
                                            (-math.inf, 'finite'),
                                            ('0.5', 'must be a number'),
                                            (None, 'must be a number'),
                                            (True, 'must be a number'),
                                            ([1], 'must be a number')])
def test_bad_numbers_name_file_record_and_field(value, problem):
    with pytest.raises(InputFileError) as info:
        check_number(value, WHERE, 'score')
    message = str(info.value)
    assert message.startswith(f'{WHERE}: "score"') and problem in message
    assert '\n' not in message


def test_ranges_and_integers():
    assert check_number(0.5, WHERE, 'score', minimum=0, maximum=1) == 0.5
    with pytest.raises(InputFileError, match=r'"score" must be <= 1'):
        check_number(1.5, WHERE, 'score', minimum=0, maximum=1)
    with pytest.raises(InputFileError, match=r'"nframes" must be >= 1'):
        check_number(0, WHERE, 'nframes', minimum=1)
    value = check_number(3.0, WHERE, 'id', integer=True)
    assert value == 3 and isinstance(value, int)
    with pytest.raises(InputFileError, match='must be an integer'):
        check_number(3.5, WHERE, 'id', integer=True)
    # no prefix: the caller adds file and record
    with pytest.raises(ValueError, match=r'^"id" must be an integer'):
        check_number(3.5, None, 'id', integer=True, error=ValueError)


def test_lists_boxes_optional_and_flags():
    assert check_numbers([1, 2.5], WHERE, 'xs', length=2) == [1, 2.5]
    with pytest.raises(InputFileError, match=r'"bbox\[2\]" must be a finite'):
        check_box([0, 0, math.nan, 4], WHERE)
    with pytest.raises(InputFileError, match='at least 4 numbers, got 3'):
        check_box([0, 0, 4], WHERE)
    with pytest.raises(InputFileError, match='must be a list of numbers'):
        check_numbers('1 2 3', WHERE, 'bbox')
    assert check_box([1, 2, 3, 4, 0.9], WHERE) == [1.0, 2.0, 3.0, 4.0]
    assert check_optional_number({}, 'area', WHERE) is None
    with pytest.raises(InputFileError, match='"area"'):
        check_optional_number({'area': None}, 'area', WHERE)
    assert check_flag(False, WHERE, 'iscrowd') is False
    assert check_flag(1, WHERE, 'iscrowd') is True
    with pytest.raises(InputFileError, match='true/false or 0/1'):
        check_flag(2, WHERE, 'iscrowd')


def test_output_locations(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(
            OutputLocationError,
            match=r'--pred-dir .*file/sub: cannot create'):
        prepare_output_dir(str(blocker / 'sub'), '--pred-dir')
    with pytest.raises(OutputLocationError, match='exists and is not a'):
        prepare_output_dir(str(blocker), '--pred-dir')
    with pytest.raises(OutputLocationError, match='is a folder, not a file'):
        prepare_output_file(str(tmp_path), '--out')
    with pytest.raises(OutputLocationError, match=r'--out .*file/m\.json'):
        prepare_output_file(str(blocker / 'm.json'), '--out')
    out = tmp_path / 'new' / 'deeper' / 'm.json'
    assert prepare_output_file(str(out), '--out') == str(out)
    assert out.parent.is_dir() and not out.exists()
    assert list(out.parent.iterdir()) == []  # the probe file is removed

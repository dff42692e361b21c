"""Output files and folders are checked before any work is done."""
import pytest

from posewarper_mm.errors import OutputLocationError
from posewarper_mm.utils import prepare_output_dir, prepare_output_file


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

"""Reuse a finished step's output only when the same command made it.

A step that writes a file (a checkpoint, a propagated json) records its
command beside it (``<file>.command.json``). A later run reuses the file
when it records this run's command, and refuses it otherwise, instead of
reporting a result of other settings as this run's.
"""
import json
import os
import os.path as osp
from typing import List, Sequence

from posewarper_mm.posetrack import load_json
from posewarper_mm.utils import write_file_atomically

RECORD_SUFFIX = '.command.json'


def _differences(found: List[str], wanted: List[str]) -> str:
    """The words only one of two commands has, for a one-line message."""
    only_found = [w for w in found if w not in wanted]
    only_wanted = [w for w in wanted if w not in found]
    if not only_found and not only_wanted:
        return 'the same words in another order'
    return (f'recorded: {" ".join(only_found) or "(nothing else)"}; '
            f'this run: {" ".join(only_wanted) or "(nothing else)"}')


def reuse_output(output: str, command: Sequence[str], what: str) -> bool:
    """Whether to reuse ``output``, the file that ``command`` writes.

    When ``output`` is absent, records ``command`` beside it (the step is
    then run) and returns False. When it is there with this command
    recorded, says so and returns True.

    Args:
        output (str): The step's output file.
        command (Sequence[str]): The words of the step's command (without
            the interpreter).
        what (str): The step's name for the messages.

    Raises:
        SystemExit: ``output`` is there but another command, or an
            unrecorded one, made it.
    """
    record = output + RECORD_SUFFIX
    wanted = [str(word) for word in command]
    if not osp.isfile(output):
        os.makedirs(osp.dirname(osp.abspath(record)), exist_ok=True)
        write_file_atomically(record, json.dumps(wanted, indent=1))
        return False
    found = load_json(record) if osp.isfile(record) else None
    if found != wanted:
        why = ('no command is recorded beside it' if found is None else
               f'another command made it ({_differences(found, wanted)})')
        raise SystemExit(
            f'error: {what}: {output} is there, but {why}. Give another '
            '--work-dir, or start over with --fresh (which also deletes '
            'the generated data).')
    print(f'{what}: using {output} (--fresh redoes it)')
    return True

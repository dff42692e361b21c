"""Checks of the values read from user files (json records, checkpoints).

Python's json reader accepts ``NaN``, ``Infinity`` and any type in any
field, and numpy turns ``None`` into NaN; such values then pass score
thresholds, rank above every real score or crash deep inside a third-party
library. Every loader of a user file (annotation and detection json of the
dataset, PoseTrack evaluation files, the demo's box json) reads its numbers
through the helpers here, so that a bad value is reported once, the same
way: one line naming the file, the record and the field.

``where`` arguments describe the record, e.g. ``'data/ann.json: annotation
id=7'``; the messages read ``<where>: "<field>" must be ..., got ...``
(``where=None`` leaves the prefix to a caller that adds it).
"""
import math
import numbers
from typing import Any, List, Optional, Type, Union

from ..errors import InputFileError

Number = Union[int, float]


def _at(where: Optional[str]) -> str:
    """Message prefix naming the file and record (none when None)."""
    return f'{where}: ' if where else ''


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + '...'
    return f'{text} ({type(value).__name__})'


def check_number(value: Any,
                 where: Optional[str],
                 field: str,
                 *,
                 integer: bool = False,
                 minimum: Optional[Number] = None,
                 maximum: Optional[Number] = None,
                 error: Type[Exception] = InputFileError) -> Number:
    """Return ``value`` if it is a finite number within the range.

    Booleans, strings, ``None``, NaN and infinities are rejected. With
    ``integer`` a float with an integral value (``3.0``) is accepted and
    returned as ``int``.

    Args:
        value (Any): The value read from the file.
        where (str): The file and record, for the message.
        field (str): The field name, for the message.
        integer (bool): Whether the value must be integral.
        minimum (int | float, optional): Inclusive lower bound.
        maximum (int | float, optional): Inclusive upper bound.
        error (type): Exception class to raise.

    Returns:
        int | float: The value (``int`` when ``integer``).

    Raises:
        Exception: ``error`` with a one-line message.
    """
    kind = 'an integer' if integer else 'a number'
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise error(
            _at(where) + f'"{field}" must be {kind}, got {_describe(value)}')
    if not math.isfinite(value):
        raise error(
            _at(where) + f'"{field}" must be a finite number, got {value!r}')
    if integer:
        if not float(value).is_integer():
            raise error(
                _at(where) + f'"{field}" must be an integer, got {value!r}')
        value = int(value)
    if minimum is not None and value < minimum:
        raise error(
            _at(where) + f'"{field}" must be >= {minimum}, got {value!r}')
    if maximum is not None and value > maximum:
        raise error(
            _at(where) + f'"{field}" must be <= {maximum}, got {value!r}')
    return value


def check_optional_number(record: dict, key: str, where: Optional[str],
                          **kwargs) -> Optional[Number]:
    """:func:`check_number` of ``record[key]``; None if the key is absent.

    A key that is present with the value ``null`` is an error: an optional
    field is left out, not set to null.
    """
    if key not in record:
        return None
    return check_number(record[key], where, key, **kwargs)


def check_flag(value: Any,
               where: Optional[str],
               field: str,
               error: Type[Exception] = InputFileError) -> bool:
    """A yes/no field: ``true``/``false`` or the numbers 0/1."""
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool) \
            and math.isfinite(value) and value in (0, 1):
        return bool(value)
    raise error(
        _at(where) + f'"{field}" must be true/false or 0/1, got '
        f'{_describe(value)}')


def check_numbers(values: Any,
                  where: Optional[str],
                  field: str,
                  *,
                  length: Optional[int] = None,
                  min_length: Optional[int] = None,
                  error: Type[Exception] = InputFileError,
                  **kwargs) -> List[Number]:
    """Return ``values`` if it is a list of finite numbers.

    Args:
        values (Any): The value read from the file.
        where (str): The file and record, for the message.
        field (str): The field name, for the message.
        length (int, optional): Required number of values.
        min_length (int, optional): Minimum number of values (the first
            ``min_length`` are checked and returned when ``length`` is
            None and the list is longer).
        error (type): Exception class to raise.
        **kwargs: ``integer``, ``minimum``, ``maximum`` for every value.

    Returns:
        list: The checked values.
    """
    if not isinstance(values, (list, tuple)):
        raise error(
            _at(where) + f'"{field}" must be a list of numbers, '
            f'got {_describe(values)}')
    if length is not None and len(values) != length:
        raise error(
            _at(where) + f'"{field}" must have {length} numbers, '
            f'got {len(values)}')
    if min_length is not None and len(values) < min_length:
        raise error(
            _at(where) + f'"{field}" must have at least '
            f'{min_length} numbers, got {len(values)}')
    return [
        check_number(v, where, f'{field}[{i}]', error=error, **kwargs)
        for i, v in enumerate(values)
    ]


def check_box(values: Any,
              where: Optional[str],
              field: str = 'bbox',
              error: Type[Exception] = InputFileError) -> List[float]:
    """First four values ``[x, y, w, h]`` of a box as finite floats.

    A box may carry more values (e.g. a score); only the first four are
    read. Degenerate sizes (w or h <= 0) are left to the caller, whose
    documented fallback drops such boxes.
    """
    box = check_numbers(values, where, field, min_length=4, error=error)
    return [float(v) for v in box[:4]]


def check_type(value: Any,
               types: Union[type, tuple],
               where: Optional[str],
               field: str,
               error: Type[Exception] = InputFileError) -> Any:
    """Return ``value`` if it is an instance of ``types``."""
    if isinstance(value,
                  bool) and bool not in (types if isinstance(types, tuple) else
                                         (types, )):
        ok = False
    else:
        ok = isinstance(value, types)
    if not ok:
        names = types if isinstance(types, tuple) else (types, )
        raise error(
            _at(where) + f'"{field}" must be a '
            f'{" or ".join(t.__name__ for t in names)}, got '
            f'{_describe(value)}')
    return value

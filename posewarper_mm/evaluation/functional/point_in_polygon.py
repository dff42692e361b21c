"""Strict point-in-polygon test for PoseTrack ignore regions (numpy only).

As shapely's ``Polygon.contains``: boundary points are outside. Crossings
of a ray towards +x are counted like GEOS, the side decided by the exact
sign of the orientation determinant; self-intersecting rings follow the
even-odd rule; fewer than 3 vertices contain nothing.
"""
from fractions import Fraction

import numpy as np

# Shewchuk's error bound for the float orientation determinant
_ORIENT_ERRBOUND = (3.0 + 16.0 * np.finfo(np.float64).eps) * \
    np.finfo(np.float64).eps


def _exact_orientation(x1: float, y1: float, x2: float, y2: float,
                       px: float, py: float) -> int:
    """Exact sign of the orientation determinant (rational arithmetic)."""
    x1, y1, x2, y2, px, py = map(Fraction, (x1, y1, x2, y2, px, py))
    det = (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1)
    return (det > 0) - (det < 0)


def _orientation(x1: np.ndarray, y1: np.ndarray, x2: np.ndarray,
                 y2: np.ndarray, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Sign of ((p2 - p1) x (p - p1)), broadcast: 1 left, -1 right, 0 on
    the line."""
    left = (x2 - x1) * (py - y1)
    right = (y2 - y1) * (px - x1)
    det = left - right
    bound = _ORIENT_ERRBOUND * (np.abs(left) + np.abs(right))
    sign = np.sign(det).astype(np.int64)
    unsure = ~(np.abs(det) > bound)
    if unsure.any():
        args = np.broadcast_arrays(x1, y1, x2, y2, px, py)
        for idx in zip(*np.nonzero(unsure)):
            sign[idx] = _exact_orientation(*(float(a[idx]) for a in args))
    return sign


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Which points lie strictly inside a polygon.

    Args:
        points (np.ndarray): Query points (N, 2) as (x, y).
        polygon (np.ndarray): Vertices in order (M, 2).

    Returns:
        np.ndarray: bool (N,), False on the boundary.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    polygon = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(points) == 0 or len(polygon) < 3:
        return np.zeros(len(points), dtype=bool)

    # edges (x1, y1) -> (x2, y2), shape (1, M); points shape (N, 1)
    x1, y1 = polygon[None, :, 0], polygon[None, :, 1]
    x2 = np.roll(polygon[:, 0], -1)[None]
    y2 = np.roll(polygon[:, 1], -1)[None]
    px, py = points[:, 0, None], points[:, 1, None]

    at_vertex = (px == x1) & (py == y1)
    horizontal = (y1 == py) & (y2 == py)
    on_horizontal = horizontal & (px >= np.minimum(x1, x2)) & (
        px <= np.maximum(x1, x2))
    straddles = (y1 > py) != (y2 > py)
    orient = np.zeros(np.broadcast(px, x1).shape, dtype=np.int64)
    rows, cols = np.nonzero(straddles)
    if len(rows):
        orient[rows, cols] = _orientation(x1[0, cols], y1[0, cols],
                                          x2[0, cols], y2[0, cols],
                                          px[rows, 0], py[rows, 0])
    on_slanted = straddles & (orient == 0)
    # orientation relative to the edge directed upwards
    upward = np.where(y2 > y1, orient, -orient)
    crossings = (straddles & (upward > 0)).sum(axis=1)
    on_boundary = (at_vertex | on_horizontal | on_slanted).any(axis=1)
    return (crossings % 2 == 1) & ~on_boundary

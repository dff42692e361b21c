"""Strict interior test of ignore regions (shapely ``contains`` rules)."""
import numpy as np

from posewarper_mm.evaluation.functional import points_in_polygon


def test_square_interior_boundary_and_outside():
    square = [(0, 0), (10, 0), (10, 10), (0, 10)]
    points = [
        (5, 5),  # interior
        (0.001, 9.999),  # interior, near a corner
        (10, 5),  # on an edge -> boundary, not contained
        (5, 0),  # on the bottom (horizontal) edge
        (0, 0),  # a vertex
        (10, 10),  # the closing vertex
        (10.001, 5),  # just outside
        (-3, 5),  # outside, left
        (5, 11),  # outside, above
    ]
    expected = [True, True, False, False, False, False, False, False, False]
    assert points_in_polygon(np.array(points), np.array(square)).tolist() \
        == expected


def test_concave_polygon_and_vertex_rays():
    # an L shape; the ray from (1, 5) passes exactly through vertex (4, 5)
    # ... and (2, 2) sees the notch
    ell = [(0, 0), (8, 0), (8, 2), (4, 2), (4, 5), (0, 5)]
    points = [(1, 1), (6, 1), (6, 3), (2, 4), (1, 2), (4, 3), (4, 2), (9, 1)]
    expected = [True, True, False, True, True, False, False, False]
    assert points_in_polygon(np.array(points), np.array(ell)).tolist() \
        == expected


def test_slanted_edge_is_boundary():
    triangle = [(0, 0), (3, 1), (0, 3)]
    points = [(1.5, 0.5), (1.5, 0.5 + 1e-9), (1.5, 0.5 - 1e-9), (1, 1)]
    assert points_in_polygon(np.array(points), np.array(triangle)).tolist() \
        == [False, True, False, True]


def test_self_intersecting_ring_uses_even_odd():
    bowtie = [(0, 0), (2, 2), (2, 0), (0, 2)]
    points = [(0.3, 1), (1.7, 1), (1, 0.3), (1, 1.7), (1, 1)]
    assert points_in_polygon(np.array(points), np.array(bowtie)).tolist() \
        == [True, True, False, False, False]


def test_degenerate_polygons_contain_nothing():
    pts = np.array([(0.5, 0.5), (1, 1)])
    assert not points_in_polygon(pts, np.zeros((0, 2))).any()
    assert not points_in_polygon(pts, np.array([(0, 0), (2, 2)])).any()
    # three collinear vertices: no interior
    assert not points_in_polygon(pts, np.array([(0, 0), (1, 1),
                                                (2, 2)])).any()
    assert points_in_polygon(np.zeros((0, 2)), np.array([(0, 0), (1, 0),
                                                         (0, 1)])).shape == (
                                                             0, )

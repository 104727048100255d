"""Choosing the cut of touching digits from the two models' readings."""

import numpy as np
import pytest

from digitnet.reading._cuts import _count_probability, choose_cut, joint_reading


def test_count_probability_sums_chains_of_each_length():
    # Seams 0..2: one piece (0, 2) with p = 0.2, or two pieces with 0.5 * 0.8.
    edges, scores = [(0, 1), (1, 2), (0, 2)], np.log([0.5, 0.8, 0.2])
    assert _count_probability(3, edges, scores, 2) == pytest.approx(0.4 / 0.6)
    assert _count_probability(3, edges, scores, 1) == pytest.approx(0.2 / 0.6)
    # Two ways to cut in two (the cut at seam 1 or 2) add up: no split of belief.
    edges = [(0, 1), (1, 3), (0, 2), (2, 3), (0, 3)]
    scores = np.log([0.5, 0.8, 0.5, 0.8, 0.2])
    assert _count_probability(4, edges, scores, 2) == pytest.approx(0.8 / 1.0)


def testjoint_reading_multiplies_the_two_readings_by_digit():
    digits = np.array([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25]])  # piece model, 0-2
    digits = np.pad(digits, ((0, 0), (0, 7)))  # digits 3-9: probability 0
    proba = np.array([[0.5, 0.25, 0.25], [0.2, 0.4, 0.4]])
    joint = np.array([[0.05, 0.15, 0.075], [0.1, 0.1, 0.1]])
    expected = joint / joint.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(joint_reading([0, 1, 2], proba, digits), expected)
    # String labels name the same digits, in any order.
    shuffled = joint_reading(["2", "0", "1"], proba[:, [2, 0, 1]], digits)
    np.testing.assert_allclose(shuffled, expected[:, [2, 0, 1]])
    # Labels that are not digits keep the digit model's reading.
    np.testing.assert_array_equal(joint_reading(["a", "b", "c"], proba, digits), proba)
    # Readings that share no digit keep the digit model's reading too.
    none = joint_reading([3, 4, 5], proba, digits)
    np.testing.assert_array_equal(none, proba)


def test_choose_cut_keeps_the_chain_of_whole_well_read_pieces():
    # Seams 0..2: the whole group (0, 2) is read surely but is not one digit;
    # the two halves are whole digits, read fairly well.
    edges = [(0, 1), (1, 2), (0, 2)]
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.99, 0.01]])
    chosen, count = choose_cut(3, edges, proba, np.array([0.9, 0.9, 0.05]))
    assert chosen == [0, 1]
    assert 0.5 < count < 1
    chosen, _ = choose_cut(3, edges, proba, np.array([0.3, 0.3, 0.95]))
    assert chosen == [2]

"""The trial-profile diagram (safety chapter, Fig. 1.1) is laid out without overlaps for any counts.

Geometry is read back from the drawn matplotlib artists (window extents in pixels): no two boxes overlap,
no arrow passes through a box, and every arrow starts just below its source box and ends just above its
target box. Checked for the book's labels with typical, huge, empty and lopsided counts, with and without
a given Axes, and for random counts (hypothesis).
"""
from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.science import figures as fg

KEYS = list(fg._FLOW_BOXES)
#: labels as the safety chapter sets them (analysis.chapters.safety.analysis.flow_labels), the longest the book draws
LABELS = {
    "responders": "EULAR good/moderate\nat week 12 (responders)",
    "non_responders": "EULAR no response\nat week 12 (non-responders)",
    "lost_msct": "Lost to follow-up (MSCT)\nresponders 12, non-responders 30, unclassified 4",
    "analysed_msct": "Analysed at week 48 (MSCT)\nresponders 27, non-responders 22",
    "analysed_control": "Analysed at week 48 (control)",
}
COUNT_SETS = {
    "typical": dict(enrolled=105, msct=52, control=53, responders=28, non_responders=24, lost_msct=3,
                    lost_control=2, analysed_msct=49, analysed_control=51),
    "large cohort": dict(enrolled=123_456_789, msct=61_728_394, control=61_728_395, responders=61_728_393,
                         non_responders=1, lost_msct=0, lost_control=12_345_678, analysed_msct=61_728_394,
                         analysed_control=49_382_717),
    "empty groups": dict.fromkeys(KEYS, 0),
    "no responders": dict(enrolled=10, msct=5, control=5, responders=0, non_responders=5, lost_msct=0,
                          lost_control=0, analysed_msct=5, analysed_control=5),
    "counts missing": {},
}


def geometry(ax):
    """Box extents and sampled arrow points, in display pixels."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = {key: text.get_bbox_patch().get_window_extent(renderer) for key, text in zip(KEYS, ax.texts)}
    arrows = []
    for patch in ax.patches:
        path = patch.get_transform().transform_path(patch.get_path())
        pts = []
        for verts in path.to_polygons(closed_only=False):
            for a, b in zip(verts[:-1], verts[1:]):
                pts += [a + (b - a) * t for t in np.linspace(0, 1, 25)]
        arrows.append(np.array(pts))
    return boxes, arrows


def check_layout(ax):
    boxes, arrows = geometry(ax)
    assert len(boxes) == 9 and len(arrows) == len(fg._FLOW_ARROWS)
    for (k1, b1), (k2, b2) in itertools.combinations(boxes.items(), 2):
        overlap_x = min(b1.x1, b2.x1) - max(b1.x0, b2.x0)
        overlap_y = min(b1.y1, b2.y1) - max(b1.y0, b2.y0)
        assert overlap_x <= 0 or overlap_y <= 0, f"boxes {k1} and {k2} overlap: {b1} / {b2}"
    for (src, dst), pts in zip(fg._FLOW_ARROWS, arrows):
        for key, b in boxes.items():
            inside = ((pts[:, 0] > b.x0 + 0.5) & (pts[:, 0] < b.x1 - 0.5)
                      & (pts[:, 1] > b.y0 + 0.5) & (pts[:, 1] < b.y1 - 0.5))
            assert not inside.any(), f"arrow {src} -> {dst} crosses box {key}"
        top, bottom = pts[:, 1].max(), pts[:, 1].min()
        s, d = boxes[src], boxes[dst]
        assert 0 <= s.y0 - top <= 12, f"arrow {src} -> {dst} does not start just below {src}"
        assert 0 <= bottom - d.y1 <= 12, f"arrow {src} -> {dst} does not end just above {dst}"
        start_x = pts[pts[:, 1].argmax(), 0]
        end_x = pts[pts[:, 1].argmin(), 0]
        assert s.x0 <= start_x <= s.x1 and d.x0 <= end_x <= d.x1, f"arrow {src} -> {dst} misses its boxes"


@pytest.mark.parametrize("counts", COUNT_SETS.values(), ids=COUNT_SETS.keys())
def test_flow_diagram_has_no_overlaps(counts):
    check_layout(fg.flow_diagram(counts, labels=LABELS))
    check_layout(fg.flow_diagram(counts))  # the default labels


@pytest.mark.parametrize("size", [(4, 3), (8, 6.5), (12, 3)])
def test_flow_diagram_fits_a_given_axes(size):
    fig, ax = plt.subplots(figsize=size)
    fg.flow_diagram(COUNT_SETS["large cohort"], labels=LABELS, ax=ax)
    check_layout(ax)
    boxes, _ = geometry(ax)
    frame = ax.get_window_extent(fig.canvas.get_renderer())
    for key, b in boxes.items():
        assert frame.x0 - 1 <= b.x0 and b.x1 <= frame.x1 + 1 and frame.y0 - 1 <= b.y0 and b.y1 <= frame.y1 + 1, \
            f"box {key} leaves the Axes"


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=9, max_size=9))
def test_flow_diagram_random_counts(values):
    check_layout(fg.flow_diagram(dict(zip(KEYS, values)), labels=LABELS))
    plt.close("all")


def test_flow_diagram_rejects_bad_fontsize():
    with pytest.raises(ValueError, match="`fontsize`"):
        fg.flow_diagram({}, fontsize=0)

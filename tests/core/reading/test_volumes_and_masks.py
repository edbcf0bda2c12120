"""Volumes and segmentations kept with the read (issue 22, item 2): an accepted click-to-measure
proposal stores its lines, its volumes and its mask as one reader action; undo / redo take them
back and restore them together; clearing the measurement, deleting the lesion or marking it
disappeared removes the mask; a line edited by hand keeps it; old stores and old history rows
still open and undo.

The proposals here are built by hand (``Proposal`` with a ``LesionMask``: the interface of
``response_tool.reading.measure``), so the tests do not depend on how the lesion is found."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_session import BASE, FU1, FU2, line

from response_tool.domain.errors import ResponseToolError, StoreError
from response_tool.io.measurements_csv import read_measurements
from response_tool.reading._lesion_masks import LesionSegmentation
from response_tool.reading.measure import ENHANCING_LABEL, LESION_LABEL, LesionMask, Proposal
from response_tool.reading.session import LineRecord, ReadingSession
from response_tool.reading.store import ReadKey, ReadStore

SERIES = "1.2.826.0.1.3680043.8.498.1"
SPACING = (2.5, 0.8, 0.8)


def mask(radius_vox: int = 6, enhancing: bool = True, at: tuple[int, int, int] = (10, 40, 50)
         ) -> LesionMask:
    """A ball of ``radius_vox`` voxels (its core enhancing) in a box at ``at`` of a 40 × 128 ×
    128 series."""
    n = 2 * radius_vox + 1
    zz, yy, xx = np.mgrid[:n, :n, :n] - radius_vox
    r = np.sqrt(zz ** 2 + yy ** 2 + xx ** 2)
    labels = np.where(r <= radius_vox, LESION_LABEL, 0).astype(np.uint8)
    if enhancing:
        labels[r <= radius_vox / 2] = ENHANCING_LABEL
    return LesionMask(labels, at, (40, 128, 128), SPACING)


def proposal(m: LesionMask | None, long_mm: float = 40.0, arterial: bool = True) -> Proposal:
    """A proposal as ``propose`` returns one (lines not used: the tests give their own)."""
    return Proposal(
        long=[[0, 0, 0], [0, 0, long_mm]], short=None, viable=None, long_mm=long_mm,
        short_mm=None, viable_mm=None, slice_index=12, viable_slice_index=None,
        lesion_voxels=0 if m is None else int((m.labels > 0).sum()), mask=m,
        volume_mm3=None if m is None else round(m.volume_mm3(), 1),
        enhancing_volume_mm3=(round(m.volume_mm3(ENHANCING_LABEL), 1)
                              if m is not None and arterial else None),
        confidence="high")


def accepted_lines(long_mm: float = 40.0, origin: str = "proposed") -> dict[str, LineRecord]:
    lines = {"long": line(long_mm), "viable": line(long_mm / 2, phase="arterial")}
    for record in lines.values():
        record.origin = origin
    return lines


def open_session(path: Path) -> ReadingSession:
    store = ReadStore(path)
    return ReadingSession(store, store.open_read("P1", "R1"), [BASE, FU1, FU2])


@pytest.fixture
def s(tmp_path: Path) -> ReadingSession:
    session = open_session(tmp_path / "reads.sqlite")
    session.new_lesion("target", "liver")
    return session


def state(s: ReadingSession, lesion_id: str = "T1", date: str | None = None) -> tuple:
    """What the read holds of a lesion at a date: its measurement and its mask's voxels."""
    kept = s.segmentation(lesion_id, date)
    voxels = None if kept is None else (kept.series_uid, kept.mask.offset_zyx,
                                        kept.mask.labels.tobytes())
    return s.measurement(lesion_id, date), voxels


def test_an_accepted_proposal_keeps_its_lines_volumes_and_mask(s, tmp_path):
    found = mask()
    m = s.accept_proposal("T1", accepted_lines(), proposal(found), SERIES)
    assert (m.long_axis_mm, m.viable_long_axis_mm) == (40.0, 20.0)
    assert m.volume_mm3 == pytest.approx(found.volume_mm3(), abs=0.05)
    assert m.enhancing_volume_mm3 == pytest.approx(found.volume_mm3(ENHANCING_LABEL), abs=0.05)
    assert 0 < m.enhancing_volume_mm3 < m.volume_mm3
    assert m.origin("long") == m.origin("viable") == "proposed" and m.lines_as_segmented
    s.store.close()
    again = open_session(tmp_path / "reads.sqlite")  # kept with the read: after a restart too
    kept = again.segmentation("T1")
    assert isinstance(kept, LesionSegmentation) and kept.series_uid == SERIES
    assert np.array_equal(kept.mask.full(), found.full())  # voxel for voxel on the series grid
    assert (kept.mask.offset_zyx, kept.mask.shape_zyx, kept.mask.spacing_zyx_mm) == \
        (found.offset_zyx, found.shape_zyx, found.spacing_zyx_mm)
    assert again.measurement("T1").volume_mm3 == m.volume_mm3
    # 925 voxels of 1.6 mm³, 123 of them enhancing: mL to 3 significant figures
    assert again.rows()[0].volume == m.volume_text() == "1.48"
    assert again.rows()[0].volume_detail == "volume 1.48 mL, enhancing 0.20 mL"


def test_undo_and_redo_take_back_and_restore_lines_volumes_and_mask_together(s):
    s.record_line("T1", "long", line(33.0))          # drawn by hand first
    steps = [state(s)]
    s.accept_proposal("T1", accepted_lines(40.0), proposal(mask(6)), SERIES)
    steps.append(state(s))
    s.accept_proposal("T1", accepted_lines(44.0), proposal(mask(8, at=(5, 30, 30))), SERIES)
    steps.append(state(s))                           # the second replaced the first
    assert steps[2][1] != steps[1][1] and steps[2][0].volume_mm3 > steps[1][0].volume_mm3
    for expected in reversed(steps[:-1]):
        assert s.undo() == "T1 proposal accepted"
        assert state(s) == expected
    assert steps[0][0].volume_mm3 is None and steps[0][1] is None
    for expected in steps[1:]:
        assert s.redo() == "T1 proposal accepted"
        assert state(s) == expected


@dataclass(frozen=True)
class Removal:
    id: str
    act: Any          # what the reader does after accepting the proposal
    measurement: str  # what is left of the measurement: "none", "absent"
    actions: int      # reader actions it takes (undo steps)


REMOVALS = [
    Removal("last-lines-deleted", lambda s: (s.clear_diameter("T1", "viable"),
                                             s.clear_diameter("T1", "long")), "none", 2),
    Removal("lesion-deleted", lambda s: s.delete_lesion("T1"), "none", 1),
    Removal("disappeared", lambda s: s.set_status("T1", "absent"), "absent", 1),
]


@pytest.mark.parametrize("case", REMOVALS, ids=lambda c: c.id)
def test_the_mask_goes_with_its_measurement_and_comes_back_with_undo(s, case):
    s.go_to(FU1)
    s.accept_proposal("T1", accepted_lines(), proposal(mask()), SERIES)
    s.go_to(BASE)
    s.accept_proposal("T1", accepted_lines(50.0), proposal(mask(9, at=(4, 20, 20))), SERIES)
    before = [state(s, "T1", d) for d in (BASE, FU1)]
    case.act(s)
    assert s.segmentation("T1", BASE) is None
    m = s.measurement("T1", BASE)
    if case.measurement == "none":
        assert m is None
    else:  # disappeared: 0 mm and 0 mL (it had a volume), no mask
        assert (m.status, m.long_axis_mm, m.volume_mm3, m.enhancing_volume_mm3) == \
            ("absent", 0.0, 0.0, 0.0)
    fu1_kept = case.id != "lesion-deleted"
    assert (s.segmentation("T1", FU1) is not None) == fu1_kept
    for _ in range(case.actions):
        assert s.undo() is not None
    assert [state(s, "T1", d) for d in (BASE, FU1)] == before  # masks and volumes back
    for _ in range(case.actions):
        assert s.redo() is not None
    assert s.segmentation("T1", BASE) is None


def test_a_line_edited_after_acceptance_keeps_the_mask_and_its_volumes(s):
    found = mask()
    s.accept_proposal("T1", accepted_lines(), proposal(found), SERIES)
    s.record_line("T1", "long", LineRecord([[40, 100, 50], [40, 100, 93]], SERIES, None, 12,
                                           origin="edited"))
    m = s.measurement("T1")
    assert m.long_axis_mm == 43.0 and m.origin("long") == "edited"
    assert m.volume_mm3 == round(found.volume_mm3(), 1)  # the segmentation's own figure
    assert np.array_equal(s.segmentation("T1").mask.labels, found.labels)
    assert not m.lines_as_segmented  # the panel does not claim the mask matches the lines
    assert m.volume_text() == "1.48 *"


def test_a_proposal_edited_before_acceptance_is_stored_as_edited(s):
    m = s.accept_proposal("T1", accepted_lines(origin="edited"), proposal(mask()), SERIES)
    assert m.origin("long") == "edited" and not m.lines_as_segmented
    assert s.segmentation("T1") is not None


@pytest.mark.parametrize("found,series,volume,kept", [
    (None, SERIES, None, False),        # a proposal without a mask: the earlier mask goes too
    (mask(), None, True, False),        # no series to keep it on (not DICOM): volumes only
    (mask(), "", True, False),
])
def test_a_proposal_without_a_mask_or_a_series_keeps_no_mask(s, found, series, volume, kept):
    s.accept_proposal("T1", accepted_lines(), proposal(mask(9)), SERIES)
    s.accept_proposal("T1", accepted_lines(), proposal(found), series)
    assert (s.measurement("T1").volume_mm3 is not None) == bool(volume)
    assert (s.segmentation("T1") is not None) == kept


def test_no_arterial_series_no_enhancing_volume(s):
    m = s.accept_proposal("T1", {"long": accepted_lines()["long"]},
                          proposal(mask(enhancing=False), arterial=False), SERIES)
    assert m.volume_mm3 > 0 and m.enhancing_volume_mm3 is None
    assert m.volume_text() == "1.48" and m.volume_detail() == "volume 1.48 mL"


def test_nothing_to_accept_is_refused(s):
    with pytest.raises(ResponseToolError, match="T1: no line to accept"):
        s.accept_proposal("T1", {}, proposal(mask()), SERIES)
    assert s.measurement("T1") is None


def _forged(**changes: Any) -> LesionMask:
    m = mask()
    return LesionMask(**{"labels": m.labels, "offset_zyx": m.offset_zyx,
                         "shape_zyx": m.shape_zyx, "spacing_zyx_mm": m.spacing_zyx_mm,
                         **changes})


BAD_MASKS = [
    ("not-a-mask", "a mask", SERIES, "not a lesion mask"),
    ("outside", _forged(offset_zyx=(35, 40, 50)), SERIES, "does not lie inside"),
    ("negative-offset", _forged(offset_zyx=(-1, 40, 50)), SERIES, "does not lie inside"),
    ("label-3", _forged(labels=np.full((3, 3, 3), 3, np.uint8)), SERIES, "labels [3]"),
    ("empty", _forged(labels=np.zeros((3, 3, 3), np.uint8)), SERIES, "the mask is empty"),
    ("2-d", _forged(labels=np.ones((3, 3), np.uint8)), SERIES, "(z, y, x) box"),
    ("spacing-0", _forged(spacing_zyx_mm=(0.0, 0.8, 0.8)), SERIES, "voxel spacing"),
    ("spacing-cm", _forged(spacing_zyx_mm=(250.0, 80.0, 80.0)), SERIES, "check the unit"),
]


@pytest.mark.parametrize("found,series,message", [c[1:] for c in BAD_MASKS],
                         ids=[c[0] for c in BAD_MASKS])
def test_a_bad_mask_is_refused_naming_the_lesion_and_nothing_changes(s, found, series, message):
    before = state(s)
    with pytest.raises(StoreError, match=re.escape(message)) as info:
        s.accept_proposal("T1", accepted_lines(), replace(proposal(mask()), mask=found), series)
    assert f"T1 ({BASE})" in str(info.value)
    s.reload()
    assert state(s) == before
    assert s.undo() == "new target T1"  # the refused accept wrote no history row


def test_a_segmentation_of_another_lesion_or_date_is_refused(s):
    from response_tool.domain.model import Measurement

    wrong = LesionSegmentation("T1", FU1, SERIES, mask())
    with pytest.raises(StoreError, match=f"of T1 at {FU1} cannot be saved with the measurement "
                                         f"of T1 at {BASE}"):
        s.store.save_measurement(s.key, Measurement("T1", BASE, long_axis_mm=4.0),
                                 segmentation=wrong)


def test_an_older_response_tool_deleting_the_measurement_takes_the_mask_with_it(s, tmp_path):
    """The foreign key is in the file: a program that knows nothing of segmentations (plain
    SQL, as an older response-tool clears a measurement) still removes the mask with it."""
    s.accept_proposal("T1", accepted_lines(), proposal(mask()), SERIES)
    s.store.close()
    db = sqlite3.connect(tmp_path / "reads.sqlite")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("DELETE FROM measurements WHERE lesion_id='T1'")
    db.commit()
    assert db.execute("SELECT COUNT(*) FROM lesion_segmentations").fetchone() == (0,)
    db.close()


def test_copies_between_readers_carry_the_mask(s):
    s.accept_proposal("T1", accepted_lines(), proposal(mask()), SERIES)
    store, adj = s.store, ReadKey("P1", "ADJ")
    store.copy_read(s.key, adj)
    (copied,) = store.lesion_segmentations(adj)
    assert np.array_equal(copied.mask.labels, mask().labels)
    store.copy_measurement(s.key, ReadKey("P1", "R2"), "T1", BASE)
    assert store.lesion_segmentation(ReadKey("P1", "R2"), "T1", BASE).series_uid == SERIES
    assert store.measurement(ReadKey("P1", "R2"), "T1", BASE).volume_mm3 == \
        s.measurement("T1").volume_mm3


def test_store_export_writes_the_volumes_only_when_a_lesion_has_them(s, tmp_path):
    s.record_line("T1", "long", line(40.0))
    plain = s.store.export_measurements_csv(tmp_path / "plain.csv")
    assert "volume" not in plain.read_text().splitlines()[0]  # as before volumes existed
    s.go_to(FU1)
    m = s.accept_proposal("T1", accepted_lines(30.0), proposal(mask()), SERIES)
    out = s.store.export_measurements_csv(tmp_path / "volumes.csv")
    header = out.read_text().splitlines()[0].split(",")
    assert header[-2:] == ["volume_mm3", "enhancing_volume_mm3"]
    frame = read_measurements(out).set_index("lesion_id")
    rows = frame.sort_values("timepoint_date")
    assert np.isnan(rows["volume_mm3"].iloc[0])               # baseline drawn: not segmented
    assert rows["volume_mm3"].iloc[1] == m.volume_mm3
    assert rows["enhancing_volume_mm3"].iloc[1] == m.enhancing_volume_mm3


def test_a_store_from_before_volumes_opens_and_undoes_its_old_edits(tmp_path):
    """A store whose measurements table and history rows predate the volume columns (as
    response-tool wrote them before issue 22): it opens, gains the columns, and an edit made
    then is undone and redone."""
    path = tmp_path / "reads.sqlite"
    s = open_session(path)
    s.new_lesion("target", "liver")
    s.record_line("T1", "long", line(40.0))
    s.store.close()
    db = sqlite3.connect(path)  # back to the old layout: no volume columns, 16-value states
    db.executescript("""
        DROP TABLE lesion_segmentations;
        ALTER TABLE measurements DROP COLUMN volume_mm3;
        ALTER TABLE measurements DROP COLUMN enhancing_volume_mm3;
        UPDATE history SET entry = replace(entry, ', null, null]', ']');
    """)
    assert "null, null]" not in "".join(r[0] for r in db.execute("SELECT entry FROM history"))
    db.commit()
    db.close()
    again = open_session(path)
    assert again.measurement("T1").long_axis_mm == 40.0
    assert again.undo() == "T1 long 40 mm" and again.measurement("T1") is None
    assert again.redo() == "T1 long 40 mm" and again.measurement("T1").volume_mm3 is None
    again.accept_proposal("T1", accepted_lines(), proposal(mask()), SERIES)
    assert again.segmentation("T1") is not None


def test_the_engine_ignores_the_volumes(s):
    """RECIST 1.1 and mRECIST read diameters only: the same read with and without its volume
    columns gives the same responses, rule for rule."""
    from response_tool.assessment import assess

    s.accept_proposal("T1", accepted_lines(40.0), proposal(mask(8)), SERIES)
    s.go_to(FU1)
    s.accept_proposal("T1", accepted_lines(26.0), proposal(mask(5)), SERIES)
    frame = s.read.to_frame()
    assert {"volume_mm3", "enhancing_volume_mm3"} <= set(frame.columns)
    with_volumes = assess(frame).timepoints
    without = assess(frame.drop(columns=["volume_mm3", "enhancing_volume_mm3"])).timepoints
    assert with_volumes.equals(without)
    followup = with_volumes[with_volumes["timepoint_date"] == FU1]
    assert list(followup["overall_response"]) == ["PR", "PR"]  # −35 %, by both criteria

"""IMDB-WIKI reader: labels from the `wiki.mat` / `imdb.mat` metadata, vectorised with numpy."""
from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import numpy as np
import scipy.io

from backend.data.labelled_images import MAX_AGE, LabelledImage, ReadResult, Skipped, inside_root
from backend.params import check_bool, check_float

STRUCTS = ("wiki", "imdb")
FIELDS = ("dob", "photo_taken", "full_path", "gender", "name", "face_location",
          "face_score", "second_face_score")

_FUNC = "read_imdb_wiki"
_DATENUM_OFFSET = 366  # MATLAB counts days from year 0, Python from year 1
_EPOCH = date(1970, 1, 1).toordinal() + _DATENUM_OFFSET  # numpy's day 0
_FIRST = date.min.toordinal() + _DATENUM_OFFSET          # datenums Python dates can hold
_LAST = date.max.toordinal() + _DATENUM_OFFSET


def read_imdb_wiki(mat_path: str | os.PathLike, image_root: str | os.PathLike | None = None, *,
                   min_face_score: float = 1.0, allow_second_face: bool = False) -> ReadResult:
    """Read an IMDB-WIKI .mat file into records; image paths are `image_root / full_path`
    (a full_path that leaves the image root is skipped as 'outside_root')."""
    min_face_score = check_float(min_face_score, param="min_face_score", func=_FUNC)
    allow_second_face = check_bool(allow_second_face, param="allow_second_face", func=_FUNC)
    mat_path = Path(mat_path).resolve()
    root = str(mat_path.parent if image_root is None else Path(image_root).resolve())
    table = load_table(mat_path)
    birth, valid = birth_dates(table["dob"])
    ages = ages_on_july_first(birth, table["photo_taken"])
    reasons = skip_reasons(table, valid, ages, min_face_score, allow_second_face)
    result = ReadResult(records=[], skipped=[])
    # Only kept rows become Python objects; everything above is whole-array work.
    for row in np.flatnonzero(reasons == ""):
        record = _record(table, row, root, int(ages[row]), birth[row])
        if inside_root(record.path, root):
            result.records.append(record)
        else:
            result.skipped.append(Skipped(_text(table["full_path"][row]) or f"row {row}",
                                          "outside_root", f"row {row}: full_path leads to "
                                          f"{record.path!r}, outside the image root {root!r}"))
    for row in np.flatnonzero(reasons != ""):
        result.skipped.append(_skip(table, row, str(reasons[row]), birth[row], valid[row],
                                    min_face_score))
    return result


def load_table(mat_path: Path) -> dict[str, np.ndarray]:
    """The metadata fields of the one `wiki` or `imdb` struct in `mat_path`, as 1-D arrays
    of one length; ValueError naming the file and what was expected otherwise."""
    expected = (f"IMDB-WIKI's wiki.mat or imdb.mat: one 1x1 struct named 'wiki' or 'imdb' "
                f"whose fields {list(FIELDS)} are rows of equal length")
    try:
        mat = scipy.io.loadmat(mat_path)
    except Exception as error:  # noqa: BLE001 - scipy raises many kinds for a damaged file
        raise ValueError(f"{mat_path} is not a readable MATLAB .mat file "
                         f"({type(error).__name__}: {error}); expected {expected}") from None
    found = [key for key in mat if not key.startswith("__")]
    structs = [key for key in STRUCTS if key in mat]
    if len(structs) != 1:
        raise ValueError(f"{mat_path} must hold one top-level struct named 'wiki' or 'imdb'; "
                         f"found {found}")
    struct = mat[structs[0]]
    missing = [name for name in FIELDS if name not in (struct.dtype.names or ())]
    if missing:
        raise ValueError(f"the {structs[0]!r} struct in {mat_path} lacks the fields {missing}; "
                         f"it needs {list(FIELDS)}")
    try:
        table = {name: np.asarray(struct[name][0, 0]).ravel() for name in FIELDS}
    except (IndexError, ValueError, TypeError) as error:
        raise ValueError(f"the {structs[0]!r} struct in {mat_path} is not laid out as "
                         f"expected ({type(error).__name__}: {error}); expected {expected}") \
            from None
    lengths = {name: len(values) for name, values in table.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"the fields of the {structs[0]!r} struct in {mat_path} differ in "
                         f"length ({lengths}); expected {expected}")
    try:
        for name in ("dob", "photo_taken", "gender", "face_score", "second_face_score"):
            table[name] = table[name].astype(float)
    except (TypeError, ValueError) as error:
        raise ValueError(f"a numeric field of the {structs[0]!r} struct in {mat_path} holds "
                         f"something else ({error}); expected {expected}") from None
    return table


def birth_dates(dob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB datenums as numpy dates (the fraction is a time of day), and which were valid."""
    dob = dob.astype(float)
    valid = np.isfinite(dob) & (dob >= _FIRST) & (dob < _LAST + 1)
    # Invalid entries get day 0 so the conversion itself cannot fail.
    days = np.where(valid, np.floor(dob) - _EPOCH, 0).astype(np.int64)
    return days.astype("datetime64[D]"), valid


def ages_on_july_first(birth: np.ndarray, photo_taken: np.ndarray) -> np.ndarray:
    """Whole years completed between each birth date and 1 July of the photo's year."""
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = birth.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day = (birth - month_start).astype(np.int64) + 1
    # A birthday after 1 July has not come yet on the photo's reference day.
    not_yet = (month > 7) | ((month == 7) & (day > 1))
    # A year outside what any photo can have is read as 0 (and so skipped as too young).
    taken = np.where(np.isfinite(photo_taken) & (np.abs(photo_taken) < 1e5), photo_taken, 0)
    return taken.astype(np.int64) - year - not_yet


def skip_reasons(table: dict[str, np.ndarray], valid: np.ndarray, ages: np.ndarray,
                 min_face_score: float, allow_second_face: bool) -> np.ndarray:
    """The reason key each row is skipped for ('' when kept); the first failing check wins."""
    score, second, gender = table["face_score"], table["second_face_score"], table["gender"]
    checks = [
        ("no_face", np.isneginf(score) | np.isnan(score)),
        ("low_face_score", score < min_face_score),
        ("second_face", ~np.isnan(second) & (not allow_second_face)),
        ("bad_birth_date", ~valid | (ages < 0) | (ages > MAX_AGE)),
        ("bad_gender", ~(np.isnan(gender) | (gender == 0) | (gender == 1))),
    ]
    return np.select([mask for _, mask in checks], [key for key, _ in checks], default="")


def _record(table: dict[str, np.ndarray], row: int, root: str, age: int,
            birth: np.datetime64) -> LabelledImage:
    """One kept row as a LabelledImage with the metadata as extras."""
    gender = table["gender"][row]
    extras = {"name": _text(table["name"][row]),
              "face_location": np.asarray(table["face_location"][row]).ravel().tolist(),
              "face_score": float(table["face_score"][row]),
              "photo_taken": int(table["photo_taken"][row]),
              "dob": str(birth)}
    return LabelledImage(path=os.path.join(root, _text(table["full_path"][row])), age=age,
                         gender=None if np.isnan(gender) else ("M" if gender == 1 else "F"),
                         extras=extras)


def _skip(table: dict[str, np.ndarray], row: int, reason: str, birth: np.datetime64,
          valid: bool, min_face_score: float) -> Skipped:
    """One skipped row, its detail naming the offending value and what is allowed."""
    item = _text(table["full_path"][row]) or f"row {row}"
    score, second = table["face_score"][row], table["second_face_score"][row]
    taken = table["photo_taken"][row]
    details = {
        "no_face": f"face_score is {score}: no face was found",
        "low_face_score": f"face_score {score:.3f} is below min_face_score {min_face_score}",
        "second_face": f"second_face_score {second:.3f} means a second face is in the photo; "
                       "only photos without one (NaN) are kept unless allow_second_face=True",
        "bad_birth_date": (f"dob {table['dob'][row]!r} is not a MATLAB datenum in "
                           f"[{_FIRST}, {_LAST}]" if not valid else
                           f"born {birth}, the age on 1 July {taken:g} (photo_taken) is not in "
                           f"[0, {MAX_AGE}]"),
        "bad_gender": f"gender {table['gender'][row]!r} is not one of 1 (male), 0 (female), NaN",
    }
    return Skipped(item=item, reason=reason, detail=f"row {row}: {details[reason]}")


def _text(cell: np.ndarray) -> str | None:
    """The string in a MATLAB cell (a 1-element array), or None when it is empty."""
    cell = np.asarray(cell).ravel()
    return str(cell[0]) if cell.size else None

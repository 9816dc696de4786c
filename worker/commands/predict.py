"""`agerec predict --run ID IMAGE...`: every face in each image, its age group and
probabilities; with --explain, each face's explanation overlay as a PNG.

When a try-it service serves this deployment (the dashboard's Try it page or `agerec
worker` started one) the photos go to it and are answered by the run it keeps loaded;
otherwise the run is loaded here, for this command only."""
from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from storage import runs
from worker.commands.flags import flag
from worker.console import Console
from worker.context import AppContext
from worker.interactive import client
from worker.interactive.answers import answer, load_run
from worker.jobspecs import TARGET_PRIOR
from worker.stages.target_prior import run_target_prior


def register(sub) -> None:
    p = sub.add_parser("predict", help="the age group of every face in each image")
    p.add_argument("--run", type=int, required=True, metavar="ID", help="a training or ensemble run")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    # Not a job, so its one job parameter is added here, from the same declaration.
    p.add_argument(flag(TARGET_PRIOR.name), default=TARGET_PRIOR.default,
                   help=f"{TARGET_PRIOR.help} (default: {TARGET_PRIOR.default})")
    p.add_argument("--explain", action="store_true",
                   help="also write each face's explanation overlay (GradCAM, or occlusion "
                        "for a model without a feature map) as a PNG in --out")
    p.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                   help="folder for the overlays (default: the current folder; never under "
                        "AGEREC_HOME, which keeps no photo)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, console: Console) -> int:
    app = AppContext()
    run = runs.get_run(app.db, args.run)
    # Checked before any photo is read, so a bad value fails at once.
    prior = run_target_prior(app.db, run, args.target_prior, func="predict")
    out_dir = _overlay_folder(app, args.out) if args.explain else None
    photos, unreadable = [], {}
    for path in args.images:
        try:
            photos.append((path, Path(path).read_bytes()))
        except OSError as exc:
            unreadable[path] = _read_error(path, exc)
    header, blobs, warm_path = ({"photos": []}, [], False) if not photos else \
        _answer(app, run.id, photos, args.target_prior, args.explain)
    answered = {entry["name"]: entry for entry in header["photos"]}
    results = [_result(path, unreadable.get(path) or answered[path], blobs, out_dir)
               for path in args.images]
    text = "\n".join(_text(r) for r in results)
    console.result({"run_id": run.id, "target_prior": prior.to_dict(),
                    "temperature": header.get("temperature"), "warm_path": warm_path,
                    "predictions": results}, text)
    return 0 if any("faces" in r for r in results) else 2


def _answer(app: AppContext, run_id: int, photos: list[tuple[str, bytes]], target_prior: Any,
            explain: bool) -> tuple[dict[str, Any], list[bytes], bool]:
    """(header, blobs, whether the try-it service answered)."""
    if client.status(app.settings) is not None:
        reply = client.try_photos(app.settings, run_id, photos, target_prior=target_prior,
                                  explain=explain)
        return reply.header, reply.blobs, True
    header, blobs = answer(app, load_run(app, run_id), photos, target_prior=target_prior,
                           explain=explain)
    return header, blobs, False


def _result(path: str, entry: dict[str, Any], blobs: list[bytes],
            out_dir: Path | None) -> dict[str, Any]:
    """One image's result: its faces (the largest first, also at the top level), or an
    error; overlays written to `out_dir`."""
    from backend.data.labelled_images import printable

    shown = printable(path)  # a name that is not UTF-8, with \xNN escapes
    if "error" in entry:
        error = entry["error"]
        return {"image": shown, "error": printable(error["message"] if isinstance(error, dict)
                                                   else error)}
    if not entry["faces"]:
        return {"image": shown, "error": f"no face found in {shown}"}
    faces = []
    for face in entry["faces"]:
        face = {k: v for k, v in face.items() if k != "overlay"}
        index = entry["faces"][face["number"] - 1].get("overlay")
        if out_dir is not None and index is not None:
            target = out_dir / f"{_stem(path)}-face{face['number']}-{face['method']}.png"
            target.write_bytes(blobs[index])
            face["overlay"] = str(target)
        faces.append(face)
    first = faces[0]
    return {"image": shown, "class": first["class"], "label": first["label"],
            "probabilities": first["probabilities"], "faces": faces}


def _text(result: dict[str, Any]) -> str:
    if "error" in result:
        return f"{result['image']}: error: {result['error']}"
    parts = []
    for face in result["faces"]:
        number = f"face {face['number']} " if len(result["faces"]) > 1 else ""
        line = f"{number}{face['label']} ({100 * max(face['probabilities']):.0f}%)"
        parts.append(line + (f", overlay {face['overlay']}" if "overlay" in face else ""))
    return f"{result['image']}: " + "; ".join(parts)


def _overlay_folder(app: AppContext, out: Path) -> Path:
    """The --out folder, created; refused inside AGEREC_HOME, which keeps no photo."""
    folder = out.expanduser().resolve()
    home = app.settings.home.resolve()
    if folder == home or home in folder.parents:
        raise ValueError(f"--out {out} is inside AGEREC_HOME ({home}), which keeps nothing "
                         f"derived from a photo; choose another folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _read_error(path: str, exc: OSError) -> dict[str, Any]:
    from backend.data.images import ImageReadError

    reason = "missing_file" if isinstance(exc, FileNotFoundError) else "unreadable"
    detail = "no such file" if reason == "missing_file" else str(exc)
    return {"error": {"reason": reason, "message": str(ImageReadError(path, reason, detail))}}


def _stem(path: str) -> str:
    """A file name's stem, safe as part of another file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", Path(path).stem) or "image"

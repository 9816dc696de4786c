"""`agerec jobs submit|list|show|cancel|retry`: the job system from a shell."""
from __future__ import annotations

import argparse

from storage import jobs as stored
from worker import job_control
from worker.commands.flags import add_job_flags, add_param_pairs, job_params
from worker.console import Console
from worker.context import AppContext
from worker.jobspecs import JOB_KINDS


def register(sub) -> None:
    p = sub.add_parser("jobs", help="submit, list, show, cancel and retry jobs")
    verbs = p.add_subparsers(dest="verb", required=True)
    submit = verbs.add_parser("submit", help="queue a job by name")
    kinds = submit.add_subparsers(dest="job_kind", required=True, metavar="KIND")
    for kind in JOB_KINDS:
        s = kinds.add_parser(kind, help=f"queue a {kind!r} job")
        add_job_flags(s, kind)
        add_param_pairs(s)
        _json(s).set_defaults(handler=handle_submit)
    ls = verbs.add_parser("list", help="recent top-level jobs, newest first")
    ls.add_argument("--limit", type=int, default=20)
    ls.add_argument("--status", help="only jobs with this status")
    _json(ls).set_defaults(handler=handle_list)
    for verb, handler, text in (("show", handle_show, "one job with its children"),
                                ("cancel", handle_cancel, "cancel a queued or running job"),
                                ("retry", handle_retry, "queue a failed or cancelled job again")):
        v = verbs.add_parser(verb, help=text)
        v.add_argument("id", type=int)
        _json(v).set_defaults(handler=handler)


def _json(parser):
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return parser


def job_json(job, *, with_children: bool = False, app: AppContext | None = None) -> dict:
    """The job's public JSON: id, kind, status, progress, error, parent_id, outputs, ..."""
    out = {"id": job.id, "kind": job.kind, "status": job.status, "progress": job.progress,
           "error": job.error, "parent_id": job.parent_id, "outputs": job.outputs,
           "params": job.params, "created_at": job.created_at, "started_at": job.started_at,
           "finished_at": job.finished_at, "heartbeat_at": job.heartbeat_at,
           "worker": job.worker, "attempts": job.attempts}
    if with_children and app is not None:
        out["children"] = [job_json(c) for c in stored.children(app.db, job.id)]
        out["traceback"] = job.traceback
        out["log_tail"] = job.log_tail
    return out


def _line(job) -> str:
    p = job.progress or {}
    where = f"{p.get('stage', '')} {p.get('current', '')}/{p.get('total', '')}" if p else ""
    return f"{job.id:5d}  {job.kind:10s} {job.status:9s} {where}".rstrip() + (
        f"  error: {job.error}" if job.error else "")


def handle_submit(args: argparse.Namespace, console: Console) -> int:
    app = AppContext()
    job = job_control.submit(app, args.job_kind, job_params(args, args.job_kind))
    console.result(job_json(job), f"job {job.id} ({job.kind}) queued")
    return 0


def handle_list(args: argparse.Namespace, console: Console) -> int:
    app = AppContext()
    stored.reap_lost(app.db, app.settings.heartbeat_timeout)
    rows = stored.list_jobs(app.db, limit=args.limit, status=args.status, parent_id=None)
    console.result({"jobs": [job_json(j) for j in rows]},
                   "\n".join(_line(j) for j in rows) or "no jobs yet")
    return 0


def handle_show(args: argparse.Namespace, console: Console) -> int:
    app = AppContext()
    stored.reap_lost(app.db, app.settings.heartbeat_timeout)
    job = stored.get_job(app.db, args.id)
    payload = job_json(job, with_children=True, app=app)
    lines = [_line(job)] + ["  " + _line(c) for c in stored.children(app.db, job.id)]
    if job.outputs:
        lines.append(f"outputs: {job.outputs}")
    if job.traceback:
        lines.append(job.traceback)
    console.result(payload, "\n".join(lines))
    return 0


def handle_cancel(args: argparse.Namespace, console: Console) -> int:
    job = job_control.cancel(AppContext(), args.id)
    console.result(job_json(job), f"job {job.id}: {job.status}"
                   + (" (cancel requested)" if job.status == "running" else ""))
    return 0


def handle_retry(args: argparse.Namespace, console: Console) -> int:
    job = job_control.retry(AppContext(), args.id)
    console.result(job_json(job), f"job {job.id} queued again ({job.attempts} attempts so far)")
    return 0

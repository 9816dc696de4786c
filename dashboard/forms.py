"""Job forms built from worker.jobspecs.JOB_PARAMS: one widget per parameter, choices
from the backend's registries, errors shown under the field that caused them."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import streamlit as st

from backend.models.registry import BACKBONES
from backend.params import Boolean, Choice, FilePath, Interval, InvalidParameterError, ListOf
from worker.jobspecs import JOB_PARAMS, Param

# Id parameters offered as pickers of existing rows instead of bare numbers.
ID_PICKERS = {"dataset_id": "datasets", "run_id": "runs", "runs": "runs"}
_BACKBONE_PARAMS = ("backbone", "members")
# Labels in words where the parameter's name is not one already (the rest: the name
# with spaces); the name itself is the first thing the field's help says.
WORDS = {"dataset_id": "dataset", "run_id": "run", "runs": "runs", "meta": "metadata file",
         "image_size": "crop size (px)", "limit": "photos sampled before detection",
         "max_faces": "faces kept after detection", "min_face_score": "minimum face score",
         "allow_second_face": "keep photos with a second face",
         "oversample": "oversample small classes", "workers": "face-detection processes",
         "greyscale_aug": "greyscale augmentation", "mixed_precision": "float16 compute",
         "xla": "XLA compilation", "cycle_lr_decay": "learning rate per unfreezing cycle",
         "per_class": "faces per class and outcome", "occlusion_grid": "occlusion grid",
         "steps": "deletion / insertion steps", "target_prior": "age mix to correct to",
         "trials": "search trials", "members": "member backbones",
         "ensemble": "ensemble method", "saliency": "saliency front end"}


def label_of(spec: Param) -> str:
    """The field's label in words, with ' *' when it is required."""
    return WORDS.get(spec.name, spec.name.replace("_", " ")) + (" *" if spec.required else "")


def help_of(spec: Param) -> str:
    """The field's help: its parameter name (the command line's flag), then what it does."""
    flag = "--" + spec.name.replace("_", "-")
    return f"`{spec.name}` (`{flag}`): {spec.help}" if spec.help else f"`{spec.name}` (`{flag}`)"


@st.cache_data(ttl=600, show_spinner="Reading the backend's registries…")
def choices() -> dict[str, dict[str, list[str] | None]]:
    """Every registry choice list (they change with the code only, so rarely re-read)."""
    return {kind: {spec.name: [str(c) for c in choice.options()]
                   for spec in specs if (choice := _choice(spec)) is not None}
            for kind, specs in JOB_PARAMS.items()}


def _choice(spec: Param) -> Choice | None:
    """The registry a parameter (or each item of a list parameter) is chosen from."""
    constraint = spec.constraint
    item = constraint.item if isinstance(constraint, ListOf) else constraint
    return item if isinstance(item, Choice) else None


def ordered(options: Sequence[str], default: Any) -> list[str]:
    """The options with the (paper's) default first, the rest in registry order."""
    return ([default] if default in options else []) + [o for o in options if o != default]


def _describe(spec: Param):
    # Backbones read better with the registry's one-line description.
    if spec.name in _BACKBONE_PARAMS:
        return lambda name: f"{name} — {BACKBONES[name].description}" if name in BACKBONES else name
    return str


def param_widget(spec: Param, options: list[str] | None,
                 pickers: dict[str, list[tuple[int, str]]], key: str,
                 default: Any = None) -> Any:
    """The widget for one parameter, opening on `default` (else the declared default);
    returns its value (None or '' = not given)."""
    label, help_text = label_of(spec), help_of(spec)
    if default is not None:
        spec = replace(spec, default=default)
    picker = dict(pickers.get(ID_PICKERS.get(spec.name, ""), []))
    constraint = spec.constraint
    is_list = isinstance(constraint, ListOf)
    if picker and is_list:
        return st.multiselect(label, list(picker), format_func=picker.get, help=help_text, key=key)
    if picker:
        return st.selectbox(label, list(picker), format_func=picker.get, help=help_text, key=key,
                            index=0 if spec.required else None, placeholder="(not set)")
    if _choice(spec) is not None and options is not None:
        if is_list:
            return st.multiselect(label, options, default=spec.default or [],
                                  format_func=_describe(spec), placeholder="(default)",
                                  help=help_text, key=key)
        default = spec.default
        return st.selectbox(label, ordered(options, default), format_func=_describe(spec),
                            index=0 if default is not None else None,
                            placeholder="(default)", help=help_text, key=key)
    if isinstance(constraint, Interval):
        # Streamlit wants one numeric type for the value and both bounds.
        number = constraint.type
        bound = [None if b is None else number(b)
                 for b in (spec.default, constraint.low, constraint.high)]
        return st.number_input(label, value=bound[0], min_value=bound[1], max_value=bound[2],
                               step=1 if number is int else None, placeholder="(not set)",
                               help=help_text, key=key)
    if isinstance(constraint, Boolean) and spec.default is None:
        # No default: unset leaves the choice to the preset or source, unlike a False box.
        return st.selectbox(label, ["true", "false"], index=None, placeholder="(default)",
                            help=help_text, key=key)
    if isinstance(constraint, Boolean):
        return st.checkbox(label, value=bool(spec.default), help=help_text, key=key)
    if _choice(spec) is not None:
        # The registry could not be read (see the caption): accept the name as text.
        value = st.text_input(label, value=spec.default or "", help=help_text, key=key)
        st.caption(f"The list of {label} choices could not be read from the backend.")
        return value
    hint = "comma-separated values" if is_list else None
    return st.text_input(label, value=spec.default or "", placeholder=hint, help=help_text,
                         key=key)


def job_form_ui(kind: str, pickers: dict[str, list[tuple[int, str]]],
                defaults: dict[str, Any] | None = None):
    """The form of one job kind, `defaults` overriding declared defaults (the machine's
    preset): (submitted, values, one error slot per field + 'form', the slot beside the
    submit button where the queued notice goes)."""
    kind_choices = choices().get(kind, {})
    values: dict[str, Any] = {}
    slots = {}
    with st.form(f"form-{kind}"):
        for spec in JOB_PARAMS[kind]:
            values[spec.name] = param_widget(spec, kind_choices.get(spec.name), pickers,
                                             key=f"{kind}-{spec.name}",
                                             default=(defaults or {}).get(spec.name))
            slots[spec.name] = st.empty()  # where this field's error goes
        button, notice = st.columns([1, 3], vertical_alignment="center")
        submitted = button.form_submit_button(f"Submit {kind} job", type="primary")
        slots["notice"] = notice.empty()
        slots["form"] = st.empty()
    return submitted, given(values), slots


def given(values: dict[str, Any]) -> dict[str, Any]:
    """The values the user set: None, '' and [] mean 'use the default'."""
    return {name: value for name, value in values.items() if value not in (None, "", [])}


def missing_ui(kind: str, values: dict[str, Any], slots) -> bool:
    """Say under each field what is missing: a required value not given, or a file or
    folder that does not exist here. True when something is."""
    bad = False
    for spec in JOB_PARAMS[kind]:
        value = values.get(spec.name)
        if value is None and spec.required:
            slots[spec.name].error(f"Required: {spec.help or label_of(spec)}.")
            bad = True
        elif value is not None and isinstance(spec.constraint, FilePath):
            path = Path(str(value)).expanduser()
            if not path.exists():
                slots[spec.name].error(f"no such folder or file: {path}")
                bad = True
    return bad


def submit_ui(app, kind: str, values: dict[str, Any], slots, *, dispatch: bool) -> int | None:
    """Submit through the job system after the fields are checked here; on a bad value,
    say so under its field. Returns the new job's id, or None."""
    from worker import job_control

    if missing_ui(kind, values, slots):
        return None
    try:
        return job_control.submit(app, kind, values, dispatch=dispatch).id
    except InvalidParameterError as exc:
        slots.get(exc.param, slots["form"]).error(str(exc))
    except job_control.DispatchError as exc:  # the job is recorded as failed, with this error
        slots["form"].error(str(exc))
    return None

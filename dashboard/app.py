"""agerec's dashboard: the entry file only routes (`agerec dashboard` runs it)."""
import logging

import streamlit as st

from dashboard import access
from storage.settings import SettingsError

st.set_page_config(page_title="agerec", page_icon="🧓", layout="wide")

try:
    read_only = access.read_only()
except SettingsError as exc:  # `agerec dashboard` refuses these before it starts
    logging.getLogger(__name__).error("bad setting: %s", exc)
    st.error(f"agerec cannot start: {exc}")
    st.stop()
if read_only:
    # Viewers see generic error messages only: no traceback, no server path.
    st.set_option("client.showErrorDetails", "none")

work = [st.Page("views/jobs.py", title="Jobs", icon="⏱️")]
if not read_only:  # read-only viewers never see a launch control
    work.insert(0, st.Page("views/launch.py", title="Launch", icon="🚀"))

st.navigation({
    "Work": work,
    "Results": [st.Page("views/results.py", title="Results", icon="📊", default=True),
                st.Page("views/compare.py", title="Compare", icon="⚖️"),
                st.Page("views/gallery.py", title="GradCAM gallery", icon="🔥")],
    "Share": [st.Page("views/present.py", title="Present", icon="🎤"),
              st.Page("views/try_it.py", title="Try it", icon="📸", url_path="try")],
}).run()

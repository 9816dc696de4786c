"""agerec's dashboard: the entry file only routes (`agerec dashboard` runs it)."""
import streamlit as st

from dashboard import access

st.set_page_config(page_title="agerec", page_icon="🧓", layout="wide")

work = [st.Page("pages/jobs.py", title="Jobs", icon="⏱️")]
if not access.read_only():  # read-only viewers never see a launch control
    work.insert(0, st.Page("pages/launch.py", title="Launch", icon="🚀"))

st.navigation({
    "Work": work,
    "Results": [st.Page("pages/results.py", title="Results", icon="📊", default=True),
                st.Page("pages/compare.py", title="Compare", icon="⚖️"),
                st.Page("pages/gallery.py", title="GradCAM gallery", icon="🔥")],
    "Share": [st.Page("pages/present.py", title="Present", icon="🎤")],
}).run()

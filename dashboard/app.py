"""agerec's dashboard: the entry file only routes (`agerec dashboard` runs it)."""
import streamlit as st

from dashboard import access

st.set_page_config(page_title="agerec", page_icon="🧓", layout="wide")

work = [st.Page("views/jobs.py", title="Jobs", icon="⏱️")]
if not access.read_only():  # read-only viewers never see a launch control
    work.insert(0, st.Page("views/launch.py", title="Launch", icon="🚀"))

st.navigation({
    "Work": work,
    "Results": [st.Page("views/results.py", title="Results", icon="📊", default=True),
                st.Page("views/compare.py", title="Compare", icon="⚖️"),
                st.Page("views/gallery.py", title="GradCAM gallery", icon="🔥")],
    "Share": [st.Page("views/present.py", title="Present", icon="🎤")],
}).run()

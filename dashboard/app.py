"""agerec's dashboard: the entry file only routes (`agerec dashboard` runs it).

Every page has its own address (/results, /compare, ...); the bare address opens
Results, keeping ?run= and any other query parameter."""
import logging

import streamlit as st

from dashboard import access
from storage.settings import SettingsError

st.set_page_config(page_title="agerec", page_icon=":material/face:", layout="wide")
# No Deploy button or developer menu: this is a product, not a Streamlit sketch.
st.set_option("client.toolbarMode", "viewer")

try:
    read_only = access.read_only()
except SettingsError as exc:  # `agerec dashboard` refuses these before it starts
    logging.getLogger(__name__).error("bad setting: %s", exc)
    st.error(f"agerec cannot start: {exc}")
    st.stop()
if read_only:
    # Viewers see generic error messages only: no traceback, no server path.
    st.set_option("client.showErrorDetails", "none")

RESULTS = st.Page("views/results.py", title="Results", icon=":material/bar_chart:")


def opening() -> None:
    """The bare address: Results, with the address's query parameters."""
    st.switch_page(RESULTS, query_params=st.query_params.to_dict())


work = [st.Page("views/jobs.py", title="Jobs", icon=":material/schedule:")]
if not read_only:  # read-only viewers never see a launch control
    work.insert(0, st.Page("views/launch.py", title="Launch", icon=":material/rocket_launch:"))

st.navigation({
    "Work": work,
    "Results": [RESULTS,
                st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
                st.Page("views/gallery.py", title="Explanations", url_path="gallery",
                        icon=":material/image_search:")],
    "Share": [st.Page("views/present.py", title="Present", icon=":material/co_present:"),
              st.Page("views/try_it.py", title="Try it", icon=":material/photo_camera:",
                      url_path="try")],
    "": [st.Page(opening, title="agerec", url_path="start", default=True, visibility="hidden")],
}).run()

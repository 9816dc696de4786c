"""The Streamlit dashboard: reads `storage`, sends jobs by name through `worker.job_control`.

Run it with `agerec dashboard`; `app.py` only routes, each page lives in `views/` (not `pages/`, which would switch Streamlit to its legacy multipage mode).
No module here imports TensorFlow (tests/dashboard/test_no_tensorflow.py checks it).
"""

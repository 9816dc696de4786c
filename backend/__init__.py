"""Pure machine learning on arrays and files.

This package never imports storage, worker, celery or streamlit: the worker
passes it paths and parameters, and it returns arrays, files and plain values.
"""

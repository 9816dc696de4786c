"""Dataset readers and the paper's preprocessing steps."""

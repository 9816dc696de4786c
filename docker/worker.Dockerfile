# The worker runs TensorFlow on the GPU: start from TensorFlow's own CUDA image.
FROM tensorflow/tensorflow:2.21.0-gpu
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend backend
COPY storage storage
COPY worker worker
COPY dashboard dashboard
RUN pip install --no-cache-dir -e .
ENV AGEREC_HOME=/agerec-home

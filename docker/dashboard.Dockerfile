# The dashboard never loads TensorFlow, but shares the package: one install, CPU base.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend backend
COPY storage storage
COPY worker worker
COPY dashboard dashboard
RUN pip install --no-cache-dir -e .
ENV AGEREC_HOME=/agerec-home
EXPOSE 8501

# One image for every liftbrain service (ingest, brain, api, simulator); docker-compose.yml picks the command.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY models models
COPY ingest ingest
COPY brain brain
COPY api api
COPY simulators simulators
COPY stack stack
COPY cli cli
RUN pip install . && useradd --system --uid 10001 liftbrain
USER liftbrain
ENV LIFTBRAIN_ENV=prod LIFTBRAIN_API_HOST=0.0.0.0
ENTRYPOINT ["liftbrain"]
CMD ["--help"]

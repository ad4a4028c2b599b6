# The pipeledger image: the released wheel and its hash-pinned dependencies on a slim Python,
# run as a non-root user. requirements/image.txt is the runtime lock with the serve and
# postgres extras, so the image runs every command, `pipeledger serve` into PostgreSQL included:
#   docker run -p 8080:8080 -e PIPELEDGER_WEBHOOK_SECRET … IMAGE serve --listen 0.0.0.0:8080 …
# Built by .github/workflows/release.yml from the wheel it attested:
#   docker build --build-arg VERSION=<version> --build-arg WHEEL_SHA256=<sha256 of the wheel> .
# with dist/pipeledger-<version>-py3-none-any.whl in the context. Dependabot bumps the base
# image's digest (python:3.12-slim, multi-platform index).
FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea

ARG VERSION
ARG WHEEL_SHA256

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

COPY requirements/image.txt /tmp/pipeledger/image.txt
COPY dist/pipeledger-${VERSION}-py3-none-any.whl /tmp/pipeledger/

# Everything, the wheel included, is installed with --require-hashes: the dependencies from the
# lock, the wheel against the sha256 the release job computed from the attested file.
SHELL ["/bin/sh", "-eu", "-c"]
RUN test -n "${VERSION}" && test -n "${WHEEL_SHA256}"; \
    echo "/tmp/pipeledger/pipeledger-${VERSION}-py3-none-any.whl --hash=sha256:${WHEEL_SHA256}" \
      > /tmp/pipeledger/wheel.txt; \
    python -m pip install --require-hashes --only-binary :all: --no-deps \
      -r /tmp/pipeledger/image.txt -r /tmp/pipeledger/wheel.txt; \
    rm -rf /tmp/pipeledger; \
    useradd --create-home --uid 10001 --user-group pipeledger

LABEL org.opencontainers.image.title="pipeledger" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

USER 10001:10001
EXPOSE 8080
WORKDIR /home/pipeledger
ENTRYPOINT ["pipeledger"]
CMD ["--help"]

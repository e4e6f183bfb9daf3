# renovate-runner's own image: the orchestrator, which starts one Renovate container per repository through the
# host's Docker engine (mount its socket). See the README, "Container image".
#
# `docker build .` builds it from this checkout with nothing prepared: uv, installed with pip in the builder stage,
# installs exactly the dependencies of uv.lock and the runner itself (built into a wheel, not editable) into a
# virtual environment, and the runtime stage takes only that environment. The builder stage needs the Python
# package index. No RUN --mount and no heredocs: the legacy builder (Docker 20.10 without buildx) builds it too.
#
# Build arguments:
#   PYTHON_IMAGE   the base of both stages: any glibc image with python3 (3.11 or later). The default is pinned by
#                  digest; Renovate's dockerfile manager keeps its tag and digest current (renovate.json).
#   BUILDER_IMAGE  the builder stage's base, by default PYTHON_IMAGE. It needs `python3 -m venv` with pip
#                  (ensurepip), which the official images have; scripts/runner-image.sh's local Debian base keeps
#                  that out of the runtime image and passes a builder base that has it.
#   VERSION, REVISION, SOURCE_URL   the OCI labels version, revision and source (scripts/runner-image.sh passes
#                  pyproject's version, the commit and the origin remote). With VERSION given, the build fails
#                  unless the installed runner answers it.
ARG PYTHON_IMAGE=python:3.12-slim-bookworm@sha256:593bd06efe90efa80dc4eee3948be7c0fde4134606dd40d8dd8dbcade98e669c
ARG BUILDER_IMAGE=${PYTHON_IMAGE}

FROM ${BUILDER_IMAGE} AS builder
# The legacy builder keeps this stage as an untagged image; scripts/runner-image.sh removes it by this label.
LABEL io.github.renovate-runner.stage=builder
ARG UV_VERSION=0.13.8
ARG VERSION=
# A TLS-intercepting proxy's CA bundle, for the downloads of this stage only: scripts/runner-image.sh copies the
# host's to build/ca-certificates.crt. The wildcard lets the COPY go on without it.
COPY pyproject.toml uv.lock build/ca-certificates.cr[t] /src/
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/renovate-runner
WORKDIR /src
# The dependencies first, so a change to the runner's code reuses this layer.
RUN set -eu; \
    if [ -f ca-certificates.crt ]; then cp ca-certificates.crt /etc/ssl/certs/ca-certificates.crt; fi; \
    python3 -m venv /opt/uv; \
    /opt/uv/bin/pip install --quiet --no-cache-dir "uv==${UV_VERSION}"; \
    /opt/uv/bin/uv sync --locked --no-dev --no-install-project --no-cache --python "$(command -v python3)"
COPY README.md /src/
COPY runner/ /src/runner/
RUN set -eu; \
    /opt/uv/bin/uv sync --locked --no-dev --no-editable --no-cache --python "$(command -v python3)"; \
    answer=$(/opt/renovate-runner/bin/renovate-runner --version | head -n 1); \
    echo "$answer"; \
    if [ -n "${VERSION}" ] && [ "$answer" != "renovate-runner ${VERSION}" ]; then \
        echo "the runner answers '${answer}', but VERSION is ${VERSION}" >&2; exit 1; \
    fi

FROM ${PYTHON_IMAGE}
ARG VERSION=
ARG REVISION=
ARG SOURCE_URL=
LABEL org.opencontainers.image.title="renovate-runner" \
      org.opencontainers.image.description="Runs Renovate over Azure DevOps repositories with short-lived Entra ID tokens, one container per repository" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}"
# The official slim images ship pip (and older ones setuptools and wheel); nothing at run time needs them.
RUN set -eu; \
    if python3 -m pip --version >/dev/null 2>&1; then \
        python3 -m pip uninstall --yes --quiet --disable-pip-version-check pip setuptools wheel; \
    fi; \
    groupadd --system --gid 10001 renovate-runner; \
    useradd --system --uid 10001 --gid renovate-runner --home-dir /home/renovate-runner --create-home \
        --shell /usr/sbin/nologin renovate-runner
COPY --from=builder /opt/renovate-runner /opt/renovate-runner
ENV PATH=/opt/renovate-runner/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Root is not needed: the Docker socket is reached through its group (docker run --group-add).
USER 10001:10001
WORKDIR /home/renovate-runner
ENTRYPOINT ["renovate-runner"]
CMD ["--help"]

# renovate-runner's own image: the orchestrator, which starts one Renovate container per repository through the
# host's Docker engine (mount /var/run/docker.sock). See docs/azure-pipelines.md, "The runner's container image".
#
# Build it with scripts/runner-image.sh: it puts the project's wheel, the locked dependencies as wheels (with
# their hashes from uv.lock) and pip's wheel into build/runner-image/, and this build installs them offline.
# PYTHON_IMAGE picks the base: any glibc image with python3 (3.11 or later), used by both stages.
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS builder
# The legacy builder keeps this stage as an untagged image; scripts/runner-image.sh removes it by this label.
LABEL io.github.renovate-runner.stage=builder
COPY build/runner-image/ /tmp/wheelhouse/
# A venv without pip: pip runs from its wheel, so neither the venv nor the final image holds an installer.
# --require-hashes: the dependencies are exactly the locked ones; then the project itself, without resolving.
RUN set -eu; \
    pip_wheel=$(echo /tmp/wheelhouse/pip/pip-*.whl); \
    python3 -m venv --without-pip /opt/renovate-runner; \
    /opt/renovate-runner/bin/python "${pip_wheel}/pip" install --no-index --no-cache-dir --disable-pip-version-check \
        --find-links /tmp/wheelhouse/wheels --only-binary=:all: --require-hashes \
        --requirement /tmp/wheelhouse/requirements.txt; \
    /opt/renovate-runner/bin/python "${pip_wheel}/pip" install --no-index --no-cache-dir --disable-pip-version-check \
        --no-deps /tmp/wheelhouse/project/renovate_runner-*.whl; \
    /opt/renovate-runner/bin/renovate-runner --version

FROM ${PYTHON_IMAGE}
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

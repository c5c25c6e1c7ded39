# Multi-stage: build with the Swift toolchain, run on a slim Debian with libpq, zlib and the
# PostgreSQL 15 client tools (pg_dump), as a non-root user. The runtime packages are what the
# binary links: libdeflate, libzstd and libcrypto for snapshots, libcurl for FoundationNetworking
# (the S3 store), libstdc++ for Foundation's ICU when the Swift runtime is linked statically.
# Without arguments the container runs the agent on the config mounted at
# /etc/continuity/continuity.yaml; any other arguments run that command instead (`snapshot …`).
# No Docker engine runs where continuity is tested: Tests/HooksTests/DockerfileTests.swift
# checks each step instead (what is copied, installed and run); keep it to these instructions.
FROM swift:6.3-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev zlib1g-dev libdeflate-dev libzstd-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product continuity --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/continuity" /out/continuity

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 zlib1g libdeflate0 libzstd1 libssl3 libcurl4 libstdc++6 postgresql-client-15 ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home --home-dir /home/continuity continuity
COPY --from=build /out/continuity /usr/local/bin/continuity
USER continuity
WORKDIR /home/continuity
# tini is PID 1: it reaps orphans (a cutover's watchdog outlives its cutover and is reparented
# to PID 1) and passes SIGTERM on to continuity. `docker run --init` is then not needed.
ENTRYPOINT ["tini", "--", "continuity"]
CMD ["agent", "--config", "/etc/continuity/continuity.yaml"]

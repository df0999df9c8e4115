# syntax=docker/dockerfile:1
# The KubePulse image: `docker build -t kubepulse .` at the repository's root.

# Build: the release binary of the `kubepulse` package (crates/server).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The registry and the target directory are cache mounts, so they are not in any layer: copy the
# binary out in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p kubepulse --bin kubepulse \
    && cp target/release/kubepulse /kubepulse \
    && mkdir -p /data

# Run: glibc, libgcc and CA certificates, no shell, user nonroot (65532).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /kubepulse /usr/local/bin/kubepulse
# An empty data directory owned by the user, so that a volume mounted there is writable.
COPY --from=build --chown=65532:65532 /data /var/lib/kubepulse
USER 65532:65532
EXPOSE 9090
VOLUME ["/var/lib/kubepulse"]
ENTRYPOINT ["/usr/local/bin/kubepulse"]
CMD ["serve", "--listen", "0.0.0.0:9090", "--data-dir", "/var/lib/kubepulse"]

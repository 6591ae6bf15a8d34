# Multi-stage build: compile in the Rust image, run in a small Debian image as a non-root user.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY data ./data
COPY assets ./assets
COPY templates ./templates
RUN cargo build --release --locked --bin basisset

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/basisset --create-home basisset
COPY --from=build /src/target/release/basisset /usr/local/bin/basisset
USER basisset
WORKDIR /var/lib/basisset
ENV BASISSET_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["basisset"]
CMD ["serve"]

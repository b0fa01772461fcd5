# micro-gw container (SPEC section 11): built on Debian 12, run as a non-root user on Debian 12 slim
# with only the binary, its shared libraries, conf/, the sample API definitions and CA certificates.
#   docker build -t micro-gw .        (or: make image, which uses podman when there is no Docker)
#   docker run -p 9090:9090 -p 9095:9095 micro-gw
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config libcpp-httplib-dev libssl-dev libtoml11-dev libsodium-dev \
      nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev zlib1g-dev libbrotli-dev libboost1.81-dev \
      libhiredis-dev libnghttp2-dev libvalijson-dev rapidjson-dev libgoogle-perftools-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake ./cmake
COPY src ./src
COPY samples ./samples
# Parallel compile jobs; 0 = one per core.
ARG JOBS=0
RUN jobs="$JOBS"; [ "$jobs" != 0 ] || jobs="$(nproc)"; \
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMGW_TESTS=OFF -DMGW_UNITY=ON >/dev/null \
    && cmake --build build -j"$jobs" --target micro-gw \
    && strip build/micro-gw

FROM debian:12-slim
# The shared libraries micro-gw links (see `ldd micro-gw`) and the system CA bundle.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcpp-httplib0.11 libssl3 libsodium23 libyaml-cpp0.7 libsqlite3-0 libhiredis0.14 libnghttp2-14 libtcmalloc-minimal4 ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
    && groupadd --system --gid 10001 microgw \
    && useradd --system --uid 10001 --gid 10001 --home-dir /opt/micro-gw --shell /usr/sbin/nologin microgw
WORKDIR /opt/micro-gw
COPY --from=build /src/build/micro-gw /usr/local/bin/micro-gw
COPY conf ./conf
COPY samples/apis ./samples/apis
# runtime/ holds what micro-gw writes: keys, the store, the first admin password.
RUN mkdir -p runtime/security runtime/data && chmod 0700 runtime/security \
    && chown -R microgw:microgw runtime
USER microgw
# Every interface of the container. On a non-loopback listener admin/admin is never used: the admin
# password is $MGW_ADMIN_PASSWORD, or generated at first start into
# /opt/micro-gw/runtime/security/initial-admin-password (the log says so).
# The metrics and health listener (9797: /metrics, /health/live, /health/ready) is not
# authenticated: publish it only to the scrape and probe network, never to the internet.
ENV MGW_HOST=0.0.0.0 \
    MGW_METRICS_HOST=0.0.0.0 \
    MGW_RUNTIME_HOME=/opt/micro-gw
VOLUME ["/opt/micro-gw/conf", "/opt/micro-gw/runtime"]
EXPOSE 9090 9095 9797
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/micro-gw", "health"]
# micro-gw is PID 1: it takes SIGTERM itself, drains in-flight requests and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/micro-gw"]
CMD ["--config", "/opt/micro-gw/conf/micro-gw.conf"]

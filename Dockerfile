# micro-gw container: build on Debian 12, run as a non-root user on a slim Debian 12.
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ cmake make pkg-config libcpp-httplib-dev libssl-dev libtoml11-dev libsodium-dev \
      nlohmann-json3-dev libyaml-cpp-dev libsqlite3-dev zlib1g-dev libbrotli-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src ./src
COPY samples ./samples
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMGW_TESTS=OFF && cmake --build build -j"$(nproc)" \
    && strip build/micro-gw

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libcpp-httplib0.11 libssl3 libsodium23 libyaml-cpp0.7 libsqlite3-0 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /opt/micro-gw --shell /usr/sbin/nologin microgw
WORKDIR /opt/micro-gw
COPY --from=build /src/build/micro-gw /usr/local/bin/micro-gw
COPY conf ./conf
COPY samples/apis ./samples/apis
RUN mkdir -p runtime/security runtime/data && chown -R microgw:microgw runtime
USER microgw
# In a container the listeners must bind every interface; the shipped admin/admin user is refused
# there, so mount a conf/ with your own users (micro-gw hash-password).
ENV MGW_RUNTIME_HOME=/opt/micro-gw
VOLUME ["/opt/micro-gw/conf", "/opt/micro-gw/runtime"]
EXPOSE 9090 9095
ENTRYPOINT ["/usr/local/bin/micro-gw"]
CMD ["--config", "/opt/micro-gw/conf/micro-gw.conf"]
